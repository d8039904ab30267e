"""Statutory cells found by the labels the format prints, not by id or address: what a reader of the
report names ("表三 一、本年新收… 总计"), resolved once through the definition. A label the format
does not print (another year's format) finds nothing, and the caller leaves that figure out."""

from __future__ import annotations

from xltool.definition import Cell, Format
from xltool.text import normalize_label


def cell_by_labels(fmt: Format, row_label: str, col_label: str) -> Cell | None:
    """The one cell whose row and column print these labels; None when there is none or several."""
    row, col = normalize_label(row_label), normalize_label(col_label)
    found = [
        c for c in fmt.cells.values() if normalize_label(c.row_label) == row and normalize_label(c.col_label) == col
    ]
    return found[0] if len(found) == 1 else None


__all__ = ["cell_by_labels"]
