"""Look at a file's container before any spreadsheet library decompresses or parses it.

Returned workbooks come by e-mail and USB stick; some are broken, some are not what their name
says, a few may be hostile. This module reads only the zip directory and a few bytes, and
says in Chinese what the file is when it is not a workbook we can safely open.

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

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
MB = 1024 * 1024


def _env_int(name: str, default: int) -> int:
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
            max_file_bytes=_env_int("XLTOOL_MAX_FILE_MB", 50) * MB,
            max_entries=_env_int("XLTOOL_MAX_ENTRIES", 2000),
            max_uncompressed_bytes=_env_int("XLTOOL_MAX_UNCOMPRESSED_MB", 200) * MB,
            max_ratio=_env_int("XLTOOL_MAX_RATIO", 200),
        )


@dataclass(frozen=True)
class Problem:
    """Why a file must not be opened: a stable code and a Chinese message."""

    code: str
    message: str


def inspect_container(path: Path, limits: Limits | None = None) -> Problem | None:
    """None when the file looks like a workbook that is safe to open, else the problem."""
    limits = limits or Limits.from_env()
    try:
        size = path.stat().st_size
        if size == 0:
            return Problem("F-EMPTY", "文件是空的（0 字节），请重新导出或重新发送")
        if size > limits.max_file_bytes:
            return Problem(
                "F-TOO-LARGE",
                f"文件大小 {size / MB:.1f} MB，超过上限 {limits.max_file_bytes / MB:.0f} MB（一份填好的统计表约 20 KB）；"
                "请删除表中的图片或多余内容后重新保存",
            )
        with path.open("rb") as fh:
            head = fh.read(8)
            if head.startswith(ZIP_MAGIC):
                return _inspect_zip(path, limits)
            if head == OLE_MAGIC:
                fh.seek(0)
                return _inspect_ole(fh.read(), path)
            fh.seek(0)
            sample = fh.read(4096)
    except OSError as exc:
        return Problem("F-UNREADABLE", f"无法读取文件：{exc.strerror or exc}")
    return _not_a_workbook(sample)


def _inspect_zip(path: Path, limits: Limits) -> Problem | None:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > limits.max_entries:
                return Problem(
                    "F-BOMB", f"压缩包内有 {len(infos)} 个部件，超过上限 {limits.max_entries}，疑似恶意文件，未打开"
                )
            total = sum(i.file_size for i in infos)
            if total > limits.max_uncompressed_bytes:
                return Problem(
                    "F-BOMB",
                    f"文件解压后共 {total / MB:.0f} MB，超过上限 {limits.max_uncompressed_bytes / MB:.0f} MB，疑似压缩炸弹，未打开",
                )
            for i in infos:
                if i.file_size > MB and i.file_size > limits.max_ratio * max(i.compress_size, 1):
                    return Problem(
                        "F-BOMB",
                        f"部件 {i.filename} 压缩比 {i.file_size // max(i.compress_size, 1)}:1，超过上限 {limits.max_ratio}:1，疑似压缩炸弹，未打开",
                    )
            names = {i.filename for i in infos}
            if "xl/workbook.xml" not in names and "content.xml" not in names:
                if "word/document.xml" in names:
                    return Problem(
                        "F-NOT-WORKBOOK",
                        "这是 Word 文档（.docx）改了扩展名，不是 Excel 工作簿；请发送统计表的 .xlsx 文件",
                    )
                if "ppt/presentation.xml" in names:
                    return Problem("F-NOT-WORKBOOK", "这是 PowerPoint 演示文稿改了扩展名，不是 Excel 工作簿")
                return Problem("F-NOT-WORKBOOK", "这是一个压缩包，不是 Excel 工作簿")
            for i in infos:
                if i.filename.endswith(".xml") or i.filename.endswith(".rels"):
                    with zf.open(i) as part:
                        prolog = part.read(2048)
                    if b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
                        return Problem(
                            "F-XML-ENTITY",
                            f"部件 {i.filename} 含有 XML 实体声明（正常的工作簿没有），疑似恶意文件，未打开",
                        )
    except zipfile.BadZipFile:
        return Problem("F-CORRUPT", "文件已损坏（压缩结构不完整，可能是没有下载或复制完整），请重新发送")
    except (OSError, EOFError, RuntimeError, NotImplementedError) as exc:
        return Problem("F-CORRUPT", f"文件已损坏，无法打开：{exc}")
    return None


def _inspect_ole(data: bytes, path: Path) -> Problem | None:
    """An OLE container is an old .xls, or an .xlsx encrypted with a password to open."""
    if "EncryptionInfo".encode("utf-16-le") in data or "EncryptedPackage".encode("utf-16-le") in data:
        return Problem("F-ENCRYPTED", "文件设置了打开密码，无法读取；请在 Excel/WPS 中去掉打开密码后重新保存为 .xlsx")
    if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
        return None  # a legacy .xls workbook: readable
    if "WordDocument".encode("utf-16-le") in data:
        return Problem("F-NOT-WORKBOOK", "这是 Word 文档（.doc）改了扩展名，不是 Excel 工作簿")
    return Problem("F-NOT-WORKBOOK", "这是旧版 Office 文件，但不是 Excel 工作簿")


def _not_a_workbook(sample: bytes) -> Problem:
    if b"\x00" not in sample:
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = sample.decode(encoding)
            except UnicodeDecodeError:
                continue
            if text.lstrip().lower().startswith(("<html", "<!doctype html", "<?xml")):
                return Problem(
                    "F-NOT-WORKBOOK", "这是网页或 XML 文本改了扩展名，不是 Excel 工作簿；请在 Excel/WPS 中另存为 .xlsx"
                )
            return Problem(
                "F-NOT-WORKBOOK",
                "这是文本文件（如 CSV）改了扩展名，不是 Excel 工作簿；请使用下发的模板填报并保存为 .xlsx",
            )
    if sample.startswith(b"%PDF"):
        return Problem("F-NOT-WORKBOOK", "这是 PDF 文件，不是 Excel 工作簿；请发送统计表的 .xlsx 文件")
    return Problem("F-NOT-WORKBOOK", "无法识别的文件格式，不是 Excel 工作簿（可能已损坏）；请重新发送 .xlsx 文件")
