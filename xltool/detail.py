"""The 明细 sheet of a consolidated workbook: every unit's figures side by side, one row per
statutory cell (found again by the hidden 编号 column), 合计 as a formula. Written by
``consolidate`` and read back by ``previous`` for last year's per-unit figures."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from xltool.definition import Format, a1
from xltool.model import Unit
from xltool.template import NUMBER_FORMATS
from xltool.text import clean_text
from xltool.values import parse_value, workbook_number

DETAIL_SHEET = "明细"
DETAIL_FIRST_ROW = 3  # 0-based: rows 0-2 are the title and the two unit header rows
DETAIL_FIRST_UNIT_COL = 5  # columns A-E: 编号, 工作表, 单元格, 项目, 栏目
EXCEL_COLUMNS = 16384
MAX_DETAIL_UNITS = EXCEL_COLUMNS - DETAIL_FIRST_UNIT_COL - 1  # one column per unit, then 合计


def sheet_styles(wb: Any, font: str) -> dict[str, Any]:
    """The cell formats of the 明细 and 来源 sheets, in the definition's font."""
    base = {"font_name": font, "font_size": 10, "border": 1, "valign": "vcenter"}
    total = {**base, "bg_color": "#E7E6E6", "bold": True}
    return {
        "title": wb.add_format({"font_name": font, "bold": True, "font_size": 14}),
        "head": wb.add_format({**base, "bold": True, "bg_color": "#D9E1F2", "align": "center", "text_wrap": True}),
        "text": wb.add_format({**base, "text_wrap": True}),
        **{kind: wb.add_format({**base, "num_format": n}) for kind, n in NUMBER_FORMATS.items()},
        **{f"{kind}_total": wb.add_format({**total, "num_format": n}) for kind, n in NUMBER_FORMATS.items()},
    }


def draw_detail(
    wb: Any,
    f: dict[str, Any],
    fmt: Format,
    unit: Unit,
    year: int,
    totals: dict[str, int],
    details: Sequence[tuple[Unit, dict[str, int]]],
    password: str,
) -> None:
    """Every unit's figures side by side, one row per statutory cell, 合计 as a formula."""
    ws = wb.add_worksheet(DETAIL_SHEET)
    ws.write_string(
        0, 0, clean_text(f"明细：{unit.name}{year}年度汇总的各单位数据（合计列为公式，与各表数字一致）"), f["title"]
    )
    ws.write_string(1, 0, "编号", f["head"])
    for col, head in enumerate(("工作表", "单元格", "项目", "栏目"), start=1):
        ws.merge_range(1, col, 2, col, head, f["head"])
    ws.write_string(2, 0, "", f["head"])
    total_col = DETAIL_FIRST_UNIT_COL + len(details)
    for i, (u, _values) in enumerate(details):
        ws.write_string(1, DETAIL_FIRST_UNIT_COL + i, u.code, f["head"])
        ws.write_string(2, DETAIL_FIRST_UNIT_COL + i, clean_text(u.name), f["head"])
    ws.merge_range(1, total_col, 2, total_col, "合计", f["head"])
    for r, cell in enumerate(fmt.cells.values(), start=DETAIL_FIRST_ROW):
        ws.write_string(r, 0, cell.id, f["text"])
        ws.write_string(r, 1, cell.sheet, f["text"])
        ws.write_string(r, 2, cell.address, f["text"])
        ws.write_string(r, 3, cell.row_label, f["text"])
        ws.write_string(r, 4, cell.col_label, f["text"])
        style = f[cell.kind]
        for i, (_u, values) in enumerate(details):
            ws.write_number(r, DETAIL_FIRST_UNIT_COL + i, workbook_number(values[cell.id], cell.kind), style)
        if details:
            first, last = a1(r, DETAIL_FIRST_UNIT_COL), a1(r, total_col - 1)
            formula = f"=SUM({first}:{last})"
        else:
            formula = "=0"
        ws.write_formula(r, total_col, formula, f[f"{cell.kind}_total"], workbook_number(totals[cell.id], cell.kind))
    ws.set_column(0, 0, 26, None, {"hidden": True})
    ws.set_column(1, 1, 14)
    ws.set_column(2, 2, 7)
    ws.set_column(3, 3, 40)
    ws.set_column(4, 4, 16)
    ws.set_column(DETAIL_FIRST_UNIT_COL, total_col, 12)
    ws.freeze_panes(DETAIL_FIRST_ROW, DETAIL_FIRST_UNIT_COL)
    ws.autofilter(2, 1, DETAIL_FIRST_ROW + len(fmt.cells) - 1, total_col)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.protect(password, {"autofilter": True, "sort": False})


def detail_units(path: str | Path) -> dict[str, str]:
    """Unit code -> unit name of the columns of a consolidated workbook's 明细 sheet ({} without one)."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    if DETAIL_SHEET not in wb.sheet_names:
        return {}
    rows = wb.get_sheet_by_name(DETAIL_SHEET).to_python(skip_empty_area=False, nrows=DETAIL_FIRST_ROW)
    if len(rows) < DETAIL_FIRST_ROW:
        return {}
    pairs = zip(rows[1][DETAIL_FIRST_UNIT_COL:], rows[2][DETAIL_FIRST_UNIT_COL:], strict=False)
    return {str(c).strip(): str(n).strip() for c, n in pairs if str(c).strip() and str(c).strip() != "合计"}


def read_detail(path: str | Path, fmt: Format) -> dict[str, dict[str, int]]:
    """Per-unit figures from a consolidated workbook's 明细 sheet (for last year's checks).

    Cells are found by the hidden 编号 column (cell ids), units by the code header row.
    Returns {} when the workbook has no 明细 sheet.
    """
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    if DETAIL_SHEET not in wb.sheet_names:
        return {}
    rows = wb.get_sheet_by_name(DETAIL_SHEET).to_python(skip_empty_area=False, nrows=DETAIL_FIRST_ROW + len(fmt.cells))
    if len(rows) <= DETAIL_FIRST_ROW:
        return {}
    codes = rows[1][DETAIL_FIRST_UNIT_COL:]
    units = [str(c).strip() for c in codes if str(c).strip() and str(c).strip() != "合计"]
    out: dict[str, dict[str, int]] = {code: {} for code in units}
    for row in rows[DETAIL_FIRST_ROW:]:
        cid = str(row[0]).strip()
        if cid not in fmt.cells:
            continue
        kind = fmt.cells[cid].kind
        for i, code in enumerate(units):
            parsed = parse_value(row[DETAIL_FIRST_UNIT_COL + i], kind)
            if parsed.value is not None:
                out[code][cid] = parsed.value
    return out
