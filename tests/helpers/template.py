"""The golden structure of a generated template, read back with openpyxl and compared with the
definition (tests/test_template.py, tests/test_format_2019.py)."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
from openpyxl.utils.cell import range_boundaries
from openpyxl.utils.protection import hash_password

from xltool.definition import Format, Span, a1
from xltool.model import IDENT_KEYS, IDENT_SHEET, Identity
from xltool.write.template import CHECK_OK, DEFAULT_PASSWORD

_REF = re.compile(r"\$?([A-Z]{1,3})\$?([0-9]+)(?::\$?([A-Z]{1,3})\$?([0-9]+))?")


def referenced(formula: str) -> set[str]:
    """Every single-cell address a formula refers to, ranges expanded."""
    out = set()
    for m in _REF.finditer(re.sub(r'"[^"]*"', "", formula)):
        ref = m.group(0).replace("$", "")
        min_col, min_row, max_col, max_row = range_boundaries(ref)
        out |= {a1(r - 1, c - 1) for r in range(min_row, max_row + 1) for c in range(min_col, max_col + 1)}
    return out


def expected_spans(fmt: Format, sheet: str) -> dict[str, str]:
    """Every label the definition draws on ``sheet``: span ref -> text."""
    if sheet == fmt.cover.sheet:
        cover = fmt.cover
        out = {cover.title_span.ref: cover.title.format(year=2024, document=fmt.document, name=fmt.name)}
        if cover.subtitle:
            out[cover.subtitle_span.ref] = cover.subtitle.format(year=2024, document=fmt.document, name=fmt.name)
        out |= {f.label_span.ref: f.label for f in cover.fields}
        span = cover.instructions_span
        for i, line in enumerate(cover.instructions):
            out[Span(span.first_row + i, span.first_col, span.first_row + i, span.last_col).ref] = line
        return out
    table = next(t for t in fmt.tables if t.sheet == sheet)
    out = {table.title_span.ref: table.title} | {lab.span.ref: lab.text for lab in table.labels}
    for grid in table.grids:
        out |= {line.span.ref: line.label for line in grid.rows + grid.columns if line.span}
    for rule in fmt.rules:
        if rule.check_label and any(fmt.grid(g).table == table.key for g in rule.grids):
            out[rule.check_label.span.ref] = rule.check_label.text
    return out


def expected_merges(fmt: Format, sheet: str) -> set[str]:
    spans = {ref for ref in expected_spans(fmt, sheet) if ":" in ref}
    if sheet == fmt.cover.sheet:
        return spans | {f.value_span.ref for f in fmt.cover.fields if f.value_span.is_merged}
    spans |= {c.span.ref for c in fmt.cells.values() if c.sheet == sheet and c.span.is_merged}
    spans |= {i.check_span.ref for i in fmt.instances if i.sheet == sheet and i.check_span and i.check_span.is_merged}
    return spans


def assert_structure(path: Path, fmt: Format, identity: Identity) -> None:
    """Everything the definition says is where it says, locked or unlocked as it should be."""
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [fmt.cover.sheet] + [t.sheet for t in fmt.tables] + [IDENT_SHEET]
    for ws in wb.worksheets:
        if ws.title == IDENT_SHEET:
            continue
        assert ws.sheet_state == "visible"
        assert ws.protection.sheet and ws.protection.password == hash_password(DEFAULT_PASSWORD), ws.title
        for ref, text in expected_spans(fmt, ws.title).items():
            assert ws[ref.split(":")[0]].value == text, (ws.title, ref)
        assert {str(r) for r in ws.merged_cells.ranges} == expected_merges(fmt, ws.title), ws.title
    for table in fmt.tables:
        ws = wb[table.sheet]
        assert ws.freeze_panes == (a1(table.freeze_rows, 0) if table.freeze_rows else None)
        assert ws.page_setup.paperSize == 9
        assert ws.page_setup.orientation == ("landscape" if table.landscape else "portrait")
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (1, None)
        assert ws.page_setup.fitToHeight == 0
        if table.freeze_rows:
            assert ws.print_title_rows == f"$1:${table.freeze_rows}"
    for cell in fmt.cells.values():
        ws, c = wb[cell.sheet], wb[cell.sheet][cell.address]
        assert c.number_format == {"count": "0", "amount": "0.0000##", "delta": "0"}[cell.kind]
        if cell.is_total:
            assert c.protection.locked, cell.id
            assert c.value.startswith("=SUM("), cell.id
            assert referenced(c.value) == {fmt.cells[p].address for p in cell.parts}, cell.id
        else:
            assert not c.protection.locked, cell.id
            assert c.fill.fgColor.rgb.endswith("FFF2CC"), cell.id
    for inst in fmt.instances:
        if inst.check_span is None:
            continue
        c = wb[inst.sheet][inst.check_span.top_left]
        assert c.protection.locked
        assert referenced(c.value) == {fmt.cells[t.cell].address for t in inst.lhs + inst.rhs}, inst.name
        assert f'"{CHECK_OK}"' in c.value and '"不符（差"' in c.value
    assert_validations(wb, fmt)
    ident = wb[IDENT_SHEET]
    assert ident.sheet_state == "veryHidden"
    rows = [(r[0].value, r[1].value) for r in ident.iter_rows(max_col=2)]
    assert [k for k, _ in rows] == list(IDENT_KEYS)
    assert all(isinstance(v, str) for _, v in rows)
    assert Identity.from_mapping(dict(rows)) == identity


def assert_validations(wb: openpyxl.Workbook, fmt: Format) -> None:
    """One data validation on every input cell (its whole span), none on any other statutory cell."""
    for table in fmt.tables:
        ws = wb[table.sheet]
        covered: dict[str, object] = {}
        for dv in ws.data_validations.dataValidation:
            for rng in dv.sqref.ranges:
                for row, col in rng.cells:
                    covered[a1(row - 1, col - 1)] = dv
        for cell in fmt.cells.values():
            if cell.table != table.key:
                continue
            dv = covered.get(cell.address)
            if cell.is_total:
                assert dv is None, cell.id
                continue
            assert dv is not None, cell.id
            assert all(a1(cell.row, c) in covered for c in range(cell.col, cell.col + cell.width))
            assert dv.type == ("decimal" if cell.kind == "amount" else "whole"), cell.id
            if cell.kind == "delta":  # any sign
                assert dv.operator in (None, "between") and int(dv.formula1) < 0 < int(dv.formula2), cell.id
            else:
                assert dv.operator == "greaterThanOrEqual" and dv.formula1 == "0", cell.id
            assert dv.showErrorMessage and dv.showInputMessage
            assert 0 < len(dv.promptTitle) <= 32 and 0 < len(dv.prompt) <= 255
            assert 0 < len(dv.errorTitle) <= 32 and 0 < len(dv.error) <= 255
