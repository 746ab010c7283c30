"""The chat service: the one entry point every adapter calls."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from functools import lru_cache

from sqlalchemy.exc import SQLAlchemyError

from core.boundary import (
    AnswerDelta,
    AnswerDone,
    ConversationKey,
    Failure,
    IncomingMessage,
    Notice,
    ReplyEvent,
)
from core.commands.catalog import names_another_bot, parse_command
from core.commands.runner import CommandContext, CommandRunner
from core.model.catalog import ModelCatalog, ModelSpec
from core.model.client import ChatModel, ModelRequest, ModelResult, ProviderError, TextDelta
from core.model.params import DEFAULT_REPLY_TOKENS
from core.personas import PersonaBook
from core.policy.access import AccessPolicy
from core.policy.limits import AbuseLimits, refusal_text
from core.storage.records import ConversationState, NewMessage, StoredMessage, UsageRecord
from core.storage.repository import Repository
from core.texts import Texts
from core.tokens import TOKENS_REPLY_PRIMER, count_message, count_text, truncate_text
from core.turn.conversation_locks import KeyedLocks
from core.turn.user_input import storable_message
from core.turn.window import plan_window, rows_to_read

log = logging.getLogger("core.turn")

GROUP_NOTE = (
    "\n\nThis is a group chat: each user message starts with the sender's name and a colon."
)
CUT_MARKER = " […]"
MIN_HISTORY_BUDGET = 16
LARGE_TEXT_CHARS = 20_000


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    default_model: str
    default_context_tokens: int
    window_low_watermark: float
    identifier_salt: bytes


@dataclass(frozen=True, slots=True)
class TurnStats:
    """What one answered turn cost; logged as one line and handed to `on_turn` observers."""

    key: ConversationKey
    model: str
    outcome: str
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    cost_usd: float
    bot_s: float  # our own time: everything but waiting for the model and for the adapter
    model_s: float
    window_messages: int
    window_cut: bool


class ChatService:
    def __init__(
        self,
        repository: Repository,
        model: ChatModel,
        models: ModelCatalog,
        personas: PersonaBook,
        access: AccessPolicy,
        config: ServiceConfig,
        commands: CommandRunner,
        limits: AbuseLimits,
        on_turn: Callable[[TurnStats], None] | None = None,
    ) -> None:
        self._repository = repository
        self._model = model
        self._models = models
        self._personas = personas
        self._access = access
        self._config = config
        self._commands = commands
        self._limits = limits
        self._told_owner: set[str] = set()
        self._locks = KeyedLocks()
        self.on_turn = on_turn

    # -- queries for adapters -------------------------------------------------------------------

    async def persona_names(self, key: ConversationKey, space_id: str = "") -> list[str]:
        personas = await self._personas.all(key.platform, space_id or key.chat_id)
        return [persona.name for persona in personas]

    def model_names(self) -> list[str]:
        return self._models.names()

    async def set_answer_all(self, key: ConversationKey, on: bool) -> None:
        """Make the bot answer every message of a conversation (a thread it opened, say)."""
        async with self._locks.hold(key):
            conversation = await self._repository.conversation(key)
            await self._repository.update_conversation(conversation.id, answer_all=on)

    # -- the entry point -----------------------------------------------------------------------

    async def handle(self, message: IncomingMessage) -> AsyncIterator[ReplyEvent]:
        """Answer one incoming message: command replies, a streamed answer, notices or nothing."""
        message = storable_message(message)
        texts = Texts(message.author.language)
        if not self._access.allows(message):
            if message.is_private or message.is_interaction:
                yield Failure(texts.get("not_allowed_user"))
            return
        command = parse_command(message.text)
        try:
            async with self._locks.hold(message.key):
                if command is not None:
                    if names_another_bot(message.text):
                        return
                    name, args = command
                    if self._commands.knows(name):
                        conversation = await self._repository.conversation(message.key)
                        context = CommandContext(
                            message=message,
                            conversation=conversation,
                            texts=texts,
                            space_id=message.space_id or message.key.chat_id,
                            is_owner=self._access.is_owner(message),
                        )
                        yield await self._commands.run(context, name, args)
                    elif message.is_private:
                        yield texts.error("unknown_command", name=name[:32])
                    return
                async for event in self._chat(message, texts):
                    yield event
        except SQLAlchemyError:
            log.exception("storage failed for %s", message.key)
            yield Failure(texts.get("error.storage"))
        except Exception:
            # A bug must not reach the chat as a traceback or as silence.
            log.exception("turn failed for %s", message.key)
            yield Failure(texts.get("error.internal"))

    async def _chat(self, message: IncomingMessage, texts: Texts) -> AsyncIterator[ReplyEvent]:
        started = time.perf_counter()
        text = message.text.strip()
        if not text:
            if message.is_private:
                yield Notice(texts.get("empty_message"))
            return
        conversation = await self._repository.conversation(message.key)
        addressed = message.addressed or conversation.answer_all or _has_trigger(conversation, text)
        if not addressed and not conversation.listen:
            return
        if addressed:
            # Refused turns are not stored: the message was not accepted.
            refusal = await self._limits.admit(message, self._access.is_owner(message))
            if refusal is not None:
                if refusal.announce:
                    yield Failure(refusal_text(refusal, texts))
                return
        space_id = message.space_id or message.key.chat_id
        persona = await self._personas.active(message.key.platform, space_id, conversation.persona)
        spec = self._models.get(conversation.model or persona.model or self._config.default_model)
        params = conversation.params.merged_over(persona.params)
        reply_tokens = params.max_tokens or min(spec.max_output_tokens, DEFAULT_REPLY_TOKENS)
        system_prompt = persona.system_prompt + ("" if message.is_private else GROUP_NOTE)
        system_tokens = _system_tokens(system_prompt, spec.encoding)
        budget = min(
            spec.context_window - reply_tokens - system_tokens - TOKENS_REPLY_PRIMER,
            params.context_tokens or self._config.default_context_tokens,
        )
        if addressed and budget < MIN_HISTORY_BUDGET:
            yield Failure(texts.get("error.no_room"))
            return

        if len(text) > LARGE_TEXT_CHARS:
            # Tokenizing a huge paste takes seconds (long runs without spaces are the worst);
            # tiktoken releases the GIL, so other chats keep being answered meanwhile.
            content, tokens, was_cut = await asyncio.to_thread(
                _fit_content, message, text, spec.encoding, max(budget, 1)
            )
        else:
            content, tokens, was_cut = _fit_content(message, text, spec.encoding, max(budget, 1))
        stored_id, newest_first = await self._repository.add_message_and_read(
            conversation.id,
            NewMessage(
                role="user",
                content=content,
                tokens=tokens,
                encoding=spec.encoding,
                author_id=message.author.user_id,
                author_name=None if message.is_private else message.author.display_name,
                platform_message_id=message.message_id or None,
            ),
            conversation.window_start_id,
            rows_to_read(budget) if addressed else 0,
        )
        if stored_id is None:
            # A redelivered update. Answered already, or the chat moved on: stay silent. Still
            # the newest message, unanswered: the first delivery died mid-turn, so answer now.
            if not addressed or not await self._repository.is_newest_unanswered(
                conversation.id, message.message_id
            ):
                return
            was_cut = False
        elif not addressed:
            return  # a group message kept only as context
        if was_cut:
            yield Notice(texts.get("notice.input_cut", tokens=tokens))

        window = await self._window(conversation, spec, budget, newest_first or None)
        if window.cut:
            yield Notice(texts.get("notice.trimmed", kept=len(window.messages)))
        request = ModelRequest(
            model=spec,
            messages=[{"role": "system", "content": system_prompt}]
            + [_as_prompt(m) for m in window.messages],
            params=params,
            max_tokens=reply_tokens,
            user_hash=self._user_hash(message),
        )
        sent_tokens = system_tokens + TOKENS_REPLY_PRIMER + sum(m.tokens for m in window.messages)
        turn = _Turn(message, conversation, request, started, sent_tokens, window)
        async for event in self._answer(turn, texts):
            yield event

    async def _answer(self, turn: _Turn, texts: Texts) -> AsyncIterator[ReplyEvent]:
        message = turn.message
        spec = turn.request.model
        model_s = waiting_s = 0.0
        for attempt in (1, 2):
            request = turn.request
            parts: list[str] = []
            result: ModelResult | None = None
            failure: ProviderError | None = None
            stream = self._model.stream(request)
            try:
                while True:
                    asked = time.perf_counter()
                    try:
                        event = await anext(stream)
                    except StopAsyncIteration:
                        break
                    finally:
                        model_s += time.perf_counter() - asked
                    if isinstance(event, TextDelta):
                        parts.append(event.text)
                        handed = time.perf_counter()
                        yield AnswerDelta(event.text)
                        waiting_s += time.perf_counter() - handed
                    else:
                        result = event
            except ProviderError as error:
                failure = error
            finally:
                await stream.aclose()
            if attempt == 2 or parts or failure is None or failure.kind != "context_length":
                break
            # The provider's window is smaller than the catalog says (or counts differently):
            # send half of the history once more rather than fail the turn.
            shorter = await self._shorter(turn)
            if shorter is None:
                break
            log.warning(
                "context too long for %s; retrying with %d messages",
                message.key,
                len(shorter.window.messages),
            )
            turn = shorter
            yield Notice(texts.get("notice.trimmed", kept=len(turn.window.messages)))

        answer = "".join(parts)
        usage = None
        if result is not None or answer:
            reported = result or ModelResult(finish_reason="error")
            # Servers that report no usage (some local ones) get our own exact counts.
            prompt = reported.prompt_tokens
            if prompt is None:
                prompt = turn.sent_tokens
            completion = reported.completion_tokens
            if completion is None:
                completion = count_text(answer, spec.encoding)
            usage = UsageRecord(
                user_id=message.author.user_id,
                model=spec.name,
                prompt_tokens=prompt,
                cached_tokens=reported.cached_tokens,
                completion_tokens=max(completion, 0),
                cost_usd=spec.cost_usd(prompt, reported.cached_tokens, max(completion, 0)),
            )
        stored_answer = None
        if answer.strip():
            stored_answer = NewMessage(
                role="assistant",
                content=answer,
                tokens=count_message("assistant", answer, spec.encoding),
                encoding=spec.encoding,
            )
        await self._repository.complete_turn(
            turn.conversation.id,
            stored_answer,
            usage,
            window_start_id=turn.window.start_id if turn.window.cut else None,
        )

        if failure is not None:
            outcome = failure.kind
            log.warning("provider failed for %s: %s", message.key, failure.detail or failure.kind)
            if failure.kind in ("auth", "quota") and failure.kind not in self._told_owner:
                # Every turn fails until the owner acts: say it once, loudly, at ERROR.
                self._told_owner.add(failure.kind)
                log.error(
                    "the AI service refused this bot (%s): check OPENAI_API_KEY and billing; "
                    "every answer fails until then",
                    failure.kind,
                )
            if answer.strip():
                yield AnswerDone(answer, cut_short=True)
                yield Notice(texts.get("notice.stream_broken"))
            else:
                yield Failure(texts.get(f"error.{failure.kind}"))
        elif not answer.strip():
            outcome = "empty"
            yield Failure(texts.get("error.empty_answer"))
        else:
            assert result is not None
            outcome = result.finish_reason
            cut = result.finish_reason == "length"
            yield AnswerDone(answer, cut_short=cut)
            if cut:
                yield Notice(texts.get("notice.answer_cut", limit=request.max_tokens))

        stats = TurnStats(
            key=message.key,
            model=spec.name,
            outcome=outcome,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            cached_tokens=usage.cached_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            cost_usd=usage.cost_usd if usage else 0.0,
            bot_s=time.perf_counter() - turn.started - model_s - waiting_s,
            model_s=model_s,
            window_messages=len(turn.window.messages),
            window_cut=turn.window.cut,
        )
        _log_turn(stats)
        if self.on_turn is not None:
            self.on_turn(stats)

    async def _shorter(self, turn: _Turn) -> _Turn | None:
        """The same turn with its history cut to half of what was sent; None if it can't shrink."""
        history = sum(m.tokens for m in turn.window.messages)
        budget = history // 2
        if len(turn.window.messages) < 2 or budget < MIN_HISTORY_BUDGET:
            return None
        window = await self._window(turn.conversation, turn.request.model, budget)
        if len(window.messages) >= len(turn.window.messages):
            return None
        system = turn.request.messages[0]
        request = replace(
            turn.request, messages=[system] + [_as_prompt(m) for m in window.messages]
        )
        sent = turn.sent_tokens - history + sum(m.tokens for m in window.messages)
        return replace(turn, request=request, sent_tokens=sent, window=window)

    async def _window(
        self,
        conversation: ConversationState,
        spec: ModelSpec,
        budget: int,
        newest_first: list[StoredMessage] | None = None,
    ) -> _Window:
        """The stored messages this turn sends, within the budget only.

        `newest_first` are the rows read with the user's message (`add_message_and_read`); the
        rare turns without them (a redelivery, a retry with less history) read them here. A
        cut's new start is stored with the answer (`complete_turn`): one transaction fewer, and
        a turn that dies before it only leaves the next turn to cut again.
        """
        start = conversation.window_start_id
        rows = newest_first
        if rows is None:
            rows = await self._repository.newest_messages(
                conversation.id, start, rows_to_read(budget)
            )
        if any(row.encoding != spec.encoding for row in rows):
            rows = await self._recount(conversation.id, start, spec, budget)
        low_watermark = int(budget * self._config.window_low_watermark)
        plan = plan_window(rows, start, budget, low_watermark)
        messages = [row for row in reversed(rows) if row.id >= plan.start_id]
        return _Window(messages=messages, cut=plan.cut, start_id=plan.start_id)

    async def _recount(
        self, conversation_id: int, start: int, spec: ModelSpec, budget: int
    ) -> list[StoredMessage]:
        """Counts for a new encoding (the chat switched model family): rare, and bounded."""
        limit = rows_to_read(budget)
        messages = (await self._repository.messages_from(conversation_id, start))[-limit:]
        recounted = [
            replace(
                m,
                tokens=count_message(m.role, _as_prompt(m)["content"], spec.encoding),
                encoding=spec.encoding,
            )
            for m in messages
        ]
        await self._repository.recount([(m.id, m.tokens) for m in recounted], spec.encoding)
        return recounted[::-1]

    def _user_hash(self, message: IncomingMessage) -> str:
        return _user_hash(
            self._config.identifier_salt, message.key.platform, message.author.user_id
        )


@dataclass(frozen=True, slots=True)
class _Window:
    messages: list[StoredMessage]
    cut: bool
    start_id: int


@dataclass(frozen=True, slots=True)
class _Turn:
    message: IncomingMessage
    conversation: ConversationState
    request: ModelRequest
    started: float
    sent_tokens: int  # exact prompt tokens from stored counts, for servers that report no usage
    window: _Window


def _as_prompt(message: StoredMessage) -> dict[str, str]:
    if message.role == "user" and message.author_name:
        return {"role": "user", "content": f"{message.author_name}: {message.content}"}
    return {"role": message.role, "content": message.content}


def _fit_content(
    message: IncomingMessage, text: str, encoding: str, budget: int
) -> tuple[str, int, bool]:
    """The user's text as stored, its exact prompt tokens, and whether it had to be cut."""
    name = None if message.is_private else message.author.display_name
    prefix = f"{name}: " if name else ""
    tokens = count_message("user", prefix + text, encoding)
    if tokens <= budget:
        return text, tokens, False
    overhead = count_message("user", prefix + CUT_MARKER, encoding)
    content = truncate_text(text, max(budget - overhead, 0), encoding) + CUT_MARKER
    tokens = count_message("user", prefix + content, encoding)
    while tokens > budget and len(content) > len(CUT_MARKER):
        # Re-joining the marker can merge tokens differently; shave until it fits exactly.
        content = content[: -len(CUT_MARKER) - 1] + CUT_MARKER
        tokens = count_message("user", prefix + content, encoding)
    return content, tokens, True


def _has_trigger(conversation: ConversationState, text: str) -> bool:
    if not conversation.trigger:
        return False
    return re.search(rf"(?<!\w){re.escape(conversation.trigger)}(?!\w)", text, re.I) is not None


@lru_cache(maxsize=1024)
def _user_hash(salt: bytes, platform: str, user_id: str) -> str:
    identity = f"{platform}:{user_id}".encode()
    return hmac.new(salt, identity, hashlib.sha256).hexdigest()[:32]


@lru_cache(maxsize=256)
def _system_tokens(prompt: str, encoding: str) -> int:
    return count_message("system", prompt, encoding)


def _log_turn(stats: TurnStats) -> None:
    log.info(
        "turn key=%s model=%s outcome=%s prompt_tokens=%d cached_tokens=%d "
        "completion_tokens=%d cost_usd=%.6f bot_ms=%.1f model_ms=%.1f window=%d cut=%s",
        stats.key,
        stats.model,
        stats.outcome,
        stats.prompt_tokens,
        stats.cached_tokens,
        stats.completion_tokens,
        stats.cost_usd,
        stats.bot_s * 1000,
        stats.model_s * 1000,
        stats.window_messages,
        stats.window_cut,
    )
