"""Read the roster of reporting units: CSV (UTF-8, UTF-8 with BOM or GBK, as Excel saves it) or .xlsx.

Columns: code, name, level (English or Chinese headers: 代码/单位代码, 名称/单位名称, 层级/级别), and
optionally aliases (别名): other names the unit's documents print (住建局; 汤旺县乌伊岭镇), several
separated by 、 ; , or |. A document is a unit's only when it prints the unit's name or one of these.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from xltool.errors import RosterError, os_reason
from xltool.model import DOCUMENT, LEVELS, Identity, ReturnRecord, Unit

_HEADERS = {
    "code": ("code", "代码", "单位代码", "统一社会信用代码"),
    "name": ("name", "名称", "单位名称", "单位"),
    "level": ("level", "层级", "级别", "类型"),
}
_ALIAS_HEADERS = ("aliases", "alias", "别名", "其他名称")
_ALIAS_SEP = re.compile(r"[、;；,，|｜]")


def decode_text(data: bytes, path: Path) -> str:
    """Decode a text file saved by Excel or WPS on a Chinese PC: UTF-8 (with or without BOM) or GBK."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RosterError(f"{path}: 无法识别文件编码（应为 UTF-8 或 GBK）")


def _rows_from_csv(path: Path) -> list[list[str]]:
    text = decode_text(path.read_bytes(), path)
    return [row for row in csv.reader(io.StringIO(text))]


def _rows_from_xlsx(path: Path) -> list[list[str]]:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
        sheet = wb.get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=True, nrows=100_000)
    except Exception as exc:  # calamine raises several types for broken files
        raise RosterError(f"{path}: 无法读取名单工作簿：{exc}") from None
    return [[_cell_text(v) for v in row] for row in rows]


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def read_roster(path: str | Path) -> list[Unit]:
    """Units of the roster, in file order; RosterError names the file and line of a bad row."""
    path = Path(path)
    if not path.is_file():
        raise RosterError(f"{path}: 名单文件不存在")
    try:
        rows = (
            _rows_from_xlsx(path) if path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods") else _rows_from_csv(path)
        )
    except OSError as exc:
        raise RosterError(f"{path}: 无法读取：{os_reason(exc)}") from None
    rows = [[c.strip() for c in r] for r in rows]
    rows = [r for r in rows if any(r)]
    if not rows:
        raise RosterError(f"{path}: 名单为空")
    header = [c.lower() for c in rows[0]]
    index = {}
    for key, names in _HEADERS.items():
        found = [i for i, h in enumerate(header) if h in names]
        if not found:
            raise RosterError(f"{path}: 第 1 行缺少列 {key}（可写作 {'、'.join(names)}）")
        index[key] = found[0]
    alias_col = next((i for i, h in enumerate(header) if h in _ALIAS_HEADERS), None)
    units: list[Unit] = []
    seen: dict[str, int] = {}
    named = _Names(path)
    for lineno, row in enumerate(rows[1:], start=2):
        row = row + [""] * (len(header) - len(row))
        code, name, level = (row[index[k]] for k in ("code", "name", "level"))
        aliases = _aliases(row[alias_col]) if alias_col is not None else ()
        if not code or not name:
            raise RosterError(f"{path}: 第 {lineno} 行缺少单位代码或名称")
        if level not in LEVELS:
            raise RosterError(f"{path}: 第 {lineno} 行层级 {level!r} 无效，应为 {'、'.join(LEVELS)} 之一")
        if code in seen:
            raise RosterError(f"{path}: 第 {lineno} 行单位代码 {code} 与第 {seen[code]} 行重复")
        seen[code] = lineno
        named.add(lineno, name, aliases)
        units.append(Unit(code, name, level, aliases))
    return units


def _aliases(cell: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(a.strip() for a in _ALIAS_SEP.split(cell) if a.strip()))


class _Names:
    """The names and aliases read so far: an alias that is another unit's name or alias would make a
    document printing it belong to two units, so the roster is refused naming both lines."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: dict[str, tuple[int, str, bool]] = {}  # name_key -> line, as written, is an alias

    def add(self, lineno: int, name: str, aliases: tuple[str, ...]) -> None:
        from xltool.read.identify import name_key

        own = {name_key(name)}
        for text, alias in ((name, False), *((a, True) for a in aliases)):
            key = name_key(text)
            if alias and key in own:
                continue  # the unit's own name written again
            other = self.lines.get(key)
            if other is not None and (alias or other[2]):
                raise RosterError(
                    f"{self.path}: 第 {lineno} 行的{'别名' if alias else '名称'}“{text}”与第 {other[0]} 行的"
                    f"{'别名' if other[2] else '名称'}“{other[1]}”是同一个名称，文档无法据此确定单位；请删去其中一个别名"
                )
            self.lines.setdefault(key, (lineno, text, alias))
            own.add(key)


def unit_key(identity: Identity) -> str:
    """How a unit is told apart in a batch: its code, or (a document matched to no roster) its name."""
    return identity.unit_code or f"名称:{identity.unit_name}"


def assign_units(records: Iterable[ReturnRecord], roster: Sequence[Unit]) -> None:
    """Give a document's unit (named in its title, without a code) the roster's code, name and level,
    when exactly one unit of the roster has that name or lists it as an alias (``match_roster``:
    never a name it merely begins, ends with or abbreviates). Returns of xltool templates carry their
    code and are left as they are; a document left without a code is R-UNKNOWN."""
    from xltool.read.identify import NameIndex, match_roster

    units = NameIndex(roster)
    for rec in records:
        ident = rec.identity
        if ident is None or ident.kind != DOCUMENT or ident.unit_code:
            continue
        unit = match_roster(ident.unit_name, units)
        if unit is not None:
            rec.identity = replace(ident, unit_code=unit.code, unit_name=unit.name, unit_level=unit.level)


def units_by_file_name(files: Iterable[str], roster: Sequence[Unit]) -> dict[str, Unit]:
    """The roster unit each file's name names (教育局统计表.doc: 教育局), as ``assign_units`` matches a
    document's; a file whose name names none, or more than one, is left out. For files that could not
    be read: their unit sent a file (已报送，无法读取), none of its figures are used."""
    from xltool.read.identify import identify, match_roster

    units = list(roster)
    out: dict[str, Unit] = {}
    for file in files:
        name = file.replace("\\", "/").rsplit("/", 1)[-1]
        unit = match_roster(identify(name).unit, units)
        if unit is not None:
            out[file] = unit
    return out
