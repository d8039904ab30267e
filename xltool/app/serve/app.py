"""The app: the routes table, the Guard around it, and what the handlers share on ``app.state``
(the year's folder, the jobs, the upload limits, the token, the page templates)."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from xltool.app.serve.api import (
    api_check,
    api_consolidate,
    api_job,
    api_publish,
    api_roster,
    api_status,
    api_templates,
    api_upload,
    api_validate,
    check_zip,
    download,
    templates_zip,
)
from xltool.app.serve.compare import api_compare, compare_page
from xltool.app.serve.folder import Year
from xltool.app.serve.jobs import Jobs
from xltool.app.serve.pages import check_page, consolidate_page, favicon, home, inbox_page, publish_page, roster_page
from xltool.app.serve.security import LOOPBACK, WILDCARDS, Bodies, Guard, Limits

WEB = Path(__file__).parents[1] / "web"

ROUTES = [
    Route("/", home),
    Route("/roster", roster_page),
    Route("/inbox", inbox_page),
    Route("/check", check_page),
    Route("/consolidate", consolidate_page),
    Route("/publish", publish_page),
    Route("/compare", compare_page),
    Route("/favicon.ico", favicon),
    Route("/api/status", api_status),
    Route("/api/roster", api_roster, methods=["POST"]),
    Route("/api/templates", api_templates, methods=["POST"]),
    Route("/api/upload", api_upload, methods=["POST"]),
    Route("/api/check", api_check, methods=["POST"]),
    Route("/api/consolidate", api_consolidate, methods=["POST"]),
    Route("/api/validate", api_validate, methods=["POST"]),
    Route("/api/publish", api_publish, methods=["POST"]),
    Route("/api/compare", api_compare, methods=["POST"]),
    Route("/api/jobs/{job_id}", api_job),
    Route("/download/templates.zip", templates_zip),
    Route("/download/check.zip", check_zip),
    Route("/download/{area}/{name}", download),
]


def create_app(
    folder: str | Path,
    token: str,
    port: int | None = None,
    host: str | None = None,
    limits: Limits | None = None,
) -> Starlette:
    """The app over the year's ``folder`` (名单, 1-下发模板, 2-收件箱, 3-校验, 4-退回修改, 5-汇总, 7-发布).
    ``port``: the port the server listens on; the Host header must then be ``127.0.0.1``,
    ``localhost`` or ``[::1]`` with that port (and ``host`` too, when it listens elsewhere); without
    it any port is accepted on those names (tests, a proxy)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    static = Mount("/static", app=StaticFiles(directory=WEB / "static"), name="static")
    app = Starlette(routes=[*ROUTES, static])
    app.add_middleware(Bodies)  # inside the Guard: bodies are bounded for requests let in
    app.add_middleware(
        Guard,
        token=token,
        hosts=_hosts(port, host),
        names={"127.0.0.1", "localhost", "::1"},
        any_ip_port=port if port is not None and host in WILDCARDS else None,
    )
    app.state.year = Year(Path(folder))
    app.state.jobs = Jobs()
    app.state.limits = limits or Limits.from_env()
    app.state.token = token
    app.state.templates = Environment(
        loader=FileSystemLoader(WEB / "templates"), autoescape=select_autoescape(["html"])
    )
    return app


def _hosts(port: int | None, host: str | None) -> set[str] | None:
    """The Host headers accepted when the port is known; None: any port on the loopback names."""
    if port is None:
        return None
    hosts = {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}
    if host and host not in LOOPBACK:
        hosts.add(f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
    return hosts
