"""Drill: the database of a running ``ima-bot run`` stops working, three ways in turn.

The disk refuses every write (a limit on the size of the files the process may write, as a full
disk does), another process holds the database's write lock for longer than the bot waits, and
finally the file is overwritten with garbage. Each time the health check says so, a person on
each platform gets a plain answer at once (never silence, never "thinking…"), nothing is sent
to IMA, and the log names the cause once, with no traceback.
"""

from __future__ import annotations

import asyncio
import os
import resource
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from tests.bot.feishu.conftest import card_text
from tests.drills.deployment import Deployment, deployment

TROUBLE = "Something went wrong on my side"

pytestmark = pytest.mark.skipif(not hasattr(resource, "prlimit"), reason="Linux only")


async def said_everywhere(d: Deployment, cause: str) -> None:
    """What everyone sees while the database fails with ``cause``."""
    log_before = len(d.bot.log_entries())
    creates_before = len(d.creates)
    interaction = await d.discord.send_slash_command("image", {"prompt": "a sand castle"})
    event = d.feishu.events.dm_text("draw a sand castle")
    (status, health), answer = await asyncio.gather(d.bot.health(), d.deliver(event))

    assert status == 503
    assert health["database"] is False
    assert answer in (200, 500)  # 500 when it could not be stored in time: Feishu sends it again
    original = await interaction.wait_for_original(lambda m: not m.loading, timeout=15)
    assert original.content.startswith(TROUBLE)
    await d.feishu.wait_until(lambda: bool(d.cards_for(event)), "an answer on Feishu")
    [card] = d.cards_for(event)
    assert card_text(card.json()).startswith(TROUBLE)
    assert len(d.creates) == creates_before  # nothing was sent to IMA

    logged = d.bot.log_entries()[log_before:]
    naming = [e for e in logged if cause in str(e.get("msg"))]
    assert len(naming) == 1, naming
    assert naming[0]["level"] == "ERROR"
    assert [e for e in logged if "exc" in e or "raw" in e] == []  # no traceback


async def healthy_again(d: Deployment) -> None:
    for _ in range(100):
        if (await d.bot.health())[0] == 200:
            break
        await asyncio.sleep(0.05)
    assert (await d.bot.health())[0] == 200
    # other lines (a look for stored requests) may follow it
    assert any("works again" in str(e.get("msg")) for e in d.bot.log_entries()[-5:])


@contextmanager
def writes_refused(pid: int) -> Iterator[None]:
    """The kernel refuses every file write of ``pid`` (its log goes to a pipe: not a file)."""
    soft, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (0, hard))
    try:
        yield
    finally:
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (soft, hard))


@contextmanager
def write_lock_held(db: Path) -> Iterator[None]:
    with closing(sqlite3.connect(db, timeout=10, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")


def corrupt(db: Path) -> None:
    """Everything but the header overwritten; the shared index too, so the bot reads it again."""
    with closing(sqlite3.connect(db, timeout=10)) as other:
        other.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with db.open("r+b") as file:
        file.seek(100)
        file.write(os.urandom(db.stat().st_size - 100))
    shm = db.with_name(db.name + "-shm")
    shm.write_bytes(b"\0" * shm.stat().st_size)


async def test_a_broken_database_is_said_on_every_platform(tmp_path: Path) -> None:
    async with deployment(tmp_path) as d:
        assert d.bot.proc is not None
        with writes_refused(d.bot.proc.pid):
            await said_everywhere(d, "disk I/O error")
        await healthy_again(d)

        with write_lock_held(d.bot.db):
            await said_everywhere(d, "database is locked")
        await healthy_again(d)

        corrupt(d.bot.db)
        await said_everywhere(d, "database disk image is malformed")
