"""The pages: server-rendered from the folder as it is now (Jinja2 templates in ``web/templates``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

from xltool.app.serve.folder import CONSOLIDATED, PUBLISHED, RETURNED, TEMPLATES, Year


def folder_of(request: Request) -> Year:
    """The year's folder the app serves (``app.state.year``)."""
    year: Year = request.app.state.year
    return year


def page(name: str, request: Request, **context: Any) -> HTMLResponse:
    """``web/templates/{name}.html`` with what every page shows (roster, year, version, token)."""
    from xltool import __version__

    year = folder_of(request)
    units, roster_error = year.roster()
    base = {
        "token": request.app.state.token,
        "active": name,
        "folder": str(year.folder),
        "year": year.year(),
        "units": units,
        "roster_error": roster_error,
        "roster_file": year.roster_path.name if year.roster_path else "",
        "version": __version__,
    }
    return HTMLResponse(request.app.state.templates.get_template(f"{name}.html").render(**base, **context))


def check_view(year: Year, show: str = "") -> dict[str, Any]:
    """The last check as the pages show it: a row per file and per missing unit, the findings (of one
    severity, or without R-MISSING for ``show="files"``), counts, and whether the inbox changed since."""
    found = year.check_report()
    if found is None:
        return {"check": None, "rows": [], "findings": [], "stale": True}
    path, data = found
    when = dt.datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
    rows = status_rows(data)
    findings = [f for f in data.get("findings", []) if f.get("rule") != "R-MISSING" or show != "files"]
    if show in ("error", "warning"):
        findings = [f for f in findings if f.get("severity") == show]
    counts = {k: sum(1 for r in rows if r["status"] == k) for k in ("passed", "warnings", "errors", "missing")}
    return {
        "check": data,
        "check_file": year.rel(path),
        "check_time": when,
        "rows": rows,
        "findings": findings,
        "stale": year.check_stale(),
        "counts": counts,
    }


def status_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per file, then one per roster unit that sent nothing."""
    rows = [dict(w) for w in data.get("workbooks", [])]
    for f in data.get("findings", []):
        if f.get("rule") == "R-MISSING":
            rows.append(
                {
                    "unit_code": f["unit_code"],
                    "unit_name": f["unit_name"],
                    "file": "",
                    "status": "missing",
                    "errors": 0,
                    "warnings": 0,
                }
            )
    return sorted(rows, key=lambda r: (r["status"] == "missing", not r["unit_code"], r["unit_code"], r["file"]))


FAVICON = Path(__file__).parents[1] / "web" / "static" / "favicon.svg"


async def favicon(request: Request) -> Response:
    """The tab's icon (an SVG, served where browsers look for it)."""
    return FileResponse(FAVICON, media_type="image/svg+xml")


async def home(request: Request) -> Response:
    year = folder_of(request)
    return page(
        "home",
        request,
        inbox=year.inbox(),
        templates=year.files(TEMPLATES, (".xlsx",)),
        outputs=year.files(CONSOLIDATED, (".xlsx",)),
        published=year.files(PUBLISHED),
        **check_view(year),
    )


async def roster_page(request: Request) -> Response:
    return page("roster", request, templates=folder_of(request).files(TEMPLATES, (".xlsx",)))


async def inbox_page(request: Request) -> Response:
    year = folder_of(request)
    return page("inbox", request, inbox=year.inbox(), limits=request.app.state.limits, **check_view(year))


async def check_page(request: Request) -> Response:
    year = folder_of(request)
    show = request.query_params.get("show", "")
    return page(
        "check",
        request,
        show=show,
        annotated=year.files(RETURNED, (".xlsx", ".xlsm")),
        report=year.report_workbook(),
        **check_view(year, show),
    )


async def consolidate_page(request: Request) -> Response:
    year = folder_of(request)
    view = check_view(year)
    dupes: dict[str, list[str]] = {}
    for f in (view["check"] or {}).get("findings", []):
        if f.get("rule") == "R-DUPLICATE":
            dupes.setdefault(f"{f['unit_name']}（{f['unit_code']}）", []).append(f["file"])
    return page(
        "consolidate",
        request,
        inbox=[year.rel(p) for p in year.inbox()],
        dupes=dupes,
        county=year.county(),
        outputs=year.files(CONSOLIDATED, (".xlsx",)),
        by_file={r["file"]: r["status"] for r in view["rows"] if r["file"]},
        **view,
    )


async def publish_page(request: Request) -> Response:
    year = folder_of(request)
    view = check_view(year)
    sources = [year.rel(p) for p in year.files(CONSOLIDATED, (".xlsx",))] + [year.rel(p) for p in year.inbox()]
    return page(
        "publish",
        request,
        sources=sources,
        published=year.files(PUBLISHED),
        by_file={r["file"]: r["status"] for r in view["rows"] if r["file"]},
        **view,
    )
