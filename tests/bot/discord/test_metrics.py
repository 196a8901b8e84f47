"""The Discord adapter's metrics: how fast interactions are acknowledged, Discord's 429s."""

from __future__ import annotations

from tests.bot.discord.world import World, finished
from tests.ops.samples import sample

CALLBACK = "/interactions/{interaction_id}/{interaction_token}/callback"
ORIGINAL = "/webhooks/{application_id}/{interaction_token}/messages/{message_id}"


async def test_acknowledgements_and_rate_limits_are_counted(world: World) -> None:
    acks = sample("ima_bot_ack_seconds_count", platform="discord")
    limited = sample("ima_bot_chat_rate_limited_total", platform="discord")
    world.fake.inject_rate_limit("POST", CALLBACK, retry_after=0.05)  # the deferral
    world.fake.inject_rate_limit("PATCH", ORIGINAL, retry_after=0.05)  # the first message
    interaction = await world.fake.send_slash_command("image", {"prompt": "a red kite"})
    await interaction.wait_for_original(finished, timeout=10)
    await world.settle()
    assert sample("ima_bot_ack_seconds_count", platform="discord") == acks + 1
    assert sample("ima_bot_chat_rate_limited_total", platform="discord") == limited + 2
