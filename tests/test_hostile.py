"""Broken and hostile files (issue 7): each one gives a clear finding in Chinese with a rule code,
in bounded time and memory, while the rest of the batch is validated; consolidation writes nothing.

Every file is built here or in tests/helpers/hostile.py (zipfile/struct for containers, xlsxwriter
for templates, openpyxl for the edits a clerk makes); none is committed as a blob. Bounds are measured on the real command line:
a warmed process forks one child per file, the child runs ``xltool validate FILE --format json``,
and ``os.wait4`` gives that child's own peak memory and CPU time.
"""

from __future__ import annotations

import json
import os
import random
import re
import struct
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from helpers.bounds import MAX_MB, MAX_SECONDS, measure_validate
from helpers.hostile import random_bytes, replace_part, sheet_part, zip_bomb
from helpers.markers import needs_fork
from helpers.returns import CONSISTENT, make_return

from xltool.definition import get_format
from xltool.model import IDENT_SHEET, Unit

FMT = get_format()
YEAR = 2024
T2, T3, T4 = (FMT.sheet_of(k) for k in ("t2", "t3", "t4"))
GOOD = (Unit("230723101", "乌伊岭镇", "乡镇"), Unit("230723102", "汤旺河镇", "乡镇"))

CJK = re.compile(r"[\u4e00-\u9fff]")
RULE = re.compile(r"^[A-Z][0-9A-Z]*(-[0-9A-Z]+)+$")
ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- good returns


def edit(path: Path, change: Callable[[openpyxl.Workbook], None]) -> Path:
    """Open, change and save with openpyxl: what a clerk does in a spreadsheet program."""
    wb = openpyxl.load_workbook(path)
    change(wb)
    wb.save(path)
    return path


def unprotected(change: Callable[[openpyxl.Workbook], None]) -> Callable[[openpyxl.Workbook], None]:
    """The edit made after removing sheet protection (the password is public)."""

    def run(wb: openpyxl.Workbook) -> None:
        for ws in wb.worksheets:
            ws.protection.sheet = False
        change(wb)

    return run


def set_ident(key: str, value: object) -> Callable[[openpyxl.Workbook], None]:
    def change(wb: openpyxl.Workbook) -> None:
        for row in wb[IDENT_SHEET].iter_rows():
            if row[0].value == key:
                row[1].value = value

    return change


# --------------------------------------------------------------------------- containers by hand


def compound_file(streams: dict[str, bytes]) -> bytes:
    """A minimal OLE compound file (CFB version 3) holding the given streams, each padded to the
    4096-byte mini-stream cut-off so that all live in regular 512-byte sectors. This is the
    container Excel uses for a workbook encrypted with a password to open."""
    free, end, fat_sector = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
    sector = 512
    names = sorted(streams, key=lambda n: (len(n), n.upper()))  # the directory's sort order
    data = [streams[n].ljust(4096, b"\0") for n in names]
    fat = [fat_sector, end]  # sector 0: the FAT itself; sector 1: the directory
    starts = []
    for blob in data:
        count = -(-len(blob) // sector)
        starts.append(len(fat))
        fat += [len(fat) + i + 1 for i in range(count - 1)] + [end]
    assert len(fat) <= sector // 4
    fat += [free] * (sector // 4 - len(fat))

    def entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0"
        return struct.pack(
            "<64sHBBIII16sIQQIQ", raw, len(raw), kind, 1, free, right, child, b"\0" * 16, 0, 0, 0, start, size
        )

    directory = entry("Root Entry", 5, 1, free, end, 0)
    for i, (name, blob) in enumerate(zip(names, data, strict=True)):  # a chain of right siblings
        directory += entry(name, 2, free, i + 2 if i + 1 < len(names) else free, starts[i], len(blob))
    directory = directory.ljust(sector, b"\0")
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        bytes.fromhex("d0cf11e0a1b11ae1"),
        b"\0" * 16,
        0x3E,
        3,
        0xFFFE,
        9,
        6,
        b"\0" * 6,
        0,
        1,
        1,
        0,
        4096,
        end,
        0,
        end,
        0,
    ) + struct.pack("<109I", 0, *([free] * 108))
    body = b"".join(blob.ljust(-(-len(blob) // sector) * sector, b"\0") for blob in data)
    return header + struct.pack(f"<{sector // 4}I", *fat) + directory + body


AGILE_INFO = (
    struct.pack("<HHI", 4, 4, 0x40) + b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
    b'<encryption xmlns="http://schemas.microsoft.com/office/2006/encryption">'
    b'<keyData saltSize="16" blockSize="16" keyBits="256" hashSize="64" cipherAlgorithm="AES" '
    b'cipherChaining="ChainingModeCBC" hashAlgorithm="SHA512" saltValue="AAAAAAAAAAAAAAAAAAAAAA=="/>'
    b"</encryption>"
)


# --------------------------------------------------------------------------- the hostile files
# Each builder writes one file at ``path``; those made from a template use ``unit``, a unit of
# its own, so that no two files of the batch are duplicates of one unit.


def empty(path: Path, unit: Unit) -> Path:
    path.write_bytes(b"")
    return path


def truncated(path: Path, unit: Unit) -> Path:
    """Half a download: the zip's central directory is missing."""
    data = make_return(path, unit).read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    return path


def docx(path: Path, unit: Unit) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        )
        z.writestr(
            "word/document.xml",
            '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            "<w:body><w:p><w:r><w:t>政府信息公开工作年度报告</w:t></w:r></w:p></w:body></w:document>",
        )
    return path


def csv(path: Path, unit: Unit) -> Path:
    path.write_bytes("单位,本年新收政府信息公开申请数量\n乌伊岭镇,0\n".encode("gb18030"))
    return path


def encrypted(path: Path, unit: Unit) -> Path:
    """What Excel writes for a password to open: an OLE container, not a zip."""
    package = struct.pack("<Q", 20000) + random.Random(7).randbytes(20480)
    path.write_bytes(compound_file({"EncryptionInfo": AGILE_INFO.ljust(4096, b" "), "EncryptedPackage": package}))
    return path


BILLION_LAUGHS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<!DOCTYPE sst [\n<!ENTITY a0 "ha">\n'
    + b"".join(b'<!ENTITY a%d "%s">\n' % (i, b"&a%d;" % (i - 1) * 10) for i in range(1, 10))
    + b']>\n<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
    b"<si><t>&a9;</t></si></sst>"
)


def entity_bomb(path: Path, unit: Unit) -> Path:
    """Billion laughs in sharedStrings.xml: 10^9 'ha' for a parser that expands entities."""
    return replace_part(make_return(path, unit), "xl/sharedStrings.xml", BILLION_LAUGHS)


def entity_bomb_after_comment(path: Path, unit: Unit) -> Path:
    """The same, its DOCTYPE pushed past the first kilobytes by a long comment."""
    head, rest = BILLION_LAUGHS.split(b"\n", 1)
    data = head + b"\n<!--" + b" padding " * 2000 + b"-->\n" + rest
    return replace_part(make_return(path, unit), "xl/sharedStrings.xml", data)


def _with_sheet_xml(path: Path, unit: Unit, change: Callable[[bytes], bytes]) -> Path:
    template = make_return(path, unit)
    part = sheet_part(template, T3)
    with zipfile.ZipFile(template) as z:
        xml = z.read(part)
    return replace_part(template, part, change(xml))


def _before_sheet_data_end(xml: bytes, rows: bytes) -> bytes:
    at = xml.index(b"</sheetData>")
    return xml[:at] + rows + xml[at:]


def million_row_dimension(path: Path, unit: Unit) -> Path:
    """表三 claims a used range of 1,048,576 rows by 16,384 columns (its dimension element)."""
    return _with_sheet_xml(
        path, unit, lambda xml: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', xml)
    )


def million_rows(path: Path, unit: Unit) -> Path:
    """表三 with a number in every row down to 1,048,576 (a column filled down to the end)."""
    rows = b"".join(b'<row r="%d"><c r="L%d"><v>1</v></c></row>' % (r, r) for r in range(100, 1_048_577))
    return _with_sheet_xml(path, unit, lambda xml: _before_sheet_data_end(xml, rows))


def far_cell(path: Path, unit: Unit) -> Path:
    """One cell typed at XFD1048576, the last cell of a sheet."""
    cell = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    return _with_sheet_xml(path, unit, lambda xml: _before_sheet_data_end(xml, cell))


def ods_repeated_cells(path: Path, unit: Unit) -> Path:
    """An OpenDocument sheet of 1 KB that repeats one number over 100,000 rows by 100 columns."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="表三">'
        '<table:table-row table:number-rows-repeated="100000"><table:table-cell table:number-columns-repeated="100" '
        'office:value-type="float" office:value="7"><text:p>7</text:p></table:table-cell></table:table-row>'
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content)
    return path


def not_a_template(path: Path, unit: Unit) -> Path:
    """The tables typed into a workbook of one's own."""
    with xlsxwriter.Workbook(str(path)) as wb:
        ws = wb.add_worksheet("表三")
        ws.write(0, 0, "三、收到和处理政府信息公开申请情况")
        ws.write_row(4, 0, ["一、本年新收政府信息公开申请数量", 1, 0, 0, 0, 0, 0, 1])
    return path


def other_year(path: Path, unit: Unit) -> Path:
    return make_return(path, unit, year=YEAR - 1)


def other_unit(path: Path, unit: Unit) -> Path:
    """A unit that is not on the county's roster (the neighbouring county's template)."""
    return make_return(path, Unit("230722101", "朝阳镇", "乡镇"))


def other_format_version(path: Path, unit: Unit) -> Path:
    return edit(make_return(path, unit), set_ident("fingerprint", "0123456789abcdef"))


def ident_edited(path: Path, unit: Unit) -> Path:
    return edit(make_return(path, unit), set_ident("template_id", "某软件/年报模板"))


def sheet_renamed(path: Path, unit: Unit) -> Path:
    def change(wb: openpyxl.Workbook) -> None:
        wb[T3].title = "Sheet3"

    return edit(make_return(path, unit), change)


def sheet_deleted(path: Path, unit: Unit) -> Path:
    return edit(make_return(path, unit), lambda wb: wb.remove(wb[T4]))


def sheet_hidden(path: Path, unit: Unit) -> Path:
    def change(wb: openpyxl.Workbook) -> None:
        wb[T2].sheet_state = "hidden"

    return edit(make_return(path, unit), change)


def row_inserted(path: Path, unit: Unit) -> Path:
    return edit(make_return(path, unit), unprotected(lambda wb: wb[T3].insert_rows(10)))


def column_inserted(path: Path, unit: Unit) -> Path:
    return edit(make_return(path, unit), unprotected(lambda wb: wb[T3].insert_cols(3)))


def label_edited(path: Path, unit: Unit) -> Path:
    col = next(line for line in FMT.grid("t2_1").columns if line.key == "issued")

    def change(wb: openpyxl.Workbook) -> None:
        wb[T2][col.span.top_left] = "本年(2023)制发件数"

    return edit(make_return(path, unit), unprotected(change))


def total_overwritten(path: Path, unit: Unit) -> Path:
    def change(wb: openpyxl.Workbook) -> None:
        wb[T3][FMT.cells["t3.new.total"].address] = 99

    return edit(make_return(path, unit), unprotected(change))


COVER_TEXT = {
    "filled_by": "张三" * 20000,  # 40,000 characters: more than an Excel cell holds
    "phone": '=HYPERLINK("http://example.invalid","点击")',
    "reviewer": "李四\u200b\ufeff\u202e四李",
}


def cover_garbage(path: Path, unit: Unit) -> Path:
    """Very long text, a formula and control characters in the cover's input fields."""
    make_return(path, unit, cover=COVER_TEXT)
    with zipfile.ZipFile(path) as z:  # control characters, escaped as Excel writes them
        strings = z.read("xl/sharedStrings.xml")
    assert "李四".encode() in strings
    strings = strings.replace("李四".encode(), "李_x0001__x0007__x001B_四".encode(), 1)
    return replace_part(path, "xl/sharedStrings.xml", strings)


# name: (builder, the rules of the findings about that file, its status, on the roster)
CASES: dict[str, tuple[Callable[[Path, Unit], Path], tuple[str, ...], str, bool]] = {
    "empty": (empty, ("F-EMPTY",), "errors", False),
    "random_bytes": (random_bytes, ("F-NOT-WORKBOOK",), "errors", False),
    "truncated": (truncated, ("F-CORRUPT",), "errors", False),
    "docx": (docx, ("F-NOT-WORKBOOK",), "errors", False),
    "csv": (csv, ("F-NOT-WORKBOOK",), "errors", False),
    "encrypted": (encrypted, ("F-ENCRYPTED",), "errors", False),
    "zip_bomb": (zip_bomb, ("F-BOMB",), "errors", False),
    "entity_bomb": (entity_bomb, ("F-XML-ENTITY",), "errors", False),
    "entity_bomb_after_comment": (entity_bomb_after_comment, ("F-XML-ENTITY",), "errors", False),
    "million_row_dimension": (million_row_dimension, (), "passed", True),
    "million_rows": (million_rows, (), "passed", True),
    "far_cell": (far_cell, (), "passed", True),
    "ods_repeated_cells": (ods_repeated_cells, ("F-TOO-LARGE",), "errors", False),
    "not_a_template": (not_a_template, ("F-NOT-TEMPLATE",), "errors", False),
    "other_year": (other_year, ("Y-YEAR",), "errors", True),
    "other_unit": (other_unit, ("R-UNKNOWN",), "errors", False),
    "other_format_version": (other_format_version, ("F-FORMAT",), "errors", True),
    "ident_edited": (ident_edited, ("F-IDENT",), "errors", False),
    "sheet_renamed": (sheet_renamed, ("L-SHEET-MISSING",), "errors", True),
    "sheet_deleted": (sheet_deleted, ("L-SHEET-MISSING",), "errors", True),
    "sheet_hidden": (sheet_hidden, ("L-SHEET-HIDDEN",), "warnings", True),
    "row_inserted": (row_inserted, ("L-LABEL",), "errors", True),
    "column_inserted": (column_inserted, ("L-LABEL",), "errors", True),
    "label_edited": (label_edited, ("L-LABEL",), "errors", True),
    # the row total that no longer adds up, and 一+二 = （七）总计+四 that it now breaks
    "total_overwritten": (total_overwritten, ("T3-R3", "T3-R1"), "errors", True),
    "cover_garbage": (cover_garbage, (), "passed", True),
}
HARMLESS = {name for name, case in CASES.items() if case[2] != "errors"}


def suffix(name: str) -> str:
    return ".ods" if name.startswith("ods") else ".xlsx"


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> dict[str, Path]:
    """A folder of returns: every hostile file beside two good ones; plus the county's roster."""
    folder = tmp_path_factory.mktemp("hostile") / "报回"
    folder.mkdir()
    files, roster = {}, list(GOOD)
    for i, (name, (build, _rules, _status, on_roster)) in enumerate(CASES.items(), start=1):
        unit = Unit(f"2307232{i:02d}", f"测试单位{i}", "部门")
        files[name] = build(folder / f"{name}{suffix(name)}", unit)
        if on_roster:
            roster.append(unit)
    for unit in GOOD:
        files[unit.name] = make_return(folder / f"{unit.code}_{unit.name}_{YEAR}.xlsx", unit)
    roster_csv = folder.parent / "名单.csv"
    roster_csv.write_text(
        "代码,名称,层级\n" + "".join(f"{u.code},{u.name},{u.level}\n" for u in roster), encoding="utf-8"
    )
    files["roster"] = roster_csv
    return files


# --------------------------------------------------------------------------- one file at a time


@pytest.fixture(scope="module")
def measured(batch, tmp_path_factory) -> dict[str, dict]:
    """``xltool validate FILE --year 2024 --roster 名单.csv --format json`` for each file, in a child
    forked from a warmed process: its exit code, output, CPU seconds, wall seconds and peak MB."""
    roster = str(batch["roster"])
    jobs = [
        (name, [str(path), "--year", str(YEAR), "--roster", roster, "--format", "json"])
        for name, path in batch.items()
        if name != "roster"
    ]
    jobs.sort(key=lambda job: job[0] not in {u.name for u in GOOD})  # a good file warms up
    warm = [Path(jobs[0][1][0])]  # a good file
    return measure_validate(jobs, tmp_path_factory.mktemp("probe"), warm, year=YEAR)


def file_findings(result: dict, path: Path) -> list[dict]:
    report = json.loads(result["stdout"])
    return [f for f in report["findings"] if f["file"] == str(path)]


@pytest.mark.slow
@needs_fork
@pytest.mark.parametrize("name", [*CASES, *(u.name for u in GOOD)])
def test_each_file_gets_a_clear_finding_in_bounded_time_and_memory(batch, measured, name):
    result = measured[name]
    rules, status, _ = CASES[name][1:] if name in CASES else ((), "passed", True)
    assert "Traceback" not in result["stderr"] and result["stderr"] == "", result["stderr"]
    assert result["exit"] == (1 if status == "errors" else 0)
    found = file_findings(result, batch[name])
    assert tuple(f["rule"] for f in found) == rules
    for f in found:
        assert RULE.match(f["rule"]) and CJK.search(f["message"]), f
    if found and found[0]["rule"].startswith("F-"):
        assert batch[name].name in found[0]["message"]  # the file is named in its own finding
    (workbook,) = json.loads(result["stdout"])["workbooks"]
    assert workbook["status"] == status
    assert result["cpu"] < MAX_SECONDS, f"{name}: {result['cpu']:.2f} s of CPU"
    assert result["wall"] < 3 * MAX_SECONDS, f"{name}: {result['wall']:.2f} s"
    assert result["rss_mb"] < MAX_MB, f"{name}: {result['rss_mb']:.0f} MB"


# --------------------------------------------------------------------------- the batch, as a new user runs it


MEASURE = r"""
import json, os, subprocess, sys
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
with open(sys.argv[1], "w") as f:
    json.dump({"exit": os.waitstatus_to_exitcode(status), "rss_mb": usage.ru_maxrss / 1024}, f)
"""


def run_cli(*args: str, cwd: Path) -> tuple[int, str, str, float, float]:
    """``python -m xltool ARGS`` in ``cwd``: exit code, stdout, stderr, wall seconds, peak MB.

    Started by a small intermediate process: a child's peak memory counts the pages of the
    process it was forked from, and pytest's own may be hundreds of MB by now. Without
    ``os.wait4`` (Windows) the command is run directly and its peak memory is NaN (not measured:
    tests that assert it are marked ``needs_fork``)."""
    out, err, usage = cwd / ".stdout", cwd / ".stderr", cwd / ".usage"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "160"}
    start = time.perf_counter()
    with out.open("wb") as o, err.open("wb") as e:
        command = [sys.executable, "-m", "xltool", *args]
        if hasattr(os, "wait4"):
            command = [sys.executable, "-c", MEASURE, str(usage), *command]
        done = subprocess.run(command, cwd=cwd, stdout=o, stderr=e, env=env, check=hasattr(os, "wait4"), timeout=300)
    wall = time.perf_counter() - start
    texts = out.read_text(encoding="utf-8"), err.read_text(encoding="utf-8")
    if not hasattr(os, "wait4"):
        usage.write_text(json.dumps({"exit": done.returncode, "rss_mb": float("nan")}))
    measured = json.loads(usage.read_text())
    for path in (out, err, usage):
        path.unlink()
    return measured["exit"], *texts, wall, measured["rss_mb"]


@pytest.mark.slow
@needs_fork
def test_a_folder_of_hostile_files_mixed_with_good_returns(batch):
    """validate reports each bad file in one line (two for the overwritten total), validates the
    good ones, and returns in seconds with bounded memory."""
    root = batch["roster"].parent
    code, out, err, wall, rss = run_cli("validate", "报回", "--roster", "名单.csv", "--format", "json", cwd=root)
    assert code == 1 and "Traceback" not in err
    report = json.loads(out)
    status = {w["file"]: w["status"] for w in report["workbooks"]}
    for name, path in batch.items():
        if name == "roster":
            continue
        file = str(path.relative_to(root))
        rules, expected = (CASES[name][1], CASES[name][2]) if name in CASES else ((), "passed")
        assert tuple(f["rule"] for f in report["findings"] if f["file"] == file) == rules, name
        assert status[file] == expected, name
    assert not [f for f in report["findings"] if f["file"] == ""]  # every roster unit sent something
    assert len(report["workbooks"]) == len(CASES) + len(GOOD)
    assert wall < 30, f"{wall:.1f} s"
    assert rss < MAX_MB, f"{rss:.0f} MB"


@pytest.mark.slow
def test_the_table_names_every_bad_file_once_with_its_rule(batch):
    root = batch["roster"].parent
    code, out, err, _wall, _rss = run_cli("validate", "报回", "--roster", "名单.csv", cwd=root)
    assert code == 1 and "Traceback" not in err
    for name, (_build, rules, _status, _) in CASES.items():
        for rule in rules:
            assert rule in out, name
    assert "有错误" in out


@pytest.mark.slow
@needs_fork
def test_consolidate_refuses_and_writes_nothing(batch, tmp_path):
    root = batch["roster"].parent
    target = tmp_path / "汇总" / "汤旺县.xlsx"
    args = ("consolidate", "报回", "--out", str(target), "--unit-code", "230723", "--unit-name", "汤旺县")
    code, out, err, wall, rss = run_cli(*args, "--roster", "名单.csv", cwd=root)
    assert code == 1 and "Traceback" not in err and "未汇总" in err
    assert not target.exists() and not (target.parent.exists() and any(target.parent.iterdir()))
    assert wall < 30, f"{wall:.1f} s"
    assert rss < MAX_MB, f"{rss:.0f} MB"


@pytest.mark.slow
def test_consolidate_excluding_invalid_returns_sums_the_good_ones_and_lists_the_rest(batch, tmp_path):
    root = batch["roster"].parent
    target = tmp_path / "汤旺县.xlsx"
    args = ("consolidate", "报回", "--out", str(target), "--unit-code", "230723", "--unit-name", "汤旺县")
    code, out, err, _wall, _rss = run_cli(*args, "--roster", "名单.csv", "--exclude-invalid", cwd=root)
    assert code == 0 and "Traceback" not in err, err
    excluded = {name for name in CASES if name not in HARMLESS}
    listed = [line for line in out.splitlines() if line.strip().startswith("未汇总：")]
    assert len(listed) == len(excluded)
    for name in excluded:
        assert [line for line in listed if batch[name].name in line], name
    assert f"汇总 {len(GOOD) + len(HARMLESS)} 个单位" in out

    from xltool.read.dispatch import read_return

    rec = read_return(target)
    assert rec.readable and rec.identity.kind == "consolidated"
    assert rec.values["t3.new.natural"] == CONSISTENT["t3.new.natural"] * (len(GOOD) + len(HARMLESS))
    # what the cover said reaches the workbook as text: no control characters, no formula
    wb = openpyxl.load_workbook(target)
    texts = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert not [c.coordinate for c in texts if re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", c.value)]
    hyperlink = [c for c in texts if "HYPERLINK" in c.value]
    assert hyperlink and all(c.data_type == "s" for c in hyperlink)
    assert all(len(c.value) <= 32767 for c in texts)


# --------------------------------------------------------------------------- arguments


@pytest.fixture
def good(tmp_path) -> Path:
    return make_return(tmp_path / "乌伊岭镇.xlsx", GOOD[0])


def cli(*args: str):
    from click.testing import CliRunner

    from xltool.app.cli import main

    result = CliRunner().invoke(main, list(args), prog_name="xltool")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


CONSOLIDATE = ("--unit-code", "230723", "--unit-name", "汤旺县")


def test_a_path_that_does_not_exist(tmp_path):
    for args in (
        ("validate", str(tmp_path / "无此文件夹")),
        ("consolidate", str(tmp_path / "无此文件夹"), "--out", str(tmp_path / "x.xlsx"), *CONSOLIDATE),
    ):
        result = cli(*args)
        assert result.exit_code == 2 and result.stderr.startswith("错误：路径不存在") and result.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_a_folder_without_workbooks(tmp_path):
    folder = tmp_path / "报回"
    folder.mkdir()
    (folder / "说明.txt").write_text("报表见附件", encoding="utf-8")
    (folder / "报告.doc").write_bytes(b"")  # old Word, empty: read, and found empty
    result = cli("validate", str(folder))  # every file accounted for: a note, an empty file
    assert result.exit_code == 1 and "F-NOTE" in result.stdout and "F-EMPTY" in result.stdout
    result = cli("consolidate", str(folder), "--out", str(tmp_path / "x.xlsx"), *CONSOLIDATE)
    assert result.exit_code == 1 and "报告.doc" in result.stderr and "空文件" in result.stderr
    assert not (tmp_path / "x.xlsx").exists()
    (folder / "报告.doc").unlink()
    for args in (
        ("validate", str(tmp_path / "空")),
        ("consolidate", str(folder), "--out", str(tmp_path / "x.xlsx"), *CONSOLIDATE),
    ):
        (tmp_path / "空").mkdir(exist_ok=True)
        result = cli(*args)
        assert result.exit_code == 2 and "没有找到" in result.stderr and args[1] in result.stderr
    assert not (tmp_path / "x.xlsx").exists()


@pytest.mark.parametrize("where", ["under a file", "under a device"])
def test_an_output_folder_that_cannot_be_written(good, tmp_path, where):
    parent = good if where == "under a file" else Path(os.devnull)
    before = good.read_bytes()
    for args in (
        ("consolidate", str(good), "--out", str(parent / "汇总.xlsx"), *CONSOLIDATE),
        ("validate", str(good), "--report", str(parent / "报告.xlsx")),
        ("validate", str(good), "--report", str(parent / "报告.json")),
    ):
        result = cli(*args)
        assert result.exit_code == 2, args
        assert result.stderr.startswith("错误：") and result.stderr.count("\n") == 1, result.stderr
    assert good.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == [good.name]


def test_an_output_equal_to_an_input(good, tmp_path):
    before = good.read_bytes()
    for args in (
        ("consolidate", str(good), "--out", str(good), *CONSOLIDATE),
        ("consolidate", str(tmp_path), "--out", str(good), *CONSOLIDATE),
        ("validate", str(good), "--report", str(good)),
    ):
        result = cli(*args)
        assert result.exit_code == 2 and result.stderr.startswith("错误："), (args, result.stderr)
    assert good.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == [good.name]


@pytest.mark.slow
@needs_fork
def test_annotating_a_sheet_of_a_million_rows_is_skipped_in_bounded_memory(tmp_path):
    """openpyxl, which writes the annotated copies, holds every cell (about 1 KB each)."""
    folder = tmp_path / "报回"
    folder.mkdir()
    path = make_return(folder / "乌伊岭镇.xlsx", GOOD[0], values={"t3.new.natural": 5})  # breaks T3-R1
    part = sheet_part(path, T3)
    with zipfile.ZipFile(path) as z:
        xml = z.read(part)
    rows = b"".join(b'<row r="%d"><c r="L%d"><v>1</v></c></row>' % (r, r) for r in range(100, 1_048_577))
    replace_part(path, part, _before_sheet_data_end(xml, rows))
    code, out, err, wall, rss = run_cli("validate", "报回", "--annotate", "批注", cwd=tmp_path)
    assert code == 1 and "Traceback" not in err and "T3-R1" in out
    assert "未生成批注副本" in out + err and not list((tmp_path / "批注").glob("*.xlsx"))
    assert wall < 30, f"{wall:.1f} s"
    assert rss < MAX_MB, f"{rss:.0f} MB"
