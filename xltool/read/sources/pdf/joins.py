"""Stage 5, the pages joined into one Document: numbers and captions of the tables, a table whose next
piece starts the next page with nothing printed between marked ``continues``, the pieces of one ruled
table built on shared columns, and a row the page break cut in two made one again.
"""

from __future__ import annotations

import re
from dataclasses import replace

from xltool.read.document import DocCell, DocTable, Document
from xltool.read.sources.limits import MAX_CELLS, MAX_TABLES, MAX_TEXT, NOT_A_REPORT, refuse
from xltool.read.sources.pdf.cells import lattice_table
from xltool.read.sources.pdf.columns import split_columns
from xltool.read.sources.pdf.rulings import cluster
from xltool.read.sources.pdf.settings import DEFAULT, PdfSettings
from xltool.read.sources.pdf.tables import Block
from xltool.values import PRINTED_FIGURE

MAX_CAPTION = 100
_ITEM = re.compile(r"^\s*(?:[（(]\s*[一二三四五六七八九十\d]+\s*[）)]|[一二三四五六七八九十]+\s*[、.．]|\d+\s*[.．、])")


def assemble(blocks: list[Block], file: str, name: str, settings: PdfSettings = DEFAULT) -> Document:
    """The pages' blocks, in reading order, as one Document (SourceError over the limits)."""
    from xltool.read.sources.docx import _title

    doc = Document(file=file, kind="pdf")
    lines: list[str] = []
    leading: list[str] = []
    since: list[str] = []
    for b in blocks:
        if b.table is None:
            lines.append(b.text)
            since.append(b.text)
            if not doc.tables:
                leading.append(b.text)
            continue
        if len(doc.tables) >= MAX_TABLES:
            raise refuse("F-TOO-LARGE", name, what="的表格个数", limit=f"{MAX_TABLES} 个", hint=NOT_A_REPORT)
        b.table.number = len(doc.tables) + 1
        b.table.caption = since[-1].strip()[:MAX_CAPTION] if since else ""
        b.table.continues = bool(doc.tables) and not since
        doc.tables.append(b.table)
        since = []
    build_lattices(blocks, settings)
    cells = sum(len(t.cells) for t in doc.tables)
    if cells > MAX_CELLS:
        raise refuse("F-TOO-LARGE", name, what="的表格单元格个数", limit=f"{MAX_CELLS:,} 个", hint=NOT_A_REPORT)
    doc.text = "\n".join(lines)[:MAX_TEXT]
    doc.title = _title([t.strip() for t in leading if t.strip()])
    return doc


def build_lattices(blocks: list[Block], settings: PdfSettings = DEFAULT) -> None:
    """Each ruled table's cells, the pieces of one table (continued on the next page) on shared columns."""
    for group in _pieces(blocks):
        xs = _shared_columns(group, settings)
        for b in group:
            built = lattice_table(b.lattice, b.chars, xs, settings)  # type: ignore[arg-type]
            b.table.cells = built.cells  # type: ignore[union-attr]
        for k in range(1, len(group)):
            join_broken_row(group[k - 1].table, group[k].table)  # type: ignore[arg-type]


def _pieces(blocks: list[Block]) -> list[list[Block]]:
    """The ruled blocks grouped by table: a piece marked ``continues`` goes with the one before."""
    pieces: list[list[Block]] = []
    for b in blocks:
        if b.lattice is None:
            continue
        if pieces and b.table is not None and b.table.continues and pieces[-1][-1].lattice is not None:
            pieces[-1].append(b)
        else:
            pieces.append([b])
    return pieces


def _shared_columns(group: list[Block], settings: PdfSettings) -> list[float] | None:
    """Each piece's undrawn column rules put back, then those drawn on one page and not on the other;
    the column boundaries of all pieces (None for a table on one page)."""
    for b in group:
        b.lattice = split_columns(b.lattice, b.chars, settings=settings)  # type: ignore[arg-type]
    if len(group) == 1:
        return None
    known = cluster([x for b in group for x in b.lattice.xs], settings.snap)  # type: ignore[union-attr]
    for b in group:
        b.lattice = split_columns(b.lattice, b.chars, known, settings)  # type: ignore[arg-type]
    return cluster([x for b in group for x in b.lattice.xs], settings.snap)  # type: ignore[union-attr]


def join_broken_row(before: DocTable, after: DocTable) -> bool:
    """A row the page break cut in two, made one again: ``after`` continues ``before`` on the next page.

    * The first row of ``after`` is the rest of the last row of ``before``: it prints no figure, or
      figures only under cells of that last row left empty (figures printed lower in their cells),
      no text of it starts with an item number (“（五）”, “4.”, “二、”: a new row) and it is no repeated
      header. Each of its texts (“社会\n公益” / “组织”, “4.无正当理由大量反” / “复申请”) is added to the
      cell of the last row over the same columns and the row is dropped.
    * Otherwise a cell over several rows cut by the break (“（五\n）不\n予处” / “理”): a cell of the first
      row spanning rows whose text starts with no item number gives its text to the cell with text over
      the same columns above it.

    A first row printing nothing is dropped. Nothing is joined when a cell of the first row has no cell
    over exactly the same columns above it.
    True when something was joined."""
    if not before.cells or not after.cells:
        return False
    first = [c for c in after.cells if c.row == 0]
    above = _cells_above(before, first)
    if above is None:
        return False
    texts = [c for c in first if c.text.strip()]
    if not texts:  # the cut row's rest printed nothing (表四's header over two rows, cut under them)
        after.cells = _drop_first_row(after.cells)
        return True
    whole_row = _rest_of_last_row(before, texts, above)
    moved = texts if whole_row else _cut_cells(texts, above)
    if not moved:
        return False
    before.cells = _texts_added(before.cells, {above[c.col]: _joined(above[c.col].text, c.text) for c in moved})
    after.cells = _drop_first_row(after.cells) if whole_row else _texts_added(after.cells, dict.fromkeys(moved, ""))
    return True


def _texts_added(cells: list[DocCell], texts: dict[DocCell, str]) -> list[DocCell]:
    """``cells`` with the text of each cell in ``texts`` replaced by the one given there."""
    return [replace(c, text=texts[c]) if c in texts else c for c in cells]


def _cells_above(before: DocTable, first: list[DocCell]) -> dict[int, DocCell] | None:
    """For each cell of ``after``'s first row, the cell of ``before``'s last row over exactly the same
    columns (by column); None when one has none."""
    last = before.nrows - 1
    grid = before.grid()
    above: dict[int, DocCell] = {}
    for c in first:
        over = grid[last][c.col] if c.col < len(grid[last]) else None
        if over is None or over.col != c.col or over.colspan != c.colspan:
            return None
        above[c.col] = over
    return above


def _split_figures(texts: list[DocCell]) -> tuple[list[DocCell], list[DocCell]]:
    figures = [c for c in texts if PRINTED_FIGURE.fullmatch("".join(c.text.split()))]
    return figures, [c for c in texts if c not in figures]


def _rest_of_last_row(before: DocTable, texts: list[DocCell], above: dict[int, DocCell]) -> bool:
    """Whether the printing cells of the first row are the rest of ``before``'s last row: words, figures
    only under empty cells, no item number, not all a repeated header."""
    figures, words = _split_figures(texts)
    header = {c.text.strip() for c in before.cells if c.text.strip()}
    return (
        bool(words)
        and all(not above[c.col].text.strip() for c in figures)
        and not any(_ITEM.match(c.text) for c in words)
        and not all(c.text.strip() in header for c in texts)
    )


def _cut_cells(texts: list[DocCell], above: dict[int, DocCell]) -> list[DocCell]:
    """The first row's cells over several rows that continue a cell with text above (no item number)."""
    _figures, words = _split_figures(texts)
    return [c for c in words if c.rowspan > 1 and above[c.col].text.strip() and not _ITEM.match(c.text)]


def _drop_first_row(cells: list[DocCell]) -> list[DocCell]:
    """The cells without the first row: a cell over more rows than it goes on, its text given away."""
    rest: list[DocCell] = []
    for c in cells:
        if c.row > 0:
            rest.append(replace(c, row=c.row - 1))
        elif c.rowspan > 1:
            rest.append(replace(c, row=0, text="", rowspan=c.rowspan - 1))
    return rest


def _joined(a: str, b: str) -> str:
    a, b = a.rstrip(), b.strip()
    return f"{a}\n{b}" if a and b else a or b
