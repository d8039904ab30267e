"""xltool serve: the API in-process (token, Host, CSRF, uploads, the same JSON as the CLI), the command as a
subprocess (URL line, Ctrl-C), and the whole year in the system Chromium driven by Selenium."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest
from helpers.hostile import random_bytes, zip_bomb
from helpers.returns import CONSISTENT, make_return
from starlette.testclient import TestClient

from samples import SAMPLES_DIR
from xltool.app.serve import Limits, create_app, safe_name
from xltool.model import Unit
from xltool.validate import validate_paths

TOKEN = "test-token-0123456789"
PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"
ROSTER = SAMPLES_DIR / "data" / "汤旺县-名单.csv"
TOWN = Unit("230723101", "乌伊岭镇", "乡镇")
TOWN2 = Unit("230723102", "汤旺河镇", "乡镇")
WRONG = {**CONSISTENT, "t3.new.natural": 3}  # 表三 一+二 ≠ 总计+四: T3-R1


def client(folder: Path, limits: Limits | None = None, token: bool = True) -> TestClient:
    app = create_app(folder, TOKEN, port=PORT, limits=limits)
    c = TestClient(app, base_url=BASE)
    if token:
        c.headers["X-Xltool-Token"] = TOKEN
    return c


def files_field(*paths: Path, names: list[str] | None = None) -> list:
    names = names or [p.name for p in paths]
    return [("files", (n, p.read_bytes(), "application/octet-stream")) for n, p in zip(names, paths, strict=True)]


def cli_json(cwd: Path, *names: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "xltool", "validate", "--format", "json", *names],
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
    )
    assert out.returncode in (0, 1), out.stderr
    return json.loads(out.stdout)


# --------------------------------------------------------------------------- security


def test_token_required(tmp_path):
    c = client(tmp_path, token=False)
    for url in ("/", "/api/status", "/check", "/static/app.css", "/download/templates.zip"):
        assert c.get(url).status_code == 403, url
    assert c.get("/api/status", headers={"X-Xltool-Token": "wrong"}).status_code == 403
    c.cookies.set("xltool_token", "wrong")
    assert c.get("/api/status").status_code == 403


def test_token_once_then_cookie(tmp_path):
    c = client(tmp_path, token=False)
    r = c.get(f"/?token={TOKEN}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"  # the token leaves the address bar
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert c.get("/").status_code == 200  # the cookie now
    assert c.get("/api/status").json()["folder"] == str(tmp_path.resolve())


def test_header_token(tmp_path):
    assert client(tmp_path).get("/api/status").status_code == 200


@pytest.mark.parametrize("host", ["evil.example", f"evil.example:{PORT}", "127.0.0.1:1", "localhost", "127.0.0.2:8765"])
def test_bad_host_refused(tmp_path, host):
    r = client(tmp_path).get("/api/status", headers={"host": host})
    assert r.status_code == 403


@pytest.mark.parametrize("host", [f"127.0.0.1:{PORT}", f"localhost:{PORT}", f"[::1]:{PORT}"])
def test_loopback_hosts_accepted(tmp_path, host):
    assert client(tmp_path).get("/api/status", headers={"host": host}).status_code == 200


def test_cross_origin_refused(tmp_path):
    r = client(tmp_path).get("/api/status", headers={"origin": "http://evil.example"})
    assert r.status_code == 403


def test_post_needs_the_token_not_only_the_cookie(tmp_path):
    """CSRF: a form on another site would send the cookie (were it not SameSite), never the token."""
    c = client(tmp_path, token=False)
    c.get(f"/?token={TOKEN}")
    assert c.get("/api/status").status_code == 200
    for url in ("/api/check", "/api/upload", "/api/validate", "/api/roster", "/api/consolidate"):
        assert c.post(url).status_code == 403, url
    assert not (tmp_path / "2-收件箱").exists()


# --------------------------------------------------------------------------- uploads


@pytest.mark.parametrize(
    "given, expected",
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\system32\\x.xlsx", "x.xlsx"),
        ("/abs/乌伊岭镇 统计表(1).xlsx", "乌伊岭镇 统计表(1).xlsx"),
        ("..", "未命名"),
        (".hidden.xlsx", "hidden.xlsx"),
        ("CON.xlsx", "_CON.xlsx"),
        ("nul", "_nul"),
        ("~$lock.xlsx", "_lock.xlsx"),
        ("a\x00b\u202ec.xlsx", "abc.xlsx"),
        ('a<b>:"|?*.xlsx', "a_b______.xlsx"),
    ],
)
def test_safe_name(given, expected):
    assert safe_name(given) == expected


def test_upload_sanitises_names(tmp_path):
    ret = make_return(tmp_path / "src", TOWN)
    c = client(tmp_path / "year")
    r = c.post("/api/upload", files=files_field(ret, ret, names=["../../evil.xlsx", "..\\x\\..\\乌伊岭镇.xlsx"]))
    assert r.status_code == 200, r.text
    assert sorted(r.json()["saved"]) == ["evil.xlsx", "乌伊岭镇.xlsx"]
    inbox = tmp_path / "year" / "2-收件箱"
    assert sorted(p.name for p in inbox.iterdir()) == ["evil.xlsx", "乌伊岭镇.xlsx"]
    assert not (tmp_path / "evil.xlsx").exists() and not list(tmp_path.glob("year/*.xlsx"))


def test_upload_existing_name_is_409_unless_overwrite(tmp_path):
    first = make_return(tmp_path / "a", TOWN)
    second = make_return(tmp_path / "b", TOWN, WRONG)
    c = client(tmp_path / "year")
    assert c.post("/api/upload", files=files_field(first, names=["乌伊岭镇.xlsx"])).status_code == 200
    r = c.post("/api/upload", files=files_field(second, names=["乌伊岭镇.xlsx"]))
    assert r.status_code == 409 and r.json()["conflicts"] == ["乌伊岭镇.xlsx"]
    target = tmp_path / "year" / "2-收件箱" / "乌伊岭镇.xlsx"
    assert target.read_bytes() == first.read_bytes()
    r = c.post("/api/upload?overwrite=1", files=files_field(second, names=["乌伊岭镇.xlsx"]))
    assert r.status_code == 200 and target.read_bytes() == second.read_bytes()
    assert [p.name for p in target.parent.iterdir()] == ["乌伊岭镇.xlsx"]  # no temporary file left


def test_upload_limits(tmp_path):
    ret = make_return(tmp_path / "src", TOWN)
    small = Limits(file_bytes=ret.stat().st_size - 1, files=2, request_bytes=10 * 1024 * 1024)
    c = client(tmp_path / "year", limits=small)
    assert c.post("/api/upload", files=files_field(ret)).status_code == 413
    c = client(tmp_path / "year", limits=Limits(files=2))
    assert (
        c.post("/api/upload", files=files_field(ret, ret, ret, names=["1.xlsx", "2.xlsx", "3.xlsx"])).status_code == 413
    )
    c = client(tmp_path / "year", limits=Limits(request_bytes=1000))
    assert c.post("/api/upload", files=files_field(ret)).status_code == 413
    assert not list((tmp_path / "year").rglob("*.xlsx"))  # refused whole: nothing written


def test_concurrent_uploads_lose_nothing(tmp_path):
    ret = make_return(tmp_path / "src", TOWN)
    c = client(tmp_path / "year")
    results: list[int] = []

    def send(i: int) -> None:
        names = [f"单位{i}-{k}.xlsx" for k in range(3)]
        results.append(c.post("/api/upload", files=files_field(ret, ret, ret, names=names)).status_code)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 8
    saved = list((tmp_path / "year" / "2-收件箱").iterdir())
    assert len(saved) == 24 and all(p.read_bytes() == ret.read_bytes() for p in saved)


def test_concurrent_uploads_of_one_name_never_overwrite(tmp_path):
    c = client(tmp_path / "year")
    codes: list[int] = []

    def send(i: int) -> None:
        codes.append(c.post("/api/upload", files=[("files", ("同名.xlsx", bytes([i]) * 1000, "x"))]).status_code)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200] + [409] * 5
    data = (tmp_path / "year" / "2-收件箱" / "同名.xlsx").read_bytes()
    assert len(data) == 1000 and len(set(data)) == 1  # one whole upload, not a mixture


# --------------------------------------------------------------------------- the same JSON as the CLI


def test_api_validate_equals_cli_json(tmp_path):
    src = tmp_path / "src"
    make_return(src, TOWN, name="乌伊岭镇.xlsx")
    make_return(src, TOWN2, WRONG, name="汤旺河镇 (1).xlsx")
    random_bytes(src / "乱码.xlsx", TOWN)
    (src / "说明.doc").write_bytes(b"\xd0\xcf\x11\xe0 not a workbook")
    names = ["乌伊岭镇.xlsx", "汤旺河镇 (1).xlsx", "乱码.xlsx", "说明.doc"]
    r = client(tmp_path / "year").post("/api/validate", files=files_field(*(src / n for n in names)))
    assert r.status_code == 200
    expected = cli_json(src, *names)
    assert r.json() == expected
    assert {f["rule"] for f in expected["findings"]} >= {"T3-R1", "F-NOT-WORKBOOK"}
    assert not list((tmp_path / "year").rglob("*"))  # /api/validate keeps nothing


def test_hostile_file_same_finding_as_cli(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    zip_bomb(src / "bomb.xlsx", TOWN)
    r = client(tmp_path / "year").post("/api/validate", files=files_field(src / "bomb.xlsx"))
    assert r.status_code == 200
    assert r.json() == cli_json(src, "bomb.xlsx")
    assert r.json()["valid"] is False


def test_validate_nothing_readable(tmp_path):
    r = client(tmp_path).post("/api/validate", files=[("other", ("x.txt", b"x", "text/plain"))])
    assert r.status_code == 400


def test_validate_names_uploads_as_uploaded(tmp_path):
    """The check names an upload as uploaded, never by the temporary folder it was copied to."""
    r = client(tmp_path).post("/api/validate", files=[("files", ("名单.csv", b"a,b", "text/csv"))])
    assert r.status_code == 200  # a kind xltool does not read is accounted for, not a usage error
    ((w,), (f,)) = r.json()["workbooks"], r.json()["findings"]
    assert (w["file"], w["read"], f["file"], f["rule"]) == ("名单.csv", False, "名单.csv", "F-UNSUPPORTED")
    assert f["message"].startswith("“名单.csv”是 CSV 文本文件") and str(tmp_path) not in f["message"]


# --------------------------------------------------------------------------- the year through the API


def wait(c: TestClient, job: dict) -> dict:
    for _ in range(600):
        job = c.get(f"/api/jobs/{job['id']}").json()
        if job["state"] != "running":
            return job
        time.sleep(0.05)
    raise AssertionError("job did not finish")


@pytest.mark.slow
def test_year_through_the_api(tmp_path):
    year = tmp_path / "汤旺县"
    c = client(year)
    r = c.post("/api/roster", files=[("file", ("名单.csv", ROSTER.read_bytes(), "text/csv"))])
    assert r.status_code == 200 and len(r.json()["units"]) > 5
    assert c.post("/api/roster", files=[("file", ("x.csv", ROSTER.read_bytes(), "text/csv"))]).status_code == 409
    bad = c.post("/api/roster?overwrite=1", files=[("file", ("x.csv", b"code,name\n1,a\n", "text/csv"))])
    assert bad.status_code == 400 and (year / "名单.csv").read_bytes() == ROSTER.read_bytes()

    job = wait(c, c.post("/api/templates", json={"year": 2024}).json())
    assert job["state"] == "done", job
    z = c.get("/download/templates.zip")
    assert z.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(z.content)).namelist()
    assert len(names) == job["result"]["count"] and all(n.startswith("1-下发模板/") for n in names)

    src = tmp_path / "src"
    good, wrong = make_return(src, TOWN, name="乌伊岭镇.xlsx"), make_return(src, TOWN2, WRONG, name="汤旺河镇.xlsx")
    assert c.post("/api/upload", files=files_field(good, wrong)).status_code == 200
    job = wait(c, c.post("/api/check").json())
    assert job["state"] == "done" and job["result"]["valid"] is False
    status = c.get("/api/status").json()
    units = {u["unit_name"]: u["status"] for u in status["check"]["units"]}
    assert units["乌伊岭镇"] == "passed" and units["汤旺河镇"] == "errors" and "missing" in units.values()
    assert status["check"]["stale"] is False
    # the page's findings are the CLI's, run in the year's folder
    cli = subprocess.run(
        [sys.executable, "-m", "xltool", "validate", "2-收件箱", "--roster", "名单.csv", "--format", "json"],
        cwd=year,
        capture_output=True,
        text=True,
        encoding="utf-8",
    )
    assert json.loads(cli.stdout) == json.loads((year / "3-校验" / "校验结果.json").read_text(encoding="utf-8"))
    page = c.get("/check?show=error").text
    assert "T3-R1" in page and "表三" in page
    zipped = zipfile.ZipFile(io.BytesIO(c.get("/download/check.zip").content)).namelist()
    assert "3-校验/校验报告.xlsx" in zipped and any(n.startswith("4-退回修改/") for n in zipped)

    job = wait(c, c.post("/api/consolidate", json={"unit_code": "230723", "unit_name": "汤旺县"}).json())
    assert job["state"] == "failed" and "未汇总" in job["message"] and str(tmp_path) not in job["message"]
    body = {"unit_code": "230723", "unit_name": "汤旺县", "exclude_invalid": True}
    job = wait(c, c.post("/api/consolidate", json=body).json())
    assert job["state"] == "done", job
    out = year / job["result"]["file"]
    assert job["result"]["included"] == 1 and validate_paths([out]).valid
    assert c.get("/download/" + job["result"]["file"]).content == out.read_bytes()
    assert c.get("/download/5-汇总/..%2F名单.csv").status_code == 404

    job = wait(c, c.post("/api/publish", json={"files": [job["result"]["file"]]}).json())
    assert job["state"] == "done", job["message"]
    assert {Path(f).suffix for f in job["result"]["files"]} >= {".html", ".docx"}
    for page in ("/", "/roster", "/inbox", "/check", "/consolidate", "/publish"):
        assert c.get(page).status_code == 200, page


def test_the_pages_show_the_latest_report_whatever_wrote_it(tmp_path):
    """The CLI's report in 3-校验 is the folder's state; the page's check writes its own report beside
    it (never touching the CLI's) and, the next time, replaces its own and says so."""
    year = tmp_path / "汤旺县2024"
    (year / "2-收件箱").mkdir(parents=True)
    shutil.copy(ROSTER, year / "名单.csv")
    make_return(year / "2-收件箱", TOWN, name="乌伊岭镇.xlsx")
    make_return(year / "2-收件箱", TOWN2, WRONG, name="汤旺河镇.xlsx")
    c = client(year)
    assert "尚未校验" in c.get("/").text and "重新校验" not in c.get("/inbox").text
    (year / "3-校验").mkdir()
    cli = subprocess.run(
        [sys.executable, "-m", "xltool", "validate", str(year / "2-收件箱"), "--roster", str(year / "名单.csv")]
        + ["--report", str(year / "3-校验" / "命令行的报告.xlsx")],
        capture_output=True,
        text=True,
        encoding="utf-8",
    )
    assert cli.returncode == 1, cli.stderr
    home = c.get("/").text
    assert "尚未校验" not in home and "有错误 1" in home and "请重新校验" not in home
    assert "重新校验" in c.get("/inbox").text
    check = c.get("/check").text
    assert "3-校验/命令行的报告.xlsx" in check and "T3-R1" in check
    units = {u["unit_name"]: u["status"] for u in c.get("/api/status").json()["check"]["units"]}
    assert units["乌伊岭镇"] == "passed" and units["汤旺河镇"] == "errors" and "missing" in units.values()
    cli_bytes = (year / "3-校验" / "命令行的报告.xlsx").read_bytes()

    job = wait(c, c.post("/api/check").json())
    assert job["state"] == "done" and job["result"]["replaced"] == [], job
    again = wait(c, c.post("/api/check").json())
    assert again["result"]["replaced"] == ["3-校验/校验报告.xlsx", "3-校验/校验结果.json"]
    assert sorted(p.name for p in (year / "3-校验").iterdir()) == [
        "命令行的报告.xlsx",
        "校验报告.xlsx",
        "校验结果.json",
    ]
    assert (year / "3-校验" / "命令行的报告.xlsx").read_bytes() == cli_bytes
    assert "3-校验/校验结果.json" in c.get("/check").text
    assert c.get("/api/status").json()["check"]["stale"] is False


def test_an_upload_answers_with_what_it_received_and_its_result(tmp_path):
    year = tmp_path / "汤旺县2024"
    year.mkdir()
    shutil.copy(ROSTER, year / "名单.csv")
    wrong = make_return(tmp_path / "src", TOWN2, WRONG, name="汤旺河镇.xlsx")
    c = client(year)
    r = c.post("/api/upload", files=files_field(wrong))
    assert r.status_code == 200
    body = r.json()
    assert body["received"] == [{"file": "汤旺河镇.xlsx", "bytes": wrong.stat().st_size}]
    (result,) = body["results"]
    assert result["file"] == "2-收件箱/汤旺河镇.xlsx" and result["status"] == "errors"
    assert result["unit_code"] == TOWN2.code and "T3-R1" in {f["rule"] for f in result["findings"]}
    assert "R-MISSING" not in {f["rule"] for f in result["findings"]}
    assert not (year / "3-校验").exists()  # the whole inbox's check is the job the page starts next
    icon = c.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")


# --------------------------------------------------------------------------- the command


def test_serve_command_url_token_and_ctrl_c(tmp_path):
    folder = tmp_path / "新建" / "汤旺县2024"  # a folder not made yet: the command makes it and says so
    proc = subprocess.Popen(
        [sys.executable, "-m", "xltool", "serve", "--no-browser", "--port", "0", str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    try:
        line = proc.stdout.readline().rstrip("\n")
        m = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9_-]{43})", line)
        assert m, line
        port, token = m.groups()
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/status", headers={"X-Xltool-Token": token})
        with urllib.request.urlopen(req, timeout=10) as r:
            assert json.load(r)["folder"] == str(folder.resolve())
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=10)
        assert refused.value.code == 403
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and f"已新建文件夹：{folder}" in err and folder.is_dir()


def test_prepare_folder(tmp_path):
    from xltool.app.serve import prepare_folder
    from xltool.errors import XltoolError

    assert prepare_folder(tmp_path / "a" / "b") is True and (tmp_path / "a" / "b").is_dir()
    assert prepare_folder(tmp_path / "a" / "b") is False
    (tmp_path / "f").write_text("x")
    with pytest.raises(XltoolError, match="不是文件夹"):
        prepare_folder(tmp_path / "f")


def test_serve_warns_off_loopback(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "xltool", "serve", "--no-browser", "--host", "0.0.0.0", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    try:
        assert proc.stdout.readline().startswith("http://127.0.0.1:")
        assert "警告" in proc.stderr.readline()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)


# --------------------------------------------------------------------------- a real browser

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="needs Debian's chromium and chromium-driver")
def test_the_year_in_chromium(tmp_path):
    """Upload the roster, download the templates, drop two filled returns, see the findings, consolidate,
    download the county workbook: it validates."""
    pytest.importorskip("selenium")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    year, downloads = tmp_path / "汤旺县", tmp_path / "downloads"
    year.mkdir()
    downloads.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "xltool", "serve", "--no-browser", str(year)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM or ""
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1000",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER or ""), options=options)
    until = WebDriverWait(driver, 60).until

    def downloaded(name: str) -> Path:
        until(lambda d: (downloads / name).exists() and not list(downloads.glob("*.crdownload")))
        return downloads / name

    try:
        url = proc.stdout.readline().strip()
        driver.get(url)
        assert driver.current_url.endswith("/") and "token" not in driver.current_url  # the cookie holds it
        driver.find_element(By.LINK_TEXT, "1 名单和模板").click()
        driver.find_element(By.ID, "roster-file").send_keys(str(ROSTER))
        until(lambda d: "乌伊岭镇" in d.find_element(By.TAG_NAME, "table").text)

        driver.find_element(By.ID, "templates-year").clear()
        driver.find_element(By.ID, "templates-year").send_keys("2024")
        driver.find_element(By.CSS_SELECTOR, "#templates-form button").click()
        until(lambda d: d.find_elements(By.ID, "templates-zip")).pop().click()
        with zipfile.ZipFile(downloaded("2024年度填报模板.zip")) as z:
            assert len(z.namelist()) == len(list((year / "1-下发模板").glob("*.xlsx"))) > 5

        filled = tmp_path / "filled"
        returns = [
            make_return(filled, TOWN, name="乌伊岭镇 最终版.xlsx"),
            make_return(filled, TOWN2, WRONG, name="汤旺河镇.xlsx"),
        ]
        driver.find_element(By.LINK_TEXT, "2 收件箱").click()
        driver.find_element(By.ID, "inbox-files").send_keys("\n".join(map(str, returns)))
        until(lambda d: "有错误" in d.find_element(By.CSS_SELECTOR, "table.status").text)
        status = driver.find_element(By.CSS_SELECTOR, "table.status").text
        assert "通过" in status and "未报送" in status

        driver.find_element(By.LINK_TEXT, "3 校验").click()
        driver.find_element(By.LINK_TEXT, "错误").click()
        findings = driver.find_element(By.CSS_SELECTOR, "table.findings").text
        assert "T3-R1" in findings and "表三" in findings and "警告" not in findings.split("\n", 1)[1]
        driver.find_element(By.LINK_TEXT, "全部").click()
        driver.save_screenshot(str(tmp_path / "serve.png"))  # the README's picture: XLTOOL_SCREENSHOT=docs/serve.png
        if os.environ.get("XLTOOL_SCREENSHOT"):
            shutil.copy(tmp_path / "serve.png", os.environ["XLTOOL_SCREENSHOT"])
        driver.find_element(By.ID, "check-zip").click()
        with zipfile.ZipFile(downloaded("校验报告和批注副本.zip")) as z:
            assert "3-校验/校验报告.xlsx" in z.namelist()

        driver.find_element(By.LINK_TEXT, "4 汇总").click()
        driver.find_element(By.CSS_SELECTOR, "#consolidate-form button[type=submit]").click()
        link = until(lambda d: d.find_elements(By.CSS_SELECTOR, "a.output")).pop()
        assert "已生成汇总表" in driver.find_element(By.ID, "message").text
        name = link.text
        link.click()
        county = downloaded(name)
        result = validate_paths([county])
        assert result.valid and result.records[0].ident.unit_code == "230723"
    finally:
        driver.quit()
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
