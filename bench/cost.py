"""Item 5: prompt-cache friendliness, our window against a window sliding one message per turn.

The fake model reports `prompt_tokens_details.cached_tokens` the way OpenAI does (the longest
prefix shared with an earlier request, from 1,024 tokens up in 128-token steps). Each approach
gets its own fake server, so neither can hit the other's cache, and the same questions and
answers, so only the windows differ. Costs are computed from the catalog's prices.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Any

from bench.harness import Database, Workdir, ask, running_bot
from bench.naive import naive_bot
from bench.seed import chat_text
from core.boundary import ConversationKey
from core.model.catalog import ModelCatalog
from fakes.openai_server import FakeOpenAI

PRICED_MODELS = ("gpt-4o-mini", "gpt-5-mini")


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int


@dataclass(frozen=True, slots=True)
class CostResult:
    turns: int
    ours: list[Usage]
    sliding: list[Usage]

    @staticmethod
    def cached_share(usages: list[Usage]) -> float:
        return sum(u.cached_tokens for u in usages) / sum(u.prompt_tokens for u in usages)

    @staticmethod
    def cost_per_turn(usages: list[Usage], model: str) -> float:
        spec = ModelCatalog.load(8192).get(model)
        total = sum(
            spec.cost_usd(u.prompt_tokens, u.cached_tokens, u.completion_tokens) for u in usages
        )
        return total / len(usages)

    def ratio(self, model: str) -> float:
        return self.cost_per_turn(self.ours, model) / self.cost_per_turn(self.sliding, model)


def long_answer(body: dict[str, Any]) -> str:
    """A chat-length answer (60-140 words) that depends only on the question."""
    question = str(body["messages"][-1]["content"])
    seed = int.from_bytes(hashlib.sha256(question.encode()).digest()[:8], "big")
    return chat_text(random.Random(seed), 60, 140)


async def run_cost(database: Database, workdir: Workdir, turns: int) -> CostResult:
    rng = random.Random(5)
    questions = [f"{n}. {chat_text(rng)}" for n in range(turns)]
    async with (
        FakeOpenAI(responder=long_answer) as llm,
        running_bot(database, llm.base_url, workdir) as (app, log),
    ):
        for question in questions:
            await ask(app, "cost-ours", question)
        ours = [Usage(s.prompt_tokens, s.cached_tokens, s.completion_tokens) for s in log.turns]
    sliding = []
    async with (
        FakeOpenAI(responder=long_answer) as llm,
        naive_bot(database.url, llm.base_url) as naive,
    ):
        key = ConversationKey("bench", "cost-sliding")
        for question in questions:
            turn = await naive.turn(key, question)
            sliding.append(Usage(turn.prompt_tokens, turn.cached_tokens, turn.completion_tokens))
    return CostResult(turns=turns, ours=ours, sliding=sliding)
