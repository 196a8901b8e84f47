"""One replica against three on PostgreSQL: the same work, and a takeover after kill -9.

    .venv/bin/python -m bench.replicas                  # 300 jobs; lease 5 s for the takeover
    .venv/bin/python -m bench.replicas --jobs 100       # a quick look

Every replica is a real ``ima-bot run`` process holding one long connection of the fake Feishu
(which hands each event to one of them at random), all on one throwaway PostgreSQL server (the
tests' ``initdb`` + ``pg_ctl``) and the IMA simulator. The fakes and the simulator run in this
process, so their work is not counted. For each layout the same text-to-image requests arrive
at once, one per person, and run to their results. Measured:

* jobs held: the most active jobs each replica held at once (their lease owner in the jobs
  table, read every 0.2 s);
* idle CPU per replica: user + system time (from /proc) of each replica doing nothing for 10 s
  before the work arrives;
* CPU per job: user + system time of the replica processes over the run, divided by the jobs;
* database round trips per job: ``ima_bot_database_round_trips_total`` scraped from each
  replica's /metrics before and after;
* takeover after kill -9 (three replicas, run again): from the kill of one replica with jobs in
  flight to the moment none of them is held by it any more, and to their last result; and how
  the survivors split its jobs (their lease owner at the end).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg

from core.jobs import ACTIVE
from sim.app import start_simulator
from tests.drills.process import BotProcess, replicas
from tests.fakes.feishu import FakeFeishu
from tests.postgres import start_server

_ACTIVE = [s.value for s in ACTIVE]
#: How long the replicas are watched doing nothing, before the work arrives.
IDLE_SECONDS = 10.0
_ROUND_TRIPS = re.compile(r"^ima_bot_database_round_trips_total (\S+)$", re.MULTILINE)


@dataclass
class Result:
    layout: str
    jobs: int
    held: list[int]
    #: CPU of one replica doing nothing, in ms per second.
    idle_ms_per_s: float
    cpu_ms_per_job: float
    round_trips_per_job: float
    seconds: float
    takeover: str = "—"
    states: dict[str, int] = field(default_factory=dict)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # clock ticks (USER_HZ is 100 on Linux)


async def round_trips(http: aiohttp.ClientSession, bot: BotProcess) -> float:
    async with http.get(f"http://127.0.0.1:{bot.env['METRICS_PORT']}/metrics") as response:
        found = _ROUND_TRIPS.search(await response.text())
    return float(found[1]) if found else 0.0


async def run(
    count: int, jobs: int, url: str, *, lease: float, kill: bool, sim_speed: float
) -> Result:
    async with (
        await start_simulator(speed=sim_speed, seed=3) as sim,
        FakeFeishu(ws_seed=7, wait_timeout=120) as feishu,
        aiohttp.ClientSession() as http,
    ):
        with tempfile.TemporaryDirectory() as tmp:
            async with replicas(
                count, Path(tmp), sim, 1.0, feishu=feishu,
                DATABASE_URL=url, LEASE_SECONDS=str(lease),
            ) as bots:  # fmt: skip
                db = await asyncpg.connect(url)
                pids = [b.proc.pid for b in bots if b.proc is not None]
                idle_from = [cpu_seconds(p) for p in pids]
                await asyncio.sleep(IDLE_SECONDS)
                cpu_before = [cpu_seconds(p) for p in pids]
                idle = (sum(cpu_before) - sum(idle_from)) / IDLE_SECONDS / count
                trips_before = [await round_trips(http, b) for b in bots]
                held: Counter[str] = Counter()
                events = [
                    feishu.events.dm_text(
                        f"draw a fox number {n}", sender=feishu.events.new_user(f"p{n}")
                    )
                    for n in range(jobs)
                ]
                started = time.monotonic()
                for start in range(0, jobs, 20):
                    await asyncio.gather(
                        *(feishu.push_event(e) for e in events[start : start + 20])
                    )
                killed_at: float | None = None
                orphans = 0
                orphan_ids: list[str] = []
                taken_over: float | None = None
                while True:
                    owners = await db.fetch(
                        "SELECT owner, COUNT(*) FROM jobs WHERE state = ANY($1) GROUP BY owner",
                        _ACTIVE,
                    )
                    now = {str(r[0]): int(r[1]) for r in owners}
                    for owner, n in now.items():
                        held[owner] = max(held[owner], n)
                    total = await db.fetchval("SELECT COUNT(*) FROM jobs")
                    if kill and killed_at is None and total >= jobs and sum(now.values()):
                        # What it used until the kill counts: read just before it.
                        cpu_before[-1] -= cpu_seconds(pids[-1])
                        trips_before[-1] -= await round_trips(http, bots[-1])
                        await bots[-1].kill()
                        orphan_ids = [
                            r[0]
                            for r in await db.fetch(
                                "SELECT id FROM jobs WHERE owner = $1 AND state = ANY($2)",
                                f"replica-{count - 1}",
                                _ACTIVE,
                            )
                        ]
                        orphans = len(orphan_ids)
                        killed_at = time.monotonic()
                    if (
                        killed_at is not None
                        and taken_over is None
                        and not now.get(f"replica-{count - 1}")
                    ):
                        taken_over = time.monotonic() - killed_at
                    if total >= jobs and not now:
                        break
                    await asyncio.sleep(0.2)
                seconds = time.monotonic() - started
                alive = bots[:-1] if kill else bots
                cpu = sum(cpu_seconds(p) for p in pids[: len(alive)]) - sum(cpu_before)
                trips = sum([await round_trips(http, b) for b in alive]) - sum(trips_before)
                split = {
                    str(r[0]): int(r[1])
                    for r in await db.fetch(
                        "SELECT owner, COUNT(*) FROM jobs WHERE id = ANY($1) GROUP BY owner",
                        orphan_ids,
                    )
                }
                states = {
                    str(r[0]): int(r[1])
                    for r in await db.fetch("SELECT state, COUNT(*) FROM jobs GROUP BY state")
                }
                await db.close()
    takeover = "—"
    if killed_at is not None:
        takeover = (
            f"{orphans} jobs in flight, taken over by the survivors "
            f"{' / '.join(str(split.get(f'replica-{n}', 0)) for n in range(count - 1))} "
            f"in {taken_over:.1f} s, the last result "
            f"{seconds - (killed_at - started):.1f} s after the kill (lease {lease:.0f} s)"
        )
    return Result(
        layout=f"{count} replica{'s' if count > 1 else ''}" + (", one killed" if kill else ""),
        jobs=jobs,
        held=[held[f"replica-{n}"] for n in range(count)],
        idle_ms_per_s=idle * 1000,
        cpu_ms_per_job=cpu * 1000 / jobs,
        round_trips_per_job=trips / jobs,
        seconds=seconds,
        takeover=takeover,
        states=states,
    )


def table(results: list[Result]) -> str:
    lines = [
        "| layout | jobs | most jobs held, per replica | idle CPU per replica | CPU per job "
        "| database round trips per job | wall time | takeover after kill -9 |",
        "|---|---:|---|---:|---:|---:|---:|---|",
    ]
    for r in results:
        held = " / ".join(str(n) for n in r.held)
        lines.append(
            f"| {r.layout} | {r.jobs} | {held} | {r.idle_ms_per_s:.1f} ms/s "
            f"| {r.cpu_ms_per_job:.1f} ms "
            f"| {r.round_trips_per_job:.1f} | {r.seconds:.0f} s | {r.takeover} |"
        )
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    with contextlib.contextmanager(start_server)() as postgres:
        results = []
        layouts = ((3, True),) if args.takeover_only else ((1, False), (3, False), (3, True))
        for count, kill in layouts:
            url = await postgres.new_database()
            result = await run(
                count, args.jobs, url, lease=args.lease, kill=kill, sim_speed=args.sim_speed
            )
            print(table([result]).splitlines()[-1], result.states, flush=True)
            results.append(result)
    print()
    print(table(results))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--lease", type=float, default=5.0)
    parser.add_argument("--sim-speed", type=float, default=0.2)
    parser.add_argument("--takeover-only", action="store_true", help="only the kill -9 run")
    asyncio.run(main(parser.parse_args()))
