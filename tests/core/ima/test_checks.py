"""The status checks' wake-up grid (core/ima/checks.py); the checks themselves against the
simulator are in test_client_sim.py."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from core.ima.checks import POLL_GRID, PollGrid


async def test_wakes_due_at_one_point_share_one_timer() -> None:
    grid, loop = PollGrid(), asyncio.get_running_loop()
    woken: list[tuple[str, float]] = []
    asked = loop.time()
    timers_before = len(loop._scheduled)  # type: ignore[attr-defined]

    def waking(name: str) -> Callable[[], None]:
        return lambda: woken.append((name, loop.time()))

    for name in ("a", "b", "c"):
        grid.at(0.8, 0.1, waking(name))
    assert len(loop._scheduled) == timers_before + 1  # type: ignore[attr-defined]
    await asyncio.sleep(0.1 + 0.8 / POLL_GRID + 0.05)
    assert [name for name, _ in woken] == ["a", "b", "c"]
    assert all(at >= asked + 0.1 for _, at in woken)  # never early


async def test_a_failing_wake_does_not_stop_the_others() -> None:
    grid = PollGrid()
    woken: list[str] = []

    def broken() -> None:
        raise RuntimeError("a bug")

    grid.at(0.16, 0.01, broken)
    grid.at(0.16, 0.01, lambda: woken.append("after"))
    await asyncio.sleep(0.05)
    assert woken == ["after"]


async def test_without_an_interval_it_waits_the_delay() -> None:
    grid, loop = PollGrid(), asyncio.get_running_loop()
    woken = loop.create_future()
    asked = loop.time()
    grid.at(0, 0.02, lambda: woken.set_result(loop.time()))
    assert await woken >= asked + 0.02
