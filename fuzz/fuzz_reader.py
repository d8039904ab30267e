"""Fuzz the reader with mutated real returns, for a bounded time. Not part of CI:

    python fuzz/fuzz_reader.py --seconds 60            # report what breaks, exit 1 if anything did
    python fuzz/fuzz_reader.py --seconds 600 --seed 7  # longer, reproducible

The corpus is made here: templates written by xlsxwriter, returns filled with openpyxl the way
townships type (text, placeholders, formulas, an inserted row), and, when LibreOffice exists, the
same saved as .ods and .xls. hypothesis mutates them: bytes of the file; or, inside the zip, the
XML of one part (values and addresses, slices cut or repeated, hostile snippets), re-zipped with
correct checksums so that the readers get past the container and into the XML.

Each mutated file is read in a forked child (so that an abort or a runaway allocation in native
code is caught, not fatal) under a memory limit and a timeout. The child checks what the reader
promises: ``read_return`` never raises, every finding has a rule code and a Chinese message, no
finding comes from the reader's catch-all for unexpected exceptions, and the batch checks run on
the record. The parent adds the bounds: under 2 s of CPU and 300 MB more memory per file.
A failing input is shrunk by hypothesis, saved under fuzz/found/ and printed; turn it into a test
in tests/test_regressions.py named after what it reproduces, built from code, not the blob.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

RULE = re.compile(r"^[A-Z][0-9A-Z]*(-[0-9A-Z]+)+$")
CJK = re.compile(r"[\u4e00-\u9fff]")
CPU_SECONDS = 2.0
EXTRA_MB = 300
CHILD_MEMORY = 2 << 30  # address space of a child: an allocation past it fails instead of swapping
TIMEOUT = 20

SNIPPETS = [
    b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>',
    b"&a;",
    b"&#0;",
    b"&#x1F;",
    b"_x0001_",
    b'<c r="XFD1048576"><v>1</v></c>',
    b'<row r="1048576"><c r="A1048576"><v>1</v></c></row>',
    b'<c r="ZZZZ99999999999"><v>1</v></c>',
    b'<c r="A1" t="e"><v>#REF!</v></c>',
    b'<c r="B2" t="s"><v>999999</v></c>',
    b'<c r="C3" t="b"><v>2</v></c>',
    b'<c r="D4" t="d"><v>not a date</v></c>',
    b'<c r="E5"><f>1/0</f></c>',
    b'<c r="F6" t="inlineStr"><is><t>' + "很长的文字".encode() * 2000 + b"</t></is></c>",
    b'<mergeCell ref="A1:XFD1048576"/>',
    b'<dimension ref="A1:XFD1048576"/>',
    '<sheet name="表三 依申请公开" sheetId="99" r:id="rId99"/>'.encode(),
    b'<sheet name="_xltool" sheetId="98" state="veryHidden" r:id="rId1"/>',
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="../../../../etc/passwd"/>',
    b"<v>1e308</v>",
    b"<v>-0</v>",
    b"<v>NaN</v>",
    b"<v>99999999999999999999999999</v>",
    b"</sheetData>",
    b"<sheetData>",
    "二〇二四".encode(),
    b"\xff\xfe",
    b"\x00" * 16,
]
VALUES = [
    b"",
    b"0",
    b"-1",
    b"1048577",
    b"4294967296",
    b"A0",
    b"XFD1048576",
    b"AAAA1",
    b"1.5",
    b"NaN",
    b"\xe4\xb8\x80",
    b"&amp;",
    b"x" * 300,
]


# --------------------------------------------------------------------------- corpus


def build_corpus(folder: Path) -> list[tuple[str, bytes]]:
    """Real returns, as the tests build them."""
    import openpyxl

    from xltool.definition import get_format
    from xltool.model import Unit
    from xltool.write.template import draw_return, template_identity, write_template, write_workbook

    fmt = get_format()
    unit = Unit("230723101", "乌伊岭镇", "乡镇")
    folder.mkdir(parents=True, exist_ok=True)
    blank = write_template(fmt, unit, 2024, folder / "blank.xlsx")
    values = {"t3.new.natural": 2, "t3.carried_in.natural": 1, "t3.disclosed.natural": 2, "t3.carried_out.natural": 1}
    cached = write_workbook(
        folder / "cached.xlsx",
        lambda wb: draw_return(wb, fmt, template_identity(fmt, unit, 2024), values=values, cover={"filled_by": "张三"}),
    )
    typed = {
        "t3.new.natural": "/",
        "t3.new.business": "３",
        "t3.disclosed.natural": "=1+2",
        "t3.partial.legal": None,
        "t4_review.cases.upheld": -1,
        "t2_8.fees.amount": 12.3456,
        "t3.new.total": 99,
    }
    wb = openpyxl.load_workbook(blank)
    for cid, value in typed.items():
        wb[fmt.cells[cid].sheet][fmt.cells[cid].address] = value
    wb.save(folder / "typed.xlsx")
    wb = openpyxl.load_workbook(blank)
    wb[fmt.sheet_of("t3")].insert_rows(10)
    wb.save(folder / "inserted.xlsx")
    files = [blank, cached, folder / "typed.xlsx", folder / "inserted.xlsx"]
    soffice = shutil.which("soffice")
    if soffice:  # the same return as LibreOffice saves it in the other formats the reader takes
        profile = folder / "lo-profile"
        for target in ("ods", "xls"):
            out = folder / f"typed.{target}"
            if not out.exists():
                command = [soffice, "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}"]
                command += ["--convert-to", target, "--outdir", str(folder), str(folder / "typed.xlsx")]
                subprocess.run(command, capture_output=True, timeout=180)
            if out.exists():
                files.append(out)
    return [(p.name, p.read_bytes()) for p in files]


# --------------------------------------------------------------------------- mutations


def _zip(parts: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts:
            z.writestr(name, data)
    return out.getvalue()


@st.composite
def mutated(draw: st.DrawFn, corpus: list[tuple[str, bytes]]) -> tuple[str, bytes, str]:
    """(file name, bytes, what was done) from one corpus file."""
    name, data = draw(st.sampled_from(corpus))
    how = draw(st.sampled_from(["bytes", "part", "part", "part", "zip"]))
    if how == "bytes" or not data.startswith(b"PK"):
        data = bytearray(data)
        steps = []
        for _ in range(draw(st.integers(1, 8))):
            at = draw(st.integers(0, max(len(data) - 1, 0)))
            op = draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
            if op == "flip" and data:
                data[at] ^= draw(st.integers(1, 255))
            elif op == "cut":
                del data[at : at + draw(st.integers(1, 4096))]
            elif op == "insert":
                data[at:at] = draw(st.binary(min_size=1, max_size=64))
            else:
                del data[at:]
            steps.append(f"{op}@{at}")
        return name, bytes(data), "bytes " + " ".join(steps)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        parts = [(i.filename, z.read(i)) for i in z.infolist()]
    if how == "zip":
        op = draw(st.sampled_from(["drop", "duplicate", "rename", "swap"]))
        i = draw(st.integers(0, len(parts) - 1))
        if op == "drop":
            del parts[i]
        elif op == "duplicate":
            parts.append(parts[i])
        elif op == "rename":
            parts[i] = (
                draw(st.sampled_from([n for n, _ in parts])) + draw(st.sampled_from(["", "x", "/"])),
                parts[i][1],
            )
        else:
            j = draw(st.integers(0, len(parts) - 1))
            parts[i], parts[j] = (parts[i][0], parts[j][1]), (parts[j][0], parts[i][1])
        return name, _zip(parts), f"zip {op} {parts[min(i, len(parts) - 1)][0] if parts else ''}"
    xml_parts = [k for k, (n, _) in enumerate(parts) if n.endswith((".xml", ".rels"))]
    k = draw(st.sampled_from(xml_parts))
    part, xml = parts[k]
    xml = bytearray(xml)
    steps = []
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["value", "value", "snippet", "cut", "repeat", "byte"]))
        at = draw(st.integers(0, max(len(xml) - 1, 0)))
        if op == "value":  # replace the value of an attribute or element near ``at``
            m = re.compile(rb'"[^"<>]*"|>[^<>]{1,40}<').search(bytes(xml), at)
            if m:
                new = draw(st.sampled_from(VALUES))
                xml[m.start() + 1 : m.end() - 1] = new
        elif op == "snippet":
            xml[at:at] = draw(st.sampled_from(SNIPPETS))
        elif op == "cut":
            del xml[at : at + draw(st.integers(1, 2000))]
        elif op == "repeat":
            piece = xml[at : at + draw(st.integers(1, 200))]
            xml[at:at] = piece * draw(st.integers(1, 2000))
        else:
            if xml:
                xml[at] = draw(st.integers(0, 255))
        steps.append(f"{op}@{at}")
    parts[k] = (part, bytes(xml))
    return name, _zip(parts), f"part {part}: " + " ".join(steps)


# --------------------------------------------------------------------------- the check, in a child


def check_in_child(path: Path) -> str | None:
    """Read ``path`` in a forked child; None when every promise held, else what broke."""
    read_end, write_end = os.pipe()
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_end)
        err = os.open(scratch_err(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(err, 2)  # what a clerk would see on the terminal
        resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))
        signal.alarm(TIMEOUT)
        problem = ""
        try:
            problem = _check(path) or ""
        except BaseException as exc:  # noqa: BLE001 - anything escaping is what we look for
            problem = f"read_return raised {type(exc).__name__}: {str(exc)[:300]}"
        os.write(write_end, problem.encode()[:4000])
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        said = pipe.read().decode(errors="replace")
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    if os.WIFSIGNALED(status):
        return f"the child died of signal {os.WTERMSIG(status)} ({signal.Signals(os.WTERMSIG(status)).name}) after {wall:.1f} s"
    if said:
        return said
    stderr = Path(scratch_err(path)).read_text(errors="replace")
    if stderr.strip():
        return f"wrote to stderr: {stderr.strip().splitlines()[0][:300]}"
    cpu = usage.ru_utime + usage.ru_stime
    grown = usage.ru_maxrss / 1024 - BASELINE_MB
    if cpu > CPU_SECONDS:
        return f"took {cpu:.2f} s of CPU"
    if grown > EXTRA_MB:
        return f"used {grown:.0f} MB more than an empty child"
    return None


def scratch_err(path: Path) -> str:
    return str(path.with_suffix(".stderr"))


def _check(path: Path) -> str | None:
    from xltool.read.dispatch import read_return
    from xltool.validate import validate_records

    rec = read_return(path)
    for f in rec.findings:
        if not RULE.match(f.rule) or not CJK.search(f.message):
            return f"a finding without a rule code or a Chinese message: {f}"
        if f.rule == "F-UNREADABLE" and "读取失败（" in f.message:
            return f"the reader's catch-all caught an unexpected exception: {f.message}"
    validate_records([rec], year=2024)
    return None


def _noop_child_mb() -> float:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    return os.wait4(pid, 0)[2].ru_maxrss / 1024


# --------------------------------------------------------------------------- main

BASELINE_MB = 0.0


def main() -> int:
    global BASELINE_MB
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--corpus", type=Path, default=HERE / ".corpus")
    parser.add_argument("--found", type=Path, default=HERE / "found")
    args = parser.parse_args()

    import xltool.rules.schema  # noqa: F401 - warm the parent: children fork from it
    from xltool.read.dispatch import read_return

    corpus = build_corpus(args.corpus)
    for name, data in corpus:
        probe = Path(tempfile.mkdtemp()) / name
        probe.write_bytes(data)
        read_return(probe)  # caches and lazy imports are loaded before the forks
    BASELINE_MB = _noop_child_mb()
    scratch = Path(tempfile.mkdtemp(prefix="xltool-fuzz-"))
    rng = random.Random(args.seed)
    deadline = time.monotonic() + args.seconds
    found: dict[str, tuple[str, bytes, str]] = {}
    runs = 0

    def one(example: tuple[str, bytes, str]) -> None:
        nonlocal runs
        runs += 1
        name, data, how = example
        path = scratch / f"fuzz{Path(name).suffix}"
        path.write_bytes(data)
        problem = check_in_child(path)
        if problem is not None:
            found.setdefault(problem.split(":")[0][:80], (problem, data, f"{name}: {how}"))
            raise AssertionError(problem)

    while time.monotonic() < deadline:
        test = settings(
            max_examples=100,
            phases=[Phase.generate],  # no shrinking: the mutation's description says what it did
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            print_blob=False,
        )(given(mutated(corpus))(one))
        try:
            seed(rng.randrange(2**32))(test)()
        except Exception:  # noqa: BLE001 - recorded in ``found``; keep fuzzing until the deadline
            pass
    shutil.rmtree(scratch, ignore_errors=True)

    print(f"{runs} files read in {args.seconds:.0f} s; {len(found)} kinds of problem")
    for problem, data, how in found.values():
        args.found.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(data).hexdigest()[:12]
        out = args.found / f"{digest}{Path(how.split(':')[0]).suffix}"
        out.write_bytes(data)
        print(f"- {problem}\n  from {how}\n  saved as {out}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
