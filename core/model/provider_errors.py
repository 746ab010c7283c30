"""The provider's failures as the core's `ProviderError`, whose `kind` picks the user's text."""

from __future__ import annotations

from collections.abc import Mapping

import openai


class ProviderError(Exception):
    """The model provider failed; `kind` picks the user-facing text, `detail` is for the log."""

    def __init__(self, kind: str, detail: str = "", retry_after: float | None = None) -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail
        self.retry_after = retry_after
        self.provider = ""  # which provider failed, for the log; set where requests are routed


def about_a_model(error: openai.APIError) -> bool:
    """An OpenAI-shaped error (or vLLM's) saying the model does not exist."""
    body = error.body
    if not isinstance(body, Mapping):
        return False
    message = body.get("message")
    return body.get("code") == "model_not_found" or (
        isinstance(message, str) and "model" in message.lower()
    )


def detail_of(error: openai.APIError) -> str:
    """For the log: the error class and its code or message, never the request."""
    code = str(getattr(error, "code", "") or "")
    return f"{type(error).__name__}: {code or error.message}"[:300]


def provider_error(error: openai.APIError) -> ProviderError:
    code = str(getattr(error, "code", "") or "")
    detail = detail_of(error)
    if isinstance(error, openai.APITimeoutError):
        return ProviderError("timeout", detail)
    if isinstance(error, openai.APIConnectionError):
        return ProviderError("connection", detail)
    if isinstance(error, openai.RateLimitError):
        kind = "quota" if code == "insufficient_quota" else "rate_limit"
        return ProviderError(kind, detail, retry_after=_retry_after(error))
    if isinstance(error, openai.AuthenticationError | openai.PermissionDeniedError):
        return ProviderError("auth", detail)
    if isinstance(error, openai.NotFoundError):
        return ProviderError("model_not_found", detail)
    if isinstance(error, openai.BadRequestError):
        message = str(error.message).lower()
        # OpenAI's code and wording (vLLM's too), then llama.cpp's server: "request (3114
        # tokens) exceeds the available context size (512 tokens)".
        if (
            code == "context_length_exceeded"
            or "context length" in message
            or getattr(error, "type", None) == "exceed_context_size_error"
            or "context size" in message
        ):
            return ProviderError("context_length", detail)
        return ProviderError("bad_request", detail)
    if isinstance(error, openai.InternalServerError):
        return ProviderError("server", detail)
    if isinstance(error, openai.APIStatusError):
        return ProviderError("server" if error.status_code >= 500 else "bad_request", detail)
    return ProviderError("broken_stream", detail)


def _retry_after(error: openai.APIStatusError) -> float | None:
    value = error.response.headers.get("retry-after") if error.response is not None else None
    try:
        return float(value) if value else None
    except ValueError:
        return None
