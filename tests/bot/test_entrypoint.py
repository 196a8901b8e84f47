"""The container's command, ``ima-bot run``, as a real process: start, serve, answer, SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from pathlib import Path

import aiohttp

from sim.app import start_simulator
from tests.bot.discord.world import finished
from tests.bot.test_operations import free_port
from tests.fakes.discord import FakeDiscord

SCALE = 0.005


def delivered(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(
            conn.execute("SELECT COUNT(*) FROM jobs WHERE state = 'delivered'").fetchone()[0]
        )


async def test_ima_bot_run_process(tmp_path: Path) -> None:
    async with FakeDiscord() as fake, await start_simulator(speed=SCALE, seed=5) as sim:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("IMA_", "DISCORD_"))}
        env.update(
            IMA_API_KEY="ima_entrypoint_test_key",
            IMA_BASE_URL=sim.base_url,
            IMA_UPLOAD_BASE_URL=sim.base_url,
            DISCORD_TOKEN=fake.token,
            DISCORD_API_BASE=fake.api_base,
            DISCORD_GATEWAY_URL=fake.gateway_url,
            DATABASE_URL=str(tmp_path / "bot.db"),
            HTTP_HOST="127.0.0.1",
            HTTP_PORT=str(port),
            METRICS_PORT=str(free_port()),
            TIME_SCALE=str(SCALE),
            LOG_FORMAT="json",
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run",
            cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await fake.wait_for_session(timeout=30)
            async with aiohttp.ClientSession() as http:
                for _ in range(300):
                    try:
                        async with http.get(f"http://127.0.0.1:{port}/readyz") as resp:
                            if resp.status == 200:
                                break
                    except aiohttp.ClientConnectionError:
                        pass
                    await asyncio.sleep(0.05)
                assert resp.status == 200
            interaction = await fake.send_slash_command("image", {"prompt": "a red kite"})
            await interaction.wait_for_original(finished, timeout=30)
            while delivered(tmp_path / "bot.db") < 1:  # noqa: ASYNC110 - another process writes it
                await asyncio.sleep(0.05)
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0
        log = err.decode()
        assert '"step": "delivered"' in log
        assert "ima_entrypoint_test_key" not in log
        assert fake.token not in log
