"""The locator against documents laid out from the format's own definition, then bent the way real
published reports bend it: one test per quirk, named after it."""

from __future__ import annotations

import dataclasses
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xltool.definition import AMOUNT, Format, a1, builtin_formats, get_format
from xltool.findings import Finding
from xltool.model import ReturnRecord
from xltool.read.document import DocCell, DocTable, Document
from xltool.read.from_document import fill_from_document
from xltool.read.locate import SIMILARITY, choose_format, locate
from xltool.text import normalize_label
from xltool.values import parse_value

F2021 = get_format("gov-info-disclosure-2021")
F2019 = get_format("gov-info-disclosure-2019")


# --------------------------------------------------------------------------- laying out a format


@dataclass
class C:
    """A mutable cell while a test bends a table; becomes a DocCell at the end."""

    row: int
    col: int
    text: str
    rowspan: int = 1
    colspan: int = 1


def lay_table(fmt: Format, key: str, figures: dict[str, str], title: bool = True, checks: bool = False) -> list[C]:
    """One table exactly as the template draws it: labels at their spans, figures at the cells (and,
    with ``checks``, the template's check rows showing 正确)."""
    t = fmt.table(key)
    out: list[C] = []

    def put(span, text):
        out.append(
            C(
                span.first_row,
                span.first_col,
                text,
                span.last_row - span.first_row + 1,
                span.last_col - span.first_col + 1,
            )
        )

    if title:
        put(t.title_span, t.title)
    for span, text in t.printed_labels.items():
        put(span, text)
    for c in fmt.cells.values():
        if c.table == key:
            put(c.span, figures.get(c.id, "0"))
    for inst in fmt.instances if checks else ():
        if inst.check_span is not None and fmt.cells[inst.cells[0]].table == key:
            put(inst.check_span, "正确")
    for rule in fmt.rules if checks else ():
        if rule.check_label and fmt.grid(rule.grids[0]).table == key:
            put(rule.check_label.span, rule.check_label.text)
    return out


def doc_table(number: int, cells: list[C], sheet: str = "", at: tuple[int, int] = (0, 0)) -> DocTable:
    r0, c0 = at
    return DocTable(
        number,
        [
            DocCell(c.row + r0, c.col + c0, c.text, c.rowspan, c.colspan, a1(c.row + r0, c.col + c0) if sheet else "")
            for c in cells
        ],
        sheet=sheet,
    )


def lay_out(fmt: Format, figures: dict[str, str], **bent: list[C]) -> Document:
    """A web page: one DocTable per table (``bent`` replaces a table's cells)."""
    tables = [doc_table(i + 1, bent.get(t.key) or lay_table(fmt, t.key, figures)) for i, t in enumerate(fmt.tables)]
    return Document("report.html", "html", tables=tables)


def one_sheet(fmt: Format, figures: dict[str, str], at: tuple[int, int] = (0, 0), gap: int = 2) -> Document:
    """A workbook whose one sheet holds all three tables, one below the other, from ``at``."""
    cells: list[C] = []
    r = 0
    for t in fmt.tables:
        part = lay_table(fmt, t.key, figures)
        cells += [C(c.row + r, c.col, c.text, c.rowspan, c.colspan) for c in part]
        r = max(c.row + c.rowspan for c in cells) + gap
    return Document("统计表.xlsx", "workbook", tables=[doc_table(1, cells, sheet="Sheet1", at=at)])


def numbered(fmt: Format) -> dict[str, str]:
    """A distinct figure in every cell, so that any misplacement shows."""
    return {cid: str(i + 1) for i, cid in enumerate(fmt.cells)}


def texts(located) -> dict[str, str]:
    return {k: v.text for k, v in located.values.items()}


def codes(located) -> list[str]:
    return [f.rule for f in located.findings]


def rename(cells: list[C], old: str, new: str) -> list[C]:
    hits = [c for c in cells if c.text == old]
    assert hits, old
    for c in hits:
        c.text = new
    return cells


def row_of(cells: list[C], label: str) -> int:
    return next(c.row for c in cells if c.text == label)


def delete_row(cells: list[C], r: int) -> list[C]:
    """Remove printed row r as a clerk deletes it: spans over it shrink, rows below move up."""
    out = []
    for c in cells:
        if c.row == r and c.rowspan == 1:
            continue
        if c.row <= r < c.row + c.rowspan:
            c.rowspan -= 1
        elif c.row > r:
            c.row -= 1
        out.append(c)
    return out


def insert_row(cells: list[C], r: int, new: list[C]) -> list[C]:
    """Insert a printed row before row r; spans over it grow."""
    for c in cells:
        if c.row < r < c.row + c.rowspan:
            c.rowspan += 1
        elif c.row >= r:
            c.row += 1
    return cells + [C(r, c.col, c.text, 1, c.colspan) for c in new]


# --------------------------------------------------------------------------- the format as laid out


@pytest.mark.parametrize("fmt", [F2021, F2019], ids=lambda f: f.version)
def test_template_layout_reads_back_every_cell_and_recognises_the_format(fmt):
    figures = numbered(fmt)
    got = locate(lay_out(fmt, figures))
    assert got.format.id == fmt.id
    assert texts(got) == figures
    assert got.findings == []
    assert got.score == 1.0
    p = got.values["t3.new.natural"]
    assert (p.table, p.sheet, p.ref) == (2, "", "")
    assert p.where == f"第 2 个表格第 {p.row + 1} 行第 {p.col + 1} 列"


def _figure(kind: str):
    if kind == AMOUNT:
        return st.decimals(min_value=0, max_value=99999, places=4, allow_nan=False).map(lambda d: format(d, "f"))
    return st.integers(min_value=0, max_value=10**6).map(str)


@st.composite
def report(draw, fmt: Format):
    """Random figures in one of the ways a report arrives: one sheet at an offset, captioned tables,
    sheets in any order at offsets, or a web page."""
    figures = {cid: draw(_figure(c.kind)) for cid, c in fmt.cells.items()}
    if draw(st.booleans()):
        at = (draw(st.integers(0, 12)), draw(st.integers(0, 6)))
        return figures, one_sheet(fmt, figures, at=at, gap=draw(st.integers(0, 3)))
    if draw(st.booleans()):  # the title printed before the table, not in it
        tables = [
            DocTable(i + 1, doc_table(i + 1, lay_table(fmt, t.key, figures, title=False)).cells, caption=t.title)
            for i, t in enumerate(fmt.tables)
        ]
        return figures, Document("report.docx", "docx", tables=tables)
    if draw(st.booleans()):  # a workbook with one sheet per table, each anywhere on its sheet
        order = draw(st.permutations(list(fmt.tables)))
        sheets = [
            doc_table(
                i + 1,
                lay_table(fmt, t.key, figures),
                sheet=f"Sheet{i + 1}",
                at=(draw(st.integers(0, 9)), draw(st.integers(0, 5))),
            )
            for i, t in enumerate(order)
        ]
        return figures, Document("统计表.xlsx", "workbook", tables=sheets)
    return figures, lay_out(fmt, figures)


@pytest.mark.parametrize("fmt", [F2021, F2019], ids=lambda f: f.version)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_property_reads_back_exactly_the_figures_laid_out(fmt, data):
    figures, doc = data.draw(report(fmt))
    got = locate(doc)
    assert got.format.id == fmt.id
    assert texts(got) == figures
    assert got.findings == []


# --------------------------------------------------------------------------- quirks of printed labels


def _bend_labels(cells: list[C], bend) -> list[C]:
    for c in cells:
        if not re.fullmatch(r"[0-9.]*", c.text):
            c.text = bend(c.text)
    return cells


def test_labels_with_whitespace_line_breaks_and_full_width_brackets():
    def bend(text: str) -> str:
        mid = len(text) // 2
        text = text.replace("（", "(").replace("）", ")").replace("“", '"').replace("”", '"')
        return "\u00a0" + text[:mid] + "\n" + text[mid:] + " \u3000"

    figures = numbered(F2021)
    bent = {t.key: _bend_labels(lay_table(F2021, t.key, figures), bend) for t in F2021.tables}
    got = locate(lay_out(F2021, figures, **bent))
    assert got.format is F2021
    assert texts(got) == figures
    assert got.findings == []


def test_list_numbers_printed_with_dunhao():
    figures = numbered(F2021)
    t3 = _bend_labels(lay_table(F2021, "t3", figures), lambda s: re.sub(r"^(\d)\.", r"\1、", s))
    assert any(c.text.startswith("1、") for c in t3)
    got = locate(lay_out(F2021, figures, t3=t3))
    assert texts(got) == figures
    assert got.findings == []


def test_regulatory_documents_printed_without_the_administrative_prefix():
    figures = numbered(F2021)
    t2 = rename(lay_table(F2021, "t2", figures), "行政规范性文件", "规范性文件")
    got = locate(lay_out(F2021, figures, t2=t2))
    assert texts(got) == figures
    assert codes(got) == ["D-LABEL-VARIANT"]
    f = got.findings[0]
    assert f.severity == "warning" and f.table == "表二" and "规范性文件" in f.message and "行政规范性文件" in f.message


def test_the_locators_findings_are_findings_of_no_file_yet():
    """The locator knows the document, not the file or unit: its findings are ``Finding``s at the place
    printed, with file and unit blank until the reader stamps them (``Finding.of_record``)."""
    figures = numbered(F2021)
    t2 = rename(lay_table(F2021, "t2", figures), "行政规范性文件", "规范性文件")
    got = locate(lay_out(F2021, figures, t2=t2))
    [f] = got.findings
    assert isinstance(f, Finding)
    assert (f.file, f.unit_code, f.unit_name, f.rule, f.table) == ("", "", "", "D-LABEL-VARIANT", "表二")
    assert (f.sheet, f.cells, f.location) == ("", (), "第 1 个表格")
    assert f.message.endswith("（第 1 个表格第 5 行第 1 列）"), f.message
    bent = {"t2": t2}
    tables = [
        doc_table(i + 1, bent.get(t.key) or lay_table(F2021, t.key, figures), sheet=f"Sheet{i + 1}")
        for i, t in enumerate(F2021.tables)
    ]
    sheet = Document("统计表.xlsx", "workbook", tables=tables)
    [f] = locate(sheet).findings
    assert (f.file, f.sheet, f.location) == ("", "Sheet1", "工作表“Sheet1”")
    assert len(f.cells) == 1 and f.message.endswith(f"（工作表“Sheet1” {f.cells[0]}）")
    ref = f.cells[0]
    rec = ReturnRecord(Path("乌伊岭镇2024年政府信息公开工作年度报告.xlsx"), "收件箱/乌伊岭镇.xlsx")
    assert fill_from_document(rec, sheet, {F2021.id: F2021})
    [g] = rec.findings
    assert g == dataclasses.replace(f, file="收件箱/乌伊岭镇.xlsx", unit_name="乌伊岭镇") and g.cells == (ref,)


def test_year_inserted_in_a_header_label():
    figures = numbered(F2021)
    t2 = rename(lay_table(F2021, "t2", figures), "本年制发件数", "本年(2023)制发件数")
    t2 = rename(t2, "本年废止件数", "2023年废止件数")
    got = locate(lay_out(F2021, figures, t2=t2))
    assert texts(got) == figures
    assert got.findings == []


def test_typos_other_law_and_administrative_review_are_matched_with_a_warning():
    figures = numbered(F2021)
    t3 = rename(lay_table(F2021, "t3", figures), "2.其他法律行政法规禁止公开", "其他法律行政止公开")
    t4 = rename(lay_table(F2021, "t4", figures), "行政复议", "行政法复议")
    got = locate(lay_out(F2021, figures, t3=t3, t4=t4))
    assert texts(got) == figures
    assert sorted(codes(got)) == ["D-LABEL-VARIANT", "D-LABEL-VARIANT"]
    by_table = {f.table: f for f in got.findings}
    assert "其他法律行政止公开" in by_table["表三"].message
    assert "2.其他法律行政法规禁止公开" in by_table["表三"].message
    assert "行政法复议" in by_table["表四"].message and "“行政复议”" in by_table["表四"].message
    assert all(f.severity == "warning" for f in got.findings)


def test_similarity_threshold_is_documented_and_keeps_short_labels_apart():
    from difflib import SequenceMatcher

    def normalize(text: str) -> str:
        return normalize_label(text, loose=True)

    assert SIMILARITY == 0.8
    assert SequenceMatcher(None, normalize("其他"), normalize("其他结果")).ratio() < SIMILARITY
    assert normalize(" （一）\n予以公开：") == normalize("(一)予以公开")
    assert normalize("1、属于国家秘密") == normalize("1．属于国家秘密") == normalize("1.属于国家秘密")


def test_one_label_normaliser_strict_for_the_template_loose_for_the_locator():
    """``normalize_label`` is the one normaliser: by default what a clerk cannot see (whitespace,
    full-width forms) goes, as the template's labels and unit names are compared; ``loose`` also drops
    what differs between printings of a label, which the locator relies on."""
    strict, loose = normalize_label, lambda t: normalize_label(t, loose=True)
    assert strict(" （一）\n予以 公开：") == "(一)予以公开:"
    assert strict("“行政”〔2024〕") == '"行政"[2024]'
    assert strict("1、属于国家秘密") == "1、属于国家秘密"
    assert strict("本年(2023)制发件数") == "本年(2023)制发件数"
    assert loose(" （一）\n予以 公开：") == "(一)予以公开"
    assert loose("【一】“行政”〔复议〕") == "(一)行政(复议)"
    assert loose("1、属于国家秘密") == loose("1 ．属于国家秘密") == "1.属于国家秘密"
    assert loose("本年(2023)制发件数") == loose("2023年制发件数") == loose("2023年度制发件数") == "本年制发件数"
    assert loose("本年度新制发件数。") == "本年新制发件数"


# --------------------------------------------------------------------------- quirks of printed rows


def test_other_handling_printed_as_one_row():
    """（六）其他处理 as one row (the 2019 layout of 表三 inside a 2021 report): its figures go to 3.其他."""
    figures = numbered(F2021)
    one_row = numbered(F2019)
    t3 = lay_table(F2019, "t3", one_row)
    got = locate(lay_out(F2021, figures, t3=t3), F2021)
    for col in ("natural", "business", "total"):
        assert got.values[f"t3.other_other.{col}"].text == one_row[f"t3.other_handling.{col}"]
        assert got.values[f"t3.other_no_correction.{col}"].text == "0"
        assert got.values[f"t3.other_no_fee.{col}"].text == "0"
        assert got.values[f"t3.total.{col}"].text == one_row[f"t3.total.{col}"]
    assert codes(got) == ["D-T3-OTHER-ONE-ROW"]
    f = got.findings[0]
    assert f.severity == "warning" and f.table == "表三" and "（六）其他处理" in f.message and "3.其他" in f.message
    assert "t3.other_no_fee.total" in f.cell_ids


def test_a_group_without_a_catch_all_item_printed_as_one_row_is_not_guessed():
    """（三）不予公开 as one row: no item of it means “other”, so its 8 items are missing, its figures unplaced."""
    figures = numbered(F2021)
    t3 = lay_table(F2021, "t3", figures)
    first = row_of(t3, "1.属于国家秘密")
    for _ in range(7):
        t3 = delete_row(t3, first + 1)
    t3 = [c for c in t3 if c.text != "1.属于国家秘密"]
    group = next(c for c in t3 if c.text == "（三）不予公开")
    group.colspan = 2
    got = locate(lay_out(F2021, figures, t3=t3), F2021)
    assert sorted(set(codes(got))) == ["D-ROW-MISSING", "D-UNPLACED"]
    assert codes(got).count("D-ROW-MISSING") == 8


def test_other_without_its_number_is_found_by_its_path_not_taken_for_the_other_column():
    """“其他” printed for 3.其他 under （六）: the same text as the 其他 applicant column; the path decides."""
    figures = numbered(F2021)
    t3 = rename(lay_table(F2021, "t3", figures), "3.其他", "其他")
    got = locate(lay_out(F2021, figures, t3=t3))
    assert texts(got) == figures
    assert got.findings == []


def test_a_row_printed_twice_is_not_guessed():
    figures = numbered(F2021)
    t3 = lay_table(F2021, "t3", figures)
    r = row_of(t3, "2.重复申请")
    twin = [C(r, 2, "2.重复申请")] + [C(r, k, "9") for k in range(3, 10)]
    got = locate(lay_out(F2021, figures, t3=insert_row(t3, r, twin)))
    missing = [f for f in got.findings if f.rule == "D-ROW-MISSING"]
    assert len(missing) == 1 and "两处" in missing[0].message
    assert not any(k.startswith("t3.declined_repeat.") for k in got.values)


def test_long_row_labels_wrapped_with_figures_on_the_second_line():
    """PDF text: a long label over two lines, the figures beside the second line."""
    figures = numbered(F2021)
    t3 = lay_table(F2021, "t3", figures)
    for label in (
        "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
        "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
    ):
        r = row_of(t3, label)
        t3 = insert_row(t3, r, [C(r, 2, label[:14])])
        rename(t3, label, label[14:])
    got = locate(lay_out(F2021, figures, t3=t3))
    assert texts(got) == figures
    assert got.findings == []


def test_missing_row_is_an_error_and_its_cells_are_not_placed():
    figures = numbered(F2021)
    t3 = lay_table(F2021, "t3", figures)
    t3 = delete_row(t3, row_of(t3, "2.重复申请"))
    got = locate(lay_out(F2021, figures, t3=t3))
    assert codes(got) == ["D-ROW-MISSING"]
    f = got.findings[0]
    assert f.severity == "error" and "2.重复申请" in f.message and f.row_label == "2.重复申请"
    missing = {cid for cid in figures if cid.startswith("t3.declined_repeat.")}
    assert set(f.cell_ids) == missing
    assert texts(got) == {k: v for k, v in figures.items() if k not in missing}


def test_extra_row_is_a_warning_and_its_figures_are_unplaced():
    figures = numbered(F2021)
    t3 = lay_table(F2021, "t3", figures)
    r = row_of(t3, "1.本机关不掌握相关政府信息")  # after 8.属于行政查询事项, inside 三、本年度办理结果
    extra = [C(r, 2, "9.其他不予公开情形")] + [C(r, k, "7") for k in range(3, 10)]
    got = locate(lay_out(F2021, figures, t3=insert_row(t3, r, extra)))
    assert texts(got) == figures
    assert codes(got) == ["D-ROW-EXTRA", "D-UNPLACED"]
    assert "9.其他不予公开情形" in got.findings[0].message and got.findings[0].severity == "warning"
    assert got.findings[1].severity == "error"


def test_unplaced_figure_beside_the_table():
    figures = numbered(F2021)
    t4 = lay_table(F2021, "t4", figures) + [C(4, 15, "3")]
    got = locate(lay_out(F2021, figures, t4=t4))
    assert texts(got) == figures
    assert codes(got) == ["D-UNPLACED"]


def test_extra_column_is_a_warning_and_its_figures_one_unplaced_error():
    """A 小计 column for 法人或其他组织 (the format has none) inserted before 总计."""
    figures = numbered(F2021)
    t3 = lay_table(F2021, "t3", figures)
    for c in t3:
        if c.col >= 9:
            c.col += 1
        elif c.row == 1 and c.col == 3:  # 申请人情况 widens
            c.colspan += 1
    t3 += [C(2, 9, "小计", 2, 1)] + [C(r, 9, "5") for r in range(4, 29)]
    got = locate(lay_out(F2021, figures, t3=t3))
    assert texts(got) == figures
    assert codes(got) == ["D-COLUMN-EXTRA", "D-UNPLACED"]
    assert "小计" in got.findings[0].message and got.findings[0].severity == "warning"
    assert "共 25 个" in got.findings[1].message


def test_table_four_as_published_in_html_with_review_headers_two_rows_high():
    """行政复议 one row high over its five headers (rowspan 2), 行政诉讼 over its two blocks; no title row."""
    figures = numbered(F2021)
    results = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")
    t4 = [C(0, 0, "行政复议", 1, 5), C(0, 5, "行政诉讼", 1, 10)]
    t4 += [C(1, k, results[k], 2, 1) for k in range(5)]
    t4 += [C(1, 5, "未经复议直接起诉", 1, 5), C(1, 10, "复议后起诉", 1, 5)]
    t4 += [C(2, 5 + k, results[k % 5]) for k in range(10)]
    ids = [c.id for c in F2021.cells.values() if c.table == "t4"]
    t4 += [C(3, k, figures[cid]) for k, cid in enumerate(ids)]
    got = locate(lay_out(F2021, figures, t4=t4))
    assert texts(got) == figures
    assert got.findings == []


def test_header_spanning_two_columns_where_the_data_uses_one():
    """Word-pasted markup: each 表四 header spans two grid columns, the figure sits in one of them."""
    figures = numbered(F2021)
    t4 = []
    for c in lay_table(F2021, "t4", figures, title=False):
        if c.row < 4:
            t4.append(C(c.row, 2 * c.col, c.text, c.rowspan, 2 * c.colspan))
        else:
            t4 += [C(c.row, 2 * c.col, ""), C(c.row, 2 * c.col + 1, c.text)]
    got = locate(lay_out(F2021, figures, t4=t4))
    assert texts(got) == figures
    assert got.findings == []


def test_placeholders_and_text_pass_through_as_printed():
    """“/”, “—”, “无”, “3件” are the caller's to judge (parse_value), here only placed."""
    figures = numbered(F2021)
    printed = {
        "t3.new.research": "/",
        "t3.total.legal": "—",
        "t4_after.cases.pending": "无",
        "t2_6.penalty.decisions": "3件",
    }
    figures.update(printed)
    got = locate(lay_out(F2021, figures))
    assert texts(got) == figures
    assert got.findings == []
    assert parse_value(got.values["t3.new.research"].text, "count").code == "V-PLACEHOLDER"


def test_superseded_block_nine_in_a_2021_table_two_is_extra_not_a_typo():
    """第二十条第（九）项 政府集中采购 (2019) below a 2021 表二: extra rows and headers, never read as （一）."""
    figures = numbered(F2021)
    t2 = lay_table(F2021, "t2", figures)
    r = max(c.row + c.rowspan for c in t2)
    t2 += [C(r, 0, "第二十条第（九）项", 1, 4), C(r + 1, 0, "信息内容"), C(r + 1, 1, "采购项目数量")]
    t2 += [C(r + 1, 2, "采购总金额", 1, 2), C(r + 2, 0, "政府集中采购"), C(r + 2, 1, "4"), C(r + 2, 2, "12.5", 1, 2)]
    got = locate(lay_out(F2021, figures, t2=t2))
    assert texts(got) == figures
    assert "D-LABEL-VARIANT" not in codes(got)
    assert sorted(set(codes(got))) == ["D-COLUMN-EXTRA", "D-ROW-EXTRA", "D-UNPLACED"]
    assert any("第二十条第（九）项" in f.message for f in got.findings)


def test_missing_column_is_one_error_naming_it_and_its_cells():
    figures = numbered(F2021)
    t3 = [c for c in lay_table(F2021, "t3", figures) if c.col != 5]  # 科研机构 and its figures gone
    for c in t3:
        if c.col > 5:
            c.col -= 1
        elif c.col + c.colspan > 5:
            c.colspan -= 1
    got = locate(lay_out(F2021, figures, t3=t3))
    assert codes(got) == ["D-COLUMN-MISSING"]
    f = got.findings[0]
    assert f.severity == "error" and "科研机构" in f.message and len(f.cell_ids) == 25
    assert texts(got) == {k: v for k, v in figures.items() if not k.endswith(".research")}


def test_a_cell_not_printed_at_all_is_blank_text_at_its_position():
    figures = numbered(F2021)
    t4 = [c for c in lay_table(F2021, "t4", figures) if (c.row, c.col) != (4, 7)]
    got = locate(lay_out(F2021, figures, t4=t4))
    p = got.values["t4_direct.cases.other"]
    assert (p.text, p.table, p.row, p.col, p.ref) == ("", 3, 4, 7, "")
    assert p.where == "第 3 个表格第 5 行第 8 列"
    assert got.findings == []


def test_table_four_without_its_data_row():
    figures = numbered(F2021)
    t4 = [c for c in lay_table(F2021, "t4", figures) if c.row < 4]
    got = locate(lay_out(F2021, figures, t4=t4))
    assert codes(got) == ["D-ROW-MISSING"]  # one finding for the one unlabelled row
    assert len(got.findings[0].cell_ids) == 15
    assert not any(k.startswith("t4_") for k in got.values)


def test_the_templates_own_check_rows_are_neither_extra_nor_unplaced():
    """A filled xltool template read as a plain workbook: 勾稽校验 rows showing 正确 / 不符 are known."""
    figures = numbered(F2021)
    bent = {t.key: lay_table(F2021, t.key, figures, checks=True) for t in F2021.tables}
    assert any(c.text == "正确" for c in bent["t4"])
    got = locate(lay_out(F2021, figures, **bent))
    assert texts(got) == figures
    assert got.findings == []


# --------------------------------------------------------------------------- quirks of tables


def test_all_three_tables_on_one_sheet_at_an_offset():
    figures = numbered(F2021)
    got = locate(one_sheet(F2021, figures, at=(6, 2)))  # the first title at row 7, column 3 (C7)
    assert texts(got) == figures
    assert got.findings == []
    assert got.tables == {"t2": (1,), "t3": (1,), "t4": (1,)}
    p = got.values["t2_1.rules.issued"]
    assert (p.sheet, p.ref) == ("Sheet1", "D10")
    assert p.where == "工作表“Sheet1” D10"


@pytest.mark.parametrize("repeat_header", [False, True], ids=["plain", "header-repeated"])
@pytest.mark.parametrize("footer", [False, True], ids=["", "page-footer-between"])
def test_table_three_split_in_two_by_a_page_break(repeat_header, footer):
    figures = numbered(F2021)
    t3 = lay_table(F2021, "t3", figures)
    cut = row_of(t3, "（四）无法提供")
    top, bottom = [], []
    for c in t3:
        if c.row + c.rowspan <= cut:
            top.append(c)
        elif c.row >= cut:
            bottom.append(C(c.row - cut, c.col, c.text, c.rowspan, c.colspan))
        else:  # 三、本年度办理结果 continues on the next page as an empty merged cell
            top.append(C(c.row, c.col, c.text, cut - c.row, c.colspan))
            bottom.append(C(0, c.col, "", c.row + c.rowspan - cut, c.colspan))
    if repeat_header:  # the header rows (2-4 of the template) printed again on the new page
        head = [C(c.row - 1, c.col, c.text, c.rowspan, c.colspan) for c in top if 1 <= c.row <= 3]
        bottom = head + [C(c.row + 3, c.col, c.text, c.rowspan, c.colspan) for c in bottom]
    pages = [lay_table(F2021, "t2", figures), top] + ([[C(0, 0, "-4-")]] if footer else []) + [bottom]
    pages.append(lay_table(F2021, "t4", figures))
    doc = Document("report.docx", "docx", tables=[doc_table(i + 1, t) for i, t in enumerate(pages)])
    got = locate(doc)
    assert texts(got) == figures
    assert got.findings == []
    second = 4 if footer else 3
    assert got.tables["t3"] == (2, second)
    p = got.values["t3.unable_not_held.natural"]
    assert (p.table, p.row) == (second, 3 if repeat_header else 0)


def test_table_four_columns_found_by_their_group_headers():
    """The two 行政诉讼 blocks swapped and the columns inside each block reversed: still placed."""
    figures = numbered(F2021)
    t4 = lay_table(F2021, "t4", figures)
    for c in t4:
        if c.row == 0:
            continue
        if 5 <= c.col <= 14 and not (c.row == 1 and c.col == 5):  # not the 行政诉讼 heading
            block = 5 if c.col >= 10 else 10
            c.col = block + (c.col - (10 if c.col >= 10 else 5)) if c.colspan == 5 else block + 4 - c.col % 5
        elif c.col <= 4 and c.colspan == 1:
            c.col = 4 - c.col
    got = locate(lay_out(F2021, figures, t4=t4))
    assert texts(got) == figures
    assert got.findings == []


def test_other_tables_on_the_page_are_ignored():
    figures = numbered(F2021)
    nav = [C(0, 0, "首页"), C(0, 1, "政务公开"), C(0, 2, "2024")]
    contact = [C(0, 0, "联系电话"), C(0, 1, "0458-3600000"), C(1, 0, "总计"), C(1, 1, "12")]
    mine = [lay_table(F2021, t.key, figures) for t in F2021.tables]
    tables = [nav, mine[0], contact, mine[1], mine[2], nav]
    doc = Document("report.html", "html", tables=[doc_table(i + 1, t) for i, t in enumerate(tables)])
    got = locate(doc)
    assert texts(got) == figures
    assert got.findings == []
    assert got.tables == {"t2": (2,), "t3": (4,), "t4": (5,)}


def test_a_missing_table_is_an_error_naming_it():
    figures = numbered(F2021)
    doc = lay_out(F2021, figures)
    doc.tables = doc.tables[:2]
    got = locate(doc, F2021)
    assert codes(got) == ["D-TABLE-MISSING"]
    f = got.findings[0]
    assert f.table == "表四" and f.severity == "error" and len(f.cell_ids) == 15
    assert not any(k.startswith("t4_") for k in got.values)


def test_blanks_pass_through_as_blank_text():
    figures = numbered(F2021)
    figures["t3.new.research"] = ""
    figures["t4_review.cases.total"] = "\u00a0"
    got = locate(lay_out(F2021, figures))
    assert got.findings == []
    assert got.values["t3.new.research"].text == ""
    assert parse_value(got.values["t4_review.cases.total"].text, "count").code == "V-BLANK"


def test_totals_are_read_as_printed_never_recomputed():
    figures = numbered(F2021)
    figures["t4_review.cases.total"] = "0"  # 10/1/0/0 with 总计 0, as a report printed it
    got = locate(lay_out(F2021, figures))
    assert got.values["t4_review.cases.total"].text == "0"


def test_2019_tables_are_recognised_as_2019():
    got = locate(lay_out(F2019, numbered(F2019)))
    assert got.format is F2019
    other = locate(lay_out(F2019, numbered(F2019)), F2021)
    assert other.score < got.score
    assert "D-COLUMN-MISSING" in codes(other)


def test_one_format_chooser_for_locate_and_the_reading_path():
    """``choose_format`` is the one place a format is chosen: ``locate(doc)`` passes it the builtin
    formats, reading a document (``fill_from_document``) the formats a run knows. Current formats are
    tried first whatever the order given; a perfect match ends the search."""
    old = lay_out(F2019, numbered(F2019))
    for order in ([F2019, F2021], [F2021, F2019]):
        got = choose_format(old, order)
        assert got.format is F2019 and set(got.scores) == {F2019.id, F2021.id}
        assert texts(got) == texts(locate(old))
    current = choose_format(lay_out(F2021, numbered(F2021)), [F2019, F2021])
    assert current.format is F2021 and current.scores == {F2021.id: 1.0}
    # a tie keeps the current format: the same document read with a copy of 2021 marked superseded
    superseded = dataclasses.replace(F2021, id="superseded-copy", last_year=2020)
    tie = choose_format(lay_out(F2021, numbered(F2021)), [superseded, F2021])
    assert tie.format is F2021
    rec = ReturnRecord(path=Path("乌伊岭镇2024年政府信息公开工作年度报告.html"), file="x.html")
    assert fill_from_document(rec, old, {F2021.id: F2021, F2019.id: F2019})
    assert rec.format is F2019


def test_fast_enough():
    doc = lay_out(F2021, numbered(F2021))
    locate(doc)
    n = 30
    start = time.perf_counter()
    for _ in range(n):
        locate(doc)
    per_call = (time.perf_counter() - start) / n
    assert per_call < 0.05  # measured ~8 ms with both builtin formats tried; generous for a shared machine
    assert set(builtin_formats()) == {F2019.id, F2021.id}


_LABELS = sorted({lab.text for t in F2021.tables for lab in t.labels} | {c.row_label for c in F2021.cells.values()})


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(
            st.tuples(
                st.integers(-1, 30),
                st.integers(-1, 16),
                st.one_of(st.sampled_from(_LABELS), st.text(max_size=6), st.integers(0, 99).map(str)),
                st.integers(0, 4),
                st.integers(0, 4),
            ),
            max_size=40,
        ),
        max_size=4,
    )
)
def test_any_tables_give_a_result_never_an_exception(tables):
    """Overlapping spans, negative positions, zero spans, labels anywhere: findings, not crashes."""
    doc = Document(
        "x.html",
        "html",
        tables=[DocTable(i + 1, [DocCell(*cell) for cell in cells]) for i, cells in enumerate(tables)],
    )
    got = locate(doc)
    assert got.format.id in builtin_formats()
    assert all(f.severity in ("error", "warning") and f.rule.startswith("D-") for f in got.findings)
    assert set(got.values) <= set(got.format.cells)


def test_tables_in_reverse_order_without_titles_or_captions():
    figures = numbered(F2021)
    tables = [doc_table(i + 1, lay_table(F2021, key, figures, title=False)) for i, key in enumerate(["t4", "t3", "t2"])]
    got = locate(Document("report.html", "html", tables=tables))
    assert texts(got) == figures
    assert got.findings == []
    assert got.tables == {"t2": (3,), "t3": (2,), "t4": (1,)}


def test_group_headings_left_out_still_place_every_cell():
    """No 第二十条 headings in 表二, no 申请人情况/法人或其他组织 in 表三, no 行政诉讼 in 表四."""
    figures = numbered(F2021)
    dropped = ("申请人情况", "法人或其他组织", "行政诉讼")
    bent = {
        t.key: [c for c in lay_table(F2021, t.key, figures) if c.text not in dropped and "第二十条" not in c.text]
        for t in F2021.tables
    }
    got = locate(lay_out(F2021, figures, **bent))
    assert texts(got) == figures
    assert got.findings == []
