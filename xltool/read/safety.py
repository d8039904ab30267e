"""Look at a file's container before any spreadsheet library decompresses or parses it.

Returned workbooks come by e-mail and USB stick; some are broken, some are not what their name
says, a few may be hostile. This module reads the zip directory and the head of each part,
and says in Chinese what the file is when it is not a workbook we can safely open. Only once
those limits hold are the parts inflated (never past their declared sizes: a part whose data
would inflate further is a bomb, F-BOMB, whatever its directory says), to cut cells far from the
tables before calamine sees a sheet (``bound_cells``).

Limits (adjustable through ``Limits`` or the environment variables named below):

=============================  ==========  ===================================
limit                          default     environment variable
=============================  ==========  ===================================
file size on disk              50 MB       XLTOOL_MAX_FILE_MB
entries in the zip             2,000       XLTOOL_MAX_ENTRIES
sum of declared sizes          200 MB      XLTOOL_MAX_UNCOMPRESSED_MB
compression ratio of an entry  200 : 1     XLTOOL_MAX_RATIO (entries over 1 MB)
=============================  ==========  ===================================

A filled template is about 20 KB and decompresses to under 1 MB.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from xltool.errors import XltoolError

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
MB = 1024 * 1024


def env_int(name: str, default: int) -> int:
    """An integer setting from the environment (XLTOOL_MAX_*), the default when unset or not a number."""
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 50 * MB
    max_entries: int = 2000
    max_uncompressed_bytes: int = 200 * MB
    max_ratio: int = 200

    @classmethod
    def from_env(cls) -> Limits:
        return cls(
            max_file_bytes=env_int("XLTOOL_MAX_FILE_MB", 50) * MB,
            max_entries=env_int("XLTOOL_MAX_ENTRIES", 2000),
            max_uncompressed_bytes=env_int("XLTOOL_MAX_UNCOMPRESSED_MB", 200) * MB,
            max_ratio=env_int("XLTOOL_MAX_RATIO", 200),
        )


Refusal = tuple[str, dict[str, Any]]
"""Why a file must not be opened: a catalogue code and the fields of its message but the file's name
(``name``), which the one who knows the name adds when it makes the finding or ``SourceError``."""


class Container(NamedTuple):
    """What ``read_container`` found: the problem (None when safe), the bytes to open, and the
    size and SHA-256 of the file as it was sent (``data`` may be a bounded copy of it)."""

    problem: Refusal | None
    data: bytes
    size: int = 0
    sha256: str = ""


def read_container(path: Path, limits: Limits | None = None) -> Container:
    """Check a file's container before any library parses it, and return its bytes (read once,
    after the size check) so the caller opens the very bytes that were inspected; b"" when the
    file was not read. ``problem`` is None when the file looks like a workbook safe to open."""
    limits = limits or Limits.from_env()
    try:
        size = path.stat().st_size
        if size == 0:
            return Container(("F-EMPTY", {}), b"")
        if size > limits.max_file_bytes:
            return Container(
                (
                    "F-TOO-LARGE",
                    {
                        "what": f"的文件大小 {size / MB:.1f} MB",
                        "limit": f"{limits.max_file_bytes / MB:.0f} MB（一份填好的统计表约 20 KB）",
                        "hint": "请删除表中的图片或多余内容后重新保存",
                    },
                ),
                b"",
                size,
            )
        data = path.read_bytes()
    except OSError as exc:
        return Container(
            ("F-UNREADABLE", {"reason": str(exc.strerror or exc), "hint": "请确认文件存在、可以打开后重新发送"}), b""
        )
    sent = (len(data), hashlib.sha256(data).hexdigest())
    if data.startswith(ZIP_MAGIC):
        parts = _Parts()  # what the checks parse and inflate, reused by bound_cells
        problem = _inspect_zip(data, limits, parts)
        if problem is None:
            problem, data = bound_cells(data, parts)
        return Container(problem, data, *sent)
    if data[:8] == OLE_MAGIC:
        return Container(_inspect_ole(data, path), data, *sent)
    if not data:  # emptied between stat and read
        return Container(("F-EMPTY", {}), b"")
    return Container(_not_a_workbook(data[:4096]), data, *sent)


class _Parts:
    """The zip directory and the parts inflated whole (by header offset) while checking a file,
    so that ``bound_cells`` parses and inflates nothing a second time."""

    def __init__(self) -> None:
        self.infos: list[zipfile.ZipInfo] | None = None
        self.inflated: dict[int, bytes] = {}


def _inspect_zip(data: bytes, limits: Limits, parts: _Parts | None = None) -> Refusal | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            if parts is not None:
                parts.infos = infos
            if len(infos) > limits.max_entries:
                return ("F-BOMB", {"what": f"压缩包内有 {len(infos)} 个部件", "limit": f"{limits.max_entries} 个"})
            total = sum(i.file_size for i in infos)
            if total > limits.max_uncompressed_bytes:
                return (
                    "F-BOMB",
                    {"what": f"解压后共 {total / MB:.0f} MB", "limit": f"{limits.max_uncompressed_bytes / MB:.0f} MB"},
                )
            for i in infos:
                if i.file_size > MB and i.file_size > limits.max_ratio * max(i.compress_size, 1):
                    return (
                        "F-BOMB",
                        {
                            "what": f"的部件 {i.filename} 压缩比 {i.file_size // max(i.compress_size, 1)}:1",
                            "limit": f"{limits.max_ratio}:1",
                        },
                    )
            for i in infos:
                if i.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    return (
                        "F-CORRUPT",
                        {
                            "reason": f"部件 {i.filename} 使用了 Office 不用的压缩方式",
                            "hint": "请在 Excel/WPS/Word 中打开并重新保存",
                        },
                    )
                if parts is None:  # a workbook's parts are inflated whole (``_whole``) and checked there
                    _check_inflated(data, i)
            names = {i.filename for i in infos}
            if "xl/workbook.xml" not in names and "content.xml" not in names:
                if "word/document.xml" in names:
                    return _not_workbook("是 Word 文档（.docx）改了扩展名")
                if "ppt/presentation.xml" in names:
                    return _not_workbook("是 PowerPoint 演示文稿改了扩展名")
                return _not_workbook("是一个压缩包")
            for i in infos:
                if i.filename.endswith(".xml") or i.filename.endswith(".rels"):
                    prolog = _prolog(data, i, parts.inflated if parts is not None else None)
                    if prolog is None:  # anything unusual: let zipfile read it (and raise what it raises)
                        with zf.open(i) as part:
                            prolog = part.read(PROLOG_BYTES)
                    problem = _entities(i.filename, prolog)
                    if problem is not None:
                        return problem
    except _Overflow as over:
        return over.refusal
    except zipfile.BadZipFile:
        return ("F-CORRUPT", {"reason": "压缩结构不完整，可能是没有下载或复制完整", "hint": "请重新发送"})
    except (OSError, EOFError, RuntimeError, NotImplementedError, ValueError, zlib.error) as exc:
        return ("F-CORRUPT", {"reason": f"无法打开：{exc}", "hint": "请重新发送"})
    return None


PROLOG_BYTES = 2048
"""A DOCTYPE can only come before the root element: the head of each part is enough, as long as the
root element starts in it (else the part is refused too)."""


def _entities(filename: str, prolog: bytes) -> Refusal | None:
    """F-XML-ENTITY when the head of a part (its first PROLOG_BYTES, or all of it when shorter)
    declares a DOCTYPE or an entity, or does not reach its root element, in whatever encoding an
    XML parser would read it (``_as_text``)."""
    text = _as_text(prolog)
    if b"<!DOCTYPE" in text or b"<!ENTITY" in text:
        return ("F-XML-ENTITY", {"what": f"部件 {filename} 含有 XML 实体声明"})
    if len(prolog) >= PROLOG_BYTES and not _root_starts(text):  # the raw length: a UTF-16 head is half as long
        return (
            "F-XML-ENTITY",
            {"what": f"部件 {filename} 的根元素之前有 {PROLOG_BYTES} 字节以上的其他内容（可能藏有 XML 实体声明）"},
        )
    return None


_WIDE = (  # (how a part starts, its encoding): byte order marks, then "<" without one (XML 1.0, appendix F)
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
)


def _as_text(head: bytes) -> bytes:
    """The head of an XML part as UTF-8, decoded from UTF-16 or UTF-32 (with or without a byte
    order mark) when it starts so; as it is otherwise (UTF-8 and the single-byte encodings show
    their markup as ASCII)."""
    for start, encoding in _WIDE:
        if head.startswith(start):
            return head.decode(encoding, "ignore").encode("utf-8")
    return head


class _Overflow(XltoolError):
    """A part inflates to more than its size in the zip directory says."""

    def __init__(self, info: zipfile.ZipInfo):
        super().__init__(info.filename)
        size = f"{info.file_size / MB:.1f} MB" if info.file_size >= MB else f"{info.file_size / 1024:.0f} KB"
        self.refusal: Refusal = (
            "F-BOMB",
            {"what": f"的部件 {info.filename} 解压后超过压缩包目录所写的大小", "limit": f"{size}（目录所写）"},
        )


_STEP = 1 * MB


def _check_inflated(data: bytes, info: zipfile.ZipInfo) -> None:
    """Raise _Overflow when a deflated part inflates past its declared size: inflated in steps of
    _STEP, counting, keeping nothing, stopped as soon as the count passes the declared size. A part
    ``_raw`` cannot read is left to zipfile, which reads no further than the declared size either
    when asked for bounded reads (``read_part``)."""
    raw = _raw(data, info) if info.compress_type == zipfile.ZIP_DEFLATED else None
    if raw is None:
        return
    d = zlib.decompressobj(-zlib.MAX_WBITS)
    size = 0
    try:
        while True:
            out = d.decompress(raw, _STEP)
            size += len(out)
            if size > info.file_size:
                raise _Overflow(info)
            raw = d.unconsumed_tail
            if d.eof or (not raw and len(out) < _STEP):
                return
    except zlib.error:
        return  # zipfile says what is wrong when the part is read


def read_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A part read through zipfile in bounded steps: ``ZipFile.read`` inflates all the compressed
    bytes it holds in one call (2 GB from a part whose directory says 100 KB) before cutting the
    result to the declared size; read in steps, it never inflates more than a step past it."""
    chunks = []
    with zf.open(info) as part:
        while chunk := part.read(_STEP):
            chunks.append(chunk)
    return b"".join(chunks)


_LOCAL = struct.Struct("<4s2xH18xHH")  # signature, flag bits, name length, extra field length
_PLAIN_FLAGS = 0x1 | 0x20 | 0x40  # encrypted, patched data, strong encryption: zipfile decides


def _prolog(data: bytes, info: zipfile.ZipInfo, inflated: dict[int, bytes] | None = None) -> bytes | None:
    """The first PROLOG_BYTES of a stored or deflated part, inflated straight from ``data``
    (``zipfile.open`` costs more than the inflating). None for anything else (encrypted, other
    compression, a header or stream that does not check out, a CRC that does not match): the
    caller then goes through ``zipfile``, so that the outcome is exactly zipfile's.
    With ``inflated``, the part is inflated whole (``_whole``) and kept there by header offset,
    so that neither ``bound_cells`` nor calamine inflates it a second time."""
    if inflated is not None:
        whole = _whole(data, info)
        if whole is not None:
            inflated[info.header_offset] = whole
            return whole[:PROLOG_BYTES]
    raw = _raw(data, info)
    if raw is None:
        return None
    if info.compress_type == zipfile.ZIP_STORED:
        out = raw[:PROLOG_BYTES]
    else:
        try:
            out = zlib.decompressobj(-zlib.MAX_WBITS).decompress(raw, PROLOG_BYTES)
        except zlib.error:
            return None
    if len(out) == info.file_size:  # the whole part: zipfile checks its CRC
        return out if zlib.crc32(out) == info.CRC else None
    return out if len(out) == PROLOG_BYTES and info.file_size > PROLOG_BYTES else None


def _raw(data: bytes, info: zipfile.ZipInfo) -> bytes | None:
    """The compressed bytes of a stored or deflated part whose local header agrees with the
    directory; None for anything else (the caller then leaves the part to zipfile)."""
    if info.flag_bits & _PLAIN_FLAGS or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return None
    start = info.header_offset
    head = data[start : start + _LOCAL.size]
    if len(head) < _LOCAL.size:
        return None
    magic, flags, name_len, extra_len = _LOCAL.unpack(head)
    name_at = start + _LOCAL.size
    try:
        name = data[name_at : name_at + name_len].decode("utf-8" if flags & 0x800 else "cp437")
    except UnicodeDecodeError:
        return None
    if magic != ZIP_MAGIC or name != info.orig_filename:
        return None
    begin = name_at + name_len + extra_len
    raw = data[begin : begin + info.compress_size]
    return raw if len(raw) == info.compress_size else None


def _whole(data: bytes, info: zipfile.ZipInfo) -> bytes | None:
    """A stored or deflated part whole, inflated straight from ``data`` (zipfile costs more
    than the inflating) and never past its declared size, or None unless it is exactly its
    declared size and CRC: then zipfile reads it, and says what is wrong. _Overflow when it
    inflates past its declared size (checked one byte past it)."""
    raw = _raw(data, info)
    if raw is None:
        return None
    if info.compress_type == zipfile.ZIP_DEFLATED:
        d = zlib.decompressobj(-zlib.MAX_WBITS)
        try:  # max_length 0 would mean no limit: an empty part is asked for one byte, which must not come
            out = d.decompress(raw, info.file_size or 1)
            if len(out) > info.file_size or (not d.eof and d.decompress(d.unconsumed_tail, 1)):
                raise _Overflow(info)  # more than the directory says: never inflated further
        except zlib.error:
            return None
        raw = out
    return raw if len(raw) == info.file_size and zlib.crc32(raw) == info.CRC else None


def _inspect_ole(data: bytes, path: Path) -> Refusal | None:
    """An OLE container is an old .xls, or an .xlsx encrypted with a password to open."""
    if "EncryptionInfo".encode("utf-16-le") in data or "EncryptedPackage".encode("utf-16-le") in data:
        return ("F-ENCRYPTED", {})
    if _cfb_truncated(data):  # calamine panics on some of these instead of returning an error
        return ("F-CORRUPT", {"reason": "内容不完整，可能是没有下载或复制完整", "hint": "请重新发送"})
    if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
        return None  # a legacy .xls workbook: readable
    if "WordDocument".encode("utf-16-le") in data:
        return _not_workbook("是 Word 文档（.doc）改了扩展名")
    return _not_workbook("是旧版 Office 文件")


def _not_workbook(what: str, hint: str = "请发送统计表的 .xlsx 文件") -> Refusal:
    return ("F-NOT-WORKBOOK", {"what": what, "hint": hint})


def _not_a_workbook(sample: bytes) -> Refusal:
    if b"\x00" not in sample:
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = sample.decode(encoding)
            except UnicodeDecodeError:
                continue
            if text.lstrip().lower().startswith(("<html", "<!doctype html", "<?xml")):
                return _not_workbook("是网页或 XML 文本改了扩展名", "请在 Excel/WPS 中另存为 .xlsx")
            return _not_workbook("是文本文件（如 CSV）改了扩展名", "请使用下发的模板填报并保存为 .xlsx")
    if sample.startswith(b"%PDF"):
        return _not_workbook("是 PDF 文件")
    return _not_workbook("的文件格式无法识别（可能已损坏）", "请重新发送 .xlsx 文件")


def _root_starts(head: bytes) -> bool:
    """Whether the root element starts in ``head``, after nothing but the XML declaration,
    processing instructions, comments and whitespace (where a DOCTYPE could hide). Linear."""
    i = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    while True:
        j = head.find(b"<", i)
        if j < 0 or head[i:j].strip():
            return False
        if head.startswith(b"<?", j):
            i = head.find(b"?>", j + 2) + 2
        elif head.startswith(b"<!--", j):
            i = head.find(b"-->", j + 4) + 3
        else:
            return not head.startswith(b"<!", j)
        if i < 3:  # the declaration or comment does not end inside the head
            return False


# --------------------------------------------------------------------------- far-away cells

NEAR_ROWS = 1000
NEAR_COLS = 702  # A … ZZ
MAX_CELLS = 2_000_000
MAX_CELL_TAGS = 500_000
"""calamine holds a sheet as a dense grid from its first to its last cell, 32 bytes a cell: one
cell typed at XFD1048576 would ask for 512 GB and abort the process, one at A1048576 costs
hundreds of MB. xltool reads only the top of each sheet, so before calamine sees a sheet whose
cells lie beyond the first NEAR_ROWS rows or NEAR_COLS columns those cells are cut from a copy;
a sheet whose grid would still exceed MAX_CELLS (cells placed without addresses) is refused."""

_FAR_REF = re.compile(rb"""r\s*=\s*["'](?:[A-Za-z]{3}|[A-Za-z]{0,2}0*[1-9][0-9]{3})""")
_FAR_ROW = re.compile(rb"""<(?:[\w.-]+:)?row(?:\s[^>]*?)?\sr\s*=\s*["']0*[1-9][0-9]{3}""")
_CELL = re.compile(rb"<((?:[\w.-]+:)?c)(?=[\s/>])([^>]*?)(?:/>|>.*?</\1\s*>)", re.S)
_TAG = re.compile(rb"<(?:[\w.-]+:)?(row|c)(?=[\s/>])([^>]*)>")
_REF = re.compile(rb"""(?<![\w:.-])r\s*=\s*["']([A-Za-z]*)([0-9]*)""")


def bound_cells(data: bytes, parts: _Parts | None = None) -> tuple[Refusal | None, bytes]:
    """The zip to hand to calamine: ``data`` itself, or a copy whose sheets have their far-away
    cells cut (see NEAR_ROWS), or a problem when a sheet cannot be bounded. The copy holds the
    parts as checked, uncompressed (``_stored_zip``: calamine does not inflate them a second
    time) with each sheet ending after its cells (``cells_only``), or deflated again when a part
    only zipfile can read or the parts exceed STORED_MAX. ``parts``: what ``_inspect_zip``
    already parsed and inflated (zipfile is then opened only if needed)."""
    inflated = parts.inflated if parts is not None else {}
    opened: list[zipfile.ZipFile] = []

    def zf() -> zipfile.ZipFile:
        if not opened:
            opened.append(zipfile.ZipFile(io.BytesIO(data)))
        return opened[0]

    try:
        infos = parts.infos if parts is not None and parts.infos is not None else zf().infolist()
        changed = {}
        leaner = False
        checked: list[tuple[bytes, int]] | None = []  # every part as calamine will see it, and its CRC
        for i in infos:
            xml = inflated.get(i.header_offset)
            if xml is None:
                xml = _whole(data, i)
            if xml is None:
                if i.file_size == 0:  # an empty part zipfile would have to explain: left as it is
                    checked = None
                    continue
                xml = read_part(zf(), i)
            # every part: calamine finds cells in any part it reads
            sheet = b"sheetData" in xml
            if sheet:
                cut = bounded_sheet(xml)
            elif b"<table:table" in xml:  # OpenDocument: cells repeated by count, not placed
                cut = xml if _ods_extent(xml) <= MAX_CELLS else None
            else:
                cut = xml
            if cut is None:
                return (
                    "F-TOO-LARGE",
                    {
                        "what": f"的部件 {i.filename} 的单元格分布范围",
                        "limit": f"{MAX_CELLS:,} 个单元格",
                        "hint": "请删除表格以外的内容后重新保存",
                    },
                ), data
            if cut is not xml:
                changed[i.filename] = cut
            lean = cells_only(cut) if sheet else cut
            leaner = leaner or lean is not cut
            if checked is not None:  # a part read whole was checked against its CRC
                checked.append((lean, i.CRC if lean is xml else zlib.crc32(lean)))
        if (changed or leaner) and checked is not None and sum(len(c) for c, _ in checked) <= STORED_MAX:
            return None, _stored_zip(infos, checked)  # what calamine reads, checked, inflated once
        if not changed:
            return None, data
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as copy:
            for i in infos:
                copy.writestr(i.filename, changed.get(i.filename) or read_part(zf(), i))
        return None, out.getvalue()
    except _Overflow as over:
        return over.refusal, data
    except zipfile.BadZipFile:
        return ("F-CORRUPT", {"reason": "压缩结构不完整，可能是没有下载或复制完整", "hint": "请重新发送"}), data
    except (OSError, EOFError, RuntimeError, NotImplementedError, ValueError, zlib.error, struct.error) as exc:
        return ("F-CORRUPT", {"reason": f"无法打开：{exc}", "hint": "请重新发送"}), data
    finally:
        for z in opened:
            z.close()


_MERGE_CELLS = re.compile(rb"<mergeCells(?=[\s/>])[^>]*?(?:/>|>.*?</mergeCells\s*>)", re.S)


def cells_only(sheet: bytes) -> bytes:
    """A worksheet as calamine reads it: its head and cells, its merged ranges, and nothing after
    (data validations, conditional formats, page setup: 75 KB of a template's 87 KB 表三, which
    calamine would parse for nothing). ``sheet`` itself when it is not laid out as expected
    (prefixed element names, no closing tags): then calamine reads all of it."""
    end = sheet.rfind(b"</sheetData>")
    close = sheet.rfind(b"</worksheet>")
    if end < 0 or close < end or sheet.find(b"</sheetData>") != end or sheet[close + 12 :].strip():
        return sheet
    end += len(b"</sheetData>")
    if close - end < 64:
        return sheet
    merges = _MERGE_CELLS.search(sheet, end, close)
    return b"".join((sheet[:end], merges.group(0) if merges else b"", sheet[close:]))


STORED_MAX = 16 * MB
"""The copy holds parts up to this size in all uncompressed (storing costs far less than
deflating again). Measured on the benchmark's returns: the whole 140 KB of a return stored cost
more in page faults (glibc serves allocations over 128 KB with fresh pages) than the second
inflation saved calamine; with each sheet ending after its cells the copy is 50 KB, and the
container check plus calamine take 0.12 ms less per file."""

_STORED_LOCAL = struct.Struct("<IHHHHHIIIHH")
_STORED_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")


def _stored_zip(infos: list[zipfile.ZipInfo], contents: list[tuple[bytes, int]]) -> bytes:
    """A zip of ``contents`` under the names of ``infos``, in their order (repeated names too,
    so a reader picks the same part as in the original), every entry stored uncompressed."""
    chunks: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for info, (content, crc) in zip(infos, contents, strict=True):
        name = info.orig_filename.encode()
        size = len(content)
        local = _STORED_LOCAL.pack(0x04034B50, 20, 0x800, 0, 0, 0x21, crc, size, size, len(name), 0)
        chunks += (local, name, content)
        central += (
            _STORED_CENTRAL.pack(
                0x02014B50, 20, 20, 0x800, 0, 0, 0x21, crc, size, size, len(name), 0, 0, 0, 0, 0, offset
            ),
            name,
        )
        offset += len(local) + len(name) + size
    directory = b"".join(central)
    end = _END.pack(0x06054B50, 0, 0, len(infos), len(infos), len(directory), offset, 0)
    return b"".join([*chunks, directory, end])


def bounded_sheet(xml: bytes) -> bytes | None:
    """``xml`` when its cells lie near the top left (the usual case, one regex search), else a
    copy without the cells beyond NEAR_ROWS / NEAR_COLS, or None when it cannot be bounded."""
    start, end = xml.find(b"sheetData"), xml.rfind(b"sheetData")
    if start < 0:
        return xml
    stop = end if end > start else len(xml)
    far = _FAR_REF.search(xml, start, stop)  # no anchors or lookbehind: as on the slice, without copying it
    if not far:
        if _loose_rows_cells(xml, start, stop) <= MAX_CELLS:  # even if every row and cell went without an address
            return xml
        return xml if _extent(xml[start:stop]) <= MAX_CELLS else None
    if end <= start:
        return None  # no closing sheetData: not a sheet calamine reads to the end
    close = xml.rfind(b"<", 0, end)
    row = _FAR_ROW.search(xml, start, close)  # rows come in order: the rest is far away too
    head = xml[: row.start()] if row else xml[:close]
    head = _CELL.sub(_near_cell, head[start:]) if _FAR_REF.search(head, start) else head[start:]
    cut = xml[:start] + head + xml[close:]
    return cut if _extent(head) <= MAX_CELLS else None


def _loose_rows_cells(xml: bytes, start: int, stop: int) -> int:
    """(rows + NEAR_ROWS) × (cells + NEAR_COLS), counting every "row" and "<c"/":c" in
    ``xml[start:stop]``. One-byte counts run first: each "row" holds a "w" and each "<c"/":c" its
    own "c", so when those bounds already fit, the exact counts would fit too."""
    rough = (xml.count(b"w", start, stop) + NEAR_ROWS) * (xml.count(b"c", start, stop) + NEAR_COLS)
    if rough <= MAX_CELLS:
        return rough
    rows = xml.count(b"row", start, stop)
    return (rows + NEAR_ROWS) * (xml.count(b"<c", start, stop) + xml.count(b":c", start, stop) + NEAR_COLS)


def _near_cell(m: re.Match[bytes]) -> bytes:
    refs = _REF.findall(m.group(2))
    if not refs:
        return m.group(0)
    letters, digits = refs[-1]  # calamine takes the last of repeated attributes
    near = len(digits.lstrip(b"0")) <= 3 and len(letters) <= 2
    return m.group(0) if near else b""


def _extent(cells: bytes) -> int:
    """An upper bound of calamine's grid (rows × columns) for the content of a sheetData."""
    max_row = max_col = loose_rows = loose_cells = 0
    for n, m in enumerate(_TAG.finditer(cells)):
        if n > MAX_CELL_TAGS:
            return MAX_CELLS + 1
        refs = _REF.findall(m.group(2))
        if not refs:
            if m.group(1) == b"row":
                loose_rows += 1
            else:
                loose_cells += 1
        for letters, digits in refs:
            digits = digits.lstrip(b"0")
            if len(digits) > 7 or len(letters) > 3:
                return MAX_CELLS + 1
            max_row = max(max_row, int(digits or 0))
            col = 0
            for ch in letters.upper():
                col = col * 26 + ch - 64
            max_col = max(max_col, col)
    return (max_row + loose_rows + 1) * (max_col + loose_cells + 1)


_ODS_TAG = re.compile(rb"<(/?)table:(table-row|table-cell|covered-table-cell|table)(?=[\s/>])([^>]*?)(/?)>")
_REPEATED = re.compile(rb"""number-(?:rows|columns)-repeated\s*=\s*["']\s*([0-9]+)""")


def _ods_extent(xml: bytes) -> int:
    """An upper bound of calamine's grid for the largest table of an OpenDocument content.xml:
    rows and cells repeated by count (LibreOffice repeats empty ones to the sheet's end; a
    repeated cell with a value is what fills memory)."""
    largest = rows = cols = row = col = 0
    row_repeat, row_used = 1, False
    for n, m in enumerate(_ODS_TAG.finditer(xml)):
        if n > MAX_CELL_TAGS:
            return MAX_CELLS + 1
        closing, name, attrs, empty = m.groups()
        repeat = _REPEATED.search(attrs)
        count = int(repeat.group(1)[-9:]) if repeat else 1
        if name == b"table":
            largest = max(largest, rows * cols)
            rows = cols = row = 0
        elif name == b"table-row" and not closing:
            row_repeat, row_used, col = count, False, 0
        if name == b"table-row" and (closing or empty):
            if row_used:
                rows = max(rows, row + row_repeat)
            row += row_repeat
        elif name != b"table-row" and name != b"table" and not closing:
            if not empty or b"value" in attrs:
                row_used, cols = True, max(cols, col + count)
            col += count
    return max(largest, rows * cols)


_END_OF_SECTORS = 0xFFFFFFFA  # values from here up mark free, end-of-chain and table sectors


def _cfb_truncated(data: bytes) -> bool:
    """Whether an OLE compound file's header or allocation table points at sectors the file does
    not have in full: a file cut short, or cut in the middle, in transfer."""
    try:
        shift = struct.unpack_from("<H", data, 30)[0]
        if shift not in (9, 12):
            return True
        size = 1 << shift
        sectors = len(data) // size - 1  # whole sectors after the header, which takes one
        n_fat, first_dir = struct.unpack_from("<II", data, 44)
        first_difat, n_difat = struct.unpack_from("<II", data, 68)
        fat = list(struct.unpack_from("<109I", data, 76))
        next_difat = first_difat
        for _ in range(min(n_difat, sectors)):  # the rest of the list of FAT sectors, in a chain
            if next_difat >= sectors:
                return True
            *more, next_difat = struct.unpack_from(f"<{size // 4}I", data, (next_difat + 1) * size)
            fat += more
        fat = [s for s in fat if s < _END_OF_SECTORS][:n_fat]
        if len(fat) < n_fat or first_dir >= sectors or any(s >= sectors for s in fat):
            return True
        for s in fat:
            entries = struct.unpack_from(f"<{size // 4}I", data, (s + 1) * size)
            if any(sectors <= e < _END_OF_SECTORS for e in entries):
                return True
    except struct.error:
        return True
    return False


# --------------------------------------------------------------------------- other Office zips


def inspect_document_zip(data: bytes, limits: Limits | None = None) -> Refusal | None:
    """The container checks of ``read_container`` for a zip that is not a workbook (a Word .docx):
    the file size, entries, declared sizes and ratios as for a workbook, every part inflating to no
    more than its declared size (so that ``ZipFile.read`` of it is bounded), and no DOCTYPE/ENTITY
    at the head of any XML part. None when the zip is safe to open (whatever its parts are)."""
    limits = limits or Limits.from_env()
    if len(data) > limits.max_file_bytes:
        return (
            "F-TOO-LARGE",
            {
                "what": f"的文件大小 {len(data) / MB:.1f} MB",
                "limit": f"{limits.max_file_bytes / MB:.0f} MB",
                "hint": "请删去图片等多余内容后重新保存",
            },
        )
    problem = _inspect_zip(data, limits)
    if problem is None or problem[0] != "F-NOT-WORKBOOK":
        return problem  # a workbook's zip, checked in full, or the problem the checks found
    # the sizes passed; _inspect_zip stopped at "not a workbook" before looking at the parts' heads
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for i in zf.infolist():
                if not (i.filename.endswith(".xml") or i.filename.endswith(".rels")):
                    continue
                prolog = _prolog(data, i)
                if prolog is None:
                    with zf.open(i) as part:
                        prolog = part.read(PROLOG_BYTES)
                problem = _entities(i.filename, prolog)
                if problem is not None:
                    return problem
    except zipfile.BadZipFile:
        return ("F-CORRUPT", {"reason": "压缩结构不完整，可能是没有下载或复制完整", "hint": "请重新发送"})
    except (OSError, EOFError, RuntimeError, NotImplementedError, ValueError, zlib.error) as exc:
        return ("F-CORRUPT", {"reason": f"无法打开：{exc}", "hint": "请重新发送"})
    return None
