"""A published report's text against its own tables (finding group 正文), and whether its parts are all there.

The figures the text states are read only by ``PHRASES``: how units really write them ("本年度新收政府信息
公开申请23件" "共收到70件申请" "办结69件" "予以公开及部分公开42件" "被申请行政复议1件" "制发行政规范性文件
2件、废止1件" "行政事业性收费金额7730.28万元"), each naming the figure it states by its name in the
definition's [report.figures] (the cells it sums are data there, as are those publish says). A figure is compared only when it can be attributed without guessing: a sentence that names
another year, last year (上年, 去年, 同比, 较上年) or a change is skipped, as is a phrase whose cells the
format does not have or the table left unread. A false warning on a consistent report is the worst outcome,
so a phrase that may mean two things (共受理申请 N 件: new, or new and carried over) lists both and is
only flagged when it is neither.

Completeness: a document is held to its parts when ``xltool.read.narrative`` found them
(``ReturnRecord.narrative``: at least three part headings, one of them 一、五 or 六) and two of the prose
parts (一、五、六) say something (``has_narrative``). Only the prose parts are required here: a missing
table is already D-TABLE-MISSING.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache

from xltool.definition import AMOUNT, Format
from xltool.findings import Finding
from xltool.model import NarrativePart, ReturnRecord
from xltool.read.narrative import PROSE_PARTS, says_nothing
from xltool.text import short_sheet, split_sentences
from xltool.values import AMOUNT_SCALE

Figure = str
"""A figure the text states, by its name in the definition's [report.figures] ("new", "suits")."""

NEW, CARRIED_IN, DISCLOSED, PARTIAL, HANDLED, CARRIED_OUT = (
    "new",
    "carried_in",
    "disclosed",
    "partial",
    "handled",
    "carried_out",
)
REVIEW, SUITS, FEE_NOTICE, FEES = "review", "suits", "fee_notice", "fees"
RULES, NORMATIVE = "rules", "normative"  # 表二's rows, named in a figure's name: rules_issued
ISSUED, REPEALED, VALID = "issued", "repealed", "valid"

NUMBER = (
    r"(?<![\d.约近逾超数几多余零〇一二两三四五六七八九十百千万])(?<!\d,)"  # not inside a figure, not "约230"
    r"(?P<n>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千万]+)"
)
COUNTED = r"\s*(?:件|个|份|部)(?![事一二三四五六七八九十])"
"""The units of a count of documents or decisions (表二); not "三件事", not "三个一"."""
CASES = r"\s*件(?!事)"
"""The unit of applications and cases (表三、表四): 件 only ("三个一工作机制" is no count)."""
GAP = r"[^，,。；;、\d]{0,%d}?"
"""Words between a phrase's key words and its figure: no clause break, no other figure."""
DISCLOSURE = r"(?:[^，,。；;\d]{0,%d}?公开|依)?"
"""What may stand between 收到/受理 and 申请: nothing, 依 (依申请), or words ending in 公开 (政府信息公开申请,
邮寄、网络提交的各类政府信息公开申请); never other words (受理行政审批申请 is no disclosure application)."""


@dataclass(frozen=True)
class Phrase:
    """One way a report's text states a figure of the tables.

    ``pattern``: a regular expression with ``{N}`` (the figure), ``{U}`` (a count's unit: 件, 个, 份, 部),
    ``{A}`` (applications' and cases' unit: 件), ``{G8}`` (a gap, ``GAP``) and ``{P20}`` (``DISCLOSURE``);
    ``cells``: what the figure is, as alternatives, each the sum of figures named in the definition's
    [report.figures] (tests/test_narrative.py checks that the current format lists every one); ``avoid``: words that, in the
    same clause, make it a different figure (复议 in "收到行政复议申请"); ``needs``: words the sentence must
    say before the figure (but in part ``home``); ``subject``: 表二's row (规章 / 行政规范性文件) is taken
    from the words before the figure."""

    what: str  # how the message names the figure, in Chinese
    pattern: str
    cells: tuple[tuple[Figure, ...], ...]
    avoid: str = ""
    subject: str = ""  # a column of 表二 第二十条第（一）项 whose row the sentence's subject names
    needs: str = ""  # words the sentence must say before the figure (办结 of 申请, 复议 of 公开)
    home: int = 0  # the part where ``needs`` goes without saying (办结 in part 三 is of applications)

    def regex(self) -> re.Pattern[str]:
        text = self.pattern.replace("{N}", NUMBER).replace("{U}", COUNTED).replace("{A}", CASES)
        text = re.sub(r"\{P(\d+)\}", lambda m: DISCLOSURE % int(m.group(1)), text)
        return re.compile(re.sub(r"\{G(\d+)\}", lambda m: GAP % int(m.group(1)), text))


_APPLICATIONS = "复议|诉讼|信访|来信|咨询"
_OTHER_WORK = _APPLICATIONS + "|平均|建议|提案|留言|热线|工单|投诉|来电|信箱|审批|政务服务"
"""Other work units report in the same breath (答复人大代表建议, 办结热线工单): not 表三's applications."""
_LAST = "上一?年"
"""上一年度结转下年度: last year's carried-out (this year's carried-in), not this year's."""
_NEW_OR_ALL = ((NEW,), (NEW, CARRIED_IN))
"""收到/受理 N 件: this year's new applications, or with last year's carried over (units write both)."""
PHRASES: tuple[Phrase, ...] = (
    # first the phrases that contain another's words ("予以公开和部分公开" before "部分公开")
    Phrase("予以公开和部分公开", r"予以公开(?:和|及|与|、|加)部分公开{G8}{N}{A}", ((DISCLOSED, PARTIAL),)),
    Phrase("予以公开", r"予以公开{G4}{N}{A}", ((DISCLOSED,),), avoid=_APPLICATIONS),
    Phrase("部分公开", r"部分公开{G4}{N}{A}", ((PARTIAL,),), avoid=_APPLICATIONS),
    Phrase("上年结转的申请", r"上年度?结转{G12}{N}{A}", ((CARRIED_IN,),), avoid=_APPLICATIONS),
    Phrase("新收申请", r"新收{P20}申请{G6}{N}{A}", ((NEW,),), avoid=_APPLICATIONS),
    Phrase("收到（受理）的申请", r"(?:收到|受理|接收|接到){P20}申请{G6}{N}{A}", _NEW_OR_ALL, avoid=_APPLICATIONS),
    Phrase("收到（受理）的申请", r"(?:收到|受理|接收|接到){N}{A}{P12}申请", _NEW_OR_ALL, avoid=_APPLICATIONS),
    Phrase("结转下年度的申请", r"结转(?:至|到)?下一?年度?{G8}{N}{A}", ((CARRIED_OUT,),), avoid=_LAST),
    Phrase("结转下年度的申请", r"{N}{A}结转(?:至|到)?下一?年", ((CARRIED_OUT,),), avoid=_LAST),
    Phrase(
        "办结（答复）的申请", r"(?:办结|答复)(?!率){G12}{N}{A}", ((HANDLED,),), avoid=_OTHER_WORK, needs="申请", home=3
    ),
    Phrase("行政复议", r"行政复议(?:案件|申请)?{G4}{N}{A}", ((REVIEW,),), needs="公开"),
    Phrase("行政诉讼", r"行政诉讼(?:案件)?{G4}{N}{A}", ((SUITS,),), needs="公开"),
    Phrase("本年制发件数", r"(?:制发|印发|出台){G12}{N}{U}", (), subject=ISSUED),
    Phrase("本年废止件数", r"(?:废止|废除|宣布失效){G12}{N}{U}", (), subject=REPEALED),
    Phrase("现行有效件数", r"现行有效{G12}{N}{U}", (), avoid="发布|公开|清理|梳理|上传|汇编", subject=VALID),
    Phrase("行政许可决定", r"(?:行政许可决定{G4}|(?:作出|办理)行政许可){N}{U}", (("licensing",),)),
    Phrase("行政处罚决定", r"(?:行政处罚决定{G4}|(?:作出|办理)行政处罚){N}{U}", (("penalty",),)),
    Phrase("行政强制决定", r"(?:行政强制决定{G4}|(?:作出|办理)行政强制){N}{U}", (("enforcement",),)),
    Phrase("行政事业性收费金额", r"行政事业性收费(?:金额)?{G6}{N}\s*万元", ((FEES,),)),
)

OTHER_TIME = re.compile(r"上一?年(?!度?结转)|上年度(?!结转)|去年|前年|同比|环比|较上|比上|增加|减少|增长|下降|持平")
"""A sentence about last year or a change: its figures are not this year's cells."""
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年")
_SUBJECT = re.compile(r"规章(?!制度)|规范性文件")
_CLAUSE = re.compile(r"[，,；;。：:]")
_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_ZH_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000}
QUOTE = 60
"""Characters of a sentence quoted in a message: a longer one is cut around its figure."""


def chinese_number(text: str) -> int | None:
    """A number written in Chinese numerals (二十三, 一百零五, 两, 一千二百, 三万) or None (一二三 is no number)."""
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in _ZH_DIGITS:
            if digit is not None and digit != 0 and _ZH_DIGITS[ch] != 0:
                return None  # two digits with no unit between
            digit = _ZH_DIGITS[ch] or digit
        elif ch in _ZH_UNITS:
            section += (1 if digit is None else digit) * _ZH_UNITS[ch]
            digit = None
        elif ch == "万":
            total, section, digit = (total + section + (digit or 0)) * 10000, 0, None
        else:
            return None
    return total + section + (digit or 0)


def stated_number(text: str) -> Decimal | None:
    """A figure as the text states it: 23, 1,234, 7730.28, ２３ or 二十三."""
    text = text.translate(_DIGITS).replace(",", "")
    if text and text[0].isdigit():
        try:
            return Decimal(text)
        except InvalidOperation:
            return None
    n = chinese_number(text)
    return None if n is None else Decimal(n)


@dataclass(frozen=True)
class Statement:
    """A figure the text states: the part and sentence it is in, what it is, and the cells it names."""

    part: NarrativePart
    sentence: str
    start: int
    end: int
    phrase: Phrase
    stated: Decimal
    alternatives: tuple[tuple[str, ...], ...]  # cell ids, each tuple summed


def cell_index(fmt: Format) -> dict[Figure, tuple[str, ...]]:
    """The cell ids of each figure the format lists ([report.figures]), as the phrases name them."""
    return dict(fmt.figures)


def statements(rec: ReturnRecord) -> Iterator[Statement]:
    """Every figure of the record's narrative that a phrase attributes to cells of its format."""
    index = cell_index(rec.fmt)
    year = rec.identity.year if rec.identity is not None else None
    regexes = _compiled()
    for part in rec.narrative:
        for sentence in split_sentences(part.text):
            if _other_time(sentence, year):
                continue
            yield from _in_sentence(part, sentence, regexes, index)


@cache
def _compiled() -> list[tuple[Phrase, re.Pattern[str]]]:
    return [(p, p.regex()) for p in PHRASES]


def _other_time(sentence: str, year: int | None) -> bool:
    """Whether a sentence speaks of another year or of a change (its figures are not this year's)."""
    if OTHER_TIME.search(sentence):
        return True
    return year is not None and any(int(y) != year for y in _YEAR.findall(sentence))


def _in_sentence(
    part: NarrativePart,
    sentence: str,
    regexes: list[tuple[Phrase, re.Pattern[str]]],
    index: dict[Figure, tuple[str, ...]],
) -> Iterator[Statement]:
    taken: list[tuple[int, int]] = []
    for phrase, regex in regexes:
        for m in regex.finditer(sentence):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue  # words another phrase already read ("部分公开" of "予以公开和部分公开")
            if phrase.avoid and re.search(phrase.avoid, _clause(sentence, m.start(), m.end())):
                continue
            if phrase.needs and part.number != phrase.home and not re.search(phrase.needs, sentence[: m.end()]):
                continue  # e.g. 复议 of all of a county's cases, not of disclosure
            cells = _cells(phrase, sentence, m, index)
            value = stated_number(m.group("n"))
            if cells and value is not None:
                taken.append((m.start(), m.end()))
                yield Statement(part, sentence, m.start(), m.end(), phrase, value, cells)


def _clause(sentence: str, start: int, end: int) -> str:
    """The clause around a match: from the clause break before it to its end."""
    breaks = [m.end() for m in _CLAUSE.finditer(sentence, 0, start)]
    return sentence[breaks[-1] if breaks else 0 : end]


def _cells(
    phrase: Phrase, sentence: str, m: re.Match[str], index: dict[Figure, tuple[str, ...]]
) -> tuple[tuple[str, ...], ...]:
    """The cell ids a match states, as alternatives; () when the format lacks one or 表二's row is unsure."""
    figures = phrase.cells
    if phrase.subject:
        row = _subject(sentence, m)
        if not row:
            return ()
        figures = ((f"{row}_{phrase.subject}",),)
    out = []
    for alternative in figures:
        if not all(index.get(name) for name in alternative):
            return ()
        out.append(tuple(i for name in alternative for i in index[name]))
    return tuple(out)


def _subject(sentence: str, m: re.Match[str]) -> str:
    """表二's row a figure of 第二十条第（一）项 is about: the 规章 or 规范性文件 its clause names before the
    figure ("制发行政规范性文件2件", "制发规章0件、废止0件"), else the one the sentence names before it
    ("制发行政规范性文件6件，废止1件"); "" when none is, or both are ("规章和行政规范性文件共废止3件")."""
    breaks = [b.end() for b in _CLAUSE.finditer(sentence, 0, m.start())]
    for start in (breaks[-1] if breaks else 0, 0):
        named = {s.group() for s in _SUBJECT.finditer(sentence, start, m.start("n"))}
        if named:
            return "" if len(named) > 1 else RULES if "规章" in named else NORMATIVE
    return ""


MAX_FIGURE_FINDINGS = 100
"""N-FIGURE findings of one document at most: a report states a few dozen figures; a page repeating a
wrong sentence thousands of times gets each distinct one once, and no more than this."""


def figure_findings(rec: ReturnRecord) -> list[Finding]:
    """N-FIGURE at each figure the text states that none of its cells' readings equals (a sentence said
    twice is reported once)."""
    out: list[Finding] = []
    seen: set[tuple[str, tuple[tuple[str, ...], ...], Decimal]] = set()
    for st in statements(rec):
        key = (st.sentence, st.alternatives, st.stated)
        if len(out) >= MAX_FIGURE_FINDINGS:
            break
        if key in seen:
            continue
        seen.add(key)
        readings = [(ids, _shown(rec, ids)) for ids in st.alternatives]
        shown = [(ids, value) for ids, value in readings if value is not None]
        if len(shown) < len(readings) or any(_same(st.stated, value, rec, ids) for ids, value in shown):
            continue  # a cell not read, or the text agrees with one reading
        out.append(_mismatch(rec, st, *shown[0]))
    return out


def _shown(rec: ReturnRecord, ids: tuple[str, ...]) -> Decimal | None:
    """The table's figure for a sum of cells (amounts in 万元), None if a cell was not read."""
    values = [rec.values.get(cid) for cid in ids]
    if any(v is None for v in values):
        return None
    total = sum(int(v) for v in values if v is not None)
    return Decimal(total) / AMOUNT_SCALE if rec.fmt.cells[ids[0]].kind == AMOUNT else Decimal(total)


def _same(stated: Decimal, shown: Decimal, rec: ReturnRecord, ids: tuple[str, ...]) -> bool:
    """Whether the text's figure is the table's: an amount as rounded to the decimals the text prints."""
    if rec.fmt.cells[ids[0]].kind == AMOUNT:
        places = max(0, -int(stated.as_tuple().exponent))
        return shown.quantize(Decimal(1).scaleb(-places)) == stated
    return shown == stated


def _mismatch(rec: ReturnRecord, st: Statement, ids: tuple[str, ...], shown: Decimal) -> Finding:
    fmt = rec.fmt
    cells = [fmt.cells[cid] for cid in ids]
    pos = rec.positions.get(ids[0])
    table = short_sheet(fmt.table(cells[0].table).sheet)
    return Finding.in_document(
        rec,
        "N-FIGURE",
        table=table,
        at=pos,
        fields={
            "part": part_name(st.part),
            "table": table,
            "sentence": quote(st.sentence, st.start, st.end),
            "what": st.phrase.what,
            "stated": _show(st.stated),
            "label": " + ".join(c.label for c in cells),
            "where": pos.where if pos is not None and pos.where else "表格中",
            "shown": _show(shown),
        },
        row_label=cells[0].row_label,
        col_label=cells[0].col_label,
        cell_ids=ids,
    )


def _show(value: Decimal) -> str:
    return format(value.normalize(), "f") if value != value.to_integral_value() else str(int(value))


def part_name(part: NarrativePart) -> str:
    """How a message names a part: 第三部分 (第五、六部分 when merged)."""
    return "第" + "、".join("一二三四五六"[n - 1] for n in part.numbers) + "部分"


def quote(sentence: str, start: int, end: int) -> str:
    """A sentence as a message quotes it: whole when short, else ``QUOTE`` characters around the figure."""
    if len(sentence) <= QUOTE:
        return sentence
    left = max(0, min(start - (QUOTE - (end - start)) // 2, len(sentence) - QUOTE))
    right = left + QUOTE
    return ("…" if left else "") + sentence[left:right] + ("…" if right < len(sentence) else "")


# --------------------------------------------------------------------------- completeness

FEE_WORDS = re.compile(r"信息处理费|处理费|收费|费用")


WRITTEN_PARTS = 2
"""Prose parts (一、五、六) that must say something for a document to be held to all of them: a page
with the tables and one paragraph (an excerpt, a fragment, a converter's "五、… 无。") is not."""


def has_narrative(rec: ReturnRecord) -> bool:
    """Whether the document is a whole report's text, to be checked for its required parts."""
    written = sum(len(PROSE_PARTS & set(p.numbers)) for p in rec.narrative if not says_nothing(p.text))
    return written >= WRITTEN_PARTS


def completeness_findings(rec: ReturnRecord) -> list[Finding]:
    """N-PART-MISSING for each prose part (一、五、六) the narrative lacks, N-PART-EMPTY for a part 五
    that says nothing, N-FEE-SILENT for a part 六 silent on fees while 表三 shows fee notices; nothing
    for a document that is not a whole report's text (``has_narrative``)."""
    if rec.format is None or not has_narrative(rec):
        return []
    out = _missing(rec)
    five = next((p for p in rec.narrative if 5 in p.numbers), None)
    if five is not None and says_nothing(five.text):
        what = "没有内容" if not five.text.strip() else f"只写了“{five.text.strip()}”"
        out.append(Finding.for_file(rec.file, "N-PART-EMPTY", identity=rec.identity, heading=five.heading, what=what))
    six = next((p for p in rec.narrative if 6 in p.numbers), None)
    if six is not None:
        out.extend(_fee_silence(rec, six))
    return out


def _missing(rec: ReturnRecord) -> list[Finding]:
    """N-PART-MISSING for each prose part no heading was found for."""
    found = {n for p in rec.narrative for n in p.numbers}
    sections = rec.fmt.report_sections
    return [
        Finding.for_file(
            rec.file,
            "N-PART-MISSING",
            identity=rec.identity,
            name=rec.path.name,
            number="一二三四五六"[n - 1],
            section=sections[n - 1],
            found="、".join(p.heading for p in rec.narrative),
        )
        for n in sorted(PROSE_PARTS - found)
        if n <= len(sections)
    ]


def _fee_silence(rec: ReturnRecord, six: NarrativePart) -> list[Finding]:
    """N-FEE-SILENT when part 六 never mentions fees while 表三 counts applications dropped for an
    unpaid fee notice (fees were charged or asked for this year)."""
    ids = rec.fmt.figure(FEE_NOTICE)
    if not ids or FEE_WORDS.search(six.text):
        return []
    cid = ids[0]  # where the finding points; the figure is the sum of its cells
    value = sum(rec.values.get(i) or 0 for i in ids)
    if not value:
        return []
    cell = rec.fmt.cells[cid]
    pos = rec.positions.get(cid)
    return [
        Finding.in_document(
            rec,
            "N-FEE-SILENT",
            table=short_sheet(rec.fmt.table(cell.table).sheet),
            at=pos,
            fields={
                "heading": six.heading,
                "table": short_sheet(rec.fmt.table(cell.table).sheet),
                "label": cell.label,
                "where": pos.where if pos is not None and pos.where else "表格中",
                "shown": value,
            },
            row_label=cell.row_label,
            col_label=cell.col_label,
            cell_ids=(cid,),
        )
    ]


def narrative_findings(rec: ReturnRecord) -> list[Finding]:
    """The 正文 findings of a document's record (none for a workbook or a document without a narrative)."""
    if not rec.narrative or rec.format is None:
        return []
    return figure_findings(rec) + completeness_findings(rec)
