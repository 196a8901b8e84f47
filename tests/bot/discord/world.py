"""The running bot of the Discord tests, and the helpers they share."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.discord.adapter import DiscordAdapter
from bot.discord.config import DiscordSettings
from bot.runtime import Wired
from core.jobs import Job
from sim.app import RunningSimulator
from tests.fakes.discord import FakeDiscord, StoredMessage
from tests.wiring import bot_on

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass
class World:
    fake: FakeDiscord
    sim: RunningSimulator
    db: Path
    scale: float
    settings: dict[str, Any]
    bot: Wired
    adapter: DiscordAdapter
    _exit: contextlib.AsyncExitStack

    @property
    def engine(self) -> Any:
        return self.bot.engine

    @property
    def store(self) -> Any:
        return self.bot.store

    @property
    def creates(self) -> list[dict[str, Any]]:
        return [c.body for c in self.sim.state.calls("create")]

    def created_models(self) -> list[str]:
        return [body["parameters"][0]["model_name"] for body in self.creates]

    async def jobs(self, user_id: int) -> list[Job]:
        jobs: list[Job] = await self.store.recent_jobs("discord", str(user_id))
        return jobs

    async def settle(self) -> None:
        """Until every request taken so far is answered and every job has ended."""
        await self.adapter.drain()
        await self.engine.drain()

    async def stop(self) -> None:
        """What ``ima-bot run`` does on SIGTERM: the adapter stops taking requests, the engine
        stops its jobs (left to the next start), the adapter disconnects."""
        await self.adapter.pause()
        await self.engine.shutdown()
        await self.adapter.close()
        await self._exit.aclose()

    async def restart(self) -> None:
        """A new process on the same database: new engine and client, the same Discord."""
        await self.stop()
        self.bot, self.adapter, self._exit = await start_bot(
            self.fake, self.sim, self.db, self.scale, **self.settings
        )

    async def finish(self) -> None:
        await self.settle()
        await self.stop()


async def start_bot(
    fake: FakeDiscord, sim: RunningSimulator | str, db: Path, scale: float, **settings: Any
) -> tuple[Wired, DiscordAdapter, contextlib.AsyncExitStack]:
    """The bot as ``ima-bot run`` starts it, with the Discord adapter only."""
    engine_settings = {k: settings.pop(k) for k in list(settings) if k in _ENGINE_SETTINGS}
    exit_stack = contextlib.AsyncExitStack()
    bot = await exit_stack.enter_async_context(bot_on(sim, db, scale=scale, **engine_settings))
    discord_settings = DiscordSettings(
        _env_file=None,  # type: ignore[call-arg]
        token=fake.token,  # type: ignore[arg-type]
        api_base=fake.api_base,
        gateway_url=fake.gateway_url,
        cdn_hosts=frozenset({urlsplit(fake.api_base).hostname or ""}),  # the fake serves files too
        **settings,
    )
    adapter = DiscordAdapter(
        bot.engine, discord_settings, edit_interval=0.05, guild_ready_timeout=0.0, ready_timeout=5.0
    )
    await bot.engine.warm_up()
    await adapter.start()
    await bot.engine.resume()
    return bot, adapter, exit_stack


#: Settings of the engine (the rest are the Discord adapter's).
_ENGINE_SETTINGS = frozenset({"user_daily_credits", "chat_daily_credits", "max_jobs_per_user",
                              "banned_words"})  # fmt: skip


@contextlib.asynccontextmanager
async def world_at(
    fake: FakeDiscord, sim: RunningSimulator, db: Path, *, scale: float, **settings: Any
) -> AsyncIterator[World]:
    bot, adapter, exit_stack = await start_bot(fake, sim, db, scale, **dict(settings))
    world = World(fake, sim, db, scale, settings, bot, adapter, exit_stack)
    try:
        yield world
    finally:
        await world.finish()


def finished(message: StoredMessage) -> bool:
    """The message shows its last step: a result or a failure."""
    return message.content.startswith(("✅", "❌"))
