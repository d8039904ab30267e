"""A published report's six parts (一、总体情况 … 六、其他需要报告的事项), found by their headings in a
document's running text (``Document.text``: what its source printed outside the tables).

A part heading is a numbered line ("一、" "一." "1、" "第一部分" "## 一、", a markdown heading marker
allowed) whose title carries words only that part's name in the definition has (``Format.report_sections``):
"二、行政机关主动公开政府信息情况" is part 二, "三、本年度办理结果" (a row label of 表三 that a converter
printed as a heading) is no part, "（一）主动公开情况" is a sub-heading. Parts come in document order, a
number never going back; a heading naming two parts' words ("五、存在的主要问题及改进情况和其他需要报告
的事项") is one part of both numbers.

A PDF's (and a PDF's extracted text's) lines break mid-sentence: lines of one paragraph are joined before
the text is kept, so that a sentence and its figures stay whole. Lines a table printed (its labels, its
caption) are left out of the parts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from xltool.definition import Format
from xltool.model import NarrativePart
from xltool.read.document import Document
from xltool.text import normalize_label

MIN_HEADINGS = 3
"""Part headings a document needs for its text to count as the report's narrative: fewer is a file of
tables (their captions 二、三、四 alone) or a fragment, whose missing parts are not worth a warning."""
PROSE_PARTS = frozenset({1, 5, 6})
"""The parts that are prose only; a narrative has the heading of at least one of them (tables' captions
are 二、三、四)."""
EMPTY_TEXTS = frozenset({"", "无", "暂无", "没有", "无问题"})
"""A part's text (without punctuation) that says nothing."""
MAX_HEADING = 40
"""Characters of a heading's title: a longer numbered line is a paragraph ("一是…" lists, items)."""

_NUMERALS = "一二三四五六"
_HEADING = re.compile(
    r"^\s*(?:#{1,6}\s*)?(?:[-*]\s+)?(?:\*\*)?"
    r"(?:第\s*(?P<part>[一二三四五六1-6])\s*部分\s*[、.．:：]?"
    r"|(?P<zh>[一二三四五六])\s*[、.．]"
    r"|(?P<arabic>[1-6])\s*(?:[、．]|\.(?!\d)))"
    r"\s*(?P<title>.*)$"
)
_SUBHEADING = re.compile(
    r"^\s*(?:#{1,6}\s*)?(?:[-*]\s+)?(?:\*\*)?(?:[（(]\s*[一二三四五六七八九十\d]+\s*[）)]|[一二三四五六七八九十]+\s*[、.．]"
    r"|\d+\s*[、.．](?!\d)|第[一二三四五六]部分)"
)
_PARAGRAPH_END = re.compile(r"[。！？；：:!?;）)]\s*$")
_PAGE_NUMBER = re.compile(r"^[\s—\-－–_第页/]*\d{1,3}[\s—\-－–_页/共]*$")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_TRAILING = ("工作情况", "的情况", "情况")


@dataclass(frozen=True)
class PartName:
    """A statutory part as headings are told apart: its number and the bigrams no other part's name has."""

    number: int
    bigrams: frozenset[str]


def part_names(fmt: Format) -> tuple[PartName, ...]:
    """The definition's six sections, each with its own words (as character bigrams of its name without
    its number and a trailing 情况): what a heading must carry to be that part."""
    cores = [_bigrams(_core(s)) for s in fmt.report_sections]
    out = []
    for i, own in enumerate(cores):
        others = set().union(*(c for k, c in enumerate(cores) if k != i))
        out.append(PartName(i + 1, frozenset(own - others)))
    return tuple(out)


def _core(section: str) -> str:
    m = _HEADING.match(section)
    title = m.group("title") if m else section
    for tail in _TRAILING:
        title = title.removesuffix(tail)
    return title


def _bigrams(text: str) -> set[str]:
    chars = "".join(_CJK.findall(text))
    return {chars[i : i + 2] for i in range(len(chars) - 1)}


def heading_numbers(line: str, names: tuple[PartName, ...], after: int = 0) -> tuple[tuple[int, ...], str, str]:
    """The part numbers a line heads (() when it heads none), the heading as printed, and the text that
    follows the heading on the same line ("一、总体情况。2023年，…"). ``after``: the last part found, a
    heading never going back to it or before it."""
    m = _HEADING.match(line)
    if m is None:
        return (), "", ""
    digit = m.group("part") or m.group("zh") or m.group("arabic")
    number = _NUMERALS.index(digit) + 1 if digit in _NUMERALS else int(digit)
    if number <= after or number > len(names):
        return (), "", ""
    title, rest = _split_title(m.group("title"))
    if not title or len(title) > MAX_HEADING:
        return (), "", ""
    found = _bigrams(title)
    own = names[number - 1].bigrams
    if not own or len(found & own) < min(2, len(own)):
        return (), "", ""
    merged = tuple(n.number for n in names[number:] if len(found & n.bigrams) >= min(2, len(n.bigrams)))
    heading = line[: len(line) - len(rest)] if rest else line
    return (number, *merged), heading.strip().strip("#-* ").rstrip("。：:").strip(), rest.strip()


def _split_title(title: str) -> tuple[str, str]:
    """A heading's title, and a paragraph printed after it on the same line (after 。 or ：)."""
    m = re.search(r"[。：:]", title)
    if m is None:
        return title.strip(), ""
    return title[: m.start()].strip(), title[m.end() :]


def join_lines(lines: list[str]) -> list[str]:
    """Lines of one paragraph joined (a PDF's line breaks fall mid-sentence): a line continues the one
    before unless that one ends a sentence or is a heading, or the line starts a numbered heading. Page
    numbers ("— 3 —") are dropped; a short line is never continued (it ends where its text does: a
    portal's links, a signature). Linear: a paragraph's pieces are joined once."""
    out: list[list[str]] = []
    for raw in lines:
        line = raw.strip()
        if not line or _PAGE_NUMBER.fullmatch(line):
            continue
        last = out[-1][-1] if out else ""
        wrapped = len(last) > SHORT_LINE and not _PARAGRAPH_END.search(last)  # a full line, cut mid-sentence
        if wrapped and not _SUBHEADING.match(line) and not _is_heading(out[-1]):
            out[-1].append(line)
        else:
            out.append([line])
    return ["".join(pieces) for pieces in out]


def _is_heading(pieces: list[str]) -> bool:
    """Whether a paragraph so far is a short sub-heading ("（一）主动公开方面"), which nothing continues."""
    if len(pieces) > 1 or len(pieces[0]) > MAX_HEADING:
        return False
    return bool(_SUBHEADING.match(pieces[0])) and "。" not in pieces[0]


def read_narrative(doc: Document, fmt: Format) -> tuple[NarrativePart, ...]:
    """The document's parts 一 to 六 in document order, each with its text; () for a workbook, or when
    fewer than ``MIN_HEADINGS`` headings are found or none of a prose part (一、五、六)."""
    if doc.kind == "workbook":
        return ()  # a sheet's cells are tables, not a report's text
    names = part_names(fmt)
    printed = _table_text(doc, fmt)
    lines = [s for s in doc.text.splitlines() if heading_numbers(s, names)[0] or not _from_table(s, printed)]
    if doc.kind in ("pdf", "text"):
        lines = join_lines(lines)
    parts = _split_parts(lines, names)
    if len(parts) < MIN_HEADINGS or not any(set(n) & PROSE_PARTS for n, _, _ in parts):
        return ()
    *before, (numbers, heading, last) = parts
    return tuple(NarrativePart(n, h, "\n".join(text)) for n, h, text in [*before, (numbers, heading, _page_end(last))])


def _split_parts(lines: list[str], names: tuple[PartName, ...]) -> list[tuple[tuple[int, ...], str, list[str]]]:
    """(numbers, heading, lines) of each part, in order; what comes before the first heading is left out.
    Headings with nothing under any of them (a table of contents) are dropped when the parts start again."""
    parts: list[tuple[tuple[int, ...], str, list[str]]] = []
    for line in lines:
        written = any(text for _, _, text in parts)
        numbers, heading, rest = heading_numbers(line, names, parts[-1][0][-1] if parts and written else 0)
        if numbers and parts and not written and numbers[0] <= parts[-1][0][-1]:
            parts = []  # the contents listed the headings; the report starts here
        if numbers:
            parts.append((numbers, heading, [rest] if rest else []))
        elif parts and line.strip():
            parts[-1][2].append(line.strip())
    return parts


def says_nothing(text: str | list[str]) -> bool:
    """Whether a part's text is empty or only "无" / "暂无" (punctuation and spaces aside)."""
    joined = text if isinstance(text, str) else "".join(text)
    return re.sub(r"[\s。.！!、，,；;：:]", "", joined) in EMPTY_TEXTS


def _from_table(line: str, printed: str) -> bool:
    """A line the tables print (a label, a caption, a label's wrapped piece, labels a converter put
    together: "申请人情况 (自然人)"), not a sentence."""
    if len(line) > len(printed):
        return False
    key = normalize_label(line.lstrip("#-* "), loose=True)
    pieces = [p for p in re.split(r"[()]", key) if p]
    return len(key) >= 2 and "。" not in line and all(p in printed for p in pieces)


def _table_text(doc: Document, fmt: Format) -> str:
    """What the tables print, as their lines would read in the running text: the format's labels and
    the tables' captions (a markdown converter prints a table's labels as headings above it), one
    string to find a line's text in."""
    captions = [t.caption for t in doc.tables if t.caption and "。" not in t.caption]
    return "|".join(normalize_label(t, loose=True) for t in [*fmt.printed_labels, *captions])


SHORT_LINE = 15
"""Characters of a line that cannot be a full line of a page's text (a link, a name, a date)."""
SITE_LINES = 3
"""Short lines in a row that end a page's report: a portal's links after the last part."""


def _page_end(lines: list[str]) -> list[str]:
    """The last part's lines up to what a web page prints after the report (its site's links: short
    lines without a sentence's punctuation, ``SITE_LINES`` or more in a row)."""
    run = 0
    for i, line in enumerate(lines):
        run = run + 1 if len(line) <= SHORT_LINE and not re.search(r"[。；，,！？]", line) else 0
        if run >= SITE_LINES:
            return lines[: i - SITE_LINES + 1]
    return lines
