"""xltool as a library: imports run one way, a definition loaded from any file works end to end,
a script that imports only ``xltool`` runs the year, and every deliberate raise is an XltoolError."""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
import textwrap
import typing
from pathlib import Path

import pytest
from helpers.imports import PACKAGE, import_graph, module_name
from helpers.returns import make_return

import xltool
from xltool.definition import get_format
from xltool.errors import XltoolError
from xltool.findings import ERROR
from xltool.model import Unit

DEFINITION_2021 = Path(__file__).parents[1] / "workbook_templates" / "gov-info-disclosure-2021.toml"


# --------------------------------------------------------------------------- the import graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                return stack[stack.index(dep) :] + [dep]
            if dep not in state and (found := visit(dep)):
                return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_the_import_graph_has_no_cycle():
    graph = import_graph()
    assert find_cycle(graph) == [], " → ".join(find_cycle(graph))


BASE_MODULES = {
    "xltool.catalogue",
    "xltool.definition",
    "xltool.errors",
    "xltool.findings",
    "xltool.model",
    "xltool.text",
    "xltool.totals",
    "xltool.values",
}
STAGES = ("base", "xltool.read", "xltool.rules", "validate", "xltool.write", "xltool.app")
"""The stages in order; a module imports only its own stage or earlier ones."""


def stage_of(module: str) -> int:
    if module in BASE_MODULES:
        return 0
    if module in ("xltool.validate", "xltool.previous", "xltool.roster", "xltool.compare"):
        return 3
    if module == "xltool.__main__":
        return STAGES.index("xltool.app")
    for i, folder in enumerate(STAGES):
        if module == folder or module.startswith(folder + "."):
            return i
    raise AssertionError(f"{module} belongs to no stage: place it in a stage's folder or the base")


def reaches(graph: dict[str, set[str]], a: str, b: str) -> bool:
    seen, todo = set(), [a]
    while todo:
        node = todo.pop()
        if node == b:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(graph[node])
    return False


def test_every_module_imports_only_its_own_stage_or_earlier_ones():
    graph = import_graph()
    late = [
        f"{m}（{STAGES[stage_of(m)]}）→ {d}（{STAGES[stage_of(d)]}）"
        for m, deps in sorted(graph.items())
        if m != "xltool"
        for d in sorted(deps)
        if stage_of(d) > stage_of(m)
    ]
    assert late == []


def test_each_stage_folder_says_what_it_owns():
    for folder in ("read", "rules", "write", "app"):
        init = PACKAGE / folder / "__init__.py"
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and len(doc) > 80, f"{init} has no docstring saying what the stage owns"


def test_imports_run_one_way_from_consolidate_to_the_definition():
    graph = import_graph()
    chain = [
        "xltool.write.consolidation",
        "xltool.validate",
        "xltool.rules.schema",
        "xltool.findings",
        "xltool.definition",
    ]
    for upper, lower in zip(chain, chain[1:], strict=False):
        assert reaches(graph, upper, lower), f"{upper} should build on {lower}"
        assert not reaches(graph, lower, upper), f"{lower} must not import {upper}"
    # the schema needs no document reader, validate no template writer
    assert not reaches(graph, "xltool.rules.schema", "xltool.read.sources.pdf")
    assert not reaches(graph, "xltool.validate", "xltool.write.template")
    # the definition knows no workbook library and no later step
    assert graph["xltool.definition"] <= {"xltool.errors", "xltool.text"}


def test_no_test_module_imports_another_test_module_or_conftest():
    """Shared helpers live in tests/helpers/ (a test function imported into another module is collected
    twice, and modules that import each other cannot be changed apart); conftest holds only fixtures
    and hooks."""
    tests = Path(__file__).parent
    files = sorted(tests.glob("test_*.py")) + sorted((tests / "helpers").glob("*.py")) + [tests / "conftest.py"]
    assert len(files) > 30
    wrong = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            for name in names:
                first = name.removeprefix("tests.").split(".")[0]
                if first == "conftest" or first.startswith("test_"):
                    wrong.append(f"{path.relative_to(tests)}:{node.lineno} imports {name}")
    assert wrong == []
    for node in ast.parse((tests / "conftest.py").read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef):
            fixture = any("fixture" in ast.unparse(d) for d in node.decorator_list)
            assert fixture or node.name.startswith("pytest_"), f"conftest.py: {node.name} is no fixture or hook"
        else:
            assert isinstance(node, ast.Import | ast.ImportFrom | ast.Expr), f"conftest.py:{node.lineno}"


# --------------------------------------------------------------------------- a definition from a file


def custom_definition(folder: Path) -> Path:
    """A county's own copy of the 2021 definition: another id, a renamed sheet, an edited row label."""
    text = DEFINITION_2021.read_text(encoding="utf-8")
    text = text.replace('id = "gov-info-disclosure-2021"', 'id = "county-custom-2021"', 1)
    text = text.replace('sheet = "表二 主动公开"', 'sheet = "表二 主动公开情况"', 1)
    text = text.replace('label = "行政许可"', 'label = "行政许可（含备案）"', 1)
    assert text.count("county-custom-2021") == 1 and "行政许可（含备案）" in text
    path = folder / "定义" / "county-custom.toml"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    return path


def test_a_definition_loaded_from_a_file_runs_the_whole_loop(tmp_path):
    fmt = xltool.load_format(custom_definition(tmp_path))
    assert fmt.id == "county-custom-2021" and fmt.fingerprint != get_format().fingerprint
    units = [Unit("230723101", "乌伊岭镇", "乡镇"), Unit("230723102", "汤旺河镇", "乡镇")]
    templates = xltool.write_templates(fmt, units, 2024, tmp_path / "模板")
    inbox = tmp_path / "收件箱"
    licensing = "t2_5.licensing.decisions"
    for i, (unit, template) in enumerate(zip(units, templates, strict=True)):
        assert template.exists()
        make_return(inbox, unit, {licensing: 3 + i, "t3.new.natural": 1, "t3.disclosed.natural": 1}, fmt=fmt)

    validation = xltool.validate_paths([inbox], roster=units, formats=[fmt])
    assert validation.valid, [f.message for f in validation.report.findings]
    assert {r.format.id for r in validation.records} == {fmt.id}

    # without the definition the returns cannot be read, and say why
    unknown = xltool.validate_paths([inbox], formats=[])
    assert {f.rule for f in unknown.report.findings} == {"F-FORMAT"}

    out = tmp_path / "汇总" / "汤旺县.xlsx"
    result = xltool.consolidate([inbox], out, Unit("230723", "汤旺县", "县"), roster=units, formats=[fmt])
    assert result.totals[licensing] == 7 and result.totals["t3.total.total"] == 2
    again = xltool.validate_paths([out], formats=[fmt])
    assert again.valid
    assert again.records[0].values[licensing] == 7


def test_a_definition_with_a_cycle_among_totals_is_refused_when_loaded(tmp_path):
    text = DEFINITION_2021.read_text(encoding="utf-8")
    # 总计 of 表四 summed into 结果维持 too: each total needs the other
    text = text.replace(
        'parts = ["upheld", "corrected", "other", "pending"]',
        'parts = ["upheld", "corrected", "other", "pending"]\n\n[[rules]]\ncode = "T4-LOOP"\nkind = "sum"\nseverity = "error"\ntitle = "循环"\ndescription = "循环"\ngrids = ["t4_review"]\nper = "row"\ntarget = "upheld"\nparts = ["total"]',
        1,
    )
    path = tmp_path / "loop.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(XltoolError, match="互相引用"):
        xltool.load_format(path)


# --------------------------------------------------------------------------- a script


def test_a_script_that_imports_only_xltool_runs_the_year(tmp_path):
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path

        import xltool

        work = Path(sys.argv[1])
        fmt = xltool.get_format()
        units = [xltool.Unit("230723101", "乌伊岭镇", "乡镇"), xltool.Unit("230723004", "汤旺县住房和城乡建设局", "部门")]
        paths = xltool.write_templates(fmt, units, 2024, work / "模板")
        validation = xltool.validate_paths([work / "模板"], roster=units)
        assert validation.valid, [f.message for f in validation.report.findings]
        result = xltool.consolidate([work / "模板"], work / "汇总.xlsx", xltool.Unit("230723", "汤旺县", "县"), roster=units)
        assert isinstance(validation.report, xltool.Report)
        print(len(paths), len(result.included), result.out.name)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, encoding="utf-8", timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2", "2", "汇总.xlsx"]


def test_the_public_api_is_listed_and_importable():
    for name in ("write_templates", "validate_paths", "consolidate", "load_format", "Report", "Finding"):
        assert name in xltool.__all__
        assert getattr(xltool, name) is not None
    assert set(xltool.__all__) <= set(dir(xltool))
    findings, model = importlib.import_module("xltool.findings"), importlib.import_module("xltool.model")
    assert xltool.Finding is findings.Finding is model.Finding  # model's names: a transitional alias
    assert xltool.Report is findings.Report is model.Report
    importlib.import_module("xltool.write.consolidation")  # importing a module must not shadow a public function
    assert callable(xltool.consolidate) and not isinstance(xltool.consolidate, type(xltool))
    assert (PACKAGE / "py.typed").exists()
    with pytest.raises(AttributeError):
        xltool.no_such_name  # noqa: B018


# --------------------------------------------------------------------------- exceptions


def _raised_classes() -> list[tuple[str, int, str]]:
    """(module, line, class name) of every ``raise Name(...)`` in the package."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and isinstance(node.exc.func, ast.Name):
                out.append((module_name(path), node.lineno, node.exc.func.id))
    return out


def test_every_deliberate_raise_is_an_xltool_error():
    import builtins

    from xltool import errors

    # module __getattr__ must raise AttributeError (PEP 562): that is the protocol, not a failure
    protocol = {("xltool", "AttributeError")}
    wrong = []
    for module, line, name in _raised_classes():
        if (module, name) in protocol:
            continue
        cls = next(
            (getattr(m, name) for m in (importlib.import_module(module), errors, builtins) if hasattr(m, name)), None
        )
        if callable(cls) and not isinstance(cls, type):  # a factory of errors: judged by what it returns
            cls = typing.get_type_hints(cls).get("return")
        if not (isinstance(cls, type) and issubclass(cls, XltoolError)):
            wrong.append(f"{module}:{line} raise {name}")
    assert wrong == []


def test_an_unexpected_failure_keeps_its_traceback_with_xltool_debug(tmp_path, monkeypatch, capsys):
    from xltool.read import dispatch

    path = make_return(tmp_path, Unit("230723101", "乌伊岭镇", "乡镇"))

    def broken(rec, formats, options=None):
        raise KeyError("内部错误")

    monkeypatch.setitem(dispatch.READERS, "workbook", broken)
    monkeypatch.delenv("XLTOOL_DEBUG", raising=False)
    rec = dispatch.read_return(path)
    assert [(f.rule, f.severity) for f in rec.findings] == [("F-UNREADABLE", ERROR)]
    assert "Traceback" not in capsys.readouterr().err

    monkeypatch.setenv("XLTOOL_DEBUG", "1")
    rec = dispatch.read_return(path)
    assert [(f.rule, f.severity) for f in rec.findings] == [("F-UNREADABLE", ERROR)]  # still one finding
    err = capsys.readouterr().err
    assert "Traceback" in err and "KeyError" in err and os.fspath(path) in err
