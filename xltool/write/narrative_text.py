"""The factual paragraph ``publish`` writes under 二、三、四, generated from the validated figures.

Reports are rejected when their prose contradicts their tables (the text says 23 applications, the
table 25). Text written from the same figures cannot: each paragraph is a data table of clauses, each
clause naming its figure as the definition's [report.figures] does (the text checks read the same
names), so the wording lives here once and the figures come from the return. A clause whose cell is
blank, or whose figure the format does not list (another year's format), is left out rather than said
wrongly.

The paragraph is marked as generated (``GENERATED_NOTE``; ``publish`` shows it beside the text) so
the unit can edit or delete it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from xltool.definition import Format
from xltool.values import show_value

GENERATED_NOTE = "（以上文字由 xltool 根据统计表自动生成，可修改）"


@dataclass(frozen=True)
class Clause:
    """A phrase with one figure ``{}``: the sum of the figures named in the definition's
    [report.figures] (the cells each sums are data there, as the text checks read them)."""

    text: str
    figures: tuple[str, ...]


@dataclass(frozen=True)
class Group:
    """Clauses said together: ``lead`` + the clauses shown, joined by ``sep`` + ``tail``.
    ``named_by_first``: the first clause names what the others count (制发规章…、废止…), so without
    it the group says nothing. ``within``: a note on the group before it (办结…（其中…）), joined to it
    without a separator and said only with it."""

    clauses: tuple[Clause, ...]
    lead: str = ""
    tail: str = ""
    sep: str = "、"
    named_by_first: bool = False
    within: bool = False


@dataclass(frozen=True)
class Sentence:
    groups: tuple[Group, ...]
    lead: str = "本年度"
    sep: str = "，"


def _c(text: str, *figures: str) -> Clause:
    return Clause(text, figures)


PARAGRAPHS: tuple[tuple[Sentence, ...], ...] = (
    (  # 二、主动公开政府信息情况
        Sentence(
            (
                Group(
                    (
                        _c("制发规章{}件", "rules_issued"),
                        _c("废止{}件", "rules_repealed"),
                        _c("现行有效{}件", "rules_valid"),
                    ),
                    named_by_first=True,
                ),
                Group(
                    (
                        _c("制发行政规范性文件{}件", "normative_issued"),
                        _c("废止{}件", "normative_repealed"),
                        _c("现行有效{}件", "normative_valid"),
                    ),
                    named_by_first=True,
                ),
            ),
            sep="；",
        ),
        Sentence(
            (
                Group(
                    (
                        _c("行政许可决定{}件", "licensing"),
                        _c("行政处罚决定{}件", "penalty"),
                        _c("行政强制决定{}件", "enforcement"),
                    ),
                    lead="作出",
                ),
                Group((_c("行政事业性收费金额{}万元", "fees"),)),
            )
        ),
    ),
    (  # 三、收到和处理政府信息公开申请情况
        Sentence(
            (
                Group((_c("新收政府信息公开申请{}件", "new"),)),
                Group((_c("上年结转{}件", "carried_in"),)),
                Group((_c("办结{}件", "handled"),)),
                Group(
                    (
                        _c("予以公开{}件", "disclosed"),
                        _c("部分公开{}件", "partial"),
                    ),
                    lead="（其中",
                    tail="）",
                    within=True,
                ),
                Group((_c("结转下年度继续办理{}件", "carried_out"),)),
            )
        ),
    ),
    (  # 四、政府信息公开行政复议、行政诉讼情况
        Sentence(
            (
                Group((_c("被申请行政复议{}件", "review"),)),
                Group((_c("提起行政诉讼{}件", "suits"),)),
            ),
            lead="本年度因政府信息公开工作",
            sep="、",
        ),
    ),
)
"""The paragraphs, each placed before the table whose cells it names."""


def clause_text(fmt: Format, clause: Clause, values: Mapping[str, int | None]) -> str | None:
    """The clause with its figure as the validated value shows it; None when a cell is not printed
    by this format or is blank (or the cells summed are of different kinds)."""
    ids = [fmt.figure(name) for name in clause.figures]
    if not all(ids):
        return None
    found = [fmt.cells[i] for group in ids for i in group]
    figures = [values.get(c.id) for c in found]
    kinds = {c.kind for c in found}
    if None in figures or len(kinds) != 1:
        return None
    return clause.text.format(show_value(sum(v or 0 for v in figures), kinds.pop()))


def group_text(fmt: Format, group: Group, values: Mapping[str, int | None]) -> str | None:
    """The group's clauses shown, or None when none is (or its naming clause is not)."""
    texts = [clause_text(fmt, c, values) for c in group.clauses]
    if group.named_by_first and texts[0] is None:
        return None
    shown = [t for t in texts if t is not None]
    return group.lead + group.sep.join(shown) + group.tail if shown else None


def sentence_text(fmt: Format, sentence: Sentence, values: Mapping[str, int | None]) -> str | None:
    """The sentence's groups shown, with its lead and a full stop; a ``within`` group goes with the
    one before it."""
    parts: list[str] = []
    said_before = False
    for group in sentence.groups:
        text = group_text(fmt, group, values)
        if group.within:
            if text is not None and said_before:
                parts[-1] += text
            continue
        said_before = text is not None
        if text is not None:
            parts.append(text)
    return sentence.lead + sentence.sep.join(parts) + "。" if parts else None


def paragraph_table(fmt: Format, sentences: tuple[Sentence, ...]) -> str | None:
    """The key of the table a paragraph speaks of: the table of the first cell it names that the
    format prints."""
    for s in sentences:
        for g in s.groups:
            for c in g.clauses:
                for name in c.figures:
                    if fmt.figure(name):
                        return fmt.cells[fmt.figure(name)[0]].table
    return None


def paragraphs(fmt: Format, values: Mapping[str, int | None]) -> dict[str, str]:
    """Table key -> the paragraph written before that table (tables with nothing to say left out)."""
    out: dict[str, str] = {}
    for sentences in PARAGRAPHS:
        table = paragraph_table(fmt, sentences)
        said = [t for t in (sentence_text(fmt, s, values) for s in sentences) if t is not None]
        if table is not None and said:
            out[table] = "".join(said)
    return out


__all__ = ["GENERATED_NOTE", "PARAGRAPHS", "Clause", "Group", "Sentence", "paragraphs"]
