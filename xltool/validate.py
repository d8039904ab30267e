"""Validate a batch of returns: read every file, check the batch (roster, duplicates, year,
last year's figures), check the format's rules, and report findings at cells.

The rules are checked in one numpy product (rulecheck); only a batch with a missing value or a
failing rule is given to the format's pandera schema over one DataFrame, which says what failed
where. A clean batch never imports pandas.

What each finding code means, its severity and its wording are in ``xltool.catalogue`` (``xltool rules``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xltool.definition import Format, known_formats, parse_cell
from xltool.errors import UsageError
from xltool.findings import Finding
from xltool.model import DOCUMENT, ERROR, Identity, Report, ReturnRecord, Unit, WorkbookResult, display_path
from xltool.previous import by_name, carried_findings, carried_previous, no_previous_findings, read_previous, said_once
from xltool.read.batch import Progress, gc_paused, read_all
from xltool.read.discover import discover, read_kinds
from xltool.read.from_document import ReadOptions
from xltool.read.identify import NameIndex, name_key, resembling
from xltool.roster import assign_units, unit_key, units_by_file_name
from xltool.rules.narrative import narrative_findings
from xltool.rules.rulecheck import batch_matrix, compiled_rules, format_rows, passes
from xltool.text import normalize_label

if TYPE_CHECKING:
    import pandas as pd


class Frames(Mapping[str, "pd.DataFrame"]):
    """format id -> frame, a frame the checks did not need built on first access: a clean batch is
    checked without pandas, and only a caller that asks for its frames pays for them."""

    def __init__(self) -> None:
        self._frames: dict[str, pd.DataFrame | None] = {}
        self._builders: dict[str, Callable[[], pd.DataFrame]] = {}

    def add(self, key: str, build: Callable[[], pd.DataFrame], frame: pd.DataFrame | None = None) -> None:
        """How the frame is built, and the frame when it already is."""
        self._frames[key] = frame
        if frame is None:
            self._builders[key] = build

    def __getitem__(self, key: str) -> pd.DataFrame:
        frame = self._frames[key]
        if frame is None:
            frame = self._frames[key] = self._builders.pop(key)()
        return frame

    def __iter__(self) -> Iterator[str]:
        return iter(self._frames)

    def __len__(self) -> int:
        return len(self._frames)


@dataclass
class Validation:
    """The outcome of a batch: the report, every record read, and what consolidation needs."""

    report: Report
    records: list[ReturnRecord]
    frames: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    """format id -> one row per readable record; the index is the record's position in ``records``
    (``validate_records`` gives ``Frames``: built from the records on first access)."""
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


# --------------------------------------------------------------------------- the batch


def validate_paths(
    paths: Sequence[str | Path],
    roster: list[Unit] | None = None,
    previous: Sequence[str | Path] | None = None,
    year: int | None = None,
    progress: Progress | None = None,
    jobs: int = 1,
    formats: Iterable[Format] = (),
    options: ReadOptions | None = None,
    *,
    name: Callable[[Path], str] | None = None,
) -> Validation:
    """Validate files and folders of returns; raises UsageError only when nothing can be read.

    ``formats``: definitions loaded from files (``load_format``) whose templates the returns may be
    drawn from, besides the builtin ones. ``options``: how documents are read (blanks as errors; the
    unit and year of a single file whose title does not say them). ``name``: how each file (and
    each path given) is named in findings, messages and progress, e.g. relative to a folder the
    user knows rather than where it was copied to; by default as given (``display_path``)."""
    named = name or display_path
    files, found = discover([Path(p) for p in paths], name=named)
    if not files and not found:
        given = (str(p) if name is None else name(Path(p)) for p in paths)
        raise UsageError(f"没有找到可校验的报表（可读取的类型：{read_kinds()}）：" + "、".join(given))
    records = read_all(files, jobs=jobs, progress=progress, formats=known_formats(formats), options=options, name=named)
    return validate_records(
        records, roster=roster, previous=previous, year=year, extra=found, jobs=jobs, options=options
    )


def as_validation(
    source: Validation | Sequence[str | Path],
    roster: Sequence[Unit] | None = None,
    year: int | None = None,
    options: ReadOptions | None = None,
    jobs: int = 1,
    formats: Iterable[Format] = (),
) -> Validation:
    """What a step that writes (publish, import) works on: a Validation as given (nothing is read
    again), or the files and folders ``source`` names validated as ``validate_paths`` does."""
    if isinstance(source, Validation):
        return source
    units = list(roster) if roster else None
    return validate_paths(list(source), roster=units, year=year, options=options, jobs=jobs, formats=formats)


@gc_paused
def validate_records(
    records: list[ReturnRecord],
    roster: list[Unit] | None = None,
    previous: Sequence[str | Path] | None = None,
    year: int | None = None,
    extra: Sequence[Finding] = (),
    jobs: int = 1,
    options: ReadOptions | None = None,
    consolidating: Unit | None = None,
) -> Validation:
    """Validate records already read (``extra``: findings from finding the files).

    ``consolidating``: the unit the batch is consolidated for, when it is; a return of that unit
    itself or of a unit not below it is R-SELF (never added into its own total).

    A format whose rows have every value (and every figure of last year a rule reads) and pass the
    compiled rules cannot have a schema finding: it is not given to pandas and pandera at all."""
    if roster is not None:
        assign_units(records, roster)  # documents name their unit; the roster gives its code
    findings: list[Finding] = list(extra)
    for rec in records:
        findings.extend(rec.findings)
    readable = [r for r in records if r.readable and r.identity is not None and r.format is not None]
    batch_year = year if year is not None else _batch_year(readable)
    findings += year_findings(readable, batch_year, given=year is not None)
    findings += duplicate_findings(readable)
    findings += [f for r in readable for f in narrative_findings(r)]  # a document's text against its tables
    identified = [r for r in records if r.identity is not None]
    own = set()
    if consolidating is not None:
        selves = self_findings(identified, consolidating)
        findings += selves
        own = {f.file for f in selves}
    roster_levels: dict[str, str] = {}
    unread: dict[str, Unit] = {}
    if roster is not None:
        # a unit whose file cannot be used still sent one: not R-MISSING. A file not read at all is
        # the unit's its name names (教育局统计表.doc), so that unit is 已报送，无法读取; the consolidating
        # unit's own report is R-SELF, not a unit missing from the roster
        unread = units_by_file_name(_unidentified_files(records, findings), roster)
        findings = [_of_unit(f, unread[f.file]) if f.file in unread and not f.unit_code else f for f in findings]
        findings += roster_findings(
            [r for r in identified if r.file not in own],
            roster,
            batch_year,
            sent={u.code for u in unread.values()},
            own=consolidating,
        )
        roster_levels = {u.code: u.level for u in roster}

    prev_values: dict[str, dict[str, int | None]] = {}
    formats = {r.fmt.id: r.fmt for r in readable}
    # a template made with last year's figures carries them: they serve where no file of last year does
    carried: dict[str, dict[str, int | None]] = {unit_key(r.ident): v for r in readable if (v := carried_previous(r))}
    findings += [f for r in readable for f in carried_findings(r)]
    if previous:
        prev_values, prev_findings, prev_names = read_previous(
            previous, formats, batch_year, jobs=jobs, options=options, roster=roster
        )
        findings += prev_findings
        if len(readable) == 1 and len(prev_values) == 1:
            # one file checked against one file of last year: the same unit, whatever each calls itself
            prev_values, same = one_to_one(readable[0], prev_values, prev_names)
            findings += same
        prev_values = by_name(readable, {**carried, **prev_values}, prev_names)
        findings += no_previous_findings(readable, prev_values, batch_year)
    else:
        prev_values = carried

    frames = Frames()
    with_previous = bool(previous) or bool(carried)
    for fmt in formats.values():
        build = _frame_builder(records, fmt, roster_levels, prev_values if with_previous else None)
        if _passes(records, fmt, roster_levels, prev_values if with_previous else None):
            frames.add(fmt.id, build)
            continue
        from xltool.rules.schema import schema_findings

        df = build()
        findings += schema_findings(df, fmt, records, with_previous=with_previous)
        frames.add(fmt.id, build, df)

    findings = sort_findings(said_once(findings, formats.values()), records)
    report = Report(workbooks=workbook_results(records, findings, unread), findings=findings)
    statuses = {w.file: w.status for w in report.workbooks}
    return Validation(report, records, frames, statuses, prev_values)


def _passes(
    records: Sequence[ReturnRecord],
    fmt: Format,
    roster_levels: Mapping[str, str],
    prev_values: Mapping[str, Mapping[str, int | None]] | None,
) -> bool:
    """The format's rows have every value the rules read, and every rule holds (rulecheck)."""
    rules = compiled_rules(fmt, prev_values is not None)
    rows = [rec for _, rec in format_rows(records, fmt)]
    idents = [rec.ident for rec in rows]
    last = [prev_values.get(unit_key(i)) for i in idents] if prev_values is not None else []
    batch = batch_matrix(rules, [rec.values for rec in rows], last)
    if batch is None:
        return False
    return passes(rules, batch, [roster_levels.get(i.unit_code, i.unit_level) for i in idents])


def _frame_builder(
    records: Sequence[ReturnRecord],
    fmt: Format,
    roster_levels: Mapping[str, str],
    prev_values: dict[str, dict[str, int | None]] | None,
) -> Callable[[], pd.DataFrame]:
    """How the format's frame is built (units' levels from the roster; last year's values when given)."""

    def build() -> pd.DataFrame:
        from xltool.rules.schema import add_previous, frame_from_records

        df = frame_from_records(records, fmt)
        if roster_levels:
            df["unit_level"] = [
                roster_levels.get(c, lv) for c, lv in zip(df["unit_code"], df["unit_level"], strict=True)
            ]
        if prev_values is not None:
            df = add_previous(df, fmt, prev_values, [unit_key(records[i].ident) for i in df.index])
        return df

    return build


def one_to_one(
    rec: ReturnRecord, prev_values: dict[str, dict[str, int | None]], prev_names: dict[str, str]
) -> tuple[dict[str, dict[str, int | None]], list[Finding]]:
    """Last year's only unit taken as this file's unit; a warning when the two names differ."""
    ((key, values),) = prev_values.items()
    name = prev_names.get(key, "")
    out: list[Finding] = []
    if name and normalize_label(name) != normalize_label(rec.ident.unit_name):
        out.append(_file_finding(rec, "X-NAME", previous_name=name, unit_name=rec.ident.unit_name))
    return {unit_key(rec.ident): values}, out


def _batch_year(records: Sequence[ReturnRecord]) -> int | None:
    """The year most returns are for (the latest on a tie)."""
    counts = Counter(r.ident.year for r in records)
    if not counts:
        return None
    return max(counts, key=lambda y: (counts[y], y))


def _file_finding(rec: ReturnRecord, rule: str, **fields: Any) -> Finding:
    """A finding about a whole return, severity and wording from the catalogue."""
    return Finding.for_file(rec.file, rule, identity=rec.identity, **fields)


def year_findings(records: Sequence[ReturnRecord], batch_year: int | None, given: bool) -> list[Finding]:
    out = []
    for rec in records:
        if batch_year is not None and rec.ident.year != batch_year:
            which = f"与指定的 {batch_year} 年度不符" if given else f"本批报表多数为 {batch_year} 年度"
            out.append(_file_finding(rec, "Y-YEAR", year=rec.ident.year, which=which))
        fmt = rec.fmt
        if fmt.last_year is not None and rec.ident.year > fmt.last_year:
            out.append(
                _file_finding(
                    rec,
                    "Y-OLD-FORMAT",
                    year=rec.ident.year,
                    document=fmt.document,
                    last_year=fmt.last_year,
                    superseded=f"，已被 {fmt.superseded_by} 取代" if fmt.superseded_by else "",
                )
            )
    return out


def duplicate_groups(records: Sequence[ReturnRecord]) -> dict[tuple[str, int], list[ReturnRecord]]:
    """Records of one unit for one year, by (``unit_key``, year), where there is more than one."""
    groups: dict[tuple[str, int], list[ReturnRecord]] = {}
    for rec in records:
        if rec.identity is not None:
            groups.setdefault((unit_key(rec.ident), rec.ident.year), []).append(rec)
    return {key: group for key, group in groups.items() if len(group) > 1}


def duplicate_findings(records: Sequence[ReturnRecord]) -> list[Finding]:
    """Two returns from one unit for one year: an error on each, naming all of them."""
    out = []
    for (code, yr), group in duplicate_groups(records).items():
        names = "、".join(sorted(r.file for r in group))
        same = "（内容完全相同）" if len({r.sha256 for r in group}) == 1 else ""
        for rec in group:
            out.append(
                _file_finding(
                    rec,
                    "R-DUPLICATE",
                    unit_name=rec.ident.unit_name,
                    unit_code=code,
                    year=yr,
                    count=len(group),
                    same=same,
                    files=names,
                )
            )
    return out


def _unidentified_files(records: Sequence[ReturnRecord], findings: Sequence[Finding]) -> list[str]:
    """The files of no known unit: records without an identity, and files found but not read."""
    known = {r.file for r in records if r.identity is not None}
    out = [r.file for r in records if r.identity is None]
    out += [f.file for f in findings if f.file and f.file not in known and not f.rule.startswith("X-PREV")]
    return list(dict.fromkeys(out))


def _of_unit(f: Finding, unit: Unit) -> Finding:
    return replace(f, unit_code=unit.code, unit_name=unit.name)


def roster_findings(
    records: Sequence[ReturnRecord],
    roster: Sequence[Unit],
    batch_year: int | None,
    sent: Iterable[str] = (),
    own: Unit | None = None,
) -> list[Finding]:
    """R-UNKNOWN (a unit not in the roster: a code it does not list, a document's name that is no
    unit's name or alias), R-NAME (the roster's unit printed under another name), R-MISSING (a unit
    that sent nothing; ``sent``: codes of units that sent a file that could not be read; never ``own``,
    the unit the batch is consolidated for)."""
    by_code = {u.code: u for u in roster}
    index = NameIndex(roster)
    out = []
    for rec in records:
        ident = rec.ident
        unit = by_code.get(ident.unit_code)
        if unit is None:
            out.append(_file_finding(rec, "R-UNKNOWN", **_unknown(ident, roster, index)))
        elif unit not in index.named(ident.unit_name):
            out.append(
                _file_finding(rec, "R-NAME", unit_name=ident.unit_name, roster_name=unit.name, unit_code=unit.code)
            )
    sent = {r.ident.unit_code for r in records} | set(sent)
    when = f" {batch_year} 年度" if batch_year is not None else "本年度"
    for unit in roster:
        if unit.code not in sent and (own is None or unit.code != own.code):
            out.append(
                Finding.for_file("", "R-MISSING", unit=unit, unit_name=unit.name, unit_code=unit.code, when=when)
            )
    return out


_ALIAS_FIX = "如是同一单位，请在名单中该单位的别名（aliases）列写上“{name}”"


def _unknown(ident: Identity, roster: Sequence[Unit], index: NameIndex) -> dict[str, str]:
    """R-UNKNOWN's fields: which unit, why no roster unit is it (a document's name: the units of that
    name, or the one it resembles, named beside it), and the fix."""
    name = ident.unit_name
    if ident.unit_code or ident.kind != DOCUMENT:
        return {
            "who": f"单位代码 {ident.unit_code}（{name}）",
            "detail": "",
            "fix": "请核实是否用错了模板或单位代码，或把该单位加入名单",
        }
    unit = f"文档中的单位“{name}”（文档没有单位代码，按名称认定）"
    same = index.named(name)
    if len(same) > 1:
        listed = "、".join(f"{u.name}（{u.code}）" for u in same)
        return {
            "who": unit,
            "detail": f"：名单中有 {len(same)} 个单位的名称或别名都是这个名称（{listed}），无法确定是哪一个",
            "fix": "请只校验这一个文件并用 --unit-code 指明单位代码，或修改名单中的名称或别名使之不再相同",
        }
    near = resembling(name, roster)
    if near is not None:
        return {
            "who": unit,
            "detail": f"：名单中没有名称或别名与之相同的单位；名单中的“{near.name}”（{near.code}）名称不同，不认作同一单位",
            "fix": _ALIAS_FIX.format(name=name) + f"，或只校验这一个文件时用 --unit-code {near.code} 指明",
        }
    return {
        "who": unit,
        "detail": "：名单中没有名称或别名与之相同的单位",
        "fix": "如是名单中的单位，请在名单中该单位的别名（aliases）列写上"
        f"“{name}”，或只校验这一个文件时用 --unit-code 指明单位代码；如不是，请把该单位加入名单",
    }


LEVEL_RANK = {"乡镇": 0, "街道": 0, "部门": 0, "县": 1, "区": 1, "县级市": 1, "市": 2, "省": 3}
"""How high a level stands: a unit consolidates returns of units below its own (县: 乡镇, 街道, 部门;
市: 县, 区, 部门). Two areas of one level (two counties) are never one inside the other."""


def self_relation(ident: Identity, unit: Unit) -> str:
    """How a return stands to the unit it would be consolidated into, when it may not be: "" for a
    unit below it; else what it is (the unit itself, by code or by name, or a unit of its level or above)."""
    if ident.unit_code and ident.unit_code == unit.code:
        return f"本级单位{unit.name}本身"
    if ident.unit_name and name_key(ident.unit_name) == name_key(unit.name):
        return f"本级单位{unit.name}本身"
    level = ident.unit_level
    mine, theirs = LEVEL_RANK.get(unit.level), LEVEL_RANK.get(level)
    if mine is None or theirs is None:
        return ""
    if theirs > mine:
        return f"上级单位（{level}）"
    if theirs == mine and mine > 0:
        return f"与本级同级的单位（{level}）"
    return ""


def self_findings(records: Sequence[ReturnRecord], unit: Unit) -> list[Finding]:
    """R-SELF on each return that is ``unit``'s own or of a unit not below it: never in its total."""
    out = []
    for rec in records:
        relation = self_relation(rec.ident, unit)
        if not relation:
            continue
        ident = rec.ident
        if ident.unit_code:
            who = f"单位 {ident.unit_name}（{ident.unit_code}" + (
                f"，{ident.unit_level}）" if ident.unit_level else "）"
            )
        else:
            who = f"文档中的单位“{ident.unit_name}”"
        out.append(_file_finding(rec, "R-SELF", who=who, relation=relation, self_name=unit.name, self_code=unit.code))
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

    def key(f: Finding) -> tuple[bool, str, int, str, tuple[int, int], str, str, str]:
        rank = -1 if not f.sheet else sheet_rank.get((f.file, f.sheet), 1 << 20)
        return (f.file == "", f.file, rank, f.sheet, _position(f.cells), f.rule, f.unit_code, f.message)

    return sorted(findings, key=key)


def workbook_results(
    records: Sequence[ReturnRecord], findings: Sequence[Finding], units: Mapping[str, Unit] | None = None
) -> list[WorkbookResult]:
    """One result per input file (and per file that was found but not read); ``units``: the roster's
    unit of a file not read, by the file's name."""
    errors: Counter[str] = Counter()
    warnings: Counter[str] = Counter()
    for f in findings:
        (errors if f.severity == ERROR else warnings)[f.file] += 1
    out = []
    seen = set()
    units = units or {}
    for rec in records:
        seen.add(rec.file)
        out.append(
            _result(rec.file, errors[rec.file], warnings[rec.file], rec.identity, units.get(rec.file), rec.readable)
        )
    input_files = {f.file for f in findings if f.file and f.file not in seen and not f.rule.startswith("X-PREV")}
    for file in sorted(input_files):
        out.append(_result(file, errors[file], warnings[file], None, units.get(file), False))
    return out


def _result(file: str, n_errors: int, n_warnings: int, ident: Any, unit: Unit | None, read: bool) -> WorkbookResult:
    status = "errors" if n_errors else "warnings" if n_warnings else "passed"
    return WorkbookResult(
        file=file,
        unit_code=ident.unit_code if ident else unit.code if unit else "",
        unit_name=ident.unit_name if ident else unit.name if unit else "",
        status=status,
        unit_level=ident.unit_level if ident else unit.level if unit else "",
        year=ident.year if ident else None,
        kind=ident.kind if ident else "",
        errors=n_errors,
        warnings=n_warnings,
        read=read,
    )
