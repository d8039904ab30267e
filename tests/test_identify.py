"""Unit and year from titles and file names as published, and the roster unit they mean."""

from __future__ import annotations

from pathlib import Path

import pytest

from xltool.model import Unit
from xltool.read.dispatch import read_return
from xltool.read.document import DocTable, Document
from xltool.read.from_document import ReadOptions
from xltool.read.identify import (
    Identified,
    identify,
    identify_document,
    match_roster,
    name_key,
    report_title,
    resembling,
)
from xltool.text import normalize_label


@pytest.mark.parametrize(
    ("text", "unit", "year"),
    [
        ("平潭综合实验区2024年度政府信息公开工作年度报告", "平潭综合实验区", 2024),
        ("汤旺县乌伊岭镇2024年政府信息公开工作年度报告", "汤旺县乌伊岭镇", 2024),
        ("XX局关于2023年政府信息公开工作年度报告", "XX局", 2023),
        ("乌伊岭镇2024年政务公开统计表(1).xlsx", "乌伊岭镇", 2024),
        ("乌伊岭镇 2024 年政务公开统计表 - 副本.xls", "乌伊岭镇", 2024),
        ("2024年度汤旺河镇政府信息公开工作年度报告", "汤旺河镇", 2024),
        ("《淮安市民政局2022年度政府信息公开工作年度报告》", "淮安市民政局", 2022),
        ("汤旺县人民政府二〇二三年政府信息公开工作年度报告", "汤旺县人民政府", 2023),
        ("2024年度政府信息公开工作年度报告统计表", "", 2024),
        ("汤旺县政府信息公开工作年度报告", "汤旺县", None),
        ("统计表.xlsx", "", None),
        ("教育局.xlsx", "教育局", None),
        ("卫健局-政务公开年报数据.xlsx", "卫健局", None),
        ("县政府办-政府信息公开统计表-最终版.xlsx", "县政府办", None),
        ("自然资源局2024统计表.xlsx", "自然资源局", 2024),
        ("汤旺河镇统计表(1).xlsx", "汤旺河镇", None),
        ("一、总体情况", "", None),
        ("Sheet1", "", None),
    ],
)
def test_identify_titles_and_file_names(text, unit, year):
    assert identify(text) == Identified(unit, year)


def test_identify_document_takes_the_year_and_the_unit_from_different_texts():
    book = Document(
        "乌伊岭镇政务公开统计表.xlsx", "workbook", tables=[DocTable(1, sheet="2024年度政府信息公开工作年度报告统计表")]
    )
    assert identify_document(book) == Identified("乌伊岭镇", 2024)


def test_identify_document_as_the_reading_path_uses_it():
    """The one document identity (``fill_from_document`` calls it): a text naming both wins over an
    earlier year alone; a unit only from the title or the file name, never from a heading; the file
    name given wins over ``doc.file``; texts in ``skip`` (the format's labels) are never read."""
    both_later = Document(
        "x.html", "html", title="2024年度政府信息公开工作年度报告统计表", text="汤旺河镇2023年政府信息公开工作年度报告"
    )
    assert identify_document(both_later) == Identified("汤旺河镇", 2023)
    heading = Document("统计表.html", "html", text="汤旺县政府信息公开工作年度报告\n2024年度")
    assert identify_document(heading) == Identified("", 2024)
    assert identify_document(heading, "乌伊岭镇.html") == Identified("乌伊岭镇", 2024)
    skipped = normalize_label("汤旺河镇2023年政府信息公开工作年度报告")
    assert identify_document(both_later, skip={skipped}) == Identified("", 2024)


def test_identify_document_from_title_text_sheets_or_file_name():
    page = Document("index.html", "html", title="汤旺县乌伊岭镇2024年政府信息公开工作年度报告")
    assert identify_document(page) == Identified("汤旺县乌伊岭镇", 2024)
    word = Document("C:\\收件箱\\report.docx", "docx", text="\n汤旺河镇2023年政府信息公开工作年度报告\n一、总体情况")
    assert identify_document(word) == Identified("汤旺河镇", 2023)
    book = Document(
        "收件箱/乌伊岭镇统计表(1).xlsx", "workbook", tables=[DocTable(1, sheet="2024年度政府信息公开统计表")]
    )
    assert identify_document(book) == Identified("乌伊岭镇", 2024)


ROSTER = [
    Unit("230723", "汤旺县人民政府", "县"),
    Unit("230723001", "乌伊岭镇", "乡镇"),
    Unit("230723002", "汤旺河镇人民政府", "乡镇"),
    Unit("230723100", "汤旺县人民政府办公室", "部门"),
    Unit("230723101", "汤旺县民政局", "部门"),
    Unit("230723102", "XY局", "部门"),
]


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("乌伊岭镇", "230723001"),
        ("乌伊岭镇人民政府", "230723001"),  # an area's name names its people's government
        ("乌伊岭镇政府", "230723001"),
        ("汤旺河镇", "230723002"),
        ("汤旺河镇政府", "230723002"),
        ("汤 旺 河 镇\u3000人民政府", "230723002"),
        ("汤旺县人民政府", "230723"),
        ("汤旺县政府", "230723"),
        ("汤旺县", "230723"),
        ("汤旺县人民政府办公室", "230723100"),
        ("汤旺县政府办公室", "230723100"),
        ("汤旺县民政局", "230723101"),
        ("ＸＹ局", "230723102"),  # full width is half width
    ],
)
def test_match_roster_by_equal_name_after_normalisation(name, code):
    got = match_roster(name, ROSTER)
    assert got is not None and got.code == code


@pytest.mark.parametrize(
    "name",
    [
        "汤旺县乌伊岭镇",  # a parent area before the name
        "汤旺县乌伊岭镇政府",
        "伊春市汤旺县民政局",
        "民政局",  # the end of a name
        "汤旺县人民政府办",  # the beginning of one
        "新乌伊岭镇",
        "县政府办",  # an abbreviation
        "汤旺县人民政府办公室秘书科",  # containing a name
        "朗乡镇",
        "",
    ],
)
def test_match_roster_never_by_prefix_containment_or_abbreviation(name):
    assert match_roster(name, ROSTER) is None


def test_match_roster_by_a_listed_alias():
    roster = [*ROSTER[:1], Unit("230723001", "乌伊岭镇", "乡镇", ("汤旺县乌伊岭镇", "乌伊岭")), *ROSTER[2:]]
    assert match_roster("汤旺县乌伊岭镇", roster).code == "230723001"
    assert match_roster("汤旺县 乌伊岭镇 人民政府", roster).code == "230723001"  # normalised as names are
    assert match_roster("乌伊岭", roster).code == "230723001"
    assert match_roster("伊春市汤旺县乌伊岭镇", roster) is None  # an alias is matched whole too


def test_match_roster_two_units_of_one_name_is_none():
    twins = [Unit("1", "甲县乙镇", "乡镇"), Unit("2", "丙县乙镇", "乡镇", ("乙镇",)), Unit("3", "乙镇人民政府", "乡镇")]
    assert match_roster("乙镇", twins) is None  # 2's alias and 3's name
    assert match_roster("甲县乙镇", twins) == twins[0]


def test_resembling_names_what_was_guessed_before():
    assert resembling("汤旺县乌伊岭镇", ROSTER).code == "230723001"
    assert resembling("汤旺县", ROSTER) is None  # the county government and its office, equally
    assert resembling("县政府办", ROSTER).code == "230723100"
    assert resembling("朗乡镇", ROSTER) is None


def test_name_key_keeps_the_organ():
    assert name_key("汤旺县人民政府") == name_key("汤旺县政府") == name_key("汤旺县") == "汤旺县"
    assert name_key("汤旺县人民政府办公室") == name_key("汤旺县政府办公室") != name_key("汤旺县")
    assert name_key("县政府") == "县政府"  # no area left to name


def test_sample_inbox_file_names_find_their_roster_units():
    """The file names of samples/汤旺县/2024/收件箱 against the county's roster: the abbreviations
    clerks write are the roster's aliases (the returns themselves carry their code)."""
    from pathlib import Path

    from xltool.roster import read_roster

    root = Path(__file__).resolve().parent.parent / "samples"
    roster = read_roster(root / "data" / "汤旺县-名单.csv")
    expected = {
        "乌伊岭镇2024年政务公开统计表.xlsx": "乌伊岭镇",
        "住建局 统计表.xlsx": "汤旺县住房和城乡建设局",
        "卫健局-政务公开年报数据.xlsx": "汤旺县卫生健康局",
        "县政府办-政府信息公开统计表-最终版.xlsx": "汤旺县人民政府办公室",
        "教育局.xlsx": "汤旺县教育局",
        "汤旺县市场监督管理局.xlsx": "汤旺县市场监督管理局",
        "汤旺河镇统计表(1).xlsx": "汤旺河镇",
        "自然资源局2024统计表.xlsx": "汤旺县自然资源局",
        "汤旺县乌伊岭镇2024年政府信息公开工作年度报告.pdf": "乌伊岭镇",
    }
    for file, unit in expected.items():
        got = match_roster(identify(file).unit, roster)
        assert got is not None and got.name == unit, file
    assert match_roster(identify("汤旺县2024年政府信息公开工作年度报告.pdf").unit, roster) is None


# --------------------------------------------------------------------------- the title, wherever it is

NAVIGATION = [
    "国务院 省政府 省人大 省政协",
    "首页",
    "政务公开",
    "政府信息公开领导之窗政府机构要闻政府会议",
    "当前位置：",
    "政府信息公开年报",
]
FOOTER = ["主办：平潭综合实验区管委会办公室", "网站标识码：3501280001"]


def page(*lines: str, title: str = "国务院 省政府 省人大 省政协", file: str = "page.pdf") -> Document:
    """A page as a browser prints it or Word saves it: the site's navigation first, the title later."""
    return Document(file=file, kind="pdf", text="\n".join(lines), title=title)


@pytest.mark.parametrize(
    "heading",
    [
        ["平潭综合实验区 2023 年度政府信息公开工作年度报告"],  # spaces around the year
        ["平潭综合实验区2023年度政府信息公开", "工作年度报告"],  # broken over two lines
        ["平潭综合实验区2023年政府信息公开年度报告"],  # 年 for 年度, 工作 omitted
        ["• 平潭综合实验区2023年度政府信息公开工作年度报告（全文）"],
    ],
)
def test_the_report_title_is_found_past_the_sites_navigation(heading):
    doc = page(*NAVIGATION, *heading, "来源：平潭综合实验区管委会办公室 时间：2024-03-08", "一、总体情况", *FOOTER)
    assert identify_document(doc, "pingtan-2023.chromium.pdf") == Identified("平潭综合实验区", 2023)


def test_no_unit_is_taken_from_navigation_or_footers():
    doc = page(*NAVIGATION, "2023年度报告", "一、总体情况", *FOOTER)
    assert identify_document(doc, "").unit == ""  # (a file named after a unit alone would name it)


def test_a_sentence_that_mentions_a_report_is_not_its_title():
    sentence = "现将平潭综合实验区2022年度政府信息公开工作年度报告中的数据更正如下"
    assert report_title(sentence) is None
    assert report_title("根据条例，编制本2023年度政府信息公开工作年度报告") is None
    doc = page(*NAVIGATION, sentence, "平潭综合实验区2023年度政府信息公开工作年度报告")
    assert identify_document(doc) == Identified("平潭综合实验区", 2023)


def test_a_later_link_to_last_years_report_does_not_change_the_title():
    doc = page(
        *NAVIGATION,
        "平潭综合实验区2023年度政府信息公开工作年度报告",
        "一、总体情况",
        "相关链接：",
        "平潭综合实验区2022年度政府信息公开工作年度报告",
    )
    assert identify_document(doc) == Identified("平潭综合实验区", 2023)


def test_two_different_titles_are_named_not_chosen():
    doc = page("甲镇2023年政府信息公开工作年度报告", "一、总体情况", title="乙镇2024年政府信息公开工作年度报告")
    found = identify_document(doc)
    assert (found.unit, found.year) == ("", None)
    assert found.conflict == ("乙镇2024年政府信息公开工作年度报告", "甲镇2023年政府信息公开工作年度报告")
    # the same unit printed with its parent area and another ending is one title, not two
    same = page("淮安市洪泽区人民政府2024年政府信息公开工作年度报告", title="洪泽区政府2024年政府信息公开工作年度报告")
    assert identify_document(same) == Identified("洪泽区政府", 2024)


def test_two_different_titles_give_one_d_identity_naming_both(tmp_path):
    fixture = Path(__file__).parent / "fixtures" / "documents" / "rowspan_22.html"
    html = fixture.read_text(encoding="utf-8").replace(
        "<title>乌伊岭镇2024年政府信息公开工作年度报告</title>", "<title>乙镇2024年政府信息公开工作年度报告</title>"
    )
    path = tmp_path / "report.html"
    path.write_text(
        html.replace('<div class="article">', '<div class="article"><h1>甲镇2023年政府信息公开工作年度报告</h1>'),
        encoding="utf-8",
    )
    rec = read_return(path)
    identity = [f for f in rec.findings if f.rule == "D-IDENTITY"]
    assert len(identity) == 1 and rec.identity is None
    assert "“乙镇2024年政府信息公开工作年度报告”" in identity[0].message
    assert "“甲镇2023年政府信息公开工作年度报告”" in identity[0].message

    given = read_return(path, options=ReadOptions(unit_name="甲镇", year=2023))
    assert given.identity is not None and (given.identity.unit_name, given.identity.year) == ("甲镇", 2023)
    assert not [f for f in given.findings if f.rule == "D-IDENTITY"]
