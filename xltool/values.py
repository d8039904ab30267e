"""Turn a cell value, as townships really type it, into a number or a finding.

Counts are plain ints; amounts (万元) are ints scaled by ``AMOUNT_SCALE`` (0.0001 万元 = 1 元), so
sums stay exact. A blank is never read as 0 and no number is ever silently changed: whatever is
accepted with a warning is a value whose number is unambiguous, and the warning tells the clerk
what to retype.

======================  ==========================================  ========  ===============
code                    input (examples)                            severity  value read
======================  ==========================================  ========  ===============
(none)                  3, 3.0 (count), 1.2345 (amount)             --        the number
V-TEXT-NUMBER           "3", " 3 ", "3\\n", "3.0" stored as text    warning   3
V-FULLWIDTH             "３", "１．５" (full-width digits)            warning   3, 1.5
V-THOUSANDS             "1,234", "1，234"                            warning   1234
V-LETTER-O              "O", "o", "〇", "Ｏ" alone (meaning zero)     warning   0
V-LETTER-O              "1O", "O3" (letter O among digits)          error     --
V-FORMULA               =2+1 typed in an input cell, result 3       warning   3 (the result)
V-FORMULA               formula with no result or a text result     error     --
V-BLANK                 empty, None, "", spaces only                error     --
V-PLACEHOLDER           "/", "／", "—", "-", "_", "无", "空", "N/A"   error     -- (应填 0)
V-TEXT                  "3件", "5万元", "约3", "三", "1 234"          error     --
V-DECIMAL               2.5 or "2.5" in a count cell                error     --
V-NEGATIVE              -3, "-3" in a count or amount cell          error     --
                        (a "delta" cell, 本年增/减, takes any sign)
V-PRECISION             amount with more than 4 decimals;           error     --
                        a number beyond Excel's 15 digits
V-EXCEL-ERROR           #REF!, #VALUE!, #DIV/0!, #N/A, #NAME? ...   error     --
V-TYPE                  TRUE/FALSE, a date or time (cell format     error     --
                        changed to date), NaN
======================  ==========================================  ========  ===============

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

from xltool.definition import AMOUNT, COUNT, DELTA
from xltool.errors import InvalidArgument
from xltool.model import ERROR, WARNING

AMOUNT_SCALE = 10000
"""Amounts (万元) are carried as ints of 0.0001 万元 (1 元)."""

AMOUNT_DECIMALS = 4
MAX_DIGITS = 15  # Excel keeps 15 significant digits; beyond that a typed number is not what was typed
_MAX_EXACT = 10**MAX_DIGITS
_MAX_AMOUNT = _MAX_EXACT // AMOUNT_SCALE  # 1e11 万元: scaled amounts stay exact and fit a 64-bit column

_KINDS = (COUNT, AMOUNT, DELTA)

EXCEL_ERRORS = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!", "#CALC!"}
)
_PLACEHOLDER_CHARS = frozenset("/／\\＼—–−─-－_＿~～·.。、×xX*＊")
_PLACEHOLDER_WORDS = frozenset({"无", "空", "没有", "暂无", "无数据", "不适用", "n/a", "na", "null", "none", "nil"})
_LETTER_O = frozenset("Oo〇")  # after NFKC, which maps Ｏ/ｏ to O/o
_STRIP = " \t\r\n\v\f\u00a0\u3000\u200b\u200c\u200d\u2060\ufeff"
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
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
        elif kind == AMOUNT:
            scaled = raw * AMOUNT_SCALE
            if 0 <= scaled < 1e9:  # below 1e9 a float's error is far under 1e-6: a 5th decimal shows
                n = round(scaled)
                if -1e-6 < scaled - n < 1e-6:
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
        return _error("V-BLANK", "单元格为空；没有发生的事项应填 0，不能留空")
    if t is str:
        return _text(raw, kind, unit)
    if t is Formula:
        return _formula(raw, kind, unit)
    if t is bool:
        return _error("V-TYPE", f"单元格内是逻辑值 {'TRUE' if raw else 'FALSE'}；应填数字")
    if isinstance(raw, _dt.date | _dt.time | _dt.datetime | _dt.timedelta):
        return _error(
            "V-TYPE", f"单元格内是日期或时间 {raw}（可能是单元格格式被改成了日期）；请把格式改回数值并重新填写数字"
        )
    if isinstance(raw, Decimal | int | float):
        return _number(raw, kind, None, unit)
    return _error("V-TYPE", f"无法识别的单元格内容 {_show(raw)}；应填数字")


# --------------------------------------------------------------------------- slow paths


def _number(raw: Any, kind: str, text: str | None, unit: str = "") -> Parsed:
    """Check a number (from the cell or from its text) for sign, decimals and precision."""
    if kind not in _KINDS:
        raise InvalidArgument(f"未知的单元格类型 {kind!r}")
    if isinstance(raw, float):
        d = Decimal(format(raw, f".{MAX_DIGITS}g"))  # what Excel shows: 15 significant digits
    else:
        d = Decimal(raw)
    if not d.is_finite():
        return _error("V-TYPE", f"单元格内不是有效数字（{raw}）；应填数字")
    shown = text if text is not None else _plain(raw)
    if d < 0 and kind != DELTA:
        return _error("V-NEGATIVE", f"填写了负数 {shown}；应为 0 或正数")
    if abs(d) >= _MAX_EXACT:
        return _error("V-PRECISION", f"数字 {shown} 超过 Excel 的 {MAX_DIGITS} 位有效数字；请核实")
    if kind != AMOUNT:
        if d != d.to_integral_value():
            return _error("V-DECIMAL", f"{'件数' if kind == COUNT else '增减数'}应为整数，填写了 {shown}")
        return _ok(int(d))
    if d >= _MAX_AMOUNT:
        return _error(
            "V-PRECISION",
            f"金额 {shown}{unit} 过大（应小于 {_MAX_AMOUNT:,}{unit}）；请核实单位" + (f"是否为{unit}" if unit else ""),
        )
    scaled = d * AMOUNT_SCALE
    if scaled != scaled.to_integral_value():
        return _error(
            "V-PRECISION",
            f"金额 {shown} 超过 {AMOUNT_DECIMALS} 位小数；"
            + (f"金额以{unit}为单位，" if unit else "")
            + f"最多保留 {AMOUNT_DECIMALS} 位小数",
        )
    return _ok(int(scaled))


def _text(raw: str, kind: str, unit: str = "") -> Parsed:
    """A value stored as text: accept unambiguous numbers with a warning, report everything else."""
    s = raw.strip(_STRIP)
    if not s:
        return _error("V-BLANK", "单元格为空（或只有空格）；没有发生的事项应填 0，不能留空")
    if s.upper() in EXCEL_ERRORS:
        return _error("V-EXCEL-ERROR", f"单元格显示错误值 {s.upper()}；请删除公式或引用，直接填写数字")
    n = unicodedata.normalize("NFKC", s).strip(_STRIP).replace("\u2212", "-")  # NFKC keeps the minus sign −
    if all(ch in _PLACEHOLDER_CHARS for ch in n) or n.lower() in _PLACEHOLDER_WORDS:
        return _error("V-PLACEHOLDER", f"填写了“{_show(s)}”；没有发生的事项应填 0")
    if n.startswith("="):
        return _error("V-FORMULA", f"单元格内是文本形式的公式“{_show(s)}”；请直接填写数字")
    if n in _LETTER_O:
        return _warning(0, "V-LETTER-O", f"填写了字母或汉字“{s}”，已按数字 0 读取；请改为数字 0")
    fullwidth = n != s
    sign = n.startswith("-")
    body = n[1:].lstrip(_STRIP) if sign else n
    if _NUMBER.fullmatch(body):
        code, what = ("V-FULLWIDTH", "全角数字") if fullwidth else ("V-TEXT-NUMBER", "以文本形式保存的数字")
        grouped = False
    elif _GROUPED.fullmatch(body):
        code, what = "V-THOUSANDS", "带千位分隔符的文本数字"
        body = body.replace(",", "")
        grouped = True
    else:
        if any(ch in _LETTER_O for ch in n) and all(ch.isdigit() or ch in _LETTER_O or ch == "." for ch in n):
            return _error("V-LETTER-O", f"填写了“{_show(s)}”，其中含字母 O；若为数字 0 请改为 0，只填数字")
        unit = {
            COUNT: "件数填非负整数",
            DELTA: "增减数填整数，减少填负数",
        }.get(kind, (f"金额以{unit}为单位，" if unit else "金额") + f"填数字，可带最多 {AMOUNT_DECIMALS} 位小数")
        return _error("V-TEXT", f"填写了“{_show(s)}”；请只填数字（{unit}），不要带文字或单位")
    try:
        d = Decimal(("-" if sign else "") + body)
    except InvalidOperation:  # pragma: no cover - the patterns above only let digits through
        return _error("V-TEXT", f"填写了“{_show(s)}”；请只填数字")
    parsed = _number(d, kind, s, unit)
    if parsed.value is None:
        return parsed
    shown = show_value(parsed.value, kind)
    if grouped:
        return _warning(parsed.value, code, f"填写了{what}“{_show(s)}”，已按 {shown} 读取；请去掉逗号，以数值格式填写")
    return _warning(parsed.value, code, f"填写了{what}“{_show(s)}”，已按 {shown} 读取；请改为数值格式的半角数字")


def _formula(raw: Formula, kind: str, unit: str = "") -> Parsed:
    """A formula in an input cell: its numeric result is usable, with a warning."""
    cached = raw.cached
    if type(cached) is str and cached.strip(_STRIP).upper() in EXCEL_ERRORS:
        return _error(
            "V-EXCEL-ERROR",
            f"输入单元格内是公式 {_show(raw.text)}，结果为错误值 {cached.strip().upper()}；请直接填写数字",
        )
    if isinstance(cached, int | float) and not isinstance(cached, bool):
        inner = parse_value(cached, kind, unit)
        if inner.value is not None:
            shown = show_value(inner.value, kind)
            return _warning(
                inner.value,
                "V-FORMULA",
                f"输入单元格内是公式 {_show(raw.text)}，已按其结果 {shown} 读取；请直接填写数字",
            )
        return _error(inner.code, f"输入单元格内是公式 {_show(raw.text)}，其结果：{inner.message}")
    return _error("V-FORMULA", f"输入单元格内是公式 {_show(raw.text)}，没有可用的数字结果；请直接填写数字")


# --------------------------------------------------------------------------- helpers


def _error(code: str, message: str) -> Parsed:
    return _new(Parsed, (None, code, ERROR, message))


def _warning(value: int, code: str, message: str) -> Parsed:
    return _new(Parsed, (value, code, WARNING, message))


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
    """Scaled amount -> "1.2345" (trailing zeros dropped), for messages."""
    d = Decimal(scaled).scaleb(-AMOUNT_DECIMALS).normalize()
    return format(d, "f")


def amount_decimal(scaled: int) -> Decimal:
    """Scaled amount -> Decimal with 4 places, for writing to a workbook."""
    return Decimal(scaled).scaleb(-AMOUNT_DECIMALS).quantize(Decimal(1).scaleb(-AMOUNT_DECIMALS))


def _show(raw: Any, limit: int = 24) -> str:
    """A cell's content for a message: line breaks visible, long text cut."""
    s = str(raw).replace("\r\n", "↵").replace("\n", "↵").replace("\r", "↵").replace("\t", " ")
    return s if len(s) <= limit else s[: limit - 1] + "…"
