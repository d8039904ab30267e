"""``xltool serve`` holds against hostile requests (issue 21): a flood of connections that never finish
their headers, bodies too large by their declared or streamed size, odd path parameters on every
route, and ``--host`` links that work. The requests are built in ``tests/hostile/server.py``; every
test is bounded in what it sends and how long it waits, and uses loopback only."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from hostile.server import ODD_NAMES, chunked_body, declared_body, slow_headers, status_of
from starlette.testclient import TestClient

from xltool.app.serve import Limits, create_app, link
from xltool.app.serve.app import ROUTES
from xltool.app.serve.connections import protocol

TOKEN = "test-token-0123456789"
POSIX = os.name == "posix"


def client(folder: Path, limits: Limits | None = None) -> TestClient:
    c = TestClient(create_app(folder, TOKEN, port=8765, limits=limits), base_url="http://127.0.0.1:8765")
    c.headers["X-Xltool-Token"] = TOKEN
    return c


def get(url: str, token: str, timeout: float = 5) -> int:
    req = urllib.request.Request(url, headers={"X-Xltool-Token": token})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return int(r.status)


class Served:
    def __init__(self, proc: subprocess.Popen[str], url: str):
        self.proc, self.url = proc, url
        m = re.fullmatch(r"(http://[^/]+)/\?token=(.+)", url)
        assert m, url
        self.base, self.token = m.groups()
        self.port = int(self.base.rsplit(":", 1)[1])

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmRSS")


def serve(folder: Path, *args: str, fd_limit: int | None = None) -> Iterator[Served]:
    def limit() -> None:
        import resource

        assert fd_limit is not None
        resource.setrlimit(resource.RLIMIT_NOFILE, (fd_limit, fd_limit))

    proc = subprocess.Popen(
        [sys.executable, "-m", "xltool", "serve", "--no-browser", "--port", "0", *args, str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        preexec_fn=limit if fd_limit else None,  # noqa: PLW1509 (POSIX only, before exec)
    )
    try:
        assert proc.stdout is not None
        yield Served(proc, proc.stdout.readline().strip())
    finally:
        proc.terminate()
        try:
            proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    yield from serve(tmp_path)


# --------------------------------------------------------------------------- connections


@pytest.mark.slow
@pytest.mark.skipif(not POSIX, reason="sets the server's open-file limit (POSIX)")
def test_slow_header_flood_does_not_starve_the_server(tmp_path):
    """1,100 sockets that send half a request line and hold it, against a server allowed 600 open
    files: the next normal request still answers within a few seconds, and nothing floods the log."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1300:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    gen = serve(tmp_path, fd_limit=600)
    server = next(gen)
    try:
        assert get(server.base + "/api/status", server.token) == 200
        with slow_headers(server.port, 1100):
            start = time.monotonic()
            assert get(server.base + "/api/status", server.token, timeout=10) == 200
            assert time.monotonic() - start < 5
        assert get(server.base + "/api/status", server.token) == 200
    finally:
        server.proc.terminate()
        _out, err = server.proc.communicate(timeout=20)
        gen.close()
    assert "Too many open files" not in err and "Traceback" not in err, err[-2000:]


def _uvicorn_in_thread(app: object, most: int, header_seconds: float) -> tuple[uvicorn.Server, int, threading.Thread]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    config = uvicorn.Config(app, log_level="warning", lifespan="off", http=protocol(most, header_seconds))  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    return server, sock.getsockname()[1], thread


def _closed(s: socket.socket, within: float) -> bool:
    s.settimeout(within)
    try:
        return s.recv(100) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_header_deadline_and_cap(tmp_path):
    """A connection that has not sent its headers within the deadline is closed; past the cap the
    oldest such connection makes room for the new one."""
    app = create_app(tmp_path, TOKEN)
    server, port, thread = _uvicorn_in_thread(app, most=4, header_seconds=0.5)
    try:
        with slow_headers(port, 1) as (slow,):
            assert _closed(slow, 3)  # the deadline
        with slow_headers(port, 4) as held:
            url = f"http://127.0.0.1:{port}/api/status"
            assert get(url, TOKEN) == 200  # room made at once
            assert _closed(held[0], 0.2)  # the oldest went
        # a keep-alive connection that starts its next request and stalls is closed too
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(f"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Xltool-Token: {TOKEN}\r\n\r\n".encode())
            time.sleep(0.2)
            assert s.recv(65536).startswith(b"HTTP/1.1 200")
            s.sendall(b"GET /api/sta")
            assert _closed(s, 3)
    finally:
        server.should_exit = True
        thread.join(10)


# --------------------------------------------------------------------------- bodies


def test_declared_length_over_the_bound_is_refused_at_once(served):
    start = time.monotonic()
    answer = declared_body(served.port, "/api/consolidate", served.token, 300 * 1024 * 1024)
    assert status_of(answer) == 413 and "请求的内容过大" in answer.decode("utf-8", "replace")
    answer = declared_body(served.port, "/api/upload", served.token, 5 * 1024 * 1024 * 1024)
    assert status_of(answer) == 413 and "上传的内容过大" in answer.decode("utf-8", "replace")
    assert time.monotonic() - start < 5  # nothing was waited for


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the server's resident memory")
def test_streamed_body_cut_at_the_bound_and_memory_returns(served):
    before = served.rss_mb()
    answer = chunked_body(served.port, "/api/consolidate", served.token, 64 * 1024 * 1024)
    assert status_of(answer) == 413, answer[:200]
    answer = chunked_body(
        served.port, "/api/templates", served.token, 8 * 1024 * 1024, "application/x-www-form-urlencoded"
    )
    assert status_of(answer) == 413, answer[:200]
    assert get(served.base + "/api/status", served.token) == 200
    assert served.rss_mb() - before < 40


def test_upload_file_cut_while_it_streams(tmp_path):
    limits = Limits(file_bytes=100_000, request_bytes=10_000_000)
    c = client(tmp_path, limits)
    r = c.post("/api/upload", files=[("files", ("大.xlsx", b"x" * 400_000, "x"))])
    assert r.status_code == 413 and r.json()["error"] == "文件过大（每个最多 97 KB）：大.xlsx"
    assert not (tmp_path / "2-收件箱").exists() or not list((tmp_path / "2-收件箱").iterdir())
    # chunked (no length declared): counted as it streams
    body = iter(
        [b"--b\r\n", b'Content-Disposition: form-data; name="files"; filename="a.xlsx"\r\n\r\n'] + [b"y" * 65536] * 300
    )
    r = c.post("/api/upload", content=body, headers={"content-type": "multipart/form-data; boundary=b"})
    assert r.status_code == 413 and "上传的内容过大" in r.json()["error"]


def test_limit_messages_in_chinese(tmp_path):
    c = client(tmp_path, Limits(files=2))
    files = [("files", (f"{i}.xlsx", b"x", "x")) for i in range(3)]
    r = c.post("/api/upload", files=files)
    assert r.status_code == 413 and r.json()["error"] == "文件过多（一次最多 2 个）"
    r = c.post("/api/templates", files=[("files", ("a.xlsx", b"x", "x"))])
    assert r.status_code == 400 and r.json()["error"] == "此处不接受上传文件"
    r = c.post("/api/upload", content=b"garbage", headers={"content-type": "multipart/form-data"})
    assert r.status_code == 400 and "multipart/form-data" in r.json()["error"]
    r = c.post("/api/consolidate", content=b"[" * 500_000, headers={"content-type": "application/json"})
    assert r.status_code == 400  # nested past the parser's depth: not JSON, not a 500
    assert not re.search(r"[A-Za-z]{5,} [A-Za-z]{3,} [A-Za-z]{3,}", r.json()["error"]), r.json()


def test_concurrent_uploads_capped(tmp_path):
    """Past ``Limits.uploads`` uploads wait, then are refused (503, in Chinese), never all spooled."""
    c = client(tmp_path, Limits(uploads=1, upload_wait=0.3))
    release = threading.Event()

    def slow() -> Iterator[bytes]:
        yield b'--b\r\nContent-Disposition: form-data; name="files"; filename="a.xlsx"\r\n\r\nx'
        release.wait(5)
        yield b"\r\n--b--\r\n"

    codes: list[int] = []
    first = threading.Thread(
        target=lambda: codes.append(
            c.post(
                "/api/upload", content=slow(), headers={"content-type": "multipart/form-data; boundary=b"}
            ).status_code
        )
    )
    first.start()
    time.sleep(0.3)
    r = c.post("/api/upload", files=[("files", ("b.xlsx", b"x", "x"))])
    release.set()
    first.join(10)
    assert r.status_code == 503 and r.json()["error"] == "正在处理其他上传，请稍后再试"
    assert codes == [200]


# --------------------------------------------------------------------------- odd paths


def _odd_paths(path: str) -> list[str]:
    if "{" not in path:
        return [path, path + "?files=%00&year=%00&overwrite=1"]
    out = []
    for odd in ODD_NAMES:
        out.append(re.sub(r"\{[a-z_]+\}", odd, path))
        out.append(re.sub(r"\{name\}", odd, path).replace("{area}", "1-下发模板"))
    return out


ODD_BODIES = [
    {"content": b"\x00\xff", "headers": {"content-type": "application/json"}},
    {"json": {"files": ["../名单.csv", "\x00"], "use": [1, None], "year": "%00", "unit_code": "x" * 10_000}},
    {"json": [1, 2]},
    {"data": {"files": "..", "kinds": "exe", "year": "9" * 500}},
    {"content": b"--x\r\n\r\n", "headers": {"content-type": "multipart/form-data; boundary=x"}},
]


def test_every_route_answers_odd_paths_without_5xx(tmp_path):
    year = tmp_path / "year"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.xlsx").write_bytes(b"secret")
    for area in ("1-下发模板", "2-收件箱", "4-退回修改"):
        (year / area).mkdir(parents=True)
        (year / area / "link.xlsx").symlink_to(outside / "secret.xlsx")
    (year / "5-汇总").symlink_to(outside, target_is_directory=True)
    app = create_app(year, TOKEN, port=8765)
    c = TestClient(app, base_url="http://127.0.0.1:8765", raise_server_exceptions=False)
    c.headers["X-Xltool-Token"] = TOKEN
    seen = 0
    for route in ROUTES:
        for method in sorted(route.methods or ()):
            if method == "HEAD":
                continue
            for path in _odd_paths(route.path):
                bodies = ODD_BODIES if method == "POST" else [{}]
                for body in bodies:
                    r = c.request(method, path, **body)  # type: ignore[arg-type]
                    assert r.status_code < 500, (method, path, body, r.status_code, r.text[:300])
                    assert b"secret" not in r.content, (method, path)
                    seen += 1
    assert seen > 150
    for area in ("1-下发模板", "2-收件箱", "4-退回修改", "5-汇总"):
        assert c.get(f"/download/{area}/link.xlsx").status_code == 404
        assert c.get(f"/download/{area}/secret.xlsx").status_code == 404
    status = c.get("/api/status").json()
    assert status["templates"] == [] and status["inbox"] == [] and status["consolidated"] == []
    assert c.get("/download/templates.zip").status_code == 404


# --------------------------------------------------------------------------- --host


def test_links_for_each_host():
    assert link("127.0.0.1", 80, "t") == ("http://127.0.0.1:80/?token=t", "")
    assert link("::1", 80, "t") == ("http://[::1]:80/?token=t", "")
    assert link("localhost", 80, "t")[0] == "http://localhost:80/?token=t"
    assert link("0.0.0.0", 80, "t")[0] == "http://127.0.0.1:80/?token=t" and "IP" in link("0.0.0.0", 80, "t")[1]
    assert link("::", 80, "t")[0] == "http://[::1]:80/?token=t"
    assert link("fe80::1", 80, "t")[0] == "http://[fe80::1]:80/?token=t"


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.parametrize("host", ["::1", "0.0.0.0"])
def test_printed_link_works(tmp_path, host):
    if ":" in host and not _has_ipv6_loopback():
        pytest.skip("no IPv6 loopback")
    gen = serve(tmp_path, "--host", host)
    server = next(gen)
    try:
        assert get(server.url.replace("/?token=", "/api/status?token="), server.token) == 200
        if host == "0.0.0.0":
            # another machine names this one by its address: accepted (with the token)
            req = urllib.request.Request(
                f"http://127.0.0.1:{server.port}/api/status",
                headers={"X-Xltool-Token": server.token, "Host": f"10.1.2.3:{server.port}"},
            )
            with urllib.request.urlopen(req, timeout=5) as r:
                assert json.load(r)["folder"]
    finally:
        gen.close()
