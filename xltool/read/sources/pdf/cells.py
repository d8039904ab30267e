"""Stage 3, a lattice's cells and their text: boxes joined where no rule parts them, characters placed.

Owns how characters become text: lines by centre height (``rows_of``), spaces at wide gaps
(``line_text``), a figure Word wrapped in a narrow column made one again (``cell_text``), and a
lattice as a ``DocTable`` (``lattice_table``).
"""

from __future__ import annotations

import bisect

from xltool.read.document import DocCell, DocTable
from xltool.read.sources.pdf.extract import Char
from xltool.read.sources.pdf.rulings import Lattice, UnionFind, covered
from xltool.read.sources.pdf.settings import DEFAULT, PdfSettings


def cell_boxes(lat: Lattice, settings: PdfSettings = DEFAULT) -> tuple[UnionFind, dict[int, list[int]]]:
    """The lattice's boxes joined where no line separates them: root -> [r0, c0, r1, c1]."""
    tol = settings.snap
    nr, nc = len(lat.ys) - 1, len(lat.xs) - 1
    find = UnionFind(nr * nc)
    by_x = {j: [v for v in lat.vs if abs(v.pos - x) <= tol] for j, x in enumerate(lat.xs)}
    by_y = {i: [h for h in lat.hs if abs(h.pos - y) <= tol] for i, y in enumerate(lat.ys)}
    for i in range(nr):
        ymid = (lat.ys[i] + lat.ys[i + 1]) / 2
        for j in range(nc):
            xmid = (lat.xs[j] + lat.xs[j + 1]) / 2
            if j + 1 < nc and not covered(by_x[j + 1], lat.xs[j + 1], ymid, settings):
                find.join(i * nc + j, i * nc + j + 1)
            if i + 1 < nr and not covered(by_y[i + 1], lat.ys[i + 1], xmid, settings):
                find.join(i * nc + j, (i + 1) * nc + j)
    return find, _extents(find, nr, nc)


def _extents(find: UnionFind, nr: int, nc: int) -> dict[int, list[int]]:
    """Each joined cell's first and last row and column: root -> [r0, c0, r1, c1]."""
    boxes: dict[int, list[int]] = {}
    for i in range(nr):
        for j in range(nc):
            b = boxes.setdefault(find(i * nc + j), [i, j, i, j])
            b[0], b[1], b[2], b[3] = min(b[0], i), min(b[1], j), max(b[2], i), max(b[3], j)
    return boxes


def place(lat: Lattice, find: UnionFind, chars: list[Char]) -> dict[int, list[Char]]:
    """Each cell's characters (by the box their centre falls in)."""
    nr, nc = len(lat.ys) - 1, len(lat.xs) - 1
    texts: dict[int, list[Char]] = {}
    neg = [-y for y in lat.ys]
    for c in chars:
        j = bisect.bisect_right(lat.xs, c.cx) - 1
        i = bisect.bisect_right(neg, -c.cy) - 1
        if 0 <= i < nr and 0 <= j < nc:
            texts.setdefault(find(i * nc + j), []).append(c)
    return texts


def lattice_table(
    lat: Lattice, chars: list[Char], xs: list[float] | None = None, settings: PdfSettings = DEFAULT
) -> DocTable:
    """The lattice's boxes joined where no line separates them; each cell's characters as text.
    ``xs``: the column boundaries shared with the pieces of the same table on other pages, so that a
    figure's column is the same in each piece."""
    find, boxes = cell_boxes(lat, settings)
    texts = place(lat, find, chars)
    xs = xs or lat.xs

    def col(x: float) -> int:
        return min(range(len(xs)), key=lambda k: abs(xs[k] - x))

    cells = []
    for root, (r0, c0, r1, c1) in boxes.items():
        first, last = col(lat.xs[c0]), col(lat.xs[c1 + 1])
        inside = texts.get(root, [])
        text = cell_text(inside, lat.xs[c0], lat.xs[c1 + 1], settings)
        sure = min((c.conf for c in inside), default=1.0)
        cells.append(DocCell(r0, first, text, r1 - r0 + 1, max(last - first, 1), confidence=sure))
    cells.sort(key=lambda c: (c.row, c.col))
    return DocTable(number=0, cells=cells)


def rows_of(chars: list[Char], settings: PdfSettings = DEFAULT) -> list[list[Char]]:
    """Characters in lines: by centre height, a line taking what lies within ``same_line`` characters
    of it."""
    lines: list[list[Char]] = []
    for c in sorted(chars, key=lambda c: -c.cy):
        if lines:
            last = lines[-1]
            ref = last[0]
            if abs(ref.cy - c.cy) <= max(ref.y1 - ref.y0, c.y1 - c.y0, 1.0) * settings.same_line:
                last.append(c)
                continue
        lines.append([c])
    return [sorted(line, key=lambda c: c.x0) for line in lines]


def line_text(line: list[Char], settings: PdfSettings = DEFAULT) -> str:
    """A line's characters, a space where the gap is ``space`` characters wide or more."""
    parts: list[str] = []
    prev = None
    for c in line:
        if prev is not None and c.x0 - prev.x1 > settings.space * max(c.y1 - c.y0, 1.0):
            parts.append(" ")
        parts.append(c.ch)
        prev = c
    return "".join(parts)


def cell_text(chars: list[Char], left: float, right: float, settings: PdfSettings = DEFAULT) -> str:
    """A cell's text, line by line; a figure too long for its narrow column (Word wraps 5901 as
    “590” over “1”) is one figure again (``wrapped_figure``)."""
    lines = rows_of(chars, settings)
    if wrapped_figure(lines, left, right, settings):
        return "".join(c.ch for line in lines for c in line)
    return "\n".join(line_text(line, settings) for line in lines)


def wrapped_figure(lines: list[list[Char]], left: float, right: float, settings: PdfSettings = DEFAULT) -> bool:
    """Whether a cell's lines are one wrapped figure: every line digits only, each line but the last
    filling the cell (the next line's first digit would not fit before the right padding, taken as
    wide as the left one, at most ``max_pad``) and the next line right under it."""
    if len(lines) <= 1 or not all(c.ch.isdigit() for line in lines for c in line):
        return False
    pad = min(line[0].x0 for line in lines) - left
    return 0 <= pad <= settings.max_pad and all(
        line[-1].x1 + (nxt[0].x1 - nxt[0].x0) > right - pad + settings.fit
        and line[0].cy - nxt[0].cy <= settings.leading * max(line[0].y1 - line[0].y0, 1.0)
        and line_text(line, settings) == "".join(c.ch for c in line)
        for line, nxt in zip(lines, lines[1:], strict=False)
    )
