"""Last year's figures, for the cross-year rules (T3-R5, T2-W2): from last year's returns, or
from the 明细 sheet of last year's consolidated workbook, which carries every unit's figures."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from xltool.definition import Format, known_formats
from xltool.findings import ERROR, Finding
from xltool.model import CONSOLIDATED, Identity, LastYear, ReturnRecord, Unit
from xltool.read.batch import read_all
from xltool.read.detail import detail_units, read_detail
from xltool.read.discover import discover
from xltool.read.from_document import ReadOptions
from xltool.roster import assign_units, unit_key
from xltool.text import short_sheet
from xltool.values import show_value


def read_previous(
    paths: Sequence[str | Path],
    formats: Mapping[str, Format],
    batch_year: int | None,
    jobs: int = 1,
    options: ReadOptions | None = None,
    roster: Sequence[Unit] | None = None,
    sources: dict[str, ReturnRecord] | None = None,
) -> tuple[dict[str, dict[str, int | None]], list[Finding], dict[str, str]]:
    """Last year's values by unit (``unit_key``: the code, or a document's name), from last year's
    returns, consolidated workbooks or published reports; and each unit's name as last year printed it.
    ``sources``, when given, is filled with the record each unit's values came from."""
    files, _found = discover([Path(p) for p in paths])
    # last year's title names last year: what --year or --unit-name say of this year's file is not for it
    prev_options = ReadOptions(strict_blanks=options.strict_blanks) if options else None
    records = sorted(
        read_all(files, jobs=jobs, formats=known_formats(formats.values()), options=prev_options),
        key=lambda r: r.file,
    )
    if roster:
        assign_units(records, roster)
    names: dict[str, str] = {}
    values: dict[str, dict[str, int | None]] = {}
    source: dict[str, str] = {}
    records_by_unit = sources if sources is not None else {}
    findings: list[Finding] = []
    want = batch_year - 1 if batch_year is not None else None
    ident: Identity | None  # a recognised one in the first loop, any record's in the second
    for rec in records:
        if not (rec.readable and rec.identity and rec.format):
            reason = next((f.message for f in rec.findings if f.severity == ERROR), "无法识别")
            findings.append(Finding.for_file(rec.file, "X-PREV-UNREADABLE", identity=rec.identity, reason=reason))
            continue
        ident = rec.identity
        if want is not None and ident.year != want:
            findings.append(Finding.for_file(rec.file, "X-PREV-YEAR", identity=ident, year=ident.year, want=want))
            continue
        if rec.fmt.id not in formats:
            findings.append(
                Finding.for_file(rec.file, "X-PREV-FORMAT", identity=ident, format=f"{rec.fmt.name} {rec.fmt.version}")
            )
            continue
        key = unit_key(ident)
        if key in source:
            findings.append(
                Finding.for_file(
                    rec.file,
                    "X-PREV-DUPLICATE",
                    identity=ident,
                    unit_name=ident.unit_name,
                    unit_code=ident.unit_code,
                    used=source[key],
                )
            )
            continue
        values[key] = dict(rec.values)
        source[key] = rec.file
        records_by_unit[key] = rec
        names[key] = ident.unit_name
    # a consolidated workbook also carries each unit's figures on its 明细 sheet
    for rec in records:
        ident = rec.identity
        if ident and ident.kind == CONSOLIDATED and source.get(ident.unit_code) == rec.file:
            detail_names = _detail_names(rec)
            for code, unit_values in _detail(rec).items():
                if code not in source:
                    values[code] = dict(unit_values)
                    source[code] = rec.file
                    records_by_unit[code] = rec
                    names[code] = detail_names.get(code, "")
    return values, findings, names


def _detail_names(rec: ReturnRecord) -> dict[str, str]:
    try:
        return detail_units(rec.path)
    except Exception:  # as for the figures: a damaged 明细 sheet loses only what it would have said
        return {}


def by_name(
    records: Sequence[ReturnRecord], prev_values: dict[str, dict[str, int | None]], prev_names: dict[str, str]
) -> dict[str, dict[str, int | None]]:
    """A document names its unit but carries no code (no roster given): last year's figures of the
    unit of that name, as the roster would match it (``match_roster``: the same name after
    normalisation, never one it merely begins or ends with)."""
    from xltool.read.identify import match_roster

    units = [Unit(key, name, "") for key, name in prev_names.items() if name and key in prev_values]
    out = dict(prev_values)
    for rec in records:
        ident = rec.ident
        key = unit_key(ident)
        if ident.unit_code or key in out:
            continue
        unit = match_roster(ident.unit_name, units)
        if unit is not None:
            out[key] = prev_values[unit.code]
    return out


def _detail(rec: ReturnRecord) -> dict[str, dict[str, int]]:
    """Per-unit figures of a consolidated workbook's 明细 sheet ({} when it has none)."""
    try:
        return read_detail(rec.path, rec.fmt)
    except Exception:  # a damaged 明细 sheet only loses the per-unit figures, not the run
        return {}


def no_previous_findings(
    records: Sequence[ReturnRecord], prev: dict[str, dict[str, int | None]], batch_year: int | None
) -> list[Finding]:
    """Said once per return: its unit has no figures of last year, so cross-year rules were skipped."""
    out = []
    for rec in records:
        if unit_key(rec.ident) in prev:
            continue
        codes = "、".join(r.code for r in rec.fmt.rules if r.cross_year)
        last = f" {batch_year - 1} 年度" if batch_year is not None else "上一年度"
        out.append(Finding.for_file(rec.file, "X-NO-PREVIOUS", identity=rec.identity, last=last, codes=codes))
    return out


# --------------------------------------------------------------------------- templates carrying last year


def read_last_year(
    paths: Sequence[str | Path], fmt: Format, year: int, units: Sequence[Unit], jobs: int = 1
) -> tuple[dict[str, LastYear], list[Finding]]:
    """Last year's figures of each unit of the roster found in ``paths``, by unit code, for templates
    of ``year`` that carry them (``write_templates(previous=...)``); and what reading last year found."""
    records: dict[str, ReturnRecord] = {}
    values, findings, _names = read_previous(paths, {fmt.id: fmt}, year, jobs=jobs, roster=units, sources=records)
    out = {}
    for unit in units:
        if unit.code in values:
            rec = records[unit.code]
            out[unit.code] = LastYear(dict(values[unit.code]), year - 1, rec.path.name, rec.sha256)
    return out, findings


def carried_previous(rec: ReturnRecord) -> dict[str, int | None]:
    """Last year's figures a template was made with (its identification's ``carried``), by last year's
    cell id: the cross-year rules can use them when no file of last year is given."""
    if rec.identity is None or rec.format is None or not rec.ident.carried:
        return {}
    given = rec.ident.carried_values()
    out = {cid.removeprefix("prev:"): v for cid, v in given.items() if cid.startswith("prev:")}
    for cid, prev in rec.fmt.carries:
        if cid in given:
            out[prev] = given[cid]
    return {cid: v for cid, v in out.items() if cid in rec.fmt.cells}


def carried_findings(rec: ReturnRecord) -> list[Finding]:
    """A carried figure that is no longer what the template carried: the sheet was unprotected and
    the figure typed over (an error at that cell)."""
    if rec.identity is None or rec.format is None or not rec.ident.carried or not rec.readable:
        return []
    fmt, out = rec.format, []
    given = rec.ident.carried_values()
    source = rec.ident.carried_from.partition("（")[0] or "上年报表"
    for cid, _prev in fmt.carries:
        found = rec.values.get(cid)
        if cid not in given or found is None or found == given[cid]:
            continue  # a value that cannot be read has its own finding
        cell = fmt.cells[cid]
        kind = cell.kind
        out.append(
            Finding.at_cells(
                rec,
                "X-CARRIED-CHANGED",
                sheet=rec.sheet_titles.get(cell.table, cell.sheet),
                cells=(cell.address,),
                fields={
                    "sheet": short_sheet(cell.sheet),
                    "cell": cell.address,
                    "label": f"{cell.row_label}／{cell.col_label}",
                    "carried": show_value(given[cid], kind),
                    "found": show_value(found, kind),
                    "source": source,
                },
                row_label=cell.row_label,
                col_label=cell.col_label,
                cell_ids=(cid,),
            )
        )
    return out


def said_once(findings: list[Finding], formats: Iterable[Format]) -> list[Finding]:
    """A carried figure typed over also breaks its carry rule (T3-R5) at that cell and at the total of
    its row: X-CARRIED-CHANGED says why, so the rule's findings there are left out."""
    changed = {(f.file, cid) for f in findings if f.rule == "X-CARRIED-CHANGED" for cid in f.cell_ids}
    if not changed:
        return findings
    formats = list(formats)
    carry_codes = {r.code for fmt in formats for r in fmt.rules if r.carry}
    parts = {cid: cell.parts for fmt in formats for cid, cell in fmt.cells.items()}

    def explained(file: str, cid: str) -> bool:
        return (file, cid) in changed or any((file, p) in changed for p in parts.get(cid, ()))

    return [
        f
        for f in findings
        if not (f.rule in carry_codes and f.cell_ids and all(explained(f.file, c) for c in f.cell_ids))
    ]
