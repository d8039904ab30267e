"""Benchmark: xltool validate and consolidate on N filled returns, beside the plain approaches.

    python benchmarks/run.py                       # N = 100, 1,000, 10,000; --jobs 2
    python benchmarks/run.py --sizes 100,1000 --jobs 2 --out benchmarks/out
    python benchmarks/run.py documents             # 1,000 HTML and 100 .docx reports (documents.py)
    python benchmarks/run.py corpus                # the real reports of tests/corpus (corpus.py)
    python benchmarks/run.py ocr                   # scans of the corpus PDFs read by OCR, s/page (ocr.py)
    python benchmarks/run.py serve                 # one upload through xltool serve, 50 in the inbox (serve.py)

For each N it generates (once; cached under --out) N filled returns with random but consistent
figures through the real template code (see generate.py), reads every file once untimed (a warm
page cache for every phase alike), then times, each phase in a fresh process and --repeat times
(default 2, the fastest counts; the slow baseline runs once). The repeats go round the phases
in turn (floor, ..., floor, ...), so that other work on the machine falls on all of them alike:

  floor          python-calamine reading the 200 statutory cells of every file (values only)
  necessary      at N = 1,000: the container check and calamine reading the five sheets the
                 reader reads, nothing else: what the command cannot do without, per file
  baseline       openpyxl.load_workbook (default mode) + reading the same cells; at most
                 --baseline-max files, every k-th, reported per workbook
  validate j1    xltool.validate.validate_paths(folder, jobs=1), the library call
  validate jJ    the same with jobs=J
  cli j1, jJ     `python -m xltool validate FOLDER --jobs 1` (at N = 1,000) and --jobs J, end to end
                 (start-up, imports, table output)
  consolidate jJ xltool.consolidate.consolidate(folder, ...) into one province workbook

It prints milliseconds per workbook (wall clock, and CPU of the phase with its workers), xltool
over the floor and the baseline over xltool, peak memory, and checks the issue's targets when
N = 10,000 is in the run, and the command's (``xltool validate --jobs 1`` within 2x the floor)
when N = 1,000 is; every figure goes to <out>/results.csv. Timings of the library calls
include their imports (pandas, pandera): a fixed ~0.4 s that matters only at small N. Every
phase checks its result (all returns valid, the consolidated workbook reads back as a clean
return one level up) after its figures are taken.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SEED = 20240101
TARGET_N = 10_000
COMMAND_N = 1_000  # the command's target: --jobs 1 within COMMAND_TIMES the floor at this N
COMMAND_TIMES = 2.0


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem = 0
    return f"{cpu}, {cores()} cores, {mem:.0f} GB RAM, Python {platform.python_version()}, {platform.system()}"


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def versions() -> str:
    from importlib.metadata import version

    return ", ".join(f"{p} {version(p)}" for p in ("python-calamine", "openpyxl", "pandas", "pandera", "xlsxwriter"))


PHASE_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
"""The phases run as Python runs on a clerk's PC, writing its bytecode cache (some sandboxes and CI
images set PYTHONDONTWRITEBYTECODE, which makes every run compile xltool's sources again)."""


def phase(name: str, folder: Path | str = "", jobs: int = 1, limit: int = 0, out: Path | str = "") -> dict:
    """Run one phase in a fresh process and return its JSON figures."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--phase", name, "--folder", str(folder)]
    cmd += ["--jobs", str(jobs), "--limit", str(limit), "--phase-out", str(out)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=PHASE_ENV)
    if done.returncode != 0:
        raise SystemExit(f"phase {name} failed:\n{done.stderr[-2000:]}{done.stdout[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(
    n: int, folder: Path, jobs: int, baseline_max: int, repeat: int, out: Path, say, command_n: int = COMMAND_N
) -> list[dict]:
    """Every phase for one N; rows for the table and the CSV. Each phase but the baseline runs
    ``repeat`` times, in rounds over all the phases, and the fastest run counts (peak memory:
    the largest of the runs); ``runs_s`` keeps every run's seconds, round by round."""
    plan = [
        ("floor", "calamine floor", 1, 0),
        ("baseline", "openpyxl baseline", 1, baseline_max),
        ("validate", "xltool validate", 1, 0),
    ]
    if jobs > 1:
        plan.append(("validate", "xltool validate", jobs, 0))
    if jobs == 1 or n == command_n:  # the command's target is on one core
        plan.append(("validate-cli", "xltool validate (CLI)", 1, 0))
    if jobs > 1:
        plan.append(("validate-cli", "xltool validate (CLI)", jobs, 0))
    if n == command_n:
        plan.append(("necessary", "container check + calamine", 1, 0))
    plan.append(("consolidate", "xltool consolidate", jobs, 0))
    phase("warm", folder)
    runs: list[list[dict]] = [[] for _ in plan]
    for turn in range(max(repeat, 1)):
        for k, (name, label, j, limit) in enumerate(plan):
            if name == "baseline" and turn:
                continue
            say(f"  N={n:>6} {label} (jobs {j}), run {turn + 1} ...")
            target = out / f"consolidated-n{n}.xlsx"
            runs[k].append(phase(name, folder, j, limit, target))
            if name == "validate-cli":  # the phase process only waits: the CLI and its workers are children
                runs[k][-1]["peak_mb"], runs[k][-1]["child_peak_mb"] = runs[k][-1]["child_peak_mb"], 0.0
            if name == "consolidate":
                target.unlink(missing_ok=True)
    rows = []
    for (name, label, j, _limit), done in zip(plan, runs, strict=True):
        r = dict(min(done, key=lambda x: x["seconds"]))
        r["peak_mb"] = max(x["peak_mb"] for x in done)
        r["child_peak_mb"] = max(x["child_peak_mb"] for x in done)
        rows.append(
            {
                "n": n,
                "phase": name,
                "label": label,
                "jobs": j,
                "files_measured": r["measured"],
                "seconds": round(r["seconds"], 3),
                "ms_per_workbook": round(1000 * r["seconds"] / r["measured"], 4),
                "cpu_ms_per_workbook": round(1000 * r["cpu_seconds"] / r["measured"], 4),
                "peak_mb": r["peak_mb"],
                "worker_peak_mb": r["child_peak_mb"] if j > 1 else 0.0,
                "runs_s": [x["seconds"] for x in done],
            }
        )
    floor_ms = rows[0]["ms_per_workbook"]
    base_ms = rows[1]["ms_per_workbook"]
    for row in rows:
        ms = row["ms_per_workbook"]
        row["vs_floor"] = round(ms / floor_ms, 2)
        row["baseline_over"] = round(base_ms / ms, 1)
    return rows


def command_target(rows: list[dict], say, one_file_s: float | None = None, command_n: int = COMMAND_N) -> None:
    """The command's target: ``xltool validate --jobs 1`` end to end (start-up and imports
    included) at N = command_n within COMMAND_TIMES the floor, fastest run against fastest run;
    the ratio of each round (floor and command run one after the other) shows the spread."""
    at = {(r["n"], r["phase"], r["jobs"]): r for r in rows}
    floor, cli = at.get((command_n, "floor", 1)), at.get((command_n, "validate-cli", 1))
    text = f"`xltool validate` command, --jobs 1, N = {command_n:,}: <= {COMMAND_TIMES:g}x floor"
    if floor is None or cli is None:
        say(f"\n{text}: not measured (N = {command_n:,} is not in this run).")
        return
    ratio = cli["ms_per_workbook"] / floor["ms_per_workbook"]
    rounds = sorted(c / f for f, c in zip(floor["runs_s"], cli["runs_s"], strict=False))
    cpu = cli["cpu_ms_per_workbook"] / floor["cpu_ms_per_workbook"]
    say(f"\nThe command's target on this {cores()}-core machine:")
    say(
        f"  {'met ' if ratio <= COMMAND_TIMES else 'over'}  {text}: {ratio:.2f}x "
        f"({cli['ms_per_workbook']:.3f} over {floor['ms_per_workbook']:.3f} ms/wb; "
        f"each round {rounds[0]:.2f}-{rounds[-1]:.2f}x, CPU {cpu:.2f}x)"
    )
    need = at.get((command_n, "necessary", 1))
    if need is None:
        return
    budget = COMMAND_TIMES * floor["ms_per_workbook"]
    need_ms = need["ms_per_workbook"]
    say(
        f"  Where the {budget:.3f} ms/wb of {COMMAND_TIMES:g}x go: the container check and calamine's five sheets alone take "
        f"{need_ms:.3f} ms/wb ({need_ms / floor['ms_per_workbook']:.2f}x the floor), leaving {budget - need_ms:.3f} ms/wb "
        "for the reader's checks, validation and start-up"
    )
    if one_file_s is not None:
        fixed = 1000 * one_file_s / command_n
        say(
            f"  The command on one file takes {one_file_s:.2f} s (start-up, imports, one return): {fixed:.3f} ms/wb "
            f"at N = {command_n:,}; the reader's checks and validation take the rest, "
            f"{cli['ms_per_workbook'] - need_ms - fixed:.3f} ms/wb"
        )


def print_table(rows: list[dict], say) -> None:
    head = f"{'N':>6}  {'phase':<24} {'jobs':>4} {'files':>6} {'total s':>8} {'ms/wb':>8} {'cpu ms/wb':>9} {'x floor':>8} {'base/x':>7} {'peak MB':>8} {'worker MB':>9}"
    say(head)
    say("-" * len(head))
    for r in rows:
        worker = f"{r['worker_peak_mb']:.0f}" if r["worker_peak_mb"] else "-"
        say(
            f"{r['n']:>6}  {r['label']:<24} {r['jobs']:>4} {r['files_measured']:>6} {r['seconds']:>8.2f} "
            f"{r['ms_per_workbook']:>8.3f} {r['cpu_ms_per_workbook']:>9.3f} {r['vs_floor']:>8.2f} {r['baseline_over']:>7.1f} {r['peak_mb']:>8.0f} {worker:>9}"
        )


def verdict(rows: list[dict], jobs: int, startup_s: float, n_cores: int, say) -> None:
    """The issue's targets, checked on the largest N of this run for ``validate --jobs J`` (the
    cores given); the one-core figures are printed beside them for reference."""
    big = max(r["n"] for r in rows)
    if big < TARGET_N:
        say(f"\nThe targets are stated for N = {TARGET_N:,}; this run stops at N = {big:,}: not checked.")
        return
    at = {(r["n"], r["phase"], r["jobs"]): r for r in rows}
    floor_ms = at[(big, "floor", 1)]["ms_per_workbook"]
    base_ms = at[(big, "baseline", 1)]["ms_per_workbook"]
    smaller = [n for n in {r["n"] for r in rows} if n < big]

    def checks(j: int) -> list[tuple[str, float, str, bool]]:
        ms = at[(big, "validate", j)]["ms_per_workbook"]
        out = [
            (f"validate --jobs {j}: per workbook, times the calamine floor", ms / floor_ms, "<= 3", ms <= 3 * floor_ms),
            (
                f"validate --jobs {j}: times faster than the openpyxl baseline",
                base_ms / ms,
                ">= 10",
                base_ms >= 10 * ms,
            ),
        ]
        if smaller:
            mid = max(smaller)
            ratio = at[(big, "validate", j)]["seconds"] / at[(mid, "validate", j)]["seconds"]
            limit = 1.1 * big / mid
            out.append((f"validate --jobs {j}: cost of N={big} over N={mid}", ratio, f"<= {limit:.1f}", ratio <= limit))
        return out

    peak = max(
        r["peak_mb"] + r["worker_peak_mb"] * (r["jobs"] if r["phase"] != "validate-cli" else 0)
        for r in rows
        if r["n"] == big and r["phase"] != "baseline"
    )
    say(f"\nTargets at N={big} on this {n_cores}-core machine (validate is the library call, --jobs {jobs}):")
    targets = checks(jobs) + [
        ("peak memory of any xltool phase (main + workers), MB", peak, "< 1024", peak < 1024),
        ("xltool --help start-up, s", startup_s, "< 0.5", startup_s < 0.5),
    ]
    for text, value, want, ok in targets:
        say(f"  {'PASS' if ok else 'FAIL'}  {text}: {value:.2f} (target {want})")
    if jobs != 1:
        say("The same on one core (--jobs 1), for reference:")
        for text, value, want, ok in checks(1):
            say(f"  {'met ' if ok else 'over'}  {text}: {value:.2f} ({want} is the target above)")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["documents"]:  # web pages and Word files: benchmarks/documents.py
        from documents import main as documents

        return documents(argv[1:])
    if argv[:1] == ["corpus"]:  # the real reports of tests/corpus: benchmarks/corpus.py
        from corpus import main as corpus

        return corpus(argv[1:])
    if argv[:1] == ["ocr"]:  # scans of the corpus PDFs read by OCR, seconds per page: benchmarks/ocr.py
        from ocr import main as ocr

        return ocr(argv[1:])
    if argv[:1] == ["serve"]:  # one upload through xltool serve, 50 returns in the inbox: benchmarks/serve.py
        from serve import main as serve

        return serve(argv[1:])
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--sizes", default="100,1000,10000", help="comma-separated N (default 100,1000,10000)")
    p.add_argument("--jobs", type=int, default=2, help="processes for xltool's --jobs (default 2)")
    p.add_argument("--out", default=str(HERE / "out"), help="cache of returns and results.csv (default benchmarks/out)")
    p.add_argument("--seed", type=int, default=SEED, help=f"seed of the figures (default {SEED})")
    p.add_argument(
        "--baseline-max",
        type=int,
        default=1000,
        help="openpyxl reads at most this many files per N, every k-th (0: all; default 1000)",
    )
    p.add_argument(
        "--repeat", type=int, default=2, help="runs of each phase but the baseline; the fastest counts (default 2)"
    )
    p.add_argument("--command-n", type=int, default=COMMAND_N, help=argparse.SUPPRESS)  # tests: a tiny N
    p.add_argument("--phase", help=argparse.SUPPRESS)
    p.add_argument("--folder", help=argparse.SUPPRESS)
    p.add_argument("--limit", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--phase-out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.phase:
        from phases import run_phase

        run_phase(args.phase, args.folder, args.jobs, args.limit, args.phase_out)
        return 0

    from generate import ensure_returns

    def say(text: str = "") -> None:
        print(text, flush=True)

    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    started = time.perf_counter()
    say(f"Machine: {machine()}")
    say(f"Libraries: {versions()}")
    folders = {}
    for n in sizes:
        gen = time.perf_counter()
        folders[n] = ensure_returns(out, n, args.seed, jobs=max(args.jobs, 1), say=say)
        say(f"  N={n}: {folders[n]} ready in {time.perf_counter() - gen:.1f} s")
    load_start = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    startup_s = phase("startup")["seconds"]
    command_n = args.command_n
    one_file_s = phase("validate-one", folders[command_n])["seconds"] if command_n in folders else None
    rows: list[dict] = []
    for n in sizes:
        rows += measure(n, folders[n], args.jobs, args.baseline_max, args.repeat, out, say, command_n)
    say("")
    say(
        "ms/wb: wall-clock milliseconds per workbook; cpu ms/wb: CPU time of the phase and its worker processes per workbook;"
    )
    say("x floor: ms/wb over the calamine floor's; base/x: the openpyxl baseline's ms/wb over this row's.")
    for n in sizes:
        r = next(r for r in rows if r["n"] == n and r["phase"] == "baseline")
        if r["files_measured"] < n:
            say(
                f"N={n}: the openpyxl baseline read {r['files_measured']} of the {n} files (every {-(-n // args.baseline_max)}th)."
            )
    say("peak MB: the phase's main process; worker MB: the largest of its --jobs worker processes.")
    say(
        f"Each phase but the baseline ran {args.repeat} times, the fastest counts; files were read once before (warm cache)."
    )
    if hasattr(os, "getloadavg"):
        say(
            f"Load average (1 min) before/after the measurements: {load_start:.2f} / {os.getloadavg()[0]:.2f}"
            " (other work on the machine slows wall times; cpu ms/wb is not affected)."
        )
    say("")
    print_table(rows, say)
    say(f"\nxltool --help start-up: {startup_s * 1000:.0f} ms (median of 7)")
    verdict(rows, args.jobs, startup_s, cores(), say)
    command_target(rows, say, one_file_s, command_n)
    csv_path = out / "results.csv"
    fields = [
        "n",
        "phase",
        "label",
        "jobs",
        "files_measured",
        "seconds",
        "ms_per_workbook",
        "cpu_ms_per_workbook",
        "vs_floor",
        "baseline_over",
        "peak_mb",
        "worker_peak_mb",
    ]
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
        w.writerow(
            {
                "n": "",
                "phase": "startup",
                "label": "xltool --help",
                "jobs": 1,
                "files_measured": 0,
                "seconds": round(startup_s, 3),
            }
        )
    say(f"\nResults written to {csv_path}; whole run {time.perf_counter() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
