"""Hostile web pages and Word files (issue 21): each is answered by one finding within 2 s of CPU and
300 MB, measured on the real command line (a warmed process forks one child per file, the child runs
``xltool validate FILE --format json``, ``os.wait4`` gives its CPU time and peak memory); what a reader
of a document does not see is not read as the report. The files are built by ``hostile.documents``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers.bounds import MAX_MB, MAX_SECONDS, measure_validate
from helpers.markers import needs_fork
from hostile.documents import (
    CORPUS_PAGE,
    HIDERS,
    PROBES,
    docx,
    hidden_decoy,
    hidden_tables,
    p,
    tc,
    word_table,
)

from xltool.read.sources import SourceError, read_document
from xltool.read.sources.limits import MAX_GRID, MAX_GRID_COLUMNS

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def measured(tmp_path_factory) -> dict[str, dict]:
    folder = tmp_path_factory.mktemp("hostile_documents")
    jobs = []
    for name, (suffix, build, _rule) in PROBES.items():
        path = folder / f"{name}{suffix}"
        path.write_bytes(build())
        jobs.append((name, [str(path), "--year", "2023", "--format", "json"]))
    return measure_validate(jobs, tmp_path_factory.mktemp("probe"), [CORPUS_PAGE], year=2023)


@pytest.mark.slow
@needs_fork
@pytest.mark.parametrize("name", list(PROBES))
def test_each_hostile_document_gets_one_finding_in_bounded_time_and_memory(measured, name):
    result = measured[name]
    assert "Traceback" not in result["stderr"] and result["stderr"] == "", result["stderr"]
    assert result["exit"] == 1
    found = json.loads(result["stdout"])["findings"]
    assert [f["rule"] for f in found] == [PROBES[name][2]], found
    assert CJK.search(found[0]["message"]) and f"{name}{PROBES[name][0]}" in found[0]["message"]
    if found[0]["rule"] == "D-TABLE-MISSING" and "hidden" in name:
        assert "隐藏的表格" in found[0]["message"] and "未读取" in found[0]["message"], found[0]["message"]
    assert result["cpu"] < MAX_SECONDS, f"{name}: {result['cpu']:.2f} s of CPU"
    assert result["wall"] < 3 * MAX_SECONDS, f"{name}: {result['wall']:.2f} s"
    assert result["rss_mb"] < MAX_MB, f"{name}: {result['rss_mb']:.0f} MB"


def read(data: bytes, suffix: str):
    return read_document(Path(f"x{suffix}"), data, f"x{suffix}")


def refusal(data: bytes, suffix: str) -> SourceError:
    with pytest.raises(SourceError) as info:
        read(data, suffix)
    return info.value


@pytest.mark.parametrize(
    "name", [n for n, (_s, _b, rule) in PROBES.items() if rule == "F-TOO-LARGE" and "flood" not in n]
)
def test_grid_bombs_are_refused_naming_the_limit(name):
    suffix, build, _rule = PROBES[name]
    error = refusal(build(), suffix)
    assert error.code == "F-TOO-LARGE"
    limits = (f"{MAX_GRID:,} 格", f"{MAX_GRID_COLUMNS:,} 列", "标签和属性")  # 190,000 × 1,000 cells: the markup
    assert any(limit in error.message for limit in limits), error.message


@pytest.mark.parametrize("name", ["p_flood", "attribute_flood", "docx_paragraph_flood"])
def test_markup_floods_are_refused_before_parsing(name):
    suffix, build, _rule = PROBES[name]
    error = refusal(build(), suffix)
    assert error.code == "F-TOO-LARGE" and "标签和属性" in error.message


def cells(doc) -> list[list[tuple[int, int, str, int, int]]]:
    return [[(c.row, c.col, c.text, c.rowspan, c.colspan) for c in t.cells] for t in doc.tables]


@pytest.mark.parametrize("how", list(HIDERS))
def test_hidden_tables_are_not_read_and_counted(how):
    original = read(CORPUS_PAGE.read_bytes(), ".html")
    doc = read(hidden_tables(how), ".html")
    assert doc.tables == [] and doc.hidden_tables == len(original.tables)
    assert "999" not in doc.text


@pytest.mark.parametrize("how", list(HIDERS))
def test_a_visible_table_beside_a_hidden_decoy_is_the_one_read(how):
    original = read(CORPUS_PAGE.read_bytes(), ".html")
    doc = read(hidden_decoy(how), ".html")
    assert cells(doc) == cells(original) and doc.hidden_tables == len(original.tables)


def html(body: str):
    return read(f"<html><body>{body}</body></html>".encode(), ".html")


def test_hidden_cells_and_rows_of_a_visible_table():
    doc = html(
        "<table><tr><td>项目</td><td>数量</td></tr>"
        '<tr style="display:none"><td>自然人</td><td>999</td></tr>'
        "<tr><td>总计</td><td hidden>999</td><td>5</td></tr>"
        '<tr style="visibility:collapse"><td>其他</td><td>999</td></tr>'
        '<tr><td>备注</td><td style="visibility:hidden">999</td><td>6</td></tr></table>'
    )
    assert cells(doc) == [
        [
            (0, 0, "项目", 1, 1),
            (0, 1, "数量", 1, 1),
            (1, 0, "总计", 1, 1),
            (1, 1, "5", 1, 1),
            (2, 0, "备注", 1, 1),
            (2, 1, "", 1, 1),  # visibility:hidden keeps its place, not its text
            (2, 2, "6", 1, 1),
        ]
    ]
    assert doc.hidden_tables == 0


def test_css_cascade_within_an_inline_style():
    shown = [
        '<div style="display:none; display:block">',
        '<div hidden style="display:block">',
        '<div style="visibility:hidden"><div style="visibility:visible">',
    ]
    for opening in shown:
        closing = "</div>" * opening.count("<div")
        doc = html(f"{opening}<table><tr><td>甲</td><td>1</td></tr></table>{closing}")
        assert cells(doc) == [[(0, 0, "甲", 1, 1), (0, 1, "1", 1, 1)]], opening
    for opening in ['<div style="display:none !important; display:block">', '<div style="display:/* x */none">']:
        doc = html(f"{opening}<table><tr><td>甲</td><td>1</td></tr></table></div>")
        assert doc.tables == [] and doc.hidden_tables == 1, opening


def test_stylesheet_classes_are_not_evaluated():
    """Documented: only inline styles and attributes count (README)."""
    doc = html("<style>.x{display:none}</style><div class='x'><table><tr><td>甲</td><td>1</td></tr></table></div>")
    assert len(doc.tables) == 1


def test_word_hidden_text_rows_and_tables():
    rows = [["项目", "数量"], ["总计", "5"]]
    hidden_row = "<w:tr>" + tc("自然人", hidden=True) + tc("999", hidden=True) + "</w:tr>"
    visible = word_table(rows).replace("</w:tr>", "</w:tr>" + hidden_row, 1)
    data = docx(p("标题") + word_table([["项目", "数量"], ["总计", "999"]], hidden=True) + p("表一") + visible)
    doc = read(data, ".docx")
    assert doc.hidden_tables == 1
    assert [t.number for t in doc.tables] == [1] and doc.tables[0].caption == "表一"
    assert cells(doc) == [[(0, 0, "项目", 1, 1), (0, 1, "数量", 1, 1), (1, 0, "总计", 1, 1), (1, 1, "5", 1, 1)]]
    mixed = "<w:p><w:r><w:t>共 </w:t></w:r><w:r><w:rPr><w:vanish/></w:rPr><w:t>999</w:t></w:r>"
    mixed += "<w:r><w:rPr><w:vanish w:val='false'/></w:rPr><w:t>5 件</w:t></w:r></w:p>"
    assert read(docx(mixed), ".docx").text == "共 5 件"


def test_word_merges_still_read():
    row1 = tc("甲", "<w:vMerge w:val='restart'/>") + tc("乙", "<w:gridSpan w:val='2'/>")
    row2 = tc("", "<w:vMerge/>") + tc("1") + tc("2")
    doc = read(docx(f"<w:tbl><w:tr>{row1}</w:tr><w:tr>{row2}</w:tr></w:tbl>"), ".docx")
    assert cells(doc) == [[(0, 0, "甲", 2, 1), (0, 1, "乙", 1, 2), (1, 1, "1", 1, 1), (1, 2, "2", 1, 1)]]
