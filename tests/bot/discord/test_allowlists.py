"""Allowlists edited while the bot runs, followed on the next request through the real
Discord adapter: an edit on another replica (its own store on the same database) within
:data:`core.access.REFRESH_SECONDS`, one on this replica at once."""

from __future__ import annotations

import asyncio

import pytest

from core import access
from core.access import AccessKind, Allowlists
from core.i18n import Translator
from core.store import open_store
from tests.bot.discord.world import World, finished

NOT_HERE = Translator.load().t("en", "access.not_allowed")


async def test_the_bot_follows_allowlist_edits_on_the_next_request(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(access, "REFRESH_SECONDS", 0.2)
    fake = world.fake
    general = fake.default_channel
    other = await fake.add_text_channel(fake.default_guild, "random")
    made = await fake.send_slash_command("image", {"prompt": "a cat"}, channel_id=other.id)
    await made.wait_for_original(finished, timeout=20)  # no list yet: everywhere

    replica = await open_store(str(world.db))
    try:
        assert await Allowlists(replica).add("discord", AccessKind.PLACE, str(general.id))
        await asyncio.sleep(0.3)
        creates = len(world.creates)
        refused = await fake.send_slash_command("image", {"prompt": "a dog"}, channel_id=other.id)
        await refused.wait_for_original(lambda m: NOT_HERE in m.content, timeout=10)
        answered = await fake.send_slash_command(
            "image", {"prompt": "a dog"}, channel_id=general.id
        )
        await answered.wait_for_original(finished, timeout=20)
        assert len(world.creates) == creates + 1  # only the allowed channel's

        # An admin is answered anywhere; added on this replica, it holds at once.
        person = str(fake.default_user.id)
        assert await world.engine.allowlists.add("discord", AccessKind.ADMIN, person)
        anywhere = await fake.send_slash_command("image", {"prompt": "a bird"}, channel_id=other.id)
        await anywhere.wait_for_original(finished, timeout=20)

        assert await Allowlists(replica).remove("discord", AccessKind.PLACE, str(general.id))
        assert await Allowlists(replica).remove("discord", AccessKind.ADMIN, person)
        await asyncio.sleep(0.3)
        again = await fake.send_slash_command("image", {"prompt": "a fish"}, channel_id=other.id)
        await again.wait_for_original(finished, timeout=20)  # everywhere again
    finally:
        await replica.close()
