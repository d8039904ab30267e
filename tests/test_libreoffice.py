"""A real spreadsheet engine in the loop: templates filled with openpyxl, recalculated and saved by
LibreOffice, read back. The formulas must compute what the definition says."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from helpers.returns import type_values
from openpyxl.utils.protection import hash_password

from xltool.definition import Format, get_format
from xltool.model import IDENT_SHEET, Identity, Unit
from xltool.values import AMOUNT_SCALE
from xltool.write.template import CHECK_OK, DEFAULT_PASSWORD, template_identity, write_template

pytestmark = pytest.mark.libreoffice

FMT = get_format()
UNIT = Unit("230723101", "乌伊岭镇", "乡镇")


@pytest.fixture(scope="module")
def saved_by_libreoffice(tmp_path_factory, libreoffice_recalc_all) -> dict[str, Path]:
    """An xlsxwriter workbook with wrong cached results ("stale") and the unit's template ("template"),
    recalculated and saved by LibreOffice in one soffice call."""
    tmp = tmp_path_factory.mktemp("libreoffice")
    src = tmp / "in" / "stale.xlsx"
    src.parent.mkdir()
    with xlsxwriter.Workbook(str(src)) as wb:
        ws = wb.add_worksheet()
        ws.write_number("A1", 2)
        ws.write_number("A2", 3)
        ws.write_formula("A3", "=SUM(A1:A2)", None, 999)
        ws.write_formula("A4", '=IF(A1=A2,"正确","不符")', None, "正确")
    template = write_template(FMT, UNIT, 2024, tmp / "tpl" / "t.xlsx")
    stale, saved = libreoffice_recalc_all([src, template], tmp / "out")
    return {"stale": stale, "template": saved}


def test_libreoffice_recalculates_cached_results_on_load(saved_by_libreoffice):
    """Without the helper's profile setting LibreOffice keeps a wrong cached result of an .xlsx."""
    out = saved_by_libreoffice["stale"]
    ws = openpyxl.load_workbook(out, data_only=True).active
    assert ws["A3"].value == 5
    assert ws["A4"].value == "不符"


def _consistent_t3(rng: random.Random) -> dict[str, int]:
    """表三 inputs satisfying 一 + 二 = 三（七）+ 四 in every applicant column."""
    grid = FMT.grid("t3")
    items = [r.key for r in grid.rows if r.key not in ("new", "carried_in", "total", "carried_out")]
    values = {}
    for col in grid.columns:
        if FMT.cells[f"t3.new.{col.key}"].is_total:
            continue
        handled = 0
        for item in items:
            values[f"t3.{item}.{col.key}"] = v = rng.choice([0, 0, rng.randint(0, 40)])
            handled += v
        carried_out = values[f"t3.carried_out.{col.key}"] = rng.randint(0, 5)
        carried_in = values[f"t3.carried_in.{col.key}"] = rng.randint(0, handled + carried_out)
        values[f"t3.new.{col.key}"] = handled + carried_out - carried_in
    return values


def _expected_check(fmt: Format, inst, values: dict[str, int]) -> str:
    diff = sum(t.coef * values[t.cell] for t in inst.lhs) - sum(t.coef * values[t.cell] for t in inst.rhs)
    if diff == 0:
        return CHECK_OK
    if any(fmt.cells[t.cell].kind == "amount" for t in inst.lhs + inst.rhs):
        return f"不符（差{(Decimal(diff) / AMOUNT_SCALE).normalize():f}）"
    return f"不符（差{diff}）"


def _assert_computed(fmt: Format, path: Path, inputs: dict[str, int]) -> None:
    """Totals and check cells as LibreOffice computed them equal what the definition says."""
    wb = openpyxl.load_workbook(path, data_only=True)
    values = {c.id: inputs.get(c.id, 0) for c in fmt.input_cells}
    for cell in fmt.cells.values():  # in sheet order; totals of totals come after their parts
        if cell.is_total:
            values[cell.id] = sum(values[p] for p in cell.parts)
    for cell in fmt.cells.values():
        shown = wb[cell.sheet][cell.address].value
        scale = AMOUNT_SCALE if cell.kind == "amount" else 1
        assert Decimal(str(shown)) * scale == values[cell.id], cell.id
    for inst in fmt.instances:
        if inst.check_span:
            assert wb[inst.sheet][inst.check_span.top_left].value == _expected_check(fmt, inst, values), inst.name


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_filled_template_recalculated_by_libreoffice(tmp_path, libreoffice_recalc, seed):
    rng = random.Random(seed)
    template = write_template(FMT, UNIT, 2024, tmp_path / "tpl" / "t.xlsx")
    consistent = _consistent_t3(rng) | {
        f"{g}.cases.{k}": rng.randint(0, 9) for g in ("t4_review", "t4_direct", "t4_after") for k in ("upheld", "other")
    }
    consistent["t2_8.fees.amount"] = rng.randint(0, 10**7)
    inconsistent = {c.id: rng.randint(0, 30) for c in FMT.input_cells if c.kind == "count"}
    inconsistent["t2_8.fees.amount"] = 12345
    for name, inputs in (("consistent", consistent), ("inconsistent", inconsistent)):
        filled = type_values(template, inputs, save_as=tmp_path / name / "filled.xlsx", scaled=True)
        out = libreoffice_recalc(filled, tmp_path / name / "lo")
        _assert_computed(FMT, out, inputs)
        t3 = openpyxl.load_workbook(out, data_only=True)[FMT.sheet_of("t3")]
        r1 = [t3[i.check_span.top_left].value for i in FMT.instances if i.code == "T3-R1"]
        if name == "consistent":
            assert r1 == [CHECK_OK] * 7
        else:
            assert any(v.startswith("不符（差") for v in r1)


@pytest.mark.slow
def test_amount_checks_round_and_negative_terms_subtract(tmp_path, libreoffice_recalc, tiny_format):
    """1.1 − 0.2 = 0.9 is 正确 despite binary floating point; a real difference shows with its decimals."""
    fmt = tiny_format
    template = write_template(fmt, UNIT, 2024, tmp_path / "tpl" / "t.xlsx")
    ok = {"m.a.v": 1100000, "m.b.v": 200000, "m.c.v": 900000, "g.p.x": 7, "g.q.x": 2, "g.r.x": 5}
    bad = {"m.a.v": 1100000, "m.b.v": 200000, "m.c.v": 500001, "g.p.x": 7, "g.q.x": 2, "g.r.x": 9, "g.p.y": 1}
    for name, inputs in (("ok", ok), ("bad", bad)):
        out = libreoffice_recalc(
            type_values(template, inputs, fmt=fmt, save_as=tmp_path / name / "f.xlsx", scaled=True),
            tmp_path / name / "lo",
        )
        _assert_computed(fmt, out, inputs)
    ws = openpyxl.load_workbook(out, data_only=True)["甲表"]
    assert ws["B11"].value == "不符（差-0.399999）"  # to the fen: the 6th decimal counts
    assert [ws["B6"].value, ws["C6"].value, ws["D6"].value] == ["不符（差4）", "不符（差-1）", "不符（差3）"]


def test_protection_validation_and_identity_survive_libreoffice(saved_by_libreoffice):
    out = saved_by_libreoffice["template"]
    wb = openpyxl.load_workbook(out)
    for ws in wb.worksheets:
        if ws.title != IDENT_SHEET:
            assert ws.protection.sheet and ws.protection.password.upper() == hash_password(DEFAULT_PASSWORD)
    # LibreOffice saves a very hidden sheet as merely hidden; readers must accept both.
    assert wb[IDENT_SHEET].sheet_state in ("hidden", "veryHidden")
    ident = {r[0].value: r[1].value for r in wb[IDENT_SHEET].iter_rows(max_col=2)}
    assert Identity.from_mapping(ident) == template_identity(FMT, UNIT, 2024)
    for table in FMT.tables:
        ws = wb[table.sheet]
        validated = {}
        for dv in ws.data_validations.dataValidation:
            for row, col in (cell for rng in dv.sqref.ranges for cell in rng.cells):
                validated[(row - 1, col - 1)] = dv
        for cell in FMT.cells.values():
            if cell.table != table.key:
                continue
            dv = validated.get((cell.row, cell.col))
            assert ws[cell.address].protection.locked is cell.is_total, cell.id
            if cell.is_input:
                assert dv is not None and dv.type == ("decimal" if cell.kind == "amount" else "whole"), cell.id
                assert dv.operator == "greaterThanOrEqual" and dv.prompt, cell.id
            else:
                assert dv is None, cell.id
        checks = [i.check_span.ref for i in FMT.instances if i.sheet == table.sheet and i.check_span]
        formatted = {str(cf.sqref) for cf in ws.conditional_formatting}
        assert set(checks) <= formatted
