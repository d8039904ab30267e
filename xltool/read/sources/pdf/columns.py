"""Stage 3b, column rules the PDF does not draw, put back where white space runs through a column.

LibreOffice sometimes leaves one out in 表四 (“结果维持 | 结果纠正” and “21 | 0” then share a cell);
``split_columns`` finds such a rule from the text of the cells and returns the lattice with it.
"""

from __future__ import annotations

from xltool.read.sources.pdf.cells import cell_boxes, place
from xltool.read.sources.pdf.extract import Char, Seg
from xltool.read.sources.pdf.rulings import Lattice
from xltool.read.sources.pdf.settings import DEFAULT, PdfSettings


def band(chars: list[Char], x: float, settings: PdfSettings = DEFAULT) -> float:
    """The width of white space around ``x`` between the characters left and right of it: 0 when a
    character lies across ``x`` or none lies on one side."""
    left = [c.x1 for c in chars if c.cx < x]
    right = [c.x0 for c in chars if c.cx > x]
    if not left or not right or any(_across(c, x, settings) for c in chars):
        return 0.0
    return max(min(right) - max(left), 0.0)


def _across(c: Char, x: float, settings: PdfSettings) -> bool:
    return c.x0 + settings.across < x < c.x1 - settings.across


def _height(chars: list[Char]) -> float:
    heights = sorted(c.y1 - c.y0 for c in chars)
    return max(heights[len(heights) // 2], 1.0) if heights else 1.0


def split_columns(
    lat: Lattice, chars: list[Char], known: list[float] | None = None, settings: PdfSettings = DEFAULT
) -> Lattice:
    """Column rules the PDF does not draw, put back. A lattice column is split where a band of white
    space at least ``gap`` characters wide runs through the text of every cell one column wide in
    it, and at least two of those cells (a header and a figure) print on both sides of the band; or
    at ``known`` (the rules of the same table's piece on another page) where no character lies across
    and one of those cells prints on both sides with at least ``band`` characters of white between.
    The new rule runs through the cells one column wide and through wider cells printing on both
    sides of it with that much white between (two headers that lost the rule between them); other
    wider cells (a header over several columns) stay whole. ``lat`` itself when nothing is split."""
    find, boxes = cell_boxes(lat, settings)
    texts = place(lat, find, chars)
    splits = _column_splits(lat, boxes, texts, known or [], settings)
    if not splits:
        return lat
    new_vs = _rules_through(lat, boxes, texts, splits, settings)
    return _through_odd_cells(Lattice(sorted(lat.xs + splits), lat.ys, lat.hs, lat.vs + new_vs), splits, settings)


def _column_splits(
    lat: Lattice,
    boxes: dict[int, list[int]],
    texts: dict[int, list[Char]],
    known: list[float],
    settings: PdfSettings,
) -> list[float]:
    """Where a rule is missing: per lattice column, from its cells one column wide."""
    narrow: dict[int, list[list[Char]]] = {}  # column -> the characters of each cell one column wide
    for root, (_r0, c0, _r1, c1) in boxes.items():
        if c0 == c1:
            narrow.setdefault(c0, []).append(texts.get(root, []))
    splits: list[float] = []
    for j, cells in narrow.items():
        every = [c for cs in cells for c in cs]
        if not every:
            continue
        h = _height(every)
        splits += _white_splits(every, cells, h, settings)
        splits += [x for x in known if _known_split(lat, j, every, cells, x, h, settings)]
    return splits


def _white_splits(every: list[Char], cells: list[list[Char]], h: float, settings: PdfSettings) -> list[float]:
    """The middles of gaps ``gap`` characters wide through all of a column's text that at least two
    of its cells print on both sides of."""
    spans = sorted((c.x0, c.x1) for c in every)
    end = spans[0][1]
    out: list[float] = []
    for a, b in spans[1:]:
        if a - end >= settings.gap * h:
            x = (a + end) / 2
            if sum(1 for cs in cells if band(cs, x, settings) > 0) >= 2:
                out.append(x)
        end = max(end, b)
    return out


def _known_split(
    lat: Lattice, j: int, every: list[Char], cells: list[list[Char]], x: float, h: float, settings: PdfSettings
) -> bool:
    """Whether the rule at ``x`` known from another page runs through column ``j`` here too."""
    tol = settings.snap
    return (
        lat.xs[j] + tol < x < lat.xs[j + 1] - tol
        and not any(_across(c, x, settings) for c in every)
        and any(band(cs, x, settings) >= settings.band * h for cs in cells)
    )


def _rules_through(
    lat: Lattice,
    boxes: dict[int, list[int]],
    texts: dict[int, list[Char]],
    splits: list[float],
    settings: PdfSettings,
) -> list[Seg]:
    """The new rules: through each cell one column wide over a split, and each wider cell printing on
    both sides of it with ``band`` characters of white between."""
    new_vs: list[Seg] = []
    for x in splits:
        for root, (r0, c0, r1, c1) in boxes.items():
            if not lat.xs[c0] < x < lat.xs[c1 + 1]:
                continue
            cs = texts.get(root, [])
            if c0 == c1 or band(cs, x, settings) >= settings.band * _height(cs):
                new_vs.append(Seg(x, lat.ys[r1 + 1], lat.ys[r0]))
    return new_vs


def _through_odd_cells(out: Lattice, splits: list[float], settings: PdfSettings) -> Lattice:
    """A cell that is no rectangle (自然人 over two rows joined to 法人或其他组织 beside it, the rule
    between them not drawn on this page) takes the new rule through the rows it spans."""
    find, boxes = cell_boxes(out, settings)
    nc = len(out.xs) - 1
    area: dict[int, int] = {}
    for k in range((len(out.ys) - 1) * nc):
        area[find(k)] = area.get(find(k), 0) + 1
    more: list[Seg] = []
    for root, (r0, c0, r1, c1) in boxes.items():
        if area[root] < (r1 - r0 + 1) * (c1 - c0 + 1):
            more += [Seg(x, out.ys[r1 + 1], out.ys[r0]) for x in splits if out.xs[c0] < x < out.xs[c1 + 1]]
    if more:
        out = Lattice(out.xs, out.ys, out.hs, out.vs + more)
    return out
