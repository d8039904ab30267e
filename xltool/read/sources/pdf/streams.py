"""Stage 0, the raw file before PDFium parses anything: every stream decoded as PDFium would, counting.

PDFium inflates a stream whole when it needs it (a page's content when the page is read, an object
stream when an object in it is looked up), one filter of the chain after the other. So each stream of
the file is found and decoded here in bounded steps, keeping nothing, each stage of its chain capped
by what is left of the budget; a stream over MAX_STREAM_INFLATED, or all of them over
MAX_TOTAL_INFLATED, is a bomb (F-BOMB), a page's content over MAX_CONTENT_INFLATED more text than a
report has (F-TOO-LARGE: PDFium's text page costs about 300 bytes a character).

* A stream is every ``stream`` keyword followed by an end of line (spaces before it allowed, as
  PDFium allows them), wherever it is; its dictionary is read back from the ``obj`` before it.
  Its data ends at its ``/Length`` (direct, or an indirect object found in the file) when
  ``endstream`` follows there; else it runs to the end of the file: every filter decoded here stops
  at its own end-of-data, so an ``endstream`` inside the data, a wrong or missing length hide
  nothing. The scan then goes on from the start of the data, not from an ``endstream``.
* The chain is decoded as declared (``/Filter`` a name or an array, abbreviations and ``#xx`` in
  names as PDFium reads them, an indirect filter looked up): FlateDecode (zlib; PDFium inflates
  nothing else), ASCIIHexDecode, ASCII85Decode, LZWDecode, RunLengthDecode. A filter PDFium does
  not decode in a stream (DCT, JPX, CCITT, JBIG2, Crypt, unknown) ends the chain there.
* An image (``/Subtype /Image``) is bounded by what it declares (``/Width`` x ``/Height`` x
  components x bits): PDFium leaves its last filter (Flate, DCT, JPX, CCITT, JBIG2) to a decoder
  that never writes past those dimensions, and reads an image only to draw it, which xltool never
  asks for. The filters before the last one are decoded as for any stream.
* Object streams and cross-reference streams are streams like the others.

Not seen here: inline images inside a page's content, and a form drawn many times by one page (both
bounded only by the time and character limits of ``extract`` and by the reader's process limits).
"""

from __future__ import annotations

import base64
import binascii
import re
import string
import time
import zlib
from collections.abc import Callable, Iterator
from typing import Any

from xltool.read.sources.limits import MB, NOT_A_REPORT, SourceError, refuse

MAX_SECONDS = 5.0
MAX_STREAM_INFLATED = 64 * MB
"""One stream of a report (a page's content, a font) inflates to well under 1 MB; a scanned page's
image to a few tens of MB."""
MAX_TOTAL_INFLATED = 256 * MB
MAX_CONTENT_INFLATED = 512 * 1024
"""A page's content (or a form's) decoded: a report's page is 20–50 KB (its text and table rules);
512 KB can show about 500,000 characters, which PDFium's text page holds in some 150 MB."""
MAX_IMAGE_BYTES = 256 * MB
"""An image's declared size decoded (width x height x components x bits / 8): a page scanned in
colour at 600 dpi is about 100 MB."""

_CHUNK = 1 * MB  # the most any decoder gives at a time
_FEED = 64 * 1024  # the raw bytes fed to the first decoder at a time
_WS = b" \t\r\n\f\x00"
_KEYWORD = re.compile(rb"(?<![A-Za-z0-9])stream[ \t\f\x00]*(?:\r\n|\n|\r)")
_OBJ_HEAD = re.compile(rb"(?<![0-9])([0-9]{1,10})[ \t\r\n\f\x00]+[0-9]{1,5}[ \t\r\n\f\x00]+obj(?![A-Za-z])")
_TOKEN = re.compile(
    rb"[ \t\r\n\f\x00]+|%[^\r\n]*|<<|>>|\[|\]|\(|\)|<[^>]*>|/[^ \t\r\n\f\x00()<>\[\]{}/%]*|[^ \t\r\n\f\x00()<>\[\]{}/%]+|."
)
_STRING_STOP = re.compile(rb"[()\\]")
_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_DICT_BEFORE = 64 * 1024  # how far back from ``stream`` its dictionary may start
_MAX_TOKENS = 20_000

_ABBREVIATIONS = {
    "Fl": "FlateDecode",
    "AHx": "ASCIIHexDecode",
    "A85": "ASCII85Decode",
    "LZW": "LZWDecode",
    "RL": "RunLengthDecode",
    "DCT": "DCTDecode",
    "CCF": "CCITTFaxDecode",
}
_IMAGE_CODECS = {"FlateDecode", "DCTDecode", "JPXDecode", "CCITTFaxDecode", "JBIG2Decode"}
_COMPONENTS = {
    "DeviceGray": 1,
    "G": 1,
    "CalGray": 1,
    "DeviceRGB": 3,
    "RGB": 3,
    "CalRGB": 3,
    "Lab": 3,
    "DeviceCMYK": 4,
    "CMYK": 4,
}
_NOT_CONTENT = ("Type", "Length1", "Length2", "Length3", "N", "Width", "Height", "FunctionType", "ShadingType")


class Ref(int):
    """An indirect reference ``N G R``: the object number."""


Chunks = Iterator[bytes | memoryview]


def check_streams(data: bytes, name: str) -> None:
    """Raise SourceError (F-BOMB, F-TOO-LARGE) when a stream of the raw file decodes past the
    bounds; see the module's docstring. Streams of an encrypted file do not decode: they count
    for what they give before failing."""
    _Scan(data, name).run()


class _Over(Exception):
    """A stage of a stream's chain gave more than ``cap`` bytes."""


class _Scan:
    def __init__(self, data: bytes, name: str) -> None:
        self.data = data
        self.view = memoryview(data)
        self.name = name
        self.total = 0
        self.deadline = time.monotonic() + MAX_SECONDS
        self.objects: dict[int, int] | None = None  # object number -> where its value starts

    def run(self) -> None:
        data = self.data
        pos = 0
        after = 0  # where the data of the stream before ends (its dictionary cannot start before)
        while True:
            m = _KEYWORD.search(data, pos)
            if m is None:
                return
            start = m.end()
            head = self._dictionary(max(after, m.start() - _DICT_BEFORE), m.start())
            end = self._end(head, start)
            self._stream(head, start, len(data) if end is None else end)
            if end is None:  # the data's end is not known: look for streams inside it too
                pos = after = start
            else:
                pos = after = end
            if time.monotonic() > self.deadline:
                raise too_slow(self.name)

    # ----------------------------------------------------------------------- one stream

    def _stream(self, head: dict[str, Any] | None, start: int, end: int) -> None:
        if head is None:  # no dictionary could be read: a zlib stream is inflated as before
            first = self.data[start : start + 2]
            zlib_head = len(first) == 2 and first[0] & 0x0F == 8 and (first[0] << 8 | first[1]) % 31 == 0
            filters: list[tuple[str, dict[str, Any]]] = [("FlateDecode", {})] if zlib_head else []
            head = {}
        else:
            filters = self._filters(head)
        image = head.get("Subtype") == "Image" or ("Width" in head and "Height" in head)
        if image:
            self._image_size(head)
            if filters and filters[-1][0] in _IMAGE_CODECS:
                filters = filters[:-1]
        decoded: list[tuple[str, dict[str, Any]]] = []
        for f in filters:
            if f[0] not in _DECODERS:
                break  # PDFium stops here too (an image codec, Crypt, a name it does not know)
            decoded.append(f)
        content = not image and _content(head)
        if not filters and content:  # shown as it is: PDFium ends it at its length, or at endstream
            stop = end if end < len(self.data) else self.data.find(b"endstream", start)
            self._content_size(max(stop, start) - start)
        if not decoded:
            return
        cap = min(MAX_STREAM_INFLATED, MAX_TOTAL_INFLATED - self.total)
        chunks: Chunks = self._raw(start, end)
        for filter_name, parms in decoded:
            chunks = _capped(_DECODERS[filter_name](chunks, parms), cap)
        size = 0
        try:
            for out in chunks:
                size += len(out)
                if time.monotonic() > self.deadline:
                    raise too_slow(self.name)
        except _Over:
            raise self._bomb(cap) from None
        self.total += size
        if content:
            self._content_size(size)

    def _content_size(self, size: int) -> None:
        if size > MAX_CONTENT_INFLATED:
            raise refuse(
                "F-TOO-LARGE",
                self.name,
                what=f"的一页内容（解压后）有 {size / MB:.1f} MB",
                limit=f"{MAX_CONTENT_INFLATED // 1024} KB（一页年度报告的内容约 50 KB）",
                hint=NOT_A_REPORT,
            )

    def _raw(self, start: int, end: int) -> Chunks:
        for at in range(start, end, _FEED):
            yield self.view[at : min(at + _FEED, end)]  # a view: not copied

    def _bomb(self, cap: int) -> SourceError:
        over_total = cap < MAX_STREAM_INFLATED
        return refuse(
            "F-BOMB",
            self.name,
            what=f"的数据流解压后共超过 {MAX_TOTAL_INFLATED // MB} MB"
            if over_total
            else f"的一个数据流解压后超过 {MAX_STREAM_INFLATED // MB} MB",
            limit=f"{MAX_STREAM_INFLATED // MB} MB（全部数据流 {MAX_TOTAL_INFLATED // MB} MB）",
        )

    def _image_size(self, head: dict[str, Any]) -> None:
        width, height = self._resolve(head.get("Width")), self._resolve(head.get("Height"))
        if not isinstance(width, int) or not isinstance(height, int):
            return  # PDFium draws no image without both
        mask = head.get("ImageMask") is True or head.get("IM") is True
        bits = 1 if mask else self._resolve(head.get("BitsPerComponent", 8))
        bits = bits if isinstance(bits, int) and 0 < bits <= 16 else 16
        space = self._resolve(head.get("ColorSpace"))
        components = 1 if mask else _COMPONENTS.get(space, 4) if isinstance(space, str) else 4
        size = (abs(width) * components * bits + 7) // 8 * abs(height)
        if size > MAX_IMAGE_BYTES:
            raise refuse(
                "F-BOMB",
                self.name,
                what=f"的一幅图像声明为 {width:,} × {height:,} 像素（解码后约 {size / MB:,.0f} MB）",
                limit=f"{MAX_IMAGE_BYTES // MB} MB",
            )

    # ----------------------------------------------------------------------- the dictionary

    def _dictionary(self, lo: int, keyword: int) -> dict[str, Any] | None:
        """The dictionary of the stream whose keyword is at ``keyword``: read from the last ``obj``
        between ``lo`` and there (None when there is none or it does not parse)."""
        data = self.data
        at = keyword
        while True:
            at = data.rfind(b"obj", lo, at)
            if at < 0:
                return None
            follows = data[at + 3 : at + 4]
            if (at == 0 or data[at - 1] in _WS) and not (follows.isalnum() or follows == b"_"):
                break  # the keyword, not endobj or /ObjStm
        begin = data.find(b"<<", at, keyword)
        if begin < 0:
            return None
        value = _parse(data, begin, keyword)
        return value if isinstance(value, dict) else None

    def _end(self, head: dict[str, Any] | None, start: int) -> int | None:
        """Where the stream's data ends by its length, when ``endstream`` follows there."""
        length = self._resolve(head.get("Length")) if head else None
        if not isinstance(length, int) or length < 0 or start + length > len(self.data):
            return None
        after = self.data[start + length : start + length + 64].lstrip(_WS)
        return start + length if after.startswith(b"endstream") else None

    def _filters(self, head: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        names = self._resolve(head.get("Filter", head.get("F")))
        parms = self._resolve(head.get("DecodeParms", head.get("DP")))
        names = names if isinstance(names, list) else [] if names is None else [names]
        parms = parms if isinstance(parms, list) else [parms] * len(names)
        out = []
        for i, n in enumerate(names):
            n = self._resolve(n)
            p = self._resolve(parms[i]) if i < len(parms) else None
            out.append((_ABBREVIATIONS.get(n, n) if isinstance(n, str) else "?", p if isinstance(p, dict) else {}))
        return out

    def _resolve(self, value: Any) -> Any:
        """``value``, or the object it refers to when it is an indirect reference (one level)."""
        if not isinstance(value, Ref):
            return value
        if self.objects is None:
            self.objects = {int(m.group(1)): m.end() for m in _OBJ_HEAD.finditer(self.data)}
        at = self.objects.get(int(value))
        if at is None:
            return None
        resolved = _parse(self.data, at, min(len(self.data), at + 4096))
        return None if isinstance(resolved, Ref) else resolved


def _content(head: dict[str, Any]) -> bool:
    """Whether a stream is a page's content or a form: text PDFium would put on a page."""
    if head.get("Subtype") == "Form":
        return "PatternType" not in head
    return not any(key in head for key in _NOT_CONTENT) and "Subtype" not in head


def too_slow(name: str) -> SourceError:
    return refuse("F-TOO-LARGE", name, what="的内容过多，读取时间", limit=f"{MAX_SECONDS:.0f} 秒", hint=NOT_A_REPORT)


# --------------------------------------------------------------------------- PDF objects, as far as needed


def _parse(data: bytes, pos: int, endpos: int) -> Any:
    """The object starting at ``pos`` (a dictionary, array, name, number or reference; strings come
    back as ""), read no further than ``endpos``; None when it does not parse."""
    tokens: list[bytes] = []
    depth = 0
    while pos < endpos and len(tokens) < _MAX_TOKENS:
        m = _TOKEN.match(data, pos, endpos)
        if m is None:
            break
        token, pos = m.group(), m.end()
        if token[:1] in b" \t\r\n\f\x00%":
            continue
        if token == b"(":
            pos = _string_end(data, pos, endpos)
            token = b"()"
        tokens.append(token)
        if token in (b"<<", b"["):
            depth += 1
        elif token in (b">>", b"]"):
            depth -= 1
        if depth <= 0 and len(tokens) >= (3 if tokens[0][:1].isdigit() else 1):
            break
    try:
        return _value(tokens, 0)[0]
    except (IndexError, RecursionError, ValueError):
        return None


def _string_end(data: bytes, pos: int, endpos: int) -> int:
    """Just after the literal string whose ``(`` ends at ``pos`` (nested parentheses, escapes)."""
    depth = 1
    while depth:
        m = _STRING_STOP.search(data, pos, endpos)
        if m is None:
            return endpos
        pos = m.end()
        if m.group() == b"\\":
            pos += 1
        else:
            depth += 1 if m.group() == b"(" else -1
    return pos


def _value(tokens: list[bytes], k: int) -> tuple[Any, int]:
    token = tokens[k]
    if token == b"<<":
        out: dict[str, Any] = {}
        k += 1
        while tokens[k] != b">>":
            key = tokens[k]
            value, k = _value(tokens, k + 1)
            if key.startswith(b"/"):
                out[_name(key)] = value
        return out, k + 1
    if token == b"[":
        items = []
        k += 1
        while tokens[k] != b"]":
            value, k = _value(tokens, k)
            items.append(value)
        return items, k + 1
    if token.startswith(b"/"):
        return _name(token), k + 1
    if token.isdigit():
        if k + 2 < len(tokens) and tokens[k + 1].isdigit() and tokens[k + 2] == b"R":
            return Ref(int(token)), k + 3
        return int(token), k + 1
    if token in (b"true", b"false"):
        return token == b"true", k + 1
    try:
        return float(token), k + 1
    except ValueError:
        return None, k + 1


def _name(token: bytes) -> str:
    raw = _NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), token[1:])
    return raw.decode("latin-1")


# --------------------------------------------------------------------------- the decoders


def _capped(chunks: Chunks, cap: int) -> Chunks:
    size = 0
    for out in chunks:
        size += len(out)
        if size > cap:
            raise _Over
        yield out


def _flate(chunks: Chunks, parms: dict[str, Any]) -> Chunks:
    d = zlib.decompressobj()
    try:
        for chunk in chunks:
            while True:
                out = d.decompress(chunk, _CHUNK)
                if out:
                    yield out
                if d.eof:
                    return
                chunk = d.unconsumed_tail
                if not chunk and len(out) < _CHUNK:
                    break
    except zlib.error:
        return  # PDFium keeps what inflated before the error: counted


_NOT_HEX = bytes(b for b in range(256) if chr(b) not in string.hexdigits)


def _hex(chunks: Chunks, parms: dict[str, Any]) -> Chunks:
    carry = b""
    for chunk in chunks:
        raw = bytes(chunk)
        stop = raw.find(b">")
        digits = carry + (raw if stop < 0 else raw[:stop]).translate(None, _NOT_HEX)
        even = len(digits) & ~1
        if even:
            yield binascii.unhexlify(digits[:even])
        carry = digits[even:]
        if stop >= 0:
            break
    if carry:
        yield binascii.unhexlify(carry + b"0")


def _a85(chunks: Chunks, parms: dict[str, Any]) -> Chunks:
    carry = b""
    try:
        for chunk in chunks:
            raw = bytes(chunk)
            stop = raw.find(b"~")
            text = carry + (raw if stop < 0 else raw[:stop]).translate(None, _WS).replace(b"z", b"!!!!!")
            whole = len(text) - len(text) % 5
            if whole:
                yield base64.a85decode(text[:whole])
            carry = text[whole:]
            if stop >= 0:
                break
        if carry:
            yield base64.a85decode(carry)
    except ValueError:
        return


def _lzw(chunks: Chunks, parms: dict[str, Any]) -> Chunks:
    early = 0 if parms.get("EarlyChange") == 0 else 1
    table = [bytes([i]) for i in range(256)] + [b"", b""]
    out = bytearray()
    prev = b""
    bits = held = 0
    width = 9
    for chunk in chunks:
        for byte in bytes(chunk):
            bits = (bits << 8 | byte) & 0xFFFFFF
            held += 8
            while held >= width:
                held -= width
                code = bits >> held & ((1 << width) - 1)
                if code == 256:
                    del table[258:]
                    width, prev = 9, b""
                    continue
                if code < len(table) and code != 257:
                    entry = table[code]
                    if prev:
                        table.append(prev + entry[:1])
                elif code == len(table) and prev:
                    entry = prev + prev[:1]
                    table.append(entry)
                else:  # end of data, or a code not in the table: PDFium stops
                    yield bytes(out)
                    return
                out += entry
                prev = entry
                if len(table) + early >= 1 << width and width < 12:
                    width += 1
                if len(table) >= 4096:
                    del table[4095:]
                if len(out) >= _CHUNK:
                    yield bytes(out)
                    out.clear()
    yield bytes(out)


def _run_length(chunks: Chunks, parms: dict[str, Any]) -> Chunks:
    buf = b""
    out = bytearray()
    for chunk in chunks:
        buf += bytes(chunk)
        i = 0
        while i < len(buf):
            n = buf[i]
            if n == 128:
                yield bytes(out)
                return
            if n < 128:
                if i + n + 2 > len(buf):
                    break
                out += buf[i + 1 : i + n + 2]
                i += n + 2
            else:
                if i + 2 > len(buf):
                    break
                out += buf[i + 1 : i + 2] * (257 - n)
                i += 2
            if len(out) >= _CHUNK:
                yield bytes(out)
                out.clear()
        buf = buf[i:]
    yield bytes(out)


_DECODERS: dict[str, Callable[[Chunks, dict[str, Any]], Chunks]] = {
    "FlateDecode": _flate,
    "ASCIIHexDecode": _hex,
    "ASCII85Decode": _a85,
    "LZWDecode": _lzw,
    "RunLengthDecode": _run_length,
}
