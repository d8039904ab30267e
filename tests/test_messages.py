"""Chinese only: every error the command line can print on a usage mistake (a missing argument or
option, an unknown option or command, a bad value, a path that does not exist, an extra argument)
is one Chinese line; the only Latin words in it are option names, codes, command names, values and
file names the user typed, and xltool."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from xltool.app.cli import main

COMMANDS = ("validate", "consolidate", "template", "import", "publish", "demo", "serve", "rules", "compare")
NAMES = ("xltool", "table", "json", *COMMANDS)  # the program, --format's values, the commands
ALLOWED = re.compile(r"--?[a-z][a-z-]*|[A-Z]+(?:-[A-Z0-9]+)+|" + "|".join(rf"\b{n}\b" for n in NAMES))


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), prog_name="xltool")
    assert result.exit_code == 2, (args, result.output)
    assert isinstance(result.exception, SystemExit), (args, result.exception)
    return result.stderr


def latin_words(text: str, given: tuple[str, ...]) -> list[str]:
    for value in sorted(given, key=len, reverse=True):  # what the user typed may come back
        if not value.startswith("-"):
            text = re.sub(rf"(?<![A-Za-z]){re.escape(value)}(?![A-Za-z])", " ", text)
    return re.findall(r"[A-Za-z]{2,}", ALLOWED.sub(" ", text))


def cases(tmp: str) -> list[tuple[str, ...]]:
    nowhere = f"{tmp}/无此文件夹"
    out: list[tuple[str, ...]] = [("nosuch",), ("--nosuch",)]
    for command in COMMANDS:
        out += [(command, "--nosuch"), (command, "--roster")]
    out += [
        ("validate",),
        ("validate", "x", "--jobs", "0"),
        ("validate", "x", "--jobs", "abc"),
        ("validate", "x", "--year", "1999"),
        ("validate", "x", "--format", "xml"),
        ("validate", "x", "--report", tmp),
        ("validate", "x", "--annotate"),
        ("validate", nowhere),
        ("compare",),
        ("compare", nowhere, nowhere),
        ("compare", tmp, tmp, "--factor", "1"),
        ("compare", tmp, tmp, "--factor", "abc"),
        ("consolidate",),
        ("consolidate", "x"),
        ("consolidate", nowhere, "--out", f"{tmp}/汇总.xlsx", "--unit-code", "1", "--unit-name", "甲"),
        ("consolidate", "x", "--year", "abc"),
        ("template",),
        ("template", "--roster", "x.csv", "--previous", nowhere),
        ("template", "--roster", nowhere, "--year", "2024", "--out", f"{tmp}/模板"),
        ("import", "x"),
        ("import", "--out", tmp),
        ("import", "x", "--out", tmp, "--format", "yaml"),
        ("publish", "x"),
        ("publish", "x", "--out", tmp, "--html=1"),
        ("publish", nowhere, "--out", f"{tmp}/发布"),
        ("demo", "a", "b"),
        ("serve", "--port", "70000"),
        ("serve", __file__),
        ("rules", "extra"),
        ("rules", "--format", "csv"),
    ]
    return out


def test_every_usage_error_is_chinese(tmp_path):
    for args in cases(str(tmp_path)):
        err = run(*args)
        assert err.startswith("错误：") and err.count("\n") == 1, (args, err)
        assert latin_words(err, args) == [], (args, err)


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("validate",), "缺少路径"),
        (("import", "x"), "缺少选项 --out"),
        (("validate", "x", "--jobs", "0"), "选项 --jobs 的值应在 1 到 64 之间，收到 0"),
        (("validate", "x", "--format", "xml"), "选项 --format 的值应为 table、json 之一，收到 xml"),
        (("publish", "x", "--out", "o", "--html=1"), "选项 --html 不带值"),
        (("validate", "x", "--roster"), "选项 --roster 后面缺少值"),
        (("validate", "--nosuch"), "没有选项 --nosuch"),
        (("nosuch",), "没有命令 nosuch"),
        (("rules", "extra"), "多余的参数：extra"),
        (("serve", __file__), "路径应为文件夹，不是文件"),
    ],
)
def test_what_is_said(args, said):
    assert said in run(*args)


def test_no_system_text_in_a_write_error(tmp_path):
    """An OS error (here: a report under a file) is said in Chinese, not as the system's English."""
    from xltool.errors import os_reason

    (tmp_path / "文件").write_text("x")
    try:
        (tmp_path / "文件" / "报告.json").write_text("{}")
    except OSError as exc:
        assert os_reason(exc) == "路径中有一部分是文件而不是文件夹"
    assert os_reason(PermissionError(13, "Permission denied")).startswith("没有权限")
    assert os_reason(OSError(999, "Strange")) == "系统错误（代码 999）"


def _damaged_files(folder):
    """Files that reach a reading library and make it fail in its own (English) words."""
    import io
    import zipfile

    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        )
        z.writestr("word/document.xml", "<w:document><not closed")
    files = {
        "正文损坏.docx": docx.getvalue(),
        "损坏.pdf": b"%PDF-1.7\n1 0 obj\n<< garbage >>\n",
        "网页.mht": b'MIME-Version: 1.0\nContent-Type: multipart/related; boundary="x"\n\n--x\nbroken',
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return [folder / name for name in files]


def test_a_reading_library_s_own_words_stay_out_of_the_message(tmp_path):
    """No library's English in a finding's message: it is kept in the finding's ``detail`` (JSON)."""
    import json as json_module

    from xltool.validate import validate_paths

    paths = _damaged_files(tmp_path)
    findings = validate_paths(paths).report.findings
    assert {f.file for f in findings} == {str(p) for p in paths}
    for f in findings:
        # the file, the kinds and the programs a clerk knows by these names
        known = (Path(f.file).name, ".docx", ".xlsx", ".mht", "PDF", "Word", "WPS", "Excel")
        assert latin_words(f.message, known) == [], f.message
    assert any(f.detail for f in findings)
    assert "detail" in json_module.loads(json_module.dumps(findings[0].to_dict()))
