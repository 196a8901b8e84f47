"""The one place that builds the engine and everything it stands on, and tears it down.

``ima-bot run``, ``console`` and ``demo``, the tests and the benchmarks all build the bot
through :func:`wired`, so what is tested is what runs.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from core.engine import Engine, EngineConfig
from core.i18n import Translator, normalize_locale
from core.ima.client import IMAClient
from core.ima.session import IMASession
from core.llm import LLMReader
from core.settings import Settings
from core.store import Store, open_store


@dataclass(frozen=True)
class Wired:
    engine: Engine
    store: Store
    client: IMAClient


@asynccontextmanager
async def wired(
    settings: Settings, database_url: str, *, client_options: Mapping[str, Any] | None = None
) -> AsyncIterator[Wired]:
    """Open the store and the IMA session, yield a ready engine, close both on exit.

    ``client_options`` tune the IMA client (tests shorten its retry delays)."""
    if settings.ima_api_key is None:
        raise ValueError("IMA_API_KEY is not set")
    store = await open_store(database_url, settings.lease())
    await store.prune(time.time())
    locale = normalize_locale(settings.bot_lang)
    session = IMASession(
        settings.ima_api_key.get_secret_value(),
        base_url=settings.ima_base_url,
        upload_base_url=settings.ima_upload_base_url,
        language=locale,
    )
    client = IMAClient(session, poll_interval=settings.ima_poll_interval, **(client_options or {}))
    config = EngineConfig(
        policy=settings.policy(), time_scale=settings.time_scale, default_locale=locale
    )
    llm = settings.llm()
    reader = LLMReader(llm) if llm is not None else None
    engine = Engine(client, store, Translator.load(), config, reader=reader)
    try:
        yield Wired(engine, store, client)
    finally:
        if reader is not None:
            await reader.close()
        await session.close()
        await store.close()
