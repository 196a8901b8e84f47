"""The queue: requests beyond a limit of jobs at once wait their turn, visibly, and can leave."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from core.actions import Verb, encode
from core.door import Access, ActionResult, Press
from core.jobs import JobState
from core.replier import Stage
from sim.app import RunningSimulator, start_simulator
from tests.core.harness import Harness, action, assert_plain
from tests.recording import RecordingReplier
from tests.wiring import bot_on

#: Slow enough that twenty requests are all in before the first three are made.
SCALE = 0.02
PLACE = re.compile(r"Place in the queue: (\d+)")


class Clock:
    """The simulator's clock, stopped until :meth:`resume`: its tasks wait until then."""

    def __init__(self) -> None:
        self._stopped_at: float | None = time.time()
        self._lost = 0.0

    def __call__(self) -> float:
        return self._stopped_at if self._stopped_at is not None else time.time() - self._lost

    def resume(self) -> None:
        if self._stopped_at is not None:
            self._lost, self._stopped_at = time.time() - self._stopped_at, None


@contextlib.asynccontextmanager
async def harness(
    sim: RunningSimulator, db: Path, *, access: Access | None = None, **settings: Any
) -> AsyncIterator[Harness]:
    async with bot_on(sim, db, scale=SCALE, **settings) as bot:
        h = Harness(sim, bot, db)
        h.register(access)
        yield h
        await bot.engine.shutdown()


def place(replier: RecordingReplier) -> int | None:
    """The place the first message of ``replier`` showed first (None: it never waited)."""
    for reply in replier.messages[0].history if replier.messages else ():
        if found := PLACE.search(reply.text):
            return int(found.group(1))
    return None


async def press(h: Harness, action: str, user: str = "u1") -> ActionResult:
    """Press a button without waiting for the jobs (``Harness.press`` drains them)."""
    result: ActionResult = await h.engine.press(
        Press("test", user, "chat", action), RecordingReplier()
    )
    return result


async def send_all(h: Harness, count: int, *, user: str = "u1") -> list[RecordingReplier]:
    repliers = []
    for i in range(count):
        repliers.append(await h.say(f"draw cat number {i}", user=user, wait=False))
    return repliers


async def test_twenty_requests_with_a_limit_of_three_wait_their_turn(tmp_path: Path) -> None:
    clock = Clock()
    async with (
        await start_simulator(speed=SCALE, seed=3, clock=clock) as sim,
        harness(sim, tmp_path / "db", max_jobs_per_user=3) as h,
    ):
        repliers = await send_all(h, 20)
        counts = await h.store.active_counts("test", "u1")
        assert counts.get(JobState.QUEUED) == 17
        clock.resume()
        await h.engine.drain()
        assert [place(r) for r in repliers] == [None] * 3 + list(range(1, 18))
        assert sim.state.peak_open <= 3
        assert len(sim.state.calls("create")) == 20
        for replier in repliers:
            [message] = replier.messages  # one message, edited from waiting to the picture
            assert message.stages[-1] is Stage.SUCCESS
            assert len(message.current.media) == 1
            for reply in message.history:
                assert_plain(reply.text)
        first_waiting = repliers[3].messages[0].history[0]
        assert "should start" in first_waiting.text
        assert action(first_waiting, Verb.UNQUEUE)


async def test_places_move_up_as_jobs_finish(tmp_path: Path) -> None:
    async with (
        await start_simulator(speed=SCALE, seed=4) as sim,
        harness(sim, tmp_path / "db", max_jobs_per_user=1) as h,
    ):
        repliers = await send_all(h, 4)
        await h.engine.drain()
        last = [PLACE.search(r.text) for r in repliers[3].messages[0].history]
        shown = [int(m.group(1)) for m in last if m]
        assert shown[0] == 3
        assert shown == sorted(shown, reverse=True)
        assert 1 in shown  # edited as it moved up
        assert sim.state.peak_open == 1


async def test_the_owner_cancels_a_waiting_job_and_gets_its_credits_back(tmp_path: Path) -> None:
    clock = Clock()
    async with (
        await start_simulator(speed=SCALE, seed=5, clock=clock) as sim,
        harness(
            sim, tmp_path / "db", max_jobs_per_user=1, access=Access(admins=frozenset({"boss"}))
        ) as h,
    ):
        first, second, third = await send_all(h, 3)
        while place(second) is None or place(third) is None:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        leave = encode(action(second.messages[0].history[0], Verb.UNQUEUE))
        result = await press(h, leave, user="someone-else")
        assert result is ActionResult.NOT_YOURS
        result = await press(h, leave)
        assert result is ActionResult.DONE
        assert "Cancelled" in second.last.text
        assert "given back" in second.last.text
        leave_third = encode(action(third.messages[0].history[0], Verb.UNQUEUE))
        result = await press(h, leave_third, user="boss")  # an admin may too
        assert result is ActionResult.DONE
        clock.resume()
        await h.engine.drain()
        assert first.last.stage is Stage.SUCCESS
        assert len(sim.state.calls("create")) == 1
        assert sum(r.credits for r in await h.store.usage("1970-01-01")) == 5
        result = await press(h, leave)  # gone already
        assert result is ActionResult.UNKNOWN


async def test_everyones_limit_is_never_exceeded(tmp_path: Path) -> None:
    async with (
        await start_simulator(speed=SCALE, seed=6) as sim,
        harness(sim, tmp_path / "db", max_jobs_per_user=3, max_running_jobs=2) as h,
    ):
        repliers = [r for user in ("a", "b", "c") for r in await send_all(h, 3, user=user)]
        await h.engine.drain()
        assert sim.state.peak_open == 2
        assert len(sim.state.calls("create")) == 9
        assert all(r.last.stage is Stage.SUCCESS for r in repliers)


async def test_usage_tells_what_waits_and_what_runs(tmp_path: Path) -> None:
    clock = Clock()
    async with (
        await start_simulator(speed=SCALE, seed=7, clock=clock) as sim,
        harness(sim, tmp_path / "db", max_jobs_per_user=1, user_daily_credits=100) as h,
    ):
        await send_all(h, 3)
        usage = await h.say("my usage", wait=False)
        while not usage.messages:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        text = usage.last.text
        assert "Being made now: 1. Waiting in the queue: 2." in text
        assert "15 pts today" in text  # reserved when admitted
        assert "85 pts left" in text
        assert_plain(text)
        clock.resume()
        await h.engine.drain()


async def test_an_admin_cancels_a_waiting_job_from_the_command_line(tmp_path: Path) -> None:
    """``ima-bot admin cancel`` writes the store only; the runner sees it at its next look."""
    clock = Clock()
    async with (
        await start_simulator(speed=SCALE, seed=8, clock=clock) as sim,
        harness(sim, tmp_path / "db", max_jobs_per_user=1) as h,
    ):
        first, second = await send_all(h, 2)
        while place(second) is None:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        [waiting] = [j for j in await h.store.active_jobs() if j.state is JobState.QUEUED]
        assert await h.store.mark_cancelled(waiting.id, at=time.time())
        while "won't be made" not in second.last.text:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        clock.resume()
        await h.engine.drain()
        assert first.last.stage is Stage.SUCCESS
        assert len(sim.state.calls("create")) == 1
        assert sum(r.credits for r in await h.store.usage("1970-01-01")) == 5
