"""What one file's reading may use (memory added to its process, wall-clock seconds), and the finding
for a read that ran out of memory. Shared by ``dispatch`` (which turns a MemoryError into that finding)
and ``isolate`` (which sets the limits in its workers and replaces one that ran out)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from xltool.findings import Finding
from xltool.read.safety import MB, env_int

HINT = "文件可能已损坏或被恶意构造；请对方重新保存或导出后再报送"


@dataclass(frozen=True)
class ReadLimits:
    """What one file's reading may use: memory it may add to its worker, and wall-clock seconds."""

    memory_bytes: int = 256 * MB
    seconds: int = 5

    @classmethod
    def from_env(cls) -> ReadLimits:
        return cls(
            memory_bytes=max(0, env_int("XLTOOL_MAX_READ_MB", 256)) * MB,
            seconds=max(0, env_int("XLTOOL_MAX_READ_SECONDS", 5)),
        )


_breached = False
"""Set when a read ran out of memory (``over_memory``): a worker is then replaced (``isolate``)."""


def reset_breach() -> None:
    global _breached
    _breached = False


def breached() -> bool:
    """Whether a read ran out of memory since ``reset_breach``."""
    return _breached


def over_memory(file: str, name: str) -> Finding:
    """The finding for a read that ran out of memory (a MemoryError under the worker's limit)."""
    global _breached
    _breached = True
    limit = ReadLimits.from_env().memory_bytes
    return Finding.for_file(
        file,
        "F-TOO-LARGE",
        name=name,
        what="读取时所需的内存",
        limit=f"{limit / MB:.0f} MB（一份年度报告通常不到 50 MB）" if limit else "本机可用内存",
        hint=HINT,
    )


_asked: Callable[[float], None] | None = None
"""How a worker tells its watchdog that the file it reads needs more time (``isolate`` sets it)."""


def on_more_time(callback: Callable[[float], None] | None) -> None:
    global _asked
    _asked = callback


def need_seconds(seconds: float) -> None:
    """The file being read needs up to ``seconds`` from now (OCR of a scan, itself bounded by the
    reader): the watchdog of an isolated read waits that long instead of ``ReadLimits.seconds``."""
    if _asked is not None:
        _asked(seconds)


_more_memory: Callable[[int], None] | None = None
"""How a worker lets the file it reads use more memory (``isolate`` sets it)."""


def on_more_memory(callback: Callable[[int], None] | None) -> None:
    global _more_memory
    _more_memory = callback


def need_memory(extra: int) -> None:
    """The file being read needs ``extra`` bytes more than the worker uses now (OCR's models and
    their buffers, a named limit of ``scan``): an isolated worker's cap is set to that."""
    if _more_memory is not None:
        _more_memory(extra)


_readers_at_once = 1
"""How many files are read at the same time (``isolate`` sets it in each of its workers)."""


def share_cores(readers: int) -> None:
    """``readers`` files are read at once: each takes its share of the cores (``cores``)."""
    global _readers_at_once
    _readers_at_once = max(1, readers)


def cores() -> int:
    """The threads a CPU-heavy reader (OCR) may use: XLTOOL_OCR_THREADS, else this process's share
    of the machine's cores. Measured on 2 cores: a page in 2.9 s on two threads when reading one
    scan alone, 5.0 s on one; two scans at once on two threads each take 2-3 times as long."""
    try:
        return max(1, int(os.environ["XLTOOL_OCR_THREADS"]))
    except (KeyError, ValueError):
        return max(1, (os.cpu_count() or 1) // _readers_at_once)
