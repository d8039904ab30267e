"""``xltool import``: what units published (web pages, Word files, sheets they made themselves)
written as xltool workbooks in the template's layout.

The figures are kept as printed, totals included (typed numbers, not formulas), a text that is no
clean number as that text, a blank as a blank; what reading the document found about its layout
(D-* findings) is kept in the workbook too. So validating the imported workbook says what validating
the document says, and last year's published reports become the baseline for ``--previous``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from xltool.definition import Format
from xltool.errors import UsageError
from xltool.model import IMPORTED, ReturnRecord, Unit
from xltool.read.from_document import ReadOptions
from xltool.validate import Validation, validate_paths


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
    paths: Sequence[str | Path],
    out_dir: str | Path,
    roster: Sequence[Unit] | None = None,
    year: int | None = None,
    options: ReadOptions | None = None,
    formats: Iterable[Format] = (),
    password: str | None = None,
    jobs: int = 1,
) -> Imported:
    """Validate the documents found in ``paths`` and write each readable one into ``out_dir`` (created)
    as a workbook of kind IMPORTED; files already in xltool's layout are listed as skipped. Never
    overwrites a file: a name in use gets " (2)", " (3)" … Raises UsageError when nothing can be read
    or ``out_dir`` cannot be used."""
    from xltool.write.template import (
        DEFAULT_PASSWORD,
        draw_return,
        draw_source_findings,
        template_identity,
        write_workbook,
    )

    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out 应为文件夹：{out_dir} 是文件")
    for given in map(Path, paths):
        if given.is_dir() and out_dir.resolve().is_relative_to(given.resolve()):
            raise UsageError(f"--out 不能放在被读取的文件夹中（{given}），否则下次读取会把导入的工作簿当作报表")
    units = list(roster) if roster else None
    validation = validate_paths(list(paths), roster=units, year=year, options=options, jobs=jobs, formats=formats)
    result = Imported(validation)
    password = DEFAULT_PASSWORD if password is None else password
    for rec in validation.records:
        if not rec.is_document:
            result.skipped[rec.file] = "已是 xltool 工作簿，无需导入"
            continue
        if rec.identity is None or rec.format is None or not rec.readable:
            result.skipped[rec.file] = "无法读取或无法确定单位、年度，未导入（见校验结果）"
            continue
        fmt, ident = rec.format, rec.identity
        identity = replace(
            template_identity(fmt, ident.unit, ident.year, kind=IMPORTED),
            source_file=rec.path.name,
            source_sha256=rec.sha256,
        )
        printed = printed_values(rec)
        layout = [f for f in rec.findings if f.rule.startswith("D-")]
        unplaced = [cid for cid in fmt.cells if cid not in rec.positions]

        def draw(wb, fmt=fmt, identity=identity, printed=printed, layout=layout, unplaced=unplaced) -> None:
            wb.set_properties({"title": f"{identity.unit_name}{identity.year}年度（导入自 {identity.source_file}）"})
            draw_return(wb, fmt, identity, printed=printed, password=password)
            draw_source_findings(wb, layout, unplaced, password)

        out_dir.mkdir(parents=True, exist_ok=True)
        result.written[rec.file] = write_workbook(_free_name(out_dir, f"{rec.path.stem}（导入）.xlsx"), draw)
    return result


def printed_values(rec: ReturnRecord) -> dict[str, int | str | None]:
    """Each cell as the document printed it: the number where it was read as one without a remark,
    else the text itself (so that reading the workbook remarks on it again), None where nothing was
    printed or the cell was not found."""
    assert rec.format is not None
    remarked = {c for f in rec.findings if f.rule.startswith("V-") for c in f.cell_ids}
    out: dict[str, int | str | None] = {}
    for cid in rec.format.cells:
        value, text = rec.values.get(cid), rec.printed.get(cid)
        if value is not None and cid not in remarked:
            out[cid] = value
        else:
            out[cid] = text.strip() if text and text.strip() else None
    return out


def _free_name(folder: Path, name: str) -> Path:
    path = folder / name
    n = 2
    while path.exists():
        path = folder / f"{Path(name).stem} ({n}).xlsx"
        n += 1
    return path
