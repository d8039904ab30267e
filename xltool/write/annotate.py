"""Mark up a copy of each returned workbook for the unit that sent it: the cells of every finding
highlighted with a comment, and a first sheet 校验结果 listing everything. The original is never
written to; only .xlsx/.xlsm can be copied this way (openpyxl cannot write .xls or .ods).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from xltool.errors import UsageError, os_reason
from xltool.model import ERROR, SEVERITY_ZH, Finding, Report
from xltool.text import clean_text
from xltool.write.files import atomic_write, output_set, same_file
from xltool.write.printing import A4, FONT_SIZE, SIDE_MARGIN, row_height

RESULT_SHEET = "校验结果"
SUFFIX = "_校验意见"
AUTHOR = "xltool"
ERROR_FILL = "FFFF7C80"  # red
WARNING_FILL = "FFFFC000"  # orange
ANNOTATABLE = (".xlsx", ".xlsm")


class Annotated(list[Path]):
    """The paths written (a list), plus ``skipped``: file -> why it has no annotated copy."""

    def __init__(self, paths: Sequence[Path] = (), skipped: dict[str, str] | None = None):
        super().__init__(paths)
        self.skipped: dict[str, str] = dict(skipped or {})


def annotate(report: Report, records: Sequence[Any], out_dir: str | Path) -> Annotated:
    """One annotated copy per workbook with findings, named ``<stem>_校验意见.xlsx`` (or .xlsm); a
    name already in ``out_dir`` gets " (2)" (never replaced), and the copies appear together or not at
    all (``files.output_set``)."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{out_dir}: 已存在同名文件，批注输出位置应为文件夹")
    by_file: dict[str, list[Finding]] = {}
    for f in report.findings:
        if f.file:
            by_file.setdefault(f.file, []).append(f)
    written = Annotated()
    staged: list[Path] = []
    with output_set(out_dir) as out:
        for rec in records:
            findings = by_file.get(rec.file)
            if not findings:
                continue
            suffix = rec.path.suffix.lower()
            if suffix not in ANNOTATABLE:
                written.skipped[rec.file] = f"{suffix} 格式的文件不能生成批注副本，请查看校验报告中的问题清单"
                continue
            if _inflated_size(rec.path) > ANNOTATE_MAX_BYTES:  # openpyxl holds every cell: GBs for a huge sheet
                written.skipped[rec.file] = "表格内容过多（XML 解压后超过 5 MB），未生成批注副本"
                continue
            ext = ".xlsm" if suffix == ".xlsm" else ".xlsx"
            target = out.path(f"{rec.path.stem}{SUFFIX}{ext}")
            try:
                annotate_file(rec.path, findings, target)
            except UsageError:
                raise
            except Exception as exc:  # a file openpyxl cannot load: say so, keep going
                written.skipped[rec.file] = f"无法生成批注副本（{type(exc).__name__}）"
                continue
            staged.append(target)
    written.extend(out.placed[p] for p in staged)
    return written


ANNOTATE_MAX_BYTES = 5 * 1024 * 1024
"""XML of a filled template: under 1 MB; openpyxl needs about 1 KB per cell, 5 MB of XML about 100 MB."""


def _inflated_size(path: Path) -> int:
    """The sum of the declared sizes of the XML parts (pictures do not count)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            return sum(i.file_size for i in z.infolist() if i.filename.lower().endswith(".xml"))
    except (OSError, zipfile.BadZipFile, ValueError):
        return 0  # not a zip: openpyxl will say so


def annotate_file(src: Path, findings: Sequence[Finding], target: Path) -> Path:
    """Write the marked-up copy of ``src`` to ``target`` (never to ``src``)."""
    from openpyxl import load_workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    if same_file(target, src):
        raise UsageError(f"批注副本不能覆盖原文件：{src}")
    keep_vba = src.suffix.lower() == ".xlsm"
    wb = load_workbook(src, keep_vba=keep_vba, rich_text=False)
    fills = {ERROR: PatternFill("solid", fgColor=ERROR_FILL), "warning": PatternFill("solid", fgColor=WARNING_FILL)}

    # cell -> (worst severity, messages), per sheet; merged cells collapse to their top-left
    marks: dict[tuple[str, str], tuple[str, list[str]]] = {}
    for f in findings:
        if not f.sheet or f.sheet not in wb.sheetnames:
            continue
        ws = wb[f.sheet]
        for ref in f.cells:
            coord = _top_left(ws, ref.split(":")[0])
            severity, messages = marks.get((f.sheet, coord), (f.severity, []))
            if f.severity == ERROR:
                severity = ERROR
            messages.append(f"【{SEVERITY_ZH[f.severity]} {f.rule}】{f.message}")
            marks[(f.sheet, coord)] = (severity, messages)
    for (sheet, coord), (severity, messages) in marks.items():
        cell = wb[sheet][coord]
        cell.fill = fills[severity]
        text = clean_text("\n".join(dict.fromkeys(messages)))
        comment = Comment(text, AUTHOR)
        comment.width = 360
        comment.height = min(600, 40 + 36 * len(messages))
        cell.comment = comment

    _add_result_sheet(wb, findings)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        atomic_write(target, wb.save)
    except OSError as exc:
        raise UsageError(f"{target}: 无法写入：{os_reason(exc)}") from None
    return target


def _top_left(ws: Any, coord: str) -> str:
    for rng in ws.merged_cells.ranges:
        if coord in rng:
            return cast(str, rng.start_cell.coordinate)
    return coord


def _add_result_sheet(wb: Any, findings: Sequence[Finding]) -> None:
    """A new first sheet listing every finding, so those without cells are seen too; printed on A4
    landscape one page wide, the header on every page, each row as tall as its wrapped texts."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.worksheet.properties import PageSetupProperties

    ws = wb.create_sheet(RESULT_SHEET, 0)
    headers = (("工作表", 16), ("单元格", 18), ("规则", 12), ("级别", 6), ("说明", 70))
    widths = [w for _name, w in headers]
    bold = Font(bold=True, size=FONT_SIZE)
    plain = Font(size=FONT_SIZE)
    head_fill = PatternFill("solid", fgColor="FFDDEBF7")
    wrap = Alignment(wrap_text=True, vertical="top")
    thin = Side(style="thin")
    ruled = Border(left=thin, right=thin, top=thin, bottom=thin)
    for c, (name, width) in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=c, value=name)
        cell.font = bold
        cell.fill = head_fill
        cell.alignment = wrap
        cell.border = ruled
        ws.column_dimensions[cell.column_letter].width = width
    ws.row_dimensions[1].height = row_height(zip((n for n, _w in headers), widths, strict=True))
    for r, f in enumerate(findings, start=2):
        row = [
            clean_text(v)
            for v in (f.sheet or "（整个文件）", "、".join(f.cells), f.rule, SEVERITY_ZH[f.severity], f.message)
        ]
        for c, value in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c)
            cell.value = value
            cell.data_type = "s"  # text stays text, even "=..." or "001"
            cell.font = plain
            cell.alignment = wrap
            cell.border = ruled
        ws.row_dimensions[r].height = row_height(zip(row, widths, strict=True))
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:E{max(2, len(findings) + 1)}"
    ws.page_setup.paperSize = A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_margins.left = ws.page_margins.right = SIDE_MARGIN
    ws.print_title_rows = "1:1"
    ws.oddFooter.left.text = "&A"
    ws.oddFooter.right.text = "第 &P 页，共 &N 页"
    for other in wb.worksheets:
        other.sheet_view.tabSelected = False
    wb.active = 0
    ws.sheet_view.tabSelected = True
