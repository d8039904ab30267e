"""Web pages (and Word's single-file .mht pages) -> Document: every innermost ``<table>`` as a grid.

Reports are published as CMS articles, often pasted from Word: MsoNormal paragraphs inside every
cell, ``<o:p>`` and ``&nbsp;``, text split by ``</p><p>`` and ``<br>``, GBK pages with or without
a declaration, layout tables around the data tables. A text dump runs the cells together
(``行政规范性文件693665``), so the DOM is read: each cell keeps its own text and its place in the
HTML table model (rowspan/colspan resolved onto a grid).

The parser never touches the network, keeps its depth limit (256, ``huge_tree=False``: deeper
nesting is refused, not silently cut) and never sees entity declarations (refused before parsing).
What would cost more than a report ever does is refused before it is built: the tags and attributes
before parsing (``MAX_MARKUP``), the grid positions of the tables (rows × spans, ``MAX_GRID``) while
their cells are placed.

Only what a browser shows is read: elements with ``display:none`` or ``visibility:hidden`` (or
``collapse``) in their inline style, the ``hidden`` attribute, ``<template>`` and ``<noscript>``
(scripts run in a browser) are left out with everything inside them; the tables so left out are
counted (``Document.hidden_tables``), so that a page whose only tables are hidden says so.
Stylesheets (``<style>``, ``class=``) are not evaluated: a table hidden by a class rule is read.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from typing import Any

from lxml import etree

from xltool.read.document import DocCell, DocTable, Document
from xltool.read.sources.limits import (
    MAX_CELLS,
    MAX_GRID_COLUMNS,
    MAX_TABLES,
    MAX_TEXT,
    NOT_A_REPORT,
    GridBudget,
    check_markup,
    max_document_bytes,
    refuse,
    too_large,
)

MAX_COLSPAN = 1000  # as the HTML table model caps it
MAX_CAPTION = 100

_DROP = ("script", "style", "xml", "object", "embed", "iframe", "select", "head")
_UNSEEN = ("noscript", "template")  # never shown by a browser that runs scripts
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_BLOCK = frozenset(
    "address article aside blockquote body br caption center dd div dl dt fieldset figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hr html li main nav ol p pre section table tbody td tfoot th thead title tr ul".split()
)
_SEND_REPORT = "请提供含有年度报告正文的网页或 Word 文档"
_ENTITY = re.compile(r"<!\s*ENTITY|<!\s*DOCTYPE[^>\[]*\[", re.I)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.I)
_BLANK = " \t\r\n\f\v\u00a0\u3000\u200b\ufeff"
_SPACE = re.compile(r"[ \t\r\n\f\v\u00a0\u3000\u200b\ufeff]+")
_CHINESE_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "gb_2312-80": "gb18030",
}


def read_html(data: bytes, file: str, name: str, charset: str | None = None) -> Document:
    """A web page's bytes -> Document. ``charset``: what a container (an .mht part) declared."""
    limit = max_document_bytes()
    if len(data) > limit:
        raise too_large(name, len(data), limit, "网页")
    check_markup(data, name, "网页")
    text = decode(data, charset)
    if _ENTITY.search(text):
        raise refuse("F-XML-ENTITY", name, what="含有 DOCTYPE 内部定义或实体声明（<!ENTITY）")
    root = _parse(text, name)
    return _document(root, file, name)


def read_mht(data: bytes, file: str, name: str) -> Document:
    """Word's "single file web page" (.mht/.mhtml): the first text/html part of the MIME archive."""
    limit = max_document_bytes()
    if len(data) > limit:
        raise too_large(name, len(data), limit, "网页")
    try:
        message = email.message_from_bytes(data, policy=email.policy.compat32)
        for part in message.walk():
            if part.get_content_type() == "text/html":
                payload = part.get_payload(decode=True)
                if isinstance(payload, bytes) and payload:
                    return read_html(payload, file, name, part.get_content_charset())
    except (ValueError, LookupError, TypeError, IndexError) as exc:
        raise refuse(
            "F-CORRUPT", name, reason="单个文件网页（.mht）无法解析", hint="请重新发送", library_text=str(exc)
        ) from None
    raise refuse("F-NOT-DOCUMENT", name, what="是单个文件网页（.mht），但其中没有网页正文", hint=_SEND_REPORT)


def decode(data: bytes, declared: str | None = None) -> str:
    """The page's text: BOM, then strict UTF-8 (a GBK page is almost never valid UTF-8), then the
    declared charset (``<meta charset>``, http-equiv, ``<?xml encoding>``), then GB18030, which
    reads GB2312 and GBK too; never fails (undecodable bytes become U+FFFD)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    head = data[:4096]
    if declared is None:
        m = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
        declared = m.group(1).decode("ascii", "ignore") if m else None
    candidates = ["utf-8"]
    if declared:
        candidates.append(_CHINESE_ALIASES.get(declared.lower(), declared.lower()))
    candidates.append("gb18030")
    for encoding in candidates:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("gb18030", "replace")


def _parse(text: str, name: str) -> etree._Element:
    parser = etree.HTMLParser(
        encoding="utf-8",  # decoded above; overrides whatever <meta> says
        no_network=True,
        huge_tree=False,
        remove_comments=True,  # Word's conditional comments <!--[if gte mso 9]> go too
        remove_pis=True,
        default_doctype=False,
    )
    raw = text.replace("\x00", "").encode("utf-8", "replace")
    if not raw.strip():
        raise refuse("F-NOT-DOCUMENT", name, what="是空白网页，没有内容", hint=_SEND_REPORT)
    try:
        root = etree.fromstring(raw, parser)  # plain elements: lxml.html's element classes cost a third more
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise refuse("F-CORRUPT", name, reason="不是可以读取的网页", hint="请重新发送", library_text=str(exc)) from None
    if root is None:
        raise refuse("F-NOT-DOCUMENT", name, what="是空白网页，没有内容", hint=_SEND_REPORT)
    for err in parser.error_log:
        if err.type_name == "ERR_RESOURCE_LIMIT" or "Excessive depth" in err.message:
            raise refuse(
                "F-TOO-LARGE",
                name,
                what="的网页标签嵌套层数",
                limit="256 层（正常网页不超过几十层）",
                hint="疑似恶意文件，请核实文件来源",
            )
    return root


def _document(root: etree._Element, file: str, name: str) -> Document:
    title = ""
    for t in root.iter("title"):
        title = _line("".join(t.itertext()))
        break
    cells_total = sum(1 for _ in root.iter("td", "th"))
    if cells_total > MAX_CELLS:
        raise refuse(
            "F-TOO-LARGE",
            name,
            what=f"的表格共有 {cells_total:,} 个单元格",
            limit=f"{MAX_CELLS:,} 个",
            hint=NOT_A_REPORT,
        )
    for el in [e for e in root.iter(*_DROP) if e is not root]:
        _drop(el)
    kept = _data_tables(root)
    hidden = 0
    if _hide(root):
        seen = _data_tables(root)
        hidden, kept = len(kept - seen), seen
    if len(kept) > MAX_TABLES:
        raise refuse("F-TOO-LARGE", name, what=f"有 {len(kept)} 个表格", limit=f"{MAX_TABLES} 个", hint=NOT_A_REPORT)

    doc = Document(file=file, kind="html", hidden_tables=hidden)
    budget = GridBudget(name)
    lines: list[str] = []  # text outside the tables, one block a line
    headings: list[str] = []
    since_table: list[str] = []  # lines after the previous table: the caption is the last of them
    body = root.find("body")
    for kind, value in _events(body if body is not None else root, kept):
        if kind == "table":
            own = value.find("caption")  # the table's own <caption>, else the text just before it
            caption = _line("".join(own.itertext())) if own is not None else ""
            caption = (caption or (since_table[-1] if since_table else ""))[:MAX_CAPTION]
            table = _table(value, len(doc.tables) + 1, caption, budget)
            if any(c.text for c in table.cells):  # a spacer table prints nothing
                doc.tables.append(table)
                since_table = []
        elif kind == "line":
            lines.append(value)
            since_table.append(value)
        elif kind == "heading":
            headings.append(value)
    doc.text = "\n".join(lines)[:MAX_TEXT]
    doc.title = _title(title, headings, lines)
    return doc


def _title(title: str, headings: list[str], lines: list[str]) -> str:
    """<title> when it names the report, else the first heading or paragraph that does, else
    <title>, else the first heading."""
    for candidate in [title, *headings, *lines[:200]]:
        if "年度报告" in candidate and len(candidate) <= 200:
            return candidate
    return title or (headings[0] if headings else "")


def _data_tables(root: etree._Element) -> set[etree._Element]:
    """The tables read as grids: those printing something in their cells and holding no such table."""
    tables = [t for t in root.iter("table") if _holds_cells(t)]
    return {t for t in tables if not any(_holds_cells(inner) for inner in t.iter("table") if inner is not t)}


def _hide(root: etree._Element) -> bool:
    """Take out what a browser does not show; whether anything was. ``display:none``, the ``hidden``
    attribute (unless an inline ``display`` overrides it), ``<template>``, ``<noscript>`` and a row
    with ``visibility:collapse`` go with what they hold (a table is laid out without them); text under
    ``visibility:hidden`` is blanked where it stands (the element keeps its place in the table),
    except under a descendant that declares ``visibility:visible``, as CSS has it."""
    found = False
    for el in [e for e in root.iter(*_UNSEEN) if e is not root]:
        _drop(el)
        found = True
    for el in root.xpath("//*[@hidden or @style]"):
        style = _style(el.get("style"))
        display, visibility = style.get("display"), style.get("visibility")
        if display == "none" or (display is None and el.get("hidden") is not None):
            _drop(el)
        elif visibility == "collapse" and el.tag == "tr":
            _drop(el)
        elif visibility in ("hidden", "collapse"):
            _blank(el)
        else:
            continue
        found = True
    return found


def _style(value: str | None) -> dict[str, str]:
    """``display`` and ``visibility`` of an inline style, as the cascade settles them within it (the
    last declaration wins unless an earlier one is ``!important``), lower-cased; nothing else."""
    out: dict[str, str] = {}
    if not value:
        return out
    value = value.lower()
    if "display" not in value and "visibility" not in value:
        return out
    important: set[str] = set()
    for declaration in _CSS_COMMENT.sub("", value).split(";"):
        prop, colon, val = declaration.partition(":")
        prop = prop.strip()
        if not colon or prop not in ("display", "visibility"):
            continue
        val, bang, flag = val.partition("!")
        is_important = bool(bang) and flag.strip() == "important"
        if prop in important and not is_important:
            continue
        if is_important:
            important.add(prop)
        out[prop] = val.strip()
    return out


def _blank(el: etree._Element) -> None:
    """Blank the text under ``el`` (``visibility:hidden``), not under a child made visible again."""
    el.text = None
    for child in el:
        child.tail = None
        if _style(child.get("style")).get("visibility") != "visible":
            _blank(child)


def _holds_cells(table: etree._Element) -> bool:
    """Whether the table prints something in its cells (a spacer table inside a data table does not
    make the data table a mere layout table). Stops at the first text found."""
    return any(piece.strip(_BLANK) for row in _rows(table) for cell in _cells(row) for piece in cell.itertext())


def _rows(table: etree._Element) -> list[etree._Element]:
    """The table's own rows (not those of nested tables): thead, body rows in order, tfoot last."""
    head: list[etree._Element] = []
    body: list[etree._Element] = []
    foot: list[etree._Element] = []
    for child in table:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag == "tr":
            body.append(child)
        elif tag in ("thead", "tbody", "tfoot"):
            rows = [r for r in child if r.tag == "tr"]
            {"thead": head, "tbody": body, "tfoot": foot}[tag].extend(rows)
    return head + body + foot


def _cells(row: etree._Element) -> Iterator[etree._Element]:
    return (c for c in row if c.tag in ("td", "th"))


_NUMBER = re.compile(r"\s*\+?([0-9]{1,6})")


def _span(value: str | None, default: int = 1) -> int:
    if value is None:
        return default
    m = _NUMBER.match(value)
    return int(m.group(1)) if m else default


def _table(table: etree._Element, number: int, caption: str, budget: GridBudget) -> DocTable:
    """Cells placed by the HTML table model: each cell takes the next column of its row not
    covered by a rowspan from above; rowspan=0 and spans past the last row end at the last row.
    Each cell's rows × columns go to ``budget`` before they are marked, the table's extent after."""
    rows = _rows(table)
    nrows = 0
    busy: list[int] = []  # per grid column: the first row not covered by a cell above
    out = DocTable(number=number, caption=caption)
    for r, tr in enumerate(rows):
        col = 0
        for td in _cells(tr):
            while col < len(busy) and busy[col] > r:
                col += 1
            if col >= MAX_GRID_COLUMNS:
                break
            colspan = min(max(_span(td.get("colspan")), 1), MAX_COLSPAN, MAX_GRID_COLUMNS - col)
            rowspan = _span(td.get("rowspan"))
            rowspan = len(rows) - r if rowspan == 0 else min(max(rowspan, 1), len(rows) - r)
            budget.cover(rowspan, colspan)
            nrows = max(nrows, r + rowspan)
            if len(busy) < col + colspan:
                busy.extend([0] * (col + colspan - len(busy)))
            for k in range(col, col + colspan):
                busy[k] = r + rowspan
            out.cells.append(DocCell(r, col, cell_text(td), rowspan, colspan))
            col += colspan
    budget.table(nrows, len(busy))
    return out


def cell_text(el: etree._Element) -> str:
    """A cell's text as printed: paragraphs, divs and <br> as line breaks, runs of spaces (and
    &nbsp;, ideographic spaces) as one space, empty lines dropped."""
    blocks = []
    for b in el.iter():
        if b.tag in _BLOCK and b is not el:
            blocks.append(b)
            if len(blocks) > 1:
                break
    if not blocks or (len(blocks) == 1 and blocks[0].tag != "br"):  # the usual cell: one line, read fast
        text = _line("".join(el.itertext()))
        if not blocks or text == _line("".join(blocks[0].itertext())):
            return text
    return "\n".join(value for kind, value in _events(el, set(), inside=True) if kind == "line")


def _line(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _drop(el: etree._Element) -> None:
    """Remove ``el`` and what it holds, keeping the text after it."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        before = el.getprevious()
        if before is not None:
            before.tail = (before.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def _events(root: etree._Element, kept: set[etree._Element], inside: bool = False) -> Iterator[tuple[str, Any]]:
    """Document order: ("line", text) for each block of text outside the kept tables,
    ("heading", text) for h1/h2, ("table", element) for each kept table. lxml walks the tree
    (``iterwalk``): a page of 100,000 cells is read in about a second."""
    parts: list[str] = []

    def flush() -> Iterator[tuple[str, object]]:
        text = _line("".join(parts))
        parts.clear()
        if text:
            yield "line", text

    walker = etree.iterwalk(root, events=("start", "end"))
    for action, el in walker:
        tag = el.tag if isinstance(el.tag, str) else ""
        if action == "start":
            if kept and el in kept:
                yield from flush()
                yield "table", el
                walker.skip_subtree()  # no "end" event follows: the tail is taken here
                if el.tail and el is not root:
                    parts.append(el.tail)
                continue
            if tag in _BLOCK:
                yield from flush()
            if not inside and tag in ("h1", "h2"):
                heading = _line("".join(el.itertext()))
                if heading:
                    yield "heading", heading
            if el.text and tag:
                parts.append(el.text)
        else:
            if tag in _BLOCK:
                yield from flush()
            if el.tail and el is not root:
                parts.append(el.tail)
    yield from flush()
