"""Read one returned file, whatever it is: an xltool workbook, a workbook a unit made itself, or a
document (web page, Word file, PDF, text). The kind is told by the file's extension; every path ends
in a ``ReturnRecord``, never in an exception for a bad file."""

from __future__ import annotations

import hashlib
import os
import sys
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path

from xltool.definition import Format, known_formats
from xltool.findings import Finding
from xltool.model import ReturnRecord, display_path
from xltool.read.bounds import over_memory
from xltool.read.convert import CONVERTED_SUFFIXES
from xltool.read.from_document import ReadOptions, fill_from_document
from xltool.read.safety import MB, Limits
from xltool.read.sources import DOCUMENT_SUFFIXES, ZIP_MAGIC
from xltool.read.workbook import Unreadable, read_workbook, short_reason


def read_return(
    path: Path,
    file: str | None = None,
    formats: Mapping[str, Format] | None = None,
    options: ReadOptions | None = None,
) -> ReturnRecord:
    """Read one returned file: an xltool workbook, or any source whose tables carry the format's
    labels (a workbook a unit made itself, a Word file, a web page). Never raises for a bad file:
    problems become findings.

    ``formats``: the definitions a file may be in, by id (default: the builtin ones); a definition
    loaded from a file is passed here to read the templates drawn from it. ``options``: how
    documents are read (``ReadOptions``)."""
    path = Path(path)
    rec = ReturnRecord(path=path, file=file if file is not None else display_path(path))
    formats = known_formats() if formats is None else formats
    try:
        READERS[kind_of(path)](rec, formats, options)
    except BaseException as exc:  # a bad file must not stop the batch; no traceback reaches the clerk
        if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
            raise  # KeyboardInterrupt and the like; a PanicException is calamine failing on the file
        if not isinstance(exc, Unreadable) and os.environ.get("XLTOOL_DEBUG") == "1":
            # for the developer: the whole traceback on stderr; the clerk still gets one finding
            print(f"XLTOOL_DEBUG：读取“{path}”时出错：", file=sys.stderr)
            traceback.print_exception(exc, file=sys.stderr)
        rec.values = dict.fromkeys(rec.format.cells) if rec.format else {}
        rec.formula_lost = set()
        if isinstance(exc, MemoryError):  # over the worker's memory limit (``isolate``)
            rec.findings.append(over_memory(rec.file, path.name))
            return rec
        hint = "请在 Excel 中打开并另存为 .xlsx 后重新报送"
        detail = ""
        if isinstance(exc, Unreadable):
            reason, hint, detail = exc.reason, exc.hint, exc.detail
        elif type(exc).__module__ in ("python_calamine", "pyo3_runtime"):  # a part calamine cannot parse
            reason, detail = "已损坏，有部分内容无法解析", short_reason(exc)
        else:
            reason, detail = "读取失败，程序未能处理该文件", f"{type(exc).__name__}: {short_reason(exc)}"
        rec.findings.append(
            Finding.for_file(
                rec.file,
                "F-UNREADABLE",
                identity=rec.identity,
                name=path.name,
                reason=reason,
                hint=hint,
                library_text=detail,
            )
        )
    return rec


def read_document_file(rec: ReturnRecord, formats: Mapping[str, Format], options: ReadOptions | None = None) -> None:
    """A web page or a Word file: its size bounded before it is read, its tables placed by label."""
    from xltool.read.sources import SourceError, max_document_bytes, read_document

    name = rec.path.name
    rec.size = rec.path.stat().st_size
    limit = min(max_document_bytes(), Limits.from_env().max_file_bytes)
    if _too_large(rec, rec.size, limit, "请删去图片等多余内容后重新保存"):
        return
    data = rec.path.read_bytes()
    rec.size, rec.sha256 = len(data), hashlib.sha256(data).hexdigest()
    try:
        doc = read_document(rec.path, data, rec.file)
    except SourceError as exc:
        rec.findings.append(Finding.refused(rec.file, exc))
        return
    if not fill_from_document(rec, doc, formats, options):
        rec.findings.append(
            Finding.for_file(
                rec.file,
                "D-TABLE-MISSING",
                document=f"“{name}”",
                table="统计表",
                title="表二、表三、表四的表头和行名",
                hidden=f"；另有 {doc.hidden_tables} 个隐藏的表格（网页中设为不显示的内容或 Word 的隐藏文字）未读取"
                if doc.hidden_tables
                else "",
                hint="；请提供含有统计表的年度报告",
            )
        )


def read_old_file(rec: ReturnRecord, formats: Mapping[str, Format], options: ReadOptions | None = None) -> None:
    """A .doc, .wps, .et or .rtf: an old binary office file is converted by LibreOffice (``convert``)
    and the copy read, the record keeping the original's size and SHA-256, with D-CONVERTED saying so;
    without LibreOffice, F-UNSUPPORTED. One that is really something else (a web page saved as .doc, a
    .docx renamed) is read as what it is."""
    from xltool.read.convert import CONVERTED, OLD_KINDS, ConversionFailed, converted, soffice
    from xltool.read.sources import OLE_MAGIC

    path, name = rec.path, rec.path.name
    suffix = path.suffix.lower()
    target = CONVERTED[suffix]
    with path.open("rb") as fh:
        head = fh.read(8)
    if not head.startswith((OLE_MAGIC, b"{\\rtf")):
        READERS["workbook" if head.startswith(ZIP_MAGIC) and target == "xlsx" else "document"](rec, formats, options)
        return
    what, hint = OLD_KINDS[suffix]
    program = soffice()
    if program is None:
        hint += "（装有 LibreOffice 时 xltool 会自动转换后读取）"
        rec.findings.append(Finding.for_file(rec.file, "F-UNSUPPORTED", name=name, what=what, hint=hint))
        return
    size = path.stat().st_size
    if _too_large(rec, size, Limits.from_env().max_file_bytes, hint):
        return
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    try:
        with converted(path, program) as copy:
            rec.path = copy
            try:
                READERS["workbook" if target == "xlsx" else "document"](rec, formats, options)
            finally:
                rec.path = path
    except ConversionFailed as exc:
        raise Unreadable(exc.reason, hint) from None
    rec.size, rec.sha256 = size, sha256
    rec.findings.insert(
        0, Finding.for_file(rec.file, "D-CONVERTED", identity=rec.identity, name=name, what=what, target=f".{target}")
    )


Reader = Callable[[ReturnRecord, Mapping[str, Format], "ReadOptions | None"], None]

READERS: dict[str, Reader] = {"document": read_document_file, "workbook": read_workbook, "convert": read_old_file}
"""How each kind of file is read: a plain dict, by the kind ``kind_of`` tells from the extension."""


def kind_of(path: Path) -> str:
    """ "document" for a web page, Word file, PDF or text; "convert" for an old office file LibreOffice
    converts first; "workbook" for everything else (the container check then says what a file that is
    neither really is)."""
    suffix = path.suffix.lower()
    if suffix in DOCUMENT_SUFFIXES:
        return "document"
    return "convert" if suffix in CONVERTED_SUFFIXES else "workbook"


def _too_large(rec: ReturnRecord, size: int, limit: int, hint: str) -> bool:
    """F-TOO-LARGE for a file over ``limit`` bytes, judged before it is read; whether it was."""
    if size <= limit:
        return False
    rec.findings.append(
        Finding.for_file(
            rec.file,
            "F-TOO-LARGE",
            name=rec.path.name,
            what=f"有 {size / MB:.1f} MB",
            limit=f"{limit / MB:.0f} MB",
            hint=hint,
        )
    )
    return True
