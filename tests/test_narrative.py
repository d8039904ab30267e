"""A published report's text: its six parts found by their headings in every kind of document, the figures
its sentences state checked against its own tables (正文 findings at the sentence and the cell), and its
required parts (see xltool/read/narrative.py and xltool/rules/narrative.py)."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from helpers.documents import FMT, UNIT, fills, inputs_of, random_fill, report_name
from helpers.libreoffice import SOFFICE, convert, make_profile
from helpers.narrative import (
    SECTIONS,
    chinese,
    docx_report,
    findings_of,
    html_report,
    markdown_with_parts,
    parts_of,
    phrasings,
    publish_paragraphs,
    quirk_documents,
    report_sentences,
    write,
)
from helpers.returns import make_return
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xltool.catalogue import NARRATIVE, group_of
from xltool.read.dispatch import read_return
from xltool.read.document import Document
from xltool.read.narrative import read_narrative
from xltool.rules.narrative import (
    FEE_NOTICE,
    MAX_FIGURE_FINDINGS,
    NORMATIVE,
    PHRASES,
    RULES,
    cell_index,
    chinese_number,
    quote,
    stated_number,
    statements,
)

CORPUS = Path(__file__).parent / "corpus"
REAL_REPORTS = sorted(entry["file"] for entry in json.loads((CORPUS / "figures.json").read_text(encoding="utf-8")))
"""The corpus's real reports, as figures.json lists them."""
SEED = 23


def _values(seed: int = SEED) -> dict[str, int]:
    return random_fill(seed)


def _report(tmp_path: Path, values, parts, suffix=".html", folder="", heads=None):
    path = tmp_path / folder / report_name(suffix=suffix)
    if suffix == ".html":
        return read_return(write(path, html_report(values, parts, path.stem, heads)))
    if suffix == ".docx":
        return read_return(write(path, docx_report(values, parts, path.stem)))
    return read_return(write(path, markdown_with_parts(values, parts)))


def _consistent_parts(values, seed=SEED, numerals=False):
    return parts_of(report_sentences(values, random.Random(seed), numerals))


# --------------------------------------------------------------------------- the parts, in every source


@pytest.mark.parametrize("suffix", [".html", ".docx", ".md", ".txt"])
def test_the_six_parts_are_found_in_each_kind_of_document(tmp_path, suffix):
    values = _values()
    parts = _consistent_parts(values)
    rec = _report(tmp_path, values, parts, suffix)
    assert rec.readable
    assert [p.numbers for p in rec.narrative] == [(n,) for n in range(1, 7)]
    assert [p.heading for p in rec.narrative] == list(SECTIONS)
    for p in rec.narrative:
        assert p.text.split("\n") == parts[p.number], p.heading  # the part's own text, no table's label in it


@pytest.mark.slow
@pytest.mark.skipif(not SOFFICE, reason="LibreOffice is not installed")
def test_a_pdf_made_by_libreoffice_has_its_parts_and_whole_sentences(tmp_path):
    values = _values()
    long_sentence = (
        "本年度" + "认真落实政务公开各项工作要求，" * 6 + "全年共受理依申请公开" + str(values["t3.new.total"]) + "件"
    )
    parts = _consistent_parts(values)
    parts[1].append(long_sentence + "。")  # wraps over lines in the PDF
    source = write(tmp_path / "src" / report_name(suffix=".docx"), docx_report(values, parts, "报告"))
    pdf = convert(make_profile(tmp_path / "profile"), "pdf", tmp_path / "out", [source])[0]
    rec = read_return(pdf)
    assert [p.number for p in rec.narrative] == [1, 2, 3, 4, 5, 6]
    assert long_sentence + "。" in rec.narrative[0].text.split("\n")  # the PDF's lines joined again
    assert findings_of(rec) == []


def test_real_reports_have_six_parts_and_no_table_text_in_them():
    for name in REAL_REPORTS:
        rec = read_return(CORPUS / name)
        assert [p.numbers for p in rec.narrative] == [(n,) for n in range(1, 7)], name
        by = {p.number: p for p in rec.narrative}
        for n in (2, 3, 4):  # only tables there: their labels and captions are not the part's text
            assert by[n].text == "", (name, by[n].text[:80])
        assert "友情链接" not in by[6].text and "信息处理费" in by[6].text  # a portal's links are not part 六


def test_a_pdf_lines_are_joined_into_sentences():
    rec = read_return(CORPUS / "hongze-2023.pdf")
    assert "2023年全区受理政府信息公开申请21件，均在法定期限答复。" in rec.narrative[0].text


@pytest.mark.parametrize(
    "heads",
    [
        {1: "第一部分 总体情况", 5: "第五部分 存在的主要问题及改进情况", 6: "第六部分 其他需要报告的事项"},
        {1: "1、总体情况", 5: "5、政府信息公开工作存在的主要问题及改进情况", 6: "6、其他需要报告的事项"},
        {1: "一．总体情况", 5: "五.存在的主要问题及改进情况", 6: "六. 其他需要报告的事项"},
        {
            1: "一、总体工作情况",
            2: "二、行政机关主动公开政府信息情况",
            4: "四、因政府信息公开工作被申请行政复议、行政诉讼情况",
        },
    ],
)
def test_numbering_styles_and_title_variants_are_parts(tmp_path, heads):
    values = _values()
    rec = _report(tmp_path, values, _consistent_parts(values), heads=heads)
    assert [p.number for p in rec.narrative] == [1, 2, 3, 4, 5, 6]
    assert {p.number: p.heading for p in rec.narrative if p.number in heads} == heads


def test_a_table_of_contents_is_not_taken_for_the_parts(tmp_path):
    values = _values()
    parts = _consistent_parts(values)
    page = html_report(values, parts, report_name())
    contents = "".join(f"<p>{h}</p>" for h in SECTIONS)
    page = page.replace("</h1>", "</h1><p>目录</p>" + contents, 1)
    rec = read_return(write(tmp_path / report_name(), page))
    assert [p.number for p in rec.narrative] == [1, 2, 3, 4, 5, 6]
    assert rec.narrative[0].text.split("\n") == parts[1]


def test_markdown_bold_headings_are_parts():
    text = "\n".join(f"**{h}**\n本部分的文字。" for h in SECTIONS)
    found = read_narrative(Document("报告.md", "text", text=text), FMT)
    assert [(p.number, p.heading) for p in found] == list(enumerate(SECTIONS, 1))


def test_sub_headings_and_table_rows_printed_as_headings_are_not_parts(tmp_path):
    values = _values()
    parts = _consistent_parts(values)
    parts[1] = [
        "（一）主动公开情况",
        "一、本年新收政府信息公开申请数量",
        "三、本年度办理结果",
        "四、结转下年度继续办理",
        "一是加强领导。",
    ]
    rec = _report(tmp_path, values, parts)
    assert [p.number for p in rec.narrative] == [1, 2, 3, 4, 5, 6]
    assert rec.narrative[0].text.split("\n") == ["（一）主动公开情况", "一是加强领导。"]  # a table's labels left out


def test_merged_parts_five_and_six_are_one_part_of_both_numbers(tmp_path):
    values = _values()
    parts = _consistent_parts(values)
    parts[5] = ["问题是解读形式单一，将丰富解读形式。本年度未收取信息处理费。"]
    heads = {5: "五、存在的主要问题及改进情况和其他需要报告的事项", 6: ""}
    rec = _report(tmp_path, values, {**parts, 6: []}, heads=heads)
    assert [p.numbers for p in rec.narrative] == [(1,), (2,), (3,), (4,), (5, 6)]
    assert findings_of(rec) == []  # no part missing: 六 is in the merged part


def test_a_long_report_is_read_to_its_last_part(tmp_path):
    values = _values()
    parts = _consistent_parts(values)
    parts[1] += ["本机关持续深化政务公开，推进决策、执行、管理、服务、结果公开。" * 10] * 60  # ~30,000 characters
    rec = _report(tmp_path, values, parts)
    assert [p.number for p in rec.narrative] == [1, 2, 3, 4, 5, 6]
    assert rec.narrative[-1].text == parts[6][0]


QUIRKS = quirk_documents()
FIXTURES = Path(__file__).parent / "fixtures" / "narrative"


@pytest.mark.parametrize("name", sorted(QUIRKS))
def test_quirk_fixtures_are_read_to_their_parts_and_findings(name):
    text, numbers, expected = QUIRKS[name]
    assert (FIXTURES / name).read_text(encoding="utf-8") == text  # regenerate with helpers.narrative.write_quirks
    rec = read_return(FIXTURES / name)
    assert rec.readable
    assert [p.numbers for p in rec.narrative] == list(numbers)
    assert [(f.rule, f.cell_ids) for f in findings_of(rec)] == expected


# --------------------------------------------------------------------------- text against tables


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10**6), numerals=st.booleans())
def test_a_consistent_report_has_no_narrative_finding_and_one_changed_figure_is_flagged(tmp_path, seed, numerals):
    values = _values(seed)
    rng = random.Random(seed)
    sentences = report_sentences(values, rng, numerals)
    rec = _report(tmp_path, values, parts_of(sentences), folder=f"{seed}-{numerals}")
    assert findings_of(rec) == []
    comparable = [i for i, (said, _) in enumerate(sentences) if said.cells is not None]
    i = rng.choice(comparable)
    said, _ = sentences[i]
    wrong = str(Decimal(said.value) + 1) if isinstance(said.value, str) else said.value + 1
    sentences[i] = (said, said.sentence(wrong))
    rec = _report(tmp_path, values, parts_of(sentences), folder=f"{seed}-{numerals}-wrong")
    found = findings_of(rec)
    assert [(f.rule, f.cell_ids) for f in found] == [("N-FIGURE", said.cells)], sentences[i][1]
    assert sentences[i][1] in found[0].message and str(wrong) in found[0].message


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=fills())
def test_the_paragraphs_publish_writes_are_read_and_agree(tmp_path, values):
    """The forms ``xltool publish`` writes for parts 二、三、四: every figure in them is read (changing any
    one is flagged at its cells) and a consistent report has no 正文 finding."""
    paragraphs = publish_paragraphs(values)
    parts = {**parts_of([]), **{n: [p] for n, p in paragraphs.items()}}
    rec = _report(tmp_path, values, parts, folder="ok")
    assert findings_of(rec) == []
    stated = {ids for st in statements(rec) for ids in st.alternatives}
    assert stated == {
        ("t2_1.rules.issued",), ("t2_1.rules.repealed",), ("t2_1.rules.valid",), ("t2_1.normative.issued",),
        ("t2_1.normative.repealed",), ("t2_1.normative.valid",), ("t2_5.licensing.decisions",),
        ("t2_6.penalty.decisions",), ("t2_6.enforcement.decisions",), ("t2_8.fees.amount",), ("t3.new.total",),
        ("t3.carried_in.total",), ("t3.total.total",), ("t3.disclosed.total",), ("t3.partial.total",),
        ("t3.carried_out.total",), ("t4_review.cases.total",), ("t4_direct.cases.total", "t4_after.cases.total"),
    }  # fmt: skip


def test_every_phrase_names_figures_of_the_definition():
    """A figure dropped from the current definition's [report.figures] must fail here, not silently
    switch a check off."""
    index = cell_index(FMT)
    for phrase in PHRASES:
        for alternative in phrase.cells:
            assert all(name in index for name in alternative), phrase.what
        for row in (RULES, NORMATIVE) if phrase.subject else ():
            assert f"{row}_{phrase.subject}" in index, phrase.what
    assert FEE_NOTICE in index


def test_the_sum_of_disclosed_and_partial_disagreeing_is_flagged_at_its_sentence(tmp_path):
    values = _values()
    shown = values["t3.disclosed.total"] + values["t3.partial.total"]
    parts = _consistent_parts(values)
    sentence = f"予以公开和部分公开共{shown - 17}件，不予公开2件。"
    parts[3] = [sentence]
    rec = _report(tmp_path, values, parts)
    [f] = findings_of(rec)
    assert f.rule == "N-FIGURE" and group_of(f.rule) == NARRATIVE and f.severity == "warning"
    assert f.cell_ids == ("t3.disclosed.total", "t3.partial.total")
    assert sentence in f.message and f"为 {shown - 17}" in f.message and f"为 {shown}" in f.message
    assert "（一）予以公开 / 总计 + （二）部分公开" in f.message
    assert f.location == rec.positions["t3.disclosed.total"].where and "第 2 个表格" in f.location


def test_each_kind_of_statement_is_checked_against_its_cells(tmp_path):
    values = _values()
    for group in phrasings(values):
        for said in group:
            if said.cells is None:
                continue
            wrong = str(Decimal(said.value) + 3) if isinstance(said.value, str) else said.value + 3
            rec = _report(tmp_path, values, parts_of([(said, said.sentence(wrong))]))
            found = findings_of(rec, "N-FIGURE")
            assert [f.cell_ids for f in found] == [said.cells], said.text


def test_a_sentence_names_the_row_of_its_documents_once(tmp_path):
    values = _values()
    v = {k: values[f"t2_1.normative.{k}"] for k in ("issued", "repealed", "valid")}
    parts = _consistent_parts(values)
    parts[2] = [f"全年共制发行政规范性文件{v['issued']}件，废止{v['repealed']}件，现行有效{v['valid']}件。"]
    rec = _report(tmp_path, values, parts)
    assert findings_of(rec) == []
    assert {ids for st in statements(rec) if st.part.number == 2 for ids in st.alternatives} == {
        ("t2_1.normative.issued",),
        ("t2_1.normative.repealed",),
        ("t2_1.normative.valid",),
    }
    parts[2] = [f"全年共制发行政规范性文件{v['issued']}件，废止{v['repealed'] + 1}件，现行有效{v['valid']}件。"]
    assert [f.cell_ids for f in findings_of(_report(tmp_path, values, parts))] == [("t2_1.normative.repealed",)]


def test_sentences_about_last_year_or_another_year_are_not_compared(tmp_path):
    values = _values()
    new = values["t3.new.total"]
    parts = _consistent_parts(values)
    parts[3] = [
        f"2023年新收政府信息公开申请{new + 9}件。",
        f"本年度新收政府信息公开申请{new}件，较上年增加5件。",
        f"去年办结{new + 4}件。",
        f"上一年度结转下年度继续办理{new + 2}件。",
        f"新收申请同比增长{new + 1}件。",
    ]
    rec = _report(tmp_path, values, parts)
    assert findings_of(rec) == []
    parts[3].append(f"上年结转{values['t3.carried_in.total'] + 1}件。")  # this year's carried-in cell: compared
    assert [f.cell_ids for f in findings_of(_report(tmp_path, values, parts))] == [("t3.carried_in.total",)]


def test_other_work_and_approximate_figures_are_not_taken_for_the_tables(tmp_path):
    values = _values()
    n = values["t3.new.total"] + values["t3.carried_in.total"] + values["t3.total.total"] + 1000
    parts = _consistent_parts(values)
    parts[1] = [
        f"全年受理行政审批申请{n}件。",
        f"答复人大代表建议和政协委员提案{n}件。",
        f"办结12345热线工单{n}件，受理群众投诉{n}件。",
        f"全区共办理行政复议案件{n}件、行政诉讼案件{n}件。",  # not about disclosure: 表四 counts only those
        f"各级行政机关共收到行政复议申请{n}件，其中涉及政府信息公开的{values['t4_review.cases.total']}件。",
        "本年度受理政府信息公开申请数十件，办结约230件，答复100余件。",
        f"规章和行政规范性文件共废止{n}件。",  # 废止 of which? not said
        f"清理并集中发布现行有效行政规范性文件{n}件。",
    ]
    assert findings_of(_report(tmp_path, values, parts)) == []


@pytest.mark.parametrize(
    ("text", "value"),
    [("二十三", 23), ("一百零五", 105), ("两", 2), ("十二", 12), ("一千二百", 1200), ("三万", 30000), ("零", 0)],
)
def test_chinese_numerals_are_read(text, value):
    assert chinese_number(text) == value
    assert stated_number(text) == value


@pytest.mark.parametrize("text", ["一二三", "二〇二三", "三四"])
def test_numerals_without_units_are_no_number(text):
    assert chinese_number(text) is None


def test_figures_with_thousands_separators_and_full_width_digits_are_read():
    assert stated_number("1,234") == 1234
    assert stated_number("２３") == 23
    assert stated_number("7730.28") == Decimal("7730.28")


@given(st.integers(0, 10**8 - 1))
def test_chinese_numerals_round_trip(n):
    assert chinese_number(chinese(n)) == n


def test_separated_and_full_width_figures_in_a_document_are_compared(tmp_path):
    values = _values()
    values["t2_5.licensing.decisions"] = 12345
    parts = _consistent_parts(values)
    full_width = str(values["t3.total.total"]).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    parts[2] = ["本年度作出行政许可决定12,345件。"]
    parts[3] = [f"本年度办结申请{full_width}件。"]
    assert findings_of(_report(tmp_path, values, parts)) == []
    parts[2] = ["本年度作出行政许可决定12,354件。"]
    [f] = findings_of(_report(tmp_path, values, parts))
    assert f.cell_ids == ("t2_5.licensing.decisions",) and "为 12354" in f.message and "为 12345" in f.message


def test_a_figure_in_chinese_numerals_is_compared(tmp_path):
    values = _values()
    total = values["t3.total.total"]
    parts = _consistent_parts(values)
    parts[3] = [f"本年度办结申请{chinese(total)}件。"]
    assert findings_of(_report(tmp_path, values, parts)) == []
    parts[3] = [f"本年度办结申请{chinese(total + 10)}件。"]
    [f] = findings_of(_report(tmp_path, values, parts))
    assert f.cell_ids == ("t3.total.total",) and chinese(total + 10) in f.message


def test_received_may_count_the_carried_over_and_is_flagged_only_when_neither(tmp_path):
    values = _values()
    values["t3.carried_in.total"] = values["t3.carried_in.total"] or 0
    new, both = values["t3.new.total"], values["t3.new.total"] + values["t3.carried_in.total"]
    parts = _consistent_parts(values)
    for stated in (new, both):
        parts[3] = [f"全年共受理政府信息公开申请{stated}件。"]
        assert findings_of(_report(tmp_path, values, parts)) == []
    parts[3] = [f"全年共受理政府信息公开申请{both + 1}件。"]
    assert [f.cell_ids for f in findings_of(_report(tmp_path, values, parts))] == [("t3.new.total",)]


def test_an_amount_rounded_in_the_text_agrees_with_the_table(tmp_path):
    values = _values()
    values["t2_8.fees.amount"] = 7_730_284_000  # 7730.284 万元
    parts = _consistent_parts(values)
    parts[2] = ["行政事业性收费金额7730.28万元。"]
    assert findings_of(_report(tmp_path, values, parts)) == []
    parts[2] = ["行政事业性收费金额7730.82万元。"]
    [f] = findings_of(_report(tmp_path, values, parts))
    assert f.cell_ids == ("t2_8.fees.amount",) and "7730.284" in f.message


def test_a_long_sentence_is_quoted_around_its_figure():
    sentence = "甲" * 100 + "办结23件" + "乙" * 100
    start = sentence.index("办结")
    q = quote(sentence, start, start + 6)
    assert "办结23件" in q and q.startswith("…") and q.endswith("…") and len(q) <= 62


def test_a_page_repeating_a_wrong_sentence_gets_it_once_and_few_findings_at_most(tmp_path):
    values = _values()
    parts = _consistent_parts(values)
    total = values["t3.total.total"]
    parts[3] = [f"本年度办结申请{total + 1}件。"] * 50 + [f"本年度办结申请{total + k}件。" for k in range(2, 400)]
    found = findings_of(_report(tmp_path, values, parts))
    assert len(found) == MAX_FIGURE_FINDINGS and len({f.message for f in found}) == len(found)


# --------------------------------------------------------------------------- completeness


@pytest.mark.parametrize("empty", ["无", "无。", "暂无", ""])
def test_part_five_that_says_nothing_is_flagged(tmp_path, empty):
    values = _values()
    parts = _consistent_parts(values)
    parts[5] = [empty] if empty else []
    [f] = findings_of(_report(tmp_path, values, parts))
    assert f.rule == "N-PART-EMPTY" and SECTIONS[4] in f.message


def test_a_missing_prose_part_is_flagged(tmp_path):
    values = _values()
    parts = _consistent_parts(values)
    rec = _report(tmp_path, values, {**parts, 6: []}, heads={6: ""})
    [f] = findings_of(rec)
    assert f.rule == "N-PART-MISSING" and SECTIONS[5] in f.message and rec.path.name in f.message


def test_a_document_with_tables_only_gets_no_narrative_finding(tmp_path):
    values = _values()
    rec = _report(tmp_path, values, {}, heads={1: "", 5: "", 6: ""})
    assert rec.readable and rec.narrative == () and findings_of(rec) == []


def test_a_page_with_the_tables_and_one_paragraph_is_not_held_to_every_part(tmp_path):
    values = _values()
    parts = {1: ["本机关认真贯彻落实《条例》。"], 5: []}
    rec = _report(tmp_path, values, parts, heads={6: ""})
    assert [p.number for p in rec.narrative] == [1, 2, 3, 4, 5]  # its parts are read
    assert findings_of(rec) == []  # but an excerpt is not a whole report's text
    parts[1].append(f"本年度办结申请{values['t3.total.total'] + 1}件。")  # what it says is still checked
    assert [f.rule for f in findings_of(_report(tmp_path, values, parts, heads={6: ""}))] == ["N-FIGURE"]


def test_a_workbook_has_no_narrative(tmp_path):
    text = "\n".join(f"{h}\n本部分的文字。" for h in SECTIONS)
    assert [p.number for p in read_narrative(Document("报告.html", "html", text=text), FMT)] == [1, 2, 3, 4, 5, 6]
    assert read_narrative(Document("报告.xlsx", "workbook", text=text), FMT) == ()  # sheet names and cells
    rec = read_return(make_return(tmp_path, UNIT, inputs_of(_values()), name=report_name(suffix=".xlsx")))
    assert rec.readable and rec.narrative == ()


def test_part_six_silent_on_fees_while_fee_notices_were_sent_is_flagged(tmp_path):
    values = _values()
    values["t3.other_no_fee.total"] = max(values["t3.other_no_fee.total"], 1)
    parts = _consistent_parts(values)
    parts[6] = ["无其他需要报告的事项。"]
    rec = _report(tmp_path, values, parts)
    fee = [f for f in findings_of(rec) if f.rule == "N-FEE-SILENT"]
    assert [f.cell_ids for f in fee] == [("t3.other_no_fee.total",)]
    assert f"为 {values['t3.other_no_fee.total']}" in fee[0].message
    for said in ("本年度收取信息处理费0元。", "本年度未收取任何费用。"):
        parts[6] = [said]
        assert [f for f in findings_of(_report(tmp_path, values, parts)) if f.rule == "N-FEE-SILENT"] == []


# --------------------------------------------------------------------------- real reports, and the CLI


def test_real_reports_text_checks():
    """What the text checks say of the corpus: hongze 2024's 区政府办 received 17 while its table says 95
    (a real disagreement of the published text); the other reports' figures all agree."""
    fired = {}
    for name in REAL_REPORTS:
        fired[name] = [(f.rule, f.cell_ids) for f in findings_of(read_return(CORPUS / name))]
    assert fired == {
        "hongze-2023.pdf": [],
        "hongze-2024.pdf": [("N-FIGURE", ("t3.new.total",))],
        "pingtan-2021.html": [],
        "pingtan-2023.html": [],
        "shuyang-xzf-2025.txt": [],
    }


@pytest.mark.slow
def test_validate_reports_the_narrative_findings_as_json(tmp_path):
    values = _values()
    parts = _consistent_parts(values)
    parts[3] = [f"本年度办结申请{values['t3.total.total'] + 2}件。"]
    path = write(tmp_path / report_name(), html_report(values, parts, report_name()))
    proc = subprocess.run(
        [sys.executable, "-m", "xltool", "validate", str(path), "--format", "json"], capture_output=True, text=True
    )
    assert "Traceback" not in proc.stderr
    found = [f for f in json.loads(proc.stdout)["findings"] if f["rule"].startswith("N-")]
    assert [(f["rule"], f["cell_ids"], f["severity"]) for f in found] == [("N-FIGURE", ["t3.total.total"], "warning")]
