"""与上年对比 in the browser: the clerk picks last year's side (the 0-上年 folder, where last year's
consolidated workbook, returns or reports are put, or one file of it or of 5-汇总) and this year's (the
inbox, or one file of it or of 5-汇总); ``xltool.compare`` runs as a job, writes the workbook and the
page into 8-对比 (new names, never replacing a file), and the page shows the comparison.

Only files of the year's folder can be picked: the page never reads a path typed into it."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from xltool.app.serve.api import _json_or_form, _start
from xltool.app.serve.folder import COMPARED, CONSOLIDATED, INBOX, LAST_YEAR, Year, relative_to
from xltool.app.serve.jobs import Job
from xltool.app.serve.pages import folder_of, page
from xltool.app.serve.security import error
from xltool.errors import XltoolError


def sources(year: Year) -> tuple[dict[str, Path], dict[str, Path]]:
    """What each side may be, by the name the page shows: a whole folder, or one file in it."""
    summaries = year.files(CONSOLIDATED, (".xlsx",))
    last: dict[str, Path] = {}
    if year.area(LAST_YEAR) is not None and year.files(LAST_YEAR):
        last[f"{LAST_YEAR}（整个文件夹）"] = year.sub(LAST_YEAR)
    last |= {year.rel(p): p for p in [*year.files(LAST_YEAR), *summaries]}
    this: dict[str, Path] = {}
    if year.inbox():
        this[f"{INBOX}（整个文件夹）"] = year.sub(INBOX)
    this |= {year.rel(p): p for p in [*summaries, *year.inbox()]}
    return last, this


async def compare_page(request: Request) -> Response:
    year = folder_of(request)
    last, this = sources(year)
    return page(
        "compare",
        request,
        last_sources=list(last),
        this_sources=list(this),
        last_year_area=LAST_YEAR,
        compared=year.files(COMPARED, (".xlsx", ".html")),
    )


async def api_compare(request: Request) -> Response:
    year = folder_of(request)
    form = await _json_or_form(request)
    if isinstance(form, Response):
        return form
    last, this = sources(year)
    picked_last, picked_this = str(form.get("last") or ""), str(form.get("this") or "")
    if picked_last not in last or picked_this not in this:
        return error("请选择上年和本年的报表（本文件夹中的文件或文件夹）", 400)
    try:
        factor = float(str(form.get("factor") or 3))
    except ValueError:
        factor = 0
    if not 1 < factor < 1e6:
        return error("“变化很大”的倍数应为大于 1 的数", 400)
    work = partial(_compare, year, last[picked_last], this[picked_this], factor)
    return _start(request, "compare", work)


def _compare(year: Year, last: Path, this: Path, factor: float, job: Job) -> dict[str, Any]:
    from xltool.compare import compare_paths
    from xltool.write.compare_book import write_compare_book
    from xltool.write.compare_page import compare_html, write_compare_page
    from xltool.write.files import output_set

    units, why = year.roster()
    if why:
        raise XltoolError(why)
    job.total = 2
    comparison = compare_paths([last], [this], factor=factor, roster=units, name=relative_to(year.folder))
    job.done = 1
    if not comparison.units:
        raise XltoolError("没有可对比的单位：所选的上年和本年没有同一单位的报表")
    first = comparison.units[0]
    stem = f"{first.this_year}年与{first.last_year}年对比"
    fmt = comparison.format
    with output_set(year.sub(COMPARED)) as out:  # " (2)" names: an earlier comparison is kept
        book, html = out.path(f"{stem}.xlsx"), out.path(f"{stem}.html")
        write_compare_book(comparison, fmt, book, overwrite=True)
        write_compare_page(comparison, fmt, html, overwrite=True)
    book, html = out.placed[book], out.placed[html]
    job.done = 2
    link = f"/download/{quote(COMPARED)}/{quote(book.name)}"
    return {
        "files": [year.rel(book), year.rel(html)],
        "html": compare_html(comparison, fmt, full=False, workbook=link),
    }
