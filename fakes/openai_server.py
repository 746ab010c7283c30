"""A fake OpenAI-compatible HTTP server (the outside world) for tests, benchmarks and manual runs.

`async with FakeOpenAI() as llm:` serves /v1/chat/completions, /v1/completions, /v1/models and
/v1/audio/transcriptions on 127.0.0.1 in the OpenAI wire format, so the real `openai` client
talks to it unchanged. Standalone: `python -m fakes.openai_server --port 8089 [--latency 0.3]`.

Reasoning models (names matching `reasoning_models`: o1/o3/o4/gpt-5 by default) behave like
OpenAI's: they refuse `max_tokens`, `stop`, `top_p`, penalties, `logit_bias` and a temperature
other than 1 with a 400, and spend `reasoning_tokens` (the server's, or a reply's own) out of
`max_completion_tokens` before any visible text, ending with finish_reason "length" and an empty
answer when the budget runs out; usage reports `completion_tokens_details.reasoning_tokens`.
A reply may also stream its thinking as `reasoning_content` (or `reasoning`) deltas, or carry a
`<think>` block in its text, as local reasoning models do.

Token counts use `bpe_openai` (an implementation independent of the tiktoken the core uses), so
tests that compare the core's counts with `usage.prompt_tokens` are real cross-checks.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import base64
import contextlib
import dataclasses
import hashlib
import inspect
import json
import math
import re
import time
import uuid
import warnings
import zlib
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache, lru_cache
from typing import Any

from aiohttp import web

from fakes.media import ogg_opus, png
from fakes.openai_tools import (
    FakeToolCall,
    call_deltas,
    calls_tokens,
    message_calls,
    tool_call_ids,
    tools_ids,
    tools_refusal,
    transcript_refusal,
)
from fakes.openai_vision import BadImage, content_images, image_tokens

with warnings.catch_warnings():
    # bpe_openai loads its bundled encodings at import time through a deprecated
    # importlib.resources call, and pytest turns warnings into errors.
    warnings.simplefilter("ignore", DeprecationWarning)
    import bpe_openai  # type: ignore[import-untyped]

Body = dict[str, Any]
Responder = Callable[[Body], "str | FakeReply | Awaitable[str | FakeReply]"]

CACHE_MIN_TOKENS = 1024  # OpenAI prompt caching starts at 1024 tokens...
CACHE_STEP = 128  # ...and grows in 128-token increments.
# Stand-ins for the chat-format tokens (<|start|>, <|message|>, <|end|>...) in the prompt sequence;
# negative so they never collide with real token ids.
_MSG_START, _MSG_SEP, _MSG_END, _NAME_EXTRA = -1, -2, -3, -4
_REPLY_PRIMER = [-5, -6, -7]
_IMAGE = -8  # an image's tokens in the prompt sequence


@dataclass(frozen=True)
class FakeReply:
    """What the fake model answers. None delays mean "use the server's latency settings"."""

    text: str
    finish_reason: str = "stop"
    chunk_size: int = 5  # characters per streamed content chunk
    first_token_delay_s: float | None = None
    chunk_delay_s: float | None = None
    break_after_chunks: int | None = None  # abort the connection after this many content chunks
    malformed_chunk_after: int | None = None  # send a non-JSON data line after this many
    error_after_chunks: int | None = None  # send an error event and end the stream after this many
    reasoning_tokens: int | None = None  # hidden thinking spent first; None: the server's setting
    reasoning_text: str = ""  # thinking streamed before the answer, in `reasoning_field` deltas
    reasoning_field: str = "reasoning_content"  # DeepSeek's; OpenRouter's is "reasoning"
    # Function calls made after `text` (finish_reason "tool_calls"); with tool_choice "none"
    # the model answers `text` alone, as the real one answers in words.
    tool_calls: tuple[FakeToolCall, ...] = ()


# What the transcriptions endpoint accepts, by the file name's extension, and its size limit.
AUDIO_FORMATS = ("flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm")
MAX_AUDIO_BYTES = 25 * 1024 * 1024
SPOKEN_MARKER = b"SAY:"


def spoken_text(audio: bytes) -> str:
    """The fake's "speech recognition": audio made by tests carries `SAY:<words>` (up to a NUL
    byte or the end); anything else is heard as a digest of its bytes, so a test can still tell
    which audio arrived."""
    start = audio.find(SPOKEN_MARKER)
    if start >= 0:
        words = audio[start + len(SPOKEN_MARKER) :].split(b"\x00", 1)[0]
        return words.decode("utf-8", errors="replace").strip()
    return f"audio {hashlib.sha256(audio).hexdigest()[:12]}"


@dataclass(frozen=True)
class Transcription:
    """One request to /v1/audio/transcriptions, as it arrived."""

    model: str
    file_name: str
    content_type: str
    audio: bytes
    language: str | None
    response_format: str | None


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    body: Any  # parsed JSON, None when there was no (valid) JSON body
    headers: dict[str, str]  # lower-cased names
    peer: tuple[str, int] | None = None  # the client's address and port: one per connection

    @property
    def api_key(self) -> str | None:
        auth = self.headers.get("authorization", "")
        return auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None


def encoding_name_for(model: str) -> str:
    """OpenAI's encoding for a model: cl100k_base for the GPT-3.5/GPT-4 family, else o200k_base."""
    m = model.lower().removeprefix("ft:")
    old = m.startswith(("gpt-3.5", "gpt-35", "gpt-4-", "text-embedding")) or m == "gpt-4"
    old = old or m in ("davinci-002", "babbage-002")
    return "cl100k_base" if old else "o200k_base"


@cache
def _encoding(name: str) -> Any:
    return bpe_openai.get_encoding(name)


def encoding_for(model: str) -> Any:
    """The model's encoding (a bpe_openai.Encoding, tiktoken-compatible API)."""
    return _encoding(encoding_name_for(model))


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # content parts: [{"type": "text", "text": ...}, ...]
        return "".join(p.get("text", "") for p in value if isinstance(p, dict))
    return "" if value is None else json.dumps(value, sort_keys=True)


# Another model family's tokenizer, for a server that counts unlike the bot (a Llama server,
# say): about one token per 3.2 characters.
CHARS_PER_TOKEN_RULE = "chars/3.2"


@lru_cache(maxsize=4096)
def _tokens(encoding_name: str, text: str) -> tuple[int, ...]:
    # Prompts repeat most of their messages turn after turn (the system prompt every time).
    if encoding_name == CHARS_PER_TOKEN_RULE:
        start = zlib.crc32(text.encode()) << 16  # ids of this text's own, for the prompt cache
        return tuple(range(start, start + math.ceil(len(text) / 3.2)))
    return tuple(_encoding(encoding_name).encode_ordinary(text))


def prompt_token_ids(
    messages: list[dict[str, Any]], model: str, tokenizer: str | None = None
) -> list[int]:
    """The prompt as a token sequence, framed like the cookbook counts it (3 per message, +1 per
    name, +3 reply primer), so len() of it is exactly OpenAI's prompt_tokens. `tokenizer` (an
    encoding name or CHARS_PER_TOKEN_RULE) replaces the model's own encoding."""
    name = tokenizer or encoding_name_for(model)
    out: list[int] = []
    for message in messages:
        out.append(_MSG_START)
        for key, value in message.items():
            if key == "tool_calls":
                out.extend(tool_call_ids(value, lambda text: _tokens(name, text)))
                continue
            out.extend(_tokens(name, _text(value)))
            if key == "name":
                out.append(_NAME_EXTRA)
        for url, detail in content_images(message.get("content")):
            out.extend([_IMAGE] * image_tokens(model, url, detail))
        out += [_MSG_SEP, _MSG_END]
    return out + _REPLY_PRIMER


def count_prompt_tokens(messages: list[dict[str, Any]], model: str) -> int:
    return len(prompt_token_ids(messages, model))


def count_tool_definitions(body: Body) -> int:
    """Prompt tokens a request's `tools` definitions take (0 without tools)."""
    name = encoding_name_for(str(body.get("model", "")))
    return len(tools_ids(body.get("tools"), lambda text: _tokens(name, text)))


def count_request_tokens(body: Body) -> int:
    """A chat request's whole prompt tokens: its messages and its tool definitions."""
    return count_prompt_tokens(body["messages"], body["model"]) + count_tool_definitions(body)


class PromptCache:
    """Longest cached prefix over the last `capacity` prompts, in OpenAI's 1024 + 128*k steps.

    Stores one digest per 128-token prefix boundary instead of whole prompts: the longest
    common prefix rounded down to a step is >= L exactly when some earlier prompt hashed the same
    first L tokens, so lookups are O(prompt) and memory stays small.
    """

    def __init__(self, capacity: int = 2000) -> None:
        self._recent: deque[list[bytes]] = deque()
        self._counts: Counter[bytes] = Counter()
        self._capacity = capacity

    def lookup_and_add(self, tokens: list[int]) -> int:
        digests, h = [], hashlib.blake2b(digest_size=16)
        for end in range(CACHE_STEP, len(tokens) + 1, CACHE_STEP):
            h.update(array.array("q", tokens[end - CACHE_STEP : end]).tobytes())
            if end >= CACHE_MIN_TOKENS:
                digests.append(h.copy().digest())
        cached = 0
        for i, digest in enumerate(digests):
            if not self._counts[digest]:
                break
            cached = CACHE_MIN_TOKENS + CACHE_STEP * i
        self._recent.append(digests)
        self._counts.update(digests)
        if len(self._recent) > self._capacity:
            for digest in self._recent.popleft():
                self._counts[digest] -= 1
                if not self._counts[digest]:
                    del self._counts[digest]
        return cached


_NAME_RE = re.compile(r"(?i:my name is)\s+([\w'-]+(?: [A-Z][\w'-]*)*)")
_ASKS_NAME_RE = re.compile(r"what(?:'s| is) my name", re.IGNORECASE)


def _prompt_as_messages(prompt: str) -> list[dict[str, Any]]:
    """Legacy prompts: each non-empty line is a user turn ("Speaker: " prefixes stripped), after
    dropping trailing cue lines such as "Assistant:"."""
    lines = [line.strip() for line in prompt.splitlines() if line.strip()]
    while lines and re.fullmatch(r"[^:]{1,40}:", lines[-1]):
        lines.pop()
    return [{"role": "user", "content": re.sub(r"^[^:]{1,40}:\s+", "", ln)} for ln in lines]


def default_responder(body: Body) -> str:
    """Deterministic answer from what was sent, for memory tests.

    "You said: <last user message>. I can see N earlier messages." where N counts every message
    (any role, system included) before the last user message. Asking "what is my name" answers
    from the latest earlier user message saying "my name is X".
    """
    messages = body.get("messages")
    if not isinstance(messages, list):
        messages = _prompt_as_messages(_text(body.get("prompt")))
    user_idx = [i for i, m in enumerate(messages) if m.get("role") == "user"]
    last = user_idx[-1] if user_idx else len(messages)
    said = _text(messages[last].get("content")) if user_idx else ""
    if _ASKS_NAME_RE.search(said):
        for i in reversed(user_idx[:-1]):
            if match := _NAME_RE.search(_text(messages[i].get("content"))):
                return f"Your name is {match.group(1)}."
        return "I don't know your name."
    return f"You said: {said}. I can see {last} earlier messages."


_CALL_RE = re.compile(r"\[call:([a-zA-Z0-9_-]{1,64})\]")


def calling_responder(body: Body) -> str | FakeReply:
    """`default_responder`, except that a user message saying "[call:NAME]" makes the model
    call that tool (when the request offers it) with {"q": the message}, then answer from the
    result: the standalone server's --call-tools (benchmarks, trying tools in the console)."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return default_responder(body)
    last = messages[-1]
    if last.get("role") == "tool":
        return FakeReply(f"The tool said: {_text(last.get('content'))[:200]}")
    offered = {tool.get("function", {}).get("name") for tool in body.get("tools") or ()}
    found = _CALL_RE.search(_text(last.get("content")))
    if last.get("role") == "user" and found and found.group(1) in offered:
        arguments = json.dumps({"q": _text(last.get("content"))[:200]})
        return FakeReply("", tool_calls=(FakeToolCall(found.group(1), arguments),))
    return default_responder(body)


def _default_error(status: int) -> tuple[str, str, str | None]:
    """(message, type, code) resembling what OpenAI sends for this status."""
    if status == 401:
        return "Incorrect API key provided: sk-fake.", "invalid_request_error", "invalid_api_key"
    if status == 429:
        return "Rate limit reached for requests.", "requests", "rate_limit_exceeded"
    if status >= 500:
        return "The server had an error while processing your request.", "server_error", None
    return f"Fake error {status}.", "invalid_request_error", None


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    headers = {"x-request-id": f"req_{uuid.uuid4().hex}", **(headers or {})}
    return web.json_response(payload, status=status, headers=headers)


def _error(
    status: int, message: str, param: str | None = None, code: str | None = None
) -> web.Response:
    error = {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    return _json({"error": error}, status)


def _sse(payload: Any) -> bytes:
    return f"data: {json.dumps(payload)}\n\n".encode()


def _abort(request: web.Request) -> web.Response:
    # Drop the TCP connection without finishing the HTTP message, like a network failure.
    if request.transport is not None:
        request.transport.abort()
    return web.Response()


# What reasoning models refuse: the sampling knobs, stop sequences, and the old reply cap.
REASONING_REFUSED = ("stop", "top_p", "presence_penalty", "frequency_penalty", "logit_bias")
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high")


def reasoning_refusal(body: Body) -> web.Response | None:
    """The 400 OpenAI answers a reasoning model's request with, or None when it is fine."""
    if body.get("max_tokens") is not None:
        return _error(
            400,
            "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead.",
            "max_tokens",
            "unsupported_parameter",
        )
    for name in REASONING_REFUSED:
        if body.get(name) is not None:
            message = f"Unsupported parameter: '{name}' is not supported with this model."
            return _error(400, message, name, "unsupported_parameter")
    temperature = body.get("temperature")
    if temperature is not None and temperature != 1:
        message = (
            f"Unsupported value: 'temperature' does not support {temperature} with this model. "
            "Only the default (1) value is supported."
        )
        return _error(400, message, "temperature", "unsupported_value")
    effort = body.get("reasoning_effort")
    if effort is not None and effort not in REASONING_EFFORTS:
        message = f"Invalid value: '{effort}'. Supported values are: 'low', 'medium', and 'high'."
        return _error(400, message, "reasoning_effort", "invalid_value")
    return None


_MALFORMED = b"data: {this is not json\n\n"
_MARKER = "\x00piece\x00"
_STREAM_ERROR = {
    "message": "The server had an error while processing your request. Sorry about that!",
    "type": "server_error",
    "param": None,
    "code": None,
}


class FakeOpenAI:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency_s: float = 0.0,  # about the total time of one reply, spread over its chunks
        first_token_delay_s: float = 0.0,
        responder: Responder = default_responder,
        context_window: int | None = None,  # prompt + requested max tokens above this => 400
        api_key: str | None = None,  # when set, any other key gets 401 invalid_api_key
        cache_capacity: int = 2000,
        models: tuple[str, ...] = ("gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-5-mini"),
        list_models: bool = True,  # False: GET /v1/models is a 404, as on a server without it
        reasoning_models: tuple[str, ...] = ("o1*", "o3*", "o4*", "gpt-5*"),  # name patterns
        reasoning_tokens: int = 0,  # what a reasoning model thinks before answering, per reply
        tokenizer: str | None = None,  # count prompts with this instead (see prompt_token_ids)
    ) -> None:
        self.host, self.port = host, port
        self.latency_s, self.first_token_delay_s = latency_s, first_token_delay_s
        self.responder = responder
        self.context_window, self.api_key, self.models = context_window, api_key, models
        self.list_models = list_models
        self.reasoning_models, self.reasoning_tokens = reasoning_models, reasoning_tokens
        self.tokenizer = tokenizer
        self.requests: list[RecordedRequest] = []
        self.transcriptions: list[Transcription] = []
        # Seconds of audio the endpoint reports per request (as whisper-1 bills); None = none.
        self.audio_seconds: float | None = None
        self._transcription_faults: deque[int] = deque()
        self.image_requests: list[Body] = []  # bodies of /v1/images/generations
        self.speech_requests: list[Body] = []  # bodies of /v1/audio/speech
        self._image_faults: deque[tuple[int, Body]] = deque()
        self._speech_faults: deque[int] = deque()
        self.cache = PromptCache(cache_capacity)
        self._faults: deque[tuple[int, Body, dict[str, str]]] = deque()
        self._hangs: deque[float] = deque()
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> FakeOpenAI:
        # aiohttp refuses bodies over 1 MB by default; the transcriptions endpoint takes 25 MB
        # files (plus the multipart form around them).
        app = web.Application(client_max_size=MAX_AUDIO_BYTES + 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._complete)
        app.router.add_post("/v1/completions", self._complete)
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/audio/transcriptions", self._transcribe)
        app.router.add_post("/v1/images/generations", self._generate_image)
        app.router.add_post("/v1/audio/speech", self._speak)
        # handler_cancellation: a client giving up on a hung request must not keep the handler
        # (and so shutdown) waiting.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=0.5, access_log=None
        )
        await self._runner.setup()
        # A provider accepts a thousand clients connecting at once; the default backlog (128)
        # would drop connections and make the client retry them a second later.
        await web.TCPSite(self._runner, self.host, self.port, backlog=4096).start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def fail_next(
        self,
        status: int,
        *,
        message: str | None = None,
        type: str | None = None,
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
        count: int = 1,
    ) -> None:
        """The next `count` completion requests get an OpenAI-shaped error with this status."""
        d_message, d_type, d_code = _default_error(status)
        error = {"message": message or d_message, "type": type or d_type, "param": param}
        fault = (status, {"error": error | {"code": code or d_code}}, dict(headers or {}))
        self._faults.extend([fault] * count)

    def fail_next_transcription(self, status: int) -> None:
        """The next transcription request gets an OpenAI-shaped error with this status."""
        self._transcription_faults.append(status)

    def refuse_next_image(self) -> None:
        """The next image request is refused by the "safety system", in the shape of the model's
        errors: gpt-image-1's moderation_blocked, dall-e's content_policy_violation."""
        self._image_faults.append((400, {}))

    def fail_next_image(self, status: int) -> None:
        self._image_faults.append((status, {}))

    def fail_next_speech(self, status: int) -> None:
        self._speech_faults.append(status)

    def hang_next(self, seconds: float, count: int = 1) -> None:
        """The next `count` completion requests wait this long before being handled."""
        self._hangs.extend([seconds] * count)

    def reasons(self, model: str) -> bool:
        """Whether `model` behaves as a reasoning model here."""
        return any(fnmatchcase(model.lower(), pattern) for pattern in self.reasoning_models)

    @property
    def last_request(self) -> RecordedRequest:
        return self.requests[-1]

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == "/v1/chat/completions"]

    @property
    def last_body(self) -> Body:
        """The JSON body of the latest chat or legacy completion request."""
        return [r for r in self.requests if r.path.endswith("completions")][-1].body  # type: ignore[no-any-return]

    @property
    def last_messages(self) -> list[dict[str, Any]]:
        return self.last_body["messages"]  # type: ignore[no-any-return]

    async def _models(self, request: web.Request) -> web.Response:
        self._record(request, None)
        if not self.list_models:
            raise web.HTTPNotFound()  # what every path the server does not serve answers
        data = [
            dict(id=m, object="model", created=1700000000, owned_by="system") for m in self.models
        ]
        return _json({"object": "list", "data": data})

    async def _transcribe(self, request: web.Request) -> web.Response:
        """multipart/form-data: `file` (format by its extension), `model`, optional `language`
        and `response_format`; answers {"text", "usage"} as OpenAI does."""
        self._record(request, None)
        if self._transcription_faults:
            status = self._transcription_faults.popleft()
            message, kind, code = _default_error(status)
            return _json({"error": {"message": message, "type": kind, "code": code}}, status)
        form = await request.post()
        upload = form.get("file")
        model = str(form.get("model") or "")
        if not isinstance(upload, web.FileField) or not model:
            return _error(400, "Missing required parameter: 'file' or 'model'.", "file")
        audio = upload.file.read()
        extension = (upload.filename or "").rsplit(".", 1)[-1].lower()
        if extension not in AUDIO_FORMATS:
            supported = ", ".join(f"'{name}'" for name in AUDIO_FORMATS)
            return _error(400, f"Invalid file format. Supported formats: [{supported}]", "file")
        if len(audio) > MAX_AUDIO_BYTES:
            return _error(413, "Maximum content size limit (26214400) exceeded.", "file")
        language = form.get("language")
        response_format = form.get("response_format")
        self.transcriptions.append(
            Transcription(
                model=model,
                file_name=upload.filename or "",
                content_type=upload.content_type,
                audio=audio,
                language=str(language) if language is not None else None,
                response_format=str(response_format) if response_format is not None else None,
            )
        )
        text = spoken_text(audio)
        usage: Body
        if self.audio_seconds is not None:
            usage = {"type": "duration", "seconds": self.audio_seconds}
        else:
            output = len(encoding_for("gpt-4o").encode_ordinary(text))
            audio_tokens = max(len(audio) // 100, 1)
            usage = {
                "type": "tokens",
                "input_tokens": audio_tokens,
                "input_token_details": {"audio_tokens": audio_tokens, "text_tokens": 0},
                "output_tokens": output,
                "total_tokens": audio_tokens + output,
            }
        return _json({"text": text, "usage": usage})

    async def _generate_image(self, request: web.Request) -> web.Response:
        """One image as OpenAI answers: gpt-image-* always base64 (and refuse
        `response_format`), dall-e a URL unless asked for `b64_json`; dall-e-3 revises the
        prompt; the safety refusal in each family's shape."""
        body = await request.json()
        self._record(request, body)
        model = str(body.get("model") or "dall-e-2")
        gpt_image = model.startswith("gpt-image")
        if self._image_faults:
            status, _ = self._image_faults.popleft()
            if status == 400:
                code = "moderation_blocked" if gpt_image else "content_policy_violation"
                kind = "image_generation_user_error" if gpt_image else "invalid_request_error"
                message = "Your request was rejected as a result of our safety system."
                return _json(
                    {"error": {"message": message, "type": kind, "param": None, "code": code}}, 400
                )
            message, kind, code = _default_error(status)
            return _json({"error": {"message": message, "type": kind, "code": code}}, status)
        prompt = str(body.get("prompt") or "")
        if not prompt:
            return _error(400, "Missing required parameter: 'prompt'.", "prompt")
        if gpt_image and "response_format" in body:
            return _error(400, "Unknown parameter: 'response_format'.", "response_format")
        self.image_requests.append(body)
        item: Body = {}
        if gpt_image or body.get("response_format") == "b64_json":
            item["b64_json"] = base64.b64encode(png()).decode()
        else:
            item["url"] = "https://images.example/generated.png"
        if model == "dall-e-3":
            item["revised_prompt"] = f"A detailed picture of {prompt}"
        answer: Body = {"created": int(time.time()), "data": [item]}
        if gpt_image:
            answer["usage"] = {"input_tokens": len(prompt) // 4 + 1, "output_tokens": 272}
        return _json(answer)

    async def _speak(self, request: web.Request) -> web.StreamResponse:
        """Speech as OGG/Opus (real pages, silence) whose OpusTags carry the input text."""
        body = await request.json()
        self._record(request, body)
        if self._speech_faults:
            status = self._speech_faults.popleft()
            message, kind, code = _default_error(status)
            return _json({"error": {"message": message, "type": kind, "code": code}}, status)
        text = str(body.get("input") or "")
        if not text or len(text) > 4096:
            return _error(400, "input must be 1 to 4096 characters.", "input")
        if not body.get("voice") or not body.get("model"):
            return _error(400, "Missing required parameter: 'voice' or 'model'.", "voice")
        self.speech_requests.append(body)
        if body.get("response_format") != "opus":
            return _error(400, "This fake speaks only response_format 'opus'.", "response_format")
        audio = ogg_opus(max(1, len(text) // 15), comment=text[:200])
        return web.Response(body=audio, content_type="audio/ogg")

    async def _complete(self, request: web.Request) -> web.StreamResponse:
        chat = request.path == "/v1/chat/completions"
        try:
            body = await request.json()
        except ValueError:
            body = None
        self._record(request, body)
        if self._hangs:
            await asyncio.sleep(self._hangs.popleft())
        if self._faults:
            status, error, headers = self._faults.popleft()
            return _json(error, status, headers)
        if self.api_key is not None and request.headers.get("Authorization") != (
            f"Bearer {self.api_key}"
        ):
            return _error(401, _default_error(401)[0], code="invalid_api_key")
        field = "messages" if chat else "prompt"
        if not isinstance(body, dict) or not body.get("model") or not body.get(field):
            return _error(400, f"Missing required parameter: '{field}'.", field)
        model = body["model"]
        reasons = chat and self.reasons(model)
        if reasons and (refused := reasoning_refusal(body)) is not None:
            return refused
        if chat:
            refusal = transcript_refusal(body["messages"]) or tools_refusal(body.get("tools"))
            if refusal is not None:
                return _error(400, refusal, "messages")
            try:
                prompt = prompt_token_ids(body["messages"], model, self.tokenizer)
            except BadImage as error:
                return _error(400, f"Invalid image: {error}.", "messages", code="invalid_image")
            encoding = self.tokenizer or encoding_name_for(model)
            prompt = tools_ids(body.get("tools"), lambda text: _tokens(encoding, text)) + prompt
        else:
            raw = body["prompt"][0] if isinstance(body["prompt"], list) else body["prompt"]
            prompt = encoding_for(model).encode_ordinary(_text(raw))
        asked = body.get("max_completion_tokens", body.get("max_tokens"))
        if self.context_window is not None and len(prompt) + (asked or 0) > self.context_window:
            wanted = len(prompt) + (asked or 0)
            message = (
                f"This model's maximum context length is {self.context_window} tokens. However, "
                f"you requested {wanted} tokens ({len(prompt)} in the messages, {asked or 0} in "
                "the completion). Please reduce the length of the messages or completion."
            )
            return _error(400, message, "messages", "context_length_exceeded")
        cached = self.cache.lookup_and_add(prompt) if chat else None

        reply = self.responder(body)
        if inspect.isawaitable(reply):
            reply = await reply
        if isinstance(reply, str):
            reply = FakeReply(reply)
        if reply.tool_calls and (not body.get("tools") or body.get("tool_choice") == "none"):
            reply = dataclasses.replace(reply, tool_calls=())  # it can only answer in words
        max_tokens = 16 if asked is None and not chat else asked  # 16: the legacy API's default
        thinking = reply.reasoning_tokens
        if thinking is None and reply.reasoning_text:
            thinking = len(encoding_for(model).encode_ordinary(reply.reasoning_text))
        if thinking is None:
            thinking = self.reasoning_tokens if reasons else 0
        if max_tokens is not None and thinking >= max_tokens:
            # The whole budget went on thinking: nothing visible, cut at the limit.
            text, finish, completion_tokens, thinking = "", "length", 0, max_tokens
        else:
            left = None if max_tokens is None else max_tokens - thinking
            text, finish, completion_tokens = _cut(reply, body, model, left)
            if reply.tool_calls and finish == "stop":
                finish = "tool_calls"
                completion_tokens += calls_tokens(
                    reply.tool_calls, encoding_for(model).encode_ordinary
                )
        usage = _usage(len(prompt), completion_tokens + thinking, cached, thinking)
        head = {
            "id": ("chatcmpl-" if chat else "cmpl-") + uuid.uuid4().hex[:29],
            "object": "chat.completion" if chat else "text_completion",
            "created": int(time.time()),
            "model": model,
        }
        if chat:
            head |= {"service_tier": "default", "system_fingerprint": "fp_fake"}
        if body.get("stream"):
            with_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return await self._stream(
                request, reply, text, finish, head, usage if with_usage else None
            )

        await asyncio.sleep(max(self.latency_s, self._first_delay(reply)))
        if reply.break_after_chunks is not None:
            return _abort(request)
        if reply.malformed_chunk_after is not None:
            return web.Response(text="{not json", content_type="application/json")
        if chat:
            msg: Body = {"role": "assistant", "content": text, "refusal": None, "annotations": []}
            if reply.reasoning_text:
                msg[reply.reasoning_field] = reply.reasoning_text
            if finish == "tool_calls":
                msg["tool_calls"] = message_calls(reply.tool_calls)
            choice: Body = {"index": 0, "message": msg, "logprobs": None, "finish_reason": finish}
        else:
            choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": finish}
        return _json(head | {"choices": [choice], "usage": usage})

    def _first_delay(self, reply: FakeReply) -> float:
        d = reply.first_token_delay_s
        return self.first_token_delay_s if d is None else d

    async def _stream(
        self,
        request: web.Request,
        reply: FakeReply,
        text: str,
        finish: str,
        head: Body,
        usage: Body | None,  # None: the client did not ask for stream_options.include_usage
    ) -> web.StreamResponse:
        chat = head["object"] == "chat.completion"
        size = max(1, reply.chunk_size)
        pieces = [text[i : i + size] for i in range(0, len(text), size)]
        first, gap = self._first_delay(reply), reply.chunk_delay_s
        if gap is None:
            gap = max(0.0, self.latency_s - first) / max(1, len(pieces))
        head = head | {"object": "chat.completion.chunk" if chat else "text_completion"}
        brk, bad, err = (
            None if v is None else min(v, len(pieces))
            for v in (
                reply.break_after_chunks,
                reply.malformed_chunk_after,
                reply.error_after_chunks,
            )
        )

        def chunk(delta: Body, reason: str | None = None) -> bytes:
            choice: Body = {"index": 0, "logprobs": None, "finish_reason": reason}
            choice |= {"delta": delta} if chat else {"text": delta.get("content", "")}
            return _sse(head | {"choices": [choice]} | ({} if usage is None else {"usage": None}))

        # Content chunks differ only in their text: serialize one around a marker, then fill in.
        marked = chunk({"content": _MARKER}).decode()
        before, after = marked.split(json.dumps(_MARKER))

        def content_chunk(piece: str) -> bytes:
            return (before + json.dumps(piece) + after).encode()

        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8"})
        resp.headers["x-request-id"] = f"req_{uuid.uuid4().hex}"
        try:
            await resp.prepare(request)
            await asyncio.sleep(first)
            if chat:
                await resp.write(chunk({"role": "assistant", "content": "", "refusal": None}))
                size = max(1, reply.chunk_size)
                thought = reply.reasoning_text
                for at in range(0, len(thought), size):
                    await resp.write(chunk({reply.reasoning_field: thought[at : at + size]}))
            for n, piece in enumerate([*pieces, ""]):  # n == len(pieces): after the last one
                if n == brk:
                    _abort(request)
                    return resp
                if n == bad:
                    await resp.write(_MALFORMED)
                if n == err:  # what OpenAI sends when it fails after the response has started
                    await resp.write(_sse({"error": _STREAM_ERROR}))
                    await resp.write_eof()
                    return resp
                if n < len(pieces):
                    await asyncio.sleep(gap)
                    await resp.write(content_chunk(piece))
            if finish == "tool_calls":
                for calls in call_deltas(reply.tool_calls):
                    await resp.write(chunk({"tool_calls": calls}))
            await resp.write(chunk({}, finish))
            if usage is not None:
                await resp.write(_sse(head | {"choices": [], "usage": usage}))
            await resp.write(b"data: [DONE]\n\n")
            await resp.write_eof()
        except ConnectionResetError:
            pass  # the client went away; nothing left to send
        return resp

    def _record(self, request: web.Request, body: Any) -> None:
        headers = {k.lower(): v for k, v in request.headers.items()}
        peer = request.transport.get_extra_info("peername") if request.transport else None
        self.requests.append(
            RecordedRequest(
                request.method, request.path, body, headers, tuple(peer[:2]) if peer else None
            )
        )


def _cut(reply: FakeReply, body: Body, model: str, max_tokens: int | None) -> tuple[str, str, int]:
    """Apply `stop` sequences and the token limit; returns (text, finish_reason, tokens)."""
    text, finish = reply.text, reply.finish_reason
    stops = body.get("stop") or []
    for stop in [stops] if isinstance(stops, str) else stops:
        if stop and stop in text:
            text, finish = text[: text.index(stop)], "stop"
    enc = encoding_for(model)
    tokens = enc.encode_ordinary(text)
    if max_tokens is not None and len(tokens) > max_tokens:
        tokens = tokens[:max_tokens]
        text, finish = enc.decode_bytes(tokens).decode("utf-8", errors="ignore"), "length"
    return text, finish, len(tokens)


def _usage(prompt: int, completion: int, cached: int | None, reasoning: int = 0) -> Body:
    usage: Body = {"prompt_tokens": prompt, "completion_tokens": completion}
    usage["total_tokens"] = prompt + completion
    if cached is not None:  # chat only; the legacy endpoint reports no details
        usage["prompt_tokens_details"] = {"cached_tokens": cached, "audio_tokens": 0}
        usage["completion_tokens_details"] = dict.fromkeys(
            (
                "reasoning_tokens",
                "audio_tokens",
                "accepted_prediction_tokens",
                "rejected_prediction_tokens",
            ),
            0,
        )
        usage["completion_tokens_details"]["reasoning_tokens"] = reasoning
    return usage


async def _serve_forever(port: int, latency_s: float, **options: Any) -> None:
    async with FakeOpenAI(port=port, latency_s=latency_s, **options) as llm:
        print(f"Fake OpenAI listening: OPENAI_BASE_URL={llm.base_url}  (Ctrl+C to stop)")
        await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve a fake OpenAI API until interrupted.")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per reply")
    parser.add_argument(
        "--reasoning-tokens", type=int, default=0, help="what reasoning models think per reply"
    )
    # A second provider next to the first, e.g. --port 8090 --models llama-3.1-8b
    # --tokenizer chars/3.2 --context-window 2048
    parser.add_argument("--models", help="comma-separated names GET /v1/models lists")
    parser.add_argument("--tokenizer", help=f"count prompts: {CHARS_PER_TOKEN_RULE}, cl100k_base")
    parser.add_argument("--context-window", type=int, help="refuse longer requests (HTTP 400)")
    parser.add_argument(
        "--call-tools", action="store_true", help='"[call:NAME]" in a message calls that tool'
    )
    args = parser.parse_args()
    options: dict[str, Any] = {
        "tokenizer": args.tokenizer,
        "context_window": args.context_window,
        "reasoning_tokens": args.reasoning_tokens,
    }
    if args.call_tools:
        options["responder"] = calling_responder
    if args.models:
        options["models"] = tuple(name.strip() for name in args.models.split(","))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_forever(args.port, args.latency, **options))


if __name__ == "__main__":
    main()
