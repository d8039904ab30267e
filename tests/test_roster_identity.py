"""Identity is never guessed (issue 22, item 2): a document is a roster unit only by its name or an
alias the roster lists, and the consolidating unit's own report (or a higher unit's) is never summed
into its total.

The county's own report is made as a county makes it: the sample inbox consolidated, the summary
published as a web page with ``publish``, the page put back in the inbox."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers.returns import make_return

from xltool.app.cli import main
from xltool.errors import ConsolidationRefused, RosterError
from xltool.model import Identity, Unit
from xltool.roster import read_roster
from xltool.validate import self_relation, validate_paths
from xltool.write.consolidation import consolidate
from xltool.write.publish import publish

REPO = Path(__file__).resolve().parents[1]
SAMPLE_INBOX = REPO / "samples" / "汤旺县" / "2024" / "收件箱"
ROSTER_CSV = REPO / "samples" / "data" / "汤旺县-名单.csv"
COUNTY = Unit("230723", "汤旺县", "县")
CITY = Unit("230700", "伊春市", "市")
OTHER_COUNTY = Unit("230722", "嘉荫县", "县")
TOWN = Unit("230723101", "乌伊岭镇", "乡镇")
OFFICE = "县政府办-政府信息公开统计表-最终版.xlsx"


@pytest.fixture(scope="module")
def county_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """The county's 2024 report as published (a web page) and the totals it was made from."""
    tmp = tmp_path_factory.mktemp("county")
    roster = read_roster(ROSTER_CSV)
    made = consolidate([SAMPLE_INBOX], tmp / "汇总.xlsx", COUNTY, roster=roster, exclude_invalid=True)
    published = publish([tmp / "汇总.xlsx"], tmp / "发布", docx=False)
    (page,) = [p for p in published.paths if p.name == "汤旺县2024年政府信息公开工作年度报告.html"]
    return page, made.totals


def _inbox_with(tmp_path: Path, page: Path) -> Path:
    inbox = tmp_path / "收件箱"
    shutil.copytree(SAMPLE_INBOX, inbox)
    shutil.copy2(page, inbox / page.name)
    return inbox


def test_the_county_report_in_the_inbox_is_not_the_office(tmp_path, county_report):
    page, _ = county_report
    inbox = _inbox_with(tmp_path, page)
    v = validate_paths([inbox], roster=read_roster(ROSTER_CSV))
    rec = next(r for r in v.records if r.path.name == page.name)
    assert rec.identity is not None and rec.identity.unit_name == "汤旺县"
    assert rec.identity.unit_code != "230723001" and rec.identity.unit_code == ""
    (unknown,) = [f for f in v.report.findings if f.file.endswith(page.name)]
    assert unknown.rule == "R-UNKNOWN" and unknown.severity == "error"
    # both names, and the fixes
    assert "“汤旺县”" in unknown.message and "“汤旺县人民政府办公室”（230723001）" in unknown.message
    assert "别名（aliases）" in unknown.message and "--unit-code 230723001" in unknown.message
    # the office's own return is no duplicate of it
    assert not [f for f in v.report.findings if f.rule == "R-DUPLICATE"]
    assert v.statuses[str(inbox / OFFICE)] == "passed"


def test_the_county_report_in_the_inbox_is_not_consolidated(tmp_path, county_report):
    page, totals = county_report
    inbox = _inbox_with(tmp_path, page)
    roster = read_roster(ROSTER_CSV)
    with pytest.raises(ConsolidationRefused, match="本级单位汤旺县本身的报表"):
        consolidate([inbox], tmp_path / "a.xlsx", COUNTY, roster=roster)
    assert not (tmp_path / "a.xlsx").exists()

    made = consolidate([inbox], tmp_path / "b.xlsx", COUNTY, roster=roster, exclude_invalid=True)
    assert made.totals == totals  # 表三 D5 and every other cell: the units' returns alone
    (left_out,) = [s for s in made.excluded if s.file == page.name]
    assert "不能计入汤旺县（230723）的汇总" in left_out.reason
    assert all(s.unit_code != "230723001" or s.file == OFFICE for s in made.included)
    assert made.report.findings and any(f.rule == "R-SELF" for f in made.report.findings)

    # a validation made without knowing the consolidating unit (as the demo and the page do)
    v = validate_paths([inbox], roster=roster)
    assert not any(f.rule == "R-SELF" for f in v.report.findings)
    again = consolidate(v, tmp_path / "c.xlsx", COUNTY, roster=roster, exclude_invalid=True)
    assert again.totals == totals and page.name in {s.file for s in again.excluded}


def test_the_command_line_refuses_and_names_it(tmp_path, county_report):
    page, _ = county_report
    inbox = _inbox_with(tmp_path, page)
    out = tmp_path / "汇总.xlsx"
    args = ["consolidate", str(inbox), "--out", str(out), "--unit-code", "230723", "--unit-name", "汤旺县"]
    result = CliRunner().invoke(main, [*args, "--roster", str(ROSTER_CSV), "--exclude-invalid"])
    assert result.exit_code == 0, result.output
    assert f"未汇总：{page.name}（文档中的单位“汤旺县”是本级单位汤旺县本身的报表" in result.output


def test_a_return_of_the_unit_itself_or_above_is_never_summed(tmp_path):
    inbox = tmp_path / "收件箱"
    town = make_return(inbox, TOWN)
    own = make_return(inbox, COUNTY)  # last year's summary, or the county's own template
    city = make_return(inbox, CITY)
    other = make_return(inbox, OTHER_COUNTY)
    made = consolidate([inbox], tmp_path / "汇总.xlsx", COUNTY, exclude_invalid=True)
    assert [s.file for s in made.included] == [town.name]
    reasons = {s.file: s.reason for s in made.excluded}
    assert "本级单位汤旺县本身" in reasons[own.name]
    assert "上级单位（市）" in reasons[city.name]
    assert "与本级同级的单位（县）" in reasons[other.name]
    # the city consolidating the counties: they are below it
    up = consolidate([other], tmp_path / "市.xlsx", CITY)
    assert [s.unit_code for s in up.included] == [OTHER_COUNTY.code]


def test_self_relation_by_code_name_and_level():
    def ident(code: str, name: str, level: str = "") -> Identity:
        return Identity("f", "1", "x", code, name, level, 2024)

    assert self_relation(ident("", "汤旺县人民政府"), COUNTY) == "本级单位汤旺县本身"
    assert self_relation(ident("", "汤旺县政府"), COUNTY) == "本级单位汤旺县本身"
    assert self_relation(ident("230723", "别的名字", "县"), COUNTY) == "本级单位汤旺县本身"
    assert self_relation(ident("", "汤旺县人民政府办公室"), COUNTY) == ""
    assert self_relation(ident("230723001", "汤旺县人民政府办公室", "部门"), COUNTY) == ""
    assert self_relation(ident("", "伊春市"), COUNTY) == ""  # no level known: the roster decides (R-UNKNOWN)
    dept = Unit("230723005", "汤旺县教育局", "部门")  # a department consolidating its own units
    assert self_relation(ident("230723005001", "某学校", "部门"), dept) == ""


def test_roster_reads_aliases(tmp_path):
    csv = tmp_path / "名单.csv"
    csv.write_text(
        "代码,名称,层级,别名\n"
        "230723004,汤旺县住房和城乡建设局,部门,住建局、住房和城乡建设局\n"
        '230723101,乌伊岭镇,乡镇,"汤旺县乌伊岭镇;乌伊岭镇政府, 乌伊岭|乌伊岭镇"\n'
        "230723102,汤旺河镇,乡镇,\n",
        encoding="utf-8",
    )
    units = read_roster(csv)
    assert units[0].aliases == ("住建局", "住房和城乡建设局")
    assert units[1].aliases == ("汤旺县乌伊岭镇", "乌伊岭镇政府", "乌伊岭", "乌伊岭镇")
    assert units[2].aliases == ()
    assert units[0] == Unit("230723004", "汤旺县住房和城乡建设局", "部门")  # a unit is its code, name, level
    assert read_roster(ROSTER_CSV)[0].aliases == ("汤旺县乌伊岭镇",)


def test_roster_refuses_an_alias_two_units_share(tmp_path):
    csv = tmp_path / "名单.csv"
    csv.write_text(
        "code,name,level,aliases\n230723001,汤旺县人民政府办公室,部门,政府办\n230723002,汤旺县政府办公室,部门,政府办\n",
        encoding="utf-8",
    )
    with pytest.raises(RosterError, match="第 3 行的别名“政府办”与第 2 行的别名“政府办”"):
        read_roster(csv)
    csv.write_text("code,name,level,aliases\n1,乌伊岭镇,乡镇,\n2,汤旺河镇,乡镇,乌伊岭镇人民政府\n", encoding="utf-8")
    with pytest.raises(RosterError, match="第 3 行的别名“乌伊岭镇人民政府”与第 2 行的名称“乌伊岭镇”"):
        read_roster(csv)


def test_an_alias_makes_a_document_match(tmp_path, county_report):
    """The county's page matched to a roster that lists the county itself under another name."""
    page, _ = county_report
    roster = [*read_roster(ROSTER_CSV), Unit("230723", "汤旺县人民政府", "县")]
    v = validate_paths([page], roster=roster)
    assert v.records[0].identity.unit_code == "230723"  # 汤旺县 = 汤旺县人民政府: the same organ
    roster = [*read_roster(ROSTER_CSV), Unit("230723999", "汤旺县统计汇总", "县", ("汤旺县",))]
    v = validate_paths([page], roster=roster)
    assert v.records[0].identity.unit_code == "230723999"
