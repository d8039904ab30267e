"""Containers written by hand and hostile files, as tests/test_hostile.py builds them (and
tests/test_serve.py and tests/test_regressions.py reuse): ``raw_zip`` writes zip headers itself so
that an entry can be far larger inflated than anything a test holds in memory; ``zip_entries`` and
``replace_part`` swap one part of a real workbook. Builders take ``(path, unit)`` and write one file."""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from pathlib import Path

import openpyxl

from helpers.returns import make_return
from xltool.definition import get_format
from xltool.model import Unit

T3 = get_format().sheet_of("t3")


def deflate(data: bytes) -> bytes:
    c = zlib.compressobj(9 if len(data) < 1 << 20 else 1, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def repeated_deflate(head: bytes, unit: bytes, times: int, tail: bytes) -> tuple[bytes, int, int]:
    """A raw deflate stream of ``head + unit * times + tail`` made by compressing ``unit`` once:
    after a full flush the compressor starts afresh, so the unit's compressed bytes repeat.
    Returns (stream, crc32, uncompressed size); cost is the CRC over the inflated size."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = c.compress(head) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(unit) + c.flush(zlib.Z_FULL_FLUSH)
    assert c.compress(unit) + c.flush(zlib.Z_FULL_FLUSH) == block
    end = c.compress(tail) + c.flush()
    crc = zlib.crc32(head)
    for _ in range(times):
        crc = zlib.crc32(unit, crc)
    return start + block * times + end, zlib.crc32(tail, crc), len(head) + len(unit) * times + len(tail)


def raw_zip(entries: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip of (name, deflated bytes, crc32, uncompressed size) entries, headers written by hand
    so that an entry can be far larger inflated than anything this test holds in memory."""
    out, central = io.BytesIO(), []
    for name, comp, crc, size in entries:
        raw = name.encode()
        offset = out.tell()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x800, 8, 0, 0x21, crc, len(comp), size, len(raw), 0))
        out.write(raw + comp)
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0x800,
                8,
                0,
                0x21,
                crc,
                len(comp),
                size,
                len(raw),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + raw
        )
    start = out.tell()
    out.write(b"".join(central))
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), out.tell() - start, start, 0))
    return out.getvalue()


def zip_entries(path: Path) -> list[tuple[str, bytes, int, int]]:
    """The entries of a real workbook, ready for ``raw_zip`` (so one part can be replaced)."""
    with zipfile.ZipFile(path) as z:
        return [(i.filename, deflate(data), zlib.crc32(data), len(data)) for i in z.infolist() for data in [z.read(i)]]


def replace_part(path: Path, part: str, data: bytes | tuple[bytes, int, int]) -> Path:
    """Replace one part of a workbook: plain bytes, or a (deflated, crc, size) triple."""
    entries = [e for e in zip_entries(path) if e[0] != part]
    comp = data if isinstance(data, tuple) else (deflate(data), zlib.crc32(data), len(data))
    path.write_bytes(raw_zip([*entries, (part, *comp)]))
    return path


def sheet_part(path: Path, sheet: str) -> str:
    """The zip member holding a sheet's XML (openpyxl names them sheet1.xml, sheet2.xml … in order)."""
    names = openpyxl.load_workbook(path, read_only=True).sheetnames
    return f"xl/worksheets/sheet{names.index(sheet) + 1}.xml"


SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
SHEET_TAIL = b"</sheetData></worksheet>"


def random_bytes(path: Path, unit: Unit) -> Path:
    path.write_bytes(random.Random(7).randbytes(64 * 1024))
    return path


def zip_bomb(path: Path, unit: Unit) -> Path:
    """A real return whose 表三 sheet inflates to 2 GB of rows (the file is a few MB)."""
    template = make_return(path, unit)
    rows = b'<row r="1"><c r="A1"><v>1</v></c></row>' * 2000
    stream = repeated_deflate(SHEET_HEAD, rows, (2 << 30) // len(rows), SHEET_TAIL)
    return replace_part(template, sheet_part(template, T3), stream)
