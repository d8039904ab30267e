"""The 明细 sheet of a consolidated workbook: every unit's figures side by side, one row per
statutory cell (found again by the hidden 编号 column), 合计 as a formula. Written by
``consolidate``; read back by ``xltool.read.detail``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from xltool.definition import Format, a1
from xltool.model import Unit
from xltool.read.detail import DETAIL_FIRST_ROW, DETAIL_FIRST_UNIT_COL, DETAIL_SHEET
from xltool.text import clean_text
from xltool.values import workbook_number
from xltool.write.printing import FONT_SIZE, print_setup, row_height
from xltool.write.template import NUMBER_FORMATS

LABEL_WIDTHS = (18, 6, 34, 13)
"""工作表, 单元格, 项目, 栏目 (columns B-E): printed on every page, left of the units' columns."""
UNIT_WIDTH = 10
"""Each unit's column and 合计: "12345.6789" fits; a unit's name wraps in the taller header row."""
UNIT_COLUMNS_PER_PAGE = 11
"""How many unit columns (合计 counts as one) print on a page beside the labels. 明细 is not shrunk
to one page wide: 100 units would print at 8 % and nobody could read them. The units are cut into
groups of this many, the sheet fitted to that many pages wide, the labels and the header rows
repeated on every page. Ten units and 合计 fit one landscape A4 page: Excel prints it at about 80 %;
LibreOffice, where Calibri (the default font that sets the column unit) is missing, at about 60 %."""


def detail_pages_across(units: int) -> int:
    """How many pages wide 明细 prints for ``units`` units (and 合计)."""
    return -(-(units + 1) // UNIT_COLUMNS_PER_PAGE)


def sheet_styles(wb: Any, font: str) -> dict[str, Any]:
    """The cell formats of the 明细 and 来源 sheets, in the definition's font."""
    base = {"font_name": font, "font_size": FONT_SIZE, "border": 1, "valign": "vcenter"}
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
    # in column B: A (编号) is hidden
    ws.write_string(
        0, 1, clean_text(f"明细：{unit.name}{year}年度汇总的各单位数据（合计列为公式，与各表数字一致）"), f["title"]
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
        labels = (cell.sheet, cell.address, cell.row_label, cell.col_label)
        ws.set_row(r, row_height(zip(labels, LABEL_WIDTHS, strict=True)))
        style = f[cell.kind]
        for i, (_u, values) in enumerate(details):
            ws.write_number(r, DETAIL_FIRST_UNIT_COL + i, workbook_number(values[cell.id], cell.kind), style)
        if details:
            first, last = a1(r, DETAIL_FIRST_UNIT_COL), a1(r, total_col - 1)
            formula = f"=SUM({first}:{last})"
        else:
            formula = "=0"
        ws.write_formula(r, total_col, formula, f[f"{cell.kind}_total"], workbook_number(totals[cell.id], cell.kind))
    # the header rows as tall as the longest code and name wrapped in a unit's column
    ws.set_row(1, row_height([(u.code, UNIT_WIDTH) for u, _values in details]))
    ws.set_row(2, row_height([(clean_text(u.name), UNIT_WIDTH) for u, _values in details]))
    ws.set_column(0, 0, 26, None, {"hidden": True})
    for col, width in enumerate(LABEL_WIDTHS, start=1):
        ws.set_column(col, col, width)
    ws.set_column(DETAIL_FIRST_UNIT_COL, total_col, UNIT_WIDTH)
    ws.freeze_panes(DETAIL_FIRST_ROW, DETAIL_FIRST_UNIT_COL)
    ws.autofilter(2, 1, DETAIL_FIRST_ROW + len(fmt.cells) - 1, total_col)
    print_setup(ws, (1, 2), fit_width=False)
    ws.repeat_columns(1, DETAIL_FIRST_UNIT_COL - 1)
    # Excel keeps at most 1,023 manual breaks; the breaks say where a group ends where fitting does not
    breaks = range(DETAIL_FIRST_UNIT_COL + UNIT_COLUMNS_PER_PAGE, total_col + 1, UNIT_COLUMNS_PER_PAGE)
    ws.set_v_pagebreaks(list(breaks)[:1023])
    ws.fit_to_pages(min(detail_pages_across(len(details)), 1024), 0)
    ws.protect(password, {"autofilter": True, "sort": False})
