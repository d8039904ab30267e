"""Validate a batch of returns: read every file, check the batch (roster, duplicates, year,
last year's figures), run the format's schema over one DataFrame, and report findings at cells.

Rule codes introduced here (the definition's rules are T*-*, the reader's F-*, L-*, V-*):

==============  ========  ==========================================================
R-MISSING       warning   a unit on the roster sent no return (file "")
R-UNKNOWN       error     a return from a unit not on the roster
R-NAME          warning   the unit name in a return differs from the roster's
R-DUPLICATE     error     two or more returns from one unit for one year (on each file)
Y-YEAR          error     a return for another year than the batch's (or --year)
Y-OLD-FORMAT    warning   a return in a format the definition marks as superseded after its last_year
X-NO-PREVIOUS   warning   no figures of last year for this unit: cross-year rules skipped
X-PREV-YEAR     warning   a --previous file is not of the year before; not used
X-PREV-FORMAT   warning   a --previous file uses another format; not used
X-PREV-UNREADABLE warning a --previous file cannot be read; not used
X-PREV-DUPLICATE  warning two --previous files for one unit; the first (by file name) is used
==============  ========  ==========================================================
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import cache, wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xltool.definition import Format, builtin_formats, parse_cell
from xltool.errors import UsageError
from xltool.model import ERROR, WARNING, Finding, Report, Unit, WorkbookResult, display_path
from xltool.reader import ReturnRecord, discover, read_return, record_finding

if TYPE_CHECKING:
    import pandas as pd

Progress = Callable[[int, int, str], Any]
"""progress(done, total, file) after each file is read."""


@dataclass
class Validation:
    """The outcome of a batch: the report, every record read, and what consolidation needs."""

    report: Report
    records: list[ReturnRecord]
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    """format id -> one row per readable record; the index is the record's position in ``records``."""
    statuses: dict[str, str] = field(default_factory=dict)
    """file -> "passed" | "warnings" | "errors"."""
    previous: dict[str, dict[str, int | None]] = field(default_factory=dict)
    """unit code -> last year's values, as used by the cross-year rules."""

    @property
    def valid(self) -> bool:
        return self.report.valid

    @property
    def valid_records(self) -> list[ReturnRecord]:
        """Readable records without error findings (duplicates included: they are errors)."""
        return [r for r in self.records if r.readable and self.statuses.get(r.file) != "errors"]

    @property
    def frame(self) -> pd.DataFrame:
        """The readable records of every format in one frame (one format in practice)."""
        import pandas as pd

        frames = [f for f in self.frames.values() if not f.empty]
        if not frames:
            return next(iter(self.frames.values()), pd.DataFrame())
        return pd.concat(frames) if len(frames) > 1 else frames[0]


# --------------------------------------------------------------------------- reading


def _read_one(args: tuple[Path, str]) -> ReturnRecord:
    return read_return(args[0], args[1])


def _read_in_worker(args: tuple[Path, str]) -> tuple[ReturnRecord, str | None, tuple | None]:
    """Read in a pool process. What travels back is kept small: the Format as its id, and the
    values, when keyed exactly by the format's cells, as a bare tuple (no 200 key strings per
    file to pickle, unpickle and keep)."""
    rec = read_return(args[0], args[1])
    fmt = rec.format
    if fmt is None:
        return rec, None, None
    rec.format = None
    if tuple(rec.values) != _cell_ids(fmt.id):
        return rec, fmt.id, None
    packed = tuple(rec.values.values())
    rec.values = {}
    return rec, fmt.id, packed


@cache
def _cell_ids(format_id: str) -> tuple[str, ...]:
    return tuple(builtin_formats()[format_id].cells)


def _unpack(rec: ReturnRecord, fmt_id: str | None, packed: tuple | None) -> ReturnRecord:
    if fmt_id is not None:
        rec.format = builtin_formats()[fmt_id]
    if packed is not None:
        rec.values = dict(zip(_cell_ids(fmt_id), packed, strict=True))
    return rec


def _gc_paused(fn: Callable) -> Callable:
    """Run ``fn`` with the cyclic garbage collector paused. A batch creates many long-lived objects
    (records, findings, frame columns) and the collector would rescan them again and again; the
    objects are freed by reference counting as usual, and any cycle once the collector resumes."""

    @wraps(fn)
    def paused(*args: Any, **kwargs: Any) -> Any:
        if not gc.isenabled():
            return fn(*args, **kwargs)
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            gc.enable()

    return paused


@_gc_paused
def read_all(paths: Sequence[Path], jobs: int = 1, progress: Progress | None = None) -> list[ReturnRecord]:
    """Read every file, in order; with jobs > 1 in a process pool (reading is the cost)."""
    work = [(p, display_path(p)) for p in paths]
    total = len(work)
    if jobs > 1 and total > 1:
        chunk = max(1, total // (jobs * 4))
        out = []
        with ProcessPoolExecutor(max_workers=min(jobs, total)) as pool:
            for done, packed in enumerate(pool.map(_read_in_worker, work, chunksize=chunk), start=1):
                rec = _unpack(*packed)
                out.append(rec)
                if progress:
                    progress(done, total, rec.file)
        return out
    out = []
    for done, item in enumerate(work, start=1):
        out.append(_read_one(item))
        if progress:
            progress(done, total, item[1])
    return out


# --------------------------------------------------------------------------- the batch


def validate_paths(
    paths: Sequence[str | Path],
    roster: list[Unit] | None = None,
    previous: Sequence[str | Path] | None = None,
    year: int | None = None,
    progress: Progress | None = None,
    jobs: int = 1,
) -> Validation:
    """Validate files and folders of returns; raises UsageError only when nothing can be read."""
    files, found = discover([Path(p) for p in paths])
    if not files:
        raise UsageError("没有找到可校验的工作簿（.xlsx、.xlsm、.xls、.ods）：" + "、".join(str(p) for p in paths))
    records = read_all(files, jobs=jobs, progress=progress)
    return validate_records(records, roster=roster, previous=previous, year=year, extra=found, jobs=jobs)


@_gc_paused
def validate_records(
    records: list[ReturnRecord],
    roster: list[Unit] | None = None,
    previous: Sequence[str | Path] | None = None,
    year: int | None = None,
    extra: Sequence[Finding] = (),
    jobs: int = 1,
) -> Validation:
    """Validate records already read (``extra``: findings from finding the files)."""
    from xltool.schema import add_previous, frame_from_records, schema_findings

    findings: list[Finding] = list(extra)
    for rec in records:
        findings.extend(rec.findings)
    readable = [r for r in records if r.readable and r.identity is not None and r.format is not None]
    batch_year = year if year is not None else _batch_year(readable)
    findings += year_findings(readable, batch_year, given=year is not None)
    findings += duplicate_findings(readable)
    roster_levels: dict[str, str] = {}
    if roster is not None:
        # a unit whose file cannot be used still sent one: not R-MISSING
        findings += roster_findings([r for r in records if r.identity is not None], roster, batch_year)
        roster_levels = {u.code: u.level for u in roster}

    prev_values: dict[str, dict[str, int | None]] = {}
    formats = {r.format.id: r.format for r in readable}
    if previous:
        prev_values, prev_findings = read_previous(previous, formats, batch_year, jobs=jobs)
        findings += prev_findings
        findings += no_previous_findings(readable, prev_values, batch_year)

    frames = {}
    for fmt in formats.values():
        df = frame_from_records(records, fmt)
        if roster_levels:
            df["unit_level"] = [
                roster_levels.get(c, lv) for c, lv in zip(df["unit_code"], df["unit_level"], strict=True)
            ]
        with_previous = bool(previous)
        if with_previous:
            df = add_previous(df, fmt, prev_values)
        findings += schema_findings(df, fmt, records, with_previous=with_previous)
        frames[fmt.id] = df

    findings = sort_findings(findings, records)
    report = Report(workbooks=workbook_results(records, findings), findings=findings)
    statuses = {w.file: w.status for w in report.workbooks}
    return Validation(report, records, frames, statuses, prev_values)


def _batch_year(records: Sequence[ReturnRecord]) -> int | None:
    """The year most returns are for (the latest on a tie)."""
    counts = Counter(r.identity.year for r in records)
    if not counts:
        return None
    return max(counts, key=lambda y: (counts[y], y))


def _file_finding(rec: ReturnRecord, rule: str, severity: str, message: str) -> Finding:
    return record_finding(rec, "", (), rule, severity, message)


def year_findings(records: Sequence[ReturnRecord], batch_year: int | None, given: bool) -> list[Finding]:
    out = []
    for rec in records:
        if batch_year is not None and rec.identity.year != batch_year:
            which = f"与指定的 {batch_year} 年度不符" if given else f"本批报表多数为 {batch_year} 年度"
            out.append(
                _file_finding(
                    rec, "Y-YEAR", ERROR, f"报表年度为 {rec.identity.year}，{which}；请确认是否报错了年度或用错了模板"
                )
            )
        fmt = rec.format
        if fmt.last_year is not None and rec.identity.year > fmt.last_year:
            out.append(
                _file_finding(
                    rec,
                    "Y-OLD-FORMAT",
                    WARNING,
                    f"{rec.identity.year} 年度的报表使用了 {fmt.document} 的表格，该格式只适用到 {fmt.last_year} 年度"
                    + (f"，已被 {fmt.superseded_by} 取代" if fmt.superseded_by else "")
                    + "；请使用新格式的模板重新填报",
                )
            )
    return out


def duplicate_findings(records: Sequence[ReturnRecord]) -> list[Finding]:
    """Two returns from one unit for one year: an error on each, naming all of them."""
    groups: dict[tuple[str, int], list[ReturnRecord]] = {}
    for rec in records:
        groups.setdefault((rec.identity.unit_code, rec.identity.year), []).append(rec)
    out = []
    for (code, yr), group in groups.items():
        if len(group) < 2:
            continue
        names = "、".join(sorted(r.file for r in group))
        same = "（内容完全相同）" if len({r.sha256 for r in group}) == 1 else ""
        for rec in group:
            out.append(
                _file_finding(
                    rec,
                    "R-DUPLICATE",
                    ERROR,
                    f"单位 {rec.identity.unit_name}（{code}）的 {yr} 年度报表有 {len(group)} 份{same}：{names}；只能保留一份",
                )
            )
    return out


def roster_findings(records: Sequence[ReturnRecord], roster: Sequence[Unit], batch_year: int | None) -> list[Finding]:
    by_code = {u.code: u for u in roster}
    out = []
    for rec in records:
        ident = rec.identity
        unit = by_code.get(ident.unit_code)
        if unit is None:
            out.append(
                _file_finding(
                    rec,
                    "R-UNKNOWN",
                    ERROR,
                    f"单位代码 {ident.unit_code}（{ident.unit_name}）不在报送单位名单中；请核实是否用错了模板",
                )
            )
        elif unit.name != ident.unit_name:
            out.append(
                _file_finding(
                    rec,
                    "R-NAME",
                    WARNING,
                    f"报表中的单位名称“{ident.unit_name}”与名单中的“{unit.name}”（代码 {unit.code}）不一致",
                )
            )
    sent = {r.identity.unit_code for r in records}
    when = f" {batch_year} 年度" if batch_year is not None else "本年度"
    for unit in roster:
        if unit.code not in sent:
            out.append(
                Finding(
                    file="",
                    unit_code=unit.code,
                    unit_name=unit.name,
                    sheet="",
                    cells=(),
                    rule="R-MISSING",
                    severity=WARNING,
                    message=f"名单中的单位 {unit.name}（{unit.code}）没有报送{when}报表",
                )
            )
    return out


# --------------------------------------------------------------------------- last year


def read_previous(
    paths: Sequence[str | Path],
    formats: dict[str, Format],
    batch_year: int | None,
    jobs: int = 1,
) -> tuple[dict[str, dict[str, int | None]], list[Finding]]:
    """Last year's values by unit code, from last year's returns or consolidated workbooks."""
    files, _found = discover([Path(p) for p in paths])
    records = sorted(read_all(files, jobs=jobs), key=lambda r: r.file)
    values: dict[str, dict[str, int | None]] = {}
    source: dict[str, str] = {}
    findings: list[Finding] = []
    want = batch_year - 1 if batch_year is not None else None
    for rec in records:
        if not (rec.readable and rec.identity and rec.format):
            reason = next((f.message for f in rec.findings if f.severity == ERROR), "无法识别")
            findings.append(_file_finding(rec, "X-PREV-UNREADABLE", WARNING, f"上年报表无法使用，已忽略：{reason}"))
            continue
        ident = rec.identity
        if want is not None and ident.year != want:
            findings.append(
                _file_finding(
                    rec, "X-PREV-YEAR", WARNING, f"上年报表的年度为 {ident.year}，应为 {want}；未用于跨年度校验"
                )
            )
            continue
        if rec.format.id not in formats:
            findings.append(
                _file_finding(
                    rec,
                    "X-PREV-FORMAT",
                    WARNING,
                    f"上年报表的格式（{rec.format.name} {rec.format.version}）与本年不同；未用于跨年度校验",
                )
            )
            continue
        if ident.unit_code in source:
            findings.append(
                _file_finding(
                    rec,
                    "X-PREV-DUPLICATE",
                    WARNING,
                    f"单位 {ident.unit_name}（{ident.unit_code}）有多份上年报表；已使用 {source[ident.unit_code]}",
                )
            )
            continue
        values[ident.unit_code] = dict(rec.values)
        source[ident.unit_code] = rec.file
    # a consolidated workbook also carries each unit's figures on its 明细 sheet
    for rec in records:
        ident = rec.identity
        if ident and ident.kind == "consolidated" and source.get(ident.unit_code) == rec.file:
            for code, unit_values in _detail(rec).items():
                if code not in source:
                    values[code] = dict(unit_values)
                    source[code] = rec.file
    return values, findings


def _detail(rec: ReturnRecord) -> dict[str, dict[str, int]]:
    """Per-unit figures of a consolidated workbook's 明细 sheet ({} when it has none)."""
    try:
        from xltool.consolidate import read_detail
    except ImportError:  # pragma: no cover - consolidate is part of the package
        return {}
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
        if rec.identity.unit_code in prev:
            continue
        codes = "、".join(r.code for r in rec.format.rules if r.cross_year)
        last = f" {batch_year - 1} 年度" if batch_year is not None else "上一年度"
        out.append(
            _file_finding(
                rec,
                "X-NO-PREVIOUS",
                WARNING,
                f"没有找到该单位{last}的报表，跨年度校验（{codes}）未做（提示）",
            )
        )
    return out


# --------------------------------------------------------------------------- results


def _position(cells: Sequence[str]) -> tuple[int, int]:
    if not cells:
        return (-1, -1)
    try:
        return parse_cell(cells[0].split(":")[0])
    except ValueError:
        return (1 << 30, 1 << 30)


def sort_findings(findings: Sequence[Finding], records: Sequence[ReturnRecord]) -> list[Finding]:
    """Deterministic order: by file (roster findings last), sheet in workbook order, row, column."""
    sheet_rank: dict[tuple[str, str], int] = {}
    for rec in records:
        for i, title in enumerate(rec.sheet_titles.values()):
            sheet_rank.setdefault((rec.file, title), i)

    def key(f: Finding) -> tuple:
        rank = -1 if not f.sheet else sheet_rank.get((f.file, f.sheet), 1 << 20)
        return (f.file == "", f.file, rank, f.sheet, _position(f.cells), f.rule, f.unit_code, f.message)

    return sorted(findings, key=key)


def workbook_results(records: Sequence[ReturnRecord], findings: Sequence[Finding]) -> list[WorkbookResult]:
    """One result per input file (and per file that was found but not read)."""
    errors: Counter[str] = Counter()
    warnings: Counter[str] = Counter()
    for f in findings:
        (errors if f.severity == ERROR else warnings)[f.file] += 1
    out = []
    seen = set()
    for rec in records:
        ident = rec.identity
        seen.add(rec.file)
        out.append(_result(rec.file, errors[rec.file], warnings[rec.file], ident))
    input_files = {f.file for f in findings if f.file and f.file not in seen and not f.rule.startswith("X-PREV")}
    for file in sorted(input_files):
        out.append(_result(file, errors[file], warnings[file], None))
    return out


def _result(file: str, n_errors: int, n_warnings: int, ident: Any) -> WorkbookResult:
    status = "errors" if n_errors else "warnings" if n_warnings else "passed"
    return WorkbookResult(
        file=file,
        unit_code=ident.unit_code if ident else "",
        unit_name=ident.unit_name if ident else "",
        status=status,
        unit_level=ident.unit_level if ident else "",
        year=ident.year if ident else None,
        kind=ident.kind if ident else "",
        errors=n_errors,
        warnings=n_warnings,
    )
