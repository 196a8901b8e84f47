"""A restart while a job runs: the next process edits the same message, exactly once."""

from __future__ import annotations

from core.jobs import JobState
from tests.bot.discord.world import World, finished


async def test_job_running_at_shutdown_is_delivered_once_by_the_next_process(
    world: World,
) -> None:
    fake = world.fake
    interaction = await fake.send_slash_command(
        "video", {"prompt": "waves at night", "model": "Pixverse V5.5"}
    )
    # Progress is shown only once the IMA task id is committed: the job is running.
    await interaction.wait_for_original(lambda m: m.content.startswith("⏳"))
    first_client = world.adapter.client
    await world.restart()
    assert first_client.is_closed()
    assert world.adapter.client is not first_client

    message = await interaction.wait_for_original(finished)
    await world.engine.drain()
    assert [s.content[:1] for s in message.history].count("✅") == 1
    assert message.attachments[0].content_type == "video/mp4"
    assert len(world.creates) == 1
    shown = [m for m in fake.channel_messages(fake.default_channel.id) if not m.ephemeral]
    assert shown == [message]  # (only the person sees "make Pixverse V5.5 your default?")
    [job] = await world.jobs(fake.default_user.id)
    assert job.state is JobState.DELIVERED
    assert interaction.errors == []


async def test_stopped_adapter_is_not_healthy(world: World) -> None:
    assert world.adapter.healthy()
    await world.adapter.pause()
    assert not world.adapter.healthy()
