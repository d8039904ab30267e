"""Headless LibreOffice (``soffice``) with a private profile.

LibreOffice's default for .xlsx files is "never recalculate on load": it would keep whatever cached
results the file carries (xlsxwriter writes them, openpyxl drops them). ``make_profile`` writes a
profile whose OOXMLRecalcMode (and ODFRecalcMode) is 0 = always recalculate, so a cached value that
is wrong cannot survive the round trip (tests/test_libreoffice.py proves it).

``convert(profile, target, out_dir, files)`` converts many files in one soffice call (one start of
LibreOffice, the slow part); a profile is used by one call at a time.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

SOFFICE = shutil.which("soffice")
LIBREOFFICE_TIMEOUT = 120  # seconds per file converted; the first start of a fresh profile is the slowest

ALWAYS_RECALCULATE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">\
<value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse">\
<value>0</value></prop></item>
</oor:items>
"""


def make_profile(folder: Path) -> Path:
    """A LibreOffice user profile in ``folder`` that recalculates every formula on load."""
    (folder / "user").mkdir(parents=True, exist_ok=True)
    (folder / "user" / "registrymodifications.xcu").write_text(ALWAYS_RECALCULATE, encoding="utf-8")
    return folder


def convert(profile: Path, target: str, out_dir: Path, files: Iterable[Path], infilter: str = "") -> list[Path]:
    """Convert ``files`` to ``target`` (e.g. "xlsx", "pdf", "docx:MS Word 2007 XML") into ``out_dir``
    in one soffice call; returns the made files in the order given (LibreOffice keeps the file stem)."""
    assert SOFFICE, "LibreOffice (soffice) is not installed"
    files = [Path(f).resolve() for f in files]
    out_dir = Path(out_dir).resolve()
    if any(f.parent == out_dir for f in files):
        raise ValueError("out_dir must differ from the source folder: LibreOffice keeps the file name")
    out_dir.mkdir(parents=True, exist_ok=True)
    command = [SOFFICE, "--headless", "--norestore", f"-env:UserInstallation={Path(profile).resolve().as_uri()}"]
    command += [f"--infilter={infilter}"] if infilter else []
    command += ["--convert-to", target, "--outdir", str(out_dir), *map(str, files)]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=LIBREOFFICE_TIMEOUT * max(1, len(files)))
    made = [out_dir / f"{f.stem}.{target.split(':')[0]}" for f in files]
    if proc.returncode != 0 or not all(p.is_file() for p in made):
        raise AssertionError(f"LibreOffice failed on {files} (exit {proc.returncode}): {proc.stdout} {proc.stderr}")
    return made
