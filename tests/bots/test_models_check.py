"""`python -m bots models --check` (issue 12 item 6): the catalog against each provider's
GET /models, printed without a secret; exit code 1 when they differ."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from fakes.openai_server import FakeOpenAI
from tests.bots.test_startup import start

LOCAL_KEY = "sk-local-models-check-31337"


async def test_the_check_names_what_is_missing_on_either_side(
    llm: FakeOpenAI, tmp_path: Path
) -> None:
    # A dated snapshot of a catalog model is that model; gpt-5.2 is new.
    llm.models = ("gpt-4o-mini", "gpt-4o", "gpt-4o-2024-08-06", "gpt-5.2", "llama-3.1-8b")
    async with FakeOpenAI(api_key=LOCAL_KEY, models=("llama-3.1-8b", "qwen2.5-7b")) as local:
        async with FakeOpenAI() as gone:
            down = {"base_url": gone.base_url}
        providers = {
            "local": {"base_url": local.base_url, "api_key_env": "LOCAL_KEY", "models": ["llama*"]},
            "offline": {**down, "models": ["mistral*"]},
        }
        done = await asyncio.to_thread(
            start,
            tmp_path,
            "models",
            "--check",
            OPENAI_BASE_URL=llm.base_url,
            PROVIDERS=json.dumps(providers),
            LOCAL_KEY=LOCAL_KEY,
            OPENAI_MAX_RETRIES="0",
        )
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"openai ({llm.base_url}):"
    label, _, names = lines[1].partition(": ")
    missing = names.split(", ")
    assert label == "  in the catalog, not listed"
    assert missing[:3] == ["babbage-002", "davinci-002", "gpt-3.5-turbo"]
    assert "gpt-4o" not in missing and "gpt-4o-mini" not in missing
    assert lines[2] == "  listed, not in the catalog: gpt-5.2"  # llama-3.1-8b is local's
    assert lines[3:] == [
        f"local ({local.base_url}):",
        "  listed, not in the catalog: llama-3.1-8b",  # qwen2.5-7b is routed to no provider here
        f"offline ({gone.base_url}): cannot list its models (connection)",
    ]
    assert [r.api_key for r in local.requests] == [LOCAL_KEY]  # it asked with the right key
    assert LOCAL_KEY not in done.stdout + done.stderr
    assert "sk-startup-test-key" not in done.stdout + done.stderr


async def test_usage_is_refused_for_other_arguments(tmp_path: Path) -> None:
    done = await asyncio.to_thread(start, tmp_path, "models", "--list")
    assert done.returncode == 2 and "python -m bots models --check" in done.stderr
