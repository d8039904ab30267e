"""How the listing sheets (明细, 来源, the annotated copy's 校验结果, the validation report) print on A4.

Neither XlsxWriter nor openpyxl computes row heights, and LibreOffice does not grow a row for its
wrapped text when it opens an .xlsx: a long text printed over the rows below it. So every row's
height is estimated here from its texts and the widths of their columns (a CJK character is about
two column units wide), with room to spare: a row a little too tall wastes a few points, one too
short prints one unit's text on another unit's row.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from math import ceil
from typing import Any

A4 = 9
"""The paper size code of A4 (XlsxWriter's set_paper, openpyxl's paperSize)."""

FONT_SIZE = 10
LINE_HEIGHT = 14.5
"""Points per line at FONT_SIZE: a CJK font's line is about 1.45 of its size."""
ROW_PADDING = 3.0
SIDE_MARGIN = 0.3
"""Inches left and right (XlsxWriter's default is 0.7): a wide listing keeps more of its width."""
FOOTER = "&L&A&R第 &P 页，共 &N 页"
"""The sheet's name at the left, the page number at the right, on every page."""


def text_units(text: str) -> float:
    """Approximate width of ``text`` in Excel column units at FONT_SIZE: CJK characters are two."""
    return sum(2.0 if unicodedata.east_asian_width(ch) in "WF" else 1.1 for ch in text)


_TOKENS = re.compile(r"\s+|[\u2e80-\uffff]|[^\s\u2e80-\uffff-]*-|[^\s\u2e80-\uffff-]+")
"""Where a line may break: at spaces, after a hyphen, between CJK characters (a Latin word longer
than the line is broken anywhere, as LibreOffice does)."""


def line_count(text: str, width: float) -> int:
    """Lines the text takes wrapped in a column ``width`` units wide (each line break counts):
    greedy word wrap, as the spreadsheet does it."""
    usable = max(width - 1.0, 1.0)
    total = 0
    for part in str(text).split("\n"):
        lines, used = 1, 0.0
        for token in _TOKENS.findall(part):
            w = text_units(token)
            if token.isspace() or used + w <= usable:
                used += w
                continue
            if used > 0:
                lines += 1
            extra = ceil(w / usable) - 1  # a word longer than a line
            lines += extra
            used = w - extra * usable
        total += lines
    return total


def row_height(cells: Iterable[tuple[str, float]], line_height: float = LINE_HEIGHT) -> float:
    """The height (points) a row needs for its ``(text, column width)`` cells, at least one line."""
    lines = max((line_count(text, width) for text, width in cells if text), default=1)
    return lines * line_height + ROW_PADDING


def column_points(width: float) -> float:
    """The printed width (points, at 100 %) of a column ``width`` units wide: 7 px a unit plus 5."""
    return (width * 7 + 5) * 0.75


def printable_points(landscape: bool = True, margin: float = SIDE_MARGIN) -> float:
    """The width (points) inside the side margins of an A4 page."""
    inches = (11.69 if landscape else 8.27) - 2 * margin
    return inches * 72


def print_setup(ws: Any, header_rows: tuple[int, int], fit_width: bool = True) -> None:
    """An XlsxWriter sheet on A4 landscape, narrow side margins, the header rows on every page, the
    sheet's name and page number in the footer; fit to one page wide unless the caller splits the
    columns itself."""
    ws.set_paper(A4)
    ws.set_landscape()
    ws.set_margins(left=SIDE_MARGIN, right=SIDE_MARGIN, top=0.6, bottom=0.6)
    ws.set_footer(FOOTER)
    ws.repeat_rows(*header_rows)
    if fit_width:
        ws.fit_to_pages(1, 0)
