"""The 2019 trial format (国办公开办函〔2019〕60号) beside the 2021 one: nothing in xltool is
hard-wired to one format. Old-format templates are made, read, validated and consolidated by their
own definition; a hand-typed workbook in the 2019 layout is recognised as superseded."""

from __future__ import annotations

import functools
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from helpers.returns import make_return, type_values
from helpers.template import assert_structure
from hypothesis import given
from hypothesis import strategies as st

from xltool.app.cli import main
from xltool.definition import builtin_formats, get_format
from xltool.errors import ConsolidationRefused
from xltool.model import ERROR, IDENT_SHEET, Identity, Unit
from xltool.read.dispatch import read_return
from xltool.rules.schema import frame_from_records, schema_findings
from xltool.validate import validate_paths
from xltool.values import AMOUNT_SCALE, parse_value
from xltool.write.consolidation import consolidate
from xltool.write.template import template_identity, write_template

ID_2019, ID_2021 = "gov-info-disclosure-2019", "gov-info-disclosure-2021"
FMT = get_format(ID_2019)
NEW = get_format(ID_2021)
# values typed as given (a clerk's 12.5 万元, a negative 本年增/减), saved without cached results
fill = functools.partial(type_values, fmt=FMT)
DOMAIN = Path(__file__).parent / "fixtures" / "format-2021.md"  # the domain notes of both formats
TOWN = Unit("230723101", "乌伊岭镇", "乡镇")
TOWN2 = Unit("230723102", "汤旺河镇", "乡镇")
COUNTY = Unit("230723", "汤旺县", "县")

# R1 holds in every column; negative 本年增/减 and a decimal 采购总金额 (万元) on 表二
FILLED = {
    "t3.new.natural": 3,
    "t3.carried_in.natural": 1,
    "t3.disclosed.natural": 2,
    "t3.other_handling.natural": 1,
    "t3.carried_out.natural": 1,
    "t3.new.business": 1,
    "t3.withheld_secret.business": 1,
    "t2_1.normative.made": 4,
    "t2_1.normative.published": 4,
    "t2_1.normative.public_total": 31,
    "t2_5.licensing.previous": 40,
    "t2_5_change.licensing.change": -3,
    "t2_5.licensing.decisions": 120,
    "t2_6_change.penalty.change": 2,
    "t2_8.fees.previous": 5,
    "t2_8_change.fees.change": -5,
    "t2_9.procurement.items": 2,
    "t2_9_amount.procurement.amount": 12.5,
    "t4_review.cases.upheld": 1,
}


def cells_of(fmt, kind: str) -> set[str]:
    return {c.id for c in fmt.cells.values() if c.kind == kind}


def make_template(folder: Path, unit: Unit, year: int = 2021) -> Path:
    """Through the command line, as a county would."""
    out = folder / f"{unit.code}.xlsx"
    args = ["template", "--format-id", ID_2019, "--unit-code", unit.code, "--unit-name", unit.name]
    result = CliRunner().invoke(main, [*args, "--level", unit.level, "--year", str(year), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def scaled(values: dict[str, object]) -> dict[str, int]:
    return {
        cid: round(v * AMOUNT_SCALE) if FMT.cells[cid].kind == "amount" else int(v)  # type: ignore[operator]
        for cid, v in values.items()
    }


# --------------------------------------------------------------------------- the definition


def test_both_formats_are_builtin_and_told_apart():
    assert set(builtin_formats()) == {ID_2019, ID_2021}
    assert (FMT.version, FMT.document) == ("2019", "国办公开办函〔2019〕60号")
    assert FMT.fingerprint != NEW.fingerprint
    assert get_format() is NEW  # the default stays the format in force


def test_2019_tables_have_their_own_shape():
    t3 = FMT.grid("t3")
    assert len(t3.rows) == 23 and len(t3.columns) == 7
    assert [r.label for r in t3.rows][-3:] == ["（六）其他处理", "（七）总计", "四、结转下年度继续办理"]
    assert len(FMT.cells) == 22 + 23 * 7 + 15  # 表二 22, 表三 161, 表四 15
    t2 = {c.address: (c.kind, c.row_label, c.col_label) for c in FMT.cells.values() if c.table == "t2"}
    assert t2["B4"] == ("count", "规章", "本年新制作数量")
    assert t2["D5"] == ("count", "规范性文件", "对外公开总数量")
    assert t2["C9"] == ("delta", "其他对外管理服务事项", "本年增/减")
    assert t2["C13"] == ("delta", "行政强制", "本年增/减")
    assert t2["C16"] == ("delta", "行政事业性收费", "本年增/减")
    assert t2["C19"] == ("amount", "政府集中采购", "采购总金额")
    assert {FMT.cells[c].address for c in cells_of(FMT, "delta")} == {"C8", "C9", "C12", "C13", "C16"}
    assert FMT.grid("t2_9_amount").unit == "万元"
    assert not cells_of(NEW, "delta")


def test_rules_keep_the_2021_codes_where_the_rule_is_the_same():
    assert [r.code for r in FMT.rules] == ["T3-R1", "T3-R2", "T3-R3", "T3-R4", "T3-R5", "T4-R6", "T2-W1"]
    for rule in FMT.rules:
        old = next(r for r in NEW.rules if r.code == rule.code)
        assert (rule.kind, rule.severity, rule.per, rule.lhs, rule.rhs, rule.target) == (
            old.kind,
            old.severity,
            old.per,
            old.lhs,
            old.rhs,
            old.target,
        ), rule.code
    r4 = next(i for i in FMT.instances if i.name == "T3-R4.natural")
    assert len(r4.rhs) == 19 and r4.rhs[-1].cell == "t3.other_handling.natural"
    assert r4.lhs[0].cell == "t3.total.natural" and FMT.cells["t3.total.natural"].address == "D26"
    r1 = next(i for i in FMT.instances if i.name == "T3-R1.natural")
    assert [FMT.cells[t.cell].address for t in r1.lhs + r1.rhs] == ["D5", "D6", "D26", "D27"]
    assert r1.check_span is not None and r1.check_span.ref == "D28"
    w1 = next(i for i in FMT.instances if i.rule.code == "T2-W1")
    assert w1.cells == ("t2_1.rules.made", "t2_1.rules.published", "t2_1.rules.public_total")


def test_the_same_statutory_item_keeps_its_cell_id():
    """表三 and 表四 differ only in （六）其他处理, so every other cell id is shared."""
    for table in ("t3", "t4"):
        old = {c for c, cell in NEW.cells.items() if cell.table == table and not cell.row_key.startswith("other_")}
        new = {c for c, cell in FMT.cells.items() if cell.table == table and cell.row_key != "other_handling"}
        assert old == new, table


def test_every_drawn_label_is_worded_as_in_the_domain_notes():
    text = DOMAIN.read_text(encoding="utf-8")
    for table in FMT.tables:
        labels = [table.title] + [lab.text for lab in table.labels]
        labels += [line.label for g in table.grids for line in g.rows + g.columns if line.span]
        for label in labels:
            assert label in text, (table.key, label)


# --------------------------------------------------------------------------- the template


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return write_template(FMT, TOWN, 2024, tmp_path_factory.mktemp("tpl2019") / "t.xlsx")


def test_template_structure_matches_the_2019_definition(template):
    assert_structure(template, FMT, template_identity(FMT, TOWN, 2024))  # the helper expects 2024


def test_delta_cells_take_either_sign_and_say_so(template):
    wb = openpyxl.load_workbook(template)
    ws = wb[FMT.sheet_of("t2")]
    rules = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            for row, col in rng.cells:
                rules[(row - 1, col - 1)] = dv
    for cid in cells_of(FMT, "delta"):
        c = FMT.cells[cid]
        dv = rules[(c.row, c.col)]
        assert (dv.type, int(dv.formula1) < 0 < int(dv.formula2)) == ("whole", True), cid
        assert "负数" in dv.prompt and "负数" in dv.error
    count = FMT.cells["t2_5.licensing.previous"]
    assert rules[(count.row, count.col)].formula1 == "0"
    amount = FMT.cells["t2_9_amount.procurement.amount"]
    assert "万元" in rules[(amount.row, amount.col)].prompt


def test_cover_says_the_format_is_superseded(template):
    ws = openpyxl.load_workbook(template)[FMT.cover.sheet]
    subtitle = ws[FMT.cover.subtitle_span.top_left].value
    assert "国办公开办函〔2019〕60号" in subtitle and "2021" in subtitle


def test_cli_template_carries_the_2019_identification(tmp_path):
    path = make_template(tmp_path, TOWN)
    rows = openpyxl.load_workbook(path)[IDENT_SHEET].iter_rows(max_col=2, values_only=True)
    ident = Identity.from_mapping(dict(rows))
    assert (ident.format_id, ident.format_version, ident.fingerprint) == (ID_2019, "2019", FMT.fingerprint)
    rec = read_return(path)
    assert rec.format is FMT and rec.findings == [] and set(rec.values) == set(FMT.cells)
    assert all(v == 0 for v in rec.values.values())


# --------------------------------------------------------------------------- 本年增/减 values


@pytest.mark.parametrize(
    ("raw", "value", "code"),
    [
        (-3, -3, None),
        (-3.0, -3, None),
        (0, 0, None),
        ("-3", -3, "V-TEXT-NUMBER"),
        ("\u22123", -3, "V-FULLWIDTH"),  # the typographic minus sign is not the ASCII one
        ("－３", -3, "V-FULLWIDTH"),
        (-2.5, None, "V-DECIMAL"),
        ("/", None, "V-PLACEHOLDER"),
        (None, None, "V-BLANK"),
        ("减3", None, "V-TEXT"),
    ],
)
def test_delta_reads_negative_numbers_and_nothing_else_new(raw, value, code):
    p = parse_value(raw, "delta")
    assert (p.value, p.code) == (value, code)


def test_counts_and_amounts_still_refuse_negatives():
    assert parse_value(-3, "count").code == "V-NEGATIVE"
    assert parse_value(-3.0, "amount").code == "V-NEGATIVE"
    assert parse_value("-3", "count").code == "V-NEGATIVE"


@given(st.integers(-(10**14), 10**14))
def test_any_whole_delta_reads_as_itself(n):
    for raw in (n, float(n)):
        assert parse_value(raw, "delta") == (n, None, None, "")
    assert parse_value(str(n), "delta").value == n


def test_the_schema_checks_no_sign_on_delta_cells(template):
    """A negative count that reached the frame is caught; a negative 本年增/减 is not an error."""
    rec = read_return(template)
    rec.values["t2_5_change.licensing.change"] = -4
    rec.values["t2_5.licensing.previous"] = -1
    found = schema_findings(frame_from_records([rec], FMT), FMT, [rec])
    assert [(f.rule, f.cells) for f in found] == [("V-NEGATIVE", ("B8",))]


# --------------------------------------------------------------------------- end to end


@pytest.fixture
def returns(tmp_path) -> Path:
    """Two townships' 2023 returns, typed into CLI-made 2019 templates with openpyxl."""
    folder = tmp_path / "returns"
    folder.mkdir()
    fill(make_template(folder, TOWN), FILLED)
    fill(
        make_template(folder, TOWN2),
        {**FILLED, "t2_5_change.licensing.change": 7, "t2_9_amount.procurement.amount": 0.25},
    )
    return folder


def test_2019_returns_validate_clean(returns):
    v = validate_paths([returns])
    assert v.report.valid and v.report.findings == [], v.report.findings
    assert list(v.frames) == [ID_2019]
    rec = v.records[0]
    assert rec.format is FMT
    assert rec.values["t2_5_change.licensing.change"] == -3
    assert rec.values["t2_9_amount.procurement.amount"] == 12_500_000
    assert rec.values["t3.total.natural"] == 3 and rec.values["t3.new.total"] == 4
    result = CliRunner().invoke(main, ["validate", str(returns)])
    assert result.exit_code == 0, result.output


def test_a_broken_r1_in_a_2019_return_is_caught_at_its_cells(tmp_path):
    path = fill(
        make_template(tmp_path, TOWN), {"t3.new.natural": 5, "t3.carried_in.natural": 3, "t3.disclosed.natural": 7}
    )
    v = validate_paths([path])
    assert not v.report.valid
    r1, r1_total = [f for f in v.report.findings if f.rule == "T3-R1"]  # the 自然人 and 总计 columns
    assert r1_total.cells == ("J5", "J6", "J26", "J27")
    assert (r1.sheet, r1.cells, r1.severity, r1.col_label) == (
        "表三 依申请公开",
        ("D5", "D6", "D26", "D27"),
        ERROR,
        "自然人",
    )
    assert "D5+D6 ≠ D26+D27" in r1.message and "差 1" in r1.message


def test_a_negative_count_beside_a_delta_is_still_an_error(tmp_path):
    path = fill(make_template(tmp_path, TOWN), {"t2_5.licensing.previous": -1, "t2_5_change.licensing.change": -1})
    v = validate_paths([path])
    assert [(f.rule, f.cells) for f in v.report.findings] == [("V-NEGATIVE", ("B8",))]


def test_two_2019_returns_consolidate_into_a_2019_return(returns, tmp_path):
    out = tmp_path / "汤旺县2023汇总.xlsx"
    args = ["consolidate", str(returns), "--out", str(out), "--unit-code", COUNTY.code, "--unit-name", COUNTY.name]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    rec = read_return(out)
    assert rec.format is FMT and rec.identity.kind == "consolidated" and rec.findings == []
    assert rec.values["t2_5_change.licensing.change"] == -3 + 7
    assert rec.values["t2_8_change.fees.change"] == -10
    assert rec.values["t2_9_amount.procurement.amount"] == 12_500_000 + 250_000
    assert rec.values["t3.total.total"] == 2 * (2 + 1 + 1)
    expected = {cid: 2 * v for cid, v in scaled(FILLED).items()}
    expected["t2_5_change.licensing.change"] = 4
    expected["t2_9_amount.procurement.amount"] = 12_750_000
    assert {cid: rec.values[cid] for cid in expected} == expected
    # one level up it is an ordinary valid 2019 return
    assert validate_paths([out]).report.findings == []


def test_a_mixed_2019_and_2021_batch_is_validated_by_format_but_not_consolidated(tmp_path):
    folder = tmp_path / "returns"
    folder.mkdir()
    fill(make_template(folder, TOWN), FILLED)
    old = {"t3.new.natural": 1, "t3.disclosed.natural": 1}
    make_return(folder / "new.xlsx", TOWN2, old, year=2021, fmt=NEW)
    v = validate_paths([folder])
    assert v.report.valid and set(v.frames) == {ID_2019, ID_2021}
    assert {r.file: r.format.id for r in v.records} == {
        str(folder / f"{TOWN.code}.xlsx"): ID_2019,
        str(folder / "new.xlsx"): ID_2021,
    }
    out = tmp_path / "county.xlsx"
    with pytest.raises(ConsolidationRefused) as refused:
        consolidate([folder], out, COUNTY)
    message = str(refused.value)
    assert message.startswith("报表的格式不一致")
    assert "国办公开办函〔2019〕60号格式（2019 年版）1 份" in message and f"{TOWN.code}.xlsx" in message
    assert "国办公开办函〔2021〕30号格式（2021 年版）1 份" in message and "new.xlsx" in message
    assert not out.exists()


# --------------------------------------------------------------------------- no identification


def hand_typed(path: Path, fmt, values: dict[str, int]) -> Path:
    """The tables typed into a fresh workbook by hand: the labels and numbers, no identification."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for table in fmt.tables:
        ws = wb.create_sheet(table.sheet.split()[0])
        ws[table.title_span.top_left] = table.title
        for lab in table.labels:
            ws[lab.span.top_left] = lab.text
        for g in table.grids:
            for line in g.rows + g.columns:
                if line.span:
                    ws[line.span.top_left] = line.label
        for c in fmt.cells.values():
            if c.table == table.key:
                ws[c.address] = values.get(c.id, 0)
    wb.save(path)
    return path


def test_a_hand_typed_2019_workbook_is_read_with_the_2019_definition(tmp_path):
    """A sheet in the 2019 layout, made by hand: its labels say which format it is, and it is read with
    that format's definition; validating it for 2023 says the format is superseded."""
    path = hand_typed(tmp_path / "乌伊岭镇2023年报.xlsx", FMT, {"t2_5_change.licensing.change": -3})
    rec = read_return(path)
    assert [(f.rule, f.severity) for f in rec.findings] == []
    assert rec.format is FMT and rec.readable and rec.source == "workbook"
    assert (rec.identity.unit_name, rec.identity.year) == ("乌伊岭镇", 2023)
    assert rec.values["t2_5_change.licensing.change"] == -3
    v = validate_paths([path])
    assert [f.rule for f in v.report.findings] == ["Y-OLD-FORMAT"]


def test_a_2019_template_stripped_of_its_identification_is_still_recognised(template, tmp_path):
    wb = openpyxl.load_workbook(template)
    wb.remove(wb[IDENT_SHEET])
    wb.save(tmp_path / "copied.xlsx")
    rec = read_return(tmp_path / "copied.xlsx")
    assert rec.format is FMT
    # "copied.xlsx" names no unit and no year: the cover, printed beside its labels, does
    assert (rec.identity.unit_code, rec.identity.unit_name, rec.identity.year) == (TOWN.code, TOWN.name, 2024)


def test_a_hand_typed_2021_workbook_is_read_with_the_2021_definition(tmp_path):
    """Labels only 2019 printed decide for 2019; the 2021 tables typed by hand are read as 2021."""
    rec = read_return(hand_typed(tmp_path / "2023年报.xlsx", NEW, {}))
    assert rec.format is NEW
    assert [f.rule for f in rec.findings] == ["D-IDENTITY"]  # "2023年报" names the year, not the unit


# --------------------------------------------------------------------------- a real spreadsheet engine


@pytest.mark.slow  # a LibreOffice start of its own
@pytest.mark.libreoffice
def test_a_2019_return_saved_by_libreoffice_reads_the_same(tmp_path, libreoffice_recalc):
    """LibreOffice recalculates the 2019 template's formulas and keeps the any-sign validation."""
    (tmp_path / "in").mkdir()
    src = fill(make_template(tmp_path / "in", TOWN), FILLED)
    out = libreoffice_recalc(src, tmp_path / "lo")
    rec = read_return(out)
    assert rec.format is FMT and rec.findings == [] and rec.formula_lost == set()
    assert {cid: rec.values[cid] for cid in FILLED} == scaled(FILLED)
    ws = openpyxl.load_workbook(out, data_only=True)[FMT.sheet_of("t3")]
    assert ws["J26"].value == 4 and ws["D28"].value == "正确"
    change = FMT.cells["t2_5_change.licensing.change"]
    (dv,) = [
        dv
        for dv in openpyxl.load_workbook(out)[change.sheet].data_validations.dataValidation
        if change.address in dv.sqref
    ]
    assert dv.type == "whole" and int(dv.formula1) < 0 < int(dv.formula2)


@pytest.mark.parametrize(("year", "warned"), [(2021, False), (2022, True), (2024, True)])
def test_2019_tables_used_after_2021_are_warned(tmp_path, year, warned):
    """Published reports of 2023 and 2024 still use the superseded 2019 tables: say so, once."""
    path = make_template(tmp_path, TOWN, year)
    report = validate_paths([path]).report
    old = [f for f in report.findings if f.rule == "Y-OLD-FORMAT"]
    assert len(old) == int(warned)
    if warned:
        assert old[0].severity == "warning" and "国办公开办函〔2021〕30号" in old[0].message
    assert report.valid
