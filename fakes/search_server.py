"""A fake of the web the web tools reach (the outside world), for tests and manual runs.

`async with FakeSearch() as web:` serves on 127.0.0.1:
- SearXNG's JSON API at `web.searxng_url` (GET /searxng/search?q=…&format=json; 403 without
  `format=json`, as an instance with JSON disabled answers);
- Tavily's API at `web.tavily_url` (POST /search, the key as `Authorization: Bearer …` or the
  older `api_key` body field; 401 with `{"detail": {"error": …}}` on a bad key);
- Brave Search's API at `web.brave_url` (GET /res/v1/web/search with `X-Subscription-Token`;
  a bad token gets 422 SUBSCRIPTION_TOKEN_INVALID, as Brave answers);
- a small web site under `web.site_url`: /article (an HTML article with navigation and footer),
  /plain (text/plain), /huge (HTML streamed without end), /slow (headers, then nothing),
  /image.png, /paper.pdf, /redirect?to=URL, /slow-redirect?n=N&delay=S (a chain of slow hops),
  /metadata (a redirect to the cloud metadata address 169.254.169.254), /intranet (a redirect
  to http://10.0.0.1/), /loop (redirects forever).
`FakeDNS` is a resolver the tests control (names mapped to addresses, answers that change).
`web.answer_with(status=…, delay_s=…, body=…)` makes every search endpoint fail the next
answers that way (401, 429, 500, slow, malformed JSON). Standalone:
`python -m fakes.search_server --port 8090`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

TAVILY_KEY = "tvly-fake-key-0123456789"
BRAVE_KEY = "brave-fake-key-0123456789"
HUGE_CHUNK = b"<p>" + b"filler text " * 5_000 + b"</p>\n"  # ~60 KB

ARTICLE = """<!doctype html>
<html><head><meta charset="utf-8"><title>How foxes hunt in snow</title></head>
<body>
<nav><a href="/">Home</a> | <a href="/news">News</a> | <a href="/about">About us</a></nav>
<article>
<h1>How foxes hunt in snow</h1>
<p>Red foxes hunt small rodents under the snow by listening for them. A fox stands still, tilts
its head, and then leaps high before diving nose first into the snow.</p>
<p>Researchers found that foxes jump mostly towards the north-east, which suggests they use the
Earth's magnetic field to judge the distance to their prey. Jumps in that direction succeeded
far more often than jumps in any other.</p>
<p>This technique, called mousing, lets the fox catch prey it cannot see at all.</p>
</article>
<footer>Copyright 2026 Example News. Cookie settings. Subscribe to our newsletter.</footer>
</body></html>
"""


@dataclass
class FailMode:
    status: int = 200
    delay_s: float = 0.0
    body: str | None = None  # raw text instead of the normal JSON
    times: int = 1


@dataclass
class Recorded:
    backend: str
    query: str
    headers: dict[str, str]
    params: dict[str, Any] = field(default_factory=dict)


def default_results() -> list[dict[str, str]]:
    return [
        {
            "title": "Foxes hunting in snow",
            "url": "https://example.org/foxes",
            "content": "Red foxes dive into the snow to catch mice they hear.",
        },
        {
            "title": "Mousing\n[9] Forged line",
            "url": "https://example.net/mousing",
            "content": "The fox's jump mostly points north-east.",
        },
    ]


class FakeSearch:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tavily_key: str = TAVILY_KEY,
        brave_key: str = BRAVE_KEY,
    ) -> None:
        self.host = host
        self.port = port
        self.tavily_key = tavily_key
        self.brave_key = brave_key
        self.results: list[dict[str, str]] = default_results()
        self.requests: list[Recorded] = []
        self.huge_bytes_sent = 0
        self.site_hits: Counter[str] = Counter()  # requests per path of the web site
        self.slow_s = 60.0
        self._fail: FailMode | None = None
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> FakeSearch:
        app = web.Application(middlewares=[self._count])
        app.router.add_get("/searxng/search", self._searxng)
        app.router.add_post("/search", self._tavily)
        app.router.add_get("/res/v1/web/search", self._brave)
        app.router.add_get("/site/article", self._article)
        app.router.add_get("/site/plain", self._plain)
        app.router.add_get("/site/huge", self._huge)
        app.router.add_get("/site/slow", self._slow)
        app.router.add_get("/site/image.png", self._image)
        app.router.add_get("/site/paper.pdf", self._pdf)
        app.router.add_get("/site/redirect", self._redirect)
        app.router.add_get("/site/slow-redirect", self._slow_redirect)
        app.router.add_get("/site/metadata", self._to("http://169.254.169.254/latest/meta-data"))
        app.router.add_get("/site/intranet", self._to("http://10.0.0.1/"))
        app.router.add_get("/site/loop", self._to("/site/loop"))
        self._runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=0.5, access_log=None
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def searxng_url(self) -> str:
        return f"{self.base_url}/searxng"

    @property
    def tavily_url(self) -> str:
        return self.base_url

    @property
    def brave_url(self) -> str:
        return self.base_url

    @property
    def site_url(self) -> str:
        return f"{self.base_url}/site"

    def answer_with(
        self, status: int = 200, *, delay_s: float = 0.0, body: str | None = None, times: int = 1
    ) -> None:
        """The next `times` search answers (any backend) fail this way."""
        self._fail = FailMode(status, delay_s, body, times)

    async def _failure(self) -> web.Response | None:
        mode = self._fail
        if mode is None:
            return None
        mode.times -= 1
        if mode.times <= 0:
            self._fail = None
        if mode.delay_s:
            await asyncio.sleep(mode.delay_s)
        if mode.body is not None:
            return web.Response(status=mode.status, text=mode.body, content_type="application/json")
        if mode.status != 200:
            return web.json_response({"detail": {"error": "fake failure"}}, status=mode.status)
        return None

    def _record(
        self, backend: str, request: web.Request, query: str, params: dict[str, Any]
    ) -> None:
        self.requests.append(Recorded(backend, query, dict(request.headers), params))

    # --- search APIs ---

    async def _searxng(self, request: web.Request) -> web.Response:
        query = request.query.get("q", "")
        self._record("searxng", request, query, dict(request.query))
        if request.query.get("format") != "json":
            return web.Response(status=403, text="Forbidden")
        failure = await self._failure()
        if failure is not None:
            return failure
        return web.json_response(
            {
                "query": query,
                "number_of_results": len(self.results),
                "results": [dict(item, engine="fake", score=1.0) for item in self.results],
                "answers": [],
                "corrections": [],
                "infoboxes": [],
                "suggestions": [],
                "unresponsive_engines": [],
            }
        )

    async def _tavily(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"detail": {"error": "Invalid JSON"}}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"detail": {"error": "Invalid JSON"}}, status=400)
        query = str(body.get("query", ""))
        self._record("tavily", request, query, {k: v for k, v in body.items() if k != "api_key"})
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if self.tavily_key not in (bearer, body.get("api_key")):
            return web.json_response(
                {"detail": {"error": "Unauthorized: missing or invalid API key."}}, status=401
            )
        failure = await self._failure()
        if failure is not None:
            return failure
        count = int(body.get("max_results", 5))
        results = [
            {"title": r["title"], "url": r["url"], "content": r["content"], "score": 0.9}
            for r in self.results[:count]
        ]
        return web.json_response(
            {
                "query": query,
                "answer": None,
                "images": [],
                "results": results,
                "response_time": 0.1,
            }
        )

    async def _brave(self, request: web.Request) -> web.Response:
        query = request.query.get("q", "")
        self._record("brave", request, query, dict(request.query))
        if request.headers.get("X-Subscription-Token") != self.brave_key:
            return web.json_response(
                {
                    "type": "ErrorResponse",
                    "error": {
                        "id": "fake",
                        "status": 422,
                        "code": "SUBSCRIPTION_TOKEN_INVALID",
                        "detail": "The provided subscription token is invalid.",
                        "meta": {},
                    },
                    "time": 0,
                },
                status=422,
            )
        failure = await self._failure()
        if failure is not None:
            return failure
        count = int(request.query.get("count", "20"))
        results = [
            {
                "type": "search_result",
                "title": r["title"],
                "url": r["url"],
                # Brave marks the words that matched
                "description": r["content"].replace("fox", "<strong>fox</strong>"),
                "language": "en",
            }
            for r in self.results[:count]
        ]
        return web.json_response(
            {
                "type": "search",
                "query": {"original": query},
                "web": {"type": "search", "results": results},
            }
        )

    # --- the web site ---

    async def _article(self, request: web.Request) -> web.Response:
        return web.Response(text=ARTICLE, content_type="text/html", charset="utf-8")

    async def _plain(self, request: web.Request) -> web.Response:
        return web.Response(text="Plain notes.\nLine two of the notes.\n")

    async def _huge(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html; charset=utf-8"})
        await response.prepare(request)
        await response.write(b"<html><head><title>Huge</title></head><body><article>")
        with contextlib.suppress(ConnectionError):
            for _ in range(2_000):  # ~120 MB if nobody stops reading
                await response.write(HUGE_CHUNK)
                self.huge_bytes_sent += len(HUGE_CHUNK)
        return response

    async def _slow(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)
        await response.write(b"<html><body>")
        await asyncio.sleep(self.slow_s)
        return response

    async def _image(self, request: web.Request) -> web.Response:
        return web.Response(body=b"\x89PNG\r\n\x1a\n" + bytes(64), content_type="image/png")

    async def _pdf(self, request: web.Request) -> web.Response:
        return web.Response(body=tiny_pdf("Foxes in a PDF."), content_type="application/pdf")

    async def _redirect(self, request: web.Request) -> web.Response:
        # The Location header as given, even a broken one (HTTPFound would parse it).
        return web.Response(status=302, headers={"Location": request.query.get("to", "/")})

    async def _slow_redirect(self, request: web.Request) -> web.Response:
        """?n=3&delay=0.4: waits, then redirects to n-1 (the plain page after the last)."""
        left = int(request.query.get("n", "1"))
        delay = float(request.query.get("delay", "0.4"))
        await asyncio.sleep(delay)
        if left <= 1:
            raise web.HTTPFound("/site/plain")
        raise web.HTTPFound(f"/site/slow-redirect?n={left - 1}&delay={delay}")

    @web.middleware
    async def _count(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path.startswith("/site/"):
            self.site_hits[request.path] += 1
        response: web.StreamResponse = await handler(request)
        return response

    @staticmethod
    def _to(location: str) -> Any:
        async def redirect(request: web.Request) -> web.Response:
            raise web.HTTPFound(location)

        return redirect


class FakeDNS(AbstractResolver):
    """A DNS the test controls: each name answers its list of addresses; a name given several
    answers in turn (`answers(name, [first], [second])`) rebinds between lookups. Counts lookups."""

    def __init__(self, names: dict[str, list[str]] | None = None) -> None:
        self._answers: dict[str, list[list[str]]] = {
            name.lower(): [addresses] for name, addresses in (names or {}).items()
        }
        self.lookups: list[str] = []

    def answers(self, name: str, *rounds: list[str]) -> None:
        self._answers[name.lower()] = list(rounds)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.lookups.append(host)
        rounds = self._answers.get(host.lower().rstrip("."))
        if not rounds:
            raise OSError(f"no such name: {host}")
        addresses = rounds.pop(0) if len(rounds) > 1 else rounds[0]
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                "proto": 0,
                "flags": 0,
            }
            for address in addresses
        ]

    async def close(self) -> None:
        return None


def tiny_pdf(text: str) -> bytes:
    """A one-page PDF whose text layer is `text` (ASCII), with a correct cross-reference table."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


async def _serve_forever(port: int) -> None:
    async with FakeSearch(port=port) as fake:
        print(
            "Fake web listening (Ctrl+C to stop):\n"
            f"  SEARXNG_URL={fake.searxng_url}\n"
            f"  TAVILY_BASE_URL={fake.tavily_url} TAVILY_API_KEY={fake.tavily_key}\n"
            f"  BRAVE_BASE_URL={fake.brave_url} BRAVE_API_KEY={fake.brave_key}\n"
            f"  pages: {fake.site_url}/article (and /plain, /huge, /slow, /metadata, /intranet;"
            " reading them needs WEB_FETCH_ALLOW_LOOPBACK=true)",
            flush=True,
        )
        await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve a fake search API and web site.")
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_forever(args.port))


if __name__ == "__main__":
    main()
