"""The benchmark runs end to end at a tiny N (timings are not asserted: benchmarks are not tests)."""

import csv
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_benchmark_runs_at_n5_and_writes_every_phase(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "run.py"),
            "--sizes",
            "5",
            "--jobs",
            "2",
            "--repeat",
            "1",
            "--out",
            str(tmp_path),
            "--command-n",
            "5",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rows = list(csv.DictReader((tmp_path / "results.csv").open(encoding="utf-8")))
    phases = [(r["phase"], r["jobs"]) for r in rows]
    assert phases == [
        ("floor", "1"),
        ("baseline", "1"),
        ("validate", "1"),
        ("validate", "2"),
        ("validate-cli", "1"),
        ("validate-cli", "2"),
        ("necessary", "1"),
        ("consolidate", "2"),
        ("startup", "1"),
    ]
    for r in rows[:-1]:
        assert r["n"] == "5" and r["files_measured"] == "5"
        assert float(r["ms_per_workbook"]) > 0 and float(r["peak_mb"]) > 0
    # the returns were generated through the template and every one validated clean (the phase
    # exits non-zero otherwise); the consolidated workbook is removed after it read back cleanly
    assert len(list((tmp_path / "returns-s20240101-n5").glob("*.xlsx"))) == 5
    assert not list(tmp_path.glob("consolidated-*.xlsx"))
    assert "calamine floor" in done.stdout and "openpyxl baseline" in done.stdout
    # the command's target is checked at --command-n, with what it cannot do without beside it
    assert "`xltool validate` command, --jobs 1, N = 5" in done.stdout
    assert "container check and calamine's five sheets alone take" in done.stdout
    assert "The command on one file takes" in done.stdout
