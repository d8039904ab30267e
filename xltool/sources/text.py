"""Plain text as copied or extracted from a report's PDF -> Document, best effort.

The positions are lost, so each line becomes one row: its fields (split at tabs and at wider runs of
spaces) as cells, the figures at the end of the line split off even where one space separates them
(``行政许可 0``), and a list number run into the label before it split off (``三、本 (一) 予以公开``).
The rows of a run of such lines are aligned on their right ends, where the figures are, so that a
header line's last labels stand over the last figures. A letter O where a figure belongs stays as
printed (``xltool.values`` reads it as 0 and says so). Everything else (which row, which table, what
does not fit) is the locator's: a row it cannot place is named in a finding.
"""

from __future__ import annotations

import re

from xltool.document import DocCell, DocTable, Document
from xltool.sources.html import decode
from xltool.sources.limits import MAX_CELLS, MAX_TABLES, MAX_TEXT, NOT_A_REPORT, max_document_bytes, refuse, too_large

_FIELDS = re.compile(r"\t+| {2,}|\u3000+")
_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,40}>")
_FIGURE = re.compile(r"[-−]?[0-9Oo〇][0-9Oo〇.,]*%?")
_LIST_NUMBER = re.compile(r"\s+(?=[(（][一二三四五六七八九十]{1,3}[)）])")
_HEADING = re.compile(r"^\s*#+\s*|^\s*[-*]\s+")


def read_text(data: bytes, file: str, name: str) -> Document:
    """A text file's bytes -> Document: one table per run of lines that have fields."""
    limit = max_document_bytes()
    if len(data) > limit:
        raise too_large(name, len(data), limit, "文本")
    text = decode(data)
    doc = Document(file=file, kind="text")
    lines: list[str] = []
    rows: list[list[str]] = []
    since: list[str] = []
    cells = 0

    def flush() -> None:
        nonlocal cells
        if not rows:
            return
        if len(rows) >= 2 or any(_FIGURE.fullmatch(c) for c in rows[0]):
            if len(doc.tables) >= MAX_TABLES:
                raise refuse("F-TOO-LARGE", name, what="的表格个数", limit=f"{MAX_TABLES} 个", hint=NOT_A_REPORT)
            width = max(len(r) for r in rows)
            table = DocTable(len(doc.tables) + 1, caption=since[-1][:100] if since else "")
            for r, row in enumerate(rows):
                table.cells.extend(DocCell(r, width - len(row) + k, t) for k, t in enumerate(row))
            cells += len(table.cells)
            if cells > MAX_CELLS:
                raise refuse(
                    "F-TOO-LARGE", name, what="的表格单元格个数", limit=f"{MAX_CELLS:,} 个", hint=NOT_A_REPORT
                )
            doc.tables.append(table)
            since.clear()
        else:
            since.append(" ".join(rows[0]))
        rows.clear()

    for raw in text.splitlines():
        line = _HEADING.sub("", _TAG.sub(" ", raw)).strip()
        fields = split_line(raw)
        if len(fields) >= 2:
            rows.append(fields)
            continue
        if rows and not line:
            continue  # a blank line inside a table (a page break in the PDF)
        flush()
        if line:
            lines.append(line)
            since.append(line)
    flush()
    doc.text = "\n".join(lines)[:MAX_TEXT]
    doc.title = lines[0] if lines else ""
    return doc


def split_line(raw: str) -> list[str]:
    """A line's cells: fields, trailing figures split off, a list number split from the text before it."""
    fields = [f.strip() for f in _FIELDS.split(_TAG.sub(" ", raw)) if f.strip()]
    if not fields:
        return []
    *head, last = fields
    words = last.split()
    tail: list[str] = []
    while len(words) > 1 and _FIGURE.fullmatch(words[-1]):
        tail.insert(0, words.pop())
    out: list[str] = []
    for f in [*head, " ".join(words)]:
        if _FIGURE.fullmatch(f):
            out.append(f)
        else:
            out.extend(p for p in _LIST_NUMBER.split(f) if p.strip())
    return out + tail
