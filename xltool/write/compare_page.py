"""The web page of ``xltool compare``: the same comparison as the workbook, one self-contained HTML file
(styles inline, no script, no external asset), shown as it is by ``xltool serve``'s 对比 page."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xltool.compare import CellChange, Comparison, UnitComparison
from xltool.definition import Format
from xltool.errors import UsageError, os_reason
from xltool.model import SEVERITY_ZH
from xltool.text import short_sheet
from xltool.write.files import atomic_write, exists_error

if TYPE_CHECKING:
    from jinja2 import Template

STYLE = """
body{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC",sans-serif;margin:1.5em;color:#222}
h1{font-size:1.5em}h2{font-size:1.25em;border-bottom:2px solid #4472C4;padding-bottom:.2em;margin-top:2em}
h3{font-size:1.05em;margin-top:1.2em}
table{border-collapse:collapse;margin:.5em 0;font-size:.85em}
th,td{border:1px solid #999;padding:.15em .4em}th{background:#D9E1F2}
td.n{text-align:right;font-variant-numeric:tabular-nums}
td.label{max-width:24em}
.changed{background:#FFF2CC}.large{background:#F8CBAD}.broken{background:#FF9999}
.ok{color:#2E7D32}.bad{color:#C62828;font-weight:bold}.unknown{color:#888}
.added{color:#1B5E20}.removed{color:#B71C1C;text-decoration:line-through}
.note{color:#555;font-size:.9em}
"""

PAGE = """{% if full %}<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>与上年对比</title>
<style>{{ style }}</style></head><body>{% endif %}
<div class="xltool-compare">
<h1>与上年对比</h1>
<p class="note">对比了 {{ c.units|length }} 个单位。变化很大：一年是另一年的 {{ factor }} 倍以上（两年都不为 0），
或从 0 变为 {{ from_zero }} 以上、从 {{ from_zero }} 以上变为 0。
<span class="changed">黄色</span>有变化，<span class="large">橙色</span>变化很大，<span class="broken">红色</span>跨年度规则不符（鼠标停在格上可看说明）。
{% if workbook %}<a href="{{ workbook }}">下载对比工作簿</a>{% endif %}</p>
{% if c.only_last or c.only_this or c.skipped %}
<h2>未对比的单位和文件</h2><ul>
{% for u in c.only_last %}<li>只有上年：{{ u.unit_name }}{% if u.unit_code %}（{{ u.unit_code }}）{% endif %} — {{ u.file }}</li>{% endfor %}
{% for u in c.only_this %}<li>只有本年：{{ u.unit_name }}{% if u.unit_code %}（{{ u.unit_code }}）{% endif %} — {{ u.file }}</li>{% endfor %}
{% for u in c.skipped %}<li>未用于对比（{{ u.side }}）：{{ u.file }}：{{ u.reason }}</li>{% endfor %}
</ul>{% endif %}
{% for u in c.units %}
<h2>{{ u.unit_name }}{% if u.unit_code %}（{{ u.unit_code }}）{% endif %}</h2>
<p class="note">上年 {{ u.last_year }}：{{ u.last_file }}；本年 {{ u.this_year }}：{{ u.this_file }}；
有变化 {{ u.changed|length }} 格，变化很大 {{ u.large|length }} 格。</p>
<h3>跨年度规则</h3>
<table><tr><th>规则</th><th>范围</th><th>结果</th></tr>
{% for r in u.rules %}<tr><td>{{ r.code }}</td><td>{{ r.scope }}</td>
<td>{% if r.holds is none %}<span class="unknown">无法核对（有数未读出）</span>{% elif r.holds %}<span class="ok">相符</span>{% else %}<span class="bad">不符</span>：{{ r.message }}{% endif %}</td></tr>
{% endfor %}</table>
{% if u.findings %}<h3>需要核实的地方</h3>
<table><tr><th>代码</th><th>级别</th><th>说明</th></tr>
{% for f in u.findings %}<tr><td>{{ f.rule }}</td><td>{{ severity[f.severity] }}</td><td>{{ f.message }}{% if f.location %}（{{ f.location }}）{% endif %}</td></tr>{% endfor %}
</table>{% endif %}
{% if u.text %}<h3>正文的变化</h3>
{% for t in u.text %}<p><b>{{ t.heading }}</b></p><ul>
{% for s in t.added %}<li class="added">新增：{{ s }}</li>{% endfor %}
{% for s in t.removed %}<li class="removed">删去：{{ s }}</li>{% endfor %}
</ul>{% endfor %}{% endif %}
{% for t in tables(u) %}
<h3>{{ t.title }}</h3>
{% for g in t.grids %}<table>
<tr><th rowspan="2">项目</th>{% for col in g.columns %}<th colspan="3">{{ col }}</th>{% endfor %}</tr>
<tr>{% for col in g.columns %}<th>上年</th><th>本年</th><th>变化</th>{% endfor %}</tr>
{% for row in g.rows %}<tr><td class="label">{{ row.label }}</td>
{% for cell in row.cells %}{% if cell %}<td class="n">{{ cell.c.shown(cell.c.last) }}</td>
<td class="n {{ cell.state }}"{% if cell.note %} title="{{ cell.note }}"{% endif %}>{{ cell.c.shown(cell.c.this) }}</td>
<td class="n {{ cell.state }}">{{ cell.delta }}</td>{% else %}<td></td><td></td><td></td>{% endif %}{% endfor %}
</tr>{% endfor %}
</table>{% endfor %}
{% endfor %}
{% endfor %}
<p class="note">由 xltool {{ version }} 生成。</p>
</div>
{% if full %}</body></html>{% endif %}
"""


@cache
def _template() -> Template:
    from jinja2 import Environment

    return Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True).from_string(PAGE)


def compare_html(comparison: Comparison, fmt: Format, *, full: bool = True, workbook: str = "") -> str:
    """The page (``full``) or the part a page of ``xltool serve`` shows inside its own; ``workbook``:
    a link to the comparison workbook, when there is one to download."""
    from xltool import __version__
    from xltool.compare import LARGE_FROM_ZERO

    return _template().render(
        c=comparison,
        full=full,
        style=STYLE,
        factor=f"{comparison.factor:g}",
        from_zero=LARGE_FROM_ZERO,
        severity=SEVERITY_ZH,
        workbook=workbook,
        version=__version__,
        tables=lambda u: unit_tables(fmt, u),
    )


def write_compare_page(comparison: Comparison, fmt: Format, out: str | Path, *, overwrite: bool = False) -> Path:
    """Write the page atomically (never replacing a file unless ``overwrite``)."""
    text = compare_html(comparison, fmt)
    try:
        return atomic_write(out, lambda tmp: tmp.write_text(text, encoding="utf-8"), exclusive=not overwrite)
    except FileExistsError:
        raise exists_error(out) from None
    except OSError as exc:
        raise UsageError(f"{out}: 无法写入：{os_reason(exc)}") from None


def unit_tables(fmt: Format, u: UnitComparison) -> list[dict[str, Any]]:
    """A unit's cells laid out as the format's tables: per grid, its columns and rows of cells."""
    by_id = {c.cell: c for c in u.cells}
    notes = {cid: (f.rule, f.message) for f in u.findings for cid in f.cell_ids}
    out = []
    for table in fmt.tables:
        grids = []
        for grid in table.grids:
            rows = []
            for line in grid.rows:
                cells = [_shown(by_id.get(grid.cell_id(line.key, col.key)), notes) for col in grid.columns]
                rows.append({"label": line.label, "cells": cells})
            grids.append({"columns": [col.label for col in grid.columns], "rows": rows})
        out.append({"title": f"{short_sheet(table.sheet)} {table.title}", "grids": grids})
    return out


def _shown(c: CellChange | None, notes: dict[str, tuple[str, str]]) -> dict[str, Any] | None:
    if c is None:
        return None
    rule, note = notes.get(c.cell, ("", ""))
    state = "large" if rule == "X-LARGE-CHANGE" else "broken" if rule else "changed" if c.change else ""
    change = c.change
    delta = "—" if change is None else ("+" if change > 0 else "") + c.shown(change)
    return {"c": c, "state": state, "note": note, "delta": delta}
