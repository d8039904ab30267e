"""Last year's figures, for the cross-year rules (T3-R5, T2-W2): from last year's returns, or
from the 明细 sheet of last year's consolidated workbook, which carries every unit's figures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from xltool.batch import read_all
from xltool.catalogue import finding_fields
from xltool.definition import Format, known_formats
from xltool.detail import read_detail
from xltool.from_document import ReadOptions
from xltool.model import CONSOLIDATED, ERROR, Finding, Unit
from xltool.reader import ReturnRecord, discover, record_finding
from xltool.roster import assign_units, unit_key


def _file_finding(rec: ReturnRecord, rule: str, **fields: Any) -> Finding:
    """A finding about last year's file, severity and wording from the catalogue."""
    return record_finding(rec, "", (), rule, *finding_fields(rule, **fields))


def read_previous(
    paths: Sequence[str | Path],
    formats: Mapping[str, Format],
    batch_year: int | None,
    jobs: int = 1,
    options: ReadOptions | None = None,
    roster: Sequence[Unit] | None = None,
) -> tuple[dict[str, dict[str, int | None]], list[Finding], dict[str, str]]:
    """Last year's values by unit (``unit_key``: the code, or a document's name), from last year's
    returns, consolidated workbooks or published reports; and each unit's name as last year printed it."""
    files, _found = discover([Path(p) for p in paths])
    # last year's title names last year: what --year or --unit-name say of this year's file is not for it
    prev_options = ReadOptions(blank_as_zero=options.blank_as_zero) if options else None
    records = sorted(
        read_all(files, jobs=jobs, formats=known_formats(formats.values()), options=prev_options),
        key=lambda r: r.file,
    )
    if roster:
        assign_units(records, roster)
    names: dict[str, str] = {}
    values: dict[str, dict[str, int | None]] = {}
    source: dict[str, str] = {}
    findings: list[Finding] = []
    want = batch_year - 1 if batch_year is not None else None
    for rec in records:
        if not (rec.readable and rec.identity and rec.format):
            reason = next((f.message for f in rec.findings if f.severity == ERROR), "无法识别")
            findings.append(_file_finding(rec, "X-PREV-UNREADABLE", reason=reason))
            continue
        ident = rec.identity
        if want is not None and ident.year != want:
            findings.append(_file_finding(rec, "X-PREV-YEAR", year=ident.year, want=want))
            continue
        if rec.format.id not in formats:
            findings.append(_file_finding(rec, "X-PREV-FORMAT", format=f"{rec.format.name} {rec.format.version}"))
            continue
        key = unit_key(ident)
        if key in source:
            findings.append(
                _file_finding(
                    rec, "X-PREV-DUPLICATE", unit_name=ident.unit_name, unit_code=ident.unit_code, used=source[key]
                )
            )
            continue
        values[key] = dict(rec.values)
        source[key] = rec.file
        names[key] = ident.unit_name
    # a consolidated workbook also carries each unit's figures on its 明细 sheet
    for rec in records:
        ident = rec.identity
        if ident and ident.kind == CONSOLIDATED and source.get(ident.unit_code) == rec.file:
            for code, unit_values in _detail(rec).items():
                if code not in source:
                    values[code] = dict(unit_values)
                    source[code] = rec.file
    return values, findings, names


def _detail(rec: ReturnRecord) -> dict[str, dict[str, int]]:
    """Per-unit figures of a consolidated workbook's 明细 sheet ({} when it has none)."""
    try:
        return read_detail(rec.path, rec.format)
    except Exception:  # a damaged 明细 sheet only loses the per-unit figures, not the run
        return {}


def no_previous_findings(
    records: Sequence[ReturnRecord], prev: dict[str, dict[str, int | None]], batch_year: int | None
) -> list[Finding]:
    """Said once per return: its unit has no figures of last year, so cross-year rules were skipped."""
    out = []
    for rec in records:
        if unit_key(rec.identity) in prev:
            continue
        codes = "、".join(r.code for r in rec.format.rules if r.cross_year)
        last = f" {batch_year - 1} 年度" if batch_year is not None else "上一年度"
        out.append(_file_finding(rec, "X-NO-PREVIOUS", last=last, codes=codes))
    return out
