"""Which unit and year a published report is about: read off its title, a sheet title or a file name,
then found in the roster by its name or one of the aliases the roster lists, never guessed.

Titles seen: “平潭综合实验区2024年度政府信息公开工作年度报告”, “汤旺县乌伊岭镇2024年政府信息公开工作
年度报告”, “XX局关于2023年政府信息公开工作年度报告”, “2024年度XX镇政府信息公开工作年度报告”; file
names: “乌伊岭镇2024年政务公开统计表(1).xlsx”. A roster may name the unit otherwise (乌伊岭镇, not
汤旺县乌伊岭镇; 汤旺县住房和城乡建设局, not 住建局): such a document is the unit's only when the roster
lists the printed name as an alias (``match_roster``); ``resembling`` names the unit it looks like.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container, Iterable
from dataclasses import dataclass

from xltool.model import Unit
from xltool.read.document import Document
from xltool.text import normalize_label

_WS = re.compile(r"\s+")
_EXTENSION = re.compile(r"\.(?:xlsx|xlsm|xls|et|ods|docx|doc|wps|pdf|html?|txt|csv)$", re.IGNORECASE)
_COPY = re.compile(r"(?:[(（]\d{1,3}[)）]|-?副本|_?\d{1,3})$")
_CN_DIGITS = str.maketrans("〇零○一二三四五六七八九", "000123456789")
_CN_YEAR = re.compile(r"[〇零○一二三四五六七八九]{4}(?=年)")
_KEYWORDS = r"政府信息公开|政务公开|信息公开|统计表|统计汇总|年报|年度报告|报表"
_YEAR = re.compile(rf"((?:19|20)\d{{2}})(?:年度?|(?={_KEYWORDS}))")
_SUBJECT = re.compile(rf"(?:{_KEYWORDS})")
_LEAD = re.compile(r"^(?:关于|《|〈|“|\")+")
_TRAIL = re.compile(r"(?:关于|的|《|〈|“|\"|[,，、:：\-—_])+$")
_SEP = re.compile(r"[-—_]")
_ADMIN = "省市县区州盟旗"
_BULLETS = re.compile(r"[\ue000-\uf8ff•▪◆■●]")  # a list's bullet, often a private-use glyph in a PDF
_ENDINGS = ("办公室", "人民政府", "政府")


@dataclass(frozen=True)
class Identified:
    """The unit name ("" when the text names none) and the reporting year (None when none);
    ``conflict``: the two different report titles a document prints, when it prints two (then neither
    is believed)."""

    unit: str
    year: int | None
    conflict: tuple[str, ...] = ()


def _clean(text: str) -> str:
    s = _WS.sub("", _BULLETS.sub("", unicodedata.normalize("NFKC", text)))
    s = _EXTENSION.sub("", s)
    for _ in range(2):
        s = _COPY.sub("", s)
    return _CN_YEAR.sub(lambda m: m.group(0).translate(_CN_DIGITS), s)


def identify(text: str) -> Identified:
    """Unit and year from a report's title, a sheet title or a file name."""
    s = _clean(text)
    m = _YEAR.search(s)
    if not m:
        subject = _SUBJECT.search(s)
        if subject:
            return Identified(_unit(s[: subject.start()]), None)
        # a file named after the unit alone (教育局.xlsx) names it; a line of text (一、总体情况) does not
        is_file = _EXTENSION.search(_WS.sub("", unicodedata.normalize("NFKC", text))) is not None
        return Identified(_unit(s) if is_file else "", None)
    year = int(m.group(1))
    unit = _unit(s[: m.start()])
    if not unit:
        rest = s[m.end() :]
        subject = _SUBJECT.search(rest)
        unit = _unit(rest[: subject.start()]) if subject else ""
    return Identified(unit, year)


def _unit(text: str) -> str:
    s = _TRAIL.sub("", _LEAD.sub("", text))
    s = _SEP.split(s)[0] if _SEP.search(s) else s  # 卫健局-政务公开年报数据: the unit is the first part
    return s if len(s) >= 2 and not s.isdigit() else ""


_REPORT_TITLE = re.compile(
    r"(?P<before>[^，。；：,;:！？!?]*?)(?P<year>(?:19|20)\d{2})年度?(?P<after>[^，。；：,;:！？!?]*?)"
    r"(?:政府|政务)?信息公开(?:工作)?(?:年度)?(?:报告|年报)(?:[（(][^）)]{1,8}[）)])?"
)
"""A report's title, spaces and line breaks removed: “平潭综合实验区 2024 年度政府信息公开工作年度报告”,
“XX局关于2023年政府信息公开工作报告”, “2024年度XX镇政府信息公开年度报告（全文）”: a year, then the
subject at the end, and nothing like a sentence (no comma, colon or full stop) before it."""
_TITLE_MAX = 60  # characters: a heading, not a paragraph that mentions a report
_TITLE_LINES = 400  # lines of running text searched for the title: past any portal's navigation


def report_title(text: str) -> Identified | None:
    """The unit and year of ``text`` if it is a report's title (a heading that names a 政府信息公开工作
    年度报告 of a year), else None."""
    s = _clean(text)
    m = _REPORT_TITLE.fullmatch(s) if len(s) <= _TITLE_MAX else None
    if m is None:
        return None
    unit = _unit(m.group("before")) or _unit(m.group("after"))
    return Identified(unit, int(m.group("year")))


def first_title(lines: Iterable[str]) -> tuple[str, Identified] | None:
    """The first report title among ``lines`` (the running text of a document, past a portal's
    navigation, which names no report), a title broken over two lines joined again; None without one."""
    lines = [line.strip() for line in lines if line.strip()]
    for i, line in enumerate(lines):
        if title := report_title(line):
            return line, title
        if i + 1 < len(lines) and not report_title(lines[i + 1]):
            if title := report_title(line + lines[i + 1]):
                return line + lines[i + 1], title
    return None


def _same_unit(a: str, b: str) -> bool:
    return not a or not b or _same_with_parent(_canon(_norm(a)), _canon(_norm(b)))


def identify_document(doc: Document, name: str | None = None, skip: Container[str] = ()) -> Identified:
    """Unit and year of a read document. Its report title, wherever it stands (a page printed from a
    portal starts with the site's navigation): the declared title or the first heading that names a
    report. Two titles naming different units or years are a conflict, believed neither way (a later
    title that names only another year, such as a link to last year's report, is not one).

    Without a title, the texts that can name them: the first lines of its text, its sheet names and its
    file name (``name``; by default the end of ``doc.file``). A text that names both wins; else the year
    from any of them and the unit only from the title or the file name (a heading such as 二、主动公开
    政府信息情况 names no unit). ``skip``: texts never taken for one, as ``normalize_label`` gives them
    (the format's own table titles and labels)."""
    name = doc.file.replace("\\", "/").rsplit("/", 1)[-1] if name is None else name
    titled = _from_titles(doc, skip)
    if titled is not None:
        return titled
    found = [identify(t) for t in _naming_texts(doc, name, skip)]
    both = next((f for f in found if f.unit and f.year is not None), None)
    if both is not None:
        return both
    year = next((f.year for f in found if f.year is not None), None)
    unit = next((u for t in (doc.title, name) if t and (u := identify(t).unit)), "")
    return Identified(unit, year)


def _from_titles(doc: Document, skip: Container[str]) -> Identified | None:
    """What the declared title and the first heading that names a report say, when they name a unit;
    a conflict when they disagree; None when neither is a report's title."""
    declared = (doc.title, report_title(doc.title)) if doc.title else None
    body = first_title(doc.text.splitlines()[:_TITLE_LINES])
    titles = [(text, t) for text, t in filter(None, (declared, body)) if t and normalize_label(text) not in skip]
    if not titles:
        return None
    (first_text, first), (last_text, last) = titles[0], titles[-1]
    if first.year != last.year or not _same_unit(first.unit, last.unit):
        return Identified("", None, (first_text, last_text))
    unit = first.unit or last.unit
    return Identified(unit, first.year) if unit else None


def _naming_texts(doc: Document, name: str, skip: Container[str]) -> list[str]:
    """The texts that can name a document's unit and year, in the order they are believed."""
    head = doc.text[:400].splitlines()[:8]
    sheets = [t.sheet for t in doc.tables if t.sheet]
    return [t for t in (doc.title, *head, *sheets, name) if t and normalize_label(t) not in skip]


# --------------------------------------------------------------------------- the roster


def name_key(name: str) -> str:
    """A unit's name as two names are compared: equal keys name the same organ.

    Only what changes the spelling, not the organ, is undone: whitespace (汤 旺 河 镇), full and half
    width (NFKC: （）and (), ０ and 0), 人民政府 read as 政府 (汤旺县人民政府办公室 = 汤旺县政府办公室:
    the short and the full name of one body), and a trailing 政府 dropped (汤旺县人民政府 = 汤旺县政府 =
    汤旺县: an area reports through its people's government, so a report titled 汤旺县… is that
    government's). Nothing else: 汤旺县人民政府办公室 is not 汤旺县, 汤旺县乌伊岭镇 is not 乌伊岭镇, 住建局
    is not 汤旺县住房和城乡建设局; the roster lists such names as the unit's aliases."""
    s = _norm(name).replace("人民政府", "政府")
    if s.endswith("政府") and len(s) > len("政府") + 1:
        s = s[: -len("政府")]
    return s


class NameIndex:
    """The roster's units by the key of their name and of each alias (``name_key``)."""

    def __init__(self, roster: Iterable[Unit]) -> None:
        self.units: dict[str, list[Unit]] = {}
        for unit in roster:
            for key in dict.fromkeys(name_key(n) for n in (unit.name, *unit.aliases)):
                if key:
                    self.units.setdefault(key, []).append(unit)

    def named(self, name: str) -> list[Unit]:
        """Every unit whose name or an alias is ``name`` (``name_key``): one, none, or several."""
        return list(self.units.get(name_key(name), [])) if name_key(name) else []


def match_roster(name: str, roster: Iterable[Unit] | NameIndex) -> Unit | None:
    """The roster unit a printed name is: the one whose name or a listed alias equals it after
    ``name_key``; None when none does, or more than one. Never a unit whose name merely begins or ends
    with it, contains it or abbreviates to it (``resembling`` finds those, to name in a message)."""
    index = roster if isinstance(roster, NameIndex) else NameIndex(roster)
    hits = index.named(name)
    return hits[0] if len(hits) == 1 else None


def _norm(name: str) -> str:
    return _WS.sub("", unicodedata.normalize("NFKC", name))


def _canon(name: str) -> str:
    """人民政府 and 政府 name the same body (汤旺县政府 = 汤旺县人民政府)."""
    return name.replace("人民政府", "政府")


def _core(name: str) -> str:
    """A name without the endings units are printed with or without (人民政府, 政府, 办公室)."""
    s = name
    changed = True
    while changed:
        changed = False
        for end in _ENDINGS:
            if s.endswith(end) and len(s) > len(end) + 1:
                s = s[: -len(end)]
                changed = True
    return s


def _same_with_parent(a: str, b: str) -> bool:
    """a == b, or one is the other with a parent area before it (汤旺县乌伊岭镇 / 乌伊岭镇)."""
    if a == b:
        return True
    long, short = (a, b) if len(a) > len(b) else (b, a)
    return len(short) >= 2 and long.endswith(short) and long[: -len(short)][-1] in _ADMIN


def _abbreviates(printed: str, full: str) -> bool:
    """The printed name abbreviates the roster's: its characters in order, fewer of them (住建局 for
    汤旺县住房和城乡建设局, 县政府办 for 汤旺县人民政府办公室); at least 3 characters."""
    if len(printed) < 3 or len(printed) >= len(full):
        return False
    it = iter(full)
    return all(ch in it for ch in printed)


def resembling(name: str, roster: Iterable[Unit]) -> Unit | None:
    """The one roster unit a printed name looks like without being it, to name in a message (“did
    you mean”), never to take the document for: the first of these that finds exactly one unit decides
    — a parent area before one name (汤旺县乌伊岭镇 / 乌伊岭镇), the same reading 人民政府 as 政府, the
    same once 人民政府/政府/办公室 endings are dropped (汤旺县 / 汤旺县人民政府办公室), with or without a
    parent area, an abbreviation (住建局 / 汤旺县住房和城乡建设局)."""
    n = _norm(name)
    if not n:
        return None
    names = [(u, _norm(u.name)) for u in roster]
    steps = (
        _same_with_parent,
        lambda a, b: _same_with_parent(_canon(a), _canon(b)),
        lambda a, b: _core(a) == _core(b),
        lambda a, b: _same_with_parent(_core(a), _core(b)),
        _abbreviates,
    )
    for same in steps:
        hits = {u for u, un in names if un and same(n, un)}
        if len(hits) == 1:
            return hits.pop()
        if hits:
            return None
    return None


__all__ = ["Identified", "NameIndex", "identify", "identify_document", "match_roster", "name_key", "resembling"]
