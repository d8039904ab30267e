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

from xltool.read.document import DocCell, DocTable, Document
from xltool.read.sources.html import decode
from xltool.read.sources.limits import (
    MAX_CELLS,
    MAX_TABLES,
    MAX_TEXT,
    NOT_A_REPORT,
    max_document_bytes,
    refuse,
    too_large,
)
from xltool.read.sources.markdown import PipeTable, grids, is_pipe_row, pipe_cells
from xltool.values import PRINTED_FIGURE

_FIELDS = re.compile(r"\t+| {2,}|\u3000+")
_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,40}>")
_LIST_NUMBER = re.compile(r"\s+(?=[(（][一二三四五六七八九十]{1,3}[)）])")
_HEADING = re.compile(r"^\s*#+\s*|^\s*[-*]\s+")


def read_text(data: bytes, file: str, name: str) -> Document:
    """A text file's bytes -> Document: one table per run of lines that have fields, and the markdown
    pipe tables (``xltool.read.sources.markdown``)."""
    limit = max_document_bytes()
    if len(data) > limit:
        raise too_large(name, len(data), limit, "文本")
    text = decode(data)
    doc = Document(file=file, kind="text")
    lines: list[str] = []
    rows: list[list[str]] = []
    raws: list[str] = []  # the lines of ``rows`` as read (their tabs tell the columns of 表四's header)
    since: list[str] = []
    pipes: list[PipeTable] = []  # pipe tables read, not yet made tables (a run of them is read together)
    between: list[str] = []  # the lines printed since the last table
    cells = 0

    def emit(table: DocTable) -> None:
        nonlocal cells
        if len(doc.tables) >= MAX_TABLES:
            raise refuse("F-TOO-LARGE", name, what="的表格个数", limit=f"{MAX_TABLES} 个", hint=NOT_A_REPORT)
        cells += len(table.cells)
        if cells > MAX_CELLS:
            raise refuse("F-TOO-LARGE", name, what="的表格单元格个数", limit=f"{MAX_CELLS:,} 个", hint=NOT_A_REPORT)
        doc.tables.append(table)
        since.clear()
        between.clear()

    def flush_pipes() -> None:
        for g in grids(pipes):
            emit(DocTable(len(doc.tables) + 1, g.cells, caption=g.caption, continues=g.continues))
        pipes.clear()

    def flush() -> None:
        flush_pipes()
        if not rows:
            return
        if len(rows) >= 2 or any(PRINTED_FIGURE.fullmatch(c) for c in rows[0]):
            width = max(len(r) for r in rows)
            table = DocTable(len(doc.tables) + 1, caption=since[-1][:100] if since else "")
            vertical = vertical_header(raws)
            if vertical is not None:
                table.cells = vertical
            else:
                for r, row in enumerate(rows):
                    table.cells.extend(DocCell(r, width - len(row) + k, t) for k, t in enumerate(row))
            emit(table)
        else:
            since.append(" ".join(rows[0]))
        rows.clear()
        raws.clear()

    current: PipeTable | None = None
    for raw in text.splitlines():
        if is_pipe_row(raw):
            if current is None:
                if rows:
                    flush()
                current = PipeTable(before=list(between))
                between.clear()
            current.add(pipe_cells(raw))
            continue
        if current is not None:
            pipes.append(current)
            current = None
        line = _HEADING.sub("", _TAG.sub(" ", raw)).strip()
        fields = [] if raw.lstrip().startswith("#") else split_line(raw)  # a markdown heading is no row
        if len(fields) >= 2:
            if pipes:
                flush_pipes()
            rows.append(fields)
            raws.append(raw)
            continue
        if rows and not line:
            continue  # a blank line inside a table (a page break in the PDF)
        if rows:
            flush()
        if line:
            lines.append(line)
            since.append(line)
            between.append(line)
    if current is not None:
        pipes.append(current)
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
    while len(words) > 1 and PRINTED_FIGURE.fullmatch(words[-1]):
        tail.insert(0, words.pop())
    out: list[str] = []
    for f in [*head, " ".join(words)]:
        if PRINTED_FIGURE.fullmatch(f):
            out.append(f)
        else:
            out.extend(p for p in _LIST_NUMBER.split(f) if p.strip())
    return out + tail


_NOISE = re.compile(r"[^0-9A-Za-z\u3400-\u9fff]")


def vertical_header(lines: list[str]) -> list[DocCell] | None:
    """表四 as a PDF's text dump prints it: the column headers one character per line, every line with
    the same number of tab-separated fields, the figures in the last line, one per field::

        行政复议 ␉␉␉␉ 行政诉讼 ␉…
        结 ␉ 结 ␉ 其 ␉ 尚 ␉ ␉ 未经复议直接起诉 ␉␉␉␉ 复议后起诉 ␉…
        果 ␉ 果 ␉ 他 ␉ 未 ␉ 总 ␉ 结 ␉ …
        …
        0 ␉ 0 ␉ 0 ␉ …

    Each field's single characters, top to bottom, are its column's header (结果维持, 总计; dots and
    commas of the dump dropped); a word of several characters heads a group of columns. A group's
    columns are not known from where its word stands (行政诉讼 stands over 行政复议's 总计): they are
    taken only where the column headers repeat in equal runs (结果维持 … 总计, three times) and each
    word stands at most one field from the start of a run (runs of three columns or more, so that no
    word could belong to two); a word heads its run and those up to the next word of its line. Then the header rows and the figure row are returned as cells, for the
    locator to match their labels like any table's; otherwise None (the lines stay as read, their
    cells named in findings)."""
    if len(lines) < 3:
        return None
    fields = [[f.strip() for f in line.rstrip("\r\n").split("\t")] for line in lines]
    n = len(fields[-1])
    if n < 3 or any(len(f) != n for f in fields) or not all(PRINTED_FIGURE.fullmatch(f) for f in fields[-1]):
        return None
    leaves = [""] * n
    words: list[list[tuple[int, str]]] = []  # per line holding words: (field, word)
    for line in fields[:-1]:
        mine = []
        for k, f in enumerate(line):
            text = _NOISE.sub("", f)
            if len(text) == 1:
                leaves[k] += text
            elif len(text) > 1:
                mine.append((k, f))
        if mine:
            words.append(mine)
    if any(len(leaf) < 2 for leaf in leaves):
        return None
    period = next((m for m in range(1, n + 1) if n % m == 0 and all(leaves[k] == leaves[k % m] for k in range(n))), n)
    runs = n // period
    cells: list[DocCell] = []
    levels = len(words)
    spans: list[list[tuple[int, int, str]]] = []  # per level: (first run, last run, word)
    for mine in words:
        starts: list[tuple[int, str]] = []
        for k, w in mine:
            run = round(k / period)
            if abs(k - run * period) > 1 or run >= runs or (starts and run <= starts[-1][0]):
                return None
            starts.append((run, w))
        spans.append(
            [(run, (starts[i + 1][0] - 1 if i + 1 < len(starts) else runs - 1), w) for i, (run, w) in enumerate(starts)]
        )
    if levels and (runs == 1 or period < 3):  # a word one field off could stand over two runs
        return None
    for level, row in enumerate(spans):
        for a, b, w in row:
            down = 1  # a word over lower levels that print nothing under it spans them (行政复议)
            for lower in spans[level + 1 :]:
                if any(not (b2 < a or a2 > b) for a2, b2, _ in lower):
                    break
                down += 1
            cells.append(DocCell(level, a * period, w, down, (b - a + 1) * period))
    cells += [DocCell(levels, k, leaf) for k, leaf in enumerate(leaves)]
    cells += [DocCell(levels + 1, k, f) for k, f in enumerate(fields[-1])]
    return cells
