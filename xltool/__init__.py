"""xltool: templates, validation and consolidation of the statutory statistics of
China's government information disclosure annual reports (政府信息公开工作年度报告).

The public API, for a county's IT person who scripts the year::

    import xltool

    fmt = xltool.get_format()                       # or xltool.load_format("my-format.toml")
    units = xltool.read_roster("名单.csv")
    xltool.write_templates(fmt, units, 2024, "模板")
    validation = xltool.validate_paths(["收件箱"], roster=units)
    for finding in validation.report.findings:      # data, not exceptions
        print(finding.file, finding.sheet, finding.cells, finding.rule, finding.message)
    xltool.consolidate(["收件箱"], "汇总.xlsx", xltool.Unit("230723", "汤旺县", "县"), roster=units)

Names are imported on first use, so ``import xltool`` stays fast (pandas is loaded only by the
steps that need it).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "load_format": "xltool.definition:load",
    "get_format": "xltool.definition:get_format",
    "Format": "xltool.definition:Format",
    "Unit": "xltool.model:Unit",
    "Finding": "xltool.findings:Finding",
    "Report": "xltool.findings:Report",
    "read_roster": "xltool.roster:read_roster",
    "write_template": "xltool.write.template:write_template",
    "write_templates": "xltool.write.template:write_templates",
    "read_return": "xltool.read.dispatch:read_return",
    "validate_paths": "xltool.validate:validate_paths",
    "Validation": "xltool.validate:Validation",
    "consolidate": "xltool.write.consolidation:consolidate",
    "publish": "xltool.write.publish:publish",
    "Published": "xltool.write.publish:Published",
    "Consolidation": "xltool.write.consolidation:Consolidation",
    "catalogue": "xltool.catalogue:catalogue",
    "compare_paths": "xltool.compare:compare_paths",
    "Comparison": "xltool.compare:Comparison",
    "XltoolError": "xltool.errors:XltoolError",
}

__all__ = [
    "Comparison",
    "Consolidation",
    "Finding",
    "Format",
    "Published",
    "Report",
    "Unit",
    "Validation",
    "XltoolError",
    "catalogue",
    "compare_paths",
    "consolidate",
    "get_format",
    "load_format",
    "publish",
    "read_return",
    "read_roster",
    "validate_paths",
    "write_template",
    "write_templates",
]
assert sorted(__all__) == sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562)."""
    try:
        module, _, attr = _EXPORTS[name].partition(":")
    except KeyError:
        raise AttributeError(f"module 'xltool' has no attribute {name!r}") from None
    value = getattr(import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return [*__all__, "__version__"]


if TYPE_CHECKING:  # for type checkers and editors: the same names, imported eagerly
    from xltool.catalogue import catalogue
    from xltool.compare import Comparison, compare_paths
    from xltool.definition import Format, get_format
    from xltool.definition import load as load_format
    from xltool.errors import XltoolError
    from xltool.findings import Finding, Report
    from xltool.model import Unit
    from xltool.read.dispatch import read_return
    from xltool.roster import read_roster
    from xltool.validate import Validation, validate_paths
    from xltool.write.consolidation import Consolidation, consolidate
    from xltool.write.publish import Published, publish
    from xltool.write.template import write_template, write_templates
