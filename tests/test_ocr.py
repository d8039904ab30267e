"""Scanned reports read by OCR (the ``ocr`` extra), as a clerk gets them: real reports and our own
published ones printed, scanned (150 dpi, turned 0.7°, blurred, JPEG), a red seal over the table, and
read through ``validate_paths`` (the isolated reader). Every figure is exact or named at its cell;
a digit altered in the image is caught by an identity whose finding names the cell and says it may
be misread. Without the extra a scan still gets F-SCANNED, saying how to enable OCR.

Each scan is read once a session (``_validated``); the degraded scans are cached in
``tests/corpus/.derived`` (``helpers.scans``)."""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path

import pytest
from helpers.corpus import CORPUS, SOFFICE, expected_figures
from helpers.documents import FMT, UNIT, YEAR, random_fill
from helpers.scans import DERIVED, RECIPE, degraded_scan, paint_figure, render_pages
from PIL import Image

from xltool.model import ERROR
from xltool.read.dispatch import read_return
from xltool.read.from_document import ReadOptions
from xltool.read.scanned import MIN_CONFIDENCE
from xltool.read.sources.scan import MAX_PAGE_PIXELS, MAX_SCAN_PAGES, ocr_available
from xltool.validate import Validation, validate_paths

needs_ocr = pytest.mark.skipif(
    not ocr_available(), reason='the ocr extra is not installed (pip install ".[ocr]"); CI installs it'
)
ENTRIES = {e["file"]: e for e in json.loads((CORPUS / "figures.json").read_text(encoding="utf-8"))}
SCAN_CODES = ("O-NOT-READ", "O-LOW-CONFIDENCE")


@cache
def _validated(path: Path, unit: str = "", year: int | None = None) -> Validation:
    options = ReadOptions(unit_name=unit, year=year) if unit else None
    return validate_paths([path], options=options)


def _named(v: Validation, cid: str) -> bool:
    """Whether a finding names the cell: a scan's O-* at it, or an identity that involves it."""
    return any(cid in f.cell_ids and (f.rule in SCAN_CODES or "识别错误" in f.message) for f in v.report.findings)


def _exact_or_named(v: Validation, expected: dict[str, int]) -> tuple[int, list[str]]:
    """How many figures read exactly, and the cells neither exact nor named (should be none)."""
    rec = v.records[0]
    exact = [cid for cid, value in expected.items() if rec.values.get(cid) == value]
    silent = [cid for cid in expected if cid not in exact and not _named(v, cid) and not _column_missing(v, cid)]
    return len(exact), silent


def _column_missing(v: Validation, cid: str) -> bool:
    """A column whose header OCR misread (“尚末审结”): D-COLUMN-MISSING names it, its cells unread."""
    cell = FMT.cells[cid]
    return v.records[0].values.get(cid) is None and any(
        f.rule == "D-COLUMN-MISSING" and cell.col_label in f.message for f in v.report.findings
    )


def _image_pdf(path: Path, pages: list[Image.Image]) -> Path:
    pages[0].save(path, "PDF", save_all=True, append_images=pages[1:], resolution=150)
    return path


# --------------------------------------------------------------------------- without the extra, the bounds


def test_a_scan_without_the_extra_says_how_to_enable_ocr(tmp_path, monkeypatch):
    """The base install stays light: no OCR engine, F-SCANNED as before, now naming the extra."""
    monkeypatch.setitem(sys.modules, "rapidocr_onnxruntime", None)  # import fails as if not installed
    page = Image.new("RGB", (600, 800), "white")
    pdf = _image_pdf(tmp_path / "扫描件.pdf", [page])
    png = tmp_path / "第3页.png"
    page.save(png)
    for path in (pdf, png):
        [f] = read_return(path).findings
        assert (f.rule, f.severity) == ("F-SCANNED", ERROR)
        assert 'pip install "xltool[ocr]"' in f.message and path.name in f.message


@needs_ocr
def test_the_bounds_are_named_in_the_findings(tmp_path, monkeypatch):
    """More pages than MAX_SCAN_PAGES, an image over MAX_PAGE_PIXELS, OCR past its time: F-TOO-LARGE
    naming the limit, before any page is read."""
    blank = Image.new("RGB", (60, 80), "white")
    many = _image_pdf(tmp_path / "很多页.pdf", [blank] * (MAX_SCAN_PAGES + 1))
    [f] = read_return(many).findings
    assert f.rule == "F-TOO-LARGE" and f"OCR 识别 {MAX_SCAN_PAGES} 页" in f.message

    side = int(MAX_PAGE_PIXELS**0.5) + 100
    huge = tmp_path / "大图.png"
    Image.new("L", (side, side), 255).save(huge)
    [f] = read_return(huge).findings
    assert f.rule == "F-TOO-LARGE" and f"{MAX_PAGE_PIXELS / 1e6:.0f} 百万像素" in f.message

    monkeypatch.setenv("XLTOOL_MAX_OCR_SECONDS", "-1")
    [f] = read_return(_image_pdf(tmp_path / "一页.pdf", [blank])).findings
    assert f.rule == "F-TOO-LARGE" and "OCR 识别在第 1 页用时" in f.message


@needs_ocr
@pytest.mark.slow
def test_hostile_image_only_pdfs_are_one_finding_with_ocr_on(tmp_path):
    """The hostile image-only PDF of the text-layer bounds (an image declaring small dimensions over a
    bomb of data) read with OCR on, in the isolated reader: PDFium decodes no more
    than the image declares, OCR finds no text: one F-SCANNED."""
    from hostile import pdf as hostile_pdf

    for name, (make, code) in hostile_pdf.HOSTILE.items():
        if code != "F-SCANNED":
            continue
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(make())  # type: ignore[operator]
        findings = validate_paths([path]).report.findings
        assert [(f.rule, "OCR 也未能从图片中识别出文字" in f.message) for f in findings] == [("F-SCANNED", True)]


def test_ocr_can_be_turned_off(tmp_path, monkeypatch):
    """XLTOOL_OCR=0: a scan gets F-SCANNED saying OCR is off, even with the extra installed."""
    monkeypatch.setenv("XLTOOL_OCR", "0")
    pdf = _image_pdf(tmp_path / "扫描件.pdf", [Image.new("RGB", (60, 80), "white")])
    [f] = read_return(pdf).findings
    assert f.rule == "F-SCANNED" and "XLTOOL_OCR=0" in f.message


@needs_ocr
@pytest.mark.slow
@pytest.mark.parametrize("turn", [90, 180])
def test_a_page_scanned_sideways_or_upside_down_is_turned_upright(tmp_path, turn):
    """表三's first page of hongze-2024 scanned turned by ``turn``°: read upright, its figures those of
    figures.json or named."""
    from helpers.scans import degrade

    page = degrade(render_pages(CORPUS / "hongze-2024.pdf")[2]).rotate(turn, expand=True)
    path = tmp_path / f"转了{turn}度.png"
    page.save(path)
    v = _validated(path, unit="淮安市洪泽区人民政府", year=2024)
    rec = v.records[0]
    expected = expected_figures(ENTRIES["hongze-2024.pdf"], FMT)
    read = {cid: value for cid, value in rec.values.items() if rec.printed.get(cid, "").strip()}
    assert len(read) >= 40, f"only {len(read)} figures read from the page"
    assert not [cid for cid, value in read.items() if value != expected.get(cid) and not _named(v, cid)]


# --------------------------------------------------------------------------- the corpus, scanned


@needs_ocr
@pytest.mark.slow
@pytest.mark.parametrize("name", ["hongze-2023.pdf", "hongze-2024.pdf"])
def test_a_scan_of_a_real_report_reads_every_figure_or_names_it(name):
    """A corpus PDF printed and scanned: its unit and year from the title, every figure exact or named
    at its cell, and the same identities failing as on the PDF itself, now saying a figure may be misread."""
    entry = ENTRIES[name]
    v = _validated(degraded_scan(CORPUS / name))
    rec = v.records[0]
    assert rec.source == "scan" and rec.identity is not None and rec.identity.year == entry["year"]
    assert rec.identity.unit_name in entry["report"]
    expected = expected_figures(entry, FMT)
    exact, silent = _exact_or_named(v, expected)
    assert not silent, f"figures neither read exactly nor named: {silent}"
    assert exact >= len(expected) - 2, f"{exact} of {len(expected)} figures read exactly"
    low = [f for f in v.report.findings if f.rule == "O-LOW-CONFIDENCE"]
    assert all(rec.confidence[f.cell_ids[0]] < MIN_CONFIDENCE for f in low)

    text = _validated(CORPUS / name)
    rules = sorted(f.check for f in text.report.findings if f.check)
    assert sorted(f.check for f in v.report.findings if f.check) == rules
    assert all("也可能是数字识别错误" in f.message for f in v.report.findings if f.check)


@needs_ocr
@pytest.mark.slow
def test_a_digit_altered_in_the_image_is_caught_by_an_identity_naming_its_cell():
    """The scan of hongze-2024 with its 31 (表三 1.本机关不掌握 / 自然人) painted over as 37: the row's
    总计 and the column's identity fail, naming that cell and saying a figure may be misread."""
    import pypdfium2 as pdfium

    source = CORPUS / "hongze-2024.pdf"
    pages = render_pages(source)
    doc = pdfium.PdfDocument(source)
    try:
        page_no, box = _figure_box(doc, "31")
    finally:
        doc.close()
    pages[page_no] = paint_figure(pages[page_no], box, "37")
    scan = degraded_scan(source, pages=pages, name="hongze-2024-31-as-37")
    v = _validated(scan)
    cid = "t3.unable_not_held.natural"
    assert v.records[0].values[cid] == 37 or _named(v, cid)
    caught = [f for f in v.report.findings if f.check and cid in f.cell_ids]
    assert caught and all(f.severity == ERROR and "也可能是数字识别错误" in f.message for f in caught)
    if v.records[0].values[cid] == 37:  # read as painted: its row and its column fail and cross at it
        cell = FMT.cells[cid]
        assert len(caught) >= 2
        assert all(f"相交于 {cell.row_label} / {cell.col_label}“37”" in f.message for f in caught)


def _figure_box(doc, text: str) -> tuple[int, tuple[int, int, int, int]]:
    """The first figure ``text`` on the page of 表三's row 1.本机关不掌握… and its box in pixels at
    150 dpi (from the text layer)."""
    scale = 150 / 72
    for p in range(len(doc)):
        page = doc[p]
        textpage = page.get_textpage()
        if "本机关不掌握" not in textpage.get_text_range():
            continue
        searcher = textpage.search(text, match_whole_word=True)
        found = searcher.get_next()
        if found:
            first, count = found
            boxes = [textpage.get_charbox(i) for i in range(first, first + count)]
            height = page.get_height()
            left, right = min(b[0] for b in boxes), max(b[2] for b in boxes)
            bottom, top = min(b[1] for b in boxes), max(b[3] for b in boxes)
            pad = 3
            return p, (
                int(left * scale) - pad,
                int((height - top) * scale) - pad,
                int(right * scale) + pad,
                int((height - bottom) * scale) + pad,
            )
    raise AssertionError(f"{text} is not printed in the PDF")


@needs_ocr
@pytest.mark.slow
def test_pages_given_as_images_are_read_like_a_scanned_pdf(tmp_path):
    """表三's first page of hongze-2024, scanned and saved as a .png and as a .jpg, named on the command
    line: the figures it prints are those of figures.json, or named."""
    from helpers.scans import degrade

    pages = render_pages(CORPUS / "hongze-2024.pdf")
    page = degrade(pages[2])
    expected = expected_figures(ENTRIES["hongze-2024.pdf"], FMT)
    png = tmp_path / "洪泽区第3页.png"
    page.save(png)
    v = _validated(png, unit="淮安市洪泽区人民政府", year=2024)
    rec = v.records[0]
    assert rec.source == "scan"
    read = {cid: value for cid, value in rec.values.items() if cid in rec.printed and rec.printed[cid].strip()}
    assert len(read) >= 40, f"only {len(read)} figures read from the page"
    wrong = [cid for cid, value in read.items() if value != expected.get(cid) and not _named(v, cid)]
    assert not wrong


# --------------------------------------------------------------------------- our own published reports


@needs_ocr
@pytest.mark.slow
@pytest.mark.libreoffice
def test_a_scan_of_our_own_published_report_reads_back(tmp_path):
    """A report made by ``xltool publish`` (Word), printed to PDF by LibreOffice and scanned: every
    figure exact or named, and no identity fails on figures that were consistent."""
    if not SOFFICE:
        pytest.skip("LibreOffice (soffice) is not installed")
    from helpers.libreoffice import convert, make_profile

    from xltool.write.publish import docx_bytes, report_title

    values = random_fill(73)
    title = report_title(FMT, UNIT.name, YEAR)
    cached = sorted(DERIVED.glob(f"published-73-*-{RECIPE}.pdf")) if DERIVED.is_dir() else []
    if cached:
        scan = cached[0]
    else:
        src = tmp_path / "src" / f"{title}.docx"
        src.parent.mkdir()
        src.write_bytes(docx_bytes(FMT, values, title))
        (pdf,) = convert(make_profile(tmp_path / "profile"), "pdf", tmp_path / "pdf", [src])
        scan = degraded_scan(pdf, name="published-73")
    v = _validated(scan)
    rec = v.records[0]
    assert rec.identity is not None and rec.identity.unit_name == UNIT.name and rec.identity.year == YEAR
    exact, silent = _exact_or_named(v, {cid: values[cid] for cid in FMT.cells if cid in values})
    assert not silent
    assert exact >= len(FMT.cells) - 3
    unsure = {c for f in v.report.findings if f.rule in SCAN_CODES for c in f.cell_ids}
    for f in (f for f in v.report.findings if f.check):  # a misread: unsure, or where two identities cross
        assert set(f.cell_ids) & unsure or "最可能是它识别有误" in f.message, f.message


def test_each_reader_takes_its_share_of_the_cores(monkeypatch):
    """OCR's threads: the machine's cores shared among the files read at once, or XLTOOL_OCR_THREADS."""
    from xltool.read import bounds

    monkeypatch.delenv("XLTOOL_OCR_THREADS", raising=False)
    monkeypatch.setattr(bounds.os, "cpu_count", lambda: 8)
    monkeypatch.setattr(bounds, "_readers_at_once", 1)
    assert bounds.cores() == 8
    bounds.share_cores(3)
    assert bounds.cores() == 2
    bounds.share_cores(16)
    assert bounds.cores() == 1
    monkeypatch.setenv("XLTOOL_OCR_THREADS", "4")
    assert bounds.cores() == 4
