"""What a scan read by OCR adds to a record: each figure's confidence, and the cells it could not read.

A figure of a scan is only as good as OCR's reading of it. So every placed figure keeps its
confidence (``ReturnRecord.confidence``), an unsure one is a warning at its cell, and a cell where the
image has ink but OCR read nothing is a warning and stays unread (never a guessed digit, never 0). The
statutory identities then check every figure read (``xltool.rules.schema`` says, when one fails on a
scan, that a figure may be misread, naming the unsure cells).
"""

from __future__ import annotations

from collections.abc import Mapping

from xltool.definition import Format
from xltool.findings import Finding
from xltool.model import ReturnRecord
from xltool.read.document import DocCell, Document
from xltool.read.placer import Placed
from xltool.text import short_sheet
from xltool.values import PRINTED_FIGURE

SCAN = "scan"
"""``Document.kind`` and ``ReturnRecord.source`` of a scan read by OCR."""
MIN_CONFIDENCE = 0.7
"""A figure OCR read with less confidence is named. Measured on degraded scans of the corpus: a lone "0" comes back at 0.58–0.99 and is right; figures of two or more digits at over 0.95."""


def is_scan(rec: ReturnRecord) -> bool:
    return rec.source == SCAN


def unsure_cells(rec: ReturnRecord, ids: tuple[str, ...] | list[str]) -> list[str]:
    """Of ``ids``, the cells of a scan read with less than ``MIN_CONFIDENCE``, least sure first."""
    low = [c for c in ids if rec.confidence.get(c, 1.0) < MIN_CONFIDENCE]
    return sorted(low, key=lambda c: rec.confidence[c])


def check_scanned(rec: ReturnRecord, doc: Document, fmt: Format, placed: Mapping[str, Placed]) -> set[str]:
    """Keep each placed figure's confidence; O-LOW-CONFIDENCE for an unsure one, O-NOT-READ for a
    cell with ink OCR could not read. The cells not read, which are not blanks to be read as 0."""
    cells: dict[tuple[int, int, int], DocCell] = {(t.number, c.row, c.col): c for t in doc.tables for c in t.cells}
    unread: set[str] = set()
    for cid, p in placed.items():
        cell = cells.get((p.table, p.row, p.col))
        if cell is None or cell.confidence >= 1.0:
            continue
        rec.confidence[cid] = cell.confidence
        if not p.text.strip():
            unread.add(cid)
            rec.findings.append(not_read(rec, fmt, cid, ""))
        elif cell.confidence < MIN_CONFIDENCE and PRINTED_FIGURE.fullmatch(p.text.strip()):  # else O-NOT-READ
            rec.findings.append(_at(rec, fmt, cid, "O-LOW-CONFIDENCE", text=p.text.strip()))
    return unread


def not_read(rec: ReturnRecord, fmt: Format, cid: str, text: str) -> Finding:
    """O-NOT-READ: ink OCR read as nothing (``text`` ""), or as no figure ("。", "l0")."""
    return _at(rec, fmt, cid, "O-NOT-READ", text)


def _at(rec: ReturnRecord, fmt: Format, cid: str, code: str, text: str = "") -> Finding:
    cell = fmt.cells[cid]
    pos = rec.positions[cid]
    table = short_sheet(fmt.table(cell.table).sheet)
    fields: dict[str, object] = {"table": table, "cell": cell.label, "where": pos.where}
    if code == "O-LOW-CONFIDENCE":
        fields |= {"text": text, "confidence": f"{rec.confidence[cid]:.2f}", "threshold": MIN_CONFIDENCE}
    else:
        fields["read"] = f"识别为“{text}”，不是数字" if text else "印有内容，但未能识别出数字"
    return Finding.in_document(
        rec,
        code,
        at=pos,
        table=table,
        fields=fields,
        row_label=cell.row_label,
        col_label=cell.col_label,
        cell_ids=(cid,),
    )
