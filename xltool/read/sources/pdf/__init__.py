"""PDF with a text layer -> Document: tables rebuilt from where the characters and ruling lines are.

A text dump of a report's PDF loses the table (the vertical 三、本年度办理结果 comes out one character
per line, a wrapped label's figures sit on its second line, 商业企 / 业 breaks in two, a page footer
“- 4 -” falls between two rows of 表三). So the characters are read with their boxes (PDFium through
pypdfium2: Apache-2.0/BSD-3, wheels with PDFium built in, fast enough for hundreds of reports) and
placed into cells:

* with ruling lines (what Word, WPS and LibreOffice print): the lines of each table make a lattice;
  a cell is a run of lattice boxes with no line between them (merged cells), its text every character
  whose centre lies in it, line by line. A label printed one character per line, a wrapped label and
  a header broken over lines are then one cell, as printed. A row a page break cut with no rule
  drawn across the cut (WPS, Chromium) ends where the outer column rules end, and a column whose one
  merged cell fills the page keeps its outer rule; a character whose loose box PDFium makes far
  larger than its font (a vertical font, as WPS sets a tall merged cell's label) is placed by its
  glyph;
* without ruling lines on a page: its lines of text, words split at wide gaps, become rows; columns
  come from the x positions of the figures (a word belongs to the column its centre falls in).

Page numbers (“- 4 -”, “第 4 页”) are dropped; a table whose page ends and whose next piece starts the
next page with nothing printed between is marked ``continues`` (the locator joins 表三 again).

A PDF with no text layer on any page (a scan) is read by OCR (``xltool.read.sources.scan``) when the
``ocr`` extra is installed. Refused, one ``SourceError`` each (the codes are in ``xltool.catalogue``): a
password, a scan without the extra, more pages than ``XLTOOL_MAX_PDF_PAGES`` (200), a stream that decodes past the bounds or a
page's content past ``MAX_CONTENT_INFLATED`` (checked on the raw bytes before PDFium parses anything,
whatever the filter chain), more characters than ``MAX_CHARS_PER_PAGE`` on a page or
``MAX_CHARS_PER_DOCUMENT`` in all, more than ``MAX_SECONDS`` of work.

The stages, each a module: ``streams`` (the bomb check on the raw bytes) -> ``extract`` (PDFium's
characters and rules, the security bounds) -> ``rulings`` (rules into lattices) -> ``cells`` and ``columns`` (a
lattice's cells and their text, undrawn column rules put back) -> ``tables`` (a page as tables and
text: lattice and stream strategies) -> ``joins`` (the pages as one Document, tables continued over a
page break). Their tolerances are one ``PdfSettings`` (``settings``).
"""

from __future__ import annotations

import time
from typing import Any

from xltool.read.document import Document
from xltool.read.sources.limits import NOT_A_REPORT, refuse
from xltool.read.sources.pdf.extract import (
    MAX_CHARS_PER_DOCUMENT,
    MAX_CHARS_PER_PAGE,
    MAX_CONTENT_INFLATED,
    MAX_OBJECTS_PER_PAGE,
    MAX_PAGES,
    MAX_SECONDS,
    MAX_STREAM_INFLATED,
    MAX_TOTAL_INFLATED,
    check_streams,
    max_pages,
    page_chars,
    page_rulings,
    too_slow,
)
from xltool.read.sources.pdf.joins import MAX_CAPTION, assemble, join_broken_row
from xltool.read.sources.pdf.settings import DEFAULT, PdfSettings
from xltool.read.sources.pdf.tables import Block, page_blocks

__all__ = [
    "DEFAULT",
    "MAX_CAPTION",
    "MAX_CHARS_PER_DOCUMENT",
    "MAX_CHARS_PER_PAGE",
    "MAX_CONTENT_INFLATED",
    "MAX_OBJECTS_PER_PAGE",
    "MAX_PAGES",
    "MAX_SECONDS",
    "MAX_STREAM_INFLATED",
    "MAX_TOTAL_INFLATED",
    "PdfSettings",
    "check_streams",
    "join_broken_row",
    "max_pages",
    "read_pdf",
]


def read_pdf(data: bytes, file: str, name: str, settings: PdfSettings = DEFAULT) -> Document:
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
        raise refuse(
            "F-CORRUPT", name, reason="PDF 无法打开", hint="请重新导出 PDF 或提供 Word 版本", library_text=str(exc)
        ) from None
    try:
        blocks, any_text = _read_pages(pdf, name, started, settings)
        if not any_text:  # a scan: OCR when the extra is installed, else F-SCANNED saying how
            from xltool.read.sources.scan import read_scanned_pdf

            return read_scanned_pdf(pdf, file, name, settings)
    finally:
        pdf.close()
    return assemble(blocks, file, name, settings)


def _read_pages(pdf: Any, name: str, started: float, settings: PdfSettings) -> tuple[list[Block], bool]:
    """Every page's blocks, and whether any page printed a character."""
    pages = len(pdf)
    if pages > max_pages():
        raise refuse("F-TOO-LARGE", name, what=f"有 {pages:,} 页", limit=f"{max_pages()} 页", hint=NOT_A_REPORT)
    blocks: list[Block] = []
    any_text = False
    printed = 0  # characters of the pages read so far
    for p in range(pages):
        if time.monotonic() - started > MAX_SECONDS:
            raise too_slow(name)
        page = pdf[p]
        textpage = page.get_textpage()
        try:
            chars = page_chars(textpage.raw, name, settings, printed)
            printed += textpage.count_chars()
            hs, vs = page_rulings(page.raw, name, settings)
        finally:
            textpage.close()
            page.close()
        any_text = any_text or bool(chars)
        blocks.extend(page_blocks(p, chars, hs, vs, settings))
    return blocks, any_text
