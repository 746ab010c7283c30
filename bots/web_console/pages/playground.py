"""The Playground: a system prompt, messages, a model and its parameters (those the model takes,
checked as /set checks them); the prompt's tokens as the owner types; the answer streamed from
the provider through the chats' own client, with its usage and cost; "View code"; "Save as
persona". The page's script talks to the JSON and fragment endpoints below."""

from __future__ import annotations

import contextlib
import json
import logging
from typing import Any

from aiohttp import web

from bots.web_console.deps import deps, workbench
from bots.web_console.rendering import render, usd
from core.console.personas import GLOBAL, PersonaDraft, Space
from core.console.playground import (
    PLAYGROUND_PARAMS,
    PlaygroundDone,
    PlaygroundEvent,
    PlaygroundFailed,
    PlaygroundForm,
    PlaygroundMessage,
)
from core.model.catalog import valid_model_name
from core.model.client import ReasoningDelta
from core.model.params import InvalidParam
from core.texts import Texts

log = logging.getLogger("bots.web_console")
routes = web.RouteTableDef()
TEXTS = Texts("en")  # the console's pages are in English
PARAM_PREFIX = "p_"
DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant."


@routes.get("/playground")
async def playground(request: web.Request) -> web.Response:
    bench = workbench(request)
    model = bench.playground.default_model
    return render(
        request,
        "playground.html",
        page="/playground",
        title="Playground",
        models=bench.playground.model_names(),
        model=model,
        fields=bench.playground.fields(model),
        system_prompt=DEFAULT_SYSTEM_PROMPT,
        spaces=await persona_spaces(request),
    )


@routes.get("/playground/params")
async def params(request: web.Request) -> web.Response:
    """The parameter inputs for the chosen model (what it takes, with /set's bounds)."""
    model = request.query.get("model", "").strip()
    if not valid_model_name(model):
        raise web.HTTPBadRequest(text="no such model")
    return render(request, "_params.html", fields=workbench(request).playground.fields(model))


@routes.post("/playground/count")
async def count(request: web.Request) -> web.Response:
    """The prompt's tokens as the window counts them; or the one line saying what to fix."""
    try:
        prepared = await workbench(request).playground.prepare(await _form(request))
    except InvalidParam as invalid:
        return web.json_response({"error": _text(invalid)})
    return web.json_response(
        {
            "tokens": prepared.prompt_tokens,
            "estimated": prepared.estimated_prompt_tokens,
            "encoding": prepared.request.model.encoding,
            "ignored": list(prepared.preset.ignored),
        }
    )


@routes.post("/playground/code")
async def code(request: web.Request) -> web.Response:
    bench = workbench(request)
    try:
        prepared = await bench.playground.prepare(await _form(request))
    except InvalidParam as invalid:
        return render(request, "_code.html", error=_text(invalid), snippets=None)
    return render(request, "_code.html", error="", snippets=bench.playground.code(prepared))


@routes.post("/playground/run")
async def run(request: web.Request) -> web.StreamResponse:
    """The answer as newline-delimited JSON: {"delta"} and {"reasoning"} pieces as they come,
    then {"done": usage and cost} or {"error": one line}."""
    bench = workbench(request)
    try:
        prepared = await bench.playground.prepare(await _form(request))
    except InvalidParam as invalid:
        return web.json_response({"error": _text(invalid)}, status=400)
    response = web.StreamResponse(
        headers={
            "Content-Type": "application/x-ndjson; charset=utf-8",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        }
    )
    await response.prepare(request)
    try:
        # Closed at once when the owner leaves the page: the provider's stream with it.
        async with contextlib.aclosing(bench.playground.run(prepared)) as events:
            async for event in events:
                line = json.dumps(_line(event), ensure_ascii=False)
                await response.write(line.encode() + b"\n")
    except ConnectionResetError:
        return response  # the owner closed the page: the stream stops with it
    except Exception:
        log.exception("web console: the Playground's request failed")
        await response.write(json.dumps({"error": TEXTS.get("error.internal")}).encode() + b"\n")
    await response.write_eof()
    return response


@routes.post("/playground/save")
async def save(request: web.Request) -> web.Response:
    """Save as persona: the system prompt, model and parameters, for /persona NAME."""
    form = await request.post()
    playground_form = await _form(request)
    try:
        space = Space.parse(str(form.get("space", "")) or GLOBAL.label)
        draft = PersonaDraft(
            name=str(form.get("persona_name", "")),
            system_prompt=playground_form.system_prompt,
            description=str(form.get("persona_description", "")),
            model=playground_form.model,
            params=playground_form.params,
        )
        await workbench(request).personas.create(space, draft)
    except InvalidParam as invalid:
        return web.json_response({"error": _text(invalid)})
    name = draft.name.strip().lower()
    where = "every chat" if space.is_global else space.label
    return web.json_response({"ok": f"Saved persona '{name}' for {where}: /persona {name}"})


async def persona_spaces(request: web.Request) -> list[Space]:
    """Where a persona may be saved: the global list, then every chat's space the core knows."""
    chats = await deps(request).core.conversations()
    return await workbench(request).personas.spaces([chat.key for chat in chats])


async def _form(request: web.Request) -> PlaygroundForm:
    form = await request.post()
    roles, contents = form.getall("role", []), form.getall("content", [])
    return PlaygroundForm(
        model=str(form.get("model", "")),
        system_prompt=str(form.get("system", "")),
        messages=tuple(
            PlaygroundMessage(str(role), str(content))
            for role, content in zip(roles, contents, strict=False)
        ),
        params={
            name: str(form.get(PARAM_PREFIX + name, ""))
            for name in PLAYGROUND_PARAMS
            if PARAM_PREFIX + name in form
        },
    )


def _line(event: PlaygroundEvent) -> dict[str, Any]:
    """One event as a line of the streamed answer."""
    if isinstance(event, PlaygroundDone):
        usage = event.usage
        return {
            "done": {
                "prompt_tokens": usage.prompt_tokens,
                "cached_tokens": usage.cached_tokens,
                "completion_tokens": usage.completion_tokens,
                "reasoning_tokens": usage.reasoning_tokens,
                "cost_usd": usage.cost_usd,
                "cost": _dollars(usage.cost_usd),
                "finish_reason": event.finish_reason,
                "model": usage.model,
            }
        }
    if isinstance(event, PlaygroundFailed):
        return {"error": TEXTS.get(event.key)}
    if isinstance(event, ReasoningDelta):
        return {"reasoning": event.text}
    return {"delta": event.text}


def _dollars(value: float) -> str:
    """One request's price: millionths of a dollar show (a short prompt costs less than a cent)."""
    return usd(value) if value >= 0.01 else f"${value:.6f}"


def _text(invalid: InvalidParam) -> str:
    return TEXTS.get(invalid.key, **invalid.values)
