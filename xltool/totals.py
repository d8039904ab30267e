"""Totals follow from the inputs: the one place that computes them from the definition's sum rules."""

from __future__ import annotations

from xltool.definition import Cell, Format


def recompute_totals(values: dict[str, int], fmt: Format) -> dict[str, int]:
    """Fill every total from its parts, in dependency order (a total may sum totals)."""
    out = dict(values)
    for cell in total_order(fmt):
        out[cell.id] = sum(out[p] for p in cell.parts)
    return out


_ORDER: dict[str, tuple] = {}


def total_order(fmt: Format) -> tuple:
    """Total cells ordered so that every total comes after the totals it sums."""
    key = f"{fmt.id}:{fmt.fingerprint}"
    if key not in _ORDER:
        done: set[str] = {c.id for c in fmt.input_cells}
        order: list[Cell] = []
        pending = list(fmt.total_cells)
        while pending:
            ready = [c for c in pending if all(p in done for p in c.parts)]
            if not ready:
                raise ValueError("定义中的合计互相引用")
            order += ready
            done |= {c.id for c in ready}
            pending = [c for c in pending if c.id not in done]
        _ORDER[key] = tuple(order)
    return _ORDER[key]
