"""The real reports of tests/corpus, as published and as clerks keep them: does each read to every
figure transcribed by hand, and how long does it take?

    python benchmarks/run.py corpus

For every document (and, for a portal page, its forms: Chromium's print-to-PDF of the whole page,
the Word file LibreOffice saves from it and that file's PDF; made once and cached like the tests do)
it reads the file once untimed, then times ``read_return`` (best of --repeat) and prints one row:
``exact``, ``N figures differ`` or ``not read`` with the first error finding, the errors and warnings
the validation of that one file gives, and the milliseconds. A form whose program is missing is
listed as not made.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for path in (ROOT, ROOT / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


def forms(page: Path) -> list[tuple[str, Path | None]]:
    """The page's derived forms, made (or taken from the cache) with the tests' own helper."""
    from helpers.corpus import CHROMIUM, DERIVED_FORMS, SOFFICE, derived_form

    out: list[tuple[str, Path | None]] = []
    for form in DERIVED_FORMS:
        needed = CHROMIUM if form.startswith("chromium") else SOFFICE
        out.append((form, derived_form(page, form) if needed else None))
    return out


def row(path: Path, entry: dict, repeat: int) -> tuple[str, str, float]:
    from helpers.corpus import expected_figures

    from xltool.definition import get_format
    from xltool.findings import ERROR
    from xltool.read.dispatch import read_return
    from xltool.validate import validate_paths

    read_return(path)  # untimed: imports and the page cache
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        rec = read_return(path)
        best = min(best, time.perf_counter() - start)
    expected = expected_figures(entry, get_format())
    differ = sum(1 for cid, want in expected.items() if rec.values.get(cid) != want)
    report = validate_paths([path]).report
    severities = Counter(f.severity for f in report.findings)
    errors = Counter(f.rule for f in report.findings if f.severity == ERROR)
    if all(rec.values.get(cid) is None for cid in expected):
        first = next((f for f in report.findings if f.severity == ERROR), None)
        verdict = "not read" + (f": {first.rule} {first.message[:60]}" if first else "")
    else:
        verdict = "exact" if not differ else f"{differ} figures differ"
    said = f"{severities[ERROR]} errors" + (f" ({', '.join(f'{k}×{v}' for k, v in errors.items())})" if errors else "")
    return verdict, f"{said}, {sum(severities.values()) - severities[ERROR]} warnings", best * 1000


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=3, help="timed reads per document (the fastest counts)")
    args = p.parse_args(argv)
    from helpers.corpus import CORPUS

    entries = json.loads((CORPUS / "figures.json").read_text(encoding="utf-8"))
    print(f"{'document':<28} {'form':<14} {'figures':<22} {'validation':<34} {'ms':>7}")
    exact = total = 0
    for entry in entries:
        source = CORPUS / entry["file"]
        documents: list[tuple[str, Path | None]] = [("as published", source)]
        if source.suffix == ".html":
            documents += forms(source)
        for form, path in documents:
            total += 1
            if path is None:
                print(f"{entry['file']:<28} {form:<14} {'not made (program missing)':<22}")
                continue
            verdict, said, ms = row(path, entry, args.repeat)
            exact += verdict == "exact"
            print(f"{entry['file']:<28} {form:<14} {verdict:<22} {said:<34} {ms:>7.0f}")
    print(f"\n{exact} of {total} documents read to every figure")
    return 0


if __name__ == "__main__":
    sys.exit(main())
