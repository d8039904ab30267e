"""The schema is the definition's rules as pandera checks: consistent figures pass, every broken
rule is reported at its cells with the numbers in the message."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers.schema import FMT, SHEETS, Rec, consistent, findings_of, previous_for, with_totals
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xltool.rules.schema import (
    build_schema,
    checked_instances,
    frame_from_records,
    schema_findings,
    short_label,
)
from xltool.values import show_value

# --------------------------------------------------------------------------- consistent fills


@pytest.mark.slow
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(consistent(), min_size=1, max_size=3), st.booleans())
def test_any_consistent_fill_validates_clean(fills, with_previous):
    recs = [Rec(v, code=f"{i:03d}", file=f"{i}.xlsx") for i, v in enumerate(fills)]
    previous = {r.code: previous_for(r.values) for r in recs} if with_previous else None
    assert findings_of(*recs, previous=previous) == []


CHECKED_CELLS = {c for i in checked_instances(FMT, True) if i.rule.kind != "zero_for_levels" for c in i.cells}
RULES_ON_CELL: dict[bool, dict[str, set[str]]] = {True: {}, False: {}}
for _prev in (True, False):
    for _inst in checked_instances(FMT, _prev):
        if _inst.rule.kind != "zero_for_levels":
            for _cid in _inst.cells:
                RULES_ON_CELL[_prev].setdefault(_cid, set()).add(_inst.rule.code)


@pytest.mark.slow
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    consistent(),
    st.lists(st.integers(-30, 30).filter(bool), min_size=len(FMT.cells), max_size=len(FMT.cells)),
    st.booleans(),
)
def test_a_single_changed_cell_is_caught_at_that_cell(values, deltas, with_previous):
    """One return per statutory cell, each with only that cell changed, validated as one batch."""
    previous = {}
    recs = []
    for i, (cid, delta) in enumerate(zip(FMT.cells, deltas, strict=True)):
        changed = dict(values)
        changed[cid] = max(0, values[cid] + delta)
        if changed[cid] == values[cid]:
            changed[cid] += 1
        recs.append(Rec(changed, code=f"{i:03d}", file=cid))
        previous[f"{i:03d}"] = previous_for(values)
    findings = findings_of(*recs, previous=previous if with_previous else None)
    by_file: dict[str, list] = {}
    for f in findings:
        by_file.setdefault(f.file, []).append(f)
    for cid in FMT.cells:
        cell = FMT.cells[cid]
        mine = by_file.get(cid, [])
        rules_on_cell = RULES_ON_CELL[with_previous].get(cid, set())
        if rules_on_cell:
            hits = [f for f in mine if cell.address in f.cells and f.sheet == cell.sheet]
            assert hits, f"{cid} changed {values[cid]} -> {recs[0].values[cid]} not caught: {mine}"
            assert {f.rule for f in mine} <= rules_on_cell
        else:
            assert mine == []


def test_every_statutory_cell_is_under_some_rule_except_the_free_ones():
    """The property test above proves something for most cells: only 表二's single figures are free."""
    free = {cid for cid in FMT.cells if cid not in CHECKED_CELLS}
    assert {FMT.cells[c].table for c in free} == {"t2"}


# --------------------------------------------------------------------------- exact messages


def r1_broken() -> dict[str, int]:
    return with_totals({"t3.new.natural": 5, "t3.carried_in.natural": 3, "t3.disclosed.natural": 7})


def test_t3_r1_message():
    findings = findings_of(Rec(r1_broken()))
    r1 = [f for f in findings if f.rule == "T3-R1"]
    assert [f.message for f in r1] == [
        "表三 D5+D6 ≠ D28+D29（自然人列：一+二=8，（七）总计+四=7，差 1）",
        "表三 J5+J6 ≠ J28+J29（总计列：一+二=8，（七）总计+四=7，差 1）",
    ]
    f = r1[0]
    assert f.cells == ("D5", "D6", "D28", "D29")
    assert f.sheet == "表三 依申请公开" and f.severity == "error"
    assert f.col_label == "自然人" and f.unit_code == "001" and f.file == "a.xlsx"
    assert {x.rule for x in findings} == {"T3-R1"}


def test_t3_r3_row_total_message_names_shown_and_computed():
    values = with_totals(
        {"t3.new.natural": 4, "t3.new.business": 1, "t3.disclosed.natural": 4, "t3.disclosed.business": 1}
    )
    values["t3.new.total"] = 7
    (r3,) = [f for f in findings_of(Rec(values)) if f.rule == "T3-R3"]
    assert r3.message == "表三 一、本年新收政府信息公开申请数量行总计 J5 显示 7，D5:I5 之和为 5，差 2"
    assert r3.cells == ("D5", "E5", "F5", "G5", "H5", "I5", "J5")
    assert r3.row_label == "一、本年新收政府信息公开申请数量" and r3.col_label == "总计"


def test_t3_r4_column_total_with_lost_formula():
    values = with_totals({"t3.new.legal": 2, "t3.disclosed.legal": 1, "t3.partial.legal": 1})
    values["t3.total.legal"] = 3
    values["t3.total.total"] = 3
    values["t3.carried_out.legal"] = 0
    rec = Rec(values, formula_lost={"t3.total.legal"})
    r4 = [f for f in findings_of(rec) if f.rule == "T3-R4"]
    assert [f.message for f in r4] == [
        "表三 法律服务机构列（七）总计 H28 显示 3，H7:H27 之和为 2，差 1；H28 的公式已被改写（应为求和公式）",
        "表三 总计列（七）总计 J28 显示 3，J7:J27 之和为 2，差 1",
    ]
    assert r4[0].cells[0] == "H7" and r4[0].cells[-1] == "H28" and len(r4[0].cells) == 22


def test_t4_r6_message():
    values = with_totals({"t4_after.cases.upheld": 2, "t4_after.cases.pending": 1})
    values["t4_after.cases.total"] = 4
    (f,) = findings_of(Rec(values))
    assert f.rule == "T4-R6" and f.sheet == "表四 复议诉讼"
    assert f.message == "表四 行政诉讼·复议后起诉总计 O5 显示 4，K5:N5 之和为 3，差 1"
    assert f.cells == ("K5", "L5", "M5", "N5", "O5")


def test_t2_w1_township_reporting_rules():
    values = with_totals({"t2_1.rules.issued": 1, "t2_1.rules.valid": 3})
    assert findings_of(Rec(values, level="部门")) == []
    (f,) = findings_of(Rec(values, level="乡镇"))
    assert f.rule == "T2-W1" and f.severity == "warning"
    assert f.cells == ("B4", "C4", "D4") and f.sheet == "表二 主动公开"
    assert f.message == (
        "表二 规章行：B4 本年制发件数=1，C4 本年废止件数=0，D4 现行有效件数=3（单位层级：乡镇）。"
        "乡镇、街道无权制定规章（立法法），规章件数应为 0，请核实是否误填了上级政府的数据"
    )
    assert findings_of(Rec(with_totals({}), level="街道")) == []


def test_t3_r5_and_t2_w2_cross_year():
    values = with_totals(
        {
            "t3.carried_in.natural": 2,
            "t3.new.natural": 1,
            "t3.disclosed.natural": 3,
            "t2_1.normative.issued": 2,
            "t2_1.normative.valid": 9,
        }
    )
    prev = previous_for(values)
    assert findings_of(Rec(values), previous={"001": prev}) == []
    prev["t3.carried_out.natural"] = 1
    prev["t3.carried_out.total"] = 1
    prev["t2_1.normative.valid"] = 8
    found = findings_of(Rec(values), previous={"001": prev})
    assert [(f.rule, f.message) for f in found] == [
        (
            "T2-W2",
            "表二 D5 ≠ 上年D5+B5−C5（行政规范性文件行：现行有效件数=9，上年现行有效件数+本年制发件数−本年废止件数=10，差 1）",
        ),
        ("T3-R5", "表三 D6 ≠ 上年D29（自然人列：二=2，上年四=1，差 1）"),
        ("T3-R5", "表三 J6 ≠ 上年J29（总计列：二=2，上年四=1，差 1）"),
    ]
    assert found[0].severity == "warning" and found[0].cells == ("B5", "C5", "D5")
    assert found[1].cells == ("D6",)
    # no figures of last year for this unit: the cross-year rules pass
    assert findings_of(Rec(values), previous={"other": prev}) == []
    # and without --previous they are not in the schema at all
    assert findings_of(Rec(values)) == []


def test_unusable_cells_pass_the_rules_they_are_in():
    values = r1_broken()
    values["t3.new.natural"] = None  # the reader has already reported this cell
    assert [f.rule for f in findings_of(Rec(values))] == ["T3-R1"]  # only the 总计 column is left broken


def test_negative_value_in_a_hand_built_frame():
    values = with_totals({})
    values["t4_review.cases.upheld"] = -1
    values["t4_review.cases.total"] = -1
    found = findings_of(Rec(values))
    neg = [f for f in found if f.rule == "V-NEGATIVE"]
    assert [(f.cells, f.message) for f in neg] == [
        (("A5",), "表四 A5：填写了负数 -1；应为 0 或正数"),
        (("E5",), "表四 E5：填写了负数 -1；应为 0 或正数"),
    ]


def test_real_sheet_titles_are_used():
    titles = dict(SHEETS, t3="Sheet3")
    (f, _) = findings_of(Rec(r1_broken(), sheet_titles=titles))
    assert f.sheet == "Sheet3" and f.message.startswith("表三 ")


def test_frame_shape_and_types():
    recs = [Rec(with_totals({"t2_8.fees.amount": 12345})), Rec(with_totals({}), code="002", file="b.xlsx")]
    df = frame_from_records(recs, FMT)
    assert list(df.columns[:5]) == ["file", "unit_code", "unit_name", "unit_level", "year"]
    assert list(df.columns[5:]) == list(FMT.cells)
    assert all(str(df[c].dtype) == "Int64" for c in FMT.cells)
    assert df.at[0, "t2_8.fees.amount"] == 12345 and list(df.index) == [0, 1]


def test_schema_is_built_once_per_format_and_previous():
    assert build_schema(FMT, False) is build_schema(FMT, False)
    assert build_schema(FMT, True) is not build_schema(FMT, False)
    names = {c.name for c in build_schema(FMT, True).checks}
    assert "T3-R5.natural" in names and "T3-R5.natural" not in {c.name for c in build_schema(FMT, False).checks}


@pytest.mark.parametrize(
    ("label", "short"),
    [("一、本年新收政府信息公开申请数量", "一"), ("（七）总计", "（七）总计"), ("本年制发件数", "本年制发件数")],
)
def test_short_label(label, short):
    assert short_label(label) == short


def test_amounts_are_shown_in_wan_yuan():
    assert show_value(1234500, "amount") == "1.2345"
    assert show_value(2000000, "amount") == "2"
    assert show_value(5949088667, "amount") == "5949.088667"  # to the fen, as reports print 收费
    assert show_value(7, "count") == "7"


def test_empty_frame_has_no_findings():
    assert schema_findings(frame_from_records([], FMT), FMT, []) == []
    assert isinstance(frame_from_records([], FMT), pd.DataFrame)
