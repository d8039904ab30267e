"""The bounds of one file measured as a clerk meets them: ``xltool validate`` on the real command line,
each file in a child forked from a warmed process, so that the child's CPU time and peak memory
(``os.wait4``) are what that file costs and nothing else (POSIX only: ``helpers.markers.needs_fork``)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_SECONDS = 2.0  # CPU seconds for one file, on top of a warmed process
MAX_MB = 300  # peak resident memory of the process validating one file

PROBE = r"""
import json, os, sys, time
from xltool.app.cli import main

def validate(args, out, err):
    pid = os.fork()
    if pid == 0:
        for fd, path in ((1, out), (2, err)):
            os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
        try:
            main(["validate", *args], prog_name="xltool")
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            import traceback
            traceback.print_exc()
            code = 99
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    start = time.perf_counter()
    _, status, usage = os.wait4(pid, 0)
    return {
        "exit": os.waitstatus_to_exitcode(status),
        "wall": time.perf_counter() - start,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,
        "stdout": open(out, encoding="utf-8", errors="replace").read(),
        "stderr": open(err, encoding="utf-8", errors="replace").read(),
    }

jobs, scratch, warm = json.loads(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
out, err = os.path.join(scratch, "out"), os.path.join(scratch, "err")
# warm up here, before the forks: the command imports pandas, pandera, rich and PDFium when it runs,
# and the format, layout and schema are built on first use; a child then pays only for its file
import pypdfium2, rich.console, xltool.read.sources.pdf, xltool.roster, xltool.write.report
from xltool.validate import validate_paths
if warm["paths"]:
    validate_paths(warm["paths"], year=warm["year"])
print(json.dumps({name: validate(args, out, err) for name, args in jobs}))
"""


def measure_validate(
    jobs: Sequence[tuple[str, Sequence[str]]], scratch: Path, warm: Sequence[Path] = (), year: int | None = None
) -> dict[str, dict]:
    """``xltool validate ARGS`` of each job (name, arguments) in its own forked child: exit code, output,
    CPU seconds, wall seconds and peak MB, by name; ``warm``: files validated first in the parent."""
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            json.dumps([(name, list(args)) for name, args in jobs]),
            str(scratch),
            json.dumps({"paths": [str(p) for p in warm], "year": year}),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))
