"""A document's tables as the locator reads them: each printed cell an entry (a figure, a blank or a
text with its label matches), consecutive tables that continue one another read as one view, and the
row ranges of each view that hold each statutory table (its regions)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from xltool.definition import COUNT
from xltool.read.document import DocCell, DocTable
from xltool.read.spec import Spec
from xltool.text import normalize_label
from xltool.values import PRINTED_FIGURE, parse_value

_WS = re.compile(r"\s+")


def _is_figure(text: str) -> bool:
    s = _WS.sub("", unicodedata.normalize("NFKC", text))
    return bool(s) and PRINTED_FIGURE.fullmatch(s) is not None and any(ch.isdigit() or ch in "Oo〇" for ch in s)


def is_blank(text: str) -> bool:
    return not _WS.sub("", text.replace("\u200b", "").replace("\ufeff", ""))


FIG, BLANK, TEXT = 0, 1, 2
_NONE: dict[int, float] = {}  # no match (shared, never written)


@dataclass(eq=False, slots=True)
class Entry:
    cell: DocCell
    table: DocTable
    row: int  # in the view
    col: int
    bottom: int
    right: int
    kind: int
    key: str


@lru_cache(maxsize=65536)
def _classify(text: str) -> tuple[int, str]:
    """A printed cell: a figure, blank, or text (with its normalised form, for matching labels)."""
    if is_blank(text) or parse_value(text, COUNT).code == "V-PLACEHOLDER":  # "/", "—", "无": no label
        return BLANK, ""
    if _is_figure(text):
        return FIG, ""
    return TEXT, normalize_label(text, loose=True)


def _extent(t: DocTable) -> tuple[int, int]:
    """Rows and columns a table covers, a span below 1 counted as 1 (a source's slip is no crash here)."""
    rows = max((c.row + max(c.rowspan, 1) for c in t.cells if c.row >= 0 and c.col >= 0), default=0)
    cols = max((c.col + max(c.colspan, 1) for c in t.cells if c.row >= 0 and c.col >= 0), default=0)
    return rows, cols


class View:
    """One DocTable, or consecutive ones whose rows continue a table (表三 split by a page break)."""

    def __init__(self, parts: list[DocTable]):
        self.parts = parts
        self.entries: list[Entry] = []
        self.offsets: list[tuple[DocTable, int, int]] = []  # each part's first row and column in the view
        roff = 0
        width = _extent(parts[0])[1]
        for t in parts:
            nrows, ncols = _extent(t)
            coff = max(0, width - ncols)  # a continuation is aligned on the figures, at the right
            self.offsets.append((t, roff, coff))
            for c in t.cells:
                if c.row < 0 or c.col < 0:
                    continue
                kind, key = _classify(c.text or "")
                self.entries.append(
                    Entry(
                        c,
                        t,
                        c.row + roff,
                        c.col + coff,
                        c.row + roff + max(c.rowspan, 1) - 1,
                        c.col + coff + max(c.colspan, 1) - 1,
                        kind,
                        key,
                    )
                )
            roff += nrows
        self.nrows = roff
        self.ncols = max((e.right + 1 for e in self.entries), default=0)
        self.cover: list[list[Entry | None]] = [[None] * self.ncols for _ in range(self.nrows)]
        self.starting: list[list[Entry]] = [[] for _ in range(self.nrows)]
        for e in self.entries:
            self.starting[e.row].append(e)
            for r in range(e.row, e.bottom + 1):
                line = self.cover[r]
                for k in range(e.col, e.right + 1):
                    if line[k] is None:
                        line[k] = e

    def at(self, r: int, c: int) -> Entry | None:
        if 0 <= r < self.nrows and 0 <= c < self.ncols:
            return self.cover[r][c]
        return None

    def spans(self, r: int, c: int) -> bool:
        """Whether the table that prints row ``r`` reaches column ``c`` (a narrower continuation is
        aligned at the right: a column of the part above may lie outside it)."""
        parts = [(t, roff, coff) for t, roff, coff in self.offsets if roff <= r]
        if not parts:
            return False
        t, _roff, coff = parts[-1]
        return coff <= c < coff + _extent(t)[1]


@dataclass
class Region:
    view: View
    table: int
    first: int
    last: int
    weight: float = 0.0


class Context:
    """One locate run: a format's spec against a document's views, with per-entry matches."""

    def __init__(self, spec: Spec, views: list[View]):
        self.spec = spec
        self.views = views
        self.matches: dict[int, dict[int, float]] = {}
        self.bests: dict[int, tuple[int, ...]] = {}
        for v in views:
            for e in v.entries:
                if e.kind == TEXT:
                    self.matches[id(e)] = spec.match(e.key)
                    self.bests[id(e)] = spec.best(e.key)

    def m(self, e: Entry | None) -> dict[int, float]:
        return self.matches.get(id(e), _NONE) if e is not None else _NONE

    def best(self, e: Entry) -> tuple[int, ...]:
        """The labels a text is best taken for (其他 is the column 其他 before it is 3.其他)."""
        return self.bests.get(id(e), ())

    def tags(self, v: View) -> list[set[int]]:
        """Per view row, the tables whose distinctive labels start there."""
        out: list[set[int]] = [set() for _ in range(v.nrows)]
        labels = self.spec.labels
        for e in v.entries:
            for i in self.best(e):
                if labels[i].distinctive:
                    out[e.row].add(labels[i].table)
        return out


def merged_views(spec: Spec, singles: list[View]) -> tuple[Context, list[View]]:
    """Views of the document's tables, merging a table's continuation into the table before it.

    A continuation starts with rows of the table the previous labelled table ended with, and either has
    no header of its own or repeats the header (Word's repeated header rows) over rows not seen before;
    or, marked ``continues`` by its source, goes on with the header of a piece that printed no figure.
    Untagged tables in between (a page footer) stay apart.
    """
    ctx = Context(spec, singles)
    merged: list[View] = []
    last: tuple[int, int] | None = None  # (index in merged, table) of the last labelled view
    for v in singles:
        tags = ctx.tags(v)
        tagged = [next(iter(ts)) for ts in tags if len(ts) == 1]
        if not tagged:
            merged.append(v)
            continue
        if last is not None and tagged[0] == last[1] and _continues(ctx, merged[last[0]], v, last[1]):
            merged[last[0]] = View(merged[last[0]].parts + v.parts)
        else:
            merged.append(v)
            last = (len(merged) - 1, tagged[-1])
            continue
        last = (last[0], tagged[-1])
    if len(merged) != len(singles):
        ctx = Context(spec, merged)
    return ctx, merged


def _continues(ctx: Context, before: View, v: View, ti: int) -> bool:
    labels = ctx.spec.labels

    def row_labels(view: View) -> set[int]:
        return {i for e in view.entries for i in ctx.best(e) if labels[i].table == ti and labels[i].kind == "row"}

    has_header = any(
        labels[i].table == ti and labels[i].header_side and labels[i].kind != "title"
        for e in v.entries
        for i in ctx.best(e)
    )
    mine = row_labels(v)
    if mine and _extent(v.parts[0])[1] > before.ncols and not any(e.kind == FIG for e in before.entries):
        return False  # a header narrower than the rows after it cannot tell their columns
    if mine:
        return not has_header or not (mine & row_labels(before))
    # the page broke right under the header (表四, whose figure row has no label): the source says
    # nothing is printed between, the piece before holds no figure and this one goes on with the header
    return (
        v.parts[0].continues
        and has_header
        and not any(e.kind == FIG for e in before.entries)
        and not row_labels(before)
    )


def table_regions(ctx: Context) -> dict[int, list[Region]]:
    """Row ranges of each view holding each table: runs of rows tagged by its distinctive labels, plus
    the figure rows after them (表四's data row has no label)."""
    out: dict[int, list[Region]] = {}
    for v in ctx.views:
        segs = _tagged_runs(ctx, v)
        for k, seg in enumerate(segs):
            _take_figure_rows(ctx, seg, segs[k + 1].first if k + 1 < len(segs) else v.nrows)
            seg.weight = _weight(ctx, seg)
            out.setdefault(seg.table, []).append(seg)
    return out


def _tagged_runs(ctx: Context, v: View) -> list[Region]:
    """Runs of a view's rows tagged by one table's distinctive labels (a row tagged by several goes on
    the run before it if it can)."""
    segs: list[Region] = []
    for r, ts in enumerate(ctx.tags(v)):
        if not ts:
            continue
        ti = next(iter(ts)) if len(ts) == 1 else (segs[-1].table if segs and segs[-1].table in ts else min(ts))
        if segs and segs[-1].table == ti:
            segs[-1].last = r
        else:
            segs.append(Region(v, ti, r, r))
    return segs


def _take_figure_rows(ctx: Context, seg: Region, stop: int) -> None:
    """Extend a run over the rows after it, up to ``stop``, that print values and no label."""
    v = seg.view
    r = seg.last + 1
    while r < stop and any(e.kind != TEXT for e in v.starting[r]) and not any(ctx.m(e) for e in v.starting[r]):
        seg.last = r
        r += 1


def _weight(ctx: Context, reg: Region) -> float:
    """Sum over the table's counted labels of the best similarity found in the region."""
    best: dict[int, float] = {}
    ts = ctx.spec.tables[reg.table]
    counted = set(ts.counted)
    for r in range(reg.first, reg.last + 1):
        for e in reg.view.starting[r]:
            m = ctx.m(e)
            for i in ctx.best(e):
                if i in counted and m[i] > best.get(i, 0.0):
                    best[i] = m[i]
    return sum(best.values())
