"""A return read from a document: a web page, a Word file, or a workbook a unit made itself.

The source becomes tables of cell texts (``xltool.read.sources``), the locator places every statutory
cell by the definition's printed labels (``xltool.read.locate``), the unit and year come from the title
(``xltool.read.identify``), and each placed text is read like a typed cell (``xltool.values``). The
result is an ordinary ``ReturnRecord``, so the schema, the batch checks and the consolidator treat
it like a template's; every deviation of the document is a finding at the place it was printed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from xltool.definition import Format, a1
from xltool.model import DOCUMENT, Finding, Identity, Position, ReturnRecord
from xltool.read.document import Document
from xltool.read.identify import Identified, identify_document
from xltool.read.locate import Placed, choose_format
from xltool.read.narrative import read_narrative
from xltool.read.regions import is_blank
from xltool.read.scanned import SCAN, check_scanned, not_read
from xltool.text import normalize_label, short_sheet
from xltool.values import PLAIN_FIGURE, Parsed, parse_value


@dataclass(frozen=True)
class ReadOptions:
    """How documents are read: what a title cannot say, given on the command line for one file, and
    ``strict_blanks``: a blank statistical cell is a V-BLANK error, as in xltool's own templates,
    instead of 0 with one D-BLANK-AS-ZERO warning per table (published reports print 0 as blank)."""

    strict_blanks: bool = False
    unit_code: str = ""
    unit_name: str = ""
    year: int | None = None


def parse_printed(text: str, kind: str, unit: str = "") -> Parsed:
    """A printed figure: plain digits are a number (a document holds only text, so that is no
    warning); anything else is read as a typed cell would be ("O", "３", "1,234", "/", "6件")."""
    stripped = text.strip(" \t\r\n\u00a0\u3000")
    if PLAIN_FIGURE.fullmatch(stripped):
        return parse_value(Decimal(stripped), kind, unit)
    return parse_value(text, kind, unit)


def fill_from_document(
    rec: ReturnRecord,
    doc: Document,
    formats: Mapping[str, Format],
    options: ReadOptions | None = None,
    formula_at: Callable[[str, str], bool] | None = None,
) -> bool:
    """Fill ``rec`` from ``doc``; False (no finding added) when the document holds none of the
    statutory tables, so that the caller can say what the file is instead. ``formula_at(sheet, A1)``
    tells, for a workbook, whether a cell holds a formula (a blank total that is a formula saved
    without its result, as openpyxl saves, is the sum of its parts, not a blank)."""
    options = options or ReadOptions()
    located = choose_format(doc, formats.values())
    if not located.tables:
        return False
    fmt = located.format
    rec.source = doc.kind
    rec.format = fmt
    _identify(rec, doc, fmt, options)
    rec.narrative = read_narrative(doc, fmt)
    rec.findings.extend(f.of_record(rec) for f in located.findings)
    rec.values = dict.fromkeys(fmt.cells)
    blanks = _read_placed(rec, doc, fmt, located.values)
    formulas = _unsaved_totals(rec, fmt, blanks, formula_at) if formula_at is not None else set()
    _read_blanks(rec, fmt, [cid for cid in blanks if cid not in formulas], options.strict_blanks)
    for cell in fmt.total_order:  # after the blanks: Excel sums a blank part as 0 too
        if cell.id in formulas:
            parts = [rec.values.get(p) for p in cell.parts]
            rec.values[cell.id] = None if None in parts else sum(p for p in parts if p is not None)
            if rec.values[cell.id] is None:
                rec.findings.append(Finding.of_value(rec, cell.id, parse_value(None, cell.kind, cell.unit)))
    return True


def _read_placed(rec: ReturnRecord, doc: Document, fmt: Format, located: Mapping[str, Placed]) -> list[str]:
    """Each placed cell's text read as a figure, where it was printed kept; the blank cells. A scan's
    cell OCR could not read, or read as no figure, is O-NOT-READ (``scanned``), not the report's fault."""
    blanks: list[str] = []
    for cid, placed in located.items():
        rec.positions[cid] = _position(placed)
        rec.printed[cid] = placed.text
    scan = doc.kind == SCAN
    unread = check_scanned(rec, doc, fmt, located) if scan else set()
    for cid, placed in located.items():
        cell = fmt.cells[cid]
        if cid in unread:
            continue
        if is_blank(placed.text):
            blanks.append(cid)
            continue
        p = parse_printed(placed.text, cell.kind, cell.unit)
        if p.code is not None and scan:  # OCR's reading, not what the report printed
            rec.findings.append(not_read(rec, fmt, cid, placed.text))
            continue
        rec.values[cid] = p.value
        if p.code is not None:
            rec.findings.append(Finding.of_value(rec, cid, p))
    return blanks


def _unsaved_totals(
    rec: ReturnRecord, fmt: Format, blanks: list[str], formula_at: Callable[[str, str], bool]
) -> set[str]:
    """The blank totals that hold a formula saved without its result (as openpyxl saves): the sum of
    their parts, as the template path reads them (the parts are printed; nothing is guessed)."""
    out: set[str] = set()
    for cid in blanks:
        cell, pos = fmt.cells[cid], rec.positions[cid]
        if cell.parts and pos.sheet and pos.ref and formula_at(pos.sheet, pos.ref):
            out.add(cid)
    return out


def _read_blanks(rec: ReturnRecord, fmt: Format, blanks: list[str], strict: bool) -> None:
    """Blank statistical cells: published reports print 0 as blank, so each is read as 0 with one
    D-BLANK-AS-ZERO warning per table, naming the cells; with ``strict``, a V-BLANK error each."""
    by_table: dict[str, list[str]] = {}
    for cid in blanks:
        if strict:
            cell = fmt.cells[cid]
            rec.findings.append(Finding.of_value(rec, cid, parse_value(None, cell.kind, cell.unit)))
        else:
            rec.values[cid] = 0
            by_table.setdefault(fmt.cells[cid].table, []).append(cid)
    for key, ids in by_table.items():
        first = rec.positions[ids[0]]
        table = short_sheet(fmt.table(key).sheet)
        rec.findings.append(
            Finding.at_cells(
                rec,
                "D-BLANK-AS-ZERO",
                sheet=first.sheet,
                cells=tuple(rec.positions[c].ref for c in ids if rec.positions[c].ref),
                fields={"table": table, "count": len(ids), "first": fmt.cells[ids[0]].label},
                cell_ids=tuple(ids),
                table=table,
                location=first.where,
            )
        )


def _position(placed: Placed) -> Position:
    """Where a figure was printed. A sheet's grid starts at A1, so a blank cell of a workbook (which
    no source lists) still has its address."""
    if placed.sheet and not placed.ref:
        ref = a1(placed.row, placed.col)
        return Position(placed.sheet, ref, f"工作表“{placed.sheet}” {ref}")
    return Position(placed.sheet, placed.ref, placed.where)


def _identify(rec: ReturnRecord, doc: Document, fmt: Format, options: ReadOptions) -> None:
    """The record's identity, or D-IDENTITY naming what could not be found."""
    cover = _cover_fields(doc, fmt)
    name, year, conflict = _unit_and_year(rec, doc, fmt, options, cover)
    if name and year is not None:
        rec.identity = Identity(
            format_id=fmt.id,
            format_version=fmt.version,
            fingerprint=fmt.fingerprint,
            unit_code=options.unit_code or cover.get("unit_code", ""),
            unit_name=name,
            unit_level="",
            year=year,
            kind=DOCUMENT,
        )
        return
    missing = "、".join(w for w, ok in (("单位名称", name), ("年度", year is not None)) if not ok)
    if conflict:
        missing += "（文中有两个不同的报告标题：" + "、".join(f"“{t}”" for t in conflict) + "）"
    rec.findings.append(
        Finding.for_file(
            rec.file,
            "D-IDENTITY",
            name=rec.path.name,
            what=missing,
            hint="请把文件名改为“单位名称+年度”（如“××镇2024年政府信息公开工作年度报告”），"
            "或用 --unit-name、--year 指明",
        )
    )


def _unit_and_year(
    rec: ReturnRecord, doc: Document, fmt: Format, options: ReadOptions, cover: dict[str, str]
) -> tuple[str, int | None, tuple[str, ...]]:
    """The unit and year the command line gives, else what a template's cover prints (its
    identification lost), else what the document's texts say (``identify_document``; the tables'
    own titles and labels are never taken for one); and the two titles that disagree, if that is why
    the document names neither."""
    if cover.get("unit_name") and cover.get("year", "").isdigit():
        found = Identified(cover["unit_name"], int(cover["year"]))
    else:
        found = identify_document(doc, rec.path.name, fmt.printed_labels)
    name = options.unit_name or found.unit
    year = options.year if options.year is not None else found.year
    return name, year, found.conflict if not (name and year is not None) else ()


_IDENTITY_FIELDS = ("unit_name", "unit_code", "year")


def _cover_fields(doc: Document, fmt: Format) -> dict[str, str]:
    """The unit and year a template's cover prints beside its labels (填报单位, 单位代码, 年度), when the
    document is such a workbook (last year's own file, its identification lost)."""
    wanted = {normalize_label(f.label): f.key for f in fmt.cover.fields if f.key in _IDENTITY_FIELDS}
    out: dict[str, str] = {}
    for table in doc.tables:
        cells = sorted(table.cells, key=lambda c: (c.row, c.col))
        for i, cell in enumerate(cells):
            key = wanted.get(normalize_label(cell.text))
            if key is None or key in out:
                continue
            beside = next((c for c in cells[i + 1 :] if c.row == cell.row and c.text.strip()), None)
            if beside is not None:
                out[key] = beside.text.strip()
    return out
