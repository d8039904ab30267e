"""Sources -> Document: web pages, Word files and workbooks that are not templates, read into grids
of cell texts. Fixtures under tests/fixtures/documents are named after the quirk they reproduce;
hostile files are built here (the 50 MB page only in tmp_path)."""

from __future__ import annotations

import datetime as dt
import io
import random
import shutil
import subprocess
import time
import zipfile
from decimal import Decimal
from pathlib import Path

import docx
import openpyxl
import pytest

from xltool.definition import get_format
from xltool.model import Unit
from xltool.read.document import DocTable, Document
from xltool.read.safety import read_container
from xltool.read.sources import DOCUMENT_SUFFIXES, SourceError, read_document, read_path, sniff
from xltool.read.sources.html import decode
from xltool.read.sources.sheets import cell_text as sheet_cell_text
from xltool.read.sources.text import split_line
from xltool.values import AMOUNT_SCALE, PLAIN_FIGURE, PRINTED_FIGURE
from xltool.write.template import complete_values, draw_return, template_identity, write_workbook

FIXTURES = Path(__file__).parent / "fixtures" / "documents"
FMT = get_format()
UNIT = Unit("230723101", "乌伊岭镇", "乡镇")


def read_fixture(name: str) -> Document:
    path = FIXTURES / name
    return read_document(path, path.read_bytes(), name)


def texts(table: DocTable) -> list[list[str | None]]:
    """The grid as texts: each position shows the text of the cell covering it."""
    return [[c.text if c else None for c in row] for row in table.grid()]


def at(table: DocTable, row: int, col: int) -> str | None:
    """The text of the cell whose top-left is (row, col); None when no cell starts there."""
    return next((c.text for c in table.cells if (c.row, c.col) == (row, col)), None)


def refused(code: str, path: Path, data: bytes, seconds: float = 2.0) -> SourceError:
    """read_document refuses ``data`` with ``code`` within ``seconds``; the message names the file."""
    start = time.perf_counter()
    with pytest.raises(SourceError) as info:
        read_document(path, data, path.name)
    assert time.perf_counter() - start < seconds
    assert info.value.code == code, info.value.message
    assert path.name in info.value.message
    return info.value


# --------------------------------------------------------------------------- HTML quirks


def test_word_pasted_msonormal_markup_gives_clean_cell_texts():
    doc = read_fixture("word_pasted_msonormal.html")
    assert doc.kind == "html"
    assert doc.title == "汤旺县乌伊岭镇2024年政府信息公开工作年度报告_汤旺县人民政府"
    [t2] = doc.tables
    assert t2.caption == "二、主动公开政府信息情况"
    assert t2.cells[0].colspan == 4 and t2.cells[0].text == "第二十条第（一）项"
    assert texts(t2)[1:] == [
        ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],  # &nbsp;-led header cells trimmed
        ["规章", "0", "0", "0"],
        ["行政规范性文件", "6", "93", "66 5"],  # cells never run together (行政规范性文件693665)
    ]
    # styles, scripts and Word's <xml> islands are not text
    assert "mso" not in doc.text and "不应出现" not in doc.text and "张三" not in doc.text


def test_gbk_page_without_declaration_is_decoded():
    doc = read_fixture("gbk_no_declaration.html")
    assert doc.title == "汤旺县教育局2023年政府信息公开工作年度报告"
    assert doc.tables[0].caption == "四、政府信息公开行政复议、行政诉讼情况"
    assert at(doc.tables[0], 0, 5) == "行政诉讼"
    assert "五、存在的主要问题及改进情况" in doc.text


def test_gb2312_declared_page_is_decoded_with_gb18030():
    doc = read_fixture("gb2312_declared.html")
    assert doc.title == "汤旺县财政局2022年政府信息公开工作年度报告"
    [t4] = doc.tables
    assert (t4.nrows, t4.ncols) == (4, 15)
    assert texts(t4)[3] == ["1", "2", "0", "0", "3", "0", "1", "0", "0", "1", "0", "0", "0", "0", "0"]
    assert texts(t4)[1][5:] == ["未经复议直接起诉"] * 5 + ["复议后起诉"] * 5


@pytest.mark.parametrize(
    ("data", "declared", "expected"),
    [
        ("表三".encode("gbk"), None, "表三"),
        ("表三".encode(), "gb2312", "表三"),  # a wrong declaration: the bytes are UTF-8
        ("\ufeff表三".encode(), None, "表三"),
        ("表三".encode("utf-16"), None, "表三"),
        ("𠀀表三".encode("gb18030"), "gbk", "𠀀表三"),  # GB18030 four-byte characters behind a GBK label
    ],
)
def test_decode_sniffs_the_encoding(data, declared, expected):
    assert decode(data, declared) == expected


def test_rowspan_22_places_every_figure_at_its_grid_position():
    doc = read_fixture("rowspan_22.html")
    [t3] = doc.tables
    assert t3.caption == "三、收到和处理政府信息公开申请情况"
    assert (t3.nrows, t3.ncols) == (28, 10)
    grid = texts(t3)
    for r in range(3, 28):  # the fixture's figure is 100 × row + column
        assert grid[r][3:] == [str(100 * r + c) for c in range(3, 10)], r
    spans = {c.text: (c.row, c.col, c.rowspan, c.colspan) for c in t3.cells}
    assert spans["三、本年度办理结果"] == (5, 0, 22, 1)
    assert spans["（一）予以公开"] == (5, 1, 1, 2)
    assert spans["（三）不予公开"] == (7, 1, 8, 1)
    assert spans["1.属于国家秘密"] == (7, 2, 1, 1)
    assert spans["（四）无法提供"] == (15, 1, 3, 1)
    assert spans["（五）不予处理"] == (18, 1, 5, 1)
    assert spans["（六）其他处理"] == (23, 1, 3, 1)
    assert spans["3.其他"] == (25, 2, 1, 1)
    assert spans["（七）总计"] == (26, 1, 1, 2)
    assert spans["四、结转下年度继续办理"] == (27, 0, 1, 3)
    assert spans["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"] == (0, 0, 3, 3)
    assert spans["自然人"] == (1, 3, 2, 1) and spans["总计"] == (1, 9, 2, 1)
    assert grid[2][4:9] == ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]
    assert t3.where(t3.cells[0]) == "第 1 个表格第 1 行第 1 列"


def test_text_split_by_p_and_br_keeps_line_breaks():
    doc = read_fixture("text_split_by_p_and_br.html")
    t3, t4 = doc.tables
    assert (t3.caption, t4.caption) == ("三、收到和处理政府信息公开申请情况", "四、政府信息公开行政复议、行政诉讼情况")
    assert at(t3, 0, 4) == "商业\n企业"
    assert at(t3, 0, 5) == "法律服务\n机构"
    assert at(t3, 2, 0) == "三、本\n年度办理结果"
    assert at(t3, 1, 3) == "1"  # after the rowspan=2 cell, the next free column
    assert texts(t4)[0] == ["结果\n维持", "结果\n纠正", "其他\n结果", "尚未 审结", "总 计"]


def test_other_tables_on_page_innermost_tables_only():
    doc = read_fixture("other_tables_on_page.html")
    assert doc.title == "汤旺县汤旺河镇2024年政府信息公开工作年度报告"  # the <h1>, which names the report
    # the layout table holding the others is not a table of its own; the empty footer prints nothing
    assert [[c.text for c in t.cells][:2] for t in doc.tables] == [
        ["首页", "政务公开"],
        ["行政复议", "结果维持"],
        ["序号", "附件名称"],
    ]
    nav, t4, attachments = doc.tables
    assert [t.number for t in doc.tables] == [1, 2, 3]
    assert t4.caption == "四、政府信息公开行政复议、行政诉讼情况"
    assert attachments.caption == "附件："
    assert texts(t4)[2] == ["1", "0", "0", "0", "1"]
    assert "本报告由汤旺县汤旺河镇人民政府编制。" in doc.text and "首页" not in doc.text


def test_spacer_table_inside_a_data_table_does_not_hide_it():
    page = b"<table><tr><td>a</td><td><table><tr><td>&nbsp;</td></tr></table></td></tr></table>"
    [t] = read_document(Path("p.html"), page, "p.html").tables
    assert [c.text for c in t.cells] == ["a", ""]


def test_blanks_for_zeros_are_empty_cells_in_place():
    [t4] = read_fixture("blanks_for_zeros.html").tables
    assert texts(t4)[1] == ["", "", "", "", "1"]
    assert len(t4.cells) == 10


def test_spans_beyond_the_table_are_clipped():
    page = b"<table><tr><td rowspan=100000 colspan=3>a</td><td>b</td></tr><tr><td rowspan=0>c</td></tr></table>"
    [t] = read_document(Path("p.html"), page, "p.html").tables
    assert [(c.text, c.row, c.col, c.rowspan, c.colspan) for c in t.cells] == [
        ("a", 0, 0, 2, 3),  # a rowspan past the last row ends there
        ("b", 0, 3, 1, 1),
        ("c", 1, 3, 1, 1),  # the next free column, under b; rowspan=0 to the last row
    ]
    page = b"<table><tr><td colspan=100000>a</td><td>b</td></tr></table>"
    [t] = read_document(Path("p.html"), page, "p.html").tables
    assert [(c.text, c.colspan) for c in t.cells] == [("a", 1000)]  # the grid is 1000 columns at most


def test_caption_element_and_nbsp_runs():
    page = "<p>二、主动公开</p><table><caption>表二&nbsp;&nbsp;主动公开</caption><tr><th>a</th></tr></table>".encode()
    [t] = read_document(Path("p.html"), page, "p.html").tables
    assert (t.caption, t.cells[0].text) == ("表二 主动公开", "a")


def test_mht_single_file_page():
    html = "<html><body><p>表四</p><table><tr><td>结果=E7=BA=A0正</td></tr></table></body></html>"
    mht = (
        'MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="----=_NextPart"\r\n\r\n'
        '------=_NextPart\r\nContent-Type: text/html; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        f"{html}\r\n------=_NextPart--\r\n"
    ).encode()
    doc = read_document(Path("r.mht"), mht, "r.mht")
    assert doc.tables[0].cells[0].text == "结果纠正" and doc.tables[0].caption == "表四"


def test_sniffing_by_content_not_name():
    page = (FIXTURES / "rowspan_22.html").read_bytes()
    assert sniff(page, ".doc") == "html"  # Word "saved as web page", named .doc
    assert read_document(Path("年报.xls"), page, "年报.xls").kind == "html"
    assert sniff(b"%PDF-1.7\n", ".docx") == "pdf"
    assert ".docx" in DOCUMENT_SUFFIXES and ".html" in DOCUMENT_SUFFIXES


# --------------------------------------------------------------------------- Word .docx


def _doc_table(document, rows: int, cols: int):
    table = document.add_table(rows=rows, cols=cols)
    table.style = "Table Grid"
    return table


def docx_bytes(document) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def render_docx(document, table: DocTable, rows: range | None = None) -> None:
    """Draw ``table`` (or its ``rows``) into a python-docx table, merging as the grid spans
    (python-docx writes w:gridSpan and w:vMerge)."""
    rows = rows if rows is not None else range(table.nrows)
    out = _doc_table(document, len(rows), table.ncols)
    for c in table.cells:
        top, bottom = max(c.row, rows.start), min(c.row + c.rowspan, rows.stop) - 1
        if top > bottom:
            continue
        cell = out.cell(top - rows.start, c.col)
        if bottom > top or c.colspan > 1:
            cell = cell.merge(out.cell(bottom - rows.start, c.col + c.colspan - 1))
        if c.row == top:
            lines = c.text.split("\n")
            cell.paragraphs[0].text = lines[0]
            for line in lines[1:]:
                cell.add_paragraph(line)


def test_docx_title_in_two_paragraphs_merged_cells_and_split_table():
    src = read_fixture("rowspan_22.html").tables[0]
    document = docx.Document()
    document.add_paragraph("汤旺县乌伊岭镇")
    document.add_paragraph("2024年政府信息公开工作年度报告")
    document.add_paragraph("三、收到和处理政府信息公开申请情况")
    render_docx(document, src, range(0, 16))
    document.add_page_break()  # Word split 表三 at a page break
    render_docx(document, src, range(16, src.nrows))
    document.add_paragraph("四、政府信息公开行政复议、行政诉讼情况")
    t4 = _doc_table(document, 2, 2)
    t4.cell(0, 0).text = "结果维持"
    doc = read_document(Path("r.docx"), docx_bytes(document), "r.docx")
    assert doc.kind == "docx"
    assert doc.title == "汤旺县乌伊岭镇2024年政府信息公开工作年度报告"
    first, second, third = doc.tables
    assert (first.caption, first.continues) == ("三、收到和处理政府信息公开申请情况", False)
    assert (second.caption, second.continues) == ("", True)
    assert (third.caption, third.continues) == ("四、政府信息公开行政复议、行政诉讼情况", False)
    assert "四、政府信息公开行政复议、行政诉讼情况" in doc.text
    # the two parts together give the HTML grid back, spans clipped at the split
    assert texts(first) == texts(src)[:16]
    assert [row[2:] for row in texts(second)] == [row[2:] for row in texts(src)[16:]]
    continued = {(c.row, c.col): (c.text, c.rowspan) for c in second.cells}
    assert continued[(0, 0)] == ("", 11) and continued[(0, 1)] == ("", 2)  # labels are not repeated
    spans = {c.text: (c.row, c.col, c.rowspan, c.colspan) for c in first.cells}
    assert spans["三、本年度办理结果"] == (5, 0, 11, 1)  # vMerge restart + continue
    assert spans["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"] == (0, 0, 3, 3)  # both
    assert spans["申请人情况"] == (0, 3, 1, 7)  # gridSpan
    assert first.where(first.cells[0]) == "第 1 个表格第 1 行第 1 列"


def _raw_docx(body: str, prolog: str = "", extra: dict[str, bytes] | None = None) -> bytes:
    """A minimal .docx around ``body`` (WordprocessingML), as some tools write it."""
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    xml = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{prolog}<w:document xmlns:w="{w}"><w:body>{body}</w:body></w:document>'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        )
        z.writestr("word/document.xml", xml)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return out.getvalue()


def _p(text: str) -> str:
    return f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>"


def test_docx_grid_before_content_controls_nested_tables_and_breaks():
    body = (
        _p("报告")
        + "<w:tbl><w:sdt><w:sdtContent><w:tr>"  # a row inside a content control
        + "<w:tc><w:p><w:r><w:t>结果</w:t><w:br/><w:t>纠正</w:t></w:r></w:p></w:tc>"
        + "<w:tc>"
        + _p("外")
        + "<w:tbl><w:tr><w:tc>"
        + _p("内")
        + "</w:tc></w:tr></w:tbl></w:tc>"
        + "</w:tr></w:sdtContent></w:sdt>"
        + "<w:tr><w:trPr><w:gridBefore w:val='1'/></w:trPr><w:tc>"
        + "<w:p><w:r><w:delText>删</w:delText><w:t>留</w:t><w:tab/><w:t>下</w:t></w:r></w:p></w:tc></w:tr>"
        + "</w:tbl>"
    )
    doc = read_document(Path("x.docx"), _raw_docx(body), "x.docx")
    outer, inner = doc.tables
    assert [(c.row, c.col, c.text) for c in outer.cells] == [(0, 0, "结果\n纠正"), (0, 1, "外"), (1, 1, "留 下")]
    assert (inner.number, inner.caption, [c.text for c in inner.cells]) == (2, "外", ["内"])
    assert doc.text == "报告"


# --------------------------------------------------------------------------- workbooks


def test_docx_title_rules():
    from xltool.read.sources.docx import _title

    assert (
        _title(["汤旺县乌伊岭镇", "2024年政府信息公开工作年度报告", "一、总体情况"])
        == "汤旺县乌伊岭镇2024年政府信息公开工作年度报告"
    )
    assert (
        _title(["汤旺县乌伊岭镇2024年政府信息公开", "工作年度报告"]) == "汤旺县乌伊岭镇2024年政府信息公开工作年度报告"
    )
    assert (
        _title(["汤政办发〔2025〕1号", "汤旺县2024年政府信息公开工作年度报告"])
        == "汤旺县2024年政府信息公开工作年度报告"
    )
    assert _title(["关于印发年报的通知", "正文"]) == "关于印发年报的通知"
    assert _title([]) == ""


def test_read_path_checks_before_reading(tmp_path):
    document = docx.Document()
    document.add_paragraph("某局2024年政府信息公开工作年度报告")
    document.save(tmp_path / "r.docx")
    assert read_path(tmp_path / "r.docx").title == "某局2024年政府信息公开工作年度报告"
    shutil.copy(FIXTURES / "gbk_no_declaration.html", tmp_path / "年报.xls")  # a page saved with a workbook's name
    assert read_path(tmp_path / "年报.xls", "年报.xls").tables[0].nrows == 4
    with pytest.raises(SourceError) as info:
        read_path(tmp_path / "missing.html")
    assert info.value.code == "F-UNREADABLE"
    (tmp_path / "empty.xlsx").write_bytes(b"")
    with pytest.raises(SourceError) as info:
        read_path(tmp_path / "empty.xlsx")
    assert info.value.code == "F-EMPTY"


def test_workbook_that_is_not_a_template(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "表三"
    ws["B3"] = "行政事业性收费"
    ws["C3"] = 24252.311082
    ws["D3"] = 3.0
    ws["E3"] = True
    ws["F3"] = dt.date(2024, 1, 31)
    ws["B4"] = "商业\n企业"
    ws.merge_cells("B5:C6")
    ws["B5"] = "合并"
    ws.merge_cells("H10:J12")  # a blank merged range beyond the printed cells: formatting
    hidden = wb.create_sheet("隐藏")
    hidden["A1"] = "x"
    hidden.sheet_state = "hidden"
    wb.create_sheet("空白")
    path = tmp_path / "自建表.xlsx"
    wb.save(path)
    container = read_container(path)
    assert container.problem is None
    doc = read_document(path, container.data, "自建表.xlsx")
    assert doc.kind == "workbook"
    [t] = doc.tables  # hidden and empty sheets left out
    assert t.sheet == "表三" and (t.nrows, t.ncols) == (6, 6)
    cells = {c.ref: c for c in t.cells}
    assert [cells[r].text for r in ("B3", "C3", "D3", "E3", "F3", "B4")] == [
        "行政事业性收费",
        "24252.311082",
        "3",
        "TRUE",
        "2024-01-31",
        "商业\n企业",
    ]
    assert (cells["B5"].row, cells["B5"].col, cells["B5"].rowspan, cells["B5"].colspan) == (4, 1, 2, 2)
    assert t.where(cells["C3"]) == "工作表“表三” C3"


def filled_return(path: Path, seed: int) -> tuple[Path, dict[str, int]]:
    """A return drawn from the definition with random figures (amount with decimals), totals computed."""
    rng = random.Random(seed)
    values = {c.id: rng.randint(0, 60) for c in FMT.input_cells if c.kind == "count"}
    values |= {c.id: rng.randint(1, 10**9) for c in FMT.input_cells if c.kind == "amount"}
    identity = template_identity(FMT, UNIT, 2024)
    write_workbook(path, lambda wb: draw_return(wb, FMT, identity, values=values))
    return path, complete_values(FMT, values)


def assert_figures_in_place(doc: Document, values: dict[str, int], by_sheet) -> None:
    """Every statutory figure's text sits at its sheet position (definition Cell.row/col)."""
    for cell in FMT.cells.values():
        table = by_sheet(doc, cell.sheet)
        found = table.grid()[cell.row][cell.col]
        assert found is not None and (found.row, found.col) == (cell.row, cell.col), cell.id
        scale = AMOUNT_SCALE if cell.kind == "amount" else 1
        assert Decimal(found.text) * scale == values[cell.id], (cell.id, found.text)


def _by_sheet_name(doc: Document, sheet: str) -> DocTable:
    return next(t for t in doc.tables if t.sheet == sheet)


def _by_caption(doc: Document, sheet: str) -> DocTable:
    """LibreOffice heads each sheet's table with "Sheet N: name"."""
    return next(t for t in doc.tables if t.caption.endswith(f": {sheet}"))


def test_template_workbook_read_as_sheets_keeps_sheet_positions(tmp_path):
    path, values = filled_return(tmp_path / "r.xlsx", 1)
    container = read_container(path)
    doc = read_document(path, container.data, "r.xlsx")
    assert [t.sheet for t in doc.tables] == [FMT.cover.sheet] + [t.sheet for t in FMT.tables]  # not the very hidden one
    assert_figures_in_place(doc, values, _by_sheet_name)
    assert read_path(path).tables[1].cells == doc.tables[1].cells


def test_docx_from_the_definitions_layout_keeps_positions(tmp_path):
    """Each sheet drawn as a Word table with python-docx (merges as in the template) reads back
    with every figure at its sheet position."""
    path, values = filled_return(tmp_path / "r.xlsx", 2)
    sheets = read_document(path, read_container(path).data, "r.xlsx")
    document = docx.Document()
    for table in sheets.tables[1:]:
        document.add_paragraph(f"Sheet: {table.sheet}")
        render_docx(document, table)
    doc = read_document(Path("r.docx"), docx_bytes(document), "r.docx")
    assert_figures_in_place(doc, values, _by_caption_plain)
    for src, got in zip(sheets.tables[1:], doc.tables, strict=True):
        assert texts(got) == texts(src)


def _by_caption_plain(doc: Document, sheet: str) -> DocTable:
    return next(t for t in doc.tables if t.caption == f"Sheet: {sheet}")


# --------------------------------------------------------------------------- hostile and broken files


def test_html_entity_bomb_refused():
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    page = f'<!DOCTYPE html [<!ENTITY l0 "lol">{lol}]><html><body><table><tr><td>&l9;</td></tr></table></body></html>'
    refused("F-XML-ENTITY", Path("bomb.html"), page.encode())
    refused("F-XML-ENTITY", Path("bomb.html"), page.encode("utf-16"))


def test_html_external_doctype_is_not_loaded():
    page = b'<!DOCTYPE html SYSTEM "file:///etc/passwd"><html><body><table><tr><td>1</td></tr></table></body></html>'
    doc = read_document(Path("p.html"), page, "p.html")
    assert doc.tables[0].cells[0].text == "1" and "root:" not in doc.text


def test_50mb_page_refused_without_parsing(tmp_path):
    path = tmp_path / "big.html"
    row = b"<tr><td>1</td><td>2</td></tr>"
    with path.open("wb") as fh:
        fh.write(b"<html><body><table>")
        fh.write(row * (50 * 1024 * 1024 // len(row)))
        fh.write(b"</table></body></html>")
    start = time.perf_counter()
    with pytest.raises(SourceError) as info:
        read_path(path, "big.html")  # refused on its size: never read
    assert info.value.code == "F-TOO-LARGE" and "big.html" in info.value.message
    assert time.perf_counter() - start < 2
    refused("F-TOO-LARGE", path, path.read_bytes())  # handed the bytes: refused before decoding


@pytest.mark.parametrize("tag", ["div", "table><tr><td", "span"])
def test_100000_nested_tags_refused_quickly(tag):
    close = "</" + tag.split("><")[0] + ">" if "><" not in tag else "</td></tr></table>"
    page = "<html><body>" + f"<{tag}>" * 100_000 + "x" + close * 100_000 + "</body></html>"
    error = refused("F-TOO-LARGE", Path("deep.html"), page.encode())
    assert "256" in error.message


def test_too_many_cells_refused():
    page = b"<table><tr>" + b"<td>1</td>" * 200_001 + b"</tr></table>"
    refused("F-TOO-LARGE", Path("cells.html"), page)


def test_docx_zip_bomb_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"<w:document>" + b" " * (30 * 1024 * 1024) + b"</w:document>")
    refused("F-BOMB", Path("bomb.docx"), out.getvalue())


def test_docx_external_entity_refused():
    prolog = '<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    data = _raw_docx("<w:p><w:r><w:t>&xxe;</w:t></w:r></w:p>", prolog)
    refused("F-XML-ENTITY", Path("xxe.docx"), data)
    refused("F-XML-ENTITY", Path("xxe.docx"), _raw_docx(_p("x"), '<!DOCTYPE w:document SYSTEM "file:///etc/passwd">'))


def test_docx_deep_nesting_refused():
    body = "<w:tbl><w:tr><w:tc>" * 100 + _p("x") + "</w:tc></w:tr></w:tbl>" * 100
    refused("F-TOO-LARGE", Path("deep.docx"), _raw_docx(body))


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("empty.html", b"", "F-EMPTY"),
        ("random.docx", random.Random(7).randbytes(4096), "F-NOT-DOCUMENT"),
        ("report.pdf", b"%PDF-1.7\n%\xe2\xe3\n1 0 obj", "F-CORRUPT"),
        (
            "old.doc",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "WordDocument".encode("utf-16-le") + bytes(512),
            "F-NOT-DOCUMENT",
        ),
        ("cut.docx", _raw_docx(_p("x"))[:200], "F-CORRUPT"),
        ("text.htm", "政府信息公开工作年度报告\n一、总体情况".encode(), "F-NOT-DOCUMENT"),
    ],
)
def test_unreadable_files_give_one_error(name, data, code):
    refused(code, Path(name), data)


def test_page_without_tables_is_an_empty_document():
    doc = read_document(Path("blank.html"), b"<html>  <body><p>\xe6\x97\xa0</p></body></html>", "blank.html")
    assert (doc.tables, doc.text) == ([], "无")


def test_broken_xml_in_docx_is_corrupt():
    refused("F-CORRUPT", Path("broken.docx"), _raw_docx("<w:p><w:r><w:t>x</w:r></w:p>"))


# --------------------------------------------------------------------------- LibreOffice in the loop


@pytest.fixture(scope="module")
def soffice_convert(tmp_path_factory):
    """``convert(src, target, out_dir, infilter=None) -> Path`` with a private LibreOffice profile."""
    soffice = shutil.which("soffice")
    if not soffice:
        pytest.skip("LibreOffice (soffice) is not installed")
    profile = tmp_path_factory.mktemp("soffice-profile")

    def convert(src: Path, target: str, out_dir: Path, infilter: str | None = None) -> Path:
        command = [soffice, "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}"]
        command += [f"--infilter={infilter}"] if infilter else []
        command += ["--convert-to", target, "--outdir", str(out_dir), str(src)]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=120)
        out = out_dir / f"{src.stem}.{target.split(':')[0]}"
        assert proc.returncode == 0 and out.is_file(), proc.stdout + proc.stderr
        return out

    return convert


@pytest.mark.slow
@pytest.mark.libreoffice
def test_calc_html_and_writer_docx_keep_sheet_positions(tmp_path, soffice_convert):
    """A filled return saved by LibreOffice Calc as a web page, and that page saved by Writer as
    .docx: every statutory figure at the template's sheet position in both."""
    path, values = filled_return(tmp_path / "r.xlsx", 3)
    page = soffice_convert(path, "html", tmp_path / "html")
    doc = read_document(page, page.read_bytes(), page.name)
    assert_figures_in_place(doc, values, _by_caption)
    word = soffice_convert(page, "docx:MS Word 2007 XML", tmp_path / "docx", infilter="HTML (StarWriter)")
    doc = read_document(word, word.read_bytes(), word.name)
    assert doc.kind == "docx"
    assert_figures_in_place(doc, values, _by_caption)


@pytest.mark.slow  # a LibreOffice start per target
@pytest.mark.libreoffice
@pytest.mark.parametrize("target", ["ods", "xls"])
def test_ods_and_xls_saved_by_libreoffice_keep_positions_and_merges(tmp_path, soffice_convert, target):
    path, values = filled_return(tmp_path / "r.xlsx", 4)
    xlsx = read_document(path, read_container(path).data, "r.xlsx")
    saved = soffice_convert(path, target, tmp_path / target)
    container = read_container(saved)
    assert container.problem is None
    doc = read_document(saved, container.data, saved.name)
    assert_figures_in_place(doc, values, _by_sheet_name)
    spans = [[(c.ref, c.rowspan, c.colspan) for c in t.cells if c.rowspan > 1 or c.colspan > 1] for t in doc.tables]
    assert spans == [
        [(c.ref, c.rowspan, c.colspan) for c in t.cells if c.rowspan > 1 or c.colspan > 1] for t in xlsx.tables
    ]


# --------------------------------------------------------------------------- one figure pattern


def test_one_pattern_tells_a_printed_figure_for_every_source_and_the_locator():
    """What a printed figure looks like is said once (``values.PRINTED_FIGURE``): a text source splits
    its lines on it and the locator tells figures from labels by it, so the two cannot disagree."""
    for figure in ("3", "-2", "−2", "1,234", "1，234", "1.5", "50%", "O", "〇", "1O"):
        assert PRINTED_FIGURE.fullmatch(figure), figure
    for text in ("", "三", "3件", "1 234", "(一)", "a1", "+3"):
        assert not PRINTED_FIGURE.fullmatch(text), text
    assert PLAIN_FIGURE.fullmatch("-12.5") and not PLAIN_FIGURE.fullmatch("1,234")
    root = Path(__file__).resolve().parent.parent / "xltool"
    again = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if "0-9Oo〇" in p.read_text(encoding="utf-8") and p.name != "values.py"
    ]
    assert again == []
    assert split_line("1.属于国家秘密 3 O 1,2") == ["1.属于国家秘密", "3", "O", "1,2"]


def test_a_tiny_amount_typed_in_a_workbook_is_printed_as_excel_shows_it_not_in_exponent_form():
    """A fee of 16 元 typed as 0.000016 万元 is the float 1.6e-05: its text must be the figure, or it
    is read as text (V-TEXT) instead of the amount (found by the hypothesis test of typed totals)."""
    assert sheet_cell_text(1.6e-05) == "0.000016"
    assert sheet_cell_text(24252.311082) == "24252.311082"
    assert sheet_cell_text(1e20) == "100000000000000000000"
    assert sheet_cell_text(3.0) == "3"
