"""Render the README's pictures from real files: LibreOffice -> PDF -> PNG.

    python docs/render.py        # needs soffice and pdftoppm (poppler-utils), and a CJK font

template-t3.png: 表三 of a sample return as a township sees it after typing (the live check row
red where the 勾稽关系 fails); annotated-t3.png: the same sheet in the annotated copy that
``xltool validate --annotate`` writes for the township.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from samples import SAMPLES_DIR
from xltool.annotate import annotate
from xltool.validate import validate_paths

DOCS = Path(__file__).resolve().parent
RETURN = SAMPLES_DIR / "汤旺县" / "2024" / "收件箱" / "住建局 统计表.xlsx"
T3_TITLE = "三、收到和处理政府信息公开申请情况"


def soffice(args: list[str], profile: Path) -> None:
    subprocess.run(
        ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore", *args],
        check=True, capture_output=True, timeout=180,
    )


def page_with(pdf: Path, text: str) -> int:
    """The first PDF page showing ``text`` (pages are separated by form feeds in pdftotext output)."""
    pages = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout.split("\f")
    return next(i for i, page in enumerate(pages, start=1) if text in page)


def render(xlsx: Path, png: Path, work: Path) -> None:
    profile = work / "profile"
    out = work / "pdf"
    soffice(["--convert-to", "pdf", "--outdir", str(out), str(xlsx)], profile)
    pdf = out / (xlsx.stem + ".pdf")
    page = page_with(pdf, T3_TITLE)
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", str(page), "-l", str(page), "-singlefile", str(pdf), str(png.with_suffix(""))], check=True)


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
    print("docs/template-t3.png, docs/annotated-t3.png")


if __name__ == "__main__":
    main()
