"""Read many files, in order: in bounded worker processes (``isolate``), ``jobs`` of them at once."""

from __future__ import annotations

import gc
from collections.abc import Callable, Mapping, Sequence
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from xltool.definition import Format, known_formats
from xltool.model import ReturnRecord, display_path
from xltool.read.dispatch import read_return
from xltool.read.from_document import ReadOptions
from xltool.read.isolate import isolated, read_isolated

Progress = Callable[[int, int, str], Any]
"""progress(done, total, file) after each file is read."""

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
    """Read every file, in order, in ``jobs`` bounded worker processes (``isolate``; in this process
    when XLTOOL_ISOLATE=0). ``formats``: the definitions the
    files may be in, by id (default: the builtin ones); ``options``: how documents are read;
    ``name``: how each file is named in its findings."""
    formats = known_formats() if formats is None else formats
    work = [(p, name(p)) for p in paths]
    total = len(work)
    if isolated():
        count = iter(range(1, total + 1))

        def done(_index: int, rec: ReturnRecord) -> None:
            if progress:
                progress(next(count), total, rec.file)

        return read_isolated(work, formats, options, jobs=max(1, jobs), done=done)
    out: list[ReturnRecord] = []
    for done_count, (path, file) in enumerate(work, start=1):
        out.append(read_return(path, file, formats, options))
        if progress:
            progress(done_count, total, file)
    return out
