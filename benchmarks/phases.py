"""The timed phases. Each runs in a fresh process (``run.py --phase``) so that imports, caches and
peak memory of one phase do not leak into another; it prints one JSON line with its figures."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _usage() -> tuple[float, float, float]:
    """Peak resident memory in MB of this process and of its largest (waited-for) child, and the
    CPU seconds (user + system) of this process and its children so far."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    return own.ru_maxrss / 1024, kids.ru_maxrss / 1024, cpu


class _Clock:
    """Wall and CPU seconds (this process and its waited-for children) of a ``with`` block."""

    def __enter__(self):
        self.cpu = _usage()[2]
        self.wall = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.wall
        self.peak_mb, self.child_peak_mb, cpu = _usage()  # before any check made after the phase
        self.cpu = cpu - self.cpu

    def result(self, measured: int, **extra) -> dict:
        return {
            "seconds": self.seconds,
            "cpu_seconds": self.cpu,
            "measured": measured,
            "peak_mb": round(self.peak_mb, 1),
            "child_peak_mb": round(self.child_peak_mb, 1),
            **extra,
        }


def _files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.xlsx"))


def _sample(files: list[Path], limit: int) -> list[Path]:
    """Every k-th file so that at most ``limit`` are read (0: all)."""
    if not limit or len(files) <= limit:
        return files
    step = -(-len(files) // limit)
    return files[::step]


def statutory_cells():
    """(sheet, row, col, A1) of every statutory cell, by sheet: what baseline and floor read."""
    from xltool.definition import get_format

    fmt = get_format()
    by_sheet: dict[str, list[tuple[str, int, int, str]]] = {}
    for c in fmt.cells.values():
        by_sheet.setdefault(c.sheet, []).append((c.id, c.row, c.col, c.address))
    return by_sheet


def floor(folder: Path, limit: int) -> dict:
    """python-calamine: open each file, read the three table sheets (bounded rows), pick the cells."""
    from python_calamine import CalamineWorkbook

    by_sheet = statutory_cells()
    nrows = {s: max(r for _, r, _, _ in cells) + 1 for s, cells in by_sheet.items()}
    files = _sample(_files(folder), limit)
    total = 0
    with _Clock() as clock:
        for path in files:
            wb = CalamineWorkbook.from_path(str(path))
            values = {}
            for sheet, cells in by_sheet.items():
                rows = wb.get_sheet_by_name(sheet).to_python(nrows=nrows[sheet])
                for cid, r, c, _ in cells:
                    values[cid] = rows[r][c]
            total += len(values)
    assert total == len(files) * sum(map(len, by_sheet.values()))
    return clock.result(len(files))


def necessary(folder: Path, limit: int) -> dict:
    """What ``xltool validate`` cannot do without, per file: the container check (``read_container``:
    sizes, entities, every part inflated against its declared size and CRC, far-away cells) and
    calamine reading the five sheets the reader reads, as the reader asks for them. No reading
    logic, no validation, no start-up: a lower bound of the command's cost per workbook."""
    import io

    from python_calamine import CalamineWorkbook

    from xltool.definition import get_format
    from xltool.model import IDENT_SHEET
    from xltool.read.safety import read_container

    fmt = get_format()
    sheets = [(fmt.cover.sheet, max(f.value_span.first_row for f in fmt.cover.fields) + 1)]
    sheets += [(tl.sheet, tl.nrows) for tl in fmt.layout] + [(IDENT_SHEET, 64)]
    files = _sample(_files(folder), limit)
    total = 0
    with _Clock() as clock:
        for path in files:
            problem, data, _size, _sha = read_container(path)
            if problem is not None:
                raise SystemExit(f"necessary: {path}: {problem.code}")
            wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
            for sheet, nrows in sheets:
                total += len(wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False, nrows=nrows))
    assert total > 0
    return clock.result(len(files))


def baseline(folder: Path, limit: int) -> dict:
    """What a county IT person writes: openpyxl.load_workbook (default mode), read each cell."""
    import openpyxl

    by_sheet = statutory_cells()
    files = _sample(_files(folder), limit)
    total = 0
    with _Clock() as clock:
        for path in files:
            wb = openpyxl.load_workbook(path)
            values = {}
            for sheet, cells in by_sheet.items():
                ws = wb[sheet]
                for cid, _, _, ref in cells:
                    values[cid] = ws[ref].value
            total += len(values)
    assert total == len(files) * sum(map(len, by_sheet.values()))
    return clock.result(len(files))


def validate_lib(folder: Path, jobs: int) -> dict:
    """xltool.validate.validate_paths on the folder (imports of pandas/pandera included)."""
    with _Clock() as clock:
        from xltool.validate import validate_paths

        v = validate_paths([folder], jobs=jobs)
    n = len(_files(folder))
    if len(v.records) != n or not v.valid or v.report.findings:
        raise SystemExit(
            f"validate: expected {n} clean returns, got {len(v.records)} and {len(v.report.findings)} findings"
        )
    return clock.result(n)


def validate_cli(folder: Path, jobs: int) -> dict:
    """``python -m xltool validate FOLDER --jobs J`` end to end: start-up, reading, the printed table."""
    cmd = [sys.executable, "-m", "xltool", "validate", str(folder), "--jobs", str(jobs)]
    with _Clock() as clock:
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True)
    if done.returncode != 0:
        raise SystemExit(f"xltool validate exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return clock.result(len(_files(folder)), output_bytes=len(done.stdout))


def validate_one(folder: Path, repeat: int = 5) -> dict:
    """``python -m xltool validate`` on a folder holding only the first return: the command's fixed
    cost (start-up, imports, one file), the median of a few runs."""
    import shutil
    import tempfile

    first = _files(folder)[0]
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy2(first, Path(tmp) / first.name)
        cmd = [sys.executable, "-m", "xltool", "validate", tmp, "--jobs", "1"]
        for _ in range(repeat):
            start = time.perf_counter()
            done = subprocess.run(cmd, cwd=ROOT, capture_output=True)
            times.append(time.perf_counter() - start)
            if done.returncode != 0:
                raise SystemExit(f"xltool validate exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return {
        "seconds": sorted(times)[len(times) // 2],
        "cpu_seconds": 0.0,
        "measured": 1,
        "peak_mb": 0,
        "child_peak_mb": 0,
    }


def consolidate_lib(folder: Path, jobs: int, out: Path) -> dict:
    """xltool.write.consolidation.consolidate of the folder into one province workbook (written and renamed)."""
    with _Clock() as clock:
        from xltool.model import Unit
        from xltool.write.consolidation import consolidate

        result = consolidate([folder], out, Unit("230000", "基准省", "省"), jobs=jobs)
    n = len(_files(folder))
    if len(result.included) != n:
        raise SystemExit(f"consolidate: {len(result.included)} of {n} returns included")
    # the output is a valid return one level up (checked after the figures were taken)
    from xltool.read.dispatch import read_return

    rec = read_return(out)
    if not rec.readable or rec.findings or rec.identity.kind != "consolidated":
        raise SystemExit(f"consolidated workbook does not read back cleanly: {rec.findings[:3]}")
    return clock.result(n, output_bytes=out.stat().st_size)


def warm(folder: Path) -> dict:
    """Read every file once, untimed, so that no phase pays for the disk and the first one
    measured (the floor) is not penalised by a cold page cache; and import what the phases import
    and run the command once, so that Python's bytecode cache is written (as on a clerk's PC
    after the first run) and no phase pays for compiling xltool's sources."""
    total = sum(len(p.read_bytes()) for p in _files(folder))
    import xltool.validate  # noqa: F401
    import xltool.write.consolidation  # noqa: F401  (writes the bytecode cache of every module it imports)

    subprocess.run([sys.executable, "-m", "xltool", "--help"], cwd=ROOT, capture_output=True, check=True)
    return {"seconds": 0.0, "cpu_seconds": 0.0, "measured": 0, "peak_mb": 0, "child_peak_mb": 0, "bytes": total}


def startup(repeat: int = 7) -> dict:
    """``python -m xltool --help``: the median wall time of a few runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "xltool", "--help"], cwd=ROOT, stdout=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return {
        "seconds": sorted(times)[len(times) // 2],
        "cpu_seconds": 0.0,
        "measured": 1,
        "peak_mb": 0,
        "child_peak_mb": 0,
    }


def run_phase(name: str, folder: str, jobs: int, limit: int, out: str) -> None:
    """Entry point of the phase process: run one phase, print its JSON line."""
    folder_path = Path(folder)
    if name == "floor":
        result = floor(folder_path, limit)
    elif name == "baseline":
        result = baseline(folder_path, limit)
    elif name == "validate-one":
        result = validate_one(folder_path)
    elif name == "necessary":
        result = necessary(folder_path, limit)
    elif name == "validate":
        result = validate_lib(folder_path, jobs)
    elif name == "validate-cli":
        result = validate_cli(folder_path, jobs)
    elif name == "consolidate":
        result = consolidate_lib(folder_path, jobs, Path(out))
    elif name == "warm":
        result = warm(folder_path)
    elif name == "startup":
        result = startup()
    else:
        raise SystemExit(f"unknown phase {name}")
    print(json.dumps(result))
