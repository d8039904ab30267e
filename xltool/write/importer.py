"""``xltool import``: what units published (web pages, Word files, sheets they made themselves)
written as xltool workbooks in the template's layout.

The figures are kept as printed, totals included (typed numbers, not formulas), a text that is no
clean number as that text, a blank as the 0 it was read as (its D-BLANK-AS-ZERO warning kept; a
blank with ``strict_blanks``); what reading the document found about its layout
(D-* findings) is kept in the workbook too. So validating the imported workbook says what validating
the document says, and last year's published reports become the baseline for ``--previous``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from xltool.catalogue import DOCUMENTS, VALUES, group_of
from xltool.definition import Format
from xltool.model import ERROR, IMPORTED, ReturnRecord, Unit
from xltool.read.from_document import ReadOptions
from xltool.validate import Validation, as_validation
from xltool.write.files import output_folder, output_set

if TYPE_CHECKING:
    import xlsxwriter


@dataclass
class Imported:
    """What ``import_documents`` did: each document's workbook, and the validation of the documents."""

    validation: Validation
    written: dict[str, Path] = field(default_factory=dict)  # document (as named in findings) -> workbook
    skipped: dict[str, str] = field(default_factory=dict)  # file -> why no workbook was written

    @property
    def valid(self) -> bool:
        return self.validation.valid


def import_documents(
    source: Validation | Sequence[str | Path],
    out_dir: str | Path,
    roster: Sequence[Unit] | None = None,
    year: int | None = None,
    options: ReadOptions | None = None,
    formats: Iterable[Format] = (),
    password: str | None = None,
    jobs: int = 1,
) -> Imported:
    """Write each readable document validated into ``out_dir`` (created) as a workbook of kind
    IMPORTED; files already in xltool's layout are listed as skipped. ``source``: a ``Validation``
    already made (nothing is read again), or the paths to validate (with ``roster``, ``year``,
    ``options``, ``formats``, ``jobs``). Never overwrites a file: a name in use gets " (2)", " (3)" …;
    the workbooks appear together or not at all (``files.output_set``). Raises UsageError when
    nothing can be read or ``out_dir`` cannot be used."""
    from xltool.write.template import DEFAULT_PASSWORD

    given = () if isinstance(source, Validation) else source
    out_dir = output_folder(out_dir, given, "导入的工作簿")
    validation = as_validation(source, roster, year, options, jobs, formats)
    result = Imported(validation)
    password = DEFAULT_PASSWORD if password is None else password
    staged: dict[str, Path] = {}
    with output_set(out_dir) as out:  # all the workbooks or none (an error or Ctrl-C midway)
        for rec in validation.records:
            why = _not_imported(rec)
            if why:
                result.skipped[rec.file] = why
                continue
            staged[rec.file] = _write_imported(rec, out.path(f"{rec.path.stem}（导入）.xlsx"), password)
    result.written = {file: out.placed[path] for file, path in staged.items()}
    return result


def _not_imported(rec: ReturnRecord) -> str:
    """Why a file gets no workbook ("" when it does): a workbook of xltool's needs none; a file not
    read (a document refused before it was read as one, too) says its first error, as validating it
    says it."""
    if rec.is_document and rec.readable:
        return ""
    if not rec.is_document and rec.identity is not None:
        return "已是 xltool 工作簿，无需导入"
    errors = [f for f in rec.findings if f.severity == ERROR]
    if errors:
        return f"未导入：{errors[0].message}（{errors[0].rule}）"
    return "无法读取或无法确定单位、年度，未导入（见校验结果）"


def _write_imported(rec: ReturnRecord, path: Path, password: str) -> Path:
    """One document as a workbook in the template's layout, with what reading found about its layout."""
    from xltool.write.template import draw_return, draw_source_findings, template_identity, write_workbook

    assert rec.format is not None and rec.identity is not None
    fmt, ident = rec.format, rec.identity
    identity = replace(
        template_identity(fmt, ident.unit, ident.year, kind=IMPORTED),
        source_file=rec.path.name,
        source_sha256=rec.sha256,
    )
    printed = printed_values(rec)
    layout = [f for f in rec.findings if group_of(f.rule) == DOCUMENTS]
    unplaced = [cid for cid in fmt.cells if cid not in rec.positions]

    def draw(wb: xlsxwriter.Workbook) -> None:
        wb.set_properties({"title": f"{identity.unit_name}{identity.year}年度（导入自 {identity.source_file}）"})
        draw_return(wb, fmt, identity, printed=printed, password=password)
        draw_source_findings(wb, layout, unplaced, password)

    return write_workbook(path, draw)


def printed_values(rec: ReturnRecord) -> dict[str, int | str | None]:
    """Each cell as the document printed it: the number where it was read as one without a remark,
    else the text itself (so that reading the workbook remarks on it again), None where nothing was
    printed or the cell was not found."""
    assert rec.format is not None
    remarked = {c for f in rec.findings if group_of(f.rule) == VALUES for c in f.cell_ids}
    out: dict[str, int | str | None] = {}
    for cid in rec.format.cells:
        value, text = rec.values.get(cid), rec.printed.get(cid)
        if value is not None and cid not in remarked:
            out[cid] = value
        else:
            out[cid] = text.strip() if text and text.strip() else None
    return out
