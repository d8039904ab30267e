"""The compiled rules (xltool.rules.rulecheck) pass a batch exactly when the pandera schema finds nothing,
and a clean batch is validated without importing pandas or pandera."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from helpers.imports import import_graph
from helpers.returns import CONSISTENT, make_return
from helpers.schema import FMT, Rec, consistent, findings_of, previous_for, with_totals
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from xltool import validate as validate_module
from xltool.definition import DELTA, get_format
from xltool.model import Unit
from xltool.rules.rulecheck import batch_matrix, checked_instances, compiled_rules, passes, prev_column
from xltool.rules.schema import build_schema
from xltool.validate import validate_paths

TOWN = Unit("230723101", "乌伊岭镇", "乡镇")
DEPT = Unit("230723201", "汤旺县教育局", "部门")
LEVELS = ["乡镇", "街道", "部门", "县"]
(ZERO,) = compiled_rules(FMT).zeros  # 表二 规章行 of a township or street: T2-W1
ZERO_CELLS = [compiled_rules(FMT).columns[j] for j in ZERO.columns]


def precheck(recs: list[Rec], previous: dict | None) -> bool:
    rules = compiled_rules(FMT, previous is not None)
    last = [previous[r.code] for r in recs] if previous is not None else []
    batch = batch_matrix(rules, [r.values for r in recs], last)
    assert batch is not None
    return passes(rules, batch, [r.level for r in recs])


# --------------------------------------------------------------------------- the same verdict as pandera

VIOLATIONS = ("negative", "negated", "unbalanced", "previous")


@st.composite
def returns(draw, with_previous: bool) -> tuple[Rec, dict[str, int]]:
    """A consistent return of a unit of any level, with or without 规章 (T2-W1 for some levels),
    clean or with 1 to 3 violations drawn from VIOLATIONS (last year's figures are a violation only
    in a batch with them, a changed figure only where a rule reads it)."""
    values = draw(consistent())
    level = draw(st.sampled_from(LEVELS))
    broken = draw(st.integers(0, 2)) == 0  # a third of the returns: most batches of 1 to 3 pass or fail by one
    kinds = draw(st.lists(st.sampled_from(VIOLATIONS), min_size=1, max_size=3)) if broken else []
    cells = st.sampled_from(list(FMT.cells))
    values.update(dict.fromkeys(ZERO_CELLS, 0))
    if draw(st.integers(0, 2)) == 0:  # a third have 规章: a violation for a township or street (T2-W1)
        values[draw(st.sampled_from(ZERO_CELLS))] = draw(st.integers(1, 5))
    if "negated" in kinds:  # every rule is linear and homogeneous: it still holds, only ">= 0" fails
        values = {cid: -v for cid, v in values.items()}
    last = previous_for(values)  # cross-year rules hold unless "previous" breaks them
    for kind in kinds:
        if kind == "negative":
            values[draw(cells)] = -draw(st.integers(1, 10**6))
        elif kind == "unbalanced":
            cid = draw(cells)
            values[cid] += draw(st.sampled_from([-1, 1])) * draw(st.integers(1, 10**12))
        elif kind == "previous" and with_previous:
            cid = draw(st.sampled_from(compiled_rules(FMT, True).previous))
            last[cid] += draw(st.sampled_from([-1, 1])) * draw(st.integers(1, 5))
    return Rec(values, level=level), last


@st.composite
def batches(draw) -> tuple[list[Rec], dict | None]:
    with_previous = draw(st.booleans())
    drawn = draw(st.lists(returns(with_previous), min_size=1, max_size=3))
    recs, previous = [], {}
    for i, (rec, last) in enumerate(drawn):
        rec.code, rec.file = f"{i:03d}", f"{i}.xlsx"
        recs.append(rec)
        previous[rec.code] = last
    return recs, previous if with_previous else None


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches())
def test_the_precheck_passes_exactly_when_the_schema_finds_nothing(batch):
    recs, previous = batch
    verdict = precheck(recs, previous)
    event(f"passes={verdict} previous={previous is not None}")
    assert verdict == (findings_of(*recs, previous=previous) == [])


def test_each_kind_of_violation_fails_the_precheck_and_the_schema():
    clean = with_totals(CONSISTENT)
    cases = {
        "negative": ({**clean, "t2_5.licensing.decisions": -1}, "部门", None),
        "unbalanced": ({**clean, "t3.total.natural": clean["t3.total.natural"] + 1}, "部门", None),
        "zero": ({**clean, "t2_1.rules.valid": 1}, "街道", None),
        "previous": (clean, "部门", {**previous_for(clean), "t3.carried_out.natural": 2}),
    }
    for name, (values, level, last) in cases.items():
        rec = Rec(values, level=level)
        previous = None if last is None else {rec.code: last}
        assert not precheck([rec], previous), name
        assert findings_of(rec, previous=previous), name
    # the zero rule is for townships and streets only; last year's figures only when given
    assert precheck([Rec(cases["zero"][0], level="部门")], None)
    assert precheck([Rec(clean)], None) and precheck([Rec(clean)], {"001": previous_for(clean)})


def test_a_missing_value_leaves_the_batch_to_the_schema():
    values = with_totals(CONSISTENT)
    rules, rules_prev = compiled_rules(FMT), compiled_rules(FMT, True)
    assert batch_matrix(rules, [values]) is not None
    assert batch_matrix(rules, [{**values, "t3.new.natural": None}]) is None
    assert batch_matrix(rules, [{k: v for k, v in values.items() if k != "t3.new.natural"}]) is None
    assert batch_matrix(rules, [values, values]).shape == (2, len(rules.cells))
    last = previous_for(values)
    assert batch_matrix(rules_prev, [values], [last]).shape == (1, len(rules_prev.columns))
    assert batch_matrix(rules_prev, [values], [None]) is None  # no figures of last year for this unit
    assert batch_matrix(rules_prev, [values], [{**last, "t3.carried_out.legal": None}]) is None
    # a figure of last year no rule reads may be missing
    unread = next(c for c in FMT.cells if c not in rules_prev.previous)
    assert batch_matrix(rules_prev, [values], [{**last, unread: None}]) is not None
    assert batch_matrix(rules, [], []).shape == (0, len(rules.cells))
    assert passes(rules, np.zeros((0, len(rules.columns)), dtype=np.int64), [])


# --------------------------------------------------------------------------- one source of the rules


def test_the_schema_is_built_from_the_compiled_rules():
    for with_previous in (False, True):
        rules = compiled_rules(FMT, with_previous)
        assert rules is compiled_rules(FMT, with_previous)  # kept on the format
        assert [c.inst for c in rules.checks] == checked_instances(FMT, with_previous)
        assert [c.name for c in build_schema(FMT, with_previous).checks] == [c.inst.name for c in rules.checks]
        assert rules.matrix.shape == (len(rules.columns), len(rules.equations))
    rules = compiled_rules(FMT, True)
    assert rules.columns[: len(FMT.cells)] == tuple(FMT.cells)
    assert prev_column("t3.carried_out.natural") in rules.columns
    # T3-R5.natural: this year's 二 (+1) against last year's 四 (-1), nothing else
    (r5,) = [e for e in rules.equations if e.inst.name == "T3-R5.natural"]
    column = dict(zip(rules.columns, rules.matrix[:, r5.at], strict=True))
    assert {c: int(v) for c, v in column.items() if v} == {
        "t3.carried_in.natural": 1,
        prev_column("t3.carried_out.natural"): -1,
    }


def test_delta_cells_may_be_negative():
    """本年增/减 of the 2019 format: the one kind of cell the >= 0 mask leaves out."""
    fmt = get_format("gov-info-disclosure-2019")
    rules = compiled_rules(fmt)
    delta = [j for j, c in enumerate(rules.cells) if fmt.cells[c].kind == DELTA]
    assert delta and not rules.nonnegative[delta].any()
    assert rules.nonnegative.sum() == len(rules.cells) - len(delta)


def test_rulecheck_imports_neither_the_schema_nor_pandas():
    graph = import_graph()
    seen, todo = set(), ["xltool.rules.rulecheck"]
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(graph[node])
    assert "xltool.rules.schema" not in seen
    code = "import sys, xltool.rules.rulecheck; print(sorted(m for m in ('pandas', 'pandera') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# --------------------------------------------------------------------------- the batch

VALIDATE = textwrap.dedent(
    """
    import json, sys
    from xltool.validate import validate_paths

    previous = sys.argv[2:] or None
    v = validate_paths([sys.argv[1]], previous=previous)
    print(json.dumps({
        "loaded": sorted(m for m in ("pandas", "pandera", "hypothesis") if m in sys.modules),
        "findings": [[f.file, f.rule, list(f.cells), f.message] for f in v.report.findings],
    }, ensure_ascii=False))
    """
)


def run_validate(folder, *previous) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", VALIDATE, str(folder), *map(str, previous)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.slow
def test_a_clean_batch_is_validated_without_pandas(tmp_path):
    inbox, last = tmp_path / "收件箱", tmp_path / "上年"
    make_return(inbox, TOWN)
    make_return(inbox, DEPT, values={**CONSISTENT, "t2_1.rules.valid": 2, "t2_8.fees.amount": 12345})
    assert run_validate(inbox) == {"loaded": [], "findings": []}
    # with last year's returns: T3-R5 and T2-W2 hold (CONSISTENT carries 1 out and 1 in)
    make_return(last, TOWN, year=2023)
    make_return(last, DEPT, year=2023, values={**CONSISTENT, "t2_1.rules.valid": 2})
    assert run_validate(inbox, last) == {"loaded": [], "findings": []}

    broken = {**CONSISTENT, "t3.new.natural": 3}  # 一+二 = 4, handled + carried out = 3
    make_return(inbox, Unit("230723102", "汤旺河镇", "乡镇"), values=broken)
    out = run_validate(inbox)
    assert "pandas" in out["loaded"] and "pandera" in out["loaded"]
    file = str(inbox / "230723102.xlsx")
    assert out["findings"] == [
        [file, "T3-R1", ["D5", "D6", "D28", "D29"], "表三 D5+D6 ≠ D28+D29（自然人列：一+二=4，（七）总计+四=3，差 1）"],
        [file, "T3-R1", ["J5", "J6", "J28", "J29"], "表三 J5+J6 ≠ J28+J29（总计列：一+二=4，（七）总计+四=3，差 1）"],
    ]


def test_findings_and_frames_are_those_of_the_schema_path(tmp_path, monkeypatch):
    """The same batches validated as before the compiled rules (every one through the frame and
    pandera) give the same report and the same frames."""
    this, last = tmp_path / "2024", tmp_path / "2023"
    make_return(this, TOWN, values={**CONSISTENT, "t2_1.rules.issued": 1, "t2_1.rules.valid": 1})  # T2-W1
    make_return(this, DEPT, values={**CONSISTENT, "t2_5.licensing.decisions": 4})
    make_return(last, TOWN, year=2023, values={**CONSISTENT, "t3.carried_out.natural": 2})  # T3-R5
    make_return(last, DEPT, year=2023)
    clean = tmp_path / "clean"
    make_return(clean, DEPT)
    cases = [([this], None), ([this], [last]), ([clean], None), ([clean], [last])]
    fast = [validate_paths(paths, previous=previous) for paths, previous in cases]
    with monkeypatch.context() as m:
        m.setattr(validate_module, "_passes", lambda *args: False)
        slow = [validate_paths(paths, previous=previous) for paths, previous in cases]
    for (paths, previous), a, b in zip(cases, fast, slow, strict=True):
        assert a.report == b.report, (paths, previous)
        assert list(a.frames) == list(b.frames)
        assert a.frame.equals(b.frame), (paths, previous)
    assert {f.rule for f in fast[1].report.findings} >= {"T2-W1", "T3-R5"}
    assert fast[2].report.findings == []
