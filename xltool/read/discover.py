"""Which files a run reads, and a finding for every other file: each file named, or found (recursively)
in a folder, is either read or accounted for. Kinds xltool does not read (images, archives, …) get
F-UNSUPPORTED; a folder's .txt and .md files are notes (F-NOTE). Office lock files (``~$…``) and
hidden files (a name starting with a dot, or in a hidden folder) are not files a unit sent: skipped."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from xltool.errors import UsageError
from xltool.findings import Finding
from xltool.model import display_path
from xltool.read.convert import CONVERTED_SUFFIXES
from xltool.read.sources import DOCUMENT_SUFFIXES, IMAGE_SUFFIXES, TEXT_SUFFIXES, WORKBOOK_SUFFIXES

READ_SUFFIXES = WORKBOOK_SUFFIXES + DOCUMENT_SUFFIXES + CONVERTED_SUFFIXES
"""Every kind of file a run reads when named (.doc/.wps/.et/.rtf converted by LibreOffice first)."""


def discover(
    paths: Iterable[str | Path], *, name: Callable[[Path], str] = display_path
) -> tuple[list[Path], list[Finding]]:
    """Workbooks and documents named or found (recursively) in folders, sorted; a finding for every
    other file, named or found (``name``: how a file is named in them)."""
    found: dict[Path, Path] = {}
    others: dict[Path, Path] = {}
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
                into = found if child.suffix.lower() in FOUND_IN_FOLDERS else others
                into.setdefault(_resolved(child, folders), child)
        elif p.name.startswith("~$"):
            continue  # Office lock file, matched by a shell glob such as *.xlsx
        elif p.suffix.lower() in READ_SUFFIXES:
            found.setdefault(p.resolve(), p)
        else:
            others.setdefault(p.resolve(), p)
    findings = [_not_read(name(p), p) for key, p in _sorted(others) if key not in found]
    return [p for _, p in _sorted(found)], findings


def _sorted(files: dict[Path, Path]) -> list[tuple[Path, Path]]:
    return sorted(files.items(), key=lambda kv: (str(kv[1]).casefold(), str(kv[1])))


FOUND_IN_FOLDERS = tuple(s for s in READ_SUFFIXES if s not in TEXT_SUFFIXES + IMAGE_SUFFIXES)
"""A folder's .txt and .md files are notes (说明.txt, README.md), not reports: text extracted from a PDF
(a converter's markdown too) is read when named. So is a page scanned as an image (a folder's images
are mostly photos and logos)."""


def read_kinds() -> str:
    """Every kind of file read, for messages: “.xlsx、.xlsm、…、.md”."""
    return "、".join(READ_SUFFIXES)


def _resolved(path: Path, folders: dict[Path, Path]) -> Path:
    """``path.resolve()`` with each folder resolved once: a file that is not a symlink resolves to
    its folder's real path plus its name (one lstat, not one per component of a long path)."""
    if path.is_symlink():
        return path.resolve()
    folder = folders.get(path.parent)
    if folder is None:
        folder = folders[path.parent] = path.parent.resolve()
    return folder / path.name


def _not_read(file: str, p: Path) -> Finding:
    """The finding of a file not read: a folder's note (F-NOTE), or a kind xltool does not read."""
    suffix = p.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return Finding.for_file(file, "F-NOTE", name=p.name, suffix=suffix)
    return Finding.for_file(file, "F-UNSUPPORTED", name=p.name, **_unsupported_fields(suffix))


_IMAGES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".heic")
_ARCHIVES = (".zip", ".rar", ".7z", ".tar", ".gz", ".tgz", ".bz2", ".xz")


def _unsupported_fields(suffix: str) -> dict[str, Any]:
    """F-UNSUPPORTED of a kind xltool does not read: what it is, what to do."""
    if suffix in _IMAGES:
        what, hint = (
            "是图片",
            "文件夹中的图片不读取（扫描页的 .png、.jpg 在命令行中单独指定时经 OCR 识别读取）；请报送填好的 .xlsx 模板，或 Word（.docx）、PDF 版本的年度报告",
        )
    elif suffix in _ARCHIVES:
        what, hint = "是压缩包", "请解压后把其中的报表放进文件夹（或单独报送）"
    elif suffix == ".csv":
        what, hint = "是 CSV 文本文件", "请使用下发的 .xlsx 模板填报"
    else:
        what = f"是 {suffix} 文件" if suffix else "没有扩展名"
        hint = "请报送填好的 .xlsx 模板，或 Word（.docx）、网页、PDF 版本的年度报告"
    return {"what": what, "hint": hint + f"（可读取的类型：{read_kinds()}）"}
