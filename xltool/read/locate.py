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

The steps have their modules: the format's labels and how a text matches them (``xltool.read.spec``),
the document's entries, views and table regions (``xltool.read.regions``), placing one table and its
findings (``xltool.read.placer``); this module finds each table and chooses the format.

Format recognition: ``choose_format(doc, formats)`` (``locate(doc)``: the builtin formats) tries the
current formats first and keeps the one with the best score = the sum over the format's printed
labels of the best similarity found in the table's region, divided by (number of those labels + extra
rows and headers); 1.0 is a perfect match.

The findings it gives are the D group of ``xltool.catalogue`` (``xltool rules``).
"""

from __future__ import annotations

from collections.abc import Iterable

from xltool.definition import Format, builtin_formats
from xltool.findings import Finding
from xltool.read.document import Document
from xltool.read.placer import Located, Placed, Placer
from xltool.read.regions import Region, View, merged_views, table_regions
from xltool.read.spec import SIMILARITY, Spec, spec_of
from xltool.text import normalize_label

MIN_TABLE_LABELS = 0.25
"""A table is found where at least this share of its printed labels (and at least 2) are matched."""


def _locate_with(fmt: Format, singles: list[View]) -> Located:
    """Each table of ``fmt`` found by its labels and placed (``Placer``), with the match score."""
    spec = spec_of(fmt)
    ctx, _ = merged_views(spec, singles)
    regions = table_regions(ctx)
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
                Finding.in_document(
                    None,
                    "D-TABLE-MISSING",
                    table=ts.name,
                    fields={"document": "文档", "table": ts.name, "title": title, "hidden": "", "hint": ""},
                    cell_ids=ts.cell_ids,
                )
            )
            continue
        out.tables[ts.key] = tuple(t.number for t in best.view.parts)
        total += best.weight
        before = len(out.findings)
        placer = Placer(ctx, best, out)
        placer.run()
        denom += sum(1 for f in out.findings[before:] if f.rule in ("D-ROW-EXTRA", "D-COLUMN-EXTRA"))
    out.score = round(total / denom, 4) if denom else 0.0
    return out


def _caption_bonus(spec: Spec, reg: Region) -> float:
    """1 where the text printed before a region's table is the title of the table the region holds."""
    cap = reg.view.parts[0].caption
    if not cap:
        return 0.0
    titles = {i for i in spec.match(normalize_label(cap, loose=True)) if spec.labels[i].kind == "title"}
    return 1.0 if any(spec.labels[i].table == reg.table for i in titles) else 0.0


def locate(doc: Document, fmt: Format | None = None) -> Located:
    """Place every statutory cell of ``fmt`` (or of the builtin format that matches best) in ``doc``.

    Values are the texts as printed (totals too, never recomputed); "" where a cell is blank (what a
    blank is read as is ``from_document``'s to say). Every deviation from the format is a ``Finding``
    of no file yet (``Finding.of_record`` gives it the reader's).
    """
    if fmt is None:
        return choose_format(doc, builtin_formats().values())
    return _locate_with(fmt, _singles(doc))


def choose_format(doc: Document, formats: Iterable[Format]) -> Located:
    """The format whose labels ``doc`` matches best, placed; the one place a format is chosen.

    The current formats are tried first, the others in the order given; the first of the best scores
    is kept, so a current format wins a tie, and a perfect match ends the search (none after it could
    do better). ``Located.scores`` holds the score of every format tried."""
    singles = _singles(doc)
    best: Located | None = None
    scores: dict[str, float] = {}
    for f in sorted(formats, key=lambda f: f.last_year is not None):
        got = _locate_with(f, singles)
        scores[f.id] = got.score
        if best is None or got.score > best.score:
            best = got
        if got.score >= 1.0:
            break
    assert best is not None, "no format to read with"
    best.scores = scores
    return best


def _singles(doc: Document) -> list[View]:
    return [View([t]) for t in doc.tables if t.cells]


__all__ = ["SIMILARITY", "Located", "Placed", "choose_format", "locate"]
