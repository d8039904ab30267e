"""The whole reading path for documents, as a user meets it: a web page, a Word file or a workbook a
unit made itself goes through ``read_return`` and ``validate_paths`` (and the command line) and
comes out with exactly the figures printed, the source it was read as, and findings only where the
document deviates.

Documents are made from our own filled templates: by real engines (LibreOffice Calc and Writer,
headless; a few soffice calls per session, many files each), and in Python from the definition (an
HTML writer, python-docx, openpyxl) for the property test and the quirks of published reports. The
unit and year come from the file name (``乌伊岭镇2024年政府信息公开工作年度报告.html``), as on a portal.
"""

from __future__ import annotations

import dataclasses
import io
import json
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from helpers.documents import (
    FMT,
    T3_COLUMNS,
    UNIT,
    UNITS,
    YEAR,
    assert_same_figures,
    brief,
    consistent,
    docx_report,
    figure_box,
    fills,
    find,
    html_page,
    inputs_of,
    lay_out,
    one_row_other,
    printed,
    random_fill,
    report_name,
    two_years,
    write_html,
)
from helpers.libreoffice import ALWAYS_RECALCULATE
from helpers.returns import make_return
from hypothesis import HealthCheck, given, settings
from openpyxl.utils import get_column_letter

from xltool.model import ERROR, IDENT_SHEET, WARNING
from xltool.read.dispatch import read_return
from xltool.read.from_document import ReadOptions
from xltool.totals import recompute_totals
from xltool.validate import validate_paths

FIXTURES = Path(__file__).parent / "fixtures" / "documents"
ROOT = Path(__file__).resolve().parent.parent
SOFFICE = shutil.which("soffice")


# --------------------------------------------------------------------------- a workbook a unit made itself


def workbook_without_identification(src: Path, dest: Path) -> Path:
    """The filled template with its identification sheet removed (openpyxl): a sheet a unit made itself."""
    wb = openpyxl.load_workbook(src)
    del wb[IDENT_SHEET]
    dest.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dest)
    return dest


# --------------------------------------------------------------------------- real engines (LibreOffice)


@dataclass
class Converted:
    """Filled returns of UNITS and what LibreOffice made of them, by kind (html, docx, ods, xls)."""

    values: dict[str, dict[str, int]]  # unit name -> every cell's figure
    folders: dict[str, Path]


@pytest.fixture(scope="session")
def converted(tmp_path_factory) -> Converted:
    """Three filled templates, converted in four soffice calls (all files at once each): Calc -> HTML;
    that HTML -> .docx by Writer; the templates without identification -> .ods and .xls by Calc."""
    if not SOFFICE:
        pytest.skip("LibreOffice (soffice) is not installed")
    root = tmp_path_factory.mktemp("converted")
    profile = root / "profile"
    (profile / "user").mkdir(parents=True)
    # recalculate on load: the .xlsx saved by openpyxl (identification removed) has no cached totals
    (profile / "user" / "registrymodifications.xcu").write_text(ALWAYS_RECALCULATE, encoding="utf-8")
    values, templates, plain = {}, [], []
    for seed, unit in enumerate(UNITS):
        values[unit.name] = random_fill(seed)
        path = make_return(
            root / "xlsx", unit, inputs_of(values[unit.name]), name=report_name(unit.name, suffix=".xlsx")
        )
        templates.append(path)
        plain.append(workbook_without_identification(path, root / "plain" / path.name))

    def soffice(target: str, out: Path, files: list[Path], infilter: str = "") -> list[Path]:
        command = [SOFFICE, "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}"]
        command += [f"--infilter={infilter}"] if infilter else []
        command += ["--convert-to", target, "--outdir", str(out), *map(str, files)]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=300)
        made = [out / f"{f.stem}.{target.split(':')[0]}" for f in files]
        assert proc.returncode == 0 and all(p.is_file() for p in made), proc.stdout + proc.stderr
        return made

    pages = soffice("html", root / "html", templates)
    soffice("docx:MS Word 2007 XML", root / "docx", pages, infilter="HTML (StarWriter)")
    soffice("ods", root / "ods", plain)
    soffice("xls", root / "xls", plain)
    return Converted(values, {k: root / k for k in ("html", "docx", "ods", "xls")})


LIBREOFFICE_KINDS = [("html", "html"), ("docx", "docx"), ("ods", "workbook"), ("xls", "workbook")]


@pytest.mark.slow
@pytest.mark.libreoffice
@pytest.mark.parametrize(("kind", "source"), LIBREOFFICE_KINDS)
def test_libreoffice_documents_read_back_the_templates_figures(converted, kind, source):
    files = sorted(converted.folders[kind].iterdir())
    assert len(files) == len(UNITS)
    for unit in UNITS:
        path = converted.folders[kind] / report_name(unit.name, suffix=f".{kind}")
        rec = read_return(path)
        assert rec.source == source and rec.is_document
        assert rec.findings == []
        assert (rec.identity.unit_name, rec.identity.year, rec.identity.kind) == (unit.name, YEAR, "document")
        assert_same_figures(rec, converted.values[unit.name])
        assert len(rec.positions) == len(FMT.cells)


@pytest.mark.slow
@pytest.mark.libreoffice
@pytest.mark.parametrize("kind", [k for k, _ in LIBREOFFICE_KINDS])
def test_libreoffice_documents_validate_clean_as_a_batch(converted, kind):
    v = validate_paths([converted.folders[kind]], options=ReadOptions())
    assert v.report.findings == []
    assert v.valid and len(v.records) == len(UNITS)
    assert {w.status for w in v.report.workbooks} == {"passed"}
    assert sorted(r.identity.unit_name for r in v.records) == sorted(u.name for u in UNITS)


# --------------------------------------------------------------------------- property: documents built in Python


@pytest.mark.slow
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(values=fills())
def test_any_consistent_fill_reads_back_from_html_and_docx(tmp_path, values):
    tables = lay_out(values)
    page = tmp_path / report_name()
    page.write_text(html_page(tables, page.stem), encoding="utf-8")
    word = tmp_path / report_name(suffix=".docx")
    word.write_bytes(docx_report(tables, word.stem))
    for path, source in ((page, "html"), (word, "docx")):
        rec = read_return(path)
        assert rec.source == source
        assert rec.findings == []
        assert_same_figures(rec, values)


@pytest.mark.slow
@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(values=fills())
def test_any_consistent_fill_reads_back_from_the_workbook_with_totals_typed(tmp_path, values):
    """The template without its identification, every figure typed as a number (a unit's own sheet)."""
    src = make_return(tmp_path / "src", UNIT, inputs_of(values), name=report_name(suffix=".xlsx"))
    dest = workbook_without_identification(src, tmp_path / "plain" / src.name)
    wb = openpyxl.load_workbook(dest)
    for c in FMT.total_cells:
        wb[c.sheet][c.address] = values[c.id]
    wb.save(dest)
    rec = read_return(dest)
    assert rec.source == "workbook"
    assert rec.findings == []
    assert_same_figures(rec, values)
    assert rec.positions["t3.new.natural"].ref == FMT.cells["t3.new.natural"].address


def test_workbook_with_identification_removed_by_openpyxl_reads_back(tmp_path):
    values = random_fill(11)
    src = make_return(tmp_path / "src", UNIT, inputs_of(values), name=report_name(suffix=".xlsx"))
    dest = workbook_without_identification(src, tmp_path / "plain" / src.name)
    rec = read_return(dest)
    assert rec.source == "workbook"
    assert rec.findings == []
    assert_same_figures(rec, values)


# --------------------------------------------------------------------------- quirks of published reports


def validate_one(path: Path, **kw):
    return validate_paths([path], **kw)


def test_word_pasted_msonormal_report_validates_clean(tmp_path):
    values = random_fill(21)
    path = write_html(tmp_path / report_name(), values, word=True)
    assert path.read_text(encoding="utf-8").count('class="MsoNormal"') > 200
    v = validate_one(path)
    assert v.report.findings == []
    assert_same_figures(v.records[0], values)


def test_word_pasted_msonormal_fixture_through_the_whole_path():
    """The fixture (表二 only, as a Word paste left it): its figures are read, 66&nbsp;5 is named."""
    path = FIXTURES / "word_pasted_msonormal.html"
    rec = read_return(path)
    assert rec.source == "html"
    assert (rec.identity.unit_name, rec.identity.year) == ("汤旺县乌伊岭镇", 2024)
    assert [rec.values[f"t2_1.{r}.{c}"] for r in ("rules", "normative") for c in ("issued", "repealed")] == [
        0,
        0,
        6,
        93,
    ]
    assert rec.values["t2_1.normative.valid"] is None
    codes = {(f.rule, f.table) for f in rec.findings if f.severity == ERROR}
    assert ("D-TABLE-MISSING", "表三") in codes and ("D-TABLE-MISSING", "表四") in codes
    [bad] = [f for f in rec.findings if f.cell_ids == ("t2_1.normative.valid",)]
    assert bad.severity == ERROR and bad.table == "表二" and bad.location == "第 1 个表格第 4 行第 4 列"


def test_gbk_report_without_declaration_validates_clean(tmp_path):
    values = random_fill(22)
    path = write_html(tmp_path / report_name(), values, charset=None)
    path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    v = validate_one(path)
    assert v.report.findings == []
    assert v.records[0].identity.unit_name == UNIT.name
    assert_same_figures(v.records[0], values)


def test_gbk_fixture_table_four_read_through_the_whole_path():
    rec = read_return(FIXTURES / "gbk_no_declaration.html")
    assert rec.source == "html"
    assert (rec.identity.unit_name, rec.identity.year) == ("汤旺县教育局", 2023)
    t4 = [cid for cid in FMT.cells if cid.startswith("t4_")]
    assert [rec.values[cid] for cid in t4] == [1, 2, 0, 0, 3, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0]
    assert rec.positions["t4_direct.cases.corrected"].where == "第 1 个表格第 4 行第 7 列"
    assert {f.table for f in rec.findings if f.rule == "D-TABLE-MISSING"} == {"表二", "表三"}


def test_rowspan_22_fixture_places_every_table_three_figure():
    """The fixture prints 100 × row + column in every figure cell of 表三 (rows 3..27 of its grid)."""
    rec = read_return(FIXTURES / "rowspan_22.html")
    assert rec.source == "html"
    t3 = [c for c in FMT.cells.values() if c.table == "t3"]
    top = FMT.table("t3").title_span.last_row + 1
    for c in t3:
        assert rec.values[c.id] == 100 * (c.row - top) + c.col, c.id
    assert rec.positions["t3.total.other"].where == "第 1 个表格第 27 行第 9 列"
    assert {f.table for f in rec.findings if f.rule == "D-TABLE-MISSING"} == {"表二", "表四"}


def test_other_handling_printed_as_one_row_is_a_warning_and_r4_still_holds(tmp_path):
    values = random_fill(23)
    values = consistent(inputs_of(values) | {"t3.other_no_correction.natural": 2, "t3.other_no_fee.business": 3})
    path = tmp_path / report_name()
    path.write_text(html_page(one_row_other(values), path.stem), encoding="utf-8")
    v = validate_one(path)
    assert brief(v.report.findings) == [("D-T3-OTHER-ONE-ROW", WARNING)]
    rec = v.records[0]
    f = v.report.findings[0]  # the locator's, given the file and unit once they are known
    assert (f.table, f.file, f.unit_name, f.location) == ("表三", rec.file, UNIT.name, "第 2 个表格")
    for col in (*T3_COLUMNS, "total"):
        items = sum(values[f"t3.{k}.{col}"] for k in ("other_no_correction", "other_no_fee", "other_other"))
        assert rec.values[f"t3.other_other.{col}"] == items
        assert rec.values[f"t3.other_no_correction.{col}"] == 0 and rec.values[f"t3.other_no_fee.{col}"] == 0
        assert rec.values[f"t3.total.{col}"] == values[f"t3.total.{col}"]


def test_other_handling_one_row_with_a_wrong_total_fails_r4(tmp_path):
    values = random_fill(24)
    path = tmp_path / report_name()
    tables = one_row_other(
        values, printed_total=lambda col: values[f"t3.total.{col}"] + (5 if col == "research" else 0)
    )
    path.write_text(html_page(tables, path.stem), encoding="utf-8")
    v = validate_one(path)
    errors = [f for f in v.report.findings if f.severity == ERROR]
    assert {f.rule for f in errors} >= {"T3-R4"}
    r4 = [f for f in errors if f.rule == "T3-R4"]
    assert [f.check for f in r4] == ["T3-R4.research"]
    assert "t3.total.research" in r4[0].cell_ids and r4[0].table == "表三"
    assert ("D-T3-OTHER-ONE-ROW", WARNING) in brief(v.report.findings)


def blanks_for_zeros(values: dict[str, int]) -> str:
    return html_page(lay_out(values, lambda cid, v: "\u00a0" if v == 0 else printed(cid, v)), report_name())


def _zero_fill() -> dict[str, int]:
    values = random_fill(25)
    zeros = [cid for cid, v in values.items() if v == 0]
    assert {FMT.cells[cid].table for cid in zeros} == {"t2", "t3", "t4"}  # a blank in every table
    return values


def test_blanks_for_zeros_are_errors_with_strict_blanks(tmp_path):
    values = _zero_fill()
    path = tmp_path / report_name()
    path.write_text(blanks_for_zeros(values), encoding="utf-8")
    v = validate_one(path, options=ReadOptions(strict_blanks=True))
    zeros = sorted(cid for cid, value in values.items() if value == 0)
    blank = [f for f in v.report.findings if f.rule == "V-BLANK"]
    assert sorted(f.cell_ids[0] for f in blank) == zeros
    assert all(f.severity == ERROR and f.location.startswith("第 ") for f in blank)
    assert not v.valid


def test_blanks_for_zeros_read_as_zero_with_one_warning_per_table(tmp_path):
    values = _zero_fill()
    path = tmp_path / report_name()
    path.write_text(blanks_for_zeros(values), encoding="utf-8")
    v = validate_one(path)
    assert v.valid and brief(v.report.findings) == [("D-BLANK-AS-ZERO", WARNING)] * 3
    assert sorted(f.table for f in v.report.findings) == sorted(["表二", "表三", "表四"])
    for f in v.report.findings:
        key = {"表二": "t2", "表三": "t3", "表四": "t4"}[f.table]
        zeros = [cid for cid, value in values.items() if value == 0 and FMT.cells[cid].table == key]
        assert sorted(f.cell_ids) == sorted(zeros)
        assert f"{f.table}有 {len(zeros)} 个法定单元格空白" in f.message and f.location.startswith("第 ")
    assert_same_figures(v.records[0], values)


def test_blanks_for_zeros_fixture_by_default_and_with_strict_blanks(tmp_path):
    """The fixture's 表四 prints 行政复议 as blanks and 总计 1 (a 2019 report); here with the block's
    heading above its five columns, which says which block they are."""
    path = tmp_path / "某乡2019年政府信息公开工作年度报告.html"
    html = (FIXTURES / "blanks_for_zeros.html").read_text(encoding="utf-8")
    path.write_text(html.replace('<table border="1">', '<table border="1"><tr><td colspan="5">行政复议</td></tr>'))
    review = [f"t4_review.cases.{k}" for k in ("upheld", "corrected", "other", "pending", "total")]
    strict = read_return(path, options=ReadOptions(unit_name="某乡", strict_blanks=True))
    assert strict.source == "html" and (strict.identity.unit_name, strict.identity.year) == ("某乡", 2019)
    assert [strict.values[c] for c in review] == [None, None, None, None, 1]
    blank = {f.cell_ids[0]: f for f in strict.findings if f.rule == "V-BLANK"}
    assert set(review[:4]) <= set(blank)
    assert blank["t4_review.cases.other"].location == "第 1 个表格第 3 行第 3 列"
    zero = read_return(path, options=ReadOptions(unit_name="某乡"))
    assert [zero.values[c] for c in review] == [0, 0, 0, 0, 1]
    # the page prints only 行政复议's block: the two 行政诉讼 blocks are missing, and the blanks are zeros
    assert {f.rule for f in zero.findings if f.table == "表四"} == {"D-BLANK-AS-ZERO", "D-COLUMN-MISSING"}
    assert [f.rule for f in zero.findings if f.table == "表四"].count("D-BLANK-AS-ZERO") == 1
    assert not [f for f in zero.findings if f.rule == "V-BLANK"]


def _validate_on_the_command_line(path: Path, *flags: str) -> tuple[int, list[dict]]:
    proc = subprocess.run(
        [sys.executable, "-m", "xltool", "validate", str(path), "--format", "json", *flags],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout)["findings"]


def test_a_blank_heavy_page_on_the_command_line_by_default_and_with_strict_blanks(tmp_path):
    """A department's page printing every 0 as a blank: one warning per table by default (and with the
    old --blank-as-zero, still accepted), a V-BLANK error per blank cell with --strict-blanks."""
    values = _zero_fill()
    path = tmp_path / report_name()
    path.write_text(blanks_for_zeros(values), encoding="utf-8")
    zeros = sum(1 for v in values.values() if v == 0)
    for flags in ((), ("--blank-as-zero",)):
        code, findings = _validate_on_the_command_line(path, *flags)
        assert code == 0 and [(f["rule"], f["severity"]) for f in findings] == [("D-BLANK-AS-ZERO", "warning")] * 3
        assert sum(len(f["cell_ids"]) for f in findings) == zeros
    code, findings = _validate_on_the_command_line(path, "--strict-blanks")
    assert code == 1 and [f["rule"] for f in findings] == ["V-BLANK"] * zeros


def test_a_fee_printed_to_the_fen_is_read_exactly():
    """收费 in 万元 with 6 decimals (5949.088667: to the fen), as real reports print it: read exactly,
    no V-PRECISION, and the page validates clean."""
    path = FIXTURES / "fee_six_decimals.html"
    rec = read_return(path)
    assert rec.values["t2_8.fees.amount"] == 5949088667 and rec.findings == []
    assert validate_one(path).report.findings == []


def test_table_four_without_group_headings_places_each_figure_once():
    """Five result headers and no 行政复议 / 行政诉讼 above them: which block? Not guessed."""
    rec = read_return(FIXTURES / "blanks_for_zeros.html", options=ReadOptions(unit_name="某乡"))
    t4 = [cid for cid in FMT.cells if cid.startswith("t4_") and cid in rec.positions]
    wheres = [rec.positions[cid].where for cid in t4]
    assert len(set(wheres)) == len(wheres), sorted(wheres)
    assert all(rec.values[c] is None for c in FMT.cells if c.startswith("t4_"))
    [missing] = [f for f in rec.findings if f.rule == "D-COLUMN-MISSING"]
    assert missing.severity == ERROR and missing.table == "表四" and len(missing.cell_ids) == 15


def test_typo_in_a_label_is_a_warning_and_the_figures_are_read(tmp_path):
    values = random_fill(26)
    tables = lay_out(values)
    find(tables["t3"], "2.其他法律行政法规禁止公开").text = "2.其他法律行政止公开"
    path = tmp_path / report_name()
    path.write_text(html_page(tables, path.stem), encoding="utf-8")
    v = validate_one(path)
    assert brief(v.report.findings) == [("D-LABEL-VARIANT", WARNING)]
    f = v.report.findings[0]
    assert f.table == "表三" and "其他法律行政止公开" in f.message
    assert_same_figures(v.records[0], values)


def test_table_four_total_printed_as_zero_is_an_error_at_that_total(tmp_path):
    """The real district case: 行政复议 维持 10, 纠正 1, 其他 0, 尚未审结 0, 总计 0."""
    values = random_fill(27)
    values |= {"t4_review.cases.upheld": 10, "t4_review.cases.corrected": 1, "t4_review.cases.other": 0}
    values |= {"t4_review.cases.pending": 0}
    values = recompute_totals(values, FMT)
    assert values["t4_review.cases.total"] == 11
    tables = lay_out(values)
    figure_box(tables["t4"], "t4_review.cases.total").text = "0"
    path = tmp_path / report_name()
    path.write_text(html_page(tables, path.stem), encoding="utf-8")
    v = validate_one(path)
    [f] = v.report.findings
    assert (f.rule, f.severity, f.table) == ("T4-R6", ERROR, "表四")
    assert "t4_review.cases.total" in f.cell_ids
    assert f.location == "第 3 个表格第 4 行第 5 列"  # three header rows, then the figures
    assert v.records[0].values["t4_review.cases.total"] == 0


def test_two_years_of_published_pages_carry_over_checked(tmp_path):
    prev, cur, _last, this = two_years(tmp_path, "research")
    v = validate_paths([cur], previous=[prev])
    assert sorted((f.rule, f.severity, f.check) for f in v.report.findings) == [
        ("T3-R5", ERROR, "T3-R5.research"),
        ("T3-R5", ERROR, "T3-R5.total"),
    ]
    f = next(f for f in v.report.findings if f.check == "T3-R5.research")
    assert "t3.carried_in.research" in f.cell_ids and f.table == "表三"
    assert v.records[0].values["t3.carried_in.research"] == this["t3.carried_in.research"]


def test_two_years_of_published_pages_that_agree_pass(tmp_path):
    prev, cur, *_ = two_years(tmp_path, "")
    v = validate_paths([cur], previous=[prev])
    assert v.report.findings == []


def test_hand_made_single_sheet_workbook_validates_like_a_template(tmp_path):
    """All three tables on one sheet, one under another from B3, labels as a person types them."""
    values = random_fill(41)
    typed = {
        "1.属于国家秘密": "1、属于国家秘密",
        "商业企业": "商业\n企业",
        "法律服务机构": "法律服务\n机构",
        "本年制发件数": "本年制发件数 ",
        "（七）总计": "(七)总计",
        "三、本年度办理结果": "三、本年度\n办理结果",
    }
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws["B1"] = f"{UNIT.name}{YEAR}年政府信息公开工作年度报告统计表"
    row0 = 3
    for t in FMT.tables:
        ws.cell(row0, 2, t.title)
        ws.merge_cells(start_row=row0, start_column=2, end_row=row0, end_column=2 + t.title_span.last_col)
        row0 += 1
        boxes = lay_out(values)[t.key]
        for b in boxes:
            r, c = row0 + b.row, 2 + b.col
            text = typed.get(b.text, b.text) if b.header else b.text
            ws.cell(r, c, text if b.header else Decimal(text) if "." in text else int(text))
            if b.rowspan > 1 or b.colspan > 1:
                ws.merge_cells(start_row=r, start_column=c, end_row=r + b.rowspan - 1, end_column=c + b.colspan - 1)
        row0 += max(b.row + b.rowspan for b in boxes) + 2
    path = tmp_path / "汇总" / f"{UNIT.name}{YEAR}年统计表.xlsx"
    path.parent.mkdir()
    wb.save(path)
    v = validate_paths([path.parent])
    assert [f for f in v.report.findings if f.severity == ERROR] == []
    assert v.report.findings == []
    rec = v.records[0]
    assert rec.source == "workbook" and (rec.identity.unit_name, rec.identity.year) == (UNIT.name, YEAR)
    assert_same_figures(rec, values)
    c = FMT.cells["t3.new.natural"]
    top = FMT.table("t3").title_span.last_row + 1
    assert rec.positions[c.id].sheet == "Sheet1"
    t3_start = 3 + 1 + max(b.row + b.rowspan for b in lay_out(values)["t2"]) + 2 + 1
    assert rec.positions[c.id].ref == f"{get_column_letter(2 + c.col)}{t3_start + c.row - top}"


def test_roster_matches_a_document_by_name_or_a_listed_alias(tmp_path):
    values = random_fill(42)
    folder = tmp_path / "报回"
    write_html(folder / report_name("汤旺县乌伊岭镇"), values, title=f"汤旺县乌伊岭镇{YEAR}年政府信息公开工作年度报告")
    write_html(folder / report_name("汤旺河镇人民政府"), random_fill(43))  # 人民政府: the town's own organ
    roster = [dataclasses.replace(UNIT, aliases=("汤旺县乌伊岭镇",)), UNITS[1]]
    v = validate_paths([folder], roster=roster)
    assert v.report.findings == []
    by_code = {r.identity.unit_code: r for r in v.records}
    assert set(by_code) == {"230723101", "230723102"}
    assert by_code["230723101"].identity.unit_name == "乌伊岭镇"
    assert by_code["230723101"].identity.unit_level == "乡镇"
    assert_same_figures(by_code["230723101"], values)


def test_roster_without_the_unit_is_an_error(tmp_path):
    """The same document against a roster that does not name it: not silently passed."""
    path = write_html(tmp_path / report_name("汤旺县乌伊岭镇"), random_fill(44))
    v = validate_paths([path], roster=[UNITS[1]])
    rules = sorted(f.rule for f in v.report.findings)
    assert "R-UNKNOWN" in rules and "R-MISSING" in rules and not v.valid


def test_a_name_with_a_parent_area_is_not_the_unit_without_an_alias(tmp_path):
    """汤旺县乌伊岭镇 is not taken for the roster's 乌伊岭镇: R-UNKNOWN names both and the two fixes."""
    path = write_html(tmp_path / report_name("汤旺县乌伊岭镇"), random_fill(45))
    v = validate_paths([path], roster=[UNIT, UNITS[1]])
    assert v.records[0].identity.unit_code == ""
    (unknown,) = [f for f in v.report.findings if f.rule == "R-UNKNOWN"]
    assert unknown.severity == "error" and unknown.unit_name == "汤旺县乌伊岭镇"
    assert "“汤旺县乌伊岭镇”" in unknown.message and "“乌伊岭镇”（230723101）" in unknown.message
    assert "别名（aliases）列写上“汤旺县乌伊岭镇”" in unknown.message
    assert "--unit-code 230723101" in unknown.message
    assert {f.rule for f in v.report.findings} == {"R-UNKNOWN", "R-MISSING"}


# --------------------------------------------------------------------------- hostile documents, on the command line


def _raw_docx(document_xml: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'wordprocessingml.document.main+xml"/></Types>',
        )
        z.writestr("word/document.xml", document_xml)
    return out.getvalue()


def entity_bomb(path: Path) -> None:
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    path.write_text(
        f'<!DOCTYPE html [<!ENTITY l0 "lol">{lol}]><html><body><table><tr><td>&l9;</td></tr></table></body></html>',
        encoding="utf-8",
    )


def page_50mb(path: Path) -> None:
    row = b"<tr><td>1</td><td>2</td></tr>"
    with path.open("wb") as fh:
        fh.write(b"<html><body><table>")
        fh.write(row * (50 * 1024 * 1024 // len(row)))
        fh.write(b"</table></body></html>")


def nested_tags(path: Path) -> None:
    path.write_text("<html><body>" + "<div>" * 100_000 + "x" + "</div>" * 100_000 + "</body></html>", encoding="utf-8")


def docx_zip_bomb(path: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"<w:document>" + b" " * (200 * 1024 * 1024) + b"</w:document>")
    path.write_bytes(out.getvalue())


def docx_external_entity(path: Path) -> None:
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    path.write_bytes(
        _raw_docx(
            '<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            f'<w:document xmlns:w="{w}"><w:body><w:p><w:r><w:t>&xxe;</w:t></w:r></w:p></w:body></w:document>'
        )
    )


HOSTILE = {
    "entity_bomb.html": (entity_bomb, "F-XML-ENTITY"),
    "page_50mb.html": (page_50mb, "F-TOO-LARGE"),
    "nested_100000.html": (nested_tags, "F-TOO-LARGE"),
    "zip_bomb.docx": (docx_zip_bomb, "F-BOMB"),
    "external_entity.docx": (docx_external_entity, "F-XML-ENTITY"),
}


@pytest.fixture(scope="module")
def hostile_batch(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile") / "报回"
    folder.mkdir()
    for name, (build, _code) in HOSTILE.items():
        build(folder / name)
    write_html(folder / report_name(UNITS[0].name), random_fill(51))
    (folder / report_name(UNITS[1].name, suffix=".docx")).write_bytes(
        docx_report(lay_out(random_fill(52)), report_name(UNITS[1].name, suffix=""))
    )
    return folder


@pytest.mark.slow
def test_hostile_documents_in_a_batch_on_the_command_line(hostile_batch):
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "xltool", "validate", str(hostile_batch), "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    wall = time.perf_counter() - start
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr == ""
    report = json.loads(proc.stdout)
    by_file: dict[str, list[dict]] = {}
    for f in report["findings"]:
        by_file.setdefault(Path(f["file"]).name, []).append(f)
    for name, (_build, code) in HOSTILE.items():
        [f] = by_file.pop(name)
        assert (f["rule"], f["severity"]) == (code, "error"), name
        assert name in f["message"]
    assert by_file == {}  # the good returns have no finding at all
    status = {Path(w["file"]).name: w["status"] for w in report["workbooks"]}
    assert status == {name: "errors" for name in HOSTILE} | {
        report_name(UNITS[0].name): "passed",
        report_name(UNITS[1].name, suffix=".docx"): "passed",
    }
    assert wall < 10, f"{wall:.1f} s"
