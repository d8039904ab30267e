"""What every source becomes before the statutory cells are placed: tables as grids of cell texts.

A workbook sheet, a Word table and an HTML ``<table>`` all turn into a ``DocTable``: the cells as
printed (text, position, row and column spans) and where a person finds each one again (sheet and
A1 cell in a workbook, table number elsewhere). ``xltool.read.locate`` then places every statutory cell
by the definition's printed labels; no source knows the statutory tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DocCell:
    """One printed cell: its top-left position in the table's grid and how far it spans."""

    row: int  # 0-based row of the table's grid
    col: int  # 0-based column of the table's grid
    text: str  # the text as printed; line breaks between paragraphs kept as "\n"
    rowspan: int = 1
    colspan: int = 1
    ref: str = ""  # A1 address on a workbook sheet; "" in documents (table and position suffice)
    confidence: float = 1.0
    """How sure OCR was of the text (its least sure character, 0..1); 1 for text a file holds as text."""


@dataclass
class DocTable:
    """One table of a source, as a grid; ``number`` counts the source's tables from 1."""

    number: int
    cells: list[DocCell] = field(default_factory=list)
    sheet: str = ""  # the workbook sheet it came from; "" in documents
    caption: str = ""  # text printed just before the table (e.g. "三、收到和处理政府信息公开申请情况")
    continues: bool = (
        False  # follows the previous table with nothing printed between (a Word table split by a page break)
    )

    @property
    def nrows(self) -> int:
        return max((c.row + c.rowspan for c in self.cells), default=0)

    @property
    def ncols(self) -> int:
        return max((c.col + c.colspan for c in self.cells), default=0)

    def grid(self) -> list[list[DocCell | None]]:
        """Every grid position -> the cell that covers it (None where nothing is printed)."""
        out: list[list[DocCell | None]] = [[None] * self.ncols for _ in range(self.nrows)]
        for c in self.cells:
            for r in range(c.row, c.row + c.rowspan):
                for k in range(c.col, c.col + c.colspan):
                    if out[r][k] is None:
                        out[r][k] = c
        return out

    def where(self, cell: DocCell) -> str:
        """How a person finds a cell again, in Chinese: the sheet and A1, or the table and position."""
        if self.sheet:
            return f"工作表“{self.sheet}” {cell.ref}" if cell.ref else f"工作表“{self.sheet}”"
        return f"第 {self.number} 个表格第 {cell.row + 1} 行第 {cell.col + 1} 列"


@dataclass
class Document:
    """A source read into tables: a workbook that is not an xltool template, a Word file, a web page."""

    file: str  # display name, as in findings
    kind: str  # "workbook" | "docx" | "html" | "pdf" | "text"
    title: str = ""  # the document's title (HTML <title>/<h1>, the first paragraph of a Word file)
    text: str = ""  # running text outside the tables (headings, paragraphs), for the unit and year
    tables: list[DocTable] = field(default_factory=list)
    hidden_tables: int = 0  # tables no reader sees (display:none, Word's hidden text): left out of ``tables``
