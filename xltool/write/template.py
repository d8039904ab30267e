"""Draw the statutory tables of a Format into an xlsxwriter workbook: the per-unit template.

Everything drawn comes from the definition (``xltool.definition``): labels at their spans, data
cells, totals as ``=SUM`` formulas, live check cells for rules that have a check row. Input cells
are unlocked, yellow and validated; everything else is locked behind sheet protection, which
guards against slips, not against anyone determined (the password is documented).

``draw_return`` only adds sheets to an open workbook, so the consolidator can draw the same
return and append its own sheets; ``write_template(s)`` create the files.
"""

from __future__ import annotations

import dataclasses
import errno
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from math import ceil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import xltool
from xltool.definition import AMOUNT, COUNT, DELTA, Cell, Format, RuleInstance, Span, Table, Term
from xltool.errors import DefinitionError, InvalidArgument, UsageError, os_reason
from xltool.findings import Finding
from xltool.model import (
    IDENT_SHEET,
    SOURCE_FINDING_FIELDS,
    SOURCE_FINDINGS_SHEET,
    TEMPLATE,
    UNPLACED,
    Identity,
    LastYear,
    Unit,
    check_unit,
)
from xltool.text import clean_text
from xltool.totals import recompute_totals
from xltool.values import AMOUNT_DECIMALS, show_value, workbook_number
from xltool.write.files import Existing, atomic_write, exists_error, output_set

if TYPE_CHECKING:  # xlsxwriter is imported where a file is written, to keep the CLI start fast
    import xlsxwriter
    from xlsxwriter.worksheet import Worksheet

DEFAULT_PASSWORD = "xltool"
"""Sheet protection password. Published on purpose: protection only prevents accidental edits."""

WORKBOOK_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "in_memory": True,
}
"""Options for every workbook xltool creates: text from a roster always stays text; no temp files."""

CHECK_OK = "正确"

# Excel's limits on data validation texts (UTF-16 units; CJK characters count one each).
_DV_TITLE_MAX, _DV_MESSAGE_MAX = 32, 255
# Bounds of the "whole number of any sign" validation: Excel needs some; no 本年增/减 comes near.
_DELTA_LIMIT = 999_999_999

_WINDOWS_ILLEGAL = re.compile(r'[<>:"/\\|?*\x00-\x1f]')

# Colours: light yellow inputs, grey totals, pale blue headers; Excel's good/bad palette for checks.
_INPUT_FILL, _TOTAL_FILL, _HEADER_FILL = "#FFF2CC", "#D9D9D9", "#DDEBF7"
_OK_STYLE = {"bg_color": "#C6EFCE", "font_color": "#006100"}
_BAD_STYLE = {"bg_color": "#FFC7CE", "font_color": "#9C0006", "bold": True}
_WARN_STYLE = {"bg_color": "#FFEB9C", "font_color": "#9C5700", "bold": True}  # Excel's 中性: check, may be right
_CARRIED_FILL = "#E4DFEC"  # lavender: last year's figures, locked (neither an input nor a total)
CHECK_WARN = "请核实"

_FONT_SIZE, _TITLE_SIZE = 10, 14
_LINE_HEIGHT = 13.5  # points per wrapped line at _FONT_SIZE


def _check(rc: int | None, what: str) -> None:
    """xlsxwriter reports many failures by return code (-1 range, -2 length): never ignore one."""
    if rc not in (0, None):
        raise DefinitionError(f"无法写入{what}（xlsxwriter 返回 {rc}）")


# --------------------------------------------------------------------------- values


def complete_values(fmt: Format, values: Mapping[str, int] | None = None) -> dict[str, int]:
    """Every cell's value: inputs as given (0 when missing), totals as the sum of their parts.

    Totals given in ``values`` are ignored: the template's formulas compute them from the inputs,
    so the cached results written with the formulas must do the same.
    """
    values = values or {}
    unknown = sorted(set(values) - set(fmt.cells))
    if unknown:
        raise InvalidArgument(f"未定义的单元格：{', '.join(unknown)}")
    return recompute_totals({c.id: int(values.get(c.id, 0)) for c in fmt.input_cells}, fmt)


# --------------------------------------------------------------------------- formulas


def _sum_ranges(cells: Iterable[Cell]) -> str:
    """Addresses for SUM(): contiguous runs along a row or down a column become ranges."""
    runs: list[list[Cell]] = []
    for cell in cells:
        if runs and _extends(runs[-1], cell):
            runs[-1].append(cell)
        else:
            runs.append([cell])
    return ",".join(r[0].address if len(r) == 1 else f"{r[0].address}:{r[-1].address}" for r in runs)


def _extends(run: list[Cell], cell: Cell) -> bool:
    """Whether ``cell`` continues ``run`` without a gap (a range over wide cells would take in blanks)."""
    last = run[-1]
    across = cell.row == last.row and cell.col == last.col + 1 and last.width == cell.width == 1
    down = cell.col == last.col and cell.row == last.row + 1 and cell.width == last.width
    if len(run) == 1:
        return across or down
    return across if run[0].row == last.row else down


def _terms(fmt: Format, terms: tuple[Term, ...], previous: Mapping[str, str] | None = None) -> str:
    """Terms as Excel text: D5+D6, D9-D10, 2*D5; "0" when there are none. ``previous`` gives the
    address where last year's value of a cell is shown (a template made with last year's figures)."""
    out = ""
    for t in terms:
        sign = "-" if t.coef < 0 else "+"
        factor = f"{abs(t.coef)}*" if abs(t.coef) != 1 else ""
        address = previous[t.cell] if t.previous and previous is not None else fmt.cells[t.cell].address
        out += f"{sign}{factor}{address}"
    return out.removeprefix("+") or "0"


def _check_formula(
    fmt: Format, inst: RuleInstance, previous: Mapping[str, str] | None = None, word: str = "不符"
) -> str:
    diff = f"({_terms(fmt, inst.lhs, previous)})-({_terms(fmt, inst.rhs, previous)})"
    if _instance_kind(fmt, inst) == AMOUNT:
        diff = f"ROUND({diff},{AMOUNT_DECIMALS})"
    return f'=IF({diff}=0,"{CHECK_OK}","{word}（差"&({diff})&"）")'


def _instance_kind(fmt: Format, inst: RuleInstance) -> str:
    return AMOUNT if any(fmt.cells[t.cell].kind == AMOUNT for t in inst.lhs + inst.rhs) else COUNT


def check_result(
    fmt: Format,
    inst: RuleInstance,
    values: Mapping[str, int],
    previous: Mapping[str, int] | None = None,
    word: str = "不符",
) -> str:
    """What the live check cell of ``inst`` shows for complete ``values`` (and last year's ``previous``
    for its cross-year terms): 正确 or 不符（差 N）."""

    def value(t: Term) -> int:
        return t.coef * (previous[t.cell] if t.previous and previous is not None else values[t.cell])

    diff = sum(map(value, inst.lhs)) - sum(map(value, inst.rhs))
    return CHECK_OK if diff == 0 else f"{word}（差{show_value(diff, _instance_kind(fmt, inst))}）"


# --------------------------------------------------------------------------- layout helpers


NUMBER_FORMATS = {COUNT: "0", AMOUNT: "0.0000##", DELTA: "0"}
"""Amounts show 4 decimals at least, as they always have (0 shows 0.0000), and up to the 6 that are
kept (5949.088667 万元, to the fen) instead of rounding the 5th and 6th away on screen and on paper."""
"""How each kind of statutory number is shown: whole numbers, or 万元 with four fixed decimals."""


class _Styles:
    """Formats are per workbook in xlsxwriter: build each named style once, on first use."""

    _SPECS: dict[str, dict[str, Any]] = {
        "title": {"bold": True, "font_size": _TITLE_SIZE, "align": "center"},
        "subtitle": {"align": "center"},
        "header": {"bold": True, "align": "center", "border": 1, "bg_color": _HEADER_FILL},
        "group": {"align": "center", "border": 1},
        "row_label": {"align": "left", "border": 1},
        "check_label": {"align": "left", "border": 1, "italic": True},
        "check": {"align": "center", "border": 1},
        **{
            f"input_{k}": {"locked": False, "bg_color": _INPUT_FILL, "border": 1, "num_format": n}
            for k, n in NUMBER_FORMATS.items()
        },
        **{f"total_{k}": {"bg_color": _TOTAL_FILL, "border": 1, "num_format": n} for k, n in NUMBER_FORMATS.items()},
        "cover_label": {"bold": True, "border": 1, "align": "left"},
        "cover_value": {"border": 1, "align": "left", "num_format": "@"},
        "cover_input": {"locked": False, "bg_color": _INPUT_FILL, "border": 1, "align": "left", "num_format": "@"},
        "note": {"align": "left", "valign": "top"},
        "note_head": {"align": "left", "bold": True},
        "ident": {"num_format": "@"},
        **{
            f"carried_{k}": {"bg_color": _CARRIED_FILL, "border": 1, "num_format": n} for k, n in NUMBER_FORMATS.items()
        },
        "carried_note": {"bg_color": _CARRIED_FILL, "border": 1, "align": "left", "valign": "top"},
        "ok": _OK_STYLE,
        "bad": _BAD_STYLE,
        "warn": _WARN_STYLE,
    }

    def __init__(self, workbook: xlsxwriter.Workbook, font: str):
        self.workbook = workbook
        self.font = font
        self._cache: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._cache:
            spec = self._SPECS[name]
            if name in ("ok", "bad", "warn"):  # conditional formats: colours only
                self._cache[name] = self.workbook.add_format(spec)
            else:
                base = {"font_name": self.font, "font_size": _FONT_SIZE, "valign": "vcenter", "text_wrap": True}
                self._cache[name] = self.workbook.add_format(base | spec)
        return self._cache[name]


def _text_units(text: str) -> float:
    """Approximate width of text in Excel column units: CJK characters are about two."""
    return sum(2.0 if unicodedata.east_asian_width(ch) in "WF" else 1.1 for ch in text)


class _Sheet:
    """One worksheet plus the row heights its wrapped texts need."""

    def __init__(self, ws: Worksheet, styles: _Styles, widths: tuple[float, ...]):
        self.ws = ws
        self.styles = styles
        self.widths = widths
        self.heights: dict[int, float] = {}
        for col, width in enumerate(widths):
            _check(ws.set_column(col, col, width), f"{ws.name} 的列宽")

    def _width(self, span: Span) -> float:
        default = 8.43
        return sum(
            self.widths[c] if c < len(self.widths) else default for c in range(span.first_col, span.last_col + 1)
        )

    def need(self, span: Span, text: str, line_height: float = _LINE_HEIGHT) -> None:
        """Record the height the wrapped text needs, shared evenly by the rows of its span."""
        usable = max(self._width(span) - 1.5, 1.0)
        lines = sum(max(1, ceil(_text_units(part) / usable)) for part in text.split("\n"))
        rows = span.last_row - span.first_row + 1
        per_row = (lines * line_height + 4) / rows
        for row in range(span.first_row, span.last_row + 1):
            self.heights[row] = max(self.heights.get(row, 0.0), per_row)

    def area(self, span: Span, style: str) -> None:
        """Merge the span (if it is one) with the style; the caller writes the top-left cell."""
        if span.is_merged:
            _check(
                self.ws.merge_range(
                    span.first_row, span.first_col, span.last_row, span.last_col, "", self.styles[style]
                ),
                f"{self.ws.name} {span.ref} 的合并单元格",
            )

    def text(self, span: Span, text: str, style: str, line_height: float = _LINE_HEIGHT) -> None:
        text = clean_text(text)
        self.area(span, style)
        if text:
            rc = self.ws.write_string(span.first_row, span.first_col, text, self.styles[style])
        else:  # an empty string cell is not a blank one to Excel or to readers
            rc = self.ws.write_blank(span.first_row, span.first_col, None, self.styles[style])
        _check(rc, f"{self.ws.name} {span.top_left} 的文字")
        self.need(span, text, line_height)

    def widen(self, col: int, width: float) -> None:
        """Set a column beyond the table's own widths (last year's figures beside a table)."""
        widths = list(self.widths) + [8.43] * max(0, col + 1 - len(self.widths))
        widths[col] = width
        self.widths = tuple(widths)
        _check(self.ws.set_column(col, col, width), f"{self.ws.name} 的列宽")

    def finish(self) -> None:
        for row, height in sorted(self.heights.items()):
            _check(self.ws.set_row(row, max(height, 18.0)), f"{self.ws.name} 第 {row + 1} 行的行高")


def _add_sheet(workbook: xlsxwriter.Workbook, name: str) -> Worksheet:
    from xlsxwriter.exceptions import XlsxWriterException

    try:
        return workbook.add_worksheet(name)
    except XlsxWriterException as exc:
        raise DefinitionError(f"无法添加工作表 {name!r}：{exc}") from None


def _page_setup(ws: Worksheet, landscape: bool, title_rows: int) -> None:
    ws.set_paper(9)  # A4
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.fit_to_pages(1, 0)
    ws.center_horizontally()
    ws.set_footer("&C第 &P 页，共 &N 页")
    if title_rows:
        ws.repeat_rows(0, title_rows - 1)


def _protect(ws: Worksheet, password: str | None) -> None:
    """Lock the sheet; the clerk may still select cells and resize rows and columns."""
    if password is None:
        return
    ws.protect(
        password,
        {"select_locked_cells": True, "select_unlocked_cells": True, "format_columns": True, "format_rows": True},
    )


# --------------------------------------------------------------------------- last year's figures


@dataclass(frozen=True)
class _Carried:
    """What a template made with last year's figures shows: carried cells, reference figures."""

    last: LastYear
    cells: dict[str, int]  # this year's cell id -> last year's figure (filled in and locked)
    references: dict[str, int]  # last year's cell id -> figure shown beside a table for a live check


def carried_cells(fmt: Format, last: LastYear) -> dict[str, int]:
    """This year's cells the definition's carry rules fill with last year's figures (a cell last year
    left blank or unreadable is not carried)."""
    return {cid: v for cid, prev in fmt.carries if isinstance(v := last.values.get(prev), int)}


def reference_values(fmt: Format, last: LastYear) -> dict[str, int]:
    """Last year's figures a template shows beside a table for a cross-year rule's live check."""
    out: dict[str, int] = {}
    for inst in fmt.instances:
        term = inst.previous_term if inst.reference_span is not None else None
        if term is not None and isinstance(v := last.values.get(term.cell), int):
            out[term.cell] = v
    return out


def _carried(fmt: Format, last: LastYear | None) -> _Carried | None:
    if last is None:
        return None
    cells, references = carried_cells(fmt, last), reference_values(fmt, last)
    return _Carried(last, cells, references) if cells or references else None


def _carried_identity(identity: Identity, carried: _Carried) -> Identity:
    """The identification records what was carried, so validate can tell a carried figure was changed."""
    items = [f"{cid}={v}" for cid, v in carried.cells.items()]
    items += [f"prev:{cid}={v}" for cid, v in carried.references.items()]
    return dataclasses.replace(identity, carried=";".join(items), carried_from=carried.last.source)


def _carried_note(fmt: Format, carried: _Carried) -> str:
    """The cover's line: what was carried from where, and what is shown for reference only."""
    last = carried.last
    rows = dict.fromkeys(
        (fmt.cells[cid].sheet, fmt.cells[cid].row_label, fmt.cells[prev].row_label)
        for cid, prev in fmt.carries
        if cid in carried.cells
    )
    said = [
        f"{sheet}“{this}”一行取自 {last.year} 年度的“{that}”，已锁定（淡紫色单元格），请勿改动"
        for sheet, this, that in rows
    ]
    shown = dict.fromkeys(
        (i.sheet, i.rule.reference_at.ref, fmt.cells[i.previous_term.cell].col_label, i.rule.code)
        for i in fmt.instances
        if i.rule.reference_at is not None
        and i.previous_term is not None
        and i.previous_term.cell in carried.references
    )
    said += [f"{sheet} {ref} 为 {last.year} 年度的“{label}”，仅供核对（{code}）" for sheet, ref, label, code in shown]
    source = f"（来源：{last.file}）" if last.file else ""
    return f"本模板已带入上年数据{source}：{'；'.join(said)}。上年数据有误时，请联系下发模板的单位重新生成模板。"


def _draw_carried_cell(sheet: _Sheet, fmt: Format, cell: Cell, number: int | Decimal, carried: _Carried) -> None:
    """A carried figure: a number, locked, with its own fill and a note saying where it came from."""
    ws, where = sheet.ws, f"{cell.sheet} {cell.address}"
    style_name = f"carried_{cell.kind}"
    sheet.area(cell.span, style_name)
    _check(ws.write_number(cell.row, cell.col, number, sheet.styles[style_name]), f"{where} 的上年数据")
    prev = dict(fmt.carries)[cell.id]
    last = carried.last
    source = f"（来源：{last.file}）" if last.file else ""
    note = f"上年结转：取自 {last.year} 年度“{fmt.cells[prev].row_label}”{source}。已锁定，请勿改动。"
    _check(ws.write_comment(cell.row, cell.col, note, _NOTE_OPTIONS), f"{where} 的批注")


_NOTE_OPTIONS = {"author": "xltool", "x_scale": 2.2, "y_scale": 1.2}


def _draw_references(sheet: _Sheet, fmt: Format, table: Table, values: Mapping[str, int], carried: _Carried) -> None:
    """Last year's figures beside a table (outside the statutory cells), and the cross-year rule
    checked live against them; a warning rule shows a warning colour, not an error's red."""
    ws = sheet.ws
    instances = [
        i
        for i in fmt.instances
        if i.sheet == table.sheet
        and i.reference_span is not None
        and i.previous_term is not None
        and i.previous_term.cell in carried.references
    ]
    last = carried.last
    for rule in dict.fromkeys(i.rule for i in instances):
        grid = fmt.grid(rule.grids[0])
        width = table.widths[min(grid.columns[-1].index, len(table.widths) - 1)]
        for span in (rule.reference_at, rule.reference_check_at):
            if span is not None:
                for col in range(span.first_col, span.last_col + 1):
                    sheet.widen(col, width)
        for label in (rule.reference_label, rule.reference_check_label):
            if label is not None:
                sheet.text(label.span, label.text, "header")
    for inst in instances:
        term = inst.previous_term
        assert term is not None and inst.reference_span is not None
        prev_cell, span = fmt.cells[term.cell], inst.reference_span
        where = f"{table.sheet} {span.top_left}"
        number = workbook_number(carried.references[term.cell], prev_cell.kind)
        sheet.area(span, f"carried_{prev_cell.kind}")
        _check(
            ws.write_number(span.first_row, span.first_col, number, sheet.styles[f"carried_{prev_cell.kind}"]),
            f"{where} 的上年数据",
        )
        source = f"（来源：{last.file}）" if last.file else ""
        note = (
            f"{last.year} 年度“{prev_cell.row_label}”的“{prev_cell.col_label}”{source}，仅供核对"
            f"{inst.code}（{inst.rule.title}），不是本年的统计数。"
        )
        _check(ws.write_comment(span.first_row, span.first_col, note, _NOTE_OPTIONS), f"{where} 的批注")
        check = inst.reference_check_span
        if check is None:
            continue
        word, bad = ("不符", "bad") if inst.rule.severity == "error" else (CHECK_WARN, "warn")
        previous = {term.cell: span.top_left}
        result = check_result(fmt, inst, values, carried.references, word)
        sheet.area(check, "check")
        formula = _check_formula(fmt, inst, previous, word)
        _check(
            ws.write_formula(check.first_row, check.first_col, formula, sheet.styles["check"], result),
            f"{table.sheet} {check.top_left} 的校验公式",
        )
        sheet.need(check, result)
        bounds = (check.first_row, check.first_col, check.last_row, check.last_col)
        for criteria, style in (("==", "ok"), ("!=", bad)):
            options = {"type": "cell", "criteria": criteria, "value": f'"{CHECK_OK}"', "format": sheet.styles[style]}
            _check(ws.conditional_format(*bounds, options), f"{table.sheet} {check.ref} 的条件格式")


# --------------------------------------------------------------------------- drawing


def draw_return(
    workbook: xlsxwriter.Workbook,
    fmt: Format,
    identity: Identity,
    values: Mapping[str, int] | None = None,
    cover: Mapping[str, str] | None = None,
    password: str | None = DEFAULT_PASSWORD,
    printed: Mapping[str, int | str | None] | None = None,
    carried: LastYear | None = None,
) -> None:
    """Add the cover, one sheet per table and the very hidden identification to ``workbook``.

    ``values`` maps cell id -> int (amounts scaled by AMOUNT_SCALE); missing inputs are 0 and
    totals are computed. ``cover`` gives cover field values by key (the unit and year fields
    default to ``identity``). ``password=None`` leaves the sheets unprotected; "" protects them
    without a password. The workbook is left open for the caller to add sheets and close.

    ``printed`` (instead of ``values``, for an imported document) gives every cell as the document
    printed it, totals included: an int is written as a number, a text as text, None as a blank;
    totals are then typed numbers, not formulas, so that the workbook says what the document said.

    ``carried`` (a template made with last year's figures): the cells of the definition's carry rules
    are filled with last year's figures and locked, last year's figures of a rule with ``reference_at``
    are shown beside its table with a live check, the cover says so and the identification records it.
    """
    carry = _carried(fmt, carried) if printed is None else None
    if carry is not None:
        identity = _carried_identity(identity, carry)
        values = {**(values or {}), **carry.cells}
    computed = complete_values(fmt, values) if printed is None else _printed_numbers(fmt, printed)
    styles = _Styles(workbook, fmt.font)
    _draw_cover(workbook, styles, fmt, identity, cover or {}, password, carry)
    for table in fmt.tables:
        _draw_table(workbook, styles, fmt, table, computed, password, printed, carry)
    _draw_identity(workbook, styles, identity, password)


def _printed_numbers(fmt: Format, printed: Mapping[str, int | str | None]) -> dict[str, int]:
    """The numbers behind the check cells' cached results: what was printed, 0 where it was no number."""
    unknown = sorted(set(printed) - set(fmt.cells))
    if unknown:
        raise InvalidArgument(f"未定义的单元格：{', '.join(unknown)}")
    return {cid: v if isinstance(v := printed.get(cid), int) else 0 for cid in fmt.cells}


def _draw_cover(
    workbook: xlsxwriter.Workbook,
    styles: _Styles,
    fmt: Format,
    identity: Identity,
    cover: Mapping[str, str],
    password: str | None,
    carried: _Carried | None = None,
) -> None:
    spec = fmt.cover
    keys = {f.key for f in spec.fields}
    unknown = sorted(set(cover) - keys)
    if unknown:
        raise InvalidArgument(f"封面没有这些栏目：{', '.join(unknown)}")
    sheet = _Sheet(_add_sheet(workbook, spec.sheet), styles, spec.widths)
    words = {"year": identity.year, "document": fmt.document, "name": fmt.name, "version": fmt.version}
    try:
        title, subtitle = spec.title.format_map(words), spec.subtitle.format_map(words)
    except (KeyError, ValueError) as exc:
        raise DefinitionError(f"{fmt.source}: 封面标题中的占位符无效：{exc}（可用：{', '.join(words)}）") from None
    sheet.text(spec.title_span, title, "title", line_height=22)
    if subtitle:
        sheet.text(spec.subtitle_span, subtitle, "subtitle")
    defaults = {
        "unit_name": identity.unit_name,
        "unit_code": identity.unit_code,
        "unit_level": identity.unit_level,
        "year": str(identity.year),
    }
    for field in spec.fields:
        sheet.text(field.label_span, field.label, "cover_label")
        value = cover.get(field.key, "" if field.input else defaults.get(field.key, ""))
        sheet.text(field.value_span, value, "cover_input" if field.input else "cover_value")
    span = spec.instructions_span
    for i, line in enumerate(spec.instructions):
        row = span.first_row + i
        sheet.text(Span(row, span.first_col, row, span.last_col), line, "note_head" if i == 0 else "note")
    if carried is not None and spec.carried_span is not None:
        sheet.text(spec.carried_span, _carried_note(fmt, carried), "carried_note")
    sheet.finish()
    _page_setup(sheet.ws, landscape=False, title_rows=0)
    _protect(sheet.ws, password)


def _draw_table(
    workbook: xlsxwriter.Workbook,
    styles: _Styles,
    fmt: Format,
    table: Table,
    values: Mapping[str, int],
    password: str | None,
    printed: Mapping[str, int | str | None] | None = None,
    carried: _Carried | None = None,
) -> None:
    sheet = _Sheet(_add_sheet(workbook, table.sheet), styles, table.widths)
    ws = sheet.ws
    sheet.text(table.title_span, table.title, "title", line_height=22)
    header_rows = set(table.header_rows)
    for label in table.labels:
        sheet.text(label.span, label.text, "header" if label.span.first_row in header_rows else "group")
    drawn: set[Span] = set()
    for grid in table.grids:
        for line in grid.columns:
            if line.span and line.span not in drawn:
                drawn.add(line.span)
                sheet.text(line.span, line.label, "header")
        for line in grid.rows:
            if line.span and line.span not in drawn:
                drawn.add(line.span)
                sheet.text(line.span, line.label, "row_label")
    for cell in fmt.cells.values():
        if cell.table != table.key:
            continue
        if carried is not None and cell.id in carried.cells:
            _draw_carried_cell(sheet, fmt, cell, workbook_number(values[cell.id], cell.kind), carried)
        else:
            _draw_cell(sheet, fmt, cell, values, printed)
    _draw_checks(sheet, fmt, table, values)
    if carried is not None and carried.references:
        _draw_references(sheet, fmt, table, values, carried)
    sheet.finish()
    if table.freeze_rows:
        ws.freeze_panes(table.freeze_rows, 0)
    _page_setup(ws, table.landscape, table.freeze_rows)
    _protect(ws, password)


def _draw_cell(
    sheet: _Sheet,
    fmt: Format,
    cell: Cell,
    values: Mapping[str, int],
    printed: Mapping[str, int | str | None] | None = None,
) -> None:
    ws, where = sheet.ws, f"{cell.sheet} {cell.address}"
    style_name = ("total_" if cell.is_total else "input_") + cell.kind
    style = sheet.styles[style_name]
    sheet.area(cell.span, style_name)
    number = workbook_number(values[cell.id], cell.kind)
    if printed is not None:  # as the document printed it: a number, a text, or nothing
        shown = printed.get(cell.id)
        if isinstance(shown, int):
            _check(ws.write_number(cell.row, cell.col, number, style), f"{where} 的数值")
        elif shown:
            _check(ws.write_string(cell.row, cell.col, clean_text(shown), style), f"{where} 的文字")
        else:
            _check(ws.write_blank(cell.row, cell.col, None, style), f"{where} 的空白")
        return
    if cell.is_total:
        formula = f"=SUM({_sum_ranges(fmt.cells[p] for p in cell.parts)})"
        _check(ws.write_formula(cell.row, cell.col, formula, style, number), f"{where} 的合计公式")
        return
    _check(ws.write_number(cell.row, cell.col, number, style), f"{where} 的数值")
    span = cell.span
    options = _validation(fmt, cell)
    _check(
        ws.data_validation(span.first_row, span.first_col, span.last_row, span.last_col, options),
        f"{where} 的数据有效性（提示文字过长？）",
    )


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _validation(fmt: Format, cell: Cell) -> dict[str, Any]:
    """Whole number >= 0 for counts, decimal >= 0 for amounts, any whole number for deltas (本年增/减),
    with Chinese prompts within Excel's limits."""
    if cell.kind == DELTA:
        rule = "请填写整数：比上一年增加填正数，减少填负数（如 -2）。没有变化请填 0。"
        error = "此处只能填写整数，减少时填负数（如 -2）。不要填小数、“/”“—”“无”或其他文字；没有变化请填 0。"
        options: dict[str, Any] = {
            "validate": "integer",
            "criteria": "between",
            "minimum": -_DELTA_LIMIT,
            "maximum": _DELTA_LIMIT,
        }
    elif cell.kind == AMOUNT:
        unit = cell.unit
        rule = f"请填写大于或等于 0 的数（单位：{unit}），最多 {AMOUNT_DECIMALS} 位小数。没有发生请填 0。"
        error = f"此处只能填写大于或等于 0 的数（单位：{unit}）。不要填“/”“—”“无”或其他文字；没有发生请填 0。"
        options = {"validate": "decimal", "criteria": ">=", "value": 0}
    else:
        rule = "请填写大于或等于 0 的整数。没有发生请填 0。"
        error = "此处只能填写大于或等于 0 的整数。不要填小数、“/”“—”“无”或其他文字；没有发生请填 0。"
        options = {"validate": "integer", "criteria": ">=", "value": 0}
    where = f"{cell.row_label}／{cell.col_label}"
    room = _DV_MESSAGE_MAX - len(rule) - 1
    options |= {
        "input_title": _clip(f"填报：{cell.col_label}", _DV_TITLE_MAX),
        "input_message": f"{_clip(where, room)}\n{rule}",
        "error_title": "填写有误",
        "error_message": _clip(error, _DV_MESSAGE_MAX),
    }
    return options


def _draw_checks(sheet: _Sheet, fmt: Format, table: Table, values: Mapping[str, int]) -> None:
    """Live 正确 / 不符（差 N） cells for the rules that have a check row on this table."""
    ws = sheet.ws
    grids = {g.key for g in table.grids}
    for rule in fmt.rules:
        if rule.check_label and grids.intersection(rule.grids):
            sheet.text(rule.check_label.span, rule.check_label.text, "check_label")
    for inst in fmt.instances:
        span = inst.check_span
        if span is None or inst.sheet != table.sheet:
            continue
        if any(t.previous for t in inst.lhs + inst.rhs):
            continue  # last year's figures are not in the workbook: nothing to compute live
        sheet.area(span, "check")
        result = check_result(fmt, inst, values)
        rc = ws.write_formula(span.first_row, span.first_col, _check_formula(fmt, inst), sheet.styles["check"], result)
        _check(rc, f"{table.sheet} {span.top_left} 的校验公式")
        sheet.need(span, result)
        bounds = (span.first_row, span.first_col, span.last_row, span.last_col)
        for criteria, style in (("==", "ok"), ("!=", "bad")):
            options = {"type": "cell", "criteria": criteria, "value": f'"{CHECK_OK}"', "format": sheet.styles[style]}
            _check(ws.conditional_format(*bounds, options), f"{table.sheet} {span.ref} 的条件格式")


def draw_source_findings(
    workbook: xlsxwriter.Workbook, findings: Iterable[Finding], unplaced: Iterable[str], password: str | None
) -> None:
    """Keep what was found about an imported document's layout inside the imported workbook, and which
    cells it did not print (blank there, and not to be reported again as blanks)."""
    ws = _add_sheet(workbook, SOURCE_FINDINGS_SHEET)
    for col, key in enumerate(SOURCE_FINDING_FIELDS):
        _check(ws.write_string(0, col, key), f"{SOURCE_FINDINGS_SHEET} 的表头")
    rows = [
        [",".join(f.cell_ids) if k == "cell_ids" else str(getattr(f, k)) for k in SOURCE_FINDING_FIELDS]
        for f in findings
    ]
    missing = {"rule": UNPLACED, "cell_ids": ",".join(unplaced)}  # a row, not a finding: see UNPLACED
    rows.append([missing.get(k, "") for k in SOURCE_FINDING_FIELDS])
    for row, values in enumerate(rows, start=1):
        for col, value in enumerate(values):
            _check(ws.write_string(row, col, clean_text(value)), f"{SOURCE_FINDINGS_SHEET} 的内容")
    ws.very_hidden()
    _protect(ws, password)


def _draw_identity(workbook: xlsxwriter.Workbook, styles: _Styles, identity: Identity, password: str | None) -> None:
    ws = _add_sheet(workbook, IDENT_SHEET)
    for row, (key, value) in enumerate(identity.rows()):
        _check(ws.write_string(row, 0, key, styles["ident"]), f"{IDENT_SHEET} 的标识")
        _check(ws.write_string(row, 1, clean_text(value), styles["ident"]), f"{IDENT_SHEET} 的标识")
    ws.set_column(0, 1, 24)
    ws.very_hidden()
    _protect(ws, password)


# --------------------------------------------------------------------------- files


def template_identity(fmt: Format, unit: Unit, year: int, kind: str = TEMPLATE) -> Identity:
    """The identification of a unit's workbook: its blank template, or ("consolidated") its sums."""
    return Identity(
        format_id=fmt.id,
        format_version=fmt.version,
        fingerprint=fmt.fingerprint,
        unit_code=unit.code,
        unit_name=unit.name,
        unit_level=unit.level,
        year=year,
        kind=kind,
        xltool_version=xltool.__version__,
    )


def _why(exc: BaseException) -> str:
    """The reason a write failed, in the clerk's words where we know them."""
    reasons = {
        errno.ENOTDIR: "路径中有一部分是文件而不是文件夹",
        errno.EACCES: "没有写入权限（文件可能正在 Excel/WPS 中打开）",
        errno.EPERM: "没有写入权限（文件可能正在 Excel/WPS 中打开）",
        errno.ENOSPC: "磁盘已满",
        errno.EROFS: "磁盘是只读的",
        errno.EEXIST: "路径中有一部分是文件而不是文件夹",  # mkdir over an existing file
    }
    cause = exc.__context__ if not isinstance(exc, OSError) and isinstance(exc.__context__, OSError) else exc
    if isinstance(cause, OSError) and cause.errno in reasons:
        return reasons[cause.errno]
    return os_reason(exc)


def write_workbook(path: str | Path, draw: Callable[[xlsxwriter.Workbook], None], *, exclusive: bool = False) -> Path:
    """Create ``path`` atomically: ``draw(workbook)`` fills a temporary file beside it, which then
    replaces ``path``. A failed run leaves neither a partial file nor the old file damaged.
    ``exclusive``: never replace a file (OutputExists, said as ``files.claim_output`` says it)."""
    import xlsxwriter
    from xlsxwriter.exceptions import FileCreateError

    def write(tmp: Path) -> None:
        with xlsxwriter.Workbook(str(tmp), WORKBOOK_OPTIONS) as workbook:
            draw(workbook)

    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return atomic_write(path, write, exclusive=exclusive)
        except FileExistsError:
            if exclusive:
                raise exists_error(path) from None
            raise
    except (OSError, FileCreateError) as exc:
        raise UsageError(f"{path}: 无法写入：{_why(exc)}") from None


def write_template(
    fmt: Format,
    unit: Unit,
    year: int,
    path: str | Path,
    password: str | None = DEFAULT_PASSWORD,
    carried: LastYear | None = None,
    *,
    overwrite: bool = True,
) -> Path:
    """Write one unit's blank template to ``path`` (atomically) and return the path; with ``carried``
    (the unit's figures of last year) the cells the definition carries are filled in and locked.
    ``overwrite=False``: never replace a file (OutputExists)."""
    identity = template_identity(fmt, check_unit(unit), year)
    return write_workbook(
        path, lambda wb: draw_return(wb, fmt, identity, password=password, carried=carried), exclusive=not overwrite
    )


def template_file_name(unit: Unit, year: int) -> str:
    """``{code}_{name}_{year}年政府信息公开统计表.xlsx``, safe as a Windows file name."""
    stem = f"{unit.code}_{unit.name}_{year}年政府信息公开统计表"
    stem = _WINDOWS_ILLEGAL.sub("_", clean_text(stem)).strip(" .")
    return f"{stem}.xlsx"


class Templates(list[Path]):
    """The paths written, in unit order; made with last year's figures, which units carry them and
    which had none (they got the ordinary template)."""

    def __init__(
        self,
        paths: Iterable[Path] = (),
        carried: Sequence[Unit] = (),
        without: Sequence[Unit] = (),
        replaced: Sequence[Path] = (),
    ):
        super().__init__(paths)
        self.carried = list(carried)
        self.without_previous = list(without)
        self.replaced = list(replaced)
        """Files that were in the folder and were replaced (``existing="replace"``)."""


def write_templates(
    fmt: Format,
    units: Iterable[Unit],
    year: int,
    out_dir: str | Path,
    password: str | None = DEFAULT_PASSWORD,
    previous: Mapping[str, LastYear] | None = None,
    existing: Existing = "rename",
) -> Templates:
    """Write one template per unit into ``out_dir`` (created if needed); returns the paths in unit order.
    The templates appear together or not at all (``files.output_set``); a name already in ``out_dir``
    gets " (2)" (``existing="replace"``: the file is replaced).

    ``previous``: last year's figures by unit code (``xltool.previous.read_last_year``); a unit found
    there gets a template carrying them, the others the ordinary one (``Templates.without_previous``)."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{out_dir}: 已存在同名文件，输出位置应为文件夹")
    named = [(check_unit(unit), template_file_name(unit, year)) for unit in units]
    seen: dict[str, Unit] = {}
    for unit, name in named:  # file systems on Windows ignore case
        if (other := seen.setdefault(name.lower(), unit)) is not unit:
            raise UsageError(f"单位 {other.code} {other.name} 与 {unit.code} {unit.name} 的模板文件名相同：{name}")
    previous = previous or {}
    staged, carried, without = [], [], []
    try:
        with output_set(out_dir, existing) as out:
            for unit, name in named:
                last = previous.get(unit.code)
                if _carried(fmt, last) is not None:
                    carried.append(unit)
                else:
                    last = None
                    without.append(unit)
                staged.append(write_template(fmt, unit, year, out.path(name), password, carried=last))
    except OSError as exc:
        raise UsageError(f"{out_dir}: 无法写入：{_why(exc)}") from None
    return Templates([out.placed[p] for p in staged], carried, without, out.replaced)
