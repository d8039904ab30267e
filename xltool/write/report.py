"""A validation Report for people: the terminal (rich), JSON, and an Excel workbook.

JSON is exactly ``Report.to_dict()``: the CLI adds nothing to what the library found.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from xltool.findings import NOT_READ, SENT_UNREADABLE, UNREADABLE
from xltool.model import ERROR, SEVERITY_ZH, STATUS_ZH, Finding, Report
from xltool.text import clean_text
from xltool.write.printing import print_setup, row_height

if TYPE_CHECKING:
    from rich.console import Console

PROGRESS_MIN_FILES = 20
"""A progress bar is shown (on stderr) from this many files on."""

MISSING = "未报送"
_STATUS_STYLE = {
    STATUS_ZH["passed"]: "green",
    STATUS_ZH["warnings"]: "yellow",
    STATUS_ZH["errors"]: "bold red",
    SENT_UNREADABLE: "bold red",
    UNREADABLE: "bold red",
    NOT_READ: "yellow",
    MISSING: "yellow",
}


def report_to_json(report: Report) -> str:
    """The report as JSON text, Chinese kept readable."""
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2)


def cells_text(cells: Sequence[str], limit: int = 4) -> str:
    """A1 cells for a narrow column: all of them when few, else first…last and the count."""
    if len(cells) <= limit:
        return " ".join(cells)
    return f"{cells[0]}…{cells[-1]}（{len(cells)} 格）"


FULL_SUMMARY_MAX = 100
"""Above this many rows the terminal summary lists only files with findings (and units not sent)."""


def summary_rows(report: Report) -> list[dict[str, Any]]:
    """One row per workbook, then one per roster unit that sent nothing."""
    rows = [
        {
            "unit_code": w.unit_code,
            "unit_name": w.unit_name,
            "unit_level": w.unit_level,
            "year": w.year,
            "file": w.file,
            "status": w.status_zh,
            "style": _STATUS_STYLE[w.status_zh],
            "errors": w.errors,
            "warnings": w.warnings,
        }
        for w in report.workbooks
    ]
    for f in report.findings:
        if f.rule == "R-MISSING":
            rows.append(
                {
                    "unit_code": f.unit_code,
                    "unit_name": f.unit_name,
                    "unit_level": "",
                    "year": None,
                    "file": "",
                    "status": MISSING,
                    "style": _STATUS_STYLE[MISSING],
                    "errors": 0,
                    "warnings": 1,
                }
            )
    return sorted(rows, key=lambda r: (not r["unit_code"], r["unit_code"], r["file"]))


# --------------------------------------------------------------------------- terminal


def print_report(report: Report, console: Console) -> None:
    """Summary table per unit, then the findings grouped by file."""
    _print_summary(report, console)
    groups: dict[str, list[Finding]] = {}
    for f in report.findings:
        groups.setdefault(f.file, []).append(f)
    for file, findings in groups.items():
        console.print(_file_table(file, findings))
    n_err = sum(1 for f in report.findings if f.severity == ERROR)
    n_warn = len(report.findings) - n_err
    verdict = "[bold green]全部通过[/]" if report.valid else "[bold red]有错误[/]"
    by_status = {s: sum(1 for w in report.workbooks if w.status == s) for s in STATUS_ZH}
    files = "，".join(f"{STATUS_ZH[s]} {n} 个" for s, n in by_status.items() if n)
    console.print(f"{verdict}：校验 {len(report.workbooks)} 个文件（{files}）；错误 {n_err} 处，警告 {n_warn} 处。")


def _print_summary(report: Report, console: Console) -> None:
    """One row per file; a province's batch lists what needs attention and counts the rest."""
    from rich.table import Table
    from rich.text import Text

    summary = Table(title="校验结果", title_justify="left", show_lines=False)
    columns: tuple[tuple[str, Literal["left", "right"]], ...] = (
        ("单位代码", "left"),
        ("单位名称", "left"),
        ("文件", "left"),
        ("状态", "left"),
        ("错误数", "right"),
        ("警告数", "right"),
    )
    for name, justify in columns:
        summary.add_column(name, justify=justify, overflow="fold")
    rows = summary_rows(report)
    passed_hidden = 0
    if len(rows) > FULL_SUMMARY_MAX:
        shown = [r for r in rows if r["status"] != STATUS_ZH["passed"]]
        passed_hidden = len(rows) - len(shown)
        rows = shown
    for row in rows:
        summary.add_row(
            Text(row["unit_code"]),
            Text(row["unit_name"]),
            Text(row["file"] or "—"),
            Text(row["status"], style=row["style"]),
            str(row["errors"]),
            str(row["warnings"]),
        )
    console.print(summary)
    if passed_hidden:
        console.print(
            f"另有 {passed_hidden} 个文件通过，未逐一列出（完整清单见 --report 校验报告.xlsx 或 --format json）。"
        )


def _file_table(file: str, findings: Sequence[Finding]) -> Any:
    """The findings of one file (the roster's, without a file), each at its sheet and cells."""
    from rich.table import Table
    from rich.text import Text

    first = findings[0]
    who = f"{first.unit_name}（{first.unit_code}）" if first.unit_code else ""
    title = f"{file}  {who}" if file else "报送名单核对"
    table = Table(title=Text(title, style="bold"), title_justify="left", show_lines=True)
    table.add_column("工作表", overflow="fold", max_width=10)
    table.add_column("单元格", overflow="fold", max_width=16)
    table.add_column("规则", no_wrap=True)
    table.add_column("级别", no_wrap=True)
    table.add_column("说明", overflow="fold", min_width=30, ratio=1)
    for f in findings:
        style = "red" if f.severity == ERROR else "yellow"
        table.add_row(
            Text(f.sheet or f.table or "—"),  # a web page or Word file: the table, and where in it
            cells_text(f.cells) or Text(f.location or "—"),
            Text(f.rule),
            Text(SEVERITY_ZH[f.severity], style=style),
            Text(f.message),
        )
    return table


class ReadProgress:
    """progress(done, total, file) for validate_paths: a bar on stderr once there are many files."""

    def __init__(self, console: Console | None = None, minimum: int = PROGRESS_MIN_FILES):
        self.console = console
        self.minimum = minimum
        self._progress: Any = None
        self._task: Any = None

    def __call__(self, done: int, total: int, file: str) -> None:
        if total < self.minimum:
            return
        if self._progress is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            console = self.console or Console(stderr=True)
            self._progress = Progress(
                TextColumn("读取报表"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("read", total=total)
        self._progress.update(self._task, completed=done)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __enter__(self) -> Callable[[int, int, str], None]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --------------------------------------------------------------------------- workbook

SUMMARY_SHEET = "单位汇总"
FINDINGS_SHEET = "问题清单"
_SUMMARY_HEADERS = (
    ("单位代码", 12),
    ("单位名称", 22),
    ("层级", 7),
    ("年度", 7),
    ("文件", 44),
    ("状态", 9),
    ("错误数", 8),
    ("警告数", 8),
)
_FINDING_HEADERS = (
    ("文件", 26),
    ("单位代码", 11),
    ("单位名称", 16),
    ("工作表", 10),
    ("单元格", 12),
    ("项目", 20),
    ("栏目", 10),
    ("规则", 11),
    ("级别", 6),
    ("说明", 44),
)
"""Both sheets print on A4 landscape one page wide (the long texts wrap, each row as tall as they need)."""


def write_report_workbook(report: Report, path: str | Path, *, overwrite: bool = True) -> Path:
    """单位汇总 (one row per unit) and 问题清单 (one row per finding), filterable, header frozen.
    ``overwrite=False``: never replace a file (OutputExists; ``files.claim_output`` checks first)."""
    from xltool.write.template import write_workbook

    def draw(wb: Any) -> None:
        header = wb.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"}
        )
        cell = {"valign": "top", "text_wrap": True, "border": 1}  # ruled, as it prints
        text = wb.add_format(cell)
        wrap = text
        red = wb.add_format({**cell, "font_color": "#9C0006", "bg_color": "#FFC7CE"})
        yellow = wb.add_format({**cell, "font_color": "#9C5700", "bg_color": "#FFEB9C"})
        green = wb.add_format({**cell, "font_color": "#006100", "bg_color": "#C6EFCE"})
        summary_widths = [w for _name, w in _SUMMARY_HEADERS]
        finding_widths = [w for _name, w in _FINDING_HEADERS]
        status_fmt = {
            STATUS_ZH["passed"]: green,
            STATUS_ZH["warnings"]: yellow,
            STATUS_ZH["errors"]: red,
            SENT_UNREADABLE: red,
            UNREADABLE: red,
            NOT_READ: yellow,
            MISSING: yellow,
        }

        ws = wb.add_worksheet(SUMMARY_SHEET)
        rows = summary_rows(report)
        _header(ws, _SUMMARY_HEADERS, header)
        for r, row in enumerate(rows, start=1):
            _text(ws, r, 0, row["unit_code"], text)
            _text(ws, r, 1, row["unit_name"], text)
            _text(ws, r, 2, row["unit_level"], text)
            if row["year"] is None:
                ws.write_blank(r, 3, None, text)
            else:
                ws.write_number(r, 3, row["year"], text)
            _text(ws, r, 4, row["file"], text)
            ws.write_string(r, 5, row["status"], status_fmt[row["status"]])
            ws.write_number(r, 6, row["errors"], text)
            ws.write_number(r, 7, row["warnings"], text)
            texts = (row["unit_code"], row["unit_name"], row["unit_level"], "", row["file"], row["status"])
            ws.set_row(r, _height(texts, summary_widths))
        ws.autofilter(0, 0, max(len(rows), 1), len(_SUMMARY_HEADERS) - 1)
        ws.freeze_panes(1, 0)
        print_setup(ws, (0, 0))

        ws = wb.add_worksheet(FINDINGS_SHEET)
        _header(ws, _FINDING_HEADERS, header)
        for r, f in enumerate(report.findings, start=1):
            values = (
                f.file,
                f.unit_code,
                f.unit_name,
                f.sheet or f.table,
                "、".join(f.cells) or f.location,
                f.row_label,
                f.col_label,
                f.rule,
            )
            for c, value in enumerate(values):
                _text(ws, r, c, value, text)
            ws.write_string(r, 8, SEVERITY_ZH[f.severity], red if f.severity == ERROR else yellow)
            _text(ws, r, 9, f.message, wrap)
            ws.set_row(r, _height((*values, SEVERITY_ZH[f.severity], f.message), finding_widths))
        ws.autofilter(0, 0, max(len(report.findings), 1), len(_FINDING_HEADERS) - 1)
        ws.freeze_panes(1, 0)
        print_setup(ws, (0, 0))

    return write_workbook(path, draw, exclusive=not overwrite)


def _header(ws: Any, headers: Sequence[tuple[str, float]], fmt: Any) -> None:
    for c, (name, width) in enumerate(headers):
        ws.write_string(0, c, name, fmt)
        ws.set_column(c, c, width)
    ws.set_row(0, row_height(headers))


def _height(texts: Sequence[str], widths: Sequence[float]) -> float:
    """The height of a row whose texts wrap in their columns."""
    return row_height(zip((clean_text(t or "") for t in texts), widths, strict=False))


def _text(ws: Any, row: int, col: int, value: str, fmt: Any) -> None:
    """Text always as text (never a formula or number); empty as a blank cell."""
    value = clean_text(value)
    if value:
        ws.write_string(row, col, value, fmt)
    else:
        ws.write_blank(row, col, None, fmt)
