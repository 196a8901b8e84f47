"""The Feishu adapter end to end: the real lark-oapi against the fake Feishu, the engine against
the IMA simulator. Receiving is tested in both modes (``bot``), the rest over webhooks (``hook``).
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import lark_oapi.ws.client as lark_ws_client
import pytest

from bot.adapters import ADAPTERS
from bot.feishu import replier
from bot.feishu.adapter import HOOK_THREADS, FeishuAdapter, _EndpointRequests
from bot.feishu.api import FeishuApiError
from bot.feishu.config import FeishuSettings
from core.actions import Verb
from core.ima.tasks import TaskType
from sim.app import RunningSimulator
from sim.media import render_png
from tests.bot.feishu.conftest import (
    PATCH_INTERVAL,
    Bot,
    buttons,
    card_text,
    content,
    header,
    image_keys,
    verb,
)
from tests.fakes.feishu import EventFactory, FakeFeishu, SentMessage, WebhookResult, WsAck

PNG = render_png("a photo from a Feishu user", 32, 32)


def assert_acked(ack: WebhookResult | WsAck) -> None:
    """Acknowledged at once: the generation runs after the ack, never before it."""
    if isinstance(ack, WebhookResult):
        assert ack.status == 200
    else:
        assert (ack.code, ack.latency < 1) == (200, True)


def toast(ack: WebhookResult | WsAck) -> Any:
    data = ack.json() if isinstance(ack, WebhookResult) else ack.data
    return (data or {}).get("toast")


async def answered(bot: Bot, text: str = "help") -> SentMessage:
    """A DM whose answer proves every event delivered before it has been dealt with."""
    event = bot.fake.events.dm_text(text)
    await bot.deliver(event)
    return await bot.card_for(event)


async def fetch(url: str) -> bytes:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return await response.read()


# ── receiving ────────────────────────────────────────────────────────────────────────────


async def test_group_mention_gets_one_card_patched_through_the_four_steps(bot: Bot) -> None:
    event = bot.fake.events.group_text_mentioning_bot("draw a cat in a space suit")
    assert_acked(await bot.deliver(event))
    final = await bot.final_card(event)
    card = await bot.card_for(event)

    assert card.reply_to == EventFactory.message_id(event)
    assert card.uuid
    before = json.loads(card.original_content)
    assert header(before)["template"] == "blue"
    assert "Creating your image" in card_text(before)
    assert "SeeDream 4.5" in card_text(before)
    templates = [header(p.json())["template"] for p in card.patches]
    assert templates[-1] == "green"
    assert set(templates[:-1]) == {"wathet"}  # at least one progress update, then success
    assert "Generating" in card_text(card.patches[0].json())
    assert "Your image is ready" in card_text(final)
    [key] = image_keys(final)
    assert bot.fake.image(key).data.startswith(b"\x89PNG")
    assert bot.fake.image(key).image_type == "message"
    # Throttled: never two updates of a card within the interval, counting from the send.
    times = [card.create_time_ms / 1000] + [p.at for p in card.patches]
    assert min(b - a for a, b in itertools.pairwise(times)) >= PATCH_INTERVAL * 0.9
    assert bot.fake.messages == [card]
    assert len(bot.creates) == 1
    assert bot.adapter.healthy()


async def test_group_messages_not_for_the_bot_are_ignored(bot: Bot) -> None:
    events = bot.fake.events
    for event in (
        events.text("draw a cat"),
        events.group_text_mentioning(events.new_user("Dave"), "draw a cat"),
        events.group_text_mentioning(events.new_user("IMA Bot"), "draw a cat"),  # a namesake
    ):
        assert_acked(await bot.deliver(event))
    help_card = await answered(bot)
    assert bot.fake.messages == [help_card]
    assert "I can create pictures" in card_text(help_card.json())
    assert bot.creates == []


async def test_every_event_is_answered_200_and_only_messages_answered(bot: Bot) -> None:
    """Events nobody handles (read receipts, recalls, reactions, the bot added or removed, a
    schema 1.0 message) are acknowledged: anything else Feishu retries for hours."""
    fake, events = bot.fake, bot.fake.events
    message_id = events.message_id(events.dm_text("hello"))
    unasked = [
        events.legacy_message("draw a cat"),
        events.message_read([message_id]),
        fake.recall_message(message_id),
        events.reaction_created(message_id, "SMILE"),
        events.event("im.message.reaction.deleted_v1", {"message_id": message_id}),
        events.bot_p2p_chat_entered(),
        events.bot_added(name="Art"),
        events.bot_removed(name="Art"),
        events.event("a.type.nobody.knows_v9", {}),
    ]
    for event in unasked:
        assert_acked(await bot.deliver(event))
    help_card = await answered(bot)
    assert fake.messages == [help_card]
    assert fake.failed_deliveries == []
    assert bot.creates == []


async def test_unusable_direct_messages_get_one_line(bot: Bot) -> None:
    fake, events = bot.fake, bot.fake.events
    kinds = {
        "file": {"file_key": "file_v3_a", "file_name": "brief.pdf"},
        "audio": {"file_key": "file_v3_b", "duration": 2000},
        "media": {"file_key": "file_v3_c", "image_key": "img_v3_c", "file_name": "a.mp4"},
        "sticker": {"file_key": "file_v3_d"},
    }
    line = bot.engine.text("en", "feishu.cannot_use")
    for kind, body in kinds.items():
        event = events.dm_text("")
        event["event"]["message"].update(message_type=kind, content=json.dumps(body))
        assert_acked(await bot.deliver(event))
        await bot.deliver(event)  # delivered again: still one answer
        answer = await bot.card_for(event)
        assert card_text(answer.json()) == line
    await answered(bot)
    assert len(fake.messages) == len(kinds) + 1
    assert bot.creates == []


async def test_everyone_mentioned_is_not_in_the_prompt(bot: Bot) -> None:
    events = bot.fake.events
    event = events.group_text_mentioning_bot("draw a cat on a cloud")
    message = event["event"]["message"]
    message["content"] = json.dumps({"text": "@_all @_user_1 draw a cat on a cloud"})
    message["mentions"].append(
        {"key": "@_all", "id": {"open_id": "all", "user_id": "all"}, "name": "所有人"}
    )
    await bot.deliver(event)
    await bot.final_card(event)
    [body] = bot.creates
    prompt = body["parameters"][0]["parameters"]["prompt"]
    assert "cat on a cloud" in prompt
    assert "所有人" not in prompt
    assert "@" not in prompt


async def test_direct_message_in_chinese(bot: Bot) -> None:
    event = bot.fake.events.dm_text("画一只戴墨镜的柴犬")
    assert_acked(await bot.deliver(event))
    final = await bot.final_card(event)
    card = await bot.card_for(event)
    assert card.chat_id == bot.fake.events.p2p_chat_id(bot.fake.events.default_user)
    assert header(json.loads(card.original_content))["title"]["content"] == "马上开始"
    assert header(final)["title"]["content"] == "完成"
    assert card_text(final).startswith("✅ 图片生成成功")
    assert len(image_keys(final)) == 1


async def test_rich_text_with_an_image_in_a_group(bot: Bot) -> None:
    event = bot.fake.make_post_message("turn this into an oil painting", [PNG])
    await bot.deliver(event)
    final = await bot.final_card(event)
    assert header(final)["template"] == "green"
    [body] = bot.creates
    assert body["task_type"] == TaskType.IMAGE_TO_IMAGE.value
    [url] = body["src_img_url"]
    assert await fetch(url) == PNG  # downloaded from Feishu, uploaded to IMA


async def test_a_video_in_rich_text_is_not_a_picture_to_work_from(bot: Bot) -> None:
    fake = bot.fake
    event = fake.make_post_message("turn this into an oil painting", [PNG])
    message = event["event"]["message"]
    content = json.loads(message["content"])
    cover = "img_v3_video_cover"
    fake.add_message_resource(EventFactory.message_id(event), cover, PNG)
    content["content"].append([{"tag": "media", "file_key": "file_v3_video", "image_key": cover}])
    message["content"] = json.dumps(content)
    await bot.deliver(event)
    await bot.final_card(event)
    [body] = bot.creates
    assert body["task_type"] == TaskType.IMAGE_TO_IMAGE.value
    assert len(body["src_img_url"]) == 1  # the picture, not the video's cover


async def test_an_image_alone_waits_for_the_prompt(bot: Bot) -> None:
    image = bot.fake.make_image_message(PNG)
    await bot.deliver(image)
    waiting = await bot.card_for(image)
    assert "Got your picture" in card_text(waiting.json())
    assert bot.creates == []

    prompt = bot.fake.events.dm_text("make it look like an oil painting")
    await bot.deliver(prompt)
    await bot.final_card(prompt)
    [body] = bot.creates
    assert body["task_type"] == TaskType.IMAGE_TO_IMAGE.value
    assert await fetch(body["src_img_url"][0]) == PNG

    later = bot.fake.events.dm_text("draw a dog")  # the picture was used up
    await bot.deliver(later)
    await bot.final_card(later)
    assert bot.creates[-1]["task_type"] == TaskType.TEXT_TO_IMAGE.value


async def test_redeliveries_never_start_a_second_generation(bot: Bot) -> None:
    event = bot.fake.events.group_text_mentioning_bot("draw a lighthouse")
    for _ in range(3):
        assert_acked(await bot.deliver(event))
    await bot.final_card(event)
    same_message = copy.deepcopy(event)  # the message again, under a new event id
    same_message["header"]["event_id"] = "f" * 32
    await bot.deliver(same_message)
    await answered(bot)
    assert len(bot.creates) == 1

    await bot.restart()  # a new process on the same database
    await bot.deliver(event)
    await answered(bot, "help me")
    assert len(bot.creates) == 1
    cards = [m for m in bot.fake.messages if m.reply_to == EventFactory.message_id(event)]
    assert len(cards) == 1


async def test_retry_button_checks_who_presses_it(bot: Bot) -> None:
    events = bot.fake.events
    bot.sim.state.faults.push("create", "503")
    event = events.group_text_mentioning_bot("draw a castle on a cloud")
    await bot.deliver(event)
    failed = await bot.final_card(event)
    assert header(failed)["template"] == "red"
    card = await bot.card_for(event)
    retry = next(b for b in buttons(failed) if verb(b) is Verb.RETRY)
    assert retry["value"]["locale"] == "en"
    assert retry["value"]["owner"] == events.default_user.open_id

    def press(value: dict[str, Any], who: Any = None) -> dict[str, Any]:
        return events.card_action(
            value, message_id=card.message_id, chat_id=card.chat_id, operator=who
        )

    other = await bot.deliver(press(retry["value"], events.new_user("Mallory")))
    assert toast(other)["content"] == bot.engine.text("en", "action.not_yours")  # at once
    stale = await bot.deliver(press({"action": "r:nojob", "locale": "zh"}))
    assert toast(stale) is None  # answered at once; the verdict follows as a message
    expired = bot.engine.text("zh", "action.expired")
    await bot.fake.wait_for_message(lambda m: expired in m.content)
    assert len(bot.creates) == 1

    mine = await bot.deliver(press(retry["value"]))
    assert toast(mine) is None
    double_click = await bot.deliver(press(retry["value"]))
    assert toast(double_click) is None
    await bot.fake.wait_until(
        lambda: any(
            m.reply_to == card.message_id
            and m.msg_type == "interactive"
            and header(m.json())["template"] == "green"
            for m in bot.fake.messages
        ),
        "retried",
    )
    assert len(bot.creates) == 2
    assert (
        bot.creates[0]["parameters"][0]["parameters"]["prompt"]
        == (bot.creates[1]["parameters"][0]["parameters"]["prompt"])
    )


async def test_a_button_value_sent_as_a_string_still_works(bot: Bot) -> None:
    """Feishu allows a button's value to be a string; the SDK's own model can't read one."""
    events = bot.fake.events
    bot.sim.state.faults.push("create", "503")
    event = events.group_text_mentioning_bot("draw a castle on a cloud")
    await bot.deliver(event)
    failed = await bot.final_card(event)
    card = await bot.card_for(event)
    retry = next(b for b in buttons(failed) if verb(b) is Verb.RETRY)
    for value in ("not json at all", json.dumps(retry["value"])):
        press = events.card_action(value, message_id=card.message_id, chat_id=card.chat_id)
        assert_acked(await bot.deliver(press))
    await bot.fake.wait_until(lambda: len(bot.creates) == 2, "retried")
    assert bot.fake.failed_deliveries == []


async def test_quick_presses_on_the_long_connection_are_answered_at_once(
    fake: FakeFeishu, sim: RunningSimulator, tmp_path: Path
) -> None:
    """The press is answered before its work is done: the work (here a verdict that waits out a
    rate limit) never holds up the connection, so no press misses Feishu's 3 seconds."""
    bot = Bot(fake, sim, "ws", tmp_path / "bot.db")
    await bot.start()
    try:
        card = await answered(bot)
        fake.inject_rate_limit("reply", times=3, reset_seconds=2)
        stale = {"action": "r:nojob", "locale": "en"}
        presses = [
            fake.events.card_action(stale, message_id=card.message_id, chat_id=card.chat_id)
            for _ in range(3)
        ]
        frames = [await fake.send_ws_event(press) for press in presses]
        for frame in frames:
            assert (await fake.wait_for_ack(frame)).code == 200
        expired = bot.engine.text("en", "action.expired")
        await fake.wait_until(
            lambda: sum(expired in m.content for m in fake.messages) == 3, "three verdicts"
        )
        assert fake.failed_deliveries == []
    finally:
        await bot.stop()


async def test_preferences_in_plain_chat(bot: Bot) -> None:
    saved = await answered(bot, "以后都用 Nano Banana Pro")
    assert "Nano Banana Pro" in card_text(saved.json())
    assert header(saved.json())["template"] == "grey"
    pref = await bot.store.get_preference(
        "feishu", bot.fake.events.default_user.open_id, TaskType.TEXT_TO_IMAGE
    )
    assert pref is not None
    assert pref.model_name == "Nano Banana Pro"
    cleared = await answered(bot, "清除我的偏好")
    assert card_text(cleared.json()) == bot.engine.text("zh", "pref.reset_all")
    assert await bot.store.list_preferences("feishu", bot.fake.events.default_user.open_id) == {}


# ── webhook security ─────────────────────────────────────────────────────────────────────


async def test_forged_and_replayed_webhooks_are_rejected(hook: Bot) -> None:
    fake = hook.fake
    event = fake.events.group_text_mentioning_bot("draw a cat")
    forged = await fake.post_event(hook.url, event, tamper_signature=True)
    stale = await fake.post_event(hook.url, event, timestamp=int(time.time()) - 3600)
    future = await fake.post_event(hook.url, event, timestamp=int(time.time()) + 3600)
    wrong_token = copy.deepcopy(event)
    wrong_token["header"]["token"] = "not-the-token"
    impostor = await fake.post_event(hook.url, wrong_token)
    assert [r.status for r in (forged, stale, future, impostor)] == [401, 401, 401, 500]
    await answered(hook)
    assert hook.creates == []
    assert len(fake.messages) == 1

    challenge = await fake.post_url_verification(hook.url)
    assert challenge.json() == {"challenge": challenge.sent["challenge"]}
    assert_acked(await fake.post_event(hook.url, event))  # the genuine delivery still works
    await hook.final_card(event)


async def test_a_webhook_message_is_acknowledged_without_the_sdks_worker_threads(
    hook: Bot,
) -> None:
    """A message delivered by webhook is stored and answered 200 on the event loop: with every
    worker thread of the SDK's dispatcher busy, it is still taken at once (and answered once)."""
    executor = hook.adapter._executor
    assert executor is not None
    free = threading.Event()
    for _ in range(HOOK_THREADS):
        executor.submit(free.wait, 30)
    try:
        event = hook.fake.events.dm_text("draw a lighthouse")
        assert_acked(await asyncio.wait_for(hook.deliver(event), 5))
    finally:
        free.set()
    assert "ready" in card_text(await hook.final_card(event))
    assert len(hook.creates) == 1


# ── delivering results ───────────────────────────────────────────────────────────────────


async def test_music_is_sent_as_a_file(video_hook: Bot) -> None:
    hook = video_hook
    event = hook.fake.events.dm_text("an upbeat lo-fi song about rainy days")
    await hook.deliver(event)
    final = await hook.final_card(event)
    assert "Your music is ready" in card_text(final)
    file_message = await hook.fake.wait_for_message(lambda m: m.msg_type == "file")
    assert file_message.reply_to == EventFactory.message_id(event)
    uploaded = hook.fake.file(content(file_message)["file_key"])
    assert uploaded.file_type == "stream"  # mp3: Feishu's audio messages take opus only
    assert uploaded.file_name.endswith(".mp3")


async def test_video_from_a_picture_is_sent_as_media(video_hook: Bot) -> None:
    hook = video_hook
    event = hook.fake.make_post_message(
        "a video of this picture coming to life", [PNG], chat_type="p2p", mention_bot=False
    )
    await hook.deliver(event)
    final = await hook.final_card(event)
    assert "Your video is ready" in card_text(final)
    assert hook.creates[0]["task_type"] == TaskType.IMAGE_TO_VIDEO.value
    media = await hook.fake.wait_for_message(lambda m: m.msg_type == "media")
    assert media.reply_to == EventFactory.message_id(event)
    video = hook.fake.file(content(media)["file_key"])
    assert (video.file_type, video.duration_ms) == ("mp4", 2000)
    assert video.file_name.endswith(".mp4")
    assert hook.fake.image(content(media)["image_key"]).data.startswith(b"\x89PNG")  # cover


async def test_several_images_and_results_too_large_to_send(
    hook: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    two = hook.fake.events.dm_text("generate 2 images of a red fox")
    await hook.deliver(two)
    assert len(image_keys(await hook.final_card(two))) == 2

    monkeypatch.setattr(replier, "MAX_IMAGE_BYTES", 100)
    big = hook.fake.events.dm_text("generate 2 images of a blue whale")
    await hook.deliver(big)
    final = await hook.final_card(big)
    assert image_keys(final) == []
    links = [b for b in buttons(final) if "url" in b]
    assert [b["text"]["content"] for b in links] == ["Open image 1", "Open image 2"]
    assert all(b["url"].startswith(hook.sim.base_url) for b in links)
    assert "too large to send here" in card_text(final)


async def test_rate_limit_answers_are_waited_out(hook: Bot) -> None:
    hook.fake.inject_rate_limit("reply", reset_seconds=1)
    started = time.monotonic()
    card = await answered(hook)
    assert time.monotonic() - started >= 1
    assert [e.code for e in hook.fake.api_errors] == [99991400]
    assert hook.fake.call_count("reply") == 2
    assert hook.fake.messages == [card]


async def test_a_job_running_at_a_restart_finishes_in_the_same_card(video_hook: Bot) -> None:
    hook = video_hook
    event = hook.fake.events.dm_text("a video of ocean waves at sunset")
    await hook.deliver(event)
    card = await hook.card_for(event)
    await hook.fake.wait_for_patches(card.message_id, 1)  # progress: the IMA task exists
    await hook.restart()  # the generation is still running at IMA
    await hook.fake.wait_until(lambda: header(card.json())["template"] == "green", "resumed")
    assert len(hook.creates) == 1
    media = await hook.fake.wait_for_message(lambda m: m.msg_type == "media")
    assert media.reply_to == EventFactory.message_id(event)
    assert [m.msg_type for m in hook.fake.messages] == ["interactive", "media"]


@pytest.mark.parametrize("gone", ["recalled", "deleted"])
async def test_a_message_gone_is_answered_in_its_chat(hook: Bot, gone: str) -> None:
    fake = hook.fake
    event = fake.events.group_text_mentioning_bot("help")
    message_id = EventFactory.message_id(event)
    if gone == "recalled":
        fake.recall_message(message_id)  # replying to it answers 230011
    else:
        fake.delete_message(message_id)  # 230110
    await hook.deliver(event)
    card = await fake.wait_for_message(lambda m: m.msg_type == "interactive")
    assert (card.reply_to, card.chat_id) == (None, fake.events.default_group_chat_id)
    mention = card.json()["elements"][0]["text"]["content"]
    assert mention == f"<at id={fake.events.default_user.open_id}></at>"
    assert [e.code for e in fake.api_errors] == [230011 if gone == "recalled" else 230110]


async def test_a_card_that_cannot_be_updated_is_sent_again(hook: Bot) -> None:
    fake = hook.fake
    fake.inject_error("patch", status=400, code=230031, msg="Too old to modify.", times=100)
    event = fake.events.dm_text("draw a cat")
    await hook.deliver(event)
    first = await hook.card_for(event)
    done = await fake.wait_for_message(
        lambda m: m.msg_type == "interactive" and header(m.json())["template"] == "green"
    )
    assert done is not first
    assert done.reply_to == EventFactory.message_id(event)
    assert fake.patches(first.message_id) == []
    assert len(image_keys(done.json())) == 1


# ── the long connection ──────────────────────────────────────────────────────────────────


async def test_long_connection_comes_back_after_a_drop(
    fake: FakeFeishu, sim: RunningSimulator, tmp_path: Path
) -> None:
    sdk_globals = lark_ws_client.loop, lark_ws_client.requests
    bot = Bot(fake, sim, "ws", tmp_path / "bot.db")
    await bot.start()
    try:
        # The SDK's endpoint request gets a timeout, so a silent server can't hang reconnects.
        assert isinstance(lark_ws_client.requests, _EndpointRequests)
        assert bot.adapter.healthy()
        await fake.drop_ws_connections()
        await fake.wait_for_ws_connection(count=2)
        await answered(bot)  # an event pushed on the new connection is handled
        assert bot.adapter.healthy()
    finally:
        await bot.stop()
    assert not bot.adapter.healthy()
    assert (lark_ws_client.loop, lark_ws_client.requests) == sdk_globals


def test_the_endpoint_request_gets_a_timeout() -> None:
    calls: list[tuple[str, dict[str, Any]]] = []

    class Requests:
        def post(self, url: str, **kwargs: Any) -> str:
            calls.append((url, kwargs))
            return "response"

    shim = _EndpointRequests(Requests(), 3.0)
    assert shim.post("https://x/callback/ws/endpoint", json={"AppID": "a"}) == "response"
    assert calls == [("https://x/callback/ws/endpoint", {"json": {"AppID": "a"}, "timeout": 3.0})]


async def test_wrong_credentials_fail_at_start(fake: FakeFeishu) -> None:
    config = FeishuSettings.model_validate(
        {"app_id": fake.app_id, "app_secret": "wrong", "domain": fake.domain, "mode": "ws"}
    )
    engine: Any = SimpleNamespace()  # never reached: the credentials are checked first
    adapter = FeishuAdapter(engine, config)
    engine.register = lambda platform: None
    with pytest.raises(FeishuApiError):
        await adapter.start()
    assert not adapter.accepting
    await adapter.close()
    assert fake.ws_connections_total == 0


def test_built_for_ima_bot_run_only_when_configured(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    for name in ("APP_ID", "APP_SECRET", "VERIFICATION_TOKEN", "ENCRYPT_KEY", "DOMAIN", "MODE"):
        monkeypatch.delenv(f"FEISHU_{name}", raising=False)
    [entry] = [e for e in ADAPTERS if e.name == "feishu"]
    engine: Any = object()
    assert not entry.load().configured

    monkeypatch.setenv("FEISHU_APP_ID", "cli_1")
    monkeypatch.setenv("FEISHU_APP_SECRET", "secret")
    long_connection = entry.build(engine, entry.load())
    assert long_connection.routes() == []

    monkeypatch.setenv("FEISHU_MODE", "webhook")
    monkeypatch.setenv("FEISHU_VERIFICATION_TOKEN", "token")
    webhook = entry.build(engine, entry.load())
    assert [(r.method, r.path) for r in webhook.routes()] == [("POST", "/feishu/events")]
    assert not webhook.healthy()  # not started
