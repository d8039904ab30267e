"""Scanned reports read by OCR: seconds per page, and whether every figure is read.

    python benchmarks/run.py ocr

For each PDF of tests/corpus, its degraded scan (150 dpi, turned 0.7°, blurred, JPEG 60, a red seal over
the table; made once and cached like the tests do, ``tests/helpers/scans.py``) is read once through
``read_return`` (in this process: the engine's load is counted in the first file) and one line printed:
pages, seconds, seconds per page, figures exact of those transcribed, and the O-* warnings.
"""

from __future__ import annotations

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


def main(argv: list[str] | None = None) -> int:
    from helpers.corpus import CORPUS, expected_figures
    from helpers.scans import degraded_scan

    from xltool.read.dispatch import read_return
    from xltool.read.sources.scan import ocr_available

    if not ocr_available():
        print('the ocr extra is not installed: pip install ".[ocr]"')
        return 2
    import pypdfium2 as pdfium

    entries = {e["file"]: e for e in json.loads((CORPUS / "figures.json").read_text(encoding="utf-8"))}
    print(f"{'scan':<28} {'pages':>5} {'s':>7} {'s/page':>7}  figures")
    for pdf in sorted(CORPUS.glob("*.pdf")):
        scan = degraded_scan(pdf)
        doc = pdfium.PdfDocument(scan)
        pages = len(doc)
        doc.close()
        started = time.perf_counter()
        rec = read_return(scan)
        seconds = time.perf_counter() - started
        expected = expected_figures(entries[pdf.name], rec.format) if rec.format else {}
        exact = sum(rec.values.get(cid) == value for cid, value in expected.items())
        codes = Counter(f.rule for f in rec.findings if f.rule.startswith("O-"))
        named = ", ".join(f"{c} ×{n}" for c, n in sorted(codes.items())) or "no O-* warning"
        print(
            f"{pdf.stem + ' (scan)':<28} {pages:>5} {seconds:>7.1f} {seconds / pages:>7.2f}  {exact}/{len(expected)} exact; {named}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
