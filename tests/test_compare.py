"""``xltool compare LAST THIS``: this year beside last year, as a clerk runs it on real files.

The demo's two years (汤旺县: last year's consolidated workbook with its 明细, this year's inbox) are
compared folder to folder; 洪泽区's real 2023 and 2024 PDFs file to file, their side-by-side figures
checked against the hand-transcribed figures.json and the carry-over rule against what those figures
say. The workbook is read back by openpyxl, recalculated and printed by LibreOffice, its chart page
rendered; the CLI runs as a subprocess; the text diff is tested on records built with NarrativePart.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from helpers.corpus import CORPUS, expected_figures
from helpers.returns import CONSISTENT, make_return
from hypothesis import given
from hypothesis import strategies as st

from samples import SAMPLES_DIR
from xltool.compare import (
    LARGE_FROM_ZERO,
    SCHEMA_VERSION,
    Comparison,
    compare_paths,
    compare_records,
    is_large,
    sentence_diff,
    text_changes,
)
from xltool.definition import AMOUNT, get_format
from xltool.model import NarrativePart, Unit
from xltool.read.detail import read_detail
from xltool.validate import validate_paths
from xltool.values import AMOUNT_SCALE
from xltool.write.compare_book import CHART_SHEET, LARGE, SUMMARY_SHEET, chart_cells, write_compare_book
from xltool.write.compare_page import compare_html

REPO = Path(__file__).parents[1]
FMT = get_format()
DEMO_LAST = SAMPLES_DIR / "汤旺县" / "2023"
DEMO_THIS = SAMPLES_DIR / "汤旺县" / "2024" / "收件箱"
TOWN = Unit("230723101", "乌伊岭镇", "乡镇")


def figures(name: str) -> dict[str, int]:
    entry = next(e for e in json.loads((CORPUS / "figures.json").read_text(encoding="utf-8")) if e["file"] == name)
    return expected_figures(entry, FMT)


@pytest.fixture(scope="module")
def hongze() -> Comparison:
    return compare_paths([CORPUS / "hongze-2023.pdf"], [CORPUS / "hongze-2024.pdf"])


@pytest.fixture(scope="module")
def demo() -> Comparison:
    return compare_paths([DEMO_LAST], [DEMO_THIS])


def run_cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "100"}
    return subprocess.run(
        [sys.executable, "-m", "xltool", "compare", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


# --------------------------------------------------------------------------- large changes


@given(st.integers(0, 10**6), st.integers(0, 10**6), st.floats(1.5, 10))
def test_a_large_change_is_the_same_read_either_way(last, this, factor):
    assert is_large(last, this, factor) == is_large(this, last, factor)


@given(st.integers(1, 10**5), st.integers(1, 10**5), st.integers(2, 50), st.floats(1.5, 10))
def test_a_large_change_of_two_non_zero_figures_is_a_ratio(last, this, k, factor):
    """Scaling both years alike changes nothing; a figure exactly ``factor`` times the other is not large."""
    assert is_large(last, this, factor) == is_large(k * last, k * this, factor)
    assert not is_large(last, last * 3, 3.0)
    assert is_large(last, last * 3 + 1, 3.0)


@given(st.integers(0, 10**6))
def test_from_zero_a_change_is_large_from_twenty_on(n):
    assert is_large(0, n, 3.0) == (n >= LARGE_FROM_ZERO)
    assert is_large(n, 0, 3.0) == (n >= LARGE_FROM_ZERO)
    # amounts count in 万元: 19.99 万元 is not 20
    assert is_large(0, n, 3.0, AMOUNT) == (n >= LARGE_FROM_ZERO * AMOUNT_SCALE)


# --------------------------------------------------------------------------- the text


def part(number: int, text: str) -> NarrativePart:
    headings = {1: "一、总体情况", 5: "五、存在的主要问题及改进情况", 6: "六、其他需要报告的事项"}
    return NarrativePart((number,), headings[number], text)


def test_the_text_is_diffed_part_by_part_by_sentence():
    last = (
        part(1, "本机关全面推进政务公开。全年主动公开信息 120 条。\n依申请公开工作规范有序。"),
        part(5, "存在的问题是公开深度不够。"),
    )
    this = (
        part(1, "本机关全面推进政务公开！全年主动公开信息 135 条。\n依申请公开工作规范有序。新增政策解读 12 篇。"),
        part(5, "存在的问题是公开深度不够。"),
        part(6, "本年度未收取信息处理费。"),
    )
    changes = {t.number: t for t in text_changes(last, this)}
    assert set(changes) == {1, 6}  # part 五 is unchanged; a punctuation-only change (。→！) is none
    assert changes[1].added == ("全年主动公开信息 135 条。", "新增政策解读 12 篇。")
    assert changes[1].removed == ("全年主动公开信息 120 条。",)
    assert changes[6].added == ("本年度未收取信息处理费。",) and changes[6].removed == ()
    assert changes[6].heading == "六、其他需要报告的事项"


sentences = st.lists(
    st.text(alphabet="政务公开申请信息年度本机关一二三", min_size=2, max_size=8), max_size=8, unique=True
)


@given(sentences, st.text(alphabet="新增条款解读", min_size=3, max_size=6), st.integers(0, 8))
def test_a_sentence_inserted_is_the_one_sentence_added(base, new, at):
    last = [s + "。" for s in base]
    this = [*last[:at], new + "。", *last[at:]]
    assert sentence_diff(last, this) == ([new + "。"], [])
    assert sentence_diff(this, last) == ([], [new + "。"])
    assert sentence_diff(last, [s.replace("。", "；") for s in last]) == ([], [])


def test_a_report_with_text_shows_it_in_the_comparison(tmp_path):
    """Records as the narrative reader will fill them (on this branch documents have no narrative yet)."""
    a = validate_paths([make_return(tmp_path / "a", TOWN, year=2023)]).records
    b = validate_paths([make_return(tmp_path / "b", TOWN, year=2024)]).records
    a[0].narrative = (part(1, "全年受理申请 3 件。"),)
    b[0].narrative = (part(1, "全年受理申请 5 件。"),)
    c = compare_records(a, b)
    (t,) = c.units[0].text
    assert (t.added, t.removed) == (("全年受理申请 5 件。",), ("全年受理申请 3 件。",))
    page = compare_html(c, FMT)
    assert "新增：全年受理申请 5 件。" in page and "删去：全年受理申请 3 件。" in page


# --------------------------------------------------------------------------- the demo's two years


def test_the_demo_years_pair_every_unit_and_account_for_every_file(demo):
    inbox = {str(p) for p in DEMO_THIS.iterdir()}
    this_files = {u.this_file for u in demo.units} | {u.file for u in demo.only_this + demo.skipped}
    assert this_files == inbox
    detail = read_detail(next(DEMO_LAST.iterdir()), FMT)
    paired = {u.unit_code for u in demo.units}
    assert paired | {u.unit_code for u in demo.only_last} == set(detail) | {"230723"}
    assert paired.isdisjoint(u.unit_code for u in demo.only_last)
    records = {r.file: r for r in validate_paths([DEMO_THIS]).records}
    for u in demo.units:
        for c in u.cells:
            assert c.last == detail[u.unit_code].get(c.cell), (u.unit_name, c.cell)
            assert c.this == records[u.this_file].values.get(c.cell), (u.unit_name, c.cell)
            assert c.change == (None if c.last is None or c.this is None else c.this - c.last)


def test_the_demo_years_check_the_carry_over_as_validation_does(demo):
    """T3-R5 / T2-W2 broken in the comparison exactly where ``validate --previous`` reports them."""
    validation = validate_paths([DEMO_THIS], previous=[DEMO_LAST])
    reported = {(f.file, f.check) for f in validation.report.findings if f.rule in ("T3-R5", "T2-W2")}
    broken = {(u.this_file, r.check) for u in demo.units for r in u.rules if r.holds is False}
    assert broken == reported
    checked = [r for u in demo.units for r in u.rules]
    assert {r.code for r in checked} == {"T3-R5", "T2-W2"}
    assert sum(1 for r in checked if r.holds) > len(checked) / 2


def test_a_broken_carry_over_is_reported_as_validation_reports_it(tmp_path):
    town2 = Unit("230723102", "汤旺河镇", "乡镇")
    make_return(tmp_path / "2023", TOWN, year=2023)
    make_return(tmp_path / "2023", town2, {**CONSISTENT, "t2_1.normative.valid": 5}, year=2023)
    make_return(tmp_path / "2024", TOWN, {**CONSISTENT, "t3.carried_in.natural": 2, "t3.new.natural": 1}, year=2024)
    make_return(tmp_path / "2024", town2, {**CONSISTENT, "t2_1.normative.valid": 9}, year=2024)
    validation = validate_paths([tmp_path / "2024"], previous=[tmp_path / "2023"])
    reported = {(f.file, f.check): f.message for f in validation.report.findings if f.rule in ("T3-R5", "T2-W2")}
    c = compare_paths([tmp_path / "2023"], [tmp_path / "2024"])
    broken = {(u.this_file, r.check): r.message for u in c.units for r in u.rules if r.holds is False}
    assert broken == reported and len(broken) == 3  # 自然人列 and 总计列; 行政规范性文件行


# --------------------------------------------------------------------------- 洪泽区 2023 → 2024


def test_hongze_side_by_side_is_what_the_two_reports_print(hongze):
    (u,) = hongze.units
    assert (u.last_year, u.this_year) == (2023, 2024)
    last, this = figures("hongze-2023.pdf"), figures("hongze-2024.pdf")
    by_id = {c.cell: c for c in u.cells}
    for cid, value in last.items():
        assert by_id[cid].last == value, cid
    for cid, value in this.items():
        assert by_id[cid].this == value, cid
    # the carry-over rule against what the printed figures say, column by column
    for r in u.rules:
        if r.code == "T3-R5":
            col = r.check.split(".")[1]
            assert r.holds == (this[f"t3.carried_in.{col}"] == last[f"t3.carried_out.{col}"]), r
    stock = {r.check: r.holds for r in u.rules if r.code == "T2-W2"}
    for row in ("rules", "normative"):
        want = this[f"t2_1.{row}.valid"] == (
            last[f"t2_1.{row}.valid"] + this[f"t2_1.{row}.issued"] - this[f"t2_1.{row}.repealed"]
        )
        assert stock[f"T2-W2.{row}"] == want
    large = {c.cell for c in u.large}
    assert "t2_5.licensing.decisions" in large  # 550 → 9487
    for cid in last.keys() & this.keys():
        kind = FMT.cells[cid].kind
        assert (cid in large) == is_large(last[cid], this[cid], 3.0, kind), cid
    assert all(f.rule in ("X-LARGE-CHANGE",) for f in hongze.findings)


def test_the_json_keeps_its_keys(hongze):
    d = json.loads(hongze.to_json())
    assert d["schema"] == SCHEMA_VERSION
    assert set(d) == {"schema", "factor", "large_from_zero", "units", "only_last", "only_this", "skipped", "findings"}
    (unit,) = d["units"]
    assert set(unit) == {
        "unit_code",
        "unit_name",
        "last_file",
        "this_file",
        "last_year",
        "this_year",
        "cells",
        "rules",
        "text",
        "findings",
    }
    assert set(unit["cells"][0]) == {
        "cell",
        "table",
        "row_label",
        "col_label",
        "kind",
        "last",
        "this",
        "large",
        "change",
    }
    assert set(unit["rules"][0]) == {"code", "check", "scope", "severity", "holds", "message"}
    fee = next(c for c in unit["cells"] if c["kind"] == AMOUNT)
    assert fee["this"] == figures("hongze-2024.pdf")[fee["cell"]] / AMOUNT_SCALE  # 万元, as printed


# --------------------------------------------------------------------------- the workbook


def _find_row(ws, label: str) -> int:
    return next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == label)


def test_the_workbook_lays_out_each_table_with_last_this_and_change(hongze, tmp_path):
    out = write_compare_book(hongze, FMT, tmp_path / "对比.xlsx")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == [SUMMARY_SHEET, "表二", "表三", "表四", CHART_SHEET]
    ws = wb["表三"]
    r = _find_row(ws, FMT.cells["t3.new.natural"].row_label)
    last, this = figures("hongze-2023.pdf"), figures("hongze-2024.pdf")
    assert (ws.cell(r, 2).value, ws.cell(r, 3).value) == (last["t3.new.natural"], this["t3.new.natural"])
    assert ws.cell(r, 4).value == f"=C{r}-B{r}"
    assert ws.cell(r, 3).fill.fgColor.rgb.endswith(LARGE.lstrip("#"))  # 21 → 95: flagged
    assert ws.cell(r, 3).comment is not None and "4.5 倍" in ws.cell(r, 3).comment.text
    with zipfile.ZipFile(out) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == len([t for t in FMT.tables if chart_cells(FMT, t)])


@pytest.mark.libreoffice
@pytest.mark.slow
def test_libreoffice_recalculates_the_changes_and_prints_the_chart(hongze, tmp_path, libreoffice_profile):
    from helpers.libreoffice import convert

    out = write_compare_book(hongze, FMT, tmp_path / "book" / "对比.xlsx")
    recalced, pdf = (
        convert(libreoffice_profile, "xlsx", tmp_path / "recalc", [out])[0],
        convert(libreoffice_profile, "pdf", tmp_path / "pdf", [out])[0],
    )
    ws = openpyxl.load_workbook(recalced, data_only=True)["表三"]
    (u,) = hongze.units
    for cid in ("t3.new.natural", "t3.new.total", "t3.disclosed.total", "t3.carried_out.total"):
        r = _find_row(ws, FMT.cells[cid].row_label)
        col = 2 + 3 * [c.key for c in FMT.grid("t3").columns].index(cid.split(".")[2])
        assert ws.cell(r, col + 2).value == next(c.change for c in u.cells if c.cell == cid)
    # the chart page rendered: 本年's blue bars are on it (looked at by eye too: see the report)
    pages = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    n = int(next(line.split()[-1] for line in pages.splitlines() if line.startswith("Pages")))
    png = tmp_path / "chart"
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", str(n), str(pdf), str(png)], check=True)
    import numpy as np
    from PIL import Image

    blue = 0
    for page in sorted(tmp_path.glob("chart*.png")):
        px = np.asarray(Image.open(page).convert("RGB")).astype(int)
        near = (abs(px[..., 0] - 0x44) < 24) & (abs(px[..., 1] - 0x72) < 24) & (px[..., 2] > 170)
        blue += int(near.sum())
    assert blue > 100


# --------------------------------------------------------------------------- the command line


def two_years(tmp_path: Path) -> tuple[Path, Path]:
    last = make_return(tmp_path / "2023", TOWN, {**CONSISTENT, "t2_5.licensing.decisions": 4}, year=2023)
    grown = {**CONSISTENT, "t2_5.licensing.decisions": 40, "t3.carried_in.natural": 2, "t3.new.natural": 1}
    this = make_return(tmp_path / "2024", TOWN, grown, year=2024)
    return last, this


@pytest.mark.slow
def test_the_command_writes_the_workbook_and_page_and_never_overwrites(tmp_path):
    last, this = two_years(tmp_path)
    out = tmp_path / "out" / "对比.xlsx"
    out.parent.mkdir()
    done = run_cli(last, this, "-o", out, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert out.is_file() and out.with_suffix(".html").is_file()
    assert "X-LARGE-CHANGE" in done.stdout and "T3-R5" in done.stdout  # 4 → 40; carried 2 ≠ last year's 1
    before = out.read_bytes()
    again = run_cli(last, this, "-o", out, cwd=tmp_path)
    assert again.returncode == 2 and "已存在" in again.stderr and "Traceback" not in again.stderr
    assert out.read_bytes() == before
    assert run_cli(last, this, "-o", out, "--overwrite", cwd=tmp_path).returncode == 0
    inside = run_cli(last.parent, this, "-o", last.parent / "对比.xlsx", cwd=tmp_path)
    assert inside.returncode == 2 and "被读取的文件夹" in inside.stderr
    assert not (last.parent / "对比.xlsx").exists()


@pytest.mark.slow
def test_the_command_gives_json_and_says_what_it_could_not_read(tmp_path):
    last, this = two_years(tmp_path)
    (this.parent / "坏文件.xlsx").write_bytes(b"not a workbook")
    done = run_cli(last.parent, this.parent, "--json", "--factor", "20", cwd=tmp_path)
    assert done.returncode == 1, done.stderr  # one file not read; the rest compared
    d = json.loads(done.stdout)
    assert [u["unit_code"] for u in d["units"]] == [TOWN.code]
    assert [s["file"] for s in d["skipped"]] == [str(this.parent / "坏文件.xlsx")]
    assert not any(c["large"] for c in d["units"][0]["cells"])  # 4 → 40 is 10 times, not over 20
    nothing = run_cli(last, tmp_path / "2024" / "坏文件.xlsx", cwd=tmp_path)
    assert nothing.returncode == 2 and nothing.stderr.startswith("错误：没有可对比的单位")


# --------------------------------------------------------------------------- xltool serve


def test_the_serve_page_compares_last_year_with_the_inbox(tmp_path):
    import time

    from starlette.testclient import TestClient

    from xltool.app.serve import create_app

    year = tmp_path / "汤旺县2024"
    last, this = two_years(tmp_path / "src")
    (year / "0-上年").mkdir(parents=True)
    (year / "2-收件箱").mkdir()
    (year / "0-上年" / "乌伊岭镇2023.xlsx").write_bytes(last.read_bytes())
    (year / "2-收件箱" / "乌伊岭镇.xlsx").write_bytes(this.read_bytes())
    token = "test-token-0123456789"
    c = TestClient(create_app(year, token), base_url="http://127.0.0.1:8765")
    assert (
        c.post("/api/compare", json={"last": "0-上年（整个文件夹）", "this": "2-收件箱（整个文件夹）"}).status_code
        == 403
    )
    c.headers["X-Xltool-Token"] = token
    page = c.get("/compare").text
    assert "0-上年（整个文件夹）" in page and "2-收件箱/乌伊岭镇.xlsx" in page
    assert c.post("/api/compare", json={"last": "/etc/passwd", "this": "2-收件箱（整个文件夹）"}).status_code == 400
    started = c.post("/api/compare", json={"last": "0-上年（整个文件夹）", "this": "2-收件箱（整个文件夹）"})
    assert started.status_code == 202
    job = started.json()
    for _ in range(600):
        job = c.get(f"/api/jobs/{job['id']}").json()
        if job["state"] != "running":
            break
        time.sleep(0.05)
    assert job["state"] == "done", job
    assert job["result"]["files"] == ["8-对比/2024年与2023年对比.xlsx", "8-对比/2024年与2023年对比.html"]
    html = job["result"]["html"]
    assert "X-LARGE-CHANGE" in html and "T3-R5" in html and str(tmp_path) not in html
    download = c.get("/download/8-对比/2024年与2023年对比.xlsx")
    assert download.status_code == 200
    assert download.content == (year / "8-对比" / "2024年与2023年对比.xlsx").read_bytes()
    assert "2024年与2023年对比.html" in c.get("/compare").text


def test_documents_without_codes_pair_by_name_and_a_gap_of_years_is_said(tmp_path):
    """平潭's 2021 and 2023 portal pages in two folders: one unit by its name, two years apart."""
    for year in (2021, 2023):
        (tmp_path / str(year)).mkdir()
        (tmp_path / str(year) / f"pingtan-{year}.html").write_bytes((CORPUS / f"pingtan-{year}.html").read_bytes())
    c = compare_paths([tmp_path / "2021"], [tmp_path / "2023"])
    (u,) = c.units
    assert (u.unit_code, u.last_year, u.this_year) == ("", 2021, 2023)
    assert not (c.only_last or c.only_this or c.skipped)
    assert "X-COMPARE-YEAR" in {f.rule for f in u.findings}
    last, this = figures("pingtan-2021.html"), figures("pingtan-2023.html")
    for r in u.rules:
        if r.code == "T3-R5":
            col = r.check.split(".")[1]
            assert r.holds == (this[f"t3.carried_in.{col}"] == last[f"t3.carried_out.{col}"]), r
