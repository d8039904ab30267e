"""``xltool serve``: the year's working folder as pages in the browser, for a clerk who does not use a
terminal. Server-rendered pages (Starlette + Jinja2) over the same library functions as the CLI, on the
same folder layout as ``xltool demo`` writes, so the page and the CLI can take turns at any step.

Security: loopback only by default; every request needs the token printed with the URL (``?token=``
once, then an HttpOnly SameSite=Strict cookie, or the ``X-Xltool-Token`` header); the Host header must
name this server on loopback (DNS rebinding); requests that change anything need the token itself,
not only the cookie (CSRF); uploads are bounded, named safely and written atomically.
"""

from __future__ import annotations

import secrets
import socket
import sys
import threading
from pathlib import Path

from xltool.app.serve.app import create_app
from xltool.app.serve.folder import safe_name, validate_in, write_atomically
from xltool.app.serve.security import LOOPBACK, Limits
from xltool.errors import XltoolError


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def serve(
    folder: str | Path = ".",
    host: str = "127.0.0.1",
    port: int = 0,
    open_browser: bool = True,
    token: str | None = None,
) -> None:
    """Serve ``folder`` until Ctrl-C. The first line on stdout is the URL with the token; the socket is
    bound before it is printed, so the port is real even with ``port=0``."""
    import webbrowser

    import uvicorn

    folder = Path(folder)
    if not folder.is_dir():
        raise XltoolError(f"文件夹不存在：{folder}")
    token = token or secrets.token_urlsafe(32)
    try:
        sock = _bind(host, port)
    except OSError as exc:
        raise XltoolError(f"无法在 {host}:{port} 上监听：{exc}") from None
    port = sock.getsockname()[1]
    shown = "127.0.0.1" if host in LOOPBACK or host in ("0.0.0.0", "::") else host
    url = f"http://{'[' + shown + ']' if ':' in shown else shown}:{port}/?token={token}"
    print(url, flush=True)
    if host not in LOOPBACK:
        print(
            f"警告：--host {host} 让本机以外的电脑也能连接（凭链接中的令牌）；只在可信的网络中这样用。",
            file=sys.stderr,
            flush=True,
        )
    print(f"xltool serve：{folder.resolve()}。在浏览器中打开上面的链接；按 Ctrl-C 停止。", file=sys.stderr, flush=True)
    app = create_app(folder, token, port=port, host=host)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    if open_browser:
        threading.Timer(0.5, webbrowser.open, [url]).start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    print("xltool serve 已停止。", file=sys.stderr, flush=True)


__all__ = ["Limits", "create_app", "safe_name", "serve", "validate_in", "write_atomically"]
