"""A scanned report (a PDF of page images, or a .png/.jpg page) read by OCR, placed like a text PDF.

A unit often publishes the scan of its stamped paper copy: no text layer. With the optional extra
(``pip install "xltool[ocr]"``: RapidOCR, PP-OCR models in ONNX, Apache-2.0, CPU only) each page image
becomes words with their boxes and confidence, the same shape PDFium gives for a text layer, and the
PDF reader's stages place them (``pdf.tables.page_blocks``, ``pdf.joins.assemble``): the tables' ruling
lines are found in the image (long runs of ink, OpenCV morphology), the page is first turned straight
by the slope of those lines. The red channel is read, so a red seal over a table fades out.

Every character keeps OCR's confidence (``Char.conf``, then ``DocCell.confidence``); what is done with
it (O-LOW-CONFIDENCE, O-NOT-READ, the 勾稽关系 findings naming the unsure cells) is
``xltool.read.from_document``'s and ``xltool.rules.schema``'s. Nothing is guessed: a figure OCR did not
return stays unread.

Bounds (findings name them; README): ``MAX_SCAN_PAGES`` pages, ``MAX_PAGE_PIXELS`` pixels a page (a
larger page is rendered smaller, an image file over it refused), ``max_ocr_seconds()`` of OCR a document.
"""

from __future__ import annotations

import io
import math
import os
import re
import time
import warnings
from dataclasses import replace
from functools import cache
from typing import Any

from xltool.read.bounds import cores, need_memory, need_seconds
from xltool.read.document import Document
from xltool.read.scanned import SCAN
from xltool.read.sources.limits import MB, NOT_A_REPORT, SourceError, refuse
from xltool.read.sources.pdf.cells import cell_boxes, place
from xltool.read.sources.pdf.extract import Char, Seg
from xltool.read.sources.pdf.joins import assemble
from xltool.read.sources.pdf.rulings import Lattice
from xltool.read.sources.pdf.settings import DEFAULT, PdfSettings
from xltool.read.sources.pdf.tables import Block, page_blocks

DPI = 150
"""A scanned page is rendered (and an image taken to be) at this resolution: PP-OCR reads a report's
10.5-point figures well at 150 dpi, at about 2–3 s a page on 2 cores."""
MAX_SCAN_PAGES = 20
"""A report is 5–20 pages; OCR costs seconds a page."""
MAX_PAGE_PIXELS = 12_000_000
"""An A4 page at 150 dpi is 2.2 million pixels; a larger PDF page is rendered smaller to fit, an image
file over it is refused (Pillow's decompression-bomb guard is set to it)."""
MAX_OCR_SECONDS = 90
"""Seconds of OCR for one document (``XLTOOL_MAX_OCR_SECONDS``); 10 pages take about 30 s on 2 cores."""
OCR_MEMORY_MB = 1536
"""Address space a worker reading a scan may add (``XLTOOL_MAX_OCR_MB``): OpenCV, ONNX Runtime and the
models map about 900 MB, of which about 550 MB is resident at the peak of a page (measured)."""
WATCHDOG_SLACK = 30
"""Seconds the isolated reader's watchdog waits past ``max_ocr_seconds()``: the page under way when the
time runs out is finished (up to ~10 s on a busy machine), and the tables placed."""
INK = 150
"""A pixel of the red channel darker than this is print (a red seal is light there)."""
LINE_INK = 185
"""Lighter for ruling lines: a hairline rule blurred by the scanner is grey, not black."""
LINE_PX = 30
"""A run of ink at least this long (at ``DPI``) is a ruling line: longer than a character's stroke,
shorter than the narrowest cell."""
ORIENTATION_SAMPLE = 12
"""Lines of text the direction classifier looks at to tell an upside-down or sideways page."""
CELL_INSET = 4
"""Pixels left out along a cell's edges when it is read again: its rules' ink."""
MAX_CELL_PX = 400
"""A cell larger than this either way is a label or a merged header, not a figure: not read again."""
MIN_INK_PIXELS = 12
"""Dark pixels in a cell that make it printed (JPEG noise and a rule's blur leave fewer)."""
LIKE_ZERO = re.compile(r"[。○〇oO°·.]")
"""What OCR makes of a lone 0 in a cell when it reads the cell with its row: read again alone."""
HINT_OFF = "OCR 已关闭（XLTOOL_OCR=0），未识别"
HINT_ENABLE = '可安装 OCR 组件（pip install "xltool[ocr]"）后重新读取，数字经识别后逐一用勾稽关系核对'


def ocr_available() -> bool:
    """Whether the optional OCR extra is installed (and not turned off: ``XLTOOL_OCR=0``)."""
    if ocr_off():
        return False
    try:
        import cv2  # noqa: F401
        import rapidocr_onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def ocr_off() -> bool:
    """``XLTOOL_OCR=0``: scans get F-SCANNED even with the extra (a batch that should not wait for OCR)."""
    return os.environ.get("XLTOOL_OCR", "1").strip() == "0"


def _not_read(name: str) -> SourceError:
    return refuse("F-SCANNED", name, hint=HINT_OFF if ocr_off() else HINT_ENABLE)


def ocr_memory_bytes() -> int:
    try:
        return max(0, int(os.environ.get("XLTOOL_MAX_OCR_MB", OCR_MEMORY_MB))) * MB
    except ValueError:
        return OCR_MEMORY_MB * MB


def _make_room() -> None:
    """Ask the isolated reader for OCR's time and memory (its limits are set for text documents)."""
    need_seconds(max_ocr_seconds() + WATCHDOG_SLACK)
    need_memory(ocr_memory_bytes())


def max_ocr_seconds() -> float:
    try:
        return float(os.environ.get("XLTOOL_MAX_OCR_SECONDS", MAX_OCR_SECONDS))
    except ValueError:
        return float(MAX_OCR_SECONDS)


@cache
def _engine() -> Any:
    """One OCR engine a process (loading the models takes a fraction of a second and ~100 MB)."""
    from rapidocr_onnxruntime import RapidOCR

    # text_score below the default 0.5: an unsure figure is kept and named, not lost. Threads: this
    # reader's share of the cores (``bounds.cores``): ONNX Runtime's spinning threads take 2-3 times as
    # long when another reader keeps a core busy
    return RapidOCR(text_score=0.3, intra_op_num_threads=cores(), inter_op_num_threads=1)


# --------------------------------------------------------------------------- documents


def read_scanned_pdf(pdf: Any, file: str, name: str, settings: PdfSettings = DEFAULT) -> Document:
    """A PDF whose pages print no text (``pdf``: an open ``pypdfium2.PdfDocument``) read by OCR;
    F-SCANNED naming how to enable OCR when the extra is not installed."""
    _make_room()
    if not ocr_available():
        raise _not_read(name)
    pages = len(pdf)
    if pages > MAX_SCAN_PAGES:
        raise _too_many(name, pages)
    reader = _Pages(name, settings)
    for p in range(pages):
        page = pdf[p]
        try:
            w, h = page.get_size()
            scale = min(DPI / 72, math.sqrt(MAX_PAGE_PIXELS / max(w * h, 1.0)))
            bitmap = page.render(scale=scale)
            rgb = bitmap.to_numpy()[:, :, :3].copy()  # BGR(A) from PDFium: channel 2 is red
            bitmap.close()
        finally:
            page.close()
        reader.page(p, rgb[:, :, 2], scale)
    return reader.document(file)


def read_image(data: bytes, file: str, name: str, settings: PdfSettings = DEFAULT) -> Document:
    """A page given as a .png or .jpg, read by OCR as one scanned page at ``DPI``."""
    _make_room()
    if not ocr_available():
        raise _not_read(name)
    import numpy as np
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_PAGE_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)  # over the limit: refused, not warned
            with Image.open(io.BytesIO(data)) as img:
                red = np.asarray(img.convert("RGB"))[:, :, 0].copy()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(name) from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise refuse("F-CORRUPT", name, reason="图片无法打开", hint="请重新扫描或导出", library_text=str(exc)) from None
    reader = _Pages(name, settings)
    reader.page(0, red, DPI / 72)
    return reader.document(file)


def _too_many(name: str, pages: int) -> SourceError:
    return refuse(
        "F-TOO-LARGE", name, what=f"是 {pages} 页的扫描件", limit=f"OCR 识别 {MAX_SCAN_PAGES} 页", hint=NOT_A_REPORT
    )


def _too_many_pixels(name: str) -> SourceError:
    return refuse(
        "F-TOO-LARGE",
        name,
        what="的图片像素过多",
        limit=f"一页 {MAX_PAGE_PIXELS / 1e6:.0f} 百万像素",
        hint="请以 150–300 dpi 重新扫描",
    )


SCAN_MAX_PAD = 10.0
"""Points: a cell's inner margin at most, in a scan (``PdfSettings.max_pad``): OCR's boxes are loose by
a pixel or two, and a figure Word wrapped in a narrow centred cell starts its lines that far in."""


class _Pages:
    """The blocks of the pages OCR'd so far, within the time of one document."""

    def __init__(self, name: str, settings: PdfSettings) -> None:
        self.name = name
        self.settings = replace(settings, max_pad=max(settings.max_pad, SCAN_MAX_PAD))
        self.blocks: list[Block] = []
        self.started = time.monotonic()
        self.any_text = False

    def page(self, p: int, red: Any, scale: float) -> None:
        """One page image (its red channel, ``scale`` pixels a point) OCR'd into blocks."""
        if time.monotonic() - self.started > max_ocr_seconds():
            raise refuse(
                "F-TOO-LARGE",
                self.name,
                what=f"的 OCR 识别在第 {p + 1} 页用时",
                limit=f"每份文件 {max_ocr_seconds():.0f} 秒",
                hint="请提供有文字层的 PDF、Word 或网页版本",
            )
        red, chars, hs, vs = ocr_page(red, scale)
        self.any_text = self.any_text or bool(chars)
        blocks = page_blocks(p, chars, hs, vs, self.settings)
        for b in blocks:
            if b.lattice is not None:
                b.chars.extend(reread_empty_cells(red, scale, b.lattice, b.chars, self.settings))
        self.blocks.extend(blocks)

    def document(self, file: str) -> Document:
        if not self.any_text:
            raise refuse("F-SCANNED", self.name, hint="OCR 也未能从图片中识别出文字")
        doc = assemble(self.blocks, file, self.name, self.settings)
        doc.kind = SCAN
        return doc


# --------------------------------------------------------------------------- one page


def ocr_page(red: Any, scale: float) -> tuple[Any, list[Char], list[Seg], list[Seg]]:
    """A page image (one channel, ``scale`` pixels a point) turned upright (``_turns``: a page scanned
    sideways or upside down is read again turned) and straight (``skew``), and its characters and
    ruling lines in PDF space (points, y upwards)."""
    import numpy as np

    red = _straight(red, scale)
    result, _ = _engine()(np.ascontiguousarray(red), return_word_box=True)
    turns = _turns(red, result or [])
    if turns:
        red = _straight(np.ascontiguousarray(np.rot90(red, turns)), scale)
        result, _ = _engine()(red, return_word_box=True)
    height = red.shape[0] / scale
    hs, vs = rulings(red, scale, height)
    chars = [c for item in result or [] for c in _chars(item, scale, height)]
    return red, chars, hs, vs


def _straight(red: Any, scale: float) -> Any:
    """The page turned by its slope (``skew``) when it has one."""
    import cv2

    angle = skew(red, scale)
    if abs(angle) < 0.05:
        return red
    h, w = red.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(red, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)


def _turns(red: Any, result: list[Any]) -> int:
    """Quarter turns (counter-clockwise, as ``numpy.rot90``) that make the page upright: sideways when
    most lines of text are taller than wide; upside down (or which way sideways) by PP-OCR's direction
    classifier on the longest lines, turned as they would be."""
    import numpy as np

    lines = [_extent(item[0]) for item in result if len(str(item[1]).strip()) >= 3]
    if len(lines) < 3:
        return 0
    sideways = 2 * sum(1 for x0, x1, y0, y1 in lines if y1 - y0 > 1.5 * (x1 - x0)) > len(lines)
    longest = sorted(lines, key=lambda b: -max(b[1] - b[0], b[3] - b[2]))[:ORIENTATION_SAMPLE]
    crops = []
    for x0, x1, y0, y1 in longest:
        crop = red[int(y0) : int(y1), int(x0) : int(x1)]
        crop = np.rot90(crop, 1) if sideways else crop
        crops.append(np.ascontiguousarray(np.dstack([crop] * 3)))
    _, labels, _ = _engine().text_cls(crops)
    flipped = 2 * sum(1 for label, score in labels if label == "180" and score >= 0.9) > len(labels)
    if sideways:
        return 3 if flipped else 1
    return 2 if flipped else 0


def reread_empty_cells(red: Any, scale: float, lat: Lattice, chars: list[Char], settings: PdfSettings) -> list[Char]:
    """The cells of a ruled table where OCR found no word but the image has ink, or only a mark a lone
    0 is taken for (``LIKE_ZERO``, removed from ``chars``), read again alone (recognition only: the
    detector misses a lone thin "1" or "0"). A cell whose ink still reads as nothing gets one empty
    character of confidence 0: a figure seen and not read, never a guess."""
    import numpy as np

    find, boxes = cell_boxes(lat, settings)
    filled = place(lat, find, chars)
    for root, inside in list(filled.items()):
        if LIKE_ZERO.fullmatch("".join(c.ch for c in inside)):  # "。" or "○" for a lone 0: read it alone
            del filled[root]
            gone = {id(c) for c in inside}
            chars[:] = [c for c in chars if id(c) not in gone]
    height = red.shape[0] / scale
    out: list[Char] = []
    for root, (r0, c0, r1, c1) in boxes.items():
        if root in filled:
            continue
        x0, x1 = round(lat.xs[c0] * scale) + CELL_INSET, round(lat.xs[c1 + 1] * scale) - CELL_INSET
        y0, y1 = (
            round((height - lat.ys[r0]) * scale) + CELL_INSET,
            round((height - lat.ys[r1 + 1]) * scale) - CELL_INSET,
        )
        if not (0 < x1 - x0 <= MAX_CELL_PX and 0 < y1 - y0 <= MAX_CELL_PX):
            continue
        ys, xs = np.nonzero(red[y0:y1, x0:x1] < INK)
        if len(ys) < MIN_INK_PIXELS:
            continue  # printed blank
        box = (float(x0 + xs.min()), float(x0 + xs.max() + 1), float(y0 + ys.min()), float(y0 + ys.max() + 1))
        text, score = _read_alone(red, box)
        out.extend(_shared_out(box, text, score, scale, height) if text else [_char("", *box, 0.0, scale, height)])
    return out


def _read_alone(red: Any, box: tuple[float, float, float, float]) -> tuple[str, float]:
    """The text of the ink in ``box`` (pixels), recognised alone, cropped as a line detector would
    crop it (a margin of 0.3 its height: a lone 0 in a tall crop reads as "。")."""
    x0, x1, y0, y1 = (int(v) for v in box)
    pad = max(2, int((y1 - y0) * 0.3))
    crop = red[max(0, y0 - pad) : y1 + pad, max(0, x0 - pad) : x1 + pad]
    result, _ = _engine()(crop, use_det=False, use_cls=False)
    return (str(result[0][0]).strip(), float(result[0][1])) if result else ("", 0.0)


def _kernel(scale: float) -> int:
    return max(10, round(LINE_PX * scale / (DPI / 72)))


def _line_masks(red: Any, scale: float) -> tuple[Any, Any]:
    """The ink that lies on long horizontal and on long vertical runs."""
    import cv2
    import numpy as np

    ink = (red < LINE_INK).astype(np.uint8) * 255
    k = _kernel(scale)
    horizontal = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (k, 1)))
    vertical = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, k)))
    return horizontal, vertical


def skew(red: Any, scale: float) -> float:
    """The page's slope in degrees (counter-clockwise positive, as OpenCV rotates): the median slope
    of its long horizontal lines; 0 without such lines."""
    import cv2

    horizontal, _ = _line_masks(red, scale)
    contours, _ = cv2.findContours(horizontal, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    slopes: list[float] = []
    for c in contours:
        _x, _y, w, _h = cv2.boundingRect(c)
        if w < 8 * _kernel(scale):
            continue
        vx, vy, _cx, _cy = (float(v) for v in cv2.fitLine(c, cv2.DIST_L2, 0, 0.01, 0.01).ravel())
        slopes.append(math.degrees(math.atan2(vy, vx)))
    if not slopes:
        return 0.0
    slopes = [s - 180 if s > 90 else s + 180 if s < -90 else s for s in slopes]
    slopes.sort()
    median = slopes[len(slopes) // 2]
    return median if abs(median) <= 5 else 0.0


def rulings(red: Any, scale: float, height: float) -> tuple[list[Seg], list[Seg]]:
    """The ruling lines of a (straight) page image, in PDF space: each connected run of line ink that
    meets a line across it (``_kept``)."""
    import cv2

    horizontal, vertical = _line_masks(red, scale)
    hs: list[Seg] = []
    vs: list[Seg] = []
    for mask, out, along in ((horizontal, hs, True), (vertical, vs, False)):
        _n, _labels, stats, _c = cv2.connectedComponentsWithStats(mask, connectivity=8)
        for x, y, w, h, _area in stats[1:].tolist():
            if along and h <= w:
                out.append(Seg(height - (y + h / 2) / scale, x / scale, (x + w) / scale))
            elif not along and w <= h:
                out.append(Seg((x + w / 2) / scale, height - (y + h) / scale, height - y / scale))
    long = 2 * _kernel(scale) / scale
    return _kept(hs, vs, long), _kept(vs, hs, long)


def _kept(segs: list[Seg], across: list[Seg], long: float, tol: float = 3.0) -> list[Seg]:
    """The rules among ``segs``: a long one meeting a line across it; a short one (under ``long``
    points: the rule between two cells of one low row) meeting a long line across at both its ends.
    A bold title's strokes cross only each other."""
    longs = [o for o in across if o.b - o.a >= long]

    def meets(o: Seg, s: Seg, at: float) -> bool:
        return o.a - tol <= s.pos <= o.b + tol and abs(o.pos - at) <= tol

    out: list[Seg] = []
    for s in segs:
        if s.b - s.a >= long:
            if any(o.a - tol <= s.pos <= o.b + tol and s.a - tol <= o.pos <= s.b + tol for o in across):
                out.append(s)
        elif any(meets(o, s, s.a) for o in longs) and any(meets(o, s, s.b) for o in longs):
            out.append(s)
    return out


def _chars(item: Any, scale: float, height: float) -> list[Char]:
    """One OCR'd line as characters, each in its own box (RapidOCR's word boxes) with its confidence;
    the line's box shared out by width when the boxes do not match the characters."""
    box, text, score = item[0], str(item[1]), float(item[2])
    boxes = item[3] if len(item) > 5 else []
    letters = list(item[4]) if len(item) > 5 else []
    scores = list(item[5]) if len(item) > 5 else []
    if len(boxes) != len(letters) or "".join(letters).replace(" ", "") != text.replace(" ", ""):
        return _shared_out(_extent(box), text, score, scale, height)
    out: list[Char] = []
    for quad, ch, s in zip(boxes, letters, scores, strict=True):
        for k, letter in enumerate(ch):  # a word box may hold more than one character
            if not letter.strip():
                continue
            x0, x1, y0, y1 = _extent(quad)
            width = (x1 - x0) / len(ch)
            out.append(_char(letter, x0 + k * width, x0 + (k + 1) * width, y0, y1, float(s), scale, height))
    return out


def _shared_out(
    extent: tuple[float, float, float, float], text: str, score: float, scale: float, height: float
) -> list[Char]:
    x0, x1, y0, y1 = extent
    weights = [1.0 if ord(ch) >= 0x2E80 else 0.55 for ch in text]
    unit = (x1 - x0) / max(sum(weights), 1e-9)
    out: list[Char] = []
    at = x0
    for ch, w in zip(text, weights, strict=True):
        if ch.strip():
            out.append(_char(ch, at, at + w * unit, y0, y1, score, scale, height))
        at += w * unit
    return out


def _extent(quad: Any) -> tuple[float, float, float, float]:
    xs = [float(p[0]) for p in quad]
    ys = [float(p[1]) for p in quad]
    return min(xs), max(xs), min(ys), max(ys)


def _char(ch: str, x0: float, x1: float, y0: float, y1: float, conf: float, scale: float, height: float) -> Char:
    """A character's pixel box (y downwards) in PDF space."""
    return Char(ch, x0 / scale, x1 / scale, height - y1 / scale, height - y0 / scale, conf)
