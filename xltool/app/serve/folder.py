"""The year's working folder as ``xltool demo`` lays it out: what is in it, read from disk on every
request, and how uploads are named and written into it."""

from __future__ import annotations

import datetime as dt
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from xltool.errors import XltoolError
from xltool.write.files import atomic_write

# The year's folder, as ``xltool demo`` lays it out
ROSTER_STEM = "名单"
ROSTER_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".xls", ".ods")
TEMPLATES = "1-下发模板"
INBOX = "2-收件箱"
CHECK = "3-校验"
RETURNED = "4-退回修改"
CONSOLIDATED = "5-汇总"
PUBLISHED = "7-发布"
LAST_YEAR = "0-上年"  # last year's consolidated workbook, returns or reports, for 与上年对比
COMPARED = "8-对比"
REPORT_XLSX = "校验报告.xlsx"
REPORT_JSON = "校验结果.json"
ANNOTATED_SUFFIX = "_校验意见"
AREAS = (INBOX, TEMPLATES, CHECK, RETURNED, CONSOLIDATED, PUBLISHED, LAST_YEAR, COMPARED)


# --------------------------------------------------------------------------- file names

_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
_ILLEGAL = re.compile(r'[<>:"/\\|?*]')
MAX_NAME_BYTES = 200


def safe_name(name: str, default: str = "未命名") -> str:
    """A file name that is safe on Windows and Linux and stays inside its folder: the last path part
    only, no control or invisible format characters (bidi overrides), no reserved Windows names, no
    leading dots (hidden, ``..``) nor ``~$`` (read as an Office lock file); Chinese is kept."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = _ILLEGAL.sub("_", name).strip(" .")
    if name.startswith("~$"):
        name = "_" + name[2:]
    stem, dot, suffix = name.rpartition(".") if "." in name else (name, "", "")
    if stem.split(".")[0].upper() in _WINDOWS_RESERVED:
        stem = "_" + stem
    if not stem:
        stem = default
    suffix = suffix[:16]
    while len((stem + dot + suffix).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return stem + dot + suffix


class Conflict(XltoolError):
    """A file of that name exists and overwriting was not asked for."""


def write_atomically(target: Path, data: Iterable[bytes], overwrite: bool) -> None:
    """An upload written whole (``files.atomic_write``), flushed to disk; without ``overwrite`` a name
    another request took meanwhile is a Conflict, so concurrent uploads never overwrite each other."""

    def write(tmp: Path) -> None:
        with tmp.open("wb") as fh:
            for chunk in data:
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())

    try:
        atomic_write(target, write, exclusive=not overwrite)
    except FileExistsError:
        raise Conflict(target.name) from None


class Year:
    """What is in the year's working folder; everything is read from disk each time, so what the CLI
    wrote meanwhile shows."""

    def __init__(self, folder: Path):
        self.folder = folder.resolve()

    def sub(self, name: str) -> Path:
        return self.folder / name

    @property
    def roster_path(self) -> Path | None:
        for suffix in ROSTER_SUFFIXES:
            p = self.folder / (ROSTER_STEM + suffix)
            if self.plain_file(p):
                return p
        return None

    def files(self, name: str, suffixes: Sequence[str] = ()) -> list[Path]:
        """The plain files of the area ``name``: links (which could lead out of the year's folder) are
        not followed, neither as the area itself nor as a file in it."""
        folder = self.area(name)
        if folder is None:
            return []
        return sorted(
            (
                p
                for p in folder.iterdir()
                if not p.name.startswith((".", "~$"))
                and (not suffixes or p.suffix.lower() in suffixes)
                and self.plain_file(p)
            ),
            key=lambda p: p.name.casefold(),
        )

    def area(self, name: str) -> Path | None:
        """The folder ``name`` of the year, when it is a folder of its own (not a link)."""
        folder = self.sub(name)
        try:
            return folder if folder.is_dir() and not folder.is_symlink() else None
        except (OSError, ValueError):
            return None

    def file_in(self, area: str, name: str) -> Path | None:
        """The file ``name`` of the area ``area``, or None when there is none: a name that is no plain
        file name (a separator, ``..``, a NUL, too long), a hidden one, a link, anything not a file."""
        folder = self.area(area)
        if folder is None or not name or name != safe_name(name) or name.startswith((".", "~$")):
            return None
        path = folder / name
        return path if self.plain_file(path) else None

    @staticmethod
    def plain_file(path: Path) -> bool:
        try:
            return not path.is_symlink() and path.is_file()
        except (OSError, ValueError):  # a name the system refuses
            return False

    def inbox(self) -> list[Path]:
        """Every file in the inbox (but hidden ones and Office lock files): each is read or accounted for."""
        return self.files(INBOX)

    def rel(self, path: Path) -> str:
        return path.resolve().relative_to(self.folder).as_posix()

    def roster(self) -> tuple[list[Any] | None, str]:
        """The roster's units, or None and why not."""
        from xltool.roster import read_roster

        path = self.roster_path
        if path is None:
            return None, ""
        try:
            return read_roster(path), ""
        except XltoolError as exc:
            return None, str(exc).replace(str(self.folder) + os.sep, "")

    def year(self) -> int:
        """The report year: the templates', else the checked returns', else last year (January's work)."""
        for p in self.files(TEMPLATES, (".xlsx",)):
            m = re.search(r"_(\d{4})年", p.name)
            if m:
                return int(m.group(1))
        check = self.check_result()
        years: list[int] = [w.get("year") for w in (check or {}).get("workbooks", []) if w.get("year")]
        if years:
            return max(set(years), key=years.count)
        return dt.date.today().year - 1

    def check_report(self) -> tuple[Path, dict[str, Any]] | None:
        """The latest validation report in 3-校验, whatever wrote it (the page, ``xltool validate
        --report`` or ``--format json >``, ``xltool demo``), with its files named relative to the year's
        folder: (its path, its JSON)."""
        from xltool.app.serve.reports import REPORT_SUFFIXES, in_folder, read_report

        def newest(p: Path) -> tuple[int, bool]:
            try:
                return p.stat().st_mtime_ns, p.suffix.lower() == ".json"  # the page writes its JSON last
            except OSError:
                return 0, False

        for path in sorted(self.files(CHECK, REPORT_SUFFIXES), key=newest, reverse=True):
            data = read_report(path)
            if data is not None:
                return path, in_folder(data, self.folder, AREAS)
        return None

    def check_result(self) -> dict[str, Any] | None:
        found = self.check_report()
        return found[1] if found else None

    def report_workbook(self) -> Path | None:
        """The latest report workbook in 3-校验 (to download)."""
        from xltool.app.serve.reports import read_report

        books = [p for p in self.files(CHECK, (".xlsx",)) if read_report(p) is not None]
        return max(books, key=lambda p: p.stat().st_mtime_ns) if books else None

    def check_stale(self) -> bool:
        """The inbox changed since the latest report."""
        found = self.check_report()
        if found is None:
            return True
        path, check = found
        checked = {w["file"] for w in check.get("workbooks", [])}
        checked |= {f["file"] for f in check.get("findings", []) if f.get("file")}
        inbox = self.inbox()
        current = {self.rel(p) for p in inbox}
        gone = {f for f in checked if f.startswith(INBOX + "/") and f.count("/") == 1} - current
        if current - checked or gone:
            return True
        try:
            stamp = path.stat().st_mtime
            return any(p.stat().st_mtime > stamp for p in inbox)
        except OSError:
            return True

    def county(self) -> dict[str, str]:
        """Defaults for the consolidated unit: the folder's name, the roster codes' common prefix."""
        units, _ = self.roster()
        code = os.path.commonprefix([u.code for u in units]) if units else ""
        if len(code) > 6:
            code = code[:6]
        return {"code": code, "name": self.folder.name, "level": "县"}


def relative_to(base: Path) -> Callable[[Path], str]:
    """How a file is named when the CLI is run in ``base``: relative to it when inside it."""

    def name(p: Path) -> str:
        return p.relative_to(base).as_posix() if p.is_relative_to(base) else str(p)

    return name


def validate_in(
    base: Path,
    paths: Sequence[Path],
    roster: list[Any] | None = None,
    year: int | None = None,
    progress: Callable[[int, int, str], Any] | None = None,
) -> Any:
    """``validate_paths`` with every file named relative to ``base``, as the CLI names them when run
    in ``base``: the JSON of the page and of ``xltool validate --format json`` are then the same."""
    from xltool.validate import validate_paths

    return validate_paths(paths, roster=roster, year=year, progress=progress, name=relative_to(base))
