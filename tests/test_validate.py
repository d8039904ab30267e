"""The batch: real returns written from the template, read by the reader, checked as one frame;
roster, duplicates, year and last year's figures."""

from __future__ import annotations

import functools
from pathlib import Path

import openpyxl
import pytest
from helpers.returns import CONSISTENT
from helpers.returns import make_return as _make_return

from xltool.errors import UsageError
from xltool.model import Unit
from xltool.validate import validate_paths

TOWN = Unit("230723101", "乌伊岭镇", "乡镇")
TOWN2 = Unit("230723102", "汤旺河镇", "乡镇")
DEPT = Unit("230723201", "汤旺县教育局", "部门")

make_return = functools.partial(_make_return, name="{code}_{year}.xlsx")  # returns named by unit and year


def rules_of(report, file=None) -> list[str]:
    return [f.rule for f in report.findings if file is None or f.file == file]


def test_clean_batch_passes(tmp_path):
    make_return(tmp_path, TOWN)
    make_return(tmp_path, DEPT, values={**CONSISTENT, "t2_1.rules.valid": 2, "t2_8.fees.amount": 12345})
    v = validate_paths([tmp_path])
    assert v.report.valid and v.report.findings == []
    assert [w.status for w in v.report.workbooks] == ["passed", "passed"]
    assert [w.unit_code for w in v.report.workbooks] == [TOWN.code, DEPT.code]
    assert len(v.valid_records) == 2
    assert v.frame.loc[1, "t2_8.fees.amount"] == 12345
    assert list(v.frame["unit_code"]) == [TOWN.code, DEPT.code]


def test_broken_r1_is_reported_at_its_cells(tmp_path):
    path = make_return(
        tmp_path, TOWN, values={"t3.new.natural": 5, "t3.carried_in.natural": 3, "t3.disclosed.natural": 7}
    )
    v = validate_paths([path])
    assert not v.report.valid
    (w,) = v.report.workbooks
    assert (w.status, w.errors, w.warnings, w.file) == ("errors", 2, 0, str(path))
    f = v.report.findings[0]
    assert f.message == "表三 D5+D6 ≠ D28+D29（自然人列：一+二=8，（七）总计+四=7，差 1）"
    assert (f.sheet, f.cells, f.rule, f.severity, f.unit_code) == (
        "表三 依申请公开",
        ("D5", "D6", "D28", "D29"),
        "T3-R1",
        "error",
        TOWN.code,
    )
    assert v.valid_records == []


def test_total_typed_over_names_the_lost_formula(tmp_path):
    path = make_return(tmp_path, DEPT)
    wb = openpyxl.load_workbook(path)
    wb["表三 依申请公开"]["J5"] = 3  # the 总计 of row 一 typed over: the formula is gone
    wb.save(path)
    v = validate_paths([path])
    r3 = [f for f in v.report.findings if f.rule == "T3-R3"]
    assert [f.message for f in r3] == [
        "表三 一、本年新收政府信息公开申请数量行总计 J5 显示 3，D5:I5 之和为 2，差 1；J5 的公式已被改写（应为求和公式）"
    ]
    assert r3[0].cells == ("D5", "E5", "F5", "G5", "H5", "I5", "J5")


def test_township_reporting_rules_gets_a_warning_only(tmp_path):
    path = make_return(tmp_path, TOWN, values={**CONSISTENT, "t2_1.rules.issued": 1, "t2_1.rules.valid": 1})
    v = validate_paths([path])
    assert v.report.valid and rules_of(v.report) == ["T2-W1"]
    assert v.report.workbooks[0].status == "warnings"
    assert "B4 本年制发件数=1" in v.report.findings[0].message


def test_roster_level_decides_the_township_rule(tmp_path):
    """The roster knows the unit is a 街道 even when the template was made with another level."""
    unit = Unit("230723301", "某街道办事处", "部门")
    make_return(tmp_path, unit, values={**CONSISTENT, "t2_1.rules.valid": 1})
    roster = [Unit(unit.code, unit.name, "街道")]
    assert rules_of(validate_paths([tmp_path], roster=roster).report) == ["T2-W1"]
    assert rules_of(validate_paths([tmp_path]).report) == []


def test_roster_missing_unknown_and_renamed(tmp_path):
    make_return(tmp_path, TOWN)
    make_return(tmp_path, Unit(DEPT.code, "教育局", "部门"))
    stranger = make_return(tmp_path, Unit("999", "外县单位", "部门"))
    roster = [TOWN, TOWN2, DEPT]
    v = validate_paths([tmp_path], roster=roster)
    by_rule = {f.rule: f for f in v.report.findings}
    assert set(by_rule) == {"R-MISSING", "R-UNKNOWN", "R-NAME"}
    missing = by_rule["R-MISSING"]
    assert (missing.file, missing.unit_code, missing.severity) == ("", TOWN2.code, "warning")
    assert missing.message == "名单中的单位 汤旺河镇（230723102）没有报送 2024 年度报表"
    assert by_rule["R-UNKNOWN"].file == str(stranger) and by_rule["R-UNKNOWN"].severity == "error"
    assert by_rule["R-UNKNOWN"].message == (
        "单位代码 999（外县单位）不在报送单位名单中；请核实是否用错了模板或单位代码，或把该单位加入名单"
    )
    assert by_rule["R-NAME"].severity == "warning"
    assert by_rule["R-NAME"].message == (
        "报表中的单位名称“教育局”与名单中的“汤旺县教育局”（代码 230723201）不一致；请核实是否用错了模板或单位代码，"
        "如只是同一单位的另一种写法，请在名单中该单位的别名（aliases）列写上“教育局”"
    )
    assert v.report.findings[-1].rule == "R-MISSING"  # roster findings come after the files
    assert {w.file: w.status for w in v.report.workbooks} == {
        str(tmp_path / f"{TOWN.code}_2024.xlsx"): "passed",
        str(tmp_path / f"{DEPT.code}_2024.xlsx"): "warnings",
        str(stranger): "errors",
    }


def test_two_returns_from_one_unit_are_duplicates_on_both(tmp_path):
    a = make_return(tmp_path, TOWN, name="a.xlsx")
    b = make_return(tmp_path, TOWN, name="b.xlsx", values={**CONSISTENT, "t2_5.licensing.decisions": 4})
    make_return(tmp_path, TOWN, year=2023, name="c.xlsx")  # another year: not a duplicate (but Y-YEAR)
    v = validate_paths([tmp_path])
    dups = [f for f in v.report.findings if f.rule == "R-DUPLICATE"]
    assert [f.file for f in dups] == [str(a), str(b)]
    assert dups[0].message == f"单位 乌伊岭镇（230723101）的 2024 年度报表有 2 份：{a}、{b}；只能保留一份"
    assert all(f.severity == "error" for f in dups)
    assert rules_of(v.report, str(tmp_path / "c.xlsx")) == ["Y-YEAR"]


def test_identical_duplicates_say_so(tmp_path):
    a = make_return(tmp_path, TOWN, name="a.xlsx")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a copy.xlsx").write_bytes(a.read_bytes())
    v = validate_paths([tmp_path])
    assert all("（内容完全相同）" in f.message for f in v.report.findings)
    assert rules_of(v.report) == ["R-DUPLICATE", "R-DUPLICATE"]


def test_year_of_the_batch_and_given_year(tmp_path):
    make_return(tmp_path, TOWN)
    make_return(tmp_path, DEPT)
    old = make_return(tmp_path, TOWN2, year=2023)
    v = validate_paths([tmp_path])
    (f,) = v.report.findings
    assert (f.file, f.rule, f.severity) == (str(old), "Y-YEAR", "error")
    assert f.message == "报表年度为 2023，本批报表多数为 2024 年度；请确认是否报错了年度或用错了模板"
    v = validate_paths([tmp_path], year=2023)
    assert len([f for f in v.report.findings if f.rule == "Y-YEAR"]) == 2
    assert v.report.findings[0].message == "报表年度为 2024，与指定的 2023 年度不符；请确认是否报错了年度或用错了模板"


# --------------------------------------------------------------------------- last year


def test_previous_returns_check_carried_over(tmp_path):
    this, last = tmp_path / "2024", tmp_path / "2023"
    this.mkdir(), last.mkdir()
    make_return(this, TOWN)  # carried in 1 (自然人)
    make_return(this, DEPT)
    make_return(
        last, TOWN, year=2023, values={"t3.new.natural": 2, "t3.disclosed.natural": 0, "t3.carried_out.natural": 2}
    )
    v = validate_paths([this], previous=[last])
    town = str(this / f"{TOWN.code}_2024.xlsx")
    r5 = [f for f in v.report.findings if f.rule == "T3-R5"]
    assert [f.message for f in r5] == [
        "表三 D6 ≠ 上年D29（自然人列：二=1，上年四=2，差 1）",
        "表三 J6 ≠ 上年J29（总计列：二=1，上年四=2，差 1）",
    ]
    assert {f.file for f in r5} == {town}
    (no_prev,) = [f for f in v.report.findings if f.rule == "X-NO-PREVIOUS"]
    assert no_prev.file == str(this / f"{DEPT.code}_2024.xlsx") and no_prev.severity == "warning"
    assert no_prev.message == "没有找到该单位 2023 年度的报表，跨年度校验（T3-R5、T2-W2）未做（提示）"
    assert v.previous[TOWN.code]["t3.carried_out.natural"] == 2
    # without --previous the cross-year rules are not run at all
    assert not any(f.rule in ("T3-R5", "X-NO-PREVIOUS") for f in validate_paths([this]).report.findings)


def test_previous_of_the_wrong_year_is_not_used(tmp_path):
    this, last = tmp_path / "2024", tmp_path / "old"
    this.mkdir(), last.mkdir()
    make_return(this, TOWN)
    stale = make_return(last, TOWN, year=2022, values={"t3.carried_out.natural": 5, "t3.new.natural": 5})
    v = validate_paths([this], previous=[last])
    assert rules_of(v.report) == ["X-NO-PREVIOUS", "X-PREV-YEAR"]
    f = v.report.findings[1]
    assert (f.file, f.severity) == (str(stale), "warning")
    assert f.message == "上年报表的年度为 2022，应为 2023；未用于跨年度校验"
    assert [w.file for w in v.report.workbooks] == [str(this / f"{TOWN.code}_2024.xlsx")]


def test_previous_consolidated_workbook_gives_each_units_figures(tmp_path):
    from xltool.write.consolidation import consolidate

    this, last = tmp_path / "2024", tmp_path / "2023"
    this.mkdir(), last.mkdir()
    make_return(this, TOWN)
    make_return(this, DEPT)
    make_return(
        last, TOWN, year=2023, values={"t3.new.natural": 1, "t3.disclosed.natural": 0, "t3.carried_out.natural": 1}
    )
    make_return(
        last, DEPT, year=2023, values={"t3.new.natural": 3, "t3.disclosed.natural": 0, "t3.carried_out.natural": 3}
    )
    county = consolidate([last], tmp_path / "county_2023.xlsx", Unit("230723", "汤旺县", "县")).out
    v = validate_paths([this], previous=[county])
    r5 = [(f.file, f.message) for f in v.report.findings if f.rule == "T3-R5" and f.cells == ("D6",)]
    assert r5 == [(str(this / f"{DEPT.code}_2024.xlsx"), "表三 D6 ≠ 上年D29（自然人列：二=1，上年四=3，差 2）")]
    assert "X-NO-PREVIOUS" not in rules_of(v.report)


def test_two_previous_returns_of_one_unit_use_the_first(tmp_path):
    this, last = tmp_path / "2024", tmp_path / "2023"
    this.mkdir(), last.mkdir()
    make_return(this, TOWN)
    make_return(last, TOWN, year=2023, name="a.xlsx")  # carried out 1: matches
    b = make_return(last, TOWN, year=2023, name="b.xlsx", values={"t3.new.natural": 9, "t3.carried_out.natural": 9})
    v = validate_paths([this], previous=[last])
    (f,) = v.report.findings
    assert (f.rule, f.file, f.severity) == ("X-PREV-DUPLICATE", str(b), "warning")
    assert f.message == f"单位 乌伊岭镇（230723101）有多份上年报表；已使用 {last / 'a.xlsx'}"


def test_unreadable_previous_is_a_warning(tmp_path):
    make_return(tmp_path, TOWN)
    junk = tmp_path.parent / f"{tmp_path.name}_junk.xlsx"
    junk.write_bytes(b"not a workbook")
    v = validate_paths([tmp_path], previous=[junk])
    assert rules_of(v.report) == ["X-NO-PREVIOUS", "X-PREV-UNREADABLE"]
    assert v.report.valid


# --------------------------------------------------------------------------- files


def test_unreadable_and_non_workbook_files_get_a_result(tmp_path):
    make_return(tmp_path, TOWN)
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really")
    note = tmp_path / "说明.docx"
    note.write_bytes(b"x")
    v = validate_paths([tmp_path, note])
    results = {Path(w.file).name: (w.status, w.errors) for w in v.report.workbooks}
    assert results == {
        "broken.xlsx": ("errors", 1),
        f"{TOWN.code}_2024.xlsx": ("passed", 0),
        "说明.docx": ("errors", 1),
    }
    assert rules_of(v.report, str(note)) == ["F-NOT-DOCUMENT"]  # a Word file is read: this one is not one
    assert [r[:2] for r in rules_of(v.report, str(tmp_path / "broken.xlsx"))] == ["F-"]  # the reader's code


def test_nothing_to_read_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="没有找到可校验的报表"):
        validate_paths([tmp_path])
    with pytest.raises(UsageError, match="路径不存在"):
        validate_paths([tmp_path / "nope"])


def test_findings_are_sorted_by_file_sheet_row_column(tmp_path):
    values = {"t3.new.natural": 5, "t2_1.rules.valid": 1, "t4_review.cases.upheld": 1}
    make_return(tmp_path, TOWN, values=values, name="b.xlsx")
    make_return(tmp_path, TOWN2, values=values, name="a.xlsx")
    wb_path = tmp_path / "b.xlsx"
    wb = openpyxl.load_workbook(wb_path)
    wb["表四 复议诉讼"]["E5"] = 7
    wb.save(wb_path)
    findings = validate_paths([tmp_path]).report.findings
    keys = [(f.file, f.sheet, f.cells[0]) for f in findings]
    order = {"表二 主动公开": 0, "表三 依申请公开": 1, "表四 复议诉讼": 2}
    from xltool.definition import parse_cell

    assert keys == sorted(keys, key=lambda k: (k[0], order[k[1]], parse_cell(k[2])))
    assert [f.file for f in findings][0] == str(tmp_path / "a.xlsx")


def test_process_pool_gives_the_same_report(tmp_path):
    for i in range(6):
        make_return(tmp_path, Unit(f"23072310{i}", f"单位{i}", "部门"), values={"t3.new.natural": i})
    calls = []
    one = validate_paths([tmp_path], jobs=1, progress=lambda *a: calls.append(a))
    two = validate_paths([tmp_path], jobs=2)
    assert one.report.to_dict() == two.report.to_dict()
    assert [c[:2] for c in calls] == [(i, 6) for i in range(1, 7)]
    assert calls[0][2] == str(sorted(tmp_path.glob("*.xlsx"))[0])


def test_process_pool_works_with_spawn_as_on_windows(tmp_path):
    """Windows has no fork: the pool's workers start afresh and import what they need."""
    import multiprocessing

    for i in range(3):
        make_return(tmp_path, Unit(f"23072310{i}", f"单位{i}", "部门"), values={"t3.new.natural": i})
    previous = multiprocessing.get_start_method(allow_none=True)
    multiprocessing.set_start_method("spawn", force=True)
    try:
        two = validate_paths([tmp_path], jobs=2)
    finally:
        multiprocessing.set_start_method(previous, force=True)
    assert two.report.to_dict() == validate_paths([tmp_path], jobs=1).report.to_dict()


def test_files_are_named_as_the_caller_names_them(tmp_path):
    """``name``: how each file is called in findings, messages and progress (the page names uploads
    as uploaded, not by the temporary folder they were copied to); in the pool too."""
    folder = tmp_path / "拷贝"
    make_return(folder, TOWN, values={"t3.new.natural": 5}, name="a.xlsx")
    make_return(folder, TOWN, name="b.xlsx")  # the same unit twice: R-DUPLICATE names both files
    (folder / "说明.doc").write_bytes(b"\xd0\xcf\x11\xe0 not a workbook")

    def name(p: Path) -> str:
        return "报回/" + p.relative_to(folder).as_posix()

    for jobs in (1, 2):
        calls: list[str] = []
        progress = lambda done, total, file, seen=calls: seen.append(file)  # noqa: E731
        v = validate_paths([folder, folder / "说明.doc"], jobs=jobs, progress=progress, name=name)
        files = {f.file for f in v.report.findings}
        assert files == {"报回/a.xlsx", "报回/b.xlsx", "报回/说明.doc"}
        assert [w.file for w in v.report.workbooks] == ["报回/a.xlsx", "报回/b.xlsx", "报回/说明.doc"]
        assert calls == ["报回/a.xlsx", "报回/b.xlsx", "报回/说明.doc"]  # a .doc is read (converted) too
        duplicates = [f.message for f in v.report.findings if f.rule == "R-DUPLICATE"]
        assert len(duplicates) == 2 and all("报回/a.xlsx、报回/b.xlsx" in m for m in duplicates)
        assert not any(str(tmp_path) in f.message for f in v.report.findings)
    with pytest.raises(UsageError, match="没有找到可校验的报表.*：报回/空$"):
        (folder / "空").mkdir()
        validate_paths([folder / "空"], name=name)
