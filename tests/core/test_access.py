"""The allowlists in effect: the settings' ids joined with those in the store, read through a
short cache that an edit on this replica clears and one elsewhere outlives by at most
``refresh`` seconds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.access import Access, AccessKind, Allowlists, Listed
from core.request import ChatRequest
from core.store import Store, open_store


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(str(tmp_path / "bot.db"))
    yield opened
    await opened.close()


def request(chat_id: str, user_id: str = "u1", places: tuple[str, ...] = ()) -> ChatRequest:
    return ChatRequest(
        "discord", user_id, chat_id, reply_target={}, text="hi", message_id="m", places=places
    )


async def test_settings_and_added_ids_are_joined(store: Store) -> None:
    clock = Clock()
    settings = {"discord": Access(frozenset({"10"}), frozenset({"99"}))}
    here = Allowlists(store, settings, refresh=5.0, clock=clock)
    elsewhere = Allowlists(store, settings, refresh=5.0, clock=clock)  # another replica
    assert await here.access("discord") == settings["discord"]
    assert not await elsewhere.add("discord", AccessKind.PLACE, "10")  # the settings' own
    assert await elsewhere.add("discord", AccessKind.PLACE, "20")
    assert await elsewhere.add("discord", AccessKind.ADMIN, "77")
    assert (await elsewhere.access("discord")).allowed_places == {"10", "20"}  # at once there

    assert (await here.access("discord")).allowed_places == {"10"}  # cached here…
    clock.now = 5.0
    joined = await here.access("discord")  # …for at most `refresh` seconds
    assert joined == Access(frozenset({"10", "20"}), frozenset({"99", "77"}))
    assert joined.allows(request("20"))
    assert joined.allows(request("guild", places=("20",)))
    assert not joined.allows(request("30"))
    assert joined.allows(request("30", user_id="77"))  # admins are answered anywhere
    assert await here.listing("discord", AccessKind.PLACE) == [
        Listed("10", from_settings=True),
        Listed("20", from_settings=False),
    ]
    assert not await here.remove("discord", AccessKind.PLACE, "10")  # only by the settings
    assert await here.remove("discord", AccessKind.PLACE, "20")
    assert (await here.access("discord")).allowed_places == {"10"}
    assert await here.access("feishu") == Access()  # a platform with nothing: everywhere
