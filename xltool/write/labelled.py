"""Statutory cells found by the labels the format prints, not by id or address: what a reader of the
report names ("表三 一、本年新收… 总计"), resolved once through the definition. A label the format
does not print (another year's format) finds nothing, and the caller leaves that figure out."""

from __future__ import annotations

from xltool.definition import Cell, Format
from xltool.text import normalize_label


def _by_labels(fmt: Format) -> dict[tuple[str, str], list[Cell]]:
    """(row label, column label), as compared -> the cells printed there."""
    index: dict[tuple[str, str], list[Cell]] = {}
    for c in fmt.cells.values():
        index.setdefault((normalize_label(c.row_label), normalize_label(c.col_label)), []).append(c)
    return index


def cell_by_labels(fmt: Format, row_label: str, col_label: str) -> Cell | None:
    """The one cell whose row and column print these labels; None when there is none or several."""
    found = fmt.derived(_by_labels).get((normalize_label(row_label), normalize_label(col_label)), [])
    return found[0] if len(found) == 1 else None


__all__ = ["cell_by_labels"]
