"""The chat service: the one entry point every adapter calls, routing a message through the
turn's stages (decide, admit, plan the prompt, answer, record, report), each in its own module."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from core.boundary import (
    Answering,
    ChatPush,
    ConversationKey,
    Failure,
    IncomingMessage,
    Notice,
    ReplyEvent,
    Waiting,
)
from core.commands.catalog import TURN_COMMANDS, names_another_bot, parse_command
from core.commands.context import CommandContext
from core.commands.runner import CommandRunner
from core.log_context import current_conversation
from core.media.out_params import MediaOutOptions
from core.model.catalog import ModelCatalog
from core.model.client import ChatModel
from core.model.params import DEFAULT_REPLY_TOKENS
from core.model.token_ratios import TokenRatios
from core.personas import PersonaBook
from core.reminders.scheduler import PushOffer
from core.storage.records import NewImage
from core.storage.stores import Storage
from core.texts import Texts
from core.tools.confirmations import Confirmations
from core.tools.toolbox import ToolBox
from core.turn.admission import Admission
from core.turn.attachments import AttachmentReader, MediaConfig
from core.turn.conversation_locks import ConversationQueue, Place
from core.turn.deciding import Decision, decide
from core.turn.history import read_window
from core.turn.media_out import MediaOut
from core.turn.outcome_counts import BACKLOG, provider_kind
from core.turn.owner_actions import OwnerActions
from core.turn.prompt_plan import NO_TOOLS, Prompt, PromptPlanner, PromptTools
from core.turn.recording import learned_ratio, record_turn, usage_of
from core.turn.reporting import TurnReporter, TurnStats, log_turn, turn_stats
from core.turn.tool_loop import ToolLoop, ToolLoopConfig, confirmation_reply, plan_with_tools
from core.turn.user_input import (
    fit_input,
    storable_message,
    storable_text,
    stored_image,
    user_hash,
    vision_of,
)
from core.turn.window import MIN_HISTORY_BUDGET, rows_to_read

log = logging.getLogger("core.turn")

# Messages that may wait behind a conversation's running turn; more are refused (see `handle`).
DEFAULT_BACKLOG = 8
# A file's text is cut at this many characters per token of the budget before it is counted:
# more could never be sent, and counting a whole 10 MB file would take seconds.
FILE_CHARS_PER_TOKEN = 8


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    default_context_tokens: int
    window_low_watermark: float
    identifier_salt: bytes
    conversation_backlog: int = DEFAULT_BACKLOG
    default_reply_tokens: int = DEFAULT_REPLY_TOKENS  # the visible reply's cap
    reasoning_tokens: int = 0  # room for reasoning on every reasoning model; 0: each model's own
    thinking_after_s: float = 3.0  # silence before the "thinking…" placeholder
    tool_loop: ToolLoopConfig = field(default_factory=ToolLoopConfig)


class ChatService:
    """Implements `core.boundary.ChatPort`."""

    def __init__(
        self,
        storage: Storage,
        model: ChatModel,
        models: ModelCatalog,
        personas: PersonaBook,
        admission: Admission,
        config: ServiceConfig,
        commands: CommandRunner,
        on_turn: Callable[[TurnStats], None] | None = None,
        token_ratios: TokenRatios | None = None,  # learned so far (none: start learning now)
        attachments: AttachmentReader | None = None,
        media_out: MediaOut | None = None,  # None: /image and /speak are off
        toolbox: ToolBox | None = None,  # None: no tools
        pushes: PushOffer | None = None,  # who sends to chats unasked (the reminder scheduler)
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),  # tools' now; tests move it
    ) -> None:
        self._storage = storage
        self._model = model
        self._models = models
        self._personas = personas
        self._admission = admission
        self._config = config
        self._commands = commands
        self._token_ratios = token_ratios or TokenRatios()
        self._attachments = attachments or AttachmentReader(MediaConfig(), None)
        self._media_out = media_out or MediaOut(MediaOutOptions(), None, None, storage, None)
        self._planner = PromptPlanner(
            personas,
            models,
            config.default_context_tokens,
            config.window_low_watermark,
            config.default_reply_tokens,
            config.reasoning_tokens,
            self._token_ratios,
        )
        self._toolbox = toolbox or ToolBox(enabled=False)
        self._confirmations = Confirmations(storage.confirmations)
        self._reporter = TurnReporter()
        self._locks = ConversationQueue(config.conversation_backlog)
        # What the owner's web console does in a conversation, with these same parts.
        watermark = config.window_low_watermark
        self.owner = OwnerActions(
            storage, self._planner, commands, self._locks, watermark, self._toolbox, clock
        )
        self.on_turn = on_turn
        self._pushes = pushes
        self._clock = clock

    # -- queries for adapters -------------------------------------------------------------------

    async def persona_names(self, key: ConversationKey, space_id: str = "") -> list[str]:
        personas = await self._personas.all(key.platform, space_id or key.chat_id)
        return [persona.name for persona in personas]

    def model_names(self) -> list[str]:
        return self._models.names()

    def offer_push(self, platform: str, push: ChatPush) -> Callable[[], None]:
        if self._pushes is None:
            return lambda: None
        return self._pushes.offer(platform, push)

    async def set_answer_all(self, key: ConversationKey, on: bool) -> None:
        async with self._locks.hold(key):
            conversation = await self._storage.conversations.conversation(key)
            await self._storage.conversations.update_conversation(conversation.id, answer_all=on)

    # -- the entry point -----------------------------------------------------------------------

    async def thread_refusal(self, message: IncomingMessage) -> Failure | None:
        return await self._admission.refuse_thread(message, Texts(message.author.language))

    async def handle(self, message: IncomingMessage) -> AsyncIterator[ReplyEvent]:
        """Answer one incoming message: command replies, a streamed answer, notices or nothing.

        A message whose conversation is busy waits behind the running turn, but only up to the
        backlog: past it the message is refused at once, told once per flood. Refusing rather
        than merging keeps one message one turn: a merged turn would answer other people's
        messages (in a group) under one reply, and a command must run on its own.
        """
        message = storable_message(message)
        current_conversation.set(str(message.key))  # this generator's context: its log lines
        texts = Texts(message.author.language)
        refused = await self._admission.refuse_user(message, texts)
        if refused is not None:
            if refused.said is not None:
                yield refused.said
            return
        command = parse_command(message.text)
        if (pressed := await confirmation_reply(self._confirmations, message, texts)) is not None:
            yield pressed  # not queued: the turn waiting for this answer holds the conversation
            return
        place = self._locks.enter(message.key)
        if place is None:
            log.debug("%s is flooded: a message past its backlog was refused", message.key)
            await self._admission.counts.add(message.key.platform, BACKLOG)
            if (message.addressed or message.is_private) and (
                message.is_interaction or self._locks.first_refusal(message.key)
            ):
                yield Failure(texts.get("busy.backlog_full"))
            return
        turn = self._in_turn(message, texts, command, place)
        try:  # a storage failure or a bug ends the turn with a short message (and is counted)
            async for event in self._admission.counts.guarded(turn, message, texts):
                yield event
        finally:
            place.leave()  # a no-op once the turn has run

    async def _in_turn(
        self, message: IncomingMessage, texts: Texts, command: tuple[str, str] | None, place: Place
    ) -> AsyncIterator[ReplyEvent]:
        """Limits first, then wait for the conversation's turn and run it."""
        admitted = False
        if command is None and message.addressed and (message.text.strip() or message.attachments):
            # Known to be answered: check limits before waiting, so that a limited user's flood
            # is refused at once instead of taking the conversation's backlog.
            refused = await self._admission.refuse_turn(message, texts)
            if refused is not None:
                if refused.said is not None:
                    yield refused.said
                return
            admitted = True
        if place.must_wait:
            yield Waiting()
        async with place:
            if command is None:
                async for event in self._chat(message, texts, admitted=admitted):
                    yield event
            elif not names_another_bot(message.text):
                async for event in self._command(message, texts, *command):
                    yield event

    async def _command(
        self, message: IncomingMessage, texts: Texts, name: str, args: str
    ) -> AsyncIterator[ReplyEvent]:
        known = self._commands.knows(name)
        if known or message.is_private:  # in a group an unknown one may be another bot's
            refused = await self._admission.refuse_command(message, texts)
            if refused is not None:
                if refused.said is not None:
                    yield refused.said
                return
        if not known:
            if message.is_private:
                yield texts.error("unknown_command", name=name[:32])
            return
        if name in TURN_COMMANDS:
            async for event in self._media_turn(message, texts, name, args):
                yield event
            return
        context = CommandContext(
            message=message,
            conversation=await self._storage.conversations.conversation(message.key),
            texts=texts,
            space_id=message.space_id or message.key.chat_id,
            is_owner=self._admission.is_owner(message),
        )
        yield await self._commands.run(context, name, args)

    async def _media_turn(
        self, message: IncomingMessage, texts: Texts, name: str, args: str
    ) -> AsyncIterator[ReplyEvent]:
        """/image and /speak: refused when off or empty, then limited like a chat turn."""
        conversation = await self._storage.conversations.conversation(message.key)
        refusal = self._media_out.refusal(name, args, conversation.params, texts)
        if refusal is not None:
            yield refusal
            return
        refused = await self._admission.refuse_turn(message, texts)
        if refused is not None:
            if refused.said is not None:
                yield refused.said
            return
        is_owner = self._admission.is_owner(message)
        if name == "image":
            plan = await self._planner.plan(message, conversation)
            made = self._media_out.image(
                message, texts, conversation, args, plan.spec.encoding, is_owner
            )
        else:
            made = self._media_out.speak(message, texts, conversation, args, is_owner)
        async for event in made:
            yield event

    async def _chat(
        self, message: IncomingMessage, texts: Texts, *, admitted: bool
    ) -> AsyncIterator[ReplyEvent]:
        started = time.perf_counter()
        text = message.text.strip()
        if not text and not message.attachments:
            if message.is_private:
                yield Notice(texts.get("empty_message"))
            return
        conversation = await self._storage.conversations.conversation(message.key)
        decision = decide(message, conversation, text)
        if decision is Decision.IGNORE:
            return
        answers = decision is Decision.ANSWER
        if not answers and not text:
            return  # a listening group's media without a caption: no words to keep
        if answers and not admitted:
            refused = await self._admission.refuse_turn(message, texts)
            if refused is not None:
                if refused.said is not None:
                    yield refused.said
                return
        is_owner = self._admission.is_owner(message)
        toolbox = self._toolbox if answers else None  # kept as context: nothing is sent
        plan, tools = await plan_with_tools(
            self._planner, toolbox, message, is_owner, conversation, self._clock()
        )
        unpriced = (
            await self._admission.refuse_model(message, plan.spec, texts) if answers else None
        )
        if unpriced is not None:
            if unpriced.said is not None:
                yield unpriced.said
            return
        if answers and not plan.has_room:
            yield Failure(texts.get("error.no_room"))
            return

        file_cut = False
        images: tuple[NewImage, ...] = ()
        if answers and message.attachments:
            # Only for a message that is answered: a listening group's files are not fetched,
            # transcribed and paid for to be kept as context.
            read = await self._attachments.read(
                message,
                texts,
                max(plan.budget, 1) * FILE_CHARS_PER_TOKEN,
                vision_of(plan),
                plan.params,
            )
            if read.spent:
                await self._storage.usage.add_usage(conversation.id, read.spent)
            if read.failure is not None:
                yield read.failure
                return
            text, file_cut = storable_text(read.text), read.cut
            for heard in read.heard:
                yield heard
            images = tuple(stored_image(image, plan.spec) for image in read.images)
        # Images are counted like text and share the budget with it; the text gets the rest.
        text_budget = plan.budget - sum(image.tokens for image in images)
        if images and text_budget < MIN_HISTORY_BUDGET:
            yield Failure(texts.get("vision.no_room"))
            return
        fitted = await fit_input(message, text, plan.spec.encoding, max(text_budget, 1))
        messages = self._storage.messages
        stored_id, newest_first = await messages.add_message_and_read(
            conversation.id,
            fitted.stored_as(message, plan.spec.encoding, images),
            conversation.window_start_id,
            rows_to_read(plan.budget) if answers else 0,
        )
        if stored_id is None:
            # A redelivered update. Answered already, or the chat moved on: stay silent. Still
            # the newest message, unanswered: the first delivery died mid-turn, so answer now.
            if not answers or not await messages.is_newest_unanswered(
                conversation.id, message.message_id
            ):
                return
        elif not answers:
            return  # a group message kept only as context
        elif fitted.was_cut or file_cut:
            yield Notice(texts.get("notice.input_cut", tokens=fitted.tokens))
        yield Answering()

        window = await read_window(
            messages,
            conversation,
            plan.spec,
            plan.budget,
            self._config.window_low_watermark,
            newest_first or None,
        )
        if window.cut:
            yield Notice(texts.get("notice.trimmed", kept=len(window.messages)))
        offered = NO_TOOLS if tools is None else PromptTools(*tools.definitions.offered())
        prompt = Prompt.build(plan, window, self._user_hash(message), offered)
        loop = ToolLoop(
            self._model,
            prompt,
            message.key,
            self._config.thinking_after_s,
            tools,
            self._config.tool_loop,
            self._confirmations,
        )
        async for event in loop.events(texts):
            yield event
        answer = loop.answer
        usage = usage_of(answer, message)
        ratio = learned_ratio(answer, self._token_ratios)
        earlier = [usage_of(request, message) for request in loop.requests[:-1]]
        more = [spent for spent in earlier if spent is not None] + loop.tool_usage
        await record_turn(messages, conversation.id, answer, usage, ratio, loop.stored, more)
        outcome, endings = self._reporter.outcome(answer, message.key, texts)
        if answer.failure is not None:
            await self._admission.counts.add(message.key.platform, provider_kind(outcome))
        for event in endings:
            yield event
        if answer.failure is None:
            spoken = self._media_out.voice_for_answer(message, texts, conversation, answer.text)
            async for event in spoken:
                yield event
        stats = turn_stats(message.key, answer, outcome, usage, time.perf_counter() - started)
        log_turn(stats)
        if self.on_turn is not None:
            self.on_turn(stats)

    def _user_hash(self, message: IncomingMessage) -> str:
        return user_hash(self._config.identifier_salt, message.key.platform, message.author.user_id)
