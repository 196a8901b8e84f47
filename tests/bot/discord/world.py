"""The running bot of the Discord tests, and the helpers they share."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.discord.adapter import DiscordAdapter
from bot.discord.config import DiscordSettings
from core.engine import Engine, EngineConfig
from core.i18n import Translator
from core.ima.client import IMAClient
from core.ima.session import IMASession
from core.jobs import Job
from core.store import open_store
from sim.app import RunningSimulator
from tests.fakes.discord import FakeDiscord, StoredMessage

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass
class World:
    fake: FakeDiscord
    sim: RunningSimulator
    db: Path
    scale: float
    settings: dict[str, Any]
    engine: Engine
    adapter: DiscordAdapter

    @property
    def creates(self) -> list[dict[str, Any]]:
        return [c.body for c in self.sim.state.calls("create")]

    def created_models(self) -> list[str]:
        return [body["parameters"][0]["model_name"] for body in self.creates]

    async def jobs(self, user_id: int) -> list[Job]:
        return await self.engine.store.recent_jobs("discord", str(user_id))

    async def stop(self) -> None:
        """What ``ima-bot run`` does on SIGTERM: the adapter first, then the engine's resources.

        Nothing waits for running jobs: they are left to the next start, as in production.
        """
        await self.adapter.stop()
        await self.engine.client.session.close()
        await self.engine.store.close()

    async def restart(self) -> None:
        """A new process on the same database: new engine and client, the same Discord.

        The old process's jobs die at their next database access, as they would with it; the
        IMA session a still-polling job reopened after ``stop()`` is closed again then.
        """
        await self.stop()
        await self.adapter.drain()
        await self.engine.client.session.close()
        self.engine, self.adapter = await start_bot(
            self.fake, self.sim, self.db, self.scale, **self.settings
        )

    async def finish(self) -> None:
        await self.adapter.drain()
        await self.engine.drain()
        await self.stop()


async def start_bot(
    fake: FakeDiscord, sim: RunningSimulator, db: Path, scale: float, **settings: Any
) -> tuple[Engine, DiscordAdapter]:
    store = await open_store(str(db))
    session = IMASession(
        "ima_discord_test_key", base_url=sim.base_url, upload_base_url=sim.base_url
    )
    client = IMAClient(session, retry_base_delay=0.001)
    engine = Engine(client, store, Translator.load(), EngineConfig(time_scale=scale))
    discord_settings = DiscordSettings(
        _env_file=None,  # type: ignore[call-arg]
        token=fake.token,  # type: ignore[arg-type]
        api_base=fake.api_base,
        gateway_url=fake.gateway_url,
        **settings,
    )
    adapter = DiscordAdapter(
        engine, discord_settings, edit_interval=0.05, guild_ready_timeout=0.0, ready_timeout=5.0
    )
    await adapter.start()
    return engine, adapter


@contextlib.asynccontextmanager
async def world_at(
    fake: FakeDiscord, sim: RunningSimulator, db: Path, *, scale: float, **settings: Any
) -> AsyncIterator[World]:
    engine, adapter = await start_bot(fake, sim, db, scale, **settings)
    world = World(fake, sim, db, scale, settings, engine, adapter)
    try:
        yield world
    finally:
        await world.finish()


def finished(message: StoredMessage) -> bool:
    """The message shows its last step: a result or a failure."""
    return message.content.startswith(("✅", "❌"))
