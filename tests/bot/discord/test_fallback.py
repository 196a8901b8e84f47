"""Jobs that outlive the 15-minute interaction token: the bot token delivers them."""

from __future__ import annotations

import time

from core.jobs import JobState
from tests.bot.discord.world import World, finished
from tests.fakes.discord import FakeInteraction, StoredMessage


async def video_started(world: World) -> tuple[FakeInteraction, StoredMessage]:
    interaction = await world.fake.send_slash_command(
        "video", {"prompt": "waves", "model": "Pixverse V5.5"}
    )
    original = await interaction.wait_for_original(lambda m: m.content.startswith("🎬"))
    return interaction, original


async def test_expired_token_result_goes_to_the_channel_mentioning_the_user(
    world: World,
) -> None:
    fake = world.fake
    interaction, original = await video_started(world)
    interaction.expire_token()  # Discord now answers 401 / 50027 to the token

    result = await fake.wait_for_message(fake.default_channel.id, lambda m: m.webhook_id is None)
    assert result.mentions == [fake.default_user]
    assert result.content.startswith(f"{fake.default_user.mention} ✅ Your video is ready!")
    assert result.attachments[0].content_type == "video/mp4"
    assert (await interaction.wait_for_error(50027)).status == 401
    assert not finished(original)  # left at its last step
    assert fake.channel_messages(fake.default_channel.id) == [original, result]  # no progress
    await world.settle()
    [job] = await world.jobs(fake.default_user.id)
    assert job.state is JobState.DELIVERED


async def test_past_fifteen_minutes_and_channel_gone_the_result_is_a_dm(world: World) -> None:
    fake = world.fake
    interaction, original = await video_started(world)
    world.adapter.courier.clock = lambda: time.time() + 16 * 60
    await fake.delete_channel(fake.default_channel.id)

    result = await fake.wait_for_dm(fake.default_user, finished)
    assert result.content.startswith("✅ Your video is ready!")
    assert result.attachments[0].content_type == "video/mp4"
    assert interaction.errors == []  # the dead token was not even tried
    assert not finished(original)


async def test_past_fifteen_minutes_a_private_question_is_a_dm(world: World) -> None:
    """The result goes to the channel; "make it your default?" is still for the person only."""
    fake = world.fake
    first = await fake.send_slash_command("video", {"prompt": "waves"})
    await first.wait_for_original(finished)  # Wan 2.6 becomes the default
    await world.settle()
    interaction, _ = await video_started(world)  # another model, named
    interaction.expire_token()

    question = await fake.wait_for_dm(fake.default_user, lambda m: "your default" in m.content)
    assert "Make Pixverse V5.5 your default?" in question.content
    result = await fake.wait_for_message(fake.default_channel.id, lambda m: m.webhook_id is None)
    assert result.content.startswith(f"{fake.default_user.mention} ✅ Your video is ready!")
    assert all("your default" not in m.content for m in fake.channel_messages(result.channel_id))
