"""``xltool serve``: the year's working folder as pages in the browser, for a clerk who does not use a
terminal. Server-rendered pages (Starlette + Jinja2) over the same library functions as the CLI, on the
same folder layout as ``xltool demo`` writes, so the page and the CLI can take turns at any step.

Security: loopback only by default; every request needs the token printed with the URL (``?token=``
once, then an HttpOnly SameSite=Strict cookie, or the ``X-Xltool-Token`` header); the Host header must
name this server on loopback (DNS rebinding); requests that change anything need the token itself,
not only the cookie (CSRF); request bodies are bounded as they stream, uploads named safely and
written atomically; connections are capped and each has a deadline for its headers (``connections``).
"""

from __future__ import annotations

import secrets
import socket
import sys
import threading
from pathlib import Path

from xltool.app.serve.app import create_app
from xltool.app.serve.connections import BACKLOG, HEADER_BYTES, connection_cap, protocol, raise_fd_limit
from xltool.app.serve.folder import safe_name, validate_in, write_atomically
from xltool.app.serve.security import LOOPBACK, WILDCARDS, Limits
from xltool.errors import XltoolError, os_reason


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    sock.setblocking(False)
    return sock


def link(host: str, port: int, token: str) -> tuple[str, str]:
    """The URL to print for a server listening on ``host``, and a note ("" when none is needed):
    an IPv6 address in brackets; listening on every address (0.0.0.0, ::), this machine's own."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    url = f"http://{'[' + shown + ']' if ':' in shown else shown}:{port}/?token={token}"
    note = ""
    if host in WILDCARDS:
        note = f"其他电脑请把链接中的 {shown} 换成本机的 IP 地址（令牌不变）。"
    return url, note


def prepare_folder(folder: str | Path) -> bool:
    """The year's folder made when it does not exist yet (with its parents); True when it was made.
    A file of that name, or a folder that cannot be made, is an XltoolError said in Chinese."""
    folder = Path(folder)
    if folder.is_dir():
        return False
    if folder.exists() or folder.is_symlink():
        raise XltoolError(f"不是文件夹：{folder}")
    try:
        folder.mkdir(parents=True)
    except FileExistsError:
        if folder.is_dir():
            return False
        raise XltoolError(f"不是文件夹：{folder}") from None
    except OSError as exc:
        raise XltoolError(f"无法新建文件夹 {folder}：{os_reason(exc)}") from None
    return True


def warm_up() -> None:
    """Check the bundled sample returns once, in the background as the server starts: the imports
    (pandas, pandera) and the rules' schema are then ready, and the first upload's result shows as
    fast as the next (about 2 s otherwise)."""
    try:
        from samples import SAMPLES_DIR
        from xltool.validate import validate_paths

        validate_paths([SAMPLES_DIR / "汤旺县" / "2024" / "收件箱"])  # a return that passes, one with errors
    except Exception:  # only a head start: the upload reads on whatever happens here
        return


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
        raise XltoolError(f"无法在 {host}:{port} 上监听：{os_reason(exc)}") from None
    port = sock.getsockname()[1]
    url, note = link(host, port, token)
    print(url, flush=True)
    if host not in LOOPBACK:
        print(
            f"警告：--host {host} 让本机以外的电脑也能连接（凭链接中的令牌）；只在可信的网络中这样用。{note}",
            file=sys.stderr,
            flush=True,
        )
    print(f"xltool serve：{folder.resolve()}。在浏览器中打开上面的链接；按 Ctrl-C 停止。", file=sys.stderr, flush=True)
    app = create_app(folder, token, port=port, host=host)
    most = connection_cap(raise_fd_limit())
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        http=protocol(most),
        limit_concurrency=most + 1,  # connections are capped by the protocol; requests beyond: 503
        timeout_keep_alive=5,
        h11_max_incomplete_event_size=HEADER_BYTES,
        backlog=BACKLOG,
    )
    server = uvicorn.Server(config)
    threading.Thread(target=warm_up, name="xltool-warm-up", daemon=True).start()
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
