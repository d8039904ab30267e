"""The few exceptions that stop a run. Problems with a returned workbook are findings, not these."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from xltool.validate import Validation


class XltoolError(Exception):
    "Base of everything xltool raises on purpose; the CLI prints its message and exits 2."


class DefinitionError(XltoolError):
    "A statutory format definition is malformed; the message names the file and key."


class RosterError(XltoolError):
    "A roster file cannot be read or has a bad row; the message names the file and line."


class UsageError(XltoolError):
    "The arguments cannot be acted on (no such path, no workbook found, output equals input)."


class OutputExists(UsageError):
    "An output would replace a file and replacing was not asked for; ``paths``: the files in the way."

    def __init__(self, message: str, paths: list[str] | None = None):
        super().__init__(message)
        self.paths = paths or []


class ConsolidationRefused(XltoolError):
    "Consolidation would be wrong (invalid or duplicate returns); nothing was written."


class PublishRefused(XltoolError):
    "A return to publish has errors: nothing was written; ``validation`` holds the findings to show."

    def __init__(self, message: str, validation: Validation | None = None):
        super().__init__(message)
        self.validation = validation


class InvalidArgument(UsageError, ValueError):
    "A library call names something the definition does not have: a cell id, a cover field, a cell kind, an A1 address."


class IdentityError(XltoolError, ValueError):
    "A workbook's hidden identification cannot be read; the reader turns it into an F-IDENT finding."


class InternalError(XltoolError, RuntimeError):
    "xltool contradicts itself (a bug): the message says where; please report it."


class UnknownCode(XltoolError, KeyError):
    "A finding code that the catalogue does not list."

    def __str__(self) -> str:  # KeyError would show the message quoted
        return str(self.args[0]) if self.args else ""


class MessageFieldsError(XltoolError, TypeError):
    "A catalogue message template was given a missing or unexpected field (a programming error)."


_OS_REASONS = {
    "ENOENT": "文件或文件夹不存在",
    "ENOTDIR": "路径中有一部分是文件而不是文件夹",
    "EISDIR": "这是文件夹，不是文件",
    "EACCES": "没有权限（文件可能正在 Excel/WPS 中打开）",
    "EPERM": "没有权限（文件可能正在 Excel/WPS 中打开）",
    "ENOSPC": "磁盘已满",
    "EDQUOT": "磁盘配额已满",
    "EROFS": "磁盘是只读的",
    "EEXIST": "已有同名的文件",
    "ENAMETOOLONG": "文件名太长",
    "EADDRINUSE": "端口已被占用",
    "EADDRNOTAVAIL": "本机没有这个地址",
    "EIO": "读写磁盘出错",
    "EMFILE": "打开的文件太多",
    "EBUSY": "文件正被其他程序使用",
}


def os_reason(exc: BaseException) -> str:
    """Why a file, folder or socket operation failed, in Chinese: never the system's English text
    (an error without a known cause is named by its number)."""
    import errno

    cause = exc if isinstance(exc, OSError) else exc.__context__
    if isinstance(cause, OSError) and cause.errno is not None:
        name = errno.errorcode.get(cause.errno, "")
        return _OS_REASONS.get(name, f"系统错误（代码 {cause.errno}）")
    return "系统错误"
