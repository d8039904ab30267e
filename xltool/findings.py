"""Findings: the one place a problem becomes a ``Finding`` (file, unit, sheet, A1 cells, rule code,
severity, Chinese message), its severity and wording taken from the catalogue."""

from __future__ import annotations

from typing import Any

from xltool.catalogue import finding_fields
from xltool.catalogue import get as get_code
from xltool.model import Finding, Identity, ReturnRecord
from xltool.text import short_sheet


def record_finding(
    rec: ReturnRecord,
    sheet: str,
    cells: tuple[str, ...],
    rule: str,
    severity: str,
    message: str,
    row_label: str = "",
    col_label: str = "",
    cell_ids: tuple[str, ...] = (),
    check: str = "",
    location: str = "",
) -> Finding:
    """A finding at cells of a record's workbook or document (used by the reader, the schema and
    validate); the statutory table (表二/表三/表四) follows from the cells' ids."""
    table = ""
    if cell_ids and rec.format is not None and cell_ids[0] in rec.format.cells:
        table = short_sheet(rec.format.table(rec.format.cells[cell_ids[0]].table).sheet)
    return Finding.about(
        rec.file,
        rec.identity,
        rule,
        severity,
        message,
        sheet,
        cells,
        row_label,
        col_label,
        cell_ids,
        check,
        table,
        location,
    )


def file_finding(file: str, rule: str, message: str, identity: Identity | None = None) -> Finding:
    """A finding about a whole file whose message was worded from the catalogue elsewhere (a
    ``SourceError``, a ``Problem``); its severity is the catalogue's."""
    return Finding.about(file, identity, rule, get_code(rule).severity, message)


def about_file(file: str, rule: str, identity: Identity | None = None, **fields: Any) -> Finding:
    """A finding about a whole file: severity and wording from the catalogue."""
    return Finding.about(file, identity, rule, *finding_fields(rule, **fields))
