"""Old office files (.doc, .wps, .et, .rtf) converted by headless LibreOffice, then read like any file.

LibreOffice runs with its own profile, in a temporary folder that also holds a copy of the file (the
original is never opened by it), under a time limit, on a file no larger than the workbook limit.
Without LibreOffice (or when ``XLTOOL_SOFFICE`` is ``0``), nothing is converted and the file gets
F-UNSUPPORTED with the advice to save it as .docx / .xlsx.

``XLTOOL_SOFFICE``: the soffice program to use (default: ``soffice`` or ``libreoffice`` on the PATH,
then LibreOffice's usual Windows folder); ``0`` turns conversion off. ``XLTOOL_CONVERT_SECONDS``: the
time limit of one conversion (default 120: the first start of a fresh profile is the slowest).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from xltool.errors import XltoolError
from xltool.read.safety import env_int

CONVERTED = {".doc": "docx", ".wps": "docx", ".rtf": "docx", ".et": "xlsx"}
"""Suffix -> what LibreOffice makes of it (a Word document or a workbook)."""
CONVERTED_SUFFIXES = tuple(CONVERTED)

OLD_KINDS = {
    ".doc": ("是旧版 Word 文档（.doc）", "请在 Word/WPS 中另存为 .docx 后重新报送"),
    ".wps": ("是 WPS 文字文件（.wps）", "请在 WPS 中另存为 .docx 后重新报送"),
    ".rtf": ("是 RTF 文档（.rtf）", "请在 Word/WPS 中另存为 .docx 后重新报送"),
    ".et": ("是 WPS 表格文件（.et）", "请在 WPS 中另存为 .xlsx 后重新报送"),
}
"""What each converted kind is, and what to do when it cannot be converted."""

_WINDOWS_SOFFICE = (
    Path(os.environ.get("ProgramFiles", r"C:\Program Files")) / "LibreOffice" / "program" / "soffice.exe",
    Path(os.environ.get("ProgramFiles(x86)", r"C:\Program Files (x86)")) / "LibreOffice" / "program" / "soffice.exe",
)


class ConversionFailed(XltoolError):
    """LibreOffice did not make the file: ``reason`` in Chinese."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def soffice() -> str | None:
    """The soffice program conversions run, or None (not installed, or turned off)."""
    given = os.environ.get("XLTOOL_SOFFICE")
    if given is not None:
        return None if given.strip() in ("", "0") else given
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found:
        return found
    if sys.platform == "win32":
        return next((str(p) for p in _WINDOWS_SOFFICE if p.is_file()), None)
    return None


def timeout_seconds() -> int:
    return env_int("XLTOOL_CONVERT_SECONDS", 120)


@contextmanager
def converted(path: Path, program: str) -> Iterator[Path]:
    """The file at ``path`` converted to .docx or .xlsx (by its suffix, ``CONVERTED``), in a temporary
    folder removed afterwards. The made file is named like the original (a finding about it names the
    file the unit sent); its content is the new format. Raises ConversionFailed."""
    target = CONVERTED[path.suffix.lower()]
    with tempfile.TemporaryDirectory(prefix="xltool-convert-") as tmp:
        work = Path(tmp)
        source, out, profile = work / "in", work / "out", work / "profile"
        for folder in (source, out, profile):
            folder.mkdir()
        copy = source / f"file{path.suffix.lower()}"  # an ASCII name: soffice's command line on any PC
        shutil.copyfile(path, copy)
        command = [
            program,
            f"-env:UserInstallation={profile.resolve().as_uri()}",
            "--headless",
            "--norestore",
            "--nologo",
            "--nodefault",
            "--nolockcheck",
            "--convert-to",
            target,
            "--outdir",
            str(out),
            str(copy),
        ]
        _run(command, work)
        made = out / f"file.{target}"
        if not made.is_file() or made.stat().st_size == 0:
            raise ConversionFailed("LibreOffice 没有生成转换后的文件，文件可能已损坏或设置了打开密码")
        named = out / path.name
        made.rename(named)
        yield named


def _run(command: list[str], cwd: Path) -> None:
    """Run soffice under the time limit; on timeout its whole process group is ended."""
    seconds = timeout_seconds()
    options: dict[str, object] = {}
    if sys.platform == "win32":
        options["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.CREATE_NO_WINDOW  # type: ignore[attr-defined,unused-ignore]
    else:
        options["start_new_session"] = True
    try:
        proc = subprocess.Popen(  # noqa: S603 - the program is LibreOffice, the arguments are ours
            command,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "HOME": str(cwd)},
            **options,  # type: ignore[call-overload]
        )
    except OSError as exc:
        raise ConversionFailed(f"无法启动 LibreOffice：{exc.strerror or type(exc).__name__}") from None
    try:
        code = proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        _kill(proc)
        raise ConversionFailed(f"LibreOffice 转换超过 {seconds} 秒，已停止") from None
    if code != 0:
        raise ConversionFailed(f"LibreOffice 转换失败（退出码 {code}）")


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if sys.platform == "win32":
        subprocess.run(  # noqa: S603,S607 - end the tree soffice started
            ["taskkill", "/F", "/T", "/PID", str(proc.pid)], capture_output=True, check=False
        )
    else:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.kill()
    proc.wait()


__all__ = ["CONVERTED", "CONVERTED_SUFFIXES", "OLD_KINDS", "ConversionFailed", "converted", "soffice"]
