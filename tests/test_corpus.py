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


def test_two_years_of_one_district_agree_across_the_years():
    """hongze-2024 with hongze-2023 as last year: carry-over 0 = 0 and the stock 5 + 3 − 0 = 8 hold;
    the cross-year check runs (the two titles name the district differently: one X-NAME warning)."""
    report = validate_paths([CORPUS / "hongze-2024.pdf"], previous=[CORPUS / "hongze-2023.pdf"]).report
    assert [f.rule for f in report.findings if f.severity == ERROR] == []
    assert "X-NAME" in {f.rule for f in report.findings}
    assert not {"T3-R5", "T2-W2"} & {f.rule for f in report.findings}


def test_a_broken_stock_identity_is_a_warning_never_an_error(tmp_path):
    """pingtan-2023 prints 现行有效 470 行政规范性文件 after 698 + 77 − 132 the year before (a clean-up
    of its document library): T2-W2 warns, nothing is an error."""
    from helpers.returns import make_return

    from xltool.model import Unit

    entry = ENTRIES["pingtan-2023.html"]
    this_year = expected_figures(entry, get_format())
    carried = {
        cid.replace("t3.carried_in.", "t3.carried_out."): v
        for cid, v in this_year.items()
        if cid.startswith("t3.carried_in.")
    }
    new = {cid.replace("t3.carried_out.", "t3.new."): v for cid, v in carried.items()}
    last = make_return(
        tmp_path / "平潭综合实验区2022.xlsx",
        Unit("350128", "平潭综合实验区", "县"),
        {"t2_1.normative.valid": 698, **carried, **new},
        year=2022,
    )
    report = validate_paths([CORPUS / "pingtan-2023.html"], previous=[last]).report
    assert [f.rule for f in report.findings if f.severity == ERROR] == []
    stock = [f for f in report.findings if f.rule == "T2-W2"]
    assert len(stock) == 1 and stock[0].severity == "warning" and "470" in stock[0].message
