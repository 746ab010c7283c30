"""The Bot API client the adapter gives python-telegram-bot (aiohttp_request.py), through the real
`telegram.Bot` against the fake Bot API server: PTB's errors, timeouts and uploads as PTB's own
client gives them (issue 17 item 1)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import Bot
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter, TimedOut

from bots.inflight import RepliesInFlight
from bots.telegram_adapter.aiohttp_request import AiohttpRequest
from bots.telegram_adapter.intake import UpdateLedger, UpdateSlots
from bots.telegram_adapter.options import TelegramOptions
from bots.telegram_adapter.startup import build_application
from fakes.telegram_api import FakeTelegram

CHAT = 5001


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        fake.chat(CHAT)
        yield fake


def bot_on(
    fake: FakeTelegram,
    token: str | None = None,
    base_url: str | None = None,
    connection_pool_size: int = 256,
    **timeouts: float,
) -> Bot:
    return Bot(
        token or fake.token,
        base_url=base_url or fake.base_url,
        request=AiohttpRequest(connection_pool_size, **timeouts),
        get_updates_request=AiohttpRequest(connection_pool_size=1, **timeouts),
    )


async def test_calls_reach_telegram_and_their_results_come_back(telegram: FakeTelegram):
    async with bot_on(telegram) as bot:
        sent = await bot.send_message(CHAT, "héllo, wörld ✓")

    assert bot.username == "testbot"  # getMe, at initialize
    assert sent.text == "héllo, wörld ✓"
    assert telegram.calls_to("sendMessage")[-1].params["text"] == "héllo, wörld ✓"


async def test_a_429_is_retry_after_with_telegrams_delay(telegram: FakeTelegram):
    telegram.fail_next("sendMessage", 429, retry_after=7)
    async with bot_on(telegram) as bot:
        with pytest.raises(RetryAfter) as refused:
            await bot.send_message(CHAT, "hi")

    assert refused.value.retry_after.total_seconds() == 7  # type: ignore[union-attr]


@pytest.mark.parametrize(("status", "error"), [(400, BadRequest), (502, NetworkError)])
async def test_telegrams_errors_are_mapped_as_ptb_maps_them(
    telegram: FakeTelegram, status: int, error: type[Exception]
):
    telegram.fail_next("sendMessage", status, "Bad Request: chat not found")
    async with bot_on(telegram) as bot:
        with pytest.raises(error):
            await bot.send_message(CHAT, "hi")
        assert (await bot.send_message(CHAT, "again")).text == "again"  # the client still works


async def test_a_server_error_is_a_network_error(telegram: FakeTelegram):
    telegram.fail_next("sendMessage", 500, "Internal Server Error")
    async with bot_on(telegram) as bot:
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await bot.send_message(CHAT, "hi")


async def test_an_answer_slower_than_the_read_timeout_is_timed_out(telegram: FakeTelegram):
    telegram.hang_next("sendMessage", 3)
    async with bot_on(telegram, read_timeout=0.3) as bot:
        with pytest.raises(TimedOut):
            await bot.send_message(CHAT, "hi")
        # One call's own timeout overrides the default, as with PTB's client.
        telegram.hang_next("sendMessage", 0.6)
        assert (await bot.send_message(CHAT, "patient", read_timeout=5)).text == "patient"


async def test_a_long_poll_waits_past_the_read_timeout(telegram: FakeTelegram):
    # PTB adds the poll's own timeout to the read timeout; a client that did not would time out.
    async with bot_on(telegram, read_timeout=0.2) as bot:
        assert await bot.get_updates(timeout=1) == ()


async def test_a_dropped_connection_is_a_network_error_without_the_token(telegram: FakeTelegram):
    telegram.drop_next("sendMessage")
    async with bot_on(telegram) as bot:
        with pytest.raises(NetworkError) as dropped:
            await bot.send_message(CHAT, "hi")
        assert (await bot.send_message(CHAT, "again")).text == "again"

    assert not isinstance(dropped.value, TimedOut)
    assert "Disconnected" in dropped.value.message
    assert telegram.token not in repr(dropped.value)


def closed_port() -> int:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        return int(closed.getsockname()[1])  # nothing listens there once closed


@pytest.mark.parametrize("server", ["unreachable", "a port out of range"])
async def test_a_server_not_reached_is_a_network_error_without_the_token(
    telegram: FakeTelegram, server: str
):
    port = closed_port() if server == "unreachable" else 99999  # aiohttp quotes the URL then
    bot = bot_on(telegram, base_url=f"http://127.0.0.1:{port}/bot")
    with pytest.raises(NetworkError) as failed:
        await bot.initialize()
    await bot.shutdown()

    assert telegram.token not in repr(failed.value)
    assert failed.value.__cause__ is None  # its text could quote the URL too


async def test_a_refused_token_is_invalid_token(telegram: FakeTelegram):
    bot = bot_on(telegram, token="123456:ANOTHER-TOKEN")
    with pytest.raises(InvalidToken):
        await bot.initialize()
    await bot.shutdown()


async def test_a_file_is_uploaded_as_multipart(telegram: FakeTelegram):
    content = bytes(range(256)) * 40  # binary, 10 KB
    async with bot_on(telegram) as bot:
        await bot.send_document(CHAT, content, filename="data.bin", caption="the file")

    [call] = telegram.calls_to("sendDocument")
    upload = call.files["document"]
    assert (upload.filename, upload.content) == ("data.bin", content)
    assert call.params["caption"] == "the file" and call.params["chat_id"] == CHAT


async def test_a_full_pool_is_a_pool_timeout_and_sends_nothing(telegram: FakeTelegram):
    telegram.hang_next("sendMessage", 2)
    async with bot_on(telegram, connection_pool_size=1, pool_timeout=0.2) as bot:
        first = asyncio.create_task(bot.send_message(CHAT, "slow"))
        await telegram.wait_until(lambda: len(telegram.calls_to("sendMessage")) == 1)
        with pytest.raises(TimedOut, match="Pool timeout"):
            await bot.send_message(CHAT, "queued")
        assert (await first).text == "slow"

    assert [c.params["text"] for c in telegram.calls_to("sendMessage")] == ["slow"]


async def test_a_shut_down_client_refuses_calls_and_opens_again(telegram: FakeTelegram):
    request = AiohttpRequest()
    await request.initialize()
    await request.shutdown()
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request(f"{telegram.base_url}{telegram.token}/getMe", "POST")
    await request.initialize()
    try:
        status, _ = await request.do_request(f"{telegram.base_url}{telegram.token}/getMe", "POST")
    finally:
        await request.shutdown()
    assert status == 200


def test_the_adapters_application_talks_through_this_client():
    options = TelegramOptions(token="123456:TEST-TOKEN")
    application = build_application(options, UpdateSlots(1), UpdateLedger(), RepliesInFlight())
    calls, updates = application.bot._request[1], application.bot._request[0]
    assert isinstance(calls, AiohttpRequest) and isinstance(updates, AiohttpRequest)


class ForwardProxy:
    """An HTTP forward proxy on loopback: notes each request's target, then passes it on."""

    def __init__(self) -> None:
        self.targets: list[str] = []
        self.url = ""
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> ForwardProxy:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request_line, *header_lines = (await reader.readuntil(b"\r\n\r\n")).decode().split("\r\n")
        method, target, _ = request_line.split(" ")
        self.targets.append(target)
        headers = dict(line.split(": ", 1) for line in header_lines if ": " in line)
        body = await reader.readexactly(int(headers.get("Content-Length", "0")))
        passed = {"Content-Type": headers.get("Content-Type", "application/json")}
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, target, data=body, headers=passed) as answer,
        ):
            data = await answer.read()
        writer.write(
            f"HTTP/1.1 {answer.status} Relayed\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
            + data
        )
        await writer.drain()
        writer.close()


async def test_calls_go_through_the_proxy_the_environment_names(
    telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
):
    async with ForwardProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        async with bot_on(telegram) as bot:
            sent = await bot.send_message(CHAT, "via the proxy")
            await bot.send_message(CHAT, "and again")

    assert sent.text == "via the proxy"
    assert [t.rsplit("/", 1)[-1] for t in proxy.targets] == ["getMe", "sendMessage", "sendMessage"]
    assert all(t.startswith(telegram.base_url) for t in proxy.targets)


async def test_no_proxy_sends_straight_to_telegram(
    telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
):
    async with ForwardProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        async with bot_on(telegram) as bot:
            await bot.send_message(CHAT, "direct")

    assert proxy.targets == []
    assert telegram.calls_to("sendMessage")[-1].params["text"] == "direct"
