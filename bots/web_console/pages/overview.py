"""Overview: turns, tokens and cost per day for 30 days, split by model, platform and kind;
refusals and provider errors per day; the costliest chats; budgets and what is left of them."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from bots.web_console.charts import stacked
from bots.web_console.deps import deps
from bots.web_console.rendering import render

routes = web.RouteTableDef()
DAYS = 30


@routes.get("/")
async def overview(request: web.Request) -> web.Response:
    report = await deps(request).core.usage_report(DAYS)
    span = (report.last_day - report.first_day).days + 1
    days = tuple(report.first_day + timedelta(days=n) for n in range(span))
    charts = {
        "cost_by_model": stacked(report.by_model, "cost_usd", days),
        "tokens_by_platform": stacked(report.by_platform, "tokens", days),
        "turns_by_kind": stacked(report.by_kind, "turns", days),
        "events_by_kind": stacked(report.events_by_kind, "turns", days),
    }
    today = report.total.days[-1] if report.total.days else None
    return render(
        request, "overview.html", page="/", report=report, charts=charts, today=today, days=DAYS
    )
