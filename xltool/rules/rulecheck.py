"""A format's checked rules compiled once into numpy arrays: the one place their arithmetic is written.

The pandera schema (xltool.rules.schema) builds its checks from this object and stays the engine that
explains a failure. ``passes`` answers the question most batches ask, "would the schema report
anything?", with one matrix product and without pandas: a clean batch never imports it.

Columns are this year's cells in the format's order, then (with last year's figures) one
"prev:<cell>" column per cell that a cross-year rule reads; values are int64, amounts scaled.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from xltool.definition import DELTA, Format, RuleInstance, Term
from xltool.errors import InternalError

if TYPE_CHECKING:
    from xltool.model import ReturnRecord

PREV = "prev:"
EQUATIONS = ("sum", "equation")
"""Rule kinds checked as sum(coef*lhs) == sum(coef*rhs); zero_for_levels is the other checked kind."""


def prev_column(cell_id: str) -> str:
    """Name of the column holding last year's value of a cell."""
    return PREV + cell_id


def term_column(term: Term) -> str:
    return prev_column(term.cell) if term.previous else term.cell


def is_cross_year(inst: RuleInstance) -> bool:
    return any(t.previous for t in inst.lhs + inst.rhs)


def checked_instances(fmt: Format, with_previous: bool) -> list[RuleInstance]:
    """The rule instances a schema checks: cross-year ones only when last year's values are known."""
    return [
        i
        for i in fmt.instances
        if i.rule.kind in (*EQUATIONS, "zero_for_levels") and (with_previous or not is_cross_year(i))
    ]


def format_rows(records: Sequence[ReturnRecord], fmt: Format) -> list[tuple[int, ReturnRecord]]:
    """(position in ``records``, record) of every readable record of this format: the rows of its frame."""
    return [
        (i, rec) for i, rec in enumerate(records) if rec.readable and rec.format is not None and rec.format.id == fmt.id
    ]


@dataclass(frozen=True, eq=False)
class Equation:
    """A sum or equation instance: its coefficients are column ``at`` of ``CompiledRules.matrix``."""

    inst: RuleInstance
    at: int
    terms: tuple[int, ...]
    """The columns its terms name, each once, in the terms' order: a row missing any of them passes
    (the reader has already reported that value)."""


@dataclass(frozen=True, eq=False)
class ZeroRule:
    """A zero_for_levels instance: a unit of one of ``levels`` must hold 0 in ``columns``."""

    inst: RuleInstance
    columns: tuple[int, ...]
    levels: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class CompiledRules:
    """Everything a format's schema checks, as arrays over ``columns``."""

    cells: tuple[str, ...]
    """This year's cells: the first columns, in the format's order."""
    previous: tuple[str, ...]
    """The cells whose last year's value a checked rule reads: the "prev:" columns after ``cells``."""
    columns: tuple[str, ...]
    """``cells``, then "prev:<cell>" of each of ``previous``: the batch's columns."""
    checks: tuple[Equation | ZeroRule, ...]
    """One per checked instance, in ``checked_instances`` order (the schema's check order)."""
    matrix: np.ndarray
    """int64 (columns x equations): lhs terms +coef, rhs terms -coef; a row holds iff its product is 0."""
    nonnegative: np.ndarray
    """bool per column: this year's cells that must be >= 0 (every kind but DELTA, 本年增/减)."""

    @property
    def equations(self) -> tuple[Equation, ...]:
        return tuple(c for c in self.checks if isinstance(c, Equation))

    @property
    def zeros(self) -> tuple[ZeroRule, ...]:
        return tuple(c for c in self.checks if isinstance(c, ZeroRule))


def compiled_rules(fmt: Format, with_previous: bool = False) -> CompiledRules:
    """The compiled rules of a format, built once per (format, with_previous) and kept on the format."""
    return fmt.derived(_compiled_with_previous if with_previous else _compiled)


def _compiled(fmt: Format) -> CompiledRules:
    return _compile(fmt, with_previous=False)


def _compiled_with_previous(fmt: Format) -> CompiledRules:
    return _compile(fmt, with_previous=True)


def _compile(fmt: Format, with_previous: bool) -> CompiledRules:
    instances = checked_instances(fmt, with_previous)
    cells = tuple(fmt.cells)
    read_previous = {t.cell for i in instances for t in i.lhs + i.rhs if t.previous}
    previous = tuple(c for c in cells if c in read_previous)
    columns = cells + tuple(prev_column(c) for c in previous)
    index = {name: j for j, name in enumerate(columns)}
    equations = [i for i in instances if i.rule.kind in EQUATIONS]
    matrix = np.zeros((len(index), len(equations)), dtype=np.int64)
    checks: list[Equation | ZeroRule] = []
    at = 0
    for inst in instances:
        if inst.rule.kind not in EQUATIONS:
            checks.append(ZeroRule(inst, tuple(index[t.cell] for t in inst.lhs), tuple(inst.rule.levels)))
            continue
        terms: dict[int, None] = {}
        for sign, side in ((1, inst.lhs), (-1, inst.rhs)):
            for t in side:
                j = index[term_column(t)]
                matrix[j, at] += sign * t.coef
                terms[j] = None
        checks.append(Equation(inst, at, tuple(terms)))
        at += 1
    nonnegative = np.array(
        [j < len(cells) and fmt.cells[cells[j]].kind != DELTA for j in range(len(columns))], dtype=bool
    )
    matrix.flags.writeable = False
    nonnegative.flags.writeable = False
    return CompiledRules(cells, previous, columns, tuple(checks), matrix, nonnegative)


# --------------------------------------------------------------------------- a batch


def batch_matrix(
    rules: CompiledRules,
    values: Sequence[Mapping[str, int | None]],
    previous: Sequence[Mapping[str, int | None] | None] = (),
) -> np.ndarray | None:
    """A batch as an int64 matrix over ``rules.columns`` (one row per record's ``values``, with
    ``previous[i]`` its last year's values), or None when any value is missing (None, absent, no
    figures of last year): only the schema can say what a missing value means."""
    n = len(values)
    try:
        get = operator.itemgetter(*rules.cells)
        this = np.array([get(v) for v in values], dtype=np.int64).reshape(n, len(rules.cells))
        if not rules.previous:
            return this
        known = [p for p in previous if p is not None]
        if len(known) != n:
            return None
        get = operator.itemgetter(*rules.previous)
        last = np.array([get(p) for p in known], dtype=np.int64).reshape(n, len(rules.previous))
    except (KeyError, TypeError, ValueError, OverflowError):
        return None
    return np.hstack([this, last])


def passes(rules: CompiledRules, batch: np.ndarray, levels: Sequence[str]) -> bool:
    """Whether the schema would pass every row of ``batch`` (from ``batch_matrix``, no missing value)
    whose unit levels are ``levels``: every equation zero, every zero rule held where its level is
    listed, every cell that must be >= 0 non-negative."""
    if batch.shape != (len(levels), len(rules.columns)):
        raise InternalError(f"batch of shape {batch.shape} for {len(levels)} rows of {len(rules.columns)} columns")
    if (batch[:, rules.nonnegative] < 0).any():
        return False
    if (batch @ rules.matrix).any():  # int64 wraps as the schema's own product does: the same verdict
        return False
    for rule in rules.zeros:
        listed = np.fromiter((lv in rule.levels for lv in levels), dtype=bool, count=len(levels))
        if batch[listed][:, list(rule.columns)].any():
            return False
    return True
