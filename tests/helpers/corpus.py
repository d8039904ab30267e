"""The real reports of tests/corpus: the figures transcribed by hand, as the format's cell ids, and the
forms clerks keep of a portal page, made by the real programs and cached between runs.

Forms of a page (``DERIVED_FORMS``): ``chromium.pdf`` (Chromium's print-to-PDF of the whole page),
``lo.docx`` (the Word file LibreOffice saves from the page) and ``lo.pdf`` (that Word file as a PDF).
They are made once into ``tests/corpus/.derived`` (ignored by git), named after the page and its
SHA-256, so a changed page is made again. A form whose program is missing is skipped, except in CI,
which installs both programs and must run them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

from xltool.definition import Format
from xltool.values import AMOUNT, AMOUNT_SCALE

CORPUS = Path(__file__).parents[1] / "corpus"
DERIVED = CORPUS / ".derived"
DERIVED_FORMS = ("chromium.pdf", "lo.docx", "lo.pdf")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
SOFFICE = shutil.which("soffice")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-pdf-header-footer",
)


def expected_figures(entry: dict[str, Any], fmt: Format) -> dict[str, int]:
    """figures.json's entry as {cell id: value}, amounts scaled as the reader keeps them. 表三's rows are
    matched in order (figures.json keeps the format's order and prefixes a row with its group); rows
    the report does not print (null) are left out, except （六） printed as one row, which the reader
    counts into 3.其他 with its two other items 0."""
    t3_rows: list[str] = []
    for c in fmt.cells.values():
        if c.table == "t3" and c.row_label not in t3_rows:
            t3_rows.append(c.row_label)
    t3_keys = list(entry["表三"])
    assert len(t3_keys) == len(t3_rows)
    one_row = entry.get("表三（六）印作一行")
    out: dict[str, int] = {}
    for cid, c in fmt.cells.items():
        if c.table == "t3":
            i = t3_rows.index(c.row_label)
            key = t3_keys[i]
            assert key.replace(" ", "").endswith(c.row_label.replace(" ", "")), (key, c.row_label)
            row = entry["表三"][key]
            if row is None and one_row is not None and key.startswith("（六）"):
                row = one_row if key.endswith("3.其他") else dict.fromkeys(one_row, 0)
            value = None if row is None else row[c.col_label]
        elif c.table == "t2":
            value = entry["表二"].get(c.row_label, {}).get(c.col_label)
        else:
            value = entry["表四"][c.row_label][c.col_label]
        if value is None:
            continue
        out[cid] = round(value * AMOUNT_SCALE) if c.kind == AMOUNT else int(value)
    return out


def _missing(program: str) -> None:
    if os.environ.get("CI"):
        raise AssertionError(f"CI 中必须安装 {program}：见 .ci/run")
    pytest.skip(f"{program} is not installed")


def derived_form(page: Path, form: str) -> Path:
    """The page in ``form`` (one of DERIVED_FORMS), made now or taken from the cache."""
    digest = hashlib.sha256(page.read_bytes()).hexdigest()[:12]
    target = DERIVED / f"{page.stem}-{digest}.{form}"
    if target.is_file():
        return target
    DERIVED.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if form == "chromium.pdf":
            made = print_with_chromium(page, work)
        elif form == "lo.docx":
            made = _soffice(page, work, "docx:MS Word 2007 XML", infilter="HTML (StarWriter)")
        elif form == "lo.pdf":
            made = _soffice(derived_form(page, "lo.docx"), work, "pdf")
        else:
            raise ValueError(form)
        shutil.move(made, target)
    return target


def print_with_chromium(page: Path, work: Path) -> Path:
    if not CHROMIUM:
        _missing("chromium")
    out = work / "page.pdf"
    command = [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={work / 'profile'}", f"--print-to-pdf={out}"]
    proc = subprocess.run([*command, page.resolve().as_uri()], capture_output=True, text=True, timeout=120)
    assert out.is_file(), f"Chromium made no PDF of {page} (exit {proc.returncode}): {proc.stderr[-2000:]}"
    return out


def _soffice(source: Path, work: Path, target: str, infilter: str = "") -> Path:
    if not SOFFICE:
        _missing("LibreOffice (soffice)")
    profile = work / "profile"
    command = [SOFFICE, "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}"]
    command += [f"--infilter={infilter}"] if infilter else []
    command += ["--convert-to", target, "--outdir", str(work), str(source)]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=180)
    made = work / f"{source.stem}.{target.split(':')[0]}"
    assert proc.returncode == 0 and made.is_file(), f"LibreOffice failed on {source}: {proc.stdout} {proc.stderr}"
    return made
