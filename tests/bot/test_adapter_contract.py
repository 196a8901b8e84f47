"""One conversation, the same on every platform: each adapter's harness plays it.

A person asks for a picture (and sees the four steps end in a result), asks what their
defaults are, presses the result's "vary" button (and gets a second picture), and sends the
same message again as a platform redelivery would (and nothing happens twice). Each platform
runs its real SDK against its local fake; the console runs as typed lines.
"""

from __future__ import annotations

import abc
import contextlib
import copy
import io
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.console.adapter import ConsoleAdapter
from sim.app import RunningSimulator, start_simulator
from tests.bot.discord.world import World, world_at
from tests.bot.feishu.conftest import Bot, buttons, card_text
from tests.fakes.discord import FakeDiscord, StoredMessage, sync_client
from tests.fakes.feishu import FakeFeishu
from tests.wiring import bot_on

SCALE = 0.005


class Chat(abc.ABC):
    """A person talking to the bot on one platform."""

    sim: RunningSimulator

    @abc.abstractmethod
    async def say(self, text: str) -> None:
        """Send a message and wait until everything it started has ended."""

    @abc.abstractmethod
    async def say_again(self) -> None:
        """The platform delivers the last message once more."""

    @abc.abstractmethod
    def last_text(self) -> str:
        """What the bot's newest message says now."""

    @abc.abstractmethod
    async def press(self, label: Callable[[str], bool]) -> None:
        """Press the newest button whose label passes, and wait for what it started."""

    @property
    def creates(self) -> list[Any]:
        return self.sim.state.calls("create")


class ConsoleChat(Chat):
    def __init__(self, adapter: ConsoleAdapter, out: io.StringIO, settle: Any) -> None:
        self.adapter, self.out, self.settle = adapter, out, settle
        self.lines: list[str] = []

    async def say(self, text: str) -> None:
        self.lines.append(text)
        self.adapter.read(text)
        await self.adapter.drain()
        await self.settle()

    async def say_again(self) -> None:
        """A console line can't be delivered twice: each line is a message of its own."""

    def last_text(self) -> str:
        return self.out.getvalue().rsplit("[bot #", 1)[-1]

    async def press(self, label: Callable[[str], bool]) -> None:
        number = max(i for i, b in enumerate(self.adapter.screen.buttons, 1) if label(b.label))
        await self.say(f"!{number}")


class DiscordChat(Chat):
    def __init__(self, world: World) -> None:
        self.world = world
        self.user = world.fake.default_user
        self.channel = world.fake.dm_channel(self.user).id
        self.sent: StoredMessage | None = None

    async def say(self, text: str) -> None:
        self.sent = await self.world.fake.send_message(self.channel, text)
        await self._settle()

    async def _settle(self) -> None:
        await sync_client(self.world.fake, self.world.adapter.client)  # the event was handled
        await self.world.settle()

    async def say_again(self) -> None:
        assert self.sent is not None
        await self.world.fake.gateway.publish_message("MESSAGE_CREATE", self.sent)
        await self._settle()

    def _bot_messages(self) -> list[StoredMessage]:
        return [m for m in self.world.fake.channel_messages(self.channel) if m.author.bot]

    def last_text(self) -> str:
        return self._bot_messages()[-1].content

    async def press(self, label: Callable[[str], bool]) -> None:
        for message in reversed(self._bot_messages()):
            ids = [
                c["custom_id"]
                for row in message.components
                for c in row["components"]
                if "custom_id" in c and label(c["label"])
            ]
            if ids:
                pressed = await self.world.fake.press_button(message, ids[-1])
                await pressed.wait_for_response()  # deferred: the press is being handled
                await self._settle()
                return
        raise LookupError("no such button")


class FeishuChat(Chat):
    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.sent: dict[str, Any] | None = None

    async def say(self, text: str) -> None:
        self.sent = self.bot.fake.events.dm_text(text)
        await self.bot.deliver(self.sent)
        await self.bot.settle()

    async def say_again(self) -> None:
        assert self.sent is not None
        again = copy.deepcopy(self.sent)
        again["header"]["event_id"] += "-again"  # Feishu redelivers under a new event id
        await self.bot.deliver(again)
        await self.bot.settle()

    def _cards(self) -> list[Any]:
        return [m for m in self.bot.fake.messages if m.msg_type == "interactive"]

    def last_text(self) -> str:
        return card_text(self._cards()[-1].json())

    async def press(self, label: Callable[[str], bool]) -> None:
        for card in reversed(self._cards()):
            found = [
                b for b in buttons(card.json()) if "value" in b and label(b["text"]["content"])
            ]
            if found:
                press = self.bot.fake.events.card_action(
                    found[-1]["value"], message_id=card.message_id, chat_id=card.chat_id
                )
                await self.bot.deliver(press)
                await self.bot.settle()
                return
        raise LookupError("no such button")


@contextlib.asynccontextmanager
async def console(sim: RunningSimulator, db: Path) -> AsyncIterator[Chat]:
    async with bot_on(sim, db, scale=SCALE) as bot:
        out = io.StringIO()
        adapter = ConsoleAdapter(bot.engine, out)
        await adapter.start()
        chat = ConsoleChat(adapter, out, bot.engine.drain)
        chat.sim = sim
        yield chat
        await adapter.pause()
        await bot.engine.shutdown()


@contextlib.asynccontextmanager
async def discord(sim: RunningSimulator, db: Path) -> AsyncIterator[Chat]:
    base, gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    try:
        async with (
            FakeDiscord() as fake,
            world_at(fake, sim, db, scale=SCALE, message_content=True) as world,
        ):
            chat = DiscordChat(world)
            chat.sim = sim
            yield chat
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = base, gateway


@contextlib.asynccontextmanager
async def feishu(sim: RunningSimulator, db: Path) -> AsyncIterator[Chat]:
    async with FakeFeishu() as fake:
        bot = Bot(fake, sim, "webhook", db, scale=SCALE)
        await bot.start()
        chat = FeishuChat(bot)
        chat.sim = sim
        try:
            yield chat
        finally:
            await bot.stop()


PLATFORMS = {"console": console, "discord": discord, "feishu": feishu}


@pytest.fixture(params=list(PLATFORMS))
async def chat(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Chat]:
    async with (
        await start_simulator(speed=SCALE, seed=4) as sim,
        PLATFORMS[request.param](sim, tmp_path / "bot.db") as running,
    ):
        yield running


async def test_the_same_conversation_on_every_platform(chat: Chat) -> None:
    await chat.say("draw a red fox in the snow")
    assert "Your image is ready" in chat.last_text()
    assert len(chat.creates) == 1
    await chat.say_again()
    assert len(chat.creates) == 1  # a redelivery starts nothing

    await chat.say("what are my defaults")
    assert "SeeDream 4.5" in chat.last_text()

    await chat.press(lambda label: "Vary" in label)
    assert len(chat.creates) == 2
    assert chat.creates[-1].body["task_type"] == "image_to_image"
    assert "Your image is ready" in chat.last_text()
