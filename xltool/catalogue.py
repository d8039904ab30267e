"""Every finding code xltool reports, with its severity, group, Chinese title and message template, in one place.

Why: a clerk reads the code in a report and looks it up in the README; JSON users switch on it.
Both must mean the same thing everywhere, so the README's code tables, ``xltool rules`` and the
emission sites all take their wording from here. A site builds its finding with one of
``xltool.findings.Finding``'s constructors, which take the severity and message from here
(``severity=`` only to pick a variant); ``xltool.values`` calls ``cell_message`` (the reader puts the
sheet and cell before it). What a code means (its group, its severity) is read from its entry, never
from its prefix: ``group_of``, ``is_layout``. ``tests/test_catalogue.py`` fails on a message typed at
an emission site, and on a docstring that lists codes: this module and ``xltool rules`` are the list.

- ``CODES`` holds the codes typed here, one group each (``GROUPS``). The rules of the formats
  (勾稽关系) are not retyped: ``catalogue()`` merges them in from the builtin definitions (code,
  severity, title and description of each rule; a code in several formats is taken from the current
  format and the others' differences are noted).
- A code reported at two severities is one ``Code`` whose ``severity`` is the usual case and whose
  ``variants`` say when the other severity applies, with their own message.
  ``message(code, severity=...)`` picks the variant.
- Message templates name their fields (``{name}`` the file name, ``{sheet} {cell}`` where in a
  sheet, ...). Where one code is reported for several causes, the varying part is one field
  (``{what}``, ``{reason}``, ``{detail}``) inside the fixed wording.
- ``xltool.read.locate`` appends where in the document a finding of a document is (（表 2 第 3 行）)
  when it knows the cell; that suffix is not part of the templates.
- A rule printed in the format that no arithmetic can check has ``checked`` False; tables show it
  as 说明.

``python -m xltool.catalogue --readme`` prints the README's code tables; ``--write-readme``
rewrites them in README.md between their ``<!-- codes:NAME:begin/end -->`` markers.
"""

from __future__ import annotations

import re
import string
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from xltool.errors import InternalError, InvalidArgument, MessageFieldsError, UnknownCode

ERROR, WARNING = "error", "warning"  # as xltool.model, which this module does not import (kept light)
SEVERITY_ZH = {ERROR: "错误", WARNING: "警告"}

GROUPS = ("文件", "版式", "数值", "勾稽关系", "名单", "年度", "跨年度", "文档", "正文")
"""The order of ``catalogue()``: how a return is read, first to last. 正文 (NARRATIVE): a published
report's text (parts 一 to 六) checked against its own tables."""
FILE, LAYOUT, VALUES, RULES, ROSTER, YEAR, CROSS_YEAR, DOCUMENTS, NARRATIVE = GROUPS
LAYOUT_GROUPS = frozenset({FILE, LAYOUT})
"""Groups whose errors mean a file's figures cannot be used: it is not readable as its format says."""

CODE_PATTERN = re.compile(r"[A-Z][0-9]?-[A-Z0-9]+(?:-[A-Z0-9]+)*")


@dataclass(frozen=True)
class Variant:
    """The same code at another severity, in the case ``when`` (Chinese)."""

    severity: str
    when: str
    message: str
    example: str = ""
    read_as: str = ""


@dataclass(frozen=True)
class Code:
    """One finding code: what a clerk sees in a report, and what the README says of it."""

    code: str
    severity: str  # "error" | "warning": the usual case (see ``variants``)
    group: str  # one of GROUPS
    title: str  # Chinese, a few words
    message: str  # Chinese template with named {fields}
    example: str = ""  # V-*: what was typed (README's 填写的内容)
    read_as: str = ""  # V-*: how it is read (README's 读作); "—" when nothing is read
    description: str = ""  # T*-*: the rule as the definition states it
    note: str = ""  # anything a reader of the tables should also know
    variants: tuple[Variant, ...] = ()
    checked: bool = True  # False for a rule printed in the format that no arithmetic can check

    @property
    def severities(self) -> frozenset[str]:
        return frozenset({self.severity, *(v.severity for v in self.variants)})

    def template(self, severity: str | None = None) -> str:
        """The message template for ``severity`` (default: the usual one)."""
        if severity is None or severity == self.severity:
            return self.message
        for v in self.variants:
            if v.severity == severity:
                return v.message
        raise InvalidArgument(f"{self.code} is never reported as {severity!r}")

    def fields(self, severity: str | None = None) -> frozenset[str]:
        """The names of the template's placeholders."""
        return frozenset(name for _, name, _, _ in string.Formatter().parse(self.template(severity)) if name)

    def severity_zh(self, sep: str = "；") -> str:
        """级别 as the tables print it: 错误 / 警告, the other case after it; 说明 when not checked."""
        if not self.checked:
            return "说明"
        return sep.join([SEVERITY_ZH[self.severity], *(f"{v.when}：{SEVERITY_ZH[v.severity]}" for v in self.variants)])

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``xltool rules --format json``."""
        out: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity,
            "group": self.group,
            "title": self.title,
            "message": self.message,
        }
        if self.group == VALUES:
            out["example"], out["read_as"] = self.example, self.read_as
        if self.description:
            out["description"] = self.description
        if not self.checked:
            out["checked"] = False
        if self.note:
            out["note"] = self.note
        if self.variants:
            out["variants"] = [
                {k: v for k, v in vars(var).items() if v or k in ("severity", "when", "message")}
                for var in self.variants
            ]
        return out


_CELL = "{sheet} {cell}："  # the reader puts the sheet and cell before a value's message

CODES: tuple[Code, ...] = (
    # ------------------------------------------------------------------ 文件: before and while opening
    Code("F-EMPTY", ERROR, "文件", "空文件", "“{name}”是空文件（0 字节）；请重新导出或重新发送"),
    Code("F-CORRUPT", ERROR, "文件", "文件已损坏", "“{name}”已损坏（{reason}）；{hint}"),
    Code(
        "F-ENCRYPTED",
        ERROR,
        "文件",
        "设置了打开密码",
        "“{name}”设置了打开密码，无法读取；请在原来的软件（Excel、WPS、Word 或 PDF 阅读器）中去掉打开密码后重新保存",
    ),
    Code(
        "F-NOT-WORKBOOK",
        ERROR,
        "文件",
        "不是 Excel 工作簿",
        "“{name}”{what}，不是 Excel 工作簿（.xlsx/.xlsm/.xls/.ods），未读取；{hint}",
        note="Word、PDF、CSV、网页、压缩包等改了扩展名，或命令行给出的文件不是工作簿",
    ),
    Code(
        "F-NOT-DOCUMENT",
        ERROR,
        "文件",
        "不是可读取的文档",
        "“{name}”{what}，不是可读取的网页、Word 文档（.docx）或工作簿；{hint}",
        note="读取公布的报告时：PDF、旧版 .doc、纯文本或无法识别的文件",
    ),
    Code(
        "F-UNSUPPORTED",
        ERROR,
        "文件",
        "xltool 不能读取的文件类型",
        "“{name}”{what}，xltool 无法读取，未校验；{hint}",
        note="旧版 .doc、WPS .wps/.et、.rtf（没有安装 LibreOffice 时；装有时先转换再读取）、图片、压缩包等",
    ),
    Code(
        "F-NOTE",
        WARNING,
        "文件",
        "说明文字，不是报表",
        "“{name}”是说明文字（{suffix}），不是报表，未读取；如果它就是报表，请在命令行中单独指定这个文件",
        note="文件夹中的 .txt、.md 文件按说明文字处理；在命令行中点名的才作为报表读取",
    ),
    Code(
        "F-SCANNED",
        ERROR,
        "文件",
        "扫描件，没有文字层",
        "“{name}”：扫描件，没有文字层：请提供 Word 或网页版本；{hint}",
        note="PDF 的各页都没有文字（扫描或拍照所得）：未安装 OCR 组件时其中的数字无法读取，也不去猜；"
        '装有 OCR 组件（pip install "xltool[ocr]"）时经识别读取，见“扫描件”一节',
    ),
    Code(
        "F-TOO-LARGE",
        ERROR,
        "文件",
        "文件或表格过大",
        "“{name}”{what}，超过上限 {limit}，未读取；{hint}",
        note="文件大小，或单元格分布范围、表格数、单元格数、读取所需的内存或时间超过上限",
    ),
    Code(
        "F-BOMB",
        ERROR,
        "文件",
        "疑似压缩炸弹",
        "“{name}”{what}，超过上限 {limit}，疑似压缩炸弹（恶意文件），未打开",
        note="压缩包部件数、解压后总大小或压缩比超过上限",
    ),
    Code(
        "F-XML-ENTITY",
        ERROR,
        "文件",
        "含有 XML 实体声明",
        "“{name}”：{what}（正常的文件没有），疑似恶意文件，未打开",
        note="DOCTYPE/ENTITY 声明，或根元素前藏有 2 KB 以上的其他内容",
    ),
    Code(
        "F-UNREADABLE",
        ERROR,
        "文件",
        "无法读取",
        "“{name}”无法读取（{reason}）；{hint}",
    ),
    Code(
        "F-NOT-TEMPLATE",
        ERROR,
        "文件",
        "不是 xltool 模板",
        "“{name}”不是 xltool 模板（没有模板标识），也没有找到统计表（表二、表三、表四的表头和行名）；"
        "请使用下发的模板填报",
    ),
    Code(
        "F-IDENT",
        ERROR,
        "文件",
        "模板标识已损坏或被改",
        "“{name}”的模板标识{problem}；请使用下发的模板重新填报",
    ),
    Code(
        "F-FORMAT",
        ERROR,
        "文件",
        "格式或模板版本不对",
        "“{name}”{what}；请使用下发的模板重新填报",
        note="未知的报表格式、2019 年试行格式，或另一版本模板的版式指纹",
    ),
    # ------------------------------------------------------------------ 版式: sheets and printed labels
    Code(
        "L-SHEET-MISSING",
        ERROR,
        "版式",
        "缺少工作表（被改名或删除）",
        "工作表“{sheet}”{what}；请改回原名，或使用下发的模板重新填报",
        variants=(Variant(WARNING, "封面", "缺少封面工作表“{sheet}”（可能被改名或删除）；填报人等信息无法读取"),),
    ),
    Code(
        "L-SHEET-HIDDEN",
        WARNING,
        "版式",
        "工作表被隐藏",
        "工作表“{sheet}”被隐藏；请取消隐藏（右键工作表标签 → 取消隐藏）",
    ),
    Code(
        "L-LABEL",
        ERROR,
        "版式",
        "表头或行名被改、行列被增删",
        "{sheet} {what}；请勿插入或删除行列、修改表头和行名，请使用下发的模板重新填报",
        note="整体错位（插入或删除了行列）时一张表只报一条",
    ),
    # ------------------------------------------------------------------ 数值: what was typed in an input cell
    Code(
        "V-TEXT-NUMBER",
        WARNING,
        "数值",
        "以文本保存的数字",
        _CELL + "填写了以文本形式保存的数字“{text}”，已按 {value} 读取；请改为数值格式的半角数字",
        example='以文本存储的 "3"',
        read_as="3",
    ),
    Code(
        "V-FULLWIDTH",
        WARNING,
        "数值",
        "全角数字",
        _CELL + "填写了全角数字“{text}”，已按 {value} 读取；请改为数值格式的半角数字",
        example='全角数字 "３"',
        read_as="3",
    ),
    Code(
        "V-THOUSANDS",
        WARNING,
        "数值",
        "带千位分隔符的数字",
        _CELL + "填写了带千位分隔符的文本数字“{text}”，已按 {value} 读取；请去掉逗号，以数值格式填写",
        example='"1,234"',
        read_as="1234",
    ),
    Code(
        "V-LETTER-O",
        WARNING,
        "数值",
        "用字母 O 代替 0",
        _CELL + "填写了字母或汉字“{text}”，已按数字 0 读取；请改为数字 0",
        example='单独的字母 "O"、"〇"（当作 0）',
        read_as="0",
        variants=(
            Variant(
                ERROR,
                "O 夹在数字中",
                _CELL + "填写了“{text}”，其中含字母 O；若为数字 0 请改为 0，只填数字",
                example='"1O"、"O3"',
                read_as="—",
            ),
        ),
    ),
    Code(
        "V-FORMULA",
        WARNING,
        "数值",
        "填报格中输入了公式",
        _CELL + "输入单元格内是公式 {formula}，已按其结果 {value} 读取；请直接填写数字",
        example="填报格中输入公式 =2+1",
        read_as="公式结果",
        variants=(
            Variant(
                ERROR,
                "没有数字结果",
                _CELL + "输入单元格内是公式 {formula}，没有可用的数字结果；请直接填写数字",
                example='没有结果的公式、文本 "=2+1"',
                read_as="—",
            ),
        ),
    ),
    Code(
        "V-BLANK",
        ERROR,
        "数值",
        "空白",
        _CELL + "单元格为空{what}；没有发生的事项应填 0，不能留空",
        example="空白（模板中空白从不当作 0；文档见 D-BLANK-AS-ZERO）",
        read_as="—",
    ),
    Code(
        "V-PLACEHOLDER",
        ERROR,
        "数值",
        "用符号或“无”代替 0",
        _CELL + "填写了“{text}”；没有发生的事项应填 0",
        example='"/"、"—"、"无"（应填 0）',
        read_as="—",
    ),
    Code(
        "V-TEXT",
        ERROR,
        "数值",
        "数字带文字或单位",
        _CELL + "填写了“{text}”；请只填数字（{hint}），不要带文字或单位",
        example='"3件"、"约3"',
        read_as="—",
    ),
    Code(
        "V-DECIMAL",
        ERROR,
        "数值",
        "件数不是整数",
        _CELL + "{kind}应为整数，填写了 {text}",
        example="件数填了 2.5",
        read_as="—",
    ),
    Code(
        "V-NEGATIVE",
        ERROR,
        "数值",
        "负数",
        _CELL + "填写了负数 {text}；应为 0 或正数",
        example="−3",
        read_as="—",
        note="本年增/减一栏（2019 年格式）可填负数",
    ),
    Code(
        "V-PRECISION",
        ERROR,
        "数值",
        "小数位或位数过多",
        _CELL + "数字 {text} {detail}",
        example="金额超过 6 位小数",
        read_as="—",
        note="金额最多 6 位小数（万元精确到分）；任何数字不超过 Excel 的 15 位有效数字",
    ),
    Code(
        "V-EXCEL-ERROR",
        ERROR,
        "数值",
        "Excel 错误值",
        _CELL + "单元格显示错误值 {error}；请删除公式或引用，直接填写数字",
        example="#REF!、#VALUE! 等",
        read_as="—",
    ),
    Code(
        "V-TYPE",
        ERROR,
        "数值",
        "不是数字（逻辑值、日期等）",
        _CELL + "单元格内是{what}；应填数字",
        example="TRUE/FALSE、日期",
        read_as="—",
    ),
    # ------------------------------------------------------------------ 名单: the batch against the roster
    Code(
        "R-MISSING",
        WARNING,
        "名单",
        "未报送",
        "名单中的单位 {unit_name}（{unit_code}）没有报送{when}报表",
    ),
    Code(
        "R-UNKNOWN",
        ERROR,
        "名单",
        "名单外的单位",
        "{who}不在报送单位名单中{detail}；{fix}",
        note="文档（网页、Word、PDF、单位自制的表格）没有单位代码，只按名称认定单位：名称与名单中某个单位的名称"
        "或别名（名单的 aliases 列）相同才算该单位（不计空格、全角半角，“人民政府”与“政府”视为相同，"
        "“××县人民政府”即“××县”），只是开头、结尾或简称相似的不算",
    ),
    Code(
        "R-NAME",
        WARNING,
        "名单",
        "单位名称与名单不符",
        "报表中的单位名称“{unit_name}”与名单中的“{roster_name}”（代码 {unit_code}）不一致；请核实是否用错了模板"
        "或单位代码，如只是同一单位的另一种写法，请在名单中该单位的别名（aliases）列写上“{unit_name}”",
    ),
    Code(
        "R-SELF",
        ERROR,
        "名单",
        "本级或上级单位的报表",
        "{who}是{relation}的报表，不是下级单位报送的，不能计入{self_name}（{self_code}）的汇总；"
        "请把它移出收件箱，或汇总时加 --exclude-invalid 将其排除",
        note="只在汇总（知道本级单位）时检查：单位代码或名称与本级单位相同，或层级不低于本级（县汇总时的县、市、省级单位）",
    ),
    Code(
        "R-DUPLICATE",
        ERROR,
        "名单",
        "同一单位报送了多份",
        "单位 {unit_name}（{unit_code}）的 {year} 年度报表有 {count} 份{same}：{files}；只能保留一份",
    ),
    # ------------------------------------------------------------------ 年度
    Code(
        "Y-YEAR",
        ERROR,
        "年度",
        "年度不符",
        "报表年度为 {year}，{which}；请确认是否报错了年度或用错了模板",
    ),
    Code(
        "Y-OLD-FORMAT",
        WARNING,
        "年度",
        "使用了已被取代的格式",
        "{year} 年度的报表使用了 {document} 的表格，该格式只适用到 {last_year} 年度{superseded}；"
        "请使用新格式的模板重新填报",
    ),
    # ------------------------------------------------------------------ 跨年度: last year's returns
    Code(
        "X-NO-PREVIOUS",
        WARNING,
        "跨年度",
        "没有上年数据，跨年度校验未做",
        "没有找到该单位{last}的报表，跨年度校验（{codes}）未做（提示）",
    ),
    Code(
        "X-PREV-YEAR",
        WARNING,
        "跨年度",
        "上年报表的年度不对",
        "上年报表的年度为 {year}，应为 {want}；未用于跨年度校验",
    ),
    Code(
        "X-PREV-FORMAT",
        WARNING,
        "跨年度",
        "上年报表的格式与本年不同",
        "上年报表的格式（{format}）与本年不同；未用于跨年度校验",
    ),
    Code(
        "X-PREV-UNREADABLE",
        WARNING,
        "跨年度",
        "上年报表无法使用",
        "上年报表无法使用，已忽略：{reason}",
    ),
    Code(
        "X-PREV-DUPLICATE",
        WARNING,
        "跨年度",
        "同一单位有多份上年报表",
        "单位 {unit_name}（{unit_code}）有多份上年报表；已使用 {used}",
    ),
    Code(
        "X-NAME",
        WARNING,
        "跨年度",
        "上年报表的单位名称与本年不同",
        "上年报表的单位名称“{previous_name}”与本年“{unit_name}”不同；已按同一单位做跨年度校验，请核实",
    ),
    Code(
        "X-CARRIED-CHANGED",
        ERROR,
        "跨年度",
        "带入的上年数据被改写",
        "{sheet} {cell}：{label} 是模板从上年数据（{source}）带入并锁定的 {carried}，现为 {found}："
        "工作表保护被取消后改写了此数；请改回 {carried}。上年数据确有错误时，请联系下发模板的单位更正上年数据后重新生成模板",
        note="只在用 `xltool template --previous` 生成、带入了上年数据的模板上核对",
    ),
    # ------------------------------------------------------------------ 跨年度: xltool compare (this year beside last year)
    Code(
        "X-LARGE-CHANGE",
        WARNING,
        "跨年度",
        "与上年相比变化很大",
        "{table} {label}：上年 {last}，本年 {this}，{how}；请核实是否填错",
        note="`xltool compare`：一方是另一方的 `--factor` 倍以上（默认 3 倍，两年都不为 0），或从 0 变为 20 以上、"
        "从 20 以上变为 0（金额按万元计）",
    ),
    Code(
        "X-ONLY-LAST",
        WARNING,
        "跨年度",
        "只有上年的报表",
        "单位 {who} 只有上年的报表（{file}），本年没有找到该单位的报表；未对比",
        note="`xltool compare` 对比两个文件夹时按单位代码（没有代码时按单位名称）配对",
    ),
    Code(
        "X-ONLY-THIS",
        WARNING,
        "跨年度",
        "只有本年的报表",
        "单位 {who} 只有本年的报表（{file}），上年没有找到该单位的报表；未对比",
    ),
    Code(
        "X-COMPARE-YEAR",
        WARNING,
        "跨年度",
        "对比的两份报表不是相邻的两年",
        "上年报表（{last_file}）为 {last_year} 年度，本年报表为 {this_year} 年度，不是相邻的两年；请核实是否选错了文件",
    ),
    Code(
        "X-COMPARE-SKIPPED",
        WARNING,
        "跨年度",
        "报表未用于对比",
        "{side}的“{name}”未用于对比：{reason}",
        note="`xltool compare`：文件无法读取、同一单位有多份报表等；每个文件都列出",
    ),
    # ------------------------------------------------------------------ 文档: reading a published report
    Code(
        "D-TABLE-MISSING",
        ERROR,
        "文档",
        "缺少统计表",
        "{document}中未找到{table}（{title}）{hidden}{hint}",
        note="读取文档时未找到某张表；一张统计表也没有找到时对整个文件报此代码，"
        "并说明另有几个隐藏的表格（网页中设为不显示的内容、Word 的隐藏文字）未读取",
    ),
    Code(
        "D-ROW-MISSING",
        ERROR,
        "文档",
        "表中缺少行",
        "{table}{what}，该行 {count} 个数未读取",
        note="未找到行；一行有两处同样匹配、某列下没有数据行时也报此代码",
    ),
    Code(
        "D-COLUMN-MISSING",
        ERROR,
        "文档",
        "表中缺少列",
        "{table}{what}，未读取{columns}",
        note="未找到列；表头缺少上级标题、无法确定各列属于哪一栏时也报此代码",
    ),
    Code(
        "D-ROW-EXTRA",
        WARNING,
        "文档",
        "多出格式之外的行",
        "{table}有一行“{label}”不是本表的项目，已忽略",
    ),
    Code(
        "D-COLUMN-EXTRA",
        WARNING,
        "文档",
        "多出格式之外的栏目",
        "{table}表头“{label}”不是本表的栏目，已忽略",
    ),
    Code(
        "D-LABEL-VARIANT",
        WARNING,
        "文档",
        "表头或行名与格式文字不同（相近，已按格式文字读取）",
        "{table}{axis}标签印作“{found}”，已按“{expected}”读取（{how}）；请核对",
    ),
    Code(
        "D-UNPLACED",
        ERROR,
        "文档",
        "数字不在法定单元格的位置",
        "{table}{where}有数字 {figures} 不在任何法定单元格的位置，未读取",
    ),
    Code(
        "D-T3-OTHER-ONE-ROW",
        WARNING,
        "文档",
        "（六）其他处理只印了一行",
        "{table}“{label}”印作一行，未分列其下 {count} 项；已将该行数字计入“{into}”，其余各项按 0 计",
    ),
    Code(
        "D-BLANK-AS-ZERO",
        WARNING,
        "文档",
        "空白按 0 读取",
        "{table}有 {count} 个法定单元格空白（如“{first}”），已按 0 读取；公开的报告常把 0 印成空白，"
        "如有空白不是 0，请核实",
        note="每张表一条；加 --strict-blanks 则每个空白单元格报 V-BLANK 错误。xltool 模板中的空白总是 V-BLANK",
    ),
    Code(
        "D-CONVERTED",
        WARNING,
        "文档",
        "已用 LibreOffice 转换后读取",
        "“{name}”{what}，已用 LibreOffice 转换为 {target} 后读取（原文件未改动）；请核对读出的数字，"
        "今后请另存为 {target} 报送",
    ),
    Code(
        "D-IDENTITY",
        ERROR,
        "文档",
        "无法从标题或文件名确定单位或年度",
        "“{name}”无法从标题或文件名确定{what}；{hint}",
    ),
    # ------------------------------------------------------------------ 文档: a scan read by OCR
    Code(
        "O-LOW-CONFIDENCE",
        WARNING,
        "文档",
        "扫描件中识别把握不大的数字",
        "{table} {cell}（{where}）：扫描件中识别为“{text}”，识别把握不大（置信度 {confidence}，低于 {threshold}）；"
        "请对照原件核对",
        note="扫描件经 OCR 识别后，每个数字都带有识别的置信度；低于阈值的每个单元格报一条",
    ),
    Code(
        "O-NOT-READ",
        WARNING,
        "文档",
        "扫描件中未能识别的数字",
        "{table} {cell}（{where}）：扫描件此处{read}，未读取（不去猜）；请对照原件核对",
        note="该单元格按未读取处理，涉及它的勾稽关系不核对",
    ),
    Code(
        "O-MISREAD",
        WARNING,
        "文档",
        "扫描件的勾稽关系不符：也可能是识别错误",
        "本报告是扫描件，由 OCR 识别：不符也可能是数字识别错误{cells}，请对照原件核对",
        note="不单独报告：附在扫描件的勾稽关系（T3-R1 等）不符的说明之后，指出它与另一条不符的勾稽关系相交的单元格（最可能识别有误），并列出其中识别把握不大的单元格",
    ),
    # ------------------------------------------------------------------ 正文: a report's text against its tables
    Code(
        "N-FIGURE",
        WARNING,
        "正文",
        "正文中的数字与表格不符",
        "正文{part}“{sentence}”中{what}为 {stated}，而{table}“{label}”（{where}）为 {shown}；请核对正文与表格",
        note="只核对能明确对应到本年度某个法定单元格的说法（如“新收政府信息公开申请23件”“办结20件”"
        "“予以公开和部分公开共258件”“被申请行政复议1件”“制发行政规范性文件2件”“行政事业性收费金额7730.28万元”）；"
        "说上年、其他年度或同比增减的句子不核对；“收到/受理申请 N 件”与“本年新收”或“本年新收+上年结转”之一相符即可",
    ),
    Code(
        "N-PART-MISSING",
        WARNING,
        "正文",
        "正文缺少必备部分",
        "“{name}”的正文中未找到第{number}部分“{section}”（找到的部分：{found}）；年度报告应包括全部六个部分",
        note="只对有正文的文档核对（找到至少 3 个部分标题，且一、五、六部分中至少两个有实际内容）；只有表格的文件和工作簿不核对。"
        "二、三、四部分是统计表，缺少时报 D-TABLE-MISSING",
    ),
    Code(
        "N-PART-EMPTY",
        WARNING,
        "正文",
        "“存在的主要问题及改进情况”没有实际内容",
        "正文第五部分“{heading}”{what}；应写明本年度工作存在的主要问题和改进措施",
    ),
    Code(
        "N-FEE-SILENT",
        WARNING,
        "正文",
        "第六部分未说明信息处理费",
        "正文第六部分“{heading}”没有提到信息处理费，而{table}“{label}”（{where}）为 {shown}（发出过收费通知）；"
        "请在第六部分写明本年度收取信息处理费的情况",
        note="表二的“行政事业性收费”是本机关的行政事业性收费，不是信息处理费，不据此核对",
    ),
)


# --------------------------------------------------------------------------- the rules of the formats


_KIND_MESSAGES = {
    # as xltool.rules.schema words a failed instance of each rule kind
    "equation": "{sheet} {lhs_ref} ≠ {rhs_ref}（{scope}：{lhs_label}={lhs}，{rhs_label}={rhs}，差 {diff}）",
    "sum": "{sheet} {scope}{label} {cell} 显示 {shown}，{parts_ref} 之和为 {computed}，差 {diff}{formula_note}",
    "zero_for_levels": "{sheet} {scope}：{values}（单位层级：{level}）。",
}


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _rule_codes() -> list[Code]:
    """The T*-* codes of the builtin definitions: the current format's wording, others' differences noted."""
    from xltool.definition import DEFAULT_FORMAT, builtin_formats

    formats = builtin_formats()
    ordered = [formats[DEFAULT_FORMAT], *(f for fid, f in formats.items() if fid != DEFAULT_FORMAT)]
    out: dict[str, Code] = {}
    for fmt in ordered:
        for rule in fmt.rules:
            if rule.code in out:
                continue
            notes = []
            if rule.cross_year:
                notes.append("需 `--previous` 给出上年报表")
            if rule.kind == "guidance":
                notes.append("算术上无法核对，写在填报说明中")
            for other in ordered:
                theirs = next((r for r in other.rules if r.code == rule.code), None)
                if theirs is None:
                    notes.append(f"{other.document}的格式没有此规则")
                elif theirs.description != rule.description:
                    notes.append(f"{other.document}的格式：{theirs.description}")
            if rule.kind == "zero_for_levels":  # the message ends with the rule's description
                template = _KIND_MESSAGES[rule.kind] + _escape(rule.description)
            else:  # a guidance rule is never reported: its description stands
                template = _KIND_MESSAGES.get(rule.kind, _escape(rule.description))
            out[rule.code] = Code(
                rule.code,
                rule.severity,
                "勾稽关系",
                rule.title,
                template,
                description=rule.description,
                note="；".join(notes),
                checked=rule.kind != "guidance",
            )
    return list(out.values())


@cache
def catalogue() -> tuple[Code, ...]:
    """Every code, in a stable order: by group (``GROUPS``), then as typed here or in the definition."""
    codes = [*CODES, *_rule_codes()]
    seen: set[str] = set()
    for c in codes:
        if c.code in seen:
            raise InternalError(f"finding code {c.code} is defined twice")
        if c.group not in GROUPS:
            raise InternalError(f"{c.code}: unknown group {c.group!r}")
        seen.add(c.code)
    return tuple(sorted(codes, key=lambda c: GROUPS.index(c.group)))


_TYPED = {c.code: c for c in CODES}


@cache
def _by_code() -> dict[str, Code]:
    return {c.code: c for c in catalogue()}


def get(code: str) -> Code:
    """The entry of ``code``; KeyError for a code xltool never reports. Codes typed here are found
    without loading the definitions (an emission site pays nothing for the T*-* rules)."""
    try:
        return _TYPED[code] if code in _TYPED else _by_code()[code]
    except KeyError:
        raise UnknownCode(f"unknown finding code {code!r}") from None


def group_of(code: str) -> str:
    """The group of ``code`` (one of ``GROUPS``); "" for a code the catalogue does not know (a rule of a
    format loaded from a file, a row of an edited workbook)."""
    try:
        return get(code).group
    except KeyError:
        return ""


def is_layout(code: str) -> bool:
    """Whether an error of ``code`` leaves a file's figures unusable (its group is 文件 or 版式)."""
    return group_of(code) in LAYOUT_GROUPS


def message(code: str, /, *, severity: str | None = None, **fields: Any) -> str:
    """The Chinese message of ``code`` with ``fields`` filled in.

    KeyError for an unknown code. A field missing or not in the template is a programming error
    (TypeError, like a wrong keyword argument), so a typo at an emission site fails its tests."""
    entry = get(code)
    names = entry.fields(severity)
    missing, extra = names - fields.keys(), fields.keys() - names
    if missing or extra:
        raise MessageFieldsError(
            f"message({code!r}): missing {sorted(missing)}, unexpected {sorted(extra)}; template has {sorted(names)}"
        )
    return entry.template(severity).format(**fields)


def finding_fields(code: str, /, *, severity: str | None = None, **fields: Any) -> tuple[str, str]:
    """``(severity, message)`` of a finding of ``code``: the catalogue's severity (``severity`` picks a
    variant) and its message, so an emission site types neither."""
    return severity or get(code).severity, message(code, severity=severity, **fields)


def cell_message(code: str, /, *, severity: str | None = None, **fields: Any) -> str:
    """``message`` without the leading ``{sheet} {cell}：`` of a value's template: what
    ``xltool.values`` says of a cell before the reader knows where the cell is (it puts the sheet and
    cell before it)."""
    entry = get(code)
    template = entry.template(severity)
    if not template.startswith(_CELL):
        raise InvalidArgument(f"{code}'s template does not start with the sheet and cell")
    template = template[len(_CELL) :]
    names = frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)
    missing, extra = names - fields.keys(), fields.keys() - names
    if missing or extra:
        raise MessageFieldsError(
            f"cell_message({code!r}): missing {sorted(missing)}, unexpected {sorted(extra)}; template has {sorted(names)}"
        )
    return template.format(**fields)


# --------------------------------------------------------------------------- README tables


README = Path(__file__).resolve().parents[1] / "README.md"
REGENERATE = "python -m xltool.catalogue --write-readme"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _row(*cells: str) -> str:
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _rules_table() -> str:
    lines = [_row("代码", "规则", "说明", "级别"), "|---|---|---|---|"]
    for c in catalogue():
        if c.group == "勾稽关系":
            lines.append(_row(c.code, c.title, c.description + (f"。{c.note}" if c.note else ""), c.severity_zh()))
    return "\n".join(lines)


def _values_table() -> str:
    lines = [_row("代码", "填写的内容（例）", "级别", "读作"), "|---|---|---|---|"]
    lines.append(_row("—", "3、3.0（件数）、1.2345（金额）", "—", "该数"))
    for c in catalogue():
        if c.group == "数值":
            lines.append(_row(c.code, c.example, SEVERITY_ZH[c.severity], c.read_as))
            for v in c.variants:
                lines.append(_row(c.code, v.example, SEVERITY_ZH[v.severity], v.read_as))
    return "\n".join(lines)


def _all_table() -> str:
    lines = [_row("代码", "级别", "类别", "标题"), "|---|---|---|---|"]
    for c in catalogue():
        lines.append(_row(c.code, c.severity_zh(), c.group, c.title))
    return "\n".join(lines)


def readme_tables() -> dict[str, str]:
    """The README's code tables in markdown, by marker name (``<!-- codes:NAME:begin -->``)."""
    return {"rules": _rules_table(), "values": _values_table(), "all": _all_table()}


def _block(name: str, table: str) -> str:
    return f"<!-- codes:{name}:begin -->\n{table}\n<!-- codes:{name}:end -->"


def update_readme(text: str) -> str:
    """``text`` with every code table replaced by its generated version; ValueError if a marker is missing."""
    for name, table in readme_tables().items():
        pattern = re.compile(rf"<!-- codes:{name}:begin -->\n.*?<!-- codes:{name}:end -->", re.S)
        if len(pattern.findall(text)) != 1:
            raise InternalError(f"README: expected one <!-- codes:{name}:begin --> … <!-- codes:{name}:end --> block")
        block = _block(name, table)
        text = pattern.sub(block.replace("\\", "\\\\"), text)  # the block is literal text, not a pattern
    return text


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--readme"]:
        print("\n\n".join(_block(name, table) for name, table in readme_tables().items()))
        return 0
    if args == ["--write-readme"]:
        text = README.read_text(encoding="utf-8")
        new = update_readme(text)
        if new != text:
            README.write_text(new, encoding="utf-8")
        print(f"{README}: {'updated' if new != text else 'up to date'}")
        return 0
    print("usage: python -m xltool.catalogue --readme | --write-readme", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
