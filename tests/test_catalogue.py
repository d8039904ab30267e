"""The catalogue of finding codes is complete, has no dead entries, agrees with what the code emits,
and is what the README and ``xltool rules`` show."""

from __future__ import annotations

import ast
import datetime as dt
import inspect
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
    group_of,
    is_layout,
    message,
    update_readme,
)
from xltool.definition import DEFAULT_FORMAT, builtin_formats, get_format
from xltool.errors import InternalError, MessageFieldsError
from xltool.findings import Finding
from xltool.model import Identity, Position, ReturnRecord, Unit
from xltool.values import AMOUNT, COUNT, Formula, parse_value

PACKAGE = Path(__file__).parents[1] / "xltool"

# Catalogued before anything emits them, so their wording is settled in one place. This set must
# stay empty once they are emitted: test_no_dead_entries fails when the package emits one of them.
NOT_YET_EMITTED: frozenset[str] = frozenset()

IMPLIED_SEVERITY = {
    "SourceError": ERROR,
}
"""Helpers that, called without a severity, imply it (sources). Other sites build findings with
``Finding``'s constructors, which take the severity from the catalogue, and name one only to pick a
variant."""


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
    (1.2345678, AMOUNT, "V-PRECISION", ERROR),
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
    in place: ``f(rec, "R-NAME", WARNING, f"报表中的……")`` or ``SourceError("F-EMPTY", "文件是空的")`` would
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
    assert not inline, (
        f"messages typed at the emission site (pass the fields to Finding.for_file/at_cells, or catalogue.message): {inline}"
    )


# --------------------------------------------------------------------------- one list of codes

DOCSTRING_TABLES_LEFT: frozenset[str] = frozenset()
"""Modules whose docstrings still list codes, in files being split by others at the time: the lead
rewrites them after merging (test_no_docstring_lists_codes then says to empty this set)."""


def _docstrings_naming_codes(limit: int) -> dict[str, list[str]]:
    """Docstrings (module, class, function) naming more than ``limit`` distinct catalogued codes."""
    known = {c.code for c in catalogue()}
    out: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            codes = {m.group(0) for m in CODE_PATTERN.finditer(ast.get_docstring(node) or "")} & known
            if len(codes) > limit:
                where = f"{path.relative_to(PACKAGE).as_posix()}"
                out.setdefault(where, []).append(f"{getattr(node, 'name', '(module)')}: {sorted(codes)}")
    return out


def test_no_docstring_lists_codes():
    """The catalogue and ``xltool rules`` are the one list of codes: a docstring that tables them
    (what a code means, its severity) says again what the catalogue says, and drifts from it."""
    found = _docstrings_naming_codes(3)
    tables = {where: what for where, what in found.items() if where not in DOCSTRING_TABLES_LEFT}
    assert not tables, f"docstrings listing finding codes (point to xltool.catalogue instead): {tables}"
    fixed = sorted(DOCSTRING_TABLES_LEFT - found.keys())
    assert not fixed, f"no longer list codes: remove them from DOCSTRING_TABLES_LEFT: {fixed}"


PREFIX_READS_LEFT: frozenset[str] = frozenset()
"""Modules that still tell a code's group by its prefix, in files others were changing at the time:
the lead switches them to ``catalogue.group_of`` after merging."""


def test_no_code_meaning_read_from_a_prefix():
    """What a code means comes from its catalogue entry (``group_of``, ``is_layout``), not from its
    first letter: no ``rule[:2]``, no ``rule.startswith("D-")`` (a code family such as "X-PREV" is
    a name, not a group, and stays allowed)."""
    prefix = re.compile(r"\brule\[:\d\]|\brule\.startswith\(\s*(\(\s*)?\"[A-Z][0-9]?-\"")
    found = {
        path.relative_to(PACKAGE).as_posix()
        for path in sorted(PACKAGE.rglob("*.py"))
        if prefix.search(path.read_text(encoding="utf-8"))
    }
    assert not found - PREFIX_READS_LEFT, f"a code's group read from its prefix: {sorted(found - PREFIX_READS_LEFT)}"
    fixed = sorted(PREFIX_READS_LEFT - found)
    assert not fixed, f"no longer read a prefix: remove them from PREFIX_READS_LEFT: {fixed}"


def test_groups_come_from_the_catalogue():
    assert all(group_of(c.code) == c.group for c in catalogue())
    assert group_of("Z-NOPE") == ""
    layout = {c.code for c in catalogue() if is_layout(c.code)}
    assert layout == {c.code for c in catalogue() if c.group in ("文件", "版式")}
    assert {"F-EMPTY", "L-LABEL"} <= layout and not layout & {"V-BLANK", "D-ROW-MISSING", "T3-R1"}
    assert not is_layout("Z-NOPE")


# --------------------------------------------------------------------------- Finding's constructors


def _record(fmt_id: str = DEFAULT_FORMAT) -> ReturnRecord:
    fmt = get_format(fmt_id)
    identity = Identity(fmt.id, fmt.version, fmt.fingerprint, "001", "甲镇", "乡镇", 2024)
    return ReturnRecord(path=Path("甲镇.xlsx"), file="收件箱/甲镇.xlsx", identity=identity, format=fmt)


def test_constructors_take_keywords_only():
    for name in ("for_file", "at_cells", "in_document"):
        params = list(inspect.signature(getattr(Finding, name)).parameters.values())
        assert [p.kind for p in params[:2]] == [inspect.Parameter.POSITIONAL_ONLY] * 2, name
        assert all(p.kind in (p.KEYWORD_ONLY, p.VAR_KEYWORD) for p in params[2:]), name
    assert not hasattr(Finding, "about")
    with pytest.raises(TypeError):
        Finding.for_file("a.xlsx", "F-EMPTY", None)  # type: ignore[misc]
    with pytest.raises(TypeError):
        Finding.at_cells(_record(), "L-LABEL", "表二", ("A1",))  # type: ignore[misc]


def test_for_file_takes_severity_and_wording_from_the_catalogue():
    f = Finding.for_file("收件箱/a.xlsx", "F-EMPTY", name="a.xlsx")
    assert (f.file, f.rule, f.severity, f.sheet, f.cells) == ("收件箱/a.xlsx", "F-EMPTY", ERROR, "", ())
    assert f.message == message("F-EMPTY", name="a.xlsx")
    assert (f.unit_code, f.unit_name) == ("", "")
    rec = _record()
    f = Finding.for_file(rec.file, "Y-YEAR", identity=rec.identity, year=2023, which="本批报表多数为 2024 年度")
    assert (f.unit_code, f.unit_name, f.severity) == ("001", "甲镇", get("Y-YEAR").severity)
    # a variant's severity picks its wording
    cover = Finding.for_file(rec.file, "L-SHEET-MISSING", severity=WARNING, sheet="封面")
    assert (cover.severity, cover.message) == (WARNING, message("L-SHEET-MISSING", severity=WARNING, sheet="封面"))
    # a unit that sent no file
    f = Finding.for_file(
        "", "R-MISSING", unit=Unit("002", "乙镇", "乡镇"), unit_name="乙镇", unit_code="002", when="本年度"
    )
    assert (f.file, f.unit_code, f.unit_name, f.severity) == ("", "002", "乙镇", get("R-MISSING").severity)
    # a message worded elsewhere from the catalogue (a refused document) keeps the catalogue's severity
    f = Finding.for_file("a.docx", "F-ENCRYPTED", message="已加密")
    assert (f.severity, f.message) == (get("F-ENCRYPTED").severity, "已加密")
    with pytest.raises(MessageFieldsError):
        Finding.for_file("a.xlsx", "F-EMPTY", nmae="a.xlsx")
    with pytest.raises(InternalError):
        Finding.for_file("a.xlsx", "F-EMPTY", message="空", name="a.xlsx")


def test_at_cells_and_in_document():
    rec = _record()
    cid, cell = next((c.id, c) for c in rec.fmt.cells.values() if c.table != "cover")
    f = Finding.at_cells(
        rec,
        "L-LABEL",
        sheet="表三（改）",
        cells=("B4",),
        fields={"sheet": "表三", "what": "B4 应为“甲”"},
        cell_ids=(cid,),
        check="x",
    )
    assert (f.sheet, f.cells, f.cell_ids, f.check, f.unit_code) == ("表三（改）", ("B4",), (cid,), "x", "001")
    assert (f.severity, f.message) == (get("L-LABEL").severity, message("L-LABEL", sheet="表三", what="B4 应为“甲”"))
    assert (
        f.table and f.table == Finding.at_cells(rec, "L-LABEL", sheet="", cells=(), message="m", cell_ids=(cid,)).table
    )
    assert Finding.at_cells(rec, "L-LABEL", sheet="", cells=(), message="m").table == ""
    assert (
        Finding.at_cells(rec, "L-LABEL", sheet="", cells=(), message="m", cell_ids=(cid,), table="表X").table == "表X"
    )
    printed = Finding.in_document(
        rec,
        "V-TEXT",
        at=Position(where="第 2 个表格第 5 行第 4 列"),
        table="表三",
        severity=ERROR,
        message="表三 …：填写了“6件”",
        row_label=cell.row_label,
        cell_ids=(cid,),
    )
    assert (printed.sheet, printed.cells, printed.location, printed.table) == (
        "",
        (),
        "第 2 个表格第 5 行第 4 列",
        "表三",
    )
    in_sheet = Finding.in_document(
        rec, "V-TEXT", at=Position("Sheet1", "C7"), table="表三", severity=ERROR, message="m"
    )
    assert (in_sheet.sheet, in_sheet.cells, in_sheet.location) == ("Sheet1", ("C7",), "")
    nowhere = Finding.in_document(rec, "D-ROW-MISSING", at=None, table="表三", message="m")
    assert (nowhere.sheet, nowhere.cells, nowhere.severity) == ("", (), get("D-ROW-MISSING").severity)


def test_readable_reads_the_group_not_the_prefix():
    rec = _record()
    assert rec.readable
    rec.findings.append(Finding.for_file(rec.file, "D-IDENTITY", name="a", what="年度", hint=""))
    rec.findings.append(
        Finding.at_cells(
            rec, "V-BLANK", sheet="表二", cells=("B8",), fields={"sheet": "表二", "cell": "B8", "what": ""}
        )
    )
    assert rec.readable  # a document's and a value's errors leave the figures usable
    rec.findings.append(Finding.at_cells(rec, "L-LABEL", sheet="表二", cells=("A1",), severity=WARNING, message="m"))
    assert rec.readable  # not an error
    rec.findings.append(
        Finding.at_cells(rec, "L-LABEL", sheet="表二", cells=("A1",), fields={"sheet": "表二", "what": "x"})
    )
    assert not rec.readable


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
