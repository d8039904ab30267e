"""Which files a run reads: the workbooks and documents named, or found in folders; a finding for
each named file of a kind xltool does not read."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from xltool.errors import UsageError
from xltool.findings import Finding
from xltool.model import display_path
from xltool.read.sources import SOURCE_SUFFIXES, TEXT_SUFFIXES

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")


def discover(
    paths: Iterable[str | Path], *, name: Callable[[Path], str] = display_path
) -> tuple[list[Path], list[Finding]]:
    """Workbooks and documents (web pages, Word files) named or found (recursively) in folders, sorted;
    findings for named files of other kinds (``name``: how a file is named in them)."""
    found: dict[Path, Path] = {}
    findings: list[Finding] = []
    folders: dict[Path, Path] = {}
    for given in paths:
        p = Path(given)
        if not p.exists():
            raise UsageError(f"路径不存在：{given}")
        if p.is_dir():
            for child in p.rglob("*"):
                rel = child.relative_to(p).parts
                if any(part.startswith(".") for part in rel) or child.name.startswith("~$") or not child.is_file():
                    continue
                if child.suffix.lower() in FOUND_IN_FOLDERS:
                    found.setdefault(_resolved(child, folders), child)
        elif p.name.startswith("~$"):
            continue  # Office lock file, matched by a shell glob such as *.xlsx
        elif p.suffix.lower() in SOURCE_SUFFIXES:
            found.setdefault(p.resolve(), p)
        else:
            findings.append(Finding.for_file(name(p), "F-NOT-WORKBOOK", name=p.name, **_not_workbook_fields(p)))
    return sorted(found.values(), key=lambda x: (str(x).casefold(), str(x))), findings


FOUND_IN_FOLDERS = tuple(s for s in SOURCE_SUFFIXES if s not in TEXT_SUFFIXES)
"""A folder's .txt and .md files are notes (说明.txt, README.md), not reports: text extracted from a PDF
(a converter's markdown too) is read when named."""


def _resolved(path: Path, folders: dict[Path, Path]) -> Path:
    """``path.resolve()`` with each folder resolved once: a file that is not a symlink resolves to
    its folder's real path plus its name (one lstat, not one per component of a long path)."""
    if path.is_symlink():
        return path.resolve()
    folder = folders.get(path.parent)
    if folder is None:
        folder = folders[path.parent] = path.parent.resolve()
    return folder / path.name


def _not_workbook_fields(p: Path) -> dict[str, Any]:
    """F-NOT-WORKBOOK of a file given by name whose extension xltool does not read: what it is, what to do."""
    what, hint = {
        ".et": ("是 WPS 表格文件", "请在 WPS 中另存为 .xlsx"),
        ".csv": ("是 CSV 文本文件", "请使用下发的 .xlsx 模板填报"),
        ".doc": ("是旧版 Word 文档", "请在 Word 中另存为 .docx，或使用下发的 .xlsx 模板填报统计表"),
    }.get(p.suffix.lower(), ("的类型无法读取", "请使用下发的 .xlsx 模板填报"))
    return {"what": what + "（可读取的是工作簿、Word .docx、网页 .html、PDF 和 .txt、.md 文本）", "hint": hint}
