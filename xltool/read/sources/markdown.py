"""Markdown pipe tables, as PDF-to-markdown converters write a report's tables -> DocTable grids.

A line starting with ``|`` is a row of cells: the outer pipes dropped, ``\\|`` read as a printed ``|``,
empty cells kept as blanks so that the columns stay aligned, the ``| --- |`` row under a header row
skipped (it says the row above it is a header). What the converters do to a table, undone only where
the markdown itself says how, never from position alone:

* **Placeholder column headers** (``数据1 | 数据2 | … | 数据6``: one word numbered 1, 2, 3 …) carry no
  meaning: they are blanked. The real header is the one printed apart just before, as empty tables
  (no figure, only ``-``) under headings of one stem and a part in brackets (``申请人情况 (自然人)``,
  ``申请人情况 (法人或其他组织)``, ``申请人情况 (总计)``): a part with one value column is that column,
  named by its bracket (its own header, ``(数据项目) | 数量``, says nothing); a part with several is
  their group. That header is put over each following table whose placeholder columns it fits: as
  many columns, and every header the table prints itself (``总计``) the same. Otherwise the columns
  stay blank and the locator names the figures under them (D-COLUMN-MISSING, D-UNPLACED).
* **A table split into one table per column block** (表四 as three 5-column tables, each under a heading
  naming its block: ``行政复议``, ``行政诉讼（未经复议直接起诉）``, ``行政诉讼（复议后起诉）``): tables
  of the same header whose rows are figures only are put side by side under their headings; a stem
  shared by neighbouring headings heads them both, the brackets one each.

A table split into one table per row group (表三 with a table per （一）…（六）) needs nothing here: each
part keeps its rows, and the locator reads a table's continuation as one with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from xltool.definition import COUNT
from xltool.read.document import DocCell
from xltool.values import PRINTED_FIGURE, parse_value

_PIPE = re.compile(r"(?<!\\)\|")
_SEPARATOR = re.compile(r":?-+:?")
_NUMBERED = re.compile(r"(\D*?)\s*(\d{1,2})")
_BRACKETED = re.compile(r"[(（][^()（）]*[)）]")
_PART = re.compile(r"(.+?)\s*[(（]\s*([^()（）]+?)\s*[)）]")
_WS = re.compile(r"\s+")


def is_pipe_row(line: str) -> bool:
    """A markdown table row: the line starts with a pipe."""
    s = line.strip()
    return len(s) > 1 and s.startswith("|")


def pipe_cells(line: str) -> list[str]:
    """A pipe row's cells, as printed (``\\|`` read as ``|``); empty cells kept."""
    s = line.strip()[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        s = s[:-1]
    return [c.strip().replace("\\|", "|") for c in _PIPE.split(s)]


def is_separator(cells: list[str]) -> bool:
    """The ``| --- | :---: |`` row under a header row."""
    return all(_SEPARATOR.fullmatch(c.replace(" ", "")) for c in cells)


@dataclass
class PipeTable:
    """One markdown table as read: its rows, how many of them stand above the separator row, and the
    lines printed between the previous pipe table and this one (headings without their ``#``)."""

    rows: list[list[str]] = field(default_factory=list)
    header_rows: int = 0
    before: list[str] = field(default_factory=list)
    placeholders: set[int] = field(default_factory=set)  # header columns blanked (数据1 …)

    def add(self, cells: list[str]) -> None:
        if is_separator(cells):
            if len(self.rows) == 1 and not self.header_rows:
                self.header_rows = 1
            return
        self.rows.append(cells)

    @property
    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)

    @property
    def body(self) -> list[list[str]]:
        return self.rows[self.header_rows :]

    @property
    def heading(self) -> str:
        return self.before[-1] if self.before else ""

    @property
    def header(self) -> list[str]:
        return [*self.rows[0], *[""] * (self.width - len(self.rows[0]))] if self.header_rows else []


@dataclass
class Grid:
    """A table for the Document: its cells, the text printed before it, whether it follows the table
    before it with nothing printed between."""

    cells: list[DocCell]
    caption: str
    continues: bool


def grids(tables: list[PipeTable]) -> list[Grid]:
    """Consecutive pipe tables -> the tables of the Document, in order (see the module's docstring)."""
    for t in tables:
        _blank_placeholders(t)
    out: list[Grid] = []
    i = 0
    while i < len(tables):
        n = _header_parts(tables, i)
        if n:
            header = _joined_header(tables[i : i + n])
            taken = _take_header(tables, i + n, header)
            if taken:
                out += taken
                i += n + len(taken)
                continue
        n = _column_blocks(tables, i)
        if n:
            out.append(_side_by_side(tables[i : i + n]))
            i += n
            continue
        out.append(_plain(tables[i]))
        i += 1
    return out


def _key(text: str) -> str:
    return _WS.sub("", text)


def _blank_placeholders(t: PipeTable) -> None:
    """Blank a header row's numbered placeholders (数据1 | 数据2 | …: one word, numbered from 1 on)."""
    if not t.header_rows:
        return
    row = t.rows[0]
    k = 0
    while k < len(row):
        m = _NUMBERED.fullmatch(row[k])
        if m is None or m.group(2) != "1":
            k += 1
            continue
        run = [k]
        while run[-1] + 1 < len(row):
            nxt = _NUMBERED.fullmatch(row[run[-1] + 1])
            if nxt is None or nxt.group(1) != m.group(1) or int(nxt.group(2)) != len(run) + 1:
                break
            run.append(run[-1] + 1)
        if len(run) >= 2:
            t.placeholders.update(run)
            for c in run:
                row[c] = ""
        k = run[-1] + 1


def _is_empty_cell(text: str) -> bool:
    return not text.strip() or parse_value(text, COUNT).code == "V-PLACEHOLDER"


def _is_figure(text: str) -> bool:
    s = _key(text)
    return bool(s) and PRINTED_FIGURE.fullmatch(s) is not None and any(ch.isdigit() for ch in s)


def _part(heading: str) -> tuple[str, str] | None:
    m = _PART.fullmatch(heading.strip())
    return (_key(m.group(1)), m.group(2).strip()) if m else None


# --------------------------------------------------------------------------- a header printed apart


@dataclass
class Header:
    """A header joined from parts printed apart: its cells (row, col from 0 over the value columns) and
    its leaves, left to right."""

    cells: list[DocCell]
    leaves: list[str]
    rows: int


def _header_parts(tables: list[PipeTable], i: int) -> int:
    """How many tables from ``i`` on are parts of one header printed apart: empty tables (nothing but
    placeholders under their header row) under headings of one stem, each part's bracket its own, with
    nothing but the heading printed between them; at least two, else 0."""
    stem = None
    n = 0
    for t in tables[i:]:
        part = _part(t.heading)
        if (
            part is None
            or not t.header_rows
            or t.placeholders
            or not all(_is_empty_cell(c) for row in t.body for c in row)
            or (stem is not None and (part[0] != stem or len(t.before) != 1))
        ):
            break
        stem = part[0]
        n += 1
    return n if n >= 2 else 0


def _part_columns(t: PipeTable) -> list[str]:
    """A part's own value columns: its header cells but the bracketed placeholders (``(数据项目)``)."""
    return [c for c in t.header if c.strip() and not _BRACKETED.fullmatch(c.strip())]


def _joined_header(parts: list[PipeTable]) -> Header:
    """The header the parts print together: the stem over all, each part's bracket over its columns (a
    part of one value column is that column)."""
    stem = _PART.fullmatch(parts[0].heading.strip())
    assert stem is not None
    split = [(_part(t.heading) or ("", ""))[1] for t in parts]
    columns = [_part_columns(t) for t in parts]
    deep = any(len(c) > 1 for c in columns)
    rows = 3 if deep else 2
    cells: list[DocCell] = []
    leaves: list[str] = []
    for name, own in zip(split, columns, strict=True):
        col = len(leaves)
        if len(own) > 1:
            cells.append(DocCell(1, col, name, 1, len(own)))
            cells += [DocCell(2, col + k, c) for k, c in enumerate(own)]
            leaves += own
        else:
            cells.append(DocCell(1, col, name, rows - 1, 1))
            leaves.append(name)
    cells.insert(0, DocCell(0, 0, stem.group(1).strip(), 1, len(leaves)))
    return Header(cells, leaves, rows)


def _fits(t: PipeTable, header: Header) -> bool:
    """The header fits a table with placeholder columns: one label column, then as many columns as the
    header has leaves, and every header the table prints itself the header's own."""
    if not t.placeholders or 0 in t.placeholders or t.width != len(header.leaves) + 1:
        return False
    own = t.header
    return all(k in t.placeholders or _key(own[k]) == _key(header.leaves[k - 1]) for k in range(1, t.width))


def _take_header(tables: list[PipeTable], j: int, header: Header) -> list[Grid]:
    """The header put over each table from ``j`` on that it fits, up to the first it does not."""
    out: list[Grid] = []
    for t in tables[j:]:
        if not _fits(t, header):
            break
        cells = [DocCell(0, 0, t.header[0], header.rows, 1)] if t.header[0].strip() else []
        cells += [DocCell(c.row, c.col + 1, c.text, c.rowspan, c.colspan) for c in header.cells]
        cells += _body_cells(t.body, header.rows, t.width)
        out.append(Grid(cells, t.heading[:100], not t.before))
    return out


# --------------------------------------------------------------------------- column blocks side by side


def _column_blocks(tables: list[PipeTable], i: int) -> int:
    """How many tables from ``i`` on are one table's column blocks printed one under another: the same
    header row over rows of figures only, each under a heading, nothing else printed between; at least
    two, else 0."""
    first = tables[i]
    if not first.header_rows or first.placeholders or not first.heading or not first.body:
        return 0
    n = 0
    for t in tables[i:]:
        if (
            not t.heading
            or (n and len(t.before) != 1)
            or [_key(c) for c in t.header] != [_key(c) for c in first.header]
            or len(t.body) != len(first.body)
            or not all(_is_figure(c) for row in t.body for c in row)
            or any(len(row) != t.width for row in t.body)
        ):
            break
        n += 1
    return n if n >= 2 else 0


def _side_by_side(blocks: list[PipeTable]) -> Grid:
    """Column blocks as one table: their headings over them (a stem shared by neighbours over both, the
    brackets under it), their header rows, their figure rows."""
    width = blocks[0].width
    parts = [_part(t.heading) for t in blocks]
    shared = [
        p is not None and any(q is not None and q[0] == p[0] for k2, q in enumerate(parts) if abs(k2 - k) == 1)
        for k, p in enumerate(parts)
    ]
    levels = 2 if any(shared) else 1
    cells: list[DocCell] = []
    k = 0
    while k < len(blocks):
        p = parts[k]
        if not shared[k] or p is None:
            cells.append(DocCell(0, k * width, blocks[k].heading, levels, width))
            k += 1
            continue
        end = k
        while end + 1 < len(blocks) and shared[end + 1] and parts[end + 1] is not None and parts[end + 1][0] == p[0]:  # type: ignore[index]
            end += 1
        stem = _PART.fullmatch(blocks[k].heading.strip())
        assert stem is not None
        cells.append(DocCell(0, k * width, stem.group(1).strip(), 1, (end - k + 1) * width))
        for b in range(k, end + 1):
            cells.append(DocCell(1, b * width, (parts[b] or ("", ""))[1], 1, width))
        k = end + 1
    for b, t in enumerate(blocks):
        cells += [DocCell(levels, b * width + c, text) for c, text in enumerate(t.header) if text.strip()]
        for r, row in enumerate(t.body):
            cells += [DocCell(levels + 1 + r, b * width + c, text) for c, text in enumerate(row)]
    before = blocks[0].before
    return Grid(cells, (before[-2] if len(before) >= 2 else "")[:100], False)


def _body_cells(body: list[list[str]], top: int, width: int | None = None) -> list[DocCell]:
    """The body's cells, each at its column. A row with more or fewer cells than the table is wide
    cannot say which column a figure belongs to: after its label, its cells are printed as one cell
    over the rest of the row, so the figures are named (never shifted into a neighbour's column)."""
    width = width or max((len(row) for row in body), default=0)
    out: list[DocCell] = []
    for r, row in enumerate(body):
        if len(row) == width or len(row) < 2:
            out += [DocCell(top + r, k, text) for k, text in enumerate(row)]
        else:
            rest = " ".join(text.strip() for text in row[1:] if text.strip())
            out += [DocCell(top + r, 0, row[0]), DocCell(top + r, 1, rest, 1, max(width, len(row)) - 1)]
    return out


def _plain(t: PipeTable) -> Grid:
    """A table as printed: its header row's printed cells, every body cell (a blank one too)."""
    cells = [DocCell(0, k, text) for k, text in enumerate(t.header) if text.strip()]
    cells += _body_cells(t.body, t.header_rows, len(t.rows[0]) if t.header_rows else None)
    return Grid(cells, t.heading[:100], not t.before)
