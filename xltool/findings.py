"""Findings are data: every problem with a returned file is a ``Finding`` (file, unit, sheet, A1 cells,
rule code, severity, Chinese message), never an exception. ``Finding``'s constructors are the one place
a problem becomes a finding: keyword-only, their severity and wording taken from the catalogue unless
given, so an emission site names a code and the fields of its message and nothing else."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from xltool.catalogue import ERROR, SEVERITY_ZH, WARNING, finding_fields
from xltool.catalogue import get as get_code
from xltool.errors import InternalError
from xltool.text import short_sheet

if TYPE_CHECKING:
    from xltool.model import Identity, Position, ReturnRecord, Unit
    from xltool.read.sources import SourceError
    from xltool.values import Parsed

__all__ = ["ERROR", "SEVERITY_ZH", "STATUS_ZH", "WARNING", "Finding", "Report", "WorkbookResult"]


@dataclass(frozen=True)
class Finding:
    """One problem, at the cells a clerk can find: the unit of every report. Made by ``for_file``
    (``refused``), ``at_cells``, ``in_document`` or ``of_value``."""

    file: str
    unit_code: str
    unit_name: str
    sheet: str  # the sheet's real title; "" for a finding about the whole file
    cells: tuple[str, ...]  # A1 addresses on that sheet; at least one when sheet is set
    rule: str  # stable code, e.g. "T3-R1", "V-TEXT", "F-UNREADABLE"
    severity: str  # ERROR or WARNING
    message: str  # Chinese, with the found and expected values
    row_label: str = ""
    col_label: str = ""
    cell_ids: tuple[str, ...] = ()  # the definition's ids of the cells concerned (e.g. "t3.new.natural")
    check: str = ""  # the rule instance that failed (e.g. "T3-R1.natural"), to join findings to values
    table: str = ""  # the statutory table, as a clerk names it: 表二, 表三, 表四
    location: str = ""  # where in a document (web page, Word file): "第 2 个表格第 5 行第 4 列"
    detail: str = ""  # what a reading library said, as it said it (English): for a developer, never in ``message``

    @classmethod
    def for_file(
        cls,
        file: str,
        rule: str,
        /,
        *,
        identity: Identity | None = None,
        unit: Unit | None = None,
        severity: str | None = None,
        message: str | None = None,
        library_text: str = "",
        **fields: Any,
    ) -> Finding:
        """A finding about a whole file, of the unit its identification names (``identity``; blank when
        unknown), or about a unit that sent no file (``file`` "", ``unit``). ``fields`` fill the
        catalogue's message; ``message`` is one already worded from it (a refused document's);
        ``library_text``: a library's own words, kept out of the Chinese message (the finding's ``detail``)."""
        severity, message = _worded(rule, severity, message, fields)
        if identity is not None:
            code, name = identity.unit_code, identity.unit_name
        else:
            code, name = (unit.code, unit.name) if unit is not None else ("", "")
        return cls(file, code, name, "", (), rule, severity, message, detail=library_text)

    @classmethod
    def refused(cls, file: str, exc: SourceError) -> Finding:
        """A file that cannot be read as a document (``SourceError``, already worded from the catalogue)."""
        return cls.for_file(file, exc.code, message=exc.message, library_text=exc.detail)

    @classmethod
    def at_cells(
        cls,
        rec: ReturnRecord,
        rule: str,
        /,
        *,
        sheet: str,
        cells: tuple[str, ...],
        severity: str | None = None,
        message: str | None = None,
        fields: Mapping[str, Any] | None = None,
        row_label: str = "",
        col_label: str = "",
        cell_ids: tuple[str, ...] = (),
        check: str = "",
        table: str | None = None,
        location: str = "",
    ) -> Finding:
        """A finding at cells of a record's file. The message's fields come as ``fields`` (a template's
        ``{sheet}`` is how the message names the sheet, not the finding's ``sheet``); the statutory
        table (表二/表三/表四) follows from the cells' ids unless ``table`` is given."""
        severity, message = _worded(rule, severity, message, fields or {})
        if table is None:
            table = ""
            fmt = rec.format
            if cell_ids and fmt is not None and cell_ids[0] in fmt.cells:
                table = short_sheet(fmt.table(fmt.cells[cell_ids[0]].table).sheet)
        file, code, name = _owner(rec)
        return cls(
            file,
            code,
            name,
            sheet,
            cells,
            rule,
            severity,
            message,
            row_label,
            col_label,
            cell_ids,
            check,
            table,
            location,
        )

    @classmethod
    def in_document(
        cls,
        rec: ReturnRecord | None,
        rule: str,
        /,
        *,
        table: str,
        at: Position | None = None,
        doc_table: int | None = None,
        printed: str = "",
        severity: str | None = None,
        message: str | None = None,
        fields: Mapping[str, Any] | None = None,
        row_label: str = "",
        col_label: str = "",
        cell_ids: tuple[str, ...] = (),
    ) -> Finding:
        """A finding at a place in a document: ``at`` is a sheet and cell of a workbook a unit made
        itself, or a table and grid position of a page; ``doc_table`` the number of the document's
        table the finding is in (on ``at``'s sheet, for a workbook), which names the place when ``at``
        does not; neither: not found in the document. ``printed``: the document's own words for the
        cell the finding is about, added to the message. ``rec`` None: a finding of the locator, which
        reads a document without knowing its file (file "" and no unit until ``of_record``)."""
        severity, message = _worded(rule, severity, message, fields or {})
        if printed:
            message = f"{message}（{printed}）"
        sheet, ref, where = (at.sheet, at.ref, at.where) if at is not None else ("", "", "")
        if not where and doc_table is not None:
            where = f"工作表“{sheet}”" if sheet else f"第 {doc_table} 个表格"
        file, code, name = _owner(rec)
        return cls(
            file,
            code,
            name,
            sheet,
            (ref,) if ref else (),
            rule,
            severity,
            message,
            row_label,
            col_label,
            cell_ids,
            "",
            table,
            where,
        )

    @classmethod
    def of_value(cls, rec: ReturnRecord, cid: str, p: Parsed) -> Finding:
        """A figure that is not a clean number (``p``, the cell parser's result, has a code): at its
        cell of a template, or where a document printed it (``rec.positions``)."""
        fmt = rec.format
        if fmt is None:
            raise InternalError(f"{cid}: a value's finding needs the record's format")
        cell = fmt.cells[cid]
        pos = rec.positions.get(cid)
        if pos is None:
            sheet = rec.sheet_titles.get(cell.table, cell.sheet)
            return cls.at_cells(
                rec,
                p.code or "",
                sheet=sheet,
                cells=(cell.address,),
                severity=p.severity or ERROR,
                message=f"{short_sheet(sheet)} {cell.address}：{p.message}",
                row_label=cell.row_label,
                col_label=cell.col_label,
                cell_ids=(cid,),
            )
        table = short_sheet(fmt.table(cell.table).sheet)
        return cls.in_document(
            rec,
            p.code or "",
            at=pos,
            table=table,
            severity=p.severity or ERROR,
            message=f"{table} {cell.label}（{pos.where}）：{p.message}",
            row_label=cell.row_label,
            col_label=cell.col_label,
            cell_ids=(cid,),
        )

    def of_record(self, rec: ReturnRecord) -> Finding:
        """A finding made without a record (``in_document(None, …)``), as one of ``rec``'s file and unit."""
        file, code, name = _owner(rec)
        return replace(self, file=file, unit_code=code, unit_name=name)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["cells"] = list(self.cells)
        d["cell_ids"] = list(self.cell_ids)
        return d


def _owner(rec: ReturnRecord | None) -> tuple[str, str, str]:
    """(file, unit code, unit name) of a record's findings: blank for none, or an unidentified one."""
    if rec is None:
        return "", "", ""
    ident = rec.identity
    return rec.file, ident.unit_code if ident else "", ident.unit_name if ident else ""


def _worded(rule: str, severity: str | None, message: str | None, fields: Mapping[str, Any]) -> tuple[str, str]:
    """(severity, message): the catalogue's, or the ones given (a severity only picks a variant)."""
    if message is None:
        return finding_fields(rule, severity=severity, **fields)
    if fields:
        raise InternalError(f"{rule}: a finding's message is either worded from the catalogue or given, not both")
    return severity or get_code(rule).severity, message


@dataclass
class WorkbookResult:
    """Status of one input file after validation."""

    file: str
    unit_code: str
    unit_name: str
    status: str  # "passed" | "warnings" | "errors"
    unit_level: str = ""
    year: int | None = None
    kind: str = ""
    errors: int = 0
    warnings: int = 0
    read: bool = True
    """False for a file whose figures could not be used: not read at all (a kind xltool does not read, a
    note), or read without finding a usable return in it (its findings say why)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def status_zh(self) -> str:
        """The status as the tables print it: a file whose figures could not be used says so."""
        if self.read:
            return STATUS_ZH[self.status]
        if not self.errors:
            return NOT_READ
        return SENT_UNREADABLE if self.unit_code else UNREADABLE


STATUS_ZH = {"passed": "通过", "warnings": "有警告", "errors": "有错误"}
SENT_UNREADABLE = "已报送，无法读取"
"""The status of a roster unit whose file could not be read: it sent one, never 未报送."""
UNREADABLE = "无法读取"
NOT_READ = "未读取"


@dataclass
class Report:
    """The outcome of validating a batch: one result per file plus every finding."""

    workbooks: list[WorkbookResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not any(f.severity == ERROR for f in self.findings)

    def findings_for(self, file: str) -> list[Finding]:
        return [f for f in self.findings if f.file == file]

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "workbooks": [w.to_dict() for w in self.workbooks],
            "findings": [f.to_dict() for f in self.findings],
        }
