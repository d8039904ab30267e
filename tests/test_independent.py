"""An independent check, as a new user would script it: knowing only the labels printed in the
format (not xltool's definition), find every statutory cell of a generated template, check it is
editable or a locked formula, fill it, let LibreOffice recalculate, and compare totals, live checks
and `xltool validate` with what the printed rules say."""

from __future__ import annotations

import random
import re

import openpyxl
import pytest
from helpers import printed_labels

from xltool.definition import get_format
from xltool.model import Unit
from xltool.validate import validate_paths
from xltool.write.template import write_template

T3_ROWS = list(printed_labels.T3_ROWS)
T3_COLUMNS = [*printed_labels.T3_APPLICANTS, printed_labels.TOTAL]
T4_BLOCKS = list(printed_labels.T4_BLOCKS)
T4_COLUMNS = [*printed_labels.T4_RESULTS, printed_labels.TOTAL]
T2_ROWS = {label: len(columns) for label, columns in printed_labels.T2_GRID.items()}


def norm(text: object) -> str:
    return re.sub(r"\s+", "", str(text or ""))


def find(ws, label: str, *, first_only: bool = True):
    hits = [c for row in ws.iter_rows() for c in row if norm(c.value) == norm(label)]
    assert hits, f"{ws.title}: 找不到“{label}”"
    return hits[0] if first_only else hits


def locate(wb):
    """{(sheet, row label, column label): coordinate} found by printed labels only."""
    t3 = next(ws for ws in wb.worksheets if any(norm(c.value) == norm(T3_ROWS[0]) for r in ws.iter_rows() for c in r))
    # 1./2./3. items repeat under several headings: take them in sheet order after the first item row
    ordered = sorted({c.row for label in T3_ROWS for c in find(t3, label, first_only=False)})
    assert len(ordered) == 25
    rows = dict(zip(T3_ROWS, ordered, strict=True))
    cols = {label: find(t3, label).column for label in T3_COLUMNS}
    cells = {("t3", r, c): t3.cell(rows[r], cols[c]).coordinate for r in T3_ROWS for c in T3_COLUMNS}
    t4 = next(ws for ws in wb.worksheets if any(norm(c.value) == "复议后起诉" for r in ws.iter_rows() for c in r))
    header_row = find(t4, "结果维持").row
    for block in T4_BLOCKS:
        start = find(t4, block).column
        for i, col in enumerate(T4_COLUMNS):
            assert norm(t4.cell(header_row, start + i).value) == col
            cells[("t4", block, col)] = t4.cell(header_row + 1, start + i).coordinate
    return t3, t4, cells


@pytest.mark.slow
@pytest.mark.libreoffice
@pytest.mark.parametrize("consistent", [True, False])
def test_a_label_only_script_fills_recalculates_and_validates(tmp_path, libreoffice_recalc, consistent):
    fmt = get_format()
    path = write_template(fmt, Unit("230723102", "汤旺河镇", "乡镇"), 2024, tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    t3, t4, cells = locate(wb)

    totals = {k for k in cells if k[2] == "总计" or k[1] == "（七）总计"}
    for key, coord in cells.items():
        ws = t3 if key[0] == "t3" else t4
        cell = ws[coord]
        if key in totals:
            assert cell.protection.locked and str(cell.value).startswith("="), key
        else:
            assert not cell.protection.locked and cell.value == 0, key
    assert t3.protection.sheet and t4.protection.sheet

    rng = random.Random(7 if consistent else 8)
    results = T3_ROWS[2:-2]
    for col in T3_COLUMNS[:-1]:
        handled = {r: rng.randint(0, 3) for r in results}
        carried_in, carried_out = rng.randint(0, 2), rng.randint(0, 2)
        new = sum(handled.values()) + carried_out - carried_in
        if new < 0:
            carried_in, new = carried_in + new, 0
        if not consistent and col == "科研机构":
            new += 1  # one application too many: R1 must fail in this column only
        for r, v in {**handled, T3_ROWS[0]: new, T3_ROWS[1]: carried_in, T3_ROWS[-1]: carried_out}.items():
            t3[cells[("t3", r, col)]] = v
    for block in T4_BLOCKS:
        for col in T4_COLUMNS[:-1]:
            t4[cells[("t4", block, col)]] = rng.randint(0, 2)
    wb.save(path)

    recalculated = libreoffice_recalc(path, tmp_path / "lo")
    values = openpyxl.load_workbook(recalculated, data_only=True)
    v3, v4 = values[t3.title], values[t4.title]
    for col in T3_COLUMNS:
        got = {r: v3[cells[("t3", r, col)]].value for r in T3_ROWS}
        assert got["（七）总计"] == sum(got[r] for r in results)
        lhs, rhs = got[T3_ROWS[0]] + got[T3_ROWS[1]], got["（七）总计"] + got[T3_ROWS[-1]]
        check = v3.cell(v3[cells[("t3", T3_ROWS[-1], col)]].row + 1, v3[cells[("t3", T3_ROWS[-1], col)]].column).value
        assert check == ("正确" if lhs == rhs else f"不符（差{lhs - rhs}）"), (col, check)
    for r in T3_ROWS:
        assert v3[cells[("t3", r, "总计")]].value == sum(v3[cells[("t3", r, c)]].value for c in T3_COLUMNS[:-1])
    for block in T4_BLOCKS:
        assert v4[cells[("t4", block, "总计")]].value == sum(v4[cells[("t4", block, c)]].value for c in T4_COLUMNS[:-1])

    report = validate_paths([recalculated]).report
    if consistent:
        assert report.valid and not report.findings, report.findings
    else:
        errors = [f for f in report.findings if f.severity == "error"]
        assert {f.rule for f in errors} == {"T3-R1"}
        research_col = re.sub(r"\d", "", cells[("t3", T3_ROWS[0], "科研机构")])
        assert any(all(c.startswith(research_col) for c in f.cells) for f in errors)
        assert any(cells[("t3", T3_ROWS[0], "科研机构")] in f.cells for f in errors)


def test_table_two_rows_are_found_by_label(tmp_path):
    """表二's rows are where the printed labels are, each with its inputs to the right."""
    path = write_template(get_format(), Unit("1", "某镇", "乡镇"), 2024, tmp_path / "t.xlsx")
    ws = openpyxl.load_workbook(path).worksheets[1]
    for label, n_inputs in T2_ROWS.items():
        row = find(ws, label).row
        inputs = [c for c in ws[row] if c.value == 0 and not c.protection.locked]
        assert len(inputs) == n_inputs, label
