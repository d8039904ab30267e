"""Markdown pipe tables (text from PDF-to-markdown converters) and tab-separated text read to exactly the
figures printed, whole or split the way converters split them; a table whose columns cannot be told is
named in findings, never guessed (see xltool/read/sources/markdown.py)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from helpers.documents import FMT, assert_same_figures, fills, printed, random_fill
from helpers.printed_text import markdown_report, tab_report
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xltool.model import ERROR
from xltool.read.discover import discover
from xltool.read.dispatch import read_return
from xltool.read.sources import read_path
from xltool.read.sources.markdown import is_separator, pipe_cells

FIXTURES = Path(__file__).parent / "fixtures" / "documents"
FIXTURE_SEED = 20
QUIRKS = {
    "markdown_pipe_tables.md": {"split": False},
    "markdown_split_per_group_placeholder_headers.md": {"split": True, "bogus_header": True},
}


def fixture_text(name: str) -> str:
    if name == "markdown_placeholder_headers_without_real_header.md":
        return _without_real_header(markdown_report(FMT, random_fill(FIXTURE_SEED), printed, split=True))
    return markdown_report(FMT, random_fill(FIXTURE_SEED), printed, **QUIRKS[name])


def _without_real_header(text: str) -> str:
    """The split report with the empty tables printing the real header left out."""
    blocks = text.split("\n\n")
    return "\n\n".join(b for b in blocks if "申请人情况 (" not in b)


ALL_FIXTURES = [*QUIRKS, "markdown_placeholder_headers_without_real_header.md"]


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_fixtures_are_what_the_writer_writes(name):
    assert (FIXTURES / name).read_text(encoding="utf-8") == fixture_text(name)


def test_a_pipe_row_is_a_row_of_cells():
    assert pipe_cells("| 规章 | 0 |  | 3 |") == ["规章", "0", "", "3"]
    assert pipe_cells("| a \\| b | 1") == ["a | b", "1"]
    assert is_separator(pipe_cells("|---|:---:| --- |"))
    assert not is_separator(pipe_cells("| - | 0 |"))


def test_markdown_pipe_tables_read_every_figure():
    rec = read_return(FIXTURES / "markdown_pipe_tables.md")
    assert_same_figures(rec, random_fill(FIXTURE_SEED))
    assert not [f for f in rec.findings if f.severity == ERROR and f.rule != "D-IDENTITY"]


def test_split_per_group_under_placeholder_headers_reads_by_the_header_printed_apart():
    rec = read_return(FIXTURES / "markdown_split_per_group_placeholder_headers.md")
    assert_same_figures(rec, random_fill(FIXTURE_SEED))
    assert not [f for f in rec.findings if f.severity == ERROR and f.rule != "D-IDENTITY"]
    extra = {f.message.split("“")[1].split("”")[0] for f in rec.findings if f.rule == "D-COLUMN-EXTRA"}
    assert {"本年新收件数", "结转下年度"} <= extra  # the bogus header row is said, not read


def test_placeholder_headers_without_the_real_header_are_named_not_guessed():
    path = FIXTURES / "markdown_placeholder_headers_without_real_header.md"
    rec = read_return(path)
    values = random_fill(FIXTURE_SEED)
    assert all(values[cid] == v for cid, v in rec.values.items() if v is not None)
    rules = {f.rule for f in rec.findings}
    assert {"D-COLUMN-MISSING", "D-UNPLACED"} <= rules
    t3 = [cid for cid in FMT.cells if FMT.cells[cid].table == "t3" and FMT.cells[cid].col_label != "总计"]
    assert not any(rec.values.get(cid) is not None for cid in t3)


def test_the_placeholders_are_blanked_and_the_real_header_put_over_each_group():
    doc = read_path(FIXTURES / "markdown_split_per_group_placeholder_headers.md")
    texts = [c.text for t in doc.tables for c in t.cells]
    assert not any(t.startswith("数据") for t in texts)
    assert texts.count("商业企业") == sum(1 for t in doc.tables if any(c.text == "商业企业" for c in t.cells)) > 5


def test_md_in_a_folder_is_a_note_and_read_when_named(tmp_path):
    report = tmp_path / "报告.md"
    report.write_text(fixture_text("markdown_pipe_tables.md"), encoding="utf-8")
    (tmp_path / "README.md").write_text("# 说明\n", encoding="utf-8")
    assert discover([tmp_path])[0] == []
    assert discover([report])[0] == [report]


@pytest.mark.slow
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=fills(), form=st.sampled_from(["tab", "md", "md-split", "md-split-bogus"]))
def test_any_consistent_fill_reads_back_from_text_and_markdown(tmp_path_factory, values, form):
    if form == "tab":
        text = tab_report(FMT, values, printed)
    else:
        text = markdown_report(FMT, values, printed, split=form != "md", bogus_header=form.endswith("bogus"))
    path = tmp_path_factory.mktemp("t") / f"乌伊岭镇2024年政府信息公开工作年度报告.{'txt' if form == 'tab' else 'md'}"
    path.write_text(text, encoding="utf-8")
    assert_same_figures(read_return(path), values)


def _mutate(text: str, rng: random.Random, how: str) -> str:
    lines = text.split("\n")
    rows = [k for k, line in enumerate(lines) if line.startswith("| ") and any(ch.isdigit() for ch in line)]
    if how == "drop-header-part":
        blocks = text.split("\n\n")
        parts = [k for k, b in enumerate(blocks) if "申请人情况 (" in b]
        del blocks[rng.choice(parts)]
        return "\n\n".join(blocks)
    if how == "mislabel-row":
        k = rng.choice(rows)
        cells = lines[k].split(" | ")
        cells[0] = "| 某某事项"
        lines[k] = " | ".join(cells)
    elif how == "shuffle-rows":
        # rows that carry their label: a row of figures only (表四's blocks) means what its place says,
        # so moving it into another block changes what the report prints, not how it is laid out
        labelled = [j for j in rows if not lines[j][2:].split(" | ")[0].strip().isdigit()]
        k = rng.choice(labelled)
        run = [j for j in labelled if abs(j - k) < 12]
        chunk = [lines[j] for j in run]
        rng.shuffle(chunk)
        for j, line in zip(run, chunk, strict=True):
            lines[j] = line
    elif how == "swap-real-headers":
        k = next(j for j, line in enumerate(lines) if "商业企业" in line)
        lines[k] = lines[k].replace("商业企业", "@").replace("科研机构", "商业企业").replace("@", "科研机构")
    return "\n".join(lines)


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=fills(),
    how=st.sampled_from(["drop-header-part", "mislabel-row", "shuffle-rows", "swap-real-headers"]),
    seed=st.integers(0, 10**6),
)
def test_a_shuffled_or_mislabelled_input_never_puts_a_figure_in_a_wrong_cell(tmp_path_factory, values, how, seed):
    text = _mutate(markdown_report(FMT, values, printed, split=True), random.Random(seed), how)
    path = tmp_path_factory.mktemp("m") / "乌伊岭镇2024年政府信息公开工作年度报告.md"
    path.write_text(text, encoding="utf-8")
    rec = read_return(path)
    if how == "swap-real-headers":  # the header printed says so: 科研机构's figures are read as 科研机构
        values = dict(values)
        for cid, c in FMT.cells.items():
            if c.table == "t3" and c.col_label == "商业企业":
                other = (
                    cid.rsplit(".", 1)[0]
                    + "."
                    + next(
                        x.id.rsplit(".", 1)[1]
                        for x in FMT.cells.values()
                        if x.table == "t3" and x.col_label == "科研机构"
                    )
                )
                values[cid], values[other] = values[other], values[cid]
    wrong = {cid: (v, values[cid]) for cid, v in rec.values.items() if v is not None and v != values[cid]}
    assert not wrong
    if sum(v is not None for v in rec.values.values()) < len(FMT.cells):
        assert any(f.severity == ERROR for f in rec.findings)


def test_a_pipe_row_with_a_cell_missing_is_named_not_shifted(tmp_path):
    """Markdown pads a short row at its end, which would shift every figure after the missing one into
    its neighbour's column: such a row's figures are left unread, with an error, never moved."""
    source = (FIXTURES / "markdown_pipe_tables.md").read_text(encoding="utf-8").splitlines()
    i = next(i for i, line in enumerate(source) if line.startswith("| 1.本机关不掌握相关政府信息 |"))
    cells = source[i].split("|")
    del cells[3]
    source[i] = "|".join(cells)
    path = tmp_path / "乌伊岭镇2024年政府信息公开工作年度报告.md"
    path.write_text("\n".join(source), encoding="utf-8")
    whole = read_return(FIXTURES / "markdown_pipe_tables.md")
    short = read_return(path)
    changed = {cid for cid in whole.values if whole.values[cid] != short.values[cid]}
    assert changed == {cid for cid in FMT.cells if cid.startswith("t3.unable_not_held.")}
    assert all(short.values[cid] is None for cid in changed)
    assert any(f.severity == ERROR for f in short.findings)


def test_a_row_under_the_header_of_another_table_is_not_read_as_a_blank_zero(tmp_path):
    """表二's rows shuffled across its three tables: 行政处罚 (35) lands in the table headed 本年收费金额.
    Its 35 is D-UNPLACED, and its 本年处理决定数量 column lies in a wider table above, outside the row's
    own table: nothing is printed there to be a blank read as 0, so the cell stays unread (found by
    the hypothesis test above: 行政处罚 was read as 0)."""
    values = {cid: 0 for cid in FMT.cells} | {"t2_6.penalty.decisions": 35}
    text = _mutate(markdown_report(FMT, values, printed, split=True), random.Random(18972), "shuffle-rows")
    assert "| 行政处罚 | 35 |" in text.split("## 三")[0].split("本年收费金额")[1]  # the quirk reproduced
    path = tmp_path / "乌伊岭镇2024年政府信息公开工作年度报告.md"
    path.write_text(text, encoding="utf-8")
    rec = read_return(path)
    assert rec.values["t2_6.penalty.decisions"] is None
    assert any(f.rule == "D-UNPLACED" and "35" in f.message for f in rec.findings)
    assert any(f.rule == "D-COLUMN-MISSING" and "行政处罚" in f.message for f in rec.findings)
