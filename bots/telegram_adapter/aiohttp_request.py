"""python-telegram-bot's Bot API requests over aiohttp, plugged in as PTB intends (a
`BaseRequest` given to `ApplicationBuilder.request()` and `.get_updates_request()`).

PTB's default client (httpx over httpcore) cost about half of a Telegram turn's CPU, and its
connection pool hands a connection to one request and lets another take it (encode/httpcore
#822, #1110): at 100 chats the first visible text waited seconds for a connection (issue 17).
aiohttp, already installed for the webhook server and discord.py, has neither problem.

PTB's contract is kept: `BaseRequest.post` still turns status codes into `RetryAfter`,
`BadRequest`, `Forbidden`, `InvalidToken`...; this class maps only the transport: a timeout is
`TimedOut`, any other failure `NetworkError`, and no message carries the URL's bot token.

Timeouts as PTB means them: `pool` bounds the wait for one of `connection_pool_size`
connections (a semaphore, so a full pool is told apart as PTB's does), `connect` the TCP/TLS
connect, `read` each wait for response bytes (aiohttp's sock_read, as httpx's read). aiohttp has
no write timeout of its own, so `write` bounds the whole exchange together with the others: a
request stuck sending for longer than connect + write + read fails as `TimedOut`.
"""

from __future__ import annotations

import asyncio
import json
import re

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from yarl import URL

TOKEN_IN_PATH = re.compile(r"/bot[^/\s]+/")
POOL_FULL = (
    "Pool timeout: All connections in the connection pool are occupied. Request was *not* "
    "sent to Telegram. Consider adjusting the connection pool size or the pool timeout."
)


class AiohttpRequest(BaseRequest):
    """Bot API calls on one aiohttp session, opened by `initialize` and closed by `shutdown`.

    The proxy comes from HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as httpx's default reads them,
    looked up once per host rather than by aiohttp's `trust_env`, which asks a worker thread on
    every request (a hand-off that cost more than building the request: python -m bench
    --telegram); SOCKS proxies are not supported.
    """

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._free = asyncio.Semaphore(connection_pool_size)
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, tuple[URL | None, aiohttp.BasicAuth | None]] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # The pool's bound is `_free`; the connector keeps what it opened for reuse.
            connector = aiohttp.TCPConnector(limit=0, limit_per_host=0)
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),  # the Bot API sets none; saves a lookup
            )
            self._proxies.clear()  # the environment is read again by a new session

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        read = _given(read_timeout, self._read_timeout)
        connect = _given(connect_timeout, self._connect_timeout)
        pool = _given(pool_timeout, self._pool_timeout)
        write = _given(write_timeout, self._media_write_timeout if files else self._write_timeout)
        timeouts = (connect, write, read)
        timeout = aiohttp.ClientTimeout(
            total=None if None in timeouts else sum(t for t in timeouts if t is not None),
            sock_connect=connect,
            sock_read=read,
        )
        try:
            async with asyncio.timeout(pool):
                await self._free.acquire()
        except TimeoutError:
            raise TimedOut(POOL_FULL) from None
        try:
            body = _body(request_data)
            headers = {"User-Agent": self.USER_AGENT}
            if isinstance(body, bytes):
                headers["Content-Type"] = "application/json"
            proxy, proxy_auth = await self._proxy_for(url)
            async with session.request(
                method,
                url,
                data=body,
                headers=headers,
                timeout=timeout,
                proxy=proxy,
                proxy_auth=proxy_auth,
            ) as response:
                return response.status, await response.read()
        # `from None`: the cause's own text and traceback may quote the URL, and so the token.
        except TimeoutError as error:  # aiohttp's ServerTimeoutError is one too
            raise TimedOut(_without_token(f"Timed out: {error}")) from None
        except (aiohttp.ClientError, OSError) as error:
            name = type(error).__name__
            raise NetworkError(_without_token(f"aiohttp.{name}: {error}")) from None
        finally:
            self._free.release()

    async def _proxy_for(self, url: str) -> tuple[URL | None, aiohttp.BasicAuth | None]:
        """What aiohttp's `trust_env` would pick for this URL's scheme and host, remembered."""
        try:
            target = URL(url)
        except ValueError:  # aiohttp refuses it next, as a ClientError, mapped with the others
            return None, None
        origin = f"{target.scheme}://{target.host}"
        if origin not in self._proxies:
            try:  # it may read ~/.netrc for the proxy's password: off the loop, as aiohttp does
                found: tuple[URL | None, aiohttp.BasicAuth | None] = await asyncio.to_thread(
                    get_env_proxy_for_url, target
                )
            except LookupError:  # no proxy set for this scheme, or NO_PROXY names the host
                found = (None, None)
            self._proxies[origin] = found
        return self._proxies[origin]


def _given(value: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


def _body(request_data: RequestData | None) -> aiohttp.FormData | bytes | None:
    """The parameters as one JSON object (which the Bot API accepts as well as a form, and which
    costs one `json.dumps` instead of aiohttp building a form), or multipart once there are
    files, as PTB's own client sends them."""
    if request_data is None:
        return None
    files = request_data.multipart_data
    if not files:
        return json.dumps(request_data.parameters).encode()
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in files.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form


def _without_token(text: str) -> str:
    """Some aiohttp errors quote the URL, whose path holds the bot token."""
    return TOKEN_IN_PATH.sub("/bot<token>/", text)
