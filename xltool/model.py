"""Plain records passed between the steps: units, the hidden identification, a file as read.

Findings and reports are in ``xltool.findings``; the names re-exported below keep older imports
(``from xltool.model import ERROR, Finding, Report``) working while they move there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xltool.catalogue import is_layout
from xltool.errors import IdentityError, InternalError, UsageError
from xltool.findings import ERROR as ERROR
from xltool.findings import SEVERITY_ZH as SEVERITY_ZH
from xltool.findings import STATUS_ZH as STATUS_ZH
from xltool.findings import WARNING as WARNING
from xltool.findings import Finding as Finding
from xltool.findings import Report as Report
from xltool.findings import WorkbookResult as WorkbookResult

if TYPE_CHECKING:
    from xltool.definition import Format

# --------------------------------------------------------------------------- units

LEVELS = ("乡镇", "街道", "部门", "县", "区", "县级市", "市", "省")
"""Reporting levels a roster may name. 乡镇/街道 matter to rule T2-W1; the rest describe the unit."""


@dataclass(frozen=True, order=True)
class Unit:
    code: str
    name: str
    level: str
    aliases: tuple[str, ...] = field(default=(), compare=False)
    """Other names the roster lists for the unit (住建局 for 汤旺县住房和城乡建设局): a document that
    prints one of them is this unit's. A unit is told apart by code, name and level alone."""


def check_unit(unit: Unit) -> Unit:
    """Refuse a unit a workbook cannot be made for: no code or name, or a level not in LEVELS."""
    if not unit.code.strip() or not unit.name.strip():
        raise UsageError(f"单位代码和名称不能为空：{unit.code!r} {unit.name!r}")
    if unit.level not in LEVELS:
        raise UsageError(f"单位层级 {unit.level!r} 无效，应为 {'、'.join(LEVELS)} 之一")
    return unit


# --------------------------------------------------------------------------- identification

IDENT_SHEET = "_xltool"
"""Very hidden sheet holding the identification, one key per row: A = key, B = value (text)."""

TEMPLATE_ID = "xltool/gov-info-disclosure-annual-report"

IDENT_KEYS = (
    "template_id",
    "format_id",
    "format_version",
    "fingerprint",
    "kind",
    "unit_code",
    "unit_name",
    "unit_level",
    "year",
    "xltool_version",
)
SOURCE_FINDINGS_SHEET = "_xltool_source"
"""Very hidden sheet of an imported document: what reading the document found about its layout
(D-* findings), one per row, so that validating the imported workbook says it again."""
SOURCE_FINDING_FIELDS = ("rule", "severity", "message", "table", "row_label", "col_label", "location", "cell_ids")
UNPLACED = "UNPLACED"
"""The rule of the row of that sheet listing the cells the document did not print (left blank)."""

SOURCE_KEYS = ("source_file", "source_sha256")
"""Written only by ``xltool import``: the document the figures were read from."""

CARRIED_KEYS = ("carried", "carried_from")
"""Written only by ``xltool template --previous``: the cells filled in with last year's figures and
locked, as ``cell=value;…`` (``prev:cell=value`` for last year's figures shown for reference), and the
file they came from (name and SHA-256). Plain templates do not have these rows."""


TEMPLATE, CONSOLIDATED, IMPORTED, DOCUMENT = "template", "consolidated", "imported", "document"
IDENTITY_KINDS = (TEMPLATE, CONSOLIDATED, IMPORTED)
"""Kinds written into a workbook's identification: a unit's return drawn from a template; a consolidated
workbook; a document imported by ``xltool import``. A document read as it is (a web page, a Word file, a
sheet a unit made itself) has the kind DOCUMENT, which no workbook carries."""


@dataclass(frozen=True)
class Identity:
    """What a workbook says it is (``kind``: TEMPLATE, CONSOLIDATED or IMPORTED), or what a document is
    taken to be (DOCUMENT)."""

    format_id: str
    format_version: str
    fingerprint: str
    unit_code: str
    unit_name: str
    unit_level: str
    year: int
    kind: str = TEMPLATE
    xltool_version: str = ""
    template_id: str = TEMPLATE_ID
    source_file: str = ""  # an imported document's file name
    source_sha256: str = ""  # and the SHA-256 of the file as it was read
    carried: str = ""  # a template made with last year's figures: "cell=value;…" (see CARRIED_KEYS)
    carried_from: str = ""  # the file they came from: "name（SHA-256 …）"

    @property
    def unit(self) -> Unit:
        return Unit(self.unit_code, self.unit_name, self.unit_level)

    def rows(self) -> list[tuple[str, str]]:
        """(key, text value) pairs in IDENT_KEYS order, as written to the hidden sheet (then the source
        of an imported document)."""
        return [(k, str(getattr(self, k))) for k in IDENT_KEYS] + [
            (k, getattr(self, k)) for k in SOURCE_KEYS + CARRIED_KEYS if getattr(self, k)
        ]

    def carried_values(self) -> dict[str, int]:
        """The figures a template was made with, by cell id (``prev:`` ids are last year's cells shown
        for reference); entries that are not ``cell=whole number`` are ignored."""
        out: dict[str, int] = {}
        for item in self.carried.split(";"):
            cid, sep, value = item.partition("=")
            try:
                if sep and cid.strip():
                    out[cid.strip()] = int(value.strip())
            except ValueError:
                continue
        return out

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> Identity:
        """Build from the hidden sheet's key/value pairs; ValueError names the bad key."""
        # a document imported without a roster may name no unit code or level
        optional = {"xltool_version"} | (
            {"unit_code", "unit_level"} if _text(values.get("kind")) == IMPORTED else set()
        )
        missing = [k for k in IDENT_KEYS if k not in optional and not _text(values.get(k))]
        if missing:
            raise IdentityError(f"隐藏标识缺少：{', '.join(missing)}")
        year_text = _text(values["year"])
        try:
            year = int(float(year_text))
        except ValueError:
            raise IdentityError(f"隐藏标识的 year 不是年份：{year_text!r}") from None
        kind = _text(values["kind"])
        if kind not in IDENTITY_KINDS:
            raise IdentityError(f"隐藏标识的 kind 无效：{kind!r}")
        return cls(
            format_id=_text(values["format_id"]),
            format_version=_text(values["format_version"]),
            fingerprint=_text(values["fingerprint"]),
            unit_code=_text(values["unit_code"]),
            unit_name=_text(values["unit_name"]),
            unit_level=_text(values["unit_level"]),
            year=year,
            kind=kind,
            xltool_version=_text(values.get("xltool_version")),
            template_id=_text(values["template_id"]),
            source_file=_text(values.get("source_file")),
            source_sha256=_text(values.get("source_sha256")),
            carried=_text(values.get("carried")),
            carried_from=_text(values.get("carried_from")),
        )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


@dataclass(frozen=True)
class LastYear:
    """One unit's figures of last year, for a template that carries them (``xltool template --previous``)."""

    values: dict[str, int | None]  # by cell id, as last year's return held them
    year: int  # last year's reporting year
    file: str = ""  # the file they came from, as the template names it
    sha256: str = ""

    @property
    def source(self) -> str:
        """What the identification records of the file: its name and SHA-256."""
        return f"{self.file}（SHA-256 {self.sha256}）" if self.sha256 else self.file


@dataclass(frozen=True)
class Position:
    """Where a statutory figure was found in a document: a sheet and A1 cell in a workbook a unit made
    itself, or a table and grid position (``where``) in a web page or Word file."""

    sheet: str = ""
    ref: str = ""
    where: str = ""


@dataclass(frozen=True)
class NarrativePart:
    """One of a published report's six parts (一、总体情况 … 六、其他需要报告的事项) as printed: found by
    its heading in the document's running text (``xltool.read.narrative``), kept for the text checks
    and for ``xltool compare``. Parts 二、三、四 are the tables; their text is what is printed around them."""

    numbers: tuple[int, ...]  # the statutory part(s) it is, 1..6; two or more when a unit merged parts ("五、六")
    heading: str  # the heading as printed ("五、存在的主要问题及改进情况")
    text: str  # the part's text after its heading, paragraphs joined by "\n"

    @property
    def number(self) -> int:
        return self.numbers[0]


@dataclass
class ReturnRecord:
    """One returned file as read: what it is, its numbers, and what is wrong with it."""

    path: Path
    file: str  # display name used in findings (as the user gave the path)
    size: int = 0
    sha256: str = ""
    identity: Identity | None = None  # None when not recognised
    format: Format | None = None  # the definition matching identity.format_id
    values: dict[str, int | None] = field(default_factory=dict)
    formula_lost: set[str] = field(default_factory=set)
    cover: dict[str, str] = field(default_factory=dict)
    sheet_titles: dict[str, str] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    positions: dict[str, Position] = field(default_factory=dict)
    """For a document (kind DOCUMENT): where each statutory figure was found, by cell id. Empty for
    an xltool workbook, whose figures sit at the definition's addresses."""
    source: str = ""  # what the file was read as: "" (an xltool workbook), "workbook", "docx", "html"
    printed: dict[str, str] = field(default_factory=dict)
    """For a document: each placed cell's text as printed (what ``xltool import`` keeps)."""
    confidence: dict[str, float] = field(default_factory=dict)
    """For a scan read by OCR: each placed figure's recognition confidence (0..1), by cell id."""
    unplaced: set[str] = field(default_factory=set)
    """For an imported document: the cells the document did not print (their absence is already said)."""
    narrative: tuple[NarrativePart, ...] = ()
    """For a document: its parts 一 to 六 as found by their headings, in document order; () for a
    workbook, or a document without the headings."""

    @property
    def readable(self) -> bool:
        """Identity and format known and layout intact: the values can be used."""
        return (
            self.identity is not None
            and self.format is not None
            and not any(f.severity == ERROR and is_layout(f.rule) for f in self.findings)
        )

    @property
    def is_document(self) -> bool:
        return bool(self.source)

    @property
    def ident(self) -> Identity:
        """The identity of a record known to be recognised (a readable one); a bug to ask of another."""
        if self.identity is None:
            raise InternalError(f"{self.file}：没有单位标识（程序错误）")
        return self.identity

    @property
    def fmt(self) -> Format:
        """The format of a record known to be recognised (a readable one); a bug to ask of another."""
        if self.format is None:
            raise InternalError(f"{self.file}：没有报表格式（程序错误）")
        return self.format


def display_path(path: Path) -> str:
    """How a file is named in findings: as the user gave it (relative stays relative)."""
    return str(path)
