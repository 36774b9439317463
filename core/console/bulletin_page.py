"""The bulletin (投诉事件通报) as a console page: the same cases the report API gives
(``GET /api/reports/bulletin``, identity removed), laid out for the desk in its language —
labels for every code, times in the tenant's zone. Its Markdown and JSON stay for programs.

Issue 19 item 4: the desk opened the bulletin as raw half-English Markdown."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from core.console.calls import run
from core.console.pages import message, render
from core.errors import ApiError
from core.people import api as people_api
from core.reports import api as reports_api


@get("/reports/bulletin", include_in_schema=False, name="console:bulletin")
async def bulletin_page(request: Request[Any, Any, Any]) -> Template:
    """``?period=YYYY-MM`` (default: the reports page's month). A refused period is shown
    beside the month field, in the reader's language."""
    period = request.query_params.get("period") or ""
    errors: dict[str, str] = {}
    out = None
    depts = {d.code: d.name for d in await run(request, people_api.departments)}
    try:
        out = await run(request, reports_api.get_bulletin, **({"period": period} if period else {}))
    except ApiError as exc:
        errors["period"] = message(request, exc)
    return await render(
        request,
        "bulletin.html",
        status=422 if errors else 200,
        period=period,
        b=out,
        errors=errors,
        depts=depts,
    )


ROUTES = [bulletin_page]
