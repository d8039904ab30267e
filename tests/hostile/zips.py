"""Hostile zips (issue 21): a part whose directory lies about its size, XML parts in UTF-16 hiding a
DOCTYPE past the first kilobyte. Headers are written by hand so a part can inflate to far more than
anything built here holds in memory.
"""

from __future__ import annotations

import struct
import zlib

from hostile.pdf import END_BLOCK, repeated_deflate

MB = 1024 * 1024
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
CONTENT_TYPES = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'


def zip_of(entries: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip of (name, compressed bytes, method, crc32, declared size) entries."""
    out, central = bytearray(), []
    for name, comp, method, crc, size in entries:
        raw = name.encode()
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x800, method, 0, 0x21, crc, len(comp), size, len(raw), 0)
        out += raw + comp
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                *(0x02014B50, 20, 20, 0x800, method, 0, 0x21, crc, len(comp), size, len(raw), 0, 0, 0, 0, 0, offset),
            )
            + raw
        )
    start = len(out)
    out += b"".join(central)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(out) - start, start, 0)
    return bytes(out)


def deflated(name: str, data: bytes) -> tuple[str, bytes, int, int, int]:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return name, c.compress(data) + c.flush(), 8, zlib.crc32(data), len(data)


def lying_part(name: str, head: bytes, declared: int = 100 * 1024, size: int = 2048 * MB) -> tuple:
    """``name`` declared ``declared`` bytes (with the CRC of its first ``declared`` bytes, so that
    zipfile, which cuts a part at its declared size, finds nothing wrong) but inflating to ``size``."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = c.compress(head) + c.flush(zlib.Z_FULL_FLUSH)
    data = start + repeated_deflate(size) + END_BLOCK
    first = (head + b" " * declared)[:declared]
    return name, data, 8, zlib.crc32(first), declared


def docx_lying_directory() -> bytes:
    """A .docx whose word/document.xml declares 100 KB and inflates to 2 GB."""
    head = b'<?xml version="1.0"?><w:document ' + W.encode() + b"><w:body>"
    return zip_of([deflated("[Content_Types].xml", CONTENT_TYPES), lying_part("word/document.xml", head)])


def docx_lying_empty_part() -> bytes:
    """A .docx with a part declared empty that inflates to 2 GB."""
    return zip_of(
        [
            deflated("[Content_Types].xml", CONTENT_TYPES),
            deflated(
                "word/document.xml", b'<?xml version="1.0"?><w:document ' + W.encode() + b"><w:body/></w:document>"
            ),
            lying_part("word/media/image1.png", b"", declared=0),
        ]
    )


def xlsx_lying_directory(workbook: bytes, part: str = "xl/sharedStrings.xml") -> bytes:
    """A real workbook whose ``part`` declares 100 KB and inflates to 2 GB."""
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(workbook)) as z:
        entries = [deflated(i.filename, z.read(i)) for i in z.infolist() if i.filename != part]
    head = b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    return zip_of([*entries, lying_part(part, head)])


BILLION_LAUGHS = (
    '<!DOCTYPE w:document [<!ENTITY a0 "ha">'
    + "".join(f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10))
    + "]>"
)


def utf16_doctype_after_1kb(encoding: str = "utf-16-le", bom: bool = True) -> bytes:
    """A .docx whose document.xml is UTF-16 (LE or BE, with or without a byte order mark), a comment
    of 1,500 characters before its DOCTYPE: past the first kilobyte of the part."""
    text = (
        '<?xml version="1.0" encoding="UTF-16"?><!--'
        + " padding " * 166
        + "-->"
        + BILLION_LAUGHS
        + f"<w:document {W}><w:body><w:p><w:r><w:t>&a9;</w:t></w:r></w:p></w:body></w:document>"
    )
    data = ("\ufeff" if bom else "").encode(encoding) + text.encode(encoding)
    return zip_of([deflated("[Content_Types].xml", CONTENT_TYPES), deflated("word/document.xml", data)])


HOSTILE: dict[str, tuple[object, str]] = {
    "docx_lying_directory": (docx_lying_directory, "F-BOMB"),
    "docx_lying_empty_part": (docx_lying_empty_part, "F-BOMB"),
    "utf16le_doctype_after_1kb": (lambda: utf16_doctype_after_1kb("utf-16-le"), "F-XML-ENTITY"),
    "utf16be_doctype_after_1kb": (lambda: utf16_doctype_after_1kb("utf-16-be"), "F-XML-ENTITY"),
    "utf16le_no_bom_doctype_after_1kb": (lambda: utf16_doctype_after_1kb("utf-16-le", bom=False), "F-XML-ENTITY"),
    "utf16be_no_bom_doctype_after_1kb": (lambda: utf16_doctype_after_1kb("utf-16-be", bom=False), "F-XML-ENTITY"),
}
"""name (a .docx): (builder, the one finding's rule)."""
