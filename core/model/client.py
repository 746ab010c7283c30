"""The model port and its implementation on the official `openai` library."""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import anyio
import httpx2
import openai
from openai import AsyncStream
from openai.types import Completion

from core.model.catalog import ModelSpec
from core.model.params import ChatParams
from core.model.provider_errors import ProviderError, about_a_model, detail_of, provider_error
from core.model.request_params import request_args
from core.model.server_models import OpenAIModelList
from core.model.thinking import ThinkSplitter

__all__ = ["ProviderError"]  # raised by ChatModel.stream; imported from here by the turn

DRAIN_TIMEOUT_S = 0.1  # how long the rest of a body is read after [DONE] (the client's figure)


@dataclass(frozen=True, slots=True)
class ModelRequest:
    model: ModelSpec
    messages: Sequence[Mapping[str, Any]]  # content: text, or text and image parts
    params: ChatParams
    max_tokens: int  # the completion's cap: the visible reply's plus room for reasoning
    user_hash: str | None = None
    # The API's `tools` definitions; sent only to a model whose catalog entry says `tools`.
    tools: Sequence[Mapping[str, Any]] = ()
    tool_choice: str | None = None  # "none": answer in words now (the loop's last round)


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """The model's thinking, apart from its answer (`reasoning_content` / `reasoning` deltas,
    or a leading `<think>` block)."""

    text: str


@dataclass(frozen=True, slots=True)
class ModelResult:
    finish_reason: str
    prompt_tokens: int | None = None  # None when the server reports no usage
    cached_tokens: int = 0
    completion_tokens: int | None = None  # reasoning included
    reasoning_tokens: int | None = None  # None when the server does not say


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One call the model asks for, its arguments assembled from the streamed pieces (a JSON
    text as the model wrote it: the loop parses it, a model may write invalid JSON)."""

    id: str
    name: str
    arguments: str


ModelEvent = TextDelta | ReasoningDelta | ToolCall | ModelResult


class ChatModel(Protocol):
    def stream(self, request: ModelRequest) -> AsyncGenerator[ModelEvent, None]:
        """Deltas of the answer (and of the thinking) in order, the tool calls asked for (each
        whole, in the order of their index), then exactly one ModelResult; or ProviderError."""
        ...


class OpenAIChatModel:
    """Chat completions (streamed, usage included) and the legacy completions endpoint."""

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        send_user_identifier: bool = True,
        listing: OpenAIModelList | None = None,
    ) -> None:
        self._client = client
        self._send_user_identifier = send_user_identifier
        self._listing = listing or OpenAIModelList(client)

    async def stream(self, request: ModelRequest) -> AsyncGenerator[ModelEvent, None]:
        try:
            if request.model.endpoint == "completions":
                async for event in self._legacy(request):
                    yield event
            else:
                async for event in self._chat(request):
                    yield event
        except ProviderError:
            raise
        except openai.NotFoundError as error:
            raise await self._not_found(error) from error
        except openai.APIError as error:
            raise provider_error(error) from error
        except Exception as error:
            # A connection dropped mid-stream or a chunk that is not JSON surfaces as a
            # transport or decode error, not an openai.APIError.
            detail = f"{type(error).__name__}: {error}"[:300]
            raise ProviderError("broken_stream", detail) from error

    async def _not_found(self, error: openai.NotFoundError) -> ProviderError:
        """ "No such model" only when the server said so and GET /models exists; a 404 of any
        other shape (a plain "Not Found", OpenAI's "Invalid URL") means a wrong base URL."""
        if about_a_model(error) and await self._listing.has_endpoint():
            return ProviderError("model_not_found", detail_of(error))
        return self._listing.endpoint_not_found(error)

    async def _chat(self, request: ModelRequest) -> AsyncIterator[ModelEvent]:
        kwargs = request_body(request, self._send_user_identifier)
        # The documented raw `post` sends the same request as `chat.completions.create` and
        # keeps the client's HTTP, retries and errors for the status, minus the costs that
        # dominate a turn's CPU: the parameter transform (it walks every message of the window
        # against the typed schema), a typed object for every streamed chunk (about a
        # millisecond each, and an answer has one chunk per token or so), and the client's
        # SSE layers (several async generators and a text decode per line of every chunk).
        # The body is read here as the server sent it; chunks stay plain JSON objects.
        response = await self._client.post(
            request_path(request.model),
            body=kwargs,
            cast_to=httpx2.Response,
            options={"security": {"bearer_auth": True}},
            stream=True,  # the body is left unread
        )
        assert isinstance(response, httpx2.Response)
        finish_reason = ""
        usage: Any = None
        split = ThinkSplitter()
        calls = ToolCallPieces()
        try:
            async with contextlib.aclosing(_sse_json(response)) as chunks:
                async for chunk in chunks:
                    if not isinstance(chunk, dict):
                        continue
                    if chunk.get("error"):
                        raise _stream_error(chunk["error"], response.request)
                    if chunk.get("usage") is not None:
                        usage = chunk["usage"]
                    for choice in chunk.get("choices") or ():
                        delta = choice.get("delta") or {}
                        # DeepSeek's field, and OpenRouter's.
                        thought = delta.get("reasoning_content") or delta.get("reasoning")
                        if thought and isinstance(thought, str):
                            yield ReasoningDelta(thought)
                        if delta.get("tool_calls"):
                            calls.feed(delta["tool_calls"])
                        content = delta.get("content")
                        if content:
                            if split.answering:
                                yield TextDelta(content)
                            else:
                                for event in _pieces(split.feed(content)):
                                    yield event
                        if choice.get("finish_reason"):
                            finish_reason = choice["finish_reason"]
        finally:
            await response.aclose()
        for event in _pieces(split.finish()):
            yield event
        if not finish_reason:
            raise ProviderError("broken_stream", "the stream ended without a finish reason")
        for call in calls.assembled():
            yield call
        yield _result(finish_reason, usage)

    async def _legacy(self, request: ModelRequest) -> AsyncIterator[ModelEvent]:
        kwargs = request_body(request, self._send_user_identifier)
        stream: AsyncStream[Completion] = await self._client.completions.create(**kwargs)
        finish_reason = ""
        usage: Any = None
        split = ThinkSplitter()
        async with stream:
            async for chunk in stream:
                if chunk.usage is not None:
                    usage = chunk.usage
                for choice in chunk.choices:
                    if choice.text:
                        for event in _pieces(split.feed(choice.text)):
                            yield event
                    if choice.finish_reason:
                        finish_reason = choice.finish_reason
        for event in _pieces(split.finish()):
            yield event
        if not finish_reason:
            raise ProviderError("broken_stream", "the stream ended without a finish reason")
        yield _result(finish_reason, usage)


def request_path(model: ModelSpec) -> str:
    """Where a request to `model` is posted, under the provider's base URL."""
    return "/completions" if model.endpoint == "completions" else "/chat/completions"


def request_body(request: ModelRequest, send_user_identifier: bool = True) -> dict[str, Any]:
    """The JSON body `OpenAIChatModel` sends for `request` (the console's "View code" shows
    the same)."""
    legacy = request.model.endpoint == "completions"
    body = request_args(request.params, request.model.caps, legacy=legacy)
    if request.tools and request.model.caps.tools and not legacy:
        body["tools"] = list(request.tools)
        if request.tool_choice is not None:
            body["tool_choice"] = request.tool_choice
    if request.user_hash and send_user_identifier:
        body["user" if legacy else "safety_identifier"] = request.user_hash
    if legacy:
        body.update(
            model=request.model.name,
            prompt=legacy_prompt(request.messages),
            max_tokens=request.max_tokens,
        )
    else:
        body[request.model.token_param] = request.max_tokens
        body.update(model=request.model.name, messages=list(request.messages))
    body.update(stream=True, stream_options={"include_usage": True})
    return body


async def _sse_json(response: httpx2.Response) -> AsyncGenerator[Any, None]:
    """The JSON of each server-sent event's data until `[DONE]`; then the rest of the body is
    read (briefly) so the connection goes back to the pool. Transport failures raise the
    client's own errors, as its stream class does."""
    events = SSEData()
    pieces = response.aiter_bytes()
    try:
        async for piece in pieces:
            for data in events.feed(piece):
                if data.startswith(b"[DONE]"):
                    with contextlib.suppress(TimeoutError, httpx2.HTTPError):
                        async with asyncio.timeout(DRAIN_TIMEOUT_S):
                            async for _ in pieces:
                                pass
                    return
                yield json.loads(data)
    except httpx2.TimeoutException as error:
        raise openai.APITimeoutError(request=response.request) from error
    except (httpx2.RequestError, ssl.SSLError, anyio.EndOfStream) as error:
        raise openai.APIConnectionError(request=response.request) from error


class ToolCallPieces:
    """Tool calls streamed in pieces, as the API sends them: a call's first delta carries its
    `index`, `id` and function name, later deltas of the same index more of its `arguments`;
    several calls (parallel function calling) interleave by index."""

    def __init__(self) -> None:
        self._calls: dict[int, dict[str, str]] = {}

    def feed(self, deltas: Any) -> None:
        for delta in deltas if isinstance(deltas, list) else ():
            if not isinstance(delta, dict):
                continue
            index = delta.get("index")
            call = self._calls.setdefault(
                index if isinstance(index, int) else len(self._calls),
                {"id": "", "name": "", "arguments": ""},
            )
            if isinstance(delta.get("id"), str) and delta["id"]:
                call["id"] = delta["id"]
            function = delta.get("function") or {}
            if isinstance(function.get("name"), str):
                call["name"] += function["name"]
            if isinstance(function.get("arguments"), str):
                call["arguments"] += function["arguments"]

    def assembled(self) -> list[ToolCall]:
        return [
            ToolCall(call["id"], call["name"], call["arguments"])
            for _, call in sorted(self._calls.items())
        ]


class SSEData:
    """The `data` of each event in a `text/event-stream` byte stream, fed in pieces.

    The WHATWG rules: lines end in CR, LF or CRLF (split anywhere across pieces), an empty
    line ends an event, several `data` lines join with LF, comments and the other fields
    (`event`, `id`, `retry`) are skipped, an event without data is none, and an event whose
    empty line never comes is dropped.
    """

    def __init__(self) -> None:
        self._partial = b""  # the start of a line whose end has not arrived
        self._data: list[bytes] = []
        self._skip_lf = False  # the last piece ended in CR: a leading LF completes that CRLF

    def feed(self, piece: bytes) -> list[bytes]:
        """The data of every event this piece completes."""
        if self._skip_lf and piece[:1] == b"\n":
            piece = piece[1:]
        self._skip_lf = piece[-1:] == b"\r"
        lines = (self._partial + piece if self._partial else piece).splitlines(keepends=True)
        self._partial = lines.pop() if lines and lines[-1][-1:] not in (b"\n", b"\r") else b""
        events: list[bytes] = []
        for ended in lines:
            line = ended.rstrip(b"\r\n")
            if not line:
                if self._data:
                    events.append(b"\n".join(self._data))
                    self._data = []
            elif line.startswith(b"data:"):
                value = line[5:]
                self._data.append(value[1:] if value[:1] == b" " else value)
            elif line == b"data":
                self._data.append(b"")
        return events


def legacy_prompt(messages: Sequence[Mapping[str, Any]]) -> str:
    """A chat transcript as one prompt for the completions endpoint."""
    labels = {"system": "Instructions", "user": "User", "assistant": "Assistant", "tool": "Tool"}
    # A chat that called tools on another model keeps them in history: their results read as
    # lines of their own, the calls (no words) as nothing.
    parts = [
        f"{labels.get(m['role'], m['role'])}: {m['content']}" for m in messages if m.get("content")
    ]
    return "\n\n".join(parts) + "\n\nAssistant:"


def _pieces(pieces: list[tuple[bool, str]]) -> list[TextDelta | ReasoningDelta]:
    return [ReasoningDelta(text) if thought else TextDelta(text) for thought, text in pieces]


def _result(finish_reason: str, usage: Any) -> ModelResult:
    """From a typed usage object (legacy endpoint) or the plain JSON one (chat)."""
    if usage is None:
        return ModelResult(finish_reason=finish_reason)
    details = _field(usage, "prompt_tokens_details")
    cached = (_field(details, "cached_tokens") if details is not None else None) or 0
    completion_details = _field(usage, "completion_tokens_details")
    reasoning = (
        _field(completion_details, "reasoning_tokens") if completion_details is not None else None
    )
    return ModelResult(
        finish_reason=finish_reason,
        prompt_tokens=_field(usage, "prompt_tokens"),
        cached_tokens=int(cached),
        completion_tokens=_field(usage, "completion_tokens"),
        reasoning_tokens=int(reasoning) if isinstance(reasoning, int) else None,
    )


def _field(value: Any, name: str) -> Any:
    return value.get(name) if isinstance(value, Mapping) else getattr(value, name, None)


def _stream_error(error: Any, request: httpx2.Request) -> openai.APIError:
    """An error event in the stream, raised as the client's stream class raises it."""
    message = error.get("message") if isinstance(error, Mapping) else None
    if not message or not isinstance(message, str):
        message = "An error occurred during streaming"
    return openai.APIError(message=message, request=request, body=error)
