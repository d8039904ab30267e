"""Read many files: in order, in this process or a pool of processes (reading is the cost)."""

from __future__ import annotations

import gc
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from xltool.definition import Format, known_formats
from xltool.model import ReturnRecord, display_path
from xltool.read.dispatch import read_return
from xltool.read.from_document import ReadOptions

Progress = Callable[[int, int, str], Any]
"""progress(done, total, file) after each file is read."""

_FORMATS: Mapping[str, Format] = {}  # a pool worker's formats and options, set once by its initializer
_OPTIONS: ReadOptions | None = None


def _init_worker(formats: Mapping[str, Format], options: ReadOptions | None) -> None:
    global _FORMATS, _OPTIONS
    _FORMATS, _OPTIONS = formats, options


def _read_in_worker(args: tuple[Path, str]) -> tuple[ReturnRecord, str | None, tuple[Any, ...] | None]:
    """Read in a pool process. What travels back is kept small: the Format as its id, and the
    values, when keyed exactly by the format's cells, as a bare tuple (no 200 key strings per
    file to pickle, unpickle and keep)."""
    rec = read_return(args[0], args[1], _FORMATS, _OPTIONS)
    fmt = rec.format
    if fmt is None:
        return rec, None, None
    rec.format = None
    if tuple(rec.values) != fmt.cell_ids:
        return rec, fmt.id, None
    packed = tuple(rec.values.values())
    rec.values = {}
    return rec, fmt.id, packed


def _unpack(
    formats: Mapping[str, Format], rec: ReturnRecord, fmt_id: str | None, packed: tuple[Any, ...] | None
) -> ReturnRecord:
    if fmt_id is not None:
        rec.format = formats[fmt_id]
        if packed is not None:
            rec.values = dict(zip(rec.format.cell_ids, packed, strict=True))
    return rec


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
    """Read every file, in order; with jobs > 1 in a process pool. ``formats``: the definitions the
    files may be in, by id (default: the builtin ones); ``options``: how documents are read;
    ``name``: how each file is named in its findings."""
    formats = known_formats() if formats is None else formats
    work = [(p, name(p)) for p in paths]
    total = len(work)
    out: list[ReturnRecord] = []
    if jobs > 1 and total > 1:
        chunk = max(1, total // (jobs * 4))
        workers = min(jobs, total)
        with ProcessPoolExecutor(
            max_workers=workers, initializer=_init_worker, initargs=(dict(formats), options)
        ) as pool:
            for done, packed in enumerate(pool.map(_read_in_worker, work, chunksize=chunk), start=1):
                rec = _unpack(formats, *packed)
                out.append(rec)
                if progress:
                    progress(done, total, rec.file)
        return out
    for done, (path, file) in enumerate(work, start=1):
        out.append(read_return(path, file, formats, options))
        if progress:
            progress(done, total, file)
    return out
