"""A workbook that is not an xltool template (a unit's own sheet, a table exported from a portal)
-> Document: one DocTable per visible sheet, cells at their sheet positions (row 0 = sheet row 1),
merged ranges as spans, numbers as a person reads them.

The bytes must already have passed ``xltool.read.safety.read_container`` (far-away cells cut, sizes
checked); like reader.py only the first NEAR_ROWS rows and NEAR_COLS columns are read.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import zipfile
from decimal import Decimal
from typing import Any

from xltool.definition import a1
from xltool.read.document import DocCell, DocTable, Document
from xltool.read.safety import NEAR_COLS, NEAR_ROWS
from xltool.read.sources.limits import MAX_CELLS, NOT_A_REPORT, refuse


def read_sheets(data: bytes, file: str, name: str) -> Document:
    """Every visible sheet of the workbook in ``data`` as a DocTable; empty sheets are left out."""
    from python_calamine import CalamineWorkbook, PasswordError, SheetVisibleEnum

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        metas = wb.sheets_metadata
    except PasswordError:
        raise refuse("F-ENCRYPTED", name) from None
    except Exception as exc:  # calamine raises its own types (and PanicException) for a broken file
        raise refuse(
            "F-CORRUPT", name, reason=f"不是有效的工作簿：{_short(exc)}", hint="请在 Excel 中打开确认后另存为 .xlsx"
        ) from None
    doc = Document(file=file, kind="workbook")
    ods_merges = _ods_merges(data) if data.startswith(b"PK") else None
    total = 0
    for meta in metas:
        if meta.visible != SheetVisibleEnum.Visible:
            continue
        try:
            sheet = wb.get_sheet_by_name(meta.name)
            rows = sheet.to_python(skip_empty_area=False, nrows=NEAR_ROWS)
            merged = sheet.merged_cell_ranges or []
            if not merged and ods_merges is not None:  # calamine gives none for OpenDocument
                merged = ods_merges.get(meta.name, [])
        except Exception as exc:
            raise refuse(
                "F-CORRUPT",
                name,
                reason=f"工作表“{meta.name}”无法读取：{_short(exc)}",
                hint="请在 Excel 中打开确认后另存为 .xlsx",
            ) from None
        table = sheet_table(len(doc.tables) + 1, meta.name, rows, merged)
        if not table.cells:
            continue
        total += len(table.cells)
        if total > MAX_CELLS:
            raise refuse("F-TOO-LARGE", name, what="的单元格个数", limit=f"{MAX_CELLS:,} 个", hint=NOT_A_REPORT)
        doc.tables.append(table)
        if not doc.title:
            doc.title = table.cells[0].text.split("\n")[0]
    doc.text = "\n".join(t.sheet for t in doc.tables)
    return doc


Merge = tuple[tuple[int, int], tuple[int, int]]
"""A merged range: ((row, col), (last row, last col)), 0-based."""


def sheet_table(number: int, sheet: str, rows: list[list[Any]], merged: list[Merge]) -> DocTable:
    """Rows of values from A1 -> DocTable: a cell for every printed value and every merged range
    (its top-left, even when blank); nothing past the last printed cell (with its span)."""
    spans: dict[tuple[int, int], tuple[int, int]] = {}
    covered: set[tuple[int, int]] = set()
    for (r0, c0), (r1, c1) in merged:
        if r0 >= NEAR_ROWS or c0 >= NEAR_COLS or r1 < r0 or c1 < c0:
            continue
        r1, c1 = min(r1, NEAR_ROWS - 1), min(c1, NEAR_COLS - 1)
        spans[(r0, c0)] = (r1 - r0 + 1, c1 - c0 + 1)
        if (r1 - r0 + 1) * (c1 - c0 + 1) <= MAX_CELLS:
            covered.update((r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1) if (r, c) != (r0, c0))
    cells = []
    for r, row in enumerate(rows[:NEAR_ROWS]):
        for c, value in enumerate(row[:NEAR_COLS]):
            text = cell_text(value)
            if (text or (r, c) in spans) and (r, c) not in covered:
                rowspan, colspan = spans.get((r, c), (1, 1))
                cells.append(DocCell(r, c, text, rowspan, colspan, ref=a1(r, c)))
    used_rows = max((c.row + c.rowspan for c in cells if c.text), default=0)
    used_cols = max((c.col + c.colspan for c in cells if c.text), default=0)
    kept = []
    for cell in cells:  # a merged blank range beyond the printed area is formatting, not table
        if cell.row < used_rows and cell.col < used_cols:
            rowspan = min(cell.rowspan, used_rows - cell.row)
            colspan = min(cell.colspan, used_cols - cell.col)
            kept.append(DocCell(cell.row, cell.col, cell.text, rowspan, colspan, cell.ref))
    return DocTable(number=number, cells=kept, sheet=sheet)


_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_T = "{" + _TABLE + "}"


def _ods_merges(data: bytes) -> dict[str, list[Merge]] | None:
    """Merged ranges of an OpenDocument spreadsheet by sheet name, as calamine gives them for
    .xlsx (((row, col), (last row, last col)), 0-based), from the number-*-spanned attributes of
    content.xml; None for any other zip. Rows and cells repeated by count are counted, not
    expanded; reading stops at NEAR_ROWS."""
    from lxml import etree

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if "content.xml" not in zf.namelist():
                return None
            with zf.open("content.xml") as part:  # sizes and DOCTYPE checked by read_container
                out: dict[str, list[Merge]] = {}
                merges: list[Merge] = []
                row = col = 0
                events = ("start", "end")
                tags = (_T + "table", _T + "table-row", _T + "table-cell", _T + "covered-table-cell")
                for action, el in etree.iterparse(
                    part, events=events, tag=tags, resolve_entities=False, no_network=True, huge_tree=False
                ):
                    name = el.tag[len(_T) :]
                    if name == "table":
                        if action == "start":
                            merges, row = out.setdefault(el.get(_T + "name", ""), []), 0
                        else:
                            el.clear()
                    elif name == "table-row":
                        if action == "start":
                            col = 0
                        else:
                            row += _count(el.get(_T + "number-rows-repeated"))
                            el.clear()
                    elif action == "start" and row < NEAR_ROWS:
                        rows = _count(el.get(_T + "number-rows-spanned"))
                        cols = _count(el.get(_T + "number-columns-spanned"))
                        if name == "table-cell" and (rows > 1 or cols > 1):
                            merges.append(((row, col), (row + rows - 1, col + cols - 1)))
                        col += _count(el.get(_T + "number-columns-repeated"))
                    elif action == "start":
                        col += 1
        return out
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, etree.XMLSyntaxError):
        return None  # calamine has read the file: without the merges its cells are still right


def _count(value: str | None) -> int:
    try:
        return max(int(value or 1), 1)
    except ValueError:
        return 1


def cell_text(value: Any) -> str:
    """A cell value as printed: 3.0 -> "3", 24252.311082 as given (shortest repr, never in exponent
    form: 1.6e-05 is the 0.000016 Excel shows), TRUE/FALSE, dates in ISO form; line breaks as "\\n"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        return format(Decimal(repr(value)), "f") if math.isfinite(value) else repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ") if value.time() != dt.time() else value.date().isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= 120 else text[:119] + "…"
