"""Read many files, in order. Documents (web pages, Word, PDF, text) are read in bounded worker
processes (``isolate``); workbooks, whose container is checked before any parser runs, in this
process or a pool of processes (isolating them too cost 10-20 % of a clean batch's time)."""

from __future__ import annotations

import gc
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from xltool.definition import Format, known_formats
from xltool.model import ReturnRecord, display_path
from xltool.read.dispatch import kind_of, read_return
from xltool.read.from_document import ReadOptions
from xltool.read.isolate import Packed, isolated, pack, read_isolated, unpack

Progress = Callable[[int, int, str], Any]
"""progress(done, total, file) after each file is read."""

_FORMATS: Mapping[str, Format] = {}  # a pool worker's formats and options, set once by its initializer
_OPTIONS: ReadOptions | None = None


def _init_worker(formats: Mapping[str, Format], options: ReadOptions | None) -> None:
    global _FORMATS, _OPTIONS
    _FORMATS, _OPTIONS = formats, options


def _read_in_worker(args: tuple[Path, str]) -> Packed:
    return pack(read_return(args[0], args[1], _FORMATS, _OPTIONS))


P = ParamSpec("P")
R = TypeVar("R")


def gc_paused(fn: Callable[P, R]) -> Callable[P, R]:
    """Run ``fn`` with the cyclic garbage collector paused. A batch creates many long-lived objects
    (records, findings, frame columns) and the collector would rescan them again and again; the
    objects are freed by reference counting as usual, and any cycle once the collector resumes."""

    @wraps(fn)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        if not gc.isenabled():
            return fn(*args, **kwargs)
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            gc.enable()

    return paused


@gc_paused
def read_all(
    paths: Sequence[Path],
    jobs: int = 1,
    progress: Progress | None = None,
    formats: Mapping[str, Format] | None = None,
    options: ReadOptions | None = None,
    *,
    name: Callable[[Path], str] = display_path,
) -> list[ReturnRecord]:
    """Read every file, in order: documents in ``jobs`` bounded workers (``isolate``; in this process
    when XLTOOL_ISOLATE=0), workbooks here or, with jobs > 1, in a process pool. ``formats``: the definitions the
    files may be in, by id (default: the builtin ones); ``options``: how documents are read;
    ``name``: how each file is named in its findings."""
    formats = known_formats() if formats is None else formats
    work = [(p, name(p)) for p in paths]
    total = len(work)
    out: list[ReturnRecord | None] = [None] * total
    count = iter(range(1, total + 1))

    def done(index: int, rec: ReturnRecord) -> None:
        out[index] = rec
        if progress:
            progress(next(count), total, rec.file)

    documents = [i for i, (p, _) in enumerate(work) if kind_of(p) == "document"] if isolated() else []
    if documents:
        read_isolated(
            [work[i] for i in documents],
            formats,
            options,
            jobs=max(1, jobs),
            done=lambda j, rec: done(documents[j], rec),
        )
    rest = [i for i in range(total) if out[i] is None]
    if jobs > 1 and len(rest) > 1:
        chunk = max(1, len(rest) // (jobs * 4))
        with ProcessPoolExecutor(
            max_workers=min(jobs, len(rest)), initializer=_init_worker, initargs=(dict(formats), options)
        ) as pool:
            for i, packed in zip(
                rest, pool.map(_read_in_worker, [work[i] for i in rest], chunksize=chunk), strict=True
            ):
                done(i, unpack(formats, *packed))
    else:
        for i in rest:
            done(i, read_return(*work[i], formats, options))
    return [rec for rec in out if rec is not None]
