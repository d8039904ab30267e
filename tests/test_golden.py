"""Golden templates: a template written with fixed inputs is compared, part by part, with a committed
reference workbook in tests/golden/, as XlsxWriter tests its output against files saved by Excel.

No spreadsheet program is needed: both files are opened as zip archives, must hold the same parts,
and each XML part must be the same after parsing and canonicalising it (C14N 2.0, so attribute order,
quoting and the XML declaration do not count) and stripping what always differs between two runs
(see ``STRIPPED`` and ``VOLATILE_TEXT``). Any other change fails: a label, a formula, a style, a
column width, a data validation, the protection, the hidden identification. A failure names the part
and shows the first differing lines.

One reference per behaviour (``CASES``). After an intended change of the template, regenerate them
and review the change with ``git diff --stat tests/golden`` and the test's own output::

    python -m tests.test_golden --update              # from the repository root
    XLTOOL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py

A new XlsxWriter release may also change its output; the failure then names the part it changed.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

import xltool
from xltool.definition import get_format
from xltool.model import Unit
from xltool.write.template import write_template

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE_ENV = "XLTOOL_UPDATE_GOLDEN"


@dataclass(frozen=True)
class Case:
    name: str  # file name in tests/golden/
    format_id: str
    unit: Unit
    year: int


CASES = (
    # the format in force, for a township: the most common template
    Case("template-2021-township.xlsx", "gov-info-disclosure-2021", Unit("230723101", "乌伊岭镇", "乡镇"), 2024),
    # the superseded 2019 trial format, in a year it was in use
    Case("template-2019-township.xlsx", "gov-info-disclosure-2019", Unit("230723101", "乌伊岭镇", "乡镇"), 2020),
)

CORE = "{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}"
DCTERMS = "{http://purl.org/dc/terms/}"
# Elements removed from a part before comparing, and why each one always differs.
STRIPPED = {
    # XlsxWriter stamps the time of writing as the creation and modification dates (to the second)
    "docProps/core.xml": [f"{DCTERMS}created", f"{DCTERMS}modified"],
}
# Texts replaced by a placeholder: the xltool version is written into the hidden identification
# sheet (the shared string after its key) and changes with every release, not with the template.
VOLATILE_TEXT = {
    "xl/sharedStrings.xml": [(r"(<t>xltool_version</t>\s*</si>\s*<si>\s*<t>)[^<]*(</t>)", "{xltool_version}")]
}
MAX_DIFF_LINES = 40  # of each differing part, in a failure


def write_case(case: Case, path: Path) -> Path:
    """The template of ``case``, written with fixed inputs (the default password, no clock)."""
    return write_template(get_format(case.format_id), case.unit, case.year, path)


def normalised(part: str, data: bytes) -> str:
    """A part as comparable text: canonical XML, stripped of what always differs, one tag per line.
    Parts that are not XML are compared as bytes (shown as their length and a hex prefix)."""
    if not part.endswith((".xml", ".rels")):
        return f"{len(data)} bytes: {data[:64].hex()}"
    text = ET.canonicalize(data.decode("utf-8"), exclude_tags=STRIPPED.get(part))
    for pattern, placeholder in VOLATILE_TEXT.get(part, []):
        text, found = re.subn(pattern, rf"\g<1>{placeholder}\g<2>", text)
        assert found == 1, f"{part}: expected one text to replace by {placeholder}, found {found}"
    return re.sub(r">\s*<", ">\n<", text)


def differences(produced: Path, reference: Path) -> list[str]:
    """What differs between two workbooks, part by part; empty when they are the same."""
    with zipfile.ZipFile(produced) as got, zipfile.ZipFile(reference) as want:
        got_parts, want_parts = sorted(got.namelist()), sorted(want.namelist())
        if got_parts != want_parts:
            return [
                f"parts differ: only in the new file {sorted(set(got_parts) - set(want_parts))}, "
                f"only in the reference {sorted(set(want_parts) - set(got_parts))}"
            ]
        out = []
        for part in want_parts:
            new, old = normalised(part, got.read(part)), normalised(part, want.read(part))
            if new != old:
                diff = difflib.unified_diff(
                    old.splitlines(), new.splitlines(), f"reference {part}", f"new {part}", n=2, lineterm=""
                )
                out.append(f"{part} differs:\n" + "\n".join(list(diff)[:MAX_DIFF_LINES]))
        return out


def update(cases=CASES) -> list[Path]:
    """Rewrite the reference files from the current code."""
    GOLDEN.mkdir(exist_ok=True)
    return [write_case(case, GOLDEN / case.name) for case in cases]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_template_equals_its_golden_reference(case, tmp_path):
    if os.environ.get(UPDATE_ENV):
        update([case])
        pytest.skip(f"{UPDATE_ENV} is set: rewrote {case.name}; review the change with git diff")
    reference = GOLDEN / case.name
    assert reference.is_file(), f"{reference} is missing; make it with python -m tests.test_golden --update"
    found = differences(write_case(case, tmp_path / case.name), reference)
    assert not found, (
        f"{case.name}: the template differs from its reference; if the change is intended, regenerate it with "
        "python -m tests.test_golden --update\n\n" + "\n\n".join(found)
    )


# --------------------------------------------------------------------------- the comparison itself


def _rewritten(src: Path, dest: Path, part: str, change) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info, change(data) if info.filename == part else data)
    return dest


def test_timestamps_and_the_version_do_not_count(tmp_path):
    reference = GOLDEN / CASES[0].name
    other = _rewritten(
        reference, tmp_path / "a.xlsx", "docProps/core.xml", lambda d: re.sub(rb"\d{4}-\d\d-\d\dT", b"1999-01-01T", d)
    )
    other = _rewritten(
        other,
        tmp_path / "b.xlsx",
        "xl/sharedStrings.xml",
        lambda d: d.replace(f"<t>{xltool.__version__}</t>".encode(), b"<t>99.0.0</t>"),
    )
    with zipfile.ZipFile(other) as z:
        assert b"1999-01-01T" in z.read("docProps/core.xml") and b"99.0.0" in z.read("xl/sharedStrings.xml")
    assert differences(other, reference) == []


def test_a_changed_label_or_formula_is_named_with_its_part(tmp_path):
    reference = GOLDEN / CASES[0].name
    label = _rewritten(
        reference, tmp_path / "label.xlsx", "xl/sharedStrings.xml", lambda d: d.replace("予以公开".encode(), b"ABC", 1)
    )
    (found,) = differences(label, reference)
    assert found.startswith("xl/sharedStrings.xml differs:") and "+<t>（一）ABC</t>" in found
    formula = _rewritten(
        reference, tmp_path / "formula.xlsx", "xl/worksheets/sheet3.xml", lambda d: d.replace(b"SUM(", b"PRODUCT(", 1)
    )
    (found,) = differences(formula, reference)
    assert found.startswith("xl/worksheets/sheet3.xml differs:") and "PRODUCT(" in found
    extra = _rewritten(reference, tmp_path / "extra.xlsx", "none", bytes)
    with zipfile.ZipFile(extra, "a") as z:
        z.writestr("xl/vbaProject.bin", b"\0")
    assert differences(extra, reference) == [
        "parts differ: only in the new file ['xl/vbaProject.bin'], only in the reference []"
    ]


def main(argv: list[str]) -> int:
    if argv != ["--update"]:
        print("usage: python -m tests.test_golden --update   (rewrites tests/golden/ from the current code)")
        return 2
    with tempfile.TemporaryDirectory() as scratch:
        for case in CASES:  # compare first, to say what changed
            if (GOLDEN / case.name).is_file():
                new = write_case(case, Path(scratch) / case.name)
                print(f"{case.name}: {'unchanged' if not differences(new, GOLDEN / case.name) else 'changed'}")
    for path in update():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
