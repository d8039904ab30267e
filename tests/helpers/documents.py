"""Published reports built from the definition, as tests/test_documents.py and tests/test_pdf.py use
them: consistent fills (seeded or drawn by hypothesis), each table laid out as the format prints it
(``lay_out``: labels with their spans, figures at their cells), written as a web page (as a CMS or
Word prints it) or a Word file, and the checks that read figures back."""

from __future__ import annotations

import html
import io
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import docx
from hypothesis import strategies as st

from xltool.definition import Span, get_format
from xltool.model import Unit
from xltool.totals import recompute_totals
from xltool.values import AMOUNT_SCALE

FMT = get_format()
YEAR = 2024
UNIT = Unit("230723101", "乌伊岭镇", "乡镇")
UNITS = (UNIT, Unit("230723102", "汤旺河镇", "乡镇"), Unit("230723103", "红光镇", "乡镇"))
T3_COLUMNS = tuple(c.key for c in FMT.grid("t3").columns if c.key != "total")


def report_name(unit: str = UNIT.name, year: int = YEAR, suffix: str = ".html") -> str:
    return f"{unit}{year}年政府信息公开工作年度报告{suffix}"


def consistent(inputs: dict[str, int]) -> dict[str, int]:
    """Every cell's figure from drawn inputs, with every same-year rule holding: 规章 zero (a
    township), and per 表三 column 四、结转下年度 = 一 + 二 − （七）总计, 一 raised where that is below 0."""
    values = dict(inputs)
    for cid in ("t2_1.rules.issued", "t2_1.rules.repealed", "t2_1.rules.valid"):
        values[cid] = 0
    totals = recompute_totals(values, FMT)
    for col in T3_COLUMNS:
        handled = totals[f"t3.total.{col}"]
        short = handled - values[f"t3.new.{col}"] - values[f"t3.carried_in.{col}"]
        if short > 0:
            values[f"t3.new.{col}"] += short
        values[f"t3.carried_out.{col}"] = values[f"t3.new.{col}"] + values[f"t3.carried_in.{col}"] - handled
        assert values[f"t3.carried_out.{col}"] >= 0
    return recompute_totals(values, FMT)


def random_fill(seed: int) -> dict[str, int]:
    """A seeded fill: most figures 0, some small, a few large; amounts with up to 6 decimals (to the fen)."""
    rng = random.Random(seed)

    def count() -> int:
        roll = rng.random()
        return 0 if roll < 0.4 else rng.randint(1, 30) if roll < 0.95 else rng.randint(31, 9000)

    inputs = {c.id: (rng.randint(0, 3 * 10**9) if c.kind == "amount" else count()) for c in FMT.input_cells}
    return consistent(inputs)


def fills() -> st.SearchStrategy[dict[str, int]]:
    """Any consistent fill (hypothesis)."""
    counts = st.one_of(st.just(0), st.integers(0, 40), st.integers(0, 10**6))
    amounts = st.one_of(st.just(0), st.integers(0, 10**13))
    return st.fixed_dictionaries({c.id: (amounts if c.kind == "amount" else counts) for c in FMT.input_cells}).map(
        consistent
    )


def inputs_of(values: dict[str, int]) -> dict[str, int]:
    return {c.id: values[c.id] for c in FMT.input_cells}


def printed(cid: str, value: int) -> str:
    """A figure as a report prints it: amounts in 万元 with the decimals given, counts as digits."""
    if FMT.cells[cid].kind == "amount":
        text = format(Decimal(value) / AMOUNT_SCALE, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value)


def assert_same_figures(rec, values: dict[str, int]) -> None:
    """Every cell id of the format holds exactly the template's figure."""
    got = {cid: rec.values.get(cid) for cid in FMT.cells}
    wrong = {cid: (got[cid], values[cid]) for cid in FMT.cells if got[cid] != values[cid]}
    assert not wrong, f"{len(wrong)} figures differ (read, expected): {dict(list(wrong.items())[:8])}"
    assert set(rec.values) == set(FMT.cells)


def brief(findings) -> list[tuple[str, str]]:
    return [(f.rule, f.severity) for f in findings]


@dataclass
class Box:
    """One printed cell of a table: grid position (row 0 = the first row under the title) and spans."""

    row: int
    col: int
    text: str
    rowspan: int = 1
    colspan: int = 1
    header: bool = False  # a label, not a figure


def _box(span: Span, text: str, top: int, header: bool) -> Box:
    return Box(
        span.first_row - top,
        span.first_col,
        text,
        span.last_row - span.first_row + 1,
        span.last_col - span.first_col + 1,
        header,
    )


def lay_out(values: dict[str, int], show: Callable[[str, int], str] = printed) -> dict[str, list[Box]]:
    """Each table as the format prints it, from the definition: labels with their spans, figures at
    ``Cell.row/col`` (spanning ``Cell.width`` columns); the title goes above the table."""
    out: dict[str, list[Box]] = {}
    for t in FMT.tables:
        top = t.title_span.last_row + 1
        seen: set[Span] = set()
        boxes = []
        for lab in t.labels:
            seen.add(lab.span)
            boxes.append(_box(lab.span, lab.text, top, True))
        for g in t.grids:
            for line in g.rows + g.columns:
                if line.span is not None and line.span not in seen:
                    seen.add(line.span)
                    boxes.append(_box(line.span, line.label, top, True))
        for c in FMT.cells.values():
            if c.table == t.key:
                boxes.append(_box(c.span, show(c.id, values[c.id]), top, False))
        out[t.key] = boxes
    return out


def find(boxes: list[Box], text: str) -> Box:
    [hit] = [b for b in boxes if b.text == text]
    return hit


def figure_box(boxes: list[Box], cid: str) -> Box:
    """The box printing the figure of cell ``cid``."""
    c = FMT.cells[cid]
    top = FMT.table(c.table).title_span.last_row + 1
    [hit] = [b for b in boxes if (b.row, b.col) == (c.row - top, c.col) and not b.header]
    return hit


def _rows(boxes: list[Box]) -> list[list[Box]]:
    nrows = max(b.row + b.rowspan for b in boxes)
    return [sorted((b for b in boxes if b.row == r), key=lambda b: b.col) for r in range(nrows)]


def _td(b: Box, word: bool) -> str:
    spans = (f' rowspan="{b.rowspan}"' if b.rowspan > 1 else "") + (f' colspan="{b.colspan}"' if b.colspan > 1 else "")
    text = html.escape(b.text).replace("\n", "<br>")
    if not word:
        return f"<td{spans}><p>{text}</p></td>"
    lead = '<span lang="EN-US">&nbsp;</span>' if b.header else ""
    return (
        f'<td{spans} valign="top" style="border:solid windowtext 1.0pt;mso-border-alt:solid windowtext .5pt;'
        f'padding:0cm 5.4pt 0cm 5.4pt"><p class="MsoNormal" align="center" style="text-align:center">{lead}'
        f'<span style="font-family:仿宋_GB2312;mso-bidi-font-family:宋体">{text}<o:p></o:p></span></p></td>'
    )


def html_page(
    tables: dict[str, list[Box]],
    title: str,
    *,
    word: bool = False,
    charset: str | None = "utf-8",
) -> str:
    """A report page: the title, then each table under its heading, as a CMS (or Word, ``word``) prints it."""
    head = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">' if charset else ""
    body = [f"<html><head>{head}<title>{html.escape(title)}</title></head><body>"]
    body.append(f"<h1>{html.escape(title)}</h1><p>一、总体情况</p><p>本机关认真贯彻落实《条例》。</p>")
    for t in FMT.tables:
        cls = (
            ' class="MsoNormalTable" style="border-collapse:collapse;mso-table-layout-alt:fixed"'
            if word
            else ' border="1"'
        )
        body.append(f"<p>{html.escape(t.title)}</p><table{cls}>")
        for row in _rows(tables[t.key]):
            body.append("<tr>" + "".join(_td(b, word) for b in row) + "</tr>")
        body.append("</table>")
    body.append("<p>五、存在的主要问题及改进情况</p></body></html>")
    return "\n".join(body)


def write_html(path: Path, values: dict[str, int], title: str | None = None, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    page = html_page(lay_out(values), title or path.stem, **kw)
    path.write_bytes(page.encode(kw.get("charset") or "utf-8"))
    return path


def add_docx_table(document, boxes: list[Box]) -> None:
    """A Word table of the boxes (text, row, col, spans), merged where a box spans."""
    nrows = max(b.row + b.rowspan for b in boxes)
    ncols = max(b.col + b.colspan for b in boxes)
    table = document.add_table(rows=nrows, cols=ncols)
    # the cells of the unmerged grid, fetched once: ``table.cell`` walks the whole table on every
    # call; boxes do not overlap, so a merge leaves the cells of every other box as they are
    grid = [row.cells for row in table.rows]
    for b in boxes:
        cell = grid[b.row][b.col]
        if b.rowspan > 1 or b.colspan > 1:
            cell = cell.merge(grid[b.row + b.rowspan - 1][b.col + b.colspan - 1])
        cell.text = b.text


def docx_report(tables: dict[str, list[Box]], title: str) -> bytes:
    """A Word report built with python-docx: the title, each table under its heading, merged cells."""
    document = docx.Document()
    document.add_paragraph(title)
    for t in FMT.tables:
        boxes = tables[t.key]
        document.add_paragraph(t.title)
        add_docx_table(document, boxes)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def one_row_other(values: dict[str, int], printed_total: Callable[[str], int] | None = None) -> dict[str, list[Box]]:
    """表三 with （六）其他处理 printed as one row: the sum of its three items in each column."""
    tables = lay_out(values)
    t3 = tables["t3"]
    group = find(t3, "（六）其他处理")
    r = group.row
    assert group.rowspan == 3
    kept = []
    for b in t3:
        if r <= b.row < r + 3 and b is not group:
            continue
        if b.row < r < b.row + b.rowspan:
            b.rowspan -= 2  # 三、本年度办理结果
        elif b.row >= r + 3:
            b.row -= 2
        kept.append(b)
    group.rowspan, group.colspan = 1, 2
    for col in (*T3_COLUMNS, "total"):
        items = sum(values[f"t3.{k}.{col}"] for k in ("other_no_correction", "other_no_fee", "other_other"))
        c = FMT.cells[f"t3.other_other.{col}"]
        kept.append(Box(r, c.col, str(items)))
    if printed_total:  # （七）总计 is now the row under the one-row （六）
        for col in (*T3_COLUMNS, "total"):
            box = next(b for b in kept if not b.header and b.col == FMT.cells[f"t3.total.{col}"].col and b.row == r + 1)
            box.text = str(printed_total(col))
    tables["t3"] = kept
    return tables


def two_years(tmp_path: Path, column: str) -> tuple[Path, Path, dict[str, int], dict[str, int]]:
    """乌伊岭镇's 2023 and 2024 pages; 2024's 二、上年结转 equals 2023's 四、结转下年度 in every column but
    ``column`` (one more there), and 表二's stock follows from 2023's."""
    last = random_fill(31)
    rng = random.Random(32)
    inputs = inputs_of(random_fill(33))
    for col in T3_COLUMNS:
        inputs[f"t3.carried_in.{col}"] = last[f"t3.carried_out.{col}"] + (1 if col == column else 0)
    for row in ("normative",):
        issued = rng.randint(0, 9)
        repealed = rng.randint(0, last[f"t2_1.{row}.valid"] + issued)
        inputs |= {f"t2_1.{row}.issued": issued, f"t2_1.{row}.repealed": repealed}
        inputs[f"t2_1.{row}.valid"] = last[f"t2_1.{row}.valid"] + issued - repealed
    this = consistent(inputs)
    prev = write_html(tmp_path / "2023" / report_name(year=2023), last)
    cur = write_html(tmp_path / "2024" / report_name(year=2024), this)
    return prev, cur, last, this
