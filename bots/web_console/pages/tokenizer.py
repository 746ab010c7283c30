"""The Tokenizer page: a placeholder until its branch (console-b) replaces this module."""

from __future__ import annotations

from aiohttp import web

from bots.web_console.rendering import render

routes = web.RouteTableDef()


@routes.get("/tokenizer")
async def tokenizer(request: web.Request) -> web.Response:
    return render(request, "placeholder.html", page="/tokenizer", title="Tokenizer")
