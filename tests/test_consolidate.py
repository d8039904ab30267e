"""`xltool consolidate` as a county clerk uses it: real returns (template + openpyxl fill), the real
command line, and the written workbook read back with openpyxl, LibreOffice and xltool itself.

The independent recount finds every cell by the printed labels of the format (the texts of
国办公开办函〔2021〕30号 as listed in tests/fixtures/format-2021.md), never by the definition's addresses.
"""

from __future__ import annotations

import functools
import hashlib
import os
import random
import re
import subprocess
import sys
import zipfile
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pytest
from click.testing import CliRunner
from helpers.printed_labels import (
    T2,
    T2_GRID,
    T3,
    T3_APPLICANTS,
    T3_ITEMS,
    T3_ROWS,
    T3_TOTAL_ROW,
    T4,
    T4_BLOCKS,
    T4_RESULTS,
    TOTAL,
)
from helpers.returns import make_return as _make_return

import xltool
import xltool.write.consolidation as consolidate_module
from xltool.app.cli import main
from xltool.definition import get_format
from xltool.errors import ConsolidationRefused
from xltool.model import IDENT_SHEET, Unit
from xltool.validate import validate_paths
from xltool.values import AMOUNT_DECIMALS
from xltool.write.consolidation import consolidate
from xltool.write.template import write_template

FMT = get_format()
REPO = Path(__file__).resolve().parents[1]

COUNTY = Unit("230723", "汤旺县", "县")
OTHER_COUNTY = Unit("230722", "嘉荫县", "县")
CITY = Unit("230700", "伊春市", "市")
TOWN = Unit("230723101", "乌伊岭镇", "乡镇")
TOWN2 = Unit("230723102", "汤旺河镇", "乡镇")
DEPT = Unit("230723201", "汤旺县教育局", "部门")
ABSENT = Unit("230723202", "汤旺县公安局", "部门")

# --------------------------------------------------------------------------- building returns

_T3 = [c for c in FMT.input_cells if c.grid == "t3"]
_T3_COLS = sorted({c.id.split(".")[2] for c in _T3})
_T3_ITEMS = sorted({c.id.split(".")[1] for c in _T3} - {"new", "carried_in", "carried_out"})
# a blank template filled in with openpyxl, as a clerk types it (amounts as decimals in 万元)
make_return = functools.partial(_make_return, typed=True)


def balanced(seed: int) -> dict[str, int]:
    """Random figures that pass every rule (R1 per column; no 规章 for townships); amounts scaled."""
    rnd = random.Random(seed)
    v = {c.id: rnd.randint(0, 9) for c in FMT.input_cells if c.kind == "count"}
    v |= {c.id: 0 for c in FMT.input_cells if c.id.startswith("t2_1.rules.")}
    v |= {c.id: rnd.randint(0, 10**6) for c in FMT.input_cells if c.kind == "amount"}
    for col in _T3_COLS:
        handled = sum(v[f"t3.{row}.{col}"] for row in _T3_ITEMS) + v[f"t3.carried_out.{col}"]
        v[f"t3.carried_in.{col}"] = min(v[f"t3.carried_in.{col}"], handled)
        v[f"t3.new.{col}"] = handled - v[f"t3.carried_in.{col}"]
    return v


def sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The real command line, in a new process."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "100"}
    return subprocess.run(
        [sys.executable, "-m", "xltool", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def invoke(*args: str):
    """The same command in this process (faster; monkeypatch reaches it)."""
    return CliRunner().invoke(main, ["consolidate", *args])


def county_args(out="out/汤旺县2024汇总.xlsx", unit=COUNTY):
    return ["--out", str(out), "--unit-code", unit.code, "--unit-name", unit.name, "--level", unit.level]


# --------------------------------------------------------------------------- reading by printed labels


def _cells_with(ws, text: str) -> list:
    return [c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value.strip() == text]


def _only(ws, text: str):
    found = _cells_with(ws, text)
    assert len(found) == 1, f"{ws.title}: label {text!r} found {len(found)} times"
    return found[0]


def _sheet_titled(wb, title: str):
    (ws,) = [ws for ws in wb.worksheets if _cells_with(ws, title)]
    return ws


def by_labels(path: Path) -> tuple[dict[tuple[str, str, str], object], dict[str, str]]:
    """Every statutory cell's shown value keyed (table title, row label, column label); sheet -> table."""
    wb = openpyxl.load_workbook(path, data_only=True)
    out: dict[tuple[str, str, str], object] = {}
    ws = _sheet_titled(wb, T2)
    for row_label, cols in T2_GRID.items():
        r = _only(ws, row_label)
        header_row = max(c.row for c in _cells_with(ws, "信息内容") if c.row < r.row)
        for col_label in cols:
            (head,) = [c for c in _cells_with(ws, col_label) if c.row == header_row]
            out[(T2, row_label, col_label)] = ws.cell(r.row, head.column).value
    sheets = {ws.title: T2}
    ws = _sheet_titled(wb, T3)
    for row_label in T3_ROWS:
        for col_label in (*T3_APPLICANTS, TOTAL):
            out[(T3, row_label, col_label)] = ws.cell(_only(ws, row_label).row, _only(ws, col_label).column).value
    sheets[ws.title] = T3
    ws = _sheet_titled(wb, T4)
    for block in T4_BLOCKS:
        head = _only(ws, block)
        span = next((m for m in ws.merged_cells.ranges if head.coordinate in m), None)
        first, last = (span.min_col, span.max_col) if span else (head.column, head.column)
        cols = {}
        for col_label in (*T4_RESULTS, TOTAL):
            (c,) = [c for c in _cells_with(ws, col_label) if first <= c.column <= last and c.row > head.row]
            cols[col_label] = c
        data_row = max(c.row for c in cols.values()) + 1
        for col_label, c in cols.items():
            out[(T4, block, col_label)] = ws.cell(data_row, c.column).value
    sheets[ws.title] = T4
    return out, sheets


def is_total(key: tuple[str, str, str]) -> bool:
    return key[2] == TOTAL or key[1] == T3_TOTAL_ROW


def exact(value) -> Decimal:
    """A number as the file shows it, exactly (floats by their shortest repr)."""
    assert isinstance(value, int | float) and not isinstance(value, bool), value
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def with_totals(inputs: dict) -> dict:
    """Totals as the printed format defines them, from the input cells only."""
    d = dict(inputs)
    for col in T3_APPLICANTS:
        d[(T3, T3_TOTAL_ROW, col)] = sum(d[(T3, item, col)] for item in T3_ITEMS)
    for row in T3_ROWS:
        d[(T3, row, TOTAL)] = sum(d[(T3, row, col)] for col in T3_APPLICANTS)
    for block in T4_BLOCKS:
        d[(T4, block, TOTAL)] = sum(d[(T4, block, col)] for col in T4_RESULTS)
    return d


def all_cells(path: Path, data_only: bool) -> dict[tuple[str, str], object]:
    wb = openpyxl.load_workbook(path, data_only=data_only)
    return {(ws.title, c.coordinate): c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row}


def sheet_rows(path: Path, sheet: str) -> list[list]:
    return [list(r) for r in openpyxl.load_workbook(path, data_only=True)[sheet].iter_rows(values_only=True)]


def sources_table(path: Path) -> tuple[list[dict], list[list]]:
    """The 来源 sheet: one dict per listed file (by printed heading), and all rows."""
    rows = sheet_rows(path, "来源")
    h = next(i for i, r in enumerate(rows) if r[0] == "文件名")
    heads = rows[h]
    files = []
    for r in rows[h + 1 :]:
        if r[0] is None:
            break
        files.append({k: "" if v is None else v for k, v in zip(heads, r, strict=True)})  # blank or ""
    return files, rows


def detail_table(path: Path) -> tuple[list[str], list[str], list[dict]]:
    """The 明细 sheet: unit codes and names in column order, and one dict per statutory row."""
    rows = sheet_rows(path, "明细")
    h = next(i for i, r in enumerate(rows) if "合计" in r)
    first = rows[h].index("工作表") + 4  # 工作表, 单元格, 项目, 栏目 then the units
    total = rows[h].index("合计")
    codes, names = rows[h][first:total], rows[h + 1][first:total]
    out = []
    for r in rows[h + 2 :]:
        if r[first - 4] is None:
            break
        out.append(
            {
                "sheet": r[first - 4],
                "row": r[first - 2],
                "col": r[first - 1],
                "units": r[first:total],
                "total": r[total],
            }
        )
    return codes, names, out


def identity(path: Path) -> dict[str, str]:
    ws = openpyxl.load_workbook(path)[IDENT_SHEET]
    return {r[0].value: r[1].value for r in ws.iter_rows()}


# --------------------------------------------------------------------------- one county, end to end


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    """Three returns (file names sorted against unit-code order), a roster with one unit that did
    not submit, consolidated by the real command line."""
    tmp = tmp_path_factory.mktemp("county")
    values = {TOWN: balanced(1), TOWN2: balanced(2), DEPT: balanced(3) | {"t2_1.rules.valid": 4}}
    names = {TOWN: "c-乌伊岭镇.xlsx", TOWN2: "b-汤旺河镇.xlsx", DEPT: "a-教育局.xlsx"}
    inputs = {
        u: make_return(tmp / "in", u, v, name=names[u], cover={"filled_by": f"{u.name}填报人"})
        for u, v in values.items()
    }
    roster = tmp / "名单.csv"
    roster.write_text(
        "代码,名称,层级\n" + "".join(f"{u.code},{u.name},{u.level}\n" for u in (TOWN, TOWN2, DEPT, ABSENT)),
        encoding="utf-8-sig",
    )
    before = {u: sha(p) for u, p in inputs.items()}
    proc = run_cli("consolidate", "in", *county_args(), "--roster", "名单.csv", cwd=tmp)
    return SimpleNamespace(
        tmp=tmp, values=values, inputs=inputs, before=before, proc=proc, out=tmp / "out" / "汤旺县2024汇总.xlsx"
    )


def test_cli_writes_the_county_workbook_and_says_so(county):
    proc = county.proc
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert lines[0] == f"已生成汇总表：{Path('out/汤旺县2024汇总.xlsx')}"
    assert lines[1] == "  汤旺县（230723）2024 年度，汇总 3 个单位的报表。"
    assert "  名单中未报送：汤旺县公安局（230723202）" in lines
    assert "Traceback" not in proc.stdout + proc.stderr
    # nothing but the workbook in the output folder (no temporary file), inputs untouched
    assert os.listdir(county.out.parent) == [county.out.name]
    assert {u: sha(p) for u, p in county.inputs.items()} == county.before


def test_output_is_a_return_of_the_consolidating_unit(county, tmp_path):
    """Same sheets, labels, formulas, styles and identification as the county's own template."""
    template = write_template(FMT, COUNTY, 2024, tmp_path / "template.xlsx")
    assert identity(county.out) == {**identity(template), "kind": "consolidated"}
    ident = identity(county.out)
    assert (ident["unit_code"], ident["unit_name"], ident["unit_level"]) == (COUNTY.code, COUNTY.name, COUNTY.level)
    assert ident["fingerprint"] == FMT.fingerprint
    out_wb, tpl_wb = openpyxl.load_workbook(county.out), openpyxl.load_workbook(template)
    assert out_wb.sheetnames == [*tpl_wb.sheetnames, "明细", "图表", "来源"]
    for name in tpl_wb.sheetnames:
        if name == IDENT_SHEET:
            continue  # compared above
        a, b = out_wb[name], tpl_wb[name]
        assert (a.sheet_state, a.protection.sheet) == (b.sheet_state, b.protection.sheet)
        assert set(map(str, a.merged_cells.ranges)) == set(map(str, b.merged_cells.ranges)), name
        assert {k: d.width for k, d in a.column_dimensions.items()} == {
            k: d.width for k, d in b.column_dimensions.items()
        }
        numbers = 0
        for row_a, row_b in zip(a.iter_rows(), b.iter_rows(), strict=True):
            for x, y in zip(row_a, row_b, strict=True):
                where = f"{name}!{x.coordinate}"
                assert (x.number_format, x.protection.locked, x.fill.fgColor.rgb) == (
                    y.number_format,
                    y.protection.locked,
                    y.fill.fgColor.rgb,
                ), where
                if isinstance(y.value, int | float):  # an input cell: the sum goes here
                    assert isinstance(x.value, int | float), where
                    numbers += 1
                else:  # labels, cover fields, total and check formulas
                    assert x.value == y.value, where
        assert numbers == sum(1 for c in FMT.input_cells if c.sheet == name)


def test_validate_accepts_the_output(county):
    proc = run_cli("validate", str(county.out), cwd=county.tmp)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "全部通过" in proc.stdout and "错误 0 处，警告 0 处" in proc.stdout


def test_detail_sheet_has_every_unit_in_code_order_with_sum_totals(county):
    codes, names, rows = detail_table(county.out)
    assert codes == [TOWN.code, TOWN2.code, DEPT.code]
    assert names == [TOWN.name, TOWN2.name, DEPT.name]
    assert len(rows) == len(FMT.cells)
    formulas = openpyxl.load_workbook(county.out)["明细"]
    heads = next(r for r in formulas.iter_rows() if any(c.value == "合计" for c in r))
    total_col = next(c.column_letter for c in heads if c.value == "合计")
    first_unit = openpyxl.utils.get_column_letter(next(c.column for c in heads if c.value == TOWN.code))
    last_unit = openpyxl.utils.get_column_letter(next(c.column for c in heads if c.value == DEPT.code))
    sums = [formulas[f"{total_col}{r}"].value for r in range(heads[0].row + 2, heads[0].row + 2 + len(rows))]
    assert sums == [
        f"=SUM({first_unit}{r}:{last_unit}{r})" for r in range(heads[0].row + 2, heads[0].row + 2 + len(rows))
    ]
    for row in rows:  # the cached 合计 is the sum of the unit columns
        assert exact(row["total"]) == sum(exact(v) for v in row["units"]), row


def test_sources_sheet_accounts_for_every_input(county):
    files, rows = sources_table(county.out)
    # named relative to the folder the inputs share: the sheet does not depend on where xltool ran
    assert [f["文件名"] for f in files] == [county.inputs[u].name for u in (TOWN, TOWN2, DEPT)]
    for f, unit in zip(files, (TOWN, TOWN2, DEPT), strict=True):
        path = county.inputs[unit]
        assert f["大小（字节）"] == path.stat().st_size
        assert f["SHA-256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert (f["单位代码"], f["单位名称"], f["年度"]) == (unit.code, unit.name, 2024)
        assert (f["报表格式"], f["模板版本"], f["状态"], f["说明"]) == (FMT.id, xltool.__version__, "已汇总", "")
        assert f["填报人"] == f"{unit.name}填报人"
    made = [r[0] for r in rows if isinstance(r[0], str) and r[0].startswith("生成时间")]
    assert len(made) == 1
    assert re.fullmatch(
        rf"生成时间：\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d；生成工具：xltool {re.escape(xltool.__version__)}", made[0]
    )
    i = next(i for i, r in enumerate(rows) if isinstance(r[0], str) and r[0].startswith("名单中未报送的单位"))
    assert rows[i][0] == "名单中未报送的单位：1 个"
    assert rows[i + 1][:3] == [ABSENT.code, ABSENT.name, ABSENT.level]


def test_independent_recount_from_the_input_files_by_printed_labels(county):
    """Every figure of the output, recomputed from the inputs' input cells with openpyxl only."""
    per_unit = {u: by_labels(p)[0] for u, p in county.inputs.items()}
    input_keys = [k for k in per_unit[TOWN] if not is_total(k)]
    assert len(input_keys) == len(FMT.input_cells)  # every printed input cell was found
    summed = with_totals({k: sum(exact(per_unit[u][k]) for u in per_unit) for k in input_keys})
    shown, sheets = by_labels(county.out)
    assert set(shown) == set(summed)
    assert {k: exact(v) for k, v in shown.items()} == summed
    assert all(type(v) is int for k, v in shown.items() if k[2] != "本年收费金额（单位：万元）")
    # 明细: each unit's column is that unit's return, totals recomputed the same way
    codes, _names, rows = detail_table(county.out)
    units = {u.code: u for u in per_unit}
    full = {u: with_totals({k: exact(per_unit[u][k]) for k in input_keys}) for u in per_unit}
    for row in rows:
        table = sheets[row["sheet"]]
        (key,) = [k for k in summed if k[0] == table and row["row"].endswith(k[1]) and k[2] == row["col"]]
        assert [exact(v) for v in row["units"]] == [full[units[c]][key] for c in codes], key
        assert exact(row["total"]) == summed[key], key


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_recalculates_the_written_totals(county, libreoffice_recalc, tmp_path):
    recalculated = libreoffice_recalc(county.out, tmp_path / "lo")
    formulas = all_cells(county.out, data_only=False)
    written, computed = all_cells(county.out, data_only=True), all_cells(recalculated, data_only=True)
    checked = [k for k, v in formulas.items() if isinstance(v, str) and v.startswith("=")]
    for k in checked:
        if isinstance(written[k], float) or isinstance(computed[k], float):  # amounts: LibreOffice adds in binary
            assert round(exact(computed[k]), AMOUNT_DECIMALS) == exact(written[k]), k
        else:
            assert computed[k] == written[k], k
    # the checked formulas cover every total of the three tables and the 明细 合计 column
    totals, sheets = by_labels(county.out)
    per_sheet = {s: sum(1 for k in checked if k[0] == s) for s in ("明细", *sheets)}
    for sheet, table in sheets.items():
        assert per_sheet[sheet] >= sum(1 for k in totals if k[0] == table and is_total(k)), sheet
    assert per_sheet["明细"] == len(FMT.cells)
    assert all(computed[k] == "正确" for k in checked if isinstance(written[k], str))


# --------------------------------------------------------------------------- exact numbers


def test_amounts_add_up_exactly_and_show_six_decimals(tmp_path):
    """Templates typed to the fen (收费 in 万元 with 6 decimals, as reports print it) validate clean and
    add up exactly."""
    base = balanced(7)
    typed = ((TOWN, 5949088667), (TOWN2, 24252311082), (DEPT, 1))  # 5949.088667, 24252.311082, 0.000001 万元
    for unit, amount in typed:
        make_return(tmp_path / "in", unit, base | {"t2_8.fees.amount": amount})
    assert validate_paths([tmp_path / "in"]).report.findings == []
    out = consolidate([tmp_path / "in"], tmp_path / "county.xlsx", COUNTY).out
    shown, _ = by_labels(out)
    fee = shown[(T2, "行政事业性收费", "本年收费金额（单位：万元）")]
    assert exact(fee) == Decimal("30201.39975") and fee == 30201.39975
    wb = openpyxl.load_workbook(out)
    (cell,) = [c for c in wb["表二 主动公开"]["B"] if c.value == fee]
    assert cell.number_format == "0.0000##"
    (row,) = [r for r in wb["明细"].iter_rows() if any(c.value == "行政事业性收费" for c in r)]
    numbers = [c for c in row if isinstance(c.value, int | float)]
    assert [c.value for c in numbers] == [5949.088667, 24252.311082, 0.000001]
    assert {c.number_format for c in [*numbers, row[-1]]} == {"0.0000##"}
    total = openpyxl.load_workbook(out, data_only=True)["明细"][row[-1].coordinate].value
    assert exact(total) == Decimal("30201.39975")
    assert validate_paths([out]).records[0].values["t2_8.fees.amount"] == 30201399750
    # counts are whole numbers, written as such
    assert shown[(T3, "一、本年新收政府信息公开申请数量", "自然人")] == 3 * base["t3.new.natural"]
    assert all(type(v) is int for k, v in shown.items() if k[0] != T2 or k[1] != "行政事业性收费")


# --------------------------------------------------------------------------- refusals


@pytest.mark.slow
def test_errors_block_the_run_unless_excluded(tmp_path, monkeypatch):
    broken_values = balanced(5)
    broken_values["t3.new.natural"] += 1  # R1 broken in the 自然人 and 总计 columns
    make_return(tmp_path / "in", TOWN, balanced(4))
    broken = make_return(tmp_path / "in", TOWN2, broken_values, name="[final]汤旺河镇.xlsx")
    make_return(tmp_path / "in", DEPT, balanced(6))
    before = {p.name: sha(p) for p in (tmp_path / "in").iterdir()}
    monkeypatch.chdir(tmp_path)
    expected = [f for f in validate_paths(["in"]).report.findings if f.severity == "error"]  # the same engine
    assert {f.file for f in expected} == {str(Path("in") / broken.name)}

    proc = run_cli("consolidate", "in", *county_args(), cwd=tmp_path)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith("未汇总：1 个文件有错误，未生成汇总表。")
    assert f"{Path('in') / broken.name}：{expected[0].message}（另有 {len(expected) - 1} 处错误）" in proc.stderr
    assert not (tmp_path / "out").exists()

    proc = run_cli("consolidate", "in", *county_args(), "--exclude-invalid", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    listed = f"  未汇总：{broken.name}（{expected[0].message}；{expected[1].message}）"
    assert listed in proc.stdout.splitlines()  # the file name keeps its [brackets]
    out = tmp_path / "out" / "汤旺县2024汇总.xlsx"
    files, _ = sources_table(out)
    assert [(f["文件名"], f["状态"]) for f in files] == [
        (f"{TOWN.code}.xlsx", "已汇总"),
        (f"{DEPT.code}.xlsx", "已汇总"),
        (broken.name, "未汇总"),
    ]
    assert files[2]["说明"] == f"{expected[0].message}；{expected[1].message}"
    assert files[2]["SHA-256"] == sha(broken)
    assert detail_table(out)[0] == [TOWN.code, DEPT.code]
    assert {p.name: sha(p) for p in (tmp_path / "in").iterdir()} == before


def test_two_returns_from_one_unit_are_refused_until_use_picks_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = make_return(tmp_path / "in", TOWN, balanced(8), name="a.xlsx")
    second = make_return(tmp_path / "in", TOWN, balanced(9), name="b.xlsx")
    make_return(tmp_path / "in", DEPT, balanced(10))
    out = tmp_path / "out" / "汤旺县2024汇总.xlsx"

    result = invoke("in", *county_args())
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.strip() == (
        f"未汇总：单位 {TOWN.code}（{TOWN.name}）的 2024 年度报表有 2 份：{Path('in/a.xlsx')}、{Path('in/b.xlsx')}。"
        "请用 --use 文件 指定以哪一份为准，未生成汇总表。"
    )
    assert not out.exists()
    # --exclude-invalid does not pick one either
    assert invoke("in", *county_args(), "--exclude-invalid").exit_code == 1 and not out.exists()

    result = invoke("in", *county_args(), "--use", str(second))  # absolute path: the same file
    assert result.exit_code == 0, result.output
    assert f"  未汇总：a.xlsx（同一单位另有指定报表：{Path('in/b.xlsx')}）" in result.stdout.splitlines()
    files, _ = sources_table(out)
    assert [(f["文件名"], f["状态"], f["说明"]) for f in files] == [
        ("b.xlsx", "已汇总", ""),
        (f"{DEPT.code}.xlsx", "已汇总", ""),
        ("a.xlsx", "未汇总", f"同一单位另有指定报表：{Path('in/b.xlsx')}"),
    ]
    shown, _ = by_labels(out)
    town, dept = by_labels(second)[0], by_labels(tmp_path / "in" / f"{DEPT.code}.xlsx")[0]
    key = (T3, "一、本年新收政府信息公开申请数量", "自然人")
    assert shown[key] == town[key] + dept[key] != by_labels(first)[0][key] + dept[key]

    result = invoke("in", *county_args(out="out/x.xlsx"), "--use", "elsewhere.xlsx")
    assert result.exit_code == 2 and not (tmp_path / "out" / "x.xlsx").exists()
    assert result.stderr == "错误：--use 指定的文件不在要汇总的文件中：elsewhere.xlsx\n"


def test_last_years_figures_are_checked_before_consolidating(tmp_path):
    this = balanced(11)
    make_return(tmp_path / "2024", TOWN, this)
    last = balanced(12)
    last["t3.carried_out.natural"] = this["t3.carried_in.natural"] + 1
    last["t3.new.natural"] += 1
    make_return(tmp_path / "2023", TOWN, last, year=2023)
    out = tmp_path / "county.xlsx"
    with pytest.raises(ConsolidationRefused, match=r"上年D29（自然人列"):
        consolidate([tmp_path / "2024"], out, COUNTY, previous=[tmp_path / "2023"])
    assert not out.exists()
    assert consolidate([tmp_path / "2024"], out, COUNTY).out == out  # without --previous: no cross-year rule


def test_a_named_file_that_is_no_workbook_is_listed_with_its_hash(tmp_path):
    make_return(tmp_path / "in", TOWN, balanced(13))
    note = tmp_path / "说明.docx"
    note.write_bytes(b"not a workbook")
    with pytest.raises(ConsolidationRefused, match="说明.docx"):
        consolidate([tmp_path / "in", note], tmp_path / "county.xlsx", COUNTY)
    result = consolidate([tmp_path / "in", note], tmp_path / "county.xlsx", COUNTY, exclude_invalid=True)
    files, _ = sources_table(result.out)
    assert [f["文件名"] for f in files] == [f"in/{TOWN.code}.xlsx", "说明.docx"]  # once each, relative
    listed = files[1]
    assert (listed["状态"], listed["大小（字节）"], listed["SHA-256"]) == ("未汇总", 14, sha(note))
    assert "无法识别" in listed["说明"]


# --------------------------------------------------------------------------- nothing lost


def test_an_interrupted_write_leaves_the_earlier_output(tmp_path, monkeypatch):
    make_return(tmp_path / "in", TOWN, balanced(14))
    out = tmp_path / "out" / "汤旺县2024汇总.xlsx"
    consolidate([tmp_path / "in"], out, COUNTY)
    earlier = out.read_bytes()
    make_return(tmp_path / "in", DEPT, balanced(15))  # the next run would write something else

    def crash(*args, **kwargs):
        raise RuntimeError("电源中断")

    monkeypatch.setattr(consolidate_module, "_draw_sources", crash)
    with pytest.raises(RuntimeError):
        consolidate([tmp_path / "in"], out, COUNTY, overwrite=True)
    assert out.read_bytes() == earlier
    assert os.listdir(out.parent) == [out.name]

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(consolidate_module, "_draw_sources", ctrl_c)
    result = invoke(str(tmp_path / "in"), *county_args(out), "--overwrite")
    assert (result.exit_code, result.stderr) == (130, "错误：已中断\n")
    assert out.read_bytes() == earlier
    assert os.listdir(out.parent) == [out.name]


def test_output_equal_to_an_input_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    a = make_return(tmp_path / "in", TOWN, balanced(16))
    b = make_return(tmp_path / "other", DEPT, balanced(17))
    roster = tmp_path / "名单.xlsx"
    roster.write_bytes(b"placeholder")
    before = {p: sha(p) for p in (a, b, roster)}
    cases = [
        (
            ["in/230723101.xlsx", "other"],
            "./in/230723101.xlsx",
            "错误：--out 不能写入输入文件 in/230723101.xlsx（它正被读取）：请换一个文件名",
        ),
        (
            ["in", "other"],
            "in/汇总.xlsx",
            "错误：--out 不能写入被读取的文件夹 in（下次读取会把 汇总.xlsx 当作报表）：请换一个位置",
        ),
        (
            ["in", "--roster", "名单.xlsx"],
            "名单.xlsx",
            "错误：--out 不能写入输入文件 名单.xlsx（它正被读取）：请换一个文件名",
        ),
    ]
    for args, out, message in cases:
        result = invoke(*args, "--out", out, "--unit-code", COUNTY.code, "--unit-name", COUNTY.name)
        assert result.exit_code == 2, result.output
        assert result.stderr == message + "\n"
    assert {p: sha(p) for p in (a, b, roster)} == before
    assert sorted(p.name for p in (tmp_path / "in").iterdir()) == [a.name]


def test_output_equal_to_an_input_is_refused_on_the_command_line(tmp_path):
    a = make_return(tmp_path / "in", TOWN, balanced(18))
    before = sha(a)
    proc = run_cli("consolidate", str(a), *county_args(out=a), cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == f"错误：--out 不能写入输入文件 {a}（它正被读取）：请换一个文件名\n"
    assert sha(a) == before and os.listdir(a.parent) == [a.name]


@pytest.mark.slow
def test_same_inputs_give_the_same_workbook_in_any_order(tmp_path):
    """Argument order and the order files were made in change nothing but the time of making."""
    folder = tmp_path / "in"
    paths = [
        make_return(folder, u, balanced(20 + i), name=n)
        for i, (u, n) in enumerate(((DEPT, "1.xlsx"), (TOWN2, "2.xlsx"), (TOWN, "3.xlsx")))
    ]
    runs = [
        [folder],
        list(reversed(paths)),
        [paths[1], folder, paths[0]],
    ]
    outs = [consolidate(args, tmp_path / f"run{i}" / "county.xlsx", COUNTY).out for i, args in enumerate(runs)]
    # the same files written again in the opposite order
    data = {p: p.read_bytes() for p in paths}
    for p in paths:
        p.unlink()
    for p in reversed(paths):
        p.write_bytes(data[p])
    outs.append(consolidate([folder], tmp_path / "run3" / "county.xlsx", COUNTY).out)

    first = content(outs[0])
    assert detail_table(outs[0])[0] == [TOWN.code, TOWN2.code, DEPT.code]
    for out in outs[1:]:
        assert content(out) == first


def content(path: Path) -> dict:
    """Every cell, formulas and values, but the time of making."""
    cells = {}
    for data_only in (False, True):
        for k, v in all_cells(path, data_only).items():
            if not (k[0] == "来源" and isinstance(v, str) and v.startswith("生成时间：")):
                cells[(*k, data_only)] = v
    return cells


def no_reading(monkeypatch) -> None:
    """Reading a return fails from now on."""
    import xltool.read.batch
    import xltool.read.dispatch
    import xltool.validate

    def read(*args, **kwargs):
        raise AssertionError("read again")

    for module, name in (
        (xltool.read.batch, "read_all"),
        (xltool.read.batch, "read_return"),
        (xltool.read.dispatch, "read_return"),
        (xltool.validate, "read_all"),
    ):
        monkeypatch.setattr(module, name, read)


def test_a_validation_is_consolidated_as_its_paths_are_without_reading_again(tmp_path, monkeypatch):
    folder = tmp_path / "in"
    make_return(folder, DEPT, balanced(30), name="1.xlsx")
    make_return(folder, TOWN, balanced(31), name="a.xlsx")
    chosen = make_return(folder, TOWN, balanced(32), name="b.xlsx")
    broken_values = balanced(33)
    broken_values["t3.new.natural"] += 1
    make_return(folder, TOWN2, broken_values, name="2.xlsx")
    note = tmp_path / "说明.docx"
    note.write_bytes(b"not a workbook")
    roster = [TOWN, TOWN2, DEPT, ABSENT]
    inputs = [folder, note]
    given = {"roster": roster, "exclude_invalid": True}

    for use in ((), (chosen,)):
        if not use:  # two returns of 乌伊岭镇: refused either way, before anything is written
            validation = validate_paths(inputs, roster=roster)
            for source in (inputs, validation):
                with pytest.raises(ConsolidationRefused, match="请用 --use 文件"):
                    consolidate(source, tmp_path / "x.xlsx", COUNTY, **given)
            continue
        by_paths = consolidate(inputs, tmp_path / "paths" / "county.xlsx", COUNTY, use=use, **given)
        validation = validate_paths(inputs, roster=roster)
        with monkeypatch.context() as m:
            no_reading(m)
            by_validation = consolidate(validation, tmp_path / "given" / "county.xlsx", COUNTY, use=use, **given)
        assert content(by_validation.out) == content(by_paths.out)
        assert detail_table(by_validation.out)[0] == [TOWN.code, DEPT.code]
        for field in ("year", "totals", "included", "excluded", "missing", "warnings"):
            assert getattr(by_validation, field) == getattr(by_paths, field), field
        assert by_validation.report.findings == by_paths.report.findings
        assert [s.file for s in by_validation.excluded] == ["说明.docx", "in/a.xlsx", "in/2.xlsx"]

    # without duplicates the validation given is the one reported
    chosen.unlink()
    by_paths = consolidate(inputs, tmp_path / "p2" / "county.xlsx", COUNTY, **given)
    validation = validate_paths(inputs, roster=roster)
    with monkeypatch.context() as m:
        no_reading(m)
        by_validation = consolidate(validation, tmp_path / "g2" / "county.xlsx", COUNTY, **given)
        with pytest.raises(AssertionError, match="read again"):  # the paths would be read
            consolidate(inputs, tmp_path / "g3" / "county.xlsx", COUNTY, **given)
    assert by_validation.report is validation.report
    assert content(by_validation.out) == content(by_paths.out)
    assert by_validation.report.findings == by_paths.report.findings


# --------------------------------------------------------------------------- text stays text


def test_cover_text_stays_text_and_control_characters_go(tmp_path):
    formula = '=HYPERLINK("http://x","y")'
    path = make_return(
        tmp_path / "in", TOWN, balanced(30), cover={"filled_by": "张QQQ三", "phone": formula}, name="town.xlsx"
    )
    # Excel writes control characters as _xHHHH_ escapes; a raw one slips through some writers
    patched = tmp_path / "in" / "patched.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(patched, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename).replace(b"QQQ", b"_x0007_\x1b"))
    path.unlink()
    make_return(tmp_path / "in", DEPT, balanced(31), cover={"filled_by": "=1+1", "phone": "@SUM(A1)"})
    out = consolidate([tmp_path / "in"], tmp_path / "county.xlsx", COUNTY).out
    ws = openpyxl.load_workbook(out)["来源"]
    heads = next(r for r in ws.iter_rows() if r[0].value == "文件名")
    col = {c.value: c.column - 1 for c in heads}
    rows = {r[0].value: r for r in ws.iter_rows(min_row=heads[0].row + 1) if r[0].value}
    town, dept = rows["patched.xlsx"], rows[f"{DEPT.code}.xlsx"]
    assert town[col["填报人"]].value == "张三"
    for cell, text in (
        (town[col["联系电话"]], formula),
        (dept[col["填报人"]], "=1+1"),
        (dept[col["联系电话"]], "@SUM(A1)"),
    ):
        assert (cell.value, cell.data_type) == (text, "s")


# --------------------------------------------------------------------------- one level up


@pytest.mark.slow
def test_county_workbooks_roll_up_like_all_their_townships(tmp_path):
    towns = {
        COUNTY: [(TOWN, balanced(40)), (TOWN2, balanced(41))],
        OTHER_COUNTY: [
            (Unit("230722101", "朝阳镇", "乡镇"), balanced(42)),
            (Unit("230722102", "乌云镇", "乡镇"), balanced(43)),
        ],
    }
    for county_unit, units in towns.items():
        for unit, values in units:
            make_return(tmp_path / "towns" / county_unit.code, unit, values)
        consolidate(
            [tmp_path / "towns" / county_unit.code], tmp_path / "counties" / f"{county_unit.code}.xlsx", county_unit
        )
    proc = run_cli("consolidate", "counties", *county_args(out="city/from_counties.xlsx", unit=CITY), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "汇总 2 个单位的报表" in proc.stdout
    up = tmp_path / "city" / "from_counties.xlsx"
    direct = consolidate([tmp_path / "towns"], tmp_path / "direct.xlsx", CITY).out

    tables = [FMT.cover.sheet, *(t.sheet for t in FMT.tables), IDENT_SHEET]
    for data_only in (False, True):
        a, b = all_cells(up, data_only), all_cells(direct, data_only)
        assert {k: v for k, v in a.items() if k[0] in tables} == {k: v for k, v in b.items() if k[0] in tables}
    assert by_labels(up)[0] == by_labels(direct)[0]
    assert [r["total"] for r in detail_table(up)[2]] == [r["total"] for r in detail_table(direct)[2]]
    assert detail_table(up)[0] == [OTHER_COUNTY.code, COUNTY.code]
    assert identity(up)["kind"] == "consolidated" and identity(up)["unit_level"] == "市"


# --------------------------------------------------------------------------- command-line messages


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["in", "--unit-code", "230723", "--unit-name", "汤旺县"],
            "错误：缺少 --out（汇总表的保存路径、本级单位代码和名称）",
        ),
        (["in", "--out", "x.xlsx"], "错误：缺少 --unit-code、--unit-name（汇总表的保存路径、本级单位代码和名称）"),
        (["--out", "x.xlsx", "--unit-code", "1", "--unit-name", "县"], "错误：请给出要汇总的报表文件或文件夹"),
        (
            ["in", *county_args(out="x.xlsx")[:-1], "乡"],
            "错误：单位层级 '乡' 无效，应为 乡镇、街道、部门、县、区、县级市、市、省 之一",
        ),
        (["nope", *county_args(out="x.xlsx")], "错误：路径不存在：nope"),
        (
            ["in", *county_args(out="afile/sub/x.xlsx")],
            f"错误：无法保存到 {Path('afile/sub/x.xlsx')}：afile 是文件，不是文件夹",
        ),
        (["in", *county_args(out="x.xls")], "错误：汇总表应保存为 .xlsx 文件：x.xls"),
        (
            ["empty", *county_args(out="x.xlsx")],
            "错误：没有找到可汇总的报表（可读取的类型：.xlsx、.xlsm、.xls、.ods、.html、.htm、.xhtml、.mht、.mhtml、.docx、.docm、.pdf、.txt、.md、.markdown、.png、.jpg、.jpeg、.doc、.wps、.rtf、.et）：empty",
        ),
    ],
    ids=["no-out", "no-unit", "no-paths", "bad-level", "no-such-path", "out-under-a-file", "not-xlsx", "no-workbooks"],
)
def test_cli_says_what_is_wrong_in_chinese(tmp_path, args, message):
    make_return(tmp_path / "in", TOWN, balanced(50))
    (tmp_path / "afile").write_text("x")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("x")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    proc = run_cli("consolidate", *args, cwd=tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", message + "\n")
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
