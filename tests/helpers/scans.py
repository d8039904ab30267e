"""Scans made from real PDFs, degraded as a scanner and a stamp degrade them, cached between runs.

A page is rendered at 150 dpi (PDFium), a red round seal with text is stamped over part of the
page's table (when the page has one, in the lower half), then the page is turned 0.7°, blurred and
saved as a JPEG of quality 60 (what an office scanner's "PDF" holds), and the pages packed as an
image-only PDF (Pillow). They are cached in ``tests/corpus/.derived`` (ignored by git), named after
the source's SHA-256 and the recipe, so a changed source or recipe is made again.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from helpers.corpus import DERIVED

DPI = 150
ANGLE = 0.7
JPEG_QUALITY = 60
RECIPE = f"scan-{DPI}-{ANGLE}-{JPEG_QUALITY}-seal-v1"
CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"


def render_pages(pdf: Path, dpi: int = DPI) -> list[Image.Image]:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        return [doc[p].render(scale=dpi / 72).to_pil().convert("RGB") for p in range(len(doc))]
    finally:
        doc.close()


def stamp_seal(page: Image.Image, centre: tuple[int, int], radius: int = 110) -> Image.Image:
    """A translucent red round seal (ring, star, text) over ``page`` at ``centre``."""
    seal = Image.new("RGBA", page.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(seal)
    red = (220, 30, 30, 170)
    x, y = centre
    draw.ellipse((x - radius, y - radius, x + radius, y + radius), outline=red, width=7)
    draw.regular_polygon((x, y, radius // 4), 5, fill=red)
    font = ImageFont.truetype(CJK_FONT, radius // 4)
    draw.text((x, y + radius // 3), "政务公开专用章", fill=red, font=font, anchor="mm")
    draw.text((x, y - radius // 2), "人民政府办公室", fill=red, font=font, anchor="mm")
    return Image.alpha_composite(page.convert("RGBA"), seal).convert("RGB")


def degrade(page: Image.Image, seal_at: tuple[int, int] | None = None) -> Image.Image:
    """As a scanner gives it back: a seal stamped, turned ``ANGLE``°, blurred, JPEG at ``JPEG_QUALITY``."""
    if seal_at is not None:
        page = stamp_seal(page, seal_at)
    page = page.rotate(ANGLE, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=(255, 255, 255))
    page = page.filter(ImageFilter.GaussianBlur(0.8))
    buf = io.BytesIO()
    page.save(buf, "JPEG", quality=JPEG_QUALITY)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def _table_spot(page: Image.Image) -> tuple[int, int] | None:
    """Where a seal covers part of the page's table: right of centre, in the lower half, when the
    page has long dark horizontal lines there (a table's rules); None on a page of text."""
    gray = page.convert("L")
    w, h = gray.size
    px = gray.load()
    rows = [
        y for y in range(h // 2, h - 50, 3) if sum(1 for x in range(w // 4, 3 * w // 4, 4) if px[x, y] < 128) > w // 8
    ]
    if not rows:
        return None
    return (int(w * 0.62), rows[len(rows) // 2])


def degraded_scan(pdf: Path, pages: list[Image.Image] | None = None, name: str = "") -> Path:
    """``pdf`` as a degraded image-only PDF (seal on its first page with a table), made now or cached."""
    digest = hashlib.sha256(pdf.read_bytes()).hexdigest()[:12]
    target = DERIVED / f"{name or pdf.stem}-{digest}-{RECIPE}.pdf"
    if target.is_file():
        return target
    DERIVED.mkdir(exist_ok=True)
    images = pages if pages is not None else render_pages(pdf)
    out: list[Image.Image] = []
    sealed = False
    for img in images:
        spot = None if sealed else _table_spot(img)
        sealed = sealed or spot is not None
        out.append(degrade(img, spot))
    tmp = target.with_suffix(".tmp")
    out[0].save(tmp, "PDF", save_all=True, append_images=out[1:], resolution=DPI)
    tmp.replace(target)
    return target


def scan_pages(scan: Path) -> list[Image.Image]:
    """The page images of an image-only PDF, as they were packed."""
    return render_pages(scan)


def paint_figure(page: Image.Image, box: tuple[int, int, int, int], text: str) -> Image.Image:
    """``page`` with the figure in ``box`` (pixels) painted over in white and ``text`` printed there."""
    out = page.copy()
    draw = ImageDraw.Draw(out)
    draw.rectangle(box, fill=(255, 255, 255))
    x0, y0, x1, y1 = box
    font = ImageFont.truetype(CJK_FONT, int((y1 - y0) * 0.8))
    draw.text(((x0 + x1) // 2, (y0 + y1) // 2), text, fill=(0, 0, 0), font=font, anchor="mm")
    return out
