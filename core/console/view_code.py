"""The Playground's "View code": the request it sends, as curl, Python (`openai`) and Node.js
(`openai`). The body is the one the model client sends (`core.model.client.request_body`); the
API key appears only as the name of the variable that holds it, never its value."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

OPENAI_BASE_URL = "https://api.openai.com/v1"
INDENT = "    "
FIRST_KEYS = ("model", "messages", "prompt")
INLINE_CHARS = 60  # a list or object this short stays on one line


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a provider's requests go, as a snippet shows it."""

    base_url: str | None  # None: OpenAI's own (the libraries' default)
    key_env: str  # the variable holding the key; "" for a server that needs none


@dataclass(frozen=True, slots=True)
class CodeSnippets:
    curl: str
    python: str
    node: str


def snippets(endpoint: Endpoint, path: str, body: Mapping[str, Any]) -> CodeSnippets:
    # The same object, read in the order people write it: the model and the prompt first.
    body = {key: body[key] for key in FIRST_KEYS if key in body} | dict(body)
    return CodeSnippets(
        curl=_curl(endpoint, path, body),
        python=_python(endpoint, path, body),
        node=_node(endpoint, path, body),
    )


def _curl(endpoint: Endpoint, path: str, body: Mapping[str, Any]) -> str:
    url = (endpoint.base_url or OPENAI_BASE_URL).rstrip("/") + path
    lines = [f"curl -N {shlex.quote(url)}", '-H "Content-Type: application/json"']
    if endpoint.key_env:
        lines.append(f'-H "Authorization: Bearer ${endpoint.key_env}"')
    lines.append("-d " + shlex.quote(json.dumps(body, indent=2, ensure_ascii=False)))
    return " \\\n  ".join(lines)


def _python(endpoint: Endpoint, path: str, body: Mapping[str, Any]) -> str:
    key = f'os.environ["{endpoint.key_env}"]' if endpoint.key_env else '"none"'
    client_args = [f"api_key={key}"]
    if endpoint.base_url:
        client_args.append(f"base_url={_py(endpoint.base_url)}")
    client = "".join(f"{INDENT}{argument},\n" for argument in client_args)
    legacy = path == "/completions"
    method = "completions" if legacy else "chat.completions"
    piece = "chunk.choices[0].text" if legacy else "chunk.choices[0].delta.content"
    arguments = "".join(f"{INDENT}{name}={_py(value, 1)},\n" for name, value in body.items())
    imports = "import os\n\n" if endpoint.key_env else ""
    return (
        f"{imports}from openai import OpenAI\n\n"
        f"client = OpenAI(\n{client})\n\n"
        f"stream = client.{method}.create(\n{arguments})\n"
        "for chunk in stream:\n"
        f"{INDENT}if chunk.choices and {piece}:\n"
        f'{INDENT * 2}print({piece}, end="", flush=True)\n'
    )


def _node(endpoint: Endpoint, path: str, body: Mapping[str, Any]) -> str:
    key = f"process.env.{endpoint.key_env}" if endpoint.key_env else '"none"'
    client_args = [f"apiKey: {key}"]
    if endpoint.base_url:
        client_args.append(f"baseURL: {json.dumps(endpoint.base_url)}")
    legacy = path == "/completions"
    method = "completions" if legacy else "chat.completions"
    piece = "chunk.choices[0]?.text" if legacy else "chunk.choices[0]?.delta?.content"
    # JSON is a JavaScript expression as it stands.
    return (
        'import OpenAI from "openai";\n\n'
        f"const client = new OpenAI({{ {', '.join(client_args)} }});\n\n"
        f"const stream = await client.{method}.create("
        f"{json.dumps(body, indent=2, ensure_ascii=False)});\n"
        "for await (const chunk of stream) {\n"
        f'  process.stdout.write({piece} ?? "");\n'
        "}\n"
    )


def _py(value: Any, depth: int = 0) -> str:
    """A Python literal for a JSON value (JSON's own spelling of strings and numbers is
    Python's too; true, false and null are not)."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, str | int | float):
        return json.dumps(value, ensure_ascii=False)
    inner = INDENT * (depth + 1)
    short = _py_inline(value)
    if len(short) <= INLINE_CHARS:
        return short
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        items = [f"{inner}{_py(str(key))}: {_py(item, depth + 1)}," for key, item in value.items()]
        return "{\n" + "\n".join(items) + "\n" + INDENT * depth + "}"
    items = [f"{inner}{_py(item, depth + 1)}," for item in value]
    return "[\n" + "\n".join(items) + "\n" + INDENT * depth + "]" if items else "[]"


def _py_inline(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_py(str(k))}: {_py_inline(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_py_inline(item) for item in value) + "]"
    return _py(value)
