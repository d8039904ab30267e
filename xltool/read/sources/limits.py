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
MAX_TEXT = 400_000
"""Characters of running text kept: the unit and year are named near the top, and the narrative
(parts 一 to 六, ``xltool.read.narrative``) is read from all of it. A long provincial report has some
30,000 characters; 400,000 (about 1.2 MB of UTF-8) still bounds what a hostile page can make us hold."""
MAX_GRID = 1_000_000
"""Grid positions of a document's tables once merged cells are expanded: the cells' rows × columns
summed, and all tables' rows × the widest table (what a locator's grid of a table and of tables
joined across a page break would hold). A report's tables have about 1,000; the grid costs time and
memory in proportion (100,000 rows of ``colspan=1000`` would be 10⁸ positions, gigabytes)."""
MAX_GRID_COLUMNS = 1000
"""Columns of one table (HTML caps ``colspan`` at 1,000; Word tables have at most 63 columns)."""
MAX_MARKUP = 600_000
"""Tags and attributes of a page or of Word's document.xml, counted before it is parsed (each costs
the parser 100–200 bytes: 20 MB of ``<p>`` would take 900 MB). A report's page has a few thousand."""


def max_document_bytes() -> int:
    """The size limit of a page or a Word document's text part (XLTOOL_MAX_DOCUMENT_MB, default 20)."""
    try:
        return int(os.environ.get("XLTOOL_MAX_DOCUMENT_MB", 20)) * MB
    except ValueError:
        return 20 * MB


class SourceError(XltoolError):
    """Why a file cannot be read as a document: a stable code and a Chinese message naming it."""

    def __init__(self, code: str, message: str, detail: str = ""):
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail  # a library's own words (English), for the JSON's detail, never the message

    def __str__(self) -> str:
        return self.message


def refuse(code: str, name: str, *, library_text: str = "", **fields: Any) -> SourceError:
    """A SourceError about the file ``name``, worded from the catalogue (``library_text``: what a
    library said, kept apart as the finding's detail)."""
    return SourceError(code, message(code, name=name, **fields), library_text)


NOT_A_REPORT = "这不像一份年度报告；请只提供年度报告本身"
"""F-TOO-LARGE's hint when a document has far more tables or cells than a report."""


def check_markup(data: bytes, name: str, what: str) -> None:
    """Refuse markup whose tags and attributes are too many to parse: ``<`` not followed by ``/``, and
    ``=`` (an upper bound, counted in bytes before anything is decoded or parsed)."""
    count = data.count(b"<") - data.count(b"</") + data.count(b"=")
    if count > MAX_MARKUP:
        raise refuse(
            "F-TOO-LARGE",
            name,
            what=f"的{what}有约 {count:,} 个标签和属性",
            limit=f"{MAX_MARKUP:,} 个（一份年度报告通常只有几千个）",
            hint=NOT_A_REPORT,
        )


class GridBudget:
    """What a document's tables will cost once laid out as grids, counted while they are read and
    refused (F-TOO-LARGE naming ``MAX_GRID``) before any grid is allocated: ``cover`` each cell's
    rows × columns as it is placed, ``table`` each table's extent when it is done."""

    def __init__(self, name: str):
        self.name = name
        self.covered = 0
        self.rows = 0
        self.widest = 0

    def cover(self, rowspan: int, colspan: int) -> None:
        self.covered += rowspan * colspan
        if self.covered > MAX_GRID:
            raise self.refusal()

    def table(self, nrows: int, ncols: int) -> None:
        self.rows += nrows
        self.widest = max(self.widest, ncols)
        if self.rows * self.widest > MAX_GRID:
            raise self.refusal()

    def refusal(self) -> SourceError:
        return refuse(
            "F-TOO-LARGE",
            self.name,
            what="的表格按合并单元格所占的行和列展开后的格数",
            limit=f"{MAX_GRID:,} 格（一份年度报告的表格合计约 1,000 格）",
            hint=NOT_A_REPORT,
        )


def too_many_columns(name: str) -> SourceError:
    return refuse(
        "F-TOO-LARGE",
        name,
        what="的表格列数",
        limit=f"{MAX_GRID_COLUMNS:,} 列（Word 的表格最多 63 列）",
        hint=NOT_A_REPORT,
    )


def too_large(name: str, size: int, limit: int, what: str = "文件") -> SourceError:
    return refuse(
        "F-TOO-LARGE",
        name,
        what=f"的{what}大小 {size / MB:.1f} MB",
        limit=f"{limit / MB:.0f} MB（一份年度报告的网页或 Word 文件通常不到 1 MB）",
        hint="请删去图片等多余内容后重新保存",
    )
