"""What the pages' buttons call: uploads, the long steps as jobs (templates, check, consolidate,
publish), checking uploads without keeping them, and downloads. Each step calls the library
function the CLI calls."""

from __future__ import annotations

import dataclasses
import io
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from xltool.app.serve.folder import (
    ANNOTATED_SUFFIX,
    AREAS,
    CHECK,
    CONSOLIDATED,
    INBOX,
    PUBLISHED,
    REPORT_JSON,
    REPORT_XLSX,
    RETURNED,
    ROSTER_STEM,
    ROSTER_SUFFIXES,
    TEMPLATES,
    Conflict,
    Year,
    safe_name,
    validate_in,
    write_atomically,
)
from xltool.app.serve.jobs import Job, Jobs
from xltool.app.serve.pages import check_view, folder_of
from xltool.app.serve.security import Limits, error, form_message, uploads
from xltool.errors import XltoolError
from xltool.model import Unit
from xltool.write.files import Existing, free_name, inside


def _limits(request: Request) -> Limits:
    limits: Limits = request.app.state.limits
    return limits


def _start(request: Request, kind: str, work: Callable[[Job], dict[str, Any]]) -> Response:
    """Run ``work`` as a job (``app.state.jobs``); the page polls ``/api/jobs/{id}``."""
    jobs: Jobs = request.app.state.jobs
    return JSONResponse(jobs.start(kind, work).to_dict(), status_code=202)


def _without_folder(year: Year, message: str) -> str:
    """A library message with the year's folder left out of the paths it names."""
    return message.replace(str(year.folder) + os.sep, "")


# --------------------------------------------------------------------------- status


def _status(year: Year) -> dict[str, Any]:
    units, roster_error = year.roster()
    view = check_view(year)
    check = None
    if view["check"] is not None:
        check = {"valid": view["check"].get("valid"), "stale": view["stale"], "units": view["rows"]}
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
        "check": check,
        "consolidated": [year.rel(p) for p in year.files(CONSOLIDATED, (".xlsx",))],
        "published": [year.rel(p) for p in year.files(PUBLISHED)],
    }


async def api_status(request: Request) -> Response:
    return JSONResponse(await run_in_threadpool(_status, folder_of(request)))


async def api_job(request: Request) -> Response:
    jobs: Jobs = request.app.state.jobs
    job = jobs.get(request.path_params["job_id"])
    if job is None:
        return error("没有这个任务", 404)
    return JSONResponse(job.to_dict())


# --------------------------------------------------------------------------- roster and uploads


async def api_roster(request: Request) -> Response:
    files = await uploads(request, _limits(request), max_files=1)
    if isinstance(files, Response):
        return files
    if not files:
        return error("请选择名单文件（CSV 或 .xlsx）", 400)
    suffix = Path(safe_name(files[0].filename or "")).suffix.lower()
    if suffix not in ROSTER_SUFFIXES:
        return error("名单应为 CSV（.csv）或 Excel（.xlsx）文件", 400)
    overwrite = request.query_params.get("overwrite") == "1"
    return await run_in_threadpool(_save_roster, folder_of(request), files[0], suffix, overwrite)


def _save_roster(year: Year, upload: UploadFile, suffix: str, overwrite: bool) -> Response:
    """Read the roster first (a roster that cannot be read never replaces one that can), then save it
    as 名单 with its suffix, alone."""
    from xltool.roster import read_roster

    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / (ROSTER_STEM + suffix)
        upload.file.seek(0)
        with probe.open("wb") as fh:
            shutil.copyfileobj(upload.file, fh)
        try:
            units = read_roster(probe)
        except XltoolError as exc:
            return error(str(exc).replace(str(probe), upload.filename or "名单"), 400)
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


async def api_upload(request: Request) -> Response:
    files = await uploads(request, _limits(request))
    if isinstance(files, Response):
        return files
    if not files:
        return error("请选择要上传的文件", 400)
    overwrite = request.query_params.get("overwrite") == "1"
    return await run_in_threadpool(_save_uploads, folder_of(request), files, overwrite)


def _save_uploads(year: Year, files: Sequence[UploadFile], overwrite: bool) -> Response:
    """Into the inbox under safe names; a name taken is a conflict unless ``overwrite``. The answer
    says what was received (name, bytes) and each saved file's own result (``_results``), at once:
    the check of the whole inbox, which updates 3-校验, follows as a job."""
    inbox = year.sub(INBOX)
    inbox.mkdir(parents=True, exist_ok=True)
    if year.area(INBOX) is None:
        return error(f"{INBOX} 不是文件夹（是链接？）：未写入", 400)
    saved, conflicts = [], []
    for upload in files:
        name = safe_name(upload.filename or "")
        target = inbox / name
        if not inside(target, inbox):
            return error(f"文件名无效：{upload.filename}", 400)
        upload.file.seek(0)
        try:
            write_atomically(target, _chunks(upload), overwrite)
        except Conflict:
            conflicts.append(name)
            continue
        saved.append(name)
    received = [{"file": name, "bytes": (inbox / name).stat().st_size} for name in saved]
    body: dict[str, Any] = {"saved": saved, "conflicts": conflicts, "received": received}
    if saved:
        body["results"] = _results(year, [inbox / name for name in saved])
    if conflicts:
        body["error"] = "收件箱中已有同名文件：" + "、".join(conflicts) + "。是否覆盖？"
    return JSONResponse(body, status_code=409 if conflicts else 200)


def _results(year: Year, paths: Sequence[Path]) -> list[dict[str, Any]]:
    """Each file's own result, read and checked as the inbox's check reads it (with the roster, to
    name its unit): its status, counts and findings, without what only the whole inbox can say
    (units not sent, R-MISSING). A roster that cannot be read is left out, not an error here."""
    units, _why = year.roster()
    try:
        report = validate_in(year.folder, list(paths), roster=units).report
    except XltoolError as exc:
        return [{"file": year.rel(p), "status": "errors", "message": _without_folder(year, str(exc))} for p in paths]
    out = []
    for w in report.workbooks:
        findings = [f.to_dict() for f in report.findings if f.file == w.file and f.rule != "R-MISSING"]
        out.append({**w.to_dict(), "findings": findings[:20], "more": max(0, len(findings) - 20)})
    return out


# --------------------------------------------------------------------------- the steps, as jobs


async def api_templates(request: Request) -> Response:
    year = folder_of(request)
    form = await _json_or_form(request)
    if isinstance(form, Response):
        return form
    try:
        the_year = int(str(form.get("year") or year.year()))
    except ValueError:
        return error("年度应为四位数，如 2024", 400)
    if not 2000 <= the_year <= 2100:
        return error("年度应为四位数，如 2024", 400)
    return _start(request, "templates", partial(_templates, year, the_year))


def _templates(year: Year, the_year: int, job: Job) -> dict[str, Any]:
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


async def api_check(request: Request) -> Response:
    return _start(request, "check", partial(_check, folder_of(request)))


def _check(year: Year, job: Job) -> dict[str, Any]:
    """The inbox checked as ``xltool validate`` checks it: the report, annotated copies, the JSON."""
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
    # the page's own report, under its own names: replaced at each check (and said so); a report
    # the CLI wrote beside it is never touched, the latest of them is what the pages show
    replaced = [name for name in (REPORT_XLSX, REPORT_JSON) if year.file_in(CHECK, name) is not None]
    write_report_workbook(report, check / REPORT_XLSX)
    returned = year.sub(RETURNED)
    for old in year.files(RETURNED):  # copies of files since corrected must not be sent back
        if old.stem.endswith(ANNOTATED_SUFFIX):
            old.unlink()
    written = annotate(report, validation.records, returned)
    write_atomically(check / REPORT_JSON, [(report_to_json(report) + "\n").encode()], overwrite=True)
    return {
        "valid": report.valid,
        "files": len(report.workbooks),
        "annotated": len(written),
        "report": f"{CHECK}/{REPORT_XLSX}",
        "replaced": [f"{CHECK}/{name}" for name in replaced],
    }


async def api_consolidate(request: Request) -> Response:
    year = folder_of(request)
    form = await _json_or_form(request)
    if isinstance(form, Response):
        return form
    code, name = str(form.get("unit_code") or "").strip(), str(form.get("unit_name") or "").strip()
    level = str(form.get("level") or "县").strip()
    if not code or not name:
        return error("请填写本级单位代码和名称", 400)
    out = year.sub(CONSOLIDATED) / safe_name(f"{name}{year.year()}年度政府信息公开统计汇总.xlsx")
    overwrite, save_as = _yes(form.get("overwrite")), _yes(form.get("save_as"))
    if not overwrite and (out.exists() or out.is_symlink()):  # the page asks before anything is replaced
        if not save_as:
            rel = f"{CONSOLIDATED}/{out.name}"
            return JSONResponse(
                {"error": f"已有汇总表 {rel}。覆盖它，还是另存为新文件？", "exists": [rel]}, status_code=409
            )
        out = free_name(out.parent, out.name)
    inbox = {year.rel(p): p for p in year.inbox()}
    chosen = _strings(form.get("files")) or list(inbox)
    use = _strings(form.get("use"))
    unknown = [f for f in [*chosen, *use] if f not in inbox]
    if unknown:
        return error("收件箱中没有这些文件：" + "、".join(unknown), 400)
    work = partial(
        _consolidate,
        year,
        Unit(code, name, level),
        [inbox[f] for f in chosen],
        [inbox[f] for f in use],
        bool(form.get("exclude_invalid")),
        out,
        overwrite,
    )
    return _start(request, "consolidate", work)


def _yes(value: Any) -> bool:
    """A form field or JSON value that says yes: ``1``, ``true``, ``on``."""
    return value is True or str(value or "").strip().lower() in ("1", "true", "on", "yes")


def _consolidate(
    year: Year,
    unit: Unit,
    chosen: list[Path],
    use: list[Path],
    exclude_invalid: bool,
    out: Path,
    overwrite: bool,
    job: Job,
) -> dict[str, Any]:
    from xltool.errors import ConsolidationRefused, OutputExists
    from xltool.write.consolidation import consolidate

    units, why = year.roster()
    if why:
        raise XltoolError(why)
    out.parent.mkdir(parents=True, exist_ok=True)
    job.total = len(chosen)

    def progress(done: int, total: int, file: str) -> None:
        job.done, job.total, job.file = done, total, Path(file).name

    try:
        result = consolidate(
            chosen,
            out,
            unit,
            roster=units,
            exclude_invalid=exclude_invalid,
            use=use,
            progress=progress,
            overwrite=overwrite,
        )
    except ConsolidationRefused as exc:
        raise XltoolError("未汇总：" + _without_folder(year, str(exc))) from None
    except OutputExists:  # made meanwhile (the CLI): asked again, never replaced unasked
        raise XltoolError(f"未汇总：{CONSOLIDATED}/{out.name} 刚刚被创建，请重新生成并选择覆盖或另存为") from None
    assert result.out is not None
    return {
        "file": year.rel(result.out),
        "replaced": year.rel(result.out) if result.replaced else None,
        "included": len(result.included),
        "excluded": [{"file": s.file, "reason": s.reason} for s in result.excluded],
        "missing": [f"{u.name}（{u.code}）" for u in result.missing],
    }


async def api_publish(request: Request) -> Response:
    year = folder_of(request)
    form = await _json_or_form(request)
    if isinstance(form, Response):
        return form
    sources = {year.rel(p): p for p in [*year.files(CONSOLIDATED, (".xlsx",)), *year.inbox()]}
    chosen = _strings(form.get("files"))
    unknown = [f for f in chosen if f not in sources]
    if unknown or not chosen:
        return error("请选择要发布的汇总表或报表" + ("：没有 " + "、".join(unknown) if unknown else ""), 400)
    kinds = _strings(form.get("kinds")) or ["html", "docx"]
    # the roster lists the units, not the county itself: with a 汇总 it would be R-UNKNOWN
    with_roster = not any(f.startswith(CONSOLIDATED) for f in chosen)
    # a name already published: the page asks first (覆盖, or 另存为 with " (2)" names)
    existing: Existing = (
        "replace" if _yes(form.get("overwrite")) else "rename" if _yes(form.get("save_as")) else "refuse"
    )
    work = partial(_publish, year, [sources[f] for f in chosen], kinds, with_roster, existing)
    return _start(request, "publish", work)


def _publish(
    year: Year, chosen: list[Path], kinds: list[str], with_roster: bool, existing: Existing, job: Job
) -> dict[str, Any]:
    from xltool.errors import OutputExists, PublishRefused
    from xltool.write.publish import publish

    units, why = year.roster()
    if why:
        raise XltoolError(why)
    job.total = len(chosen)
    try:
        result = publish(
            chosen,
            year.sub(PUBLISHED),
            html="html" in kinds,
            docx="docx" in kinds,
            roster=units if with_roster else None,
            existing=existing,
        )
    except PublishRefused as exc:
        raise XltoolError(_without_folder(year, str(exc))) from None
    except OutputExists as exc:  # nothing written: the page asks
        taken = [f"{PUBLISHED}/{Path(p).name}" for p in exc.paths]
        return {"exists": taken, "question": f"已有同名文件：{'、'.join(taken)}。覆盖它们，还是另存为新文件？"}
    job.done = len(chosen)
    return {"files": [year.rel(p) for p in result.paths], "replaced": [year.rel(p) for p in result.replaced]}


# --------------------------------------------------------------------------- checking uploads


async def api_validate(request: Request) -> Response:
    files = await uploads(request, _limits(request))
    if isinstance(files, Response):
        return files
    if not files:
        return error("请用字段 files 上传要校验的文件", 400)
    return await run_in_threadpool(_validate_uploads, files)


def _validate_uploads(files: Sequence[UploadFile]) -> Response:
    """The uploads checked in a temporary folder, each named as uploaded: the JSON is the CLI's for
    the same files in one folder, and nothing is kept."""
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
            return error(str(exc), 400)
        return Response(report_to_json(validation.report), media_type="application/json; charset=utf-8")


# --------------------------------------------------------------------------- downloads


async def download(request: Request) -> Response:
    year = folder_of(request)
    area, name = request.path_params["area"], request.path_params["name"]
    if area not in AREAS:
        return error("没有这个文件夹", 404)
    path = year.file_in(area, name)
    if path is None:
        return error("没有这个文件", 404)
    return FileResponse(path, filename=path.name)


async def templates_zip(request: Request) -> Response:
    year = folder_of(request)
    paths = year.files(TEMPLATES, (".xlsx",))
    if not paths:
        return error("还没有生成模板", 404)
    return await _zip_response(paths, f"{year.year()}年度填报模板.zip", year.folder)


async def check_zip(request: Request) -> Response:
    year = folder_of(request)
    paths = [p for p in [year.report_workbook()] if p is not None]
    paths += year.files(RETURNED, (".xlsx", ".xlsm"))
    if not paths:
        return error("还没有校验结果", 404)
    return await _zip_response(paths, "校验报告和批注副本.zip", year.folder)


# --------------------------------------------------------------------------- helpers


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


async def _json_or_form(request: Request) -> dict[str, Any] | Response:
    """The step's parameters, from JSON or form fields (bounded by ``Bodies``); a form that cannot be
    read is a 400 with why, in Chinese."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = await request.json()
        except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
            return {}
        return data if isinstance(data, dict) else {}
    try:
        form = await request.form(max_files=0, max_fields=1000)
    except (HTTPException, MultiPartException) as exc:
        return error(form_message(str(getattr(exc, "detail", None) or getattr(exc, "message", "")), 0), 400)
    return {k: (form.getlist(k) if len(form.getlist(k)) > 1 else form.get(k)) for k in form}


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
