"""The tools benchmark in miniature, so it cannot rot between full runs."""

from __future__ import annotations

from bench.tools import run_tools


async def test_the_tools_run_makes_a_tool_round_per_turn() -> None:
    result = await run_tools(turns=2)  # raises when a turn made no tool round
    assert result.turns == 2
    assert result.tool_p50_ms > 0 and result.text_p50_ms > 0
    assert "the round adds" in result.table()
