"""Drills: ``ima-bot run`` stopped or killed at the worst moments, then started again.

The bot runs as a real process on Discord (and Feishu, where the drill is about both); the
fakes and the simulator stay up in the test process across the restart, so everything a person
saw and everything IMA was asked to make is counted over both processes. The first drill, the
moment a start itself answers what the last run left, runs in this process.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from core.replier import Stage
from sim.app import start_simulator
from tests.bot.discord.world import finished
from tests.bot.feishu.conftest import card_text, header
from tests.core.harness import harness
from tests.drills.deployment import (
    Deployment,
    deployment,
    discord_answer,
    discord_messages,
    final_card,
    finished_in,
)
from tests.fakes.discord import FakeInteraction

#: Requests per platform.
N = 6


async def slash_commands(d: Deployment, prompt: Callable[[str], str]) -> list[FakeInteraction]:
    """``N`` ``/image`` commands from as many people at once; returns once all are deferred."""
    people = [d.discord.add_user(f"d{i}") for i in range(N)]
    interactions = await asyncio.gather(
        *(
            d.discord.send_slash_command("image", {"prompt": prompt(f"d{i}")}, user=person)
            for i, person in enumerate(people)
        )
    )
    assert await asyncio.gather(*(i.wait_for_response() for i in interactions)) == [5] * N
    return list(interactions)


async def feishu_messages(d: Deployment, prompt: Callable[[str], str]) -> list[dict[str, Any]]:
    """``N`` direct messages from as many people at once; returns once Feishu was told each
    arrived (the webhook's 200, the long connection's ack)."""
    events = [
        d.feishu.events.dm_text(f"draw {prompt(f'f{i}')}", sender=d.feishu.events.new_user(f"f{i}"))
        for i in range(N)
    ]
    assert await asyncio.gather(*(d.deliver(e) for e in events)) == [200] * N
    return events


# ── a request arriving while a start answers what the last run left ────────────────────


async def test_a_request_arriving_during_the_resume_is_answered_once(tmp_path: Path) -> None:
    async with (
        await start_simulator(speed=0.001, seed=21, slow_seconds=0.3) as sim,
        harness(sim, tmp_path / "bot.db") as h,
    ):
        sim.state.faults.push("product_list", "slow", times=7)  # its answer waits on IMA
        live = asyncio.create_task(h.say("draw a lighthouse", wait=False))
        # Stored, unanswered (claimed by the replica that answers it: this one).
        while not await h.store.claim_requests(0, time.time(), previous_life=True):  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        await h.engine.resume()  # as a start does once its adapters take messages
        replier = await live
        await h.engine.drain()
        assert len(h.creates) == 1
        assert [m.current.stage for m in replier.messages] == [Stage.SUCCESS]
        assert all(not r.messages for r in h.rebuilt.values())  # not answered a second time


# ── stopped right after acknowledging requests ───────────────────────────────────────────


@pytest.mark.parametrize(
    ("how", "feishu_mode"),
    [(signal.SIGTERM, "webhook"), (signal.SIGKILL, "ws")],
    ids=["sigterm-webhook", "kill9-ws"],
)
async def test_stopped_right_after_acknowledging(
    tmp_path: Path, how: signal.Signals, feishu_mode: str
) -> None:
    # A cap of one picture a day each: nothing a restart does may charge anyone a second one.
    async with deployment(tmp_path, feishu_mode=feishu_mode, USER_DAILY_CREDITS="5") as d:
        interactions, events = await asyncio.gather(
            slash_commands(d, lambda who: f"a red kite for {who}"),
            feishu_messages(d, lambda who: f"a red kite for {who}"),
        )
        code = await d.bot.stop(how)
        assert code == (0 if how is signal.SIGTERM else -signal.SIGKILL)
        await d.start()

        originals = [await discord_answer(d, i) for i in interactions]
        cards = [await final_card(d, e) for e in events]
        await d.settled()

        # Every request answered, none twice, nobody left on "thinking…".
        assert all(not m.loading for i in interactions for m in discord_messages(i))
        assert sorted(m.id for m in finished_in(d)) == sorted(m.id for m in originals)
        if how is signal.SIGTERM:  # and in the one message the person already has
            assert all(discord_messages(i) == [i.original] for i in interactions)
            assert all(len(d.cards_for(e)) == 1 for e in events)
        prompts = Counter(d.creates)
        assert set(prompts.values()) == {1}  # nothing created twice
        assert set(d.charged_by_person().values()) <= {5}  # within the cap
        assert d.charged() <= d.bot.counted()  # whatever IMA charged is counted
        succeeded = [m for m in originals if m.content.startswith("✅")]
        green = [c for c in cards if header(c.json())["template"] == "green"]
        if how is signal.SIGTERM:  # creates in flight were answered before the exit
            assert len(succeeded) == len(green) == N
            assert len(prompts) == 2 * N
            assert d.charged() == d.bot.counted() == 2 * N * 5
        for message in [m for m in originals if m not in succeeded]:
            assert "may have been made" in message.content
        for card in [c for c in cards if c not in green]:
            assert "may have been made" in card_text(card.json())
        assert d.bot.states() == {"delivered": len(succeeded) + len(green)} | (
            {"failed": 2 * N - len(succeeded) - len(green)}
            if len(succeeded) + len(green) < 2 * N
            else {}
        )


# ── killed while creates are on their way to IMA ─────────────────────────────────────────


async def test_kill9_with_creates_in_flight(tmp_path: Path) -> None:
    # Every create is answered a second after IMA took it: the kill lands in between.
    async with deployment(
        tmp_path, with_feishu=False, sim_options={"slow_seconds": 1.0}, USER_DAILY_CREDITS="5"
    ) as d:
        d.sim.state.faults.rates = {"create": {"slow": 1.0}}
        interactions = await slash_commands(d, lambda who: f"a paper boat for {who}")
        for _ in range(200):
            if d.bot.states().get("creating", 0) == N:
                break
            await asyncio.sleep(0.02)
        assert d.bot.states() == {"creating": N}
        await d.bot.kill()
        await asyncio.sleep(1.5)  # IMA finishes the creates the dead process sent
        assert len(d.sim.state.tasks) == N  # made and charged, their answers lost
        d.sim.state.faults.clear()
        await d.start()

        originals = [await i.wait_for_original(finished, timeout=30) for i in interactions]
        await d.settled()
        for message in originals:  # told plainly, never invited to send it again
            assert message.content.startswith("❌")
            assert "may have been made" in message.content
            assert not message.components  # no button to make it again
        assert len(d.creates) == N  # never sent again
        assert d.charged() == d.bot.counted() == N * 5  # kept counted
        assert set(d.charged_by_person().values()) == {5}  # within the cap
        assert d.bot.states() == {"failed": N}


# ── killed at the moment a result is shown ───────────────────────────────────────────────


async def test_kill9_while_showing_a_result_never_pings_twice(tmp_path: Path) -> None:
    # The result file is served slowly, so the job is seen in "delivering" before it shows.
    async with deployment(tmp_path, with_feishu=False, sim_options={"slow_seconds": 1.0}) as d:
        fake = d.discord
        # Their usual model, named again: showing the result writes nothing before it is shown.
        d.bot.query(
            "INSERT INTO preferences VALUES ('discord', ?, 'text_to_image', "
            "'doubao-seedream-4.5', 'doubao-seedream-4-5-251128', 'SeeDream 4.5', 5, 0, 1)",
            str(fake.default_user.id),
        )
        d.sim.state.faults.rates = {"media": {"slow": 1.0}}
        interaction = await fake.send_slash_command(
            "image", {"prompt": "a glass whale", "model": "SeeDream 4.5"}
        )
        await interaction.wait_for_original(lambda m: m.content.startswith("🎨"), timeout=10)
        interaction.expire_token()  # past Discord's window: the result comes as a new message

        for _ in range(500):
            if d.bot.states().get("delivering"):
                break
            await asyncio.sleep(0.005)
        # The bot can't write while the test holds the database: the result is shown, but
        # that it was shown is never recorded before the kill.
        with closing(sqlite3.connect(d.bot.db, timeout=10, isolation_level=None)) as lock:
            lock.execute("BEGIN IMMEDIATE")
            pinged = await fake.wait_for_message(
                fake.default_channel.id, lambda m: m.webhook_id is None, timeout=10
            )
            await d.bot.kill()
            lock.execute("ROLLBACK")
        assert pinged.mentions == [fake.default_user]
        assert pinged.content.startswith(f"{fake.default_user.mention} ✅")
        assert d.bot.states() == {"delivering": 1}

        d.sim.state.faults.clear()
        await d.start()
        await d.settled()
        channel = fake.channel_messages(fake.default_channel.id)
        assert [m for m in channel if m.mentions] == [pinged]  # pinged once
        assert len(d.creates) == 1
        assert d.charged() == d.bot.counted() == 5
        assert d.bot.states() == {"delivered": 1}
