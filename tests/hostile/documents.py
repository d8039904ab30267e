"""Web pages and Word files built to exhaust a reader or to mislead it (issue 21), as bytes.

Each generator is cheap and deterministic; nothing here is committed as a file. ``PROBES`` names each
one with its suffix and the finding it must give; ``tests/test_hostile_documents.py`` runs them on the
real command line, measured. The pages that hide tables start from a real report page of the corpus.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

CORPUS_PAGE = Path(__file__).resolve().parent.parent / "corpus" / "pingtan-2023.html"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


# --------------------------------------------------------------------------- web pages: grids


def page(body: str) -> bytes:
    return f"<html><head><meta charset='utf-8'><title>x</title></head><body>{body}</body></html>".encode()


def colspan_rows(rows: int) -> bytes:
    """A table of ``rows`` rows, each one cell ``colspan=1000`` (100,000 rows: 3.4 MB)."""
    return page("<table>" + '<tr><td colspan="1000">1</td></tr>' * rows + "</table>")


def rowspan_staircase(rows: int = 3000) -> bytes:
    """Each row's one cell spans every row below it: the grid fills a triangle of rows × 1,000."""
    return page("<table>" + '<tr><td rowspan="0">1</td></tr>' * rows + "</table>")


def overlapping_spans(rows: int = 2000) -> bytes:
    """Tall cells laid over each other: even rows open a cell spanning 999 columns down to the last
    row, odd rows free the columns again with one 1,000 wide (cells × spans grow as rows²)."""
    even = '<tr><td>1</td><td colspan="999" rowspan="0">2</td></tr>'
    odd = '<tr><td colspan="1000">3</td></tr>'
    return page("<table>" + (even + odd) * (rows // 2) + "</table>")


def nested_spans(tables: int = 400, rows: int = 200) -> bytes:
    """A layout table holding ``tables`` tables, each under the limit alone, all over it together."""
    inner = "<table>" + '<tr><td colspan="1000">1</td></tr>' * rows + "</table>"
    return page("<table><tr>" + f"<td>{inner}</td>" * tables + "</tr></table>")


def ragged(rows: int = 100_000) -> bytes:
    """100,000 narrow rows and one 1,000 columns wide: few cells, a grid of 10⁸ positions."""
    return page("<table>" + "<tr><td>1</td></tr>" * rows + '<tr><td colspan="1000">x</td></tr></table>')


def tag_flood(tag: str = "<p>", megabytes: int = 19) -> bytes:
    """Millions of tiny elements (each costs the parser more than its bytes)."""
    return page(tag * (megabytes * 1024 * 1024 // len(tag)))


# --------------------------------------------------------------------------- web pages: hidden


def report_page() -> str:
    return CORPUS_PAGE.read_bytes().decode("utf-8")


def _tables(text: str) -> list[tuple[int, int]]:
    """Start and end of each outermost <table> of a page."""
    spans, depth, start = [], 0, 0
    for m in re.finditer(r"<(/?)table\b[^>]*>", text, re.I):
        if not m.group(1):
            if depth == 0:
                start = m.start()
            depth += 1
        elif depth:
            depth -= 1
            if depth == 0:
                spans.append((start, m.end()))
    return spans


def wrap_tables(text: str, before: str, after: str) -> str:
    """Each outermost table of ``text`` put inside ``before``…``after``."""
    out, last = [], 0
    for start, end in _tables(text):
        out += [text[last:start], before, text[start:end], after]
        last = end
    return "".join(out + [text[last:]])


def nines(table: str) -> str:
    """A table's figures all 999 (what the hidden copy says)."""
    return re.sub(r"(>\s*)[0-9]+(\.[0-9]+)?(\s*<)", r"\g<1>999\3", table)


HIDERS: dict[str, tuple[str, str]] = {
    "display_none": ('<div style="display:none">', "</div>"),
    "display_none_important": ('<div style="COLOR:red; Display : None !important">', "</div>"),
    "visibility_hidden": ('<div style="visibility:hidden">', "</div>"),
    "hidden_attribute": ("<section hidden>", "</section>"),
    "template": ("<template>", "</template>"),
    "noscript": ("<noscript>", "</noscript>"),
}


def hidden_tables(how: str) -> bytes:
    """The report page with every table hidden ``how`` (999 in every figure)."""
    before, after = HIDERS[how]
    text = report_page()
    for start, end in reversed(_tables(text)):
        text = text[:start] + nines(text[start:end]) + text[end:]
    return wrap_tables(text, before, after).encode()


def hidden_rows(style: str = "display:none") -> bytes:
    """The report page with every row of every table hidden (``<tr style=…>``)."""
    return re.sub(r"<tr\b", f'<tr style="{style}"', report_page(), flags=re.I).encode()


def hidden_decoy(how: str = "display_none") -> bytes:
    """The report page as published, each table preceded by a hidden copy saying 999 everywhere."""
    before, after = HIDERS[how]
    text = report_page()
    for start, end in reversed(_tables(text)):
        table = text[start:end]
        text = text[:start] + before + nines(table) + after + table + text[end:]
    return text.encode()


# --------------------------------------------------------------------------- Word


def docx(body: str) -> bytes:
    """A minimal .docx whose body is ``body`` (w: elements)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
            '"/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.'
            'document.main+xml"/></Types>',
        )
        zf.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
        )
        zf.writestr(  # stored: deflated, a repetitive part would be refused as a zip bomb (200:1) first
            "word/document.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W}"><w:body>{body}</w:body></w:document>',
            compress_type=zipfile.ZIP_STORED,
        )
    return buf.getvalue()


def p(text: str, hidden: bool = False) -> str:
    props = "<w:rPr><w:vanish/></w:rPr>" if hidden else ""
    return f"<w:p><w:r>{props}<w:t>{text}</w:t></w:r></w:p>"


def tc(text: str = "1", props: str = "", hidden: bool = False) -> str:
    return f"<w:tc><w:tcPr>{props}</w:tcPr>{p(text, hidden)}</w:tc>"


def grid_before(rows: int = 600) -> bytes:
    """Rows each skipping 999,999 grid columns (40 KB)."""
    row = '<w:tr><w:trPr><w:gridBefore w:val="999999"/></w:trPr>' + tc() + "</w:tr>"
    return docx("<w:tbl>" + row * rows + "</w:tbl>")


def wide_table(columns: int = 190_000, rows: int = 1000) -> bytes:
    """190,000 columns × 1,000 rows: each row 190 cells of ``gridSpan=1000``."""
    row = "<w:tr>" + "<w:tc><w:tcPr><w:gridSpan w:val='1000'/></w:tcPr></w:tc>" * (columns // 1000) + "</w:tr>"
    return docx("<w:tbl>" + row * rows + "</w:tbl>")


def wide_grid(columns: int = 190_000) -> bytes:
    """A table declaring 190,000 grid columns (``w:tblGrid``) around one cell."""
    return docx("<w:tbl><w:tblGrid>" + "<w:gridCol/>" * columns + "</w:tblGrid><w:tr>" + tc() + "</w:tr></w:tbl>")


def grid_span_rows(rows: int = 5000) -> bytes:
    """Rows of one cell ``gridSpan=999999`` (read as 1,000 columns): 5 million positions."""
    return docx("<w:tbl>" + ("<w:tr>" + tc("1", '<w:gridSpan w:val="999999"/>') + "</w:tr>") * rows + "</w:tbl>")


def vmerge_staircase(rows: int = 400) -> bytes:
    """Row r continues the r ``w:vMerge`` chains above it and opens one more spanning the rest of the
    1,000 columns: chains overlap, cells × spans grow as rows³ (80,000 cells)."""
    out = []
    for r in range(rows):
        cont = "<w:tc><w:tcPr><w:vMerge/></w:tcPr></w:tc>" * r
        props = f"<w:gridSpan w:val='{1000 - r}'/><w:vMerge w:val='restart'/>"
        out.append(f"<w:tr>{cont}{tc('1', props)}</w:tr>")
    return docx("<w:tbl>" + "".join(out) + "</w:tbl>")


def paragraph_flood(count: int = 2_000_000) -> bytes:
    """Two million empty paragraphs (12 MB of document.xml)."""
    return docx("<w:p/>" * count)


def word_table(rows: list[list[str]], hidden: bool = False) -> str:
    return (
        "<w:tbl>"
        + "".join("<w:tr>" + "".join(tc(c, hidden=hidden) for c in row) + "</w:tr>" for row in rows)
        + "</w:tbl>"
    )


def word_hidden_tables() -> bytes:
    """A Word file whose only tables are hidden text (999 in every cell), beside visible paragraphs."""
    rows = [["项目", "本年新收"], ["自然人", "999"], ["总计", "999"]]
    return docx(
        p("2024年政府信息公开工作年度报告") + word_table(rows, hidden=True) + p("正文") + word_table(rows, hidden=True)
    )


PROBES: dict[str, tuple[str, Callable[[], bytes], str]] = {
    "colspan_100k_rows": (".html", lambda: colspan_rows(100_000), "F-TOO-LARGE"),
    "colspan_199k_rows": (".html", lambda: colspan_rows(199_000), "F-TOO-LARGE"),
    "rowspan_staircase": (".html", rowspan_staircase, "F-TOO-LARGE"),
    "overlapping_spans": (".html", overlapping_spans, "F-TOO-LARGE"),
    "nested_spans": (".html", nested_spans, "F-TOO-LARGE"),
    "ragged_rows": (".html", ragged, "F-TOO-LARGE"),
    "p_flood": (".html", tag_flood, "F-TOO-LARGE"),
    "attribute_flood": (".html", lambda: tag_flood("<b a=1 b=2 c=3 d=4>", 19), "F-TOO-LARGE"),
    **{f"hidden_{how}": (".html", lambda how=how: hidden_tables(how), "D-TABLE-MISSING") for how in HIDERS},
    "hidden_rows": (".html", hidden_rows, "D-TABLE-MISSING"),
    "collapsed_rows": (".html", lambda: hidden_rows("visibility:collapse"), "D-TABLE-MISSING"),
    "docx_grid_before": (".docx", grid_before, "F-TOO-LARGE"),
    "docx_wide_table": (".docx", wide_table, "F-TOO-LARGE"),
    "docx_wide_grid": (".docx", wide_grid, "F-TOO-LARGE"),
    "docx_wide_rows": (".docx", lambda: wide_table(190_000, 10), "F-TOO-LARGE"),
    "docx_grid_span_rows": (".docx", grid_span_rows, "F-TOO-LARGE"),
    "docx_vmerge_staircase": (".docx", vmerge_staircase, "F-TOO-LARGE"),
    "docx_paragraph_flood": (".docx", paragraph_flood, "F-TOO-LARGE"),
    "docx_hidden_tables": (".docx", word_hidden_tables, "D-TABLE-MISSING"),
}
"""name -> (suffix, generator, the one finding's rule)."""
