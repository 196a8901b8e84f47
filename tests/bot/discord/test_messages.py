"""Free text (DISCORD_MESSAGE_CONTENT): DMs and @mentions, answered with the bot token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sim.app import RunningSimulator
from tests.bot.discord.conftest import SCALE
from tests.bot.discord.world import PNG_MAGIC, World, finished, world_at
from tests.fakes.discord import FakeDiscord, StoredMessage, sync_client
from tests.recording import same_file


@pytest.fixture
async def chatty(fake: FakeDiscord, sim: RunningSimulator, tmp_path: Path) -> AsyncIterator[World]:
    async with world_at(fake, sim, tmp_path / "bot.db", scale=SCALE, message_content=True) as w:
        yield w


def from_bot(fake: FakeDiscord, channel_id: int) -> list[StoredMessage]:
    return [m for m in fake.channel_messages(channel_id) if m.author is fake.bot_user]


async def test_a_dm_is_a_request(chatty: World) -> None:
    fake = chatty.fake
    dm = fake.dm_channel(fake.default_user).id
    asked = await fake.send_message(dm, "draw a cat in a space suit")
    answer = await fake.wait_for_message(dm, lambda m: m.author is fake.bot_user and finished(m))
    assert answer.message_reference is not None
    assert int(answer.message_reference["message_id"]) == asked.id
    assert answer.history[0].content.startswith("🎨")
    assert answer.attachments[0].data.startswith(PNG_MAGIC)
    assert from_bot(fake, dm) == [answer]


async def test_a_mention_in_a_server_in_chinese(chatty: World) -> None:
    fake = chatty.fake
    channel = fake.default_channel.id
    await fake.send_message(channel, "画一只猫")  # not for the bot
    await fake.send_message(
        channel, f"{fake.bot_user.mention} 画一只戴墨镜的柴犬", mentions=[fake.bot_user]
    )
    answer = await fake.wait_for_message(
        channel, lambda m: m.author is fake.bot_user and finished(m)
    )
    assert answer.content.startswith("✅ 图片生成成功")
    assert from_bot(fake, channel) == [answer]
    [body] = chatty.creates
    assert "柴犬" in body["parameters"][0]["parameters"]["prompt"]


async def test_an_attached_file_that_is_no_picture(chatty: World) -> None:
    fake = chatty.fake
    dm = fake.dm_channel(fake.default_user).id
    await fake.send_message(
        dm, "make this a video", attachments=[("notes.txt", "text/plain", b"hello")]
    )
    answer = await fake.wait_for_message(dm, lambda m: m.author is fake.bot_user)
    assert answer.content.startswith("That file isn't an image")
    assert chatty.creates == []


async def test_free_text_is_off_unless_enabled(world: World) -> None:
    fake = world.fake
    dm = fake.dm_channel(fake.default_user).id
    await fake.send_message(dm, "draw a cat")
    await sync_client(fake, world.adapter.client)  # the message has been seen and let go
    assert from_bot(fake, dm) == []
    assert world.creates == []


async def test_a_reply_to_a_result_carries_on_from_it(chatty: World) -> None:
    fake = chatty.fake
    dm = fake.dm_channel(fake.default_user).id
    await fake.send_message(dm, "draw a red fox")
    image = await fake.wait_for_message(dm, lambda m: m.author is fake.bot_user and finished(m))
    await fake.send_message(dm, "make it animated, a video", reply_to=image)
    await fake.wait_for(lambda: len(chatty.creates) == 2, timeout=10, what="the follow-up")
    body = chatty.creates[-1]
    assert body["task_type"] == "image_to_video"
    [source] = body["src_img_url"]
    fox = (await chatty.jobs(fake.default_user.id))[-1]
    assert await same_file(source, fox.result_urls[0])


async def test_history_asked_in_a_server_is_answered_in_a_dm(chatty: World) -> None:
    """The person's prompts are theirs: asked for in a channel, the list goes to their DMs."""
    fake = chatty.fake
    channel = fake.default_channel.id
    made = await fake.send_slash_command("image", {"prompt": "a lighthouse at dawn"})
    await made.wait_for_original(finished)
    before = from_bot(fake, channel)
    await fake.send_message(
        channel, f"{fake.bot_user.mention} my history", mentions=[fake.bot_user]
    )
    listing = await fake.wait_for_dm(fake.default_user, lambda m: m.author is fake.bot_user)
    assert "a lighthouse at dawn" in listing.content
    await chatty.settle()
    assert from_bot(fake, channel) == before
