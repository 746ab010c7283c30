"""The model client's HTTP side: connection pools for many answers streaming at once."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

import httpx2
import openai

MAX_CONNECTIONS = 1000  # openai's default limit; a streamed answer holds one HTTP/1.1 connection
POOL_SHARDS = 64  # of 16 connections each; 16 pools of 63 cost ~15% more CPU per turn


class ShardedPools(httpx2.AsyncBaseTransport):
    """Requests spread over several httpx connection pools, each to the one with fewest open.

    httpcore's pool walks every connection it holds when a request starts and again when a
    response is closed (and checking an idle connection builds a dict and makes a poll() system
    call), so with hundreds of answers streaming at once those walks cost more CPU than the
    requests. 64 pools of 16 connections walk 1/64 as far. Each pool keeps all of its
    connections alive between requests (until the idle expiry), since a chat's next message
    would otherwise pay for a new connection (and TLS handshake).
    """

    def __init__(self, shards: int = POOL_SHARDS, max_connections: int = MAX_CONNECTIONS) -> None:
        per_pool = math.ceil(max_connections / shards)
        limits = httpx2.Limits(max_connections=per_pool, max_keepalive_connections=per_pool)
        ssl_context = httpx2.create_ssl_context()  # shared: building one costs milliseconds
        self._pools = [
            httpx2.AsyncHTTPTransport(verify=ssl_context, limits=limits) for _ in range(shards)
        ]
        self._open = [0] * shards  # responses not yet closed, per pool

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        index = self._open.index(min(self._open))
        self._open[index] += 1
        try:
            response = await self._pools[index].handle_async_request(request)
        except BaseException:
            self._open[index] -= 1
            raise
        assert isinstance(response.stream, httpx2.AsyncByteStream)
        response.stream = _Counted(response.stream, self._open, index)
        return response

    async def aclose(self) -> None:
        for pool in self._pools:
            await pool.aclose()


class _Counted(httpx2.AsyncByteStream):
    """A response body that tells its pool's count when it is closed."""

    def __init__(self, stream: httpx2.AsyncByteStream, counts: list[int], index: int) -> None:
        self._stream, self._counts, self._index = stream, counts, index
        self._closed = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._stream.__aiter__()  # no wrapper generator: nothing to add per chunk

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            self._counts[self._index] -= 1
        await self._stream.aclose()


def model_http_client() -> httpx2.AsyncClient:
    """The `http_client` for `openai.AsyncOpenAI`: its defaults, with sharded pools.

    Mounted for "all://" rather than passed as the transport, so proxies from the environment
    (HTTPS_PROXY, NO_PROXY...) still apply as they do for the default client.
    """
    return openai.DefaultAsyncHttpxClient(mounts={"all://": ShardedPools()})
