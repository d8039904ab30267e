"""Hostile PDFs and zips within bounds (issue 21, item 2): a bomb behind any filter chain or hiding
place, an image declared huge, a million words on a page, a zip part whose directory lies about its
size, a DOCTYPE past the first kilobyte of a UTF-16 part. Each gives one finding, in 2 s of CPU and
300 MB, measured on a child forked from a warmed process running ``xltool validate FILE`` (the
real command line; ``os.wait4`` gives the child's own CPU time and peak memory).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.bounds import MAX_MB, MAX_SECONDS, measure_validate
from helpers.markers import needs_fork
from helpers.returns import make_return
from hostile import pdf as hostile_pdf
from hostile import zips as hostile_zips

from xltool.model import Unit
from xltool.read.dispatch import read_return
from xltool.read.sources.limits import SourceError
from xltool.read.sources.pdf import check_streams

ROOT = Path(__file__).resolve().parent.parent


CASES: dict[str, str] = {
    **{f"{name}.pdf": code for name, (_build, code) in hostile_pdf.HOSTILE.items()},
    **{f"{name}.docx": code for name, (_build, code) in hostile_zips.HOSTILE.items()},
    "xlsx_lying_directory.xlsx": "F-BOMB",
}


def build(name: str, folder: Path) -> Path:
    path = folder / name
    stem = name.rsplit(".", 1)[0]
    if name.endswith(".pdf"):
        path.write_bytes(hostile_pdf.HOSTILE[stem][0]())  # type: ignore[operator]
    elif name.endswith(".docx"):
        path.write_bytes(hostile_zips.HOSTILE[stem][0]())  # type: ignore[operator]
    else:
        good = make_return(folder / "good.xlsx", Unit("230723101", "乌伊岭镇", "乡镇")).read_bytes()
        (folder / "good.xlsx").unlink()
        path.write_bytes(hostile_zips.xlsx_lying_directory(good))
    return path


@pytest.fixture(scope="module")
def measured(tmp_path_factory) -> dict[str, dict]:
    folder = tmp_path_factory.mktemp("hostile_pdf")
    paths = [str(build(name, folder)) for name in CASES]
    jobs = [(Path(path).name, [path, "--format", "json"]) for path in paths]
    # the bounds of reading a PDF's text layer; an image-only page read by OCR has its own (test_ocr.py)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XLTOOL_OCR", "0")
        return measure_validate(jobs, tmp_path_factory.mktemp("probe"), [ROOT / "tests" / "corpus" / "hongze-2024.pdf"])


@pytest.mark.slow
@needs_fork
@pytest.mark.parametrize("name", list(CASES))
def test_each_hostile_file_is_one_finding_within_bounds(measured, name):
    result = measured[name]
    assert result["stderr"] == "", result["stderr"]
    findings = json.loads(result["stdout"])["findings"]
    assert [f["rule"] for f in findings] == [CASES[name]], findings
    assert name in findings[0]["message"]
    assert result["cpu"] < MAX_SECONDS, f"{name}: {result['cpu']:.2f} s of CPU"
    assert result["rss_mb"] < MAX_MB, f"{name}: {result['rss_mb']:.0f} MB"


def refusal(make) -> SourceError:
    with pytest.raises(SourceError) as caught:
        check_streams(make(), "x.pdf")
    return caught.value


def test_the_bomb_finding_names_the_limit():
    assert "64 MB" in refusal(hostile_pdf.flate_bomb).message
    assert refusal(hostile_pdf.bomb_after_header).code == "F-BOMB"  # were it read as a PDF
    assert "256 MB" in refusal(hostile_pdf.many_bombs).message
    assert "100,000 × 100,000" in refusal(hostile_pdf.huge_image).message
    too_large = refusal(hostile_pdf.million_words)
    assert too_large.code == "F-TOO-LARGE" and "512 KB" in too_large.message


def test_streams_that_stay_within_bounds_pass_the_check():
    """Just under the limit of one stream, a content stream shown as it is, an image whose data would
    inflate far past its declared size (PDFium never inflates it further), a filter PDFium does not
    know: no finding."""
    font = hostile_pdf.stream(b"/Subtype /Type1C /Filter /FlateDecode", hostile_pdf.repeated_zlib(60 * 1024 * 1024))
    check_streams(hostile_pdf.one_page(hostile_pdf.stream(b"", b"BT /F1 9 Tf (a) Tj ET"), font), "x.pdf")
    check_streams(hostile_pdf.one_page(hostile_pdf.stream(b"", b"BT /F1 9 Tf (a) Tj ET")), "x.pdf")
    check_streams(hostile_pdf.image_bomb_small_declared(), "x.pdf")
    check_streams(hostile_pdf.one_page(hostile_pdf.stream(b"/Filter /Unknown", b"\x00" * 100)), "x.pdf")


def test_corpus_pdfs_pass_the_check_and_still_read():
    for path in sorted((ROOT / "tests" / "corpus").glob("*.pdf")):
        check_streams(path.read_bytes(), path.name)
        rec = read_return(path)
        assert not [f for f in rec.findings if f.rule.startswith("F-")], rec.findings


def test_the_lying_docx_is_refused_before_zipfile_reads_it():
    from xltool.read.safety import inspect_document_zip

    problem = inspect_document_zip(hostile_zips.docx_lying_directory())
    assert problem is not None and problem[0] == "F-BOMB" and "100 KB" in problem[1]["limit"]
