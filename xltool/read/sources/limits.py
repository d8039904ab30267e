"""What every source shares: its limits and the one exception that says why a file cannot be read."""

from __future__ import annotations

import os
from typing import Any

from xltool.catalogue import message
from xltool.errors import XltoolError

MB = 1024 * 1024
MAX_TABLES = 500
MAX_CELLS = 200_000
"""A real report has 3–10 tables and under 1,000 cells; a CMS page with navigation a few thousand."""
MAX_TEXT = 20_000
"""Characters of running text kept (the unit and year are named near the top)."""


def max_document_bytes() -> int:
    """The size limit of a page or a Word document's text part (XLTOOL_MAX_DOCUMENT_MB, default 20)."""
    try:
        return int(os.environ.get("XLTOOL_MAX_DOCUMENT_MB", 20)) * MB
    except ValueError:
        return 20 * MB


class SourceError(XltoolError):
    """Why a file cannot be read as a document: a stable code and a Chinese message naming it."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


def refuse(code: str, name: str, **fields: Any) -> SourceError:
    """A SourceError about the file ``name``, worded from the catalogue."""
    return SourceError(code, message(code, name=name, **fields))


NOT_A_REPORT = "这不像一份年度报告；请只提供年度报告本身"
"""F-TOO-LARGE's hint when a document has far more tables or cells than a report."""


def too_large(name: str, size: int, limit: int, what: str = "文件") -> SourceError:
    return refuse(
        "F-TOO-LARGE",
        name,
        what=f"的{what}大小 {size / MB:.1f} MB",
        limit=f"{limit / MB:.0f} MB（一份年度报告的网页或 Word 文件通常不到 1 MB）",
        hint="请删去图片等多余内容后重新保存",
    )
