"""Read an xltool workbook (a template as filled in, a consolidated or imported workbook): recognise them by the hidden identification, check the layout, and
turn every statutory cell into a number or a finding.

The main path is one pass of python-calamine over the bounded rows the definition needs. Only
when a cell is off (an input that is not a clean number, a total that is missing or differs from
the sum of its parts) is the sheet XML of an .xlsx/.xlsm opened (zipfile + byte search) to tell
what is really there: a blank or an error value (calamine returns "" for both), a formula typed
into an input cell, a total whose formula was typed over. .xls and .ods have no such second look:
there a "" cell is reported as blank-or-error and ``formula_lost`` stays empty. A formula typed
into an input cell whose result is a clean number is read as that number without a finding.

What each finding code means, its severity and its wording are in ``xltool.catalogue`` (``xltool rules``).

When a file or layout error exists (``catalogue.is_layout``), values are not parsed (rows may have moved; the
numbers would be misread) and every value is None.

Totals hold the number the file shows. With no shown number because the file was saved without
calculated results (openpyxl does that) the total is recomputed from its parts. A total whose
formula is gone is recorded in ``formula_lost``; if it then shows no usable number it gets a V-*
finding like an input. A shown number that differs from the sum is not reported here: the format's sum rules
do, and their message can say the formula was typed over.
"""

from __future__ import annotations

import html
import io
import operator
import posixpath
import re
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from xltool.catalogue import cell_message
from xltool.definition import COUNT, Format, TableLayout, a1
from xltool.errors import XltoolError
from xltool.findings import ERROR, WARNING, Finding
from xltool.model import (
    IDENT_SHEET,
    IMPORTED,
    SOURCE_FINDING_FIELDS,
    SOURCE_FINDINGS_SHEET,
    TEMPLATE_ID,
    UNPLACED,
    Identity,
    ReturnRecord,
)
from xltool.read.from_document import ReadOptions, fill_from_document
from xltool.read.safety import read_container
from xltool.text import clean_text, normalize_label, short_sheet
from xltool.values import Formula, Parsed, parse_value

COVER = "cover"


class Unreadable(XltoolError):
    """Stops reading one file; becomes an F-UNREADABLE finding saying ``reason`` and ``hint``."""

    def __init__(self, reason: str, hint: str, detail: str = ""):
        super().__init__(reason)
        self.reason, self.hint, self.detail = reason, hint, detail


def read_workbook(rec: ReturnRecord, formats: Mapping[str, Format], options: ReadOptions | None = None) -> None:
    """An .xlsx/.xlsm/.xls/.ods: checked as a container first, then read as an xltool workbook or, without
    the hidden identification, as a sheet a unit made itself."""
    name = rec.path.name
    # the container is checked before any library decompresses or parses it; the bytes read for
    # that check are the ones opened below (one read of the file)
    refusal, data, rec.size, rec.sha256 = read_container(rec.path)
    if refusal is not None:
        code, fields = refusal
        rec.findings.append(Finding.for_file(rec.file, code, name=name, **fields))
        return

    from python_calamine import CalamineWorkbook, PasswordError

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        metas = wb.sheets_metadata
    except PasswordError:
        raise Unreadable("设有打开密码", "请在 Excel/WPS 中去掉打开密码后重新保存") from None
    except Exception as exc:
        raise Unreadable(
            "不是有效的工作簿或文件已损坏", "请在 Excel 中打开确认后另存为 .xlsx", short_reason(exc)
        ) from None
    book = _Book(wb, {m.name: m for m in metas}, data if data.startswith(b"PK") else None)

    if IDENT_SHEET not in book.metas:
        # not drawn from a template: a sheet a unit made itself, last year's file, a platform export
        from xltool.read.sources import SourceError
        from xltool.read.sources.sheets import read_sheets

        try:
            doc = read_sheets(data, rec.file, name)
        except SourceError as exc:
            rec.findings.append(Finding.refused(rec.file, exc))
            return

        def formula_at(sheet: str, ref: str) -> bool:
            xml = book.sheet_xml(sheet)
            return xml is not None and ref in xml.formula_refs

        if not fill_from_document(rec, doc, formats, options, formula_at):
            rec.findings.append(Finding.for_file(rec.file, "F-NOT-TEMPLATE", name=name))
        return
    if not _identify(rec, book, formats):
        return
    fmt = rec.format
    assert fmt is not None
    rec.values = dict.fromkeys(fmt.cells)
    layout = fmt.layout
    _read_cover(rec, book, fmt)
    if rec.identity is not None and rec.identity.kind == IMPORTED:
        _read_source_findings(rec, book)
    sheets = _locate_sheets(rec, book, fmt, layout)
    for tl in layout:
        if tl.key in sheets:  # every problem at once, so one round of corrections is enough
            _check_labels(rec, tl, sheets[tl.key])
    if not rec.readable:
        return
    for tl in layout:
        _read_values(rec, fmt, tl, sheets[tl.key], book)
    _read_totals(rec, fmt, sheets, book)


# --------------------------------------------------------------------------- the workbook


class _Book:
    """The calamine workbook plus, for .xlsx, lazy access to each sheet's XML."""

    def __init__(self, wb: Any, metas: dict[str, Any], zipped: bytes | None):
        self.wb = wb
        self.metas = metas
        self._zipped = zipped
        self._zip: zipfile.ZipFile | None = None
        self._parts: dict[str, str] | None = None
        self._xml: dict[str, _SheetXml | None] = {}

    def rows(self, sheet: str, nrows: int) -> list[list[Any]]:
        rows: list[list[Any]] = self.wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False, nrows=nrows)
        return rows

    def hidden(self, sheet: str) -> bool:
        from python_calamine import SheetVisibleEnum

        return bool(self.metas[sheet].visible != SheetVisibleEnum.Visible)

    def sheet_xml(self, sheet: str) -> _SheetXml | None:
        """The formulas and error cells of a sheet, or None when the file is not .xlsx/.xlsm."""
        if sheet not in self._xml:
            self._xml[sheet] = self._scan(sheet)
        return self._xml[sheet]

    def _scan(self, sheet: str) -> _SheetXml | None:
        if self._zipped is None:
            return None
        if self._parts is None:
            try:
                self._zip = zipfile.ZipFile(io.BytesIO(self._zipped))
                self._parts = _sheet_parts(self._zip)
            except (zipfile.BadZipFile, KeyError, ValueError):
                self._parts = {}
        part = self._parts.get(sheet)
        if part is None or self._zip is None:
            return None
        try:  # sizes were bounded by read_container
            return _SheetXml(self._zip.read(part))
        except (KeyError, zipfile.BadZipFile, ValueError, OSError):
            return None


_SHEET_TAG = re.compile(rb"<(?:\w+:)?sheet\b[^>]*>")
_REL_TAG = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>")
_ATTR = re.compile(rb'([\w:]+)\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')


def _attrs(tag: bytes) -> dict[bytes, str]:
    return {
        m.group(1): html.unescape((m.group(2) if m.group(2) is not None else m.group(3)).decode("utf-8"))
        for m in _ATTR.finditer(tag)
    }


def _sheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> zip member of its XML, from workbook.xml and its relationships."""
    rels = {}
    for tag in _REL_TAG.findall(z.read("xl/_rels/workbook.xml.rels")):
        a = _attrs(tag)
        target = a.get(b"Target", "")
        target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
        rels[a.get(b"Id", "")] = target
    parts = {}
    for tag in _SHEET_TAG.findall(z.read("xl/workbook.xml")):
        a = _attrs(tag)
        rid = next((v for k, v in a.items() if k == b"id" or k.endswith(b":id")), "")
        if b"name" in a and rid in rels:
            parts[a[b"name"]] = rels[rid]
    return parts


_CELL_T = re.compile(rb'\st="(\w+)"')
_CELL_R = re.compile(rb'\sr="([A-Z]+[0-9]+)"')
_FORMULA_CELL = re.compile(rb'r="([A-Z]+[0-9]+)"[^>]*>\s*<(?:\w+:)?f[\s>/]')  # only cells have r="A1"
_CELL_F = re.compile(rb"<(?:\w+:)?f\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?f>)", re.S)
_CELL_V = re.compile(rb"<(?:\w+:)?v>(.*?)</(?:\w+:)?v>", re.S)
_CELL_IS = re.compile(rb"<(?:\w+:)?t(?:\s[^>]*)?>(.*?)</(?:\w+:)?t>", re.S)


@dataclass(frozen=True)
class _XmlCell:
    """What a cell holds in the file: its formula (None if none) and the value saved with it."""

    formula: str | None
    value: Any  # float, str (text or error value), bool, or None when nothing is saved
    error: bool = False


class _SheetXml:
    """One sheet's XML, searched by byte offsets for single cells. The file is well-formed (calamine
    has just parsed it); only cells calamine cannot explain are looked up."""

    def __init__(self, xml: bytes):
        self.xml = xml

    @cached_property
    def formula_refs(self) -> frozenset[str]:
        """A1 of every cell holding a formula (a <c r="…"> whose first child is <f>)."""
        return frozenset(ref.decode() for ref in _FORMULA_CELL.findall(self.xml))

    @cached_property
    def errors(self) -> dict[str, str]:
        """A1 -> error value (#REF! …) of the cells saved as errors; usually none, found fast."""
        xml, out = self.xml, {}
        at = xml.find(b' t="e"')
        while at >= 0:
            start = xml.rfind(b"<", 0, at)
            ref = _CELL_R.search(xml, start, xml.find(b">", at) + 1)
            if ref is not None:
                value = self.cell(ref.group(1).decode()).value
                if isinstance(value, str):
                    out[ref.group(1).decode()] = value
            at = xml.find(b' t="e"', at + 1)
        return out

    def cell(self, ref: str) -> _XmlCell:
        xml = self.xml
        needle = b' r="' + ref.encode() + b'"'
        at = xml.find(needle)
        while at >= 0:
            start = xml.rfind(b"<", 0, at)
            name = xml[start + 1 : at].split()[0] if at > start + 1 else b""
            if name == b"c" or name.endswith(b":c"):
                break
            at = xml.find(needle, at + 1)
        else:
            return _XmlCell(None, None)
        tag_end = xml.find(b">", at)
        if xml[tag_end - 1 : tag_end] == b"/":
            return _XmlCell(None, None)
        body = xml[tag_end + 1 : xml.find(b"</" + name + b">", tag_end)]
        typ = _CELL_T.search(xml, start, tag_end)
        cell_type = typ.group(1) if typ else b"n"
        f = _CELL_F.search(body)
        formula = None
        if f is not None:
            formula = "=" + _unescape(f.group(1)) if f.group(1) else "=（共享公式）"
        v = _CELL_V.search(body)
        value: Any = None
        if cell_type == b"inlineStr":
            value = "".join(_unescape(t) for t in _CELL_IS.findall(body))
        elif v is not None:
            text = _unescape(v.group(1))
            if cell_type in (b"str", b"e"):
                value = text
            elif cell_type == b"b":
                value = text.strip() == "1"
            elif cell_type == b"n":
                try:
                    value = float(text)
                except ValueError:
                    value = None
        return _XmlCell(formula, value, cell_type == b"e")


def _unescape(raw: bytes) -> str:
    return html.unescape(raw.decode("utf-8"))


# --------------------------------------------------------------------------- identification


def _identify(rec: ReturnRecord, book: _Book, formats: Mapping[str, Format]) -> bool:
    """Fill identity and format from the hidden sheet; False (with a finding) when not usable."""
    name = rec.path.name
    rows = book.rows(IDENT_SHEET, 64)
    mapping = {str(r[0]).strip(): r[1] for r in rows if len(r) >= 2 and isinstance(r[0], str) and r[0].strip()}
    try:
        identity = Identity.from_mapping(mapping)
    except ValueError as exc:
        rec.findings.append(Finding.for_file(rec.file, "F-IDENT", name=name, problem=f"已损坏（{exc}）"))
        return False
    if identity.template_id != TEMPLATE_ID:
        rec.findings.append(
            Finding.for_file(rec.file, "F-IDENT", name=name, problem=f"不是本工具的（{identity.template_id}）")
        )
        return False
    rec.identity = identity
    fmt = formats.get(identity.format_id)
    if fmt is None:
        what = f"使用未知的报表格式“{identity.format_id}”（本工具支持：{'、'.join(formats)}）"
        rec.findings.append(Finding.for_file(rec.file, "F-FORMAT", identity=identity, name=name, what=what))
        return False
    rec.format = fmt
    if identity.fingerprint != fmt.fingerprint:
        rec.values = dict.fromkeys(fmt.cells)
        rec.findings.append(
            Finding.for_file(
                rec.file,
                "F-FORMAT",
                identity=identity,
                name=name,
                what=f"来自另一版本的模板（版式指纹 {identity.fingerprint}，本版为 {fmt.fingerprint}），单元格位置可能不同",
            )
        )
        return False
    return True


# --------------------------------------------------------------------------- layout


def _cell(rows: list[list[Any]], row: int, col: int) -> Any:
    try:
        return rows[row][col]
    except IndexError:
        return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_source_findings(rec: ReturnRecord, book: _Book) -> None:
    """An imported document's layout findings, kept in the workbook by ``xltool import``: said again."""
    if SOURCE_FINDINGS_SHEET not in book.metas:
        return
    rows = book.rows(SOURCE_FINDINGS_SHEET, 1000)
    for row in rows[1:]:
        f = dict(zip(SOURCE_FINDING_FIELDS, (_text(v) for v in row), strict=False))
        if f.get("rule") == UNPLACED:  # cells the document did not print: blank here, said once above
            rec.unplaced.update(c for c in f.get("cell_ids", "").split(",") if c in rec.values)
            continue
        if not f.get("rule") or f.get("severity") not in (ERROR, WARNING):
            continue
        rec.findings.append(
            Finding.at_cells(
                rec,
                f["rule"],
                sheet="",
                cells=(),
                severity=f["severity"],
                message=f.get("message", ""),
                row_label=f.get("row_label", ""),
                col_label=f.get("col_label", ""),
                cell_ids=tuple(c for c in f.get("cell_ids", "").split(",") if c),
                table=f.get("table", ""),
                location=f.get("location", ""),
            )
        )


def _read_cover(rec: ReturnRecord, book: _Book, fmt: Format) -> None:
    cover = fmt.cover
    if cover.sheet not in book.metas:
        rec.findings.append(
            Finding.for_file(rec.file, "L-SHEET-MISSING", identity=rec.identity, severity=WARNING, sheet=cover.sheet)
        )
        return
    rec.sheet_titles[COVER] = cover.sheet
    rows = book.rows(cover.sheet, max(f.value_span.first_row for f in cover.fields) + 1)
    for f in cover.fields:
        rec.cover[f.key] = clean_text(_text(_cell(rows, f.value_span.first_row, f.value_span.first_col))).strip()


def _locate_sheets(
    rec: ReturnRecord, book: _Book, fmt: Format, layout: tuple[TableLayout, ...]
) -> dict[str, list[list[Any]]]:
    """Rows of each table sheet found, by table key; a renamed sheet is found by its title.
    A sheet missing or renamed is an L-SHEET-MISSING error."""
    out: dict[str, list[list[Any]]] = {}
    expected = {tl.sheet for tl in layout} | {fmt.cover.sheet, IDENT_SHEET, SOURCE_FINDINGS_SHEET}
    strangers = [n for n in book.metas if n not in expected]
    for tl in layout:
        if tl.sheet in book.metas:
            rec.sheet_titles[tl.key] = tl.sheet
            out[tl.key] = book.rows(tl.sheet, tl.nrows)
            if book.hidden(tl.sheet):
                rec.findings.append(
                    Finding.at_cells(
                        rec, "L-SHEET-HIDDEN", sheet=tl.sheet, cells=(tl.title_cell,), fields={"sheet": tl.sheet}
                    )
                )
            continue
        renamed = next((n for n in strangers if _title_of(book, n, tl) == normalize_label(tl.title)), None)
        if renamed is not None:
            rec.sheet_titles[tl.key] = renamed
            out[tl.key] = book.rows(renamed, tl.nrows)
            rec.findings.append(
                Finding.at_cells(
                    rec,
                    "L-SHEET-MISSING",
                    sheet=renamed,
                    cells=(tl.title_cell,),
                    fields={"sheet": tl.sheet, "what": f"被改名为“{renamed}”"},
                )
            )
        else:
            present = "、".join(n for n in book.metas if n != IDENT_SHEET) or "无"
            rec.findings.append(
                Finding.for_file(
                    rec.file,
                    "L-SHEET-MISSING",
                    identity=rec.identity,
                    sheet=tl.sheet,
                    what=f"不存在（被删除或改名；现有工作表：{present}）",
                )
            )
    return out


def _title_of(book: _Book, sheet: str, tl: TableLayout) -> str:
    row, col = tl.title_at
    try:
        return normalize_label(_text(_cell(book.rows(sheet, row + 1), row, col)))
    except Exception:
        return ""


def _check_labels(rec: ReturnRecord, tl: TableLayout, rows: list[list[Any]]) -> None:
    """Every title, header and row label must be the template's text (up to whitespace and width)."""
    sheet = rec.sheet_titles[tl.key]
    wrong: list[Finding] = []
    moved: list[tuple[str, str, str]] = []  # (cell, text, where it is now)
    for row, col, text, normed in tl.labels:
        found = _cell(rows, row, col)
        if found == text:
            continue
        found_text = _text(found)
        if normalize_label(found_text) == normed:
            continue
        where = _find_text(rows, normed)
        if where:
            moved.append((a1(row, col), text, where))
        shown = found_text.replace("\n", "↵") if found_text.strip() else "空白"
        wrong.append(
            Finding.at_cells(
                rec,
                "L-LABEL",
                sheet=sheet,
                cells=(a1(row, col),),
                fields={
                    "sheet": short_sheet(sheet),
                    "what": f"{a1(row, col)} 应为“{text}”，实际为“{shown}”"
                    + (f"；该文字现在位于 {where}，可能插入或删除了行列" if where else ""),
                },
            )
        )
    if len(moved) > 1:  # rows or columns inserted or deleted: one finding, not one per label
        cell, text, where = moved[0]
        wrong = [
            Finding.at_cells(
                rec,
                "L-LABEL",
                sheet=sheet,
                cells=tuple(c for f in wrong for c in f.cells),
                fields={
                    "sheet": short_sheet(sheet),
                    "what": f"有 {len(wrong)} 处表头或行名与模板不符，其中 {len(moved)} 处整体移动了位置"
                    f"（如 {cell} 的“{text}”现在位于 {where}），可能插入或删除了行列",
                },
            )
        ]
    rec.findings.extend(wrong)


def _find_text(rows: list[list[Any]], normed: str) -> str:
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            if isinstance(v, str) and v and normalize_label(v) == normed:
                return a1(r, c)
    return ""


# --------------------------------------------------------------------------- values


def _blank_or_error(kind: str, unit: str) -> Parsed:
    """A "" from calamine in .xls/.ods, where blank and error values cannot be told apart."""
    return parse_value(None, kind, unit)._replace(message=cell_message("V-BLANK", what="或显示错误值（如 #REF!）"))


def _explain(cell: _XmlCell | None, shown: Any, kind: str, unit: str) -> Parsed:
    """Parse a cell calamine could not read as a clean number, knowing what the file holds there
    (``cell``; None for .xls/.ods, where that is unknown)."""
    if cell is None:
        return _blank_or_error(kind, unit) if shown == "" else parse_value(shown, kind, unit)
    if cell.formula is not None:
        return parse_value(Formula(cell.formula, shown if shown != "" else cell.value), kind, unit)
    if shown == "":
        return parse_value(cell.value if cell.error else None, kind, unit)
    return parse_value(shown, kind, unit)


def _xml_cell(book: _Book, sheet: str, ref: str) -> _XmlCell | None:
    xml = book.sheet_xml(sheet)
    return xml.cell(ref) if xml is not None else None


def _read_values(rec: ReturnRecord, fmt: Format, tl: TableLayout, rows: list[list[Any]], book: _Book) -> None:
    """Parse every input cell of one table; findings at the cells that are not clean numbers."""
    values = rec.values
    for cid, row, col, kind, ref in tl.inputs:
        try:
            raw = rows[row][col]
        except IndexError:
            raw = None
        if type(raw) is float and kind == COUNT and 0 <= raw < 1e15 and raw.is_integer():
            values[cid] = int(raw)  # the common case, read as parse_value reads it, without the call
            continue
        unit = fmt.cells[cid].unit
        p = parse_value(raw, kind, unit)
        if p[1] is not None:  # something is off: look at the cell itself (formula, error, blank)
            p = _explain(_xml_cell(book, rec.sheet_titles[tl.key], ref), raw, kind, unit)
        values[cid] = p[0]
        if p[1] is not None and cid not in rec.unplaced:
            rec.findings.append(Finding.of_value(rec, cid, p))


def _total_specs(fmt: Format) -> tuple[tuple[Any, bool, Any], ...]:
    """Per total, in dependency order: the cell, whether it is a count, and a getter of its parts'
    values as a tuple (kept on the format: the loop runs for every file)."""
    specs = []
    for c in fmt.total_order:
        parts_of: Callable[[Any], tuple[Any, ...]]
        if len(c.parts) > 1:
            parts_of = operator.itemgetter(*c.parts)
        else:
            parts_of = _getter(tuple(c.parts))
        specs.append((c, c.kind == COUNT, parts_of))
    return tuple(specs)


def _getter(ids: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """itemgetter for one key returns the value, not a 1-tuple: the same shape for every total."""

    def parts_of(values: Any) -> tuple[Any, ...]:
        return tuple(values[p] for p in ids)

    return parts_of


def _read_totals(rec: ReturnRecord, fmt: Format, sheets: dict[str, list[list[Any]]], book: _Book) -> None:
    """Totals: the number shown, else recomputed; ``formula_lost`` when a formula was typed over.

    The file is looked into only when the shown number is missing or differs from the sum of the
    parts, which is when a message needs to say whether the formula is gone.
    """
    values = rec.values
    imported = rec.identity is not None and rec.identity.kind == IMPORTED
    for c, count, parts_of in fmt.derived(_total_specs):
        raw = _cell(sheets[c.table], c.row, c.col)
        parts = parts_of(values)
        summed = None if None in parts else sum(parts)
        if count and type(raw) is float and raw == summed and 0 <= raw < 1e15 and raw.is_integer():
            values[c.id] = summed  # the common case: the shown count is the sum (parse_value's fast path)
            continue
        p = parse_value(raw, c.kind, c.unit)
        if p[1] is None and p[0] == summed:
            values[c.id] = p[0]
            continue
        xml = book.sheet_xml(rec.sheet_titles[c.table])
        if imported:  # typed as the document printed it: no formula was ever there
            if p[1] is not None:
                p = _explain(xml.cell(c.address) if xml is not None else None, raw, c.kind, c.unit)
        elif xml is None:  # .xls/.ods: formulas unknown
            if p[1] is not None:
                p = _explain(None, raw, c.kind, c.unit)
        else:
            has_formula = c.address in xml.formula_refs
            if not has_formula:
                rec.formula_lost.add(c.id)
            if p[1] is None:
                pass  # a number that differs from the sum: kept as shown, the sum rules report it
            elif not has_formula:
                p = _explain(xml.cell(c.address), raw, c.kind, c.unit)
                p = p._replace(message=f"{p.message}（此处原为自动计算的合计公式，已被删除或改写）")
            elif raw in ("", None) and c.address not in xml.errors:
                p = Parsed(summed)  # the formula was saved without its result (openpyxl does that)
            elif summed is None:
                p = Parsed(None)  # an error carried from a part, which has its own finding
            else:  # the formula shows an error value or text of its own
                p = parse_value(xml.errors.get(c.address) if raw in ("", None) else raw, c.kind, c.unit)
        values[c.id] = p[0]
        if p[1] is not None and c.id not in rec.unplaced:
            rec.findings.append(Finding.of_value(rec, c.id, p))


def short_reason(exc: BaseException) -> str:
    """The first line of an exception's text: enough to act on, never a traceback."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]
