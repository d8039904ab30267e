"""The 2021 tables written as text, from the definition: as tab-separated lines (the shape of a PDF's
text dump, 表四 with its headers one character a line) and as markdown pipe tables (whole, or split
the way PDF-to-markdown converters split them: 表三 one table per group under placeholder headers
数据1…数据6 with the real header printed apart in empty tables, a bogus header row before the last rows;
表四 one table per block under a heading)."""

from __future__ import annotations

from collections.abc import Callable

from xltool.definition import Format
from xltool.read.spec import spec_of

TITLE = "# 乌伊岭镇2024年政府信息公开工作年度报告"
T3_GROUPS = ("法人或其他组织",)


def _t2_blocks(fmt: Format) -> list[tuple[list[str], list[str]]]:
    """表二's rows grouped by the columns they print: (column labels, row labels)."""
    blocks: list[tuple[list[str], list[str]]] = []
    for c in fmt.cells.values():
        if c.table != "t2":
            continue
        if blocks and c.row_label in blocks[-1][1]:
            if c.col_label not in blocks[-1][0]:
                blocks[-1][0].append(c.col_label)
            continue
        cols = [x.col_label for x in fmt.cells.values() if x.table == "t2" and x.row_label == c.row_label]
        if blocks and blocks[-1][0] == cols:
            blocks[-1][1].append(c.row_label)
        else:
            blocks.append((cols, [c.row_label]))
    return blocks


def _cells(fmt: Format, table: str) -> dict[tuple[str, str], str]:
    return {(c.row_label, c.col_label): c.id for c in fmt.cells.values() if c.table == table}


def _t3_columns(fmt: Format) -> list[str]:
    out: list[str] = []
    for c in fmt.cells.values():
        if c.table == "t3" and c.col_label not in out:
            out.append(c.col_label)
    return out


def _t3_rows(fmt: Format) -> list[tuple[str, ...]]:
    """Each 表三 row's printed path (group labels, then its own label)."""
    spec = spec_of(fmt)
    ts = next(t for t in spec.tables if t.key == "t3")
    return [tuple(spec.labels[i].text for i in rs.path) for rs in ts.rows]


def _t4_blocks(fmt: Format) -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    for c in fmt.cells.values():
        if c.table == "t4":
            if not out or out[-1][0] != c.row_label:
                out.append((c.row_label, []))
            out[-1][1].append(c.col_label)
    return out


def _pipe(cells: list[str]) -> str:
    return "| " + " | ".join(x.replace("|", "\\|") for x in cells) + " |"


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [_pipe(header), "|" + "---|" * len(header), *(_pipe(r) for r in rows)]


def markdown_report(
    fmt: Format, values: dict[str, int], show: Callable[[str, int], str], *, split: bool, bogus_header: bool = False
) -> str:
    """The report as a converter's markdown: 表二 one table per block of columns, 表三 whole (a flat
    header) or ``split`` per group, 表四 one table per block under its heading."""
    out = [TITLE, "", "## 二、主动公开政府信息情况", ""]
    t2 = _cells(fmt, "t2")
    for cols, rows in _t2_blocks(fmt):
        out += _md_table(
            ["信息内容", *cols], [[r, *(show(t2[(r, c)], values[t2[(r, c)]]) for c in cols)] for r in rows]
        )
        out.append("")
    out += ["## 三、收到和处理政府信息公开申请情况", ""]
    t3 = _cells(fmt, "t3")
    cols = _t3_columns(fmt)

    def figures(path: tuple[str, ...]) -> list[str]:
        return [show(t3[(path[-1], c)], values[t3[(path[-1], c)]]) for c in cols]

    paths = _t3_rows(fmt)
    if not split:
        out += _md_table(["项目", *cols], [[p[-1], *figures(p)] for p in paths])
    else:
        out += _split_t3(cols, paths, figures, bogus_header)
    out += ["", "## 四、政府信息公开行政复议、行政诉讼情况", ""]
    t4 = _cells(fmt, "t4")
    for block, leaves in _t4_blocks(fmt):
        heading = block.replace("·", "（") + ("）" if "·" in block else "")
        out += [f"### {heading}", *_md_table(leaves, [[show(t4[(block, c)], values[t4[(block, c)]]) for c in leaves]])]
        out.append("")
    out += ["## 五、存在的主要问题及改进情况", "", "无。"]
    return "\n".join(out) + "\n"


def _split_t3(cols: list[str], paths, figures, bogus_header: bool) -> list[str]:
    """表三 as one table per group under 数据1…数据6 | 总计, the real header printed apart before them."""
    natural, *legal, total = cols
    out = ["### 申请人情况 (自然人)", *_md_table(["(数据项目)", "数量"], [["-", "-"]]), ""]
    out += [f"### 申请人情况 ({T3_GROUPS[0]})", *_md_table(legal, [["-"] * len(legal)]), ""]
    out += ["### 申请人情况 (总计)", *_md_table(["(数据项目)", "数量"], [["-", "-"]]), ""]
    placeholder = ["类别", *(f"数据{k}" for k in range(1, len(cols))), total]
    groups: list[tuple[str, list[tuple[str, ...]]]] = []
    for p in paths:
        key = p[-2] if len(p) >= 2 and not p[-2].startswith("三、") else p[-1]
        if groups and (groups[-1][0] == key or (groups[-1][1][0][-2:-1] == ("（六）其他处理",) and len(p) < 3)):
            groups[-1][1].append(p)
        else:
            groups.append((key, [p]))
    last = len(groups) - 1
    for g, (heading, rows) in enumerate(groups):
        body = [[p[-1], *figures(p)] for p in rows]
        out += [f"### {heading}", *_md_table(placeholder, body if g < last or not bogus_header else body[:1])]
        out.append("")
    if bogus_header:  # the converter's header row before the last rows, naming nothing of the table
        bogus = ["项目", "本年新收件数", "上年结转件数", "予以公开", "部分公开", "不予公开", "结转下年度", total]
        out += _md_table(bogus, body[1:])
    return out


def tab_report(fmt: Format, values: dict[str, int], show: Callable[[str, int], str]) -> str:
    """The report as a PDF's text dump: tab-separated lines, 表四's headers one character a line."""
    out = [TITLE, "", "二、主动公开政府信息情况"]
    t2 = _cells(fmt, "t2")
    for cols, rows in _t2_blocks(fmt):
        out.append("\t".join(["信息内容", *cols]))
        out += ["\t".join([r, *(show(t2[(r, c)], values[t2[(r, c)]]) for c in cols)]) for r in rows]
    out += ["", "三、收到和处理政府信息公开申请情况"]
    t3 = _cells(fmt, "t3")
    cols = _t3_columns(fmt)
    out.append("\t".join(["项目", *cols]))
    for p in _t3_rows(fmt):
        out.append("\t".join([p[-1], *(show(t3[(p[-1], c)], values[t3[(p[-1], c)]]) for c in cols)]))
    out += ["", "四、政府信息公开行政复议、行政诉讼情况"]
    t4 = _cells(fmt, "t4")
    blocks = _t4_blocks(fmt)
    width = len(blocks[0][1])
    n = width * len(blocks)
    top, second = [""] * n, [""] * n
    for b, (block, _leaves) in enumerate(blocks):
        head, _, sub = block.partition("·")
        if b == 0 or head != blocks[b - 1][0].partition("·")[0]:
            top[b * width] = head
        second[b * width] = sub
    leaves = [leaf for _block, ls in blocks for leaf in ls]
    out += ["\t".join(top), "\t".join(second)]
    out += ["\t".join(leaf[i] if i < len(leaf) else "" for leaf in leaves) for i in range(max(map(len, leaves)))]
    out.append("\t".join(show(t4[(block, c)], values[t4[(block, c)]]) for block, ls in blocks for c in ls))
    out += ["", "五、存在的主要问题及改进情况", "无。"]
    return "\n".join(out) + "\n"
