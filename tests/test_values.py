"""Cell values as townships type them -> a number, or a finding that says what to retype."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xltool.model import ERROR, WARNING
from xltool.values import AMOUNT_SCALE, Formula, amount_decimal, format_amount, parse_value

FULLWIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")

# raw, kind, value, code, severity
CASES = [
    # clean numbers
    (3.0, "count", 3, None, None),
    (3, "count", 3, None, None),
    (0.0, "count", 0, None, None),
    (-0.0, "count", 0, None, None),
    (1.2345, "amount", 1234500, None, None),
    (5949.088667, "amount", 5949088667, None, None),  # 收费 in 万元 to the fen, as reports print it
    (24252.311082, "amount", 24252311082, None, None),
    (99999999.999999, "amount", 99999999999999, None, None),
    (0.1 + 0.2, "amount", 300000, None, None),  # what Excel shows: 0.3
    (12.0, "amount", 12000000, None, None),
    (7, "amount", 7000000, None, None),
    (12345678.1234, "amount", 12345678123400, None, None),
    # blanks are never 0
    (None, "count", None, "V-BLANK", ERROR),
    ("", "count", None, "V-BLANK", ERROR),
    ("  \n\u3000", "amount", None, "V-BLANK", ERROR),
    # placeholders for "nothing happened"
    ("/", "count", None, "V-PLACEHOLDER", ERROR),
    ("／", "count", None, "V-PLACEHOLDER", ERROR),
    ("—", "count", None, "V-PLACEHOLDER", ERROR),
    ("——", "count", None, "V-PLACEHOLDER", ERROR),
    ("-", "count", None, "V-PLACEHOLDER", ERROR),
    ("_", "count", None, "V-PLACEHOLDER", ERROR),
    ("无", "count", None, "V-PLACEHOLDER", ERROR),
    ("空", "amount", None, "V-PLACEHOLDER", ERROR),
    (" / ", "count", None, "V-PLACEHOLDER", ERROR),
    ("N/A", "count", None, "V-PLACEHOLDER", ERROR),
    # letter O for zero (乌伊岭镇 2024: 行政处罚 O)
    ("O", "count", 0, "V-LETTER-O", WARNING),
    ("o", "count", 0, "V-LETTER-O", WARNING),
    ("〇", "count", 0, "V-LETTER-O", WARNING),
    ("Ｏ", "count", 0, "V-LETTER-O", WARNING),
    ("1O", "count", None, "V-LETTER-O", ERROR),
    # numbers stored as text
    ("3", "count", 3, "V-TEXT-NUMBER", WARNING),
    (" 3 ", "count", 3, "V-TEXT-NUMBER", WARNING),
    ("3\n", "count", 3, "V-TEXT-NUMBER", WARNING),
    ("\u200b3", "count", 3, "V-TEXT-NUMBER", WARNING),
    ("3.0", "count", 3, "V-TEXT-NUMBER", WARNING),
    ("1.5", "amount", 1500000, "V-TEXT-NUMBER", WARNING),
    ("5949.088667", "amount", 5949088667, "V-TEXT-NUMBER", WARNING),
    ("３", "count", 3, "V-FULLWIDTH", WARNING),
    ("１２", "count", 12, "V-FULLWIDTH", WARNING),
    ("１．５", "amount", 1500000, "V-FULLWIDTH", WARNING),
    ("1,234", "count", 1234, "V-THOUSANDS", WARNING),
    ("1，234", "count", 1234, "V-THOUSANDS", WARNING),
    ("1,234.5", "amount", 1234500000, "V-THOUSANDS", WARNING),
    # words, units, Chinese numerals
    ("3件", "count", None, "V-TEXT", ERROR),
    ("3 件", "count", None, "V-TEXT", ERROR),
    ("5万元", "amount", None, "V-TEXT", ERROR),
    ("500元", "amount", None, "V-TEXT", ERROR),
    ("约3", "count", None, "V-TEXT", ERROR),
    ("三", "count", None, "V-TEXT", ERROR),
    ("1 234", "count", None, "V-TEXT", ERROR),
    ("1,5", "count", None, "V-TEXT", ERROR),
    ("1e3", "count", None, "V-TEXT", ERROR),
    ("50%", "count", None, "V-TEXT", ERROR),
    # decimals, signs, precision
    (2.5, "count", None, "V-DECIMAL", ERROR),
    ("2.5", "count", None, "V-DECIMAL", ERROR),
    (-1.0, "count", None, "V-NEGATIVE", ERROR),
    (-1, "count", None, "V-NEGATIVE", ERROR),
    ("-3", "count", None, "V-NEGATIVE", ERROR),
    ("－３", "count", None, "V-NEGATIVE", ERROR),
    ("\u22123", "count", None, "V-NEGATIVE", ERROR),  # the minus sign U+2212
    ("\u2212", "count", None, "V-PLACEHOLDER", ERROR),
    (-0.5, "amount", None, "V-NEGATIVE", ERROR),
    (1.2345678, "amount", None, "V-PRECISION", ERROR),
    ("0.0000001", "amount", None, "V-PRECISION", ERROR),
    (1e8, "amount", None, "V-PRECISION", ERROR),  # 1 万亿元: too large, see values._MAX_AMOUNT
    (10**8, "amount", None, "V-PRECISION", ERROR),
    (1e20, "count", None, "V-PRECISION", ERROR),
    (10**15, "count", None, "V-PRECISION", ERROR),
    # Excel error values
    ("#REF!", "count", None, "V-EXCEL-ERROR", ERROR),
    ("#VALUE!", "count", None, "V-EXCEL-ERROR", ERROR),
    ("#DIV/0!", "count", None, "V-EXCEL-ERROR", ERROR),
    ("#N/A", "count", None, "V-EXCEL-ERROR", ERROR),
    ("#NAME?", "amount", None, "V-EXCEL-ERROR", ERROR),
    # formulas
    (Formula("=1+2", 3.0), "count", 3, "V-FORMULA", WARNING),
    (Formula("=B5/10", 0.5), "amount", 500000, "V-FORMULA", WARNING),
    (Formula("=1+2", None), "count", None, "V-FORMULA", ERROR),
    (Formula("=A1", "abc"), "count", None, "V-FORMULA", ERROR),
    (Formula("=1/0", "#DIV/0!"), "count", None, "V-EXCEL-ERROR", ERROR),
    (Formula("=0-1", -1.0), "count", None, "V-NEGATIVE", ERROR),
    ("=SUM(D5:I5)", "count", None, "V-FORMULA", ERROR),  # a formula stored as text
    # other types
    (True, "count", None, "V-TYPE", ERROR),
    (False, "count", None, "V-TYPE", ERROR),
    (dt.datetime(2024, 3, 1), "count", None, "V-TYPE", ERROR),
    (dt.date(2024, 3, 1), "amount", None, "V-TYPE", ERROR),
    (dt.time(3, 0), "count", None, "V-TYPE", ERROR),
    (float("nan"), "count", None, "V-TYPE", ERROR),
    (float("inf"), "amount", None, "V-TYPE", ERROR),
    (Decimal("1.5"), "amount", 1500000, None, None),
    (Decimal("NaN"), "amount", None, "V-TYPE", ERROR),
    (object(), "count", None, "V-TYPE", ERROR),
]


@pytest.mark.parametrize(
    ("raw", "kind", "value", "code", "severity"),
    CASES,
    ids=[type(c[0]).__name__ if type(c[0]) is object else repr(c[0]) for c in CASES],  # stable across runs
)
def test_value_table(raw, kind, value, code, severity):
    p = parse_value(raw, kind)
    assert (p.value, p.code, p.severity) == (value, code, severity)
    assert p.ok == (code is None)
    assert bool(p.message) == (code is not None)


def test_messages_say_what_was_found_and_what_is_expected():
    assert "“/”" in parse_value("/", "count").message and "应填 0" in parse_value("/", "count").message
    assert "已按数字 0 读取" in parse_value("O", "count").message
    assert "“３”" in parse_value("３", "count").message and "已按 3 读取" in parse_value("３", "count").message
    assert "请只填数字" in parse_value("3件", "count").message
    assert "2.5" in parse_value(2.5, "count").message and "整数" in parse_value(2.5, "count").message
    assert "6 位小数" in parse_value(1.2345678, "amount").message
    assert "#REF!" in parse_value("#REF!", "count").message
    assert "=1+2" in parse_value(Formula("=1+2", 3.0), "count").message
    assert "不能留空" in parse_value(None, "count").message
    assert "↵" in parse_value("3\n件", "count").message  # line breaks made visible


def test_unknown_kind_is_a_programming_error():
    for raw in (1.0, 1, "1"):
        with pytest.raises(ValueError):
            parse_value(raw, "percent")


# --------------------------------------------------------------------------- properties

counts = st.integers(min_value=0, max_value=10**15 - 1)


@given(counts)
def test_any_count_round_trips_in_every_typed_form(n):
    assert parse_value(n, "count") == (n, None, None, "")
    assert parse_value(float(n), "count") == (n, None, None, "")
    text = parse_value(str(n), "count")
    assert (text.value, text.code, text.severity) == (n, "V-TEXT-NUMBER", WARNING)
    padded = parse_value(f" {n}\n", "count")
    assert (padded.value, padded.code) == (n, "V-TEXT-NUMBER")
    wide = parse_value(str(n).translate(FULLWIDTH), "count")
    assert (wide.value, wide.code, wide.severity) == (n, "V-FULLWIDTH", WARNING)


amounts = st.one_of(
    st.integers(min_value=0, max_value=10**14 - 1),  # below 1e8 万元 (values._MAX_AMOUNT), to the fen
    st.integers(min_value=0, max_value=10**9).map(lambda n: n * 100),  # the 4 decimals of old templates
)


@given(amounts)
def test_any_amount_with_at_most_6_decimals_round_trips_exactly(scaled):
    d = Decimal(scaled).scaleb(-6)
    assert parse_value(float(d), "amount").value == scaled
    assert parse_value(d, "amount").value == scaled
    text = parse_value(format(d, "f"), "amount")
    assert (text.value, text.code) == (scaled, "V-TEXT-NUMBER")
    assert amount_decimal(scaled) == d
    assert Decimal(format_amount(scaled)) == d
    assert scaled == int(amount_decimal(scaled) * AMOUNT_SCALE)


@given(st.integers(min_value=0, max_value=10**14 - 1), st.integers(min_value=1, max_value=9))
def test_a_seventh_decimal_is_never_rounded_away(whole, seventh):
    d = Decimal(whole).scaleb(-6) + Decimal(seventh).scaleb(-7)
    for raw in (float(d), format(d, "f")):
        p = parse_value(raw, "amount")
        assert (p.value, p.code, p.severity) == (None, "V-PRECISION", ERROR)


@given(st.integers(min_value=1, max_value=10**12), st.sampled_from(["count", "amount"]))
def test_negative_numbers_are_errors_in_every_form(n, kind):
    for raw in (-n, float(-n), f"-{n}"):
        p = parse_value(raw, kind)
        assert (p.value, p.code) == (None, "V-NEGATIVE")


@given(
    st.one_of(
        st.text(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(),
        st.booleans(),
        st.none(),
        st.datetimes(),
    ),
    st.sampled_from(["count", "amount"]),
)
def test_never_raises_and_a_value_means_no_error(raw, kind):
    p = parse_value(raw, kind)
    if p.value is None:
        assert p.severity == ERROR and p.code and p.message
    else:
        assert isinstance(p.value, int) and p.value >= 0
        assert p.severity in (None, WARNING)
