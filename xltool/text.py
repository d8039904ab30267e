"""Text as Excel accepts it: control characters that break an .xlsx are removed, nothing else changes."""

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


def normalize_label(text: str) -> str:
    """Label text compared as a clerk sees it: no whitespace or line breaks, half-width forms."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text)).translate(_QUOTES)


def short_sheet(sheet: str) -> str:
    """How messages name a sheet: its first word ("表三" of "表三 依申请公开")."""
    return sheet.split()[0] if sheet.split() else sheet
