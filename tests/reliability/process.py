"""A real `python -m bots console` (or another adapter) process for fault tests: send lines,
read replies, signal or kill it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# `python -m bots` with discord.py pointed at a fake Discord, as fakes.discord_rest does in-process.
DISCORD_AT_FAKE = (
    "import sys, runpy, discord.http; discord.http.Route.BASE = sys.argv.pop(1); "
    "runpy.run_module('bots', run_name='__main__', alter_sys=True)"
)


class ConsoleBot:
    def __init__(
        self,
        env: dict[str, str],
        workdir: Path,
        adapter: str = "console",
        discord_api: str | None = None,
    ) -> None:
        self.adapter = adapter
        self.discord_api = discord_api  # a fake Discord's base URL (discord.py has no setting)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.endswith(("_KEY", "_TOKEN"))},
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "INFO",
            **env,
        }
        self.workdir = workdir
        self.stderr_path = workdir / f"stderr-{os.urandom(3).hex()}.log"
        self.output: list[str] = []
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> ConsoleBot:
        self._stderr = self.stderr_path.open("wb")
        entry = ["-m", "bots"]
        if self.discord_api is not None:
            entry = ["-c", DISCORD_AT_FAKE, self.discord_api]
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            *entry,
            self.adapter,
            cwd=self.workdir,
            env=self.env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=self._stderr,
        )
        return self

    async def send(self, line: str) -> None:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        await self.process.stdin.drain()

    async def read_line(self, within_s: float = 20) -> str:
        assert self.process is not None and self.process.stdout is not None
        raw = await asyncio.wait_for(self.process.stdout.readline(), within_s)
        if not raw:
            raise EOFError("the bot closed its output")
        line = raw.decode().rstrip("\n")
        self.output.append(line)
        return line

    async def read_until(self, prefix: str, within_s: float = 20) -> str:
        while True:
            line = await self.read_line(within_s)
            if line.startswith(prefix):
                return line

    async def read_chunk(self, within_s: float = 20) -> bytes:
        """Whatever arrived on stdout (a streamed answer prints without a newline)."""
        assert self.process is not None and self.process.stdout is not None
        data = await asyncio.wait_for(self.process.stdout.read(64), within_s)
        self.output.append(data.decode(errors="replace"))
        return data

    def signal(self, signum: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    async def wait(self, within_s: float) -> int:
        assert self.process is not None
        code = await asyncio.wait_for(self.process.wait(), within_s)
        self._stderr.close()
        return code

    async def rest_of_output(self) -> str:
        assert self.process is not None and self.process.stdout is not None
        rest = (await self.process.stdout.read()).decode(errors="replace")
        self.output.append(rest)
        return rest

    async def stop(self) -> None:
        """Kill it if it still runs (test cleanup)."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        if not self._stderr.closed:
            self._stderr.close()

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")
