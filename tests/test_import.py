"""`xltool import`: a published document becomes a workbook in the template's layout that says what
the document says: the same figures, and the same findings when it is validated."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from helpers.returns import CONSISTENT, make_return

from xltool.definition import get_format
from xltool.model import IDENT_SHEET, IMPORTED, Unit
from xltool.read.dispatch import read_return
from xltool.read.from_document import ReadOptions
from xltool.totals import recompute_totals
from xltool.validate import validate_paths
from xltool.write.importer import import_documents

FMT = get_format()
TOWN = Unit("230723101", "乌伊岭镇", "乡镇")


def hand_made(path: Path, values: dict[str, object], drop_rows: tuple[str, ...] = ()) -> Path:
    """A unit's own sheet: the template's tables without the identification, every figure typed as
    a number (totals too: no formulas), then ``values`` typed as given (text, blanks and all), some
    rows of 表三 left out."""
    make_return(path, TOWN, CONSISTENT)
    numbers = recompute_totals({c.id: CONSISTENT.get(c.id, 0) for c in FMT.input_cells}, FMT)
    wb = openpyxl.load_workbook(path)
    wb.remove(wb[IDENT_SHEET])
    for cid, value in {**numbers, **values}.items():
        c = FMT.cells[cid]
        wb[c.sheet][c.address] = value
    for key in drop_rows:
        row = next(r for r in FMT.grid("t3").rows if r.key == key).index + 1
        wb[FMT.table("t3").sheet].delete_rows(row)
    wb.save(path)
    return path


def rule_cells(findings) -> list[tuple[str, str, tuple[str, ...]]]:
    return sorted((f.rule, f.severity, f.cell_ids) for f in findings)


@pytest.mark.parametrize(("strict", "blank_rule"), [(False, "D-BLANK-AS-ZERO"), (True, "V-BLANK")])
def test_an_imported_document_validates_like_the_document(tmp_path, strict, blank_rule):
    """Figures as printed (a text, a blank, a total printed as 0), a row left out: validating the
    imported workbook gives the same rule at the same cells as validating the document (a blank is
    imported as the 0 it was read as, with its warning; with strict_blanks as a blank, an error)."""
    src = tmp_path / "已公开"
    src.mkdir()
    doc = hand_made(
        src / "乌伊岭镇2024年政府信息公开工作年度报告.xlsx",
        {
            "t2_5.licensing.decisions": "6件",
            "t2_6.penalty.decisions": None,
            "t4_review.cases.upheld": 10,
            "t4_review.cases.corrected": 1,
            "t4_review.cases.total": 0,
        },
        drop_rows=("declined_mass",),
    )
    options = ReadOptions(strict_blanks=strict)
    direct = validate_paths([doc], options=options)
    assert {"V-TEXT", blank_rule, "T4-R6", "D-ROW-MISSING"} <= {f.rule for f in direct.report.findings}

    result = import_documents([src], tmp_path / "导入", options=options)
    (out,) = result.written.values()
    assert out.name == "乌伊岭镇2024年政府信息公开工作年度报告（导入）.xlsx"
    rec = read_return(out)
    assert rec.identity.kind == IMPORTED
    assert rec.identity.source_file == doc.name and len(rec.identity.source_sha256) == 64
    again = validate_paths([out])
    assert rule_cells(again.report.findings) == rule_cells(direct.report.findings)
    # totals are typed numbers, as printed: the 0 under 10 and 1 stays 0
    assert rec.values["t4_review.cases.total"] == 0 and rec.values["t4_review.cases.upheld"] == 10
    ws = openpyxl.load_workbook(out)[FMT.table("t4").sheet]
    assert ws[FMT.cells["t4_review.cases.total"].address].value == 0  # a number, not a formula
    assert rec.values["t2_6.penalty.decisions"] == (None if strict else 0)


def test_import_keeps_every_figure_of_a_clean_document(tmp_path):
    figures = dict(CONSISTENT, **{"t2_1.normative.issued": 6, "t2_1.normative.valid": 665})
    doc = hand_made(tmp_path / "src" / "乌伊岭镇2024年度报告.xlsx", {})
    wb = openpyxl.load_workbook(doc)
    for cid, value in figures.items():
        wb[FMT.cells[cid].sheet][FMT.cells[cid].address] = value
    wb.save(doc)
    result = import_documents([doc], tmp_path / "导入")
    assert result.valid
    (out,) = result.written.values()
    assert {c: v for c, v in read_return(out).values.items() if v} == {
        c: v for c, v in read_return(doc).values.items() if v
    }


def test_import_never_overwrites_and_skips_workbooks_already_in_xltool_layout(tmp_path):
    src = tmp_path / "src"
    doc = hand_made(src / "乌伊岭镇2024年度报告.xlsx", {})
    make_return(src / "模板.xlsx", TOWN)
    first = import_documents([src], tmp_path / "导入")
    second = import_documents([src], tmp_path / "导入")
    assert first.written[str(doc)].name == "乌伊岭镇2024年度报告（导入）.xlsx"
    assert second.written[str(doc)].name == "乌伊岭镇2024年度报告（导入） (2).xlsx"
    assert list(first.skipped) == [str(src / "模板.xlsx")]


def test_a_validation_is_imported_as_its_paths_are_without_reading_again(tmp_path, monkeypatch):
    import xltool.read.batch
    import xltool.read.dispatch
    import xltool.validate

    src = tmp_path / "src"
    doc = hand_made(src / "乌伊岭镇2024年度报告.xlsx", {"t3.new.natural": "十二"}, drop_rows=("carried_out",))
    make_return(src / "模板.xlsx", TOWN)
    by_paths = import_documents([src], tmp_path / "paths")
    validation = validate_paths([src])

    def read(*args, **kwargs):
        raise AssertionError("read again")

    with monkeypatch.context() as m:
        for module in (xltool.read.batch, xltool.read.dispatch, xltool.validate):
            m.setattr(module, "read_return" if module is xltool.read.dispatch else "read_all", read)
        by_validation = import_documents(validation, tmp_path / "given")
        with pytest.raises(AssertionError, match="read again"):
            import_documents([src], tmp_path / "again")
    assert by_validation.validation is validation and by_validation.skipped == by_paths.skipped
    assert {k: p.name for k, p in by_validation.written.items()} == {k: p.name for k, p in by_paths.written.items()}
    given, made = read_return(by_validation.written[str(doc)]), read_return(by_paths.written[str(doc)])
    assert given.values == made.values and given.printed == made.printed
    assert rule_cells(given.findings) == rule_cells(made.findings) != []


def test_import_refuses_an_output_folder_inside_an_input_folder(tmp_path):
    from xltool.errors import UsageError

    hand_made(tmp_path / "乌伊岭镇2024年度报告.xlsx", {})
    with pytest.raises(UsageError, match="不能放在被读取的文件夹中"):
        import_documents([tmp_path], tmp_path / "导入")


@pytest.mark.slow
def test_the_import_command(tmp_path):
    src = tmp_path / "src"
    hand_made(src / "乌伊岭镇2024年度报告.xlsx", {"t2_5.licensing.decisions": "/"})
    out = tmp_path / "导入"
    done = subprocess.run(
        [sys.executable, "-m", "xltool", "import", str(src), "--out", str(out), "--format", "json"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )
    assert done.returncode == 1, done.stderr  # an error found; the workbook is still written
    assert [f["rule"] for f in json.loads(done.stdout)["findings"]] == ["V-PLACEHOLDER"]
    assert "已导入" in done.stderr and "Traceback" not in done.stderr
    assert [p.name for p in out.iterdir()] == ["乌伊岭镇2024年度报告（导入）.xlsx"]
    usage = subprocess.run(
        [sys.executable, "-m", "xltool", "import", str(src), str(src), "--out", str(out), "--unit-code", "1"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )
    assert usage.returncode == 2 and "只能用于单个文件" in usage.stderr


def test_a_published_page_is_checked_against_last_years_consolidated_workbook_by_name(tmp_path):
    """No roster: the page names 乌伊岭镇 but carries no code; last year's 明细 names its units too.
    二、上年结转 that differs from last year's 四、结转下年度 is caught (T3-R5), not skipped."""
    from samples import SAMPLES_DIR
    from xltool.read.detail import read_detail
    from xltool.write.publish import publish

    last_year = SAMPLES_DIR / "汤旺县" / "2023" / "汤旺县2023年度政府信息公开统计汇总.xlsx"
    carried = read_detail(last_year, FMT)[TOWN.code]["t3.carried_out.natural"]
    ret = make_return(
        tmp_path / "ret", TOWN, {"t3.carried_in.natural": carried + 2, "t3.disclosed.natural": carried + 2}
    )
    page = next(p for p in publish([ret], tmp_path / "发布", docx=False).paths if not p.stem.endswith("（表格片段）"))
    v = validate_paths([page], previous=[last_year])
    assert sorted((f.rule, f.cell_ids) for f in v.report.findings) == [
        ("T3-R5", ("t3.carried_in.natural",)),
        ("T3-R5", ("t3.carried_in.total",)),
    ]
    assert v.records[0].identity.unit_code == ""  # matched by name, not given a code


def test_a_refused_document_says_why_not_already_a_workbook(tmp_path):
    """A document refused before it is read (here not a page at all, and a Word file that is no zip)
    is skipped with its finding, never as "已是 xltool 工作簿"."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "乌伊岭镇2024年度报告.docx").write_bytes(b"not a zip at all" * 10)
    (src / "乌伊岭镇2024年度报告.xlsx").write_bytes(b"\x00" * 100)
    result = import_documents([src], tmp_path / "导入")
    assert len(result.skipped) == 2 and not result.written
    for why in result.skipped.values():
        assert "无需导入" not in why and why.startswith("未导入："), why
