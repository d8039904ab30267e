"""Consolidation arithmetic: sums are exact, totals follow the definition, roll-ups are associative."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xltool.definition import get_format
from xltool.errors import ConsolidationRefused
from xltool.totals import recompute_totals
from xltool.values import AMOUNT, parse_value
from xltool.values import workbook_number as amount
from xltool.write.consolidation import sum_values

FMT = get_format()
INPUTS = [c.id for c in FMT.input_cells]
AMOUNTS = st.integers(0, 10**14 - 1)
"""Amounts to the fen (6 decimals, scaled), up to values._MAX_AMOUNT (1e8 万元)."""


def returns(min_size=1, max_size=6):
    one = st.fixed_dictionaries(
        {cid: AMOUNTS if FMT.cells[cid].kind == AMOUNT else st.integers(0, 10**6) for cid in INPUTS}
    )
    return st.lists(one, min_size=min_size, max_size=max_size).map(
        lambda rs: [recompute_totals({**{c: 0 for c in FMT.cells}, **r}, FMT) for r in rs]
    )


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(returns())
def test_consolidated_cell_is_the_sum_of_the_inputs(rs):
    sums = sum_values(rs, FMT)
    for cid in FMT.cells:
        assert sums[cid] == sum(r[cid] for r in rs)


@pytest.mark.slow
@settings(max_examples=30, deadline=None)
@given(returns(2, 8), st.data())
def test_rolling_up_in_two_steps_equals_one_step(rs, data):
    cut = data.draw(st.integers(1, len(rs) - 1))
    county_a, county_b = sum_values(rs[:cut], FMT), sum_values(rs[cut:], FMT)
    assert sum_values([county_a, county_b], FMT) == sum_values(rs, FMT)


@settings(max_examples=30, deadline=None)
@given(returns())
def test_totals_satisfy_every_sum_rule(rs):
    sums = sum_values(rs, FMT)
    for inst in FMT.instances:
        if inst.rule.kind == "sum":
            assert sum(t.coef * sums[t.cell] for t in inst.lhs) == sum(t.coef * sums[t.cell] for t in inst.rhs)


@given(st.lists(AMOUNTS, min_size=1, max_size=50))
def test_amounts_add_without_float_drift(scaled):
    """0.1 + 0.2 万元 is 0.3 万元 exactly, and so is any sum of amounts typed to the fen (6 decimals):
    amounts are read exactly from the floats a workbook stores and carried as integer 1/1,000,000 万元."""
    typed = [parse_value(float(Decimal(v).scaleb(-6)), AMOUNT).value for v in scaled]
    assert typed == scaled
    assert amount(sum(typed), AMOUNT) == sum(Decimal(v).scaleb(-6) for v in scaled)
    assert amount(100000, AMOUNT) + amount(200000, AMOUNT) == Decimal("0.3")
    assert amount(5949088667, AMOUNT) + amount(24252311082, AMOUNT) == Decimal("30201.399749")


def test_blank_input_refuses_to_sum():
    r = {c: 0 for c in FMT.cells}
    r["t3.new.natural"] = None
    try:
        sum_values([r], FMT)
    except ConsolidationRefused as exc:
        assert "t3.new.natural" in str(exc)
    else:
        raise AssertionError("a None value was summed")


def test_more_units_than_excel_has_columns_is_refused_not_truncated(tmp_path, monkeypatch):
    """明细 has one column per unit: past Excel's 16,384 columns xlsxwriter would drop cells silently."""
    import pytest

    from xltool.errors import ConsolidationRefused
    from xltool.model import Unit
    from xltool.write import consolidation as c

    monkeypatch.setattr(c, "MAX_DETAIL_UNITS", 2)
    zero = recompute_totals({cid: 0 for cid in FMT.cells}, FMT)
    details = [(Unit(str(i), f"单位{i}", "乡镇"), zero) for i in range(3)]
    out = tmp_path / "汇总.xlsx"
    with pytest.raises(ConsolidationRefused, match="分级汇总"):
        c.write_consolidated(out, FMT, Unit("1", "县", "县"), 2024, zero, details, [], [])
    assert not out.exists()
