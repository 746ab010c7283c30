"""The Playground page: a placeholder until its branch (console-b) replaces this module."""

from __future__ import annotations

from aiohttp import web

from bots.web_console.rendering import render

routes = web.RouteTableDef()


@routes.get("/playground")
async def playground(request: web.Request) -> web.Response:
    return render(request, "placeholder.html", page="/playground", title="Playground")
