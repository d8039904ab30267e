"""Render the README's pictures from real files: LibreOffice -> PDF -> PNG.

    python docs/render.py        # needs soffice and pdftoppm (poppler-utils), and a CJK font

template-t3.png: 表三 of a sample return as a township sees it after typing (the live check row
red where the 勾稽关系 fails); annotated-t3.png: the same sheet in the annotated copy that
``xltool validate --annotate`` writes for the township; template-carried.png and
template-carried-t2.png: a template made with last year's figures (``xltool template --previous``),
表三's carried 二、上年结转 row and 表二's last-year column with its live check in the warning colour.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path

import openpyxl

from samples import SAMPLES_DIR
from xltool.definition import get_format
from xltool.model import Unit
from xltool.previous import read_last_year
from xltool.validate import validate_paths
from xltool.write.annotate import annotate
from xltool.write.publish import publish
from xltool.write.template import template_file_name, write_templates

DOCS = Path(__file__).resolve().parent
RETURN = SAMPLES_DIR / "汤旺县" / "2024" / "收件箱" / "住建局 统计表.xlsx"
PUBLISHED = SAMPLES_DIR / "汤旺县" / "2024" / "收件箱" / "汤旺河镇统计表(1).xlsx"
T3_TITLE = "三、收到和处理政府信息公开申请情况"
T2_TITLE = "二、主动公开政府信息情况"
CHARTS_TITLE = "各单位本年新收政府信息公开申请数量"
LAST_YEAR = SAMPLES_DIR / "汤旺县" / "2023" / "汤旺县2023年度政府信息公开统计汇总.xlsx"
OFFICE = Unit("230723001", "汤旺县人民政府办公室", "部门")
# as the office types it: 4 new + 1 carried = 5 handled; 28 in force last year + 2 - 1 is 29, not 25
OFFICE_TYPES = {
    "t3.new.natural": 4,
    "t3.disclosed.natural": 5,
    "t2_1.normative.issued": 2,
    "t2_1.normative.repealed": 1,
    "t2_1.normative.valid": 25,
}


def soffice(args: list[str], profile: Path) -> None:
    subprocess.run(
        ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore", *args],
        check=True,
        capture_output=True,
        timeout=180,
    )


def page_with(pdf: Path, text: str) -> int:
    """The first PDF page showing ``text`` (pages are separated by form feeds in pdftotext output)."""
    pages = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout.split("\f")
    return next(i for i, page in enumerate(pages, start=1) if text in page)


def render(
    xlsx: Path,
    png: Path,
    work: Path,
    title: str = T3_TITLE,
    crop: tuple[int, int, int, int] | None = None,
    dpi: int = 80,
) -> None:
    """The page showing ``title`` as a PNG; ``crop`` = (x, y, width, height) in pixels at ``dpi``."""
    profile = work / "profile"
    out = work / "pdf"
    soffice(["--convert-to", "pdf", "--outdir", str(out), str(xlsx)], profile)
    pdf = out / (xlsx.stem + ".pdf")
    page = page_with(pdf, title)
    area = [x for k, v in zip("xyWH", crop or (), strict=False) for x in (f"-{k}", str(v))]
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            str(dpi),
            *area,
            "-f",
            str(page),
            "-l",
            str(page),
            "-singlefile",
            str(pdf),
            str(png.with_suffix("")),
        ],
        check=True,
    )


def carried_template(work: Path) -> Path:
    """The office's 2024 template made with the 2023 consolidated workbook, typed into as the office does."""
    fmt = get_format()
    previous, _ = read_last_year([LAST_YEAR], fmt, 2024, [OFFICE])
    [path] = write_templates(fmt, [OFFICE], 2024, work / "carried", previous=previous)
    wb = openpyxl.load_workbook(path)
    for cid, value in OFFICE_TYPES.items():
        cell = fmt.cells[cid]
        wb[cell.sheet][cell.address] = value
    filled = work / template_file_name(OFFICE, 2024)
    wb.save(filled)
    return filled


def county_consolidated(work: Path) -> Path:
    """汤旺县's consolidated workbook of the sample inbox, as the demo makes it (invalid returns left out)."""
    from xltool.roster import read_roster
    from xltool.write.consolidation import consolidate

    roster = read_roster(SAMPLES_DIR / "data" / "汤旺县-名单.csv")
    inbox = SAMPLES_DIR / "汤旺县" / "2024" / "收件箱"
    out = work / "consolidated" / "汤旺县2024年度政府信息公开统计汇总.xlsx"
    consolidate([inbox], out, Unit("230723", "汤旺县", "县"), roster=roster, exclude_invalid=True, year=2024)
    return out


def pages_with(pdf: Path, text: str) -> list[int]:
    """Every PDF page showing ``text``, or the line it starts (a table split by a page break)."""
    pages = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout.split("\f")
    first = page_with(pdf, text)
    return [first] + ([first + 1] if first < len(pages) and pages[first].strip() else [])


def _ppm(path: Path) -> tuple[int, int, bytes]:
    """A binary PPM (P6, what pdftoppm writes without -png): width, height, RGB bytes."""
    data = path.read_bytes()
    fields = data.split(maxsplit=4)
    assert fields[0] == b"P6" and fields[3] == b"255", path
    return int(fields[1]), int(fields[2]), fields[4]


def side_by_side(ppms: list[Path], png: Path, gap: int = 12) -> None:
    """Pages next to each other on a grey ground, written as PNG with zlib alone (no imaging library)."""
    pages = [_ppm(p) for p in ppms]
    height = max(h for _, h, _ in pages)
    width = sum(w for w, _, _ in pages) + gap * (len(pages) + 1)
    grey = b"\xd0\xd0\xd0"
    rows = []
    for y in range(height):
        row = grey * gap
        for w, h, rgb in pages:
            row += (rgb[y * w * 3 : (y + 1) * w * 3] if y < h else grey * w) + grey * gap
        rows.append(b"\x00" + row)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    png.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


def render_report(docx: Path, png: Path, work: Path) -> None:
    """The Word report's pages holding 表三, at 60 dpi, side by side."""
    out = work / "pdf"
    soffice(["--convert-to", "pdf", "--outdir", str(out), str(docx)], work / "profile")
    pdf = out / (docx.stem + ".pdf")
    ppms = []
    for page in pages_with(pdf, T3_TITLE):
        stem = work / f"page-{page}"
        subprocess.run(
            ["pdftoppm", "-r", "60", "-f", str(page), "-l", str(page), "-singlefile", str(pdf), str(stem)], check=True
        )
        ppms.append(stem.with_suffix(".ppm"))
    side_by_side(ppms, png)


CHART_CROPS = ((248, 64, 412, 160), (248, 42, 412, 190), (248, 45, 412, 190))
"""(x, y, width, height) at 60 dpi of each chart on its page; the first page starts under the sheet's title."""


def render_charts(xlsx: Path, png: Path, work: Path) -> None:
    """The three charts of the 图表 sheet (one a page), cropped to the chart at 60 dpi, side by side."""
    out = work / "pdf"
    soffice(["--convert-to", "pdf", "--outdir", str(out), str(xlsx)], work / "profile")
    pdf = out / (xlsx.stem + ".pdf")
    first = page_with(pdf, CHARTS_TITLE)
    ppms = []
    for page, crop in enumerate(CHART_CROPS, start=first):
        area = [x for k, v in zip("xyWH", crop, strict=True) for x in (f"-{k}", str(v))]
        stem = work / f"chart-{page}"
        subprocess.run(
            ["pdftoppm", "-r", "60", *area, "-f", str(page), "-l", str(page), "-singlefile", str(pdf), str(stem)],
            check=True,
        )
        ppms.append(stem.with_suffix(".ppm"))
    side_by_side(ppms, png)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        # As the township sees it: LibreOffice recalculates the live checks when it opens the file.
        filled = work / "filled.xlsx"
        shutil.copy2(RETURN, filled)
        render(filled, DOCS / "template-t3.png", work)
        validation = validate_paths([RETURN])
        [copy] = annotate(validation.report, validation.records, work / "annotated")
        render(copy, DOCS / "annotated-t3.png", work)
        carried = carried_template(work)
        render(carried, DOCS / "template-carried.png", work, T3_TITLE, crop=(50, 60, 830, 140))
        render(carried, DOCS / "template-carried-t2.png", work, T2_TITLE, crop=(81, 94, 918, 117), dpi=130)
        docx = next(p for p in publish([PUBLISHED], work / "published", html=False).paths)
        render_report(docx, DOCS / "publish-tables.png", work)
        render_charts(county_consolidated(work), DOCS / "consolidated-charts.png", work)
    print(
        "docs/template-t3.png, docs/annotated-t3.png, docs/template-carried.png, docs/template-carried-t2.png, "
        "docs/publish-tables.png, docs/consolidated-charts.png"
    )


if __name__ == "__main__":
    main()
