"""How xltool writes a file (xltool.write.files): whole or not at all, never over another file, and
never inside a folder that is read as input."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers.returns import make_return

from xltool.model import Unit
from xltool.write.files import (
    atomic_write,
    free_name,
    input_folder_holding,
    inside,
    output_folder,
    same_file,
    sweep_stale,
    write_bytes,
)

REPO = Path(__file__).parents[1]


def test_atomic_write_replaces_the_file_whole(tmp_path):
    path = tmp_path / "报告.html"
    path.write_bytes(b"old")
    assert write_bytes(path, b"new") == path
    assert path.read_bytes() == b"new"
    assert os.listdir(tmp_path) == [path.name]


@pytest.mark.parametrize("error", [RuntimeError("电源中断"), KeyboardInterrupt()])
def test_a_failed_write_leaves_no_temporary_file_and_the_old_file_as_it_was(tmp_path, error):
    path = tmp_path / "汇总.xlsx"
    path.write_bytes(b"earlier")
    seen = []

    def half(tmp):
        seen.append(tmp)
        assert tmp.parent == tmp_path and tmp.name.startswith(".") and tmp.suffix == ".xlsx"
        tmp.write_bytes(b"half")
        raise error

    with pytest.raises(type(error)):
        atomic_write(path, half)
    assert path.read_bytes() == b"earlier"
    assert os.listdir(tmp_path) == [path.name] and not seen[0].exists()


def test_a_failed_write_names_the_file_asked_for_not_the_temporary_one(tmp_path):
    path = tmp_path / "没有的文件夹" / "r.json"
    with pytest.raises(FileNotFoundError) as failed:
        write_bytes(path, b"{}")
    assert failed.value.filename == str(path)
    assert str(path) in str(failed.value)


def test_two_writes_use_two_temporary_files(tmp_path):
    names = []
    for _ in range(2):
        atomic_write(tmp_path / "a.xlsx", lambda tmp: (names.append(tmp.name), tmp.write_bytes(b"x")))
    assert len(set(names)) == 2


def test_free_name_numbers_a_name_in_use(tmp_path):
    assert free_name(tmp_path, "报告.docx") == tmp_path / "报告.docx"
    for expected in ("报告.docx", "报告 (2).docx", "报告 (3).docx"):
        path = free_name(tmp_path, "报告.docx")
        assert path.name == expected
        path.write_bytes(b"")
    assert free_name(tmp_path, "报告.html").name == "报告.html"  # another suffix is another name
    assert free_name(tmp_path, "a.b（导入）.xlsx").name == "a.b（导入）.xlsx"
    (tmp_path / "a.b（导入）.xlsx").write_bytes(b"")
    assert free_name(tmp_path, "a.b（导入）.xlsx").name == "a.b（导入） (2).xlsx"


def test_inside_the_folder_itself_below_it_and_not_beside_it(tmp_path):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (tmp_path / "in2").mkdir()
    assert inside(folder, folder)  # the same folder
    assert inside(folder / "x.xlsx", folder) and inside(folder / "sub" / "新建" / "x.xlsx", folder)
    assert inside(tmp_path / "in" / ".." / "in" / "x.xlsx", folder)
    assert not inside(tmp_path / "in2" / "x.xlsx", folder)  # a name that only starts the same
    assert not inside(tmp_path / "x.xlsx", folder)


def test_inside_through_a_symlink(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    link = tmp_path / "link"
    try:
        link.symlink_to(folder, target_is_directory=True)
    except OSError:
        pytest.skip("no symlinks here")
    assert inside(link / "out.xlsx", folder) and inside(folder / "out.xlsx", link)
    assert same_file(link / "a.xlsx", folder / "a.xlsx")
    assert input_folder_holding(link / "发布", [tmp_path / "x.xlsx", folder]) == folder


def test_input_folder_holding_names_the_first_folder_that_holds_the_output(tmp_path):
    (tmp_path / "in" / "sub").mkdir(parents=True)
    a_file = tmp_path / "in" / "a.xlsx"
    a_file.write_bytes(b"")
    out = tmp_path / "in" / "sub" / "out"
    assert input_folder_holding(out, [a_file, tmp_path / "in", tmp_path / "in" / "sub"]) == tmp_path / "in"
    assert input_folder_holding(out, [a_file]) is None  # a file holds nothing
    assert input_folder_holding(tmp_path / "elsewhere", [tmp_path / "in"]) is None


def test_output_folder_says_what_is_wrong(tmp_path):
    from xltool.errors import UsageError

    (tmp_path / "in").mkdir()
    (tmp_path / "f").write_bytes(b"")
    assert output_folder(tmp_path / "out", [tmp_path / "in"], "网页") == tmp_path / "out"
    with pytest.raises(UsageError, match="^--out 应为文件夹："):
        output_folder(tmp_path / "f", [], "网页")
    with pytest.raises(UsageError) as refused:
        output_folder(tmp_path / "in" / "out", [tmp_path / "in"], "网页")
    assert str(refused.value) == f"--out 不能放在被读取的文件夹中（{tmp_path / 'in'}），否则下次读取会把网页当作报表"


# --------------------------------------------------------------------------- nothing left behind


def test_stale_temporary_files_of_xltool_swept_at_the_next_write(tmp_path):
    stale = tmp_path / ".~汇总.0123abcd.tmp.xlsx"
    fresh = tmp_path / ".~汇总.89abcdef.tmp.xlsx"  # a write under way elsewhere
    others = [tmp_path / ".~lock.汇总.xlsx#", tmp_path / ".~汇总.xyz.tmp.xlsx", tmp_path / "a.0123abcd.tmp.xlsx"]
    for p in [stale, fresh, *others]:
        p.write_bytes(b"x")
    old = time.time() - 3600
    for p in [stale, *others]:
        os.utime(p, (old, old))
    assert sweep_stale(tmp_path) == [stale]
    stale.write_bytes(b"x")
    os.utime(stale, (old, old))
    write_bytes(tmp_path / "汇总.xlsx", b"new")  # the first write of this process into the folder
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([fresh.name, "汇总.xlsx", *(p.name for p in others)])


@pytest.mark.skipif(os.name != "posix", reason="sends POSIX signals")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_consolidate_leaves_no_temporary_file(tmp_path, signum):
    """``xltool consolidate`` stopped by Ctrl-C or SIGTERM while its workbook is half written: the
    command says 已中断, and nothing of it is left in the output folder."""
    town = Unit("230723101", "乌伊岭镇", "乡镇")
    make_return(tmp_path / "in", town)
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO), "XLTOOL_TEST_WRITE_PAUSE": "30"}
    args = ["--out", str(out / "汇总.xlsx"), "--unit-code", "230723", "--unit-name", "汤旺县"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "xltool", "consolidate", str(tmp_path / "in"), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    try:
        deadline = time.monotonic() + 60
        while not any(p.name.startswith(".~") for p in out.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any(p.name.startswith(".~") for p in out.iterdir()), "the write never started"
        proc.send_signal(signum)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130 and "已中断" in err and "Traceback" not in err, err
    assert list(out.iterdir()) == []
