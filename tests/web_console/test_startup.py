"""`python -m bots` with WEB_CONSOLE_TOKEN set, in a real process (as `make run`): it says where
the console is, serves it on PORT beside the console chat, never prints the token, and stops
with the chat."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiohttp

from fakes.openai_server import FakeOpenAI
from tests.bots.test_startup import ROOT, bot_env, closed_port
from tests.web_console.conftest import TOKEN


async def test_the_bot_prints_the_consoles_url_and_serves_it(
    llm: FakeOpenAI, tmp_path: Path
) -> None:
    port = closed_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bots",
        "console",
        cwd=ROOT,
        env=bot_env(
            tmp_path, OPENAI_BASE_URL=llm.base_url, WEB_CONSOLE_TOKEN=TOKEN, PORT=str(port)
        ),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    assert process.stderr is not None
    url = f"http://127.0.0.1:{port}/console/"
    try:
        seen = []
        while f"web console: {url}" not in seen:
            line = await asyncio.wait_for(process.stderr.readline(), 60)
            assert line, b"".join(seen)  # the process ended before saying where
            seen.append(line.decode().strip())
        async with aiohttp.ClientSession() as client:
            for _ in range(200):  # the server starts right after the line: wait for it
                try:
                    async with client.get(url, allow_redirects=False) as response:
                        assert response.status == 302
                        assert response.headers["Location"] == "/console/signin"
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
            else:
                raise AssertionError("the console never answered")
        process.stdin.write(b"Hi\n")
        process.stdin.close()  # end of input: the chat ends, and the console with it
        stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, stderr.decode()
    assert stdout.decode().splitlines() == ["You said: Hi. I can see 1 earlier messages."]
    assert TOKEN not in "\n".join(seen) + stderr.decode()
