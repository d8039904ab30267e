"""Real published reports (tests/corpus, copied from shared/corpus) read to every figure transcribed by
hand, as printed; and the forms clerks keep of the portal pages (Chromium's print-to-PDF of the whole
page, the Word file LibreOffice saves from it and that Word file's PDF) read to the same figures.

Each document is also validated alone: the only errors are the ones the report really has
(hongze-2023 prints two 表四 总计 0 under non-zero parts: exactly two T4-R6).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from helpers.corpus import CORPUS, DERIVED_FORMS, derived_form, expected_figures

from xltool.definition import get_format
from xltool.findings import ERROR
from xltool.read.dispatch import read_return
from xltool.validate import validate_paths

ENTRIES = {e["file"]: e for e in json.loads((CORPUS / "figures.json").read_text(encoding="utf-8"))}
PAGES = [name for name in ENTRIES if name.endswith(".html")]

EXPECTED_ERRORS = {"hongze-2023.pdf": Counter({"T4-R6": 2})}
"""The errors each report really has (see figures.json's notes); every other report has none."""


def figures_differing(path: Path, entry: dict) -> list[str]:
    rec = read_return(path)
    fmt = get_format()
    wrong = []
    for cid, want in expected_figures(entry, fmt).items():
        got = rec.values.get(cid)
        if got != want:
            wrong.append(f"{cid}（{fmt.cells[cid].row_label} / {fmt.cells[cid].col_label}）：读到 {got}，应为 {want}")
    if wrong:
        wrong += [f"{f.rule} {f.message}" for f in rec.findings]
    return wrong


def errors_of(path: Path) -> Counter[str]:
    report = validate_paths([path]).report
    return Counter(f.rule for f in report.findings if f.severity == ERROR)


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_a_real_report_reads_to_every_figure_as_printed(name):
    assert figures_differing(CORPUS / name, ENTRIES[name]) == []


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_a_real_report_has_no_error_it_does_not_really_have(name):
    assert errors_of(CORPUS / name) == EXPECTED_ERRORS.get(name, Counter())


@pytest.mark.slow
@pytest.mark.parametrize("form", DERIVED_FORMS)
@pytest.mark.parametrize("name", PAGES)
def test_a_page_as_clerks_keep_it_reads_to_the_same_figures(name, form, tmp_path):
    path = derived_form(CORPUS / name, form)
    assert figures_differing(path, ENTRIES[name]) == []
    assert errors_of(path) == EXPECTED_ERRORS.get(name, Counter())
