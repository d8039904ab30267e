"""The paragraph ``publish`` writes under 二、三、四 from the validated figures: the exact wording of the
issue, every figure as the return shows it, a blank figure left out, marked as generated in the page
and in Word, and the published files still read back (``validate_paths``) to the same figures.

Cells are named by the labels the format prints (tests/helpers/printed_labels.py).
"""

from __future__ import annotations

from decimal import Decimal

import docx
import lxml.html
import pytest
from helpers.printed_labels import T2_GRID, T3_ROWS, T3_TOTAL_ROW, TOTAL
from helpers.returns import make_return
from helpers.schema import consistent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xltool.catalogue import NARRATIVE, group_of
from xltool.definition import get_format
from xltool.model import Unit
from xltool.totals import recompute_totals
from xltool.validate import validate_paths
from xltool.values import AMOUNT_SCALE
from xltool.write.narrative_text import GENERATED_NOTE, paragraphs
from xltool.write.publish import FRAGMENT_SUFFIX, GENERATED_STYLE, publish

FMT = get_format()
UNIT = Unit("230723101", "乌伊岭镇", "乡镇")
TITLE = "乌伊岭镇2024年政府信息公开工作年度报告"
FEES = "行政事业性收费"
NEW, CARRIED_IN, DISCLOSED, PARTIAL = T3_ROWS[0], T3_ROWS[1], T3_ROWS[2], T3_ROWS[3]
CARRIED_OUT = T3_ROWS[-1]


def cid(row: str, col: str) -> str:
    """The id of the cell printed at (row label, column label)."""
    [c] = [c for c in FMT.cells.values() if c.row_label == row and c.col_label == col]
    return c.id


def t2(row: str, n: int) -> str:
    return cid(row, T2_GRID[row][n])


def shown(value: int, amount: bool = False) -> str:
    """A figure as the report prints it: an amount in 万元 without trailing zeros or float noise."""
    return format(Decimal(value) / AMOUNT_SCALE, "f") if amount else str(value)


def expected(v: dict[str, int]) -> list[str]:
    """The three paragraphs in the wording of the issue (国办公开办函〔2021〕30号's labels)."""
    fees = shown(v[t2(FEES, 0)], amount=True)
    suits = v[cid("行政诉讼·未经复议直接起诉", TOTAL)] + v[cid("行政诉讼·复议后起诉", TOTAL)]
    return [
        f"本年度制发规章{v[t2('规章', 0)]}件、废止{v[t2('规章', 1)]}件、现行有效{v[t2('规章', 2)]}件；"
        f"制发行政规范性文件{v[t2('行政规范性文件', 0)]}件、废止{v[t2('行政规范性文件', 1)]}件、"
        f"现行有效{v[t2('行政规范性文件', 2)]}件。"
        f"本年度作出行政许可决定{v[t2('行政许可', 0)]}件、行政处罚决定{v[t2('行政处罚', 0)]}件、"
        f"行政强制决定{v[t2('行政强制', 0)]}件，行政事业性收费金额{fees}万元。",
        f"本年度新收政府信息公开申请{v[cid(NEW, TOTAL)]}件，上年结转{v[cid(CARRIED_IN, TOTAL)]}件，"
        f"办结{v[cid(T3_TOTAL_ROW, TOTAL)]}件（其中予以公开{v[cid(DISCLOSED, TOTAL)]}件、"
        f"部分公开{v[cid(PARTIAL, TOTAL)]}件），结转下年度继续办理{v[cid(CARRIED_OUT, TOTAL)]}件。",
        f"本年度因政府信息公开工作被申请行政复议{v[cid('行政复议', TOTAL)]}件、提起行政诉讼{suits}件。",
    ]


def example() -> dict[str, int]:
    """The figures of the issue's example."""
    v = {c.id: 0 for c in FMT.cells.values()}
    v |= {t2("规章", 2): 3, t2("行政规范性文件", 0): 2, t2("行政规范性文件", 1): 1, t2("行政规范性文件", 2): 15}
    v |= {t2("行政许可", 0): 550, t2("行政处罚", 0): 4119, t2("行政强制", 0): 195, t2(FEES, 0): 7730_280000}
    v |= {cid(NEW, TOTAL): 23, cid(CARRIED_IN, TOTAL): 2, cid(T3_TOTAL_ROW, TOTAL): 20}
    v |= {cid(DISCLOSED, TOTAL): 10, cid(PARTIAL, TOTAL): 3, cid(CARRIED_OUT, TOTAL): 5, cid("行政复议", TOTAL): 1}
    return v


def test_the_issues_example_word_for_word():
    assert list(paragraphs(FMT, example()).values()) == [
        "本年度制发规章0件、废止0件、现行有效3件；制发行政规范性文件2件、废止1件、现行有效15件。"
        "本年度作出行政许可决定550件、行政处罚决定4119件、行政强制决定195件，行政事业性收费金额7730.28万元。",
        "本年度新收政府信息公开申请23件，上年结转2件，办结20件（其中予以公开10件、部分公开3件），结转下年度继续办理5件。",
        "本年度因政府信息公开工作被申请行政复议1件、提起行政诉讼0件。",
    ]
    assert list(paragraphs(FMT, example())) == ["t2", "t3", "t4"]  # each before the table it speaks of


@given(
    counts=st.lists(st.one_of(st.just(0), st.integers(0, 10**6)), min_size=len(FMT.cells), max_size=len(FMT.cells)),
    fees=st.one_of(st.just(0), st.integers(0, 10**13)),
)
def test_every_figure_is_said_as_the_return_shows_it(counts, fees):
    v = dict(zip(FMT.cells, counts, strict=True)) | {t2(FEES, 0): fees}
    assert list(paragraphs(FMT, v).values()) == expected(v)


def test_a_blank_figure_leaves_its_clause_out():
    v: dict[str, int | None] = {**example(), cid(DISCLOSED, TOTAL): None, cid("行政诉讼·复议后起诉", TOTAL): None}
    v[t2("规章", 0)] = None  # names what the other two count: the 规章 part goes whole
    said = paragraphs(FMT, v)
    assert said["t2"].startswith("本年度制发行政规范性文件2件、")
    assert "（其中部分公开3件）" in said["t3"]
    assert said["t4"] == "本年度因政府信息公开工作被申请行政复议1件。"
    v[cid(T3_TOTAL_ROW, TOTAL)] = None  # the （其中…） goes with the 办结 it explains
    assert "办结" not in paragraphs(FMT, v)["t3"] and "其中" not in paragraphs(FMT, v)["t3"]


def test_the_2019_format_says_only_what_it_prints():
    old = get_format("gov-info-disclosure-2019")
    said = paragraphs(old, {c.id: 1 for c in old.cells.values()})
    assert "t2" not in said  # its 表二 labels differ: nothing said rather than a wrong cell
    assert said["t4"] == "本年度因政府信息公开工作被申请行政复议1件、提起行政诉讼2件。"


# --------------------------------------------------------------------------- in the published files


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    work = tmp_path_factory.mktemp("narrative")
    v = {c.id: 0 for c in FMT.input_cells}
    v |= {t2("行政许可", 0): 550, t2(FEES, 0): 7730_280000, t2("行政规范性文件", 2): 15}
    natural = "自然人"
    v |= {cid(NEW, natural): 23, cid(CARRIED_IN, natural): 2, cid(DISCLOSED, natural): 10}
    v |= {cid(PARTIAL, natural): 3, cid("3.其他", natural): 7, cid(CARRIED_OUT, natural): 5}
    v |= {cid("行政复议", "结果纠正"): 1, cid("行政诉讼·复议后起诉", "尚未审结"): 2}
    values = recompute_totals(v | {c.id: 0 for c in FMT.total_cells}, FMT)
    src = make_return(work / "in", UNIT, values)
    done = publish([src], work / "out")
    return {p.name: p for p in done.paths}, values


def test_the_page_and_fragment_carry_the_paragraphs_marked_as_generated(published):
    paths, values = published
    for name in (f"{TITLE}.html", f"{TITLE}{FRAGMENT_SUFFIX}.html"):
        root = lxml.html.fromstring(paths[name].read_text(encoding="utf-8"))
        generated = root.xpath('//p[@data-xltool="generated"]')
        assert [p.text_content() for p in generated] == expected(values), name
        assert [p.get("class") for p in generated] == ["generated"] * 3
        for p in generated:  # under its heading, just before its table, the note after it
            assert p.getprevious().tag == "h2"
            note = p.getnext()
            assert note.text_content() == GENERATED_NOTE and note.getnext().tag == "table"


def test_the_word_report_carries_them_in_a_style_of_their_own(published):
    paths, values = published
    document = docx.Document(str(paths[f"{TITLE}.docx"]))
    styled = [p.text for p in document.paragraphs if p.style.name == GENERATED_STYLE]
    assert styled == [t for text in expected(values) for t in (text, GENERATED_NOTE)]
    body = document.element.body
    for p in (p for p in document.paragraphs if p.text == GENERATED_NOTE):
        assert body.index(p._p) + 1 < len(body) and body[body.index(p._p) + 1].tag.endswith("}tbl")


def test_published_files_read_back_to_the_same_figures(published):
    paths, values = published
    assert len(paths) == 3
    for path in paths.values():  # one at a time: three returns of one unit would be duplicates
        validation = validate_paths([path])
        assert validation.valid, (path.name, [f.message for f in validation.report.findings])
        [rec] = validation.records
        assert rec.values == values, path.name


# --------------------------------------------------------------------------- round trip: text checks


def narrative_findings_of(path):
    """The 正文 findings of a file read back as a return, and its parts (numbers) as found."""
    validation = validate_paths([path])
    [rec] = validation.records
    said = [f for f in validation.report.findings if group_of(f.rule) == NARRATIVE]
    return said, [p.numbers for p in rec.narrative]


def test_every_published_report_passes_the_text_checks(published):
    """By construction: the paragraphs publish writes are read back by the text checks and agree."""
    paths, _ = published
    for name in (f"{TITLE}.html", f"{TITLE}.docx"):
        findings, parts = narrative_findings_of(paths[name])
        assert [f.message for f in findings] == [], name
        assert [n for numbers in parts for n in numbers] == [1, 2, 3, 4, 5, 6], name


@pytest.mark.slow
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(inputs=consistent(), fees=st.integers(min_value=0, max_value=99_999_999_999))
def test_any_published_figures_pass_the_text_checks_and_a_changed_one_is_caught(tmp_path_factory, inputs, fees):
    """Any consistent figures: the published page raises no 正文 finding; the same page with one figure
    of its generated paragraphs typed differently is caught at that figure's cell."""
    work = tmp_path_factory.mktemp("roundtrip")
    values = recompute_totals(inputs | {t2(FEES, 0): fees}, FMT)
    done = publish([make_return(work / "in", UNIT, values)], work / "out")
    page = next(p for p in done.paths if p.name == f"{TITLE}.html")
    findings, _ = narrative_findings_of(page)
    assert [f.message for f in findings] == []

    new = values[cid(NEW, TOTAL)]
    said = f"本年度新收政府信息公开申请{new}件"
    html = page.read_text(encoding="utf-8")
    assert said in html
    changed = work / "changed" / page.name
    changed.parent.mkdir()
    changed.write_text(html.replace(said, f"本年度新收政府信息公开申请{new + 7}件"), encoding="utf-8")
    findings, _ = narrative_findings_of(changed)
    assert [f.rule for f in findings] == ["N-FIGURE"], [f.message for f in findings]
    assert str(new + 7) in findings[0].message
