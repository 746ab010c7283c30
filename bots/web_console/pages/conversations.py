"""Conversations: a searchable list; a transcript with each message's stored tokens and the line
where the window of the next turn starts (planned by the core); reset, persona and model from
there, run as /reset, /persona and /model are."""

from __future__ import annotations

from aiohttp import web

from bots.web_console.deps import deps
from bots.web_console.rendering import render

routes = web.RouteTableDef()
MAX_SEARCH_CHARS = 100
COMMANDS = ("reset", "persona", "model")


@routes.get("/conversations")
async def conversation_list(request: web.Request) -> web.Response:
    search = request.query.get("q", "").strip()[:MAX_SEARCH_CHARS]
    found = await deps(request).core.conversations(search)
    return render(
        request, "conversations.html", page="/conversations", conversations=found, search=search
    )


@routes.get("/conversations/{id:\\d+}")
async def conversation(request: web.Request) -> web.Response:
    return await _show(request, said=None)


@routes.post("/conversations/{id:\\d+}/{command}")
async def change(request: web.Request) -> web.Response:
    command = request.match_info["command"]
    if command not in COMMANDS:
        raise web.HTTPNotFound()
    form = await request.post()
    args = "" if command == "reset" else str(form.get("value", "")).strip()
    if command != "reset" and not args:
        return await _show(request, said=None, status=400, error=f"Choose a {command} first.")
    reply = await deps(request).core.run_command(int(request.match_info["id"]), command, args)
    if reply is None:
        return _missing(request)
    if reply.is_error:
        return await _show(request, said=None, error=reply.text)
    return await _show(request, said=reply.text)


async def _show(
    request: web.Request, *, said: str | None, status: int = 200, error: str = ""
) -> web.Response:
    console = deps(request)
    transcript = await console.core.transcript(int(request.match_info["id"]))
    if transcript is None:
        return _missing(request)
    return render(
        request,
        "conversation.html",
        status=status,
        page="/conversations",
        t=transcript,
        said=said,
        error=error,
    )


def _missing(request: web.Request) -> web.Response:
    return render(
        request, "error.html", status=404, page="/conversations", message="No such conversation."
    )
