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
from xltool.write.template import NUMBER_FORMATS


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
