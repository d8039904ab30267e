"""The copy of a workbook the container check hands calamine (parts inflated once, stored, each
sheet ending after its cells and merged ranges) reads exactly as the file itself: the same sheets,
visibility, cell values and merged ranges, for workbooks written by XlsxWriter, openpyxl and
LibreOffice, and for the samples."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from helpers.returns import make_return
from openpyxl.comments import Comment
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from python_calamine import CalamineWorkbook

from xltool.model import Unit
from xltool.read.safety import cells_only, read_container

ROOT = Path(__file__).resolve().parent.parent
TOWN = Unit("230100001", "示例镇", "乡镇")
SAMPLES = sorted(p for p in (ROOT / "samples").rglob("*.xlsx")) + sorted((ROOT / "tests" / "golden").glob("*.xlsx"))


def calamine_view(data: bytes) -> list[tuple]:
    """Everything xltool asks calamine for, sheet by sheet."""
    wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    out = []
    for meta in wb.sheets_metadata:
        sheet = wb.get_sheet_by_name(meta.name)
        out.append(
            (
                meta.name,
                str(meta.visible),
                str(meta.typ),
                sheet.to_python(skip_empty_area=False),
                sorted(sheet.merged_cell_ranges or []),
            )
        )
    return out


def assert_reads_the_same(path: Path) -> bytes:
    problem, copy, _size, _sha = read_container(path)
    assert problem is None, problem
    assert calamine_view(copy) == calamine_view(path.read_bytes()), path.name
    return copy


def test_a_return_is_handed_over_stored_and_without_what_follows_its_cells(tmp_path):
    path = make_return(tmp_path, TOWN)
    copy = assert_reads_the_same(path)
    assert copy != path.read_bytes()
    with __import__("zipfile").ZipFile(io.BytesIO(copy)) as z:
        assert {i.compress_type for i in z.infolist()} == {0}  # stored: calamine inflates nothing again
        sheets = [z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/")]
    assert sheets and all(b"<dataValidation" not in s and b"<conditionalFormatting" not in s for s in sheets)
    assert any(b"<mergeCells" in s for s in sheets)


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_every_sample_workbook_reads_the_same_through_the_copy(path):
    assert_reads_the_same(path)


def test_an_openpyxl_workbook_with_merges_validations_formats_and_comments(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "表三 依申请公开"
    for r in range(1, 30):
        for c in range(1, 9):
            ws.cell(r, c, r * c if c > 2 else f"标签{r}-{c}")
    ws.merge_cells("A1:H1")
    ws.merge_cells("A5:A20")
    dv = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", prompt="请填写整数")
    ws.add_data_validation(dv)
    dv.add("C2:H29")
    ws.conditional_formatting.add("C2:H29", CellIsRule(operator="lessThan", formula=["0"], fill=PatternFill("solid")))
    ws["C3"].comment = Comment("批注", "审核")
    hidden = wb.create_sheet("_hidden")
    hidden["A1"] = "x"
    hidden.sheet_state = "hidden"
    path = tmp_path / "自制表.xlsx"
    wb.save(path)
    assert_reads_the_same(path)


@pytest.mark.slow  # a LibreOffice start of its own
@pytest.mark.libreoffice
def test_a_return_saved_by_libreoffice_reads_the_same(tmp_path, libreoffice_recalc):
    saved = libreoffice_recalc(make_return(tmp_path / "in", TOWN, typed=True), tmp_path / "lo")
    assert_reads_the_same(saved)


def test_cells_only_leaves_alone_what_it_does_not_recognise():
    head = b'<?xml version="1.0"?><worksheet xmlns="m"><sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData>'
    tail = b'<mergeCells count="1"><mergeCell ref="A1:B1"/></mergeCells><dataValidations count="1">' + b"x" * 100
    tail += b"</dataValidations>"
    sheet = head + tail + b"</worksheet>"
    assert cells_only(sheet) == head + b'<mergeCells count="1"><mergeCell ref="A1:B1"/></mergeCells></worksheet>'
    prefixed = sheet.replace(b"<worksheet", b"<x:worksheet").replace(b"</worksheet>", b"</x:worksheet>")
    assert cells_only(prefixed) is prefixed  # prefixed names: read whole
    assert cells_only(sheet + b"<!-- </worksheet> -->") == sheet + b"<!-- </worksheet> -->"  # something after the root
    twice = head + b"<!-- </sheetData> -->" + tail + b"</worksheet>"
    assert cells_only(twice) is twice
