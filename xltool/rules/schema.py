"""Format -> pandera schema: the definition's rules as named DataFrame checks, failures -> findings.

One row per readable return, one nullable Int64 column per statutory cell (amounts scaled by
AMOUNT_SCALE). Every rule instance of the definition becomes one DataFrame-wide check named
after the instance, so a failure maps back to its rule and cells without guessing. The checks'
columns and coefficients come from ``rulecheck.compiled_rules``, which also answers, without
pandas, whether a batch with no missing value passes them all (validate skips this module then).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from xltool.catalogue import message as catalogue_message
from xltool.definition import Format, RuleInstance, Term, parse_cell
from xltool.errors import InternalError
from xltool.findings import Finding
from xltool.read.scanned import is_scan, unsure_cells
from xltool.rules.rulecheck import (  # noqa: F401 - PREV, is_cross_year: imported from here before rulecheck existed
    PREV,
    CompiledRules,
    Equation,
    ZeroRule,
    checked_instances,
    compiled_rules,
    format_rows,
    is_cross_year,
    prev_column,
)
from xltool.text import short_sheet
from xltool.values import show_value

if TYPE_CHECKING:
    from xltool.model import ReturnRecord

META = ("file", "unit_code", "unit_name", "unit_level", "year")
RULE_NEGATIVE = "V-NEGATIVE"
_GE0 = "greater_than_or_equal_to(0)"


# --------------------------------------------------------------------------- frames


def frame_from_records(records: Sequence[ReturnRecord], fmt: Format) -> pd.DataFrame:
    """One row per readable record of this format; the index is the record's position in ``records``.

    Built column by column from one int64 block when every value is usable (the common case, no
    per-cell Python work); a column with unusable values (None) becomes a masked Int64 column.
    """
    rows_of = format_rows(records, fmt)
    positions = [i for i, _ in rows_of]
    picked = [rec for _, rec in rows_of]
    cells = list(fmt.cells)
    n = len(picked)
    index = pd.Index(positions, dtype="int64")
    idents = [rec.identity for rec in picked]
    data: dict[str, Any] = {
        "file": pd.Series([rec.file for rec in picked], index=index, dtype=object),
        "unit_code": pd.Series([i.unit_code if i else "" for i in idents], index=index, dtype=object),
        "unit_name": pd.Series([i.unit_name if i else "" for i in idents], index=index, dtype=object),
        "unit_level": pd.Series([i.unit_level if i else "" for i in idents], index=index, dtype=object),
        "year": pd.array([i.year if i else None for i in idents], dtype="Int64"),
    }
    get = operator.itemgetter(*cells)
    try:
        rows = [get(rec.values) for rec in picked]
    except KeyError:
        rows = [tuple(rec.values.get(c) for c in cells) for rec in picked]
    try:
        block = np.array(rows, dtype=np.int64).reshape(n, len(cells)).T.copy()
    except (TypeError, ValueError, OverflowError):  # some value is None (unusable): column by column
        for j, cid in enumerate(cells):
            data[cid] = pd.array([row[j] for row in rows], dtype="Int64")
    else:
        mask = np.zeros((len(cells), n), dtype=bool)
        for j, cid in enumerate(cells):
            data[cid] = pd.arrays.IntegerArray(block[j], mask[j])
    return pd.DataFrame(data, index=index, columns=list(META) + cells, copy=False)


def add_previous(
    df: pd.DataFrame,
    fmt: Format,
    previous: dict[str, dict[str, int | None]],
    keys: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Add one "prev:<cell>" column per cell from last year's values by unit (NA when absent);
    ``keys``: each row's unit key (default: its unit code)."""
    keys = list(df["unit_code"]) if keys is None else keys
    data = {
        prev_column(cid): pd.array(
            [previous.get(key, {}).get(cid) for key in keys],
            dtype="Int64",
        )
        for cid in fmt.cells
    }
    return pd.concat([df, pd.DataFrame(data, index=df.index)], axis=1)


# --------------------------------------------------------------------------- schema


def _equation_check(rules: CompiledRules, eq: Equation) -> Callable[[pd.DataFrame], pd.Series]:
    """sum(coef*lhs) == sum(coef*rhs) per row, in exact int64; a row with NA among its terms passes.
    Columns and coefficients are the compiled rules' (``rulecheck.passes`` uses the same matrix)."""
    columns = [rules.columns[j] for j in eq.terms]
    vector = rules.matrix[list(eq.terms), eq.at]

    def check(df: pd.DataFrame) -> pd.Series:
        part = df[columns]
        missing = part.isna().to_numpy().any(axis=1)
        diff = part.to_numpy(dtype="int64", na_value=0) @ vector
        return pd.Series((diff == 0) | missing, index=df.index)

    return check


def _zero_check(rules: CompiledRules, rule: ZeroRule) -> Callable[[pd.DataFrame], pd.Series]:
    """Rows of a unit whose level is listed must hold 0 (or an unusable value) in every cell."""
    levels = list(rule.levels)
    columns = [rules.columns[j] for j in rule.columns]

    def check(df: pd.DataFrame) -> pd.Series:
        zero = (df[columns].fillna(0).to_numpy(dtype="int64") == 0).all(axis=1)
        return pd.Series(zero, index=df.index) | ~df["unit_level"].isin(levels)

    return check


def build_schema(fmt: Format, with_previous: bool = False) -> pa.DataFrameSchema:
    """The pandera schema of a format, built once per (format, with_previous) and kept on the format."""
    return fmt.derived(_schema_with_previous if with_previous else _schema)


def _schema(fmt: Format) -> pa.DataFrameSchema:
    return _build_schema(fmt, with_previous=False)


def _schema_with_previous(fmt: Format) -> pa.DataFrameSchema:
    return _build_schema(fmt, with_previous=True)


def _build_schema(fmt: Format, with_previous: bool) -> pa.DataFrameSchema:
    rules = compiled_rules(fmt, with_previous)
    columns: dict[str, pa.Column] = {  # a DELTA cell (本年增/减) may be negative
        cid: pa.Column("Int64", pa.Check.ge(0) if rules.nonnegative[j] else None, nullable=True, coerce=False)
        for j, cid in enumerate(rules.cells)
    }
    if with_previous:
        columns.update({prev_column(cid): pa.Column("Int64", nullable=True) for cid in fmt.cells})
    checks = []
    for check in rules.checks:
        fn = _zero_check(rules, check) if isinstance(check, ZeroRule) else _equation_check(rules, check)
        checks.append(pa.Check(fn, name=check.inst.name, ignore_na=False))
    return pa.DataFrameSchema(columns, checks=checks, name=fmt.id)


# --------------------------------------------------------------------------- failures -> findings


def schema_findings(
    df: pd.DataFrame,
    fmt: Format,
    records: Sequence[ReturnRecord],
    with_previous: bool = False,
) -> list[Finding]:
    """Validate the frame (lazily) and turn every failed check into a finding at its cells.

    ``records[i]`` is the record of the frame row with index ``i`` (see ``frame_from_records``).
    """
    if df.empty:
        return []
    schema = build_schema(fmt, with_previous)
    try:
        schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        failures = exc.failure_cases
    else:
        return []
    by_name = {i.name: i for i in checked_instances(fmt, with_previous)}
    tables = [t.key for t in fmt.tables]
    out: list[tuple[tuple[int, int, tuple[int, int], str], Finding]] = []
    cases = failures[["check", "column", "index"]]
    wide = cases["check"].isin(list(by_name))
    # a wide check lists one failure case per column of a failing row: one is enough
    cases = pd.concat([cases[wide].drop_duplicates(["check", "index"]), cases[~wide]])
    rows = df.loc[sorted({int(i) for i in cases["index"] if not pd.isna(i)})].to_dict("index")
    crossings = _crossings(cases, by_name, records)
    for check, column, index in cases.itertuples(index=False):
        if index is None or pd.isna(index):
            # a schema-level failure with no row (wrong dtype, missing column): a bug, not user data
            raise InternalError(f"schema {fmt.id}: {check} failed on {column}")
        index = int(index)
        rec = records[index]
        if check in by_name:
            finding = instance_finding(by_name[check], fmt, rec, rows[index], crossings.get(index, set()))
            table = fmt.cells[by_name[check].cells[0]].table
        elif check == _GE0 and column in fmt.cells:
            finding = negative_finding(fmt, rec, column, rows[index][column])
            table = fmt.cells[column].table
            if _already_reported(rec, finding):
                continue
        else:
            raise InternalError(f"schema {fmt.id}: unexpected check {check!r} on {column}")
        first = fmt.cells[finding.cell_ids[0]]  # in the table's order, wherever a document printed it
        out.append(((index, tables.index(table), (first.row, first.col), finding.rule), finding))
    return [f for _, f in sorted(out, key=lambda x: x[0])]


def _already_reported(rec: ReturnRecord, finding: Finding) -> bool:
    """The reader may already have flagged a bad value at this cell; say it once."""
    return any(f.sheet == finding.sheet and set(f.cells) & set(finding.cells) for f in rec.findings)


def negative_finding(fmt: Format, rec: ReturnRecord, cid: str, value: Any) -> Finding:
    c = fmt.cells[cid]
    if rec.positions:
        sheet, cells, where = _printed_at(rec, (cid,))
        return Finding.at_cells(
            rec,
            RULE_NEGATIVE,
            sheet=sheet,
            cells=cells,
            fields={
                "sheet": short_sheet(c.sheet),
                "cell": f"{c.label}（{where}）",
                "text": show_value(int(value), c.kind),
            },
            row_label=c.row_label,
            col_label=c.col_label,
            cell_ids=(cid,),
            location=where,
        )
    return Finding.at_cells(
        rec,
        RULE_NEGATIVE,
        sheet=rec.sheet_titles.get(c.table, c.sheet),
        cells=(c.address,),
        fields={"sheet": short_sheet(c.sheet), "cell": c.address, "text": show_value(int(value), c.kind)},
        row_label=c.row_label,
        col_label=c.col_label,
        cell_ids=(cid,),
    )


def _crossings(
    cases: pd.DataFrame, by_name: Mapping[str, RuleInstance], records: Sequence[ReturnRecord]
) -> dict[int, set[str]]:
    """On a scan: the cells where two failed identities of one record cross (share that one cell and
    no other), by frame row. The 总计 row and column make the tables a checksum grid: a figure misread
    breaks its row's and its column's identity, and they meet at it, whatever OCR's confidence."""
    failed: dict[int, list[frozenset[str]]] = {}
    for check, _column, index in cases.itertuples(index=False):
        if check in by_name and not pd.isna(index) and is_scan(records[int(index)]):
            failed.setdefault(int(index), []).append(frozenset(by_name[check].cells))
    out: dict[int, set[str]] = {}
    for index, sets in failed.items():
        for i, a in enumerate(sets):
            for b in sets[i + 1 :]:
                if len(a & b) == 1:
                    out.setdefault(index, set()).update(a & b)
    return out


def instance_finding(
    inst: RuleInstance,
    fmt: Format,
    rec: ReturnRecord,
    row: Mapping[str, Any],
    crossing: set[str] | frozenset[str] = frozenset(),
) -> Finding:
    """The finding of a failed rule instance at its cells; on a scan, saying that a figure may be
    misread, with the unsure cells it involves and ``crossing``: the cells where it meets another
    failed identity (see ``_crossings``)."""
    """A failed rule instance as a finding whose message carries the row's numbers."""
    first = fmt.cells[inst.cells[0]]
    sheet = rec.sheet_titles.get(first.table, first.sheet)
    ids = tuple(sorted(inst.cells, key=lambda c: (fmt.cells[c].row, fmt.cells[c].col)))
    cells = tuple(fmt.cells[c].address for c in ids)
    kind = inst.rule.kind
    row_label = col_label = ""
    where = ""
    if rec.positions:  # a document: its own positions, and messages in labels (its cells are not the template's)
        sheet, cells, where = _printed_at(rec, ids if kind != "sum" else (inst.lhs[0].cell, *ids))
    if kind == "sum":
        target = fmt.cells[inst.lhs[0].cell]
        row_label, col_label = target.row_label, target.col_label
        message = _document_sum_message(inst, fmt, row) if rec.positions else _sum_message(inst, fmt, rec, row)
    elif kind == "zero_for_levels":
        row_label = first.row_label
        message = _zero_message(inst, fmt, row, labels_only=bool(rec.positions))
    else:
        if inst.rule.per == "column":
            col_label = first.col_label
        else:
            row_label = first.row_label
        message = _equation_message(inst, fmt, row, labels_only=bool(rec.positions))
    if where:
        message = f"{message}（{where}）"
    if is_scan(rec):
        message = f"{message}；{_misread(fmt, rec, ids, crossing)}"
    return Finding.at_cells(
        rec,
        inst.rule.code,
        sheet=sheet,
        cells=cells,
        severity=inst.rule.severity,
        message=message,
        row_label=row_label,
        col_label=col_label,
        cell_ids=ids,
        check=inst.name,
        location=where,
    )


def _misread(fmt: Format, rec: ReturnRecord, ids: Sequence[str], crossing: set[str] | frozenset[str]) -> str:
    """On a scan read by OCR: a failed identity may be a misread figure; the cell where it crosses
    another failed identity (the likeliest misread) and the unsure cells it involves."""
    crossed = [c for c in ids if c in crossing]
    unsure = [c for c in unsure_cells(rec, list(ids)) if c not in crossing]
    said = ""
    if crossed:
        cells = "、".join(f"{fmt.cells[c].label}“{rec.printed.get(c, '')}”" for c in crossed)
        said += f"，与另一条不符的勾稽关系相交于 {cells}，最可能是它识别有误"
    if unsure:
        names = "、".join(
            f"{fmt.cells[c].label}“{rec.printed.get(c, '')}”（置信度 {rec.confidence[c]:.2f}）" for c in unsure
        )
        said += f"，识别把握不大的有：{names}"
    return catalogue_message("O-MISREAD", cells=said)


def _printed_at(rec: ReturnRecord, ids: Sequence[str]) -> tuple[str, tuple[str, ...], str]:
    """Where a document printed these cells: the sheet and A1 cells (a workbook), and a place a person
    finds again (the first cell's: "第 2 个表格第 5 行第 4 列")."""
    found = [rec.positions[c] for c in ids if c in rec.positions]
    sheet = found[0].sheet if found else ""
    cells = tuple(dict.fromkeys(p.ref for p in found if p.ref and p.sheet == sheet))
    return sheet, cells, found[0].where if found else ""


# --------------------------------------------------------------------------- message pieces


def short_label(label: str) -> str:
    """ "一、本年新收…" -> "一"; "（七）总计" stays."""
    head, sep, _ = label.partition("、")
    return head if sep and len(head) <= 3 else label


def _kind_of(inst: RuleInstance, fmt: Format) -> str:
    return fmt.cells[inst.cells[0]].kind


def _value(row: Mapping[str, Any], term: Term) -> int:
    return int(row[prev_column(term.cell) if term.previous else term.cell])


def _side_value(row: Mapping[str, Any], terms: Sequence[Term]) -> int:
    return sum(t.coef * _value(row, t) for t in terms)


def _join(items: Sequence[tuple[int, str]]) -> str:
    text = ""
    for i, (coef, item) in enumerate(items):
        if coef < 0:
            text += "−"
        elif i:
            text += "+"
        text += item
    return text


def _term_ref(fmt: Format, t: Term) -> str:
    return ("上年" if t.previous else "") + fmt.cells[t.cell].address


def _term_label(inst: RuleInstance, fmt: Format, t: Term) -> str:
    c = fmt.cells[t.cell]
    label = c.row_label if inst.rule.per == "column" else c.col_label
    return ("上年" if t.previous else "") + short_label(label)


def _equation_message(inst: RuleInstance, fmt: Format, row: Mapping[str, Any], labels_only: bool = False) -> str:
    """表三 D5+D6 ≠ D28+D29（自然人列：一+二=8，（七）总计+四=7，差 1）; with ``labels_only`` (a document,
    whose cells are not the template's): 表三 自然人列：一+二=8，（七）总计+四=7，差 1"""
    kind = _kind_of(inst, fmt)
    lhs_ref = _join([(t.coef, _term_ref(fmt, t)) for t in inst.lhs])
    rhs_ref = _join([(t.coef, _term_ref(fmt, t)) for t in inst.rhs])
    lhs_label = _join([(t.coef, _term_label(inst, fmt, t)) for t in inst.lhs])
    rhs_label = _join([(t.coef, _term_label(inst, fmt, t)) for t in inst.rhs])
    lv, rv = _side_value(row, inst.lhs), _side_value(row, inst.rhs)
    if labels_only:
        return (
            f"{short_sheet(inst.sheet)} {inst.scope}：{lhs_label}={show_value(lv, kind)}，"
            f"{rhs_label}={show_value(rv, kind)}，差 {show_value(abs(lv - rv), kind)}"
        )
    return (
        f"{short_sheet(inst.sheet)} {lhs_ref} ≠ {rhs_ref}（{inst.scope}："
        f"{lhs_label}={show_value(lv, kind)}，{rhs_label}={show_value(rv, kind)}，"
        f"差 {show_value(abs(lv - rv), kind)}）"
    )


def _range_ref(fmt: Format, ids: Sequence[str]) -> str:
    """Contiguous cells of one row or column as "D7:D27", otherwise "A5+B5+…"."""
    pos = [parse_cell(fmt.cells[i].address) for i in ids]
    rows = {r for r, _ in pos}
    cols = {c for _, c in pos}
    if len(ids) > 1 and len(rows) == 1 and sorted(cols) == list(range(min(cols), min(cols) + len(ids))):
        pass
    elif len(ids) > 1 and len(cols) == 1 and sorted(rows) == list(range(min(rows), min(rows) + len(ids))):
        pass
    else:
        return "+".join(fmt.cells[i].address for i in ids)
    return f"{fmt.cells[ids[0]].address}:{fmt.cells[ids[-1]].address}"


def _sum_message(inst: RuleInstance, fmt: Format, rec: ReturnRecord, row: Mapping[str, Any]) -> str:
    """表三 自然人列（七）总计 D28 显示 20，D7:D27 之和为 21，差 1"""
    kind = _kind_of(inst, fmt)
    target = fmt.cells[inst.lhs[0].cell]
    label = target.row_label if inst.rule.per == "column" else target.col_label
    shown, computed = _side_value(row, inst.lhs), _side_value(row, inst.rhs)
    text = (
        f"{short_sheet(inst.sheet)} {inst.scope}{label} {target.address} 显示 {show_value(shown, kind)}，"
        f"{_range_ref(fmt, [t.cell for t in inst.rhs])} 之和为 {show_value(computed, kind)}，"
        f"差 {show_value(abs(shown - computed), kind)}"
    )
    if target.id in rec.formula_lost:
        text += f"；{target.address} 的公式已被改写（应为求和公式）"
    return text


def _document_sum_message(inst: RuleInstance, fmt: Format, row: Mapping[str, Any]) -> str:
    """表四 行政复议 总计 印为 0，结果维持+结果纠正+其他结果+尚未审结 之和为 11，差 11"""
    kind = _kind_of(inst, fmt)
    target = fmt.cells[inst.lhs[0].cell]
    label = target.row_label if inst.rule.per == "column" else target.col_label
    parts = [fmt.cells[t.cell] for t in inst.rhs]
    names = [p.row_label if inst.rule.per == "column" else p.col_label for p in parts]
    summed = "+".join(names) if len(names) <= 6 else f"{names[0]}至{names[-1]}共 {len(names)} 项"
    shown, computed = _side_value(row, inst.lhs), _side_value(row, inst.rhs)
    return (
        f"{short_sheet(inst.sheet)} {inst.scope}{label} 印为 {show_value(shown, kind)}，"
        f"{summed} 之和为 {show_value(computed, kind)}，差 {show_value(abs(shown - computed), kind)}"
    )


def _zero_message(inst: RuleInstance, fmt: Format, row: Mapping[str, Any], labels_only: bool = False) -> str:
    """表二 规章行：B4 本年制发件数=1，…（单位层级：乡镇）。<rule description>"""
    parts = []
    for t in inst.lhs:
        c = fmt.cells[t.cell]
        value = row[t.cell]
        shown = "（无法读取）" if pd.isna(value) else show_value(int(value), c.kind)
        parts.append(f"{c.col_label}={shown}" if labels_only else f"{c.address} {c.col_label}={shown}")
    return (
        f"{short_sheet(inst.sheet)} {inst.scope}：{'，'.join(parts)}（单位层级：{row['unit_level']}）。"
        f"{inst.rule.description}"
    )
