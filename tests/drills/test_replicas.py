"""Drill: three ``ima-bot run`` replicas on one PostgreSQL, both platforms, kill -9 one.

Each replica runs one Discord shard of three and holds one long connection of the Feishu app.
Requests from many people go out at once on both platforms (150 each); one replica is killed
with jobs in flight. What must hold is read from the jobs table and from IMA:

* every stored job ends, and shows exactly one finished answer (a result, or for the job whose
  create was on its way at the kill, "it may have been made");
* IMA saw one create per stored job, never two, and none for a request without a job;
* the killed replica's jobs are taken over just after its leases end (measured from the kill),
  and the live replicas lose none of theirs;
* a Feishu message handed to two replicas runs once.

A request the killed replica had stored but not yet turned into a job is answered by a survivor
once its lease runs out, like a job. One it had read and not yet stored is lost, and the drill
counts rather than forbids those: a Discord message event has no acknowledgement, so Discord
never sends it again (the person sees no answer). No Feishu message may be lost: the bot
acknowledges one only once it has stored it, and Feishu sends an unacknowledged event again
(the fake does, on a compressed schedule). So the replica is frozen (SIGSTOP) just before the
kill and handed a few more Feishu events it never reads: each must be sent again to a
survivor and run there once, one create and one answer each. The drill asserts that every lost
request was one the killed replica received on Discord, and that none of them was created or
answered.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from collections import Counter
from pathlib import Path

import asyncpg
import pytest

from core.jobs import ACTIVE
from sim.app import start_simulator
from tests.drills.process import replicas
from tests.fakes.discord import FakeDiscord, FakeGuild, StoredMessage
from tests.fakes.feishu import FakeFeishu

REPLICAS = 3
KILLED = 1
PER_PLATFORM = int(os.environ.get("DRILL_PER_PLATFORM", "150"))
SPEED = 0.05
#: Short, for a quick takeover; the live replicas must keep every lease all the same.
LEASE_SECONDS = 5.0
#: Feishu events handed to the frozen replica just before the kill, never acknowledged.
UNREAD = 6
#: Feishu's 15 s, 5 min, 1 h, 6 h between deliveries, compressed.
RETRIES = (1.0, 2.0, 4.0, 8.0)
#: Leases run out at most LEASE_SECONDS after the kill and survivors look just after that
#: (`Runner._keep_leases`); a renewal interval and 2 s more are slack for a loaded machine.
TAKEOVER_WITHIN = LEASE_SECONDS + LEASE_SECONDS / 3 + 2.0
_ACTIVE = [s.value for s in ACTIVE]
_NUMBER = re.compile(r"(cat|fox) number (\d+)")


def _request(prompt: str) -> str:
    """``cat 7`` / ``fox 7``: which request a job or a create is for (every prompt differs)."""
    found = _NUMBER.search(prompt)
    assert found is not None, prompt
    return f"{found[1]} {found[2]}"


@pytest.mark.timeout(240)
async def test_three_replicas_one_killed(postgres_url: str, tmp_path: Path) -> None:
    async with (
        await start_simulator(speed=SPEED, seed=11) as sim,
        FakeDiscord() as discord,
        FakeFeishu(ws_seed=5, wait_timeout=60, redelivery_intervals=RETRIES) as feishu,
    ):
        guilds: list[FakeGuild] = [
            await discord.add_guild(f"shard {n}", shard=(n, REPLICAS)) for n in range(REPLICAS)
        ]
        channels = [await discord.add_text_channel(g, "general") for g in guilds]
        async with replicas(
            REPLICAS, tmp_path, sim, SPEED, feishu=feishu, discord=discord,
            each=lambda number: {"DISCORD_SHARD_IDS": str(number)},
            DATABASE_URL=postgres_url, LEASE_SECONDS=str(LEASE_SECONDS),
            DISCORD_SHARD_COUNT=str(REPLICAS), DISCORD_MESSAGE_CONTENT="true",
            MAX_JOBS_PER_USER="5",
        ) as bots:  # fmt: skip
            db = await asyncpg.connect(postgres_url)
            asked: dict[int, str] = {}  # Discord message id → request
            for n in range(PER_PLATFORM):
                person = discord.add_user(f"person{n}")
                guilds[n % REPLICAS].members.append(person)
                sent = await discord.send_message(
                    channels[n % REPLICAS].id,
                    f"{discord.bot_user.mention} draw a cat number {n}",
                    author=person,
                    mentions=[discord.bot_user],
                )
                asked[sent.id] = f"cat {n}"
            events = [
                feishu.events.dm_text(
                    f"draw a fox number {n}", sender=feishu.events.new_user(f"p{n}")
                )
                for n in range(PER_PLATFORM)
            ]
            received_by: dict[str, int] = {}  # request → the replica that acknowledged it
            for start in range(0, PER_PLATFORM, 10):  # as Feishu does: not all in one instant
                acks = await asyncio.gather(
                    *(feishu.push_event(e) for e in events[start : start + 10])
                )
                for n, ack in enumerate(acks, start):
                    received_by[f"fox {n}"] = ack.connection - 1
            twice = next(c for c in feishu.ws.open_numbers() if c != received_by["fox 0"] + 1)
            await feishu.push_event(events[0], connection=twice)  # a second replica gets it
            for request in asked.values():  # guild n % 3 is on shard n, replica n's
                received_by[request] = int(request.split()[1]) % REPLICAS
            assert len(asked) == PER_PLATFORM

            async with asyncio.timeout(60):
                while len(sim.state.calls("create")) < PER_PLATFORM:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
            doomed = bots[KILLED].proc
            assert doomed is not None
            doomed.send_signal(signal.SIGSTOP)  # it reads nothing more, acknowledges nothing
            unread = [
                feishu.events.dm_text(
                    f"draw a fox number {n}", sender=feishu.events.new_user(f"p{n}")
                )
                for n in range(PER_PLATFORM, PER_PLATFORM + UNREAD)
            ]
            for event in unread:
                await feishu.send_ws_event(event, connection=KILLED + 1)
            events += unread
            received_by.update(
                {f"fox {n}": KILLED for n in range(PER_PLATFORM, PER_PLATFORM + UNREAD)}
            )
            await bots[KILLED].kill()
            killed_at = time.monotonic()
            orphans = {
                r["id"]
                for r in await db.fetch(
                    "SELECT id FROM jobs WHERE owner = $1 AND state = ANY($2)",
                    f"replica-{KILLED}",
                    _ACTIVE,
                )
            }
            taken_over: float | None = None
            # Sent again, to the survivors' connections, while the takeover is timed.
            resent = asyncio.create_task(feishu.wait_for_taken(*unread))
            try:
                async with asyncio.timeout(90):
                    while True:
                        held = await db.fetchval(
                            "SELECT COUNT(*) FROM jobs WHERE owner = $1 AND state = ANY($2)",
                            f"replica-{KILLED}",
                            _ACTIVE,
                        )
                        if not held and taken_over is None:
                            taken_over = time.monotonic() - killed_at
                        active = await db.fetchval(
                            "SELECT COUNT(*) FROM jobs WHERE state = ANY($1)", _ACTIVE
                        )
                        waiting = await db.fetchval(
                            "SELECT COUNT(*) FROM requests WHERE finished_at IS NULL"
                        )
                        if not active and not waiting and resent.done():
                            break
                        await asyncio.sleep(0.1)
            except TimeoutError:
                states = await db.fetch(
                    "SELECT state, owner, COUNT(*) FROM jobs GROUP BY state, owner"
                )
                raise AssertionError(f"jobs still active: {[tuple(s) for s in states]}") from None
            await resent
            await asyncio.sleep(1.0)  # the last answers' edits land
            jobs = await db.fetch("SELECT id, prompt, state, error_kind, ima_task_id FROM jobs")
            stored_requests = {
                r["key"]: (r["owner"], r["finished_at"])
                for r in await db.fetch("SELECT key, owner, finished_at FROM requests")
            }
            await db.close()

        # ── one create per stored job, never two ──
        creates = Counter(
            _request(c.body["parameters"][0]["parameters"]["prompt"])
            for c in sim.state.calls("create")
        )
        job_of = Counter(_request(j["prompt"]) for j in jobs)
        assert max(job_of.values()) == 1, "a request made two jobs"
        assert max(creates.values()) == 1, [r for r, n in creates.items() if n > 1]
        assert set(creates) <= set(job_of), "a create for a request without a job"
        assert {_request(j["prompt"]) for j in jobs if j["ima_task_id"]} <= set(creates)

        # ── every stored job delivered exactly once ──
        answers: Counter[str] = Counter()
        for channel in channels:
            for message in discord.channel_messages(channel.id):
                ref = message.message_reference or {}
                if (
                    message.author is discord.bot_user
                    and ref.get("message_id")
                    and _finished(message)
                ):
                    answers[asked[int(ref["message_id"])]] += 1
        fox_of = {feishu.events.message_id(e): f"fox {n}" for n, e in enumerate(events)}
        for m in feishu.messages:
            if (
                m.reply_to in fox_of
                and m.msg_type == "interactive"
                and m.json()["header"]["template"] in ("green", "red")
            ):
                answers[fox_of[str(m.reply_to)]] += 1
        ended = Counter(j["state"] for j in jobs)
        assert set(ended) <= {"delivered", "failed"}, ended
        failed = [j for j in jobs if j["state"] == "failed"]
        assert all(j["error_kind"] == "unknown_outcome" for j in failed), failed
        assert {_request(j["prompt"]): 1 for j in jobs} == dict(answers), "answers per job"

        # ── lost requests: only the killed replica's, never created nor answered ──
        lost = {r for r in received_by if r not in job_of}
        assert all(received_by[r] == KILLED for r in lost), lost
        assert not [r for r in lost if r.startswith("fox")], "a Feishu event lost"
        for event in unread:  # each sent again, and taken by a survivor
            assert feishu.dispatch_of(event).attempts >= 2
            assert feishu.delivery_of(event).connection != KILLED + 1
        assert all(finished is not None for _, finished in stored_requests.values())
        assert not lost & set(creates)
        assert not lost & set(answers)

        # ── the orphans were taken over within the lease time, and only they ──
        for number, bot in enumerate(bots):
            if number != KILLED:
                assert "its lease was lost" not in bot.log(), f"replica {number} lost a job"
        assert taken_over is not None
        assert not orphans or taken_over < TAKEOVER_WITHIN, taken_over
        print(
            f"\nstored jobs {len(jobs)} of {2 * PER_PLATFORM + UNREAD} requests ({len(lost)} "
            f"lost with the killed replica, {len(stored_requests)} requests stored), creates "
            f"{sum(creates.values())}, states {dict(ended)}, orphans {len(orphans)} taken "
            f"over in {taken_over:.1f} s (lease {LEASE_SECONDS:.0f} s)"
        )


def _finished(message: StoredMessage) -> bool:
    return message.content.startswith(("✅", "❌"))
