"""``xltool publish``: the figures xltool validated, in the forms a unit publishes them.

Published figures break where they are retyped (a district printed 表四 总计 0 under 10 cases), so the
validated values go straight into the report: a web page (a fragment with the three tables, ready to
paste into a portal's editor, and a standalone page that prints on A4) and a Word .docx in the
customary form of the report (title, the six sections, the tables, placeholders for the prose).
Before each table, one paragraph stating its main figures (``narrative_text``), marked as generated
so the unit can edit it: text written from the figures cannot contradict them.

Every table is laid out from the definition alone: the template sheet's rows and columns less the
title row, each label, row or column label and cell at its span. Reading back what was written
(``read_return``) gives the same figures; a return with errors is refused before anything is written.
"""

from __future__ import annotations

import html as _html
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xltool.definition import Format, Span, Table
from xltool.errors import InternalError, PublishRefused, UsageError
from xltool.model import ReturnRecord, Unit
from xltool.read.from_document import ReadOptions
from xltool.validate import Validation, as_validation
from xltool.values import show_value
from xltool.write.files import Existing, output_folder, output_set, write_bytes
from xltool.write.narrative_text import GENERATED_NOTE, paragraphs

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument
    from docx.table import Table as DocxTable

COL, ROW, VALUE = "col", "row", "value"
"""What a printed cell is: a column header (``th scope="col"``), a row label (``th scope="row"``) or a figure."""

FRAGMENT_SUFFIX = "（表格片段）"
PLACEHOLDER = "【请在此填写“{topic}”的内容{prompt}（本段为占位文字，发布前请替换）】"

# Official fonts (GB/T 9704) and what Word takes when a clerk's PC lacks them (altName in the font table).
TITLE_FONT, HEADING_FONT, BODY_FONT, LATIN_FONT = "方正小标宋简体", "黑体", "仿宋_GB2312", "Times New Roman"
FALLBACKS = {TITLE_FONT: "宋体", HEADING_FONT: "SimHei", BODY_FONT: "仿宋"}
# A4 and the margins of official documents (GB/T 9704: 上 37 下 35 左 28 右 26 mm).
PAGE_MM, MARGINS_MM = (210, 297), {"top": 37, "bottom": 35, "left": 28, "right": 26}


# --------------------------------------------------------------------------- the printed tables


@dataclass(frozen=True)
class Printed:
    """One printed cell of a published table, positioned on the table's own grid (0-based)."""

    row: int
    col: int
    rowspan: int
    colspan: int
    text: str
    role: str  # COL, ROW or VALUE ("" for a position the definition leaves blank)
    cell_id: str = ""


@dataclass(frozen=True)
class PrintedTable:
    """A statutory table as the format prints it: the template sheet's grid without its title row."""

    key: str
    title: str
    nrows: int
    ncols: int
    cells: tuple[Printed, ...]  # in row, then column order; every grid position covered once
    header_rows: frozenset[int]  # rows of column headers (0-based, on this grid)
    widths: tuple[float, ...]  # relative column widths, as the template sets them

    @property
    def leading_header_rows(self) -> int:
        """How many rows at the top are headers: what a page break repeats and ``<thead>`` holds."""
        n = 0
        while n in self.header_rows:
            n += 1
        return n

    def rows(self) -> list[list[Printed]]:
        out: list[list[Printed]] = [[] for _ in range(self.nrows)]
        for c in self.cells:
            out[c.row].append(c)
        return out


def printed_table(fmt: Format, table: Table, values: Mapping[str, int | None]) -> PrintedTable:
    """Lay ``table`` out from the definition: every label, row and column label and figure at its span."""
    top = table.title_span.last_row + 1
    header = set(table.header_rows)
    spans = _spans(fmt, table, values)
    nrows = max(s.last_row for s in spans) + 1 - top
    ncols = max(s.last_col for s in spans) + 1
    widths = tuple(float(table.widths[c]) if c < len(table.widths) else 10.0 for c in range(ncols))
    return PrintedTable(
        key=table.key,
        title=table.title,
        nrows=nrows,
        ncols=ncols,
        cells=_grid(spans, top, nrows, ncols),
        header_rows=frozenset(r - top for r in header if r >= top),
        widths=widths,
    )


def _spans(fmt: Format, table: Table, values: Mapping[str, int | None]) -> dict[Span, tuple[str, str, str]]:
    """What each span of the table prints: (text, role, cell id)."""
    header = set(table.header_rows)
    spans: dict[Span, tuple[str, str, str]] = {
        span: (text, COL if span.first_row in header else ROW, "") for span, text in table.printed_labels.items()
    }
    for cell in fmt.cells.values():
        if cell.table != table.key:
            continue
        value = values.get(cell.id)
        if value is None:
            raise InternalError(f"发布时缺少 {cell.id} 的数值（校验通过的报表应有全部数值）")
        spans[cell.span] = (show_value(value, cell.kind), VALUE, cell.id)
    return spans


def _grid(spans: Mapping[Span, tuple[str, str, str]], top: int, nrows: int, ncols: int) -> tuple[Printed, ...]:
    """Every grid position covered once, in row, then column order: the spans, blanks between."""
    covered: set[tuple[int, int]] = set()
    cells: list[Printed] = []
    for span, (text, role, cid) in spans.items():
        r0 = span.first_row - top
        cells.append(
            Printed(
                r0,
                span.first_col,
                span.last_row - span.first_row + 1,
                span.last_col - span.first_col + 1,
                text,
                role,
                cid,
            )
        )
        covered |= {(r, c) for r in range(r0, r0 + cells[-1].rowspan) for c in range(span.first_col, span.last_col + 1)}
    cells += [Printed(r, c, 1, 1, "", "") for r in range(nrows) for c in range(ncols) if (r, c) not in covered]
    return tuple(sorted(cells, key=lambda c: (c.row, c.col)))


def report_title(fmt: Format, unit_name: str, year: int) -> str:
    return fmt.report_title.format(unit=unit_name, year=year)


def placeholder(section: str, fmt: Format | None = None) -> str:
    """The marked text standing for a prose section the unit writes itself, with what the format asks
    of it (part 六: the 信息处理费 charged)."""
    prompt = dict(fmt.prompts).get(section, "") if fmt is not None else ""
    return PLACEHOLDER.format(
        topic=re.sub(r"^[一二三四五六七八九十]+、", "", section), prompt=f"，{prompt}" if prompt else ""
    )


# --------------------------------------------------------------------------- HTML

_E = _html.escape

_PAGE_CSS = """\
@page { size: A4; margin: 37mm 26mm 35mm 28mm; }
body { font-family: "仿宋_GB2312", "仿宋", FangSong, STFangsong, serif; font-size: 16pt; line-height: 1.6;
  max-width: 156mm; margin: 0 auto; }
h1 { font-family: "方正小标宋简体", "华文中宋", STZhongsong, "宋体", SimSun, serif; font-size: 22pt;
  font-weight: normal; text-align: center; }
h2 { font-family: "黑体", SimHei, "Microsoft YaHei", sans-serif; font-size: 16pt; font-weight: normal; }
p { text-indent: 2em; margin: 0; }
mark { background: #ff0; }
p.generated { background: #eef3fb; }
p.generated-note { text-indent: 0; text-align: right; font-size: 10.5pt; color: #666; }
table { width: 100%; border-collapse: collapse; font-size: 10.5pt; line-height: 1.3; margin: 0.5em 0 1em; }
table.wide { font-size: 9pt; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
th, td { border: 1px solid #000; padding: 2pt 3pt; text-align: center; vertical-align: middle; font-weight: normal; }
th[scope="row"] { text-align: left; }
@media print { body { max-width: none; } }
"""


def table_html(pt: PrintedTable, indent: str = "") -> str:
    """One ``<table>``: the leading header rows in ``<thead>``, each later block of rows in a ``<tbody>``
    (表二 starts a new block at each 第二十条 heading); row labels ``th scope="row"``, figures ``td``."""
    wide = " wide" if pt.ncols > 4 else ""
    out = [
        f'{indent}<table class="xltool-{pt.key}{wide}" border="1" cellspacing="0" cellpadding="4" '
        'style="border-collapse:collapse">'
    ]
    head = pt.leading_header_rows
    group = ""
    for r, cells in enumerate(pt.rows()):
        want = "thead" if r < head else "tbody"
        if want == "tbody" and r > head and r in pt.header_rows and r - 1 not in pt.header_rows:
            want = "tbody-new"
        if want != group or want == "tbody-new":
            if group:
                out.append(f"{indent}  </{group.removesuffix('-new')}>")
            out.append(f"{indent}  <{want.removesuffix('-new')}>")
            group = "tbody" if want == "tbody-new" else want
        out.append(f"{indent}    <tr>")
        out += [f"{indent}      {_cell_html(c)}" for c in cells]
        out.append(f"{indent}    </tr>")
    out.append(f"{indent}  </{group}>")
    out.append(f"{indent}</table>")
    return "\n".join(out)


def _cell_html(c: Printed) -> str:
    """A figure as ``td``, a label as ``th`` with its scope, a blank position as an empty ``td``."""
    span = (f' rowspan="{c.rowspan}"' if c.rowspan > 1 else "") + (f' colspan="{c.colspan}"' if c.colspan > 1 else "")
    if c.role == VALUE:
        return f"<td{span}>{_E(c.text)}</td>"
    if c.role:
        return f'<th scope="{c.role}"{span}>{_E(c.text)}</th>'
    return f"<td{span}></td>"


def generated_html(text: str) -> str:
    """A paragraph generated from the figures, marked as such (class and data attribute), and the
    visible note that the unit may edit it."""
    return (
        f'<p class="generated" data-xltool="generated">{_E(text)}</p>\n'
        f'<p class="generated-note" data-xltool="generated-note"><small>{_E(GENERATED_NOTE)}</small></p>'
    )


def _table_html(fmt: Format, table: Table, values: Mapping[str, int | None], said: Mapping[str, str]) -> str:
    """A table, after the paragraph generated about it (if any)."""
    text = said.get(table.key)
    return (generated_html(text) + "\n" if text else "") + table_html(printed_table(fmt, table, values))


def fragment_html(fmt: Format, values: Mapping[str, int | None]) -> str:
    """The three tables under their section headings, each after its generated paragraph: what a
    clerk pastes into the portal's editor."""
    said = paragraphs(fmt, values)
    parts = []
    for t in fmt.tables:
        parts.append(f"<h2>{_E(t.title)}</h2>\n{_table_html(fmt, t, values, said)}")
    return "\n".join(parts) + "\n"


def page_html(fmt: Format, values: Mapping[str, int | None], title: str) -> str:
    """The whole report as a standalone page that prints on A4: title, six sections, tables."""
    tables = {t.title: t for t in fmt.tables}
    said = paragraphs(fmt, values)
    body = [f"<h1>{_E(title)}</h1>"]
    for section in fmt.report_sections:
        body.append(f"<h2>{_E(section)}</h2>")
        if section in tables:
            body.append(_table_html(fmt, tables[section], values, said))
        else:
            body.append(f"<p><mark>{_E(placeholder(section, fmt))}</mark></p>")
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n'
        f"<title>{_E(title)}</title>\n<style>\n{_PAGE_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


# --------------------------------------------------------------------------- Word


def docx_bytes(fmt: Format, values: Mapping[str, int | None], title: str) -> bytes:
    """The report as a .docx: A4 with official margins and fonts, the six sections, the three tables
    with merged cells, header rows repeated and rows kept whole across pages, prose placeholders marked."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX
    from docx.shared import Mm, Pt

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    for side, mm in MARGINS_MM.items():
        setattr(section, f"{side}_margin", Mm(mm))
    _fallback_fonts(doc)
    doc.core_properties.title = title
    doc.core_properties.author = "xltool"
    normal = doc.styles["Normal"]
    _font(normal.element.get_or_add_rPr(), BODY_FONT, Pt(16))
    normal.paragraph_format.line_spacing = Pt(28)  # 三号 at a fixed 28 pt: 22 lines a page

    heading = doc.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(heading, title, TITLE_FONT, Pt(22))
    heading.paragraph_format.space_after = Pt(16)
    heading.paragraph_format.line_spacing = Pt(34)
    tables = {t.title: t for t in fmt.tables}
    said = paragraphs(fmt, values)
    for name in fmt.report_sections:
        h = doc.add_paragraph()
        h.paragraph_format.first_line_indent = Pt(32)
        h.paragraph_format.keep_with_next = True
        _run(h, name, HEADING_FONT, Pt(16))
        if name in tables:
            if tables[name].key in said:
                _docx_generated(doc, said[tables[name].key])
            _docx_table(doc, printed_table(fmt, tables[name], values), section)
        else:
            p = doc.add_paragraph()
            p.paragraph_format.first_line_indent = Pt(32)
            run = _run(p, placeholder(name, fmt), BODY_FONT, Pt(16))
            run.font.highlight_color = WD_COLOR_INDEX.YELLOW
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


GENERATED_STYLE = "xltool 自动生成文字"
"""The Word paragraph style of the generated text and its note: the unit sees it named in the style
list, and can find, edit or delete every generated paragraph by it."""


def _docx_generated(doc: DocxDocument, text: str) -> None:
    """The generated paragraph in its own style, and the small grey note that it may be edited."""
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt, RGBColor

    if GENERATED_STYLE not in [s.name for s in doc.styles]:
        style = doc.styles.add_style(GENERATED_STYLE, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = doc.styles["Normal"]
    p = doc.add_paragraph(style=GENERATED_STYLE)
    p.paragraph_format.first_line_indent = Pt(32)
    _run(p, text, BODY_FONT, Pt(16))
    note = doc.add_paragraph(style=GENERATED_STYLE)
    note.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    note.paragraph_format.keep_with_next = True
    note.paragraph_format.line_spacing = Pt(18)  # a small note, not a line of the body's 28 pt
    run = _run(note, GENERATED_NOTE, BODY_FONT, Pt(10.5))
    run.font.color.rgb = RGBColor(0x66, 0x66, 0x66)


def _font(rpr: Any, east_asia: str, size: Any, latin: str = LATIN_FONT) -> None:
    """Set a run's or style's fonts: the Chinese font by name (w:eastAsia), digits and Latin text in
    ``latin``; theme fonts dropped so Word does not override the official ones."""
    from docx.oxml.ns import qn
    from docx.oxml.parser import OxmlElement

    for old in rpr.findall(qn("w:rFonts")):
        rpr.remove(old)
    fonts = OxmlElement("w:rFonts")
    for attr, name in (("w:ascii", latin), ("w:hAnsi", latin), ("w:eastAsia", east_asia), ("w:cs", latin)):
        fonts.set(qn(attr), name)
    rpr.insert(0, fonts)
    for tag in ("w:sz", "w:szCs"):
        for old in rpr.findall(qn(tag)):
            rpr.remove(old)
        el = OxmlElement(tag)
        el.set(qn("w:val"), str(int(size.pt * 2)))
        rpr.append(el)


def _run(paragraph: Any, text: str, east_asia: str, size: Any) -> Any:
    run = paragraph.add_run(text)
    _font(run._r.get_or_add_rPr(), east_asia, size)
    return run


def _fallback_fonts(doc: DocxDocument) -> None:
    """Name the official fonts in the font table with what Word substitutes on a PC without them
    (w:altName, GB2312 charset): 宋体, 黑体 (SimHei), 仿宋 come with Windows."""
    part = next(p for p in doc.part.package.iter_parts() if str(p.partname) == "/word/fontTable.xml")
    entries = "".join(
        f'<w:font w:name="{name}"><w:altName w:val="{alt}"/><w:charset w:val="86"/>'
        f'<w:family w:val="{"swiss" if name == HEADING_FONT else "roman"}"/><w:pitch w:val="variable"/></w:font>'
        for name, alt in FALLBACKS.items()
    )
    part._blob = part.blob.replace(b"</w:fonts>", entries.encode() + b"</w:fonts>")


def _docx_widths(table: DocxTable, pt: PrintedTable, section: Any) -> list[int]:
    """The template's relative column widths over the page's usable width (EMU), set on each cell."""
    usable = section.page_width - section.left_margin - section.right_margin
    total = sum(pt.widths)
    widths = [int(usable * w / total) for w in pt.widths]
    for col, w in zip(table.columns, widths, strict=True):
        col.width = w
    for row in table.rows:
        for cell, w in zip(row.cells, widths, strict=True):
            cell.width = w
    return widths


def _docx_table(doc: DocxDocument, pt: PrintedTable, section: Any) -> DocxTable:
    from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.oxml.parser import OxmlElement
    from docx.shared import Pt

    table: DocxTable = doc.add_table(rows=pt.nrows, cols=pt.ncols)
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    widths = _docx_widths(table, pt, section)
    size = Pt(10.5) if pt.ncols <= 4 else Pt(9)  # 五号; 小五 for the wide tables
    for i, row in enumerate(table.rows):
        trpr = row._tr.get_or_add_trPr()
        trpr.append(OxmlElement("w:cantSplit"))
        if i < pt.leading_header_rows:
            trpr.append(OxmlElement("w:tblHeader"))
    # the grid's cells taken once, before merging: table.cell() rescans the whole table on each call
    grid = [list(row.cells) for row in table.rows]
    for c in pt.cells:
        cell = grid[c.row][c.col]
        if c.rowspan > 1 or c.colspan > 1:
            cell = cell.merge(grid[c.row + c.rowspan - 1][c.col + c.colspan - 1])
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        p = cell.paragraphs[0]
        p.paragraph_format.line_spacing = 1.0
        p.paragraph_format.first_line_indent = Pt(0)
        p.alignment = WD_ALIGN_PARAGRAPH.LEFT if c.role == ROW else WD_ALIGN_PARAGRAPH.CENTER
        if c.text:
            _run(p, c.text, BODY_FONT, size)
    for gc, w in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths, strict=True):
        gc.set(qn("w:w"), str(int(w / 635)))  # EMU -> twentieths of a point
    return table


# --------------------------------------------------------------------------- the library call


@dataclass
class Published:
    """What ``publish`` wrote: for each return (as named in findings), its files; and the validation."""

    validation: Validation
    written: dict[str, list[Path]] = field(default_factory=dict)
    replaced: list[Path] = field(default_factory=list)
    """Files that were in ``out_dir`` and were replaced (``existing="replace"``)."""

    @property
    def paths(self) -> list[Path]:
        return [p for ps in self.written.values() for p in ps]


def publish(
    source: Validation | Sequence[str | Path],
    out_dir: str | Path,
    html: bool = True,
    docx: bool = True,
    roster: Sequence[Unit] | None = None,
    formats: Iterable[Format] = (),
    options: ReadOptions | None = None,
    year: int | None = None,
    jobs: int = 1,
    existing: Existing = "rename",
) -> Published:
    """Write, for each return validated, the report's web page, its table fragment and its Word file
    into ``out_dir`` (created). ``source``: a ``Validation`` already made (nothing is read again), or
    the paths to validate (with ``roster``, ``formats``, ``options``, ``year``, ``jobs``). Raises
    PublishRefused, writing nothing, when any input has errors; UsageError when nothing can be read or
    ``out_dir`` cannot be used. Never overwrites: a name in use gets " (2)", " (3)" … (``existing``:
    or replace it, or refuse with OutputExists). The set appears whole or not at all
    (``files.output_set``): an error or Ctrl-C midway leaves ``out_dir`` as it was."""
    if not html and not docx:
        raise UsageError("请至少选择一种发布形式：--html 或 --docx")
    given = () if isinstance(source, Validation) else source
    out_dir = output_folder(out_dir, given, "发布的网页和 Word 文件")
    validation = as_validation(source, roster, year, options, jobs, formats)
    _refuse_errors(validation)
    rendered = [(rec, _rendered(rec, html, docx)) for rec in validation.records]
    result = Published(validation)
    staged: dict[str, list[Path]] = {}
    try:
        with output_set(out_dir, existing) as out:
            for rec, files in rendered:
                staged[rec.file] = [write_bytes(out.path(_UNSAFE.sub("_", name)), data) for name, data in files]
    except OSError as exc:
        raise UsageError(f"无法写入 {out_dir}：{exc.strerror or exc}") from None
    result.written = {file: [out.placed[p] for p in paths] for file, paths in staged.items()}
    result.replaced = out.replaced
    return result


def _refuse_errors(validation: Validation) -> None:
    """Nothing is published while any return has errors."""
    if validation.valid:
        return
    bad = [w.file for w in validation.report.workbooks if w.status == "errors"]
    what = f"{len(bad)} 份报表有错误（{'、'.join(bad[:5])}{'等' if len(bad) > 5 else ''}）" if bad else "校验有错误"
    raise PublishRefused(f"{what}，未发布任何文件；请改正后再发布", validation)


def _rendered(rec: ReturnRecord, html: bool, docx: bool) -> list[tuple[str, bytes]]:
    """The files of one valid return: (name, bytes), the name not yet made safe nor free."""
    if rec.identity is None or rec.format is None:
        raise InternalError(f"{rec.file}：校验通过却没有单位或格式")
    title = report_title(rec.format, rec.identity.unit_name, rec.identity.year)
    files: list[tuple[str, bytes]] = []
    if html:
        files.append((f"{title}.html", page_html(rec.format, rec.values, title).encode("utf-8")))
        files.append((f"{title}{FRAGMENT_SUFFIX}.html", fragment_html(rec.format, rec.values).encode("utf-8")))
    if docx:
        files.append((f"{title}.docx", docx_bytes(rec.format, rec.values, title)))
    return files


_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


__all__ = [
    "Printed",
    "PrintedTable",
    "Published",
    "PublishRefused",
    "docx_bytes",
    "fragment_html",
    "generated_html",
    "page_html",
    "printed_table",
    "publish",
]
