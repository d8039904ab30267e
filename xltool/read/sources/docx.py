"""Word .docx -> Document: every ``w:tbl`` of the body, in order (nested tables too), as a grid.

The zip goes through the same container checks as a workbook (``xltool.read.safety``) before any
part is inflated; word/document.xml is then parsed with lxml without entities, DTDs or network.
Merged cells: ``w:gridSpan`` is a colspan, ``w:vMerge`` restart/continue a rowspan,
``w:gridBefore`` skips grid columns. A table that Word split at a page break into two tables
(表三 often is) stays two DocTables; the second has ``continues`` set, the locator joins them.

What would cost more than a report ever does is refused before it is built: the tags and attributes
of document.xml before parsing (``MAX_MARKUP``), a table wider than ``MAX_GRID_COLUMNS`` (its
``w:tblGrid``, or a row's ``w:gridBefore`` and ``w:gridSpan``s) and the grid positions of the tables
(``MAX_GRID``, spans and ``w:vMerge`` chains counted) while their cells are placed.

Only what Word shows is read: runs marked hidden (``w:vanish`` in their own properties) are left out;
a row whose text is all hidden is no row, a table whose text is all hidden no table (counted in
``Document.hidden_tables``). Hidden text set by a style (styles.xml) is not evaluated.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from typing import Any, cast

from lxml import etree

from xltool.read.document import DocCell, DocTable, Document
from xltool.read.safety import inspect_document_zip, read_part
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
    too_many_columns,
)

MAX_CAPTION = 100
MAX_SPAN = 1000
_WRAPPERS = frozenset(("sdt", "sdtContent", "customXml", "smartTag"))
"""Containers Word puts around paragraphs, rows and cells (content controls, custom XML)."""
_SKIP = frozenset(("Fallback", "moveFrom", "del", "pPr", "rPr", "tblPr", "trPr", "tcPr", "sectPr", "instrText"))
_TITLE_GOES_ON = re.compile(r"[0-9０-９〇一二]|政府信息|工作|年度|报告")


def _local(el: etree._Element) -> str:
    tag = el.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _attr(el: etree._Element | None, name: str) -> str | None:
    """A w:-attribute by local name (transitional or strict namespace)."""
    if el is None:
        return None
    for key, value in el.attrib.items():
        if key.rpartition("}")[2] == name:
            return cast(str, value)
    return None


def _child(el: etree._Element | None, name: str) -> etree._Element | None:
    if el is None:
        return None
    for c in el:
        if _local(c) == name:
            return c
    return None


def read_docx(data: bytes, file: str, name: str) -> Document:
    """A .docx's bytes -> Document, after the container checks of ``xltool.read.safety``."""
    refusal = inspect_document_zip(data)
    if refusal is not None:
        raise refuse(refusal[0], name, **refusal[1])
    xml = _main_part(data, name)
    check_markup(xml, name, "正文")
    try:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            huge_tree=False,
            load_dtd=False,
            remove_comments=True,
            remove_pis=True,
        )
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        if "depth" in str(exc).lower():
            raise refuse(
                "F-TOO-LARGE", name, what="的文档结构嵌套层数", limit="256 层", hint="疑似恶意文件，请核实文件来源"
            ) from None
        raise refuse(
            "F-CORRUPT", name, reason="正文无法解析", hint="请在 Word/WPS 中打开并另存为 .docx", library_text=str(exc)
        ) from None
    body = _child(root, "body")
    if body is None:
        raise refuse("F-CORRUPT", name, reason="找不到正文 w:body", hint="请在 Word/WPS 中打开并另存为 .docx")
    cells = sum(1 for el in body.iter() if _local(el) == "tc")
    if cells > MAX_CELLS:
        raise refuse(
            "F-TOO-LARGE", name, what=f"的表格共有 {cells:,} 个单元格", limit=f"{MAX_CELLS:,} 个", hint=NOT_A_REPORT
        )
    reader = _Reader(name)
    reader.blocks(body, top=True)
    doc = Document(file=file, kind="docx", tables=reader.tables, hidden_tables=reader.hidden_tables)
    doc.text = "\n".join(reader.lines)[:MAX_TEXT]
    doc.title = _title(reader.leading)
    return doc


def _main_part(data: bytes, name: str) -> bytes:
    limit = max_document_bytes()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            info = zf.getinfo("word/document.xml")
            if info.file_size > limit:
                raise too_large(name, info.file_size, limit, "正文")
            return read_part(zf, info)  # in bounded steps: never much past the declared size, checked above
    except KeyError:
        raise refuse(
            "F-NOT-DOCUMENT",
            name,
            what="没有 Word 正文（word/document.xml）",
            hint="请在 Word/WPS 中打开并另存为 .docx",
        ) from None
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError, ValueError, zlib.error) as exc:
        raise refuse("F-CORRUPT", name, reason="无法打开", hint="请重新发送", library_text=str(exc)) from None


def _title(leading: list[str]) -> str:
    """The first paragraph naming the report, with the paragraph before it when the title was
    broken in two (汤旺县乌伊岭镇 / 2024年政府信息公开工作年度报告); else the first paragraph."""
    head = leading[:6]
    for i, text in enumerate(head):
        before = head[i - 1] if i else ""
        if "年度报告" in text:
            joined = (
                i and len(before) <= 40 and _TITLE_GOES_ON.match(text) and not before.endswith(("号", "。", "：", ":"))
            )
            return before + text if joined else text
        if i + 1 < len(head) and len(text) <= 40 and "年度报告" in text + head[i + 1] and "年度报告" not in head[i + 1]:
            return text + head[i + 1]
    return head[0] if head else ""


class _Reader:
    """One pass over the body: tables (numbered in order of their start), running text outside
    tables, the paragraphs before the first table (for the title)."""

    def __init__(self, name: str):
        self.name = name
        self.tables: list[DocTable] = []
        self.lines: list[str] = []
        self.leading: list[str] = []
        self.cells = 0
        self.budget = GridBudget(name)
        self.shown = 0  # paragraphs read with text
        self.hidden = 0  # runs of hidden text left out
        self.hidden_tables = 0

    def blocks(self, container: etree._Element, top: bool) -> list[str]:
        """Walk paragraphs and tables of ``container``; returns its paragraph texts (cell text)."""
        texts: list[str] = []
        since: list[str] = []  # non-empty paragraphs since the previous table of this container
        seen_table = False
        for kind, el in _block_items(container):
            if kind == "p":
                text, hidden = _paragraph(el)
                self.hidden += hidden
                if text:
                    self.shown += 1
                    texts.append(text)
                    since.append(text)
                    if top:
                        self.lines.append(text)
                        if not self.tables:
                            self.leading.append(text)
            else:
                caption = since[-1][:MAX_CAPTION] if since else ""
                if self.table(el, caption, continues=seen_table and not since):
                    seen_table, since = True, []
        return texts

    def table(self, tbl: etree._Element, caption: str, continues: bool) -> bool:
        """Read ``tbl`` into ``self.tables``; False when all its text is hidden (then it is left out)."""
        if len(self.tables) >= MAX_TABLES:
            raise refuse("F-TOO-LARGE", self.name, what="的表格个数", limit=f"{MAX_TABLES} 个", hint=NOT_A_REPORT)
        grid = _child(tbl, "tblGrid")
        if grid is not None and sum(1 for c in grid if _local(c) == "gridCol") > MAX_GRID_COLUMNS:
            raise too_many_columns(self.name)
        shown, hidden, hidden_tables = self.shown, self.hidden, self.hidden_tables
        out = DocTable(number=len(self.tables) + 1, caption=caption, continues=continues)
        self.tables.append(out)  # before its nested tables: numbered in order of their start
        cells: list[list[Any]] = []  # [row, col, text, rowspan, colspan]
        open_merge: dict[int, int] = {}  # grid column -> index of the cell a vMerge continues
        r = 0
        for tr in _items(tbl, "tr"):
            row = self.row(tr)
            if row is None:  # all its text hidden: no row
                continue
            merging: dict[int, int] = {}
            previous = None
            for col, span, vmerge, hmerge, text in row:
                if vmerge == "continue" and col in open_merge:
                    index = open_merge[col]
                    cells[index][3] = r - cells[index][0] + 1
                    self.budget.cover(1, cells[index][4])
                    merging[col] = index
                elif hmerge == "continue" and previous is not None:
                    cells[previous][4] += span  # legacy horizontal merge: widen the cell on the left
                    self.budget.cover(cells[previous][3], span)
                else:
                    cells.append([r, col, text, 1, span])
                    self.budget.cover(1, span)
                    previous = len(cells) - 1
                    if vmerge:
                        merging[col] = previous
            open_merge = merging
            r += 1
        if self.shown == shown and self.hidden > hidden:  # all its text hidden: no table
            self.tables.pop()  # the last: a table after it would be nested in it, hidden too, gone
            if self.hidden_tables == hidden_tables:
                self.hidden_tables += 1  # counted once with the hidden tables nested in it
            return False
        self.budget.table(max((c[0] + c[3] for c in cells), default=0), max((c[1] + c[4] for c in cells), default=0))
        self.cells += len(cells)
        if self.cells > MAX_CELLS:
            raise refuse(
                "F-TOO-LARGE", self.name, what="的表格单元格个数", limit=f"{MAX_CELLS:,} 个", hint=NOT_A_REPORT
            )
        out.cells = [DocCell(r, c, text, rs, cs) for r, c, text, rs, cs in cells]
        return True

    def row(self, tr: etree._Element) -> list[tuple[int, int, str, str, str]] | None:
        """A row's cells: (grid column, span, vMerge "restart"/"continue"/"", hMerge likewise, text);
        None when all its text is hidden. A row reaching past ``MAX_GRID_COLUMNS`` is refused."""
        shown, hidden = self.shown, self.hidden
        col = _int(_attr(_child(_child(tr, "trPr"), "gridBefore"), "val"), 0)
        out: list[tuple[int, int, str, str, str]] = []
        for tc in _items(tr, "tc"):
            pr = _child(tc, "tcPr")
            span = min(max(_int(_attr(_child(pr, "gridSpan"), "val"), 1), 1), MAX_SPAN)
            if col + span > MAX_GRID_COLUMNS:
                raise too_many_columns(self.name)
            out.append((col, span, _merge(pr, "vMerge"), _merge(pr, "hMerge"), "\n".join(self.blocks(tc, top=False))))
            col += span
        if self.shown == shown and self.hidden > hidden:
            return None
        return out


def _merge(pr: etree._Element | None, name: str) -> str:
    """A cell's w:vMerge or w:hMerge: "restart", "continue" (the default value) or "" (none)."""
    el = _child(pr, name)
    if el is None:
        return ""
    return "restart" if _attr(el, "val") == "restart" else "continue"


def _hidden(run: etree._Element) -> bool:
    """Whether a run is hidden text: ``w:vanish`` in its own properties, not switched off."""
    vanish = _child(_child(run, "rPr"), "vanish")
    return vanish is not None and _attr(vanish, "val") not in ("0", "false", "off")


def _int(value: str | None, default: int) -> int:
    m = re.match(r"\s*([0-9]{1,6})", value or "")
    return int(m.group(1)) if m else default


def _items(el: etree._Element, name: str) -> Iterator[etree._Element]:
    """Children named ``name`` (w:tr of a table, w:tc of a row), also inside content controls."""
    for c in el:
        local = _local(c)
        if local == name:
            yield c
        elif local in _WRAPPERS:
            yield from _items(c, name)


def _block_items(el: etree._Element) -> Iterator[tuple[str, etree._Element]]:
    """("p", paragraph) and ("tbl", table) of a body or cell, in order, through content controls."""
    for c in el:
        local = _local(c)
        if local == "p":
            yield "p", c
        elif local == "tbl":
            yield "tbl", c
        elif local in _WRAPPERS:
            yield from _block_items(c)


def paragraph_text(p: etree._Element) -> str:
    """A paragraph's text as printed: runs joined, tabs as a space, line breaks as "\\n" (page
    and column breaks as nothing); deleted and moved-away text, field codes and hidden text left out."""
    return _paragraph(p)[0]


def _paragraph(p: etree._Element) -> tuple[str, int]:
    """``paragraph_text`` and the number of runs of hidden text with something in them left out."""
    parts: list[str] = []
    hidden = 0

    def walk(el: etree._Element) -> None:
        nonlocal hidden
        for c in el:
            local = _local(c)
            if local in _SKIP:
                continue
            if local == "r" and _hidden(c):
                hidden += any((t.text or "").strip() for t in c.iter() if _local(t) == "t")
                continue
            if local == "t":
                parts.append(c.text or "")
            elif local == "tab":
                parts.append(" ")
            elif local in ("br", "cr"):
                if _attr(c, "type") not in ("page", "column"):
                    parts.append("\n")
            elif local == "noBreakHyphen":
                parts.append("-")
            elif local in ("p", "tbl"):  # a text box's paragraphs: one line each
                parts.append("\n")
                walk(c)
                parts.append("\n")
            else:
                walk(c)

    walk(p)
    lines = (re.sub(r"[ \t\u00a0\u3000]+", " ", line).strip() for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line), hidden
