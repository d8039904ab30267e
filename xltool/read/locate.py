"""Place every statutory cell of a format in a ``Document``'s tables by the definition's printed labels.

Sources (HTML, Word, workbooks) only turn what they read into ``DocTable`` grids; nothing there knows
the statutory tables. Here the definition's own template layout is the canonical grid: each statutory
cell gets a ROW PATH (its row label and the labels spanning its rows to the left, e.g.
三、本年度办理结果 > （三）不予公开 > 1.属于国家秘密) and a COLUMN PATH (its column label and the header
labels above it, e.g. 行政诉讼 > 未经复议直接起诉 > 结果维持). A document's cell is found where its row
path and column path are printed, never by position alone, and every deviation is a finding.

Label matching, in tiers (1 and 2 are taken together; otherwise the first tier that matches wins, all
its matches are kept, and the path chooses among them):

1. exact after ``normalize_label(loose=True)``: NFKC, no whitespace, one kind of bracket, no quotes, “1、”→“1.”, no
   trailing colon, a year inserted or written in (本年(2023)制发件数, 2023年制发件数) read as 本年;
2. the same without a list number (属于国家秘密 for 1.属于国家秘密, 其他 for 3.其他) — silent, and kept
   beside an exact match of another label (其他 is also a column of 表三): the path chooses;
3. the label with a two-character prefix dropped (规范性文件 for 行政规范性文件) — D-LABEL-VARIANT;
4. similarity ``difflib.SequenceMatcher.ratio`` >= ``SIMILARITY`` (0.8) on the normalised text or on
   it without list numbers, best ratio only — D-LABEL-VARIANT. 0.8 accepts one wrong or missing
   character in a 5-character label (行政法复议 → 行政复议: 0.89) and three missing in a 12-character
   one (其他法律行政止公开 → 其他法律行政法规禁止公开: 0.86), but not 其他 for 其他结果 (0.67).
   Differently numbered items are never typos of each other (第二十条第（九）项 is not （一）).

A weaker reading of a text counts only where the path confirms it; a long row label wrapped onto a
second line beside its figures (PDF text) is read as one label.

Tables are found by their labels, not by sheet or order: rows tagged by labels only one table prints
make a table's region (all three may share one sheet, at any offset; other tables are ignored); a table
whose rows continue the table before it (表三 across a page break) is read as one with it.

Format recognition: ``choose_format(doc, formats)`` (``locate(doc)``: the builtin formats) tries the
current formats first and keeps the one with the best score = the sum over the format's printed
labels of the best similarity found in the table's region, divided by (number of those labels + extra
rows and headers); 1.0 is a perfect match.

Finding codes (severity):

=====================  ========  ===========================================================
D-TABLE-MISSING        error     a table of the format was not found in the document
D-ROW-MISSING          error     a statutory row was not found (or found twice, equally well)
D-COLUMN-MISSING       error     a statutory column was not found above a row that needs it
D-ROW-EXTRA            warning   a printed row whose label matches no label of the table
D-COLUMN-EXTRA         warning   a printed header that matches no label of the table
D-LABEL-VARIANT        warning   a label matched by similarity or with a prefix dropped
D-UNPLACED             error     a figure printed where no statutory cell is
D-T3-OTHER-ONE-ROW     warning   （六）其他处理 printed as one row: its figures go to 3.其他, 0 to the others
D-BLANK-AS-ZERO        warning   ``blank_as_zero=True`` turned blank statutory cells into 0
=====================  ========  ===========================================================
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache

from xltool.catalogue import finding_fields
from xltool.definition import Format, Span, builtin_formats
from xltool.model import ERROR
from xltool.read.document import DocCell, DocTable, Document
from xltool.text import normalize_label
from xltool.values import COUNT, PRINTED_FIGURE, parse_value

SIMILARITY = 0.8
"""Least ``SequenceMatcher.ratio`` for a printed label to be taken for a definition's label (see above)."""

MIN_TABLE_LABELS = 0.25
"""A table is found where at least this share of its printed labels (and at least 2) are matched."""

_S_EXACT, _S_BARE, _S_PREFIX = 1.0, 0.99, 0.95  # similarity given to the tiers before the measured one

# --------------------------------------------------------------------------- normalising labels

_WS = re.compile(r"\s+")
_BARE = re.compile(r"^(?:\d+\.|\([一二三四五六七八九十\d]+\)|[一二三四五六七八九十]+[、,.])")
_CJK = re.compile(r"[\u3400-\u9fff]")


_ORDINAL = re.compile(r"\(([一二三四五六七八九十]+)\)|^(\d+)\.|^([一二三四五六七八九十]+)[、,]")


def _ordinal(key: str) -> str:
    """The item number a label carries (（五） of 第二十条第（五）项, 2 of 2.重复申请); "" when none."""
    m = _ORDINAL.search(key)
    return next((g for g in m.groups() if g), "") if m else ""


def _bare(key: str) -> str:
    """A normalised label without its list number (1. / (三) / 一、)."""
    return _BARE.sub("", key)


def _is_figure(text: str) -> bool:
    s = _WS.sub("", unicodedata.normalize("NFKC", text))
    return bool(s) and PRINTED_FIGURE.fullmatch(s) is not None and any(ch.isdigit() or ch in "Oo〇" for ch in s)


def _is_blank(text: str) -> bool:
    return not _WS.sub("", text.replace("\u200b", "").replace("\ufeff", ""))


def _short(text: str, limit: int = 30) -> str:
    s = _WS.sub(" ", text).strip()
    return s if len(s) <= limit else s[: limit - 1] + "…"


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Placed:
    """Where a statutory cell's text was found: the DocTable, its sheet and A1 (workbooks), grid position."""

    text: str
    table: int  # DocTable.number
    sheet: str
    ref: str
    row: int  # the DocCell's row in its DocTable's grid
    col: int
    where: str  # DocTable.where(cell), for messages


@dataclass(frozen=True)
class LocateFinding:
    """A deviation of a document's tables from the format, named by table, row and column label."""

    code: str
    severity: str  # "error" | "warning"
    message: str
    table: str = ""  # 表二 / 表三 / 表四
    row_label: str = ""
    col_label: str = ""
    doc_table: int | None = None
    sheet: str = ""
    ref: str = ""
    cells: tuple[str, ...] = ()


@dataclass
class Located:
    """What ``locate`` found: the format used, each placed cell's text, the deviations and the match score."""

    format: Format
    values: dict[str, Placed] = field(default_factory=dict)
    findings: list[LocateFinding] = field(default_factory=list)
    score: float = 0.0
    tables: dict[str, tuple[int, ...]] = field(default_factory=dict)  # table key -> DocTable numbers used
    scores: dict[str, float] = field(default_factory=dict)  # format id -> score, for every format tried

    @property
    def errors(self) -> list[LocateFinding]:
        return [f for f in self.findings if f.severity == ERROR]


# --------------------------------------------------------------------------- the format's label model


@dataclass(eq=False)
class _Label:
    idx: int
    table: int  # index into _Spec.tables
    text: str
    key: str
    bare: str
    kind: str  # row | col | group | header | title | check
    ordinal: str = ""
    check_offset: int = 0  # for a check label: where the template's check results sit, rows below it
    header_side: bool = False  # printed in a table's header rows (column labels and what is above them)
    distinctive: bool = True  # no other table of the format prints a label like it
    matcher: SequenceMatcher | None = None
    bare_matcher: SequenceMatcher | None = None


@dataclass(eq=False)
class _RowSpec:
    path: tuple[int, ...]  # label idxs, outermost first; () where the format prints no row label
    cells: list[tuple[str, int]] = field(default_factory=list)  # (cell id, column spec index)


@dataclass(eq=False)
class _ColSpec:
    path: tuple[int, ...]


@dataclass(eq=False)
class _TableSpec:
    key: str
    name: str  # 表二
    labels: list[int]
    counted: list[int]  # labels counted for recognition and score (not titles or check labels)
    rows: list[_RowSpec]
    cols: list[_ColSpec]
    groups: dict[int, list[int]]  # row-group label idx -> its child row spec indexes
    cell_ids: tuple[str, ...]


class _Spec:
    """Everything ``locate`` needs from one Format, built once per Format object."""

    def __init__(self, fmt: Format):
        self.labels: list[_Label] = []
        self.tables: list[_TableSpec] = []
        self._exact: dict[str, list[int]] = {}
        self._bare: dict[str, list[int]] = {}
        self._prefix: dict[str, list[int]] = {}
        self._cache: dict[str, dict[int, float]] = {}
        self._best: dict[str, tuple[int, ...]] = {}
        for ti, t in enumerate(fmt.tables):
            self.tables.append(self._table(fmt, ti, t))
        for lab in self.labels:
            self._exact.setdefault(lab.key, []).append(lab.idx)
            self._bare.setdefault(lab.bare, []).append(lab.idx)
            key = lab.key
            if len(key) >= 6 and _CJK.fullmatch(key[0]) and _CJK.fullmatch(key[1]):
                self._prefix.setdefault(key[2:], []).append(lab.idx)
            lab.matcher = SequenceMatcher(None, autojunk=False)
            lab.matcher.set_seq2(lab.key)
            lab.bare_matcher = SequenceMatcher(None, autojunk=False)
            lab.bare_matcher.set_seq2(lab.bare)
        for lab in self.labels:
            lab.distinctive = all(self.labels[i].table == lab.table for i in self.match(lab.key))

    def _add(self, ti: int, text: str, kind: str) -> int:
        key = normalize_label(text, loose=True)
        self.labels.append(_Label(len(self.labels), ti, text, key, _bare(key), kind, _ordinal(key)))
        return len(self.labels) - 1

    def _table(self, fmt: Format, ti: int, t) -> _TableSpec:
        spans: dict[Span, str] = t.printed_labels
        cells = [c for c in fmt.cells.values() if c.table == t.key]
        at_cell = {(c.row, c.col + k): c for c in cells for k in range(c.width)}
        covering: dict[tuple[int, int], Span] = {}
        for s in spans:
            for r in range(s.first_row, s.last_row + 1):
                for k in range(s.first_col, s.last_col + 1):
                    covering[(r, k)] = s
        row_paths: dict[str, tuple[Span, ...]] = {}
        col_paths: dict[str, tuple[Span, ...]] = {}
        for c in cells:
            left = [s for s in spans if s.first_row <= c.row <= s.last_row and s.last_col < c.col]
            row_paths[c.id] = tuple(sorted(left, key=lambda s: s.first_col))
            up: list[Span] = []
            r = c.row - 1
            while r >= 0:
                if (r, c.col) in at_cell:  # the data rows above, up to the header; not past a header
                    if up:
                        break
                    r -= 1
                    continue
                if (r, c.col) not in covering:
                    break
                s = covering[(r, c.col)]
                if not up or up[-1] != s:
                    up.append(s)
                r = s.first_row - 1
            col_paths[c.id] = tuple(reversed(up))
        row_leaves = {p[-1] for p in row_paths.values() if p}
        col_leaves = {p[-1] for p in col_paths.values() if p}
        in_rows = {s for p in row_paths.values() for s in p}
        in_cols = {s for p in col_paths.values() for s in p}
        idx: dict[Span, int] = {}
        for s, text in spans.items():
            kind = (
                "row"
                if s in row_leaves
                else "col"
                if s in col_leaves
                else "group"
                if s in in_rows | in_cols
                else "header"
            )
            idx[s] = self._add(ti, text, kind)
            self.labels[idx[s]].header_side = s in in_cols or kind == "header"
        title = self._add(ti, t.title, "title")
        self.labels[title].header_side = True
        extra = [title]
        for rule in fmt.rules:
            if rule.check_label and any(fmt.grid(g).table == t.key for g in rule.grids):
                i = self._add(ti, rule.check_label.text, "check")
                self.labels[i].header_side = True
                if rule.check_row is not None:
                    self.labels[i].check_offset = rule.check_row - rule.check_label.span.first_row
                extra.append(i)
        rows: dict[tuple[int, ...], int] = {}
        cols: dict[tuple[int, ...], int] = {}
        row_specs: list[_RowSpec] = []
        col_specs: list[_ColSpec] = []
        for c in cells:
            rp = tuple(idx[s] for s in row_paths[c.id])
            cp = tuple(idx[s] for s in col_paths[c.id])
            if rp not in rows:
                rows[rp] = len(row_specs)
                row_specs.append(_RowSpec(rp))
            if cp not in cols:
                cols[cp] = len(col_specs)
                col_specs.append(_ColSpec(cp))
            row_specs[rows[rp]].cells.append((c.id, cols[cp]))
        groups: dict[int, list[int]] = {}
        for ri, rs in enumerate(row_specs):
            if len(rs.path) >= 2:
                groups.setdefault(rs.path[-2], []).append(ri)
        # only a group whose rows are its items (（六）其他处理 over 1.–3.), not one over other groups
        # (三、本年度办理结果) nor one that is itself a row of the format (2019 （六）其他处理)
        deeper = {g for rs in row_specs for g in rs.path[:-2]}
        groups = {g: kids for g, kids in groups.items() if self.labels[g].kind == "group" and g not in deeper}
        own = list(idx.values())
        return _TableSpec(
            key=t.key,
            name=t.sheet.split()[0] if t.sheet.split() else t.sheet,
            labels=own + extra,
            counted=own,
            rows=row_specs,
            cols=col_specs,
            groups=groups,
            cell_ids=tuple(c.id for c in cells),
        )

    def best(self, key: str) -> tuple[int, ...]:
        """The labels a text is best taken for: its matches of the highest similarity."""
        got = self._best.get(key)
        if got is None:
            m = self.match(key)
            top = max(m.values(), default=0.0)
            got = tuple(i for i, s in m.items() if s == top)
            if len(self._best) < 20000:
                self._best[key] = got
        return got

    def match(self, key: str) -> dict[int, float]:
        """Labels a printed (normalised) text is taken for, with their similarity; {} when none."""
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        out: dict[int, float] = {}
        bare = _bare(key)
        for i in self._bare.get(bare, ()) if bare else ():  # the same but for a list number: the path decides
            out[i] = _S_BARE
        for i in self._exact.get(key, ()):
            out[i] = _S_EXACT
        if not out:
            for i in self._prefix.get(key, ()):
                out[i] = _S_PREFIX
        if not out and 0 < len(key) <= 80 and _CJK.search(key):
            best = SIMILARITY
            number = _ordinal(key)
            for lab in self.labels:
                if number and lab.ordinal and number != lab.ordinal:
                    continue  # （九） is no typo of （一）: differently numbered items are different items
                r = _ratio(lab.matcher, key, len(lab.key))
                if bare != key or lab.bare != lab.key:
                    r = max(r, _ratio(lab.bare_matcher, bare, len(lab.bare)))
                if r > best + 1e-9:
                    best, out = r, {lab.idx: r}
                elif r >= best - 1e-9:
                    out[lab.idx] = r
        if len(self._cache) < 20000:
            self._cache[key] = out
        return out


def _ratio(m: SequenceMatcher | None, a: str, lb: int) -> float:
    la = len(a)
    if not la or not lb or 2 * min(la, lb) / (la + lb) < SIMILARITY - 1e-9 or m is None:
        return 0.0
    m.set_seq1(a)
    if m.quick_ratio() < SIMILARITY - 1e-9:
        return 0.0
    return m.ratio()


_SPECS: dict[tuple[str, str, str], _Spec] = {}


def _spec(fmt: Format) -> _Spec:
    """The label model of a format, built once per definition: keyed by the format's id, fingerprint
    (which changes with any label or cell) and title texts (which the fingerprint leaves out)."""
    key = (fmt.id, fmt.fingerprint, "\n".join(t.title for t in fmt.tables))
    spec = _SPECS.get(key)
    if spec is None:
        if len(_SPECS) > 64:
            _SPECS.clear()
        spec = _SPECS[key] = _Spec(fmt)
    return spec


# --------------------------------------------------------------------------- the document side

_FIG, _BLANK, _TEXT = 0, 1, 2
_NONE: dict[int, float] = {}  # no match (shared, never written)


@dataclass(eq=False, slots=True)
class _Entry:
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
    if _is_blank(text) or parse_value(text, COUNT).code == "V-PLACEHOLDER":  # "/", "—", "无": no label
        return _BLANK, ""
    if _is_figure(text):
        return _FIG, ""
    return _TEXT, normalize_label(text, loose=True)


def _extent(t: DocTable) -> tuple[int, int]:
    """Rows and columns a table covers, a span below 1 counted as 1 (a source's slip is no crash here)."""
    rows = max((c.row + max(c.rowspan, 1) for c in t.cells if c.row >= 0 and c.col >= 0), default=0)
    cols = max((c.col + max(c.colspan, 1) for c in t.cells if c.row >= 0 and c.col >= 0), default=0)
    return rows, cols


class _View:
    """One DocTable, or consecutive ones whose rows continue a table (表三 split by a page break)."""

    def __init__(self, parts: list[DocTable]):
        self.parts = parts
        self.entries: list[_Entry] = []
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
                    _Entry(
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
        self.cover: list[list[_Entry | None]] = [[None] * self.ncols for _ in range(self.nrows)]
        self.starting: list[list[_Entry]] = [[] for _ in range(self.nrows)]
        for e in self.entries:
            self.starting[e.row].append(e)
            for r in range(e.row, e.bottom + 1):
                line = self.cover[r]
                for k in range(e.col, e.right + 1):
                    if line[k] is None:
                        line[k] = e

    def at(self, r: int, c: int) -> _Entry | None:
        if 0 <= r < self.nrows and 0 <= c < self.ncols:
            return self.cover[r][c]
        return None


@dataclass
class _Region:
    view: _View
    table: int
    first: int
    last: int
    weight: float = 0.0


class _Ctx:
    """One locate run: a format's spec against a document's views, with per-entry matches."""

    def __init__(self, spec: _Spec, views: list[_View]):
        self.spec = spec
        self.views = views
        self.matches: dict[int, dict[int, float]] = {}
        self.bests: dict[int, tuple[int, ...]] = {}
        for v in views:
            for e in v.entries:
                if e.kind == _TEXT:
                    self.matches[id(e)] = spec.match(e.key)
                    self.bests[id(e)] = spec.best(e.key)

    def m(self, e: _Entry | None) -> dict[int, float]:
        return self.matches.get(id(e), _NONE) if e is not None else _NONE

    def best(self, e: _Entry) -> tuple[int, ...]:
        """The labels a text is best taken for (其他 is the column 其他 before it is 3.其他)."""
        return self.bests.get(id(e), ())

    def tags(self, v: _View) -> list[set[int]]:
        """Per view row, the tables whose distinctive labels start there."""
        out: list[set[int]] = [set() for _ in range(v.nrows)]
        labels = self.spec.labels
        for e in v.entries:
            for i in self.best(e):
                if labels[i].distinctive:
                    out[e.row].add(labels[i].table)
        return out


def _views(spec: _Spec, singles: list[_View]) -> tuple[_Ctx, list[_View]]:
    """Views of the document's tables, merging a table's continuation into the table before it.

    A continuation starts with rows of the table the previous labelled table ended with, and either has
    no header of its own or repeats the header (Word's repeated header rows) over rows not seen before;
    or, marked ``continues`` by its source, goes on with the header of a piece that printed no figure.
    Untagged tables in between (a page footer) stay apart.
    """
    ctx = _Ctx(spec, singles)
    merged: list[_View] = []
    last: tuple[int, int] | None = None  # (index in merged, table) of the last labelled view
    for v in singles:
        tags = ctx.tags(v)
        tagged = [next(iter(ts)) for ts in tags if len(ts) == 1]
        if not tagged:
            merged.append(v)
            continue
        if last is not None and tagged[0] == last[1] and _continues(ctx, merged[last[0]], v, last[1]):
            merged[last[0]] = _View(merged[last[0]].parts + v.parts)
        else:
            merged.append(v)
            last = (len(merged) - 1, tagged[-1])
            continue
        last = (last[0], tagged[-1])
    if len(merged) != len(singles):
        ctx = _Ctx(spec, merged)
    return ctx, merged


def _continues(ctx: _Ctx, before: _View, v: _View, ti: int) -> bool:
    labels = ctx.spec.labels

    def row_labels(view: _View) -> set[int]:
        return {i for e in view.entries for i in ctx.best(e) if labels[i].table == ti and labels[i].kind == "row"}

    has_header = any(
        labels[i].table == ti and labels[i].header_side and labels[i].kind != "title"
        for e in v.entries
        for i in ctx.best(e)
    )
    mine = row_labels(v)
    if mine:
        return not has_header or not (mine & row_labels(before))
    # the page broke right under the header (表四, whose figure row has no label): the source says
    # nothing is printed between, the piece before holds no figure and this one goes on with the header
    return (
        v.parts[0].continues
        and has_header
        and not any(e.kind == _FIG for e in before.entries)
        and not row_labels(before)
    )


def _regions(ctx: _Ctx) -> dict[int, list[_Region]]:
    """Row ranges of each view holding each table: runs of rows tagged by its distinctive labels, plus
    the figure rows after them (表四's data row has no label)."""
    out: dict[int, list[_Region]] = {}
    for v in ctx.views:
        tags = ctx.tags(v)
        segs: list[_Region] = []
        for r, ts in enumerate(tags):
            if not ts:
                continue
            ti = next(iter(ts)) if len(ts) == 1 else (segs[-1].table if segs and segs[-1].table in ts else min(ts))
            if segs and segs[-1].table == ti:
                segs[-1].last = r
            else:
                segs.append(_Region(v, ti, r, r))
        for k, seg in enumerate(segs):
            stop = segs[k + 1].first if k + 1 < len(segs) else v.nrows
            r = seg.last + 1
            while r < stop and any(e.kind != _TEXT for e in v.starting[r]) and not any(ctx.m(e) for e in v.starting[r]):
                seg.last = r
                r += 1
            seg.weight = _weight(ctx, seg)
            out.setdefault(seg.table, []).append(seg)
    return out


def _weight(ctx: _Ctx, reg: _Region) -> float:
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


# --------------------------------------------------------------------------- placing one table


class _Placer:
    def __init__(self, ctx: _Ctx, reg: _Region, out: Located, blank_as_zero: bool):
        self.ctx, self.reg, self.out = ctx, reg, out
        self.spec = ctx.spec
        self.ts = ctx.spec.tables[reg.table]
        self.v = reg.view
        self.used: set[int] = set()  # ids of entries read as values
        self.label_used: set[int] = set()
        self.blank_as_zero = blank_as_zero
        self._own: dict[int, dict[int, float]] = {}
        self.value_rows: set[int] = set()
        self._wrapped: dict[int, int] = {}  # id of a wrapped label's first line -> the row of its figures
        self._join_wrapped_labels()

    # -- helpers

    def entries(self):
        for r in range(self.reg.first, self.reg.last + 1):
            yield from self.v.starting[r]

    def own(self, e: _Entry) -> dict[int, float]:
        """The entry's matches among this table's labels."""
        got = self._own.get(id(e))
        if got is None:
            lab, ti = self.spec.labels, self.reg.table
            got = {i: s for i, s in self.ctx.m(e).items() if lab[i].table == ti}
            self._own[id(e)] = got
        return got

    def _anc_score(self, path: tuple[int, ...], found: list[_Entry]) -> float:
        total = 0.0
        for a in path:
            total += max((self.ctx.m(e).get(a, 0.0) for e in found), default=0.0)
        return total

    def _left(self, e: _Entry, r: int) -> list[_Entry]:
        out: list[_Entry] = []
        for k in range(e.col):
            x = self.v.at(r, k)
            if x is not None and x is not e and x.kind == _TEXT and (not out or out[-1] is not x):
                out.append(x)
        return out

    def _above(self, e: _Entry) -> list[_Entry]:
        out: list[_Entry] = []
        r = e.row - 1
        while r >= self.reg.first:
            x = self.v.at(r, e.col)
            if x is None:  # nothing printed here: a heading typed unmerged in its block's first cell?
                x = self._heading_from_left(r, e.col)
                if x is None:
                    r -= 1  # a blank header row (a hand-made sheet): look further up
                    continue
            if x.kind != _TEXT:
                break
            out.append(x)
            r = x.row - 1
        return out

    def _heading_from_left(self, r: int, c: int) -> _Entry | None:
        """In a sheet made by hand a group heading is often typed into the first cell of its block
        without merging: it covers the empty cells to its right, up to the next printed cell."""
        for k in range(c - 1, -1, -1):
            x = self.v.at(r, k)
            if x is not None:
                return x if x.kind == _TEXT and x.row == r else None
        return None

    def _join_wrapped_labels(self) -> None:
        """A long row label wrapped onto a second line with the figures beside the second line (PDF text):
        read the two lines as one label, placed at the figures' row."""
        v = self.v
        for e in list(self.entries()):
            r = e.row + 1
            if e.kind != _TEXT or e.bottom != e.row or r > self.reg.last or self._has_figure(e.row, e.right):
                continue
            x = v.at(r, e.col)
            if x is None or x.kind != _TEXT or x.row != r or x.col != e.col or self.ctx.m(x):
                continue
            if not self._has_figure(r, x.right):
                continue
            lab, ti = self.spec.labels, self.reg.table
            joined = {
                i: s
                for i, s in self.spec.match(normalize_label(e.cell.text + x.cell.text, loose=True)).items()
                if lab[i].table == ti
            }
            if joined and max(joined.values()) > max(self.own(e).values(), default=0.0):
                self._own[id(e)] = joined
                self._wrapped[id(e)] = r
                self.label_used.add(id(x))

    def _has_figure(self, r: int, right: int) -> bool:
        return any(x.kind == _FIG for x in self.v.cover[r][right + 1 :] if x is not None)

    def _data_row(self, e: _Entry) -> int:
        """The row a row label stands for: the first of its rows carrying a figure (PDF wraps)."""
        if id(e) in self._wrapped:
            return self._wrapped[id(e)]
        for r in range(e.row, e.bottom + 1):
            if any(x.kind == _FIG for x in self.v.cover[r][e.right + 1 :] if x is not None):
                return r
        return e.row

    def _variant(self, e: _Entry) -> None:
        """A printed label taken for a definition's label by similarity or with a prefix dropped."""
        own = self.own(e)
        i, sim = max(own.items(), key=lambda kv: kv[1])
        if sim > _S_BARE - 1e-9:
            return
        lab = self.spec.labels[i]
        axis = "表头" if lab.header_side else "行"
        how = "去掉前缀后相同" if sim == _S_PREFIX else f"相似度 {sim:.2f}"
        self.finding(
            "D-LABEL-VARIANT",
            e,
            row_label=lab.text if axis == "行" else "",
            col_label=lab.text if axis == "表头" else "",
            axis=axis,
            found=_short(e.cell.text),
            expected=lab.text,
            how=how,
        )

    def finding(self, code, e: _Entry | None = None, cells=(), row_label="", col_label="", **fields):
        """A finding of this table: severity and wording from the catalogue (``table`` is this table's
        name), then where in the document when ``e`` is known."""
        severity, message = finding_fields(code, table=self.ts.name, **fields)
        where = f"（{e.table.where(e.cell)}）" if e is not None else ""
        self.out.findings.append(
            LocateFinding(
                code,
                severity,
                message + where,
                self.ts.name,
                row_label,
                col_label,
                e.table.number if e is not None else (self.v.parts[0].number if self.v.parts else None),
                e.table.sheet if e is not None else (self.v.parts[0].sheet if self.v.parts else ""),
                e.cell.ref if e is not None else "",
                tuple(cells),
            )
        )

    def text(self, rs: _RowSpec) -> str:
        return self.spec.labels[rs.path[-1]].text if rs.path else ""

    def col_text(self, cs: _ColSpec) -> str:
        return "·".join(self.spec.labels[i].text for i in cs.path[-2:]) if cs.path else ""

    # -- rows

    def find_rows(self) -> dict[int, tuple[int, _Entry]]:
        """Row spec index -> (view row, label entry), one-to-one, best (ancestors, similarity) first."""
        leaf_of: dict[int, list[int]] = {}
        for ri, rs in enumerate(self.ts.rows):
            if rs.path:
                leaf_of.setdefault(rs.path[-1], []).append(ri)
        cands: list[tuple[float, float, int, int, _Entry]] = []
        for e in self.entries():
            own = self.own(e)
            top = max(own.values(), default=0.0)
            for i, s in own.items():
                for ri in leaf_of.get(i, ()):
                    r = self._data_row(e)
                    anc = self._anc_score(self.ts.rows[ri].path[:-1], self._left(e, r))
                    if s < top and not anc:
                        continue  # a weaker reading of a text (其他 as 3.其他) only where the path confirms it
                    cands.append((anc, s, ri, r, e))
        cands.sort(key=lambda c: (-c[0], -c[1], c[2]))
        got: dict[int, tuple[int, _Entry]] = {}
        taken: set[int] = set()
        ambiguous: set[int] = set()
        for k, (anc, s, ri, r, e) in enumerate(cands):
            if ri in got or ri in ambiguous or r in taken:
                continue
            rival = next(
                (
                    c
                    for c in cands[k + 1 :]
                    if c[2] == ri and c[3] != r and c[3] not in taken and (c[0], c[1]) == (anc, s)
                ),
                None,
            )
            if rival is not None:
                ambiguous.add(ri)
                rs = self.ts.rows[ri]
                self.finding(
                    "D-ROW-MISSING",
                    None,
                    [c for c, _ in rs.cells],
                    row_label=self.text(rs),
                    what=f"“{self.text(rs)}”行有两处同样匹配（{e.table.where(e.cell)}；"
                    f"{rival[4].table.where(rival[4].cell)}），无法确定",
                    count=len(rs.cells),
                )
                continue
            got[ri] = (r, e)
            taken.add(r)
            self.label_used.add(id(e))
        self._ambiguous = ambiguous
        return got

    # -- columns

    def col_candidates(self) -> list[list[tuple[float, float, _Entry]]]:
        leaf_of: dict[int, list[int]] = {}
        for ci, cs in enumerate(self.ts.cols):
            if cs.path:
                leaf_of.setdefault(cs.path[-1], []).append(ci)
        out: list[list[tuple[float, float, _Entry]]] = [[] for _ in self.ts.cols]
        for e in self.entries():
            own = self.own(e)
            top = max(own.values(), default=0.0)
            for i, s in own.items():
                for ci in leaf_of.get(i, ()):
                    anc = self._anc_score(self.ts.cols[ci].path[:-1], self._above(e))
                    if s < top and not anc:
                        continue  # （七）总计 is no 总计 header unless the path says so
                    out[ci].append((anc, s, e))
        for lst in out:
            lst.sort(key=lambda c: (-c[0], -c[1], -c[2].row))
        return out

    def header_for(self, cands: list[tuple[float, float, _Entry]], row: int | None) -> _Entry | None:
        """The best header cell for a column; above ``row`` and nearest to it among equals."""
        best = None
        for anc, s, e in cands:
            if row is not None and e.bottom >= row:
                continue
            if best is None:
                best = (anc, s, e)
            elif (anc, s) == best[:2] and e.row > best[2].row:
                best = (anc, s, e)
            elif (anc, s) != best[:2]:
                break
        return best[2] if best else None

    def value_at(self, r: int, header: _Entry) -> tuple[str, _Entry | None, int]:
        """The text printed under a header in row r: a figure if the header's columns hold one."""
        first = None
        for k in range(header.col, header.right + 1):
            x = self.v.at(r, k)
            if x is None or id(x) in self.label_used or (x.kind == _TEXT and self.own(x)):
                continue
            if x.kind == _FIG:
                return x.cell.text, x, k
            if first is None:
                first = (x.cell.text, x, k)
        return first if first else ("", None, header.col)

    # -- the whole table

    def run(self) -> None:
        ts = self.ts
        rows = self.find_rows()
        col_cands = self.col_candidates()
        missing_cols: set[int] = set()
        headers_used: dict[int, _Entry] = {}
        zeros: dict[int, int] = {}  # row spec -> the row spec whose row stands for it, read as 0
        no_data_row = False
        # printed figure -> the statutory cells it was placed in, with how well the header's path matched
        taken: dict[int, list[tuple[str, int, float]]] = {}

        # groups printed as one row (（六）其他处理 without its items)
        for g, kids in ts.groups.items():
            if any(k in rows for k in kids) or any(k in self._ambiguous for k in kids):
                continue
            ents = [e for e in self.entries() if g in self.own(e) and id(e) not in self.label_used]
            if not ents:
                continue
            e = max(ents, key=lambda x: self.own(x)[g])
            r = self._data_row(e)
            if any(r == rr for rr, _ in rows.values()):
                continue
            # only a group with a catch-all item (3.其他) can stand for its items: the figures go there
            target = next((k for k in kids if self.spec.labels[ts.rows[k].path[-1]].bare == "其他"), None)
            if target is None:
                continue
            rows[target] = (r, e)
            self.label_used.add(id(e))
            zeros.update((k, target) for k in kids if k != target)
            zero_ids = [c for k in kids if k != target for c, _ in ts.rows[k].cells]
            self.finding(
                "D-T3-OTHER-ONE-ROW",
                e,
                [c for c, _ in ts.rows[target].cells] + zero_ids,
                row_label=self.spec.labels[g].text,
                label=self.spec.labels[g].text,
                count=len(kids),
                into=self.text(ts.rows[target]),
            )

        for ri, rs in enumerate(ts.rows):
            if rs.path and ri not in rows and ri not in zeros:
                if ri not in self._ambiguous:
                    self.finding(
                        "D-ROW-MISSING",
                        None,
                        [c for c, _ in rs.cells],
                        row_label=self.text(rs),
                        what=f"未找到“{self.text(rs)}”行",
                        count=len(rs.cells),
                    )
                continue
            src = zeros.get(ri, ri)
            row = rows[src][0] if rs.path else None
            for cid, ci in rs.cells:
                cs = ts.cols[ci]
                header = self.header_for(col_cands[ci], row) if cs.path else None
                if header is None:
                    if ci not in missing_cols:
                        missing_cols.add(ci)
                        ids = [c for r2 in ts.rows for c, k in r2.cells if k == ci]
                        self.finding(
                            "D-COLUMN-MISSING",
                            None,
                            ids,
                            col_label=self.col_text(cs),
                            what=f"未找到“{self.col_text(cs)}”列" + (f"（“{self.text(rs)}”行之上）" if rs.path else ""),
                            columns="该列",
                        )
                    continue
                headers_used[id(header)] = header
                if row is None:
                    row = self._row_below(header)
                    if row is None:
                        if not no_data_row:
                            no_data_row = True
                            self.finding(
                                "D-ROW-MISSING",
                                header,
                                [c for c, _ in rs.cells],
                                col_label=self.col_text(cs),
                                what=f"表头“{self.col_text(cs)}”之下没有数据行",
                                count=len(rs.cells),
                            )
                        continue
                text, x, k = self.value_at(row, header)
                if x is not None:
                    self.used.add(id(x))
                    anc = next((a for a, _s, e in col_cands[ci] if e is header), 0.0)
                    taken.setdefault(id(x), []).append((cid, ci, anc))
                if ri in zeros:
                    text = "0"
                self.out.values[cid] = self._placed(text, x, row, k)
                self.value_rows.add(row)
                if not rs.path:
                    row = None
        self._refuse_shared_figures(taken, missing_cols)
        for e in headers_used.values():
            self.label_used.add(id(e))
        self.extras(rows)
        if self.blank_as_zero:
            self.zero_blanks()

    def _refuse_shared_figures(self, taken: dict[int, list[tuple[str, int, float]]], missing_cols: set[int]) -> None:
        """One printed figure is one statutory number. Placed in several cells, it stays only where the
        headings above it confirm its column better than any other (结果维持 under 行政复议); the
        other columns are missing. Where nothing tells them apart (表四's five result headers printed
        without 行政复议 / 行政诉讼 above them: which block?), it is not read at all, said once."""
        ts = self.ts
        lost: set[int] = set()
        ambiguous: set[int] = set()
        for placed in taken.values():
            if len({ci for _cid, ci, _anc in placed}) < 2:
                continue
            best = max(anc for _cid, _ci, anc in placed)
            winners = [p for p in placed if p[2] == best]
            keep = winners[0] if len({ci for _cid, ci, _anc in winners}) == 1 else None
            for cid, ci, _anc in placed:
                if keep is None or ci != keep[1]:
                    self.out.values.pop(cid, None)
                    (ambiguous if keep is None else lost).add(ci)
        for ci in sorted(lost - ambiguous - missing_cols):
            missing_cols.add(ci)
            cs = ts.cols[ci]
            self.finding(
                "D-COLUMN-MISSING",
                None,
                [c for r2 in ts.rows for c, k in r2.cells if k == ci],
                col_label=self.col_text(cs),
                what=f"未找到“{self.col_text(cs)}”列",
                columns="该列",
            )
        ambiguous -= missing_cols
        if not ambiguous:
            return
        missing_cols |= ambiguous
        names = "、".join(self.col_text(ts.cols[ci]) for ci in sorted(ambiguous))
        self.finding(
            "D-COLUMN-MISSING",
            None,
            [c for r2 in ts.rows for c, k in r2.cells if k in ambiguous],
            what="的表头缺少上级标题，无法确定各列属于哪一栏（同一个数可以归入几栏）",
            columns=f"以下各列：{names}",
        )

    def _row_below(self, header: _Entry) -> int | None:
        """The data row under a header where the format prints no row label (表四): the first row below
        that prints values and no label."""
        for r in range(header.bottom + 1, self.reg.last + 1):
            line = self.v.starting[r]
            if any(x.kind != _TEXT for x in line) and not any(self.own(x) for x in line):
                return r
        return None

    def _placed(self, text: str, x: _Entry | None, row: int, col: int) -> Placed:
        if x is None:  # nothing printed there: a position, found again by the table and row/column
            t, roff, coff = next(p for p in reversed(self.v.offsets) if p[1] <= row)
            cell = DocCell(row - roff, col - coff, "")
            return Placed("", t.number, t.sheet, "", cell.row, cell.col, t.where(cell))
        c = x.cell
        return Placed(text, x.table.number, x.table.sheet, c.ref, c.row, c.col, x.table.where(c))

    def extras(self, rows: dict[int, tuple[int, _Entry]]) -> None:
        """Printed rows and headers that match nothing, and figures that no statutory cell took."""
        data_rows = {r for r, _ in rows.values()} | self.value_rows
        lab = self.spec.labels
        header_rows = {
            e.row for e in self.entries() if any(lab[i].header_side for i in self.own(e)) or id(e) in self.label_used
        } - data_rows
        for e in self.entries():
            if e.kind == _TEXT and self.own(e):
                self._variant(e)
        # the template's own check row (勾稽校验 … 正确 / 不符) is no extra row or header
        check_rows = {
            e.row + lab[i].check_offset for e in self.entries() for i in self.own(e) if lab[i].kind == "check"
        }
        extra_heads: list[tuple[_Entry, list[_Entry]]] = []
        for r in range(self.reg.first, self.reg.last + 1):
            unknown = [e for e in self.v.starting[r] if e.kind == _TEXT and not self.own(e)]
            if not unknown or r in data_rows or r in check_rows:
                continue
            if r in header_rows:
                for e in unknown:
                    extra_heads.append((e, []))
                    self.finding("D-COLUMN-EXTRA", e, col_label=e.cell.text, label=_short(e.cell.text))
            elif not any(x.kind == _TEXT and self.own(x) for x in self.v.starting[r]):
                e = unknown[-1]
                self.finding("D-ROW-EXTRA", e, row_label=e.cell.text, label=_short(e.cell.text))
        by_row: dict[int, list[_Entry]] = {}
        for e in self.entries():
            if e.kind != _FIG or id(e) in self.used:
                continue
            head = next((h for h, _ in extra_heads if h.bottom < e.row and h.col <= e.col <= h.right), None)
            if head is not None:
                next(figs for h, figs in extra_heads if h is head).append(e)
            else:
                by_row.setdefault(e.row, []).append(e)
        for head, figs in extra_heads:
            if figs:
                self.finding(
                    "D-UNPLACED",
                    figs[0],
                    col_label=head.cell.text,
                    where=f"“{_short(head.cell.text)}”列",
                    figures=f"{_shown(figs)}（共 {len(figs)} 个）",
                )
        for r, figs in by_row.items():
            first = min(x.col for x in figs)
            left = [x for x in self.v.cover[r][:first] if x is not None and x.kind == _TEXT]
            label = left[-1].cell.text if left else ""
            self.finding(
                "D-UNPLACED",
                figs[0],
                row_label=label,
                where=f"“{_short(label)}”行" if label else f"第 {r - self.reg.first + 1} 行",
                figures=_shown(figs),
            )

    def zero_blanks(self) -> None:
        ids = [cid for cid in self.ts.cell_ids if cid in self.out.values and _is_blank(self.out.values[cid].text)]
        for cid in ids:
            p = self.out.values[cid]
            self.out.values[cid] = Placed("0", p.table, p.sheet, p.ref, p.row, p.col, p.where)
        if ids:
            self.finding("D-BLANK-AS-ZERO", None, ids, count=len(ids))


def _shown(figs: list[_Entry]) -> str:
    return "、".join(_short(x.cell.text, 12) for x in figs[:6]) + ("…" if len(figs) > 6 else "")


# --------------------------------------------------------------------------- the entry point


def _locate_with(fmt: Format, singles: list[_View], blank_as_zero: bool) -> Located:
    spec = _spec(fmt)
    ctx, _ = _views(spec, singles)
    regions = _regions(ctx)
    out = Located(fmt)
    total = 0.0
    denom = 0
    for ti, ts in enumerate(spec.tables):
        denom += len(ts.counted)
        cands = regions.get(ti, [])
        need = max(2.0, MIN_TABLE_LABELS * len(ts.counted))
        best = max(cands, key=lambda g: (g.weight + _caption_bonus(spec, g), -g.first), default=None)
        if best is None or best.weight < need:
            title = spec.labels[next(i for i in ts.labels if spec.labels[i].kind == "title")].text
            out.findings.append(
                LocateFinding(
                    "D-TABLE-MISSING",
                    *finding_fields("D-TABLE-MISSING", document="文档", table=ts.name, title=title, hint=""),
                    ts.name,
                    cells=ts.cell_ids,
                )
            )
            continue
        out.tables[ts.key] = tuple(t.number for t in best.view.parts)
        total += best.weight
        before = len(out.findings)
        placer = _Placer(ctx, best, out, blank_as_zero)
        placer.run()
        denom += sum(1 for f in out.findings[before:] if f.code in ("D-ROW-EXTRA", "D-COLUMN-EXTRA"))
    out.score = round(total / denom, 4) if denom else 0.0
    return out


def _caption_bonus(spec: _Spec, reg: _Region) -> float:
    cap = reg.view.parts[0].caption
    if not cap:
        return 0.0
    titles = {i for i in spec.match(normalize_label(cap, loose=True)) if spec.labels[i].kind == "title"}
    return 1.0 if any(spec.labels[i].table == reg.table for i in titles) else 0.0


def locate(doc: Document, fmt: Format | None = None, blank_as_zero: bool = False) -> Located:
    """Place every statutory cell of ``fmt`` (or of the builtin format that matches best) in ``doc``.

    Values are the texts as printed (totals too, never recomputed); "" where a cell is blank, unless
    ``blank_as_zero``. Every deviation from the format is a ``LocateFinding``.
    """
    if fmt is None:
        return choose_format(doc, builtin_formats().values(), blank_as_zero)
    return _locate_with(fmt, _singles(doc), blank_as_zero)


def choose_format(doc: Document, formats: Iterable[Format], blank_as_zero: bool = False) -> Located:
    """The format whose labels ``doc`` matches best, placed; the one place a format is chosen.

    The current formats are tried first, the others in the order given; the first of the best scores
    is kept, so a current format wins a tie, and a perfect match ends the search (none after it could
    do better). ``Located.scores`` holds the score of every format tried."""
    singles = _singles(doc)
    best: Located | None = None
    scores: dict[str, float] = {}
    for f in sorted(formats, key=lambda f: f.last_year is not None):
        got = _locate_with(f, singles, blank_as_zero)
        scores[f.id] = got.score
        if best is None or got.score > best.score:
            best = got
        if got.score >= 1.0:
            break
    assert best is not None, "no format to read with"
    best.scores = scores
    return best


def _singles(doc: Document) -> list[_View]:
    return [_View([t]) for t in doc.tables if t.cells]


__all__ = ["SIMILARITY", "LocateFinding", "Located", "Placed", "choose_format", "locate"]
