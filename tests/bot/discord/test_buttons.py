"""Buttons (retry with X, make it my default): only the requester may use them, also after a
restart."""

from __future__ import annotations

import discord
import pytest

from bot.discord.replier import ActionButton
from tests.bot.discord.world import World, finished
from tests.fakes.discord import StoredMessage
from tests.recording import same_file


async def failed_image(world: World, locale: str = "en-US") -> StoredMessage:
    world.sim.state.faults.push("create", "503")  # the model is unavailable, once
    interaction = await world.fake.send_slash_command(
        "image", {"prompt": "a red fox"}, locale=locale
    )
    message = await interaction.wait_for_original(finished)
    assert message.content.startswith("❌")
    return message


def button(message: StoredMessage, label: str) -> str:
    return next(
        str(c["custom_id"])
        for row in message.components
        for c in row["components"]
        if label in c.get("label", "")
    )


async def test_retry_with_another_model(world: World) -> None:
    message = await failed_image(world)
    assert "temporarily unavailable" in message.content
    labels = [c["label"] for row in message.components for c in row["components"]]
    assert labels == ["Retry with Nano Banana 2", "Retry with Nano Banana Pro", "Try again"]
    custom_id = button(message, "Nano Banana 2")
    assert custom_id.startswith("ima:r:")

    stranger = world.fake.add_user("stranger")
    refused = await world.fake.press_button(message, custom_id, user=stranger)
    assert await refused.wait_for_response() == 6
    [note] = await refused.wait_for_followups(1)
    assert note.ephemeral
    assert note.content == "Only the person who asked for this can use these buttons."
    assert world.created_models() == ["SeeDream 4.5"]

    press = await world.fake.press_button(message, custom_id)
    assert await press.wait_for_response() == 6
    result = await world.fake.wait_for_message(
        world.fake.default_channel.id, lambda m: m is not message and finished(m)
    )
    assert result.content.startswith("✅")
    assert result.attachments
    assert result.history[0].content.startswith("🎨")
    assert world.created_models() == ["SeeDream 4.5", "Nano Banana 2"]
    assert press.followups[0] is result


async def test_buttons_work_after_a_restart(world: World) -> None:
    message = await failed_image(world, locale="zh-CN")
    custom_id = button(message, "Nano Banana Pro")
    await world.settle()  # the failure is recorded
    await world.restart()
    press = await world.fake.press_button(message, custom_id, locale="zh-CN")
    result = await world.fake.wait_for_message(
        world.fake.default_channel.id, lambda m: m is not message and finished(m)
    )
    assert result.content.startswith("✅ 图片生成成功")
    assert world.created_models()[-1] == "Nano Banana Pro"
    assert press.errors == []


@pytest.mark.parametrize(
    "action",
    ["r:no-such-job", "s:no-such-job:0", "s:abc:-1", "show:abc:x", "v:abc:999", "retry:x:"],
)
async def test_unknown_or_crafted_buttons_say_so(world: World, action: str) -> None:
    view = discord.ui.View(timeout=None)
    view.add_item(ActionButton("Retry", action))
    channel = world.adapter.client.get_partial_messageable(world.fake.default_channel.id)
    sent = await channel.send("an old message", view=view)
    press = await world.fake.press_button(world.fake.message(sent.id), f"ima:{action}")
    [note] = await press.wait_for_followups(1)
    assert note.ephemeral
    assert note.content == "This button no longer works. Please send your request again."
    assert press.errors == []


async def test_make_a_named_model_the_default(world: World) -> None:
    fake = world.fake
    first = await fake.send_slash_command("image", {"prompt": "a cat"})
    await first.wait_for_original(finished)  # SeeDream 4.5 becomes the default
    await world.settle()
    second = await fake.send_slash_command("image", {"prompt": "a dog", "model": "Nano Banana Pro"})
    message = await second.wait_for_original(finished)
    assert len(message.attachments) == 1
    assert "your default" not in message.content  # the result is for everyone, not the question
    [question] = await second.wait_for_followups(1)
    assert question.ephemeral
    assert "Make Nano Banana Pro your default?" in question.content
    assert [a.message for a in second.public_answers] == [message]
    save = button(question, "make it my default")

    press = await fake.press_button(question, save)
    [answer] = await press.wait_for_followups(1)
    assert answer.ephemeral
    assert answer.content.startswith("✅ Got it! From now on I'll use Nano Banana Pro")
    assert press.public_answers == []


async def test_result_buttons_carry_on_from_the_picture(world: World) -> None:
    interaction = await world.fake.send_slash_command("image", {"prompt": "a red fox"})
    image = await interaction.wait_for_original(finished)
    press = await world.fake.press_button(image, button(image, "Animate"))
    assert await press.wait_for_response() == 6
    video = await world.fake.wait_for_message(
        world.fake.default_channel.id, lambda m: m is not image and finished(m)
    )
    assert video.content.startswith("✅ Your video is ready!")
    assert world.creates[-1]["task_type"] == "image_to_video"
    [source] = world.creates[-1]["src_img_url"]
    fox = (await world.jobs(world.fake.default_user.id))[-1]  # the oldest: the picture
    assert await same_file(source, fox.result_urls[0])  # uploaded again as the first frame


async def test_every_result_button_after_a_restart_and_only_for_its_owner(world: World) -> None:
    fake = world.fake
    first = await (
        await fake.send_slash_command("image", {"prompt": "a sunrise"})
    ).wait_for_original(finished)
    last = await (await fake.send_slash_command("image", {"prompt": "a sunset"})).wait_for_original(
        finished
    )
    await world.restart()  # the buttons of results from before a restart still work

    stranger = fake.add_user("stranger")
    refused = await fake.press_button(first, button(first, "Vary"), user=stranger)
    [note] = await refused.wait_for_followups(1)
    assert note.ephemeral
    assert note.content == world.engine.text("en", "action.not_yours")

    expected = {"Vary": "image_to_image", "Soundtrack": "text_to_music"}
    for label, task_type in expected.items():
        count = len(world.creates)
        await fake.press_button(first, button(first, label))
        await fake.wait_for(lambda: len(world.creates) > count, timeout=10, what=label)  # noqa: B023
        assert world.creates[-1]["task_type"] == task_type
    picked = await fake.press_button(first, button(first, "Frame"))
    [note] = await picked.wait_for_followups(1)
    assert "first frame" in note.content
    assert note.ephemeral  # a note for the presser, not for the channel
    await fake.press_button(last, button(last, "Frame"))
    await fake.wait_for(
        lambda: world.creates[-1]["task_type"] == "first_last_frame_to_video",
        timeout=10,
        what="a video between the two pictures",
    )
    assert len(world.creates[-1]["src_img_url"]) == 2
