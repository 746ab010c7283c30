"""Models: the catalog (config/models.toml) with windows, prices per 1M and per 1K tokens,
capabilities and provider."""

from __future__ import annotations

from aiohttp import web

from bots.web_console.deps import deps
from bots.web_console.rendering import render

routes = web.RouteTableDef()


@routes.get("/models")
async def models(request: web.Request) -> web.Response:
    return render(request, "models.html", page="/models", models=deps(request).core.model_catalog())
