"""Text as Excel accepts it (control characters that break an .xlsx removed, nothing else changed), and
label text as compared (``normalize_label``)."""

from __future__ import annotations

import re
import unicodedata

# XML 1.0 forbids C0 controls except tab, newline and carriage return; Excel rejects them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")

EXCEL_CELL_LIMIT = 32767


def clean_text(text: str) -> str:
    """Remove control characters Excel rejects and cut at Excel's cell limit."""
    return _CONTROL.sub("", text)[:EXCEL_CELL_LIMIT]


_QUOTES = str.maketrans(
    {"“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "‘": "'", "’": "'", "‚": "'", "′": "'", "〔": "[", "〕": "]"}
)
_SPACE = re.compile(r"\s+")


# what differs only in form between printings of one label, for ``normalize_label(loose=True)``
_PRINTINGS = str.maketrans(
    {
        "【": "(", "】": ")", "〔": "(", "〕": ")", "[": "(", "]": ")", "〖": "(", "〗": ")",
        "“": "", "”": "", '"': "", "'": "", "‘": "", "’": "", "「": "", "」": "", "『": "", "』": "",
        "，": ",", "．": ".", "：": ":",
    }
)  # fmt: skip
_NUMBERING = re.compile(r"^(\d+)\s*[、.,，．]")
_YEAR_PAREN = re.compile(r"\((?:19|20)\d{2}(?:年度?)?\)")
_YEAR = re.compile(r"(?:19|20)\d{2}年(?:度)?")


def normalize_label(text: str, *, loose: bool = False) -> str:
    """Label text compared as a clerk sees it: no whitespace or line breaks, half-width forms.

    ``loose`` (how the locator finds a label in a published report): also nothing that differs only
    in form between printings of the same label: one kind of bracket, no quotes, “1、”→“1.”, no
    trailing colon or full stop, a year inserted or written in (本年(2023)制发件数, 2023年制发件数)
    read as 本年. One function, so that the two comparisons cannot drift apart where they agree."""
    s = _SPACE.sub("", unicodedata.normalize("NFKC", text))
    if not loose:
        return s.translate(_QUOTES)
    s = _NUMBERING.sub(r"\1.", s.translate(_PRINTINGS))
    s = _YEAR_PAREN.sub("", s)
    s = _YEAR.sub("本年", s).replace("本年度", "本年")
    return s.rstrip(":.。")


def short_sheet(sheet: str) -> str:
    """How messages name a sheet: its first word ("表三" of "表三 依申请公开")."""
    return sheet.split()[0] if sheet.split() else sheet


_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])|\n+")


def split_sentences(text: str) -> list[str]:
    """A Chinese text's sentences, each ending at 。！？； or a line break, stripped; empty ones dropped.

    Why one function: the narrative checks quote the sentence a figure was read from and ``compare``
    diffs two years' text sentence by sentence; both must cut the text the same way."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]
