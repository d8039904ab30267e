"""Consolidate valid returns into one workbook that is itself a valid return one level up.

The output carries the three statutory tables (drawn by the template writer, with the sums as
inputs and totals as formulas), a 明细 sheet with every unit's figures side by side, a 图表 sheet
of charts over those cells (``charts``), and a 来源 sheet accounting for every input file. It is written to a temporary file and renamed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from xltool import __version__
from xltool.definition import Format, known_formats
from xltool.errors import ConsolidationRefused, UsageError
from xltool.model import CONSOLIDATED, ERROR, WARNING, Finding, Report, ReturnRecord, Unit, check_unit
from xltool.read.detail import EXCEL_COLUMNS, MAX_DETAIL_UNITS
from xltool.read.from_document import ReadOptions
from xltool.text import clean_text
from xltool.totals import recompute_totals
from xltool.validate import Validation, duplicate_groups, self_relation, validate_records
from xltool.write.charts import draw_charts
from xltool.write.detail import draw_detail, sheet_styles
from xltool.write.files import claim_output, file_key
from xltool.write.printing import print_setup, row_height

if TYPE_CHECKING:
    import xlsxwriter

    from xltool.read.batch import Progress

SOURCES_SHEET = "来源"
SOURCE_WIDTHS = (24, 10, 26, 11, 18, 6, 19, 8, 8, 34, 10, 15)
"""文件名, 大小, SHA-256 (three lines of 22 characters), 单位代码, 单位名称, 年度, 报表格式, 模板版本,
状态, 说明, then the contact fields: all on one landscape A4 page wide, their texts wrapped."""


@dataclass
class Source:
    """One input file as the 来源 sheet lists it."""

    file: str
    size: int
    sha256: str
    unit_code: str
    unit_name: str
    year: int | None
    format_id: str
    xltool_version: str
    included: bool
    reason: str = ""
    contact: dict[str, str] = field(default_factory=dict)


@dataclass
class Consolidation:
    """The outcome: what was written (or why not), and what went in."""

    out: Path | None
    unit: Unit
    year: int | None
    totals: dict[str, int]
    included: list[Source]
    excluded: list[Source]
    missing: list[Unit]
    report: Report
    warnings: list[str] = field(default_factory=list)
    replaced: bool = False
    """``out`` was there before and was replaced (``overwrite``)."""


def sum_values(records_values: Iterable[Mapping[str, int | None]], fmt: Format) -> dict[str, int]:
    """Cell-by-cell sums of the inputs; totals recomputed from their parts (never trusted)."""
    sums = {cid: 0 for cid in fmt.cells}
    inputs = [cell.id for cell in fmt.input_cells]  # a property that builds a tuple: once, not per return
    for values in records_values:
        for cid in inputs:
            value = values.get(cid)
            if value is None:
                raise ConsolidationRefused(f"{cid} 没有可用数值，不能汇总")
            sums[cid] += value
    return recompute_totals(sums, fmt)


# --------------------------------------------------------------------------- writing


def write_consolidated(
    out: Path,
    fmt: Format,
    unit: Unit,
    year: int,
    totals: dict[str, int],
    details: Sequence[tuple[Unit, dict[str, int]]],
    sources: Sequence[Source],
    missing: Sequence[Unit],
    password: str | None = None,
    made_at: datetime | None = None,
    overwrite: bool = True,
) -> Path:
    """Write the consolidated workbook atomically; an interrupted write leaves ``out`` untouched.
    ``overwrite=False``: never replace a file, even one made meanwhile (OutputExists)."""
    from xltool.write.template import DEFAULT_PASSWORD, draw_return, template_identity, write_workbook

    if len(details) > MAX_DETAIL_UNITS:
        raise ConsolidationRefused(
            f"一次汇总 {len(details):,} 个单位，超过“明细”页的上限 {MAX_DETAIL_UNITS:,} 个（Excel 最多 {EXCEL_COLUMNS:,} 列），"
            "未生成汇总表。请分级汇总：县 → 市 → 省，每一级的汇总表都可以作为上一级的报表。"
        )

    password = DEFAULT_PASSWORD if password is None else password
    identity = template_identity(fmt, unit, year, kind=CONSOLIDATED)
    made_at = made_at or datetime.now()

    def draw(wb: xlsxwriter.Workbook) -> None:
        wb.set_properties(
            {"title": f"{unit.name}{year}年度政府信息公开统计汇总", "author": "xltool", "created": made_at}
        )
        draw_return(wb, fmt, identity, values=totals, password=password)
        styles = sheet_styles(wb, fmt.font)
        draw_detail(wb, styles, fmt, unit, year, totals, details, password)
        draw_charts(wb, styles, fmt, unit, year, totals, details, password)
        _draw_sources(wb, styles, fmt, unit, year, sources, missing, made_at, password)

    return write_workbook(out, draw, exclusive=not overwrite)


def _draw_sources(
    wb: Any,
    f: dict[str, Any],
    fmt: Format,
    unit: Unit,
    year: int,
    sources: Sequence[Source],
    missing: Sequence[Unit],
    made_at: datetime,
    password: str,
) -> None:
    """Every input file, its fingerprint and fate; units that did not submit; how this was made."""
    ws = wb.add_worksheet(SOURCES_SHEET)
    ws.write_string(0, 0, clean_text(f"来源：{unit.name}（{unit.code}）{year}年度汇总所用的全部文件"), f["title"])
    ws.write_string(1, 0, f"生成时间：{made_at:%Y-%m-%d %H:%M:%S}；生成工具：xltool {__version__}", None)
    heads = (
        "文件名",
        "大小（字节）",
        "SHA-256",
        "单位代码",
        "单位名称",
        "年度",
        "报表格式",
        "模板版本",
        "状态",
        "说明",
        *(field.label for field in fmt.cover.fields if field.contact),
    )
    contact = [field.key for field in fmt.cover.fields if field.contact]
    widths = [SOURCE_WIDTHS[c] if c < len(SOURCE_WIDTHS) else 12 for c in range(len(heads))]
    for c, h in enumerate(heads):
        ws.write_string(3, c, h, f["head"])
        ws.set_column(c, c, widths[c])
    ws.set_row(3, row_height(zip(heads, widths, strict=True)))
    row = 4
    for s in sources:
        values = _source_row(s, contact)
        for c, v in enumerate(values):
            if isinstance(v, int):
                ws.write_number(row, c, v, f["count"])
            else:
                ws.write_string(row, c, clean_text(str(v)), f["text"])
        ws.set_row(row, row_height((clean_text(str(v)), widths[c]) for c, v in enumerate(values)))
        row += 1
    row += 1
    ws.write_string(row, 0, f"名单中未报送的单位：{len(missing)} 个", f["title"] if missing else None)
    row += 1
    for u in missing:
        texts = (u.code, clean_text(u.name), u.level)
        for c, text in enumerate(texts):
            ws.write_string(row, c, text, f["text"])
        ws.set_row(row, row_height(zip(texts, widths, strict=False)))
        row += 1
    ws.freeze_panes(4, 0)
    print_setup(ws, (3, 3))
    ws.protect(password)


def _source_row(s: Source, contact: Sequence[str]) -> tuple[str | int, ...]:
    """One file's row of 来源, in the order of its heads."""
    return (
        s.file,
        s.size,
        s.sha256,
        s.unit_code,
        s.unit_name,
        "" if s.year is None else s.year,
        s.format_id,
        s.xltool_version,
        "已汇总" if s.included else "未汇总",
        s.reason,
        *(s.contact.get(k, "") for k in contact),
    )


# --------------------------------------------------------------------------- the whole step


def consolidate(
    source: Validation | Iterable[str | Path],
    out: str | Path,
    unit: Unit,
    roster: Sequence[Unit] | None = None,
    previous: Sequence[str | Path] | None = None,
    exclude_invalid: bool = False,
    use: Sequence[str | Path] = (),
    year: int | None = None,
    password: str | None = None,
    jobs: int = 1,
    progress: Progress | None = None,
    formats: Iterable[Format] = (),
    options: ReadOptions | None = None,
    overwrite: bool = False,
    inputs: Sequence[str | Path] = (),
) -> Consolidation:
    """Consolidate the valid returns of a batch into one workbook at ``out``.

    ``source``: a ``Validation`` already made (nothing is read again; ``roster`` still names the units
    that did not submit, and a unit's second return dropped by ``use`` has the rest checked again in
    memory, with ``roster``, ``previous`` and ``year``), or the files and folders to read and validate
    with the validate engine. Raises ConsolidationRefused (and writes nothing) when any input has
    errors and ``exclude_invalid`` is not set, or when a unit has two returns and ``use`` names neither.
    ``formats``: definitions loaded from files whose templates the inputs may be drawn from.

    ``out`` follows ``files.claim_output``, checked before anything is read: never an input (the
    returns, ``previous``, ``use``, and ``inputs``: the roster's file), never inside a folder read, and
    an existing file is refused (OutputExists) unless ``overwrite``; ``Consolidation.replaced`` then
    says it was replaced.
    """
    out = Path(out)
    check_unit(unit)
    again = {
        "roster": roster,
        "previous": previous,
        "year": year,
        "jobs": jobs,
        "options": options,
        "consolidating": unit,
    }
    given = [r.path for r in source.records] if isinstance(source, Validation) else [Path(p) for p in source]
    claim_output(out, inputs=[*given, *(previous or ()), *use, *inputs], overwrite=overwrite)
    _check_output(out)
    replaced = out.is_file()
    if isinstance(source, Validation):
        validation, records, dropped = _validated(source, use, again)
    else:
        validation, records, dropped = _read_and_validate(given, use, again, progress, formats)
    batch = _batch(validation, records, dropped, roster, exclude_invalid)
    # every record (its values, cover, findings) is summarised in the batch: free them before the
    # writer builds the workbook in memory, so that the two do not add up (a province: 10,000 returns)
    del records, validation
    b = batch
    write_consolidated(
        out, b.fmt, unit, b.year, b.totals, b.details, b.sources, b.missing, password=password, overwrite=overwrite
    )
    return Consolidation(
        out=out,
        unit=unit,
        year=b.year,
        totals=b.totals,
        included=[s for s in b.sources if s.included],
        excluded=[s for s in b.sources if not s.included],
        missing=b.missing,
        report=b.report,
        warnings=b.warnings,
        replaced=replaced,
    )


@dataclass
class _Batch:
    """What the workbook is written from: no record, only what each contributes."""

    fmt: Format
    year: int
    totals: dict[str, int]
    details: list[tuple[Unit, dict[str, int]]]
    sources: list[Source]
    missing: list[Unit]
    report: Report
    warnings: list[str]


def _order(rec: ReturnRecord) -> tuple[str, str, str]:
    """The order of the 明细 columns: by unit code, then content, then file."""
    return (rec.ident.unit_code if rec.identity else "~", rec.sha256, rec.file)


def _read_and_validate(
    inputs: list[Path],
    use: Sequence[str | Path],
    again: dict[str, Any],
    progress: Progress | None,
    formats: Iterable[Format],
) -> tuple[Validation, list[ReturnRecord], dict[str, str]]:
    """Read the inputs, drop the returns ``use`` sets aside, validate the rest (read once)."""
    from xltool.read.batch import read_all
    from xltool.read.discover import discover, read_kinds

    files, found = discover(inputs)
    if not files:
        raise UsageError(f"没有找到可汇总的报表（可读取的类型：{read_kinds()}）：" + "、".join(map(str, inputs)))
    records = read_all(
        files, jobs=again["jobs"], progress=progress, formats=known_formats(formats), options=again["options"]
    )
    records.sort(key=_order)
    dropped = _dropped(records, use)
    validation = validate_records([r for r in records if r.file not in dropped], extra=found, **again)
    return validation, records, dropped


def _validated(
    given: Validation, use: Sequence[str | Path], again: dict[str, Any]
) -> tuple[Validation, list[ReturnRecord], dict[str, str]]:
    """A validation made by the caller; checked again in memory only when ``use`` drops a return, or
    when it holds a return of the consolidating unit itself (or above it) that it did not say is R-SELF
    (it was made without knowing the unit)."""
    records = sorted(given.records, key=_order)
    dropped = _dropped(records, use)
    said = {f.file for f in given.report.findings if f.rule == "R-SELF"}
    unit = again["consolidating"]
    unsaid = [r for r in records if r.identity is not None and r.file not in said and self_relation(r.ident, unit)]
    if not dropped and not unsaid:
        return given, records, dropped
    read = {r.file for r in records}
    # the findings of files named but not read (F-NOT-WORKBOOK), as workbook_results tells them
    extra = [f for f in given.report.findings if f.file and f.file not in read and not f.rule.startswith("X-PREV")]
    validation = validate_records([r for r in records if r.file not in dropped], extra=extra, **again)
    return validation, records, dropped


def _dropped(records: Sequence[ReturnRecord], use: Sequence[str | Path]) -> dict[str, str]:
    """Two returns from one unit: refused until the user says which one counts (``use``); the
    others, file -> why not consolidated."""
    chosen = {file_key(p) for p in use}
    unknown = [str(p) for p in use if file_key(p) not in {file_key(r.path) for r in records}]
    if unknown:
        raise UsageError(f"--use 指定的文件不在要汇总的文件中：{'、'.join(unknown)}")
    dropped: dict[str, str] = {}
    for (code, yr), group in sorted(duplicate_groups(records).items()):
        picked = [r for r in group if file_key(r.path) in chosen]
        if len(picked) != 1:
            names = "、".join(sorted(r.file for r in group))
            raise ConsolidationRefused(
                f"单位 {code}（{group[0].ident.unit_name}）的 {yr} 年度报表有 {len(group)} 份：{names}。"
                "请用 --use 文件 指定以哪一份为准，未生成汇总表。"
            )
        for r in group:
            if r is not picked[0]:
                dropped[r.file] = f"同一单位另有指定报表：{picked[0].file}"
    return dropped


def _batch(
    validation: Validation,
    records: Sequence[ReturnRecord],
    dropped: dict[str, str],
    roster: Sequence[Unit] | None,
    exclude_invalid: bool,
) -> _Batch:
    """What the validation allows to be consolidated, or ConsolidationRefused saying why nothing is."""
    report = validation.report
    blocking = _blocking(report)
    if blocking and not exclude_invalid:
        raise ConsolidationRefused(_refusal(blocking))
    included = sorted(validation.valid_records, key=_order)
    fmt, the_year = _format_and_year(included)
    # typed as the values are summed: sum_values refuses a missing one
    details = [
        (r.ident.unit, recompute_totals(cast(dict[str, int], {c: r.values[c] for c in fmt.cells}), fmt))
        for r in included
    ]
    totals = sum_values((v for _u, v in details), fmt)
    included_files = {r.file for r in included}
    sources = _sources(records, included_files, blocking, dropped)
    missing = _missing(records, roster, report)
    warnings = [f"{f.file}：{f.message}" for f in report.findings if f.severity == WARNING and f.file in included_files]
    return _Batch(fmt, the_year, totals, details, sources, missing, report, warnings)


def _missing(records: Sequence[ReturnRecord], roster: Sequence[Unit] | None, report: Report) -> list[Unit]:
    """The units of the roster that sent nothing (a file that cannot be used was still sent, a file
    not read at all too when its name names the unit: the report's results say whose it is)."""
    submitted = {r.ident.unit_code for r in records if r.identity is not None}
    submitted |= {w.unit_code for w in report.workbooks if w.unit_code}
    return [u for u in (roster or ()) if u.code not in submitted]


def _blocking(report: Report) -> dict[str, list[Finding]]:
    """file -> its errors."""
    blocking: dict[str, list[Finding]] = {}
    for f in report.findings:
        if f.severity == ERROR and f.file:
            blocking.setdefault(f.file, []).append(f)
    return blocking


def _refusal(blocking: Mapping[str, list[Finding]]) -> str:
    """Which files have errors, the first of each."""
    lines = [
        f"{file}：{errs[0].message}" + (f"（另有 {len(errs) - 1} 处错误）" if len(errs) > 1 else "")
        for file, errs in sorted(blocking.items())
    ]
    return (
        f"{len(blocking)} 个文件有错误，未生成汇总表。请先改正，或加 --exclude-invalid 排除有错误的文件：\n  "
        + "\n  ".join(lines)
    )


def _format_and_year(included: Sequence[ReturnRecord]) -> tuple[Format, int]:
    """The one format and year of the returns: cells of two formats or years are not added."""
    if not included:
        raise ConsolidationRefused("没有可以汇总的有效报表，未生成汇总表。")
    formats = {r.fmt.id for r in included}
    years = {r.ident.year for r in included}
    if len(formats) > 1:
        raise ConsolidationRefused(_mixed_formats(included))
    if len(years) > 1:
        raise ConsolidationRefused(f"报表的年度不一致（年度：{sorted(years)}），不能汇总。")
    return included[0].fmt, years.pop()


def _sources(
    records: Sequence[ReturnRecord],
    included_files: set[str],
    blocking: Mapping[str, list[Finding]],
    dropped: Mapping[str, str],
) -> list[Source]:
    """Every input, read or not, as 来源 lists it: included first, by unit code and file."""
    read = {r.file for r in records}
    unread = [f for f in sorted(blocking) if f not in read]  # named files that are not workbooks
    shown = source_names([*records, *(ReturnRecord(Path(f), f) for f in unread)])
    sources = [_source(r, shown.get(r.file, r.file), r.file in included_files, blocking, dropped) for r in records]
    for file in unread:
        size, digest = _digest(Path(file))
        sources.append(Source(shown[file], size, digest, "", "", None, "", "", False, blocking[file][0].message))
    sources.sort(key=lambda s: (not s.included, s.unit_code, s.file))
    return sources


def _source(
    r: ReturnRecord,
    shown: str,
    included: bool,
    blocking: Mapping[str, list[Finding]],
    dropped: Mapping[str, str],
) -> Source:
    """One read file: its fingerprint, identity, contact and why it was not consolidated."""
    ident = r.identity
    reason = dropped.get(r.file) or "；".join(f.message for f in blocking.get(r.file, [])[:3])
    return Source(
        file=shown,
        size=r.size,
        sha256=r.sha256,
        unit_code=ident.unit_code if ident else "",
        unit_name=ident.unit_name if ident else "",
        year=ident.year if ident else None,
        format_id=ident.format_id if ident else "",
        xltool_version=ident.xltool_version if ident else "",
        included=included,
        reason=reason if not included else "",
        contact={f.key: r.cover.get(f.key, "") for f in r.fmt.cover.fields if f.contact} if r.format else {},
    )


def _mixed_formats(included: Sequence[ReturnRecord]) -> str:
    """Returns of two statutory formats cannot be added cell by cell: say which file is which."""
    groups: dict[str, list[ReturnRecord]] = {}
    for r in included:
        groups.setdefault(r.fmt.id, []).append(r)
    parts = []
    for records in sorted(groups.values(), key=lambda g: g[0].fmt.version):
        fmt = records[0].fmt
        names = "、".join(r.file for r in records[:3]) + (" 等" if len(records) > 3 else "")
        parts.append(f"{fmt.document}格式（{fmt.version} 年版）{len(records)} 份：{names}")
    return (
        "报表的格式不一致，不同格式的表格不能逐格相加，未生成汇总表。"
        + "；".join(parts)
        + "。请让各单位使用同一格式的模板重新填报，或按格式分开汇总。"
    )


def source_names(records: Iterable[ReturnRecord]) -> dict[str, str]:
    """How 来源 names each file: relative to the folder all inputs share, so the sheet does not
    depend on where the command was run (and never shows a temporary path)."""
    resolved = {r.file: Path(r.path).resolve() for r in records}
    if not resolved:
        return {}
    common = Path(os.path.commonpath([str(p.parent) for p in resolved.values()]))
    return {file: p.relative_to(common).as_posix() for file, p in resolved.items()}


def _digest(path: Path) -> tuple[int, str]:
    """Size and SHA-256 of a file the reader did not open (a named non-workbook)."""
    import hashlib

    try:
        data = path.read_bytes()
    except OSError:
        return 0, ""
    return len(data), hashlib.sha256(data).hexdigest()


def _check_output(out: Path) -> None:
    """Refuse an output that cannot be written before reading anything (a run may take minutes)."""
    if out.suffix.lower() != ".xlsx":
        raise UsageError(f"汇总表应保存为 .xlsx 文件：{out}")
    if out.is_dir():
        raise UsageError(f"输出位置是一个文件夹，请给出 .xlsx 文件名：{out}")
    folder = out.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise UsageError(f"无法保存到 {out}：{folder} 是文件，不是文件夹")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"无法保存到 {out}：没有写入文件夹 {folder} 的权限")


__all__ = [
    "Consolidation",
    "Source",
    "consolidate",
    "recompute_totals",
    "sum_values",
    "write_consolidated",
    "WARNING",
]
