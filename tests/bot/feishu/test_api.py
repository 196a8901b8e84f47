"""The REST client against the fake Feishu: tokens, rate limits, uploads, downloads."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.feishu.api import FeishuApi, FeishuApiError, FeishuError, TooLargeError
from bot.feishu.replier import CardPatcher
from tests.fakes.feishu import EventFactory, FakeFeishu

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
CARD = {"config": {"update_multi": True}, "elements": []}


@pytest.fixture
async def fake() -> AsyncIterator[FakeFeishu]:
    async with FakeFeishu() as fake:
        yield fake


@pytest.fixture
async def api(fake: FakeFeishu) -> AsyncIterator[FeishuApi]:
    api = FeishuApi(fake.app_id, fake.app_secret, fake.domain)
    yield api
    await api.close()


async def test_token_is_fetched_once_and_renewed_when_revoked(
    fake: FakeFeishu, api: FeishuApi
) -> None:
    assert await api.bot_open_id() == fake.bot.open_id
    chat = fake.events.default_group_chat_id
    await api.send(chat, "text", {"text": "one"}, "u-1")
    assert fake.token_requests == 1

    fake.revoke_tokens()
    await api.send(chat, "text", {"text": "two"}, "u-2")
    assert fake.token_requests == 2
    assert [e.code for e in fake.api_errors] == [99991663]
    assert [m.text for m in fake.messages] == ["one", "two"]


async def test_wrong_secret_is_an_error(fake: FakeFeishu) -> None:
    api = FeishuApi(fake.app_id, "wrong", fake.domain)
    with pytest.raises(FeishuApiError) as caught:
        await api.bot_open_id()
    await api.close()
    assert caught.value.code == 10014


async def test_rate_limit_is_waited_out(fake: FakeFeishu, api: FeishuApi) -> None:
    fake.inject_rate_limit("reply", times=2, reset_seconds=0)
    fake.inject_rate_limit("patch", reset_seconds=1)
    incoming = fake.events.dm_text("hi")
    card_id = await api.reply(EventFactory.message_id(incoming), "interactive", CARD, "u-1")
    assert fake.call_count("reply") == 3

    started = time.monotonic()
    await api.patch(card_id, {**CARD, "elements": [{"tag": "hr"}]})
    assert time.monotonic() - started >= 1  # x-ogw-ratelimit-reset
    assert len(fake.patches(card_id)) == 1


async def test_rate_limit_gives_up_eventually(fake: FakeFeishu, api: FeishuApi) -> None:
    fake.inject_rate_limit("send", times=10, reset_seconds=0)
    with pytest.raises(FeishuApiError) as caught:
        await api.send(fake.events.default_group_chat_id, "text", {"text": "x"}, "u-1")
    assert (caught.value.code, caught.value.status) == (99991400, 429)
    assert fake.call_count("send") == 4


async def test_same_uuid_same_message(fake: FakeFeishu, api: FeishuApi) -> None:
    incoming = EventFactory.message_id(fake.events.dm_text("hi"))
    first = await api.reply(incoming, "text", {"text": "once"}, "same")
    assert await api.reply(incoming, "text", {"text": "once"}, "same") == first
    assert len(fake.messages) == 1


async def test_uploads(fake: FakeFeishu, api: FeishuApi) -> None:
    image_key = await api.upload_image(PNG, "result.png")
    assert fake.image(image_key).data == PNG
    file_key = await api.upload_file(
        b"mp4 bytes", file_type="mp4", file_name="v.mp4", duration_ms=2000
    )
    uploaded = fake.file(file_key)
    assert (uploaded.file_type, uploaded.file_name, uploaded.duration_ms) == ("mp4", "v.mp4", 2000)
    with pytest.raises(FeishuApiError) as caught:
        await api.upload_image(b"not an image")
    assert caught.value.code == 234011


async def test_downloads(fake: FakeFeishu, api: FeishuApi) -> None:
    event = fake.make_image_message(PNG)
    message_id = EventFactory.message_id(event)
    key = json.loads(event["event"]["message"]["content"])["image_key"]
    assert await api.download_resource(message_id, key, max_bytes=1024) == PNG
    with pytest.raises(TooLargeError):
        await api.download_resource(message_id, key, max_bytes=100)
    with pytest.raises(FeishuApiError) as caught:  # the code survives a non-2xx answer
        await api.download_resource(message_id, "img_missing", max_bytes=1024)
    assert (caught.value.code, caught.value.status) == (234003, 404)
    with pytest.raises(FeishuError):
        await api.fetch(f"{fake.domain}/nothing-here", max_bytes=10)


def shared_card(text: str) -> dict[str, Any]:
    return {"config": {"update_multi": True}, "elements": [{"tag": "markdown", "content": text}]}


async def test_card_updates_are_throttled_and_the_final_one_always_goes(
    fake: FakeFeishu, api: FeishuApi
) -> None:
    incoming = EventFactory.message_id(fake.events.dm_text("hi"))
    patcher = CardPatcher(api, interval=0.2)

    def texts(card_id: str) -> list[str]:
        return [p.json()["elements"][0]["content"] for p in fake.patches(card_id)]

    burst = await api.reply(incoming, "interactive", shared_card("0%"), "u-1")
    patcher.sent(burst)
    for step in ("10%", "20%", "30%", "40%", "50%", "60%"):
        await patcher.update(burst, shared_card(step), final=False)  # returns at once
    await patcher.update(burst, shared_card("done"), final=True)
    assert texts(burst) == ["done"]  # progress within the interval was superseded

    steady = await api.reply(incoming, "interactive", shared_card("0%"), "u-2")
    patcher.sent(steady)
    await patcher.update(steady, shared_card("50%"), final=False)
    await fake.wait_for_patches(steady, 1)
    await patcher.update(steady, shared_card("done"), final=True)
    assert texts(steady) == ["50%", "done"]
    first, second = fake.patches(steady)
    assert second.at - first.at >= 0.2 * 0.9

    pending = await api.reply(incoming, "interactive", shared_card("0%"), "u-3")
    patcher.sent(pending)
    await patcher.update(pending, shared_card("50%"), final=False)
    await patcher.close()  # stopping: a waiting progress update is dropped, nothing leaks
    assert texts(pending) == []
