"""Stage 1, what a page holds: the raw file checked for bombs (``streams``), then PDFium's characters and rules.

Owns the security bounds of reading a PDF (pages, seconds, characters and objects per page and per
document; the inflated bytes are ``streams``'s) and every call into PDFium but opening the file: ``page_chars`` gives each character with its
box, ``page_rulings`` the horizontal and vertical ruling lines as ``Seg``.
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass
from typing import Any

from xltool.read.sources.limits import NOT_A_REPORT, refuse
from xltool.read.sources.pdf.settings import DEFAULT, PdfSettings
from xltool.read.sources.pdf.streams import (
    MAX_CONTENT_INFLATED,
    MAX_IMAGE_BYTES,
    MAX_SECONDS,
    MAX_STREAM_INFLATED,
    MAX_TOTAL_INFLATED,
    check_streams,
    too_slow,
)

__all__ = [
    "MAX_CHARS_PER_DOCUMENT",
    "MAX_CHARS_PER_PAGE",
    "MAX_CONTENT_INFLATED",
    "MAX_IMAGE_BYTES",
    "MAX_OBJECTS_PER_PAGE",
    "MAX_PAGES",
    "MAX_SECONDS",
    "MAX_STREAM_INFLATED",
    "MAX_TOTAL_INFLATED",
    "Char",
    "Seg",
    "check_streams",
    "max_pages",
    "page_chars",
    "page_rulings",
    "too_slow",
]

MAX_PAGES = 200
"""A report is 5–20 pages; a yearbook of reports is split before it is sent."""
MAX_CHARS_PER_PAGE = 50_000
MAX_CHARS_PER_DOCUMENT = 120_000
"""A report prints at most a few thousand characters a page (hongze-2024: 2,800 in 5 pages);
PDFium's text page costs about 300 bytes and half a microsecond a character, so pages of just under MAX_CHARS_PER_PAGE each add up to the time
limit long before MAX_PAGES."""
MAX_OBJECTS_PER_PAGE = 50_000


def max_pages() -> int:
    try:
        return int(os.environ.get("XLTOOL_MAX_PDF_PAGES", MAX_PAGES))
    except ValueError:
        return MAX_PAGES


# --------------------------------------------------------------------------- what a page holds


@dataclass(slots=True)
class Char:
    """One printed character and its loose box, in PDF space."""

    ch: str
    x0: float
    x1: float
    y0: float  # bottom (PDF space: y grows upwards)
    y1: float
    conf: float = 1.0  # how sure OCR is of it (``xltool.read.sources.scan``); a text layer's is 1

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2


@dataclass(slots=True)
class Seg:
    """A straight piece of a ruling line."""

    pos: float  # y of a horizontal line, x of a vertical one
    a: float  # from (x0 or y0)
    b: float  # to


def page_chars(textpage: Any, name: str, settings: PdfSettings = DEFAULT, before: int = 0) -> list[Char]:
    """The printed characters of a PDFium text page (blanks and surrogates left out), each in its
    loose box (the font's height, not the glyph's: 、 and ， stay on their line), or about its glyph
    when the loose box is no box of it (``_char_box``). ``before``: the characters of the pages
    before (their sum is bounded by MAX_CHARS_PER_DOCUMENT)."""
    import pypdfium2.raw as R

    n = R.FPDFText_CountChars(textpage)
    if n > MAX_CHARS_PER_PAGE:
        raise refuse(
            "F-TOO-LARGE", name, what=f"的一页有 {n:,} 个字符", limit=f"{MAX_CHARS_PER_PAGE:,} 个", hint=NOT_A_REPORT
        )
    if before + n > MAX_CHARS_PER_DOCUMENT:
        raise refuse(
            "F-TOO-LARGE",
            name,
            what=f"读到的页面已有 {before + n:,} 个字符",
            limit=f"全文 {MAX_CHARS_PER_DOCUMENT:,} 个字符",
            hint=NOT_A_REPORT,
        )
    box = R.FS_RECTF()
    out: list[Char] = []
    for i in range(n):
        code = R.FPDFText_GetUnicode(textpage, i)
        if code < 33 or code in (0xA0, 0x3000, 0xFFFE, 0xFFFF) or 0xD800 <= code <= 0xDFFF:
            continue
        if not R.FPDFText_GetLooseCharBox(textpage, i, ctypes.byref(box)):
            continue
        c = Char(chr(code), box.left, box.right, box.bottom, box.top)
        out.append(_char_box(textpage, i, c, settings))
    return out


def _char_box(textpage: Any, i: int, c: Char, settings: PdfSettings) -> Char:
    """``c`` in its loose box, unless that box is over ``loose_fit`` times as tall or as wide as the
    font's size on the page (PDFium gives a character of a vertical font, as WPS prints the
    三、本年度办理结果 of a tall merged cell, a box of the font's unscaled size, its centre far off the
    glyph): then the glyph's box, as tall as the font about the glyph's centre."""
    import pypdfium2.raw as R

    size = _font_points(textpage, i)
    if size <= 0 or max(c.x1 - c.x0, c.y1 - c.y0) <= settings.loose_fit * size:
        return c
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    if not R.FPDFText_GetCharBox(textpage, i, *(ctypes.byref(v) for v in (left, right, bottom, top))):
        return c
    cy = (bottom.value + top.value) / 2
    return Char(c.ch, left.value, max(right.value, left.value), cy - size / 2, cy + size / 2)


def _font_points(textpage: Any, i: int) -> float:
    """The character's font size on the page, in points (its size times its matrix's scale)."""
    import pypdfium2.raw as R

    m = R.FS_MATRIX()
    if not R.FPDFText_GetMatrix(textpage, i, ctypes.byref(m)):
        return 0.0
    scale: float = abs(m.a * m.d - m.b * m.c) ** 0.5
    return float(R.FPDFText_GetFontSize(textpage, i)) * scale


class _Buffers:
    """The ctypes out-parameters of one page's walk, made once (a page has thousands of paths)."""

    def __init__(self) -> None:
        self.box = [ctypes.c_float() for _ in range(4)]
        self.x, self.y = ctypes.c_float(), ctypes.c_float()
        self.fill, self.stroke = ctypes.c_int(), ctypes.c_int()


def page_rulings(page: Any, name: str, settings: PdfSettings = DEFAULT) -> tuple[list[Seg], list[Seg]]:
    """Ruling lines: thin path objects (Word, WPS, LibreOffice draw each border so), and the straight
    edges of stroked paths (a whole grid drawn as one path)."""
    import pypdfium2.raw as R

    n = R.FPDFPage_CountObjects(page)
    if n > MAX_OBJECTS_PER_PAGE:
        raise refuse(
            "F-TOO-LARGE", name, what=f"的一页有 {n:,} 个对象", limit=f"{MAX_OBJECTS_PER_PAGE:,} 个", hint=NOT_A_REPORT
        )
    hs: list[Seg] = []
    vs: list[Seg] = []
    buf = _Buffers()
    segments = 0
    for i in range(n):
        obj = R.FPDFPage_GetObject(page, i)
        if R.FPDFPageObj_GetType(obj) != R.FPDF_PAGEOBJ_PATH:
            continue
        if not R.FPDFPageObj_GetBounds(obj, *(ctypes.byref(v) for v in buf.box)):
            continue
        left, bottom, right, top = (v.value for v in buf.box)
        if _thin_rule(left, bottom, right, top, hs, vs, settings):
            continue
        R.FPDFPath_GetDrawMode(obj, ctypes.byref(buf.fill), ctypes.byref(buf.stroke))
        count = R.FPDFPath_CountSegments(obj)
        segments += max(count, 0)
        if buf.stroke.value and count > 1 and segments <= MAX_OBJECTS_PER_PAGE:
            _path_edges(obj, count, buf, hs, vs, settings)
    return hs, vs


def _thin_rule(
    left: float, bottom: float, right: float, top: float, hs: list[Seg], vs: list[Seg], settings: PdfSettings
) -> bool:
    """A path object whose bounds are a thin long box is one rule: added, True."""
    w, h = right - left, top - bottom
    if h <= settings.snap and w > 2 * settings.snap:
        hs.append(Seg((bottom + top) / 2, left, right))
        return True
    if w <= settings.snap and h > 2 * settings.snap:
        vs.append(Seg((left + right) / 2, bottom, top))
        return True
    return False


def _path_edges(obj: Any, count: int, buf: _Buffers, hs: list[Seg], vs: list[Seg], settings: PdfSettings) -> None:
    """The straight edges of a stroked path's ``count`` segments, in page space, closing edges too."""
    import pypdfium2.raw as R

    m = _matrix(obj)
    prev = None
    first = None
    x, y = buf.x, buf.y
    for k in range(count):
        seg = R.FPDFPath_GetPathSegment(obj, k)
        if not R.FPDFPathSegment_GetPoint(seg, ctypes.byref(x), ctypes.byref(y)):
            continue
        px, py = m[0] * x.value + m[2] * y.value + m[4], m[1] * x.value + m[3] * y.value + m[5]
        kind = R.FPDFPathSegment_GetType(seg)
        if kind == R.FPDF_SEGMENT_MOVETO or prev is None:
            first = prev = (px, py)
            continue
        _edge(prev, (px, py), hs, vs, settings)
        if R.FPDFPathSegment_GetClose(seg) and first is not None:
            _edge((px, py), first, hs, vs, settings)
        prev = (px, py)


def _matrix(obj: Any) -> tuple[float, ...]:
    import pypdfium2.raw as R

    fm = R.FS_MATRIX()
    if not R.FPDFPageObj_GetMatrix(obj, ctypes.byref(fm)):
        return (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    return (fm.a, fm.b, fm.c, fm.d, fm.e, fm.f)


def _edge(p: tuple[float, float], q: tuple[float, float], hs: list[Seg], vs: list[Seg], settings: PdfSettings) -> None:
    if abs(p[1] - q[1]) <= settings.level and abs(p[0] - q[0]) > 2 * settings.snap:
        hs.append(Seg((p[1] + q[1]) / 2, min(p[0], q[0]), max(p[0], q[0])))
    elif abs(p[0] - q[0]) <= settings.level and abs(p[1] - q[1]) > 2 * settings.snap:
        vs.append(Seg((p[0] + q[0]) / 2, min(p[1], q[1]), max(p[1], q[1])))
