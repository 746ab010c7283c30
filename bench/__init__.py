"""Benchmarks: the bot's own cost per turn, against history length, load and the naive approach.

Run with `python -m bench` (see bench/README.md). Everything here drives the real core through
`core.bootstrap.bootstrap` against the fake OpenAI server in fakes/.
"""
