"""Turn any file a unit sends (a web page, a Word file, a workbook that is not an xltool template)
into a ``xltool.read.document.Document``: its tables as grids of cell texts, nothing else decided.

What a file is comes from its content first (a .doc that is really a web page, an .xls that is a
zip), its suffix only where the content cannot tell. Whatever cannot be read safely becomes one
``SourceError`` with a stable code (``xltool.catalogue``, group F) and a Chinese message naming the file,
never a traceback.

Limits: a web page or a Word document's text part over ``XLTOOL_MAX_DOCUMENT_MB`` (20 MB) is
refused; the whole file obeys ``XLTOOL_MAX_FILE_MB`` like a workbook; ``MAX_TABLES`` and
``MAX_CELLS`` bound what one document may hold.
"""

from __future__ import annotations

from pathlib import Path

from xltool.errors import os_reason
from xltool.read.document import Document
from xltool.read.sources.limits import (
    MAX_CELLS,
    MAX_TABLES,
    MAX_TEXT,
    MB,
    SourceError,
    max_document_bytes,
    refuse,
    too_large,
)

HTML_SUFFIXES = (".html", ".htm", ".xhtml", ".mht", ".mhtml")
DOCX_SUFFIXES = (".docx", ".docm")
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
PDF_SUFFIXES = (".pdf",)
TEXT_SUFFIXES = (".txt", ".md", ".markdown")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
"""A scanned page given as an image: read by OCR (``scan``) when named, not when found in a folder."""
DOCUMENT_SUFFIXES = HTML_SUFFIXES + DOCX_SUFFIXES + PDF_SUFFIXES + TEXT_SUFFIXES + IMAGE_SUFFIXES
"""Files read only as documents (a workbook is first tried as a template: ``WORKBOOK_SUFFIXES``)."""
SOURCE_SUFFIXES = DOCUMENT_SUFFIXES + WORKBOOK_SUFFIXES


def read_document(path: Path, data: bytes, file: str) -> Document:
    """Read ``data`` (the bytes of ``path``, shown as ``file`` in messages) into a Document.

    A workbook's bytes must have passed ``xltool.read.safety.read_container`` (as reader.py does); a
    Word file's zip is checked here. Raises SourceError for anything that cannot be read."""
    name = Path(path).name
    kind = sniff(data, Path(path).suffix.lower())
    if kind in ("html", "mht"):
        from xltool.read.sources.html import read_html, read_mht

        return read_html(data, file, name) if kind == "html" else read_mht(data, file, name)
    if kind == "docx":
        from xltool.read.sources.docx import read_docx

        return read_docx(data, file, name)
    if kind == "pdf":
        from xltool.read.sources.pdf import read_pdf

        return read_pdf(data, file, name)
    if kind == "image":
        from xltool.read.sources.scan import read_image

        return read_image(data, file, name)
    if kind == "text":
        from xltool.read.sources.text import read_text

        return read_text(data, file, name)
    if kind == "workbook":
        from xltool.read.sources.sheets import read_sheets

        return read_sheets(data, file, name)
    raise _refusal(kind, name, data)


def read_path(path: Path, file: str | None = None) -> Document:
    """Read the file at ``path`` (shown as ``file``): its size is checked before it is read, a
    workbook goes through ``xltool.read.safety.read_container`` first. Raises SourceError."""
    from xltool.read.safety import read_container

    path = Path(path)
    file = file if file is not None else str(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise refuse(
            "F-UNREADABLE", path.name, reason=os_reason(exc), hint=_CHECK_FILE, library_text=str(exc)
        ) from None
    if head.startswith((ZIP_MAGIC, OLE_MAGIC)) or path.suffix.lower() in WORKBOOK_SUFFIXES:
        refusal, data, *_ = read_container(path)  # the workbook checks (size, zip, far-away cells)
        if refusal is not None and refusal[0] != "F-NOT-WORKBOOK":
            raise refuse(refusal[0], path.name, **refusal[1])
        if refusal is not None and not data:  # not a workbook: a Word file, or a page named .xls
            data = path.read_bytes()
        return read_document(path, data, file)
    limit = max_document_bytes()
    if size > limit:
        raise too_large(path.name, size, limit)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise refuse(
            "F-UNREADABLE", path.name, reason=os_reason(exc), hint=_CHECK_FILE, library_text=str(exc)
        ) from None
    return read_document(path, data, file)


ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def sniff(data: bytes, suffix: str = "") -> str:
    """What ``data`` is: "html", "mht", "docx", "workbook", "pdf", "image" (PNG, JPEG), "text" (a .txt that is no page), or
    the catalogue code of its refusal. Content decides; the suffix only breaks ties (a zip too broken to
    list its parts)."""
    if not data:
        return "F-EMPTY"
    if data.startswith(ZIP_MAGIC):
        return _zip_kind(data, suffix)
    if data.startswith(OLE_MAGIC):
        if "EncryptionInfo".encode("utf-16-le") in data or "EncryptedPackage".encode("utf-16-le") in data:
            return "F-ENCRYPTED"
        if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
            return "workbook"
        return "F-NOT-DOCUMENT"
    if data[:1024].lstrip().startswith(b"%PDF"):
        return "pdf"
    if data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
        return "image"
    head = _head_text(data[:4096])
    if head is None:
        return "F-NOT-DOCUMENT"
    low = head.lstrip().lower()
    if low.startswith(
        ("mime-version:", "from:", "content-type:", "x-mimeole", "subject:", "date:", "message-id:")
    ) and ("multipart/related" in low or "text/html" in low):
        return "mht"
    if "<html" in low or "<table" in low or low.startswith("<!doctype html") or "<body" in low:
        return "html"
    if suffix in HTML_SUFFIXES and low.startswith("<"):
        return "html"
    if suffix in TEXT_SUFFIXES:
        return "text"
    return "F-NOT-DOCUMENT"


def _head_text(sample: bytes) -> str | None:
    """The head of a text file (any encoding a page is saved in), or None for binary data."""
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return sample.decode("utf-16", "ignore")
    if b"\x00" in sample:
        return None
    return sample.decode("utf-8", "ignore") or sample.decode("gb18030", "ignore")


def _zip_kind(data: bytes, suffix: str) -> str:
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError):
        return "F-CORRUPT"
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names or "content.xml" in names:
        return "workbook"
    return "F-NOT-DOCUMENT"


_CHECK_FILE = "请确认文件存在、可以打开后重新发送"


def _refusal(code: str, name: str, data: bytes) -> SourceError:
    """Why ``data`` (sniffed as ``code``) is not read, worded from the catalogue."""
    if code == "F-EMPTY":
        return refuse(code, name)
    if code == "F-CORRUPT":
        return refuse(code, name, reason="压缩结构不完整，可能是没有下载或复制完整", hint="请重新发送")
    if code == "F-ENCRYPTED":
        return refuse(code, name)
    if data.startswith(b"%PDF"):
        what, hint = "是 PDF 文件", "请提供 Word 或网页版本"
    elif data.startswith(OLE_MAGIC) and "WordDocument".encode("utf-16-le") in data:
        what, hint = "是旧版 Word 文档（.doc）", "请在 Word/WPS 中另存为 .docx"
    elif data.startswith(ZIP_MAGIC):
        what, hint = "是压缩包", "请解压后提供其中的 Word 文档、网页或工作簿"
    else:
        what, hint = "无法识别", "请提供 Word 文档（.docx）或网页（.html）"
    return refuse(code, name, what=what, hint=hint)


__all__ = [
    "MAX_CELLS",
    "MAX_TABLES",
    "MAX_TEXT",
    "MB",
    "max_document_bytes",
    "too_large",
    "DOCUMENT_SUFFIXES",
    "IMAGE_SUFFIXES",
    "SOURCE_SUFFIXES",
    "WORKBOOK_SUFFIXES",
    "SourceError",
    "read_document",
    "read_path",
    "sniff",
]
