"""`xltool demo` as a new user runs it: the whole year on the samples, into a new folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from samples import SAMPLES_DIR
from xltool.definition import get_format
from xltool.read.detail import DETAIL_SHEET, read_detail
from xltool.read.dispatch import read_return
from xltool.validate import validate_paths

FMT = get_format()


def root_of(tmp_path: Path) -> Path:
    return tmp_path / "演示"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xltool", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_demo_runs_the_year_and_rolls_up_the_city(tmp_path):
    done = run("demo", "演示", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    out = done.stdout
    for step in (
        "1 下发模板",
        "2 收集",
        "3 校验",
        "4 退回修改",
        "5 汇总",
        "6 上报",
        "7 发布",
        "8 读取已公开的报告",
        "9 与上年对比",
    ):
        assert step in out
    compared = root_of(tmp_path) / "汤旺县" / "9-对比"
    assert sorted(p.suffix for p in compared.iterdir()) == [".html", ".xlsx"]
    assert "<h2>乌伊岭镇（230723101" in (compared / "汤旺县2023-2024年度对比.html").read_text(encoding="utf-8")
    assert "住建局" in out or "住房和城乡建设局" in out
    assert "未报送：汤旺县财政局" in out

    root = tmp_path / "演示"
    county = root / "汤旺县" / "5-汇总" / "汤旺县2024年度政府信息公开统计汇总.xlsx"
    jiayin = root / "嘉荫县" / "5-汇总" / "嘉荫县2024年度政府信息公开统计汇总.xlsx"
    city = root / "伊春市" / "伊春市2024年度政府信息公开统计汇总.xlsx"
    for path in (county, jiayin, city):
        assert path.is_file(), path
        assert str(path.relative_to(tmp_path)) in out.replace("\\", "/") or path.name in out
    assert len(list((root / "汤旺县" / "1-下发模板").glob("*.xlsx"))) == 9
    assert sorted(p.name for p in (root / "汤旺县" / "4-退回修改").iterdir()) == [
        "住建局 统计表_校验意见.xlsx",
        "教育局_校验意见.xlsx",
    ]

    # Every consolidated workbook is itself a valid return one level up.
    validation = validate_paths([county, jiayin, city])
    assert validation.valid, validation.report.findings

    # The city equals every valid township and department return, cell by cell.
    valid_returns = [
        p
        for p in sorted((SAMPLES_DIR / "汤旺县" / "2024" / "收件箱").glob("*.xlsx"))
        + sorted((SAMPLES_DIR / "嘉荫县" / "2024" / "收件箱").glob("*.xlsx"))
        if p.name not in ("住建局 统计表.xlsx", "教育局.xlsx")
    ]
    assert len(valid_returns) == 10
    expected = {cid: sum(read_return(p).values[cid] for p in valid_returns) for cid in FMT.cells}
    city_record = read_return(city)
    assert city_record.identity.kind == "consolidated" and city_record.identity.unit_code == "230700"
    assert city_record.values == expected

    # 乌伊岭镇's published figures (all 0) are in the county's 明细, next to the others.
    detail = read_detail(county, FMT)
    assert "230723101" in detail and set(detail["230723101"].values()) == {0}
    assert list(detail) == sorted(detail)  # unit-code order
    assert DETAIL_SHEET in __import__("openpyxl").load_workbook(county, read_only=True).sheetnames

    # 7 发布: the county's and 乌伊岭镇's reports, as a web page, its table fragment and a Word file, with
    # exactly the figures of the county's consolidated workbook and of the town's return.
    published = root / "汤旺县" / "7-发布"
    town = SAMPLES_DIR / "汤旺县" / "2024" / "收件箱" / "乌伊岭镇2024年政务公开统计表.xlsx"
    for unit, source in (("汤旺县", county), ("乌伊岭镇", town)):
        title = f"{unit}2024年政府信息公开工作年度报告"
        files = [published / f"{title}.html", published / f"{title}（表格片段）.html", published / f"{title}.docx"]
        for path in files:
            assert path.name in out
            assert read_return(path).values == read_return(source).values, path.name


def test_demo_never_overwrites(tmp_path):
    target = tmp_path / "已有"
    target.mkdir()
    (target / "别删我.txt").write_text("x", encoding="utf-8")
    done = run("demo", str(target), cwd=tmp_path)
    assert done.returncode == 2
    assert "不为空" in done.stderr and "Traceback" not in done.stderr
    assert [p.name for p in target.iterdir()] == ["别删我.txt"]


@pytest.mark.slow
def test_demo_default_folder_is_new_each_time(tmp_path):
    first = run("demo", cwd=tmp_path)
    second = run("demo", cwd=tmp_path)
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["xltool-演示", "xltool-演示-2"]
