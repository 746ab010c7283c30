"""The console's pages: each module has `routes`, an aiohttp `web.RouteTableDef` whose paths are
relative to the console (`/models` is served at /console/models). A new page adds its module
here and its link to rendering.NAV."""

from __future__ import annotations

from types import ModuleType

from bots.web_console.pages import (
    conversations,
    models,
    overview,
    personas,
    playground,
    signin,
    tokenizer,
)

PAGES: tuple[ModuleType, ...] = (
    signin,
    overview,
    conversations,
    personas,
    playground,
    tokenizer,
    models,
)
