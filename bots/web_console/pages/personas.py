"""Personas = Playground presets: the catalog (config/personas.toml, read-only here) and every
chat's saved personas, plus the owner's global list that /persona finds in every chat; create,
edit, copy and delete, checked as /newpersona and /set check them. Plain forms: no script."""

from __future__ import annotations

from aiohttp import web

from bots.web_console.deps import workbench
from bots.web_console.pages.playground import PARAM_PREFIX, TEXTS, persona_spaces
from bots.web_console.rendering import render
from core.console.personas import PersonaDraft, Space, as_set_value
from core.console.playground import PLAYGROUND_PARAMS
from core.model.params import InvalidParam

routes = web.RouteTableDef()
CATALOG = "catalog"  # the copy form's source for a built-in persona


@routes.get("/personas")
async def personas(request: web.Request) -> web.Response:
    return await _page(request)


@routes.post("/personas/{action:create|edit|copy|delete}")
async def change(request: web.Request) -> web.Response:
    form = await request.post()
    port = workbench(request).personas
    action = request.match_info["action"]
    field = {key: str(value) for key, value in form.items()}
    try:
        if action == "copy":
            source = field.get("source", "")
            target = Space.parse(field.get("target", ""))
            origin = None if source == CATALOG else Space.parse(source)
            await port.copy(origin, field.get("name", ""), target, field.get("new_name", ""))
            name = (field.get("new_name", "").strip() or field.get("name", "")).lower()
            said = f"Copied to {target.label} as '{name}'."
        elif action == "delete":
            await port.delete(Space.parse(field.get("space", "")), field.get("name", ""))
            said = f"Deleted '{field.get('name', '')}'."
        else:
            draft = PersonaDraft(
                name=field.get("name", ""),
                system_prompt=field.get("system_prompt", ""),
                description=field.get("description", ""),
                model=field.get("model", ""),
                params={
                    name: field[PARAM_PREFIX + name]
                    for name in PLAYGROUND_PARAMS
                    if PARAM_PREFIX + name in field
                },
            )
            space = Space.parse(field.get("space", ""))
            await (port.create if action == "create" else port.edit)(space, draft)
            verb = "Saved" if action == "create" else "Updated"
            said = f"{verb} '{draft.name.strip().lower()}' for {space.label}."
    except InvalidParam as invalid:
        return await _page(request, error=TEXTS.get(invalid.key, **invalid.values), status=400)
    return await _page(request, said=said)


async def _page(
    request: web.Request, *, said: str = "", error: str = "", status: int = 200
) -> web.Response:
    bench = workbench(request)
    return render(
        request,
        "personas.html",
        status=status,
        page="/personas",
        title="Personas",
        catalog=bench.personas.catalog(),
        saved=await bench.personas.saved(),
        spaces=await persona_spaces(request),
        models=bench.playground.model_names(),
        params=PLAYGROUND_PARAMS,
        as_set_value=as_set_value,
        said=said,
        error=error,
    )
