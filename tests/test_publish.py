"""``xltool publish``: the validated figures, as the portal page and the Word report.

The round trip (publish, then ``read_return``) gives back every figure; an independent reader that
knows only the printed labels (tests/helpers/printed_labels.py, lxml for the page, python-docx for
Word) finds every figure of a random return in both files; a return with errors is refused with nothing
written; LibreOffice renders the Word file.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import docx
import lxml.html
import pytest
from helpers.libreoffice import SOFFICE
from helpers.printed_labels import (
    T2,
    T2_GRID,
    T3,
    T3_APPLICANTS,
    T3_ROWS,
    T3_TOTAL_ROW,
    T4,
    T4_BLOCKS,
    T4_RESULTS,
    TOTAL,
)
from helpers.returns import make_return
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from xltool.definition import get_format
from xltool.errors import PublishRefused, UsageError
from xltool.model import Unit
from xltool.read.dispatch import read_return
from xltool.totals import recompute_totals
from xltool.values import AMOUNT_SCALE
from xltool.write.publish import FRAGMENT_SUFFIX, printed_table, publish

FMT = get_format()
UNIT = Unit("230723101", "乌伊岭镇", "乡镇")
TITLE = "乌伊岭镇2024年政府信息公开工作年度报告"
NAMES = (f"{TITLE}.html", f"{TITLE}{FRAGMENT_SUFFIX}.html", f"{TITLE}.docx")

# --------------------------------------------------------------------------- random consistent returns

_T3_ITEMS = [r.key for r in FMT.grid("t3").rows if r.key not in ("new", "carried_in", "total", "carried_out")]
_APPLICANTS = [c.key for c in FMT.grid("t3").columns if c.key != "total"]


@st.composite
def consistent_returns(draw: st.DrawFn) -> dict[str, int]:
    """Every input random (mostly small, often 0), carried_out set so that 一+二 = 三（七）+四 holds in
    every column, totals summed: a return without errors."""
    small = st.one_of(st.just(0), st.integers(0, 9), st.integers(0, 5000))
    values = {c.id: draw(small) for c in FMT.input_cells if c.kind == "count"}
    values["t2_8.fees.amount"] = draw(st.one_of(st.just(0), st.integers(0, 10**9)))  # up to 4 decimals of 万元
    for col in _APPLICANTS:
        handled = sum(values[f"t3.{row}.{col}"] for row in _T3_ITEMS)
        out = values[f"t3.new.{col}"] + values[f"t3.carried_in.{col}"] - handled
        if out < 0:
            values[f"t3.new.{col}"] -= out
            out = 0
        values[f"t3.carried_out.{col}"] = out
    return recompute_totals(values, FMT)


# --------------------------------------------------------------------------- an independent reader


def _expected(values: dict[str, int]) -> dict[tuple[str, str], str]:
    """Every figure by its printed (table, row or block label, column label), as printed text."""
    cells = {(c.table, c.row_label, c.col_label): c for c in FMT.cells.values()}
    out: dict[tuple[str, str], str] = {}
    for row, cols in T2_GRID.items():
        for col in cols:
            c = cells[("t2", row, col)]
            v = values[c.id]
            out[(row, col)] = str(Decimal(v) / AMOUNT_SCALE) if c.kind == "amount" else str(v)
    for row in T3_ROWS:
        for col in (*T3_APPLICANTS, TOTAL):
            out[(row, col)] = str(values[cells[("t3", row, col)].id])
    for block in T4_BLOCKS:
        [c0] = [c for (t, r, _), c in cells.items() if t == "t4" and r.endswith(block) and _ == T4_RESULTS[0]]
        for col in (*T4_RESULTS, TOTAL):
            out[(block, col)] = str(values[f"{c0.grid}.cases.{cells[('t4', c0.row_label, col)].col_key}"])
    assert len(out) == len(FMT.cells)  # every statutory figure, once
    return out


COLUMN_LABELS = {col for cols in T2_GRID.values() for col in cols} | set(T3_APPLICANTS) | {TOTAL} | set(T4_RESULTS)


def _find(grids: list[list[list[str]]], row_label: str, col_label: str) -> str:
    """The text where the row labelled ``row_label`` meets the column whose nearest column label above
    reads ``col_label``; for 表四 the "row" is a block heading over five columns and the figure sits
    right under the column labels. Exactly one hit in the whole document."""
    hits: set[tuple[int, int, str]] = set()
    for gi, grid in enumerate(grids):
        for r, row in enumerate(grid):
            if row_label in T4_BLOCKS:
                cols = [c for c, text in enumerate(row) if text == row_label]
                for r2 in range(r + 1, len(grid) - 1):
                    for c in cols:
                        if grid[r2][c] == col_label:
                            hits.add((gi, r2 + 1, grid[r2 + 1][c]))
                continue
            if row_label not in row:
                continue
            for c, text in enumerate(row):
                above = next((grid[r2][c] for r2 in range(r - 1, -1, -1) if grid[r2][c] in COLUMN_LABELS), None)
                if text != row_label and above == col_label:
                    hits.add((gi, r, text))
    assert len(hits) == 1, (row_label, col_label, hits)
    return hits.pop()[2]


def _norm(text: str) -> str:
    return "".join(text.split())


def html_grids(path: Path) -> list[list[list[str]]]:
    """Every <table> of a page as a grid of texts, rowspan and colspan spread over the positions they cover."""
    root = lxml.html.fromstring(path.read_text(encoding="utf-8"))  # what xltool writes: UTF-8
    grids = []
    for table in root.iter("table"):
        taken: dict[tuple[int, int], str] = {}
        for r, tr in enumerate(table.iter("tr")):
            c = 0
            for cell in tr:
                while (r, c) in taken:
                    c += 1
                rs, cs = int(cell.get("rowspan", 1)), int(cell.get("colspan", 1))
                for dr in range(rs):
                    for dc in range(cs):
                        taken[(r + dr, c + dc)] = _norm(cell.text_content())
                c += cs
        nrows, ncols = max(r for r, _ in taken) + 1, max(c for _, c in taken) + 1
        grids.append([[taken.get((r, c), "") for c in range(ncols)] for r in range(nrows)])
    return grids


def docx_grids(path: Path) -> list[list[list[str]]]:
    """Every Word table as a grid of texts (python-docx repeats a merged cell at each position it covers)."""
    document = docx.Document(str(path))
    return [[[_norm(c.text) for c in row.cells] for row in t.rows] for t in document.tables]


def assert_every_figure(grids: list[list[list[str]]], values: dict[str, int]) -> None:
    for (row, col), text in _expected(values).items():
        assert _find(grids, row, col) == text, (row, col)


# --------------------------------------------------------------------------- the round trip


@pytest.mark.slow
# ~1 s an example (a workbook, three files, four readings): no shrinking, the failing example is printed whole
@settings(
    max_examples=12,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(values=consistent_returns())
def test_published_figures_read_back_the_same(tmp_path_factory, values):
    work = tmp_path_factory.mktemp("publish")
    src = make_return(work / "in", UNIT, values)
    done = publish([src], work / "out")
    assert sorted(p.name for p in done.paths) == sorted(NAMES)
    for path in done.paths:
        rec = read_return(path)
        assert rec.identity is not None, (path.name, rec.findings)
        assert (rec.identity.unit_name, rec.identity.year) == ("乌伊岭镇", 2024), path.name
        assert rec.values == values, path.name
        assert not [f for f in rec.findings if f.severity == "error"], path.name
    by_name = {p.name: p for p in done.paths}
    for name in NAMES[:2]:
        assert_every_figure(html_grids(by_name[name]), values)
    assert_every_figure(docx_grids(by_name[NAMES[2]]), values)


def test_a_return_with_errors_is_refused_and_nothing_written(tmp_path):
    bad = make_return(tmp_path / "in", UNIT, {"t3.new.natural": 3, "t3.disclosed.natural": 2})  # T3-R1 off by 1
    good = make_return(tmp_path / "in", Unit("230723102", "汤旺河镇", "乡镇"))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(PublishRefused, match="1 份报表有错误") as refused:
        publish([bad, good], out)
    assert {f.rule for f in refused.value.validation.report.findings if f.severity == "error"} == {"T3-R1"}
    assert list(out.iterdir()) == []

    cli = subprocess.run(
        [sys.executable, "-m", "xltool", "publish", str(tmp_path / "in"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cli.returncode == 1 and "未发布" in cli.stderr and "T3-R1" in cli.stdout, cli.stderr
    assert "Traceback" not in cli.stderr and list(out.iterdir()) == []


def test_never_overwrites_and_writes_what_is_asked(tmp_path):
    src = make_return(tmp_path / "in", UNIT)
    first = publish([src], tmp_path / "out")
    again = publish([src], tmp_path / "out", html=False)
    assert [p.name for p in again.paths] == [f"{TITLE} (2).docx"]
    assert all(p.is_file() for p in first.paths + again.paths)
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]  # no temporary file left
    with pytest.raises(UsageError, match="--out 不能放在"):
        publish([tmp_path / "in"], tmp_path / "in" / "发布")
    with pytest.raises(UsageError, match="至少选择一种"):
        publish([src], tmp_path / "o", html=False, docx=False)


def test_a_validation_is_published_as_its_paths_are_without_reading_again(tmp_path, monkeypatch):
    import xltool.read.batch
    import xltool.read.dispatch
    import xltool.validate
    from xltool.validate import validate_paths

    src = make_return(tmp_path / "in", UNIT)
    by_paths = publish([tmp_path / "in"], tmp_path / "paths")
    validation = validate_paths([tmp_path / "in"])

    def read(*args, **kwargs):
        raise AssertionError("read again")

    with monkeypatch.context() as m:
        for module in (xltool.read.batch, xltool.read.dispatch, xltool.validate):
            m.setattr(module, "read_return" if module is xltool.read.dispatch else "read_all", read)
        by_validation = publish(validation, tmp_path / "given")
        with pytest.raises(AssertionError, match="read again"):
            publish([src], tmp_path / "again")
    assert by_validation.validation is validation
    assert [p.name for p in by_validation.paths] == [p.name for p in by_paths.paths] == list(NAMES)
    for ours, made in zip(by_validation.paths, by_paths.paths, strict=True):
        if ours.suffix == ".html":
            assert ours.read_bytes() == made.read_bytes()
        else:
            assert docx_grids(ours) == docx_grids(made)

    bad = make_return(tmp_path / "bad", UNIT, {"t3.new.natural": 3, "t3.disclosed.natural": 2})
    with pytest.raises(PublishRefused, match="1 份报表有错误"):
        publish(validate_paths([bad]), tmp_path / "given")


def test_cli_exit_codes(tmp_path):
    src = make_return(tmp_path / "in", UNIT)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "xltool", "publish", *args], capture_output=True, text=True, timeout=120
        )

    ok = run(str(src), "--out", str(tmp_path / "out"), "--html")
    assert ok.returncode == 0, ok.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(NAMES[:2])
    assert f"{TITLE}.html" in ok.stdout
    (tmp_path / "file").write_text("x", encoding="utf-8")
    usage = run(str(src), "--out", str(tmp_path / "file"))
    assert usage.returncode == 2 and usage.stderr.startswith("错误：") and "Traceback" not in usage.stderr


# --------------------------------------------------------------------------- the layout, from the definition


def _cells(html: str, table: int) -> list[lxml.html.HtmlElement]:
    return list(lxml.html.fromstring(f"<div>{html}</div>").findall(".//table")[table].iter("th", "td"))


def test_fragment_markup_is_the_format_layout(tmp_path):
    values = recompute_totals({**{c.id: 0 for c in FMT.input_cells}, "t2_8.fees.amount": 24252311082}, FMT)
    src = make_return(tmp_path / "in", UNIT, values)
    [_, fragment, _] = publish([src], tmp_path / "out", docx=False).paths + [None]
    text = fragment.read_text(encoding="utf-8")
    assert text.startswith(f"<h2>{T2}</h2>") and f"<h2>{T3}</h2>" in text and f"<h2>{T4}</h2>" in text
    assert "<html" not in text and "mso" not in text and 'class="Mso' not in text and "<td style" not in text
    assert "24252.311082" in text  # the amount with the decimals given: to the fen, as reports print it
    widths = [printed_table(FMT, t, values).ncols for t in FMT.tables]
    assert widths == [4, 10, 15]
    spans = {
        (_norm(c.text_content()), int(c.get("rowspan", 1)), int(c.get("colspan", 1)))
        for i in range(3)
        for c in _cells(text, i)
        if c.tag == "th"
    }
    assert {
        ("第二十条第（一）项", 1, 4),
        ("本年处理决定数量", 1, 3),
        ("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", 3, 3),
        ("申请人情况", 1, 7),
        ("自然人", 2, 1),
        ("法人或其他组织", 1, 5),
        (TOTAL, 2, 1),
        ("三、本年度办理结果", 22, 1),
        ("（三）不予公开", 8, 1),
        ("（四）无法提供", 3, 1),
        ("（五）不予处理", 5, 1),
        ("（六）其他处理", 3, 1),
        (T3_TOTAL_ROW, 1, 2),
        ("一、本年新收政府信息公开申请数量", 1, 3),
        ("行政复议", 2, 5),
        ("行政诉讼", 1, 10),
        ("未经复议直接起诉", 1, 5),
    } <= spans
    t3 = _cells(text, 1)
    assert {c.get("scope") for c in t3 if c.tag == "th"} == {"col", "row"}
    assert [c.text for c in t3 if c.tag == "td"] == ["0"] * 175  # explicit zeros, no blanks
    assert len(lxml.html.fromstring(text).findall(".//table")[1].findall("thead/tr")) == 3


def test_word_report_form(tmp_path):
    src = make_return(tmp_path / "in", UNIT)
    [path] = publish([src], tmp_path / "out", html=False).paths
    document = docx.Document(str(path))
    texts = [p.text for p in document.paragraphs if p.text]
    assert texts[0] == TITLE
    headings = [t for t in texts if t in FMT.report_sections]
    assert headings == list(FMT.report_sections)
    placeholders = [p for p in document.paragraphs if p.text.startswith("【请在此填写")]
    assert len(placeholders) == 3 and all(r.font.highlight_color for p in placeholders for r in p.runs)
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    margins = [round(getattr(section, f"{s}_margin").mm) for s in ("top", "bottom", "left", "right")]
    assert margins == [37, 35, 28, 26]
    xml = document.element.xml
    for font in ("方正小标宋简体", "黑体", "仿宋_GB2312"):
        assert f'w:eastAsia="{font}"' in xml
    t3 = document.tables[1]._tbl
    rows = t3.findall(".//{*}tr")
    assert len(rows) == 28 and all(r.find(".//{*}cantSplit") is not None for r in rows)
    assert [r.find(".//{*}tblHeader") is not None for r in rows[:4]] == [True, True, True, False]
    assert "w:gridSpan" in t3.xml and "w:vMerge" in t3.xml
    assert [len(t.columns) for t in document.tables] == [4, 10, 15]


# --------------------------------------------------------------------------- LibreOffice renders it


@pytest.mark.slow  # a LibreOffice start of its own
@pytest.mark.libreoffice
def test_libreoffice_renders_the_word_report(tmp_path):
    if not SOFFICE:
        pytest.skip("LibreOffice (soffice) is not installed")
    src = make_return(tmp_path / "in", UNIT)
    [path] = publish([src], tmp_path / "out", html=False).paths
    profile = tmp_path / "profile"
    subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path / "pdf"),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pdf = tmp_path / "pdf" / f"{path.stem}.pdf"
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF") and len(data) > 10_000
    if shutil.which("pdftotext"):  # poppler-utils: the pages and their text
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        pages = [page for page in text.split("\f") if page.strip()]
        flat = "".join(text.split())
        assert len(pages) >= 2 and TITLE in flat and "三、收到和处理政府信息公开申请情况" in flat
        assert all(block in flat for block in T4_BLOCKS)
