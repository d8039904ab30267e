"""Load a statutory format definition (TOML in ``workbook_templates/``) into plain objects.

The definition is the one source of truth for labels, positions, totals and rules. This module
knows no workbook library: it only turns data into ``Format``, ``Table``, ``Grid``, ``Cell``
and ``Rule`` objects, checks them once, and expands rules into per-row/per-column instances.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar, cast

from xltool.errors import DefinitionError, InvalidArgument, os_reason
from xltool.text import normalize_label

T = TypeVar("T")

COUNT, AMOUNT, DELTA = "count", "amount", "delta"
"""The kinds of statutory number: a whole number >= 0, an amount (decimals, in the grid's unit), or a
whole number of any sign (本年增/减 of the 2019 format)."""

# --------------------------------------------------------------------------- A1 helpers

_A1 = re.compile(r"^([A-Z]{1,3})([1-9][0-9]{0,6})$")


def column_letter(col: int) -> str:
    """0-based column index -> Excel letters (0 -> A)."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_index(letters: str) -> int:
    """Excel letters -> 0-based column index (A -> 0)."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def a1(row: int, col: int) -> str:
    """0-based (row, col) -> "A1"."""
    return f"{column_letter(col)}{row + 1}"


def parse_cell(ref: str) -> tuple[int, int]:
    """ "B3" -> (2, 1), 0-based."""
    m = _A1.match(ref)
    if not m:
        raise InvalidArgument(f"不是有效的单元格地址：{ref!r}")
    return int(m.group(2)) - 1, column_index(m.group(1))


@dataclass(frozen=True)
class Span:
    """A rectangle of cells, 0-based and inclusive; a single cell when first == last."""

    first_row: int
    first_col: int
    last_row: int
    last_col: int

    @classmethod
    def parse(cls, ref: str) -> Span:
        first, _, last = ref.partition(":")
        r0, c0 = parse_cell(first)
        r1, c1 = parse_cell(last) if last else (r0, c0)
        if r1 < r0 or c1 < c0:
            raise InvalidArgument(f"区域的终点在起点之前：{ref!r}")
        return cls(r0, c0, r1, c1)

    @property
    def is_merged(self) -> bool:
        return (self.first_row, self.first_col) != (self.last_row, self.last_col)

    @property
    def top_left(self) -> str:
        return a1(self.first_row, self.first_col)

    @property
    def ref(self) -> str:
        if not self.is_merged:
            return self.top_left
        return f"{self.top_left}:{a1(self.last_row, self.last_col)}"


# --------------------------------------------------------------------------- objects


@dataclass(frozen=True)
class Label:
    """Fixed text drawn on a sheet (headings, header cells, row labels)."""

    span: Span
    text: str


@dataclass(frozen=True)
class Line:
    """A row or column of a grid: its key, printed label and where its label is drawn."""

    key: str
    label: str
    index: int  # 0-based sheet row (for rows) or column (for columns)
    span: Span | None  # where the label is drawn; None when the format prints no label
    width: int = 1  # for columns: how many sheet columns a data cell spans


@dataclass(frozen=True)
class Cell:
    """One statutory number: where it sits, what it holds, and how a total is computed."""

    id: str
    table: str
    sheet: str
    grid: str
    row_key: str
    col_key: str
    row: int
    col: int
    width: int
    kind: str  # COUNT, AMOUNT or DELTA
    row_label: str
    col_label: str
    parts: tuple[str, ...] = ()  # for totals: the ids of the cells summed; empty for inputs
    unit: str = ""  # the unit an amount is given in, as the grid prints it (e.g. 万元)

    @property
    def address(self) -> str:
        return a1(self.row, self.col)

    @property
    def span(self) -> Span:
        return Span(self.row, self.col, self.row, self.col + self.width - 1)

    @property
    def label(self) -> str:
        """How messages name the cell: its row and column labels as printed ("（七）总计 / 自然人")."""
        return f"{self.row_label} / {self.col_label}"

    @property
    def is_total(self) -> bool:
        return bool(self.parts)

    @property
    def is_input(self) -> bool:
        return not self.parts


@dataclass(frozen=True)
class Grid:
    key: str
    table: str
    kind: str
    unit: str
    rows: tuple[Line, ...]
    columns: tuple[Line, ...]

    def cell_id(self, row_key: str, col_key: str) -> str:
        return f"{self.key}.{row_key}.{col_key}"


@dataclass(frozen=True)
class Table:
    key: str
    sheet: str
    title: str
    title_span: Span
    widths: tuple[float, ...]
    freeze_rows: int
    landscape: bool
    labels: tuple[Label, ...]
    header_rows: tuple[int, ...]  # 0-based
    grids: tuple[Grid, ...]

    @property
    def printed_labels(self) -> dict[Span, str]:
        """Every header and row label the table prints (not its title), by where it is drawn."""
        spans: dict[Span, str] = {}
        for lab in self.labels:
            spans.setdefault(lab.span, lab.text)
        for g in self.grids:
            for line in g.rows + g.columns:
                if line.span is not None:
                    spans.setdefault(line.span, line.label)
        return spans


@dataclass(frozen=True)
class CoverField:
    key: str
    label: str
    label_span: Span
    value_span: Span
    input: bool
    contact: bool = False  # who to call about the return: listed for each file on the 来源 sheet


@dataclass(frozen=True)
class Cover:
    sheet: str
    title: str
    title_span: Span
    subtitle: str
    subtitle_span: Span
    widths: tuple[float, ...]
    fields: tuple[CoverField, ...]
    instructions: tuple[str, ...]
    instructions_span: Span
    carried_span: Span | None = None  # where a template made with last year's figures says so


@dataclass(frozen=True)
class Term:
    """coef * value of a cell, this year's or (previous=True) last year's."""

    coef: int
    cell: str
    previous: bool = False


@dataclass(frozen=True)
class Rule:
    code: str
    kind: str  # sum | equation | zero_for_levels | guidance
    severity: str  # error | warning
    title: str
    description: str
    grids: tuple[str, ...]
    per: str = ""  # row | column
    lhs: tuple[str, ...] = ()
    rhs: tuple[str, ...] = ()
    target: str = ""
    parts: tuple[str, ...] = ()
    rows: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    cross_year: bool = False
    check_row: int | None = None  # 0-based sheet row of the template's live check cells
    check_label: Label | None = None
    carry: bool = False  # this year's cell = last year's: a template made with last year's figures fills it in
    reference_at: Span | None = None  # where a template with last year's figures shows them (one cell per line)
    reference_label: Label | None = None
    reference_check_at: Span | None = None  # and the live check of the rule against them
    reference_check_label: Label | None = None


@dataclass(frozen=True)
class RuleInstance:
    """A rule applied to one row, column or grid: a named check over fixed cells."""

    rule: Rule
    name: str  # e.g. "T3-R1.natural" — the pandera check name
    scope: str  # e.g. "自然人列", for messages
    sheet: str
    lhs: tuple[Term, ...]
    rhs: tuple[Term, ...]
    cells: tuple[str, ...]  # this year's cells involved, ids in sheet order
    check_span: Span | None = None  # where the template shows 正确 / 不符
    reference_span: Span | None = None  # where a template with last year's figures shows last year's term
    reference_check_span: Span | None = None  # and checks the rule with it

    @property
    def previous_term(self) -> Term | None:
        """The one term of last year (rules with reference_at have exactly one)."""
        return next((t for t in self.lhs + self.rhs if t.previous), None)

    @property
    def code(self) -> str:
        return self.rule.code


@dataclass(frozen=True)
class Format:
    id: str
    version: str
    document: str
    name: str
    font: str
    cover: Cover
    tables: tuple[Table, ...]
    rules: tuple[Rule, ...]
    cells: dict[str, Cell] = field(compare=False)
    instances: tuple[RuleInstance, ...] = field(compare=False)
    fingerprint: str = ""
    source: str = ""
    last_year: int | None = None  # the last reporting year this format applies to (None: current)
    superseded_by: str = ""
    report_title: str = "{unit}{year}年政府信息公开工作年度报告"  # the published report's title
    sections: tuple[str, ...] = ()  # the published report's sections; a table's title places the table
    prompts: tuple[tuple[str, str], ...] = ()  # (prose section, what its placeholder asks the unit to write)
    figures: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """The figures a report's text states, by name ("new", "suits"), each the sum of its cell ids
    ([report.figures]): what the text checks read and what publish's paragraphs say."""

    def figure(self, name: str) -> tuple[str, ...]:
        """The cell ids a named figure sums; () when the format does not list it."""
        return dict(self.figures).get(name, ())

    @property
    def report_sections(self) -> tuple[str, ...]:
        """The sections of the published report: as the definition names them, else the tables' titles."""
        return self.sections or tuple(t.title for t in self.tables)

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)

    def grid(self, key: str) -> Grid:
        return next(g for t in self.tables for g in t.grids if g.key == key)

    def sheet_of(self, table_key: str) -> str:
        return self.table(table_key).sheet

    # Derived views: computed once per Format object, so a definition loaded from any file gets
    # the same fast paths as the builtin ones (nothing is cached by format id elsewhere).

    @cached_property
    def cell_ids(self) -> tuple[str, ...]:
        return tuple(self.cells)

    @cached_property
    def input_cells(self) -> tuple[Cell, ...]:
        return tuple(c for c in self.cells.values() if c.is_input)

    @cached_property
    def total_cells(self) -> tuple[Cell, ...]:
        return tuple(c for c in self.cells.values() if c.is_total)

    @cached_property
    def total_order(self) -> tuple[Cell, ...]:
        """Total cells ordered so that every total comes after the totals it sums."""
        return _total_order(self)

    @cached_property
    def layout(self) -> tuple[TableLayout, ...]:
        """What is printed where on each table sheet: titles, labels, input cells."""
        return tuple(_table_layout(self, t) for t in self.tables)

    @cached_property
    def carries(self) -> tuple[tuple[str, str], ...]:
        """(this year's input cell, last year's cell) of every carry rule's instances: what a template
        made with last year's figures fills in and locks. Totals are left to their formulas."""
        out = []
        for inst in self.instances:
            if inst.rule.carry and self.cells[inst.lhs[0].cell].is_input:
                out.append((inst.lhs[0].cell, inst.rhs[0].cell))
        return tuple(out)

    @cached_property
    def printed_labels(self) -> frozenset[str]:
        """Every title, header and row label of the tables, normalised (``normalize_label``)."""
        return frozenset(normed for tl in self.layout for *_pos, _text, normed in tl.labels)

    def derived(self, build: Callable[[Format], T]) -> T:
        """A view another step computes from this format (the reader's specs, the schema), made once
        per Format object and kept on it."""
        views = self.__dict__.setdefault("_derived", {})
        if build not in views:
            views[build] = build(self)
        return cast(T, views[build])

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (for a process pool) without the derived views: they are rebuilt where needed."""
        return {k: v for k, v in self.__dict__.items() if k in _FORMAT_FIELDS}


@dataclass(frozen=True)
class TableLayout:
    """What a table sheet shows where, read off the definition once per format."""

    key: str
    sheet: str
    title_at: tuple[int, int]  # (row, col) of the title, which also finds a renamed sheet
    title: str
    nrows: int  # rows to read: the last one the definition places anything on
    labels: tuple[tuple[int, int, str, str], ...]  # (row, col, text, normalised text)
    inputs: tuple[tuple[str, int, int, str, str], ...]  # (cell id, row, col, kind, A1)

    @property
    def title_cell(self) -> str:
        return a1(*self.title_at)


def _table_layout(fmt: Format, t: Table) -> TableLayout:
    spans: dict[Span, str] = {t.title_span: t.title, **t.printed_labels}
    cells = [c for c in fmt.cells.values() if c.table == t.key]
    last = max([s.last_row for s in spans] + [c.row for c in cells])
    return TableLayout(
        key=t.key,
        sheet=t.sheet,
        title_at=(t.title_span.first_row, t.title_span.first_col),
        title=t.title,
        nrows=last + 1,
        labels=tuple((s.first_row, s.first_col, text, normalize_label(text)) for s, text in spans.items()),
        inputs=tuple((c.id, c.row, c.col, c.kind, c.address) for c in cells if c.is_input),
    )


def _total_order(fmt: Format) -> tuple[Cell, ...]:
    done: set[str] = {c.id for c in fmt.input_cells}
    order: list[Cell] = []
    pending = list(fmt.total_cells)
    while pending:
        ready = [c for c in pending if all(p in done for p in c.parts)]
        if not ready:
            cycle = "、".join(c.id for c in pending[:5])
            raise DefinitionError(f"{fmt.source}: rules: 合计互相引用，无法计算：{cycle}")
        order += ready
        done |= {c.id for c in ready}
        pending = [c for c in pending if c.id not in done]
    return tuple(order)


_FORMAT_FIELDS = frozenset(Format.__dataclass_fields__)

# --------------------------------------------------------------------------- loading


class _Reader:
    """Reads keys from TOML tables and names the exact key when something is wrong."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, where: str, msg: str) -> DefinitionError:
        return DefinitionError(f"{self.source}: {where}: {msg}")

    def get(
        self, d: dict[str, Any], key: str, where: str, typ: type | tuple[type, ...] = str, default: Any = ...
    ) -> Any:
        if key not in d:
            if default is ...:
                raise self.fail(where, f"缺少键 '{key}'")
            return default
        value = d[key]
        if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
            raise self.fail(f"{where}.{key}", f"类型应为 {_type_name(typ)}，实际为 {value!r}")
        return value

    def span(self, d: dict[str, Any], key: str, where: str) -> Span:
        text = self.get(d, key, where)
        try:
            return Span.parse(text)
        except ValueError as exc:
            raise self.fail(f"{where}.{key}", str(exc)) from None

    def table_list(self, d: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.get(d, key, where, list)
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise self.fail(f"{where}.{key}[{i}]", f"应为表，实际为 {item!r}")
        return items

    def str_list(self, d: dict[str, Any], key: str, where: str, default: Any = ...) -> tuple[str, ...]:
        items = self.get(d, key, where, list, default)
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise self.fail(f"{where}.{key}[{i}]", f"应为字符串，实际为 {item!r}")
        return tuple(items)


def _type_name(typ: type | tuple[type, ...]) -> str:
    names = {str: "字符串", int: "整数", bool: "布尔值", list: "数组", dict: "表", float: "数"}
    if isinstance(typ, tuple):
        return "或".join(names.get(t, t.__name__) for t in typ)
    return names.get(typ, typ.__name__)


_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
_KINDS = {COUNT, AMOUNT, DELTA}
_RULE_KINDS = {"sum", "equation", "zero_for_levels", "guidance"}


def _line(r: _Reader, d: dict[str, Any], where: str, axis: str) -> Line:
    key = r.get(d, "key", where)
    if not _KEY.match(key):
        raise r.fail(f"{where}.key", f"键名只能用小写字母、数字和下划线：{key!r}")
    label = r.get(d, "label", where)
    if "at" in d:
        span = r.span(d, "at", where)
        index = span.last_row if axis == "row" else span.first_col
        width = span.last_col - span.first_col + 1 if axis == "column" else 1
        return Line(key, label, index, span, width)
    if axis == "row" and "row" in d:
        return Line(key, label, r.get(d, "row", where, int) - 1, None)
    raise r.fail(where, "缺少键 'at'" + ("（或 'row'）" if axis == "row" else ""))


def _parse_format(data: dict[str, Any], source: str) -> Format:
    r = _Reader(source)
    fmt = r.get(data, "format", "<root>", dict)
    fid = r.get(fmt, "id", "format")
    cover_d = r.get(data, "cover", "<root>", dict)
    fields = []
    for i, f in enumerate(r.table_list(cover_d, "fields", "cover")):
        w = f"cover.fields[{i}]"
        fields.append(
            CoverField(
                r.get(f, "key", w),
                r.get(f, "label", w),
                r.span(f, "at", w),
                r.span(f, "value_at", w),
                r.get(f, "input", w, bool),
                r.get(f, "contact", w, bool, False),
            )
        )
    cover = Cover(
        sheet=r.get(cover_d, "sheet", "cover"),
        title=r.get(cover_d, "title", "cover"),
        title_span=r.span(cover_d, "title_at", "cover"),
        subtitle=r.get(cover_d, "subtitle", "cover", default=""),
        subtitle_span=r.span(cover_d, "subtitle_at", "cover") if "subtitle_at" in cover_d else Span(1, 0, 1, 0),
        widths=tuple(r.get(cover_d, "widths", "cover", list)),
        fields=tuple(fields),
        instructions=r.str_list(cover_d, "instructions", "cover"),
        instructions_span=r.span(cover_d, "instructions_at", "cover"),
        carried_span=r.span(cover_d, "carried_at", "cover") if "carried_at" in cover_d else None,
    )

    tables: list[Table] = []
    for ti, t in enumerate(r.table_list(data, "tables", "<root>")):
        tw = f"tables[{ti}]"
        tkey = r.get(t, "key", tw)
        sheet = r.get(t, "sheet", tw)
        _check_sheet_name(r, sheet, f"{tw}.sheet")
        labels = []
        for li, item in enumerate(r.get(t, "labels", tw, list)):
            lw = f"{tw}.labels[{li}]"
            if not (isinstance(item, list) and len(item) == 2 and all(isinstance(x, str) for x in item)):
                raise r.fail(lw, f"应为 [区域, 文字]，实际为 {item!r}")
            try:
                labels.append(Label(Span.parse(item[0]), item[1]))
            except ValueError as exc:
                raise r.fail(lw, str(exc)) from None
        grids = []
        for gi, g in enumerate(r.table_list(t, "grids", tw)):
            gw = f"{tw}.grids[{gi}]"
            kind = r.get(g, "kind", gw)
            if kind not in _KINDS:
                raise r.fail(f"{gw}.kind", f"应为 {sorted(_KINDS)} 之一，实际为 {kind!r}")
            rows = tuple(_line(r, d, f"{gw}.rows[{i}]", "row") for i, d in enumerate(r.table_list(g, "rows", gw)))
            cols = tuple(
                _line(r, d, f"{gw}.columns[{i}]", "column") for i, d in enumerate(r.table_list(g, "columns", gw))
            )
            for what, lines in (("rows", rows), ("columns", cols)):
                keys = [x.key for x in lines]
                dup = {k for k in keys if keys.count(k) > 1}
                if dup:
                    raise r.fail(f"{gw}.{what}", f"键重复：{sorted(dup)}")
            grids.append(Grid(r.get(g, "key", gw), tkey, kind, r.get(g, "unit", gw, default=""), rows, cols))
        tables.append(
            Table(
                key=tkey,
                sheet=sheet,
                title=r.get(t, "title", tw),
                title_span=r.span(t, "title_at", tw),
                widths=tuple(r.get(t, "widths", tw, list)),
                freeze_rows=r.get(t, "freeze_rows", tw, int, 0),
                landscape=r.get(t, "landscape", tw, bool, False),
                labels=tuple(labels),
                header_rows=tuple(x - 1 for x in r.get(t, "header_rows", tw, list, [])),
                grids=tuple(grids),
            )
        )
    grid_index = {g.key: g for t in tables for g in t.grids}
    if len(grid_index) != sum(len(t.grids) for t in tables):
        raise r.fail("tables", "表格中有重复的 grid 键")

    rules = []
    for ri, d in enumerate(r.table_list(data, "rules", "<root>")):
        rw = f"rules[{ri}]"
        kind = r.get(d, "kind", rw)
        if kind not in _RULE_KINDS:
            raise r.fail(f"{rw}.kind", f"应为 {sorted(_RULE_KINDS)} 之一，实际为 {kind!r}")
        severity = r.get(d, "severity", rw)
        if severity not in ("error", "warning"):
            raise r.fail(f"{rw}.severity", f"应为 'error' 或 'warning'，实际为 {severity!r}")
        grids_of_rule = r.str_list(d, "grids", rw)
        for gkey in grids_of_rule:
            if gkey not in grid_index:
                raise r.fail(f"{rw}.grids", f"未定义的 grid：{gkey!r}")
        per = r.get(d, "per", rw, default="")
        if kind in ("sum", "equation") and per not in ("row", "column"):
            raise r.fail(f"{rw}.per", f"应为 'row' 或 'column'，实际为 {per!r}")
        check_label = None
        if "check_label" in d:
            item = d["check_label"]
            try:
                check_label = Label(Span.parse(item[0]), item[1])
            except (ValueError, TypeError, IndexError):
                raise r.fail(f"{rw}.check_label", f"应为 [区域, 文字]，实际为 {item!r}") from None
        rule = Rule(
            code=r.get(d, "code", rw),
            kind=kind,
            severity=severity,
            title=r.get(d, "title", rw),
            description=r.get(d, "description", rw),
            grids=grids_of_rule,
            per=per,
            lhs=r.str_list(d, "lhs", rw, ()),
            rhs=r.str_list(d, "rhs", rw, ()),
            target=r.get(d, "target", rw, default=""),
            parts=r.str_list(d, "parts", rw, ()),
            rows=r.str_list(d, "rows", rw, ()),
            levels=r.str_list(d, "levels", rw, ()),
            cross_year=r.get(d, "cross_year", rw, bool, False),
            check_row=r.get(d, "check_row", rw, int) - 1 if "check_row" in d else None,
            check_label=check_label,
            carry=r.get(d, "carry", rw, bool, False),
            **_reference(r, d, rw),
        )
        _check_rule_keys(r, rw, rule, grid_index)
        _check_carry(r, rw, rule, grid_index)
        rules.append(rule)

    codes = [x.code for x in rules]
    if len(set(codes)) != len(codes):
        raise r.fail("rules", f"规则编号重复：{sorted({c for c in codes if codes.count(c) > 1})}")

    cells = _build_cells(tables, rules)
    instances = tuple(_expand(rule, grid_index, tables) for rule in rules)
    fmt_obj = Format(
        id=fid,
        version=r.get(fmt, "version", "format"),
        document=r.get(fmt, "document", "format"),
        name=r.get(fmt, "name", "format"),
        font=r.get(fmt, "font", "format", default="等线"),
        last_year=r.get(fmt, "last_year", "format", int, None),
        superseded_by=r.get(fmt, "superseded_by", "format", default=""),
        **_report(r, data, tables),
        cover=cover,
        tables=tuple(tables),
        rules=tuple(rules),
        cells=cells,
        instances=tuple(i for group in instances for i in group),
        source=source,
    )
    _check_overlaps(r, fmt_obj)
    unknown = sorted({i for _, ids in fmt_obj.figures for i in ids if i not in cells})
    if unknown:
        raise r.fail("report.figures", f"没有这些单元格：{'、'.join(unknown)}")
    fmt_obj = _with_fingerprint(fmt_obj)
    fmt_obj.total_order  # noqa: B018 - a cycle among totals is refused when the definition is loaded
    return fmt_obj


def _report(r: _Reader, data: dict[str, Any], tables: list[Table]) -> dict[str, Any]:
    """The optional [report] table: the published report's title and sections; every table must have a
    section of its own title, or publishing would not know where to print it."""
    if "report" not in data:
        return {}
    d = r.get(data, "report", "<root>", dict)
    sections = r.str_list(d, "sections", "report", ())
    missing = [t.title for t in tables if sections and t.title not in sections]
    if missing:
        raise r.fail("report.sections", f"缺少表格标题所在的章节：{'、'.join(missing)}")
    prompts = r.get(d, "prompts", "report", dict, {})
    unknown = [name for name in prompts if name not in sections]
    if unknown or not all(isinstance(v, str) for v in prompts.values()):
        raise r.fail("report.prompts", f"应为章节名到说明文字的表，章节须在 sections 中：{'、'.join(unknown)}")
    figures = r.get(d, "figures", "report", dict, {})
    for name in figures:
        r.str_list(figures, name, "report.figures")
    out: dict[str, Any] = {
        "sections": sections,
        "prompts": tuple(prompts.items()),
        "figures": tuple((name, tuple(ids)) for name, ids in figures.items()),
    }
    if "title" in d:
        out["report_title"] = r.get(d, "title", "report")
    return out


def _label_item(r: _Reader, d: dict[str, Any], key: str, where: str) -> Label | None:
    """An optional [区域, 文字] pair."""
    if key not in d:
        return None
    item = d[key]
    try:
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[1], str)):
            raise TypeError
        return Label(Span.parse(item[0]), item[1])
    except (ValueError, TypeError, AttributeError):
        raise r.fail(f"{where}.{key}", f"应为 [区域, 文字]，实际为 {item!r}") from None


def _reference(r: _Reader, d: dict[str, Any], rw: str) -> dict[str, Any]:
    """Where a template made with last year's figures shows them and checks the rule against them."""
    out: dict[str, Any] = {}
    for key in ("reference_at", "reference_check_at"):
        if key in d:
            out[key] = r.span(d, key, rw)
    for key in ("reference_label", "reference_check_label"):
        if key in d:
            out[key] = _label_item(r, d, key, rw)
    if out and "reference_at" not in out:
        raise r.fail(rw, f"给出了 {'、'.join(sorted(out))}，缺少键 'reference_at'")
    return out


def _check_carry(r: _Reader, rw: str, rule: Rule, grids: dict[str, Grid]) -> None:
    """A carry is this year's cell = last year's cell; a reference shows last year's one term, one
    cell per line of the rule, on the line's row (per row) or column (per column)."""
    prev_terms = [t for t in rule.lhs + rule.rhs if t.removeprefix("-").startswith("prev:")]
    if rule.carry:
        plain = rule.kind == "equation" and len(rule.lhs) == 1 and len(rule.rhs) == 1
        if not (
            plain and rule.cross_year and not rule.lhs[0].startswith(("-", "prev:")) and rule.rhs[0].startswith("prev:")
        ):
            raise r.fail(f"{rw}.carry", "carry 规则须为 equation、cross_year = true，lhs 为本年一项，rhs 为一项 prev:")
    if rule.reference_at is None:
        return
    if rule.kind != "equation" or len(prev_terms) != 1 or len(rule.grids) != 1:
        raise r.fail(f"{rw}.reference_at", "reference_at 只用于只有一项 prev: 的 equation 规则，且只能有一个 grid")
    lines = grids[rule.grids[0]].rows if rule.per == "row" else grids[rule.grids[0]].columns
    for key in ("reference_at", "reference_check_at"):
        span = getattr(rule, key)
        if span is None:
            continue
        if rule.per == "row":
            fits = span.first_col == span.last_col and all(span.first_row <= x.index <= span.last_row for x in lines)
        else:
            fits = span.first_row == span.last_row and all(span.first_col <= x.index <= span.last_col for x in lines)
        if not fits:
            what = "一列、覆盖各行" if rule.per == "row" else "一行、覆盖各列"
            raise r.fail(f"{rw}.{key}", f"{span.ref} 应为{what}（{'、'.join(x.key for x in lines)}）")


def _check_sheet_name(r: _Reader, name: str, where: str) -> None:
    if not name or len(name) > 31 or any(ch in name for ch in "[]:*?/\\"):
        raise r.fail(where, f"工作表名称 {name!r} 必须为 1–31 个字符，且不含 []:*?/\\")


def _check_rule_keys(r: _Reader, rw: str, rule: Rule, grids: dict[str, Grid]) -> None:
    """Every key a rule names must exist on the axis it is used on, in every grid."""
    for gkey in rule.grids:
        g = grids[gkey]
        row_keys = {x.key for x in g.rows}
        col_keys = {x.key for x in g.columns}
        # per="column": the rule runs down a column, its terms are row keys; per="row": column keys
        term_keys = row_keys if rule.per == "column" else col_keys
        names: list[tuple[str, str]] = []
        if rule.kind == "equation":
            names = [("lhs", t) for t in rule.lhs] + [("rhs", t) for t in rule.rhs]
            if not rule.lhs or not rule.rhs:
                raise r.fail(rw, "equation 规则需要 lhs 和 rhs")
        elif rule.kind == "sum":
            if not rule.target or not rule.parts:
                raise r.fail(rw, "sum 规则需要 target 和 parts")
            names = [("target", rule.target)] + [("parts", p) for p in rule.parts]
        elif rule.kind == "zero_for_levels":
            names = [("rows", k) for k in rule.rows]
            term_keys = row_keys
        for where, term in names:
            key = term.removeprefix("-").removeprefix("prev:").removeprefix("-")
            if key not in term_keys:
                raise r.fail(f"{rw}.{where}", f"grid {gkey!r} 中没有 {key!r}")
            if term.startswith("prev:") and not rule.cross_year:
                raise r.fail(f"{rw}.{where}", f"{term!r} 引用上年数据，规则须设 cross_year = true")


def _build_cells(tables: list[Table], rules: list[Rule]) -> dict[str, Cell]:
    """Every statutory cell, in sheet order; totals get the parts of the first sum rule on them."""
    parts: dict[str, tuple[str, ...]] = {}
    grids = {g.key: g for t in tables for g in t.grids}
    for rule in rules:
        if rule.kind != "sum":
            continue
        for gkey in rule.grids:
            g = grids[gkey]
            others = g.columns if rule.per == "column" else g.rows
            for line in others:
                if rule.per == "row":
                    target = g.cell_id(line.key, rule.target)
                    members = tuple(g.cell_id(line.key, p) for p in rule.parts)
                else:
                    target = g.cell_id(rule.target, line.key)
                    members = tuple(g.cell_id(p, line.key) for p in rule.parts)
                parts.setdefault(target, members)
    cells: dict[str, Cell] = {}
    for t in tables:
        for g in t.grids:
            for row in g.rows:
                for col in g.columns:
                    cid = g.cell_id(row.key, col.key)
                    cells[cid] = Cell(
                        id=cid,
                        table=t.key,
                        sheet=t.sheet,
                        grid=g.key,
                        row_key=row.key,
                        col_key=col.key,
                        row=row.index,
                        col=col.index,
                        width=col.width,
                        kind=g.kind,
                        row_label=row.label,
                        col_label=col.label,
                        parts=parts.get(cid, ()),
                        unit=g.unit,
                    )
    return dict(sorted(cells.items(), key=lambda kv: (kv[1].table, kv[1].row, kv[1].col)))


def _term(text: str) -> tuple[int, str, bool]:
    coef = 1
    if text.startswith("-"):
        coef, text = -1, text[1:]
    previous = text.startswith("prev:")
    return coef, text.removeprefix("prev:"), previous


def _expand(rule: Rule, grids: dict[str, Grid], tables: list[Table]) -> list[RuleInstance]:
    """A rule over grids -> one instance per row or column (or per grid for zero_for_levels)."""
    out: list[RuleInstance] = []
    sheet_of = {t.key: t.sheet for t in tables}
    for gkey in rule.grids:
        g = grids[gkey]
        sheet = sheet_of[g.table]
        if rule.kind == "guidance":
            continue
        if rule.kind == "zero_for_levels":
            for rkey in rule.rows:
                row = next(x for x in g.rows if x.key == rkey)
                ids = tuple(g.cell_id(rkey, c.key) for c in g.columns)
                terms = tuple(Term(1, cid) for cid in ids)
                out.append(RuleInstance(rule, f"{rule.code}.{gkey}.{rkey}", f"{row.label}行", sheet, terms, (), ids))
            continue
        lhs_src = [rule.target] if rule.kind == "sum" else list(rule.lhs)
        rhs_src = list(rule.parts) if rule.kind == "sum" else list(rule.rhs)
        lines = g.columns if rule.per == "column" else g.rows
        for line in lines:

            def cid(key: str, line: Line = line, g: Grid = g) -> str:
                return g.cell_id(key, line.key) if rule.per == "column" else g.cell_id(line.key, key)

            lhs = tuple(Term(c, cid(k), p) for c, k, p in map(_term, lhs_src))
            rhs = tuple(Term(c, cid(k), p) for c, k, p in map(_term, rhs_src))
            ids = tuple(dict.fromkeys(t.cell for t in lhs + rhs if not t.previous))
            if rule.per == "column":
                scope = f"{line.label}列"
                check = (
                    Span(rule.check_row, line.index, rule.check_row, line.index + line.width - 1)
                    if rule.check_row is not None
                    else None
                )
            else:
                scope = f"{line.label}" if len(rule.grids) > 1 else f"{line.label}行"
                if rule.check_row is not None:
                    check = Span(
                        rule.check_row,
                        g.columns[0].index,
                        rule.check_row,
                        g.columns[-1].index + g.columns[-1].width - 1,
                    )
                else:
                    check = None
            name = f"{rule.code}.{line.key}" if len(rule.grids) == 1 else f"{rule.code}.{gkey}.{line.key}"
            ref, ref_check = (_on_line(rule, s, line) for s in (rule.reference_at, rule.reference_check_at))
            out.append(RuleInstance(rule, name, scope, sheet, lhs, rhs, ids, check, ref, ref_check))
    return out


def _on_line(rule: Rule, span: Span | None, line: Line) -> Span | None:
    """The cell of ``span`` on ``line``: its row (per row) or its column (per column)."""
    if span is None:
        return None
    if rule.per == "row":
        return Span(line.index, span.first_col, line.index, span.first_col)
    return Span(span.first_row, line.index, span.first_row, line.index + line.width - 1)


def _check_overlaps(r: _Reader, fmt: Format) -> None:
    """No two things may claim the same sheet cell: a typo in an address is caught here."""
    for t in fmt.tables:
        owner: dict[tuple[int, int], str] = {}

        def claim(span: Span, what: str, owner: dict[tuple[int, int], str] = owner, t: Table = t) -> None:
            for row in range(span.first_row, span.last_row + 1):
                for col in range(span.first_col, span.last_col + 1):
                    if (row, col) in owner and owner[(row, col)] != what:
                        raise r.fail(t.sheet, f"{a1(row, col)} 同时被 {owner[(row, col)]} 和 {what} 占用")
                    owner[(row, col)] = what

        claim(t.title_span, "标题")
        for lab in t.labels:
            claim(lab.span, repr(lab.text))
        for g in t.grids:
            for line in g.rows + g.columns:
                if line.span:
                    claim(line.span, f"{g.key}.{line.key}")
        for c in fmt.cells.values():
            if c.table == t.key:
                claim(c.span, c.id)
        for rule in fmt.rules:
            if rule.check_label and any(fmt.grid(g).table == t.key for g in rule.grids):
                claim(rule.check_label.span, rule.code)
            if any(fmt.grid(g).table == t.key for g in rule.grids):
                for what, span in (
                    ("reference_at", rule.reference_at),
                    ("reference_check_at", rule.reference_check_at),
                    ("reference_label", rule.reference_label.span if rule.reference_label else None),
                    ("reference_check_label", rule.reference_check_label.span if rule.reference_check_label else None),
                ):
                    if span is not None:
                        claim(span, f"{rule.code}.{what}")


def _with_fingerprint(fmt: Format) -> Format:
    """A short hash of everything that fixes where a number sits and what it means."""
    layout = {
        "format": [fmt.id, fmt.version],
        "sheets": [fmt.cover.sheet] + [t.sheet for t in fmt.tables],
        "labels": sorted((t.sheet, lab.span.ref, lab.text) for t in fmt.tables for lab in t.labels),
        "cells": [
            (c.id, c.sheet, c.address, c.width, c.kind, c.row_label, c.col_label, list(c.parts))
            for c in fmt.cells.values()
        ],
    }
    blob = json.dumps(layout, ensure_ascii=False, sort_keys=True).encode()
    digest = hashlib.sha256(blob).hexdigest()[:16]
    return Format(**{**fmt.__getstate__(), "fingerprint": digest})


# --------------------------------------------------------------------------- public API


def load(path: str | Path) -> Format:
    """Load and check one definition file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError(
            f"{path}: 无法读取：{os_reason(exc) if isinstance(exc, OSError) else '不是 UTF-8 编码的文本'}"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(f"{path}: TOML 语法错误：{exc}") from None
    return _parse_format(data, path.name)


def loads(text: str, source: str = "<string>") -> Format:
    """Load a definition from TOML text (used by tests)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(f"{source}: TOML 语法错误：{exc}") from None
    return _parse_format(data, source)


@cache
def builtin_formats() -> dict[str, Format]:
    """Every definition shipped in ``workbook_templates``, by format id."""
    out: dict[str, Format] = {}
    for entry in sorted(resources.files("workbook_templates").iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".toml"):
            fmt = _parse_format(tomllib.loads(entry.read_text(encoding="utf-8")), entry.name)
            out[fmt.id] = fmt
    return out


DEFAULT_FORMAT = "gov-info-disclosure-2021"


def get_format(format_id: str = DEFAULT_FORMAT) -> Format:
    try:
        return builtin_formats()[format_id]
    except KeyError:
        raise DefinitionError(f"未知的报表格式：{format_id!r}（可用：{', '.join(builtin_formats())}）") from None


def known_formats(extra: Iterable[Format] = ()) -> dict[str, Format]:
    """The formats a batch may be in, by id: the builtin ones, then ``extra`` (loaded from files),
    which replace a builtin of the same id."""
    out = dict(builtin_formats())
    for fmt in extra:
        out[fmt.id] = fmt
    return out
