"""Sharding (DISCORD_SHARD_COUNT / DISCORD_SHARD_IDS) and sends that happen once.

Two bots split two shards between them like two replicas would: each gets only its guilds'
events, DMs arrive on shard 0. A new message sent twice for one job step is one message.
"""

from __future__ import annotations

from pathlib import Path

import discord
import pytest

from bot.discord.config import DiscordSettings
from bot.discord.event import Target
from core.replier import Reply, Stage
from core.settings import SettingsError, load
from sim.app import RunningSimulator
from tests.bot.discord.conftest import SCALE
from tests.bot.discord.world import World, finished, world_at
from tests.fakes.discord import FakeDiscord, StoredMessage


@pytest.mark.parametrize(
    ("ids", "expected"), [("0-3", (0, 1, 2, 3)), ("0,2", (0, 2)), ("1-2,0", (1, 2, 0))]
)
def test_shard_ids_are_ranges_or_lists(
    monkeypatch: pytest.MonkeyPatch, ids: str, expected: tuple[int, ...]
) -> None:
    monkeypatch.setenv("DISCORD_SHARD_COUNT", "4")
    monkeypatch.setenv("DISCORD_SHARD_IDS", ids)
    assert load(DiscordSettings, _env_file=None).shard_ids == expected


@pytest.mark.parametrize(
    ("count", "ids", "problem"),
    [
        ("4", "4", "not below DISCORD_SHARD_COUNT=4"),
        ("4", "3-1", "runs backwards"),
        ("4", "0,x", "not a shard number"),
        ("4", "0,0-1", "listed twice"),
        (None, "0", "needs DISCORD_SHARD_COUNT"),
    ],
)
def test_bad_shard_settings_are_named(
    monkeypatch: pytest.MonkeyPatch, count: str | None, ids: str, problem: str
) -> None:
    if count is not None:
        monkeypatch.setenv("DISCORD_SHARD_COUNT", count)
    monkeypatch.setenv("DISCORD_SHARD_IDS", ids)
    with pytest.raises(SettingsError, match=f"DISCORD_SHARD_IDS: .*{problem}"):
        load(DiscordSettings, _env_file=None)


def _from_bot(fake: FakeDiscord, channel_id: int) -> list[StoredMessage]:
    return [m for m in fake.channel_messages(channel_id) if m.author is fake.bot_user]


async def test_two_replicas_split_the_shards(
    fake: FakeDiscord, sim: RunningSimulator, tmp_path: Path
) -> None:
    guild_a = await fake.add_guild("on shard 0", shard=(0, 2))
    guild_b = await fake.add_guild("on shard 1", shard=(1, 2))
    channel_a = await fake.add_text_channel(guild_a, "general")
    channel_b = await fake.add_text_channel(guild_b, "general")
    dm = fake.dm_channel(fake.default_user).id
    shared = {"message_content": True, "shard_count": 2}
    async with (
        world_at(fake, sim, tmp_path / "a.db", scale=SCALE, shard_ids=(0,), **shared) as zero,
        world_at(fake, sim, tmp_path / "b.db", scale=SCALE, shard_ids=(1,), **shared) as one,
    ):
        assert isinstance(zero.adapter.client, discord.AutoShardedClient)
        assert sorted(s.shard for s in fake.sessions if s.shard) == [(0, 2), (1, 2)]
        assert {g.id for g in zero.adapter.client.guilds} >= {guild_a.id}
        assert guild_b.id not in {g.id for g in zero.adapter.client.guilds}
        assert guild_a.id not in {g.id for g in one.adapter.client.guilds}
        mention = fake.bot_user.mention
        for channel in (channel_a.id, channel_b.id):
            await fake.send_message(channel, f"{mention} draw a cat", mentions=[fake.bot_user])
        await fake.send_message(dm, "draw a dog")
        for channel in (channel_a.id, channel_b.id, dm):
            await fake.wait_for_message(
                channel, lambda m: m.author is fake.bot_user and finished(m)
            )
            assert len(_from_bot(fake, channel)) == 1
        user = fake.default_user.id
        assert len(await zero.jobs(user)) == 2  # guild A and the DM
        assert len(await one.jobs(user)) == 1  # guild B
        assert len(zero.creates) == 3  # one simulator: every request made one task


async def test_a_step_sent_twice_is_one_message(world: World) -> None:
    """What a second replica taking a job over does when the first had already posted: the
    same nonce, so Discord answers with the message that exists."""
    fake = world.fake
    where = Target(
        user_id=fake.default_user.id,
        locale="en",
        file_limit=10 * 1024 * 1024,
        channel_id=fake.default_channel.id,
    )
    reply = Reply(Stage.SUCCESS, "done", key="job42:success", user_id=str(fake.default_user.id))
    first = await world.adapter.courier.create(where, reply)
    again = await world.adapter.courier.create(where, reply)
    assert first.message_id == again.message_id
    assert len(_from_bot(fake, fake.default_channel.id)) == 1
    other = await world.adapter.courier.create(where, Reply(Stage.SUCCESS, "done", key="job43:x"))
    assert other.message_id != first.message_id
    dm_reply = Reply(Stage.SUCCESS, "hi", key="job44:success", user_id=str(fake.default_user.id))
    in_dm = Target(user_id=fake.default_user.id, locale="en", file_limit=10 * 1024 * 1024)
    assert (await world.adapter.courier.create(in_dm, dm_reply)).message_id == (
        await world.adapter.courier.create(in_dm, dm_reply)
    ).message_id
    assert len(fake.dm_messages(fake.default_user)) == 1
