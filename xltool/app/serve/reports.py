"""Validation reports in the year's ``3-校验``, whatever wrote them: the page's check, ``xltool validate
--report`` (.xlsx or .json), ``--format json >`` a file, ``xltool demo``. Each is read back as the
JSON of ``xltool validate --format json`` (``Report.to_dict()``); the latest one is the folder's state.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path, PurePosixPath
from typing import Any

from xltool.catalogue import SEVERITY_ZH
from xltool.findings import STATUS_ZH

REPORT_SUFFIXES = (".json", ".xlsx")
MAX_REPORT_BYTES = 64 << 20
"""A larger file in 3-校验 is not read as a report (a report of 10,000 returns is a few MB)."""

_SUMMARY, _FINDINGS = "单位汇总", "问题清单"  # write.report's sheets
_STATUS = {zh: key for key, zh in STATUS_ZH.items()}
_SEVERITY = {zh: key for key, zh in SEVERITY_ZH.items()}

_cache: dict[tuple[str, int, int], dict[str, Any] | None] = {}
_lock = threading.Lock()


def read_report(path: Path) -> dict[str, Any] | None:
    """The report ``path`` holds as ``Report.to_dict()``, or None when it is no report (another
    workbook or JSON, unreadable, too large). Cached by the file's size and modification time."""
    try:
        stat = path.stat()
    except OSError:
        return None
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    with _lock:
        if key in _cache:
            return _cache[key]
    data = None
    if stat.st_size <= MAX_REPORT_BYTES:
        data = _from_json(path) if path.suffix.lower() == ".json" else _from_workbook(path)
    with _lock:
        if len(_cache) > 64:
            _cache.clear()
        _cache[key] = data
    return data


def _from_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    workbooks, findings = data.get("workbooks"), data.get("findings")
    if not isinstance(workbooks, list) or not isinstance(findings, list):
        return None
    if not all(isinstance(w, dict) and isinstance(w.get("file"), str) for w in workbooks):
        return None
    if not all(isinstance(f, dict) and isinstance(f.get("rule"), str) for f in findings):
        return None
    return data


def _from_workbook(path: Path) -> dict[str, Any] | None:
    """A report workbook (``write.report.write_report_workbook``: 单位汇总 and 问题清单), its columns
    found by their headers."""
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
        if not {_SUMMARY, _FINDINGS} <= set(wb.sheet_names):
            return None
        summary = wb.get_sheet_by_name(_SUMMARY).to_python(skip_empty_area=False, nrows=200_000)
        listed = wb.get_sheet_by_name(_FINDINGS).to_python(skip_empty_area=False, nrows=1_000_000)
    except Exception:  # calamine raises several types for a file that is no workbook
        return None
    units = _records(summary, ("单位代码", "单位名称", "文件", "状态"))
    problems = _records(listed, ("文件", "单位代码", "单位名称", "规则", "级别", "说明"))
    if units is None or problems is None:
        return None
    workbooks = [
        {
            "file": u["文件"],
            "unit_code": u["单位代码"],
            "unit_name": u["单位名称"],
            "status": _STATUS[u["状态"]],
            "unit_level": u.get("层级", ""),
            "year": _number(u.get("年度")),
            "kind": "",
            "errors": _number(u.get("错误数")) or 0,
            "warnings": _number(u.get("警告数")) or 0,
        }
        for u in units
        if u["状态"] in _STATUS  # 未报送: a finding (R-MISSING) of the other sheet
    ]
    findings = []
    for f in problems:
        where = f.get("单元格", "")
        cells = where.split("、") if where and all(_is_a1(c) for c in where.split("、")) else []
        findings.append(
            {
                "file": f["文件"],
                "unit_code": f["单位代码"],
                "unit_name": f["单位名称"],
                "sheet": f.get("工作表", "") if cells else "",
                "cells": cells,
                "rule": f["规则"],
                "severity": _SEVERITY.get(f["级别"], "warning"),
                "message": f["说明"],
                "row_label": f.get("项目", ""),
                "col_label": f.get("栏目", ""),
                "cell_ids": [],
                "check": "",
                "table": "" if cells else f.get("工作表", ""),
                "location": "" if cells else where,
            }
        )
    valid = not any(f["severity"] == "error" for f in findings)
    return {"valid": valid, "workbooks": workbooks, "findings": findings}


def _records(rows: list[list[Any]], needed: tuple[str, ...]) -> list[dict[str, str]] | None:
    """The rows under a header row as dicts of text, or None when a needed header is missing."""
    if not rows:
        return None
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    if not set(needed) <= set(header):
        return None
    out = []
    for row in rows[1:]:
        values = {h: _text(v) for h, v in zip(header, row, strict=False) if h}
        if any(values.values()):
            out.append({h: values.get(h, "") for h in header if h})
    return out


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value).strip()


def _number(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


def _is_a1(text: str) -> bool:
    import re

    return re.fullmatch(r"\$?[A-Z]{1,3}\$?[1-9][0-9]{0,6}", text) is not None


def named_in(folder: Path, file: str, areas: tuple[str, ...]) -> str:
    """A report's name of a file as the page names it, relative to the year's ``folder``: the CLI
    names files as it was given them (absolute, or relative to where it was run), so a name inside
    the folder, or one passing through an area of it (``2-收件箱``), is cut to start there."""
    if not file:
        return file
    path = PurePosixPath(file.replace("\\", "/"))
    if path.is_absolute():
        try:
            return path.relative_to(folder.as_posix()).as_posix()
        except ValueError:
            pass
    parts = path.parts
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] in areas:
            return "/".join(parts[i:])
    return file


def in_folder(data: dict[str, Any], folder: Path, areas: tuple[str, ...]) -> dict[str, Any]:
    """The report with every file named relative to the year's folder (``named_in``)."""
    out = dict(data)
    out["workbooks"] = [{**w, "file": named_in(folder, str(w.get("file") or ""), areas)} for w in data["workbooks"]]
    out["findings"] = [{**f, "file": named_in(folder, str(f.get("file") or ""), areas)} for f in data["findings"]]
    return out
