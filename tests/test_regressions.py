"""Regressions found by fuzz/fuzz_reader.py and by the hostile files, each named after what it
reproduces and built from code (the fuzzer's saved inputs are not committed)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from xltool.definition import get_format
from xltool.findings import ERROR
from xltool.model import Unit
from xltool.read import workbook as reader
from xltool.read.dispatch import read_return
from xltool.read.safety import bounded_sheet
from xltool.write.template import write_template

FMT = get_format()
UNIT = Unit("230723101", "乌伊岭镇", "乡镇")


@pytest.fixture
def template(tmp_path) -> Path:
    return write_template(FMT, UNIT, 2024, tmp_path / "乌伊岭镇.xlsx")


def rules(rec) -> list[tuple[str, str]]:
    return [(f.rule, f.severity) for f in rec.findings]


def test_bytes_cut_early_in_a_zip_are_corrupt_not_a_negative_seek(template):
    """fuzz: zipfile raised ValueError('negative seek value') out of the container check."""
    data = template.read_bytes()
    template.write_bytes(data[:289] + data[289 + 1000 :])
    rec = read_return(template)
    assert rules(rec) == [("F-CORRUPT", ERROR)] and rec.findings[0].message.startswith(f"“{template.name}”已损坏（")


@pytest.mark.slow  # a LibreOffice start of its own
@pytest.mark.libreoffice
def test_an_xls_cut_in_the_middle_is_corrupt_not_a_calamine_panic(template, tmp_path, capfd):
    """fuzz: 406 bytes missing from a LibreOffice .xls made calamine panic (cfb.rs, slice out of
    range): a PanicException, which is not an Exception, and a Rust message on stderr."""
    profile = tmp_path / "lo-profile"
    command = ["soffice", "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}"]
    command += ["--convert-to", "xls", "--outdir", str(tmp_path / "xls"), str(template)]
    subprocess.run(command, check=True, capture_output=True, timeout=180)
    xls = tmp_path / "xls" / "乌伊岭镇.xls"
    assert read_return(xls).readable
    data = xls.read_bytes()
    xls.write_bytes(data[:17922] + data[17922 + 406 :])
    capfd.readouterr()
    rec = read_return(xls)
    assert rules(rec) == [("F-CORRUPT", ERROR)]
    assert capfd.readouterr().err == ""  # nothing from calamine on the clerk's terminal


def test_a_panic_in_calamine_is_a_finding_not_a_traceback(template, monkeypatch):
    """pyo3 raises PanicException (a BaseException) when Rust code panics on a malformed file."""
    import python_calamine

    panic = type("PanicException", (BaseException,), {})

    def boom(*args, **kwargs):
        raise panic("range start index 116 out of range for slice of length 106")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", boom)
    rec = read_return(template)
    assert rules(rec) == [("F-UNREADABLE", ERROR)] and "116 out of range" in rec.findings[0].detail
    assert "out of range" not in rec.findings[0].message


def test_keyboard_interrupt_still_stops_the_run(template, monkeypatch):
    def interrupt(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(reader, "_check_labels", interrupt)
    with pytest.raises(KeyboardInterrupt):
        read_return(template)


def test_a_broken_sheet_part_names_the_damage_not_the_exception(template, tmp_path):
    """fuzz: calamine's XmlError on a sheet reached the reader's catch-all ("读取失败（XmlError…")."""
    import zipfile

    out = tmp_path / "cut.xlsx"
    with zipfile.ZipFile(template) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet4.xml":
                data = data[:1235] + data[1240:]  # an attribute value left open
            dst.writestr(info.filename, data)
    rec = read_return(out)
    assert rules(rec) == [("F-UNREADABLE", ERROR)]
    assert "已损坏" in rec.findings[0].message and "读取失败" not in rec.findings[0].message


@pytest.mark.parametrize(
    ("cells", "kept"),
    [
        (b'<row r="2"><c r="B2"><v>1</v></c></row>', True),  # the usual case: unchanged
        (b"<row r='2'><c r = 'xfd2'><v>1</v></c></row>", False),  # quotes, spaces, lower case
        (b'<row r="2"><c r="A0001048576"><v>1</v></c></row>', False),  # leading zeros
        (b'<row r="2"><c r="B2" r="ZZZ2"><v>1</v></c></row>', False),  # the last of repeated attributes
    ],
)
def test_far_cells_are_found_however_the_address_is_written(cells, kept):
    """calamine reads all these spellings of a cell address; each far one must be cut."""
    xml = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>' + cells
    xml += b"</sheetData></worksheet>"
    cut = bounded_sheet(xml)
    assert (cut is xml) == kept
    if not kept:
        assert b"<v>1</v>" not in cut


def test_cells_without_addresses_beyond_any_bound_are_refused():
    """Rows and cells may omit their address (calamine counts them); too many cannot be cut."""
    row = b"<row>" + b"<c><v>1</v></c>" * 3000 + b"</row>"
    xml = b"<worksheet><sheetData>" + row * 1000 + b"</sheetData></worksheet>"
    assert bounded_sheet(xml) is None


def test_a_damaged_deflate_stream_is_corrupt_not_an_unexpected_error(template):
    """fuzz: two bytes flipped in a compressed part made zlib raise "invalid distance too far
    back" out of the container check, caught only by the reader's catch-all."""
    import zlib

    from helpers.hostile import raw_zip, zip_entries

    entries = zip_entries(template)
    name, comp, crc, size = entries[0]
    for at in range(len(comp)):  # the first flip that zlib rejects
        bad = comp[:at] + bytes([comp[at] ^ 0xFF]) + comp[at + 1 :]
        try:
            zlib.decompress(bad, -15)
        except zlib.error:
            break
    else:
        pytest.fail("no flip broke the stream")
    template.write_bytes(raw_zip([(name, bad, crc, size), *entries[1:]]))
    rec = read_return(template)
    assert rules(rec) == [("F-CORRUPT", ERROR)] and "读取失败" not in rec.findings[0].message


def test_far_away_cell_does_not_change_the_recorded_hash(tmp_path):
    """When far-away cells are cut before calamine reads a sheet, size and SHA-256 (shown in 来源,
    compared for duplicates) still describe the file the township sent, not the cut copy."""
    import hashlib

    import openpyxl

    from xltool.definition import get_format
    from xltool.model import Unit
    from xltool.read.dispatch import read_return
    from xltool.write.template import write_template

    fmt = get_format()
    path = write_template(fmt, Unit("230723101", "乌伊岭镇", "乡镇"), 2024, tmp_path / "far.xlsx")
    wb = openpyxl.load_workbook(path)
    wb[fmt.table("t3").sheet]["A60000"] = "远处的一格"
    wb.save(path)
    rec = read_return(path)
    sent = path.read_bytes()
    assert rec.readable
    assert rec.size == len(sent) == path.stat().st_size
    assert rec.sha256 == hashlib.sha256(sent).hexdigest()


def test_huge_amount_is_a_finding_not_an_int64_overflow():
    """An amount of 9.2e14 万元 used to overflow the int64 frame when scaled to yuan."""
    from xltool.values import parse_value

    for raw in (920_000_000_000_000, 9.2e14, "920000000000000", 100_000_000_000, 100_000_000, 1e8):
        p = parse_value(raw, "amount", "万元")  # the unit the definition gives the amount's grid
        assert p.value is None and p.code == "V-PRECISION" and "万元" in p.message, raw
    # the largest amount, to the fen, times 10,000 units still fits int64 (values._MAX_AMOUNT)
    largest = parse_value(99_999_999.999999, "amount").value
    assert largest == 99_999_999_999_999 and largest * 10_000 < 2**63 - 1
    assert parse_value(920_000_000_000_000, "count").value == 920_000_000_000_000
