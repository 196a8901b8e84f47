"""Each of the engine's metrics moves when what it counts happens (the adapters' metrics are
tested with each adapter: ``tests/bot/*/test_metrics.py``; the database's gauges by a scrape in
``test_http.py``)."""

from __future__ import annotations

import platform
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import generate_latest

from core import runner
from core.door import Access
from core.ima.tasks import TaskType
from core.jobs import Job, JobState, ModelSource, new_job_id
from core.replier import Handle, Reply, Stage
from sim.app import RunningSimulator, start_simulator
from tests.core.harness import SCALE, harness
from tests.ops.samples import sample
from tests.recording import RecordingReplier


@pytest.fixture
async def sim() -> AsyncIterator[RunningSimulator]:
    async with await start_simulator(speed=SCALE, seed=3) as running:
        yield running


def test_build_info_names_the_version() -> None:
    from importlib import metadata

    labels = {"version": metadata.version("ima-bot"), "python": platform.python_version()}
    assert sample("ima_bot_build_info", **labels) == 1


def test_understanding_fallbacks_are_exported_before_the_first() -> None:
    # The understanding that falls back comes later; dashboards and alerts can use it now.
    text = generate_latest().decode()
    assert "# TYPE ima_bot_understanding_fallbacks_total counter" in text


async def test_refusals_by_reason(sim: RunningSimulator, tmp_path: Path) -> None:
    def refused(reason: str) -> float:
        return sample("ima_bot_refusals_total", reason=reason)

    reasons = ("banned", "too_long", "advice", "user_cap", "not_allowed")
    before = {reason: refused(reason) for reason in reasons}
    async with harness(
        sim,
        tmp_path / "bot.db",
        access=Access(allowed_places=frozenset({"chat"})),
        banned_words="forbidden",
        user_daily_credits=6,
    ) as h:
        await h.say("draw a forbidden cat")
        await h.say("draw " + "a very long cat " * 200)
        await h.say("an 8K wallpaper of a mountain lake")  # advice: 4K is the most
        await h.say("draw a cat")  # 5 of the 6 credits
        await h.say("draw a dog")  # 5 more: over the cap
        await h.say("draw a cat", chat="elsewhere")
    assert {reason: refused(reason) - before[reason] for reason in reasons} == dict.fromkeys(
        reasons, 1
    )


def stored_job(**kw: Any) -> Job:
    values: dict[str, Any] = dict(
        id=new_job_id(), platform="test", user_id="u1", chat_id="chat", locale="en",
        task_type=TaskType.TEXT_TO_IMAGE, version_id="doubao-seedream-4.5",
        model_id="doubao-seedream-4.5", model_name="SeeDream 4.5", prompt="a cat", params={},
        n=1, credits=5, source=ModelSource.DEFAULT, reply_target={"user": "u1"},
        created_at=time.time(),
    )  # fmt: skip
    values.update(kw)
    return Job(**values)


async def test_jobs_resumed_at_start_by_state(sim: RunningSimulator, tmp_path: Path) -> None:
    before = sample("ima_bot_jobs_resumed_total", state="accepted")
    async with harness(sim, tmp_path / "bot.db") as h:
        job = stored_job()  # left by a previous run before its create was sent
        await h.store.admit(job)
        assert await h.engine.resume() == 1
        await h.engine.drain()
        assert (await h.store.get_job(job.id)).state is JobState.DELIVERED
    assert sample("ima_bot_jobs_resumed_total", state="accepted") == before + 1


class RefusesResults(RecordingReplier):
    """A chat that takes the first message and refuses the result (a lost permission)."""

    async def edit(self, handle: Handle, reply: Reply) -> Handle:
        if reply.stage is Stage.SUCCESS:
            raise RuntimeError("403 Missing Permissions")
        return await super().edit(handle, reply)


async def test_a_result_the_platform_refused(
    sim: RunningSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "_SHOW_PAUSES", (0.0, 0.0, 0.0))  # tried three times, at once
    before = sample("ima_bot_deliveries_failed_total", platform="test", stage="success")
    async with harness(sim, tmp_path / "bot.db") as h:
        replier = await h.say("draw a cat", replier=RefusesResults())
        assert Stage.SUCCESS not in [r.stage for r in replier.all_replies()]
    assert sample("ima_bot_deliveries_failed_total", platform="test", stage="success") == (
        before + 1
    )
