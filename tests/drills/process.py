"""``ima-bot run`` as a real process for the drills, on the fakes and the simulator of the test.

The fake Discord, the fake Feishu and the IMA simulator run in the test process on 127.0.0.1;
the bot is started the way a container starts it (``python -m bot.cli run`` with settings in
its environment, no ``.env``), so it can be stopped with SIGTERM or killed with SIGKILL and
started again on the same database and port. Its log (JSON lines) goes to a file, appended
across restarts, so a kill loses none of it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import Any

import aiohttp

from sim.app import RunningSimulator
from tests.fakes.discord import FakeDiscord
from tests.fakes.feishu import FakeFeishu

IMA_KEY = "ima_drill_process_key_0123456789"
#: Time for a process to start, connect to the fakes and answer its health check.
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bot_environment(
    tmp: Path,
    sim: RunningSimulator | str,
    scale: float,
    *,
    discord: FakeDiscord | None = None,
    feishu: FakeFeishu | None = None,
    feishu_mode: str = "webhook",
    **extra: str,
) -> dict[str, str]:
    """The environment of a bot on ``sim`` (or its URL) and the given fakes, its database in
    ``tmp``; ``extra`` settings win."""
    url = sim if isinstance(sim, str) else sim.base_url
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IMA_", "DISCORD_", "FEISHU_"))}
    env.update(
        IMA_API_KEY=IMA_KEY,
        IMA_BASE_URL=url,
        IMA_UPLOAD_BASE_URL=url,
        TIME_SCALE=str(scale),
        DATABASE_URL=str(tmp / "bot.db"),
        HTTP_HOST="127.0.0.1",
        HTTP_PORT=str(free_port()),
        # Its own metrics port too: the default one is taken by whichever bot started first.
        METRICS_PORT=str(free_port()),
        LOG_FORMAT="json",
        # One deployment, one replica (as a container's stable host name): a restart takes its
        # jobs back at once instead of waiting for their leases to run out.
        REPLICA_ID="drill",
    )
    if discord is not None:
        env.update(
            DISCORD_TOKEN=discord.token,
            DISCORD_API_BASE=discord.api_base,
            DISCORD_GATEWAY_URL=discord.gateway_url,
        )
    if feishu is not None:
        env.update(
            FEISHU_APP_ID=feishu.app_id,
            FEISHU_APP_SECRET=feishu.app_secret,
            FEISHU_DOMAIN=feishu.domain,
            FEISHU_MODE=feishu_mode,
            FEISHU_VERIFICATION_TOKEN=feishu.verification_token,
            FEISHU_ENCRYPT_KEY=feishu.encrypt_key,
        )
    env.update(extra)
    return env


class BotProcess:
    """One deployment: the same environment (database, port) for every start."""

    def __init__(self, tmp: Path, env: Mapping[str, str]) -> None:
        self.tmp = tmp
        self.env = dict(env)
        self.db = Path(self.env["DATABASE_URL"])
        self.log_path = tmp / "bot.log"
        self.port = int(self.env["HTTP_PORT"])
        self.proc: asyncio.subprocess.Process | None = None
        self._copies: dict[int, asyncio.Task[None]] = {}

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}/feishu/events"

    async def spawn(self, *args: str) -> asyncio.subprocess.Process:
        """``python -m bot.cli <args>`` in this deployment's environment. Its standard error is
        a pipe the test copies to the log file (a limit on the files the bot may write leaves
        its log alone); :meth:`finished` waits for both."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", *args,
            cwd=self.tmp, env=self.env, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert proc.stderr is not None
        self._copies[proc.pid] = asyncio.create_task(self._copy(proc.stderr))
        return proc

    async def _copy(self, stream: asyncio.StreamReader) -> None:
        with self.log_path.open("ab") as log:
            while line := await stream.readline():
                log.write(line)
                log.flush()

    async def finished(self, proc: asyncio.subprocess.Process) -> int:
        """Until ``proc`` exited and all it logged is in the file; its exit status."""
        code = await proc.wait()
        await self._copies.pop(proc.pid)
        return code

    async def start(self) -> None:
        """``ima-bot run``, until its health check answers 200."""
        self.proc = await self.spawn("run")
        await asyncio.wait_for(self._healthy(), START_TIMEOUT)

    async def _healthy(self) -> None:
        async with aiohttp.ClientSession() as http:
            while True:
                if self.proc is not None and self.proc.returncode is not None:
                    raise AssertionError(f"the bot exited ({self.proc.returncode}):\n{self.log()}")
                try:
                    async with http.get(f"{self.base_url}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.05)

    async def health(self) -> tuple[int, Any]:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{self.base_url}/healthz") as response,
        ):
            return response.status, await response.json()

    async def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        """Send ``sig`` and wait for the exit; returns the exit status."""
        assert self.proc is not None
        self.proc.send_signal(sig)
        code = await asyncio.wait_for(self.finished(self.proc), 60)
        self.proc = None
        return code

    async def kill(self) -> None:
        """kill -9: nothing of the process runs after this returns."""
        await self.stop(signal.SIGKILL)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_entries(self) -> list[dict[str, Any]]:
        """Every JSON line of the log (lines that are not JSON are kept under ``raw``)."""
        entries = []
        for line in self.log().splitlines():
            try:
                entries.append(json.loads(line))
            except ValueError:
                entries.append({"raw": line})
        return entries

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        """The bot's database from outside, as an operator reaches it (committed at once)."""
        with closing(sqlite3.connect(self.db, timeout=10)) as conn, conn:
            return conn.execute(sql, args).fetchall()

    def states(self) -> dict[str, int]:
        """How many jobs are in each state."""
        return {str(state): int(count) for state, count in self.query(
            "SELECT state, COUNT(*) FROM jobs GROUP BY state"
        )}  # fmt: skip

    def counted(self) -> int:
        """Credits the bot counts (its usage ledger, which the caps are checked against)."""
        return int(self.query("SELECT COALESCE(SUM(credits), 0) FROM usage")[0][0])

    async def close(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            await self.kill()


@asynccontextmanager
async def replicas(
    count: int,
    tmp: Path,
    sim: RunningSimulator,
    scale: float,
    *,
    feishu: FakeFeishu,
    discord: FakeDiscord | None = None,
    each: Callable[[int], Mapping[str, str]] = lambda number: {},
    **shared: str,
) -> AsyncIterator[list[BotProcess]]:
    """``count`` real ``ima-bot run`` processes, started one after another, each with its own
    ``REPLICA_ID`` and one long connection of the Feishu app; ``shared`` settings (the one
    ``DATABASE_URL``) go to all of them, ``each(number)`` to one."""
    bots: list[BotProcess] = []
    try:
        for number in range(count):
            home = tmp / f"replica{number}"
            home.mkdir()
            env = bot_environment(
                home, sim, scale, discord=discord, feishu=feishu, feishu_mode="ws"
            )
            env.update(REPLICA_ID=f"replica-{number}", **shared, **each(number))
            bot = BotProcess(home, env)
            bots.append(bot)
            await bot.start()
            await feishu.wait_for_ws_connections(number + 1)  # replica n holds connection n+1
        yield bots
    finally:
        for bot in bots:
            await bot.close()
