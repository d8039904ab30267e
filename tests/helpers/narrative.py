"""Whole published reports (parts 一 to 六 with their text, the tables under 二、三、四) for the narrative
tests: sentences stating the tables' figures in the phrasings units really use (the publish step's
own forms among them), written as a web page, a Word file (python-docx), markdown or plain text.

A ``Said`` is one sentence and the cells its figure states (``None``: a sentence the checks must not
compare: another year, a change against last year, an ambiguous 受理). ``report_sentences`` draws them
from a fill with a random generator, so hypothesis chooses the phrasings too."""

from __future__ import annotations

import html
import io
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import docx

from helpers.documents import FMT, add_docx_table, lay_out, printed
from helpers.printed_text import markdown_report
from xltool.values import AMOUNT_SCALE

SECTIONS = FMT.report_sections
_DIGITS = "零一二三四五六七八九"


def chinese(n: int) -> str:
    """A whole number below 10⁸ in Chinese numerals, as a report writes it (二十三, 一百零五, 十二, 五万零九百一十六)."""
    if n == 0:
        return "零"
    if n >= 10000:
        rest = n % 10000
        tail = ("零" if rest < 1000 else "") + _small(rest) if rest else ""
        return _small(n // 10000) + "万" + tail.replace("零十", "零一十")
    return _small(n)


def _small(n: int) -> str:
    out, zero = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // value % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += ("" if (unit == "十" and not out and d == 1) else _DIGITS[d]) + unit
    return out


@dataclass(frozen=True)
class Said:
    """One sentence of a report and what its figure states: the cells summed, and the figure's text."""

    part: int
    text: str  # with ``{}`` where the figure goes
    cells: tuple[str, ...] | None  # None: the checks must not compare it
    value: int | str = 0  # the figure as stated (a count, or an amount's text in 万元)

    def sentence(self, value: int | str | None = None, numerals: bool = False) -> str:
        v = self.value if value is None else value
        shown = chinese(v) if numerals and isinstance(v, int) else str(v)
        return self.text.format(shown)


def _sum(values: dict[str, int], *ids: str) -> int:
    return sum(values[c] for c in ids)


def fee_text(values: dict[str, int], decimals: int | None = None) -> str:
    scaled = values["t2_8.fees.amount"]
    if decimals is None:
        return printed("t2_8.fees.amount", scaled)
    return format((Decimal(scaled) / AMOUNT_SCALE).quantize(Decimal(1).scaleb(-decimals)), "f")


def phrasings(values: dict[str, int]) -> list[list[Said]]:
    """Each statement of a figure in the ways real reports word it; a report picks one of each list."""
    v = values
    new, cin = "t3.new.total", "t3.carried_in.total"
    return [
        [
            Said(3, "本年度新收政府信息公开申请{}件", (new,), v[new]),
            Said(3, "新收政府信息公开申请{}件", (new,), v[new]),
        ],
        [Said(3, "上年结转{}件", (cin,), v[cin]), Said(3, "上年度结转政府信息公开申请{}件", (cin,), v[cin])],
        [
            Said(3, "本年度全区共收到{}件申请", None, _sum(v, new, cin)),  # 收到: new, or new and carried over
            Said(3, "全年共受理政府信息公开申请{}件", None, _sum(v, new, cin)),
            Said(3, "共受理依申请公开{}件", None, v[new]),
        ],
        [
            Said(3, "本年度办结政府信息公开申请{}件", ("t3.total.total",), v["t3.total.total"]),
            Said(3, "对收到的申请及时依法依规办结{}件", ("t3.total.total",), v["t3.total.total"]),
            Said(3, "依申请公开答复办理{}件", ("t3.total.total",), v["t3.total.total"]),
        ],
        [
            Said(3, "其中予以公开{}件", ("t3.disclosed.total",), v["t3.disclosed.total"]),
            Said(3, "予以公开的有{}件", ("t3.disclosed.total",), v["t3.disclosed.total"]),
        ],
        [Said(3, "部分公开{}件", ("t3.partial.total",), v["t3.partial.total"])],
        [
            Said(
                3,
                "予以公开和部分公开共{}件",
                ("t3.disclosed.total", "t3.partial.total"),
                _sum(v, "t3.disclosed.total", "t3.partial.total"),
            ),
            Said(
                3,
                "予以公开及部分公开{}件",
                ("t3.disclosed.total", "t3.partial.total"),
                _sum(v, "t3.disclosed.total", "t3.partial.total"),
            ),
        ],
        [
            Said(3, "结转下年度继续办理{}件", ("t3.carried_out.total",), v["t3.carried_out.total"]),
            Said(3, "结转至下一年度{}件", ("t3.carried_out.total",), v["t3.carried_out.total"]),
            Said(3, "{}件结转下年度继续办理", ("t3.carried_out.total",), v["t3.carried_out.total"]),
        ],
        [
            Said(
                4, "本年度因政府信息公开工作被申请行政复议{}件", ("t4_review.cases.total",), v["t4_review.cases.total"]
            ),
            Said(4, "因政府信息公开引起的行政复议案件{}件", ("t4_review.cases.total",), v["t4_review.cases.total"]),
        ],
        [
            Said(
                4,
                "因政府信息公开被提起行政诉讼{}件",
                ("t4_direct.cases.total", "t4_after.cases.total"),
                _sum(v, "t4_direct.cases.total", "t4_after.cases.total"),
            ),
            Said(
                4,
                "因政府信息公开引起的行政诉讼案件{}件",
                ("t4_direct.cases.total", "t4_after.cases.total"),
                _sum(v, "t4_direct.cases.total", "t4_after.cases.total"),
            ),
        ],
        [Said(2, "本年度制发规章{}件", ("t2_1.rules.issued",), v["t2_1.rules.issued"])],
        [
            Said(2, "制发行政规范性文件{}件", ("t2_1.normative.issued",), v["t2_1.normative.issued"]),
            Said(2, "动态更新本年度制发的规范性文件{}件", ("t2_1.normative.issued",), v["t2_1.normative.issued"]),
        ],
        [Said(2, "行政规范性文件废止{}件", ("t2_1.normative.repealed",), v["t2_1.normative.repealed"])],
        [Said(2, "现行有效行政规范性文件{}件", ("t2_1.normative.valid",), v["t2_1.normative.valid"])],
        [Said(2, "本年度作出行政许可决定{}件", ("t2_5.licensing.decisions",), v["t2_5.licensing.decisions"])],
        [Said(2, "行政处罚决定{}件", ("t2_6.penalty.decisions",), v["t2_6.penalty.decisions"])],
        [Said(2, "行政强制决定{}件", ("t2_6.enforcement.decisions",), v["t2_6.enforcement.decisions"])],
        [
            Said(2, "行政事业性收费金额{}万元", ("t2_8.fees.amount",), fee_text(v)),
            Said(2, "行政事业性收费{}万元", ("t2_8.fees.amount",), fee_text(v, 2)),
        ],
        [
            Said(1, "{}件，较上年增加5件", None, v[new] + 7),  # a change: not compared
            Said(1, "2022年收到政府信息公开申请{}件", None, v[new] + 3),  # another year
            Said(1, "去年办结{}件", None, v["t3.total.total"] + 1),
        ],
    ]


def publish_paragraphs(values: dict[str, int]) -> dict[int, str]:
    """Parts 二、三、四 exactly as ``xltool publish`` words them (the forms agreed for the round trip)."""
    v = values

    def n(cid: str) -> str:
        return printed(cid, v[cid])

    suits = v["t4_direct.cases.total"] + v["t4_after.cases.total"]
    return {
        2: f"本年度制发规章{n('t2_1.rules.issued')}件、废止{n('t2_1.rules.repealed')}件、现行有效{n('t2_1.rules.valid')}件；"
        f"制发行政规范性文件{n('t2_1.normative.issued')}件、废止{n('t2_1.normative.repealed')}件、"
        f"现行有效{n('t2_1.normative.valid')}件。本年度作出行政许可决定{n('t2_5.licensing.decisions')}件、"
        f"行政处罚决定{n('t2_6.penalty.decisions')}件、行政强制决定{n('t2_6.enforcement.decisions')}件，"
        f"行政事业性收费金额{n('t2_8.fees.amount')}万元。",
        3: f"本年度新收政府信息公开申请{n('t3.new.total')}件，上年结转{n('t3.carried_in.total')}件，"
        f"办结{n('t3.total.total')}件（其中予以公开{n('t3.disclosed.total')}件、部分公开{n('t3.partial.total')}件），"
        f"结转下年度继续办理{n('t3.carried_out.total')}件。",
        4: f"本年度因政府信息公开工作被申请行政复议{n('t4_review.cases.total')}件、提起行政诉讼{suits}件。",
    }


def report_sentences(values: dict[str, int], rng: random.Random, numerals: bool = False) -> list[tuple[Said, str]]:
    """One phrasing of each statement, each its own sentence, figures in digits (or Chinese numerals
    where ``numerals`` and the figure is small)."""
    return [
        (said, said.sentence(numerals=numerals and rng.random() < 0.5)) for said in map(rng.choice, phrasings(values))
    ]


PARTS_TEXT = {
    1: [
        "本机关认真贯彻落实《条例》，坚持以公开为常态、不公开为例外。",
        "（一）主动公开情况。主要通过政府门户网站主动公开政府信息。",
    ],
    5: ["存在的主要问题：政策解读形式不够丰富。", "改进措施：一是丰富解读形式；二是加强培训。"],
    6: ["本年度未收取信息处理费。"],
}


def parts_of(sentences: list[tuple[Said, str]], extra: dict[int, list[str]] | None = None) -> dict[int, list[str]]:
    """Each part's paragraphs: the prose parts' own text, then the sentences about that part's figures."""
    out = {n: list(PARTS_TEXT.get(n, [])) for n in range(1, 7)}
    for said, text in sentences:
        out[said.part].append(text + "。")
    for n, lines in (extra or {}).items():
        out[n] = lines
    return out


def headings(overrides: dict[int, str] | None = None) -> dict[int, str]:
    return {n: (overrides or {}).get(n, SECTIONS[n - 1]) for n in range(1, 7)}


def html_report(
    values: dict[str, int], parts: dict[int, list[str]], title: str, heads: dict[int, str] | None = None
) -> str:
    """A portal page: title, each part's heading and paragraphs, 表二 to 表四 under 二 to 四."""
    tables = lay_out(values)
    heads = headings(heads)
    body = [
        f"<html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>"
    ]
    for n in range(1, 7):
        if n in heads and heads[n]:
            body.append(f"<p>{html.escape(heads[n])}</p>")
        body += [f"<p>{html.escape(p)}</p>" for p in parts.get(n, [])]
        if 2 <= n <= 4:
            key = FMT.tables[n - 2].key
            rows: dict[int, list[str]] = {}
            for b in sorted(tables[key], key=lambda b: (b.row, b.col)):
                spans = (f' rowspan="{b.rowspan}"' if b.rowspan > 1 else "") + (
                    f' colspan="{b.colspan}"' if b.colspan > 1 else ""
                )
                rows.setdefault(b.row, []).append(f"<td{spans}>{html.escape(b.text)}</td>")
            body.append(
                "<table border='1'>" + "".join(f"<tr>{''.join(r)}</tr>" for _, r in sorted(rows.items())) + "</table>"
            )
    body.append("</body></html>")
    return "\n".join(body)


def docx_report(values: dict[str, int], parts: dict[int, list[str]], title: str) -> bytes:
    """A Word report made with python-docx: headings, paragraphs, the tables with merged cells."""
    tables = lay_out(values)
    document = docx.Document()
    document.add_paragraph(title)
    for n in range(1, 7):
        document.add_paragraph(SECTIONS[n - 1])
        for p in parts.get(n, []):
            document.add_paragraph(p)
        if 2 <= n <= 4:
            add_docx_table(document, tables[FMT.tables[n - 2].key])
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def markdown_with_parts(values: dict[str, int], parts: dict[int, list[str]]) -> str:
    """A converter's markdown (tables as pipe tables, headings as ##) with the parts' text added."""
    tables = markdown_report(FMT, values, printed, split=True)
    lines = tables[: tables.index(f"## {SECTIONS[4]}")].split("\n")  # its own part 五 ("无。") left out
    out: list[str] = []
    for line in lines:
        for n in (2, 3, 4):
            if line == f"## {SECTIONS[n - 1]}":
                out += [line, "", *parts.get(n, []), ""]
                break
        else:
            out.append(line)
        if line.startswith("# "):
            out += ["", f"## {SECTIONS[0]}", "", *parts.get(1, []), ""]
    out += ["", f"## {SECTIONS[4]}", "", *parts.get(5, []), "", f"## {SECTIONS[5]}", "", *parts.get(6, [])]
    return "\n".join(out) + "\n"


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def findings_of(rec, prefix: str = "N-") -> list:
    from xltool.rules.narrative import narrative_findings

    return [f for f in narrative_findings(rec) if f.rule.startswith(prefix)]


Builder = Callable[[dict[str, int], dict[int, list[str]], str], str | bytes]


# --------------------------------------------------------------------------- fixtures named after quirks

QUIRK_SEED = 7
QUIRK_TITLE = "乌伊岭镇2024年政府信息公开工作年度报告"


def _quirk_values() -> dict[str, int]:
    from helpers.documents import random_fill

    return random_fill(QUIRK_SEED)


def _with(parts: dict[int, list[str]], **changes: list[str]) -> dict[int, list[str]]:
    return {**parts, **{int(k[1:]): v for k, v in changes.items()}}


def quirk_documents() -> dict[str, tuple[str, tuple[tuple[int, ...], ...], list[tuple[str, tuple[str, ...]]]]]:
    """Each fixture's text, the parts it must be read into, and the 正文 findings (code, cells) it must
    give: one quirk of real reports each (tests/fixtures/narrative/, written by ``write_quirks``)."""
    v = _quirk_values()
    base = parts_of([(s, s.sentence()) for s in (g[0] for g in phrasings(v)) if s.cells is not None])
    six = tuple((n,) for n in range(1, 7))
    shown = v["t3.disclosed.total"] + v["t3.partial.total"]
    merged = {5: "五、存在的主要问题及改进情况和其他需要报告的事项", 6: ""}
    return {
        "consistent_publish_forms.html": (
            html_report(v, {**base, **{n: [p] for n, p in publish_paragraphs(v).items()}}, QUIRK_TITLE),
            six,
            [],
        ),
        "disclosed_and_partial_sum_disagrees.html": (
            html_report(v, _with(base, p3=[f"予以公开和部分公开共{shown - 17}件。"]), QUIRK_TITLE),
            six,
            [("N-FIGURE", ("t3.disclosed.total", "t3.partial.total"))],
        ),
        "last_year_and_other_year_sentences.html": (
            html_report(
                v,
                _with(
                    base,
                    p1=[f"2023年收到申请{v['t3.new.total'] + 5}件。", f"办结申请数较上年增加{v['t3.total.total']}件。"],
                ),
                QUIRK_TITLE,
            ),
            six,
            [],
        ),
        "chinese_numerals.html": (
            html_report(
                v,
                _with(base, p4=[f"因政府信息公开被申请行政复议{chinese(v['t4_review.cases.total'] + 2)}件。"]),
                QUIRK_TITLE,
            ),
            six,
            [("N-FIGURE", ("t4_review.cases.total",))],
        ),
        "part_five_only_wu.html": (html_report(v, _with(base, p5=["无。"]), QUIRK_TITLE), six, [("N-PART-EMPTY", ())]),
        "merged_parts_five_and_six.html": (
            html_report(
                v, _with(base, p5=["解读形式单一，将加以改进。本年度未收取信息处理费。"], p6=[]), QUIRK_TITLE, merged
            ),
            ((1,), (2,), (3,), (4,), (5, 6)),
            [],
        ),
        "part_six_missing.html": (
            html_report(v, _with(base, p6=[]), QUIRK_TITLE, {6: ""}),
            six[:5],
            [("N-PART-MISSING", ())],
        ),
        "headings_numbered_di_yi_bufen.html": (
            html_report(
                v, base, QUIRK_TITLE, {n: f"第{'一二三四五六'[n - 1]}部分 {SECTIONS[n - 1][2:]}" for n in range(1, 7)}
            ),
            six,
            [],
        ),
        "markdown_table_labels_as_headings.md": (markdown_with_parts(v, base), six, []),
    }


def write_quirks(folder: Path) -> None:
    """(Re)write the fixtures: ``python -c "from helpers.narrative import *; write_quirks(...)"`` from tests/."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, (text, _, _) in quirk_documents().items():
        (folder / name).write_text(text, encoding="utf-8")
