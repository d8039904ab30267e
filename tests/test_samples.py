"""The committed sample workbooks are what ``python -m samples.generate`` makes from samples/data."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from samples import SAMPLES_DIR
from samples.generate import generate, sample_years
from xltool.definition import get_format
from xltool.read.dispatch import read_return
from xltool.write.consolidation import SOURCES_SHEET

COMMITTED = sorted(SAMPLES_DIR.glob("*/*/**/*.xlsx"))


def cell_values(path: Path) -> dict[tuple[str, str], object]:
    """Every cell of every sheet (hidden ones included), formulas as text; minus what always differs:
    the 来源 sheet's generation time and the size and hash of files whose save time is inside them."""
    wb = openpyxl.load_workbook(path)
    out = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.value is None:
                    continue
                if ws.title == SOURCES_SHEET and (c.row == 2 or c.column_letter in ("B", "C")):
                    continue
                out[(ws.title, c.coordinate)] = c.value
    return out


def test_samples_are_committed():
    names = {p.relative_to(SAMPLES_DIR).as_posix() for p in COMMITTED}
    assert "汤旺县/2024/收件箱/乌伊岭镇2024年政务公开统计表.xlsx" in names
    assert "汤旺县/2023/汤旺县2023年度政府信息公开统计汇总.xlsx" in names
    assert any(n.startswith("嘉荫县/2024/收件箱/") for n in names)


@pytest.mark.slow
@pytest.mark.libreoffice
def test_committed_workbooks_are_what_the_script_makes(tmp_path):
    for sample in sample_years():
        generate(sample, root=tmp_path)
    made = sorted(tmp_path.glob("*/*/**/*.xlsx"))
    assert [p.relative_to(tmp_path) for p in made] == [p.relative_to(SAMPLES_DIR) for p in COMMITTED]
    for new, old in zip(made, COMMITTED, strict=True):
        assert cell_values(new) == cell_values(old), (
            f"{old.relative_to(SAMPLES_DIR)} 与生成脚本的结果不同：请运行 python -m samples.generate"
        )


def test_wuyiling_return_carries_its_published_figures():
    """乌伊岭镇's published 2024 report shows 0 in every cell (its `行政处罚 O` is a zero)."""
    path = SAMPLES_DIR / "汤旺县" / "2024" / "收件箱" / "乌伊岭镇2024年政务公开统计表.xlsx"
    rec = read_return(path)
    assert rec.readable and not rec.findings
    assert rec.identity.unit_name == "乌伊岭镇" and rec.identity.year == 2024
    assert set(rec.values.values()) == {0}
    assert len(rec.values) == len(get_format().cells)


def test_the_libreoffice_sample_was_really_saved_by_libreoffice():
    path = SAMPLES_DIR / "汤旺县" / "2024" / "收件箱" / "汤旺河镇统计表(1).xlsx"
    import zipfile

    with zipfile.ZipFile(path) as zf:
        app = zf.read("docProps/app.xml").decode()
    assert "LibreOffice" in app
    assert not read_return(path).findings
