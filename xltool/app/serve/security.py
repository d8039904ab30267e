"""Who may use the server and how much they may send: the token (query once, then cookie, or
header), the Host check (DNS rebinding), the token itself for changes (CSRF), security headers, and
the bounds on request bodies (declared and streamed size, files, concurrent uploads)."""

from __future__ import annotations

import hmac
import ipaddress
import threading
import time
from dataclasses import dataclass

import anyio
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xltool.errors import XltoolError
from xltool.read.safety import env_int

COOKIE = "xltool_token"
HEADER = "x-xltool-token"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
WILDCARDS = ("0.0.0.0", "::")  # every address of the machine
SAFE_METHODS = ("GET", "HEAD")
PAGES = ("/", "/roster", "/inbox", "/check", "/consolidate", "/publish", "/compare")
UPLOAD_PATHS = ("/api/upload", "/api/validate", "/api/roster")
MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Bounds on what a request may send; ``XLTOOL_SERVE_MAX_FILE_MB``, ``XLTOOL_SERVE_MAX_FILES`` and
    ``XLTOOL_SERVE_MAX_REQUEST_MB`` override the upload defaults (a return is about 30 KB).

    ``form_bytes``: the body of any other request (the steps' JSON or form fields); ``uploads``: upload
    requests handled at once, others waiting up to ``upload_wait`` seconds, then refused (503)."""

    file_bytes: int = 50 * MB
    files: int = 500
    request_bytes: int = 1024 * MB
    form_bytes: int = 1 * MB
    uploads: int = 2
    upload_wait: float = 30.0

    @classmethod
    def from_env(cls) -> Limits:
        return cls(
            file_bytes=env_int("XLTOOL_SERVE_MAX_FILE_MB", 50) * MB,
            files=env_int("XLTOOL_SERVE_MAX_FILES", 500),
            request_bytes=env_int("XLTOOL_SERVE_MAX_REQUEST_MB", 1024) * MB,
        )


class Guard:
    """ASGI middleware: Host check (DNS rebinding), token (query once, then cookie, or header), token
    itself (not the cookie) for requests that change anything (CSRF), security headers."""

    def __init__(
        self,
        app: ASGIApp,
        token: str,
        hosts: set[str] | None,
        names: set[str],
        any_ip_port: int | None = None,
    ):
        self.app, self.token, self.hosts, self.names = app, token, hosts, names
        self.any_ip_port = any_ip_port

    def host_ok(self, host: str) -> bool:
        """``any_ip_port``: listening on every address (0.0.0.0, ::), any IP address with that port is
        accepted too; a DNS rebinding attack needs a name, never an address."""
        host = host.lower()
        if self.any_ip_port is not None and _ip_with_port(host, self.any_ip_port):
            return True
        if self.hosts is not None:
            return host in self.hosts
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return name.strip("[]") in self.names

    def matches(self, value: str | None) -> bool:
        return bool(value) and hmac.compare_digest(str(value).encode(), self.token.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        host = request.headers.get("host", "")
        origin = request.headers.get("origin")
        if not self.host_ok(host) or (origin is not None and origin.split("://", 1)[-1].lower() != host.lower()):
            await _refuse("Host 不被接受（只接受本机地址）")(scope, receive, send)
            return
        query = request.query_params.get("token")
        header = request.headers.get(HEADER)
        cookie = request.cookies.get(COOKIE)
        if request.method in SAFE_METHODS:
            allowed = self.matches(query) or self.matches(header) or self.matches(cookie)
        else:
            allowed = self.matches(header) or self.matches(query)
        if not allowed:
            await _refuse("缺少或错误的令牌：请使用 xltool serve 打印的链接打开本页")(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"x-frame-options", b"DENY"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"cache-control", b"no-store"),
                    (b"content-security-policy", b"default-src 'self'; frame-ancestors 'none'; form-action 'self'"),
                ]
                if self.matches(query) and not self.matches(cookie):
                    cookie_value = f"{COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict"
                    headers.append((b"set-cookie", cookie_value.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        if request.method in SAFE_METHODS and self.matches(query) and scope["path"] in PAGES:
            # the token leaves the address bar (and the history) once the cookie holds it
            await RedirectResponse(scope["path"], status_code=303)(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)


def _ip_with_port(host: str, port: int) -> bool:
    name, _, given = host.rpartition(":")
    if given != str(port):
        return False
    try:
        ipaddress.ip_address(name[1:-1] if name.startswith("[") and name.endswith("]") else name)
    except ValueError:
        return False
    return True


def _refuse(why: str) -> Response:
    return PlainTextResponse(f"403 禁止访问：{why}", status_code=403)


# --------------------------------------------------------------------------- request bodies


class BodyTooLarge(Exception):
    """The body streamed past its bound (``Bodies``)."""


class Bodies:
    """ASGI middleware: a request body is refused by its declared size before anything is read (413),
    counted while it streams (chunked, or longer than declared) and cut at its bound; uploads
    (``UPLOAD_PATHS``, bounded by ``Limits.request_bytes``) are handled ``Limits.uploads`` at a time;
    any other body (the steps' JSON and forms) is bounded by ``Limits.form_bytes``. The limits are
    read from ``app.state.limits`` at each request."""

    def __init__(self, app: ASGIApp):
        self.app = app
        self.lock = threading.Lock()  # the uploads in progress are counted across event loops (tests)
        self.running = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        limits: Limits = scope["app"].state.limits
        upload = scope["path"] in UPLOAD_PATHS
        most = limits.request_bytes if upload else limits.form_bytes
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and not declared.strip().isdigit():
            await error("请求的长度（Content-Length）无效", 400)(scope, receive, send)
            return
        if declared is not None and int(declared) > most:
            await error(_too_large(most, upload), 413, close=True)(scope, receive, send)
            return
        if upload and not await self._enter(limits):
            await error("正在处理其他上传，请稍后再试", 503, close=True)(scope, receive, send)
            return
        seen, started = 0, False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > most:
                    raise BodyTooLarge
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge:
            if started:
                raise
            await error(_too_large(most, upload), 413, close=True)(scope, receive, send)
        finally:
            if upload:
                with self.lock:
                    self.running -= 1

    async def _enter(self, limits: Limits) -> bool:
        deadline = time.monotonic() + limits.upload_wait
        while True:
            with self.lock:
                if self.running < limits.uploads:
                    self.running += 1
                    return True
            if time.monotonic() >= deadline:
                return False
            await anyio.sleep(0.05)


def _too_large(most: int, upload: bool) -> str:
    if upload:
        return f"上传的内容过大（一次最多 {_mb(most)}）"
    return f"请求的内容过大（最多 {_mb(most)}）"


def _mb(n: int) -> str:
    return f"{n // MB} MB" if n >= MB else f"{max(1, n // 1024)} KB"


class FileTooLarge(XltoolError):
    """One uploaded file streamed past ``Limits.file_bytes``."""

    def __init__(self, filename: str):
        super().__init__(filename)
        self.filename = filename


class _Parser(MultiPartParser):
    """Starlette's parser, with each file counted while it streams and cut at ``file_bytes``: a file
    too large is refused at its bound, not after it was spooled whole."""

    def __init__(self, headers: Headers, request: Request, most: int, file_bytes: int):
        super().__init__(headers, request.stream(), max_files=most, max_fields=100)
        self.file_bytes, self.part_bytes = file_bytes, 0

    def on_part_begin(self) -> None:
        super().on_part_begin()
        self.part_bytes = 0

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        super().on_part_data(data, start, end)
        file = self._current_part.file
        if file is not None:
            self.part_bytes += end - start
            if self.part_bytes > self.file_bytes:
                raise FileTooLarge(file.filename or "")


def form_message(exc: MultiPartException | str, most_files: int) -> str:
    """python-multipart's and Starlette's refusals of a form, in Chinese."""
    text = exc if isinstance(exc, str) else exc.message
    if text.startswith("Too many files"):
        return f"文件过多（一次最多 {most_files} 个）" if most_files else "此处不接受上传文件"
    if text.startswith("Too many fields"):
        return "表单字段过多"
    if "exceeded maximum size" in text:
        return "表单字段过大"
    return "上传的内容无法读取（不是有效的 multipart/form-data）"


async def uploads(request: Request, limits: Limits, max_files: int | None = None) -> list[UploadFile] | Response:
    """The request's files (field ``files``, or ``file``), within the limits; refused whole otherwise
    (the request's size is bounded by ``Bodies`` as it streams, each file here)."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return error("请以 multipart/form-data 上传文件（字段 files）", 400)
    most = min(limits.files, max_files or limits.files)
    try:
        form = await _Parser(request.headers, request, most, limits.file_bytes).parse()
    except FileTooLarge as exc:
        return error(f"文件过大（每个最多 {_mb(limits.file_bytes)}）：{exc.filename}", 413, close=True)
    except MultiPartException as exc:
        return error(form_message(exc, most), 413 if exc.message.startswith("Too many") else 400)
    return [v for k in ("files", "file") for v in form.getlist(k) if isinstance(v, UploadFile)]


def error(message: str, status: int, close: bool = False) -> JSONResponse:
    """``{"error": message}``; ``close``: the connection closed after it (a body left unread)."""
    return JSONResponse({"error": message}, status_code=status, headers={"connection": "close"} if close else None)
