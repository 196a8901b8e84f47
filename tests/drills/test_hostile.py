"""Drills: deliveries, buttons and attachments made up by someone who is not the platform.

Forged Feishu webhooks are refused before anything of them is decrypted, all with the same
answer (no padding oracle) and one warning each; crafted buttons are answered "this button no
longer works"; attachment links lead nowhere but to the platform's own file hosts.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.feishu.api import FeishuApi, FeishuError
from core.ima.errors import ImageUnreachableError
from sim.app import RunningSimulator, start_simulator
from tests.bot.discord.world import world_at
from tests.bot.feishu.conftest import Bot, card_text
from tests.fakes.discord import FakeDiscord
from tests.fakes.feishu import FakeFeishu, crypto

EXPIRED = "This button no longer works. Please send your request again."


@pytest.fixture
async def sim() -> AsyncIterator[RunningSimulator]:
    async with await start_simulator(speed=0.01, seed=17) as running:
        yield running


@pytest.fixture
async def hook(sim: RunningSimulator, tmp_path: Path) -> AsyncIterator[Bot]:
    """The bot on Feishu webhooks, with an encrypt key (the fake makes one up)."""
    async with FakeFeishu() as fake:
        bot = Bot(fake, sim, "webhook", tmp_path / "bot.db")
        await bot.start()
        yield bot
        await bot.stop()


async def post(url: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as r:
        return r.status, await r.read()


def sealed(payload: dict[str, Any], key: str) -> bytes:
    """An encrypted body, as Feishu sends it."""
    return json.dumps({"encrypt": crypto.encrypt(json.dumps(payload), key)}).encode()


def signed(key: str, body: bytes, *, age: float = 0.0) -> dict[str, str]:
    timestamp, nonce = str(int(time.time() - age)), "n0nce"
    return {
        "X-Lark-Request-Timestamp": timestamp,
        "X-Lark-Request-Nonce": nonce,
        "X-Lark-Signature": crypto.signature(timestamp, nonce, key, body),
    }


# ── forged Feishu webhooks ───────────────────────────────────────────────────────────────


async def test_forged_encrypted_webhooks_learn_nothing(
    hook: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    fake, key = hook.fake, hook.fake.encrypt_key
    genuine = sealed(fake.events.dm_text("hi"), key)
    blocks = base64.b64decode(json.loads(genuine)["encrypt"])[:32]
    # A padding oracle probe: one ciphertext block behind every value of the IV's last byte.
    probes = [
        json.dumps({"encrypt": base64.b64encode(blocks[:15] + bytes([b]) + blocks[16:]).decode()})
        for b in range(256)
    ]
    forged = [
        *[(p.encode(), {}) for p in probes],  # unsigned
        *[(p.encode(), {"X-Lark-Signature": "0" * 64}) for p in probes[:8]],  # badly signed
        (b"{not json", {}),
        (b"\xff\xfe\x00", {}),
        (json.dumps({"encrypt": "!!not base64!!"}).encode(), {}),
        (genuine, {}),  # a real event, unsigned
        (genuine, signed(key, genuine, age=3600)),  # replayed an hour later
        (genuine, signed("another key", genuine)),
    ]
    caplog.set_level(logging.INFO)
    caplog.clear()
    answers = await asyncio.gather(*(post(hook.url, body, headers) for body, headers in forged))

    assert set(answers) == {(401, b"")}  # the same answer whatever is wrong
    refusals = [r for r in caplog.records if "webhook delivery refused" in r.getMessage()]
    assert len(refusals) == len(forged)  # one line each
    assert {r.levelname for r in refusals} == {"WARNING"}
    assert [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR] == []
    assert [r for r in caplog.records if r.name == "Lark"] == []  # nothing reached the SDK
    assert hook.creates == []
    assert fake.messages == []

    # Feishu's own URL check comes unsigned: answered; one with another token is not.
    check = fake.events.url_verification()
    status, body = await post(
        hook.url, json.dumps({"encrypt": crypto.encrypt(json.dumps(check), key)}).encode()
    )
    assert (status, json.loads(body)) == (200, {"challenge": check["challenge"]})
    wrong = {**check, "token": "not-the-token"}
    status, _ = await post(
        hook.url, json.dumps({"encrypt": crypto.encrypt(json.dumps(wrong), key)}).encode()
    )
    assert status == 401
    # A genuine delivery still goes through.
    event = fake.events.dm_text("draw a cat")
    assert (await fake.post_event(hook.url, event)).status == 200
    await hook.final_card(event)


# ── crafted buttons ──────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    "value",
    [
        {"action": "r:no-such-job"},
        {"action": "s:no-such-job:0"},
        {"action": "s:abc:-1"},
        {"action": "show:abc:x"},
        {"action": "v:abc:999"},
        {"action": "retry:x:"},
        {"owner": "ou_x"},  # not one of the bot's buttons
    ],
    ids=str,
)
async def test_crafted_feishu_buttons_say_so(hook: Bot, value: dict[str, Any] | str) -> None:
    fake = hook.fake
    asked = fake.events.dm_text("help")
    await hook.deliver(asked)
    card = await hook.card_for(asked)
    press = fake.events.card_action(value, message_id=card.message_id, chat_id=card.chat_id)
    answer = await fake.post_event(hook.url, press)
    assert answer.status == 200
    toast = (answer.json() or {}).get("toast")
    if toast is not None:  # not one of the bot's buttons at all: said at once
        assert toast["content"] == EXPIRED
        return
    note = await fake.wait_for_message(lambda m: m is not card and m.msg_type == "interactive")
    assert card_text(note.json()) == EXPIRED
    assert hook.creates == []


# ── attachment links ─────────────────────────────────────────────────────────────────────


class Internal:
    """An address the bot must never be made to ask: it counts every request it gets."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.url = ""

    async def __aenter__(self) -> Internal:
        async def secret(request: web.Request) -> web.Response:
            self.hits.append(request.path)
            return web.Response(body=b"\x89PNG\r\n\x1a\n secrets")

        app = web.Application()
        app.router.add_get("/{tail:.*}", secret)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "localhost", 0)
        await site.start()
        self.url = f"http://localhost:{self._runner.addresses[0][1]}/latest/meta-data"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._runner.cleanup()


class Redirector:
    """A server on 127.0.0.1 (the platform's host here) that sends every download to ``to``;
    it answers Feishu's token request, and keeps the raw path of every request."""

    def __init__(self, to: str) -> None:
        self.to = to
        self.paths: list[str] = []
        self.base = ""

    async def __aenter__(self) -> Redirector:
        async def moved(request: web.Request) -> web.Response:
            self.paths.append(request.raw_path)
            if request.path.startswith("/open-apis/auth/"):
                return web.json_response({"code": 0, "tenant_access_token": "t-x", "expire": 7200})
            raise web.HTTPFound(self.to)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", moved)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.base = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._runner.cleanup()


async def test_discord_attachments_come_only_from_its_file_hosts(
    sim: RunningSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The adapter points discord.py's class-level REST base and gateway at the fake.
    monkeypatch.setattr(Route, "BASE", Route.BASE)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", DiscordWebSocket.DEFAULT_GATEWAY)
    async with (
        FakeDiscord() as fake,
        world_at(fake, sim, tmp_path / "bot.db", scale=0.01) as world,
        Internal() as internal,
        Redirector(internal.url) as cdn,
    ):
        fetch = world.adapter.platform().fetch
        moved = f"{cdn.base}/attachments/1/2/cat.png"
        for url in (internal.url, moved, "file:///etc/passwd", "not a url"):
            with pytest.raises(ImageUnreachableError):
                await fetch({"url": url}, 1 << 20)
        assert cdn.paths == ["/attachments/1/2/cat.png"]  # asked, but not followed off it
        assert internal.hits == []


async def test_feishu_resources_come_only_from_its_api() -> None:
    async with Internal() as internal, Redirector(internal.url) as feishu:
        api = FeishuApi("cli_x", "secret", feishu.base)
        try:
            with pytest.raises(FeishuError, match="redirected"):
                await api.download_resource("om_1", "../../bot/v3/info", max_bytes=1 << 20)
        finally:
            await api.close()
        assert internal.hits == []
        # The ids of an event can't lead the download to another of Feishu's APIs.
        resource = feishu.paths[-1]
        assert resource.startswith("/open-apis/im/v1/messages/om_1/resources/..%2F..%2Fbot")
