"""The command line: thin commands over library functions. Messages are Chinese.

Exit codes: 0 all valid (warnings allowed), 1 errors found in the returns, 2 the command could
not run (bad arguments, unreadable roster, nothing to read).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click

from xltool import __version__
from xltool.errors import XltoolError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def fail(message: str, code: int = EXIT_USAGE) -> None:
    """Print 错误：… on stderr and exit; never a traceback."""
    click.echo(f"错误：{message}", err=True)
    sys.exit(code)


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn xltool's own exceptions into one clean line and exit code 2."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except XltoolError as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            fail("已中断", 130)

    return wrapper


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name="xltool", message="%(prog)s %(version)s")
def main() -> None:
    """xltool：政府信息公开工作年度报告统计表的模板、校验与汇总（国办公开办函〔2021〕30号）。

    \b
    一年的流程：
      xltool template     生成各单位的填报模板（已锁定，含公式和勾稽校验）
      xltool validate     校验各单位报回的工作簿，指出错误所在单元格
      xltool consolidate  汇总有效报表，生成本级汇总工作簿（可继续上报汇总）
      xltool demo         用自带样例演示完整流程
    """


# Commands are registered below, each in a few lines over a library function.
