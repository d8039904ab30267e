"""Who may use the server and how much they may send: the token (query once, then cookie, or
header), the Host check (DNS rebinding), the token itself for changes (CSRF), security headers, and
the upload bounds."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xltool.read.safety import env_int

COOKIE = "xltool_token"
HEADER = "x-xltool-token"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
SAFE_METHODS = ("GET", "HEAD")
PAGES = ("/", "/roster", "/inbox", "/check", "/consolidate", "/publish")


@dataclass(frozen=True)
class Limits:
    """Upload bounds; ``XLTOOL_SERVE_MAX_FILE_MB``, ``XLTOOL_SERVE_MAX_FILES`` and
    ``XLTOOL_SERVE_MAX_REQUEST_MB`` override the defaults (a return is about 30 KB)."""

    file_bytes: int = 50 * 1024 * 1024
    files: int = 500
    request_bytes: int = 1024 * 1024 * 1024

    @classmethod
    def from_env(cls) -> Limits:
        mb = 1024 * 1024
        return cls(
            file_bytes=env_int("XLTOOL_SERVE_MAX_FILE_MB", 50) * mb,
            files=env_int("XLTOOL_SERVE_MAX_FILES", 500),
            request_bytes=env_int("XLTOOL_SERVE_MAX_REQUEST_MB", 1024) * mb,
        )


class Guard:
    """ASGI middleware: Host check (DNS rebinding), token (query once, then cookie, or header), token
    itself (not the cookie) for requests that change anything (CSRF), security headers."""

    def __init__(self, app: ASGIApp, token: str, hosts: set[str] | None, names: set[str]):
        self.app, self.token, self.hosts, self.names = app, token, hosts, names

    def host_ok(self, host: str) -> bool:
        host = host.lower()
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


def _refuse(why: str) -> Response:
    return PlainTextResponse(f"403 禁止访问：{why}", status_code=403)


async def uploads(request: Request, limits: Limits, max_files: int | None = None) -> list[UploadFile] | Response:
    """The request's files (field ``files``, or ``file``), within the limits; refused whole otherwise."""
    size = request.headers.get("content-length")
    if size is None or not size.isdigit():
        return error("上传请求缺少长度（Content-Length）", 411)
    if int(size) > limits.request_bytes:
        return error(f"上传的内容过大（一次最多 {limits.request_bytes // (1 << 20)} MB）", 413)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return error("请以 multipart/form-data 上传文件（字段 files）", 400)
    most = min(limits.files, max_files or limits.files)
    try:
        form = await request.form(max_files=most, max_fields=100)
    except Exception as exc:  # python-multipart or Starlette refusing the body (too many parts, malformed)
        return error(f"上传的内容无法读取，或文件过多（一次最多 {most} 个）：{getattr(exc, 'detail', exc)}", 413)
    files = [v for k in ("files", "file") for v in form.getlist(k) if isinstance(v, UploadFile)]
    too_big = [f.filename for f in files if (f.size or 0) > limits.file_bytes]
    if too_big:
        return error(f"文件过大（每个最多 {limits.file_bytes // (1 << 20)} MB）：" + "、".join(map(str, too_big)), 413)
    return files


def error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)
