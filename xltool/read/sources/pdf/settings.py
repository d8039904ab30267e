"""The tolerances of reading a PDF's tables, in one checked place.

Every distance the stages compare against (points, or a fraction of a character's height) is a field
of ``PdfSettings``; the stages take one as ``settings`` and use ``DEFAULT`` when given none. The
security bounds (pages, seconds, characters, inflated bytes) are no tolerances: they stay constants
of ``extract`` and ``limits``, not something a caller loosens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from xltool.errors import InvalidArgument


@dataclass(frozen=True, slots=True)
class PdfSettings:
    """How close is the same, how wide is a gap. Defaults fit what Word, WPS and LibreOffice print."""

    snap: float = 2.0
    """Points: ruling lines this close are one line (double borders, rounding); a line is thin when
    at most this thick and long when over twice this."""
    level: float = 0.5
    """Points: an edge of a stroked path this far off level (or plumb) is still a straight rule."""
    loose_fit: float = 3.0
    """Times: a character's loose box over this many times its font's size is none of its own (PDFium
    on a vertical font); the glyph's box is taken instead."""
    open_row: float = 6.0
    """Points: both outer column rules running this far past a table's last (or first) row rule end
    a row the page break cut, its closing rule not drawn."""
    max_pad: float = 6.0
    """Points: a cell's inner margin at most (Word's default is 5.4)."""
    gap: float = 0.4
    """Characters: white space this wide through a column's cells is a column rule not drawn."""
    band: float = 0.3
    """Characters: white space around a rule known from elsewhere, or through a wider cell."""
    across: float = 0.5
    """Points: a character reaching this far past ``x`` on both sides lies across ``x``."""
    fit: float = 0.5
    """Points: slack when asking whether a wrapped figure's next digit would have fit on its line."""
    same_line: float = 0.5
    """Characters: centres this close in height are one line of text."""
    space: float = 0.6
    """Characters: a gap this wide between two characters of a line is a space."""
    word_gap: float = 0.9
    """Characters: on a page without rules, characters closer than this are one word."""
    leading: float = 1.6
    """Characters: the lines of a wrapped figure stand at most this far apart."""
    header_lines: int = 4
    """Lines of several words just above a ruleless table taken as its header, at most."""
    pending_lines: int = 8
    """Lines of several words waiting for a table's first row, at most; more are running text."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise InvalidArgument(f"PDF 读取设置 {f.name} 应为有限的数，而不是 {value!r}")
            if f.type == "int" and not isinstance(value, int):
                raise InvalidArgument(f"PDF 读取设置 {f.name} 应为整数，而不是 {value!r}")
            if value <= 0:
                raise InvalidArgument(f"PDF 读取设置 {f.name} 应大于 0，而不是 {value!r}")


DEFAULT = PdfSettings()
"""The settings every stage uses unless given others."""
