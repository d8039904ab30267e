"""The 图表 sheet of a consolidated workbook, as a county clerk opens it: the sample county's returns
consolidated, each chart's series followed to the cells it draws, and the sheet printed by LibreOffice.

Cells are recognised by the labels the format prints (tests/helpers/printed_labels.py), never by the
definition's addresses: a chart pointing at the wrong row or column fails here.
"""

from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import openpyxl
import pytest
from helpers.libreoffice import convert
from helpers.printed_labels import T3_ITEMS, T3_ROWS, T3_TOTAL_ROW, T4_BLOCKS, T4_RESULTS, TOTAL

from samples import SAMPLES_DIR
from xltool.definition import get_format
from xltool.model import Unit
from xltool.roster import read_roster
from xltool.totals import recompute_totals
from xltool.validate import validate_paths
from xltool.write.charts import CHARTS_SHEET, MAX_CHART_UNITS, result_groups, units_block
from xltool.write.consolidation import consolidate, sum_values, write_consolidated

FMT = get_format()
COUNTY = Unit("230723", "汤旺县", "县")
INBOX = SAMPLES_DIR / "汤旺县" / "2024" / "收件箱"
NS = {
    "c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
}
UNITS_TITLE = "各单位本年新收政府信息公开申请数量"
OUTCOME_TITLE = "三、收到和处理政府信息公开申请情况：办理结果"
RESULTS_TITLE = "四、政府信息公开行政复议、行政诉讼情况：结果"
# the result groups as the format prints them: a group label over its numbered items
GROUP_LABELS = ("（三）不予公开", "（四）无法提供", "（五）不予处理", "（六）其他处理")


def expected_groups() -> dict[str, set[str]]:
    """Short group name -> the item labels it covers, from the printed items alone."""
    groups: dict[str, set[str]] = {}
    numbered = iter(GROUP_LABELS)
    current = ""
    for item in T3_ITEMS:
        if item.startswith("（"):
            current = re.sub(r"（[^（）]*）$", "", item)
            groups[current] = {item}
        else:
            if item.startswith("1."):
                current = next(numbered)
            groups.setdefault(current, set()).add(item)
    return groups


# --------------------------------------------------------------------------- reading the charts


def charts_of(path: Path) -> dict[str, list[dict[str, str]]]:
    """Each chart's title -> its series (name, categories and values references)."""
    out = {}
    with zipfile.ZipFile(path) as z:
        for part in sorted(n for n in z.namelist() if n.startswith("xl/charts/chart")):
            root = ET.fromstring(z.read(part))
            title = "".join(t.text or "" for t in root.findall("c:chart/c:title//a:t", NS))
            series = []
            for ser in root.iterfind(".//c:ser", NS):
                name = ser.find("c:tx//c:v", NS)
                series.append(
                    {
                        "name": name.text if name is not None else "",
                        "cat": ser.find("c:cat//c:f", NS).text,
                        "val": ser.find("c:val//c:f", NS).text,
                    }
                )
            out[title] = series
    return out


_REF = re.compile(r"'?((?:[^'!]|'')+)'?!\$?([A-Z]+)\$?(\d+)(?::\$?([A-Z]+)\$?(\d+))?")


def cells_at(wb, ref: str) -> list:
    """The cells of a reference such as '图表'!$A$5:$A$10 or '明细'!$F$8, in order."""
    m = _REF.fullmatch(ref.lstrip("="))
    assert m, ref
    sheet, c0, r0, c1, r1 = m.groups()
    ws = wb[sheet.replace("''", "'")]
    return [c for row in ws[f"{c0}{r0}:{c1 or c0}{r1 or r0}"] for c in row]


def refs_in(formula: str) -> list[str]:
    return [m.group(0) for m in _REF.finditer(formula)]


def merged_text(ws, row: int, col: int) -> str:
    """The text shown at (row, col): its own, or that of the merged range covering it."""
    for rng in ws.merged_cells.ranges:
        if rng.min_row <= row <= rng.max_row and rng.min_col <= col <= rng.max_col:
            return str(ws.cell(rng.min_row, rng.min_col).value or "")
    return str(ws.cell(row, col).value or "")


def row_label(ws, row: int) -> str:
    """The rightmost label of a 表三 row (an item's own label, not its group's)."""
    texts = [merged_text(ws, row, col) for col in (1, 2, 3)]
    return next(t for t in reversed(texts) if t)


def column_head(ws, col: int, head_rows=(3, 4)) -> str:
    return next(t for t in (merged_text(ws, r, col) for r in head_rows) if t)


# --------------------------------------------------------------------------- the sample county


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    roster = read_roster(SAMPLES_DIR / "data" / "汤旺县-名单.csv")
    validation = validate_paths([INBOX], roster=roster, year=2024)
    out = tmp_path_factory.mktemp("charts") / "汤旺县2024年度政府信息公开统计汇总.xlsx"
    done = consolidate(validation, out, COUNTY, roster=roster, exclude_invalid=True, year=2024)
    new = next(c for c in FMT.cells.values() if c.row_label == T3_ROWS[0] and c.col_label == TOTAL)
    included = {s.file for s in done.included}
    by_unit = {r.ident.unit_name: r.values[new.id] for r in validation.valid_records}
    assert len(by_unit) == len(included) >= 3
    return out, by_unit


def test_units_chart_draws_each_units_new_applications_from_its_detail_column(county):
    out, by_unit = county
    wb, cached = openpyxl.load_workbook(out), openpyxl.load_workbook(out, data_only=True)
    [series] = charts_of(out)[UNITS_TITLE]
    names = [c.value for c in cells_at(wb, series["cat"])]
    assert sorted(names) == sorted(by_unit)
    shown = [c.value for c in cells_at(cached, series["val"])]
    assert shown == [by_unit[n] for n in names] == sorted(shown, reverse=True)
    detail = wb["明细"]
    for name, cell in zip(names, cells_at(wb, series["val"]), strict=True):
        [target] = cells_at(wb, cell.value)  # ='明细'!$X$n: the unit's own figure, not a copy
        assert target.parent.title == "明细"
        assert detail.cell(3, target.column).value == name
        assert (detail.cell(target.row, 4).value, detail.cell(target.row, 5).value) == (T3_ROWS[0], TOTAL)


def test_outcome_chart_sums_each_result_group_of_table_three_total_column(county):
    out, _ = county
    wb, cached = openpyxl.load_workbook(out), openpyxl.load_workbook(out, data_only=True)
    [series] = charts_of(out)[OUTCOME_TITLE]
    groups = expected_groups()
    names = [c.value for c in cells_at(wb, series["cat"])]
    assert names == list(groups)
    for name, cell in zip(names, cells_at(wb, series["val"]), strict=True):
        targets = [t for r in refs_in(cell.value) for t in cells_at(wb, r)]
        ws = targets[0].parent
        assert {row_label(ws, t.row) for t in targets} == groups[name], name
        assert {column_head(ws, t.column) for t in targets} == {TOTAL}
    t3 = targets[0].parent.title
    total_row = next(r for r in range(1, 40) if row_label(wb[t3], r) == T3_TOTAL_ROW)
    total_col = next(c for c in range(1, 12) if column_head(wb[t3], c) == TOTAL)
    figures = [c.value for c in cells_at(cached, series["val"])]
    assert sum(figures) == cached[t3].cell(total_row, total_col).value > 0


def test_results_chart_has_a_series_per_review_and_suit_block_of_table_four(county):
    out, _ = county
    wb = openpyxl.load_workbook(out)
    series = charts_of(out)[RESULTS_TITLE]
    assert len(series) == len(T4_BLOCKS)
    for block, s in zip(T4_BLOCKS, series, strict=True):
        assert s["name"].endswith(block)
        heads = cells_at(wb, s["cat"])
        assert [h.value for h in heads] == list(T4_RESULTS)
        for result, cell in zip(T4_RESULTS, cells_at(wb, s["val"]), strict=True):
            ws = cell.parent
            assert merged_text(ws, 4, cell.column) == result
            assert block in merged_text(ws, 3, cell.column)
            assert isinstance(cell.value, int | float)  # an input figure of the return, not a formula


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_prints_each_chart_on_its_own_page(county, libreoffice_profile, tmp_path):
    out, _ = county
    [pdf] = convert(libreoffice_profile, "pdf", tmp_path / "pdf", [out])
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    pages = ["".join(page.split()) for page in text.split("\f")]  # pdftotext spaces out "·"
    on = {t: [i for i, p in enumerate(pages, 1) if t in p] for t in (UNITS_TITLE, OUTCOME_TITLE, RESULTS_TITLE)}
    assert [len(v) for v in on.values()] == [1, 1, 1], on
    first = on[UNITS_TITLE][0]
    assert [on[OUTCOME_TITLE][0], on[RESULTS_TITLE][0]] == [first + 1, first + 2]
    # the legend of 表四's chart and of the outcome pie: drawn text, on their pages
    assert "行政诉讼·未经复议直接起诉" in pages[first + 1]
    assert "（六）其他处理" in pages[first]
    # the bars are drawn: the bar colour fills a good part of the first chart's page
    stem = tmp_path / "units"
    subprocess.run(
        ["pdftoppm", "-r", "60", "-f", str(first), "-l", str(first), "-singlefile", str(pdf), str(stem)], check=True
    )
    data = stem.with_suffix(".ppm").read_bytes()
    rgb = data.split(maxsplit=4)[4]
    bar = sum(
        1
        for i in range(0, len(rgb), 3)
        if abs(rgb[i] - 0x44) < 24 and abs(rgb[i + 1] - 0x72) < 24 and abs(rgb[i + 2] - 0xC4) < 24
    )
    assert bar > 1000


# --------------------------------------------------------------------------- the parts


@pytest.mark.parametrize("format_id", ["gov-info-disclosure-2021", "gov-info-disclosure-2019"])
def test_result_groups_cover_every_item_of_the_total_once(format_id):
    fmt = get_format(format_id)
    groups = result_groups(fmt, fmt.grid("t3"))
    rows = [r for _label, rs in groups for r in rs]
    total = next(r for r in fmt.rules if r.kind == "sum" and r.per == "column" and "t3" in r.grids)
    assert sorted(rows) == sorted(total.parts) and len(rows) == len(set(rows))
    labels = [label for label, _rows in groups]
    assert labels[:2] == ["（一）予以公开", "（二）部分公开"]
    assert labels[2:6] == list(GROUP_LABELS[: len(labels) - 2]) or labels[5].startswith("（六）")
    if format_id.endswith("2021"):
        assert {
            label: {fmt.grid("t3").rows[[ln.key for ln in fmt.grid("t3").rows].index(r)].label for r in rs}
            for label, rs in groups
        } == expected_groups()


def _details(figures: list[int]) -> list[tuple[Unit, dict[str, int]]]:
    out = []
    for i, n in enumerate(figures):
        v = {c.id: 0 for c in FMT.cells.values()}
        v["t3.new.natural"] = v["t3.disclosed.natural"] = n
        out.append((Unit(f"230723{i:03d}", f"第{i}单位", "部门"), recompute_totals(v, FMT)))
    return out


def test_many_units_chart_the_largest_and_say_how_many_there_are():
    new = next(c for c in FMT.cells.values() if c.row_label == T3_ROWS[0] and c.col_label == TOTAL)
    figures = [(i * 7) % 31 for i in range(MAX_CHART_UNITS + 5)]
    block = units_block(FMT, _details(figures), new)
    assert [e.value for e in block.entries] == sorted(figures, reverse=True)[:MAX_CHART_UNITS]
    assert f"共 {len(figures)} 个单位" in block.title
    few = units_block(FMT, _details(figures[:3]), new)
    assert len(few.entries) == 3 and "共" not in few.title


def test_a_chart_of_zeros_says_so_in_its_title(tmp_path):
    details = _details([0, 0])
    out = write_consolidated(
        tmp_path / "零.xlsx", FMT, COUNTY, 2024, sum_values((v for _u, v in details), FMT), details, [], []
    )
    titles = list(charts_of(out))
    assert len(titles) == 3 and all(t.endswith("（本年度均为 0）") for t in titles), titles
    assert CHARTS_SHEET in openpyxl.load_workbook(out, read_only=True).sheetnames
