"""A running Feishu adapter against the fake Feishu and the IMA simulator, in either mode."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.feishu.adapter import FeishuAdapter
from bot.feishu.config import FeishuSettings
from bot.runtime import Wired
from core.actions import Verb, decode
from sim.app import RunningSimulator, start_simulator
from tests.fakes.feishu import FakeFeishu, SentMessage, WebhookResult, WsAck
from tests.wiring import bot_on

#: The simulator runs this much faster than real generations, and the engine is told so.
SCALE = 0.02
#: Videos take minutes: faster still, so a video test takes about a second too.
VIDEO_SCALE = 0.005
#: Least time between two patches of one card in tests (production: 1 s; Feishu allows 5/s).
PATCH_INTERVAL = 0.25


class Bot:
    """One bot process (engine, store and adapter) on the fake Feishu and the simulator, built
    as ``ima-bot run`` builds it. ``restart()`` replaces the process with a new one on the same
    database, as a redeploy does."""

    def __init__(
        self,
        fake: FakeFeishu,
        sim: RunningSimulator,
        mode: str,
        db_path: Path,
        scale: float = SCALE,
        **settings: Any,
    ) -> None:
        """``scale``: the simulator's speed, which the engine is told; ``settings``: the
        engine's settings (caps, banned words)."""
        self.fake = fake
        self.sim = sim
        self.mode = mode
        self.db_path = db_path
        self.scale = scale
        self.settings = settings
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._exit: contextlib.AsyncExitStack | None = None

    @property
    def engine(self) -> Any:
        return self.bot.engine

    @property
    def store(self) -> Any:
        return self.bot.store

    async def start(self) -> None:
        self._exit = contextlib.AsyncExitStack()
        self.bot: Wired = await self._exit.enter_async_context(
            bot_on(self.sim, self.db_path, scale=self.scale, **self.settings)
        )
        fake = self.fake
        config = FeishuSettings.model_validate(  # validated, not read from the environment
            {
                "app_id": fake.app_id,
                "app_secret": fake.app_secret,
                "verification_token": fake.verification_token,
                "encrypt_key": fake.encrypt_key,
                "domain": fake.domain,
                "mode": self.mode,
            }
        )
        self.adapter = FeishuAdapter(self.engine, config, patch_interval=PATCH_INTERVAL)
        if self.mode == "webhook":  # what `ima-bot run` does: mount the routes, then start
            app = web.Application()
            app.router.add_routes(self.adapter.routes())
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            await web.TCPSite(self._runner, "127.0.0.1", 0).start()
            self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/feishu/events"
        connections = fake.ws_connections_total
        await self.engine.warm_up()
        await self.adapter.start()
        await self.engine.resume()
        if self.mode == "ws":
            await fake.wait_for_ws_connection(connections + 1)

    async def settle(self) -> None:
        """Until every event taken so far is answered and every job has ended."""
        await self.adapter.drain()
        await self.engine.drain()

    async def stop(self) -> None:
        """As ``ima-bot run`` stops: no new events, the engine's jobs, then the connections."""
        await self.adapter.pause()
        await self.engine.shutdown()
        await self.adapter.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._exit is not None:
            await self._exit.aclose()

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def deliver(self, event: dict[str, Any]) -> WebhookResult | WsAck:
        """Deliver ``event`` the way the mode does; returns the bot's ack."""
        if self.mode == "webhook":
            return await self.fake.post_event(self.url, event)
        return await self.fake.push_event(event)

    async def card_for(self, event: dict[str, Any]) -> SentMessage:
        """The card the bot replied to the message of ``event`` with."""
        message_id = event["event"]["message"]["message_id"]
        return await self.fake.wait_for_message(
            lambda m: m.reply_to == message_id and m.msg_type == "interactive"
        )

    async def final_card(self, event: dict[str, Any]) -> dict[str, Any]:
        """Wait until the card answering ``event`` reaches a final state (success/failure)."""
        card = await self.card_for(event)
        await self.fake.wait_until(
            lambda: header(card.json())["template"] in ("green", "red"), "final card"
        )
        result: dict[str, Any] = card.json()
        return result

    @property
    def creates(self) -> list[dict[str, Any]]:
        return [c.body for c in self.sim.state.calls("create")]


def header(card: dict[str, Any]) -> dict[str, Any]:
    value: dict[str, Any] = card["header"]
    return value


def card_text(card: dict[str, Any]) -> str:
    return "\n".join(
        e["text"]["content"] for e in card["elements"] if e["tag"] == "div" and "text" in e
    )


def buttons(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for e in card["elements"] if e["tag"] == "action" for b in e["actions"]]


def verb(button: dict[str, Any]) -> Verb | None:
    """What a card button does (None: a link, or not one of the bot's actions)."""
    action = decode(str(button.get("value", {}).get("action", "")))
    return action.verb if action else None


def image_keys(card: dict[str, Any]) -> list[str]:
    return [e["img_key"] for e in card["elements"] if e["tag"] == "img"]


def content(message: SentMessage) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(message.content)
    return value


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Set up first, torn down last: after every bot has stopped, none of its threads remain."""
    yield
    leaked = [t.name for t in threading.enumerate() if t.name.startswith("feishu-")]
    assert leaked == []


@pytest.fixture
async def fake() -> AsyncIterator[FakeFeishu]:
    async with FakeFeishu() as fake:
        yield fake


@pytest.fixture
async def sim() -> AsyncIterator[RunningSimulator]:
    async with await start_simulator(speed=SCALE, seed=7) as sim:
        yield sim


@pytest.fixture(params=["webhook", "ws"])
async def bot(
    request: pytest.FixtureRequest, fake: FakeFeishu, sim: RunningSimulator, tmp_path: Path
) -> AsyncIterator[Bot]:
    """The bot in both delivery modes."""
    running = Bot(fake, sim, request.param, tmp_path / "bot.db")
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def hook(fake: FakeFeishu, sim: RunningSimulator, tmp_path: Path) -> AsyncIterator[Bot]:
    """The bot in webhook mode only (for what only webhooks have: signatures, replays)."""
    running = Bot(fake, sim, "webhook", tmp_path / "bot.db")
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def video_hook(fake: FakeFeishu, tmp_path: Path) -> AsyncIterator[Bot]:
    """The bot in webhook mode with a simulator fast enough for videos."""
    async with await start_simulator(speed=VIDEO_SCALE, seed=7) as sim:
        running = Bot(fake, sim, "webhook", tmp_path / "bot.db", VIDEO_SCALE)
        await running.start()
        yield running
        await running.stop()
