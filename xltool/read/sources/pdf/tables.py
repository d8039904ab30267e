"""Stage 4, a page as blocks: its ruled tables (lattice strategy), or tables found in its lines of
text when it has no rules (stream strategy), and the running text between, top to bottom.

Owns ``Block`` and the stream strategy: lines that print a label and a figure are a table's rows,
the columns being where the figures stand. Page numbers (“- 4 -”, “第 4 页”) are dropped here.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from xltool.read.document import DocCell, DocTable
from xltool.read.sources.pdf.cells import line_text, rows_of
from xltool.read.sources.pdf.extract import Char, Seg
from xltool.read.sources.pdf.rulings import Lattice, lattices
from xltool.read.sources.pdf.settings import DEFAULT, PdfSettings
from xltool.values import PRINTED_FIGURE

PAGE_NUMBER = re.compile(
    r"^[-—–－‒―\s]*(?:\d{1,4}|[ivxlcIVXLC]{1,6})[-—–－‒―\s]*$|^第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?$"
    r"|^\d{1,4}\s*/\s*\d{1,4}$"
)


@dataclass
class Block:
    """A page's table or a line of text, in reading order (``top`` descending)."""

    top: float
    bottom: float
    page: int
    text: str = ""  # a line of running text
    table: DocTable | None = None
    lattice: Lattice | None = None  # the table's ruling lines, its characters in ``chars``
    chars: list[Char] = field(default_factory=list)


def page_blocks(
    p: int, chars: list[Char], hs: list[Seg], vs: list[Seg], settings: PdfSettings = DEFAULT
) -> list[Block]:
    """A page as tables and lines of text, top to bottom; page numbers dropped. A ruled table's cells
    are filled later (``joins.build_lattices``), when its pieces on other pages are known."""
    found = lattices(hs, vs, settings)
    out: list[Block] = []
    rest = chars
    for lat in found:
        inside = [c for c in rest if lat.contains(c)]
        if not inside:
            continue
        rest = [c for c in rest if not lat.contains(c)]
        out.append(Block(lat.top, lat.bottom, p, table=DocTable(0), lattice=lat, chars=inside))
    lines = [line for line in rows_of(rest, settings) if not PAGE_NUMBER.match(line_text(line, settings).strip())]
    if not found:
        out.extend(stream_blocks(p, lines, settings))
    else:
        out.extend(_text_block(p, line, settings) for line in lines)
    out.sort(key=lambda b: -b.top)
    return out


def _text_block(p: int, line: list[Char], settings: PdfSettings) -> Block:
    return Block(max(c.y1 for c in line), min(c.y0 for c in line), p, text=line_text(line, settings))


# --------------------------------------------------------------------------- pages without ruling lines


def words_of(line: list[Char], settings: PdfSettings = DEFAULT) -> list[list[Char]]:
    """A line's words: characters closer than ``word_gap`` characters."""
    out: list[list[Char]] = []
    for c in line:
        if out and c.x0 - out[-1][-1].x1 <= settings.word_gap * max(c.y1 - c.y0, 1.0):
            out[-1].append(c)
        else:
            out.append([c])
    return out


def stream_table(lines: list[list[Char]], settings: PdfSettings = DEFAULT) -> DocTable:
    """Lines without ruling lines as a table: one row a line, a word in the column that its centre falls
    in, the columns being where the figures stand (their x ranges, overlapping ones joined)."""
    words = [[(w, "".join(c.ch for c in w)) for w in words_of(line, settings)] for line in lines]
    starts = _figure_columns(words, settings)
    cells: list[DocCell] = []
    for r, line in enumerate(words):
        used: dict[int, list[str]] = {}
        sure: dict[int, float] = {}
        for w, text in line:
            cx = (w[0].x0 + w[-1].x1) / 2
            k = bisect.bisect_right(starts, cx)  # 0: left of every figure column (the labels)
            # a word over a figure column's range, or right of it up to the next: that column
            used.setdefault(k, []).append(text)
            sure[k] = min([sure.get(k, 1.0), *(c.conf for c in w)])
        for k, texts in sorted(used.items()):
            cells.append(DocCell(r, k, " ".join(texts), confidence=sure[k]))
    return DocTable(number=0, cells=cells)


def _figure_columns(words: list[list[tuple[list[Char], str]]], settings: PdfSettings) -> list[float]:
    """Where each figure column starts: the x ranges of the figures, those within ``snap`` joined."""
    spans = sorted([w[0].x0, w[-1].x1] for line in words for w, text in line if PRINTED_FIGURE.fullmatch(text))
    cols: list[list[float]] = []
    for a, b in spans:
        if cols and a <= cols[-1][1] + settings.snap:
            cols[-1][1] = max(cols[-1][1], b)
        else:
            cols.append([a, b])
    return [a for a, _ in cols]


def stream_blocks(p: int, lines: list[list[Char]], settings: PdfSettings = DEFAULT) -> list[Block]:
    """A page without ruling lines: runs of lines that print a label and a figure are a table, with
    the lines of two or more words just above the first (its header); the other lines are text."""
    page = _StreamPage(p, settings)
    for line in lines:
        page.feed(line)
    return page.close()


class _StreamPage:
    """The blocks of a ruleless page so far: the table being read (``run``) and the lines of several
    words since the last line of text (``pending``: a header?)."""

    def __init__(self, p: int, settings: PdfSettings):
        self.p = p
        self.settings = settings
        self.out: list[Block] = []
        self.run: list[list[Char]] = []
        self.pending: list[list[Char]] = []

    def feed(self, line: list[Char]) -> None:
        words = ["".join(c.ch for c in w) for w in words_of(line, self.settings)]
        if len(words) >= 2 and any(PRINTED_FIGURE.fullmatch(w) for w in words[1:]):
            self._row(line)
        elif len(words) >= 2 and len(self.pending) < self.settings.pending_lines:
            if self.run and len(words) >= 3:
                self.run.append(line)  # a header or a wrapped row inside the table
                return
            self._flush()
            self.pending.append(line)
        else:
            self._flush()
            self._texts(self.pending)
            self.pending.clear()
            self._texts([line])

    def close(self) -> list[Block]:
        self._flush()
        self._texts(self.pending)
        return self.out

    def _row(self, line: list[Char]) -> None:
        """A line printing a label and a figure; the first of a table takes the header lines above it."""
        if not self.run:
            header = self.pending[-self.settings.header_lines :]
            self._texts(self.pending[: len(self.pending) - len(header)])
            self.run.extend(header)
        self.pending.clear()
        self.run.append(line)

    def _texts(self, lines: list[list[Char]]) -> None:
        self.out.extend(_text_block(self.p, line, self.settings) for line in lines)

    def _flush(self) -> None:
        if self.run:
            top, bottom = max(c.y1 for c in self.run[0]), min(c.y0 for c in self.run[-1])
            self.out.append(Block(top, bottom, self.p, table=stream_table(self.run[:], self.settings)))
        self.run.clear()
