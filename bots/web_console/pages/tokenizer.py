"""The Tokenizer page: text in; its tokens as coloured spans (ids on demand) and counts of tokens
and characters for the selected model's encoding and for cl100k_base and o200k_base side by
side. The page's script asks `/tokenizer/tokens` as the owner types; the same fragment renders a
plain form post."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bots.web_console.deps import workbench
from bots.web_console.rendering import render
from core.console.tokenizer import MAX_TEXT_CHARS, TextTooLong
from core.model.catalog import valid_model_name

routes = web.RouteTableDef()
EXAMPLE = "Hello, how are you today?\n안녕하세요, 오늘 어떠세요?"
COLOURS = 6  # span classes t0..t5 in console.css


@routes.get("/tokenizer")
async def tokenizer(request: web.Request) -> web.Response:
    bench = workbench(request)
    model = bench.tokenizer.default_model
    return _page(request, EXAMPLE, model)


@routes.post("/tokenizer")
async def tokenizer_form(request: web.Request) -> web.Response:
    form = await request.post()
    return _page(request, str(form.get("text", "")), str(form.get("model", "")))


@routes.post("/tokenizer/tokens")
async def tokens(request: web.Request) -> web.Response:
    """The result fragment alone, for the page's script."""
    form = await request.post()
    text, model = str(form.get("text", "")), str(form.get("model", ""))
    return render(request, "_tokens.html", **_result(request, text, model))


def _page(request: web.Request, text: str, model: str) -> web.Response:
    models = workbench(request).tokenizer.model_names()
    return render(
        request,
        "tokenizer.html",
        page="/tokenizer",
        title="Tokenizer",
        text=text,
        models=models,
        limit=MAX_TEXT_CHARS,
        **_result(request, text, model),
    )


def _result(request: web.Request, text: str, model: str) -> dict[str, Any]:
    bench = workbench(request)
    model = model.strip() or bench.tokenizer.default_model
    if not valid_model_name(model):
        return {"model": model, "result": None, "error": "Pick a model from the list."}
    try:
        result = bench.tokenizer.tokenize(text, model)
    except TextTooLong as too_long:
        return {"model": model, "result": None, "error": f"At most {too_long.limit:,} characters."}
    return {"model": model, "result": result, "error": "", "colours": COLOURS}
