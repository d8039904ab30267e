"""Text as Excel accepts it: control characters that break an .xlsx are removed, nothing else changes."""

from __future__ import annotations

import re

# XML 1.0 forbids C0 controls except tab, newline and carriage return; Excel rejects them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")

EXCEL_CELL_LIMIT = 32767


def clean_text(text: str) -> str:
    """Remove control characters Excel rejects and cut at Excel's cell limit."""
    return _CONTROL.sub("", text)[:EXCEL_CELL_LIMIT]
