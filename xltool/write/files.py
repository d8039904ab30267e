"""How xltool writes a file, once: whole or not at all, never over another file unless asked, and
never where the next run would read it as an input.

Each caller keeps its own message; these functions only answer or write.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Literal

from xltool.errors import OutputExists, UsageError

TEMPORARY = re.compile(r"\.~.*\.[0-9a-f]{8}\.tmp(\.[^.]*)?")
"""The name of ``atomic_write``'s temporary files (``.~stem.<8 hex>.tmp<suffix>``), and nothing else."""
STAGING = re.compile(r"\.~xltool-[0-9a-f]{8}\.tmp")
"""The name of ``output_set``'s hidden staging folders, and nothing else."""
STALE_SECONDS = 600
_swept: set[str] = set()


def sweep_stale(folder: str | Path, older_than: float = STALE_SECONDS) -> list[Path]:
    """Remove ``atomic_write``'s temporary files left in ``folder`` by a write that was killed (a
    temporary file of a write still running elsewhere is younger than ``older_than`` seconds and kept);
    only names of xltool's own pattern (``TEMPORARY``) are touched; so are ``output_set``'s staging
    folders (``STAGING``) of a run killed outright. The files (and folders) removed."""
    removed: list[Path] = []
    now = time.time()
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if not entry.name.startswith(".~"):
                continue
            if STAGING.fullmatch(entry.name):
                with contextlib.suppress(OSError):
                    if (
                        entry.is_dir(follow_symlinks=False)
                        and now - entry.stat(follow_symlinks=False).st_mtime > older_than
                    ):
                        shutil.rmtree(entry.path)
                        removed.append(Path(entry.path))
                continue
            if not TEMPORARY.fullmatch(entry.name):
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


def output_folder(out_dir: str | Path, inputs: Iterable[str | Path], what: str, option: str = "--out") -> Path:
    """A folder of outputs (``publish``, ``import``, ``template --roster``, ``--annotate``; made when
    written to) outside every input folder, where the next run would read ``what`` as returns. Its
    files are written with ``output_set``: " (2)" names, never replacing a file."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{option} 应为文件夹：{out_dir} 是文件")
    read = [Path(p) for p in inputs]
    given = input_folder_holding(out_dir, read)
    if given is not None:
        raise UsageError(f"{option} 不能放在被读取的文件夹中（{given}），否则下次读取会把{what}当作报表")
    for file in read:  # the folder of a file read (the inbox its returns were given from)
        if file.is_file() and same_file(file.parent, out_dir):
            raise UsageError(
                f"{option} 不能是被读取的文件所在的文件夹（{file.parent}，{file.name} 在其中），"
                f"否则下次读取会把{what}当作报表：请换一个文件夹"
            )
    return out_dir


# --------------------------------------------------------------------------- the policy for outputs
#
# One policy, the same in every command and in the page: never replace a file silently, never write
# over or into an input (a roster, ``--previous``, the returns read), and a set of files appears whole
# or not at all. A command's one named file (``consolidate --out``, ``validate --report``, ``template
# --out x.xlsx``) is refused when it exists unless asked (``--overwrite``); a folder of outputs gets
# " (2)" names (``output_set``).

OVERWRITE_HINT = "要替换它请加 --overwrite，或换一个文件名"


def claim_output(
    path: str | Path, *, inputs: Iterable[str | Path] = (), overwrite: bool = False, option: str = "--out"
) -> Path:
    """``path`` as the one file a command writes, checked before anything is read (a run may take
    minutes): never one of ``inputs`` nor inside an input folder (UsageError), never a file that exists
    unless ``overwrite`` (OutputExists, naming the file and the fix). The write itself should then be
    ``atomic_write(..., exclusive=not overwrite)``, so a file created meanwhile is not replaced either."""
    path = Path(path)
    for given in map(Path, inputs):
        if same_file(given, path):
            raise UsageError(f"{option} 不能写入输入文件 {path}（它正被读取）：请换一个文件名")
        if given.is_dir() and inside(path, given):
            raise UsageError(
                f"{option} 不能写入被读取的文件夹 {given}（下次读取会把 {path.name} 当作报表）：请换一个位置"
            )
    if path.is_dir():
        raise UsageError(f"{option} 应为文件：{path} 是文件夹")
    if not overwrite and (path.exists() or path.is_symlink()):
        raise exists_error(path)
    return path


def exists_error(path: str | Path) -> OutputExists:
    """The refusal of ``claim_output`` for ``path``: what is in the way and the fix."""
    return OutputExists(f"{path} 已存在，未覆盖：{OVERWRITE_HINT}", [str(path)])


def existing_output(path: str | Path, overwrite: bool) -> bool:
    """Whether writing ``path`` replaces a file, asked for (``overwrite``); the caller says so."""
    return overwrite and Path(path).is_file()


Existing = Literal["rename", "replace", "refuse"]
"""What ``output_set`` does with a name already in the folder: a " (2)" name (``rename``), replace the
file (``replace``, said in ``OutputSet.replaced``), or write nothing and raise OutputExists
(``refuse``: the page asks first)."""


class OutputSet:
    """Files written into a hidden staging folder, then placed into ``folder`` together: a run stopped
    before ``commit`` (an error, Ctrl-C) leaves nothing in ``folder``, and one stopped while placing
    takes back what it placed. See ``output_set``."""

    def __init__(self, folder: str | Path, existing: Existing = "rename"):
        self.folder = Path(folder)
        self.existing: Existing = existing
        self.placed: dict[Path, Path] = {}
        """Each staged file and where it now is (filled by ``commit``)."""
        self.replaced: list[Path] = []
        """Files of ``folder`` replaced (``existing="replace"``)."""
        self._new_folder = not self.folder.exists()
        try:
            self.folder.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"无法写入 {self.folder}：{exc.strerror or exc}") from None
        # a new folder is staged beside it and renamed into place; a folder in use, inside it
        home = self.folder.parent if self._new_folder else self.folder
        _sweep_once(home)
        self.staging = home / f".~xltool-{secrets.token_hex(4)}.tmp"
        try:
            os.mkdir(self.staging)  # the process umask, like every output (mkdtemp would make it 700)
        except OSError as exc:
            raise UsageError(f"无法写入 {self.folder}：{exc.strerror or exc}") from None
        self._names: set[str] = set()
        self._order: list[Path] = []

    def path(self, name: str) -> Path:
        """Where to write the file ``name`` of the set; a name the set already has gets " (2)"."""
        stem, suffix = Path(name).stem, Path(name).suffix
        candidate, n = name, 2
        while candidate.casefold() in self._names:
            candidate, n = f"{stem} ({n}){suffix}", n + 1
        self._names.add(candidate.casefold())
        staged = self.staging / candidate
        self._order.append(staged)
        return staged

    def commit(self) -> None:
        """Place every staged file that was written into ``folder``, all or none."""
        staged = [p for p in self._order if p.is_file()]
        if self.existing == "refuse":
            taken = [str(self.folder / p.name) for p in staged if (self.folder / p.name).exists()]
            if taken:
                raise OutputExists(f"{'、'.join(taken)} 已存在，未写入任何文件", taken)
        if self._new_folder and staged and not self.folder.exists():
            with contextlib.suppress(OSError):  # another process made the folder meanwhile: file by file
                os.rename(self.staging, self.folder)
                self.placed = {p: self.folder / p.name for p in staged}
                return
        self.folder.mkdir(parents=True, exist_ok=True)
        backups: list[tuple[Path, Path]] = []
        try:
            for p in staged:
                self.placed[p] = self._place(p, backups)
        except BaseException:  # Ctrl-C while placing too: nothing half-placed
            for p in reversed(list(self.placed.values())):
                with contextlib.suppress(OSError):
                    p.unlink()
            for backup, original in reversed(backups):
                with contextlib.suppress(OSError):
                    os.replace(backup, original)
            self.placed, self.replaced = {}, []
            raise

    def _place(self, staged: Path, backups: list[tuple[Path, Path]]) -> Path:
        if self.existing == "replace":
            target = self.folder / staged.name
            if target.is_file():
                backup = self.staging / f".~old-{len(backups)}"
                os.replace(target, backup)
                backups.append((backup, target))
                self.replaced.append(target)
            os.replace(staged, target)
            return target
        while True:
            target = free_name(self.folder, staged.name)
            try:
                _claim(staged, target)
            except FileExistsError:  # taken meanwhile
                if self.existing == "refuse":
                    raise exists_error(target) from None
                continue
            return target

    def discard(self) -> None:
        """Remove the staging folder and whatever is still in it."""
        with contextlib.suppress(OSError):
            shutil.rmtree(self.staging)


@contextlib.contextmanager
def output_set(folder: str | Path, existing: Existing = "rename") -> Iterator[OutputSet]:
    """A set of files for ``folder`` (made when needed), whole or not at all::

        with output_set(out_dir) as out:
            for name, data in files:
                out.path(name).write_bytes(data)
        out.placed  # staged path -> the file in out_dir

    Each file is written to ``out.path(name)`` in a hidden staging folder (beside ``folder`` when it
    is new, so the whole folder appears by one rename; inside it otherwise); leaving the block places
    them, under " (2)" names where a name is taken (``existing``). An exception or Ctrl-C inside the
    block or while placing leaves ``folder`` as it was; a run killed outright leaves the hidden staging
    folder, which the next write there removes (``sweep_stale``)."""
    out = OutputSet(folder, existing)
    try:
        yield out
        out.commit()
    finally:
        out.discard()
