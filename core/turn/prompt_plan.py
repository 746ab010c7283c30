"""Planning the prompt: the chat's persona, model and parameters, and the budget its history
gets; then, with the window read, the request itself."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from core.boundary import IncomingMessage
from core.model.catalog import ModelCatalog, ModelSpec
from core.model.client import ModelRequest
from core.model.params import DEFAULT_REPLY_TOKENS, ChatParams
from core.model.request_params import wants_json
from core.model.token_ratios import TokenRatios
from core.personas import PersonaBook
from core.storage.records import ConversationState
from core.tokens import TOKENS_REPLY_PRIMER, count_message
from core.turn.history import prompt_message
from core.turn.window import MIN_HISTORY_BUDGET, Window, choose_window, halved

GROUP_NOTE = (
    "\n\nThis is a group chat: each user message starts with the sender's name and a colon."
)
# OpenAI refuses JSON mode unless the prompt mentions JSON.
JSON_NOTE = "\n\nAnswer with a single JSON object."


@dataclass(frozen=True, slots=True)
class PromptPlan:
    """What the chat's settings make of a turn, before any history is read."""

    spec: ModelSpec
    params: ChatParams
    reply_tokens: int  # the visible answer's cap
    completion_tokens: int  # what the request asks for: the answer's cap plus room to reason
    system_prompt: str
    system_tokens: int
    budget: int  # tokens the history may take
    low_watermark_share: float  # an overflowing window is cut to this share of the budget
    room: int = 0  # what the model's context leaves the history, before the chat's own cap

    @property
    def has_room(self) -> bool:
        return self.budget >= MIN_HISTORY_BUDGET

    def minus(self, tokens: int) -> PromptPlan:
        """The plan with `tokens` of the model's context taken by something else than history
        (the tools' definitions): the chat's own cap (/set context_tokens) stays the history's."""
        if not tokens:
            return self
        return replace(self, budget=min(self.budget, self.room - tokens), room=self.room - tokens)


@dataclass(frozen=True, slots=True)
class PromptTools:
    """What a turn with tools adds to its requests: the definitions, and the calls and results
    of its earlier rounds (sent after the window, counted exactly like it)."""

    definitions: tuple[Mapping[str, Any], ...] = ()
    tokens: int = 0  # the definitions'
    rounds: tuple[Mapping[str, Any], ...] = ()
    rounds_tokens: int = 0
    choice: str | None = None  # the request's tool_choice: "none" on the last round


NO_TOOLS = PromptTools()


class PromptPlanner:
    def __init__(
        self,
        personas: PersonaBook,
        models: ModelCatalog,
        default_context_tokens: int,
        low_watermark_share: float,
        default_reply_tokens: int = DEFAULT_REPLY_TOKENS,
        reasoning_tokens: int = 0,  # the owner's allowance for every reasoning model; 0: each's own
        token_ratios: TokenRatios | None = None,
    ) -> None:
        self._personas = personas
        self._models = models
        self._token_ratios = token_ratios or TokenRatios()
        self._default_context_tokens = default_context_tokens
        self._low_watermark_share = low_watermark_share
        self._default_reply_tokens = default_reply_tokens
        self._reasoning_tokens = reasoning_tokens

    async def plan(self, message: IncomingMessage, conversation: ConversationState) -> PromptPlan:
        space_id = message.space_id or message.key.chat_id
        persona = await self._personas.active(message.key.platform, space_id, conversation.persona)
        spec = self._models.get(self._models.name_for_chat(conversation.model, persona.model))
        params = conversation.params.merged_over(persona.params)
        reply_tokens, completion_tokens = reply_caps(
            spec, params, self._default_reply_tokens, self._reasoning_tokens
        )
        system_prompt = persona.system_prompt + ("" if message.is_private else GROUP_NOTE)
        if wants_json(params, spec.caps):
            system_prompt += JSON_NOTE
        system_tokens = _system_tokens(system_prompt, spec.encoding, spec.caps.system_role)
        # Without the model's own tokenizer the prompt's local count is scaled by what its
        # answers taught (plus a margin) to be sure it fits the model's context.
        prompt_room = (
            spec.context_window - completion_tokens
        ) / self._token_ratios.planning_factor(spec)
        room = int(prompt_room) - system_tokens - TOKENS_REPLY_PRIMER
        budget = min(room, params.context_tokens or self._default_context_tokens)
        return PromptPlan(
            spec=spec,
            params=params,
            reply_tokens=reply_tokens,
            completion_tokens=max(completion_tokens, reply_tokens),
            system_prompt=system_prompt,
            system_tokens=system_tokens,
            budget=budget,
            low_watermark_share=self._low_watermark_share,
            room=room,
        )


def reply_caps(
    spec: ModelSpec, params: ChatParams, default_reply_tokens: int, reasoning_tokens: int
) -> tuple[int, int]:
    """(the visible answer's cap, that plus room to reason within the model's maximum): a
    reasoning model's thinking comes out of the same cap as its answer, so it gets room on top,
    or a hard question leaves nothing for the answer. `reasoning_tokens` 0: the model's own
    allowance. A request asks for the larger of the two."""
    reply_tokens = params.max_tokens or min(spec.max_output_tokens, default_reply_tokens)
    thinking = 0
    if spec.caps.reasoning:
        thinking = reasoning_tokens or spec.caps.reasoning_tokens
    completion_tokens = min(reply_tokens + thinking, spec.max_output_tokens)
    return reply_tokens, completion_tokens


@dataclass(frozen=True, slots=True)
class Prompt:
    """The plan with its window: the request to send, and all a retry with less history needs."""

    plan: PromptPlan
    window: Window
    request: ModelRequest
    sent_tokens: int  # exact prompt tokens from stored counts, for servers that report no usage
    tools: PromptTools = NO_TOOLS

    @classmethod
    def build(
        cls, plan: PromptPlan, window: Window, user_hash: str | None, tools: PromptTools = NO_TOOLS
    ) -> Prompt:
        request = ModelRequest(
            model=plan.spec,
            messages=[{"role": plan.spec.caps.system_role, "content": plan.system_prompt}]
            + [prompt_message(m) for m in window.messages]
            + list(tools.rounds),
            params=plan.params,
            max_tokens=plan.completion_tokens,
            user_hash=user_hash,
            tools=tools.definitions,
            tool_choice=tools.choice if tools.definitions else None,
        )
        sent = plan.system_tokens + TOKENS_REPLY_PRIMER + window.tokens
        sent += tools.tokens + tools.rounds_tokens
        return cls(plan=plan, window=window, request=request, sent_tokens=sent, tools=tools)

    def shorter(self) -> Prompt | None:
        """The same prompt with half of the history; None when it cannot shrink."""
        window = halved(self.window, self.plan.low_watermark_share)
        if window is None:
            return None
        return Prompt.build(self.plan, window, self.request.user_hash, self.tools)

    def next_round(self, tools: PromptTools) -> Prompt:
        """The prompt for the next round of a tool loop: the calls and results so far after the
        window, which gives up its oldest messages (cut as any overflow is) when they would not
        fit the budget together; a call and its results are never parted."""
        window = self.window
        room = self.plan.budget - tools.rounds_tokens
        if window.tokens > room and len(window.messages) > 1:
            window = choose_window(
                window.messages[::-1],
                window.start_id,
                max(room, 0),
                int(max(room, 0) * self.plan.low_watermark_share),
            )
            window = Window(window.messages, cut=True, start_id=window.start_id)
        return Prompt.build(self.plan, window, self.request.user_hash, tools)


@lru_cache(maxsize=256)
def _system_tokens(prompt: str, encoding: str, role: str) -> int:
    return count_message(role, prompt, encoding)
