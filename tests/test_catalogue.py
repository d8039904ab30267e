"""The catalogue of finding codes is complete, has no dead entries, agrees with what the code emits,
and is what the README and ``xltool rules`` show."""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from xltool.catalogue import (
    CODE_PATTERN,
    CODES,
    ERROR,
    GROUPS,
    README,
    REGENERATE,
    WARNING,
    catalogue,
    get,
    message,
    update_readme,
)
from xltool.definition import DEFAULT_FORMAT, builtin_formats
from xltool.values import AMOUNT, COUNT, Formula, parse_value

PACKAGE = Path(__file__).parents[1] / "xltool"

# Catalogued before anything emits them, so their wording is settled in one place. This set must
# stay empty once they are emitted: test_no_dead_entries fails when the package emits one of them.
NOT_YET_EMITTED: frozenset[str] = frozenset()

IMPLIED_SEVERITY = {
    "Problem": ERROR,
    "SourceError": ERROR,
}
"""Helpers that, called without a severity, imply it (safety.py, sources). Other sites call helpers
that take the severity from the catalogue, and name one only to pick a variant."""


# --------------------------------------------------------------------------- scanning the package


def _sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "catalogue.py")


def _ignored(tree: ast.AST) -> set[int]:
    """Constants that are documentation (bare string statements) or prefixes (``startswith("X-PREV")``)."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            out.add(id(node.value))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in ("startswith", "endswith", "removeprefix"):
                out.update(id(n) for a in node.args for n in ast.walk(a))
    return out


def _code_literals(tree: ast.AST) -> list[ast.Constant]:
    skip = _ignored(tree)
    return [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant)
        and isinstance(n.value, str)
        and CODE_PATTERN.fullmatch(n.value)
        and id(n) not in skip
    ]


def emitted_codes() -> dict[str, list[str]]:
    """Every code written as a string literal in the package's code (not its docs), with where."""
    out: dict[str, list[str]] = {}
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in _code_literals(tree):
            out.setdefault(node.value, []).append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    return out


def rule_codes() -> set[str]:
    return {r.code for fmt in builtin_formats().values() for r in fmt.rules}


def emission_severities() -> dict[str, set[str]]:
    """(code, severity) wherever one call names both: ``f(rec, "R-NAME", WARNING, ...)``,
    ``Finding(rule="R-MISSING", severity=WARNING)``, ``_error("V-BLANK", ...)``."""
    out: dict[str, set[str]] = {}
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            args = [*call.args, *(k.value for k in call.keywords)]
            codes = [a.value for a in args if isinstance(a, ast.Constant) and CODE_PATTERN.fullmatch(str(a.value))]
            names = {a.id for a in args if isinstance(a, ast.Name)}
            severities = {s for name, s in (("ERROR", ERROR), ("WARNING", WARNING)) if name in names}
            func = call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", "")
            if not severities and func in IMPLIED_SEVERITY:
                severities.add(IMPLIED_SEVERITY[func])
            if len(codes) == 1 and len(severities) == 1:
                out.setdefault(codes[0], set()).update(severities)
    return out


# --------------------------------------------------------------------------- completeness


def test_every_emitted_code_is_catalogued():
    known = {c.code for c in catalogue()}
    missing = {code: where for code, where in emitted_codes().items() if code not in known}
    assert not missing, f"codes emitted but not in xltool/catalogue.py: {missing}"
    assert rule_codes() <= known, f"rules of the definitions not in the catalogue: {rule_codes() - known}"


def test_no_dead_entries():
    emitted = set(emitted_codes())
    dead = [c.code for c in catalogue() if c.code not in emitted | rule_codes() | NOT_YET_EMITTED]
    assert not dead, f"catalogued codes nothing emits (remove them, or emit them): {dead}"
    assert NOT_YET_EMITTED <= {c.code for c in catalogue()}, "NOT_YET_EMITTED names a code not in the catalogue"
    already = sorted(NOT_YET_EMITTED & emitted)
    assert not already, f"now emitted: remove them from NOT_YET_EMITTED in tests/test_catalogue.py: {already}"


def test_scan_finds_the_codes_it_should():
    """The scan itself: known emission sites are seen, docstrings and prefixes are not."""
    emitted = emitted_codes()
    for code in ("F-EMPTY", "L-LABEL", "V-BLANK", "R-MISSING", "Y-YEAR", "X-PREV-YEAR"):
        assert code in emitted, code
    assert "X-PREV" not in emitted  # validate.py: f.rule.startswith("X-PREV")


# --------------------------------------------------------------------------- the entries


def test_entries_are_well_formed():
    codes = [c.code for c in catalogue()]
    assert len(codes) == len(set(codes))
    assert [GROUPS.index(c.group) for c in catalogue()] == sorted(GROUPS.index(c.group) for c in catalogue())
    assert catalogue() is catalogue()  # computed once: a stable order
    for c in catalogue():
        assert CODE_PATTERN.fullmatch(c.code), c.code
        assert c.severity in (ERROR, WARNING), c.code
        assert c.title and re.search(r"[\u4e00-\u9fff]", c.title), c.code
        assert c.message and re.search(r"[\u4e00-\u9fff]", c.message), c.code
        assert all(v.severity in (ERROR, WARNING) and v.severity != c.severity and v.when for v in c.variants), c.code
        if c.group == "数值":
            assert c.code.startswith("V-") and c.example and c.read_as, c.code
    assert not any(c.code.startswith("T") for c in CODES), "T*-* come from the definitions, not retyped"


def test_rule_codes_come_from_the_definitions():
    formats = builtin_formats()
    for rule in formats[DEFAULT_FORMAT].rules:
        entry = get(rule.code)
        assert (entry.severity, entry.title, entry.description) == (rule.severity, rule.title, rule.description)
        assert entry.group == "勾稽关系"
        assert entry.checked == (rule.kind != "guidance")
    for fmt in formats.values():
        for rule in fmt.rules:
            assert get(rule.code).severity == rule.severity, (fmt.id, rule.code)
    assert get("T3-R2").severity_zh() == "说明"


def test_sheet_missing_is_an_error_for_tables_and_a_warning_for_the_cover():
    entry = get("L-SHEET-MISSING")
    assert entry.severity == ERROR and entry.severities == {ERROR, WARNING}
    assert "封面" in entry.template(WARNING)
    with pytest.raises(ValueError):
        get("L-SHEET-HIDDEN").template(ERROR)


# --------------------------------------------------------------------------- message()


@pytest.mark.parametrize("entry", catalogue(), ids=lambda c: c.code)
def test_every_template_formats(entry):
    for severity in sorted(entry.severities):
        fields = {name: f"<{name}>" for name in entry.fields(severity)}
        text = message(entry.code, severity=severity, **fields)
        assert "{" not in text and "}" not in text
        assert all(f"<{name}>" in text for name in fields)


def test_message_errors():
    with pytest.raises(KeyError):
        get("V-NOPE")
    with pytest.raises(KeyError):
        message("V-NOPE")
    with pytest.raises(TypeError, match="missing"):
        message("V-TEXT", sheet="表二", cell="B8", text="6件")
    with pytest.raises(TypeError, match="unexpected"):
        message("F-EMPTY", name="a.xlsx", nmae="a.xlsx")


def test_message_is_what_the_readme_sample_shows():
    text = message("V-TEXT", sheet="表二", cell="B8", text="6件", hint="件数填非负整数")
    assert text == "表二 B8：填写了“6件”；请只填数字（件数填非负整数），不要带文字或单位"
    assert text in README.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- severities as emitted today


VALUE_CASES = [
    # (what was typed, kind, code, severity): one or more per V-* code and severity
    ("3", COUNT, "V-TEXT-NUMBER", WARNING),
    ("３", COUNT, "V-FULLWIDTH", WARNING),
    ("1,234", COUNT, "V-THOUSANDS", WARNING),
    ("O", COUNT, "V-LETTER-O", WARNING),
    ("〇", COUNT, "V-LETTER-O", WARNING),
    ("1O", COUNT, "V-LETTER-O", ERROR),
    (Formula("=2+1", 3.0), COUNT, "V-FORMULA", WARNING),
    (Formula("=A1"), COUNT, "V-FORMULA", ERROR),
    ("=2+1", COUNT, "V-FORMULA", ERROR),
    (None, COUNT, "V-BLANK", ERROR),
    ("  ", COUNT, "V-BLANK", ERROR),
    ("/", COUNT, "V-PLACEHOLDER", ERROR),
    ("无", COUNT, "V-PLACEHOLDER", ERROR),
    ("3件", COUNT, "V-TEXT", ERROR),
    (2.5, COUNT, "V-DECIMAL", ERROR),
    (-3.0, COUNT, "V-NEGATIVE", ERROR),
    (1.23456, AMOUNT, "V-PRECISION", ERROR),
    (1e16, COUNT, "V-PRECISION", ERROR),
    ("#REF!", COUNT, "V-EXCEL-ERROR", ERROR),
    (True, COUNT, "V-TYPE", ERROR),
    (dt.date(2024, 1, 1), COUNT, "V-TYPE", ERROR),
]


def test_value_codes_have_the_severity_parse_value_gives():
    seen: dict[str, set[str]] = {}
    for raw, kind, code, severity in VALUE_CASES:
        parsed = parse_value(raw, kind)
        assert (parsed.code, parsed.severity) == (code, severity), raw
        seen.setdefault(code, set()).add(severity)
    catalogued = {c.code: c.severities for c in catalogue() if c.group == "数值"}
    assert seen == catalogued


def test_value_examples_read_as_the_catalogue_says():
    """A quoted example ("3", "1O") is parsed; its code, severity and value are the table's row."""
    rows = [(c.code, c.severity, c.example, c.read_as) for c in catalogue() if c.group == "数值"]
    rows += [(c.code, v.severity, v.example, v.read_as) for c in catalogue() if c.group == "数值" for v in c.variants]
    checked = 0
    for code, severity, example, read_as in rows:
        quoted = re.search(r'"([^"]+)"', example)
        if not quoted:
            continue
        parsed = parse_value(quoted.group(1), COUNT)
        assert (parsed.code, parsed.severity) == (code, severity), example
        assert parsed.value == (None if read_as == "—" else int(read_as)), example
        checked += 1
    assert checked >= 7


@pytest.mark.parametrize(
    ("raw", "kind", "fields"),
    [
        ("6件", COUNT, {"text": "6件", "hint": "件数填非负整数"}),
        (None, COUNT, {"what": ""}),
        ("  ", COUNT, {"what": "（只有空格）"}),
        ("/", COUNT, {"text": "/"}),
        ("3", COUNT, {"text": "3", "value": "3"}),
        ("３", COUNT, {"text": "３", "value": "3"}),
        ("1,234", COUNT, {"text": "1,234", "value": "1234"}),
        ("O", COUNT, {"text": "O"}),
        ("#REF!", COUNT, {"error": "#REF!"}),
        (-3, COUNT, {"text": "-3"}),
        (2.5, COUNT, {"kind": "件数", "text": "2.5"}),
        (Formula("=2+1", 3.0), COUNT, {"formula": "=2+1", "value": "3"}),
    ],
)
def test_value_templates_say_what_values_py_says(raw, kind, fields):
    """Today's wording of values.py, with the reader's "sheet cell：" before it, is the template's."""
    parsed = parse_value(raw, kind)
    assert (
        message(parsed.code, severity=parsed.severity, sheet="表二", cell="B8", **fields)
        == f"表二 B8：{parsed.message}"
    )


def test_emission_sites_use_a_catalogued_severity():
    """Sites take the severity from the catalogue; one that names it (to pick a variant, or through a
    helper that implies it) names one the catalogue lists."""
    found = emission_severities()
    assert {"V-LETTER-O", "V-FORMULA", "L-SHEET-MISSING"} <= found.keys(), f"the scan should see the variants: {found}"
    wrong = {code: sev for code, sev in found.items() if not sev <= get(code).severities}
    assert not wrong, f"emitted at a severity the catalogue does not list: {wrong}"
    usual = {code: sev for code, sev in found.items() if not get(code).variants and sev != {get(code).severity}}
    assert not usual, usual


def _inline_wording(node: ast.AST) -> bool:
    """A string or f-string with Chinese text in it: a message typed at the call."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(re.search(r"[\u4e00-\u9fff]", node.value))
    if isinstance(node, ast.JoinedStr | ast.BinOp):
        return any(_inline_wording(n) for n in ast.iter_child_nodes(node) if n is not node) or any(
            isinstance(v, ast.Constant) and _inline_wording(v) for v in getattr(node, "values", ())
        )
    return False


def test_emission_sites_take_their_wording_from_the_catalogue():
    """A call that names a finding code passes the template's fields by keyword, never a message typed
    in place: ``f(rec, "R-NAME", WARNING, f"报表中的……")`` or ``Problem("F-EMPTY", "文件是空的")`` would
    say in other words what the catalogue says."""
    inline = []
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            named = [*call.args, *(k.value for k in call.keywords if k.arg in ("rule", "code"))]
            if not any(isinstance(a, ast.Constant) and CODE_PATTERN.fullmatch(str(a.value)) for a in named):
                continue
            typed = [a for a in call.args if _inline_wording(a)]
            typed += [k.value for k in call.keywords if k.arg == "message" and _inline_wording(k.value)]
            if typed:
                inline.append(f"{path.relative_to(PACKAGE.parent)}:{call.lineno}")
    assert not inline, f"messages typed at the emission site (use catalogue.message/finding_fields): {inline}"


# --------------------------------------------------------------------------- README and command


def test_readme_tables_are_generated_from_the_catalogue():
    text = README.read_text(encoding="utf-8")
    assert update_readme(text) == text, f"README.md's code tables are out of date: run `{REGENERATE}`"


def test_rules_command_json_lists_every_code():
    run = subprocess.run(
        [sys.executable, "-m", "xltool", "rules", "--format", "json"], capture_output=True, text=True, encoding="utf-8"
    )
    assert run.returncode == 0, run.stderr
    listed = json.loads(run.stdout)
    assert [e["code"] for e in listed] == [c.code for c in catalogue()]
    for e in listed:
        assert {"code", "severity", "group", "title", "message"} <= e.keys()
        assert e == get(e["code"]).to_dict()
        if e["code"].startswith("V-"):
            assert e["example"] and e["read_as"]
    assert next(e for e in listed if e["code"] == "L-SHEET-MISSING")["variants"][0]["severity"] == WARNING


def test_rules_command_table():
    run = subprocess.run([sys.executable, "-m", "xltool", "rules"], capture_output=True, text=True, encoding="utf-8")
    assert run.returncode == 0, run.stderr
    for c in catalogue():
        assert c.code in run.stdout
    assert "勾稽关系" in run.stdout and "级别" in run.stdout
