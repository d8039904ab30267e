"""Run a whole reporting year on the bundled samples: what a county does each January.

下发模板 → 收集 → 校验 → 退回修改 → 汇总 → 上报 → 发布 → 读取已公开的报告 → 与上年对比, into a new folder, never
overwriting anything.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from xltool.catalogue import DOCUMENTS, group_of
from xltool.errors import UsageError
from xltool.model import Unit

CITY = Unit("230700", "伊春市", "市")
YEAR = 2024
DEFAULT_DIR = "xltool-演示"

Say = Callable[[str], None]


@dataclass
class DemoResult:
    folder: Path
    steps: list[tuple[str, Path]] = field(default_factory=list)  # (what to open it for, path)


def fresh_folder(target: str | Path | None) -> Path:
    """The folder to run in: the one given (must be new or empty), or a new one under the current folder."""
    if target is not None:
        path = Path(target)
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise UsageError(f"演示文件夹已存在且不为空：{path}（演示不会覆盖任何文件，请换一个文件夹）")
        path.mkdir(parents=True, exist_ok=True)
        return path
    base = Path.cwd() / DEFAULT_DIR
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{DEFAULT_DIR}-{n}")
    path.mkdir(parents=True)
    return path


def run_demo(target: str | Path | None = None, say: Say = print) -> DemoResult:
    """Generate templates, validate the sample inbox, annotate, consolidate two counties, roll up the city,
    publish the county's and a town's reports."""
    from samples import SAMPLES_DIR
    from xltool.definition import get_format
    from xltool.roster import read_roster
    from xltool.validate import validate_paths
    from xltool.write.annotate import annotate
    from xltool.write.consolidation import consolidate
    from xltool.write.publish import publish
    from xltool.write.report import write_report_workbook
    from xltool.write.template import write_templates

    fmt = get_format()
    root = fresh_folder(target)
    result = DemoResult(root)
    data = SAMPLES_DIR / "data"
    county_outputs: list[Path] = []
    for county, roster_file, previous in (
        (Unit("230723", "汤旺县", "县"), "汤旺县-名单.csv", SAMPLES_DIR / "汤旺县" / "2023"),
        (Unit("230722", "嘉荫县", "县"), "嘉荫县-名单.csv", None),
    ):
        say(f"\n【{county.name}】")
        folder = root / county.name
        roster_path = folder / "名单.csv"
        folder.mkdir()
        shutil.copy2(data / roster_file, roster_path)
        roster = read_roster(roster_path)

        templates = write_templates(fmt, roster, YEAR, folder / "1-下发模板")
        say(f"1 下发模板：为名单中的 {len(templates)} 个单位生成了 {YEAR} 年度填报模板 → {folder / '1-下发模板'}")
        result.steps.append((f"{county.name}：乡镇填报时看到的模板", templates[0]))

        inbox = folder / "2-收件箱"
        shutil.copytree(SAMPLES_DIR / county.name / str(YEAR) / "收件箱", inbox)
        n_in = len(list(inbox.iterdir()))
        say(f"2 收集：收件箱中有 {n_in} 份报回的报表（样例数据）→ {inbox}")

        prev = [previous] if previous else []
        validation = validate_paths([inbox], roster=roster, previous=prev, year=YEAR)
        report = validation.report
        check_dir = folder / "3-校验"
        check_dir.mkdir()
        report_path = write_report_workbook(report, check_dir / f"{county.name}{YEAR}年度校验报告.xlsx")
        counts = {s: sum(1 for w in report.workbooks if w.status == s) for s in ("passed", "warnings", "errors")}
        say(
            f"3 校验：通过 {counts['passed']} 份，有警告 {counts['warnings']} 份，有错误 {counts['errors']} 份"
            + ("（已用上年度汇总表做跨年度核对）" if previous else "")
        )
        for w in report.workbooks:
            if w.status == "errors":
                first = next(f for f in report.findings if f.file == w.file and f.severity == "error")
                say(f"    ✗ {w.unit_name}：{first.message}")
        say(f"  校验报告 → {report_path}")
        result.steps.append((f"{county.name}：校验报告（每个问题一行）", report_path))

        annotated = annotate(report, validation.records, folder / "4-退回修改")
        if annotated:
            say(
                f"4 退回修改：为有问题的报表生成了 {len(annotated)} 份批注副本（问题单元格标红并附说明），发回单位改正 → {folder / '4-退回修改'}"
            )
            result.steps.append((f"{county.name}：发回单位的批注副本", annotated[0]))

        out = folder / "5-汇总" / f"{county.name}{YEAR}年度政府信息公开统计汇总.xlsx"
        out.parent.mkdir()
        done = consolidate(validation, out, county, roster=roster, previous=prev, exclude_invalid=True, year=YEAR)
        say(
            f"5 汇总：汇总了 {len(done.included)} 份有效报表"
            + (f"，排除 {len(done.excluded)} 份有错误的报表" if done.excluded else "")
            + f" → {out}"
        )
        if done.missing:
            say(f"    名单中未报送：{'、'.join(u.name for u in done.missing)}")
        if county.code == "230723":
            say("    乌伊岭镇的数字取自其公开发布的 2024 年度报告（表内全部为 0），已计入汇总表的“明细”")
        county_outputs.append(out)
        result.steps.append((f"{county.name}：县级汇总表（含明细、图表、来源）", out))

    say(f"\n【{CITY.name}】")
    city_out = root / CITY.name / f"{CITY.name}{YEAR}年度政府信息公开统计汇总.xlsx"
    city_out.parent.mkdir()
    city = consolidate(county_outputs, city_out, CITY, year=YEAR)
    say(f"6 上报：两个县的汇总表本身就是合格的报表，再汇总为{CITY.name}的汇总表 → {city_out}")
    t3 = city.totals
    say(
        f"    {CITY.name}：本年新收申请 {t3['t3.new.total']} 件，行政许可 {t3['t2_5.licensing.decisions']} 件，"
        f"行政处罚 {t3['t2_6.penalty.decisions']} 件"
    )
    result.steps.append((f"{CITY.name}：市级汇总表", city_out))

    county_dir = root / "汤旺县"
    town = county_dir / "2-收件箱" / "乌伊岭镇2024年政务公开统计表.xlsx"
    published = publish([county_outputs[0], town], county_dir / "7-发布")
    say(
        f"\n7 发布：汤旺县的汇总表和乌伊岭镇的报表直接生成年度报告的网页和 Word 文件（表二至表四就是校验过的数字，"
        f"不必再录入）→ {county_dir / '7-发布'}"
    )
    for path in published.paths:
        say(f"    {path.name}")
    docx = next(p for p in published.paths if p.suffix == ".docx" and p.name.startswith("汤旺县"))
    result.steps.append(("汤旺县：可公开的年度报告（Word，一、五、六部分的文字待填写）", docx))

    # what a unit published is read with the same rules: 乌伊岭镇's report, as text extracted from its PDF
    from xltool.write.importer import import_documents

    seed = data / "汤旺县乌伊岭镇2024年政府信息公开工作年度报告（PDF提取文本）.txt"
    imported = import_documents([seed], county_dir / "8-导入", roster=read_roster(county_dir / "名单.csv"))
    rec = imported.validation.records[0]
    sent = validate_paths([town]).records[0]
    placed = [cid for cid in fmt.cells if cid in rec.positions and rec.values[cid] is not None]
    same = all(rec.values[cid] == sent.values[cid] for cid in placed)
    unread = len([f for f in imported.validation.report.findings if group_of(f.rule) == DOCUMENTS])
    say(
        f"\n8 读取已公开的报告：乌伊岭镇公开的 2024 年度报告（PDF 提取的文本）导入为工作簿，读出 {len(placed)} 个数，"
        + ("与报回的报表一致" if same else "与报回的报表不一致")
        + (f"；{unread} 处无法按行名定位，已逐条列出" if unread else "")
        + f" → {county_dir / '8-导入'}"
    )
    for path in imported.written.values():
        result.steps.append(("乌伊岭镇：从公开报告导入的工作簿", path))

    _compare_years(county_dir, SAMPLES_DIR / "汤旺县" / "2023", county_outputs[0], result, say)

    say("\n打开以下文件查看：")
    for what, path in result.steps:
        say(f"  {what}：{path}")
    return result


def _compare_years(county_dir: Path, last_year: Path, this_year: Path, result: DemoResult, say: Say) -> None:
    """Step 9: this year's county summary beside last year's, unit by unit (its 明细 holds the units)."""
    from xltool.compare import compare_paths
    from xltool.write.compare_book import write_compare_book
    from xltool.write.compare_page import write_compare_page

    comparison = compare_paths([last_year], [this_year])
    out = county_dir / "9-对比" / f"汤旺县{YEAR - 1}-{YEAR}年度对比.xlsx"
    out.parent.mkdir()
    write_compare_book(comparison, comparison.format, out)
    page = write_compare_page(comparison, comparison.format, out.with_suffix(".html"))
    large = sum(len(u.large) for u in comparison.units)
    say(
        f"\n9 与上年对比：{len(comparison.units)} 个单位逐格对比 {YEAR - 1} 与 {YEAR} 年，变化很大的 {large} 格已标出"
        + (
            f"；只有上年的 {len(comparison.only_last)} 个、只有本年的 {len(comparison.only_this)} 个"
            if comparison.only_last or comparison.only_this
            else ""
        )
        + f" → {out.parent}"
    )
    result.steps.append(("汤旺县：与上年对比（工作簿，变化标色，附图表）", out))
    result.steps.append(("汤旺县：与上年对比（网页）", page))
