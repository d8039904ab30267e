"""The workbook of ``xltool compare``: a 概要 sheet (units, what was flagged, the text that changed,
units of one year only, files not used), one sheet per statutory table laid out like the table with
上年 / 本年 / 变化 under each column (变化 a formula; changed cells yellow, large changes orange with a
note, cells of a broken cross-year rule red with the rule's message), and a 图表 sheet with a native
column chart of 本年 against 上年 per table.

The chart's data sits beside it on the 图表 sheet: per table, the cells of each grid (a grid wider than
``CHART_MAX_COLUMNS`` only its last column, the 总计 of 表三), summed over the units compared; amounts
(万元) are left out, their scale is not the counts'.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xltool import __version__
from xltool.compare import Comparison, UnitComparison
from xltool.definition import AMOUNT, Format, Table, a1
from xltool.model import SEVERITY_ZH
from xltool.text import clean_text, short_sheet
from xltool.values import AMOUNT_SCALE
from xltool.write.printing import FONT_SIZE, print_setup, row_height

if TYPE_CHECKING:
    import xlsxwriter

SUMMARY_SHEET, CHART_SHEET = "概要", "图表"
CHART_MAX_COLUMNS = 5
LABEL_WIDTH, VALUE_WIDTH = 30, 7.5
CHANGED, LARGE, BROKEN = "#FFF2CC", "#F8CBAD", "#FF9999"
"""Fills: a changed cell; a large change (X-LARGE-CHANGE); a cell of a broken cross-year rule."""
AMOUNT_FORMAT = "0.00####"


def write_compare_book(comparison: Comparison, fmt: Format, out: str | Path, *, overwrite: bool = False) -> Path:
    """Write the comparison workbook atomically (never replacing a file unless ``overwrite``)."""
    from xltool.write.template import write_workbook

    def draw(wb: xlsxwriter.Workbook) -> None:
        wb.set_properties({"title": "与上年对比", "author": "xltool"})
        styles = _styles(wb, fmt.font)
        draw_summary(wb, styles, comparison)
        for table in fmt.tables:
            draw_table(wb, styles, fmt, table, comparison.units)
        draw_charts(wb, styles, fmt, comparison.units)

    return write_workbook(out, draw, exclusive=not overwrite)


def _styles(wb: Any, font: str) -> dict[str, Any]:
    base = {"font_name": font, "font_size": FONT_SIZE, "border": 1, "valign": "vcenter"}
    out = {
        "title": wb.add_format({"font_name": font, "bold": True, "font_size": 14}),
        "note": wb.add_format({"font_name": font, "font_size": FONT_SIZE, "text_wrap": True, "valign": "top"}),
        "unit": wb.add_format({**base, "bold": True, "bg_color": "#DDEBF7", "text_wrap": True}),
        "head": wb.add_format({**base, "bold": True, "bg_color": "#D9E1F2", "align": "center", "text_wrap": True}),
        "text": wb.add_format({**base, "text_wrap": True}),
        "dash": wb.add_format({**base, "align": "center", "font_color": "#808080"}),
    }
    for name, fill in (("", None), ("changed", CHANGED), ("large", LARGE), ("broken", BROKEN)):
        for kind, num in (("count", "0"), ("amount", AMOUNT_FORMAT), ("delta", "+0;-0;0")):
            extra = {"bg_color": fill} if fill else {}
            out[f"{kind}{'_' + name if name else ''}"] = wb.add_format({**base, "num_format": num, **extra})
    out["delta_amount"] = wb.add_format({**base, "num_format": "+0.00####;-0.00####;0"})
    return out


def _number(value: int, kind: str) -> float:
    return value / AMOUNT_SCALE if kind == AMOUNT else value


# --------------------------------------------------------------------------- 概要


def draw_summary(wb: Any, s: dict[str, Any], c: Comparison) -> None:
    """The units compared, what was flagged, the text that changed, and every file not compared."""
    ws = wb.add_worksheet(SUMMARY_SHEET)
    widths = (26, 16, 36, 36, 10, 10, 14)
    for i, w in enumerate(widths):
        ws.set_column(i, i, w)
    ws.write_string(0, 0, "与上年对比：每个单位的统计表逐格对比", s["title"])
    ws.set_row(1, 30)
    ws.merge_range(
        1,
        0,
        1,
        len(widths) - 1,
        f"变化很大：一年是另一年的 {c.factor:g} 倍以上（两年都不为 0），或从 0 变为 20 以上、从 20 以上变为 0；"
        f"生成工具：xltool {__version__}",
        s["note"],
    )
    heads = ("单位", "单位代码", "上年报表", "本年报表", "有变化的格", "变化很大", "跨年度规则")
    row = 3
    _row(ws, s, row, heads, "head", widths)
    for u in c.units:
        row += 1
        broken = sum(1 for r in u.rules if r.holds is False)
        unknown = sum(1 for r in u.rules if r.holds is None)
        rules = (
            "相符"
            if not broken and not unknown
            else f"不符 {broken} 处" + (f"，{unknown} 处无法核对" if unknown else "")
        )
        texts = (u.unit_name, u.unit_code, f"{u.last_file}（{u.last_year}）", f"{u.this_file}（{u.this_year}）")
        _row(ws, s, row, texts, "text", widths)
        ws.write_number(row, 4, len(u.changed), s["count"])
        ws.write_number(row, 5, len(u.large), s["count"])
        ws.write_string(row, 6, rules, s["text"])
    row += 2
    row = _findings(ws, s, c, row, widths)
    row = _text_changes(ws, s, c.units, row, widths)
    _unpaired(ws, s, c, row, widths)
    print_setup(ws, (3, 3))


def _row(ws: Any, s: dict[str, Any], row: int, texts: Sequence[str], style: str, widths: Sequence[float]) -> None:
    for col, text in enumerate(texts):
        ws.write_string(row, col, clean_text(str(text)), s[style])
    ws.set_row(row, row_height(zip(map(str, texts), widths, strict=False)))


def _findings(ws: Any, s: dict[str, Any], c: Comparison, row: int, widths: Sequence[float]) -> int:
    unit_findings = [f for u in c.units for f in u.findings]
    if not unit_findings:
        ws.write_string(row, 0, "没有需要核实的变化，跨年度规则相符。", s["note"])
        return row + 2
    ws.write_string(row, 0, "需要核实的地方", s["title"])
    row += 1
    _row(ws, s, row, ("单位", "代码", "说明", "", "级别", "", "位置"), "head", widths)
    ws.merge_range(row, 2, row, 3, "说明", s["head"])
    for f in unit_findings:
        row += 1
        where = f"{f.sheet} {' '.join(f.cells)}".strip() or f.location
        texts = (f.unit_name, f.rule, f.message, "", SEVERITY_ZH[f.severity], "", where)
        _row(ws, s, row, texts, "text", (widths[0], widths[1], widths[2] + widths[3], 1, widths[4], 1, widths[6]))
        ws.merge_range(row, 2, row, 3, clean_text(f.message), s["text"])
        ws.merge_range(row, 4, row, 5, SEVERITY_ZH[f.severity], s["text"])
    return row + 2


def _text_changes(
    ws: Any, s: dict[str, Any], units: Sequence[UnitComparison], row: int, widths: Sequence[float]
) -> int:
    changes = [(u, t) for u in units for t in u.text]
    if not changes:
        return row
    ws.write_string(row, 0, "正文的变化（按句子）", s["title"])
    row += 1
    _row(ws, s, row, ("单位", "部分", "新增的句子", "删去的句子"), "head", widths)
    for u, t in changes:
        row += 1
        added, removed = "\n".join(t.added), "\n".join(t.removed)
        _row(ws, s, row, (u.unit_name, t.heading, added, removed), "text", widths)
    return row + 2


def _unpaired(ws: Any, s: dict[str, Any], c: Comparison, row: int, widths: Sequence[float]) -> None:
    rows = [("只有上年", u.file, u.unit_name, u.unit_code) for u in c.only_last]
    rows += [("只有本年", u.file, u.unit_name, u.unit_code) for u in c.only_this]
    rows += [(f"未用于对比（{u.side}）", u.file, u.reason, "") for u in c.skipped]
    if not rows:
        return
    ws.write_string(row, 0, "未对比的单位和文件", s["title"])
    row += 1
    _row(ws, s, row, ("情况", "", "文件", "单位或原因", "代码"), "head", widths)
    for what, file, who, code in rows:
        row += 1
        _row(ws, s, row, (what, "", file, who, code), "text", widths)


# --------------------------------------------------------------------------- the tables


def draw_table(wb: Any, s: dict[str, Any], fmt: Format, table: Table, units: Sequence[UnitComparison]) -> None:
    """One statutory table: for each unit, each grid's rows with 上年 / 本年 / 变化 under each column."""
    ws = wb.add_worksheet(short_sheet(table.sheet))
    ncols = max(len(g.columns) for g in table.grids)
    ws.set_column(0, 0, LABEL_WIDTH)
    ws.set_column(1, 3 * ncols, VALUE_WIDTH)
    ws.write_string(0, 0, clean_text(f"{table.title}：上年与本年对比"), s["title"])
    ws.merge_range(
        1,
        0,
        1,
        3 * ncols,
        "黄色：有变化；橙色：变化很大（见批注）；红色：跨年度规则不符（见批注）；—：该年没有读出",
        s["note"],
    )
    row = 3
    for u in units:
        row = _unit_block(ws, s, fmt, table, u, row, ncols)
    print_setup(ws, (0, 1))


def _unit_block(ws: Any, s: dict[str, Any], fmt: Format, table: Table, u: UnitComparison, row: int, ncols: int) -> int:
    by_id = {c.cell: c for c in u.cells}
    broken = {cid: f.message for f in u.findings if f.rule != "X-LARGE-CHANGE" for cid in f.cell_ids}
    large = {cid: f.message for f in u.findings if f.rule == "X-LARGE-CHANGE" for cid in f.cell_ids}
    who = f"{u.unit_name}（{u.unit_code}）" if u.unit_code else u.unit_name
    ws.merge_range(
        row,
        0,
        row,
        3 * ncols,
        clean_text(f"{who}　上年 {u.last_year}：{u.last_file}　本年 {u.this_year}：{u.this_file}"),
        s["unit"],
    )
    row += 1
    for grid in table.grids:
        ws.set_row(row, 30)
        ws.merge_range(row, 0, row + 1, 0, "项目", s["head"])
        for j, col in enumerate(grid.columns):
            ws.merge_range(row, 1 + 3 * j, row, 3 + 3 * j, clean_text(col.label), s["head"])
            for k, name in enumerate(("上年", "本年", "变化")):
                ws.write_string(row + 1, 1 + 3 * j + k, name, s["head"])
        row += 2
        for line in grid.rows:
            ws.write_string(row, 0, clean_text(line.label), s["text"])
            ws.set_row(row, row_height([(line.label, LABEL_WIDTH)]))
            for j, col in enumerate(grid.columns):
                cid = grid.cell_id(line.key, col.key)
                if cid in by_id:
                    _cell(ws, s, row, 1 + 3 * j, by_id[cid], broken.get(cid), large.get(cid))
            row += 1
        row += 1
    return row + 1


def _cell(ws: Any, s: dict[str, Any], row: int, col: int, c: Any, broken: str | None, large: str | None) -> None:
    """上年, 本年 and 变化 (=本年−上年) of one cell, coloured by what is to be checked there."""
    kind = "amount" if c.kind == AMOUNT else "count"
    state = "broken" if broken else "large" if large else "changed" if c.change else ""
    tail = f"_{state}" if state else ""
    for k, value in enumerate((c.last, c.this)):
        if value is None:
            ws.write_string(row, col + k, "—", s["dash"])
        else:
            ws.write_number(row, col + k, _number(value, c.kind), s[kind + (tail if k else "")])
    if c.change is None:
        ws.write_string(row, col + 2, "—", s["dash"])
    else:
        delta = "delta_amount" if c.kind == AMOUNT else "delta" + tail
        formula = f"={a1(row, col + 1)}-{a1(row, col)}"
        ws.write_formula(row, col + 2, formula, s[delta], _number(c.change, c.kind))
    note = broken or large
    if note:
        ws.write_comment(row, col + 1, clean_text(note), {"x_scale": 2.5, "y_scale": 1.6})


# --------------------------------------------------------------------------- the charts


def chart_cells(fmt: Format, table: Table) -> list[tuple[str, str]]:
    """(cell id, category label) of the cells a table's chart shows (see the module's docstring)."""
    out = []
    for grid in table.grids:
        columns = grid.columns[-1:] if len(grid.columns) > CHART_MAX_COLUMNS else grid.columns
        for line in grid.rows:
            for col in columns:
                cid = grid.cell_id(line.key, col.key)
                if cid in fmt.cells and fmt.cells[cid].kind != AMOUNT:
                    label = line.label if len(columns) == 1 else f"{line.label}·{col.label}"
                    out.append((cid, label))
    return out


def draw_charts(wb: Any, s: dict[str, Any], fmt: Format, units: Sequence[UnitComparison]) -> None:
    """One column chart per table, 本年 beside 上年, each on its own printed page with its data below it."""
    ws = wb.add_worksheet(CHART_SHEET)
    ws.set_column(0, 0, 40)
    ws.set_column(1, 2, 10)
    scope = units[0].unit_name if len(units) == 1 else f"{len(units)} 个单位合计"
    ws.write_string(0, 0, clean_text(f"本年与上年（{scope}）"), s["title"])
    row, breaks = 2, []
    for table in fmt.tables:
        cells = chart_cells(fmt, table)
        if not cells:
            continue
        if row > 2:
            breaks.append(row)
        chart_at = row
        row += CHART_ROWS
        _row(ws, s, row, (short_sheet(table.sheet), "上年", "本年"), "head", (40, 10, 10))
        first = row + 1
        for cid, label in cells:
            row += 1
            ws.write_string(row, 0, clean_text(_short(label)), s["text"])
            for k, side in enumerate(("last", "this")):
                total = sum(getattr(c, side) or 0 for u in units for c in u.cells if c.cell == cid)
                ws.write_number(row, 1 + k, total, s["count"])
        ws.insert_chart(chart_at, 0, _chart(wb, fmt, table, first, row))
        row += 2
    ws.set_h_pagebreaks(breaks)
    print_setup(ws, (0, 0))


CHART_ROWS = 23
"""Rows (20 px each) a chart takes above its data."""


def _chart(wb: Any, fmt: Format, table: Table, first: int, last: int) -> Any:
    chart = wb.add_chart({"type": "column"})
    for k, colour in enumerate(("#A5A5A5", "#4472C4")):  # 上年, 本年: named by their header cells
        chart.add_series(
            {
                "name": [CHART_SHEET, first - 1, 1 + k],
                "categories": [CHART_SHEET, first, 0, last, 0],
                "values": [CHART_SHEET, first, 1 + k, last, 1 + k],
                "fill": {"color": colour},
                "data_labels": {"value": True, "font": {"size": 7}},
            }
        )
    chart.set_title({"name": f"{short_sheet(table.sheet)}：本年与上年", "name_font": {"name": fmt.font, "size": 12}})
    chart.set_x_axis({"num_font": {"name": fmt.font, "size": 7, "rotation": -45}})
    chart.set_y_axis({"major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    chart.set_legend({"position": "top", "font": {"name": fmt.font}})
    chart.set_size({"width": 980, "height": 20 * (CHART_ROWS - 1)})
    return chart


def _short(label: str, limit: int = 14) -> str:
    """A category label short enough for the chart's axis."""
    return label if len(label) <= limit else label[: limit - 1] + "…"
