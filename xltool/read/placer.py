"""Placing one statutory table in the region of a document that holds it (``xltool.read.locate`` says
how labels are matched and which findings are made): its rows found by their row paths, each cell's
column by its column path, every printed row, header and figure that matches nothing said."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from xltool.definition import Format
from xltool.findings import Finding
from xltool.model import ERROR, Position
from xltool.read.document import DocCell
from xltool.read.regions import FIG, TEXT, Context, Entry, Region
from xltool.read.spec import S_BARE, S_PREFIX, ColSpec, RowSpec
from xltool.text import normalize_label

_WS = re.compile(r"\s+")

Taken = dict[int, list[tuple[str, int, float]]]
"""A printed figure (id of its entry) -> the cells it was placed in: (cell id, column spec, how well the
header's path matched)."""


def _short(text: str, limit: int = 30) -> str:
    s = _WS.sub(" ", text).strip()
    return s if len(s) <= limit else s[: limit - 1] + "…"


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


@dataclass
class Located:
    """What ``locate`` found: the format used, each placed cell's text, the deviations and the match score."""

    format: Format
    values: dict[str, Placed] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    score: float = 0.0
    tables: dict[str, tuple[int, ...]] = field(default_factory=dict)  # table key -> DocTable numbers used
    scores: dict[str, float] = field(default_factory=dict)  # format id -> score, for every format tried

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]


# --------------------------------------------------------------------------- placing one table


class Placer:
    """One table placed: ``run`` finds its rows and columns, places every cell and says what is off."""

    def __init__(self, ctx: Context, reg: Region, out: Located):
        self.ctx, self.reg, self.out = ctx, reg, out
        self.spec = ctx.spec
        self.ts = ctx.spec.tables[reg.table]
        self.v = reg.view
        self.used: set[int] = set()  # ids of entries read as values
        self.label_used: set[int] = set()
        self._own: dict[int, dict[int, float]] = {}
        self.value_rows: set[int] = set()
        self._wrapped: dict[int, int] = {}  # id of a wrapped label's first line -> the row of its figures
        self._ambiguous: set[int] = set()  # row specs printed twice, equally well
        self.col_cands: list[list[tuple[float, float, Entry]]] = []
        self.missing_cols: set[int] = set()  # column specs said missing
        self.headers_used: dict[int, Entry] = {}
        self.no_data_row = False  # said once: a header with no data row under it
        self.taken: Taken = {}
        self._join_wrapped_labels()

    # -- helpers

    def entries(self) -> Iterator[Entry]:
        for r in range(self.reg.first, self.reg.last + 1):
            yield from self.v.starting[r]

    def own(self, e: Entry) -> dict[int, float]:
        """The entry's matches among this table's labels."""
        got = self._own.get(id(e))
        if got is None:
            lab, ti = self.spec.labels, self.reg.table
            got = {i: s for i, s in self.ctx.m(e).items() if lab[i].table == ti}
            self._own[id(e)] = got
        return got

    def _anc_score(self, path: tuple[int, ...], found: list[Entry]) -> float:
        total = 0.0
        for a in path:
            total += max((self.ctx.m(e).get(a, 0.0) for e in found), default=0.0)
        return total

    def _left(self, e: Entry, r: int) -> list[Entry]:
        out: list[Entry] = []
        for k in range(e.col):
            x = self.v.at(r, k)
            if x is not None and x is not e and x.kind == TEXT and (not out or out[-1] is not x):
                out.append(x)
        return out

    def _above(self, e: Entry) -> list[Entry]:
        out: list[Entry] = []
        r = e.row - 1
        while r >= self.reg.first:
            x = self.v.at(r, e.col)
            if x is None:  # nothing printed here: a heading typed unmerged in its block's first cell?
                x = self._heading_from_left(r, e.col)
                if x is None:
                    r -= 1  # a blank header row (a hand-made sheet): look further up
                    continue
            if x.kind != TEXT:
                break
            out.append(x)
            r = x.row - 1
        return out

    def _heading_from_left(self, r: int, c: int) -> Entry | None:
        """In a sheet made by hand a group heading is often typed into the first cell of its block
        without merging: it covers the empty cells to its right, up to the next printed cell."""
        for k in range(c - 1, -1, -1):
            x = self.v.at(r, k)
            if x is not None:
                return x if x.kind == TEXT and x.row == r else None
        return None

    def _join_wrapped_labels(self) -> None:
        """A long row label wrapped onto a second line with the figures beside the second line (PDF text):
        read the two lines as one label, placed at the figures' row."""
        lab, ti = self.spec.labels, self.reg.table
        for e in list(self.entries()):
            x = self._second_line(e)
            if x is None:
                continue
            joined = {
                i: s
                for i, s in self.spec.match(normalize_label(e.cell.text + x.cell.text, loose=True)).items()
                if lab[i].table == ti
            }
            if joined and max(joined.values()) > max(self.own(e).values(), default=0.0):
                self._own[id(e)] = joined
                self._wrapped[id(e)] = x.row
                self.label_used.add(id(x))

    def _second_line(self, e: Entry) -> Entry | None:
        """The text under a one-line label with no figure beside it that could be the label's second
        line: no label itself, in the same column, with figures beside it."""
        r = e.row + 1
        if e.kind != TEXT or e.bottom != e.row or r > self.reg.last or self._has_figure(e.row, e.right):
            return None
        x = self.v.at(r, e.col)
        if x is None or x.kind != TEXT or x.row != r or x.col != e.col or self.ctx.m(x):
            return None
        return x if self._has_figure(r, x.right) else None

    def _figures_beside(self, r: int, e: Entry) -> bool:
        """Whether the row a label stands for prints a figure right of it."""
        return self._has_figure(r, e.right)

    def _has_figure(self, r: int, right: int) -> bool:
        return any(x.kind == FIG for x in self.v.cover[r][right + 1 :] if x is not None)

    def _data_row(self, e: Entry) -> int:
        """The row a row label stands for: the first of its rows carrying a figure (PDF wraps)."""
        if id(e) in self._wrapped:
            return self._wrapped[id(e)]
        for r in range(e.row, e.bottom + 1):
            if any(x.kind == FIG for x in self.v.cover[r][e.right + 1 :] if x is not None):
                return r
        return e.row

    def _variant(self, e: Entry) -> None:
        """A printed label taken for a definition's label by similarity or with a prefix dropped."""
        own = self.own(e)
        i, sim = max(own.items(), key=lambda kv: kv[1])
        if sim > S_BARE - 1e-9:
            return
        lab = self.spec.labels[i]
        axis = "表头" if lab.header_side else "行"
        how = "去掉前缀后相同" if sim == S_PREFIX else f"相似度 {sim:.2f}"
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

    def finding(
        self,
        code: str,
        e: Entry | None = None,
        cells: Iterable[str] = (),
        row_label: str = "",
        col_label: str = "",
        **fields: Any,
    ) -> None:
        """A finding of this table: severity and wording from the catalogue (``table`` is this table's
        name), then where in the document when ``e`` is known."""
        number: int | None
        if e is not None:
            at, number, printed = Position(e.table.sheet, e.cell.ref), e.table.number, e.table.where(e.cell)
        else:  # the table as a whole: named by its first part
            part = self.v.parts[0] if self.v.parts else None
            at, number, printed = Position(part.sheet if part else ""), part.number if part else None, ""
        self.out.findings.append(
            Finding.in_document(
                None,
                code,
                table=self.ts.name,
                at=at,
                doc_table=number,
                printed=printed,
                fields={"table": self.ts.name, **fields},
                row_label=row_label,
                col_label=col_label,
                cell_ids=tuple(cells),
            )
        )

    def text(self, rs: RowSpec) -> str:
        return self.spec.labels[rs.path[-1]].text if rs.path else ""

    def col_text(self, cs: ColSpec) -> str:
        return "·".join(self.spec.labels[i].text for i in cs.path[-2:]) if cs.path else ""

    # -- rows

    def find_rows(self) -> dict[int, tuple[int, Entry]]:
        """Row spec index -> (view row, label entry), one-to-one, best (ancestors, similarity) first."""
        cands = self._row_candidates()
        got: dict[int, tuple[int, Entry]] = {}
        taken: set[int] = set()
        for k, (anc, s, ri, r, e) in enumerate(cands):
            if ri in got or ri in self._ambiguous or r in taken:
                continue
            rival = next(
                (
                    c
                    for c in cands[k + 1 :]
                    if c[2] == ri and c[3] != r and c[3] not in taken and (c[0], c[1]) == (anc, s)
                ),
                None,
            )
            if rival is not None and self._figures_beside(r, e) != self._figures_beside(rival[3], rival[4]):
                if not self._figures_beside(r, e):
                    continue  # a label with no figure beside it (a header row repeating it): the other is the row
                rival = None
            if rival is not None:
                self._row_printed_twice(ri, e, rival[4])
                continue
            got[ri] = (r, e)
            taken.add(r)
            self.label_used.add(id(e))
        return got

    def _row_candidates(self) -> list[tuple[float, float, int, int, Entry]]:
        """(ancestors' match, similarity, row spec, view row, label entry) for every printed text that
        can be a row's label, best first."""
        leaf_of: dict[int, list[int]] = {}
        for ri, rs in enumerate(self.ts.rows):
            if rs.path:
                leaf_of.setdefault(rs.path[-1], []).append(ri)
        cands: list[tuple[float, float, int, int, Entry]] = []
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
        return cands

    def _row_printed_twice(self, ri: int, e: Entry, rival: Entry) -> None:
        """A row matched equally well at two places is not guessed: missing, both places named."""
        self._ambiguous.add(ri)
        rs = self.ts.rows[ri]
        self.finding(
            "D-ROW-MISSING",
            None,
            [c for c, _ in rs.cells],
            row_label=self.text(rs),
            what=f"“{self.text(rs)}”行有两处同样匹配（{e.table.where(e.cell)}；{rival.table.where(rival.cell)}），无法确定",
            count=len(rs.cells),
        )

    def col_candidates(self) -> list[list[tuple[float, float, Entry]]]:
        leaf_of: dict[int, list[int]] = {}
        for ci, cs in enumerate(self.ts.cols):
            if cs.path:
                leaf_of.setdefault(cs.path[-1], []).append(ci)
        out: list[list[tuple[float, float, Entry]]] = [[] for _ in self.ts.cols]
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

    def header_for(self, cands: list[tuple[float, float, Entry]], row: int | None) -> Entry | None:
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

    def value_at(self, r: int, header: Entry) -> tuple[str, Entry | None, int]:
        """The text printed under a header in row r: a figure if the header's columns hold one."""
        first = None
        for k in range(header.col, header.right + 1):
            x = self.v.at(r, k)
            if x is None or id(x) in self.label_used or (x.kind == TEXT and self.own(x)):
                continue
            if x.kind == FIG:
                return x.cell.text, x, k
            if first is None:
                first = (x.cell.text, x, k)
        return first if first else ("", None, header.col)

    # -- the whole table

    def run(self) -> None:
        """Find the rows and the columns' headers, place every cell, then say what is off."""
        rows = self.find_rows()
        self.col_cands = self.col_candidates()
        zeros = self._groups_printed_as_one_row(rows)
        for ri, rs in enumerate(self.ts.rows):
            if rs.path and ri not in rows and ri not in zeros:
                self._row_missing(ri, rs)
                continue
            row = rows[zeros.get(ri, ri)][0] if rs.path else None
            for cid, ci in rs.cells:
                self._place_cell(cid, ci, rs, row, zero=ri in zeros)
        self._refuse_shared_figures()
        for e in self.headers_used.values():
            self.label_used.add(id(e))
        self.extras(rows)

    def _groups_printed_as_one_row(self, rows: dict[int, tuple[int, Entry]]) -> dict[int, int]:
        """Groups printed as one row (（六）其他处理 without its items): the row is taken for the group's
        catch-all item (3.其他), added to ``rows``; returns row spec -> the row spec whose row stands for
        it, read as 0 (the group's other items)."""
        zeros: dict[int, int] = {}
        for g, kids in self.ts.groups.items():
            found = self._one_row_for(g, kids, rows)
            if found is None:
                continue
            target, r, e = found
            rows[target] = (r, e)
            self.label_used.add(id(e))
            zeros.update((k, target) for k in kids if k != target)
            self._group_as_one_row(g, kids, target, e)
        return zeros

    def _one_row_for(
        self, g: int, kids: list[int], rows: dict[int, tuple[int, Entry]]
    ) -> tuple[int, int, Entry] | None:
        """(catch-all item, view row, label) where a group none of whose items was found is printed as
        one row on a row of its own; None otherwise."""
        if any(k in rows for k in kids) or any(k in self._ambiguous for k in kids):
            return None
        ents = [e for e in self.entries() if g in self.own(e) and id(e) not in self.label_used]
        if not ents:
            return None
        e = max(ents, key=lambda x: self.own(x)[g])
        r = self._data_row(e)
        if any(r == rr for rr, _ in rows.values()):
            return None
        # only a group with a catch-all item (3.其他) can stand for its items: the figures go there
        target = next((k for k in kids if self.spec.labels[self.ts.rows[k].path[-1]].bare == "其他"), None)
        return None if target is None else (target, r, e)

    def _group_as_one_row(self, g: int, kids: list[int], target: int, e: Entry) -> None:
        ts = self.ts
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

    def _row_missing(self, ri: int, rs: RowSpec) -> None:
        if ri not in self._ambiguous:  # a row printed twice is already said
            self.finding(
                "D-ROW-MISSING",
                None,
                [c for c, _ in rs.cells],
                row_label=self.text(rs),
                what=f"未找到“{self.text(rs)}”行",
                count=len(rs.cells),
            )

    def _place_cell(self, cid: str, ci: int, rs: RowSpec, row: int | None, zero: bool) -> None:
        """One cell: the text printed in its row (or, where the format prints no row label, the data row
        under its header) under its column's header; "0" for an item of a group printed as one row."""
        cs = self.ts.cols[ci]
        header = self.header_for(self.col_cands[ci], row) if cs.path else None
        if header is None:
            self._column_missing(ci, rs)
            return
        self.headers_used[id(header)] = header
        if row is None:
            row = self._row_below(header)
            if row is None:
                self._no_data_row(header, cs, rs)
                return
        text, x, k = self.value_at(row, header)
        if x is None and not self.v.spans(row, k):  # the header is of another table than the row's: no cell
            self._column_missing(ci, rs)  # there to be blank (a blank is read as 0), the column is not found
            return
        if x is not None:
            self.used.add(id(x))
            anc = next((a for a, _s, e in self.col_cands[ci] if e is header), 0.0)
            self.taken.setdefault(id(x), []).append((cid, ci, anc))
        self.out.values[cid] = self._placed("0" if zero else text, x, row, k)
        self.value_rows.add(row)

    def _column_missing(self, ci: int, rs: RowSpec | None = None) -> None:
        """A column not found, said once (above the row that needed it, when it has a label)."""
        if ci in self.missing_cols:
            return
        self.missing_cols.add(ci)
        cs = self.ts.cols[ci]
        above = f"（“{self.text(rs)}”行之上）" if rs is not None and rs.path else ""
        self.finding(
            "D-COLUMN-MISSING",
            None,
            [c for r2 in self.ts.rows for c, k in r2.cells if k == ci],
            col_label=self.col_text(cs),
            what=f"未找到“{self.col_text(cs)}”列{above}",
            columns="该列",
        )

    def _no_data_row(self, header: Entry, cs: ColSpec, rs: RowSpec) -> None:
        if self.no_data_row:
            return
        self.no_data_row = True
        self.finding(
            "D-ROW-MISSING",
            header,
            [c for c, _ in rs.cells],
            col_label=self.col_text(cs),
            what=f"表头“{self.col_text(cs)}”之下没有数据行",
            count=len(rs.cells),
        )

    def _refuse_shared_figures(self) -> None:
        """One printed figure is one statutory number. Placed in several cells, it stays only where the
        headings above it confirm its column better than any other (结果维持 under 行政复议); the
        other columns are missing. Where nothing tells them apart (表四's five result headers printed
        without 行政复议 / 行政诉讼 above them: which block?), it is not read at all, said once."""
        lost, ambiguous = self._drop_shared_figures()
        for ci in sorted(lost - ambiguous - self.missing_cols):
            self._column_missing(ci)
        ambiguous -= self.missing_cols
        if not ambiguous:
            return
        self.missing_cols |= ambiguous
        names = "、".join(self.col_text(self.ts.cols[ci]) for ci in sorted(ambiguous))
        self.finding(
            "D-COLUMN-MISSING",
            None,
            [c for r2 in self.ts.rows for c, k in r2.cells if k in ambiguous],
            what="的表头缺少上级标题，无法确定各列属于哪一栏（同一个数可以归入几栏）",
            columns=f"以下各列：{names}",
        )

    def _drop_shared_figures(self) -> tuple[set[int], set[int]]:
        """Unplace a figure from every column but the one its headings confirm best: (the columns it
        lost to a better one, the columns it was unplaced from because none was better)."""
        lost: set[int] = set()
        ambiguous: set[int] = set()
        for placed in self.taken.values():
            if len({ci for _cid, ci, _anc in placed}) < 2:
                continue
            keep = _kept_column(placed)
            for cid, ci, _anc in placed:
                if keep is None or ci != keep:
                    self.out.values.pop(cid, None)
                    (ambiguous if keep is None else lost).add(ci)
        return lost, ambiguous

    def _row_below(self, header: Entry) -> int | None:
        """The data row under a header where the format prints no row label (表四): the first row below
        that prints values and no label."""
        for r in range(header.bottom + 1, self.reg.last + 1):
            line = self.v.starting[r]
            if any(x.kind != TEXT for x in line) and not any(self.own(x) for x in line):
                return r
        return None

    def _placed(self, text: str, x: Entry | None, row: int, col: int) -> Placed:
        if x is None:  # nothing printed there: a position, found again by the table and row/column
            t, roff, coff = next(p for p in reversed(self.v.offsets) if p[1] <= row)
            cell = DocCell(row - roff, col - coff, "")
            return Placed("", t.number, t.sheet, "", cell.row, cell.col, t.where(cell))
        c = x.cell
        return Placed(text, x.table.number, x.table.sheet, c.ref, c.row, c.col, x.table.where(c))

    def extras(self, rows: dict[int, tuple[int, Entry]]) -> None:
        """Printed rows and headers that match nothing, and figures that no statutory cell took."""
        data_rows = {r for r, _ in rows.values()} | self.value_rows
        lab = self.spec.labels
        header_rows = {
            e.row for e in self.entries() if any(lab[i].header_side for i in self.own(e)) or id(e) in self.label_used
        } - data_rows
        for e in self.entries():
            if e.kind == TEXT and self.own(e):
                self._variant(e)
        # the template's own check row (勾稽校验 … 正确 / 不符) is no extra row or header
        check_rows = {
            e.row + lab[i].check_offset for e in self.entries() for i in self.own(e) if lab[i].kind == "check"
        }
        extra_heads = self._extra_rows_and_headers(data_rows | check_rows, header_rows)
        self._unplaced_figures(extra_heads)

    def _extra_rows_and_headers(self, skip: set[int], header_rows: set[int]) -> list[tuple[Entry, list[Entry]]]:
        """Say each unknown header (in a header row) and each unknown row (a row printing no known
        label); returns the unknown headers, each with a list for the figures under it."""
        extra_heads: list[tuple[Entry, list[Entry]]] = []
        for r in range(self.reg.first, self.reg.last + 1):
            unknown = [e for e in self.v.starting[r] if e.kind == TEXT and not self.own(e)]
            if not unknown or r in skip:
                continue
            if r in header_rows:
                for e in unknown:
                    extra_heads.append((e, []))
                    self.finding("D-COLUMN-EXTRA", e, col_label=e.cell.text, label=_short(e.cell.text))
            elif not any(x.kind == TEXT and self.own(x) for x in self.v.starting[r]):
                e = unknown[-1]
                self.finding("D-ROW-EXTRA", e, row_label=e.cell.text, label=_short(e.cell.text))
        return extra_heads

    def _sort_unused_figures(self, extra_heads: list[tuple[Entry, list[Entry]]]) -> dict[int, list[Entry]]:
        """Each figure no cell took goes to the first unknown header above it; the others by row."""
        by_row: dict[int, list[Entry]] = {}
        for e in self.entries():
            if e.kind != FIG or id(e) in self.used:
                continue
            head = next((figs for h, figs in extra_heads if h.bottom < e.row and h.col <= e.col <= h.right), None)
            if head is not None:
                head.append(e)
            else:
                by_row.setdefault(e.row, []).append(e)
        return by_row

    def _unplaced_figures(self, extra_heads: list[tuple[Entry, list[Entry]]]) -> None:
        """Figures no cell took: said per unknown header they stand under, else per row."""
        by_row = self._sort_unused_figures(extra_heads)
        for head_entry, figs in extra_heads:
            if figs:
                self.finding(
                    "D-UNPLACED",
                    figs[0],
                    col_label=head_entry.cell.text,
                    where=f"“{_short(head_entry.cell.text)}”列",
                    figures=f"{_shown(figs)}（共 {len(figs)} 个）",
                )
        for r, figs in by_row.items():
            first = min(x.col for x in figs)
            left = [x for x in self.v.cover[r][:first] if x is not None and x.kind == TEXT]
            label = left[-1].cell.text if left else ""
            self.finding(
                "D-UNPLACED",
                figs[0],
                row_label=label,
                where=f"“{_short(label)}”行" if label else f"第 {r - self.reg.first + 1} 行",
                figures=_shown(figs),
            )


def _shown(figs: list[Entry]) -> str:
    return "、".join(_short(x.cell.text, 12) for x in figs[:6]) + ("…" if len(figs) > 6 else "")


def _kept_column(placed: list[tuple[str, int, float]]) -> int | None:
    """The column a figure placed in several stays in: the one whose headings matched best, when only
    one did; else None."""
    best = max(anc for _cid, _ci, anc in placed)
    winners = {ci for _cid, ci, anc in placed if anc == best}
    return next(iter(winners)) if len(winners) == 1 else None
