"""Outputs of a validation: the CLI (JSON equals the library's report, exit codes), the terminal,
the report workbook, and annotated copies that leave the originals untouched."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from helpers.returns import CONSISTENT as OK
from helpers.returns import make_return
from rich.console import Console

from xltool.model import Finding, Report, Unit
from xltool.validate import validate_paths
from xltool.write.annotate import ERROR_FILL, RESULT_SHEET, WARNING_FILL, annotate
from xltool.write.report import ReadProgress, print_report, report_to_json, write_report_workbook

REPO = Path(__file__).parents[1]
TOWN = Unit("230723101", "乌伊岭镇", "乡镇")
DEPT = Unit("230723201", "汤旺县教育局", "部门")
BROKEN_R1 = {"t3.new.natural": 5, "t3.carried_in.natural": 3, "t3.disclosed.natural": 7}


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The real command line, in a new process."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "xltool", "validate", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def invoke(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The same command in this process (faster), with stdout and stderr apart."""
    from click.testing import CliRunner

    from xltool.app.cli import main

    old = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner(env={"COLUMNS": "200"}).invoke(main, ["validate", *args])
    finally:
        os.chdir(old)
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    """Two returns: one township with a broken R1 and 规章 reported, one clean department."""
    folder = tmp_path / "returns"
    folder.mkdir()
    make_return(folder, TOWN, {**BROKEN_R1, "t2_1.rules.valid": 1})
    make_return(folder, DEPT, OK)
    return folder


# --------------------------------------------------------------------------- CLI


def test_cli_json_is_exactly_the_library_report(batch, tmp_path, monkeypatch):
    roster = tmp_path / "名单.csv"
    roster.write_text(
        "代码,名称,层级\n230723101,乌伊岭镇,乡镇\n230723201,汤旺县教育局,部门\n230723102,汤旺河镇,乡镇\n",
        encoding="utf-8-sig",
    )
    proc = run_cli("returns", "--roster", str(roster), "--format", "json", cwd=tmp_path)
    from xltool.roster import read_roster

    monkeypatch.chdir(tmp_path)  # the library names files as given: relative, like the CLI's argument
    library = validate_paths(["returns"], roster=read_roster(roster)).report
    assert proc.stdout == report_to_json(library) + "\n"
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert data["valid"] is False and {f["rule"] for f in data["findings"]} == {"T3-R1", "T2-W1", "R-MISSING"}
    assert data["workbooks"][0]["file"] == os.path.join("returns", f"{TOWN.code}.xlsx")


def test_cli_exit_codes(batch, tmp_path):
    dept = str(batch / f"{DEPT.code}.xlsx")
    ok = invoke(dept, cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "通过" in ok.stdout and "全部通过" in ok.stdout
    wrong_year = invoke(dept, "--year", "2023", cwd=tmp_path)
    assert wrong_year.returncode == 1 and "Y-YEAR" in wrong_year.stdout
    warnings_only = invoke(str(batch / f"{TOWN.code}.xlsx"), cwd=tmp_path)
    assert warnings_only.returncode == 1  # R1 broken; the 规章 warning alone would not fail
    assert invoke(str(tmp_path / "nope"), cwd=tmp_path).returncode == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = invoke(str(empty), cwd=tmp_path)
    assert (
        proc.returncode == 2
        and proc.stderr.startswith("错误：没有找到可校验的报表（可读取的类型：.xlsx、")
        and "Traceback" not in proc.stderr
    )
    assert invoke(dept, "--format", "yaml", cwd=tmp_path).returncode == 2
    assert invoke(dept, "--jobs", "0", cwd=tmp_path).returncode == 2


def test_cli_table_report_and_annotate(batch, tmp_path):
    report_path = tmp_path / "校验报告.xlsx"
    proc = invoke(
        str(batch), "--report", str(report_path), "--annotate", str(tmp_path / "批注"), "--jobs", "2", cwd=tmp_path
    )
    assert proc.returncode == 1
    out = proc.stdout
    for text in (
        "单位代码",
        "乌伊岭镇",
        "有错误",
        "T3-R1",
        "表三 D5+D6 ≠ D28+D29（自然人列：一+二=8，（七）总计+四=7，差 1）",
        "校验报告已保存",
    ):
        assert text in out
    assert report_path.is_file()
    assert (tmp_path / "批注" / f"{TOWN.code}_校验意见.xlsx").is_file()
    assert not (tmp_path / "批注" / f"{DEPT.code}_校验意见.xlsx").exists()  # nothing to say to a clean return


def test_cli_json_mode_keeps_notes_off_stdout(batch, tmp_path):
    proc = invoke(str(batch), "--format", "json", "--report", str(tmp_path / "r.json"), cwd=tmp_path)
    data = json.loads(proc.stdout)  # nothing but the JSON on stdout
    assert "校验报告已保存" in proc.stderr
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8")) == data


def test_report_file_may_not_be_an_input(batch, tmp_path):
    dept = batch / f"{DEPT.code}.xlsx"
    before = dept.read_bytes()
    proc = invoke(str(dept), "--report", str(dept), cwd=tmp_path)
    assert proc.returncode == 2 and "--report 不能写入输入文件" in proc.stderr
    assert dept.read_bytes() == before


def test_outputs_may_not_go_into_an_input_folder(batch, tmp_path):
    proc = invoke(str(batch), "--annotate", str(batch / "批注"), cwd=tmp_path)
    assert proc.returncode == 2 and "--annotate 不能放在被读取的文件夹中" in proc.stderr
    proc = invoke(str(batch), "--report", str(batch / "报告.xlsx"), cwd=tmp_path)
    assert proc.returncode == 2 and not (batch / "报告.xlsx").exists()
    # a JSON report is not read as a return, but it would still be a file in the inbox to account for
    proc = invoke(str(batch), "--report", str(batch / "报告.json"), cwd=tmp_path)
    assert proc.returncode == 2 and not (batch / "报告.json").exists()


def test_help_lists_every_option():
    proc = subprocess.run(
        [sys.executable, "-m", "xltool", "validate", "--help"],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
    )
    for option in ("--roster", "--previous", "--year", "--format", "--report", "--annotate", "--jobs"):
        assert option in proc.stdout


def test_chinese_help_is_printed_as_written():
    """click would join a paragraph's lines with spaces and break option names at hyphens."""
    from xltool.app.cli import main

    for command in ("validate", "consolidate", "template", "import", "publish", "serve", "demo"):
        out = CliRunner().invoke(main, [command, "--help"]).output
        assert "-\n" not in out, command
        assert not re.search(r"[\u4e00-\u9fff，。）] [\u4e00-\u9fff（]", out.split("Options:")[0]), command
    out = CliRunner().invoke(main, ["consolidate", "--help"]).output
    assert "（代码 1），除非加 --exclude-invalid。" in out


# --------------------------------------------------------------------------- terminal


def test_terminal_summary_and_findings(batch):
    report = validate_paths([batch]).report
    buf = io.StringIO()
    print_report(report, Console(file=buf, width=200, highlight=False))
    text = buf.getvalue()
    assert text.index("校验结果") < text.index("有错误") < text.index("T3-R1")
    assert "D5 D6 D28 D29" in text and "有错误：校验 2 个文件（通过 1 个，有错误 1 个）；错误 2 处，警告 1 处。" in text


def test_progress_bar_only_for_many_files():
    buf = io.StringIO()
    with ReadProgress(Console(file=buf, force_terminal=True, width=100), minimum=3) as progress:
        progress(1, 2, "a.xlsx")
        assert buf.getvalue() == ""
    with ReadProgress(Console(file=buf, force_terminal=True, width=100), minimum=3) as progress:
        for i in range(1, 4):
            progress(i, 3, f"{i}.xlsx")
    assert "读取报表" in buf.getvalue()


# --------------------------------------------------------------------------- report workbook


def test_report_workbook_rows(batch, tmp_path):
    from xltool.validate import validate_paths as vp

    report = vp([batch], roster=[TOWN, DEPT, Unit("230723102", "汤旺河镇", "乡镇")]).report
    path = write_report_workbook(report, tmp_path / "报告.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["单位汇总", "问题清单"]
    units = [r for r in wb["单位汇总"].iter_rows(values_only=True)]
    assert units[0] == ("单位代码", "单位名称", "层级", "年度", "文件", "状态", "错误数", "警告数")
    assert units[1:] == [  # in unit-code order, the units that sent nothing among them
        (TOWN.code, TOWN.name, "乡镇", 2024, str(batch / f"{TOWN.code}.xlsx"), "有错误", 2, 1),
        ("230723102", "汤旺河镇", None, None, None, "未报送", 0, 1),
        (DEPT.code, DEPT.name, "部门", 2024, str(batch / f"{DEPT.code}.xlsx"), "通过", 0, 0),
    ]
    findings = list(wb["问题清单"].iter_rows(values_only=True))
    assert findings[0] == ("文件", "单位代码", "单位名称", "工作表", "单元格", "项目", "栏目", "规则", "级别", "说明")
    assert len(findings) - 1 == len(report.findings) == 4
    assert [r[7] for r in findings[1:]] == [f.rule for f in report.findings]
    assert findings[2][4] == "D5、D6、D28、D29" and findings[2][8] == "错误"
    for ws in wb:
        assert ws.freeze_panes == "A2" and ws.auto_filter.ref.startswith("A1:")


def test_report_workbook_keeps_text_as_text(tmp_path):
    evil = Finding("=1+1.xlsx", "007", '=HYPERLINK("x")', "", (), "F-X", "error", "=SUM(A1)")
    path = write_report_workbook(Report(findings=[evil]), tmp_path / "r.xlsx")
    row = next(openpyxl.load_workbook(path)["问题清单"].iter_rows(min_row=2, values_only=True))
    assert row[:3] == ("=1+1.xlsx", "007", '=HYPERLINK("x")') and row[9] == "=SUM(A1)"
    ws = openpyxl.load_workbook(path)["问题清单"]
    assert ws["A2"].data_type == "s" and ws["J2"].data_type == "s"


# --------------------------------------------------------------------------- annotate


def test_annotate_marks_the_cells_and_leaves_the_original(batch, tmp_path):
    v = validate_paths([batch])
    town = batch / f"{TOWN.code}.xlsx"
    before = town.read_bytes()
    written = annotate(v.report, v.records, tmp_path / "out")
    assert written == [tmp_path / "out" / f"{TOWN.code}_校验意见.xlsx"] and written.skipped == {}
    assert town.read_bytes() == before
    wb = openpyxl.load_workbook(written[0])
    assert wb.sheetnames[0] == RESULT_SHEET and wb.active.title == RESULT_SHEET
    t3 = wb["表三 依申请公开"]
    for ref in ("D5", "D6", "D28", "D29", "J5", "J6", "J28", "J29"):
        assert t3[ref].fill.fgColor.rgb == ERROR_FILL
        assert t3[ref].comment.author == "xltool" and "T3-R1" in t3[ref].comment.text
    assert "一+二=8" in t3["D5"].comment.text
    assert t3["E5"].comment is None and t3["E5"].fill.fgColor.rgb != ERROR_FILL
    t2 = wb["表二 主动公开"]
    assert t2["D4"].fill.fgColor.rgb == WARNING_FILL and "T2-W1" in t2["D4"].comment.text
    assert t3.protection.sheet and t2.protection.sheet  # protection kept as it was
    assert wb["_xltool"].sheet_state == "veryHidden"
    rows = list(wb[RESULT_SHEET].iter_rows(min_row=2, values_only=True))
    assert [r[2] for r in rows] == [f.rule for f in v.report.findings_for(str(town))]
    # the annotated copy is still the same return: validating it finds the same problems
    again = validate_paths([written[0]]).report
    assert [f.message for f in again.findings] == [f.message for f in v.report.findings_for(str(town))]


def test_annotate_merged_cell_goes_to_top_left_and_file_findings_to_the_list(batch, tmp_path):
    v = validate_paths([batch / f"{DEPT.code}.xlsx"])
    file = v.records[0].file
    extra = [
        Finding(file, DEPT.code, DEPT.name, "表二 主动公开", ("C8",), "T-X", "warning", "合并单元格内"),
        Finding(file, DEPT.code, DEPT.name, "", (), "R-NAME", "warning", "名称不一致"),
    ]
    out = annotate(Report(v.report.workbooks, extra), v.records, tmp_path / "out")
    wb = openpyxl.load_workbook(out[0])
    assert wb["表二 主动公开"]["B8"].comment.text == "【警告 T-X】合并单元格内"
    assert list(wb[RESULT_SHEET].iter_rows(min_row=2, values_only=True)) == [
        ("表二 主动公开", "C8", "T-X", "警告", "合并单元格内"),
        ("（整个文件）", None, "R-NAME", "警告", "名称不一致"),
    ]


def test_annotate_never_overwrites_an_input_and_skips_other_formats(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    make_return(folder, TOWN, BROKEN_R1, name="a.xlsx")
    # an input that already carries the annotated name, in the output folder itself
    clash = make_return(folder, DEPT, BROKEN_R1, name="a_校验意见.xlsx")
    clash_bytes = clash.read_bytes()
    (folder / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 broken")
    v = validate_paths([folder])
    written = annotate(v.report, v.records, folder)
    assert clash.read_bytes() == clash_bytes
    assert sorted(p.name for p in written) == ["a_校验意见 (2).xlsx", "a_校验意见_校验意见.xlsx"]
    assert list(written.skipped) == [str(folder / "old.xls")]
    assert "不能生成批注副本" in written.skipped[str(folder / "old.xls")]


def test_large_batch_summary_lists_only_what_needs_attention(monkeypatch):
    from xltool.model import Report, WorkbookResult
    from xltool.write import report as rp

    monkeypatch.setattr(rp, "FULL_SUMMARY_MAX", 3)
    rep = Report(
        workbooks=[WorkbookResult(f"{i}.xlsx", f"{i:03d}", f"单位{i}", "passed") for i in range(5)]
        + [WorkbookResult("bad.xlsx", "999", "坏单位", "errors", errors=1)]
    )
    buf = io.StringIO()
    rp.print_report(rep, Console(file=buf, width=140))
    text = buf.getvalue()
    assert "坏单位" in text and "单位0" not in text
    assert "另有 5 个文件通过，未逐一列出" in text
