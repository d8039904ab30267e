"""The definition file is the one source of truth: it loads, it is complete, and a broken one is refused by key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from xltool.definition import Span, builtin_formats, get_format, load, loads
from xltool.errors import DefinitionError

DEFINITION = Path(__file__).parents[1] / "workbook_templates" / "gov-info-disclosure-2021.toml"
DOMAIN = Path(__file__).parent / "fixtures" / "format-2021.md"  # the domain notes of the formats


def test_builtin_2021_format_shape():
    fmt = get_format()
    assert fmt.id == "gov-info-disclosure-2021"
    assert fmt.document == "国办公开办函〔2021〕30号"
    t3 = fmt.grid("t3")
    assert len(t3.rows) == 25 and len(t3.columns) == 7
    assert len(fmt.cells) == 4 * 1 + 2 * 3 + 3 + 25 * 7 + 15 - 3  # 表二 10, 表三 175, 表四 15
    # totals: 表三 总计 column and （七）总计 row, 表四 three 总计
    totals = {c.id for c in fmt.total_cells}
    assert {f"t3.{r.key}.total" for r in t3.rows} <= totals
    assert {f"t3.total.{c.key}" for c in t3.columns} <= totals
    assert {"t4_review.cases.total", "t4_direct.cases.total", "t4_after.cases.total"} <= totals
    assert len(totals) == 25 + 7 - 1 + 3
    assert fmt.cells["t2_8.fees.amount"].kind == "amount"


def test_every_rule_of_the_format_is_named():
    codes = {r.code for r in get_format().rules}
    assert {"T3-R1", "T3-R2", "T3-R3", "T3-R4", "T3-R5", "T4-R6", "T2-W1", "T2-W2"} <= codes


def test_r1_instance_terms():
    fmt = get_format()
    r1 = next(i for i in fmt.instances if i.name == "T3-R1.natural")
    assert [t.cell for t in r1.lhs] == ["t3.new.natural", "t3.carried_in.natural"]
    assert [t.cell for t in r1.rhs] == ["t3.total.natural", "t3.carried_out.natural"]
    assert fmt.cells["t3.new.natural"].address == "D5"
    assert fmt.cells["t3.carried_out.natural"].address == "D29"
    assert r1.check_span == Span.parse("D30")


def test_continuity_rule_subtracts_repealed():
    fmt = get_format()
    inst = next(i for i in fmt.instances if i.name == "T2-W2.rules")
    assert [(t.coef, t.cell, t.previous) for t in inst.rhs] == [
        (1, "t2_1.rules.valid", True),
        (1, "t2_1.rules.issued", False),
        (-1, "t2_1.rules.repealed", False),
    ]


def test_labels_are_verbatim_from_the_domain_notes():
    """Every row label of 表三 appears verbatim in the domain description of the format."""
    text = DOMAIN.read_text(encoding="utf-8")
    for row in get_format().grid("t3").rows:
        assert row.label in text, row.label


def test_fingerprint_is_stable_and_layout_sensitive():
    source = DEFINITION.read_text(encoding="utf-8")
    a = loads(source, "a.toml")
    assert a.fingerprint == get_format().fingerprint
    moved = loads(source.replace('at = "D3:D4"', 'at = "D3:D4" ', 1), "b.toml")
    assert moved.fingerprint == a.fingerprint  # whitespace is not layout
    relabelled = loads(source.replace("1.属于国家秘密", "1.属于国家机密"), "c.toml")
    assert relabelled.fingerprint != a.fingerprint


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda s: s.replace('code = "T3-R1"\n', "", 1), r"rules\[0\]: 缺少键 'code'"),
        (lambda s: s.replace('kind = "amount"', 'kind = "money"'), r"tables\[0\]\.grids\[3\]\.kind"),
        (lambda s: s.replace('at = "C9" }', 'at = "C99x" }'), r"tables\[1\]\.grids\[0\]\.rows\[4\]\.at"),
        (lambda s: s.replace('target = "total"', 'target = "totl"', 1), r"rules\[2\]\.target"),
        (
            lambda s: (
                s.replace('rhs = ["prev:carried_out"]', 'rhs = ["carried_out"]')
                .replace('cross_year = true\ntitle = "本年', 'title = "本年')
                .replace("carry = true\n", "", 1)
            ),  # a same-year equation carries nothing
            None,
        ),
        (lambda s: s.replace('sheet = "表三 依申请公开"', 'sheet = "表三:依申请"'), r"tables\[1\]\.sheet"),
        (lambda s: s.replace('at = "C10" }', 'at = "C9" }'), r"C9 同时被"),
        (lambda s: s.replace('{ key = "research"', '{ key = "business"'), r"键重复"),
    ],
)
def test_malformed_definition_names_the_key(edit, expected):
    source = edit(DEFINITION.read_text(encoding="utf-8"))
    if expected is None:  # an edit that keeps the definition valid
        loads(source, "edited.toml")
        return
    with pytest.raises(DefinitionError, match=expected):
        loads(source, "edited.toml")


def test_prev_term_needs_cross_year():
    source = DEFINITION.read_text(encoding="utf-8")
    broken = re.sub(r'(code = "T3-R5"\n(?:.*\n)*?)cross_year = true\n', r"\1", source, count=1)
    with pytest.raises(DefinitionError, match="cross_year"):
        loads(broken, "edited.toml")


def test_load_reports_syntax_and_missing_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[format\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match="bad.toml: TOML 语法错误"):
        load(bad)
    with pytest.raises(DefinitionError, match="无法读取"):
        load(tmp_path / "missing.toml")


def test_builtin_formats_are_found_as_package_data():
    assert "gov-info-disclosure-2021" in builtin_formats()
    with pytest.raises(DefinitionError, match="未知的报表格式"):
        get_format("no-such-format")


def test_report_sections_are_data_and_place_every_table(tiny_format):
    for fmt in builtin_formats().values():
        assert fmt.report_sections[0] == "一、总体情况" and fmt.report_sections[-1] == "六、其他需要报告的事项"
        assert len(fmt.report_sections) == 6
        assert all(t.title in fmt.report_sections for t in fmt.tables)
        assert fmt.report_title.format(unit="乌伊岭镇", year=2024) == "乌伊岭镇2024年政府信息公开工作年度报告"
    assert tiny_format.report_sections == tuple(t.title for t in tiny_format.tables)  # no [report]: the tables
    source = DEFINITION.read_text(encoding="utf-8").replace('    "三、收到和处理政府信息公开申请情况",\n', "", 1)
    with pytest.raises(DefinitionError, match=r"report\.sections.*三、收到和处理政府信息公开申请情况"):
        loads(source, "edited.toml")


def test_report_figures_and_prompts_are_data_checked_when_the_definition_is_loaded():
    """The figures a report's text states name cells of the definition; a wrong id, or a prompt for
    a section the report does not have, stops loading instead of switching a check off."""
    fmt = get_format()
    assert fmt.figure("suits") == ("t4_direct.cases.total", "t4_after.cases.total")
    assert fmt.cells[fmt.figure("new")[0]].row_label == "一、本年新收政府信息公开申请数量"
    assert fmt.figure("no-such-figure") == ()
    assert "信息处理费" in dict(fmt.prompts)["六、其他需要报告的事项"]
    source = DEFINITION.read_text(encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"report\.figures.*t3\.new\.totl"):
        loads(source.replace('new = ["t3.new.total"]', 'new = ["t3.new.totl"]', 1), "edited.toml")
    with pytest.raises(DefinitionError, match=r"report\.prompts.*七、"):
        loads(source.replace('prompts = { "六、', 'prompts = { "七、', 1), "edited.toml")
