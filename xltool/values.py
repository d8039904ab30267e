"""Turn a cell value, as townships really type it, into a number or a finding.

Counts are plain ints; amounts (万元) are ints scaled by ``AMOUNT_SCALE`` (0.000001 万元 = 1 分, the
6 decimals real reports print), so sums stay exact. A blank is never read as 0 and no number is ever silently changed: whatever is
accepted with a warning is a value whose number is unambiguous, and the warning tells the clerk
what to retype.

What is accepted with a warning, what is an error, and how each is read are the value codes of
``xltool.catalogue`` (group 数值; ``xltool rules``, the README's table). A "delta" cell (本年增/减)
takes any sign.

Whitespace (spaces, full-width spaces, line breaks, tabs, zero-width spaces) around a value is
ignored; a number typed with a unit or words is an error because the figure may be meant in
another unit (元 vs 万元) or be an estimate.
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from xltool.catalogue import cell_message
from xltool.catalogue import get as _code
from xltool.definition import AMOUNT, COUNT, DELTA
from xltool.errors import InvalidArgument
from xltool.model import ERROR

AMOUNT_DECIMALS = 6
AMOUNT_SCALE = 10**AMOUNT_DECIMALS
"""Amounts (万元) are carried as ints of 0.000001 万元 (1 分): published reports print 收费 to the fen."""

MAX_DIGITS = 15  # Excel keeps 15 significant digits; beyond that a typed number is not what was typed
_MAX_EXACT = 10**MAX_DIGITS
_MAX_AMOUNT = 10**8
"""Amounts are below 1e8 万元 (1 万亿元, far above any unit's figure): with 6 decimals that is 14
significant digits, exact in Excel and in a float; scaled (< 1e14) they sum over 10,000 units to
below 1e18, and a rule's row of them stays far inside int64 (9.2e18)."""

_KINDS = (COUNT, AMOUNT, DELTA)

EXCEL_ERRORS = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!", "#CALC!"}
)
_PLACEHOLDER_CHARS = frozenset("/／\\＼—–−─-－_＿~～·.。、×xX*＊")
_PLACEHOLDER_WORDS = frozenset({"无", "空", "没有", "暂无", "无数据", "不适用", "n/a", "na", "null", "none", "nil"})
_LETTER_O = frozenset("Oo〇")  # after NFKC, which maps Ｏ/ｏ to O/o
_STRIP = " \t\r\n\v\f\u00a0\u3000\u200b\u200c\u200d\u2060\ufeff"
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")

PRINTED_FIGURE = re.compile(r"[-−]?[0-9Oo〇][0-9Oo〇.,，]*%?")
"""What a figure printed in a document looks like, well or badly typed (3, -2, 1,234, 1，234, 1.5, 50%, O,
〇): digits and the letters taken for zero, with separators. A cell or word that matches it whole is a
figure, not a label; whether it is a clean number is ``parse_value``'s to say. The one pattern for
every source and the locator."""

PLAIN_FIGURE = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
"""A printed figure in plain digits (with a sign or decimals): read as the number it is, since a
document holds only text (where a workbook's cell would say V-TEXT-NUMBER)."""
_GROUPED = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")


class Parsed(NamedTuple):
    """The number read from a cell (None when unusable) and, if anything was off, a finding.

    A NamedTuple because the fast path builds millions of them: immutable and cheap to create.
    """

    value: int | None
    code: str | None = None
    severity: str | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.code is None


@dataclass(frozen=True, slots=True)
class Formula:
    """A formula found in an input cell: its text and the result the file cached (None if none)."""

    text: str
    cached: Any = None


_new = tuple.__new__  # Parsed(n) without NamedTuple's keyword handling: half the cost


def _ok(n: int) -> Parsed:
    return _new(Parsed, (n, None, None, ""))


def parse_value(raw: Any, kind: str, unit: str = "") -> Parsed:
    """Read one input cell of ``kind`` COUNT, AMOUNT or DELTA (``unit``: an amount's unit as the
    definition prints it, for messages). Never raises for any cell content."""
    t = type(raw)
    if t is float:  # fast path: what calamine returns for every number in .xlsx
        if kind == COUNT:
            if 0 <= raw < 1e15 and raw.is_integer():
                return _new(Parsed, (int(raw), None, None, ""))
        elif kind == AMOUNT and 0 <= raw < _MAX_AMOUNT:
            # Exact, not within a tolerance: typing D (<= 6 decimals) stores the double nearest D, and
            # raw * 1e6 is then within 1e14 * 2**-52 < 0.03 of D * 1e6, so round() gives n = D * 1e6;
            # n / 1e6 (int true division, correctly rounded) is that same double only when raw is
            # the double nearest n / 1e6. Anything else (a 7th decimal, a formula's 0.1+0.2) goes on.
            n = round(raw * AMOUNT_SCALE)
            if n / AMOUNT_SCALE == raw:
                return _new(Parsed, (n, None, None, ""))
        return _number(raw, kind, None, unit)
    if t is int:
        if kind not in _KINDS:
            raise InvalidArgument(f"未知的单元格类型 {kind!r}")
        if kind == AMOUNT:
            if 0 <= raw < _MAX_AMOUNT:
                return _ok(raw * AMOUNT_SCALE)
        elif 0 <= raw < _MAX_EXACT:
            return _ok(raw)
        return _number(raw, kind, None, unit)
    if kind not in _KINDS:
        raise InvalidArgument(f"未知的单元格类型 {kind!r}")
    if raw is None:
        return _finding("V-BLANK", what="")
    if t is str:
        return _text(raw, kind, unit)
    if t is Formula:
        return _formula(raw, kind, unit)
    if t is bool:
        return _finding("V-TYPE", what=f"逻辑值 {'TRUE' if raw else 'FALSE'}")
    if isinstance(raw, _dt.date | _dt.time | _dt.datetime | _dt.timedelta):
        return _finding("V-TYPE", what=f"日期或时间 {raw}（可能是单元格格式被改成了日期，请把格式改回数值）")
    if isinstance(raw, Decimal | int | float):
        return _number(raw, kind, None, unit)
    return _finding("V-TYPE", what=f"无法识别的内容 {_show(raw)}")


# --------------------------------------------------------------------------- slow paths


def _number(raw: Any, kind: str, text: str | None, unit: str = "") -> Parsed:
    """Check a number (from the cell or from its text) for sign, decimals and precision."""
    if kind not in _KINDS:
        raise InvalidArgument(f"未知的单元格类型 {kind!r}")
    if isinstance(raw, float):
        d = Decimal(format(raw, f".{MAX_DIGITS}g"))  # what Excel shows: 15 significant digits
    else:
        d = Decimal(raw)
    shown = text if text is not None else _plain(raw)
    if not d.is_finite():
        return _finding("V-TYPE", what=f"无效的数字（{shown}）")
    if d < 0 and kind != DELTA:
        return _finding("V-NEGATIVE", text=shown)
    if abs(d) >= _MAX_EXACT:
        return _finding("V-PRECISION", text=shown, detail=f"超过 Excel 的 {MAX_DIGITS} 位有效数字；请核实")
    if kind != AMOUNT:
        if d != d.to_integral_value():
            return _finding("V-DECIMAL", kind="件数" if kind == COUNT else "增减数", text=shown)
        return _ok(int(d))
    if d >= _MAX_AMOUNT:
        return _finding(
            "V-PRECISION",
            text=f"{shown}{unit}",
            detail=f"过大（金额应小于 {_MAX_AMOUNT:,}{unit}）；请核实单位" + (f"是否为{unit}" if unit else ""),
        )
    scaled = d * AMOUNT_SCALE
    if scaled != scaled.to_integral_value():
        return _finding(
            "V-PRECISION",
            text=shown,
            detail=f"超过 {AMOUNT_DECIMALS} 位小数；"
            + (f"金额以{unit}为单位，" if unit else "金额")
            + f"最多保留 {AMOUNT_DECIMALS} 位小数",
        )
    return _ok(int(scaled))


def _text(raw: str, kind: str, unit: str = "") -> Parsed:
    """A value stored as text: accept unambiguous numbers with a warning, report everything else."""
    s = raw.strip(_STRIP)
    if not s:
        return _finding("V-BLANK", what="（只有空格）")
    if s.upper() in EXCEL_ERRORS:
        return _finding("V-EXCEL-ERROR", error=s.upper())
    n = unicodedata.normalize("NFKC", s).strip(_STRIP).replace("\u2212", "-")  # NFKC keeps the minus sign −
    if all(ch in _PLACEHOLDER_CHARS for ch in n) or n.lower() in _PLACEHOLDER_WORDS:
        return _finding("V-PLACEHOLDER", text=_show(s))
    if n.startswith("="):
        return _finding("V-FORMULA", severity=ERROR, formula=f"“{_show(s)}”（以文本保存）")
    if n in _LETTER_O:
        return _finding("V-LETTER-O", 0, text=s)
    fullwidth = n != s
    sign = n.startswith("-")
    body = n[1:].lstrip(_STRIP) if sign else n
    if _NUMBER.fullmatch(body):
        code = "V-FULLWIDTH" if fullwidth else "V-TEXT-NUMBER"
    elif _GROUPED.fullmatch(body):
        code = "V-THOUSANDS"
        body = body.replace(",", "")
    else:
        if any(ch in _LETTER_O for ch in n) and all(ch.isdigit() or ch in _LETTER_O or ch == "." for ch in n):
            return _finding("V-LETTER-O", severity=ERROR, text=_show(s))
        return _finding("V-TEXT", text=_show(s), hint=_hint(kind, unit))
    try:
        d = Decimal(("-" if sign else "") + body)
    except InvalidOperation:  # pragma: no cover - the patterns above only let digits through
        return _finding("V-TEXT", text=_show(s), hint=_hint(kind, unit))
    parsed = _number(d, kind, s, unit)
    if parsed.value is None:
        return parsed
    return _finding(code, parsed.value, text=_show(s), value=show_value(parsed.value, kind))


def _formula(raw: Formula, kind: str, unit: str = "") -> Parsed:
    """A formula in an input cell: its numeric result is usable, with a warning."""
    cached = raw.cached
    if type(cached) is str and cached.strip(_STRIP).upper() in EXCEL_ERRORS:
        return _finding("V-EXCEL-ERROR", error=f"{cached.strip(_STRIP).upper()}（公式 {_show(raw.text)} 的结果）")
    if isinstance(cached, int | float) and not isinstance(cached, bool):
        inner = parse_value(cached, kind, unit)
        if inner.value is not None:
            return _finding("V-FORMULA", inner.value, formula=_show(raw.text), value=show_value(inner.value, kind))
        # the result is a number that is not acceptable here (negative, decimals, too many digits)
        return _number(cached, kind, f"{_plain(cached)}（公式 {_show(raw.text)} 的结果）", unit)
    return _finding("V-FORMULA", severity=ERROR, formula=_show(raw.text))


# --------------------------------------------------------------------------- helpers


def _finding(code: str, number: int | None = None, /, *, severity: str | None = None, **fields: Any) -> Parsed:
    """A value's finding (slow path only): severity and wording from the catalogue (``severity`` picks
    a variant: V-LETTER-O, V-FORMULA), without the sheet and cell the reader puts before it."""
    return _new(
        Parsed,
        (number, code, severity or _code(code).severity, cell_message(code, severity=severity, **fields)),
    )


def _hint(kind: str, unit: str) -> str:
    """V-TEXT: what the cell takes."""
    if kind == COUNT:
        return "件数填非负整数"
    if kind == DELTA:
        return "增减数填整数，减少填负数"
    return (f"金额以{unit}为单位，" if unit else "金额") + f"填数字，可带最多 {AMOUNT_DECIMALS} 位小数"


def _plain(x: Any) -> str:
    """A number as a clerk would type it: 3 not 3.0, 1.2345 not 1.2345000000000002."""
    if isinstance(x, float):
        if x.is_integer() and abs(x) < _MAX_EXACT:
            return str(int(x))
        return format(x, f".{MAX_DIGITS}g")
    return str(x)


def show_value(value: int, kind: str) -> str:
    """A library integer as text for a message: amounts in 万元 without trailing zeros."""
    return format_amount(value) if kind == AMOUNT else str(value)


def workbook_number(value: int, kind: str) -> int | Decimal:
    """A library integer as the number written to a workbook: amounts as exact 万元 Decimals."""
    return amount_decimal(value) if kind == AMOUNT else value


def format_amount(scaled: int) -> str:
    """Scaled amount -> "1.234567" (trailing zeros dropped), for messages."""
    d = Decimal(scaled).scaleb(-AMOUNT_DECIMALS).normalize()
    return format(d, "f")


def amount_decimal(scaled: int) -> Decimal:
    """Scaled amount -> Decimal with ``AMOUNT_DECIMALS`` places, for writing to a workbook."""
    return Decimal(scaled).scaleb(-AMOUNT_DECIMALS).quantize(Decimal(1).scaleb(-AMOUNT_DECIMALS))


def _show(raw: Any, limit: int = 24) -> str:
    """A cell's content for a message: line breaks visible, long text cut."""
    s = str(raw).replace("\r\n", "↵").replace("\n", "↵").replace("\r", "↵").replace("\t", " ")
    return s if len(s) <= limit else s[: limit - 1] + "…"
