"""How xltool writes a file, once: whole or not at all, never over another file unless asked, and
never where the next run would read it as an input.

Each caller keeps its own message; these functions only answer or write.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from xltool.errors import UsageError

TEMPORARY = re.compile(r"\.~.*\.[0-9a-f]{8}\.tmp(\.[^.]*)?")
"""The name of ``atomic_write``'s temporary files (``.~stem.<8 hex>.tmp<suffix>``), and nothing else."""
STALE_SECONDS = 600
_swept: set[str] = set()


def sweep_stale(folder: str | Path, older_than: float = STALE_SECONDS) -> list[Path]:
    """Remove ``atomic_write``'s temporary files left in ``folder`` by a write that was killed (a
    temporary file of a write still running elsewhere is younger than ``older_than`` seconds and kept);
    only names of xltool's own pattern (``TEMPORARY``) are touched. The files removed."""
    removed: list[Path] = []
    now = time.time()
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if not entry.name.startswith(".~") or not TEMPORARY.fullmatch(entry.name):
                continue
            with contextlib.suppress(OSError):
                if (
                    entry.is_file(follow_symlinks=False)
                    and now - entry.stat(follow_symlinks=False).st_mtime > older_than
                ):
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


def _sweep_once(folder: Path) -> None:
    """``sweep_stale`` for each folder the first time this process writes into it."""
    key = os.path.normcase(os.path.abspath(folder))
    if key not in _swept:
        _swept.add(key)
        sweep_stale(folder)


def _pause_for_tests() -> None:
    """``XLTOOL_TEST_WRITE_PAUSE`` seconds with the temporary file written and not yet renamed: how
    the tests interrupt a write midway. Unset (always, outside the tests): nothing."""
    pause = os.environ.get("XLTOOL_TEST_WRITE_PAUSE")
    if pause:
        time.sleep(float(pause))


def atomic_write(path: str | Path, write: Callable[[Path], object], *, exclusive: bool = False) -> Path:
    """Create ``path`` whole: ``write(tmp)`` fills a temporary file in the same folder (so the rename
    is atomic), which then replaces ``path``. On any failure the temporary file is removed and ``path``
    is left as it was; the exception is raised as it came, an OSError naming ``path`` where it named
    the temporary file (the clerk never saw that one).

    ``exclusive``: never replace a file, not even one another process creates meanwhile: the name is
    claimed with a hard link (or, where the disk has none, an exclusive create), and FileExistsError is
    raised when it is taken.

    A write interrupted (Ctrl-C; a SIGTERM the command line turns into the same) removes its temporary
    file on the way out; one killed outright leaves it, and the next write into that folder removes it
    (``sweep_stale``)."""
    path = Path(path)
    _sweep_once(path.parent)
    # hidden (a leading dot), so a folder read meanwhile skips it; the suffix kept for writers that look
    tmp = path.with_name(f".~{path.stem}.{secrets.token_hex(4)}.tmp{path.suffix}")
    try:
        write(tmp)
        _pause_for_tests()
        if exclusive:
            _claim(tmp, path)
        else:
            os.replace(tmp, path)
    except BaseException as exc:
        if isinstance(exc, OSError) and exc.filename in (tmp, str(tmp)) and exc.filename2 is None:
            exc.filename = str(path)
        raise
    finally:
        with contextlib.suppress(OSError):  # its folder may not even exist
            tmp.unlink(missing_ok=True)
    return path


def _claim(tmp: Path, path: Path) -> None:
    """Give ``tmp`` the name ``path`` only if nobody has it (FileExistsError otherwise)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:  # no hard links here (some USB sticks): claim the name, then replace it
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        os.replace(tmp, path)


def write_bytes(path: str | Path, data: bytes) -> Path:
    """``data`` written to ``path`` atomically."""
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def free_name(folder: str | Path, name: str) -> Path:
    """``folder/name``, or ``stem (2).suffix``, ``stem (3).suffix`` … when taken: never overwrite."""
    folder = Path(folder)
    path, n = folder / name, 2
    stem, suffix = Path(name).stem, Path(name).suffix
    while path.exists():
        path = folder / f"{stem} ({n}){suffix}"
        n += 1
    return path


def file_key(path: str | Path) -> str:
    """One spelling per file: symlinks and ``..`` resolved, case folded where the system ignores it."""
    return os.path.normcase(str(Path(path).resolve()))


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name one file (``file_key``)."""
    return file_key(a) == file_key(b)


def inside(path: str | Path, folder: str | Path) -> bool:
    """Whether ``path`` is ``folder`` or lies under it, once both are resolved (``file_key``); False
    when either cannot be resolved (a link loop)."""
    try:
        return Path(file_key(path)).is_relative_to(file_key(folder))
    except OSError:
        return False


def input_folder_holding(path: str | Path, inputs: Iterable[str | Path]) -> Path | None:
    """The first of ``inputs`` that is a folder ``path`` would sit in (the next run would read it as
    an input), else None."""
    for given in map(Path, inputs):
        if given.is_dir() and inside(path, given):
            return given
    return None


def output_folder(out_dir: str | Path, inputs: Iterable[str | Path], what: str) -> Path:
    """``--out`` of ``publish`` and ``import``: a folder (made when written to) outside every input
    folder, where the next run would read ``what`` as returns."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out 应为文件夹：{out_dir} 是文件")
    given = input_folder_holding(out_dir, inputs)
    if given is not None:
        raise UsageError(f"--out 不能放在被读取的文件夹中（{given}），否则下次读取会把{what}当作报表")
    return out_dir
