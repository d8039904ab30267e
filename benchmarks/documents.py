"""Benchmark: reading published reports (web pages, Word files, PDFs) through the whole reading path.

    python benchmarks/run.py documents                      # 1,000 HTML, 100 .docx and 100 PDF reports
    python benchmarks/run.py documents --html 200 --docx 20 --pdf 0 --repeat 1

Reports are generated once (cached under --out, default benchmarks/out) from filled returns with
random but consistent figures (``generate.figures``, the same as the workbook benchmark): each
return's tables laid out from the definition as a portal prints them (an HTML page with one
``<table>`` per 表, labels with their rowspan/colspan, figures at the definition's cells; a Word
file built with python-docx with merged cells), named ``<unit>2024年政府信息公开工作年度报告`` so that the
unit and year come from the file name. The PDFs are the first --pdf of those web pages made into
PDF by LibreOffice (one ``soffice --convert-to pdf`` call for all of them, cached like the rest;
skipped when soffice is not installed): real PDF tables, 表三 across pages, 表四's narrow columns
and the column rule Writer/Web sometimes leaves out. Each phase runs in a fresh process, --repeat times, the
fastest counts:

  read html / read docx   ``xltool.reader.read_return`` on every file in turn, one core (imports
                          and the first file read untimed); every file must read back without a
                          finding and with exactly its figures
  read pdf                the same on every PDF; exactly its figures and no error (a warning such
                          as a label broken by the PDF, D-LABEL-VARIANT, is allowed and counted)
  cli html / cli docx     ``python -m xltool validate FOLDER --jobs 1 --format json`` end to end
                          (start-up, imports, the batch checks, the JSON output); exit 0 expected

It prints milliseconds per report (wall clock and CPU) and the target lines
"HTML ≤ 20 ms per report on one core: met/over" and "PDF ≤ 300 ms per report on one core: met/over"
(the read rows).
"""

from __future__ import annotations

import argparse
import html
import io
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for p in (ROOT, HERE):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

SEED = 20240101
YEAR = 2024
HTML_TARGET_MS = 20.0
PDF_TARGET_MS = 300.0
GENERATOR_VERSION = "1"  # raise when the documents drawn for a unit change


# --------------------------------------------------------------------------- the reports


def _boxes(fmt, key: str, values: dict[str, int]) -> list[tuple[int, int, str, int, int]]:
    """(row, col, text, rowspan, colspan) of one table as the format prints it, rows counted from
    the first row under the title."""
    from xltool.values import AMOUNT_SCALE

    t = fmt.table(key)
    top = t.title_span.last_row + 1
    out = []

    def put(span, text):
        out.append(
            (
                span.first_row - top,
                span.first_col,
                text,
                span.last_row - span.first_row + 1,
                span.last_col - span.first_col + 1,
            )
        )

    for span, text in t.printed_labels.items():
        put(span, text)
    for c in fmt.cells.values():
        if c.table == key:
            v = values[c.id]
            if c.kind == "amount":
                text = format(Decimal(v) / AMOUNT_SCALE, "f")
                text = text.rstrip("0").rstrip(".") if "." in text else text
            else:
                text = str(v)
            put(c.span, text)
    return out


def html_report(fmt, values: dict[str, int], title: str) -> str:
    """A CMS page: title, headings, one bordered table per 表 with rowspan/colspan, cell text in <p>."""
    parts = [f'<html><head><meta charset="utf-8"><title>{html.escape(title)}</title></head><body>']
    parts.append(f"<h1>{html.escape(title)}</h1><p>一、总体情况</p><p>本机关认真贯彻落实《条例》。</p>")
    for t in fmt.tables:
        boxes = _boxes(fmt, t.key, values)
        parts.append(f'<p>{html.escape(t.title)}</p><table border="1" style="border-collapse:collapse">')
        for r in range(max(b[0] + b[3] for b in boxes)):
            row = sorted((b for b in boxes if b[0] == r), key=lambda b: b[1])
            cells = []
            for _, _, text, rs, cs in row:
                span = (f' rowspan="{rs}"' if rs > 1 else "") + (f' colspan="{cs}"' if cs > 1 else "")
                cells.append(f"<td{span}><p>{html.escape(text)}</p></td>")
            parts.append("<tr>" + "".join(cells) + "</tr>")
        parts.append("</table>")
    parts.append("<p>五、存在的主要问题及改进情况</p></body></html>")
    return "\n".join(parts)


def docx_report(fmt, values: dict[str, int], title: str) -> bytes:
    """A Word file built with python-docx: title, headings, one table per 表 with merged cells."""
    import docx

    document = docx.Document()
    document.add_paragraph(title)
    for t in fmt.tables:
        boxes = _boxes(fmt, t.key, values)
        document.add_paragraph(t.title)
        table = document.add_table(rows=max(b[0] + b[3] for b in boxes), cols=max(b[1] + b[4] for b in boxes))
        for r, c, text, rs, cs in boxes:
            cell = table.cell(r, c)
            if rs > 1 or cs > 1:
                cell = cell.merge(table.cell(r + rs - 1, c + cs - 1))
            cell.text = text
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def report_name(unit_name: str, suffix: str) -> str:
    return f"{unit_name}{YEAR}年政府信息公开工作年度报告{suffix}"


def expected(fmt, i: int, seed: int) -> tuple[str, dict[str, int]]:
    """Unit i's name and every figure of its report (totals included)."""
    from generate import figures, unit_of

    from xltool.totals import recompute_totals

    unit = unit_of(i)
    return unit.name, recompute_totals(figures(fmt, unit, random.Random(f"doc:{seed}:{i}")), fmt)


def ensure_documents(out: Path, kind: str, n: int, seed: int, say=print) -> Path:
    """The folder of N reports of ``kind`` ("html" or "docx"), generated only when not cached."""
    from xltool.definition import get_format

    fmt = get_format()
    folder = out / f"documents-{kind}-s{seed}-n{n}"
    manifest = folder / "manifest.json"
    key = {"seed": seed, "n": n, "fingerprint": fmt.fingerprint, "generator": GENERATOR_VERSION}
    suffix = f".{kind}"
    if manifest.exists() and json.loads(manifest.read_text()) == key and len(list(folder.glob(f"*{suffix}"))) == n:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(f"*{suffix}"):
        old.unlink()
    say(f"  generating {n} {kind} reports into {folder} ...")
    for i in range(n):
        name, values = expected(fmt, i, seed)
        path = folder / report_name(name, suffix)
        title = report_name(name, "")
        if kind == "html":
            path.write_text(html_report(fmt, values, title), encoding="utf-8")
        else:
            path.write_bytes(docx_report(fmt, values, title))
    manifest.write_text(json.dumps(key))
    return folder


def ensure_pdfs(out: Path, n: int, seed: int, say=print) -> Path | None:
    """The folder of the first N web pages made into PDF by LibreOffice (one soffice call for all),
    made only when not cached; None when soffice is not installed."""
    soffice = shutil.which("soffice")
    if soffice is None:
        say("  soffice (LibreOffice) not found: no PDF reports")
        return None
    from xltool.definition import get_format

    fmt = get_format()
    folder = out / f"documents-pdf-s{seed}-n{n}"
    manifest = folder / "manifest.json"
    key = {"seed": seed, "n": n, "fingerprint": fmt.fingerprint, "generator": GENERATOR_VERSION}
    if manifest.exists() and json.loads(manifest.read_text()) == key and len(list(folder.glob("*.pdf"))) == n:
        return folder
    pages = ensure_documents(out, "html", n, seed, say)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.pdf"):
        old.unlink()
    say(f"  making {n} PDF reports with LibreOffice into {folder} ...")
    sources = [str(pages / report_name(expected(fmt, i, seed)[0], ".html")) for i in range(n)]
    profile = (out / "soffice-profile").resolve()
    cmd = [soffice, "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}"]
    done = subprocess.run([*cmd, "--convert-to", "pdf", "--outdir", str(folder), *sources], capture_output=True)
    if done.returncode != 0 or len(list(folder.glob("*.pdf"))) != n:
        raise SystemExit(f"soffice made {len(list(folder.glob('*.pdf')))} of {n} PDFs: {done.stderr.decode()[-500:]}")
    manifest.write_text(json.dumps(key))
    return folder


# --------------------------------------------------------------------------- the phases


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _files(folder: Path, kind: str) -> list[Path]:
    return sorted(folder.glob(f"*.{kind}"))


def read_phase(folder: Path, kind: str, seed: int) -> dict:
    """read_return on every file, one core; checked afterwards: no finding, exactly the figures."""
    from xltool.definition import get_format
    from xltool.read.dispatch import read_return

    fmt = get_format()
    files = _files(folder, kind)
    read_return(files[0])  # imports, the format's derived tables, the first parse: not per report
    records = []
    cpu, wall = _cpu(), time.perf_counter()
    for path in files:
        records.append(read_return(path))
    seconds, cpu = time.perf_counter() - wall, _cpu() - cpu
    by_name = {}
    for i in range(len(files)):
        name, values = expected(fmt, i, seed)
        by_name[report_name(name, f".{kind}")] = values
    warnings = 0
    for rec in records:
        want = by_name[rec.path.name]
        # a PDF may warn (a label the PDF broke, read by similarity); never an error, never a wrong figure
        bad = [f for f in rec.findings if kind != "pdf" or f.severity != "warning"]
        warnings += len(rec.findings) - len(bad)
        if bad or rec.source != kind or any(rec.values.get(c) != want[c] for c in fmt.cells):
            wrong = sorted(c for c in fmt.cells if rec.values.get(c) != want[c])[:5]
            raise SystemExit(
                f"{rec.path.name}: read as {rec.source!r} with findings {[f.rule for f in bad]} or wrong figures {wrong}"
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "measured": len(files),
        "peak_mb": round(peak, 1),
        "warnings": warnings,
    }


def cli_phase(folder: Path, kind: str) -> dict:
    """``python -m xltool validate FOLDER --jobs 1 --format json`` end to end."""
    cmd = [sys.executable, "-m", "xltool", "validate", str(folder), "--jobs", "1", "--format", "json"]
    cpu, wall = _cpu(), time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True)
    seconds, cpu = time.perf_counter() - wall, _cpu() - cpu
    n = len(_files(folder, kind))
    if done.returncode != 0:
        raise SystemExit(f"xltool validate exited {done.returncode}: {done.stderr.decode()[-500:]}")
    report = json.loads(done.stdout)
    if report["findings"] or len(report["workbooks"]) != n:
        raise SystemExit(f"validate: {len(report['workbooks'])} of {n} files, {len(report['findings'])} findings")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": seconds, "cpu_seconds": cpu, "measured": n, "peak_mb": round(peak, 1)}


def run_phase(name: str, folder: Path, kind: str, seed: int) -> dict:
    """One timed phase in a fresh process (this file with --phase); its JSON figures."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--phase", name, "--folder", str(folder)]
    cmd += ["--kind", kind, "--seed", str(seed)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"phase {name} {kind} failed:\n{done.stderr[-2000:]}{done.stdout[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="run.py documents",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--html", type=int, default=1000, help="HTML reports (default 1000)")
    p.add_argument("--docx", type=int, default=100, help="Word reports (default 100)")
    p.add_argument("--pdf", type=int, default=100, help="PDF reports made by LibreOffice (default 100)")
    p.add_argument("--out", default=str(HERE / "out"), help="cache of reports and results (default benchmarks/out)")
    p.add_argument("--seed", type=int, default=SEED, help=f"seed of the figures (default {SEED})")
    p.add_argument("--repeat", type=int, default=2, help="runs of each phase; the fastest counts (default 2)")
    p.add_argument("--phase", help=argparse.SUPPRESS)
    p.add_argument("--folder", help=argparse.SUPPRESS)
    p.add_argument("--kind", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.phase:
        folder = Path(args.folder)
        result = read_phase(folder, args.kind, args.seed) if args.phase == "read" else cli_phase(folder, args.kind)
        print(json.dumps(result))
        return 0

    def say(text: str = "") -> None:
        print(text, flush=True)

    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    plan = [(kind, n) for kind, n in (("html", args.html), ("docx", args.docx)) if n > 0]
    folders = {}
    for kind, n in plan:
        gen = time.perf_counter()
        folders[kind] = ensure_documents(out, kind, n, args.seed, say)
        say(f"  {n} {kind} reports: {folders[kind]} ready in {time.perf_counter() - gen:.1f} s")
    if args.pdf > 0:
        gen = time.perf_counter()
        pdfs = ensure_pdfs(out, args.pdf, args.seed, say)
        if pdfs is not None:
            folders["pdf"] = pdfs
            plan.append(("pdf", args.pdf))
            say(f"  {args.pdf} pdf reports: {pdfs} ready in {time.perf_counter() - gen:.1f} s")
    for kind, _n in plan:  # a warm page cache for every phase alike
        for path in _files(folders[kind], kind):
            path.read_bytes()
    # PDFs: the reading path only (the CLI adds the same start-up and batch checks as for web pages)
    phases = [(name, kind) for kind, _n in plan for name in (("read",) if kind == "pdf" else ("read", "cli"))]
    runs: dict[tuple[str, str], list[dict]] = {ph: [] for ph in phases}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    for turn in range(max(args.repeat, 1)):
        for name, kind in phases:
            say(f"  {name} {kind}, run {turn + 1} ...")
            runs[(name, kind)].append(run_phase(name, folders[kind], kind, args.seed))
    rows = []
    for (name, kind), done in runs.items():
        best = min(done, key=lambda r: r["seconds"])
        rows.append(
            {
                "kind": kind,
                "phase": "read_return per file (1 core)" if name == "read" else "xltool validate --jobs 1 (CLI)",
                "files": best["measured"],
                "seconds": round(best["seconds"], 3),
                "ms_per_report": round(1000 * best["seconds"] / best["measured"], 3),
                "cpu_ms_per_report": round(1000 * best["cpu_seconds"] / best["measured"], 3),
                "peak_mb": max(r["peak_mb"] for r in done),
                "runs_s": [round(r["seconds"], 3) for r in done],
                "warnings": best.get("warnings", 0),
            }
        )
    say("")
    head = f"{'kind':<5} {'phase':<32} {'files':>6} {'total s':>8} {'ms/report':>10} {'cpu ms/rep':>10} {'peak MB':>8}"
    say(head)
    say("-" * len(head))
    for r in rows:
        say(
            f"{r['kind']:<5} {r['phase']:<32} {r['files']:>6} {r['seconds']:>8.2f} {r['ms_per_report']:>10.3f} "
            f"{r['cpu_ms_per_report']:>10.3f} {r['peak_mb']:>8.0f}"
        )
    say(
        f"\nEach phase ran {args.repeat} times in a fresh process, the fastest counts; load average before: {load:.2f}."
    )
    html_row = next((r for r in rows if r["kind"] == "html" and r["phase"].startswith("read_return")), None)
    if html_row is not None:
        ok = html_row["ms_per_report"] <= HTML_TARGET_MS
        say(
            f"HTML ≤ {HTML_TARGET_MS:g} ms per report on one core: {'met' if ok else 'over'} "
            f"({html_row['ms_per_report']:.2f} ms, read_return, {html_row['files']} reports)"
        )
    pdf_row = next((r for r in rows if r["kind"] == "pdf"), None)
    if pdf_row is not None:
        ok = pdf_row["ms_per_report"] <= PDF_TARGET_MS
        say(
            f"PDF ≤ {PDF_TARGET_MS:g} ms per report on one core: {'met' if ok else 'over'} "
            f"({pdf_row['ms_per_report']:.2f} ms, read_return, {pdf_row['files']} reports, "
            f"every figure exact, {pdf_row['warnings']} warnings)"
        )
    results = out / "documents-results.json"
    results.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    say(f"Results written to {results}; whole run {time.perf_counter() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
