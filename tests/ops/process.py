"""``ima-bot run`` as a real process with the environment a container would give it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

ROOT = Path(__file__).parents[2]
READY_WITHIN = 30.0


def env_file(path: Path) -> dict[str, str]:
    """``path`` read as compose's ``env_file`` reads it: ``KEY=VALUE`` lines, ``#`` comment
    lines and blank lines skipped, an unquoted value's `` #`` comment cut, and an empty value
    passed as an empty string (not left out)."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if value[:1] in ("'", '"') and value[-1:] == value[:1]:
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key.strip()] = value
    return values


def bare_environment(names: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without any of the bot's settings (a developer's own)."""
    mine = ("IMA_", "DISCORD_", "FEISHU_", "HTTP_", "METRICS_", "LOG_", "DATABASE_")
    return {k: v for k, v in os.environ.items() if k not in names and not k.startswith(mine)}


@dataclass
class Running:
    process: asyncio.subprocess.Process
    log_path: Path

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def until_ready(self, port: int) -> None:
        """Until ``/readyz`` answers 200 (fails with the bot's log if the process ends)."""
        deadline = asyncio.get_running_loop().time() + READY_WITHIN
        async with aiohttp.ClientSession() as http:
            while asyncio.get_running_loop().time() < deadline:
                assert self.process.returncode is None, self.log
                try:
                    async with http.get(f"http://127.0.0.1:{port}/readyz") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError(f"not ready after {READY_WITHIN}s:\n{self.log}")

    async def stop(self) -> int:
        """SIGTERM, as ``docker stop`` sends; the exit status."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), 30)


@asynccontextmanager
async def ima_bot_run(env: Mapping[str, str], workdir: Path) -> AsyncIterator[Running]:
    """The bot's process, its log (standard error) in a file so a chatty log never blocks it."""
    log_path = workdir / "bot.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run",
            cwd=workdir, env=dict(env), stdin=asyncio.subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
    running = Running(process, log_path)
    try:
        yield running
    finally:
        await running.stop()
