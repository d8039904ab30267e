"""Hostile requests to ``xltool serve``: what a page or a program on this machine could send to
starve or crash the server. Each generator is bounded in what it sends and how long it holds, and
works on loopback only (``127.0.0.1`` / ``::1``)."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator

ODD_NAMES = (
    "%00.xlsx",
    "a%00b.xlsx",
    "..",
    "%2e%2e",
    "..%2f..%2fetc%2fpasswd",
    "..%5c..%5cwindows",
    "%2fetc%2fpasswd",
    ".hidden",
    "~$lock.xlsx",
    "x" * 300 + ".xlsx",
    "汉" * 200 + ".xlsx",
    "%ff%fe.xlsx",
    "%c0%ae%c0%ae",
    "CON",
    "nul.xlsx",
    "a%0d%0aSet-Cookie:%20x=1",
    "%e2%80%ae.xlsx",
    "a:b.xlsx",
    "*",
    " ",
)
"""Path parameters no route should answer with a 5xx (URL-encoded, as they would arrive)."""


@contextlib.contextmanager
def slow_headers(port: int, count: int, host: str = "127.0.0.1") -> Iterator[list[socket.socket]]:
    """``count`` connections that send the start of a request line and then nothing: held open while
    the block runs, closed after it. The caller's open-file limit must allow ``count`` sockets."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    held: list[socket.socket] = []
    try:
        for _ in range(count):
            s = socket.socket(family, socket.SOCK_STREAM)
            s.settimeout(5)
            try:
                s.connect((host, port))
                s.sendall(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ")
            except OSError:  # refused or reset once the server sheds it: still a socket held here
                pass
            held.append(s)
        yield held
    finally:
        for s in held:
            s.close()


def declared_body(port: int, path: str, token: str, declared: int, send: int = 0, timeout: float = 10) -> bytes:
    """A POST declaring ``declared`` bytes that sends only ``send`` of them; the server's answer (what
    it sent before closing or within ``timeout`` seconds)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Xltool-Token: {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {declared}\r\n\r\n"
        )
        s.sendall(head.encode())
        if send:
            with contextlib.suppress(OSError):
                s.sendall(b" " * send)
        return _answer(s, timeout)


def chunked_body(
    port: int, path: str, token: str, total: int, content_type: str = "application/json", timeout: float = 20
) -> bytes:
    """A POST whose body (``total`` bytes of spaces, 64 KB a chunk) is sent chunked, no length declared:
    the server must count it as it streams. Stops sending when the server answers or closes."""
    chunk = b" " * 65536
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Xltool-Token: {token}\r\n"
            f"Content-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        s.sendall(head.encode())
        sent, deadline = 0, time.monotonic() + timeout
        with contextlib.suppress(OSError):
            while sent < total and time.monotonic() < deadline:
                s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
            s.sendall(b"0\r\n\r\n")
        return _answer(s, timeout)


def _answer(s: socket.socket, timeout: float) -> bytes:
    s.settimeout(timeout)
    data = b""
    with contextlib.suppress(OSError):
        while chunk := s.recv(65536):
            data += chunk
            if b"\r\n\r\n" in data and data.endswith(b"}"):
                break
    return data


def status_of(answer: bytes) -> int:
    """The status code of a raw HTTP answer (0 when there is none)."""
    try:
        return int(answer.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0
