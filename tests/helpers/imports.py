"""The import graph of the ``xltool`` package, read from its source with ``ast``: module -> the
xltool modules it imports (tests/test_library.py checks the stages, tests/test_rulecheck.py what a
clean validation imports)."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import xltool

PACKAGE = Path(xltool.__file__).parent


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """xltool modules a module imports, at the top or inside a function (a lazy import is still an
    edge: it is how cycles hide), but not under ``if TYPE_CHECKING``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for n in ast.walk(node)}
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("xltool"):
            out.add(node.module)
            for alias in node.names:  # "from xltool.write import consolidation as c" names a module
                if importlib.util.find_spec(f"{node.module}.{alias.name}") if node.module == "xltool" else False:
                    out.add(f"{node.module}.{alias.name}")
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("xltool")}
    return out - {"xltool"}  # the package itself only carries __version__ and lazy names


def import_graph() -> dict[str, set[str]]:
    files = sorted(PACKAGE.rglob("*.py"))
    graph = {module_name(p): _imports(p) for p in files}
    return {m: {d for d in deps if d in graph and d != m} for m, deps in graph.items()}
