"""Read files where memory and time are bounded, whatever a parser does with them.

The cheap pre-checks (``safety``, ``sources``) refuse what they can see before a parser runs; a file
built to get past them (a PDF stream that inflates to gigabytes behind a filter, a table that expands
as it is parsed) could still make a parser allocate without bound or run for minutes, and PDFium
then aborts the whole process. So documents are read in worker processes (``batch.read_all``;
workbooks too could be, at 10-20 % more time per clean workbook):

* its memory is capped by the operating system: on POSIX an address-space limit (``RLIMIT_AS``) at
  what the worker uses when it starts plus the allowance; on Windows a Job Object whose process
  memory limit is the worker's committed memory plus the allowance;
* a watchdog in the parent gives each file a wall-clock time;
* a breach becomes one finding for that file (F-TOO-LARGE naming the limit; F-UNREADABLE when the
  worker dies of something else), the worker is replaced and the batch goes on.

Workers live for the whole batch (``jobs`` of them): a clean batch pays only for sending each record
back (the format as its id, the values as a bare tuple).

============================  =======  ==========================
limit                         default  environment variable
============================  =======  ==========================
memory a read may add         256 MB   XLTOOL_MAX_READ_MB (0: no limit)
wall-clock time of one file   5 s      XLTOOL_MAX_READ_SECONDS (0: no limit)
============================  =======  ==========================

``XLTOOL_ISOLATE=0`` reads in this process instead, without these bounds (for a developer's debugger).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from xltool.definition import Format
from xltool.findings import Finding
from xltool.model import ReturnRecord
from xltool.read.bounds import HINT, ReadLimits, breached, on_more_memory, on_more_time, reset_breach, share_cores
from xltool.read.safety import MB

STARTUP_SECONDS = 60.0
"""How long a worker may take to start (spawn imports the reader afresh on Windows)."""
DEPTH = 3
"""Files sent ahead to a worker, so that it never waits for the parent between two files."""


def isolated() -> bool:
    """Whether files are read in bounded workers (unless XLTOOL_ISOLATE=0)."""
    return os.environ.get("XLTOOL_ISOLATE", "1") != "0"


# --------------------------------------------------------------------------- findings


def over_time(file: str, name: str, seconds: float) -> Finding:
    return Finding.for_file(
        file,
        "F-TOO-LARGE",
        name=name,
        what="读取所需的时间",
        limit=f"{seconds:g} 秒（一份年度报告通常不到 1 秒即可读完）",
        hint=HINT,
    )


def worker_died(file: str, name: str, exitcode: int | None) -> Finding:
    """A worker that ended while reading: killed by the system, aborted by a parser out of memory."""
    if exitcode is None:
        return Finding.for_file(
            file, "F-UNREADABLE", name=name, reason="读取进程未能启动", hint="请重新运行；仍不行时请重启电脑"
        )
    if exitcode < 0:
        try:
            how = f"信号 {signal.Signals(-exitcode).name}"
        except ValueError:
            how = f"信号 {-exitcode}"
    else:
        how = f"退出码 {exitcode}"
    limit = ReadLimits.from_env().memory_bytes
    cause = f"，可能所需内存超过上限 {limit / MB:.0f} MB" if limit else ""
    return Finding.for_file(file, "F-UNREADABLE", name=name, reason=f"读取进程意外终止，{how}{cause}", hint=HINT)


def _failed(rec: ReturnRecord, finding: Finding) -> ReturnRecord:
    rec.findings.append(finding)
    return rec


# --------------------------------------------------------------------------- the operating system's limits


def limit_memory(extra: int) -> None:
    """Cap this process's memory at what it uses now plus ``extra`` bytes (0: no cap). Where the
    system offers no way (or refuses), nothing is capped: the watchdog's time limit remains."""
    if extra <= 0:
        return
    if sys.platform == "win32":
        _limit_job(extra)
    else:
        _limit_address_space(extra)


def _address_space() -> int:
    """This process's virtual memory size in bytes (Linux), 0 when unknown."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _limit_address_space(extra: int) -> None:
    import resource

    now = _address_space()
    if not now:  # not Linux: without the current size a limit could stop the worker at once
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    want = now + extra
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (want, hard))
    except (ValueError, OSError):
        pass


class JobBasicLimits(ctypes.Structure):
    """JOBOBJECT_BASIC_LIMIT_INFORMATION (64 bytes on 64-bit Windows)."""

    _fields_ = [
        ("PerProcessUserTimeLimit", ctypes.c_int64),  # LARGE_INTEGER
        ("PerJobUserTimeLimit", ctypes.c_int64),
        ("LimitFlags", ctypes.c_uint32),  # DWORD
        ("MinimumWorkingSetSize", ctypes.c_size_t),  # SIZE_T
        ("MaximumWorkingSetSize", ctypes.c_size_t),
        ("ActiveProcessLimit", ctypes.c_uint32),
        ("Affinity", ctypes.c_size_t),  # ULONG_PTR
        ("PriorityClass", ctypes.c_uint32),
        ("SchedulingClass", ctypes.c_uint32),
    ]


class IoCounters(ctypes.Structure):
    """IO_COUNTERS (48 bytes)."""

    _fields_ = [
        (name, ctypes.c_uint64)
        for name in (
            "ReadOperationCount",
            "WriteOperationCount",
            "OtherOperationCount",
            "ReadTransferCount",
            "WriteTransferCount",
            "OtherTransferCount",
        )
    ]


class JobExtendedLimits(ctypes.Structure):
    """JOBOBJECT_EXTENDED_LIMIT_INFORMATION (144 bytes on 64-bit Windows)."""

    _fields_ = [
        ("BasicLimitInformation", JobBasicLimits),
        ("IoInfo", IoCounters),
        ("ProcessMemoryLimit", ctypes.c_size_t),
        ("JobMemoryLimit", ctypes.c_size_t),
        ("PeakProcessMemoryUsed", ctypes.c_size_t),
        ("PeakJobMemoryUsed", ctypes.c_size_t),
    ]


class ProcessMemoryCounters(ctypes.Structure):
    """PROCESS_MEMORY_COUNTERS (72 bytes on 64-bit Windows); PagefileUsage is the committed memory
    the job's process memory limit counts."""

    _fields_ = [
        ("cb", ctypes.c_uint32),
        ("PageFaultCount", ctypes.c_uint32),
        ("PeakWorkingSetSize", ctypes.c_size_t),
        ("WorkingSetSize", ctypes.c_size_t),
        ("QuotaPeakPagedPoolUsage", ctypes.c_size_t),
        ("QuotaPagedPoolUsage", ctypes.c_size_t),
        ("QuotaPeakNonPagedPoolUsage", ctypes.c_size_t),
        ("QuotaNonPagedPoolUsage", ctypes.c_size_t),
        ("PagefileUsage", ctypes.c_size_t),
        ("PeakPagefileUsage", ctypes.c_size_t),
    ]


JOB_OBJECT_EXTENDED_LIMIT_INFORMATION = 9  # JOBOBJECTINFOCLASS JobObjectExtendedLimitInformation
JOB_OBJECT_LIMIT_PROCESS_MEMORY = 0x100
JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION = 0x400  # a crash ends the worker, no error dialog waits
_job: Any = None  # the worker's job handle, kept open for the worker's life


def _limit_job(extra: int) -> None:
    """Put this process in a new Job Object whose process memory limit is its committed memory now
    plus ``extra`` (Windows 8 and later allow a job inside the job a terminal may have put us in)."""
    global _job
    if sys.platform != "win32":  # for mypy: WinDLL exists only there
        return
    from ctypes import wintypes

    k32 = ctypes.WinDLL("kernel32", use_last_error=True)
    k32.GetCurrentProcess.restype = wintypes.HANDLE
    k32.GetCurrentProcess.argtypes = ()
    k32.K32GetProcessMemoryInfo.restype = wintypes.BOOL
    k32.K32GetProcessMemoryInfo.argtypes = (wintypes.HANDLE, ctypes.c_void_p, wintypes.DWORD)
    k32.CreateJobObjectW.restype = wintypes.HANDLE
    k32.CreateJobObjectW.argtypes = (ctypes.c_void_p, wintypes.LPCWSTR)
    k32.SetInformationJobObject.restype = wintypes.BOOL
    k32.SetInformationJobObject.argtypes = (wintypes.HANDLE, ctypes.c_int, ctypes.c_void_p, wintypes.DWORD)
    k32.AssignProcessToJobObject.restype = wintypes.BOOL
    k32.AssignProcessToJobObject.argtypes = (wintypes.HANDLE, wintypes.HANDLE)

    me = k32.GetCurrentProcess()
    counters = ProcessMemoryCounters(cb=ctypes.sizeof(ProcessMemoryCounters))
    if not k32.K32GetProcessMemoryInfo(me, ctypes.byref(counters), counters.cb):
        return
    job = k32.CreateJobObjectW(None, None)
    if not job:
        return
    info = JobExtendedLimits()
    info.BasicLimitInformation.LimitFlags = (
        JOB_OBJECT_LIMIT_PROCESS_MEMORY | JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION
    )
    info.ProcessMemoryLimit = counters.PagefileUsage + extra
    if k32.SetInformationJobObject(
        job, JOB_OBJECT_EXTENDED_LIMIT_INFORMATION, ctypes.byref(info), ctypes.sizeof(info)
    ) and k32.AssignProcessToJobObject(job, me):
        _job = job


# --------------------------------------------------------------------------- what travels back

Packed = tuple[ReturnRecord, str | None, tuple[Any, ...] | None]


def pack(rec: ReturnRecord) -> Packed:
    """A record as sent back from a worker, kept small: the Format as its id, and the values, when
    keyed exactly by the format's cells, as a bare tuple (no 200 key strings per file to pickle,
    unpickle and keep)."""
    fmt = rec.format
    if fmt is None:
        return rec, None, None
    rec.format = None
    if tuple(rec.values) != fmt.cell_ids:
        return rec, fmt.id, None
    packed = tuple(rec.values.values())
    rec.values = {}
    return rec, fmt.id, packed


def unpack(
    formats: Mapping[str, Format], rec: ReturnRecord, fmt_id: str | None, packed: tuple[Any, ...] | None
) -> ReturnRecord:
    if fmt_id is not None:
        rec.format = formats[fmt_id]
        if packed is not None:
            rec.values = dict(zip(rec.format.cell_ids, packed, strict=True))
    return rec


# --------------------------------------------------------------------------- the worker


def _work(conn: Connection, formats: Mapping[str, Format], options: Any, extra: int, workers: int = 1) -> None:
    """A worker's life: cap its memory, take its share of the cores (one of ``workers``), say it is
    ready, then read (index, path, file) until None. After a read that ran out of memory it sends the
    record and ends (a fresh worker follows)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    from xltool.read.dispatch import read_return

    limit_memory(extra)
    share_cores(workers)
    on_more_time(lambda seconds: conn.send(("more time", seconds)))
    if sys.platform != "win32":  # a Job Object's limit is set once; on Windows OCR runs under the first one
        on_more_memory(lambda more: _limit_address_space(max(more, extra)) if extra > 0 else None)
    conn.send(None)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        index, path, file = task
        reset_breach()
        rec = read_return(path, file, formats, options)
        conn.send((index, pack(rec), breached()))
        if breached():
            return


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
    ready: bool = False
    started: float = 0.0
    """When the worker began its first queued file (or was started, while not ready)."""
    allowed: float = 0.0
    """Seconds its file asked for (OCR of a scan: ``bounds.need_seconds``); 0: the limit's."""
    queue: deque[int] = field(default_factory=deque)

    def stop(self, kill: bool = False) -> None:
        if not kill:
            try:
                self.conn.send(None)
            except OSError:
                kill = True
        if kill:
            self.process.kill()
        self.process.join(timeout=None if kill else 2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


Done = Callable[[int, ReturnRecord], Any]
_DIED = object()


def _receive(w: _Worker) -> Any:
    """The worker's next message, or ``_DIED`` when it ended (its exit code then known)."""
    try:
        return w.conn.recv()
    except (EOFError, OSError):
        pass
    w.process.join(timeout=1)
    if w.process.is_alive():
        w.process.kill()
        w.process.join()
    return _DIED


def _allowed(w: _Worker, seconds: float) -> float:
    """How long the worker's current file may take: what it asked for, the limit, or its start-up."""
    if not w.ready:
        return STARTUP_SECONDS
    return max(w.allowed, seconds) if w.allowed else seconds


def read_isolated(
    work: Sequence[tuple[Path, str]],
    formats: Mapping[str, Format],
    options: Any,
    jobs: int = 1,
    done: Done | None = None,
    limits: ReadLimits | None = None,
) -> list[ReturnRecord]:
    """Read every (path, file) of ``work`` in ``jobs`` bounded workers; the records in the order of
    ``work``. ``done(index, record)`` after each file, in the order they finish."""
    limits = limits or ReadLimits.from_env()
    ctx = get_context()  # fork on Linux; spawn on Windows, where the worker imports the reader afresh
    out: list[ReturnRecord | None] = [None] * len(work)
    pending = deque(range(len(work)))
    seconds = float(limits.seconds) or float("inf")

    def start() -> _Worker:
        mine, theirs = ctx.Pipe()
        process = ctx.Process(
            target=_work, args=(theirs, dict(formats), options, limits.memory_bytes, workers_at_once), daemon=True
        )
        process.start()
        theirs.close()
        return _Worker(process, mine, started=time.monotonic())

    def finish(index: int, rec: ReturnRecord) -> None:
        out[index] = rec
        if done:
            done(index, rec)

    def replace(w: _Worker, kill: bool) -> _Worker:
        """A fresh worker for ``w`` (stopped); the files it had queued go back to be read first."""
        pending.extendleft(reversed(w.queue))
        w.queue.clear()
        w.stop(kill=kill)
        return start()

    def lost(w: _Worker, finding: Callable[[str, str], Finding]) -> None:
        index = w.queue.popleft()
        path, file = work[index]
        finish(index, _failed(ReturnRecord(path=path, file=file), finding(file, path.name)))

    workers_at_once = min(jobs, len(work))
    workers = [start() for _ in range(workers_at_once)]
    try:
        while pending or any(w.queue for w in workers):
            for w in workers:
                while pending and len(w.queue) < DEPTH:
                    index = pending.popleft()
                    if not w.queue and w.ready:
                        w.started = time.monotonic()
                    w.queue.append(index)
                    try:
                        w.conn.send((index, *work[index]))
                    except OSError:  # died: its connection now reads as ended, which ``wait`` tells
                        break
            busy = [w for w in workers if w.queue]
            now = time.monotonic()
            deadline = min(w.started + _allowed(w, seconds) for w in busy)
            ready = wait([w.conn for w in busy], timeout=max(0.0, min(deadline - now, 3600.0)))
            now = time.monotonic()
            for i, w in enumerate(workers):
                if not w.queue:
                    continue
                if w.conn in ready:
                    message = _receive(w)
                    if message is _DIED:  # while reading its first queued file
                        lost(w, partial(worker_died, exitcode=w.process.exitcode))
                        workers[i] = replace(w, kill=True)
                    elif message is None:  # started
                        w.ready, w.started = True, now
                    elif message[0] == "more time":
                        w.allowed, w.started = float(message[1]), now
                    else:
                        index, packed, breached = message
                        w.queue.popleft()
                        w.started, w.allowed = now, 0.0
                        finish(index, unpack(formats, *packed))
                        if breached:
                            workers[i] = replace(w, kill=False)
                elif now >= w.started + _allowed(w, seconds):
                    if w.ready:
                        lost(w, partial(over_time, seconds=w.allowed or seconds))
                    else:
                        lost(w, partial(worker_died, exitcode=None))  # never started
                    workers[i] = replace(w, kill=True)
    finally:
        for w in workers:
            w.stop(kill=bool(w.queue))
    return [rec for rec in out if rec is not None]
