"""Which of a chat's parameters go into a request to its model, in the wire format: only what
the model takes (a reasoning model rejects `stop` or `temperature` with a 400, which would fail
every turn of the chat); the rest stays stored for when the chat switches back."""

from __future__ import annotations

from typing import Any

from core.model.capabilities import OPTIONAL_PARAMS, Capabilities
from core.model.params import ChatParams

# The response_format values as the API spells them.
RESPONSE_FORMATS = {"json": {"type": "json_object"}, "text": {"type": "text"}}


def set_params(params: ChatParams) -> list[str]:
    """The optional parameters this chat (or its persona) set, in /set's order."""
    values = params.to_json()
    return [name for name in OPTIONAL_PARAMS if name in values]


def ignored_params(params: ChatParams, caps: Capabilities) -> list[str]:
    """What the chat set that its model does not take (and so is not sent)."""
    return [name for name in set_params(params) if not takes(caps, name, getattr(params, name))]


def takes(caps: Capabilities, name: str, value: object) -> bool:
    """Whether the model takes this parameter with this value: an effort set for another model
    (gpt-5's "minimal" on o3) is not sent either."""
    if not caps.takes(name):
        return False
    if name == "reasoning_effort":
        return value in caps.reasoning_efforts
    if name == "verbosity":
        return value in caps.verbosities
    return True


def request_args(params: ChatParams, caps: Capabilities, *, legacy: bool = False) -> dict[str, Any]:
    """The request fields for `params` on a model with `caps` (the reply's cap apart)."""
    args: dict[str, Any] = {}
    for name in set_params(params):
        value = getattr(params, name)
        if not takes(caps, name, value) or (legacy and name == "response_format"):
            continue
        if name == "stop":
            value = list(value)
        elif name == "logit_bias":
            value = {str(token): bias for token, bias in value}
        elif name == "response_format":
            value = RESPONSE_FORMATS[value]
        args[name] = value
    return args


def wants_json(params: ChatParams, caps: Capabilities) -> bool:
    """JSON mode is on for this request: the prompt must then mention JSON (OpenAI refuses
    JSON mode otherwise)."""
    return params.response_format == "json" and caps.takes("response_format")
