"""Slash commands end to end: deferred at once, four steps in one message, results attached."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from core.ima.upload import MAX_IMAGE_BYTES
from sim.media import render_png
from tests.bot.discord.world import PNG_MAGIC, World, finished
from tests.fakes.discord import StoredMessage

PNG = render_png("input", 16, 16)
LOADING = 1 << 7


def steps(message: StoredMessage) -> list[str]:
    """The first line of every state the message went through."""
    return [state.content.split("\n")[0] for state in message.history]


async def test_image_four_steps_in_one_message_with_the_png_attached(world: World) -> None:
    fake = world.fake
    interaction = await fake.send_slash_command(
        "image", {"prompt": "a lighthouse at dawn", "model": "Midjourney"}
    )
    assert await interaction.wait_for_response() == 5  # deferred: "thinking…"
    message = await interaction.wait_for_original(finished)

    assert message.history[0].flags & LOADING
    shown = steps(message)
    assert shown[1].startswith("🎨")
    assert any(s.startswith("⏳") for s in shown[2:-1])
    assert shown[-1] == "✅ Your image is ready!"
    assert "Midjourney" in message.content
    [attachment] = message.attachments
    assert attachment.content_type == "image/png"
    assert attachment.data.startswith(PNG_MAGIC)
    assert message.embeds == [
        {"image": {"url": f"attachment://{attachment.filename}"}, "flags": 0, "type": "rich"}
    ]
    labels = [c["label"] for row in message.components for c in row["components"]]
    assert labels == ["🔁 Vary", "🎬 Animate", "🖼 Frame", "🎵 Soundtrack"]  # what to do next
    assert fake.channel_messages(fake.default_channel.id) == [message]
    assert interaction.errors == []
    assert world.created_models() == ["Midjourney"]


async def test_several_images_all_delivered(world: World) -> None:
    interaction = await world.fake.send_slash_command("image", {"prompt": "a fox", "count": 2})
    message = await interaction.wait_for_original(finished)
    assert len(message.attachments) == 2
    assert len(message.embeds) == 2
    assert all(a.data.startswith(PNG_MAGIC) for a in message.attachments)
    assert world.creates[0]["parameters"][0]["parameters"]["n"] == 2


async def test_video_from_a_picture(world: World) -> None:
    interaction = await world.fake.send_slash_command(
        "video",
        {"prompt": "make it move", "model": "Pixverse V5.5"},
        attachments=[("cat.png", "image/png", PNG)],
    )
    message = await interaction.wait_for_original(finished)
    [body] = world.creates
    assert body["task_type"] == "image_to_video"
    [source] = body["src_img_url"]
    assert source.startswith(world.sim.base_url)  # uploaded to IMA, not Discord's URL
    [video] = message.attachments
    assert video.content_type == "video/mp4"
    assert video.filename.endswith(".mp4")
    assert message.content.startswith("✅ Your video is ready!")


async def test_video_from_a_first_and_a_last_frame(world: World) -> None:
    interaction = await world.fake.send_slash_command(
        "video",
        {"prompt": "day to night", "model": "Pixverse V5.5"},
        attachments=[("day.png", "image/png", PNG), ("night.png", "image/png", PNG)],
    )
    await interaction.wait_for_original(finished)
    [body] = world.creates
    assert body["task_type"] == "first_last_frame_to_video"
    assert len(body["src_img_url"]) == 2


async def test_music_attached(world: World) -> None:
    interaction = await world.fake.send_slash_command(
        "music", {"prompt": "a lo-fi song about rain", "instrumental": True}
    )
    message = await interaction.wait_for_original(finished)
    [song] = message.attachments
    assert song.content_type == "audio/mpeg"
    assert world.creates[0]["task_type"] == "text_to_music"


async def test_results_too_big_to_attach_are_linked(world: World) -> None:
    world.fake.attachment_size_limit = 1000  # this server's limit, told with each interaction
    interaction = await world.fake.send_slash_command(
        "video", {"prompt": "waves", "model": "Pixverse V5.5"}
    )
    message = await interaction.wait_for_original(finished)
    assert message.attachments == []
    buttons = [c for row in message.components for c in row["components"]]
    [link] = [b for b in buttons if b["style"] == 5]
    assert (link["style"], link["label"]) == (5, "Open the video")
    assert [b["label"] for b in buttons if b["style"] != 5] == ["🎵 Soundtrack"]
    assert link["url"].startswith(world.sim.base_url)
    assert message.embeds[0]["image"]["url"].startswith(world.sim.base_url)  # the cover


async def test_result_links_too_long_for_a_button_are_put_in_an_embed(world: World) -> None:
    """Discord refuses a whole message whose link button has a url over 512 characters."""
    far = "http://127.0.0.1:9/" + "long-path/" * 60  # nothing listens: the result can't be attached
    world.sim.state.base_url = far  # where the simulator says its results are, from now on
    interaction = await world.fake.send_slash_command("video", {"prompt": "waves"})
    message = await interaction.wait_for_original(finished)
    assert message.content.startswith("✅")
    buttons = [c for row in message.components for c in row["components"]]
    assert [b for b in buttons if b["style"] == 5] == []
    [embed] = message.embeds
    assert f"]({far}/results/" in embed["description"]
    assert interaction.errors == []


async def test_chinese_replies_for_a_chinese_client(world: World) -> None:
    interaction = await world.fake.send_slash_command(
        "image", {"prompt": "a lighthouse"}, locale="zh-CN"
    )
    message = await interaction.wait_for_original(finished)
    assert steps(message)[1].startswith("🎨 开始生成图片")
    assert message.content.startswith("✅ 图片生成成功")


@pytest.mark.parametrize(
    ("upload", "expected"),
    [
        (("notes.txt", "text/plain", b"hello"), "That file isn't an image"),
        (("big.png", "image/png", PNG + bytes(MAX_IMAGE_BYTES)), "That image is too large"),
    ],
)
async def test_unusable_attachments_are_refused_privately(
    world: World, upload: tuple[str, str, bytes], expected: str
) -> None:
    interaction = await world.fake.send_slash_command(
        "image", {"prompt": "like this"}, attachments=[upload]
    )
    assert await interaction.wait_for_response() == 4
    reply = await interaction.wait_for_original()
    assert reply.ephemeral
    assert reply.content.startswith(expected)
    assert world.creates == []


async def test_a_last_frame_alone_is_refused_in_chinese(world: World) -> None:
    interaction = await world.fake.send_slash_command(
        "video", {"prompt": "x", "last_frame": ("end.png", "image/png", PNG)}, locale="zh-CN"
    )
    reply = await interaction.wait_for_original()
    assert reply.ephemeral
    assert "两张" in reply.content
    assert world.creates == []


async def test_edits_are_spaced_and_the_last_one_always_arrives(world: World) -> None:
    world.adapter.courier.edit_interval = 0.2
    interaction = await world.fake.send_slash_command(
        "video", {"prompt": "waves", "model": "Pixverse V5.5"}
    )
    message = await interaction.wait_for_original(finished)
    times = [s.edited_at for s in message.history[1:]]
    assert len(times) >= 3  # the first reply, some progress, the result
    gaps = [b - a for a, b in itertools.pairwise(times) if a and b]
    assert min(gaps) >= timedelta(seconds=0.15)


async def test_requests_during_shutdown_get_a_note(world: World) -> None:
    world.adapter.accepting = False
    interaction = await world.fake.send_slash_command("image", {"prompt": "a cat"})
    reply = await interaction.wait_for_original()
    assert reply.ephemeral
    assert "restarting" in reply.content
    assert world.creates == []
