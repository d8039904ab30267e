"""Every file in an input folder is accounted for: read, or a finding, in the printed table, the JSON
and the report workbook. Old office files are converted by LibreOffice when it is installed; a unit
whose only file could not be read is 已报送，无法读取, never 未报送."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import openpyxl
import pytest
from helpers.documents import UNITS, YEAR, docx_report, html_page, lay_out, random_fill
from helpers.libreoffice import convert
from helpers.returns import make_return

from xltool.errors import UsageError
from xltool.findings import SENT_UNREADABLE
from xltool.model import ERROR, WARNING, Unit
from xltool.read.dispatch import read_return
from xltool.validate import validate_paths
from xltool.write.report import SUMMARY_SHEET, summary_rows

ROOT = Path(__file__).parents[1]
TOWN = Unit("230723101", "乌伊岭镇", "乡镇")
EDU = Unit("230723201", "教育局", "部门")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("教育局.xlsx", b"x")
    return out.getvalue()


def word97(tmp_path: Path, profile: Path, unit: str, seed: int, source: str = ".html") -> Path:
    """A real Word 97 .doc of a unit's report, made by LibreOffice from a web page or a .docx (LibreOffice
    drops 表四 of the python-docx file on the way: that one is read with D-TABLE-MISSING), with the session's
    LibreOffice profile (conftest), already started once."""
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    title = f"{unit}{YEAR}年政府信息公开工作年度报告"
    made = src / f"{unit}{source}"
    if source == ".docx":
        made.write_bytes(docx_report(lay_out(random_fill(seed)), title))
    else:
        made.write_text(html_page(lay_out(random_fill(seed)), title), encoding="utf-8")
    infilter = "HTML (StarWriter)" if source == ".html" else ""
    (doc,) = convert(profile, "doc:MS Word 97", tmp_path / "doc", [made], infilter)
    assert doc.read_bytes().startswith(OLE[:8])
    return doc


def xltool(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xltool", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200", **(env or {})},
        timeout=600,
    )


@pytest.mark.slow
@pytest.mark.libreoffice
def test_an_inbox_of_six_kinds_lists_six_files(tmp_path, libreoffice_profile):
    inbox = tmp_path / "收件箱"
    make_return(inbox, TOWN)
    shutil.copyfile(ROOT / "tests/corpus/hongze-2024.pdf", inbox / "洪泽区2024年报告.pdf")
    doc = word97(tmp_path, libreoffice_profile, UNITS[1].name, 1)
    shutil.copyfile(doc, inbox / "汤旺河镇统计表.doc")
    wps = word97(tmp_path, libreoffice_profile, UNITS[2].name, 2, ".docx")
    shutil.copyfile(wps, inbox / "红光镇统计表.wps")  # WPS Writer's format is OLE too
    (inbox / "照片.png").write_bytes(PNG)
    (inbox / "材料.zip").write_bytes(zip_bytes())
    (inbox / "~$乌伊岭镇.xlsx").write_bytes(b"lock")  # an Office lock file: not a file a unit sent
    before = hashlib.sha256((inbox / "汤旺河镇统计表.doc").read_bytes()).hexdigest()
    names = sorted(p.name for p in inbox.iterdir() if not p.name.startswith("~$"))

    proc = xltool("validate", "收件箱", "--format", "json", "--report", "报告.xlsx", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert sorted(Path(w["file"]).name for w in data["workbooks"]) == names
    by_name = {Path(w["file"]).name: w for w in data["workbooks"]}
    rules = {Path(f["file"]).name: set() for f in data["findings"]}
    for f in data["findings"]:
        rules[Path(f["file"]).name].add(f["rule"])
    for converted, unit in (("汤旺河镇统计表.doc", UNITS[1]), ("红光镇统计表.wps", UNITS[2])):
        assert by_name[converted]["read"] and by_name[converted]["unit_name"] == unit.name
        assert "D-CONVERTED" in rules[converted]
    assert by_name["汤旺河镇统计表.doc"]["status"] == "warnings"
    assert rules["照片.png"] == rules["材料.zip"] == {"F-UNSUPPORTED"}
    assert not by_name["照片.png"]["read"] and not by_name["材料.zip"]["read"]
    assert by_name[f"{TOWN.code}.xlsx"]["status"] == "passed"
    assert hashlib.sha256((inbox / "汤旺河镇统计表.doc").read_bytes()).hexdigest() == before  # never touched

    ws = openpyxl.load_workbook(tmp_path / "报告.xlsx")[SUMMARY_SHEET]
    assert sorted(Path(r[4]).name for r in ws.iter_rows(min_row=2, values_only=True) if r[4]) == names

    table = xltool("validate", "收件箱", cwd=tmp_path).stdout
    assert all(name in table for name in names), table
    assert "无法读取" in table and "~$" not in table


@pytest.mark.slow
@pytest.mark.libreoffice
def test_conversion_keeps_the_originals_name_and_digest(tmp_path, monkeypatch, libreoffice_profile):
    """The record of a converted file names and hashes the file the unit sent; the copy is gone."""
    doc = word97(tmp_path, libreoffice_profile, UNITS[1].name, 3)
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", None)
    rec = read_return(doc)
    assert rec.readable and rec.ident.unit_name == UNITS[1].name
    assert (rec.path, rec.sha256) == (doc, hashlib.sha256(doc.read_bytes()).hexdigest())
    converted = [f for f in rec.findings if f.rule == "D-CONVERTED"]
    assert len(converted) == 1 and converted[0].severity == WARNING and ".docx" in converted[0].message
    assert list((tmp_path / "tmp").iterdir()) == []


def test_unreadable_doc_is_sent_unreadable_never_missing(tmp_path, monkeypatch):
    """Without LibreOffice a .doc is not read: its unit, named by the file's name, has sent a file."""
    monkeypatch.setenv("XLTOOL_SOFFICE", "0")
    make_return(tmp_path, TOWN)
    doc = tmp_path / "教育局统计表.doc"
    doc.write_bytes(OLE)
    v = validate_paths([tmp_path], roster=[TOWN, EDU, UNITS[1]])
    (w,) = [w for w in v.report.workbooks if w.file == str(doc)]
    assert (w.unit_code, w.read, w.status_zh) == (EDU.code, False, SENT_UNREADABLE)
    (f,) = v.report.findings_for(str(doc))
    assert (f.rule, f.severity, f.unit_code) == ("F-UNSUPPORTED", ERROR, EDU.code)
    assert "另存为 .docx" in f.message and "LibreOffice" in f.message
    missing = [f.unit_code for f in v.report.findings if f.rule == "R-MISSING"]
    assert missing == [UNITS[1].code]  # 汤旺河镇 sent nothing; 教育局 did
    rows = {r["unit_code"]: r["status"] for r in summary_rows(v.report)}
    assert rows == {TOWN.code: "通过", EDU.code: SENT_UNREADABLE, UNITS[1].code: "未报送"}


def test_a_failed_conversion_is_a_finding(tmp_path, monkeypatch):
    """LibreOffice that hangs is stopped at the time limit; the file gets F-UNREADABLE."""
    if sys.platform == "win32":
        pytest.skip("a shell script stands in for soffice")
    fake = tmp_path / "soffice"
    fake.write_text("#!/bin/sh\nsleep 60\n")
    fake.chmod(0o755)
    monkeypatch.setenv("XLTOOL_SOFFICE", str(fake))
    monkeypatch.setenv("XLTOOL_CONVERT_SECONDS", "1")
    doc = tmp_path / "报表.et"
    doc.write_bytes(OLE)
    rec = read_return(doc)
    (f,) = rec.findings
    assert f.rule == "F-UNREADABLE" and "超过 1 秒" in f.message and "另存为 .xlsx" in f.message


def test_a_doc_that_is_a_web_page_is_read_without_conversion(tmp_path, monkeypatch):
    monkeypatch.setenv("XLTOOL_SOFFICE", "0")
    page = tmp_path / "乌伊岭镇2024年报告.doc"
    page.write_text(html_page(lay_out(random_fill(4)), "乌伊岭镇2024年政府信息公开工作年度报告"), encoding="utf-8")
    rec = read_return(page)
    assert rec.readable and not [f for f in rec.findings if f.rule in ("D-CONVERTED", "F-UNSUPPORTED")]


def test_notes_in_a_folder_are_accounted_for(tmp_path):
    make_return(tmp_path, TOWN)
    (tmp_path / "说明.txt").write_text("请各单位于 1 月 31 日前报送", encoding="utf-8")
    (tmp_path / "README.md").write_text("# 收件箱", encoding="utf-8")
    (tmp_path / ".hidden.png").write_bytes(PNG)  # hidden: not a file a unit sent
    v = validate_paths([tmp_path])
    notes = {Path(w.file).name: w for w in v.report.workbooks if not w.read}
    assert set(notes) == {"说明.txt", "README.md"}
    assert all(w.status_zh == "未读取" and w.warnings == 1 for w in notes.values())
    assert {f.rule for f in v.report.findings} == {"F-NOTE"} and v.report.valid


def test_nothing_to_read_names_every_kind_read(tmp_path):
    with pytest.raises(UsageError) as caught:
        validate_paths([tmp_path])
    for kind in (".xlsx", ".xls", ".ods", ".docx", ".html", ".pdf", ".txt", ".md", ".doc", ".wps", ".et"):
        assert kind in str(caught.value)


def test_a_folder_of_unreadable_kinds_is_a_report(tmp_path):
    (tmp_path / "照片.jpg").write_bytes(b"\xff\xd8\xff")
    (tmp_path / "材料.rar").write_bytes(b"Rar!")
    v = validate_paths([tmp_path])
    assert [(Path(w.file).name, w.status_zh) for w in v.report.workbooks] == [
        ("材料.rar", "无法读取"),
        ("照片.jpg", "无法读取"),
    ]
    messages = [f.message for f in v.report.findings]
    assert "是压缩包" in messages[0] and "是图片" in messages[1]
