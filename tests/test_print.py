"""The listing sheets print legibly on A4 (issue 22): 明细, 来源, the annotated copy's 校验结果 and the
validation report, printed by LibreOffice to PDF. Every page's footer names its sheet; on those pages
no cell border crosses any printed character (a text that spills into the next row, or over the
next column, is crossed by the rule between them), each SHA-256 is printed whole inside its own row,
next to its own unit's code, and the sheets take the pages they were laid out for."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import openpyxl
import pytest
from helpers.libreoffice import SOFFICE, convert, make_profile
from helpers.returns import CONSISTENT, make_return

from xltool.model import Unit
from xltool.validate import validate_paths
from xltool.write.annotate import RESULT_SHEET, annotate
from xltool.write.consolidation import SOURCES_SHEET, consolidate
from xltool.write.detail import UNIT_COLUMNS_PER_PAGE, detail_pages_across
from xltool.write.report import FINDINGS_SHEET, SUMMARY_SHEET, write_report_workbook

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.slow,
    pytest.mark.skipif(SOFFICE is None, reason="LibreOffice is not installed"),
]

COUNTY = Unit("230723", "汤旺县", "县")
NAMES = ("汤旺县人民政府办公室", "黑龙江省伊春市汤旺县住房和城乡建设局", "乌伊岭镇")
LISTINGS = ("明细", SOURCES_SHEET, RESULT_SHEET, SUMMARY_SHEET, FINDINGS_SHEET)


def units(n: int) -> list[Unit]:
    return [Unit(f"230723{i + 1:03d}", f"{NAMES[i % 3]}{i + 1}", "部门") for i in range(n)]


def inbox(folder: Path, n: int) -> Path:
    """n good returns, one that breaks T3-R1 twice, one file that is not a workbook."""
    for u in units(n):
        make_return(folder, u)
    bad = dict(CONSISTENT, **{"t3.new.natural": 5, "t3.carried_in.natural": 4})
    make_return(folder, Unit("230723901", "汤旺县卫生健康局（数字有误的报表）", "部门"), bad)
    (folder / "损坏的文件.xlsx").write_bytes(b"this is not a workbook")
    return folder


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The workbooks and their PDFs, made by one soffice call with its own profile."""
    tmp = tmp_path_factory.mktemp("print")
    books: dict[str, Path] = {}
    for n in (10, 30):
        books[f"consolidated{n}"] = tmp / "out" / f"consolidated{n}.xlsx"
        consolidate([inbox(tmp / f"in{n}", n)], books[f"consolidated{n}"], COUNTY, exclude_invalid=True)
    v = validate_paths([tmp / "in10"])
    (copy,) = annotate(v.report, v.records, tmp / "annotated")
    books["annotated"] = copy
    books["report"] = write_report_workbook(v.report, tmp / "out" / "report.xlsx")
    pdfs = convert(make_profile(tmp / "profile"), "pdf", tmp / "pdf", books.values())
    return {**books, **{f"{k}.pdf": p for k, p in zip(books, pdfs, strict=True)}}


# --------------------------------------------------------------------------- reading the PDF


class Page:
    """One printed page: its characters (with boxes), its ruling lines, the sheet named in its footer."""

    def __init__(self, page: object) -> None:
        import pypdfium2.raw as raw

        text = page.get_textpage()  # type: ignore[attr-defined]
        self.chars = []
        for i in range(text.count_chars()):
            ch = text.get_text_range(i, 1)
            if ch.strip():
                self.chars.append((ch, text.get_charbox(i)))
        self.h: list[tuple[float, float, float]] = []  # y, x0, x1
        self.v: list[tuple[float, float, float]] = []  # x, y0, y1
        for obj in page.get_objects():  # type: ignore[attr-defined]
            if obj.type != raw.FPDF_PAGEOBJ_PATH:
                continue
            left, bottom, right, top = obj.get_bounds()
            if top - bottom < 1.5 and right - left > 3:
                self.h.append(((top + bottom) / 2, left, right))
            elif right - left < 1.5 and top - bottom > 3:
                self.v.append(((left + right) / 2, bottom, top))
        low = min((box[1] for _ch, box in self.chars), default=0)
        footer = [(box[0], ch) for ch, box in self.chars if box[1] < low + 3]
        self.footer = "".join(ch for _x, ch in sorted(footer))
        self.sheet = self.footer.split("第")[0]

    def crossed(self) -> list[str]:
        """Characters a cell border runs through: text printed outside its cell."""
        bad = []
        for ch, (left, bottom, right, top) in self.chars:
            cx, cy, tol = (left + right) / 2, (bottom + top) / 2, 0.6
            if any(bottom + tol < y < top - tol and x0 <= cx <= x1 for y, x0, x1 in self.h) or any(
                left + tol < x < right - tol and y0 <= cy <= y1 for x, y0, y1 in self.v
            ):
                bad.append(f"{ch}@({cx:.0f},{cy:.0f})")
        return bad

    def bands(self) -> list[float]:
        """The y of the horizontal rules, top to bottom."""
        return sorted({round(y, 1) for y, _x0, _x1 in self.h}, reverse=True)

    def text_in(self, x0: float, x1: float, y_top: float, y_bottom: float) -> str:
        """The characters whose centre is in the box, line by line, left to right."""
        inside = sorted(
            ((b + t) / 2, (left + right) / 2, ch)
            for ch, (left, b, right, t) in self.chars
            if x0 < (left + right) / 2 < x1 and y_bottom < (b + t) / 2 < y_top
        )[::-1]
        lines: list[list[tuple[float, str]]] = []
        last = None
        for y, x, ch in inside:  # a new line where the centres drop by more than 3 points
            if last is None or last - y > 3:
                lines.append([])
            lines[-1].append((x, ch))
            last = y
        return "".join(ch for line in lines for _x, ch in sorted(line))

    def find(self, word: str) -> tuple[float, float]:
        """The centre of the first printing of ``word`` on the page."""
        text = "".join(ch for ch, _box in self.chars)
        i = text.index(word)
        boxes = [box for _ch, box in self.chars[i : i + len(word)]]
        return (boxes[0][0] + boxes[-1][2]) / 2, (boxes[0][1] + boxes[0][3]) / 2


def pages(pdf: Path) -> list[Page]:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        return [Page(doc[i]) for i in range(len(doc))]
    finally:
        doc.close()


# --------------------------------------------------------------------------- the tests


def test_page_counts(printed):
    counts = {k: Counter(p.sheet for p in pages(printed[f"{k}.pdf"])) for k in printed if not k.endswith(".pdf")}
    d10, d30 = counts["consolidated10"]["明细"], counts["consolidated30"]["明细"]
    assert detail_pages_across(10) == 1 and detail_pages_across(30) == 3 and detail_pages_across(100) == 10
    # 200 statutory rows: the same pages down for any number of units, one page wide per group
    assert 5 <= d10 <= 9 and d30 == 3 * d10
    assert counts["consolidated10"][SOURCES_SHEET] == 1 and counts["consolidated30"][SOURCES_SHEET] == 2
    assert counts["annotated"][RESULT_SHEET] == 1
    assert counts["report"][SUMMARY_SHEET] == 1 and counts["report"][FINDINGS_SHEET] == 1


def test_no_text_crosses_a_cell_border(printed):
    checked = Counter()
    for key in ("consolidated10", "consolidated30", "annotated", "report"):
        for i, page in enumerate(pages(printed[f"{key}.pdf"])):
            if page.sheet in LISTINGS:
                assert page.h and page.v, f"{key} page {i + 1} has no ruled table"
                assert page.crossed() == [], f"{key} page {i + 1} ({page.sheet}): text over a border"
                checked[page.sheet] += 1
    assert set(checked) == set(LISTINGS)


def test_detail_pages_repeat_the_labels_and_keep_the_groups(printed):
    codes = [u.code for u in units(30)]
    seen: list[str] = []
    for page in pages(printed["consolidated30.pdf"]):
        if page.sheet != "明细":
            continue
        text = "".join(ch for ch, _box in page.chars)
        assert "工作表" in text and "栏目" in text  # the labels and header on every page
        on_page = [c for c in codes if c in text]
        assert len(on_page) <= UNIT_COLUMNS_PER_PAGE
        seen += [c for c in on_page if c not in seen]
    assert seen == codes


def test_sources_print_each_hash_whole_in_its_own_row(printed):
    ws = openpyxl.load_workbook(printed["consolidated10"])[SOURCES_SHEET]
    rows = list(ws.iter_rows(values_only=True))
    head = next(i for i, r in enumerate(rows) if r[0] == "文件名")
    listed = {r[2]: r for r in rows[head + 1 :] if r[0] and r[2]}
    assert len(listed) == 12 and any("T3-R1" in (r[9] or "") or r[9] for r in listed.values())
    (page,) = [p for p in pages(printed["consolidated10.pdf"]) if p.sheet == SOURCES_SHEET]
    sha_x, _ = page.find("SHA-256")
    code_x, _ = page.find("单位代码")
    cols = sorted({round(x, 1) for x, _y0, _y1 in page.v})
    sha_col = next((a, b) for a, b in zip(cols, cols[1:], strict=False) if a < sha_x < b)
    code_col = next((a, b) for a, b in zip(cols, cols[1:], strict=False) if a < code_x < b)
    bands = page.bands()
    found = {}
    for top, bottom in zip(bands, bands[1:], strict=False):
        sha = page.text_in(*sha_col, top, bottom)
        if sha in listed:
            found[sha] = page.text_in(*code_col, top, bottom)
    assert found == {sha: r[3] or "" for sha, r in listed.items()}
