"""Seams that decided one fact in two places, through the real discord.py against the fake.

Each test failed before the restructure: a DM is a chat of its own, and a token Discord refused
is never used again.
"""

from __future__ import annotations

from pathlib import Path

from sim.app import RunningSimulator
from tests.bot.discord.conftest import SCALE
from tests.bot.discord.test_fallback import video_started
from tests.bot.discord.world import World, finished, world_at
from tests.fakes.discord import FakeDiscord


async def test_each_dm_has_its_own_chat_budget(
    fake: FakeDiscord, sim: RunningSimulator, tmp_path: Path
) -> None:
    """CHAT_DAILY_CREDITS is per server or per DM: one person's DMs don't use up another's."""
    async with world_at(fake, sim, tmp_path / "bot.db", scale=SCALE, chat_daily_credits=5) as w:
        for name in ("ana", "bo"):
            user = fake.add_user(name)
            interaction = await fake.send_slash_command(
                "image", {"prompt": "a cat"}, user=user, channel_id=fake.dm_channel(user).id
            )
            message = await interaction.wait_for_original(finished)
            assert message.content.startswith("✅"), message.content
        assert len(w.creates) == 2


async def test_a_refused_token_is_never_used_again(world: World) -> None:
    fake = world.fake
    interaction, _ = await video_started(world)
    interaction.expire_token()  # Discord now answers 401 / 50027 to the token
    await fake.wait_for_message(fake.default_channel.id, lambda m: m.webhook_id is None)
    await world.settle()
    refused = [e for e in interaction.errors if e.code == 50027]
    assert len(refused) == 1  # every later edit went with the bot token
