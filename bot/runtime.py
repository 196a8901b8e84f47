"""The one place that builds the engine and everything it stands on, and tears it down."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from core.engine import Engine, EngineConfig
from core.i18n import Translator, normalize_locale
from core.ima.client import IMAClient
from core.ima.session import IMASession
from core.settings import Settings
from core.store import open_store


@asynccontextmanager
async def engine_context(settings: Settings) -> AsyncIterator[Engine]:
    """Open the store and the IMA session, yield a ready engine, close both on exit."""
    if settings.ima_api_key is None:
        raise ValueError("IMA_API_KEY is not set")
    store = await open_store(settings.database_url)
    await store.prune(time.time())
    session = IMASession(
        settings.ima_api_key.get_secret_value(),
        base_url=settings.ima_base_url,
        upload_base_url=settings.ima_upload_base_url,
        language=normalize_locale(settings.bot_lang),
    )
    client = IMAClient(session, poll_interval=settings.ima_poll_interval)
    config = EngineConfig(
        policy=settings.policy(),
        time_scale=settings.time_scale,
        default_locale=normalize_locale(settings.bot_lang),
    )
    try:
        yield Engine(client, store, Translator.load(), config)
    finally:
        await session.close()
        await store.close()
