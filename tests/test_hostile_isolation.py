"""Bounded reading (issue 21, item 1 and the server's share of item 5): a file that makes its reader
allocate without end, run for ever or abort is one finding for that file, and the rest of the batch
is validated, whether the pre-checks saw it coming or not; through the command (``--jobs 1`` and 2)
and through ``xltool serve``, which answers the next request.

The files and the misbehaving readers are built by ``hostile.isolation``."""

from __future__ import annotations

import ctypes
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from helpers.returns import make_return
from hostile.isolation import hex_bomb_pdf, hook_dir

from xltool.model import Unit
from xltool.read.bounds import ReadLimits
from xltool.read.isolate import (
    IoCounters,
    JobBasicLimits,
    JobExtendedLimits,
    ProcessMemoryCounters,
)

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
TOWN = Unit("230723101", "乌伊岭镇", "乡镇")
SECONDS = 2  # the watchdog's limit in these tests (the default is 5)
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="aborts and address-space limits are POSIX here")


def env(tmp_path: Path) -> dict[str, str]:
    """The environment of a command whose readers misbehave on cue (``hostile.isolation.install``)."""
    hooks = hook_dir(tmp_path / "hooks")
    path = os.pathsep.join([str(hooks), str(ROOT), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, "XLTOOL_MAX_READ_SECONDS": str(SECONDS)}


def guard() -> None:
    """Every process of the command at most 6 GB of address space: were isolation broken, the bomb
    would stop there instead of taking the shared machine's memory."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (6 * 1024**3, resource.RLIM_INFINITY))


def batch(folder: Path) -> dict[str, str]:
    """Good returns and documents between hostile ones; file name -> what it must give."""
    folder.mkdir()
    html = (CORPUS / "pingtan-2023.html").read_bytes()
    files = {
        "1-hostile-sleep.html": "time",
        "2-good.html": "read",
        "3-hostile-abort.html": "abort",
        "4-good.xlsx": "passed",
        "5-hostile-memory.html": "memory",
        "6-炸弹.pdf": "bomb",
        "7-good.pdf": "read",
    }
    for name in files:
        if name.endswith(".html"):
            (folder / name).write_bytes(html)
    make_return(folder / "4-good.xlsx", TOWN)
    (folder / "6-炸弹.pdf").write_bytes(hex_bomb_pdf())
    shutil.copy(CORPUS / "hongze-2024.pdf", folder / "7-good.pdf")
    return files


def check(answer: dict, files: dict[str, str]) -> None:
    """Every file answered; each hostile one by one finding naming what was exceeded."""
    by_file: dict[str, list[dict]] = {}
    for f in answer["findings"]:
        by_file.setdefault(Path(f["file"]).name, []).append(f)
    assert sorted(Path(w["file"]).name for w in answer["workbooks"]) == sorted(files)
    for name, want in files.items():
        found = by_file.get(name, [])
        rules = [f["rule"] for f in found]
        if want == "passed":
            assert rules == [], found
        elif want == "read":  # read as a report: no file-level finding
            assert not [r for r in rules if r.startswith("F-")], found
        else:
            assert len(found) == 1, found
            [finding] = found
            message = finding["message"]
            if want == "time":
                assert finding["rule"] == "F-TOO-LARGE" and f"{SECONDS} 秒" in message, finding
            elif want == "memory":
                assert finding["rule"] == "F-TOO-LARGE" and "内存" in message and "256 MB" in message, finding
            elif want == "abort":
                assert finding["rule"] == "F-UNREADABLE" and "SIGABRT" in message, finding
            else:  # the bomb: the worker's limit or a pre-check that sees it
                assert finding["rule"] in ("F-UNREADABLE", "F-TOO-LARGE", "F-BOMB"), finding
            assert name in message


# --------------------------------------------------------------------------- the command


@pytest.mark.slow
@posix_only
@pytest.mark.parametrize("jobs", [1, 2])
def test_hostile_files_are_one_finding_each_and_the_batch_goes_on(tmp_path, jobs):
    files = batch(tmp_path / "收件箱")
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "xltool", "validate", str(tmp_path / "收件箱"), "--format", "json", "--jobs", str(jobs)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env(tmp_path),
        preexec_fn=guard,
        timeout=120,
    )
    seconds = time.monotonic() - started
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout, proc.stderr
    check(json.loads(proc.stdout), files)
    assert seconds < 30, seconds  # the sleeper is stopped after SECONDS


# --------------------------------------------------------------------------- the server


@pytest.mark.slow
@posix_only
def test_serve_answers_the_next_request_after_hostile_files(tmp_path):
    (tmp_path / "year").mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "xltool", "serve", "--no-browser", "--port", "0", str(tmp_path / "year")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=env(tmp_path),
        preexec_fn=guard,
    )
    try:
        line = proc.stdout.readline().strip() if proc.stdout else ""
        m = re.match(r"http://[^/]+:(\d+)/\?token=([A-Za-z0-9_-]+)", line)
        assert m, (line, proc.communicate(timeout=10) if proc.poll() is not None else "")
        port, token = m.groups()
        files = batch(tmp_path / "src")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-Xltool-Token": token}, timeout=60) as c:

            def validate(*names: str) -> dict:
                sent = [("files", (n, (tmp_path / "src" / n).read_bytes(), "application/octet-stream")) for n in names]
                r = c.post("/api/validate", files=sent)
                assert r.status_code == 200, r.text
                return r.json()

            check(validate(*files), files)
            for name in ("3-hostile-abort.html", "6-炸弹.pdf", "5-hostile-memory.html"):
                check(validate(name), {name: files[name]})
                assert proc.poll() is None
            check(validate("4-good.xlsx"), {"4-good.xlsx": "passed"})
            assert c.get("/api/status").status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _out, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            _out, err = proc.communicate()
    assert "Traceback" not in err


# --------------------------------------------------------------------------- the limits themselves


def test_limits_follow_the_environment(monkeypatch):
    monkeypatch.setenv("XLTOOL_MAX_READ_MB", "100")
    monkeypatch.setenv("XLTOOL_MAX_READ_SECONDS", "9")
    assert ReadLimits.from_env() == ReadLimits(memory_bytes=100 * 1024 * 1024, seconds=9)
    monkeypatch.setenv("XLTOOL_MAX_READ_MB", "many")
    assert ReadLimits.from_env().memory_bytes == 256 * 1024 * 1024


@pytest.mark.skipif(ctypes.sizeof(ctypes.c_void_p) != 8, reason="the documented sizes are those of 64-bit Windows")
def test_job_object_structures_have_the_documented_sizes():
    """What SetInformationJobObject and K32GetProcessMemoryInfo are given on 64-bit Windows
    (JOBOBJECT_BASIC_LIMIT_INFORMATION, IO_COUNTERS, JOBOBJECT_EXTENDED_LIMIT_INFORMATION,
    PROCESS_MEMORY_COUNTERS), checked where it cannot be run."""
    assert ctypes.sizeof(JobBasicLimits) == 64
    assert JobBasicLimits.MinimumWorkingSetSize.offset == 24
    assert JobBasicLimits.Affinity.offset == 48
    assert ctypes.sizeof(IoCounters) == 48
    assert ctypes.sizeof(JobExtendedLimits) == 144
    assert JobExtendedLimits.ProcessMemoryLimit.offset == 112
    assert ctypes.sizeof(ProcessMemoryCounters) == 72
    assert ProcessMemoryCounters.PagefileUsage.offset == 56
