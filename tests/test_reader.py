"""Reading returned workbooks: templates filled the way townships fill them, through real readers."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from helpers.libreoffice import convert
from helpers.returns import make_return
from helpers.returns import type_values as fill  # by cell id; openpyxl saves formulas without their results

from xltool.definition import get_format
from xltool.errors import UsageError
from xltool.findings import ERROR, WARNING
from xltool.model import IDENT_SHEET, Unit
from xltool.read import workbook as reader
from xltool.read.discover import discover
from xltool.read.dispatch import read_return
from xltool.totals import recompute_totals
from xltool.write.template import write_template

FMT = get_format()
UNIT = Unit("230723101", "乌伊岭镇", "乡镇")
YEAR = 2024
T2, T3, T4 = (FMT.sheet_of(k) for k in ("t2", "t3", "t4"))


@pytest.fixture(scope="module")
def template_file(tmp_path_factory) -> Path:
    return write_template(FMT, UNIT, YEAR, tmp_path_factory.mktemp("tpl") / "template.xlsx")


@pytest.fixture
def blank(template_file, tmp_path) -> Path:
    """A fresh copy of the unit's template, under a name the township chose."""
    return Path(shutil.copy(template_file, tmp_path / "乌伊岭镇2024年报表（终稿）.xlsx"))


def edit(path: Path, change) -> Path:
    wb = openpyxl.load_workbook(path)
    change(wb)
    wb.save(path)
    return path


def set_ident(key: str, value: object):
    def change(wb):
        ws = wb[IDENT_SHEET]
        for row in ws.iter_rows():
            if row[0].value == key:
                row[1].value = value

    return change


def findings(rec) -> list[tuple[str, str, str, tuple[str, ...]]]:
    return [(f.rule, f.severity, f.sheet, f.cells) for f in rec.findings]


def codes(rec) -> list[str]:
    return [f.rule for f in rec.findings]


# --------------------------------------------------------------------------- a good return


def test_template_reads_back_as_zeros_without_findings(blank):
    rec = read_return(blank)
    assert rec.findings == []
    assert rec.readable
    assert rec.identity.unit == UNIT and rec.identity.year == YEAR and rec.identity.kind == "template"
    assert rec.format is FMT
    assert rec.values == dict.fromkeys(FMT.cells, 0)
    assert rec.formula_lost == set()
    assert rec.sheet_titles == {"cover": FMT.cover.sheet, "t2": T2, "t3": T3, "t4": T4}
    assert rec.cover["unit_name"] == "乌伊岭镇" and rec.cover["unit_code"] == "230723101"
    assert rec.cover["year"] == "2024"
    data = blank.read_bytes()
    assert rec.size == len(data) and rec.sha256 == hashlib.sha256(data).hexdigest()
    assert rec.file == str(blank)


def test_recognised_by_identification_not_by_file_name(blank, tmp_path):
    other = Path(shutil.copy(blank, tmp_path / "新建 Microsoft Excel 工作表 (2).xlsx"))
    rec = read_return(other, file="returns/other.xlsx")
    assert rec.readable and rec.identity.unit == UNIT
    assert rec.file == "returns/other.xlsx"


def test_filled_numbers_and_totals_recomputed_when_the_file_has_no_cached_results(blank):
    typed = {
        "t2_1.normative.issued": 4,
        "t2_6.penalty.decisions": 12,
        "t2_8.fees.amount": 12.3456,
        "t3.new.natural": 5,
        "t3.new.business": 2,
        "t3.disclosed.natural": 3,
        "t3.withheld_secret.business": 1,
        "t3.carried_out.natural": 2,
        "t4_review.cases.upheld": 1,
        "t4_after.cases.pending": 2,
    }
    rec = read_return(fill(blank, typed))
    assert rec.findings == [] and rec.readable
    v = rec.values
    assert v["t2_1.normative.issued"] == 4 and v["t2_8.fees.amount"] == 12345600
    # openpyxl keeps the formulas but not their results: totals come from the parts
    assert v["t3.new.total"] == 7
    assert v["t3.total.natural"] == 3 and v["t3.total.business"] == 1 and v["t3.total.total"] == 4
    assert v["t4_review.cases.total"] == 1 and v["t4_after.cases.total"] == 2
    assert rec.formula_lost == set()


def test_cover_fields_read_as_text(blank):
    def change(wb):
        ws = wb[FMT.cover.sheet]
        fields = {f.key: f.value_span.top_left for f in FMT.cover.fields}
        ws[fields["filled_by"]] = "  张三\n"
        ws[fields["phone"]] = 13800000000
        ws[fields["date"]] = "2025-01-20"

    rec = read_return(edit(blank, change))
    assert rec.cover["filled_by"] == "张三"
    assert rec.cover["phone"] == "13800000000"
    assert rec.cover["date"] == "2025-01-20"
    assert rec.findings == []


# --------------------------------------------------------------------------- values as typed

BAD = [
    # cell id, typed, rule, severity, value read
    ("t3.new.natural", "/", "V-PLACEHOLDER", ERROR, None),
    ("t3.new.business", "—", "V-PLACEHOLDER", ERROR, None),
    ("t3.carried_in.natural", "无", "V-PLACEHOLDER", ERROR, None),
    ("t3.disclosed.natural", None, "V-BLANK", ERROR, None),
    ("t3.partial.legal", " ", "V-BLANK", ERROR, None),
    ("t2_6.penalty.decisions", "O", "V-LETTER-O", WARNING, 0),
    ("t2_1.rules.issued", "３", "V-FULLWIDTH", WARNING, 3),
    ("t2_5.licensing.decisions", " 12 ", "V-TEXT-NUMBER", WARNING, 12),
    ("t2_1.normative.valid", "1,234", "V-THOUSANDS", WARNING, 1234),
    ("t3.declined_repeat.other", "3件", "V-TEXT", ERROR, None),
    ("t3.new.research", 2.5, "V-DECIMAL", ERROR, None),
    ("t4_direct.cases.corrected", -1, "V-NEGATIVE", ERROR, None),
    ("t2_8.fees.amount", 1.2345678, "V-PRECISION", ERROR, None),
    ("t2_8.fees.amount", "5万元", "V-TEXT", ERROR, None),
    ("t3.new.other", "#REF!", "V-EXCEL-ERROR", ERROR, None),
    ("t3.new.legal", "#DIV/0!", "V-EXCEL-ERROR", ERROR, None),
    ("t3.other_other.natural", "=1+2", "V-FORMULA", ERROR, None),  # no cached result: openpyxl
    ("t3.new.nonprofit", True, "V-TYPE", ERROR, None),
    ("t4_review.cases.other", dt.datetime(2024, 3, 1), "V-TYPE", ERROR, None),
]


@pytest.mark.parametrize(("cid", "typed", "rule", "severity", "value"), BAD, ids=[f"{b[0]}={b[1]!r}" for b in BAD])
def test_a_badly_typed_value_is_reported_at_its_cell(blank, cid, typed, rule, severity, value):
    rec = read_return(fill(blank, {cid: typed}))
    cell = FMT.cells[cid]
    assert findings(rec) == [(rule, severity, cell.sheet, (cell.address,))]
    f = rec.findings[0]
    assert (f.row_label, f.col_label) == (cell.row_label, cell.col_label)
    assert (f.unit_code, f.unit_name, f.file) == (UNIT.code, UNIT.name, str(blank))
    assert f.message.startswith(f"{cell.sheet.split()[0]} {cell.address}：")
    assert rec.values[cid] == value
    assert rec.readable  # a bad value is a value finding, not a layout problem


def test_totals_over_an_unusable_part_are_unusable_but_not_reported_twice(blank):
    rec = read_return(fill(blank, {"t3.new.natural": "/", "t3.new.business": 4}))
    assert codes(rec) == ["V-PLACEHOLDER"]
    assert rec.values["t3.new.natural"] is None
    assert rec.values["t3.new.total"] is None  # recomputed from a part that is None
    assert rec.values["t3.carried_in.total"] == 0


# --------------------------------------------------------------------------- totals typed over


def test_total_overwritten_by_a_number_keeps_the_shown_number(blank):
    rec = read_return(fill(blank, {"t3.new.natural": 1, "t3.new.total": 99}))
    assert rec.findings == []  # T3-R3 reports the difference, not the reader
    assert rec.values["t3.new.total"] == 99
    assert rec.formula_lost == {"t3.new.total"}


def test_total_cleared_is_blank_and_its_formula_lost(blank):
    rec = read_return(fill(blank, {"t4_review.cases.total": None}))
    cell = FMT.cells["t4_review.cases.total"]
    assert findings(rec) == [("V-BLANK", ERROR, T4, (cell.address,))]
    assert "合计公式，已被删除或改写" in rec.findings[0].message
    assert rec.values["t4_review.cases.total"] is None
    assert rec.formula_lost == {"t4_review.cases.total"}


def test_total_overwritten_by_a_placeholder(blank):
    rec = read_return(fill(blank, {"t3.carried_out.total": "/"}))
    assert findings(rec) == [("V-PLACEHOLDER", ERROR, T3, (FMT.cells["t3.carried_out.total"].address,))]
    assert rec.formula_lost == {"t3.carried_out.total"}


def test_cached_totals_are_taken_as_shown(tmp_path):
    """A file written with cached results (as Excel saves it): totals are read, not recomputed."""
    path = make_return(tmp_path / "cached.xlsx", UNIT, {"t3.new.natural": 6}, year=YEAR)
    rec = read_return(path)
    assert rec.findings == [] and rec.values["t3.new.total"] == 6 and rec.formula_lost == set()


# --------------------------------------------------------------------------- identification


@pytest.mark.parametrize(
    ("key", "value", "rule", "says"),
    [
        # a known format whose layout is not this workbook's: the fingerprint tells
        ("format_id", "gov-info-disclosure-2019", "F-FORMAT", "另一版本"),
        ("format_id", "some-other-format", "F-FORMAT", "未知的报表格式"),
        ("fingerprint", "0123456789abcdef", "F-FORMAT", "另一版本"),
        ("template_id", "someone/else", "F-IDENT", "不是本工具"),
        ("unit_code", None, "F-IDENT", "unit_code"),
        ("year", "二〇二四", "F-IDENT", "year"),
        ("kind", "draft", "F-IDENT", "kind"),
    ],
)
def test_edited_identification(blank, key, value, rule, says):
    rec = read_return(edit(blank, set_ident(key, value)))
    assert findings(rec) == [(rule, ERROR, "", ())]
    assert says in rec.findings[0].message and blank.name in rec.findings[0].message
    assert not rec.readable
    assert all(v is None for v in rec.values.values())


def test_a_template_stripped_of_its_identification_is_read_by_its_labels(blank):
    """No hidden identification: a workbook like any other, whose tables are found by their labels;
    the unit and year are read off the cover, beside its labels."""
    rec = read_return(edit(blank, lambda wb: wb.remove(wb[IDENT_SHEET])))
    assert rec.source == "workbook" and rec.format is get_format()
    assert (rec.identity.unit_name, rec.identity.year, rec.identity.unit_code) == ("乌伊岭镇", 2024, "230723101")
    assert all(rec.values[c.id] == 0 for c in get_format().input_cells)
    # openpyxl saved the totals' formulas without results: a formula cell is the sum of its parts,
    # as on the template path, not a blank
    assert rec.findings == []
    assert all(rec.values[c.id] == 0 for c in get_format().total_cells)


def test_a_2019_format_workbook_is_recognised(tmp_path):
    path = tmp_path / "2023年报.xlsx"
    with xlsxwriter.Workbook(str(path)) as wb:
        ws = wb.add_worksheet("Sheet1")
        ws.write_row(0, 0, ["第二十条第（一）项"])
        ws.write_row(1, 0, ["信息内容", "本年新\n制作数量", "本年新\n公开数量", "对外公开总数量"])
        ws.write_row(2, 0, ["规章", 0, 0, 0])
    rec = read_return(path)
    assert rec.format.id == "gov-info-disclosure-2019"  # read with the 2019 definition
    assert "D-TABLE-MISSING" in codes(rec)
    assert rec.values["t2_1.rules.made"] == 0


def test_an_unrelated_workbook_is_not_a_template(tmp_path):
    path = tmp_path / "统计.xlsx"
    with xlsxwriter.Workbook(str(path)) as wb:
        wb.add_worksheet().write(0, 0, "三、收到和处理政府信息公开申请情况")
    assert codes(read_return(path)) == ["F-NOT-TEMPLATE"]


# --------------------------------------------------------------------------- layout


def test_deleted_sheet(blank):
    rec = read_return(edit(blank, lambda wb: wb.remove(wb[T4])))
    assert findings(rec) == [("L-SHEET-MISSING", ERROR, "", ())]
    assert T4 in rec.findings[0].message
    assert not rec.readable and all(v is None for v in rec.values.values())


def test_renamed_sheet_is_found_by_its_title(blank):
    def change(wb):
        wb[T3].title = "Sheet3"
        wb[T2]["B3"] = "本年(2023)制发件数"

    rec = read_return(edit(blank, change))
    # all layout problems at once, so that one round of corrections is enough
    assert findings(rec) == [("L-SHEET-MISSING", ERROR, "Sheet3", ("A1",)), ("L-LABEL", ERROR, T2, ("B3",))]
    assert "被改名为“Sheet3”" in rec.findings[0].message
    assert rec.sheet_titles["t3"] == "Sheet3" and not rec.readable


def test_missing_cover_is_a_warning(blank):
    rec = read_return(edit(blank, lambda wb: wb.remove(wb[FMT.cover.sheet])))
    assert findings(rec) == [("L-SHEET-MISSING", WARNING, "", ())]
    assert rec.readable and rec.cover == {} and "cover" not in rec.sheet_titles


def test_hidden_sheet_is_a_warning(blank):
    def change(wb):
        wb[T2].sheet_state = "hidden"

    rec = read_return(edit(blank, change))
    assert findings(rec) == [("L-SHEET-HIDDEN", WARNING, T2, ("A1",))]
    assert rec.readable and rec.values["t3.new.total"] == 0


def test_changed_label_is_an_error_at_its_cell(blank):
    col = next(line for line in FMT.grid("t2_1").columns if line.key == "issued")

    def change(wb):
        wb[T2][col.span.top_left] = "本年(2023)制发件数"

    rec = read_return(edit(blank, change))
    assert findings(rec) == [("L-LABEL", ERROR, T2, (col.span.top_left,))]
    assert "本年制发件数" in rec.findings[0].message and "本年(2023)制发件数" in rec.findings[0].message
    assert not rec.readable and rec.values["t2_1.rules.issued"] is None


def test_label_edits_that_change_nothing_are_accepted(blank):
    """Line breaks, spaces and full-width/half-width brackets and quotes in a label are not changes."""
    t3 = FMT.grid("t3")
    safety = next(r for r in t3.rows if r.key == "withheld_safety")
    partial = next(r for r in t3.rows if r.key == "partial")

    def change(wb):
        wb[T2]["A2"] = "第二十条第(一)项"
        wb[T3][safety.span.top_left] = '3.危及"三安全一稳定"'
        wb[T3][partial.span.top_left] = "（二）部分公开\n（区分处理的，只计这一情形，不计其他情形）"
        wb[T3]["D2"] = " 申请人 情况 "

    rec = read_return(edit(blank, change))
    assert rec.findings == [] and rec.readable


def test_inserted_row_says_where_the_label_went(blank):
    rec = read_return(edit(blank, lambda wb: wb[T3].insert_rows(10)))
    assert rec.findings and set(codes(rec)) == {"L-LABEL"}
    first = rec.findings[0]
    assert first.sheet == T3 and "可能插入或删除了行列" in first.message
    assert not rec.readable


def test_far_away_cells_do_not_slow_reading(blank):
    def change(wb):
        wb[T3]["A1048576"] = "x"

    rec = read_return(edit(blank, change))
    assert rec.findings == [] and rec.readable


# --------------------------------------------------------------------------- bad files


def test_text_file_named_xlsx(tmp_path):
    path = tmp_path / "表.xlsx"
    path.write_text("单位,数量\n乌伊岭镇,0\n", encoding="utf-8")
    rec = read_return(path)
    assert codes(rec) == ["F-NOT-WORKBOOK"] and not rec.readable
    assert "表.xlsx" in rec.findings[0].message


@pytest.mark.parametrize(
    ("content", "rule"),
    [
        (b"", "F-EMPTY"),
        (b"PK\x03\x04" + b"\x00" * 100, "F-CORRUPT"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512 + "EncryptedPackage".encode("utf-16-le"), "F-ENCRYPTED"),
    ],
)
def test_broken_files_become_findings(tmp_path, content, rule):
    path = tmp_path / "x.xlsx"
    path.write_bytes(content)
    rec = read_return(path)
    assert codes(rec) == [rule] and not rec.readable and rec.values == {}


def test_truncated_workbook(blank):
    data = blank.read_bytes()
    blank.write_bytes(data[: len(data) // 2])
    rec = read_return(blank)
    assert len(rec.findings) == 1 and rec.findings[0].rule.startswith("F-") and not rec.readable


def test_an_unexpected_failure_is_a_finding_not_a_traceback(blank, monkeypatch):
    def boom(*args):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(reader, "_check_labels", boom)
    rec = read_return(blank)
    assert findings(rec) == [("F-UNREADABLE", ERROR, "", ())]
    f = rec.findings[0]  # the library's words kept for a developer, out of the clerk's Chinese message
    assert f.detail == "RuntimeError: boom" and "boom" not in f.message and "second line" not in f.detail
    assert rec.identity is not None and not rec.readable
    assert rec.values == dict.fromkeys(FMT.cells)


# --------------------------------------------------------------------------- discover


def test_discover_walks_folders_in_order_and_skips_what_is_not_a_return(tmp_path):
    root = tmp_path / "returns"
    (root / "乡镇").mkdir(parents=True)
    (root / ".git").mkdir()
    for name in [
        "b.xlsx",
        "A.XLSX",
        "乡镇/c.ods",
        "乡镇/d.xls",
        "乡镇/e.xlsm",
        "~$b.xlsx",
        ".hidden.xlsx",
        ".git/x.xlsx",
        "说明.txt",
        "f.pdf",
    ]:
        (root / name).write_bytes(b"")
    files, found = discover([root, root / "b.xlsx"])
    assert [p.relative_to(root).as_posix() for p in files] == [  # a PDF is read; a folder's .txt is a note
        "A.XLSX",
        "b.xlsx",
        "f.pdf",
        "乡镇/c.ods",
        "乡镇/d.xls",
        "乡镇/e.xlsm",
    ]
    assert [(f.rule, f.file) for f in found] == [("F-NOTE", str(root / "说明.txt"))]  # accounted for, not read


def test_discover_named_files(tmp_path):
    for name in ["a.xlsx", "~$a.xlsx", "报告.docx", "报表.et"]:
        (tmp_path / name).write_bytes(b"")
    files, found = discover(
        [tmp_path / "~$a.xlsx", tmp_path / "a.xlsx", tmp_path / "报告.docx", str(tmp_path / "报表.et")]
    )
    # a Word report is read too; a WPS table is converted by LibreOffice (or F-UNSUPPORTED when reading it)
    assert files == [tmp_path / "a.xlsx", tmp_path / "报告.docx", tmp_path / "报表.et"]
    assert found == []


def test_discover_missing_path(tmp_path):
    with pytest.raises(UsageError, match="路径不存在"):
        discover([tmp_path / "nope"])


# --------------------------------------------------------------------------- LibreOffice


FILLED_TYPED = {
    "t2_6.penalty.decisions": 3,
    "t2_8.fees.amount": 0.5,
    "t3.new.natural": 5,
    "t3.disclosed.natural": 4,
    "t3.carried_out.natural": 1,
    "t3.new.business": "/",
    "t3.partial.legal": None,
    "t4_review.cases.upheld": 2,
}
FORMULA_TYPED = {"t3.new.natural": 2, "t4_review.cases.total": 7, "t3.carried_out.legal": "=1/0"}


@pytest.fixture(scope="module")
def saved_by_libreoffice(template_file, tmp_path_factory, libreoffice_recalc_all, libreoffice_profile):
    """``saved(target) -> (src, converted)``: the template filled with FILLED_TYPED ("xlsx", "ods",
    "xls") or FORMULA_TYPED ("formula", saved as .xlsx), as LibreOffice saves it. Both .xlsx go through
    one soffice call with conftest's recalculating profile; .ods and .xls take a call each, made only
    when a test asks."""
    tmp = tmp_path_factory.mktemp("reader-lo")
    name = "乌伊岭镇2024年报表（终稿）.xlsx"  # the name the township chose (``blank``)
    srcs = {}
    for key, typed, saved_as in (("filled", FILLED_TYPED, "filled.xlsx"), ("formula", FORMULA_TYPED, "typed.xlsx")):
        (tmp / key).mkdir()
        srcs[key] = fill(Path(shutil.copy(template_file, tmp / key / name)), typed, save_as=tmp / key / saved_as)
    done: dict[str, tuple[Path, Path]] = {}

    def saved(target: str) -> tuple[Path, Path]:
        if target not in done:
            if target in ("xlsx", "formula"):
                filled, formula = libreoffice_recalc_all([srcs["filled"], srcs["formula"]], tmp / "lo")
                done["xlsx"], done["formula"] = (srcs["filled"], filled), (srcs["formula"], formula)
            else:
                (out,) = convert(libreoffice_profile, target, tmp / target, [srcs["filled"]])
                done[target] = (srcs["filled"], out)
        return done[target]

    return saved


@pytest.mark.libreoffice
@pytest.mark.parametrize(  # .ods and .xls each take a LibreOffice start of their own: slow
    "target", ["xlsx", pytest.param("ods", marks=pytest.mark.slow), pytest.param("xls", marks=pytest.mark.slow)]
)
def test_a_file_saved_by_libreoffice_reads_the_same(target, saved_by_libreoffice):
    src, converted = saved_by_libreoffice(target)
    expected = read_return(src)
    rec = read_return(converted)
    assert rec.readable and rec.identity == expected.identity
    inputs = {c.id for c in FMT.input_cells}
    assert {k: v for k, v in rec.values.items() if k in inputs} == {
        k: v for k, v in expected.values.items() if k in inputs
    }
    # LibreOffice calculated and saved the totals, SUM skipping the "/" and the blank: those are
    # read as shown; the openpyxl-saved source has no results, so a total over them is unusable
    assert expected.values["t3.new.total"] is None and expected.values["t3.total.total"] is None
    summed = recompute_totals({k: v or 0 for k, v in expected.values.items()}, FMT)
    assert {c.id: rec.values[c.id] for c in FMT.total_cells} == {c.id: summed[c.id] for c in FMT.total_cells}
    assert rec.values["t3.new.total"] == 5 and rec.values["t3.total.natural"] == 4
    assert rec.values["t2_8.fees.amount"] == 500000
    assert (
        findings(rec)
        == findings(expected)
        == [
            ("V-PLACEHOLDER", ERROR, T3, ("E5",)),
            ("V-BLANK", ERROR, T3, ("H8",)),
        ]
    )
    assert rec.cover == expected.cover


@pytest.mark.libreoffice
def test_libreoffice_saved_results_are_read_and_formula_loss_is_seen(saved_by_libreoffice):
    _src, saved = saved_by_libreoffice("formula")
    rec = read_return(saved)
    # the formula typed into an input cell now has a saved result: the error value
    # and its row total shows the error too: unusable, but reported once, at its cause
    assert findings(rec) == [("V-EXCEL-ERROR", ERROR, T3, (FMT.cells["t3.carried_out.legal"].address,))]
    assert "=1/0" in rec.findings[0].message and "#DIV/0!" in rec.findings[0].message
    assert rec.values["t3.carried_out.total"] is None
    assert rec.values["t3.new.total"] == 2  # LibreOffice calculated and saved the result
    assert rec.values["t4_review.cases.total"] == 7 and rec.formula_lost == {"t4_review.cases.total"}
