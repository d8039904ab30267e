"""Shared test helpers.

LibreOffice in the loop: ``libreoffice_recalc(src, out_dir)`` opens a workbook in headless
LibreOffice, recalculates every formula and saves it as .xlsx into ``out_dir`` (same file name),
returning the new path. Read the result with ``openpyxl.load_workbook(path, data_only=True)`` to
see what a spreadsheet program computes, or without ``data_only`` to see what it kept.

LibreOffice's default for .xlsx files is "never recalculate on load": it would keep whatever
cached results the file carries (xlsxwriter writes them, openpyxl drops them). The helper's
private profile sets OOXMLRecalcMode (and ODFRecalcMode) to 0 = always recalculate, so a cached
value that is wrong cannot survive the round trip (tests/test_libreoffice.py proves it).

Tests that use it are marked ``@pytest.mark.libreoffice``; they are skipped only when ``soffice``
is not installed. The profile is shared by the session, so conversions run one at a time.

Filled returns: ``make_return(dest, unit, values)`` writes one, either as Excel saves it (drawn by
xlsxwriter, with cached results) or, with ``typed=True``, as a clerk types it into the blank template
(openpyxl, no cached results); ``type_values(path, values)`` types values into an existing workbook.
Test modules import them: ``from conftest import make_return``.

``needs_fork`` marks tests that fork a process or measure a child with ``os.wait4`` (POSIX only);
they are skipped on Windows, the users' platform, where neither exists.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from xltool.definition import Format, get_format
from xltool.model import Unit
from xltool.values import AMOUNT_SCALE
from xltool.write.template import draw_return, template_identity, write_template, write_workbook

SOFFICE = shutil.which("soffice")
LIBREOFFICE_TIMEOUT = 120  # seconds per conversion; the first start of a fresh profile is the slowest

_ALWAYS_RECALCULATE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">\
<value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse">\
<value>0</value></prop></item>
</oor:items>
"""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip LibreOffice tests only when soffice is absent; where it exists they must run."""
    if SOFFICE:
        return
    if os.environ.get("CI"):
        raise pytest.UsageError("CI 中必须安装 LibreOffice（soffice），LibreOffice 测试不能跳过：见 .ci/run")
    skip = pytest.mark.skip(reason="LibreOffice (soffice) is not installed")
    for item in items:
        if "libreoffice" in item.keywords:
            item.add_marker(skip)


needs_fork = pytest.mark.skipif(
    not (hasattr(os, "fork") and hasattr(os, "wait4")),
    reason="forks a child and reads its CPU time and peak memory with os.wait4: POSIX only (not on Windows)",
)


@pytest.fixture(scope="session")
def libreoffice_recalc(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path, Path], Path]:
    """``recalc(src, out_dir) -> Path``: open ``src`` in LibreOffice, recalculate, save as xlsx in ``out_dir``."""
    if not SOFFICE:
        pytest.skip("LibreOffice (soffice) is not installed")
    profile = tmp_path_factory.mktemp("libreoffice-profile")
    (profile / "user").mkdir()
    (profile / "user" / "registrymodifications.xcu").write_text(_ALWAYS_RECALCULATE, encoding="utf-8")

    def recalc(src: Path, out_dir: Path) -> Path:
        src, out_dir = Path(src).resolve(), Path(out_dir).resolve()
        if out_dir == src.parent:
            raise ValueError("out_dir must differ from the source folder: LibreOffice keeps the file name")
        out_dir.mkdir(parents=True, exist_ok=True)
        command = [
            SOFFICE,
            "--headless",
            "--norestore",
            f"-env:UserInstallation={profile.as_uri()}",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(out_dir),
            str(src),
        ]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=LIBREOFFICE_TIMEOUT)
        out = out_dir / f"{src.stem}.xlsx"
        if proc.returncode != 0 or not out.is_file():
            raise AssertionError(f"LibreOffice failed on {src} (exit {proc.returncode}): {proc.stdout} {proc.stderr}")
        return out

    return recalc


# A small definition that is not the 2021 format: wide cells, a negative term, an amount check,
# a label too long for Excel's data validation prompt. Drawing and reading must be generic.
TINY_DEFINITION = """
[format]
id = "tiny-test"
version = "t1"
document = "测试文件〔2000〕1号"
name = "测试统计表"
font = "宋体"

[cover]
sheet = "说明"
title = "{year}年度{name}"
title_at = "A1:C1"
widths = [12, 30, 12]
fields = [
    { key = "unit_name", label = "单位", at = "A3", value_at = "B3:C3", input = false },
    { key = "note", label = "备注", at = "A4", value_at = "B4:C4", input = true },
]
instructions_at = "A6:C8"
instructions = ["说明", "第一行"]

[[tables]]
key = "a"
sheet = "甲表"
title = "甲表标题"
title_at = "A1:D1"
widths = [40, 10, 10, 10]
freeze_rows = 2
landscape = false
labels = [["A2", "项目"]]
header_rows = [2]

[[tables.grids]]
key = "g"
kind = "count"
columns = [
    { key = "x", label = "X", at = "B2" },
    { key = "y", label = "Y", at = "C2" },
    { key = "sum", label = "合计", at = "D2" },
]
rows = [
    { key = "p", label = "LONG", at = "A3" },
    { key = "q", label = "Q", at = "A4" },
    { key = "r", label = "R", at = "A5" },
]

[[tables.grids]]
key = "m"
kind = "amount"
unit = "元"
columns = [{ key = "v", label = "金额", at = "B7:D7" }]
rows = [
    { key = "a", label = "甲", at = "A8" },
    { key = "b", label = "乙", at = "A9" },
    { key = "c", label = "差额", at = "A10" },
]

[[rules]]
code = "X-SUM"
kind = "sum"
severity = "error"
title = "合计"
description = "合计 = X + Y"
grids = ["g"]
per = "row"
target = "sum"
parts = ["x", "y"]

[[rules]]
code = "X-EQ"
kind = "equation"
severity = "error"
title = "R = P - Q"
description = "每列 R = P - Q"
grids = ["g"]
per = "column"
lhs = ["r"]
rhs = ["p", "-q"]
check_row = 6
check_label = ["A6", "校验：R = P − Q"]

[[rules]]
code = "X-AMT"
kind = "equation"
severity = "error"
title = "差额 = 甲 − 乙"
description = "差额 = 甲 − 乙"
grids = ["m"]
per = "column"
lhs = ["c"]
rhs = ["a", "-b"]
check_row = 11
check_label = ["A11", "金额校验"]
""".replace('"LONG"', '"' + "很长的行标签" * 50 + '"')


@pytest.fixture(scope="session")
def tiny_format():
    """A Format from TINY_DEFINITION."""
    from xltool.definition import loads

    return loads(TINY_DEFINITION, "tiny-test.toml")


# --------------------------------------------------------------------------- filled returns

# one application carried over and handled; every rule holds in every column
CONSISTENT = {"t3.new.natural": 2, "t3.carried_in.natural": 1, "t3.disclosed.natural": 2, "t3.carried_out.natural": 1}


def _type(wb: openpyxl.Workbook, fmt: Format, values: Mapping[str, object], scaled: bool) -> None:
    for cid, value in values.items():
        cell = fmt.cells[cid]
        if scaled and cell.kind == "amount":
            value = float(Decimal(value) / AMOUNT_SCALE)  # type: ignore[arg-type]
        wb[cell.sheet][cell.address] = value


def type_values(
    path: Path, values: Mapping[str, object], *, fmt: Format | None = None, save_as: Path | None = None, scaled=False
) -> Path:
    """Type ``values`` (cell id -> value) into the workbook at ``path`` with openpyxl, as a clerk or a
    script does (openpyxl saves formulas without their results), and save it to ``save_as`` or ``path``.

    Values are typed as given ("/", None, 12.5); with ``scaled=True`` they are library integers and
    amounts are typed as decimals in 万元 (the value divided by AMOUNT_SCALE)."""
    wb = openpyxl.load_workbook(path)
    _type(wb, fmt or get_format(), values, scaled)
    out = Path(save_as or path)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


def make_return(
    dest: Path,
    unit: Unit,
    values: Mapping[str, int] | None = None,
    *,
    name: str | None = None,
    year: int = 2024,
    fmt: Format | None = None,
    typed: bool = False,
    cover: Mapping[str, str] | None = None,
    **draw,
) -> Path:
    """A filled return of ``unit`` for ``year``; returns its path.

    ``dest`` is the file when it ends in .xlsx, else the folder (created) to write ``name`` into;
    ``name`` may use ``{code}`` and ``{year}`` and defaults to ``{code}.xlsx``. ``values`` maps cell
    id -> int (amounts scaled by AMOUNT_SCALE; missing inputs are 0); None means CONSISTENT.

    By default the return is drawn by xlsxwriter with cached results, as Excel saves a file;
    ``cover`` and ``draw`` (e.g. ``password``) go to ``draw_return``. With ``typed=True`` the blank
    template is typed into with openpyxl, as a clerk types it: amounts as decimals in 万元, cover
    texts into text-formatted cells (they stay text, even "=...")."""
    fmt = fmt or get_format()
    dest = Path(dest)
    if dest.suffix.lower() != ".xlsx":
        dest.mkdir(parents=True, exist_ok=True)
        dest = dest / (name or "{code}.xlsx").format(code=unit.code, year=year)
    values = CONSISTENT if values is None else values
    if not typed:
        identity = template_identity(fmt, unit, year)
        return write_workbook(dest, lambda wb: draw_return(wb, fmt, identity, values=values, cover=cover, **draw))
    path = write_template(fmt, unit, year, dest, **draw)
    wb = openpyxl.load_workbook(path)
    _type(wb, fmt, values, scaled=True)
    for field in fmt.cover.fields:
        if cover and field.key in cover:
            target = wb[fmt.cover.sheet][field.value_span.top_left]
            target.value = cover[field.key]
            target.data_type = "s"  # typed into a text-formatted cell: stays text, even "=..."
    wb.save(path)
    return path
