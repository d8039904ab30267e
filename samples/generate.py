"""Regenerate the sample workbooks from the readable data files in ``samples/data``.

    python -m samples.generate          # rewrites samples/<county>/... from samples/data/*.toml

Each data file is one county-year: the roster it uses, and each unit's figures as typed into its
template. Returns are filled the way a township's file looks (openpyxl writing into the real
template; one of them really saved by LibreOffice); a data file with ``consolidate_to`` is
consolidated with xltool itself (last year's county workbook for the cross-year check).
Needs LibreOffice (``soffice``) only for returns marked ``save_with = "libreoffice"``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from xltool.definition import Format, get_format
from xltool.model import Unit
from xltool.roster import read_roster

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"


@dataclass
class SampleReturn:
    unit: Unit
    file: str
    values: dict[str, int | float]
    typed: dict[str, str] = field(default_factory=dict)
    save_with: str = ""
    filled_by: str = ""
    phone: str = ""
    submitted: bool = True
    note: str = ""


@dataclass
class SampleYear:
    """One data file: a county's returns for one year."""

    source: Path
    unit: Unit
    year: int
    roster_path: Path
    roster: list[Unit]
    returns: list[SampleReturn]
    consolidate_to: str = ""

    @property
    def folder(self) -> Path:
        """Where this year's workbooks live: samples/<county>/<year>/."""
        return HERE / self.unit.name / str(self.year)

    @property
    def inbox(self) -> Path:
        return self.folder / "收件箱"


def load_sample(path: Path) -> SampleYear:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    roster_path = DATA / data["roster"]
    roster = read_roster(roster_path)
    by_code = {u.code: u for u in roster}
    returns = []
    for item in data["returns"]:
        unit = by_code[item["code"]]
        returns.append(
            SampleReturn(
                unit=unit,
                file=item.get("file", f"{unit.code}_{unit.name}.xlsx"),
                values=dict(item.get("values", {})),
                typed=dict(item.get("typed", {})),
                save_with=item.get("save_with", ""),
                filled_by=item.get("filled_by", ""),
                phone=item.get("phone", ""),
                submitted=item.get("submitted", True),
                note=item.get("note", ""),
            )
        )
    u = data["unit"]
    return SampleYear(
        path,
        Unit(u["code"], u["name"], u["level"]),
        data["year"],
        roster_path,
        roster,
        returns,
        data.get("consolidate_to", ""),
    )


def sample_years() -> list[SampleYear]:
    return [load_sample(p) for p in sorted(DATA.glob("*.toml"))]


def fill_return(fmt: Format, sample: SampleReturn, year: int, path: Path) -> Path:
    """The unit's template, filled with openpyxl as a script or a clerk would type it."""
    import openpyxl

    from xltool.write.template import write_template

    write_template(fmt, sample.unit, year, path)
    wb = openpyxl.load_workbook(path)
    for cid, value in sample.values.items():
        cell = fmt.cells[cid]
        if not cell.is_input:
            raise ValueError(f"{cid} 是合计单元格，样例数据只能给填报单元格")
        number = float(Decimal(str(value))) if cell.kind == "amount" else int(value)
        wb[cell.sheet][cell.address].value = number
    for cid, text in sample.typed.items():
        cell = fmt.cells[cid]
        wb[cell.sheet][cell.address].value = text
    cover = {f.key: f for f in fmt.cover.fields}
    for key, text in (("filled_by", sample.filled_by), ("phone", sample.phone), ("date", f"{year + 1}-01-15")):
        if text and key in cover:
            wb[fmt.cover.sheet][cover[key].value_span.top_left].value = text
    wb.save(path)
    return path


def save_with_libreoffice(path: Path) -> None:
    """Open and save ``path`` in LibreOffice (recalculating), replacing it in place."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        raise SystemExit("需要 LibreOffice（soffice）才能生成由 LibreOffice 保存的样例文件")
    with tempfile.TemporaryDirectory() as tmp:
        profile = Path(tmp) / "profile"
        outdir = Path(tmp) / "out"
        subprocess.run(
            [
                soffice,
                f"-env:UserInstallation={profile.as_uri()}",
                "--headless",
                "--norestore",
                "--convert-to",
                "xlsx",
                "--outdir",
                str(outdir),
                str(path),
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )
        shutil.move(str(outdir / path.name), path)


def generate(sample: SampleYear, fmt: Format | None = None, root: Path | None = None) -> list[Path]:
    """Write one county-year's workbooks under ``root`` (default: the samples folder)."""
    from xltool.write.consolidation import consolidate

    fmt = fmt or get_format()
    folder = (root or HERE) / sample.unit.name / str(sample.year)
    if folder.exists():
        shutil.rmtree(folder)
    written = []
    submitted = [r for r in sample.returns if r.submitted]
    if sample.consolidate_to:
        with tempfile.TemporaryDirectory() as tmp:
            files = [fill_return(fmt, r, sample.year, Path(tmp) / r.file) for r in submitted]
            folder.mkdir(parents=True)
            out = folder / sample.consolidate_to
            consolidate(files, out, sample.unit, roster=sample.roster)
            written.append(out)
        return written
    inbox = folder / "收件箱"
    inbox.mkdir(parents=True)
    for r in submitted:
        path = fill_return(fmt, r, sample.year, inbox / r.file)
        if r.save_with == "libreoffice":
            save_with_libreoffice(path)
        written.append(path)
    return written


def main() -> int:
    for sample in sample_years():
        for path in generate(sample):
            print(path.relative_to(HERE))
    return 0


if __name__ == "__main__":
    sys.exit(main())
