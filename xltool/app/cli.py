"""The command line: thin commands over library functions. Messages are Chinese.

Exit codes: 0 all valid (warnings allowed), 1 errors found in the returns, 2 the command could
not run (bad arguments, unreadable roster, nothing to read).
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

import click

from xltool import __version__
from xltool.errors import XltoolError
from xltool.write.files import exists_error  # light (no workbook library): the test of raises sees it

if TYPE_CHECKING:
    from collections.abc import Sequence

    from xltool.definition import Format
    from xltool.model import LastYear, Unit
    from xltool.read.from_document import ReadOptions

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def fail(message: str, code: int = EXIT_USAGE) -> None:
    """Print 错误：… on stderr and exit; never a traceback."""
    click.echo(f"错误：{message}", err=True)
    sys.exit(code)


def interrupted() -> None:
    """Say 已中断 and exit 130. An interrupt can land inside a library's constructor (a ZipFile half
    made), whose clean-up then fails as the process ends and Python prints that "exception ignored"
    with a traceback: after an interrupt that is noise to a clerk, so it is not printed."""
    sys.unraisablehook = lambda _unraisable: None
    fail("已中断", 130)


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn xltool's own exceptions into one clean line and exit code 2."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except XltoolError as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            interrupted()

    return wrapper


def terminate_as_interrupt() -> None:
    """SIGTERM (``kill``, a service stopping) raised in this process as Ctrl-C is: the write under way
    removes its temporary file, and the command says 已中断 (exit 130). A process forked from this one
    (a reader) still dies of SIGTERM at once."""
    import os
    import signal

    main_pid = os.getpid()

    def interrupt(signum: int, _frame: object) -> None:
        if os.getpid() != main_pid:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        sys.unraisablehook = lambda _unraisable: None  # see ``interrupted``: the run is ending
        raise KeyboardInterrupt

    for name in ("SIGTERM", "SIGBREAK"):  # SIGBREAK: Ctrl-Break in a Windows console
        if hasattr(signal, name):
            try:
                signal.signal(getattr(signal, name), interrupt)
            except ValueError:  # not the main thread (the command run from a test's thread)
                return


def document_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """How documents (web pages, Word files, sheets a unit made itself) are read: the same options on
    every command that reads returns."""
    fn = click.option(
        "--unit-name", "doc_unit_name", help="只给一个文件时：单位名称（文件的标题和文件名中没有单位名称时使用）。"
    )(fn)
    fn = click.option(
        "--unit-code", "doc_unit_code", help="只给一个文件时：单位代码（网页、Word 等文档中没有单位代码）。"
    )(fn)
    return blank_options(fn)


def blank_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """How a blank cell of a document is read: 0 with one warning per table, or with --strict-blanks an
    error each. --blank-as-zero, the old way to ask for 0, is still accepted and changes nothing."""
    fn = click.option(
        "--blank-as-zero",
        is_flag=True,
        expose_value=False,
        help="已是默认，保留以兼容旧脚本：文档中的空白单元格按 0 读取，每张表一条警告。",
    )(fn)
    fn = click.option(
        "--strict-blanks",
        is_flag=True,
        help="文档（网页、Word、PDF、单位自制的表格）中的空白单元格按错误（V-BLANK）逐格报告，"
        "不按 0 读取。xltool 模板中的空白总是错误。",
    )(fn)
    return fn


def read_options(
    paths: Sequence[str], strict_blanks: bool, unit_code: str | None, unit_name: str | None, year: int | None
) -> ReadOptions:
    """The ReadOptions of a command: --unit-code/--unit-name (and --year) name the unit of ONE file."""
    from pathlib import Path

    from xltool.errors import UsageError
    from xltool.read.from_document import ReadOptions

    if (unit_code or unit_name) and (len(paths) != 1 or Path(paths[0]).is_dir()):
        raise UsageError("--unit-code、--unit-name 只能用于单个文件（文档中没有单位代码或名称时指明）")
    single = len(paths) == 1 and not Path(paths[0]).is_dir()
    return ReadOptions(
        strict_blanks=strict_blanks,
        unit_code=(unit_code or "").strip(),
        unit_name=(unit_name or "").strip(),
        year=year if single else None,
    )


ARGUMENT_NAMES = {"paths": "路径", "folder": "文件夹", "last": "上年", "this": "本年"}
"""The Chinese names of the commands' arguments: in the usage line of --help and in messages."""


def param_name(param: click.Parameter | None) -> str:
    """How a message names a parameter: an option by its name (--out), an argument in Chinese."""
    if param is None:
        return "参数"
    if isinstance(param, click.Option) and param.opts:
        return max(param.opts, key=len)
    return ARGUMENT_NAMES.get(param.name or "", "参数")


def usage_message(exc: click.UsageError) -> str:
    """click's own usage errors, said in Chinese: never click's English text."""
    from click.exceptions import BadOptionUsage, BadParameter, MissingParameter, NoSuchOption

    if isinstance(exc, NoSuchOption):
        hint = f"（是不是 {'、'.join(exc.possibilities)}？）" if exc.possibilities else ""
        return f"没有选项 {exc.option_name}{hint}"
    if isinstance(exc, MissingParameter):
        if isinstance(exc.param, click.Argument):
            return f"缺少{param_name(exc.param)}"
        return f"缺少选项 {param_name(exc.param)}"
    if isinstance(exc, BadOptionUsage):
        option = _option_named(exc.ctx, exc.option_name)
        if option is not None and option.is_flag:
            return f"选项 {exc.option_name} 不带值"
        return f"选项 {exc.option_name} 后面缺少值"
    if isinstance(exc, BadParameter):
        # the message is one of ChineseType's (every parameter's type is one); click's own is not said
        param = exc.param
        chinese = param is not None and isinstance(param.type, ChineseType)
        said = exc.message if chinese else "无效"
        subject = "路径" if param is not None and isinstance(param.type, PathOf) else "值"
        if isinstance(param, click.Option):
            subject = f"选项 {param_name(param)} 的{subject}"
        return subject + said
    if isinstance(exc, ChineseUsage):
        return exc.message
    return "命令行有误"


def _option_named(ctx: click.Context | None, name: str) -> click.Option | None:
    for param in ctx.command.params if ctx else ():
        if isinstance(param, click.Option) and name in (*param.opts, *param.secondary_opts):
            return param
    return None


class ChineseUsage(click.UsageError, XltoolError):
    """A usage error this module words in Chinese (click's own are reworded by ``usage_message``)."""


class ChineseType(click.ParamType[Any]):
    """A parameter type whose complaints are Chinese predicates (应为整数，收到 abc): ``usage_message``
    puts the subject before them (选项 --jobs 的值)."""


class WholeNumber(ChineseType):
    """An integer from ``low`` to ``high`` (click.IntRange, said in Chinese)."""

    name = "integer"

    def __init__(self, low: int, high: int):
        self.low, self.high = low, high

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return f"{self.low}-{self.high}"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            try:
                number = int(str(value).strip())
            except ValueError:
                self.fail(f"应为整数，收到 {value}", param, ctx)
        if not self.low <= number <= self.high:
            self.fail(f"应在 {self.low} 到 {self.high} 之间，收到 {number}", param, ctx)
        return number


class OneOf(ChineseType):
    """One of the words ``choices`` (click.Choice, said in Chinese)."""

    name = "choice"

    def __init__(self, *choices: str):
        self.choices = choices

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return f"[{'|'.join(self.choices)}]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if str(value) not in self.choices:
            self.fail(f"应为 {'、'.join(self.choices)} 之一，收到 {value}", param, ctx)
        return str(value)


class PathOf(ChineseType):
    """A path (click.Path, said in Chinese): ``exists`` when it must exist; ``file_okay`` or
    ``dir_okay`` False when it must not be a file or a folder."""

    name = "path"

    def __init__(self, exists: bool = False, file_okay: bool = True, dir_okay: bool = True):
        self.exists, self.file_okay, self.dir_okay = exists, file_okay, dir_okay

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        if isinstance(param, click.Argument):  # the usage line: 路径...
            return ARGUMENT_NAMES.get(param.name or "", "路径")
        return "DIR" if not self.file_okay else "FILE" if not self.dir_okay else "PATH"  # aligned in --help

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        import os

        text = os.fspath(value) if isinstance(value, os.PathLike) else str(value)
        if not text.strip():
            self.fail("不能为空", param, ctx)
        try:
            is_dir, there = os.path.isdir(text), os.path.lexists(text)
        except (OSError, ValueError):
            self.fail(f"不是有效的路径：{text}", param, ctx)
        if self.exists and not there:
            self.fail(f"不存在：{text}", param, ctx)
        if there and is_dir and not self.dir_okay:
            self.fail(f"应为文件，不是文件夹：{text}", param, ctx)
        if there and not is_dir and not self.file_okay:
            self.fail(f"应为文件夹，不是文件：{text}", param, ctx)
        return text


_WIDE = re.compile(r"[\u2e80-\u9fff\u3000-\u303f\uff00-\uffef“”‘’…—]")


def chinese_paragraphs(text: str) -> list[list[str]]:
    """A docstring's paragraphs as the lines to print. click rewraps a paragraph by joining its lines
    with spaces and breaking at spaces and hyphens, which puts stray spaces into Chinese and splits
    option names (--exclude-/invalid); here a line break between Chinese characters joins without a
    space, and a paragraph marked with \\b keeps its lines as written."""
    out: list[list[str]] = []
    for block in inspect.cleandoc(text).split("\n\n"):
        lines = block.splitlines()
        if lines and lines[0].strip() == "\b":
            out.append(lines[1:])
            continue
        joined = ""
        for line in (x.strip() for x in lines):
            if joined and not (_WIDE.match(joined[-1]) or _WIDE.match(line[:1])):
                joined += " "
            joined += line
        out.append([joined])
    return out


class ChineseCommand(click.Command):
    """A command whose Chinese help is printed as written: paragraphs not rewrapped by click; an
    extra argument said in Chinese."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        allowed, ctx.allow_extra_args = ctx.allow_extra_args, True
        try:
            rest = super().parse_args(ctx, args)
        except click.UsageError as exc:
            exc.ctx = exc.ctx or ctx  # the parser's own errors come without it: the option is looked up in it
            raise
        finally:
            ctx.allow_extra_args = allowed
        if rest and not allowed and not ctx.resilient_parsing:
            raise ChineseUsage(f"多余的参数：{' '.join(rest)}", ctx)
        return rest

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        if not self.help:
            return
        formatter.write_paragraph()
        with formatter.indentation():
            for i, lines in enumerate(chinese_paragraphs(self.help)):
                if i:
                    formatter.write("\n")
                for line in lines:
                    formatter.write(f"{'':>{formatter.current_indent}}{line}\n")


class ChineseGroup(click.Group):
    """The command group, with click's usage errors turned into one Chinese line and exit code 2."""

    command_class = ChineseCommand

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            known = "、".join(self.list_commands(ctx))
            raise ChineseUsage(f"没有命令 {name}（可用的命令：{known}）", ctx)
        return super().resolve_command(ctx, args)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        terminate_as_interrupt()
        try:
            return super().main(*args, **kwargs)
        except click.UsageError as exc:
            command = exc.ctx.command_path if exc.ctx else "xltool"
            click.echo(f"错误：{usage_message(exc)}。用 {command} --help 查看用法。", err=True)
            sys.exit(EXIT_USAGE)
        except click.ClickException:
            fail("命令行有误")
        except click.exceptions.Abort:
            interrupted()


@click.group(cls=ChineseGroup, context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name="xltool", message="%(prog)s %(version)s")
def main() -> None:
    """xltool：政府信息公开工作年度报告统计表的模板、校验与汇总（国办公开办函〔2021〕30号）。

    \b
    一年的流程：
      xltool template     生成各单位的填报模板（已锁定，含公式和勾稽校验）
      xltool validate     校验各单位报回的工作簿，指出错误所在单元格
      xltool consolidate  汇总有效报表，生成本级汇总工作簿（可继续上报汇总）
      xltool publish      把校验通过的报表生成可公开的年度报告（网页、Word）
      xltool compare      本年与上年逐格对比：变化、跨年度规则、变化很大的数、正文的变化
      xltool demo         用自带样例演示完整流程
      xltool serve        在浏览器中完成以上各步（本机网页，不用命令行）
    """


# Commands are registered below, each in a few lines over a library function.


@main.command("consolidate", context_settings=CONTEXT)
@click.argument("paths", nargs=-1, type=PathOf())
@click.option("--out", "out", type=PathOf(dir_okay=False), help="汇总工作簿的保存路径（.xlsx）。")
@click.option("--unit-code", help="本级单位代码，如 230723。")
@click.option("--unit-name", help="本级单位名称，如 汤旺县。")
@click.option("--level", default="县", show_default=True, help="本级层级：县、区、县级市、市、省 等。")
@click.option("--roster", type=PathOf(dir_okay=False), help="报送单位名单（CSV 或 .xlsx）：列出未报送的单位。")
@click.option("--previous", multiple=True, type=PathOf(), help="上年度的报表或汇总表，用于跨年度校验；可多次给出。")
@click.option("--exclude-invalid", is_flag=True, help="排除有错误的报表，只汇总有效报表（被排除的文件会列出）。")
@click.option(
    "--use", "use", multiple=True, type=PathOf(), help="同一单位有多份报表时，指定以哪个文件为准；可多次给出。"
)
@click.option("--year", type=WholeNumber(2000, 2100), help="只接受该年度的报表。")
@click.option("--password", default=None, help="汇总表的工作表保护密码（默认与模板相同）。")
@click.option("--jobs", type=WholeNumber(1, 64), default=1, show_default=True, help="并行读取的进程数。")
@click.option("--overwrite", is_flag=True, help="--out 的文件已存在时替换它（不加时不覆盖，退出代码 2）。")
@blank_options
@handle_errors
def consolidate_command(
    paths: tuple[str, ...],
    out: str | None,
    unit_code: str | None,
    unit_name: str | None,
    level: str,
    roster: str | None,
    previous: tuple[str, ...],
    exclude_invalid: bool,
    use: tuple[str, ...],
    year: int | None,
    password: str | None,
    jobs: int,
    overwrite: bool,
    strict_blanks: bool,
) -> None:
    """汇总各单位的有效报表，生成本级汇总工作簿。

    先用与 validate 相同的规则校验全部输入；有错误时不生成任何文件并退出（代码 1），
    除非加 --exclude-invalid。汇总表本身就是合格的报表，可以继续上报汇总（县 → 市 → 省）。
    --out 的文件已存在时不覆盖（退出代码 2），除非加 --overwrite。

    \b
    例：
      xltool consolidate 报回 --out 汤旺县2024汇总.xlsx --unit-code 230723 --unit-name 汤旺县 --roster 名单.csv
    """
    from rich.console import Console
    from rich.markup import escape

    from xltool.errors import ConsolidationRefused, UsageError
    from xltool.model import Unit
    from xltool.read.from_document import ReadOptions
    from xltool.roster import read_roster
    from xltool.write.consolidation import consolidate
    from xltool.write.files import claim_output

    if not paths:
        raise UsageError("请给出要汇总的报表文件或文件夹")
    needed = {"--out": out, "--unit-code": unit_code, "--unit-name": unit_name}
    missing = [name for name, value in needed.items() if not (value or "").strip()]
    if missing:
        raise UsageError(f"缺少 {'、'.join(missing)}（汇总表的保存路径、本级单位代码和名称）")
    assert out is not None and unit_code is not None and unit_name is not None  # none missing
    # before reading anything (the roster too): never an input, never replaced unasked
    claim_output(out, inputs=[*paths, *([roster] if roster else []), *previous, *use], overwrite=overwrite)
    units = read_roster(roster) if roster else None
    console = Console(highlight=False, soft_wrap=True)  # a long path is not broken across lines
    try:
        result = consolidate(
            paths,
            out,
            Unit(unit_code.strip(), unit_name.strip(), level),
            roster=units,
            previous=list(previous),
            exclude_invalid=exclude_invalid,
            use=use,
            year=year,
            password=password,
            jobs=jobs,
            options=ReadOptions(strict_blanks=strict_blanks),
            overwrite=overwrite,
            inputs=[roster] if roster else [],
        )
    except ConsolidationRefused as exc:
        click.echo(f"未汇总：{exc}", err=True)
        sys.exit(EXIT_FINDINGS)
    # file names, unit names and messages are the user's text: never rich markup
    console.print(f"[bold green]已生成汇总表[/]：{escape(str(result.out))}")
    if result.replaced:
        console.print(f"  [yellow]已替换原有的文件[/]：{escape(str(result.out))}")
    console.print(
        escape(
            f"  {result.unit.name}（{result.unit.code}）{result.year} 年度，汇总 {len(result.included)} 个单位的报表。"
        )
    )
    for s in result.excluded:
        console.print(f"  [yellow]未汇总[/]：{escape(f'{s.file}（{s.reason}）')}")
    if result.missing:
        console.print(
            f"  [yellow]名单中未报送[/]：{escape('、'.join(f'{u.name}（{u.code}）' for u in result.missing))}"
        )
    for w in result.warnings:
        console.print(f"  [yellow]注意[/]：{escape(w)}")


@main.command("template", context_settings=CONTEXT)
@click.option(
    "--roster",
    type=PathOf(),
    help="单位名单（CSV 或 .xlsx，列：代码、名称、层级），为名单中每个单位生成一个模板。",
)
@click.option("--unit-code", help="只生成一个单位的模板时：单位代码。")
@click.option("--unit-name", help="只生成一个单位的模板时：单位名称。")
@click.option("--level", help="只生成一个单位的模板时：单位层级，如 乡镇、街道、部门、县。")
@click.option("--year", "year_text", help="报告年度，如 2024。")
@click.option("--out", "out_text", type=PathOf(), help="保存位置：用名单时为文件夹；单个单位时为 .xlsx 文件。")
@click.option("--password", default=None, help="工作表保护密码（默认 xltool）。保护只防误改，不是保密措施。")
@click.option("--format-id", default=None, help="报表格式编号（默认为国办公开办函〔2021〕30号的格式）。")
@click.option(
    "--previous",
    multiple=True,
    type=PathOf(exists=True),
    help="上年度的汇总表、报表或已公开的报告（文件或文件夹，可多次给出）：在模板中带入各单位上年的“结转下年度继续办理”"
    "作为本年“上年结转”并锁定，表二旁列出上年现行有效件数供核对。",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="替换已有的同名模板（不加时：单个单位的 --out 已存在则不覆盖，退出代码 2；按名单生成时新文件名加“ (2)”）。",
)
@handle_errors
def template_command(
    roster: str | None,
    unit_code: str | None,
    unit_name: str | None,
    level: str | None,
    year_text: str | None,
    out_text: str | None,
    password: str | None,
    format_id: str | None,
    previous: tuple[str, ...],
    overwrite: bool,
) -> None:
    """生成填报模板：每个单位一个已锁定的工作簿。

    浅黄色单元格为填报项（已预填 0），合计由公式计算，勾稽关系实时显示“正确”或“不符”。

    \b
    按名单生成（每个单位一个文件）：
      xltool template --roster 名单.csv --year 2024 --out 模板
    只生成一个单位：
      xltool template --unit-code 230723101 --unit-name 乌伊岭镇 --level 乡镇 --year 2024 --out 乌伊岭镇.xlsx
    带入上年数据（上年结转已填好并锁定）：
      xltool template --roster 名单.csv --year 2024 --out 模板 --previous 2023年度汇总.xlsx
    """
    from pathlib import Path

    from xltool.definition import DEFAULT_FORMAT, get_format
    from xltool.errors import UsageError
    from xltool.model import Unit
    from xltool.roster import read_roster
    from xltool.write.files import claim_output, output_folder
    from xltool.write.template import DEFAULT_PASSWORD, write_template, write_templates

    single = {"--unit-code": unit_code, "--unit-name": unit_name, "--level": level}
    given = [name for name, value in single.items() if value is not None]
    if roster and given:
        raise UsageError(f"--roster 不能与 {'、'.join(given)} 同时使用：按名单生成，或只生成一个单位，二选一")
    if not roster and not given:
        raise UsageError("请给出 --roster 名单，或给出 --unit-code、--unit-name、--level 生成单个单位的模板")
    if not out_text:
        raise UsageError("缺少 --out：用名单时为保存模板的文件夹，单个单位时为 .xlsx 文件")
    if not year_text:
        raise UsageError("缺少 --year（报告年度，如 2024）")
    if not year_text.strip().isdigit() or not 2000 <= int(year_text) <= 2100:
        raise UsageError(f"--year 应为四位数的报告年度，如 2024（收到：{year_text!r}）")
    year, out = int(year_text), Path(out_text)
    fmt = get_format(format_id or DEFAULT_FORMAT)
    password = DEFAULT_PASSWORD if password is None else password
    protection = f"工作表保护密码：{password}（只防误改）" if password else "工作表已保护，无密码"
    if roster:
        if out.suffix.lower() == ".xlsx":
            raise UsageError(f"用名单生成时 --out 应为文件夹，不是 .xlsx 文件：{out}")
        output_folder(out, previous, "模板")
        units = read_roster(roster)
        last_year = _read_last_year(previous, fmt, year, units)
        paths = write_templates(
            fmt, units, year, out, password, previous=last_year, existing="replace" if overwrite else "rename"
        )
        click.echo(f"已生成 {len(paths)} 个单位的 {year} 年度模板（{fmt.document}），保存在：{out}")
        for path in paths[:20]:
            click.echo(f"  {path.name}")
        if overwrite and paths.replaced:
            click.echo(f"  已替换原有的 {len(paths.replaced)} 个同名文件")
        if len(paths) > 20:
            click.echo(f"  ……另有 {len(paths) - 20} 个文件")
        if previous:
            _say_carried(paths.carried, paths.without_previous, year)
    else:
        missing = [name for name, value in single.items() if not (value or "").strip()]
        if missing:
            raise UsageError(f"生成单个单位的模板还需要 {'、'.join(missing)}")
        assert unit_code is not None and unit_name is not None and level is not None  # none missing
        if out.suffix.lower() != ".xlsx" or out.is_dir():
            raise UsageError(f"只生成一个单位时 --out 应为 .xlsx 文件路径：{out}")
        claim_output(out, inputs=previous, overwrite=overwrite)
        replaced = out.is_file()
        unit = Unit(unit_code.strip(), unit_name.strip(), level)
        last = _read_last_year(previous, fmt, year, [unit]).get(unit.code)
        path = write_template(fmt, unit, year, out, password, carried=last, overwrite=overwrite)
        click.echo(f"已生成 {unit_name.strip()}（{unit_code.strip()}）的 {year} 年度模板：{path}")
        if replaced:
            click.echo(f"  已替换原有的文件：{path}")
        if previous:
            _say_carried([unit] if last else [], [] if last else [unit], year)
    click.echo(protection)


def _read_last_year(previous: Sequence[str], fmt: Format, year: int, units: Sequence[Unit]) -> dict[str, LastYear]:
    """Last year's figures by unit code for ``template --previous``; what reading them found, as warnings."""
    if not previous:
        return {}
    from xltool.previous import read_last_year

    found, findings = read_last_year(previous, fmt, year, units)
    for f in findings:
        click.echo(f"警告：{f.file}：{f.message}（{f.rule}）", err=True)
    return found


def _say_carried(carried: Sequence[Unit], without: Sequence[Unit], year: int) -> None:
    """Which templates carry last year's figures, and the units that had none (ordinary templates)."""
    click.echo(f"{len(carried)} 个模板已带入 {year - 1} 年度数据（上年结转已填好并锁定）")
    if without:
        click.echo(f"以下 {len(without)} 个单位没有 {year - 1} 年度数据，模板未带入上年数据：")
        for unit in without:
            click.echo(f"  {unit.code} {unit.name}")


@main.command("validate", context_settings=CONTEXT)
@click.argument("paths", nargs=-1, required=True, type=PathOf())
@click.option(
    "--roster",
    type=PathOf(dir_okay=False),
    help="报送单位名单（CSV 或 .xlsx）：核对未报送、名单外和重复报送的单位。",
)
@click.option(
    "--previous",
    multiple=True,
    type=PathOf(),
    help="上年度的报表或汇总表（文件或文件夹），用于跨年度校验；可多次给出。",
)
@click.option(
    "--year", type=WholeNumber(2000, 2100), help="报告年度；年度不同的报表按错误处理（默认取多数报表的年度）。"
)
@click.option(
    "--format",
    "output",
    type=OneOf("table", "json"),
    default="table",
    show_default=True,
    help="结果的输出形式。",
)
@click.option(
    "--report",
    "report_path",
    type=PathOf(dir_okay=False),
    help="另存校验报告：.xlsx 工作簿（单位汇总、问题清单），或 .json。",
)
@click.option(
    "--annotate",
    "annotate_dir",
    type=PathOf(file_okay=False),
    help="为有问题的报表生成批注副本（标出单元格并附说明），保存到该文件夹。",
)
@click.option("--jobs", type=WholeNumber(1, 64), default=1, show_default=True, help="并行读取的进程数。")
@click.option("--overwrite", is_flag=True, help="--report 的文件已存在时替换它（不加时不覆盖，退出代码 2）。")
@document_options
@handle_errors
def validate_command(
    paths: tuple[str, ...],
    roster: str | None,
    previous: tuple[str, ...],
    year: int | None,
    output: str,
    report_path: str | None,
    annotate_dir: str | None,
    jobs: int,
    overwrite: bool,
    strict_blanks: bool,
    doc_unit_code: str | None,
    doc_unit_name: str | None,
) -> None:
    """校验各单位报回的工作簿，指出每个问题所在的工作表和单元格。

    路径可以是文件或文件夹（含子文件夹）。退出代码：0 全部通过（允许有警告），
    1 有错误，2 无法运行（参数错误、找不到工作簿）。

    \b
    例：
      xltool validate 报回 --roster 名单.csv --previous 2023汇总.xlsx --report 校验报告.xlsx
      xltool validate 报回 --format json > 结果.json
    """
    from pathlib import Path

    from rich.console import Console

    from xltool.errors import UsageError, os_reason
    from xltool.roster import read_roster
    from xltool.validate import validate_paths
    from xltool.write.files import atomic_write, claim_output, file_key, output_folder
    from xltool.write.report import ReadProgress, print_report, report_to_json, write_report_workbook

    replaced = False
    if report_path:
        given = [*paths, *([roster] if roster else []), *previous]
        claim_output(report_path, inputs=given, overwrite=overwrite, option="--report")
        replaced = Path(report_path).is_file()
    if annotate_dir:
        output_folder(annotate_dir, [*paths, *previous], "批注副本", option="--annotate")
    units = read_roster(roster) if roster else None
    options = read_options(paths, strict_blanks, doc_unit_code, doc_unit_name, year)
    with ReadProgress() as progress:
        validation = validate_paths(
            paths, roster=units, previous=list(previous), year=year, progress=progress, jobs=jobs, options=options
        )
    report = validation.report
    inputs = {file_key(r.path) for r in validation.records}
    if report_path and file_key(report_path) in inputs:
        raise UsageError(f"报告文件不能是输入文件之一：{report_path}")
    # in JSON mode stdout carries the JSON only; notes go to stderr
    notes = Console(stderr=output == "json", highlight=False)
    if output == "json":
        click.echo(report_to_json(report))
    else:
        print_report(report, Console(highlight=False))
    if report_path:
        if report_path.lower().endswith(".json"):
            try:
                text = report_to_json(report) + "\n"
                atomic_write(report_path, lambda tmp: tmp.write_text(text, encoding="utf-8"), exclusive=not overwrite)
            except FileExistsError:
                raise exists_error(report_path) from None
            except OSError as exc:
                raise UsageError(f"{report_path}: 无法写入：{os_reason(exc)}") from None
        else:
            write_report_workbook(report, report_path, overwrite=overwrite)
        notes.print(f"校验报告已保存：{report_path}", markup=False)
        if replaced:
            notes.print(f"  已替换原有的文件：{report_path}", markup=False)
    if annotate_dir:
        from xltool.write.annotate import annotate

        written = annotate(report, validation.records, annotate_dir)
        notes.print(f"已生成 {len(written)} 个批注副本，保存在：{annotate_dir}", markup=False)
        for file, why in written.skipped.items():
            notes.print(f"  未生成批注副本：{file}（{why}）", markup=False)
    sys.exit(EXIT_OK if report.valid else EXIT_FINDINGS)


@main.command("demo", context_settings=CONTEXT)
@click.argument("folder", required=False, type=PathOf(file_okay=False))
@handle_errors
def demo_command(folder: str | None) -> None:
    """用自带的样例数据（汤旺县、嘉荫县，2024 年度）演示一年的完整流程。

    下发模板 → 收集 → 校验 → 退回修改 → 汇总 → 上报（伊春市）。结果写入给出的新文件夹
    （默认在当前文件夹下新建“xltool-演示”），不会覆盖任何已有文件。
    """
    from xltool.app.demo import run_demo

    run_demo(folder, say=click.echo)


@main.command("serve", context_settings=CONTEXT)
@click.argument("folder", required=False, default=".", type=PathOf(file_okay=False))
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="监听的地址（默认只有本机能连接；其他地址会给出警告）。"
)
@click.option("--port", type=WholeNumber(0, 65535), default=0, show_default=True, help="端口（0 为自动选择）。")
@click.option("--no-browser", is_flag=True, help="不自动打开浏览器。")
@handle_errors
def serve_command(folder: str, host: str, port: int, no_browser: bool) -> None:
    """在浏览器中完成一年的工作：名单、下发模板、收件箱、校验、汇总（本机网页）。

    文件夹是本年度的工作文件夹（默认当前文件夹；不存在时新建），布局与 xltool demo 相同：名单.csv、1-下发模板、
    2-收件箱、3-校验、4-退回修改、5-汇总。第一行输出带令牌的链接；按 Ctrl-C 停止。

    \b
    例：
      xltool serve 汤旺县2024
    """
    from xltool.app.serve import prepare_folder, serve

    if prepare_folder(folder):
        click.echo(f"已新建文件夹：{folder}", err=True)
    serve(folder, host=host, port=port, open_browser=not no_browser)


@main.command("rules", context_settings=CONTEXT)
@click.option("--format", "output", type=OneOf("table", "json"), default="table", show_default=True, help="输出形式。")
@handle_errors
def rules_command(output: str) -> None:
    """列出 xltool 报告的全部代码：级别、类别、标题（JSON 另含提示文字的模板）。

    \b
    例：
      xltool rules
      xltool rules --format json > 代码.json
    """
    from xltool.catalogue import catalogue

    codes = catalogue()
    if output == "json":
        import json

        click.echo(json.dumps([c.to_dict() for c in codes], ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"xltool 报告的代码（共 {len(codes)} 个）")
    table.add_column("代码", no_wrap=True)
    for name in ("级别", "类别", "标题"):
        table.add_column(name, overflow="fold")
    for c in codes:
        table.add_row(c.code, c.severity_zh("\n"), c.group, c.title)
    Console(highlight=False).print(table)


@main.command("import", context_settings=CONTEXT)
@click.argument("paths", nargs=-1, required=True, type=PathOf())
@click.option("--out", "out_dir", required=True, type=PathOf(file_okay=False), help="保存导入工作簿的文件夹。")
@click.option("--roster", type=PathOf(dir_okay=False), help="报送单位名单：按名称找到单位代码。")
@click.option("--year", type=WholeNumber(2000, 2100), help="报告年度（标题和文件名中没有年度时使用）。")
@click.option(
    "--format",
    "output",
    type=OneOf("table", "json"),
    default="table",
    show_default=True,
    help="结果的输出形式。",
)
@click.option("--jobs", type=WholeNumber(1, 64), default=1, show_default=True, help="并行读取的进程数。")
@document_options
@handle_errors
def import_command(
    paths: tuple[str, ...],
    out_dir: str,
    roster: str | None,
    year: int | None,
    output: str,
    jobs: int,
    strict_blanks: bool,
    doc_unit_code: str | None,
    doc_unit_name: str | None,
) -> None:
    """把已公开的年度报告（网页、Word、单位自制的表格）导入为 xltool 工作簿。

    按表头和行名找到每个数字，原样保留（合计也照印出的数保留），并校验；每份文档生成一个
    模板版式的工作簿，可作为 --previous 的上年数据，或直接校验、汇总。退出代码：0 没有错误，
    1 有错误（工作簿仍会生成），2 无法运行。

    \b
    例：
      xltool import 2023年度报告 --out 2023导入 --roster 名单.csv
      xltool import 乌伊岭镇2023年报.html --out 导入 --unit-code 230723101
    """
    from rich.console import Console

    from xltool.roster import read_roster
    from xltool.write.importer import import_documents
    from xltool.write.report import print_report, report_to_json

    units = read_roster(roster) if roster else None
    options = read_options(paths, strict_blanks, doc_unit_code, doc_unit_name, year)
    result = import_documents(paths, out_dir, roster=units, year=year, options=options, jobs=jobs)
    report = result.validation.report
    notes = Console(stderr=output == "json", highlight=False, soft_wrap=True)
    if output == "json":
        click.echo(report_to_json(report))
    else:
        print_report(report, Console(highlight=False))
    for source, path in result.written.items():
        notes.print(f"已导入：{source} → {path}", markup=False)
    for source, why in result.skipped.items():
        notes.print(f"未导入：{source}（{why}）", markup=False)
    sys.exit(EXIT_OK if result.valid else EXIT_FINDINGS)


@main.command("publish", context_settings=CONTEXT)
@click.argument("paths", nargs=-1, required=True, type=PathOf())
@click.option("--out", "out_dir", required=True, type=PathOf(file_okay=False), help="保存网页和 Word 文件的文件夹。")
@click.option(
    "--html", "html", is_flag=True, help="只生成网页：整页（可打印在 A4 纸上）和可粘贴到网站编辑器的表格片段。"
)
@click.option("--docx", "docx", is_flag=True, help="只生成 Word 文件（.docx）。两个都不给时都生成。")
@click.option("--roster", type=PathOf(dir_okay=False), help="报送单位名单：核对单位，按名称找到单位代码。")
@click.option("--year", type=WholeNumber(2000, 2100), help="报告年度；年度不同的报表按错误处理。")
@click.option("--jobs", type=WholeNumber(1, 64), default=1, show_default=True, help="并行读取的进程数。")
@document_options
@handle_errors
def publish_command(
    paths: tuple[str, ...],
    out_dir: str,
    html: bool,
    docx: bool,
    roster: str | None,
    year: int | None,
    jobs: int,
    strict_blanks: bool,
    doc_unit_code: str | None,
    doc_unit_name: str | None,
) -> None:
    """把校验通过的报表（或汇总表）生成可直接公开的年度报告：网页和 Word。

    每份报表生成“<单位><年度>年政府信息公开工作年度报告”的网页（整页和表格片段）与 Word 文件：
    表二、表三、表四与公布格式的版式一致，数字就是校验过的数字，不必再手工录入；Word 中一、五、六
    部分的文字留有标黄的占位文字，请替换后再发布。任何报表有错误时不生成任何文件（退出代码 1）；
    已有的文件不会被覆盖（新文件名加“ (2)”）。退出代码：0 已生成，1 有错误未生成，2 无法运行。

    \b
    例：
      xltool publish 汤旺县2024年度汇总.xlsx --out 发布
      xltool publish 收件箱 --out 发布 --roster 名单.csv --docx
    """
    from rich.console import Console

    from xltool.errors import PublishRefused
    from xltool.roster import read_roster
    from xltool.write.publish import publish
    from xltool.write.report import print_report

    units = read_roster(roster) if roster else None
    options = read_options(paths, strict_blanks, doc_unit_code, doc_unit_name, year)
    both = not html and not docx
    console = Console(highlight=False, soft_wrap=True)
    try:
        result = publish(
            paths, out_dir, html=html or both, docx=docx or both, roster=units, options=options, year=year, jobs=jobs
        )
    except PublishRefused as exc:
        if exc.validation is not None:
            print_report(exc.validation.report, console)
        click.echo(f"未发布：{exc}", err=True)
        sys.exit(EXIT_FINDINGS)
    print_report(result.validation.report, console)
    for source, written in result.written.items():
        for path in written:
            console.print(f"已发布：{source} → {path}", markup=False)
    if result.paths and any(p.suffix == ".docx" for p in result.paths):
        console.print("请在 Word 中把标黄的占位文字（一、五、六部分）换成本单位的内容后再发布。", markup=False)


class Factor(ChineseType):
    """A number above 1 (``compare --factor``)."""

    name = "number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            number = float(str(value).strip())
        except ValueError:
            self.fail(f"应为大于 1 的数，收到 {value}", param, ctx)
        if not 1 < number < 1e6:
            self.fail(f"应为大于 1 的数，收到 {value}", param, ctx)
        return number


@main.command("compare", context_settings=CONTEXT)
@click.argument("last", type=PathOf(exists=True))
@click.argument("this", type=PathOf(exists=True))
@click.option(
    "-o", "--out", "out", type=PathOf(dir_okay=False), help="对比工作簿的保存路径（.xlsx）；同名的 .html 网页一并生成。"
)
@click.option("--factor", type=Factor(), default=3.0, show_default=True, help="一年是另一年的几倍以上算“变化很大”。")
@click.option("--json", "as_json", is_flag=True, help="在标准输出给出 JSON（供脚本使用）。")
@click.option("--roster", type=PathOf(dir_okay=False), help="单位名单：按名称找到文档的单位代码，用于配对。")
@click.option("--overwrite", is_flag=True, help="--out 的文件已存在时替换它（不加时不覆盖，退出代码 2）。")
@handle_errors
def compare_command(
    last: str, this: str, out: str | None, factor: float, as_json: bool, roster: str | None, overwrite: bool
) -> None:
    """本年与上年逐格对比：上年、本年和变化并列，核对跨年度规则（T3-R5、T2-W2），标出变化很大的数和正文增删的句子。

    上年、本年各是一个文件（视为同一单位）或一个文件夹（按单位代码配对，没有代码的文档按单位名称）；
    只有一年有的单位、无法读取的文件都列出。退出代码：0 已对比，1 有文件无法读取（其余照常对比），
    2 无法运行（没有可对比的单位、参数错误）。

    \b
    例：
      xltool compare 2023年度汇总.xlsx 2024年度汇总.xlsx -o 对比.xlsx
      xltool compare 2023收件箱 2024收件箱 --roster 名单.csv --json > 对比.json
    """
    from xltool.compare import compare_paths
    from xltool.errors import UsageError
    from xltool.roster import read_roster

    page = _compare_outputs(out, [last, this, *([roster] if roster else [])], overwrite)
    units = read_roster(roster) if roster else None
    comparison = compare_paths([last], [this], factor=factor, roster=units)
    if not comparison.units:
        unread = "；".join(f"{u.side} {u.file}：{u.reason}" for u in comparison.skipped)
        raise UsageError("没有可对比的单位：上年和本年没有同一单位的报表" + (f"（{unread}）" if unread else ""))
    if as_json:
        click.echo(comparison.to_json())
    else:
        _say_comparison(comparison)
    if out and page:
        from xltool.write.compare_book import write_compare_book
        from xltool.write.compare_page import write_compare_page

        write_compare_book(comparison, comparison.format, out, overwrite=overwrite)
        write_compare_page(comparison, comparison.format, page, overwrite=overwrite)
        click.echo(f"已生成对比工作簿：{out}\n已生成对比网页：{page}", err=as_json)
    sys.exit(EXIT_FINDINGS if comparison.unreadable else EXIT_OK)


def _compare_outputs(out: str | None, inputs: list[str], overwrite: bool) -> str | None:
    """The page beside ``out`` (an .xlsx); both claimed before anything is read."""
    from pathlib import Path

    from xltool.errors import UsageError
    from xltool.write.files import claim_output

    if not out:
        return None
    if Path(out).suffix.lower() != ".xlsx":
        raise UsageError(f"-o 应为 .xlsx 文件（同名的 .html 网页一并生成）：{out}")
    page = str(Path(out).with_suffix(".html"))
    for path in (out, page):
        claim_output(path, inputs=inputs, overwrite=overwrite)
    return page


def _say_comparison(comparison: Any) -> None:
    """Each unit in a line, then what is to be checked, then what was not compared."""
    for u in comparison.units:
        broken = sum(1 for r in u.rules if r.holds is False)
        click.echo(
            f"{u.unit_name}：{u.last_year} → {u.this_year}，有变化 {len(u.changed)} 格，变化很大 {len(u.large)} 格，"
            + (f"跨年度规则不符 {broken} 处" if broken else "跨年度规则相符")
            + (f"，正文有 {len(u.text)} 部分改动" if u.text else "")
        )
    for f in comparison.findings:
        where = f"（{f.location}）" if f.location else ""
        click.echo(f"  {f.rule} {f.unit_name}：{f.message}{where}")
