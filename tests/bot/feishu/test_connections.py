"""Several bot processes, each holding a long connection of the same app, on one database.

Feishu sends each event to one of an app's long connections at random and may send it again
(to another one) when the first ack is late. lark-oapi keeps its long connection in module
globals, so one process holds one connection: the replicas here are real ``ima-bot run``
processes. The store's dedupe, shared through the database, makes each message run once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sim.app import RunningSimulator, start_simulator
from tests.drills.process import BotProcess, replicas
from tests.fakes.feishu import FakeFeishu

SCALE = 0.02
REPLICAS = 2


@pytest.fixture
async def sim() -> AsyncIterator[RunningSimulator]:
    async with await start_simulator(speed=SCALE, seed=7) as running:
        yield running


async def delivered(bot: BotProcess, count: int) -> None:
    """Until ``count`` jobs are delivered in the shared database (other processes write it:
    nothing to wait on but the database itself)."""
    async with asyncio.timeout(30):
        while bot.states().get("delivered", 0) < count:  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def test_a_message_delivered_to_two_connections_runs_once(
    sim: RunningSimulator, tmp_path: Path
) -> None:
    async with (
        FakeFeishu() as fake,
        replicas(
            REPLICAS, tmp_path, sim, SCALE, feishu=fake, DATABASE_URL=str(tmp_path / "shared.db")
        ) as bots,
    ):
        event = fake.events.dm_text("draw a red fox in the snow")
        message_id = fake.events.message_id(event)
        first, second = fake.ws.open_numbers()[:2]
        acks = await asyncio.gather(
            fake.push_event(event, connection=first), fake.push_event(event, connection=second)
        )
        assert {ack.connection for ack in acks} == {first, second}
        card = await fake.wait_for_message(
            lambda m: m.reply_to == message_id and m.msg_type == "interactive"
        )
        await fake.wait_until(lambda: card.json()["header"]["template"] == "green", "success")
        await delivered(bots[0], 1)
        await asyncio.sleep(0.5)  # time for a second answer, if one were coming
        assert [m for m in fake.messages if m.reply_to == message_id] == [card]
        assert len(sim.state.calls("create")) == 1
        assert bots[0].states() == {"delivered": 1}


async def test_events_spread_over_the_connections_each_run_once(
    sim: RunningSimulator, tmp_path: Path
) -> None:
    """Feishu's random pick: every replica gets some of the messages, each is answered once."""
    async with (
        FakeFeishu(ws_seed=3) as fake,
        replicas(
            REPLICAS, tmp_path, sim, SCALE, feishu=fake, DATABASE_URL=str(tmp_path / "shared.db")
        ) as bots,
    ):
        people = [fake.events.new_user(f"person {n}") for n in range(6)]
        events = [fake.events.dm_text("draw a cat", sender=person) for person in people]
        acks = await asyncio.gather(*(fake.push_event(e) for e in events))
        assert len({ack.connection for ack in acks}) == REPLICAS
        ids = {fake.events.message_id(e) for e in events}
        await delivered(bots[0], len(events))
        cards = [m for m in fake.messages if m.reply_to in ids and m.msg_type == "interactive"]
        assert sorted(str(m.reply_to) for m in cards) == sorted(ids)
        assert len(sim.state.calls("create")) == len(events)
