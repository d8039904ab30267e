"""Records and consistent fills for the pandera schema (tests/test_schema.py) and the compiled rules
(tests/test_rulecheck.py): ``Rec`` carries the fields of a ReturnRecord the schema reads,
``consistent()`` draws a fill where every same-year rule holds, ``previous_for`` last year's figures
that satisfy every cross-year rule."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import strategies as st

from xltool.definition import get_format
from xltool.model import Identity
from xltool.rules.schema import add_previous, checked_instances, frame_from_records, schema_findings

FMT = get_format()
SHEETS = {t.key: t.sheet for t in FMT.tables}


@dataclass
class Rec:
    """The fields of reader.ReturnRecord the schema reads."""

    values: dict[str, int | None]
    level: str = "部门"
    code: str = "001"
    file: str = "a.xlsx"
    formula_lost: set[str] = field(default_factory=set)
    findings: list = field(default_factory=list)
    sheet_titles: dict[str, str] = field(default_factory=lambda: dict(SHEETS))
    format: object = FMT
    path: Path = Path("a.xlsx")
    positions: dict = field(default_factory=dict)  # an xltool workbook: figures at the definition's cells
    source: str = ""  # an xltool workbook, not a document (nor a scan read by OCR)
    confidence: dict = field(default_factory=dict)  # a scan's figures' OCR confidence: none here

    @property
    def identity(self) -> Identity:
        return Identity(FMT.id, FMT.version, FMT.fingerprint, self.code, f"单位{self.code}", self.level, 2024)

    @property
    def readable(self) -> bool:
        return True


def with_totals(inputs: dict[str, int]) -> dict[str, int]:
    """Every input (0 unless given) and every total as the definition's sum of its parts."""
    values = {c.id: inputs.get(c.id, 0) for c in FMT.input_cells}
    pending = list(FMT.total_cells)
    while pending:
        ready = [c for c in pending if all(p in values for p in c.parts)]
        assert ready, "circular totals"
        for c in ready:
            values[c.id] = sum(values[p] for p in c.parts)
        pending = [c for c in pending if c not in ready]
    return {cid: values[cid] for cid in FMT.cells}


def findings_of(*recs: Rec, previous: dict | None = None):
    df = frame_from_records(recs, FMT)
    if previous is not None:
        df = add_previous(df, FMT, previous)
    return schema_findings(df, FMT, recs, with_previous=previous is not None)


def previous_for(values: dict[str, int]) -> dict[str, int]:
    """Last year's figures that satisfy every cross-year rule against ``values``."""
    prev = dict(values)
    for inst in checked_instances(FMT, True):
        if inst.rule.kind != "equation" or not any(t.previous for t in inst.lhs + inst.rhs):
            continue
        # solve the single previous term: coef*prev = lhs - rhs(without it)
        (pt,) = [t for t in inst.lhs + inst.rhs if t.previous]
        lhs = sum(t.coef * values[t.cell] for t in inst.lhs if not t.previous)
        rhs = sum(t.coef * values[t.cell] for t in inst.rhs if not t.previous)
        prev[pt.cell] = (lhs - rhs) * (1 if pt in inst.rhs else -1) // pt.coef
    return prev


APPLICANTS = [c.key for c in FMT.grid("t3").columns if f"t3.new.{c.key}" in {x.id for x in FMT.input_cells}]
R4_PARTS = FMT.cells["t3.total.natural"].parts


@st.composite
def consistent(draw) -> dict[str, int]:
    """Inputs random, totals summed, carried_out chosen so that R1 holds in every column."""
    small = st.integers(0, 50)
    inputs = {c.id: draw(small) for c in FMT.input_cells}
    for col in APPLICANTS:
        handled = sum(inputs[p.replace(".natural", f".{col}")] for p in R4_PARTS)
        out = inputs[f"t3.new.{col}"] + inputs[f"t3.carried_in.{col}"] - handled
        if out < 0:
            inputs[f"t3.new.{col}"] -= out
            out = 0
        inputs[f"t3.carried_out.{col}"] = out
    return with_totals(inputs)
