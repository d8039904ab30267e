"""``xltool serve``: the year's working folder as pages in the browser, for a clerk who does not use a
terminal. Server-rendered pages (Starlette + Jinja2) over the same library functions as the CLI, on the
same folder layout as ``xltool demo`` writes, so the page and the CLI can take turns at any step.

Security: loopback only by default; every request needs the token printed with the URL (``?token=``
once, then an HttpOnly SameSite=Strict cookie, or the ``X-Xltool-Token`` header); the Host header must
name this server on loopback (DNS rebinding); requests that change anything need the token itself,
not only the cookie (CSRF); uploads are bounded, named safely and written atomically.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
import io
import json
import os
import re
import secrets
import shutil
import socket
import sys
import tempfile
import threading
import unicodedata
import uuid
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xltool.errors import XltoolError
from xltool.read.safety import env_int

WEB = Path(__file__).parent / "web"

# The year's folder, as ``xltool demo`` lays it out
ROSTER_STEM = "名单"
ROSTER_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".xls", ".ods")
TEMPLATES = "1-下发模板"
INBOX = "2-收件箱"
CHECK = "3-校验"
RETURNED = "4-退回修改"
CONSOLIDATED = "5-汇总"
PUBLISHED = "7-发布"
REPORT_XLSX = "校验报告.xlsx"
REPORT_JSON = "校验结果.json"
ANNOTATED_SUFFIX = "_校验意见"

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


# --------------------------------------------------------------------------- file names

_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
_ILLEGAL = re.compile(r'[<>:"/\\|?*]')
MAX_NAME_BYTES = 200


def safe_name(name: str, default: str = "未命名") -> str:
    """A file name that is safe on Windows and Linux and stays inside its folder: the last path part
    only, no control or invisible format characters (bidi overrides), no reserved Windows names, no
    leading dots (hidden, ``..``) nor ``~$`` (read as an Office lock file); Chinese is kept."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = _ILLEGAL.sub("_", name).strip(" .")
    if name.startswith("~$"):
        name = "_" + name[2:]
    stem, dot, suffix = name.rpartition(".") if "." in name else (name, "", "")
    if stem.split(".")[0].upper() in _WINDOWS_RESERVED:
        stem = "_" + stem
    if not stem:
        stem = default
    suffix = suffix[:16]
    while len((stem + dot + suffix).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return stem + dot + suffix


def _inside(folder: Path, path: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except OSError:
        return False


class Conflict(XltoolError):
    """A file of that name exists and overwriting was not asked for."""


def write_atomically(target: Path, data: Iterable[bytes], overwrite: bool) -> None:
    """Write beside the target under a hidden temporary name, then give it the name in one step: a reader
    never sees half a file; without ``overwrite`` the name is claimed with a hard link, which fails if
    another request took it meanwhile (Conflict), so concurrent uploads never overwrite each other."""
    fd, tmp_name = tempfile.mkstemp(prefix=".upload-", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in data:
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, target)
            return
        try:
            os.link(tmp, target)
        except FileExistsError:
            raise Conflict(target.name) from None
        except OSError:  # no hard links here (some USB sticks): claim the name, then replace it
            try:
                os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                raise Conflict(target.name) from None
            os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


# --------------------------------------------------------------------------- the year's folder


class Year:
    """What is in the year's working folder; everything is read from disk each time, so what the CLI
    wrote meanwhile shows."""

    def __init__(self, folder: Path):
        self.folder = folder.resolve()

    def sub(self, name: str) -> Path:
        return self.folder / name

    @property
    def roster_path(self) -> Path | None:
        for suffix in ROSTER_SUFFIXES:
            p = self.folder / (ROSTER_STEM + suffix)
            if p.is_file():
                return p
        return None

    def files(self, name: str, suffixes: Sequence[str] = ()) -> list[Path]:
        folder = self.sub(name)
        if not folder.is_dir():
            return []
        return sorted(
            (
                p
                for p in folder.iterdir()
                if p.is_file() and not p.name.startswith((".", "~$")) and (not suffixes or p.suffix.lower() in suffixes)
            ),
            key=lambda p: p.name.casefold(),
        )

    def inbox(self) -> list[Path]:
        from xltool.read.sources import SOURCE_SUFFIXES

        return [p for p in self.files(INBOX) if p.suffix.lower() in SOURCE_SUFFIXES]

    def rel(self, path: Path) -> str:
        return path.resolve().relative_to(self.folder).as_posix()

    def roster(self) -> tuple[list[Any] | None, str]:
        """The roster's units, or None and why not."""
        from xltool.roster import read_roster

        path = self.roster_path
        if path is None:
            return None, ""
        try:
            return read_roster(path), ""
        except XltoolError as exc:
            return None, str(exc).replace(str(self.folder) + os.sep, "")

    def year(self) -> int:
        """The report year: the templates', else the checked returns', else last year (January's work)."""
        for p in self.files(TEMPLATES, (".xlsx",)):
            m = re.search(r"_(\d{4})年", p.name)
            if m:
                return int(m.group(1))
        check = self.check_result()
        years = [w.get("year") for w in (check or {}).get("workbooks", []) if w.get("year")]
        if years:
            return max(set(years), key=years.count)
        return dt.date.today().year - 1

    def check_result(self) -> dict[str, Any] | None:
        path = self.sub(CHECK) / REPORT_JSON
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def check_stale(self) -> bool:
        """The inbox changed since the last check."""
        check = self.check_result()
        if check is None:
            return True
        checked = {w["file"] for w in check.get("workbooks", [])}
        current = {self.rel(p) for p in self.inbox()}
        if checked != current:
            return True
        stamp = (self.sub(CHECK) / REPORT_JSON).stat().st_mtime
        return any(p.stat().st_mtime > stamp for p in self.inbox())

    def county(self) -> dict[str, str]:
        """Defaults for the consolidated unit: the folder's name, the roster codes' common prefix."""
        units, _ = self.roster()
        code = os.path.commonprefix([u.code for u in units]) if units else ""
        if len(code) > 6:
            code = code[:6]
        return {"code": code, "name": self.folder.name, "level": "县"}


def validate_in(
    base: Path,
    paths: Sequence[Path],
    roster: list[Any] | None = None,
    year: int | None = None,
    progress: Callable[[int, int, str], Any] | None = None,
) -> Any:
    """``validate_paths`` with every file named relative to ``base``, as the CLI names them when run
    in ``base``: the JSON of the page and of ``xltool validate --format json`` are then the same."""
    from xltool.definition import known_formats
    from xltool.read.batch import gc_paused
    from xltool.read.discover import discover
    from xltool.read.dispatch import read_return
    from xltool.read.from_document import ReadOptions
    from xltool.validate import validate_records

    files, found = discover(paths)
    if not files:
        raise XltoolError("没有找到可校验的工作簿（.xlsx、.xlsm、.xls、.ods）")

    def name(p: Path) -> str:
        return p.relative_to(base).as_posix() if p.is_relative_to(base) else str(p)

    extra = []
    for f in found:
        shown = name(Path(f.file))
        extra.append(dataclasses.replace(f, file=shown, message=f.message.replace(f.file, shown)))
    formats = known_formats()
    options = ReadOptions()

    @gc_paused
    def read_all() -> list[Any]:
        records = []
        for done, p in enumerate(files, start=1):
            records.append(read_return(p, name(p), formats, options))
            if progress:
                progress(done, len(files), name(p))
        return records

    return validate_records(read_all(), roster=roster, year=year, extra=extra, options=options)


# --------------------------------------------------------------------------- jobs


@dataclass
class Job:
    """Long work (checking or consolidating many files) in a worker thread; the page polls it."""

    id: str
    kind: str
    state: str = "running"  # running | done | failed
    done: int = 0
    total: int = 0
    file: str = ""
    message: str = ""
    result: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class Jobs:
    def __init__(self) -> None:
        self.jobs: dict[str, Job] = {}
        self.lock = threading.Lock()
        self.folder_lock = threading.Lock()  # one job at a time writes into the folder

    def start(self, kind: str, work: Callable[[Job], dict[str, Any]]) -> Job:
        job = Job(uuid.uuid4().hex, kind)
        with self.lock:
            self.jobs[job.id] = job

        def run() -> None:
            with self.folder_lock:
                try:
                    job.result = work(job)
                    job.state = "done"
                except XltoolError as exc:
                    job.message, job.state = str(exc), "failed"
                except Exception as exc:  # the page says it; the server keeps going
                    job.message, job.state = f"出错：{type(exc).__name__}: {exc}", "failed"

        threading.Thread(target=run, name=f"xltool-{kind}", daemon=True).start()
        return job

    def get(self, job_id: str) -> Job | None:
        with self.lock:
            return self.jobs.get(job_id)


# --------------------------------------------------------------------------- security


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


# --------------------------------------------------------------------------- the app


def create_app(
    folder: str | Path,
    token: str,
    port: int | None = None,
    host: str | None = None,
    limits: Limits | None = None,
) -> Starlette:
    """The app over the year's ``folder`` (名单, 1-下发模板, 2-收件箱, 3-校验, 4-退回修改, 5-汇总, 7-发布). ``port``: the port the server listens on; the Host header
    must then be ``127.0.0.1``, ``localhost`` or ``[::1]`` with that port (and ``host`` too, when it
    listens elsewhere); without it any port is accepted on those names (tests, a proxy)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    year = Year(Path(folder))
    limits = limits or Limits.from_env()
    jobs = Jobs()
    env = Environment(loader=FileSystemLoader(WEB / "templates"), autoescape=select_autoescape(["html"]))

    def page(name: str, request: Request, **context: Any) -> HTMLResponse:
        units, roster_error = year.roster()
        base = {
            "token": token,
            "active": name,
            "folder": str(year.folder),
            "year": year.year(),
            "units": units,
            "roster_error": roster_error,
            "roster_file": year.roster_path.name if year.roster_path else "",
            "version": _version(),
        }
        return HTMLResponse(env.get_template(f"{name}.html").render(**base, **context))

    def check_view(show: str = "") -> dict[str, Any]:
        data = year.check_result()
        if data is None:
            return {"check": None, "rows": [], "findings": [], "stale": True}
        rows = _status_rows(data)
        findings = [f for f in data.get("findings", []) if f.get("rule") != "R-MISSING" or show != "files"]
        if show in ("error", "warning"):
            findings = [f for f in findings if f.get("severity") == show]
        counts = {k: sum(1 for r in rows if r["status"] == k) for k in ("passed", "warnings", "errors", "missing")}
        return {"check": data, "rows": rows, "findings": findings, "stale": year.check_stale(), "counts": counts}

    # ---- pages

    async def home(request: Request) -> Response:
        return page(
            "home",
            request,
            inbox=year.inbox(),
            templates=year.files(TEMPLATES, (".xlsx",)),
            outputs=year.files(CONSOLIDATED, (".xlsx",)),
            published=year.files(PUBLISHED),
            **check_view(),
        )

    async def roster_page(request: Request) -> Response:
        return page("roster", request, templates=year.files(TEMPLATES, (".xlsx",)))

    async def inbox_page(request: Request) -> Response:
        return page("inbox", request, inbox=year.inbox(), limits=limits, **check_view())

    async def check_page(request: Request) -> Response:
        show = request.query_params.get("show", "")
        return page(
            "check",
            request,
            show=show,
            annotated=year.files(RETURNED, (".xlsx", ".xlsm")),
            report=(year.sub(CHECK) / REPORT_XLSX).is_file(),
            **check_view(show),
        )

    async def consolidate_page(request: Request) -> Response:
        view = check_view()
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
        view = check_view()
        sources = [year.rel(p) for p in year.files(CONSOLIDATED, (".xlsx",))] + [year.rel(p) for p in year.inbox()]
        return page(
            "publish",
            request,
            sources=sources,
            published=year.files(PUBLISHED),
            by_file={r["file"]: r["status"] for r in view["rows"] if r["file"]},
            **view,
        )

    # ---- API

    async def api_status(request: Request) -> Response:
        def status() -> dict[str, Any]:
            units, roster_error = year.roster()
            view = check_view()
            return {
                "folder": str(year.folder),
                "year": year.year(),
                "roster": {
                    "file": year.roster_path.name if year.roster_path else None,
                    "error": roster_error or None,
                    "units": [dataclasses.asdict(u) for u in units or []],
                },
                "templates": [p.name for p in year.files(TEMPLATES, (".xlsx",))],
                "inbox": [year.rel(p) for p in year.inbox()],
                "check": None
                if view["check"] is None
                else {
                    "valid": view["check"].get("valid"),
                    "stale": view["stale"],
                    "units": view["rows"],
                },
                "consolidated": [year.rel(p) for p in year.files(CONSOLIDATED, (".xlsx",))],
                "published": [year.rel(p) for p in year.files(PUBLISHED)],
            }

        return JSONResponse(await run_in_threadpool(status))

    async def api_roster(request: Request) -> Response:
        files = await _uploads(request, limits, max_files=1)
        if isinstance(files, Response):
            return files
        if not files:
            return _error("请选择名单文件（CSV 或 .xlsx）", 400)
        upload = files[0]
        suffix = Path(safe_name(upload.filename or "")).suffix.lower()
        if suffix not in ROSTER_SUFFIXES:
            return _error("名单应为 CSV（.csv）或 Excel（.xlsx）文件", 400)
        overwrite = request.query_params.get("overwrite") == "1"

        def save() -> Response:
            from xltool.roster import read_roster

            with tempfile.TemporaryDirectory() as tmp:
                probe = Path(tmp) / (ROSTER_STEM + suffix)
                upload.file.seek(0)
                with probe.open("wb") as fh:
                    shutil.copyfileobj(upload.file, fh)
                try:
                    units = read_roster(probe)
                except XltoolError as exc:
                    return _error(str(exc).replace(str(probe), upload.filename or "名单"), 400)
                existing = year.roster_path
                if existing is not None and not overwrite:
                    return JSONResponse(
                        {"error": f"已有名单 {existing.name}，是否替换？", "conflicts": [existing.name]},
                        status_code=409,
                    )
                target = year.folder / (ROSTER_STEM + suffix)
                target.parent.mkdir(parents=True, exist_ok=True)
                write_atomically(target, [probe.read_bytes()], overwrite=True)
                for other in ROSTER_SUFFIXES:
                    if other != suffix:
                        (year.folder / (ROSTER_STEM + other)).unlink(missing_ok=True)
            return JSONResponse({"file": target.name, "units": [dataclasses.asdict(u) for u in units]})

        return await run_in_threadpool(save)

    async def api_templates(request: Request) -> Response:
        form = await _json_or_form(request)
        try:
            the_year = int(str(form.get("year") or year.year()))
        except ValueError:
            return _error("年度应为四位数，如 2024", 400)
        if not 2000 <= the_year <= 2100:
            return _error("年度应为四位数，如 2024", 400)

        def work(job: Job) -> dict[str, Any]:
            from xltool.definition import get_format
            from xltool.write.template import template_file_name, write_template

            units, why = year.roster()
            if units is None:
                raise XltoolError(why or "请先上传名单")
            fmt = get_format()
            out = year.sub(TEMPLATES)
            out.mkdir(parents=True, exist_ok=True)
            job.total = len(units)
            for old in year.files(TEMPLATES, (".xlsx",)):  # a template of another year or a unit no longer listed
                if re.search(r"_\d{4}年政府信息公开统计表\.xlsx$", old.name):
                    old.unlink()
            for i, unit in enumerate(units, start=1):
                write_template(fmt, unit, the_year, out / template_file_name(unit, the_year))
                job.done, job.file = i, unit.name
            return {"count": len(units), "year": the_year}

        return JSONResponse(jobs.start("templates", work).to_dict(), status_code=202)

    async def api_upload(request: Request) -> Response:
        files = await _uploads(request, limits)
        if isinstance(files, Response):
            return files
        if not files:
            return _error("请选择要上传的文件", 400)
        overwrite = request.query_params.get("overwrite") == "1"

        def save() -> Response:
            inbox = year.sub(INBOX)
            inbox.mkdir(parents=True, exist_ok=True)
            saved, conflicts = [], []
            for upload in files:
                name = safe_name(upload.filename or "")
                target = inbox / name
                if not _inside(inbox, target):
                    return _error(f"文件名无效：{upload.filename}", 400)
                upload.file.seek(0)
                try:
                    write_atomically(target, _chunks(upload), overwrite)
                except Conflict:
                    conflicts.append(name)
                    continue
                saved.append(name)
            body: dict[str, Any] = {"saved": saved, "conflicts": conflicts}
            if conflicts:
                body["error"] = "收件箱中已有同名文件：" + "、".join(conflicts) + "。是否覆盖？"
            return JSONResponse(body, status_code=409 if conflicts else 200)

        return await run_in_threadpool(save)

    async def api_check(request: Request) -> Response:
        def work(job: Job) -> dict[str, Any]:
            from xltool.write.annotate import annotate
            from xltool.write.report import report_to_json, write_report_workbook

            units, why = year.roster()
            if why:
                raise XltoolError(why)
            inbox = year.inbox()
            if not inbox:
                raise XltoolError("收件箱中还没有报表")
            job.total = len(inbox)

            def progress(done: int, total: int, file: str) -> None:
                job.done, job.total, job.file = done, total, file

            validation = validate_in(year.folder, [year.sub(INBOX)], roster=units, progress=progress)
            report = validation.report
            check = year.sub(CHECK)
            check.mkdir(parents=True, exist_ok=True)
            write_report_workbook(report, check / REPORT_XLSX)
            returned = year.sub(RETURNED)
            for old in year.files(RETURNED):  # copies of files since corrected must not be sent back
                if old.stem.endswith(ANNOTATED_SUFFIX):
                    old.unlink()
            written = annotate(report, validation.records, returned)
            write_atomically(check / REPORT_JSON, [(report_to_json(report) + "\n").encode()], overwrite=True)
            return {"valid": report.valid, "files": len(report.workbooks), "annotated": len(written)}

        return JSONResponse(jobs.start("check", work).to_dict(), status_code=202)

    async def api_consolidate(request: Request) -> Response:
        form = await _json_or_form(request)
        code, name = str(form.get("unit_code") or "").strip(), str(form.get("unit_name") or "").strip()
        level = str(form.get("level") or "县").strip()
        if not code or not name:
            return _error("请填写本级单位代码和名称", 400)
        inbox = {year.rel(p): p for p in year.inbox()}
        chosen = _strings(form.get("files")) or list(inbox)
        use = _strings(form.get("use"))
        unknown = [f for f in [*chosen, *use] if f not in inbox]
        if unknown:
            return _error("收件箱中没有这些文件：" + "、".join(unknown), 400)
        exclude_invalid = bool(form.get("exclude_invalid"))

        def work(job: Job) -> dict[str, Any]:
            from xltool.errors import ConsolidationRefused
            from xltool.model import Unit
            from xltool.write.consolidation import consolidate

            units, why = year.roster()
            if why:
                raise XltoolError(why)
            the_year = year.year()
            out = year.sub(CONSOLIDATED) / safe_name(f"{name}{the_year}年度政府信息公开统计汇总.xlsx")
            out.parent.mkdir(parents=True, exist_ok=True)
            job.total = len(chosen)

            def progress(done: int, total: int, file: str) -> None:
                job.done, job.total, job.file = done, total, Path(file).name

            try:
                result = consolidate(
                    [inbox[f] for f in chosen],
                    out,
                    Unit(code, name, level),
                    roster=units,
                    exclude_invalid=exclude_invalid,
                    use=[inbox[f] for f in use],
                    progress=progress,
                )
            except ConsolidationRefused as exc:
                raise XltoolError("未汇总：" + str(exc).replace(str(year.folder) + os.sep, "")) from None
            assert result.out is not None
            return {
                "file": year.rel(result.out),
                "included": len(result.included),
                "excluded": [{"file": s.file, "reason": s.reason} for s in result.excluded],
                "missing": [f"{u.name}（{u.code}）" for u in result.missing],
            }

        return JSONResponse(jobs.start("consolidate", work).to_dict(), status_code=202)

    async def api_publish(request: Request) -> Response:
        form = await _json_or_form(request)
        sources = {year.rel(p): p for p in [*year.files(CONSOLIDATED, (".xlsx",)), *year.inbox()]}
        chosen = _strings(form.get("files"))
        unknown = [f for f in chosen if f not in sources]
        if unknown or not chosen:
            return _error("请选择要发布的汇总表或报表" + ("：没有 " + "、".join(unknown) if unknown else ""), 400)
        kinds = _strings(form.get("kinds")) or ["html", "docx"]

        def work(job: Job) -> dict[str, Any]:
            from xltool.errors import PublishRefused
            from xltool.write.publish import publish

            units, why = year.roster()
            if why:
                raise XltoolError(why)
            job.total = len(chosen)
            try:
                result = publish(
                    [sources[f] for f in chosen],
                    year.sub(PUBLISHED),
                    html="html" in kinds,
                    docx="docx" in kinds,
                    # the roster lists the units, not the county itself: with a 汇总 it would be R-UNKNOWN
                    roster=None if any(f.startswith(CONSOLIDATED) for f in chosen) else units,
                )
            except PublishRefused as exc:
                raise XltoolError(str(exc).replace(str(year.folder) + os.sep, "")) from None
            job.done = len(chosen)
            return {"files": [year.rel(p) for p in result.paths]}

        return JSONResponse(jobs.start("publish", work).to_dict(), status_code=202)

    async def api_job(request: Request) -> Response:
        job = jobs.get(request.path_params["job_id"])
        if job is None:
            return _error("没有这个任务", 404)
        return JSONResponse(job.to_dict())

    async def api_validate(request: Request) -> Response:
        files = await _uploads(request, limits)
        if isinstance(files, Response):
            return files
        if not files:
            return _error("请用字段 files 上传要校验的文件", 400)

        def run() -> Response:
            from xltool.write.report import report_to_json

            with tempfile.TemporaryDirectory(prefix="xltool-validate-") as tmp:
                base = Path(tmp)
                taken: set[str] = set()
                paths = []
                for upload in files:
                    name = _free(safe_name(upload.filename or ""), taken)
                    upload.file.seek(0)
                    with (base / name).open("wb") as fh:
                        shutil.copyfileobj(upload.file, fh)
                    paths.append(base / name)
                try:
                    validation = validate_in(base, paths)
                except XltoolError as exc:
                    return _error(str(exc), 400)
                return Response(report_to_json(validation.report), media_type="application/json; charset=utf-8")

        return await run_in_threadpool(run)

    # ---- downloads

    async def download(request: Request) -> Response:
        area, name = request.path_params["area"], request.path_params["name"]
        if area not in (TEMPLATES, INBOX, CHECK, RETURNED, CONSOLIDATED, PUBLISHED):
            return _error("没有这个文件夹", 404)
        path = year.sub(area) / name
        if name.startswith(".") or not _inside(year.sub(area), path) or not path.is_file():
            return _error("没有这个文件", 404)
        return FileResponse(path, filename=path.name)

    async def templates_zip(request: Request) -> Response:
        paths = year.files(TEMPLATES, (".xlsx",))
        if not paths:
            return _error("还没有生成模板", 404)
        return await _zip_response(paths, f"{year.year()}年度填报模板.zip", year.folder)

    async def check_zip(request: Request) -> Response:
        paths = [p for p in [year.sub(CHECK) / REPORT_XLSX] if p.is_file()]
        paths += year.files(RETURNED, (".xlsx", ".xlsm"))
        if not paths:
            return _error("还没有校验结果", 404)
        return await _zip_response(paths, "校验报告和批注副本.zip", year.folder)

    routes = [
        Route("/", home),
        Route("/roster", roster_page),
        Route("/inbox", inbox_page),
        Route("/check", check_page),
        Route("/consolidate", consolidate_page),
        Route("/publish", publish_page),
        Route("/api/status", api_status),
        Route("/api/roster", api_roster, methods=["POST"]),
        Route("/api/templates", api_templates, methods=["POST"]),
        Route("/api/upload", api_upload, methods=["POST"]),
        Route("/api/check", api_check, methods=["POST"]),
        Route("/api/consolidate", api_consolidate, methods=["POST"]),
        Route("/api/validate", api_validate, methods=["POST"]),
        Route("/api/publish", api_publish, methods=["POST"]),
        Route("/api/jobs/{job_id}", api_job),
        Route("/download/templates.zip", templates_zip),
        Route("/download/check.zip", check_zip),
        Route("/download/{area}/{name}", download),
        Mount("/static", app=StaticFiles(directory=WEB / "static"), name="static"),
    ]
    app = Starlette(routes=routes)
    hosts = None
    if port is not None:
        hosts = {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}
        if host and host not in LOOPBACK:
            hosts.add(f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
    app.add_middleware(Guard, token=token, hosts=hosts, names={"127.0.0.1", "localhost", "::1"})
    app.state.year = year
    app.state.jobs = jobs
    return app


def _version() -> str:
    from xltool import __version__

    return __version__


def _error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in value]


def _chunks(upload: UploadFile) -> Iterable[bytes]:
    while chunk := upload.file.read(1 << 20):
        yield chunk


def _free(name: str, taken: set[str]) -> str:
    """``name``, or ``stem (2).suffix`` when another upload of the request has it."""
    stem, suffix = Path(name).stem, Path(name).suffix
    n, candidate = 1, name
    while candidate.casefold() in taken:
        n += 1
        candidate = f"{stem} ({n}){suffix}"
    taken.add(candidate.casefold())
    return candidate


async def _json_or_form(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = await request.json()
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
    form = await request.form(max_files=0)
    return {k: (form.getlist(k) if len(form.getlist(k)) > 1 else form.get(k)) for k in form}


async def _uploads(request: Request, limits: Limits, max_files: int | None = None) -> list[UploadFile] | Response:
    """The request's files (field ``files``, or ``file``), within the limits; refused whole otherwise."""
    size = request.headers.get("content-length")
    if size is None or not size.isdigit():
        return _error("上传请求缺少长度（Content-Length）", 411)
    if int(size) > limits.request_bytes:
        return _error(f"上传的内容过大（一次最多 {limits.request_bytes // (1 << 20)} MB）", 413)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return _error("请以 multipart/form-data 上传文件（字段 files）", 400)
    most = min(limits.files, max_files or limits.files)
    try:
        form = await request.form(max_files=most, max_fields=100)
    except Exception as exc:  # python-multipart or Starlette refusing the body (too many parts, malformed)
        return _error(f"上传的内容无法读取，或文件过多（一次最多 {most} 个）：{getattr(exc, 'detail', exc)}", 413)
    files = [v for k in ("files", "file") for v in form.getlist(k) if isinstance(v, UploadFile)]
    too_big = [f.filename for f in files if (f.size or 0) > limits.file_bytes]
    if too_big:
        return _error(f"文件过大（每个最多 {limits.file_bytes // (1 << 20)} MB）：" + "、".join(map(str, too_big)), 413)
    return files


async def _zip_response(paths: Sequence[Path], name: str, base: Path) -> Response:
    def build() -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for p in paths:
                z.write(p, p.resolve().relative_to(base).as_posix())
        return buf.getvalue()

    data = await run_in_threadpool(build)
    disposition = f"attachment; filename*=UTF-8''{quote(name)}"
    return Response(data, media_type="application/zip", headers={"content-disposition": disposition})


def _status_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
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


# --------------------------------------------------------------------------- serve


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
