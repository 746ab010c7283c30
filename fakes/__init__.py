"""Fakes of the outside world (OpenAI-compatible, Telegram Bot API, Discord) over real HTTP.

Shared tools: the tests, the benchmarks and trying the bot without a key all use them.
"""
