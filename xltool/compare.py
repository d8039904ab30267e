"""This year beside last year (``xltool compare LAST THIS``): every statutory cell of each unit with its
change, the cross-year rules (T3-R5, T2-W2) checked as validation checks them, large changes flagged,
and the sentences of the report's text added or removed.

Both sides are read by the same pipeline as ``validate`` (any kind of return). One file a side is one
unit whatever each calls itself; folders are paired by unit (code, else the name as ``name_key`` reads
it; a roster gives documents their codes). A consolidated workbook also brings the units of its 明细
sheet. Every file is accounted for: paired, of a unit only one side has, or skipped with its reason.

A large change (``X-LARGE-CHANGE``): both years non-zero and one more than ``factor`` times the other,
or one year 0 and the other at least ``LARGE_FROM_ZERO`` (20; 万元 for amounts). Both directions:
a figure that fell to 0 is as likely a mistyped one (a 总计 printed 0) as one that grew from it.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from xltool.definition import AMOUNT, Format
from xltool.errors import UsageError
from xltool.findings import ERROR, Finding
from xltool.model import CONSOLIDATED, NarrativePart, ReturnRecord, Unit
from xltool.read.identify import name_key
from xltool.text import short_sheet, split_sentences
from xltool.values import AMOUNT_SCALE, show_value

DEFAULT_FACTOR = 3.0
LARGE_FROM_ZERO = 20
"""A figure going from 0 to at least this (or from at least this to 0) is flagged whatever the factor."""
SCHEMA_VERSION = 1
"""``Comparison.to_json()``'s ``schema``: raised when a key is renamed or removed."""
LAST, THIS = "上年", "本年"


@dataclass(frozen=True)
class CellChange:
    """One statutory cell of one unit, last year and this year (None: not read on that side)."""

    cell: str
    table: str  # 表二, 表三, 表四
    row_label: str
    col_label: str
    kind: str
    last: int | None
    this: int | None
    large: bool = False

    @property
    def change(self) -> int | None:
        return None if self.last is None or self.this is None else self.this - self.last

    def shown(self, value: int | None) -> str:
        """A value as the tables print it: amounts in 万元; "—" when not read."""
        return "—" if value is None else show_value(value, self.kind)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["change"] = self.change
        if self.kind == AMOUNT:  # JSON carries 万元, as printed, never the library's scaled integers
            for k in ("last", "this", "change"):
                d[k] = None if d[k] is None else d[k] / AMOUNT_SCALE
        return d


@dataclass(frozen=True)
class RuleResult:
    """One instance of a cross-year rule (T3-R5 自然人列, T2-W2 规章行): held, broken, or not checkable."""

    code: str
    check: str  # the instance's name, e.g. "T3-R5.natural"
    scope: str
    severity: str
    holds: bool | None  # None: a figure it needs was not read on one side
    message: str = ""  # the finding's message when broken

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TextChange:
    """The sentences of one part of the report (一 … 六, matched by number) added and removed."""

    number: int
    heading: str
    added: tuple[str, ...]
    removed: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "heading": self.heading,
            "added": list(self.added),
            "removed": list(self.removed),
        }


@dataclass
class UnitComparison:
    """One unit's two years."""

    unit_code: str
    unit_name: str
    last_file: str
    this_file: str
    last_year: int
    this_year: int
    cells: list[CellChange] = field(default_factory=list)
    rules: list[RuleResult] = field(default_factory=list)
    text: list[TextChange] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    fmt: Format | None = field(default=None, repr=False)
    """This year's format: how the cells are laid out (not in the JSON, which names cells by id)."""

    @property
    def changed(self) -> list[CellChange]:
        return [c for c in self.cells if c.change]

    @property
    def large(self) -> list[CellChange]:
        return [c for c in self.cells if c.large]

    def to_dict(self) -> dict[str, Any]:
        return {
            "unit_code": self.unit_code,
            "unit_name": self.unit_name,
            "last_file": self.last_file,
            "this_file": self.this_file,
            "last_year": self.last_year,
            "this_year": self.this_year,
            "cells": [c.to_dict() for c in self.cells],
            "rules": [r.to_dict() for r in self.rules],
            "text": [t.to_dict() for t in self.text],
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class Unpaired:
    """A unit only one side has, or a file not used (``reason``)."""

    side: str  # LAST or THIS
    file: str
    unit_code: str = ""
    unit_name: str = ""
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Comparison:
    """The outcome of ``compare``: each paired unit, the units of one side only, the files not used."""

    factor: float
    units: list[UnitComparison] = field(default_factory=list)
    only_last: list[Unpaired] = field(default_factory=list)
    only_this: list[Unpaired] = field(default_factory=list)
    skipped: list[Unpaired] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    """Every finding: the units' (large changes, broken cross-year rules), then the files'."""

    @property
    def unreadable(self) -> list[Unpaired]:
        """The files that could not be read (not those left out because their unit was already used)."""
        return [u for u in self.skipped if not u.unit_code and not u.unit_name]

    @property
    def format(self) -> Format:
        """The format the comparison is laid out in: this year's, of the first unit compared."""
        from xltool.definition import get_format

        return next((u.fmt for u in self.units if u.fmt is not None), None) or get_format()

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "factor": self.factor,
            "large_from_zero": LARGE_FROM_ZERO,
            "units": [u.to_dict() for u in self.units],
            "only_last": [u.to_dict() for u in self.only_last],
            "only_this": [u.to_dict() for u in self.only_this],
            "skipped": [u.to_dict() for u in self.skipped],
            "findings": [f.to_dict() for f in self.findings],
        }

    def to_json(self) -> str:
        import json

        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)


# --------------------------------------------------------------------------- the comparison


def compare_paths(
    last: Sequence[str | Path],
    this: Sequence[str | Path],
    factor: float = DEFAULT_FACTOR,
    roster: list[Unit] | None = None,
    jobs: int = 1,
    *,
    name: Callable[[Path], str] | None = None,
) -> Comparison:
    """Read last year's and this year's returns (files or folders) and compare them unit by unit.
    Raises UsageError only when a side names nothing to read. ``name``: how files are named (as
    ``validate_paths`` names them)."""
    from xltool.validate import validate_paths

    if factor <= 1:
        raise UsageError(f"--factor 应大于 1：{factor}")
    sides = []
    for paths in (last, this):
        sides.append(validate_paths(list(paths), roster=roster, jobs=jobs, name=name).records)
    return compare_records(sides[0], sides[1], factor=factor, one_to_one=_single_files(last, this))


def _single_files(last: Sequence[str | Path], this: Sequence[str | Path]) -> bool:
    return len(last) == 1 and len(this) == 1 and Path(last[0]).is_file() and Path(this[0]).is_file()


@dataclass
class _Entry:
    """One unit of one side: its figures and the record (and file) they came from."""

    rec: ReturnRecord
    values: Mapping[str, int | None]
    code: str
    name: str


def compare_records(
    last: Sequence[ReturnRecord],
    this: Sequence[ReturnRecord],
    factor: float = DEFAULT_FACTOR,
    one_to_one: bool = False,
) -> Comparison:
    """Compare records already read. ``one_to_one``: one record a side is one unit, whatever each
    calls itself (a report renamed 洪泽区人民政府 → 淮安市洪泽区人民政府 between two years)."""
    out = Comparison(factor)
    last_units = _side(last, LAST, out.skipped)
    this_units = _side(this, THIS, out.skipped)
    if one_to_one and len(last_units) == 1 and len(this_units) == 1:
        pairs = [(next(iter(last_units.values())), next(iter(this_units.values())))]
    else:
        pairs = [(last_units[k], this_units[k]) for k in this_units if k in last_units]
        out.only_last = [_unpaired(e, LAST) for k, e in last_units.items() if k not in this_units]
        out.only_this = [_unpaired(e, THIS) for k, e in this_units.items() if k not in last_units]
    out.units = [compare_unit(a, b, factor) for a, b in pairs]
    out.findings = _all_findings(out)
    return out


def _all_findings(c: Comparison) -> list[Finding]:
    """The units' findings, then one for each unit of one year only and each file not used."""
    out = [f for u in c.units for f in u.findings]
    out += [_unpaired_finding(u, "X-ONLY-LAST") for u in c.only_last]
    out += [_unpaired_finding(u, "X-ONLY-THIS") for u in c.only_this]
    out += [Finding.for_file(u.file, "X-COMPARE-SKIPPED", side=u.side, name=u.file, reason=u.reason) for u in c.skipped]
    return out


def _side(records: Sequence[ReturnRecord], side: str, skipped: list[Unpaired]) -> dict[str, _Entry]:
    """A side's units by key (``unit_pair_key``); files not usable go to ``skipped`` with the reason."""
    units: dict[str, _Entry] = {}
    for rec in sorted(records, key=lambda r: r.file):
        if not rec.readable:
            reason = next((f.message for f in rec.findings if f.severity == ERROR), "无法识别为统计表")
            skipped.append(Unpaired(side, rec.file, reason=reason))
            continue
        ident = rec.ident
        entries = [_Entry(rec, rec.values, ident.unit_code, ident.unit_name)]
        if ident.kind == CONSOLIDATED:
            entries += _detail_entries(rec)
        for entry in entries:
            key = unit_pair_key(entry.code, entry.name)
            if key in units:
                if entry.rec is not units[key].rec:
                    used = units[key].rec.file
                    skipped.append(Unpaired(side, rec.file, entry.code, entry.name, f"同一单位已使用 {used}"))
                continue
            units[key] = entry
    return units


def _detail_entries(rec: ReturnRecord) -> list[_Entry]:
    """The units of a consolidated workbook's 明细 sheet ([] without one, or a damaged one)."""
    from xltool.read.detail import detail_units, read_detail

    try:
        values, names = read_detail(rec.path, rec.fmt), detail_units(rec.path)
    except Exception:  # a damaged 明细 sheet loses only the units it would have brought
        return []
    return [_Entry(rec, v, code, names.get(code, "")) for code, v in values.items()]


def unit_pair_key(code: str, name: str) -> str:
    """How the two years' units are paired: the code, else the name as ``name_key`` compares names."""
    return code or f"名称:{name_key(name)}"


def _unpaired(entry: _Entry, side: str) -> Unpaired:
    return Unpaired(side, entry.rec.file, entry.code, entry.name)


def _unpaired_finding(u: Unpaired, code: str) -> Finding:
    who = f"{u.unit_name}（{u.unit_code}）" if u.unit_code else u.unit_name
    return Finding.for_file(u.file, code, unit=Unit(u.unit_code, u.unit_name, ""), who=who, file=u.file)


# --------------------------------------------------------------------------- one unit


def compare_unit(last: _Entry, this: _Entry, factor: float = DEFAULT_FACTOR) -> UnitComparison:
    """One unit's cells side by side (this year's format; a cell last year's format lacks is "—"),
    its cross-year rules, its large changes and its text."""
    rec, fmt = this.rec, this.rec.fmt
    out = UnitComparison(
        unit_code=this.code or last.code,
        unit_name=this.name or last.name,
        last_file=last.rec.file,
        this_file=rec.file,
        last_year=last.rec.ident.year,
        this_year=rec.ident.year,
        fmt=fmt,
    )
    for cid, cell in fmt.cells.items():
        old, new = last.values.get(cid), this.values.get(cid)
        large = old is not None and new is not None and is_large(old, new, factor, cell.kind)
        table = short_sheet(fmt.table(cell.table).sheet)
        out.cells.append(CellChange(cid, table, cell.row_label, cell.col_label, cell.kind, old, new, large))
    if out.this_year != out.last_year + 1:
        out.findings.append(
            Finding.for_file(
                rec.file,
                "X-COMPARE-YEAR",
                identity=rec.identity,
                last_file=last.rec.file,
                last_year=out.last_year,
                this_year=out.this_year,
            )
        )
    out.rules, broken = cross_year_rules(fmt, rec, this.values, last.values)
    out.findings += broken
    out.findings += [_large_finding(rec, fmt, c, factor) for c in out.large]
    out.text = text_changes(last.rec.narrative, rec.narrative)
    return out


def is_large(last: int, this: int, factor: float, kind: str = "") -> bool:
    """Whether a change is large: both non-zero and one more than ``factor`` times the other, or one 0
    and the other at least ``LARGE_FROM_ZERO`` (万元 for an amount)."""
    a, b = abs(last), abs(this)
    if a and b:
        return b > factor * a or a > factor * b
    floor = LARGE_FROM_ZERO * (AMOUNT_SCALE if kind == AMOUNT else 1)
    return max(a, b) >= floor


def _large_finding(rec: ReturnRecord, fmt: Format, c: CellChange, factor: float) -> Finding:
    """X-LARGE-CHANGE at the cell of this year's return (where a document printed it)."""
    assert c.last is not None and c.this is not None  # only a cell read on both sides is large
    if c.last and c.this:
        grew = abs(c.this) > abs(c.last)
        ratio = abs(c.this / c.last) if grew else abs(c.last / c.this)
        times = f"{ratio:.1f}".removesuffix(".0")
        how = f"是上年的 {times} 倍" if grew else f"只有上年的 1/{times}"
    else:
        how = "上年为 0" if not c.last else "本年为 0"
    cell = fmt.cells[c.cell]
    sheet, where = rec.sheet_titles.get(cell.table, cell.sheet), ""
    cells: tuple[str, ...] = (cell.address,)
    if rec.positions:  # a document: where it printed the figure, not the template's cell
        pos = rec.positions.get(c.cell)
        sheet = pos.sheet if pos else ""
        cells = (pos.ref,) if pos and pos.ref and pos.sheet else ()
        where = pos.where if pos else ""
    return Finding.at_cells(
        rec,
        "X-LARGE-CHANGE",
        sheet=sheet,
        cells=cells,
        fields={
            "table": c.table,
            "label": f"{c.row_label}／{c.col_label}",
            "last": c.shown(c.last),
            "this": c.shown(c.this),
            "how": how,
        },
        row_label=c.row_label,
        col_label=c.col_label,
        cell_ids=(c.cell,),
        location=where,
    )


def cross_year_rules(
    fmt: Format, rec: ReturnRecord, this: Mapping[str, int | None], last: Mapping[str, int | None]
) -> tuple[list[RuleResult], list[Finding]]:
    """Each cross-year instance of the format with this year's and last year's figures: whether it
    holds, and the finding validation would report where it does not (``schema.instance_finding``)."""
    from xltool.rules.rulecheck import is_cross_year, term_column
    from xltool.rules.schema import instance_finding

    results, findings = [], []
    for inst in fmt.instances:
        if inst.rule.kind not in ("sum", "equation") or not is_cross_year(inst):
            continue
        rule = inst.rule
        values = {term_column(t): (last if t.previous else this).get(t.cell) for t in inst.lhs + inst.rhs}
        if any(v is None for v in values.values()):
            results.append(RuleResult(rule.code, inst.name, inst.scope, rule.severity, None))
            continue
        lhs = sum(t.coef * (values[term_column(t)] or 0) for t in inst.lhs)
        rhs = sum(t.coef * (values[term_column(t)] or 0) for t in inst.rhs)
        if lhs == rhs:
            results.append(RuleResult(rule.code, inst.name, inst.scope, rule.severity, True))
            continue
        finding = instance_finding(inst, fmt, rec, values)
        findings.append(finding)
        results.append(RuleResult(rule.code, inst.name, inst.scope, rule.severity, False, finding.message))
    return results, findings


# --------------------------------------------------------------------------- the text

_NOT_WORDS = re.compile(r"[\s\W_]+")


def sentence_key(sentence: str) -> str:
    """A sentence as compared between years: no whitespace or punctuation, half-width forms."""
    return _NOT_WORDS.sub("", unicodedata.normalize("NFKC", sentence))


def text_changes(last: Sequence[NarrativePart], this: Sequence[NarrativePart]) -> list[TextChange]:
    """Part by part (matched by number), the sentences added and removed (``split_sentences``);
    a sentence that differs only in whitespace or punctuation is the same sentence."""
    old = {p.number: p for p in last}
    new = {p.number: p for p in this}
    out = []
    for number in sorted(old.keys() | new.keys()):
        a = split_sentences(old[number].text) if number in old else []
        b = split_sentences(new[number].text) if number in new else []
        added, removed = sentence_diff(a, b)
        if added or removed:
            heading = (new.get(number) or old[number]).heading
            out.append(TextChange(number, heading, tuple(added), tuple(removed)))
    return out


def sentence_diff(last: Sequence[str], this: Sequence[str]) -> tuple[list[str], list[str]]:
    """(added, removed): this year's sentences not in last year's text, and last year's not in this."""
    a = [sentence_key(s) for s in last]
    b = [sentence_key(s) for s in this]
    added: list[str] = []
    removed: list[str] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        removed += [s for s, k in zip(last[i1:i2], a[i1:i2], strict=True) if k]
        added += [s for s, k in zip(this[j1:j2], b[j1:j2], strict=True) if k]
    return added, removed
