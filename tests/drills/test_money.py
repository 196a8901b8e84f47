"""Drills on money: what IMA is asked to charge when prices change, answers get lost or an
operator cancels, and whether the daily caps hold meanwhile.

Each drill asserts two things: what the person saw, and what IMA charged (the simulator's
ledger), against what the bot counted (its usage ledger, which the caps are checked against).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

import core.store.sql
from core.actions import Verb, decode
from core.door import Platform
from core.i18n import Translator
from core.jobs import JobState
from core.limits import Window
from core.operations import Operations
from core.replier import Reply, Stage
from core.store.sql import CANCEL_CHECK
from sim.app import RunningSimulator, start_simulator
from sim.catalog import Catalog
from tests.core.harness import PNG, Harness, assert_plain, harness
from tests.recording import RecordingReplier

#: SeeDream 4.5, the default image model, costs 5 credits in the simulator's catalog; these
#: offsets make IMA ask 100 and 4 instead.
RAISED, LOWERED = 95, -1


def charged(sim: RunningSimulator) -> int:
    """Credits IMA took, all creates together."""
    return sum(entry.points for entry in sim.state.ledger)


async def counted(h: Harness, **who: str) -> int:
    """Credits the bot counts today, for one person or chat (``user_id=`` / ``chat_id=``)."""
    spent: int = await h.store.spent(Window.DAY.start(time.time()), "test", **who)
    return spent


def charged_by_user(sim: RunningSimulator) -> Counter[str]:
    """Credits IMA took per person (each drill's prompts start with the person's name)."""
    by_task = {task.id: task.prompt.split()[0] for task in sim.state.tasks.values()}
    totals: Counter[str] = Counter()
    for entry in sim.state.ledger:
        totals[by_task[entry.task_id]] += entry.points
    return totals


def retry_button(reply: Reply) -> str:
    [button] = [b for b in reply.buttons if (a := decode(b.action)) and a.verb is Verb.RETRY]
    return button.action


# ── the price rises while the bot's catalog still has the old one ────────────────────────


async def test_price_raised_under_a_warm_cache(tmp_path: Path) -> None:
    async with (
        await start_simulator(speed=0.001, seed=31) as sim,
        harness(sim, tmp_path / "bot.db", user_daily_credits=20) as h,
    ):
        await h.engine.warm_up()  # the bot knows the price: 5 credits
        sim.state.catalog = Catalog(points_offset=RAISED)  # IMA now asks 100
        replier = await h.say("u1 draw a lighthouse at dusk")

        [message] = replier.messages
        before, after = message.history[0], message.current
        assert "5 pts" in before.text
        assert after.stage is Stage.FAILURE
        assert "from 5 to 100 pts" in after.text
        assert_plain(after.text)
        assert len(h.creates) == 1  # sent once at the price shown, refused by IMA
        assert charged(sim) == 0
        assert await counted(h, user_id="u1") == 0

        # One tap to pay the new price: over this person's cap, so it is refused before IMA.
        pressed = RecordingReplier()
        await h.press(retry_button(after), replier=pressed)
        assert "limit of 20 credits" in pressed.last.text
        assert len(h.creates) == 1
        assert charged(sim) == 0
        assert await counted(h, user_id="u1") == 0


async def test_the_new_price_is_paid_only_after_a_tap(tmp_path: Path) -> None:
    async with (
        await start_simulator(speed=0.001, seed=32) as sim,
        harness(sim, tmp_path / "bot.db", user_daily_credits=500) as h,
    ):
        await h.engine.warm_up()
        sim.state.catalog = Catalog(points_offset=RAISED)
        first = await h.say("u1 draw a red kite")
        assert charged(sim) == 0

        pressed = RecordingReplier()
        await h.press(retry_button(first.messages[0].current), replier=pressed)
        [message] = pressed.messages
        assert "100 pts" in message.history[0].text  # told the new price before it is spent
        assert message.current.stage is Stage.SUCCESS
        assert charged(sim) == 100
        assert await counted(h, user_id="u1") == 100


async def test_a_lower_price_is_taken_without_asking(tmp_path: Path) -> None:
    async with (
        await start_simulator(speed=0.001, seed=33) as sim,
        harness(sim, tmp_path / "bot.db") as h,
    ):
        await h.engine.warm_up()
        sim.state.catalog = Catalog(points_offset=LOWERED)
        replier = await h.say("u1 draw a blue kite")
        assert replier.messages[0].current.stage is Stage.SUCCESS
        assert charged(sim) == 4
        assert await counted(h, user_id="u1") == 4


async def test_caps_hold_for_concurrent_requests_during_a_price_change(tmp_path: Path) -> None:
    users, each, user_cap, chat_cap = 8, 4, 15, 60
    async with (
        await start_simulator(speed=0.001, seed=34) as sim,
        harness(
            sim, tmp_path / "bot.db", user_daily_credits=user_cap, chat_daily_credits=chat_cap
        ) as h,
    ):
        await h.engine.warm_up()

        async def change_the_price() -> None:
            while len(sim.state.calls("create")) < 5:  # noqa: ASYNC110 - the simulator's log
                await asyncio.sleep(0.001)
            sim.state.catalog = Catalog(points_offset=RAISED)

        repliers = {f"u{i}-{k}": RecordingReplier() for i in range(users) for k in range(each)}
        changing = asyncio.create_task(change_the_price())
        await asyncio.gather(
            *(
                h.say(f"{name.split('-')[0]} draw a cat number {name}", user=name.split("-")[0],
                      replier=replier, wait=False)
                for name, replier in repliers.items()
            )
        )  # fmt: skip
        await h.engine.drain()
        await changing

        per_user = charged_by_user(sim)
        assert per_user, "some were made before the price changed"
        assert all(total <= user_cap for total in per_user.values()), per_user
        assert charged(sim) <= chat_cap
        assert charged(sim) == await counted(h, chat_id="chat")  # counted what was charged
        for i in range(users):
            assert await counted(h, user_id=f"u{i}") == per_user[f"u{i}"]
        finals = [r.messages[-1].current for r in repliers.values()]
        assert all(f.text.strip() for f in finals)  # everyone got an answer
        assert any("pts, so I stopped" in f.text for f in finals)  # the change was put to them
        assert any("limit of 15 credits" in f.text for f in finals)  # the caps were told


# ── the answer to a create is lost after IMA charged it ─────────────────────────────────


async def test_reply_lost_after_charge_keeps_the_credits_counted(tmp_path: Path) -> None:
    async with (
        await start_simulator(speed=0.001, seed=35) as sim,
        harness(sim, tmp_path / "bot.db", user_daily_credits=10) as h,
    ):
        sim.state.faults.rates = {"create": {"reset": 1.0}}  # made and charged, answer lost
        finals = []
        for i in range(5):
            replier = await h.say(f"u1 draw a fox number {i}")
            finals.append(replier.messages[-1].current)

        assert len(h.creates) == 2  # 5 + 5 reached the cap of 10; never sent twice
        assert charged(sim) == 10
        assert await counted(h, user_id="u1") == 10
        lost, refused = finals[:2], finals[2:]
        for reply in lost:
            assert reply.stage is Stage.FAILURE
            assert "may have been made" in reply.text
            assert "try again" not in reply.text.lower()  # never invited to resend
            assert not reply.buttons
            assert_plain(reply.text)
        assert all("limit of 10 credits" in r.text for r in refused)
        jobs = await h.store.recent_jobs("test", "u1")
        assert sorted(j.error_kind or "" for j in jobs) == ["unknown_outcome"] * 2


# ── an operator cancels a job that is still waiting for its create ───────────────────────


async def test_admin_cancel_before_create_is_never_created(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    uploading = asyncio.Event()
    may_go_on = asyncio.Event()

    async def slow_fetch(ref: Mapping[str, Any], max_bytes: int) -> bytes:
        uploading.set()
        await may_go_on.wait()
        return PNG

    async with (
        await start_simulator(speed=0.001, seed=36) as sim,
        harness(sim, db) as h,
    ):
        h.engine.register(Platform("test", h._rebuild, slow_fetch))
        replier = RecordingReplier()
        said = asyncio.create_task(h.say("u1 turn this into an oil painting", images=1,
                                         replier=replier, wait=False))  # fmt: skip
        await asyncio.wait_for(uploading.wait(), 10)
        await said
        [job] = await h.store.active_jobs()
        assert job.state is JobState.ACCEPTED

        code, out = await admin_cancel(db, job.id)
        assert code == 0
        assert f"cancelled {job.id}" in out
        may_go_on.set()
        await h.engine.drain()

        assert h.creates == []
        assert charged(sim) == 0
        assert await counted(h, user_id="u1") == 0  # never sent: given back
        assert "administrator stopped" in replier.messages[0].current.text
        stored = await h.store.get_job(job.id)
        assert stored is not None
        assert stored.state is JobState.CANCELLED


# ── an operator cancels a job that is running at IMA ─────────────────────────────────────

#: Slow enough for an operator's command to start while the job polls (a video times out
#: after 48 s), fast enough to poll every 0.16 s.
RUNNING_SCALE = 0.02


async def running_job(h: Harness) -> tuple[RecordingReplier, str]:
    replier = await h.say("u1 a video of a slow sunrise [[sim:timeout]]", wait=False)
    while not (jobs := await h.store.active_jobs()) or jobs[0].state is not JobState.RUNNING:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    return replier, jobs[0].id


async def assert_stopped_and_told(h: Harness, replier: RecordingReplier, job_id: str) -> None:
    assert "administrator stopped" in replier.messages[0].current.text
    stored = await h.store.get_job(job_id)
    assert stored is not None
    assert stored.state is JobState.CANCELLED
    assert len(h.creates) == 1
    assert await counted(h, user_id="u1") == charged(h.sim) > 0  # it was made: stays counted


async def test_admin_cancel_from_another_process_stops_a_running_job(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    async with (
        await start_simulator(speed=RUNNING_SCALE, seed=37) as sim,
        harness(sim, db, scale=RUNNING_SCALE) as h,
    ):
        replier, job_id = await running_job(h)
        code, _ = await admin_cancel(db, job_id)
        assert code == 0
        # Told by the store's look at what other processes cancelled, long before the
        # task would have timed out.
        await asyncio.wait_for(h.engine.drain(), CANCEL_CHECK + 10)
        await assert_stopped_and_told(h, replier, job_id)


async def test_console_cancel_is_told_to_the_running_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No look at the database would see it in time: only being told stops the job.
    monkeypatch.setattr(core.store.sql, "CANCEL_CHECK", 600.0)
    async with (
        await start_simulator(speed=RUNNING_SCALE, seed=38) as sim,
        harness(sim, tmp_path / "bot.db", scale=RUNNING_SCALE) as h,
    ):
        replier, job_id = await running_job(h)
        assert await Operations(h.store, Translator.load()).cancel(job_id, time.time())
        await asyncio.wait_for(h.engine.drain(), 10)
        await assert_stopped_and_told(h, replier, job_id)


async def admin_cancel(db: Path, job_id: str) -> tuple[int, str]:
    """``ima-bot admin cancel`` as an operator runs it: another process on the same database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IMA_", "DISCORD_", "FEISHU_"))}
    env["DATABASE_URL"] = str(db)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "admin", "cancel", job_id,
        cwd=db.parent, env=env, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode is not None
    return proc.returncode, out.decode()
