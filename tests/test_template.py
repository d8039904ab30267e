"""Golden structure of generated templates, read back with openpyxl and compared with the definition."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from helpers.template import assert_structure
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.utils.protection import hash_password

from xltool.definition import get_format, loads
from xltool.errors import DefinitionError, UsageError
from xltool.model import IDENT_SHEET, Identity, Unit
from xltool.roster import read_roster
from xltool.values import AMOUNT_SCALE
from xltool.write.template import (
    CHECK_OK,
    WORKBOOK_OPTIONS,
    draw_return,
    template_file_name,
    template_identity,
    write_template,
    write_templates,
    write_workbook,
)

REPO = Path(__file__).parents[1]
FMT = get_format()
UNIT = Unit("230723101", "乌伊岭镇", "乡镇")
INJECTION = '=HYPERLINK("http://x","y")'


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return write_template(FMT, UNIT, 2024, tmp_path_factory.mktemp("tpl") / "t.xlsx")


def test_template_structure_matches_the_definition(template):
    assert_structure(template, FMT, template_identity(FMT, UNIT, 2024))


def test_template_inputs_are_prefilled_with_zero_and_checks_pass(template):
    wb = openpyxl.load_workbook(template, data_only=True)
    for cell in FMT.cells.values():
        assert wb[cell.sheet][cell.address].value == 0, cell.id
    for inst in FMT.instances:
        if inst.check_span:
            assert wb[inst.sheet][inst.check_span.top_left].value == CHECK_OK


def test_check_formula_reads_like_the_format(template):
    ws = openpyxl.load_workbook(template)[FMT.sheet_of("t3")]
    assert ws["D30"].value == '=IF((D5+D6)-(D28+D29)=0,"正确","不符（差"&((D5+D6)-(D28+D29))&"）")'
    assert ws["D28"].value == "=SUM(D7:D27)" and ws["J5"].value == "=SUM(D5:I5)"


def test_cover_fills_unit_and_year_and_unlocks_the_input_fields(template):
    ws = openpyxl.load_workbook(template)[FMT.cover.sheet]
    assert ws[FMT.cover.title_span.top_left].value == "2024年度政府信息公开工作年度报告统计表"
    values = {"unit_name": UNIT.name, "unit_code": UNIT.code, "year": "2024"}
    for field in FMT.cover.fields:
        cell = ws[field.value_span.top_left]
        assert cell.protection.locked is not field.input, field.key
        if field.key in values:
            assert cell.value == values[field.key] and cell.data_type == "s"
        if field.input:
            assert cell.value is None and cell.fill.fgColor.rgb.endswith("FFF2CC")


def test_a_different_definition_is_drawn_just_as_faithfully(tmp_path, tiny_format):
    """Nothing of the 2021 layout is assumed: a small definition with a 300-character label works."""
    unit = Unit("1", "测试单位", "部门")
    path = write_template(tiny_format, unit, 2024, tmp_path / "tiny.xlsx")
    assert_structure(path, tiny_format, template_identity(tiny_format, unit, 2024))
    ws = openpyxl.load_workbook(path)["甲表"]
    assert ws["B6"].value == '=IF((B5)-(B3-B4)=0,"正确","不符（差"&((B5)-(B3-B4))&"）")'
    assert ws["B11"].value.startswith("=IF(ROUND((B10)-(B8-B9),6)=0,")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_cached_results_are_right_for_the_given_values(tmp_path, tiny_format, data):
    """Viewers that do not recalculate show the totals and check results written with the formulas."""
    fmt = tiny_format
    values = {
        c.id: data.draw(st.integers(0, 10**9 if c.kind == "amount" else 10**6), label=c.id) for c in fmt.input_cells
    }
    path = tmp_path / "v.xlsx"
    write_workbook(path, lambda wb: draw_return(wb, fmt, template_identity(fmt, UNIT, 2024), values))
    wb = openpyxl.load_workbook(path, data_only=True)

    def read(cid: str) -> Decimal:
        cell = fmt.cells[cid]
        raw = Decimal(str(wb[cell.sheet][cell.address].value))
        return raw * AMOUNT_SCALE if cell.kind == "amount" else raw

    for cell in fmt.cells.values():
        expected = sum(values[p] for p in cell.parts) if cell.is_total else values[cell.id]
        assert read(cell.id) == expected, cell.id
    for inst in fmt.instances:
        if inst.check_span:
            diff = sum(t.coef * read(t.cell) for t in inst.lhs) - sum(t.coef * read(t.cell) for t in inst.rhs)
            if fmt.cells[inst.lhs[0].cell].kind == "amount":
                diff /= AMOUNT_SCALE
            shown = wb[inst.sheet][inst.check_span.top_left].value
            assert shown == (CHECK_OK if diff == 0 else f"不符（差{diff.normalize():f}）"), inst.name


def test_totals_in_values_are_recomputed_not_trusted(tmp_path):
    path = tmp_path / "v.xlsx"
    values = {"t3.new.natural": 2, "t3.new.business": 3, "t3.new.total": 99}
    write_workbook(path, lambda wb: draw_return(wb, FMT, template_identity(FMT, UNIT, 2024), values))
    ws = openpyxl.load_workbook(path, data_only=True)[FMT.sheet_of("t3")]
    assert ws["J5"].value == 5
    assert ws["D30"].value == "不符（差2）" and ws["E30"].value == "不符（差3）"


def test_unknown_cell_ids_are_refused(tmp_path):
    with pytest.raises(ValueError, match="t3.nope"):
        write_workbook(
            tmp_path / "x.xlsx", lambda wb: draw_return(wb, FMT, template_identity(FMT, UNIT, 2024), {"t3.nope": 1})
        )
    assert list(tmp_path.iterdir()) == []


def test_text_from_the_roster_stays_text(tmp_path):
    unit = Unit("=1+1", INJECTION + "\x07", "部门")
    path = write_template(FMT, unit, 2024, tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    fields = {f.key: f for f in FMT.cover.fields}
    for key, text in (("unit_name", INJECTION), ("unit_code", "=1+1")):
        cell = wb[FMT.cover.sheet][fields[key].value_span.top_left]
        assert cell.data_type == "s" and cell.value == text
    ident = {r[0].value: r[1] for r in wb[IDENT_SHEET].iter_rows(max_col=2)}
    assert ident["unit_name"].data_type == "s" and ident["unit_name"].value == INJECTION


def _roster(path: Path, kind: str) -> Path:
    rows = [["代码", "名称", "层级"], ["230723101", "乌伊岭镇", "乡镇"], ["230723199", INJECTION, "部门"]]
    if kind == "xlsx":
        with xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS) as wb:
            ws = wb.add_worksheet()
            for r, row in enumerate(rows):
                for c, text in enumerate(row):
                    ws.write_string(r, c, text)
        return path
    encoding = {"gbk": "gbk", "utf8-bom": "utf-8-sig"}[kind]
    with path.open("w", encoding=encoding, newline="") as f:
        csv.writer(f).writerows(rows)
    return path


@pytest.mark.parametrize("kind", ["gbk", "utf8-bom", "xlsx"])
def test_roster_names_reach_the_templates_as_text(tmp_path, kind):
    roster = _roster(tmp_path / f"名单.{'xlsx' if kind == 'xlsx' else 'csv'}", kind)
    paths = write_templates(FMT, read_roster(roster), 2024, tmp_path / "out")
    assert [p.name for p in paths] == [
        "230723101_乌伊岭镇_2024年政府信息公开统计表.xlsx",
        "230723199_=HYPERLINK(_http___x_,_y_)_2024年政府信息公开统计表.xlsx",
    ]
    wb = openpyxl.load_workbook(paths[1])
    cell = wb[FMT.cover.sheet][next(f for f in FMT.cover.fields if f.key == "unit_name").value_span.top_left]
    assert cell.data_type == "s" and cell.value == INJECTION


def test_file_names_are_safe_on_windows():
    name = template_file_name(Unit("12", 'a/b\\c:d*e?f"g<h>i|j\x01 .', "部门"), 2024)
    assert name == "12_a_b_c_d_e_f_g_h_i_j ._2024年政府信息公开统计表.xlsx"
    assert not set(name) & set('<>:"/\\|?*')


def test_units_whose_file_names_collide_are_refused_before_writing(tmp_path):
    units = [Unit("1", "a/b", "部门"), Unit("1", "a:b", "部门")]
    with pytest.raises(UsageError, match="文件名相同"):
        write_templates(FMT, units, 2024, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_out_dir_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(UsageError, match="文件夹"):
        write_templates(FMT, [UNIT], 2024, tmp_path / "f")


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path):
    path = tmp_path / "t.xlsx"
    path.write_bytes(b"old")

    def draw(wb):
        wb.add_worksheet("x")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_workbook(path, draw)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["t.xlsx"]


def test_a_write_failure_from_xlsxwriter_is_never_silent(tmp_path):
    """A position Excel cannot hold makes xlsxwriter return -1; the writer must raise, not skip it."""
    text = (REPO / "workbook_templates" / "gov-info-disclosure-2021.toml").read_text(encoding="utf-8")
    broken = loads(text.replace('["A3", "信息内容"]', '["XFE3", "信息内容"]'), "broken.toml")
    with pytest.raises(DefinitionError, match="XFE3"):
        write_template(broken, UNIT, 2024, tmp_path / "b.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_no_password_means_unprotected_and_empty_means_protected_without_one(tmp_path):
    open_ = openpyxl.load_workbook(write_template(FMT, UNIT, 2024, tmp_path / "a.xlsx", password=None))
    assert not any(ws.protection.sheet for ws in open_.worksheets)
    plain = openpyxl.load_workbook(write_template(FMT, UNIT, 2024, tmp_path / "b.xlsx", password=""))
    assert all(ws.protection.sheet and not ws.protection.password for ws in plain.worksheets)


# --------------------------------------------------------------------------- command line


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "xltool", "template", *args], capture_output=True, text=True, cwd=REPO, env=env
    )


def test_cli_writes_one_template_per_roster_unit(tmp_path):
    roster = _roster(tmp_path / "名单.csv", "gbk")
    proc = run_cli("--roster", str(roster), "--year", "2024", "--out", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    assert "已生成 2 个单位的 2024 年度模板" in proc.stdout
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == sorted(template_file_name(u, 2024) for u in read_roster(roster))
    ident = {
        r[0].value: r[1].value for r in openpyxl.load_workbook(tmp_path / "out" / files[0])[IDENT_SHEET].iter_rows()
    }
    assert ident["year"] == "2024" and ident["kind"] == "template"


def test_cli_writes_a_single_unit_template(tmp_path):
    out = tmp_path / "乌伊岭镇.xlsx"
    proc = run_cli(
        "--unit-code",
        "230723101",
        "--unit-name",
        "乌伊岭镇",
        "--level",
        "乡镇",
        "--year",
        "2025",
        "--out",
        str(out),
        "--password",
        "secret",
    )
    assert proc.returncode == 0, proc.stderr
    assert "乌伊岭镇（230723101）的 2025 年度模板" in proc.stdout
    wb = openpyxl.load_workbook(out)
    assert wb[FMT.sheet_of("t3")].protection.password == hash_password("secret")
    assert Identity.from_mapping({r[0].value: r[1].value for r in wb[IDENT_SHEET].iter_rows()}).year == 2025


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--year", "2024", "--out", "x"], "请给出 --roster"),
        (["--roster", "r.csv", "--unit-code", "1", "--year", "2024", "--out", "x"], "不能与 --unit-code 同时使用"),
        (["--unit-code", "1", "--level", "乡镇", "--year", "2024", "--out", "x.xlsx"], "还需要 --unit-name"),
        (
            ["--unit-code", "1", "--unit-name", "甲", "--level", "村", "--year", "2024", "--out", "x.xlsx"],
            "单位层级 '村' 无效",
        ),
        (
            ["--unit-code", "1", "--unit-name", "甲", "--level", "乡镇", "--year", "24年", "--out", "x.xlsx"],
            "--year 应为",
        ),
        (["--unit-code", "1", "--unit-name", "甲", "--level", "乡镇", "--year", "2024", "--out", "x"], "应为 .xlsx"),
        (["--unit-code", "1", "--unit-name", "甲", "--level", "乡镇", "--year", "2024"], "缺少 --out"),
        (["--roster", "no-such.csv", "--year", "2024", "--out", "x"], "名单文件不存在"),
    ],
)
def test_cli_refuses_bad_arguments_in_chinese(tmp_path, args, message):
    proc = run_cli(*[str(tmp_path / a) if a in ("x", "x.xlsx", "r.csv", "no-such.csv") else a for a in args])
    assert proc.returncode == 2
    assert proc.stderr.startswith("错误：") and message in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert list(tmp_path.iterdir()) == []


def test_output_under_a_regular_file_is_a_clean_error(tmp_path):
    """Regression: a path part that is a file made write_workbook's clean-up raise a traceback."""
    blocker = tmp_path / "afile"
    blocker.write_text("x", encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "xltool",
            "template",
            "--unit-code",
            "1",
            "--unit-name",
            "x",
            "--level",
            "乡镇",
            "--year",
            "2024",
            "--out",
            str(blocker / "x.xlsx"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "路径中有一部分是文件而不是文件夹" in done.stderr
