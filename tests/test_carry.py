"""Templates that carry last year's figures (``xltool template --previous``): 二、上年结转 filled with last
year's 四、结转下年度继续办理 and locked, last year's 现行有效件数 beside 表二 with a live check, and a carried
figure typed over caught by validate. Last year is the samples' 2023 consolidated workbook."""

from __future__ import annotations

import csv
import hashlib
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from xltool.definition import get_format, loads
from xltool.errors import DefinitionError
from xltool.model import IDENT_SHEET, LastYear, Unit
from xltool.previous import read_last_year
from xltool.read.detail import read_detail
from xltool.roster import read_roster
from xltool.validate import validate_paths
from xltool.write.template import CHECK_OK, CHECK_WARN, template_file_name, write_template, write_templates

REPO = Path(__file__).parents[1]
LAST_YEAR = REPO / "samples" / "汤旺县" / "2023" / "汤旺县2023年度政府信息公开统计汇总.xlsx"
ROSTER = REPO / "samples" / "data" / "汤旺县-名单.csv"
FMT = get_format()
UNITS = read_roster(ROSTER)
OFFICE = next(u for u in UNITS if u.code == "230723001")  # carried one application of a natural person into 2024
NEWCOMER = Unit("230723109", "新设镇", "乡镇")  # on this year's roster, not in last year's figures

CARRIED_IN = [cid for cid, _ in FMT.carries]


def _sheet_cell(fmt, cid):
    cell = fmt.cells[cid]
    return cell.sheet, cell.address


def _ident(wb) -> dict[str, str]:
    return {r[0].value: r[1].value for r in wb[IDENT_SHEET].iter_rows(max_col=2)}


@pytest.fixture(scope="module")
def carried_dir(tmp_path_factory):
    """This year's templates of the roster plus a newcomer, made with the 2023 consolidated workbook."""
    out = tmp_path_factory.mktemp("templates")
    units = [*UNITS, NEWCOMER]
    previous, findings = read_last_year([LAST_YEAR], FMT, 2024, units)
    assert findings == []
    written = write_templates(FMT, units, 2024, out, previous=previous)
    return out, written


def test_the_definition_derives_the_carried_cells_from_the_carry_rule():
    """T3-R5 (carry = true) says this year's 二、上年结转 = last year's 四、结转下年度继续办理, per column;
    the 总计 column is left to its formula."""
    assert FMT.carries == tuple(
        (f"t3.carried_in.{c.key}", f"t3.carried_out.{c.key}") for c in FMT.grid("t3").columns if c.key != "total"
    )
    refs = [(i.name, i.reference_span.ref, i.reference_check_span.ref) for i in FMT.instances if i.reference_span]
    assert refs == [("T2-W2.rules", "E4", "F4"), ("T2-W2.normative", "E5", "F5")]


def test_templates_carry_each_units_figures_of_the_detail_sheet(carried_dir):
    out, written = carried_dir
    detail = read_detail(LAST_YEAR, FMT)
    assert [u.code for u in written.carried] == [u.code for u in UNITS]
    assert written.without_previous == [NEWCOMER]
    sha = hashlib.sha256(LAST_YEAR.read_bytes()).hexdigest()
    for unit in UNITS:
        wb = openpyxl.load_workbook(out / template_file_name(unit, 2024))
        for cid, prev in FMT.carries:
            sheet, ref = _sheet_cell(FMT, cid)
            cell = wb[sheet][ref]
            assert cell.value == detail[unit.code][prev], (unit.code, cid)
            assert cell.protection.locked, (unit.code, cid)  # not an input: the township cannot type over it
            assert cell.comment is not None
            assert "上年结转：取自 2023 年度“四、结转下年度继续办理”" in cell.comment.text
            assert LAST_YEAR.name in cell.comment.text
            assert cell.fill.fgColor.rgb != wb[sheet]["D5"].fill.fgColor.rgb  # not the inputs' yellow
        t2 = wb[FMT.sheet_of("t2")]
        assert t2["E3"].value == "上年现行有效件数（参考）"
        assert [t2["E4"].value, t2["E5"].value] == [
            detail[unit.code]["t2_1.rules.valid"],
            detail[unit.code]["t2_1.normative.valid"],
        ]
        assert t2["E4"].protection.locked and t2["F4"].protection.locked
        assert t2["F5"].value.startswith("=IF((D5)-(E5+B5-C5)=0")
        ident = _ident(wb)
        carried = dict(item.split("=") for item in ident["carried"].split(";"))
        assert {k: int(v) for k, v in carried.items() if not k.startswith("prev:")} == {
            cid: detail[unit.code][prev] for cid, prev in FMT.carries
        }
        assert ident["carried_from"] == f"{LAST_YEAR.name}（SHA-256 {sha}）"
        cover = " ".join(str(c.value) for row in wb[FMT.cover.sheet].iter_rows() for c in row if c.value)
        assert "本模板已带入上年数据" in cover and "四、结转下年度继续办理" in cover


def test_a_unit_without_figures_last_year_gets_the_ordinary_template(carried_dir, tmp_path):
    out, _written = carried_dir
    plain = write_template(FMT, NEWCOMER, 2024, tmp_path / "plain.xlsx")
    got = openpyxl.load_workbook(out / template_file_name(NEWCOMER, 2024))
    want = openpyxl.load_workbook(plain)
    assert _ident(got) == _ident(want) and "carried" not in _ident(got)
    for cid in CARRIED_IN:
        sheet, ref = _sheet_cell(FMT, cid)
        assert got[sheet][ref].protection.locked is False and got[sheet][ref].comment is None
    assert got[FMT.sheet_of("t2")]["E3"].value is None


def _fill(template: Path, dest: Path, values: dict[str, int], unprotect: bool = False) -> Path:
    """A township typing into its template with openpyxl (carried cells untouched unless named)."""
    wb = openpyxl.load_workbook(template)
    for cid, value in values.items():
        sheet, ref = _sheet_cell(FMT, cid)
        if unprotect:
            wb[sheet].protection.sheet = False
        wb[sheet][ref] = value
    dest.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dest)
    return dest


# the office carried 1 application in (natural persons) and had 28 normative documents in force
BALANCED = {
    "t3.new.natural": 4,
    "t3.disclosed.natural": 5,  # 4 new + 1 carried = 5 handled + 0 carried out
    "t2_1.normative.issued": 2,
    "t2_1.normative.repealed": 1,
    "t2_1.normative.valid": 29,  # 28 + 2 - 1
}


@pytest.fixture(scope="module")
def saved_by_libreoffice(carried_dir, tmp_path_factory, libreoffice_recalc_all) -> dict[str, Path]:
    """The office's template filled BALANCED ("balanced") and with 现行有效件数 25 ("off_by_4"), both
    recalculated and saved by LibreOffice in one soffice call."""
    out, _ = carried_dir
    template = out / template_file_name(OFFICE, 2024)
    tmp = tmp_path_factory.mktemp("carry-lo")
    fills = {"balanced": BALANCED, "off_by_4": BALANCED | {"t2_1.normative.valid": 25}}
    filled = [_fill(template, tmp / "in" / f"{name}.xlsx", values) for name, values in fills.items()]
    return dict(zip(fills, libreoffice_recalc_all(filled, tmp / "lo"), strict=True))


@pytest.mark.libreoffice
def test_a_township_filling_the_template_cannot_break_t3_r5(saved_by_libreoffice):
    saved = saved_by_libreoffice["balanced"]
    t2 = openpyxl.load_workbook(saved, data_only=True)[FMT.sheet_of("t2")]
    assert [t2["F4"].value, t2["F5"].value] == [CHECK_OK, CHECK_OK]
    validation = validate_paths([saved], previous=[LAST_YEAR])
    assert validation.report.findings == [], [f.message for f in validation.report.findings]
    # without --previous the carried figures are last year's: the same result
    assert validate_paths([saved]).report.findings == []


@pytest.mark.libreoffice
def test_the_t2_check_shows_a_warning_when_last_year_plus_issued_minus_repealed_differs(saved_by_libreoffice):
    saved = saved_by_libreoffice["off_by_4"]
    wb = openpyxl.load_workbook(saved, data_only=True)
    t2 = wb[FMT.sheet_of("t2")]
    assert t2["F4"].value == CHECK_OK
    assert t2["F5"].value == f"{CHECK_WARN}（差-4）"
    # the cell's "not 正确" format is a warning colour (Excel's 中性 yellow), not the errors' red
    fills = {
        rule.operator: rule.dxf.fill.bgColor.rgb
        for cf in t2.conditional_formatting
        if "F5" in str(cf.sqref) or "F4:F5" in str(cf.sqref)
        for rule in cf.rules
    }
    assert fills["notEqual"].endswith("FFEB9C") and fills["equal"].endswith("C6EFCE")
    findings = validate_paths([saved]).report.findings  # the carried 现行有效件数 serve as last year's
    assert [(f.rule, f.severity, f.cells) for f in findings] == [("T2-W2", "warning", ("B5", "C5", "D5"))]


def test_a_carried_figure_overwritten_is_an_error_at_that_cell(carried_dir, tmp_path):
    out, _ = carried_dir
    template = out / template_file_name(OFFICE, 2024)
    # the township unprotects the sheet and types 3 over the carried 1, keeping its column balanced
    changed = BALANCED | {"t3.carried_in.natural": 3, "t3.new.natural": 2}
    filled = _fill(template, tmp_path / "in" / "office.xlsx", changed, unprotect=True)
    for previous in ([], [LAST_YEAR]):
        findings = validate_paths([filled], previous=previous).report.findings
        assert [(f.rule, f.severity, f.sheet, f.cells, f.cell_ids) for f in findings] == [
            ("X-CARRIED-CHANGED", "error", FMT.sheet_of("t3"), ("D6",), ("t3.carried_in.natural",))
        ], [f.message for f in findings]
        message = findings[0].message
        assert "带入并锁定的 1，现为 3" in message and "工作表保护被取消" in message and LAST_YEAR.name in message


def test_a_figure_carried_as_0_and_typed_over_is_caught_too(carried_dir, tmp_path):
    out, _ = carried_dir
    template = out / template_file_name(OFFICE, 2024)
    changed = BALANCED | {"t3.carried_in.business": 2, "t3.disclosed.business": 2}
    filled = _fill(template, tmp_path / "in" / "office.xlsx", changed, unprotect=True)
    findings = validate_paths([filled]).report.findings
    assert [(f.rule, f.cells) for f in findings] == [("X-CARRIED-CHANGED", ("E6",))]


def test_the_command_carries_last_year_and_lists_the_units_without(tmp_path):
    roster = tmp_path / "名单.csv"
    with roster.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(["code", "name", "level"])
        for u in [*UNITS, NEWCOMER]:
            w.writerow([u.code, u.name, u.level])
    junk = tmp_path / "上年" / "坏文件.xlsx"
    junk.parent.mkdir()
    junk.write_bytes(b"not a workbook")
    out = tmp_path / "模板"
    args = ["--roster", roster, "--year", "2024", "--out", out, "--previous", LAST_YEAR, "--previous", junk.parent]
    proc = subprocess.run(
        [sys.executable, "-m", "xltool", "template", *map(str, args)], capture_output=True, text=True, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert f"{len(UNITS)} 个模板已带入 2023 年度数据" in proc.stdout
    assert "没有 2023 年度数据" in proc.stdout and f"{NEWCOMER.code} {NEWCOMER.name}" in proc.stdout
    assert "警告：" in proc.stderr and "坏文件.xlsx" in proc.stderr and "X-PREV-UNREADABLE" in proc.stderr
    wb = openpyxl.load_workbook(out / template_file_name(OFFICE, 2024))
    sheet, ref = _sheet_cell(FMT, "t3.carried_in.natural")
    assert wb[sheet][ref].value == 1 and wb[sheet][ref].protection.locked


def _definition(old: str, new: str):
    text = (REPO / "workbook_templates" / "gov-info-disclosure-2021.toml").read_text(encoding="utf-8")
    assert text.count(old) == 1
    return loads(text.replace(old, new), "test.toml")


def test_carry_and_reference_positions_are_checked_when_the_definition_is_loaded():
    with pytest.raises(DefinitionError, match=r"rules\[\d+\]\.carry"):
        _definition('rhs = ["prev:carried_out"]\n', 'rhs = ["prev:carried_out", "new"]\n')
    with pytest.raises(DefinitionError, match=r"rules\[\d+\]\.reference_at"):
        _definition('reference_at = "E4:E5"', 'reference_at = "E4:F5"')
    with pytest.raises(DefinitionError, match=r"rules\[\d+\]\.reference_check_label"):
        _definition('reference_check_label = ["F3", ', 'reference_check_label = ["F3x", ')
    with pytest.raises(DefinitionError, match="D4 同时被"):
        _definition('reference_check_at = "F4:F5"', 'reference_check_at = "D4:D5"')
    # the layout fingerprint does not depend on where last year's figures are shown
    assert _definition('reference_at = "E4:E5"', 'reference_at = "G4:G5"').fingerprint == FMT.fingerprint


def test_the_2019_format_carries_its_own_rows(tmp_path):
    """The carry comes from each definition's T3-R5: the 2019 trial format's 表三 rows, not the 2021 ones."""
    fmt = get_format("gov-info-disclosure-2019")
    last = LastYear({prev: 2 for _, prev in fmt.carries}, 2019, "2019汇总.xlsx")
    path = write_template(fmt, Unit("230723101", "乌伊岭镇", "乡镇"), 2020, tmp_path / "t.xlsx", carried=last)
    wb = openpyxl.load_workbook(path)
    for cid, _prev in fmt.carries:
        cell = wb[fmt.cells[cid].sheet][fmt.cells[cid].address]
        assert cell.value == 2 and cell.protection.locked and "2019汇总.xlsx" in cell.comment.text
