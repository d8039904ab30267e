"""One policy for existing outputs (issue 22, items 3 and 7): never replace a file silently, never
write over or into an input, a set of files whole or not at all, every file with the process umask."""

from __future__ import annotations

import hashlib
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers.returns import CONSISTENT, make_return
from starlette.testclient import TestClient

from xltool.app.cli import main
from xltool.app.serve import create_app
from xltool.errors import OutputExists, UsageError
from xltool.model import Unit
from xltool.write.files import STAGING, claim_output, output_set, sweep_stale

REPO = Path(__file__).resolve().parents[1]
COUNTY = Unit("230723", "汤旺县", "县")
TOWN = Unit("230723101", "乌伊岭镇", "乡镇")
TOWN2 = Unit("230723102", "汤旺河镇", "乡镇")
DEPT = Unit("230723005", "汤旺县教育局", "部门")
ROSTER = "code,name,level\n230723101,乌伊岭镇,乡镇\n230723102,汤旺河镇,乡镇\n230723005,汤旺县教育局,部门\n"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


@pytest.fixture
def year(tmp_path, monkeypatch) -> Path:
    """A year's folder: 名单.csv, 2-收件箱 with three returns, last year's workbook."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "名单.csv").write_text(ROSTER, encoding="utf-8")
    inbox = tmp_path / "2-收件箱"
    make_return(inbox, TOWN, name="乌伊岭镇.xlsx")
    make_return(inbox, TOWN2, name="汤旺河镇.xlsx")
    make_return(inbox, DEPT, name="教育局.xlsx")
    make_return(tmp_path / "last.xlsx", TOWN, year=2023)
    return tmp_path


# --------------------------------------------------------------------------- the policy


def test_claim_output_refuses_inputs_and_existing_files(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    given = src / "a.xlsx"
    given.write_bytes(b"a")
    with pytest.raises(UsageError, match="不能写入输入文件"):
        claim_output(given, inputs=[given], overwrite=True)
    with pytest.raises(UsageError, match="不能写入被读取的文件夹"):
        claim_output(src / "new.xlsx", inputs=[src], overwrite=True)
    with pytest.raises(OutputExists, match="已存在，未覆盖：要替换它请加 --overwrite，或换一个文件名") as caught:
        claim_output(given)
    assert caught.value.paths == [str(given)]
    assert claim_output(given, overwrite=True) == given
    assert claim_output(tmp_path / "new.xlsx") == tmp_path / "new.xlsx"


def test_an_output_set_appears_whole_or_not_at_all(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt), output_set(out) as files:
        files.path("a.txt").write_text("a")
        raise KeyboardInterrupt
    assert os.listdir(tmp_path) == []  # not even the folder

    with output_set(out) as files:
        a, a2 = files.path("a.txt"), files.path("a.txt")
        a.write_text("1")
        a2.write_text("2")
    assert sorted(os.listdir(out)) == ["a (2).txt", "a.txt"]
    assert files.placed[a2].read_text() == "2"

    with pytest.raises(RuntimeError), output_set(out) as files:
        files.path("b.txt").write_text("b")
        raise RuntimeError
    assert sorted(os.listdir(out)) == ["a (2).txt", "a.txt"]  # the staging folder removed too

    with pytest.raises(OutputExists), output_set(out, "refuse") as files:
        files.path("a.txt").write_text("new")
        files.path("c.txt").write_text("c")
    assert sorted(os.listdir(out)) == ["a (2).txt", "a.txt"] and (out / "a.txt").read_text() == "1"

    with output_set(out, "replace") as files:
        files.path("a.txt").write_text("new")
    assert files.replaced == [out / "a.txt"] and (out / "a.txt").read_text() == "new"
    assert sorted(os.listdir(out)) == ["a (2).txt", "a.txt"]


def test_a_stale_staging_folder_is_swept(tmp_path):
    stale = tmp_path / ".~xltool-0123abcd.tmp"
    stale.mkdir()
    (stale / "half.html").write_text("x")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    keep = tmp_path / ".~other"
    keep.mkdir()
    os.utime(keep, (old, old))
    assert STAGING.fullmatch(stale.name)
    assert sweep_stale(tmp_path) == [stale]
    assert sorted(os.listdir(tmp_path)) == [".~other"]


# --------------------------------------------------------------------------- the commands


def test_consolidate_twice_is_refused_the_second_time_unless_overwrite(year):
    args = ["consolidate", "2-收件箱", "--out", "汇总.xlsx", "--unit-code", COUNTY.code, "--unit-name", COUNTY.name]
    assert run(*args)[0] == 0
    first = (year / "汇总.xlsx").read_bytes()
    code, output = run(*args)
    assert code == 2 and "汇总.xlsx 已存在，未覆盖" in output and "--overwrite" in output
    assert (year / "汇总.xlsx").read_bytes() == first
    time.sleep(1.1)  # the workbook records when it was made: a new one differs
    code, output = run(*args, "--overwrite")
    assert code == 0 and "已替换原有的文件：汇总.xlsx" in output
    assert (year / "汇总.xlsx").read_bytes() != first
    assert sorted(p.name for p in year.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize(
    ("args", "victim"),
    [
        (["validate", "2-收件箱", "--roster", "名单.csv", "--report", "名单.csv"], "名单.csv"),
        (["validate", "2-收件箱", "--previous", "last.xlsx", "--report", "last.xlsx"], "last.xlsx"),
        (["validate", "2-收件箱", "--report", "2-收件箱/报告.xlsx"], "2-收件箱/乌伊岭镇.xlsx"),
        (["validate", "2-收件箱", "--annotate", "2-收件箱/批注"], "2-收件箱/乌伊岭镇.xlsx"),
        (
            ["template", "--unit-code", TOWN.code, "--unit-name", TOWN.name, "--level", "乡镇", "--year", "2024"]
            + ["--out", "last.xlsx", "--previous", "last.xlsx", "--overwrite"],
            "last.xlsx",
        ),
        (
            ["template", "--unit-code", DEPT.code, "--unit-name", DEPT.name, "--level", "部门", "--year", "2024"]
            + ["--out", "2-收件箱/教育局.xlsx"],
            "2-收件箱/教育局.xlsx",
        ),
        (
            ["template", "--roster", "名单.csv", "--year", "2024", "--previous", "2-收件箱", "--out", "2-收件箱/模板"],
            "名单.csv",
        ),
        (["publish", "2-收件箱/乌伊岭镇.xlsx", "--out", "2-收件箱"], "2-收件箱/乌伊岭镇.xlsx"),
        (["import", "2-收件箱/乌伊岭镇.xlsx", "--out", "2-收件箱"], "2-收件箱/乌伊岭镇.xlsx"),
        (
            ["consolidate", "2-收件箱", "--roster", "名单.csv", "--out", "名单.csv"]
            + ["--unit-code", COUNTY.code, "--unit-name", COUNTY.name, "--overwrite"],
            "名单.csv",
        ),
    ],
)
def test_an_input_is_never_written_over_or_into(year, args, victim):
    before = {p: sha(p) for p in year.rglob("*") if p.is_file()}
    code, output = run(*args)
    assert code == 2, output
    assert {p: sha(p) for p in year.rglob("*") if p.is_file()} == before  # nothing written, nothing changed
    assert (year / victim).is_file()


def test_an_existing_report_is_replaced_only_when_asked(year):
    (year / "报告.xlsx").write_bytes(b"mine")
    code, output = run("validate", "2-收件箱", "--report", "报告.xlsx")
    assert code == 2 and "报告.xlsx 已存在，未覆盖" in output
    assert (year / "报告.xlsx").read_bytes() == b"mine"
    code, output = run("validate", "2-收件箱", "--report", "报告.xlsx", "--overwrite")
    assert code == 0 and "已替换原有的文件：报告.xlsx" in output
    assert (year / "报告.xlsx").read_bytes()[:2] == b"PK"


def test_folders_of_outputs_get_numbered_names(year):
    for _ in range(2):
        assert run("template", "--roster", "名单.csv", "--year", "2024", "--out", "模板")[0] == 0
        assert run("validate", "2-收件箱", "--roster", "名单.csv", "--annotate", "批注")[0] in (0, 1)
    names = sorted(os.listdir(year / "模板"))
    assert len(names) == 6 and sum(" (2)" in n for n in names) == 3
    code, output = run("template", "--roster", "名单.csv", "--year", "2024", "--out", "模板", "--overwrite")
    assert code == 0 and "已替换原有的 3 个同名文件" in output and len(os.listdir(year / "模板")) == 6


@pytest.mark.slow
def test_an_interrupted_publish_leaves_no_partial_set(year):
    """Six returns, three files each; Ctrl-C while the second file is being written."""
    for i in range(3):
        make_return(year / "更多", Unit(f"23072320{i}", f"第{i}镇", "乡镇"), name=f"{i}.xlsx")
    env = {**os.environ, "PYTHONPATH": str(REPO), "XLTOOL_TEST_WRITE_PAUSE": "1"}
    for out in (year / "发布", year / "已有"):
        if out.name == "已有":
            out.mkdir()
            (out / "旧.html").write_text("old", encoding="utf-8")
        before = sorted(os.listdir(out)) if out.exists() else None
        proc = subprocess.Popen(
            [sys.executable, "-m", "xltool", "publish", "2-收件箱", "更多", "--out", str(out)],
            cwd=year,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        deadline = time.time() + 60

        def staged() -> bool:
            return any(STAGING.fullmatch(p.name) and len(list(p.iterdir())) >= 2 for p in year.rglob(".~xltool-*"))

        while time.time() < deadline and not staged():
            time.sleep(0.05)
        assert staged(), "the publish never reached its second file"  # else the signal would come too late
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err.decode()
        assert (sorted(os.listdir(out)) if out.exists() else None) == before
        assert not list(year.rglob(".~*"))  # no staging folder, no temporary file


# --------------------------------------------------------------------------- the page


def wait(c: TestClient, job: dict) -> dict:
    for _ in range(600):
        job = c.get(f"/api/jobs/{job['id']}").json()
        if job["state"] != "running":
            return job
        time.sleep(0.05)
    raise AssertionError("job did not finish")


def page(folder: Path) -> TestClient:
    c = TestClient(create_app(folder, "test-token-0123456789", port=8765), base_url="http://127.0.0.1:8765")
    c.headers["X-Xltool-Token"] = "test-token-0123456789"
    return c


def test_the_page_asks_before_replacing_a_summary_and_says_what_it_replaced(year):
    c = page(year)
    body = {"unit_code": COUNTY.code, "unit_name": COUNTY.name}
    job = wait(c, c.post("/api/consolidate", json=body).json())
    assert job["state"] == "done" and job["result"]["replaced"] is None, job
    out = year / job["result"]["file"]
    first = out.read_bytes()

    asked = c.post("/api/consolidate", json=body)
    assert asked.status_code == 409
    assert asked.json()["exists"] == [job["result"]["file"]] and "覆盖" in asked.json()["error"]
    assert out.read_bytes() == first and c.get("/api/status").json()["consolidated"] == [job["result"]["file"]]

    saved = wait(c, c.post("/api/consolidate", json={**body, "save_as": "1"}).json())
    assert saved["result"]["file"].endswith(" (2).xlsx") and out.read_bytes() == first

    time.sleep(1.1)
    replaced = wait(c, c.post("/api/consolidate", data={**body, "overwrite": "1"}).json())  # a form, too
    assert replaced["result"] == {
        **replaced["result"],
        "file": job["result"]["file"],
        "replaced": job["result"]["file"],
    }
    assert out.read_bytes() != first


def test_the_page_asks_before_replacing_published_files(year):
    c = page(year)
    body = {"files": ["2-收件箱/乌伊岭镇.xlsx"], "kinds": ["docx"]}
    job = wait(c, c.post("/api/publish", json=body).json())
    (written,) = job["result"]["files"]
    before = (year / written).read_bytes()
    asked = wait(c, c.post("/api/publish", json=body).json())
    assert asked["state"] == "done" and asked["result"]["exists"] == [written] and "覆盖" in asked["result"]["question"]
    assert os.listdir(year / "7-发布") == [Path(written).name] and (year / written).read_bytes() == before
    saved = wait(c, c.post("/api/publish", json={**body, "save_as": "1"}).json())
    assert saved["result"]["files"] == [written.replace(".docx", " (2).docx")]
    replaced = wait(c, c.post("/api/publish", json={**body, "overwrite": "1"}).json())
    assert replaced["result"]["replaced"] == [written]


def test_the_page_never_uses_a_browser_confirm():
    script = (REPO / "xltool" / "app" / "web" / "static" / "app.js").read_text(encoding="utf-8")
    assert "confirm(" not in script and "ask(" in script


# --------------------------------------------------------------------------- item 7: the umask


def test_every_output_has_the_process_umask(year):
    old = os.umask(0o022)
    try:
        steps = [
            [
                "consolidate",
                "2-收件箱",
                "--out",
                "汇总/汇总.xlsx",
                "--unit-code",
                COUNTY.code,
                "--unit-name",
                COUNTY.name,
            ],
            ["publish", "2-收件箱/乌伊岭镇.xlsx", "--out", "发布"],
            ["template", "--roster", "名单.csv", "--year", "2024", "--out", "模板"],
            ["validate", "退回", "--report", "校验/报告.xlsx", "--annotate", "批注"],
        ]
        make_return(year / "退回", TOWN, {**CONSISTENT, "t3.new.natural": 3}, name="错.xlsx")  # T3-R1
        for args in steps:
            assert run(*args)[0] in (0, 1), args
        page_html = next((year / "发布").glob("*年度报告.html"))
        assert run("import", str(page_html), "--out", "导入")[0] in (0, 1)
        c = page(year)
        upload = c.post("/api/upload", files=[("files", ("新.xlsx", (year / "last.xlsx").read_bytes(), "x"))])
        assert upload.status_code == 200
    finally:
        os.umask(old)
    made = [year / d for d in ("汇总", "发布", "模板", "校验", "批注", "导入")]
    files = [p for d in made for p in d.iterdir()] + [year / "2-收件箱" / "新.xlsx"]
    assert len(files) == 11
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {p.name: "0o644" for p in files}
    assert {d.name: oct(stat.S_IMODE(d.stat().st_mode)) for d in made} == {d.name: "0o755" for d in made}
