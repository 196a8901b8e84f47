"""Seams that decided one fact in two places, through the real lark-oapi against the fake Feishu.

Each test failed before the restructure into one planning path (core/planning.py), picture
memory in the engine (core/pictures.py) and handles that say where a card is now.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from sim.app import RunningSimulator
from sim.media import render_png
from tests.bot.feishu.conftest import Bot, card_text, header
from tests.fakes.feishu import FakeFeishu, SentMessage

PNG = render_png("feishu-input", 32, 32)


async def finished_image(bot: Bot, text: str = "draw a red fox") -> SentMessage:
    event = bot.fake.events.group_text_mentioning_bot(text)
    await bot.deliver(event)
    final = await bot.final_card(event)
    assert header(final)["template"] == "green"
    return await bot.card_for(event)


def reply_to(bot: Bot, message_id: str, text: str) -> dict[str, Any]:
    reply = bot.fake.events.group_text_mentioning_bot(text)
    reply["event"]["message"]["parent_id"] = message_id
    reply["event"]["message"]["root_id"] = message_id
    return reply


@pytest.fixture
async def strict(fake: FakeFeishu, sim: RunningSimulator, tmp_path: Path) -> AsyncIterator[Bot]:
    running = Bot(fake, sim, "webhook", tmp_path / "bot.db", banned_words="forbidden")
    await running.start()
    yield running
    await running.stop()


async def test_follow_ups_take_the_same_checks_as_new_requests(strict: Bot) -> None:
    card = await finished_image(strict)
    banned = reply_to(strict, card.message_id, "make it forbidden")
    await strict.deliver(banned)
    refused = await strict.card_for(banned)
    assert "can't create that" in card_text(refused.json())
    huge = reply_to(strict, card.message_id, "bluer " * 6000)  # 36,000 characters
    await strict.deliver(huge)
    too_long = await strict.card_for(huge)
    assert "too long" in card_text(too_long.json())
    await strict.settle()
    assert len(strict.creates) == 1  # nothing reached IMA


async def test_a_reply_to_a_card_posted_anew_carries_on(hook: Bot) -> None:
    """The result card could not be patched, so the result came in a new card: replies to the
    new card still belong to the job."""
    event = hook.fake.events.group_text_mentioning_bot("draw a red fox")
    await hook.deliver(event)
    first = await hook.card_for(event)
    hook.fake.delete_message(first.message_id)  # every patch of it fails from now on
    await hook.fake.wait_until(
        lambda: any(
            m.msg_type == "interactive" and m is not first and "✅" in card_text(m.json())
            for m in hook.fake.messages
        ),
        "the result in a new card",
    )
    [posted] = [m for m in hook.fake.messages if m.msg_type == "interactive" and m is not first]
    await hook.settle()
    follow = reply_to(hook, posted.message_id, "make it bluer")
    await hook.deliver(follow)
    await hook.fake.wait_until(lambda: len(hook.creates) == 2, "the follow-up was created")
    assert (
        hook.creates[-1]["task_type"] == "image_to_video"
        or hook.creates[-1]["task_type"] == "image_to_image"
    )


async def test_a_picture_delivered_twice_is_used_once(bot: Bot) -> None:
    """Feishu may deliver the same message again under a new event id."""
    picture = bot.fake.make_image_message(PNG, chat_type="p2p")
    again = copy.deepcopy(picture)
    again["header"]["event_id"] = picture["header"]["event_id"] + "-again"
    await bot.deliver(picture)
    await bot.deliver(again)
    sender = bot.fake.events.default_user
    words = bot.fake.events.dm_text("make a video of this", sender=sender)
    await bot.deliver(words)
    await bot.fake.wait_until(lambda: len(bot.creates) == 1, "the video was created")
    [body] = bot.creates
    assert body["task_type"] == "image_to_video"  # one picture, not two references
    assert len(body["src_img_url"]) == 1
    saved = [m for m in bot.fake.messages if "Got your picture" in m.content]
    assert len(saved) == 1  # the redelivery was not answered again


async def test_a_message_arriving_while_the_bot_stops_is_not_acknowledged(
    fake: FakeFeishu, sim: RunningSimulator, tmp_path: Path
) -> None:
    """Over the long connection, Feishu is told "not now" and delivers it again later."""
    bot = Bot(fake, sim, "ws", tmp_path / "bot.db")
    await bot.start()
    try:
        bot.adapter.accepting = False  # stopping: the connection is not closed yet
        event = fake.events.group_text_mentioning_bot("draw a red fox")
        ack = await fake.push_event(event)
        assert ack.code != 200
        bot.adapter.accepting = True  # the next process (or this one) takes the redelivery
        again = await fake.push_event(event)
        assert again.code == 200
        final = await bot.final_card(event)
        assert header(final)["template"] == "green"
    finally:
        await bot.stop()
