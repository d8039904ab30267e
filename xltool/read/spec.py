"""A format's printed labels as the locator matches them (``xltool.read.locate`` says how).

Each statutory cell gets a row path (its row label and the labels spanning its rows to the left) and a
column path (its column label and the header labels above it), both taken from the definition's own
template layout; a printed text is matched against the labels in tiers (exact, without a list number,
without a two-character prefix, by similarity). Built once per format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from xltool.definition import Cell, Format, Span, Table
from xltool.text import normalize_label

SIMILARITY = 0.8
"""Least ``SequenceMatcher[str].ratio`` for a printed label to be taken for a definition's label."""

S_EXACT, S_BARE, S_PREFIX = 1.0, 0.99, 0.95  # similarity given to the tiers before the measured one

_BARE = re.compile(r"^(?:\d+\.|\([一二三四五六七八九十\d]+\)|[一二三四五六七八九十]+[、,.])")
_CJK = re.compile(r"[\u3400-\u9fff]")
_ORDINAL = re.compile(r"\(([一二三四五六七八九十]+)\)|^(\d+)\.|^([一二三四五六七八九十]+)[、,]")
_CACHE_LIMIT = 20000


def _ordinal(key: str) -> str:
    """The item number a label carries (（五） of 第二十条第（五）项, 2 of 2.重复申请); "" when none."""
    m = _ORDINAL.search(key)
    return next((g for g in m.groups() if g), "") if m else ""


def _bare(key: str) -> str:
    """A normalised label without its list number (1. / (三) / 一、)."""
    return _BARE.sub("", key)


@dataclass(eq=False)
class Label:
    idx: int
    table: int  # index into Spec.tables
    text: str
    key: str
    bare: str
    kind: str  # row | col | group | header | title | check
    ordinal: str = ""
    check_offset: int = 0  # for a check label: where the template's check results sit, rows below it
    header_side: bool = False  # printed in a table's header rows (column labels and what is above them)
    distinctive: bool = True  # no other table of the format prints a label like it
    matcher: SequenceMatcher[str] | None = None
    bare_matcher: SequenceMatcher[str] | None = None


@dataclass(eq=False)
class RowSpec:
    path: tuple[int, ...]  # label idxs, outermost first; () where the format prints no row label
    cells: list[tuple[str, int]] = field(default_factory=list)  # (cell id, column spec index)


@dataclass(eq=False)
class ColSpec:
    path: tuple[int, ...]


@dataclass(eq=False)
class TableSpec:
    key: str
    name: str  # 表二
    labels: list[int]
    counted: list[int]  # labels counted for recognition and score (not titles or check labels)
    rows: list[RowSpec]
    cols: list[ColSpec]
    groups: dict[int, list[int]]  # row-group label idx -> its child row spec indexes
    cell_ids: tuple[str, ...]


Paths = dict[str, tuple[Span, ...]]  # cell id -> the spans of its path, outermost first


def _cell_paths(cells: list[Cell], spans: dict[Span, str]) -> tuple[Paths, Paths]:
    """Each cell's row path (the spans left of it on its row) and column path (the header spans above it)."""
    at_cell = {(c.row, c.col + k): c for c in cells for k in range(c.width)}
    covering: dict[tuple[int, int], Span] = {}
    for s in spans:
        for r in range(s.first_row, s.last_row + 1):
            for k in range(s.first_col, s.last_col + 1):
                covering[(r, k)] = s
    row_paths: Paths = {}
    col_paths: Paths = {}
    for c in cells:
        left = [s for s in spans if s.first_row <= c.row <= s.last_row and s.last_col < c.col]
        row_paths[c.id] = tuple(sorted(left, key=lambda s: s.first_col))
        col_paths[c.id] = _column_path(c, at_cell, covering)
    return row_paths, col_paths


def _column_path(
    c: Cell, at_cell: dict[tuple[int, int], Cell], covering: dict[tuple[int, int], Span]
) -> tuple[Span, ...]:
    """The header spans above a cell, outermost first: up past the data rows to the header, not past it."""
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
    return tuple(reversed(up))


def _kinds(spans: dict[Span, str], row_paths: Paths, col_paths: Paths) -> dict[Span, str]:
    """What each printed label is to the cells: a row's or a column's own label, a group over them, or
    a header."""
    row_leaves = {p[-1] for p in row_paths.values() if p}
    col_leaves = {p[-1] for p in col_paths.values() if p}
    members = {s for p in (*row_paths.values(), *col_paths.values()) for s in p}
    return {
        s: "row" if s in row_leaves else "col" if s in col_leaves else "group" if s in members else "header"
        for s in spans
    }


def _row_and_col_specs(
    cells: list[Cell], row_paths: Paths, col_paths: Paths, idx: dict[Span, int]
) -> tuple[list[RowSpec], list[ColSpec]]:
    """One spec per distinct row path and column path, each row spec with its cells."""
    rows: dict[tuple[int, ...], int] = {}
    cols: dict[tuple[int, ...], int] = {}
    row_specs: list[RowSpec] = []
    col_specs: list[ColSpec] = []
    for c in cells:
        rp = tuple(idx[s] for s in row_paths[c.id])
        cp = tuple(idx[s] for s in col_paths[c.id])
        if rp not in rows:
            rows[rp] = len(row_specs)
            row_specs.append(RowSpec(rp))
        if cp not in cols:
            cols[cp] = len(col_specs)
            col_specs.append(ColSpec(cp))
        row_specs[rows[rp]].cells.append((c.id, cols[cp]))
    return row_specs, col_specs


def _item_groups(labels: list[Label], row_specs: list[RowSpec]) -> dict[int, list[int]]:
    """Groups whose rows are their items (（六）其他处理 over 1.–3.): label idx -> the items' row specs.
    Not a group over other groups (三、本年度办理结果) nor one that is itself a row (2019 （六）其他处理)."""
    groups: dict[int, list[int]] = {}
    for ri, rs in enumerate(row_specs):
        if len(rs.path) >= 2:
            groups.setdefault(rs.path[-2], []).append(ri)
    deeper = {g for rs in row_specs for g in rs.path[:-2]}
    return {g: kids for g, kids in groups.items() if labels[g].kind == "group" and g not in deeper}


class Spec:
    """Everything the locator needs from one Format, built once per Format object (``spec_of``)."""

    def __init__(self, fmt: Format):
        self.labels: list[Label] = []
        self.tables: list[TableSpec] = []
        self._exact: dict[str, list[int]] = {}
        self._bare: dict[str, list[int]] = {}
        self._prefix: dict[str, list[int]] = {}
        self._cache: dict[str, dict[int, float]] = {}
        self._best: dict[str, tuple[int, ...]] = {}
        for ti, t in enumerate(fmt.tables):
            self.tables.append(self._table(fmt, ti, t))
        for lab in self.labels:
            self._index(lab)
        for lab in self.labels:
            lab.distinctive = all(self.labels[i].table == lab.table for i in self.match(lab.key))

    def _index(self, lab: Label) -> None:
        """A label in the tiers' look-ups, with its matchers for the measured tier."""
        self._exact.setdefault(lab.key, []).append(lab.idx)
        self._bare.setdefault(lab.bare, []).append(lab.idx)
        key = lab.key
        if len(key) >= 6 and _CJK.fullmatch(key[0]) and _CJK.fullmatch(key[1]):
            self._prefix.setdefault(key[2:], []).append(lab.idx)
        lab.matcher = SequenceMatcher(None, autojunk=False)
        lab.matcher.set_seq2(lab.key)
        lab.bare_matcher = SequenceMatcher(None, autojunk=False)
        lab.bare_matcher.set_seq2(lab.bare)

    def _add(self, ti: int, text: str, kind: str, header_side: bool = False) -> int:
        key = normalize_label(text, loose=True)
        self.labels.append(Label(len(self.labels), ti, text, key, _bare(key), kind, _ordinal(key)))
        self.labels[-1].header_side = header_side
        return len(self.labels) - 1

    def _table(self, fmt: Format, ti: int, t: Table) -> TableSpec:
        spans: dict[Span, str] = t.printed_labels
        cells = [c for c in fmt.cells.values() if c.table == t.key]
        row_paths, col_paths = _cell_paths(cells, spans)
        in_cols = {s for p in col_paths.values() for s in p}
        kinds = _kinds(spans, row_paths, col_paths)
        idx: dict[Span, int] = {}
        for s, text in spans.items():
            idx[s] = self._add(ti, text, kinds[s], header_side=s in in_cols or kinds[s] == "header")
        row_specs, col_specs = _row_and_col_specs(cells, row_paths, col_paths, idx)
        own = list(idx.values())
        return TableSpec(
            key=t.key,
            name=t.sheet.split()[0] if t.sheet.split() else t.sheet,
            labels=own + self._title_and_checks(fmt, ti, t),
            counted=own,
            rows=row_specs,
            cols=col_specs,
            groups=_item_groups(self.labels, row_specs),
            cell_ids=tuple(c.id for c in cells),
        )

    def _title_and_checks(self, fmt: Format, ti: int, t: Table) -> list[int]:
        """The labels a table prints besides its cells' paths: its title and the template's check labels."""
        extra = [self._add(ti, t.title, "title", header_side=True)]
        for rule in fmt.rules:
            if rule.check_label and any(fmt.grid(g).table == t.key for g in rule.grids):
                i = self._add(ti, rule.check_label.text, "check", header_side=True)
                if rule.check_row is not None:
                    self.labels[i].check_offset = rule.check_row - rule.check_label.span.first_row
                extra.append(i)
        return extra

    def best(self, key: str) -> tuple[int, ...]:
        """The labels a text is best taken for: its matches of the highest similarity."""
        got = self._best.get(key)
        if got is None:
            m = self.match(key)
            top = max(m.values(), default=0.0)
            got = tuple(i for i, s in m.items() if s == top)
            if len(self._best) < _CACHE_LIMIT:
                self._best[key] = got
        return got

    def match(self, key: str) -> dict[int, float]:
        """Labels a printed (normalised) text is taken for, with their similarity; {} when none."""
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        out = self._tiers(key)
        if not out and 0 < len(key) <= 80 and _CJK.search(key):
            out = self._similar(key)
        if len(self._cache) < _CACHE_LIMIT:
            self._cache[key] = out
        return out

    def _tiers(self, key: str) -> dict[int, float]:
        """The tiers before the measured one: without a list number, exact, without a prefix."""
        out: dict[int, float] = {}
        bare = _bare(key)
        for i in self._bare.get(bare, ()) if bare else ():  # the same but for a list number: the path decides
            out[i] = S_BARE
        for i in self._exact.get(key, ()):
            out[i] = S_EXACT
        if not out:
            for i in self._prefix.get(key, ()):
                out[i] = S_PREFIX
        return out

    def _similar(self, key: str) -> dict[int, float]:
        """The labels of the best similarity at least ``SIMILARITY``, on the text or on it without list numbers."""
        out: dict[int, float] = {}
        bare = _bare(key)
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
        return out


def _ratio(m: SequenceMatcher[str] | None, a: str, lb: int) -> float:
    la = len(a)
    if not la or not lb or 2 * min(la, lb) / (la + lb) < SIMILARITY - 1e-9 or m is None:
        return 0.0
    m.set_seq1(a)
    if m.quick_ratio() < SIMILARITY - 1e-9:
        return 0.0
    return m.ratio()


_SPECS: dict[tuple[str, str, str], Spec] = {}


def spec_of(fmt: Format) -> Spec:
    """The label model of a format, built once per definition: keyed by the format's id, fingerprint
    (which changes with any label or cell) and title texts (which the fingerprint leaves out)."""
    key = (fmt.id, fmt.fingerprint, "\n".join(t.title for t in fmt.tables))
    spec = _SPECS.get(key)
    if spec is None:
        if len(_SPECS) > 64:
            _SPECS.clear()
        spec = _SPECS[key] = Spec(fmt)
    return spec
