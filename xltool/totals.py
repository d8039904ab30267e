"""Totals follow from the inputs: the one place that computes them from the definition's sum rules."""

from __future__ import annotations

from xltool.definition import Format


def recompute_totals(values: dict[str, int], fmt: Format) -> dict[str, int]:
    """Fill every total from its parts, in dependency order (a total may sum totals)."""
    out = dict(values)
    for cell in fmt.total_order:
        out[cell.id] = sum(out[p] for p in cell.parts)
    return out
