"""Filled returns: ``make_return(dest, unit, values)`` writes one, either as Excel saves it (drawn by
xlsxwriter, with cached results) or, with ``typed=True``, as a clerk types it into the blank template
(openpyxl, no cached results); ``type_values(path, values)`` types values into an existing workbook."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import openpyxl

from xltool.definition import Format, get_format
from xltool.model import Unit
from xltool.values import AMOUNT_SCALE
from xltool.write.template import draw_return, template_identity, write_template, write_workbook

# one application carried over and handled; every rule holds in every column
CONSISTENT = {"t3.new.natural": 2, "t3.carried_in.natural": 1, "t3.disclosed.natural": 2, "t3.carried_out.natural": 1}


def _type(wb: openpyxl.Workbook, fmt: Format, values: Mapping[str, object], scaled: bool) -> None:
    for cid, value in values.items():
        cell = fmt.cells[cid]
        if scaled and cell.kind == "amount":
            value = float(Decimal(value) / AMOUNT_SCALE)  # type: ignore[arg-type]
        wb[cell.sheet][cell.address] = value


def type_values(
    path: Path, values: Mapping[str, object], *, fmt: Format | None = None, save_as: Path | None = None, scaled=False
) -> Path:
    """Type ``values`` (cell id -> value) into the workbook at ``path`` with openpyxl, as a clerk or a
    script does (openpyxl saves formulas without their results), and save it to ``save_as`` or ``path``.

    Values are typed as given ("/", None, 12.5); with ``scaled=True`` they are library integers and
    amounts are typed as decimals in 万元 (the value divided by AMOUNT_SCALE)."""
    wb = openpyxl.load_workbook(path)
    _type(wb, fmt or get_format(), values, scaled)
    out = Path(save_as or path)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


def make_return(
    dest: Path,
    unit: Unit,
    values: Mapping[str, int] | None = None,
    *,
    name: str | None = None,
    year: int = 2024,
    fmt: Format | None = None,
    typed: bool = False,
    cover: Mapping[str, str] | None = None,
    **draw,
) -> Path:
    """A filled return of ``unit`` for ``year``; returns its path.

    ``dest`` is the file when it ends in .xlsx, else the folder (created) to write ``name`` into;
    ``name`` may use ``{code}`` and ``{year}`` and defaults to ``{code}.xlsx``. ``values`` maps cell
    id -> int (amounts scaled by AMOUNT_SCALE; missing inputs are 0); None means CONSISTENT.

    By default the return is drawn by xlsxwriter with cached results, as Excel saves a file;
    ``cover`` and ``draw`` (e.g. ``password``) go to ``draw_return``. With ``typed=True`` the blank
    template is typed into with openpyxl, as a clerk types it: amounts as decimals in 万元, cover
    texts into text-formatted cells (they stay text, even "=...")."""
    fmt = fmt or get_format()
    dest = Path(dest)
    if dest.suffix.lower() != ".xlsx":
        dest.mkdir(parents=True, exist_ok=True)
        dest = dest / (name or "{code}.xlsx").format(code=unit.code, year=year)
    values = CONSISTENT if values is None else values
    if not typed:
        identity = template_identity(fmt, unit, year)
        return write_workbook(dest, lambda wb: draw_return(wb, fmt, identity, values=values, cover=cover, **draw))
    path = write_template(fmt, unit, year, dest, **draw)
    wb = openpyxl.load_workbook(path)
    _type(wb, fmt, values, scaled=True)
    for field in fmt.cover.fields:
        if cover and field.key in cover:
            target = wb[fmt.cover.sheet][field.value_span.top_left]
            target.value = cover[field.key]
            target.data_type = "s"  # typed into a text-formatted cell: stays text, even "=..."
    wb.save(path)
    return path
