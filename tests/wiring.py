"""The bot as production builds it (``bot.runtime.wired``), pointed at the IMA simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bot.runtime import Wired, wired
from core.settings import Settings
from sim.app import RunningSimulator

#: Retries within a test take milliseconds, not seconds.
FAST_CLIENT = {"retry_base_delay": 0.001}
TEST_KEY = "ima_test_key_0123456789"


def settings_for(sim: RunningSimulator | str, scale: float, **overrides: Any) -> Settings:
    """Settings as the environment would give them, for a bot on ``sim`` (or its URL)."""
    url = sim if isinstance(sim, str) else sim.base_url
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        ima_api_key=SecretStr(TEST_KEY),
        ima_base_url=url,
        ima_upload_base_url=url,
        time_scale=scale,
        **overrides,
    )


@asynccontextmanager
async def bot_on(
    sim: RunningSimulator | str,
    db: Path | str,
    *,
    scale: float,
    client_options: dict[str, Any] | None = None,
    **overrides: Any,
) -> AsyncIterator[Wired]:
    options = FAST_CLIENT if client_options is None else client_options
    async with wired(settings_for(sim, scale, **overrides), str(db), client_options=options) as bot:
        yield bot
