"""Read back the 明细 sheet of a consolidated workbook: the unit columns and every unit's figures,
found by the hidden 编号 column (last year's per-unit figures for the cross-year rules)."""

from __future__ import annotations

from pathlib import Path

from xltool.definition import Format
from xltool.values import parse_value

DETAIL_SHEET = "明细"
DETAIL_FIRST_ROW = 3  # 0-based: rows 0-2 are the title and the two unit header rows
DETAIL_FIRST_UNIT_COL = 5  # columns A-E: 编号, 工作表, 单元格, 项目, 栏目
EXCEL_COLUMNS = 16384
MAX_DETAIL_UNITS = EXCEL_COLUMNS - DETAIL_FIRST_UNIT_COL - 1  # one column per unit, then 合计


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
