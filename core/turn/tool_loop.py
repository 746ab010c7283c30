"""Answering through tools: the model's calls of a round run concurrently (each within its own
timeout and output cap, a call that needs it only after the user's Yes), their results go back
as `tool` messages, and the model is asked again until it answers in words, within the owner's
rounds and seconds. Each call's progress line is shown where the answer will come.

Tool output is data: it goes back only as the `tool` message answering its call, never into
the system prompt, and nothing a tool returns is ever run as a bot command.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import secrets
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.boundary import (
    Choice,
    CommandReply,
    ConversationKey,
    ImageReply,
    IncomingMessage,
    Notice,
    ReplyEvent,
    Thinking,
    VoiceReply,
)
from core.commands.catalog import answers_a_waiting_turn, parse_command
from core.model.catalog import ModelSpec
from core.model.client import ChatModel, ToolCall
from core.storage.records import ConversationState, NewMessage, UsageRecord
from core.texts import Texts
from core.tokens import count_message, count_text, count_tool_calls
from core.tools.base import Tool, ToolCallContext, ToolOutput
from core.tools.confirmations import Answered, Confirmations
from core.tools.running import parsed_arguments, run_call
from core.tools.toolbox import Definitions, ToolBox, call_context, definitions, switches
from core.turn.answering import AnswerStream, StreamTiming
from core.turn.prompt_plan import Prompt, PromptPlan, PromptPlanner, PromptTools

log = logging.getLogger("core.turn")

ARGUMENTS_SHOWN = 200  # of a call's arguments in the confirmation question
PROGRESS_CHARS = 200  # of a call's progress line
# What a tool may show in the chat: pictures, voice, a notice. Never a button or a command.
SHOWN_REPLIES = (ImageReply, VoiceReply, Notice)


@dataclass(frozen=True, slots=True)
class ToolLoopConfig:
    max_rounds: int = 4  # rounds of calls; then the model must answer in words
    max_seconds: float = 60.0  # the tools' time in a turn; then the same
    confirm_timeout_s: float = 120.0  # no answer to "Run …?" within this is a No


@dataclass(frozen=True, slots=True)
class TurnTools:
    """The tools on in this turn's chat, as offered to the model, and what they may know."""

    tools: Mapping[str, Tool]
    definitions: Definitions
    context: ToolCallContext


@dataclass
class ToolRound:
    """One round's calls and results: the messages as sent and as stored."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    stored: list[NewMessage] = field(default_factory=list)
    tokens: int = 0


class ToolLoop:
    """The answer to a turn, through as many rounds of tool calls as the model makes (and the
    owner allows). Once `events()` is drained: `answer` is the last request's stream (the words
    the user got), `requests` every request's, `stored` the calls and results to store before
    the answer, `tool_usage` what the tools charged."""

    def __init__(
        self,
        model: ChatModel,
        prompt: Prompt,
        key: ConversationKey,
        thinking_after_s: float,
        tools: TurnTools | None,
        config: ToolLoopConfig,
        confirmations: Confirmations,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._model = model
        self._key = key
        self._thinking_after_s = thinking_after_s
        self._tools = tools
        self._config = config
        self._confirmations = confirmations
        self._clock = clock
        self.timing = StreamTiming()
        self.answer = AnswerStream(model, prompt, key, thinking_after_s, self.timing)
        self.requests: list[AnswerStream] = []
        self.stored: list[NewMessage] = []
        self.tool_usage: list[UsageRecord] = []

    async def events(self, texts: Texts) -> AsyncIterator[ReplyEvent]:
        sent: list[dict[str, Any]] = []
        sent_tokens = 0
        rounds = 0
        tools_s = 0.0
        silence = self._thinking_after_s
        while True:
            self.requests.append(self.answer)
            async for event in self.answer.events(texts):
                if isinstance(event, Thinking):
                    silence = math.inf  # said once a turn
                yield event
            answer = self.answer
            if answer.failure is not None or not answer.tool_calls or self._tools is None:
                return
            if answer.prompt.tools.choice == "none":
                return  # the model was told to answer in words and called again: stop here
            rounds += 1
            started = self._clock()
            round_ = ToolRound()
            async for event in self._run_round(answer, texts, tools_s, round_):
                yield event
            spent = self._clock() - started
            tools_s += spent
            self.timing.tools_s += spent
            self.stored += round_.stored
            sent += round_.sent
            sent_tokens += round_.tokens
            last = rounds >= self._config.max_rounds or tools_s >= self._config.max_seconds
            if last:
                log.info(
                    "tool loop for %s ends after %d rounds, %.1f s", self._key, rounds, tools_s
                )
            tools = PromptTools(
                self._tools.definitions.tools,
                self._tools.definitions.tokens,
                tuple(sent),
                sent_tokens,
                "none" if last else None,
            )
            prompt = answer.prompt.next_round(tools)
            self.answer = AnswerStream(self._model, prompt, self._key, silence, self.timing)

    async def _run_round(
        self, answer: AnswerStream, texts: Texts, tools_s: float, round_: ToolRound
    ) -> AsyncIterator[ReplyEvent]:
        assert self._tools is not None
        tools, context = self._tools.tools, self._tools.context
        calls = [
            call
            if call.id
            else ToolCall(f"call_{secrets.token_hex(12)}", call.name, call.arguments)
            for call in answer.tool_calls
        ]
        progress = [line for call in calls if (line := _progress(tools.get(call.name), call))]
        if progress:
            yield Thinking("\n".join(progress))
        asked: dict[int, str] = {}  # the calls' indexes: their questions' ids
        for index, call in enumerate(calls):
            tool = tools.get(call.name)
            if tool is None or not tool.spec.needs_confirmation:
                continue
            if parsed_arguments(call) is None:
                continue  # refused as it is, without asking
            wait = self._config.confirm_timeout_s
            confirm_id = await self._confirmations.ask(context.user_id, wait)
            asked[index] = confirm_id
            yield CommandReply(
                texts.get("tools.confirm", tool=call.name, arguments=_shown(call.arguments)),
                (
                    Choice(texts.get("tools.yes"), f"/confirm {confirm_id} yes"),
                    Choice(texts.get("tools.no"), f"/confirm {confirm_id} no"),
                ),
            )
        time_left = max(0.0, self._config.max_seconds - tools_s)
        deadline = self._clock() + time_left

        async def one(index: int, call: ToolCall) -> ToolOutput:
            if index in asked:
                wait = self._config.confirm_timeout_s
                if not await self._confirmations.wait(asked[index], wait):
                    return ToolOutput("The user declined to run this tool.", is_error=True)
            left = deadline - self._clock() if index not in asked else time_left
            return await run_call(tools.get(call.name), call, context, left)

        outputs = await asyncio.gather(*(one(index, call) for index, call in enumerate(calls)))
        for output in outputs:
            for reply in output.replies:
                if isinstance(reply, SHOWN_REPLIES):
                    yield reply
            self.tool_usage += output.usage
        encoding = answer.prompt.plan.spec.encoding
        _add_round(round_, answer.text, calls, outputs, encoding)


def turn_tools(
    toolbox: ToolBox,
    message: IncomingMessage,
    is_owner: bool,
    conversation: ConversationState,
    spec: ModelSpec,
    now: datetime,
) -> TurnTools | None:
    """The tools this turn offers the model; None when the model takes none, the owner turned
    tools off, or none is on in this chat."""
    if not spec.caps.tools or not toolbox.enabled or spec.endpoint == "completions":
        return None
    params = conversation.params
    context = call_context(message, is_owner, params, now)
    tools = toolbox.active(context, switches(params))
    if not tools:
        return None
    return TurnTools(tools, definitions(tools, spec.encoding), context)


async def plan_with_tools(
    planner: PromptPlanner,
    toolbox: ToolBox | None,  # None: a message kept as context, sent nowhere
    message: IncomingMessage,
    is_owner: bool,
    conversation: ConversationState,
    now: datetime,
) -> tuple[PromptPlan, TurnTools | None]:
    """The turn's plan, its history budget less the tool definitions sent with it, and those
    tools: one rule for the turn and for the console's preview of the next window."""
    plan = await planner.plan(message, conversation)
    if toolbox is None:
        return plan, None
    tools = turn_tools(toolbox, message, is_owner, conversation, plan.spec, now)
    return plan.minus(tools.definitions.tokens if tools else 0), tools


async def confirmation_reply(
    confirmations: Confirmations, message: IncomingMessage, texts: Texts
) -> CommandReply | None:
    """The reply to a press of "Yes" or "No" (`/confirm ID yes|no`), answered at once: the turn
    that asked holds the conversation's lock while it waits for this very message (in this
    process or another: the answer goes through the database). None for any other message."""
    command = parse_command(message.text)
    if command is None or not answers_a_waiting_turn(message.text):
        return None
    words = command[1].split()
    if len(words) != 2 or words[1] not in ("yes", "no"):
        return texts.error("tools.expired")
    yes = words[1] == "yes"
    answered = await confirmations.answer(words[0], message.author.user_id, yes)
    if answered is Answered.NOT_YOURS:
        return texts.error("tools.not_yours")
    if answered is Answered.UNKNOWN:
        return texts.error("tools.expired")
    return CommandReply(texts.get("tools.confirmed" if yes else "tools.declined"))


def _add_round(
    round_: ToolRound,
    text: str,
    calls: Sequence[ToolCall],
    outputs: Sequence[ToolOutput],
    encoding: str,
) -> None:
    """The assistant message with the calls, then one `tool` message per call, in order; each
    counted exactly as sent."""
    listed = [
        {
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": call.arguments},
        }
        for call in calls
    ]
    tokens = count_message("assistant", text, encoding) + count_tool_calls(
        [(call.name, call.arguments) for call in calls], encoding
    )
    round_.sent.append({"role": "assistant", "content": text or None, "tool_calls": listed})
    round_.stored.append(
        NewMessage("assistant", text, tokens, encoding, tool_calls=json.dumps(listed))
    )
    round_.tokens += tokens
    for call, output in zip(calls, outputs, strict=True):
        content = f"Error: {output.text}" if output.is_error else output.text
        tokens = count_message("tool", content, encoding) + count_text(call.id, encoding)
        round_.sent.append({"role": "tool", "tool_call_id": call.id, "content": content})
        round_.stored.append(NewMessage("tool", content, tokens, encoding, tool_call_id=call.id))
        round_.tokens += tokens


def _progress(tool: Tool | None, call: ToolCall) -> str:
    if tool is None:
        return ""
    arguments = parsed_arguments(call)
    if arguments is None:
        return ""
    try:
        return _shown(tool.progress(arguments), PROGRESS_CHARS)
    except Exception as error:  # a progress line is not worth failing the call for
        log.warning("progress of tool %s failed: %s", call.name, type(error).__name__)
        return ""


def _shown(text: str, limit: int = ARGUMENTS_SHOWN) -> str:
    """`text` on one line, cut to `limit` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
