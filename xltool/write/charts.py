"""The 图表 sheet of a consolidated workbook: native Excel charts (XlsxWriter) for what people would
rather look at than read: 本年新收申请 by unit, the mix of 表三's 办理结果, 表四's 复议/诉讼 results.

Every series points at the workbook's own cells: the 表四 chart at the table sheet itself, the other
two at a small table on the 图表 sheet beside the chart whose figures are formulas over 明细 and 表三.
Change a figure and the chart follows (only the order of the units is fixed when written). Labels
and positions come from the definition; the building blocks (``DataBlock``, ``write_block``,
``bar_chart``, ``pie_chart``, ``column_chart``) do not know the statutory tables and can draw others.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from math import ceil
from typing import Any

from xltool.definition import Cell, Format, Grid, Line, Rule, Table, a1
from xltool.model import Unit
from xltool.read.detail import DETAIL_FIRST_ROW, DETAIL_FIRST_UNIT_COL, DETAIL_SHEET
from xltool.text import clean_text
from xltool.write.printing import A4, row_height

CHARTS_SHEET = "图表"
MAX_CHART_UNITS = 20
"""Units drawn, the largest first: 20 bars, each named, fill one printed landscape page (LibreOffice
skips every other name when the bars are thinner); a province's thousands would be a grey smear
(明细 has them all)."""
BAR_PX, CHART_BASE_PX, CHART_WIDTH_PX = 22, 120, 640
"""A unit bar's height (less when many), what the title and axis take, every chart's width (pixels)."""
CHART_MIN_PX, CHART_MAX_PX = 300, 570
"""The heights of a chart: the by-unit chart grows with its units up to what a landscape page holds."""
ROW_PX = 20
"""The default row height in pixels: how many rows a chart covers, where the next one starts."""
LABEL_WIDTH, VALUE_WIDTH = 30, 10
UNITS_BY = "new"
"""The figure charted by unit, by its name in the definition's [report.figures]: 本年新收申请."""
HIDE_ZERO = "0;-0;;"
"""A data label's number format that prints nothing for 0: a row of zeros says nothing a blank does not."""
FIRST_ROW = 2
"""Where the first chart and its data start: under the sheet's title."""


def _font(fmt: Format, size: int, bold: bool = False) -> dict[str, Any]:
    return {"name": fmt.font, "size": size, "bold": bold}


# --------------------------------------------------------------------------- building blocks


@dataclass(frozen=True)
class Entry:
    """One category of a chart: its printed name, the formula giving its figure, the figure now."""

    label: str
    formula: str
    value: int | float


@dataclass(frozen=True)
class DataBlock:
    """A chart's data as written on the sheet: title, value head, entries; where it was written."""

    title: str
    head: str
    entries: tuple[Entry, ...]
    row: int = 0
    col: int = 0
    label_head: str = "项目"

    @property
    def first(self) -> int:
        """The sheet row of the first entry (after the title and the head)."""
        return self.row + 2

    def categories(self, sheet: str) -> str:
        return _range(sheet, self.first, self.col, self.first + len(self.entries) - 1, self.col)

    def values(self, sheet: str) -> str:
        return _range(sheet, self.first, self.col + 1, self.first + len(self.entries) - 1, self.col + 1)

    @property
    def all_zero(self) -> bool:
        return not any(e.value for e in self.entries)


def quoted(sheet: str) -> str:
    """A sheet name as a formula writes it: always quoted (Chinese names, spaces)."""
    return "'" + sheet.replace("'", "''") + "'"


def ref(sheet: str, row: int, col: int) -> str:
    """An absolute reference to one cell of ``sheet``: '表三 依申请公开'!$J$5."""
    return f"{quoted(sheet)}!${_col(col)}${row + 1}"


def _col(col: int) -> str:
    return re.sub(r"\d+", "", a1(0, col))


def _range(sheet: str, r0: int, c0: int, r1: int, c1: int) -> str:
    return f"{quoted(sheet)}!${_col(c0)}${r0 + 1}:${_col(c1)}${r1 + 1}"


def sum_formula(refs: Sequence[str]) -> str:
    """=ref for one cell, =SUM(a,b,…) for several."""
    return f"={refs[0]}" if len(refs) == 1 else f"=SUM({','.join(refs)})"


def write_block(ws: Any, block: DataBlock, styles: dict[str, Any]) -> None:
    """Write ``block`` where it says: its title, the head row, one row per entry (name, and the
    formula with its figure cached for readers that do not recalculate)."""
    row, col = block.row, block.col
    ws.merge_range(row, col, row, col + 1, block.title, styles["head"])
    ws.set_row(row, row_height([(block.title, LABEL_WIDTH + VALUE_WIDTH)]))
    ws.write_string(row + 1, col, block.label_head, styles["head"])
    ws.write_string(row + 1, col + 1, block.head, styles["head"])
    for i, e in enumerate(block.entries):
        ws.write_string(row + 2 + i, col, e.label, styles["text"])
        ws.write_formula(row + 2 + i, col + 1, e.formula, styles["count"], e.value)


def _titled(chart: Any, fmt: Format, title: str, empty: bool) -> None:
    """A chart's title in the definition's font; a chart whose figures are all 0 says so."""
    chart.set_title({"name": title + ("（本年度均为 0）" if empty else ""), "name_font": _font(fmt, 13, True)})


def bar_chart(wb: Any, fmt: Format, sheet: str, block: DataBlock, title: str) -> Any:
    """Horizontal bars, the first entry at the top, each bar labelled with its figure."""
    chart = wb.add_chart({"type": "bar"})
    chart.add_series(
        {
            "name": block.head,
            "categories": f"={block.categories(sheet)}",
            "values": f"={block.values(sheet)}",
            "fill": {"color": "#4472C4"},
            "gap": 60,
            "data_labels": {"value": True, "num_format": HIDE_ZERO, "font": _font(fmt, 9)},
        }
    )
    _titled(chart, fmt, title, block.all_zero)
    chart.set_legend({"none": True})
    # a bar chart's x axis is its value axis; the category axis (y) reversed puts the first entry on top
    chart.set_x_axis({"num_font": _font(fmt, 9), **_count_axis(e.value for e in block.entries)})
    chart.set_y_axis(
        {"reverse": True, "crossing": "max", "interval_unit": 1, "num_font": _font(fmt, 8), "major_tick_mark": "none"}
    )
    height = min(CHART_MAX_PX, max(CHART_MIN_PX, CHART_BASE_PX + BAR_PX * len(block.entries)))
    chart.set_size({"width": CHART_WIDTH_PX, "height": height})
    return chart


def pie_chart(wb: Any, fmt: Format, sheet: str, block: DataBlock, title: str) -> Any:
    """A pie of shares: each slice labelled with its figure and percentage, the names in the legend."""
    chart = wb.add_chart({"type": "pie"})
    chart.add_series(
        {
            "name": block.head,
            "categories": f"={block.categories(sheet)}",
            "values": f"={block.values(sheet)}",
            "data_labels": {
                "value": True,
                "percentage": True,
                "separator": "\n",
                "position": "best_fit",
                "leader_lines": True,
                "font": _font(fmt, 9),
            },
        }
    )
    _titled(chart, fmt, title, block.all_zero)
    chart.set_legend({"position": "right", "font": _font(fmt, 10)})
    chart.set_size({"width": CHART_WIDTH_PX, "height": CHART_MIN_PX + 60})
    return chart


@dataclass(frozen=True)
class Series:
    """One series of a column chart: its name, and the ranges of its categories and figures."""

    name: str
    categories: str
    values: str
    figures: tuple[int, ...]


def column_chart(wb: Any, fmt: Format, series: Sequence[Series], title: str) -> Any:
    """Clustered columns: one colour per series, the categories along the bottom, figures on top."""
    chart = wb.add_chart({"type": "column"})
    for s in series:
        chart.add_series(
            {
                "name": s.name,
                "categories": f"={s.categories}",
                "values": f"={s.values}",
                "data_labels": {"value": True, "num_format": HIDE_ZERO, "font": _font(fmt, 9)},
            }
        )
    _titled(chart, fmt, title, not any(v for s in series for v in s.figures))
    chart.set_legend({"position": "bottom", "font": _font(fmt, 10)})
    chart.set_x_axis({"num_font": _font(fmt, 10)})
    chart.set_y_axis({"num_font": _font(fmt, 9), **_count_axis(v for s in series for v in s.figures)})
    chart.set_size({"width": CHART_WIDTH_PX, "height": CHART_MIN_PX + 60})
    return chart


def _count_axis(values: Iterable[int | float]) -> dict[str, Any]:
    """A value axis of counts: whole-number steps (no 0.2 件), at most about six of them, light gridlines."""
    top = max(values, default=0)
    step = max(1, ceil(top / 6)) if isinstance(top, int) else None
    grid = {"major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}, "min": 0}
    return {**grid, "major_unit": step} if step else grid


# --------------------------------------------------------------------------- what the format gives


def _sum_rule(fmt: Format, grid: Grid, per: str) -> Rule | None:
    return next((r for r in fmt.rules if r.kind == "sum" and r.per == per and grid.key in r.grids), None)


def short_label(label: str) -> str:
    """A row label without its trailing note: （二）部分公开（区分处理的，…） -> （二）部分公开."""
    return re.sub(r"（[^（）]*）$", "", label) or label


def unnumbered(label: str) -> str:
    """A row label without its leading number: 一、本年新收… -> 本年新收…."""
    return re.sub(r"^[一二三四五六七八九十]+、", "", label)


def _left_label(table: Table, line: Line) -> tuple[str, int, int] | None:
    """The label printed just left of a row's label (its group), as (text, first row, last row)."""
    if line.span is None:
        return None
    for lab in table.labels:
        s = lab.span
        if s.last_col == line.span.first_col - 1 and s.first_row <= line.index <= s.last_row:
            return lab.text, s.first_row, s.last_row
    return None


def result_groups(fmt: Format, grid: Grid) -> list[tuple[str, list[str]]]:
    """The parts of a grid's per-column total grouped as the format prints them: a row under a group
    label ((三)不予公开: 8 rows) counts for the group, a row with no group of its own for itself."""
    rule = _sum_rule(fmt, grid, "column")
    if rule is None:
        return []
    table, lines = fmt.table(grid.table), {line.key: line for line in grid.rows}
    total_row = lines[rule.target].index
    groups: list[tuple[str, list[str]]] = []
    for key in rule.parts:
        left = _left_label(table, lines[key])
        whole = left is None or left[1] <= total_row <= left[2]  # the label over every result: no group
        label = short_label(lines[key].label) if whole or left is None else left[0]
        if groups and groups[-1][0] == label:
            groups[-1][1].append(key)
        else:
            groups.append((label, [key]))
    return groups


def figure_cell(fmt: Format, name: str) -> Cell | None:
    """The cell of a one-cell figure of the definition's [report.figures]; None when the format does not
    list it (that chart is left out)."""
    ids = fmt.figure(name)
    return fmt.cells[ids[0]] if len(ids) == 1 else None


def _total_column(fmt: Format, grid: Grid) -> str:
    rule = _sum_rule(fmt, grid, "row")
    return rule.target if rule else grid.columns[-1].key


def outcome_block(fmt: Format, totals: dict[str, int]) -> DataBlock | None:
    """表三's 办理结果 by group, the 总计 column: the parts of （七）总计 as the format groups them."""
    start = figure_cell(fmt, UNITS_BY)
    if start is None:
        return None
    grid = fmt.grid(start.grid)
    col = _total_column(fmt, grid)
    entries = []
    for label, rows in result_groups(fmt, grid):
        cells = [fmt.cells[grid.cell_id(r, col)] for r in rows]
        refs = [ref(c.sheet, c.row, c.col) for c in cells]
        entries.append(Entry(label, sum_formula(refs), sum(totals[c.id] for c in cells)))
    return DataBlock(f"{fmt.table(grid.table).title}：办理结果", "件数", tuple(entries)) if entries else None


def units_block(fmt: Format, details: Sequence[tuple[Unit, dict[str, int]]], cell: Cell) -> DataBlock:
    """``cell``'s figure of each unit, largest first, read from its column of 明细; past
    MAX_CHART_UNITS only the largest (a bar for "the rest" would dwarf them all), the title says so."""
    row = DETAIL_FIRST_ROW + list(fmt.cells).index(cell.id)
    ranked = sorted(range(len(details)), key=lambda i: (-details[i][1][cell.id], i))
    entries = tuple(
        Entry(
            clean_text(details[i][0].name),
            f"={ref(DETAIL_SHEET, row, DETAIL_FIRST_UNIT_COL + i)}",
            details[i][1][cell.id],
        )
        for i in ranked[:MAX_CHART_UNITS]
    )
    title = f"各单位{unnumbered(cell.row_label)}"
    if len(ranked) > MAX_CHART_UNITS:
        title += f"（最多的 {MAX_CHART_UNITS} 个，共 {len(ranked)} 个单位）"
    return DataBlock(title, "件数", entries, label_head="单位")


def result_series(fmt: Format, totals: dict[str, int]) -> tuple[str, list[Series]]:
    """表四: one series per one-row grid (行政复议, the two 诉讼), its per-row total's parts as the
    categories, straight from the table sheet's header and data cells."""
    start = figure_cell(fmt, "review")
    if start is None:
        return "", []
    table = fmt.table(start.table)
    series = []
    for grid in table.grids:
        rule = _sum_rule(fmt, grid, "row")
        if rule is None or len(grid.rows) != 1:
            continue
        cells = [fmt.cells[grid.cell_id(grid.rows[0].key, key)] for key in rule.parts]
        heads = [line for line in grid.columns if line.key in rule.parts and line.span is not None]
        if len(heads) != len(cells) or not cells:
            continue
        h0, h1 = heads[0].span, heads[-1].span
        assert h0 is not None and h1 is not None
        series.append(
            Series(
                grid.rows[0].label,
                _range(table.sheet, h0.first_row, h0.first_col, h1.first_row, h1.first_col),
                _range(table.sheet, cells[0].row, cells[0].col, cells[-1].row, cells[-1].col),
                tuple(totals[c.id] for c in cells),
            )
        )
    return table.title, series


# --------------------------------------------------------------------------- the sheet


def draw_charts(
    wb: Any,
    styles: dict[str, Any],
    fmt: Format,
    unit: Unit,
    year: int,
    totals: dict[str, int],
    details: Sequence[tuple[Unit, dict[str, int]]],
    password: str,
) -> None:
    """The 图表 sheet: each chart with its data beside it, one chart a printed page."""
    ws = wb.add_worksheet(CHARTS_SHEET)
    ws.write_string(
        0, 0, clean_text(f"图表：{unit.name}{year}年度汇总（图表数据引用各表和“明细”的数字）"), styles["title"]
    )
    ws.set_column(0, 0, LABEL_WIDTH)
    ws.set_column(1, 1, VALUE_WIDTH)
    ws.set_column(2, 2, 2)
    placed = _charts(wb, fmt, totals, details)
    for row, block, chart in placed:
        if block is not None:
            write_block(ws, block, styles)
        ws.insert_chart(row, 3, chart, {"object_position": 1, "y_offset": 8})
    ws.set_h_pagebreaks([row for row, _b, _c in placed[1:]])
    ws.set_paper(A4)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.protect(password)


def _charts(
    wb: Any, fmt: Format, totals: dict[str, int], details: Sequence[tuple[Unit, dict[str, int]]]
) -> list[tuple[int, DataBlock | None, Any]]:
    """(first row, data written beside it or None, chart) of each chart the format allows, one below
    the other: a block's place is known before its chart, whose series point at it."""
    out: list[tuple[int, DataBlock | None, Any]] = []
    row = FIRST_ROW
    by_unit = figure_cell(fmt, UNITS_BY)
    if by_unit is not None and details:
        block = replace(units_block(fmt, details, by_unit), row=row)
        out.append((row, block, bar_chart(wb, fmt, CHARTS_SHEET, block, block.title)))
        row += _rows(block, out[-1][2])
    outcomes = outcome_block(fmt, totals)
    if outcomes is not None:
        block = replace(outcomes, row=row)
        out.append((row, block, pie_chart(wb, fmt, CHARTS_SHEET, block, block.title)))
        row += _rows(block, out[-1][2])
    title, series = result_series(fmt, totals)
    if series:
        out.append((row, None, column_chart(wb, fmt, series, f"{title}：结果")))
    return out


def _rows(block: DataBlock, chart: Any) -> int:
    """The rows a chart and its data block take, and a blank row or two after them."""
    return max(-(-int(chart.height) // ROW_PX), len(block.entries) + 2) + 2


__all__ = [
    "CHARTS_SHEET",
    "MAX_CHART_UNITS",
    "DataBlock",
    "Entry",
    "Series",
    "bar_chart",
    "column_chart",
    "draw_charts",
    "outcome_block",
    "pie_chart",
    "result_groups",
    "result_series",
    "units_block",
    "write_block",
]
