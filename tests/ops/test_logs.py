"""Every log line about a job says which job (and platform and user), whoever writes it."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.logs import ContextFilter, JsonFormatter, TextFormatter
from core.logcontext import about
from sim.app import start_simulator
from tests.core.harness import SCALE, harness


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.addFilter(ContextFilter())  # as bot.logs.setup_logging's handler has

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def records() -> Iterator[Records]:
    root = logging.getLogger()
    handler, level = Records(), root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def test_ima_retries_and_poll_warnings_name_the_job(records: Records, tmp_path: Path) -> None:
    async with (
        await start_simulator(speed=SCALE, seed=4) as sim,
        harness(sim, tmp_path / "bot.db") as h,
    ):
        await h.engine.warm_up()  # catalogs read before, for no one in particular
        records.records.clear()
        # Five failed reads of the task's status give up one poll (a warning), and the polls
        # go on; the sixth is retried.
        sim.state.faults.push("detail", "500", times=6)
        await h.say("draw a cat", user="u7")
        [job] = await h.store.recent_jobs("test", "u7")
    about_job = [r for r in records.records if r.name.startswith("core.")]
    messages = [r.getMessage() for r in about_job]
    assert any("retrying" in m for m in messages), messages
    assert any("polling on" in m for m in messages), messages
    assert any(" delivered " in m for m in messages), messages
    for record in about_job:
        fields = (getattr(record, "job_id", None), getattr(record, "platform", None))
        assert (*fields, getattr(record, "user", None)) == (job.id, "test", "u7"), (
            record.getMessage()
        )


def test_the_fields_are_in_both_formats() -> None:
    record = logging.makeLogRecord({"msg": "poll failed", "levelname": "WARNING", "name": "x"})
    with about(job_id="j1", platform="feishu", user="ou_1"):
        ContextFilter().filter(record)
    assert (
        TextFormatter()
        .format(record)
        .endswith("WARNING x poll failed [job_id=j1 platform=feishu user=ou_1]")
    )
    entry = json.loads(JsonFormatter().format(record))
    assert (entry["job_id"], entry["platform"], entry["user"]) == ("j1", "feishu", "ou_1")
    plain = logging.makeLogRecord({"msg": "started", "levelname": "INFO", "name": "x"})
    ContextFilter().filter(plain)
    assert TextFormatter().format(plain).endswith("INFO x started")
