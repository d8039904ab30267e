"""Hostile PDFs (issue 21): decompression bombs behind every way a stream can hide, images declared
huge, pages of a million words. Each builder returns the file's bytes, built in well under a second:
a bomb's deflate data is one compressed block repeated (``repeated_zlib``), never inflated here.
"""

from __future__ import annotations

import base64
import zlib

MB = 1024 * 1024
FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def pdf_file(objects: list[bytes], before: bytes = b"") -> bytes:
    """A PDF of ``objects`` (numbered from 1; the first is the catalogue), its cross-reference table
    and trailer written by hand; ``before``: bytes ahead of the ``%PDF`` header (PDFium reads a file
    whose header is up to 1 KB in)."""
    out = bytearray(before + b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out) - len(before))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out) - len(before)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def stream(head: bytes, data: bytes, keyword: bytes = b"stream\n") -> bytes:
    """A stream object's body: ``head`` (the dictionary's entries but /Length) and ``data``."""
    return b"<< %s /Length %d >>\n" % (head, len(data)) + keyword + data + b"\nendstream"


def one_page(contents: bytes, *more: bytes, before: bytes = b"", pages: int = 1) -> bytes:
    """A document of ``pages`` pages all showing the content stream object ``contents`` (object 4),
    Helvetica as /F1 (object 5), and ``more`` objects from 6 on."""
    kids = b" ".join(b"3 0 R" for _ in range(pages))
    return pdf_file(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
            contents,
            FONT,
            *more,
        ],
        before,
    )


def repeated_deflate(size: int, unit: bytes = b" " * (4 * MB)) -> bytes:
    """A raw deflate stream of ``size`` bytes (rounded up to ``unit``) made by compressing ``unit``
    once: after a full flush the compressor starts afresh, so the unit's compressed block repeats.
    Not final: end it with ``END_BLOCK``."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(unit) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(unit) + c.flush(zlib.Z_FULL_FLUSH)
    assert block == again or block.endswith(again)
    return block + again * (-(-size // len(unit)) - 1)


END_BLOCK = b"\x03\x00"  # a final, empty fixed-Huffman block
ZLIB_HEAD = b"\x78\xda"


def repeated_zlib(size: int) -> bytes:
    """A zlib stream inflating to ``size`` bytes of spaces (its checksum left out: PDFium, like any
    inflater, has given all the bytes before it finds that out)."""
    return ZLIB_HEAD + repeated_deflate(size) + END_BLOCK


def stored_block(data: bytes) -> bytes:
    """A non-final stored deflate block: ``data`` as it is, inside the compressed stream."""
    return b"\x00" + len(data).to_bytes(2, "little") + (len(data) ^ 0xFFFF).to_bytes(2, "little") + data


# --------------------------------------------------------------------------- the bombs


def flate_bomb(size: int = 1024 * MB) -> bytes:
    """A page whose content stream inflates to ``size`` bytes."""
    return one_page(stream(b"/Filter /FlateDecode", repeated_zlib(size)))


def bomb_3_5_gb() -> bytes:
    """The same at 3.5 GB (a 3.5 MB file): PDFium aborted the process on it."""
    return flate_bomb(3584 * MB)


def bomb_after_header() -> bytes:
    """68 bytes of a mail gateway's banner ahead of ``%PDF`` (PDFium reads the file all the same)."""
    return one_page(stream(b"/Filter /FlateDecode", repeated_zlib(1024 * MB)), before=b"X" * 67 + b"\n")


def bomb_keyword_with_space() -> bytes:
    """``stream`` followed by a space before its end of line (PDFium allows it)."""
    return one_page(stream(b"/Filter /FlateDecode", repeated_zlib(1024 * MB), keyword=b"stream \r\n"))


def bomb_behind_hex() -> bytes:
    """/Filter [/ASCIIHexDecode /FlateDecode]: the data is hex text, not a zlib stream."""
    return one_page(stream(b"/Filter [/ASCIIHexDecode /FlateDecode]", repeated_zlib(1024 * MB).hex().encode() + b">"))


def bomb_behind_ascii85() -> bytes:
    """/Filter [/A85 /Fl] (abbreviated names)."""
    return one_page(stream(b"/Filter [/A85 /Fl]", base64.a85encode(repeated_zlib(1024 * MB)) + b"~>"))


def bomb_with_endstream_inside() -> bytes:
    """``endstream`` in the data (a stored block), the bomb after it; /Length tells the truth."""
    data = ZLIB_HEAD + stored_block(b"\nendstream\nendobj\n") + repeated_deflate(1024 * MB) + END_BLOCK
    return one_page(stream(b"/Filter /FlateDecode", data))


def bomb_with_indirect_length() -> bytes:
    """The same, its /Length an indirect object: only PDFium's cross-reference table knows the end."""
    data = ZLIB_HEAD + stored_block(b"\nendstream\nendobj\n") + repeated_deflate(1024 * MB) + END_BLOCK
    return one_page(b"<< /Filter /FlateDecode /Length 6 0 R >>\nstream\n" + data + b"\nendstream", b"%d" % len(data))


def bomb_with_wrong_length() -> bytes:
    """/Length 10: PDFium finds the end itself."""
    data = repeated_zlib(1024 * MB)
    return one_page(b"<< /Filter /FlateDecode /Length 10 >>\nstream\n" + data + b"\nendstream")


def bomb_flate_twice() -> bytes:
    """/Filter [/FlateDecode /FlateDecode]: the bomb compressed once more (a 4 KB file)."""
    return one_page(stream(b"/Filter [/FlateDecode /FlateDecode]", zlib.compress(repeated_zlib(1024 * MB), 9)))


def bomb_escaped_name() -> bytes:
    """/Fl#61teDecode: a name with an escape is the same name."""
    return one_page(stream(b"/Filter /Fl#61teDecode", repeated_zlib(1024 * MB)))


def bomb_in_object_stream() -> bytes:
    """An object stream (/Type /ObjStm) that inflates to 1 GB."""
    return one_page(
        stream(b"/Filter /FlateDecode", zlib.compress(b"BT /F1 24 Tf 72 720 Td (Hello) Tj ET")),
        stream(b"/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", repeated_zlib(1024 * MB)),
    )


def bomb_in_xref_stream() -> bytes:
    """A cross-reference stream that inflates to 1 GB."""
    return one_page(
        stream(b"/Filter /FlateDecode", zlib.compress(b"BT /F1 24 Tf 72 720 Td (Hello) Tj ET")),
        stream(b"/Type /XRef /Size 8 /W [1 4 2] /Filter /FlateDecode", repeated_zlib(1024 * MB)),
    )


def run_length_bomb() -> bytes:
    """/RunLengthDecode: 2 bytes give 128 (a 1.6 MB file for 100 MB)."""
    return one_page(stream(b"/Filter /RunLengthDecode", b"\x81 " * (100 * MB // 128) + b"\x80"))


def lzw_bomb(tables: int = 40) -> bytes:
    """/LZWDecode of a run of one letter: each code one byte longer than the one before, 7 MB per
    table of codes (5 KB), the table cleared and built again ``tables`` times."""
    out = bytearray()
    acc = held = 0
    width, size = 9, 258  # the code width and table size, as the decoder keeps them

    def emit(code: int) -> None:
        nonlocal acc, held
        acc, held = acc << width | code, held + width
        while held >= 8:
            held -= 8
            out.append(acc >> held & 0xFF)
        acc &= (1 << held) - 1

    emit(256)
    for _ in range(tables):
        emit(ord("a"))  # the first code after a clear adds nothing to the table
        for code in range(258, 4095):
            emit(code)  # the code the decoder is about to add: the last string and its first letter
            size += 1
            if size + 1 >= 1 << width and width < 12:
                width += 1
        emit(256)
        width, size = 9, 258
    emit(257)
    if held:
        out.append(acc << (8 - held) & 0xFF)
    return one_page(stream(b"/Filter /LZWDecode", bytes(out)))


def many_bombs() -> bytes:
    """Five streams of 60 MB each: each under the limit of one stream, together over the total."""
    return one_page(
        stream(b"/Filter /FlateDecode", zlib.compress(b"BT /F1 24 Tf 72 720 Td (Hello) Tj ET")),
        *(stream(b"/Subtype /Type1C /Filter /FlateDecode", repeated_zlib(60 * MB)) for _ in range(5)),
    )


def huge_image() -> bytes:
    """An image declared 100,000 x 100,000 RGB (30 GB decoded) in a few bytes of JPEG."""
    image = b"/Type /XObject /Subtype /Image /Width 100000 /Height 100000 /ColorSpace /DeviceRGB"
    return one_page(
        stream(b"", b"q 500 0 0 700 40 60 cm /Im0 Do Q"),
        stream(image + b" /BitsPerComponent 8 /Filter /DCTDecode", b"\xff\xd8\xff\xd9"),
    )


def image_bomb_small_declared() -> bytes:
    """An image of 50 x 50 whose Flate data would inflate to 1 GB: PDFium decodes an image only
    to draw it, no further than its declared size; the page has no text (a scan)."""
    image = b"/Type /XObject /Subtype /Image /Width 50 /Height 50 /ColorSpace /DeviceGray /BitsPerComponent 8"
    return pdf_file(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
            b" /Resources << /XObject << /Im0 5 0 R >> >> >>",
            stream(b"", b"q 500 0 0 700 40 60 cm /Im0 Do Q"),
            stream(image + b" /Filter /FlateDecode", repeated_zlib(1024 * MB)),
        ]
    )


# --------------------------------------------------------------------------- too many words


def million_words() -> bytes:
    """One page showing a million words (a TJ array of a million strings)."""
    content = b"BT /F1 1 Tf 10 10 Td [" + b"(ab)-300" * 1_000_000 + b"] TJ ET"
    return one_page(stream(b"/Filter /FlateDecode", zlib.compress(content, 9)))


def million_words_plain() -> bytes:
    """The same, each word its own Tj, no filter (an 8 MB file)."""
    return one_page(stream(b"", b"BT /F1 1 Tf 10 10 Td " + b"(ab) Tj " * 1_000_000 + b"ET"))


def pages_just_under_the_page_cap(pages: int = 200, chars: int = 45_000) -> bytes:
    """``pages`` pages each showing ``chars`` characters (the per-page limit is 50,000)."""
    words = b"[" + b"".join(b"(" + b"a" * 1000 + b")-300" for _ in range(chars // 1001)) + b"] TJ"
    return one_page(
        stream(b"/Filter /FlateDecode", zlib.compress(b"BT /F1 1 Tf 10 10 Td " + words + b" ET")), pages=pages
    )


HOSTILE: dict[str, tuple[object, str]] = {
    "flate_bomb": (flate_bomb, "F-BOMB"),
    "bomb_3_5_gb": (bomb_3_5_gb, "F-BOMB"),
    # xltool reads as PDF only a file starting with %PDF; check_streams refuses the bomb all the same
    "bomb_after_header": (bomb_after_header, "F-NOT-DOCUMENT"),
    "bomb_keyword_with_space": (bomb_keyword_with_space, "F-BOMB"),
    "bomb_behind_hex": (bomb_behind_hex, "F-BOMB"),
    "bomb_behind_ascii85": (bomb_behind_ascii85, "F-BOMB"),
    "bomb_with_endstream_inside": (bomb_with_endstream_inside, "F-BOMB"),
    "bomb_with_indirect_length": (bomb_with_indirect_length, "F-BOMB"),
    "bomb_with_wrong_length": (bomb_with_wrong_length, "F-BOMB"),
    "bomb_flate_twice": (bomb_flate_twice, "F-BOMB"),
    "bomb_escaped_name": (bomb_escaped_name, "F-BOMB"),
    "bomb_in_object_stream": (bomb_in_object_stream, "F-BOMB"),
    "bomb_in_xref_stream": (bomb_in_xref_stream, "F-BOMB"),
    "run_length_bomb": (run_length_bomb, "F-BOMB"),
    "lzw_bomb": (lzw_bomb, "F-BOMB"),
    "many_bombs": (many_bombs, "F-BOMB"),
    "huge_image": (huge_image, "F-BOMB"),
    "image_bomb_small_declared": (image_bomb_small_declared, "F-SCANNED"),
    "million_words": (million_words, "F-TOO-LARGE"),
    "million_words_plain": (million_words_plain, "F-TOO-LARGE"),
    "pages_just_under_the_page_cap": (pages_just_under_the_page_cap, "F-TOO-LARGE"),
}
"""name: (builder, the one finding's rule)."""
