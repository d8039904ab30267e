"""PDF with a text layer -> Document: tables rebuilt from where the characters and ruling lines are.

A text dump of a report's PDF loses the table (the vertical 三、本年度办理结果 comes out one character
per line, a wrapped label's figures sit on its second line, 商业企 / 业 breaks in two, a page footer
“- 4 -” falls between two rows of 表三). So the characters are read with their boxes (PDFium through
pypdfium2: Apache-2.0/BSD-3, wheels with PDFium built in, fast enough for hundreds of reports) and
placed into cells:

* with ruling lines (what Word, WPS and LibreOffice print): the lines of each table make a lattice;
  a cell is a run of lattice boxes with no line between them (merged cells), its text every character
  whose centre lies in it, line by line. A label printed one character per line, a wrapped label and
  a header broken over lines are then one cell, as printed;
* without ruling lines on a page: its lines of text, words split at wide gaps, become rows; columns
  come from the x positions of the figures (a word belongs to the column its centre falls in).

Page numbers (“- 4 -”, “第 4 页”) are dropped; a table whose page ends and whose next piece starts the
next page with nothing printed between is marked ``continues`` (the locator joins 表三 again).

Refused, one ``SourceError`` each: a password (F-ENCRYPTED), no text layer (F-SCANNED: a scan), more
pages than ``XLTOOL_MAX_PDF_PAGES`` (200), a stream that inflates past the bounds (F-BOMB, checked on
the raw bytes before PDFium parses anything), more than ``MAX_SECONDS`` of work (F-TOO-LARGE).
"""

from __future__ import annotations

import bisect
import ctypes
import os
import re
import time
import zlib
from dataclasses import dataclass, field

from xltool.read.document import DocCell, DocTable, Document
from xltool.read.sources.limits import MAX_CELLS, MAX_TABLES, MAX_TEXT, MB, NOT_A_REPORT, SourceError, refuse

MAX_PAGES = 200
"""A report is 5–20 pages; a yearbook of reports is split before it is sent."""
MAX_SECONDS = 5.0
MAX_CHARS_PER_PAGE = 50_000
MAX_OBJECTS_PER_PAGE = 50_000
MAX_STREAM_INFLATED = 64 * MB
"""One stream of a report (a page's content, a font) inflates to well under 1 MB; a scanned page's
image to a few tens of MB."""
MAX_TOTAL_INFLATED = 256 * MB
MAX_CAPTION = 100
_TOL = 2.0  # points: lines this close are one line (double borders, rounding)
_MAX_PAD = 6.0  # points: a cell's inner margin (Word's default is 5.4)
_GAP = 0.4  # characters: white space this wide through a column's cells is a column rule not drawn
_BAND = 0.3  # characters: white space around a rule known from elsewhere, or through a wider cell
_SPACE = " \t\r\n\u00a0\u3000\ufffe\uffff\x00"
_PAGE_NUMBER = re.compile(
    r"^[-—–－‒―\s]*(?:\d{1,4}|[ivxlcIVXLC]{1,6})[-—–－‒―\s]*$|^第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?$"
    r"|^\d{1,4}\s*/\s*\d{1,4}$"
)
_FIGURE = re.compile(r"^[-−]?[0-9Oo〇][0-9Oo〇.,，]*%?$")
_ITEM = re.compile(r"^\s*(?:[（(]\s*[一二三四五六七八九十\d]+\s*[）)]|[一二三四五六七八九十]+\s*[、.．]|\d+\s*[.．、])")


def max_pages() -> int:
    try:
        return int(os.environ.get("XLTOOL_MAX_PDF_PAGES", MAX_PAGES))
    except ValueError:
        return MAX_PAGES


# --------------------------------------------------------------------------- safety before PDFium

_STREAM = re.compile(rb"stream\r?\n")


def check_streams(data: bytes, name: str) -> None:
    """Inflate every Flate stream of the raw file in bounded steps, counting, keeping nothing: a
    stream over MAX_STREAM_INFLATED or all of them over MAX_TOTAL_INFLATED is a bomb (PDFium would
    inflate it whole when the page is drawn). Streams of an encrypted file do not inflate: skipped."""
    total = 0
    pos = 0
    deadline = time.monotonic() + MAX_SECONDS
    while True:
        m = _STREAM.search(data, pos)
        if m is None:
            return
        start = m.end()
        end = data.find(b"endstream", start)
        end = len(data) if end < 0 else end
        pos = max(end, start)
        if data[start : start + 1] != b"x":  # zlib header 0x78: only those are Flate here
            continue
        d = zlib.decompressobj()
        size = 0
        chunk = data[start:end]
        try:
            while chunk:
                out = d.decompress(chunk, 4 * MB)
                size += len(out)
                total += len(out)
                if size > MAX_STREAM_INFLATED or total > MAX_TOTAL_INFLATED:
                    raise refuse(
                        "F-BOMB",
                        name,
                        what=f"的一个数据流解压后超过 {(size if size > MAX_STREAM_INFLATED else total) // MB} MB",
                        limit=f"{MAX_STREAM_INFLATED // MB} MB（全部数据流 {MAX_TOTAL_INFLATED // MB} MB）",
                    )
                if time.monotonic() > deadline:
                    raise _too_slow(name)
                chunk = d.unconsumed_tail
                if not out and not chunk:
                    break
        except zlib.error:
            continue


def _too_slow(name: str) -> SourceError:
    return refuse("F-TOO-LARGE", name, what="的内容过多，读取时间", limit=f"{MAX_SECONDS:.0f} 秒", hint=NOT_A_REPORT)


# --------------------------------------------------------------------------- what a page holds


@dataclass(slots=True)
class _Char:
    ch: str
    x0: float
    x1: float
    y0: float  # bottom (PDF space: y grows upwards)
    y1: float

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2


@dataclass(slots=True)
class _Seg:
    pos: float  # y of a horizontal line, x of a vertical one
    a: float  # from (x0 or y0)
    b: float  # to


@dataclass
class _Block:
    """A page's table or a line of text, in reading order (``top`` descending)."""

    top: float
    bottom: float
    page: int
    text: str = ""  # a line of running text
    table: DocTable | None = None
    lattice: _Lattice | None = None  # the table's ruling lines, its characters in ``chars``
    chars: list[_Char] = field(default_factory=list)


@dataclass
class _Page:
    chars: list[_Char] = field(default_factory=list)
    hs: list[_Seg] = field(default_factory=list)
    vs: list[_Seg] = field(default_factory=list)


def _chars(textpage, name: str) -> list[_Char]:
    import pypdfium2.raw as R

    n = R.FPDFText_CountChars(textpage)
    if n > MAX_CHARS_PER_PAGE:
        raise refuse(
            "F-TOO-LARGE", name, what=f"的一页有 {n:,} 个字符", limit=f"{MAX_CHARS_PER_PAGE:,} 个", hint=NOT_A_REPORT
        )
    box = R.FS_RECTF()
    out: list[_Char] = []
    for i in range(n):
        code = R.FPDFText_GetUnicode(textpage, i)
        if code < 33 or code in (0xA0, 0x3000, 0xFFFE, 0xFFFF) or 0xD800 <= code <= 0xDFFF:
            continue
        # the loose box (the font's height, not the glyph's): 、 and ， stay on their line
        if not R.FPDFText_GetLooseCharBox(textpage, i, ctypes.byref(box)):
            continue
        out.append(_Char(chr(code), box.left, box.right, box.bottom, box.top))
    return out


def _lines(page, name: str) -> tuple[list[_Seg], list[_Seg]]:
    """Ruling lines: thin path objects (Word, WPS, LibreOffice draw each border so), and the straight
    edges of stroked paths (a whole grid drawn as one path)."""
    import pypdfium2.raw as R

    n = R.FPDFPage_CountObjects(page)
    if n > MAX_OBJECTS_PER_PAGE:
        raise refuse(
            "F-TOO-LARGE", name, what=f"的一页有 {n:,} 个对象", limit=f"{MAX_OBJECTS_PER_PAGE:,} 个", hint=NOT_A_REPORT
        )
    hs: list[_Seg] = []
    vs: list[_Seg] = []
    lf, b, r, t = ctypes.c_float(), ctypes.c_float(), ctypes.c_float(), ctypes.c_float()
    x, y = ctypes.c_float(), ctypes.c_float()
    fill, stroke = ctypes.c_int(), ctypes.c_int()
    segments = 0
    for i in range(n):
        obj = R.FPDFPage_GetObject(page, i)
        if R.FPDFPageObj_GetType(obj) != R.FPDF_PAGEOBJ_PATH:
            continue
        if not R.FPDFPageObj_GetBounds(obj, ctypes.byref(lf), ctypes.byref(b), ctypes.byref(r), ctypes.byref(t)):
            continue
        w, h = r.value - lf.value, t.value - b.value
        if h <= _TOL and w > 2 * _TOL:
            hs.append(_Seg((b.value + t.value) / 2, lf.value, r.value))
            continue
        if w <= _TOL and h > 2 * _TOL:
            vs.append(_Seg((lf.value + r.value) / 2, b.value, t.value))
            continue
        R.FPDFPath_GetDrawMode(obj, ctypes.byref(fill), ctypes.byref(stroke))
        count = R.FPDFPath_CountSegments(obj)
        segments += max(count, 0)
        if not stroke.value or count <= 1 or segments > MAX_OBJECTS_PER_PAGE:
            continue
        m = _matrix(obj)
        prev = None
        first = None
        for k in range(count):
            seg = R.FPDFPath_GetPathSegment(obj, k)
            if not R.FPDFPathSegment_GetPoint(seg, ctypes.byref(x), ctypes.byref(y)):
                continue
            px, py = m[0] * x.value + m[2] * y.value + m[4], m[1] * x.value + m[3] * y.value + m[5]
            kind = R.FPDFPathSegment_GetType(seg)
            if kind == R.FPDF_SEGMENT_MOVETO or prev is None:
                first = prev = (px, py)
                continue
            _edge(prev, (px, py), hs, vs)
            if R.FPDFPathSegment_GetClose(seg) and first is not None:
                _edge((px, py), first, hs, vs)
            prev = (px, py)
    return hs, vs


def _matrix(obj) -> tuple[float, ...]:
    import pypdfium2.raw as R

    fm = R.FS_MATRIX()
    if not R.FPDFPageObj_GetMatrix(obj, ctypes.byref(fm)):
        return (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    return (fm.a, fm.b, fm.c, fm.d, fm.e, fm.f)


def _edge(p: tuple[float, float], q: tuple[float, float], hs: list[_Seg], vs: list[_Seg]) -> None:
    if abs(p[1] - q[1]) <= 0.5 and abs(p[0] - q[0]) > 2 * _TOL:
        hs.append(_Seg((p[1] + q[1]) / 2, min(p[0], q[0]), max(p[0], q[0])))
    elif abs(p[0] - q[0]) <= 0.5 and abs(p[1] - q[1]) > 2 * _TOL:
        vs.append(_Seg((p[0] + q[0]) / 2, min(p[1], q[1]), max(p[1], q[1])))


# --------------------------------------------------------------------------- lattices


def _cluster(values: list[float], tol: float = _TOL) -> list[float]:
    """Sorted values, those within ``tol`` of the previous one taken as one (their mean)."""
    out: list[list[float]] = []
    for v in sorted(values):
        if out and v - out[-1][-1] <= tol:
            out[-1].append(v)
        else:
            out.append([v])
    return [sum(g) / len(g) for g in out]


def _merge(segs: list[_Seg]) -> list[_Seg]:
    """Collinear pieces joined: Word and LibreOffice draw a border cell by cell. Lines within ``_TOL``
    of each other are one line (grouped by position first: rounding ``pos`` could split such a group,
    and a short piece sorted after a long one would be swallowed by it)."""
    groups: list[list[_Seg]] = []
    for s in sorted(segs, key=lambda s: s.pos):
        if groups and s.pos - groups[-1][-1].pos <= _TOL:
            groups[-1].append(s)
        else:
            groups.append([s])
    out: list[_Seg] = []
    for group in groups:
        start = len(out)
        for s in sorted(group, key=lambda s: s.a):
            last = out[-1] if len(out) > start else None
            if last is not None and abs(last.pos - s.pos) <= _TOL and s.a <= last.b + _TOL:
                last.b = max(last.b, s.b)
            else:
                out.append(_Seg(s.pos, s.a, s.b))
    return out


class _Find:
    def __init__(self, n: int):
        self.up = list(range(n))

    def __call__(self, i: int) -> int:
        while self.up[i] != i:
            self.up[i] = self.up[self.up[i]]
            i = self.up[i]
        return i

    def join(self, i: int, j: int) -> None:
        self.up[self(i)] = self(j)


@dataclass
class _Lattice:
    xs: list[float]  # column boundaries, left to right
    ys: list[float]  # row boundaries, top to bottom (descending y)
    hs: list[_Seg]
    vs: list[_Seg]

    @property
    def top(self) -> float:
        return self.ys[0]

    @property
    def bottom(self) -> float:
        return self.ys[-1]

    def contains(self, c: _Char) -> bool:
        return self.xs[0] <= c.cx <= self.xs[-1] and self.ys[-1] <= c.cy <= self.ys[0]


def _lattices(hs: list[_Seg], vs: list[_Seg]) -> list[_Lattice]:
    """Groups of crossing ruling lines with at least two lines each way: one per table."""
    hs, vs = _merge(hs), _merge(vs)
    find = _Find(len(hs) + len(vs))
    for i, h in enumerate(hs):
        for j, v in enumerate(vs):
            if h.a - _TOL <= v.pos <= h.b + _TOL and v.a - _TOL <= h.pos <= v.b + _TOL:
                find.join(i, len(hs) + j)
    groups: dict[int, tuple[list[_Seg], list[_Seg]]] = {}
    for i, h in enumerate(hs):
        groups.setdefault(find(i), ([], []))[0].append(h)
    for j, v in enumerate(vs):
        groups.setdefault(find(len(hs) + j), ([], []))[1].append(v)
    out = []
    for gh, gv in groups.values():
        xs, ys = _cluster([v.pos for v in gv]), _cluster([h.pos for h in gh])
        if len(xs) >= 2 and len(ys) >= 2:
            out.append(_Lattice(xs, ys[::-1], gh, gv))
    return out


def _covered(segs: list[_Seg], pos: float, at: float) -> bool:
    return any(abs(s.pos - pos) <= _TOL and s.a - _TOL <= at <= s.b + _TOL for s in segs)


def _boxes(lat: _Lattice) -> tuple[_Find, dict[int, list[int]]]:
    """The lattice's boxes joined where no line separates them: root -> [r0, c0, r1, c1]."""
    nr, nc = len(lat.ys) - 1, len(lat.xs) - 1
    find = _Find(nr * nc)
    by_x: dict[int, list[_Seg]] = {}
    by_y: dict[int, list[_Seg]] = {}
    for j, x in enumerate(lat.xs):
        by_x[j] = [v for v in lat.vs if abs(v.pos - x) <= _TOL]
    for i, y in enumerate(lat.ys):
        by_y[i] = [h for h in lat.hs if abs(h.pos - y) <= _TOL]
    for i in range(nr):
        ymid = (lat.ys[i] + lat.ys[i + 1]) / 2
        for j in range(nc):
            xmid = (lat.xs[j] + lat.xs[j + 1]) / 2
            if j + 1 < nc and not _covered(by_x[j + 1], lat.xs[j + 1], ymid):
                find.join(i * nc + j, i * nc + j + 1)
            if i + 1 < nr and not _covered(by_y[i + 1], lat.ys[i + 1], xmid):
                find.join(i * nc + j, (i + 1) * nc + j)
    boxes: dict[int, list[int]] = {}
    for i in range(nr):
        for j in range(nc):
            b = boxes.setdefault(find(i * nc + j), [i, j, i, j])
            b[0], b[1], b[2], b[3] = min(b[0], i), min(b[1], j), max(b[2], i), max(b[3], j)
    return find, boxes


def _place(lat: _Lattice, find: _Find, chars: list[_Char]) -> dict[int, list[_Char]]:
    """Each cell's characters (by the box their centre falls in)."""
    nr, nc = len(lat.ys) - 1, len(lat.xs) - 1
    texts: dict[int, list[_Char]] = {}
    neg = [-y for y in lat.ys]
    for c in chars:
        j = bisect.bisect_right(lat.xs, c.cx) - 1
        i = bisect.bisect_right(neg, -c.cy) - 1
        if 0 <= i < nr and 0 <= j < nc:
            texts.setdefault(find(i * nc + j), []).append(c)
    return texts


def _band(chars: list[_Char], x: float) -> float:
    """The width of white space around ``x`` between the characters left and right of it: 0 when a
    character lies across ``x`` or none lies on one side."""
    left = [c.x1 for c in chars if c.cx < x]
    right = [c.x0 for c in chars if c.cx > x]
    if not left or not right or any(c.x0 + 0.5 < x < c.x1 - 0.5 for c in chars):
        return 0.0
    return max(min(right) - max(left), 0.0)


def _height(chars: list[_Char]) -> float:
    heights = sorted(c.y1 - c.y0 for c in chars)
    return max(heights[len(heights) // 2], 1.0) if heights else 1.0


def _split_columns(lat: _Lattice, chars: list[_Char], known: list[float] | None = None) -> _Lattice:
    """Column rules the PDF does not draw, put back (LibreOffice sometimes leaves one out in 表四:
    “结果维持 | 结果纠正” and “21 | 0” then share a cell). A lattice column is split where a band of white
    space at least ``_GAP`` characters wide runs through the text of every cell one column wide in
    it, and at least two of those cells (a header and a figure) print on both sides of the band; or
    at ``known`` (the rules of the same table's piece on another page) where no character lies across
    and one of those cells prints on both sides with at least ``_BAND`` characters of white between.
    The new rule runs through the cells one column wide and through wider cells printing on both
    sides of it with that much white between (two headers that lost the rule between them); other
    wider cells (a header over several columns) stay whole."""
    find, boxes = _boxes(lat)
    texts = _place(lat, find, chars)
    narrow: dict[int, list[list[_Char]]] = {}  # column -> the characters of each cell one column wide
    for root, (_r0, c0, _r1, c1) in boxes.items():
        if c0 == c1:
            narrow.setdefault(c0, []).append(texts.get(root, []))
    splits: list[float] = []
    for j, cells in narrow.items():
        every = [c for cs in cells for c in cs]
        if not every:
            continue
        h = _height(every)
        spans = sorted((c.x0, c.x1) for c in every)
        end = spans[0][1]
        for a, b in spans[1:]:
            if a - end >= _GAP * h:
                x = (a + end) / 2
                if sum(1 for cs in cells if _band(cs, x) > 0) >= 2:
                    splits.append(x)
            end = max(end, b)
        for x in known or []:
            if lat.xs[j] + _TOL < x < lat.xs[j + 1] - _TOL and not any(c.x0 + 0.5 < x < c.x1 - 0.5 for c in every):
                if any(_band(cs, x) >= _BAND * h for cs in cells):
                    splits.append(x)
    if not splits:
        return lat
    new_vs: list[_Seg] = []
    for x in splits:
        for root, (r0, c0, r1, c1) in boxes.items():
            if not lat.xs[c0] < x < lat.xs[c1 + 1]:
                continue
            cs = texts.get(root, [])
            if c0 == c1 or _band(cs, x) >= _BAND * _height(cs):
                new_vs.append(_Seg(x, lat.ys[r1 + 1], lat.ys[r0]))
    out = _Lattice(sorted(lat.xs + splits), lat.ys, lat.hs, lat.vs + new_vs)
    # a cell that is no rectangle (自然人 over two rows joined to 法人或其他组织 beside it, the rule
    # between them not drawn on this page) takes the new rule through the rows it spans
    find, boxes = _boxes(out)
    nc = len(out.xs) - 1
    area: dict[int, int] = {}
    for k in range((len(out.ys) - 1) * nc):
        area[find(k)] = area.get(find(k), 0) + 1
    more: list[_Seg] = []
    for root, (r0, c0, r1, c1) in boxes.items():
        if area[root] < (r1 - r0 + 1) * (c1 - c0 + 1):
            more += [_Seg(x, out.ys[r1 + 1], out.ys[r0]) for x in splits if out.xs[c0] < x < out.xs[c1 + 1]]
    if more:
        out = _Lattice(out.xs, out.ys, out.hs, out.vs + more)
    return out


def _lattice_table(lat: _Lattice, chars: list[_Char], xs: list[float] | None = None) -> DocTable:
    """The lattice's boxes joined where no line separates them; each cell's characters as text.
    ``xs``: the column boundaries shared with the pieces of the same table on other pages, so that a
    figure's column is the same in each piece."""
    find, boxes = _boxes(lat)
    texts = _place(lat, find, chars)
    xs = xs or lat.xs

    def col(x: float) -> int:
        return min(range(len(xs)), key=lambda k: abs(xs[k] - x))

    cells = []
    for root, (r0, c0, r1, c1) in boxes.items():
        first, last = col(lat.xs[c0]), col(lat.xs[c1 + 1])
        text = _cell_text(texts.get(root, []), lat.xs[c0], lat.xs[c1 + 1])
        cells.append(DocCell(r0, first, text, r1 - r0 + 1, max(last - first, 1)))
    cells.sort(key=lambda c: (c.row, c.col))
    return DocTable(number=0, cells=cells)


def _rows_of(chars: list[_Char]) -> list[list[_Char]]:
    """Characters in lines: by centre height, a line taking what lies within half a character of it."""
    lines: list[list[_Char]] = []
    for c in sorted(chars, key=lambda c: -c.cy):
        if lines:
            last = lines[-1]
            ref = last[0]
            if abs(ref.cy - c.cy) <= max(ref.y1 - ref.y0, c.y1 - c.y0, 1.0) * 0.5:
                last.append(c)
                continue
        lines.append([c])
    return [sorted(line, key=lambda c: c.x0) for line in lines]


def _line_text(line: list[_Char]) -> str:
    parts: list[str] = []
    prev = None
    for c in line:
        if prev is not None and c.x0 - prev.x1 > 0.6 * max(c.y1 - c.y0, 1.0):
            parts.append(" ")
        parts.append(c.ch)
        prev = c
    return "".join(parts)


def _text(chars: list[_Char]) -> str:
    return "\n".join(_line_text(line) for line in _rows_of(chars))


def _cell_text(chars: list[_Char], left: float, right: float) -> str:
    """A cell's text, line by line; a figure too long for its narrow column (Word wraps 5901 as
    “590” over “1”) is one figure again: every line digits only, each line but the last filling the
    cell (the next line's first digit would not fit before the right padding, taken as wide as the
    left one, at most ``_MAX_PAD``) and the next line right under it."""
    lines = _rows_of(chars)
    if len(lines) > 1 and all(c.ch.isdigit() for line in lines for c in line):
        pad = min(line[0].x0 for line in lines) - left
        wrapped = 0 <= pad <= _MAX_PAD and all(
            line[-1].x1 + (nxt[0].x1 - nxt[0].x0) > right - pad + 0.5
            and line[0].cy - nxt[0].cy <= 1.6 * max(line[0].y1 - line[0].y0, 1.0)
            and _line_text(line) == "".join(c.ch for c in line)
            for line, nxt in zip(lines, lines[1:], strict=False)
        )
        if wrapped:
            return "".join(c.ch for line in lines for c in line)
    return "\n".join(_line_text(line) for line in lines)


# --------------------------------------------------------------------------- pages without ruling lines


def _words(line: list[_Char]) -> list[list[_Char]]:
    """A line's words: characters closer than about a character's width."""
    out: list[list[_Char]] = []
    for c in line:
        if out and c.x0 - out[-1][-1].x1 <= 0.9 * max(c.y1 - c.y0, 1.0):
            out[-1].append(c)
        else:
            out.append([c])
    return out


def _stream_table(lines: list[list[_Char]]) -> DocTable:
    """Lines without ruling lines as a table: one row a line, a word in the column that its centre falls
    in, the columns being where the figures stand (their x ranges, overlapping ones joined)."""
    words = [[(w, "".join(c.ch for c in w)) for w in _words(line)] for line in lines]
    spans: list[list[float]] = []
    for line in words:
        for w, text in line:
            if _FIGURE.match(text):
                spans.append([w[0].x0, w[-1].x1])
    spans.sort()
    cols: list[list[float]] = []
    for a, b in spans:
        if cols and a <= cols[-1][1] + _TOL:
            cols[-1][1] = max(cols[-1][1], b)
        else:
            cols.append([a, b])
    starts = [a for a, _ in cols]
    cells: list[DocCell] = []
    for r, line in enumerate(words):
        used: dict[int, list[str]] = {}
        for w, text in line:
            cx = (w[0].x0 + w[-1].x1) / 2
            k = bisect.bisect_right(starts, cx)  # 0: left of every figure column (the labels)
            # a word over a figure column's range, or right of it up to the next: that column
            used.setdefault(k, []).append(text)
        for k, texts in sorted(used.items()):
            cells.append(DocCell(r, k, " ".join(texts)))
    return DocTable(number=0, cells=cells)


# --------------------------------------------------------------------------- the whole file


def read_pdf(data: bytes, file: str, name: str) -> Document:
    """A PDF's bytes -> Document, or SourceError (encrypted, scanned, over the limits)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as R

    started = time.monotonic()
    check_streams(data, name)
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if R.FPDF_GetLastError() == R.FPDF_ERR_PASSWORD or "password" in str(exc).lower():
            raise refuse("F-ENCRYPTED", name) from None
        raise refuse("F-CORRUPT", name, reason=f"PDF 无法打开：{exc}", hint="请重新导出 PDF 或提供 Word 版本") from None
    try:
        pages = len(pdf)
        if pages > max_pages():
            raise refuse("F-TOO-LARGE", name, what=f"有 {pages:,} 页", limit=f"{max_pages()} 页", hint=NOT_A_REPORT)
        blocks: list[_Block] = []
        any_text = False
        for p in range(pages):
            if time.monotonic() - started > MAX_SECONDS:
                raise _too_slow(name)
            page = pdf[p]
            textpage = page.get_textpage()
            try:
                chars = _chars(textpage.raw, name)
                hs, vs = _lines(page.raw, name)
            finally:
                textpage.close()
                page.close()
            any_text = any_text or bool(chars)
            blocks.extend(_page_blocks(p, chars, hs, vs))
    finally:
        pdf.close()
    if not any_text:
        raise refuse("F-SCANNED", name)
    return _document(blocks, file, name)


def _page_blocks(p: int, chars: list[_Char], hs: list[_Seg], vs: list[_Seg]) -> list[_Block]:
    """A page as tables and lines of text, top to bottom; page numbers dropped."""
    lattices = _lattices(hs, vs)
    out: list[_Block] = []
    rest = chars
    for lat in lattices:
        inside = [c for c in rest if lat.contains(c)]
        if not inside:
            continue
        rest = [c for c in rest if not lat.contains(c)]
        out.append(_Block(lat.top, lat.bottom, p, table=DocTable(0), lattice=lat, chars=inside))
    lines = [line for line in _rows_of(rest) if not _PAGE_NUMBER.match(_line_text(line).strip())]
    if not lattices:
        out.extend(_stream_blocks(p, lines))
    else:
        for line in lines:
            out.append(_Block(max(c.y1 for c in line), min(c.y0 for c in line), p, text=_line_text(line)))
    out.sort(key=lambda b: -b.top)
    return out


def _stream_blocks(p: int, lines: list[list[_Char]]) -> list[_Block]:
    """A page without ruling lines: runs of lines that print a label and a figure are a table, with
    the lines of two or more words just above the first (its header); the other lines are text."""
    out: list[_Block] = []
    run: list[list[_Char]] = []
    pending: list[list[_Char]] = []  # lines of several words since the last text line: a header?

    def text(line: list[_Char]) -> None:
        out.append(_Block(max(c.y1 for c in line), min(c.y0 for c in line), p, text=_line_text(line)))

    def flush() -> None:
        if run:
            out.append(_Block(max(c.y1 for c in run[0]), min(c.y0 for c in run[-1]), p, table=_stream_table(run[:])))
        run.clear()

    for line in lines:
        words = ["".join(c.ch for c in w) for w in _words(line)]
        if len(words) >= 2 and any(_FIGURE.match(w) for w in words[1:]):
            if not run:
                header = pending[-4:]
                for extra in pending[: len(pending) - len(header)]:
                    text(extra)
                run.extend(header)
            pending.clear()
            run.append(line)
        elif len(words) >= 2 and len(pending) < 8:
            if run and len(words) >= 3:
                run.append(line)  # a header or a wrapped row inside the table
                continue
            flush()
            pending.append(line)
        else:
            flush()
            for extra in pending:
                text(extra)
            pending.clear()
            text(line)
    flush()
    for extra in pending:
        text(extra)
    return out


def _build_lattices(blocks: list[_Block]) -> None:
    """Each ruled table's cells, the pieces of one table (continued on the next page) on shared columns."""
    pieces: list[list[_Block]] = []
    for b in blocks:
        if b.lattice is None:
            continue
        if pieces and b.table is not None and b.table.continues and pieces[-1][-1].lattice is not None:
            pieces[-1].append(b)
        else:
            pieces.append([b])
    for group in pieces:
        for b in group:
            b.lattice = _split_columns(b.lattice, b.chars)  # type: ignore[arg-type]
        if len(group) > 1:  # a rule drawn on one page and not on the other
            known = _cluster([x for b in group for x in b.lattice.xs])  # type: ignore[union-attr]
            for b in group:
                b.lattice = _split_columns(b.lattice, b.chars, known)  # type: ignore[arg-type]
        xs = _cluster([x for b in group for x in b.lattice.xs]) if len(group) > 1 else None  # type: ignore[union-attr]
        for b in group:
            built = _lattice_table(b.lattice, b.chars, xs)  # type: ignore[arg-type]
            b.table.cells = built.cells  # type: ignore[union-attr]
        for k in range(1, len(group)):
            join_broken_row(group[k - 1].table, group[k].table)  # type: ignore[arg-type]


def join_broken_row(before: DocTable, after: DocTable) -> bool:
    """A row the page break cut in two, made one again: ``after`` continues ``before`` on the next page.

    * The first row of ``after`` is the rest of the last row of ``before``: it prints no figure, or
      figures only under cells of that last row left empty (figures printed lower in their cells),
      no text of it starts with an item number (“（五）”, “4.”, “二、”: a new row) and it is no repeated
      header. Each of its texts (“社会\n公益” / “组织”, “4.无正当理由大量反” / “复申请”) is added to the
      cell of the last row over the same columns and the row is dropped.
    * Otherwise a cell over several rows cut by the break (“（五\n）不\n予处” / “理”): a cell of the first
      row spanning rows whose text starts with no item number gives its text to the cell with text over
      the same columns above it.

    A first row printing nothing is dropped. Nothing is joined when a cell of the first row has no cell
    over exactly the same columns above it.
    True when something was joined."""
    if not before.cells or not after.cells:
        return False
    last = before.nrows - 1
    grid = before.grid()
    first = [c for c in after.cells if c.row == 0]
    above: dict[int, DocCell] = {}
    for c in first:
        over = grid[last][c.col] if c.col < len(grid[last]) else None
        if over is None or over.col != c.col or over.colspan != c.colspan:
            return False
        above[c.col] = over
    texts = [c for c in first if c.text.strip()]
    if not texts:  # the cut row's rest printed nothing (表四's header over two rows, cut under them)
        after.cells = _drop_first_row(after.cells)
        return True
    figures = [c for c in texts if _FIGURE.match("".join(c.text.split()))]
    words = [c for c in texts if c not in figures]
    header = {c.text.strip() for c in before.cells if c.text.strip()}
    whole_row = (
        bool(words)
        and all(not above[c.col].text.strip() for c in figures)
        and not any(_ITEM.match(c.text) for c in words)
        and not all(c.text.strip() in header for c in texts)
    )
    if whole_row:
        moved = texts
    else:
        moved = [c for c in words if c.rowspan > 1 and above[c.col].text.strip() and not _ITEM.match(c.text)]
        if not moved:
            return False
    joined = {above[c.col]: _joined(above[c.col].text, c.text) for c in moved}
    before.cells = [
        DocCell(c.row, c.col, joined[c], c.rowspan, c.colspan, c.ref) if c in joined else c for c in before.cells
    ]
    if not whole_row:
        after.cells = [DocCell(c.row, c.col, "", c.rowspan, c.colspan, c.ref) if c in moved else c for c in after.cells]
        return True
    after.cells = _drop_first_row(after.cells)
    return True


def _drop_first_row(cells: list[DocCell]) -> list[DocCell]:
    """The cells without the first row: a cell over more rows than it goes on, its text given away."""
    rest: list[DocCell] = []
    for c in cells:
        if c.row > 0:
            rest.append(DocCell(c.row - 1, c.col, c.text, c.rowspan, c.colspan, c.ref))
        elif c.rowspan > 1:
            rest.append(DocCell(0, c.col, "", c.rowspan - 1, c.colspan, c.ref))
    return rest


def _joined(a: str, b: str) -> str:
    a, b = a.rstrip(), b.strip()
    return f"{a}\n{b}" if a and b else a or b


def _document(blocks: list[_Block], file: str, name: str) -> Document:
    from xltool.read.sources.docx import _title

    doc = Document(file=file, kind="pdf")
    lines: list[str] = []
    leading: list[str] = []
    since: list[str] = []
    for b in blocks:
        if b.table is None:
            lines.append(b.text)
            since.append(b.text)
            if not doc.tables:
                leading.append(b.text)
            continue
        if len(doc.tables) >= MAX_TABLES:
            raise refuse("F-TOO-LARGE", name, what="的表格个数", limit=f"{MAX_TABLES} 个", hint=NOT_A_REPORT)
        b.table.number = len(doc.tables) + 1
        b.table.caption = since[-1].strip()[:MAX_CAPTION] if since else ""
        b.table.continues = bool(doc.tables) and not since
        doc.tables.append(b.table)
        since = []
    _build_lattices(blocks)
    cells = sum(len(t.cells) for t in doc.tables)
    if cells > MAX_CELLS:
        raise refuse("F-TOO-LARGE", name, what="的表格单元格个数", limit=f"{MAX_CELLS:,} 个", hint=NOT_A_REPORT)
    doc.text = "\n".join(lines)[:MAX_TEXT]
    doc.title = _title([t.strip() for t in leading if t.strip()])
    return doc
