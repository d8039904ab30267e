"""Stage 2, ruling lines into lattices: the pieces of a border joined, crossing lines grouped per table.

Owns ``Lattice`` (a table's column and row boundaries and its rules), the union-find the grouping and
the cells share, and the snapping of nearly equal positions (``cluster``, ``merge``).
"""

from __future__ import annotations

from dataclasses import dataclass

from xltool.read.sources.pdf.extract import Char, Seg
from xltool.read.sources.pdf.settings import DEFAULT, PdfSettings


def cluster(values: list[float], tol: float = DEFAULT.snap) -> list[float]:
    """Sorted values, those within ``tol`` of the previous one taken as one (their mean)."""
    out: list[list[float]] = []
    for v in sorted(values):
        if out and v - out[-1][-1] <= tol:
            out[-1].append(v)
        else:
            out.append([v])
    return [sum(g) / len(g) for g in out]


def merge(segs: list[Seg], settings: PdfSettings = DEFAULT) -> list[Seg]:
    """Collinear pieces joined: Word and LibreOffice draw a border cell by cell. Lines within ``snap``
    of each other are one line (grouped by position first: rounding ``pos`` could split such a group,
    and a short piece sorted after a long one would be swallowed by it)."""
    tol = settings.snap
    groups: list[list[Seg]] = []
    for s in sorted(segs, key=lambda s: s.pos):
        if groups and s.pos - groups[-1][-1].pos <= tol:
            groups[-1].append(s)
        else:
            groups.append([s])
    out: list[Seg] = []
    for group in groups:
        start = len(out)
        for s in sorted(group, key=lambda s: s.a):
            last = out[-1] if len(out) > start else None
            if last is not None and abs(last.pos - s.pos) <= tol and s.a <= last.b + tol:
                last.b = max(last.b, s.b)
            else:
                out.append(Seg(s.pos, s.a, s.b))
    return out


class UnionFind:
    """Disjoint sets of ``0..n-1``: calling it gives a member's root."""

    def __init__(self, n: int):
        self.up = list(range(n))

    def __call__(self, i: int) -> int:
        while self.up[i] != i:
            self.up[i] = self.up[self.up[i]]
            i = self.up[i]
        return i

    def join(self, i: int, j: int) -> None:
        self.up[self(i)] = self(j)


@dataclass
class Lattice:
    """One ruled table: its boundaries and the rules drawn on them."""

    xs: list[float]  # column boundaries, left to right
    ys: list[float]  # row boundaries, top to bottom (descending y)
    hs: list[Seg]
    vs: list[Seg]

    @property
    def top(self) -> float:
        return self.ys[0]

    @property
    def bottom(self) -> float:
        return self.ys[-1]

    def contains(self, c: Char) -> bool:
        return self.xs[0] <= c.cx <= self.xs[-1] and self.ys[-1] <= c.cy <= self.ys[0]


def lattices(hs: list[Seg], vs: list[Seg], settings: PdfSettings = DEFAULT) -> list[Lattice]:
    """Groups of crossing ruling lines with at least two lines each way: one per table."""
    tol = settings.snap
    hs, vs = merge(hs, settings), merge(vs, settings)
    find = UnionFind(len(hs) + len(vs))
    for i, h in enumerate(hs):
        for j, v in enumerate(vs):
            if h.a - tol <= v.pos <= h.b + tol and v.a - tol <= h.pos <= v.b + tol:
                find.join(i, len(hs) + j)
    groups: dict[int, tuple[list[Seg], list[Seg]]] = {}
    for i, h in enumerate(hs):
        groups.setdefault(find(i), ([], []))[0].append(h)
    for j, v in enumerate(vs):
        groups.setdefault(find(len(hs) + j), ([], []))[1].append(v)
    out = []
    for gh, gv in _side_rules(list(groups.values()), settings):
        xs, ys = cluster([v.pos for v in gv], tol), cluster([h.pos for h in gh], tol)
        if len(xs) >= 2 and len(ys) >= 2:
            out.append(Lattice(xs, _open_edges(xs, ys, gv, settings)[::-1], gh, gv))
    return out


def _side_rules(groups: list[tuple[list[Seg], list[Seg]]], settings: PdfSettings) -> list[tuple[list[Seg], list[Seg]]]:
    """The groups, a vertical rule crossing no horizontal one given to the table it borders: a
    column whose one merged cell goes on over the whole page (三、本年度办理结果 when Chromium or WPS
    cut it at both ends) has no rule across it, only its outer rule, as long as the table's own
    outer rule beside it (within ``snap`` at both ends)."""
    tol = settings.snap
    tables = [g for g in groups if g[0]]
    out = list(tables)
    for gh, gv in groups:
        if gh:
            continue
        for v in gv:
            home = next((t for t in tables if _borders(t[1], v, tol)), None)
            if home is None:
                out.append(([], [v]))
            else:
                home[1].append(v)
    return out


def _borders(vs: list[Seg], v: Seg, tol: float) -> bool:
    """Whether ``v`` stands outside the rules ``vs`` as long as their outermost one on its side."""
    if not vs:
        return False
    outer = min(vs, key=lambda s: s.pos) if v.pos < min(s.pos for s in vs) else max(vs, key=lambda s: s.pos)
    beyond = v.pos < outer.pos - tol or v.pos > outer.pos + tol
    return (
        beyond
        and abs(outer.a - v.a) <= tol
        and abs(outer.b - v.b) <= tol
        and not any(abs(s.pos - v.pos) <= tol for s in vs)
    )


def _open_edges(xs: list[float], ys: list[float], vs: list[Seg], settings: PdfSettings) -> list[float]:
    """``ys`` (ascending) with an edge no rule draws: where both outer vertical rules run on at least
    ``open_row`` past the last (or first) horizontal rule, a row the page break cut (WPS draws no
    rule under the last row of a page) ends where the shorter of them ends."""
    tol = settings.snap
    left = [v for v in vs if abs(v.pos - xs[0]) <= tol]
    right = [v for v in vs if abs(v.pos - xs[-1]) <= tol]
    if not left or not right:
        return ys
    low = max(min(v.a for v in left), min(v.a for v in right))
    high = min(max(v.b for v in left), max(v.b for v in right))
    out = list(ys)
    if ys[0] - low >= settings.open_row:
        out.insert(0, low)
    if high - ys[-1] >= settings.open_row:
        out.append(high)
    return out


def covered(segs: list[Seg], pos: float, at: float, settings: PdfSettings = DEFAULT) -> bool:
    """Whether a rule of ``segs`` lies on ``pos`` and reaches over ``at``."""
    tol = settings.snap
    return any(abs(s.pos - pos) <= tol and s.a - tol <= at <= s.b + tol for s in segs)
