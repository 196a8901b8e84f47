"""API economy: calls to IMA and edits to the chat per job, against what the spec implies.

    .venv/bin/python -m bench.economy [--jobs 100] [--speed 0.05]

100 text-to-video jobs through the engine against the in-process simulator. The engine's clock
runs at the simulator's speed, so intervals keep their real proportions: polls every 8 s,
progress every 30 s, for tasks that take Wan 2.6's 300~420 s.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections import Counter
from pathlib import Path

from bench.inflight import BENCH_PLATFORM, CountingReplier
from core.request import ChatRequest
from sim.app import start_simulator
from tests.wiring import bot_on


async def _nothing() -> None:
    """Requests here need no acknowledgement."""


async def main(jobs: int, speed: float) -> None:
    async with await start_simulator(speed=speed, seed=1) as sim:
        with tempfile.TemporaryDirectory() as tmp:
            async with bot_on(
                sim, Path(tmp) / "bench.db", scale=speed, client_options={}, max_jobs_per_user=jobs
            ) as bot:
                bot.engine.register(BENCH_PLATFORM)
                for i in range(jobs):
                    request = ChatRequest(
                        "bench", f"u{i}", "bench", {}, f"a video of ocean waves {i}", f"m{i}"
                    )
                    await bot.engine.deliver(request, CountingReplier(), _nothing)
                await bot.engine.drain()
        lists = Counter(r.query["category"] for r in sim.state.calls("product_list"))
        details = len(sim.state.calls("detail"))
        durations = [max(m.seconds for m in t.medias) for t in sim.state.tasks.values()]
        expected_polls = sum(d / (8 * speed) for d in durations) / jobs
        print("| measure | value |")
        print("|---|---:|")
        print(f"| jobs | {jobs} |")
        print(f"| product-list calls for text_to_video | {lists['text_to_video']} |")
        print(f"| product-list calls, all categories | {sum(lists.values())} |")
        print(f"| create calls | {len(sim.state.calls('create'))} |")
        print(f"| detail calls per job | {details / jobs:.1f} |")
        print(f"| detail calls per job the spec's 8 s interval implies | {expected_polls:.1f} |")
        print(f"| messages sent per job | {CountingReplier.sends / jobs:.1f} |")
        print(f"| edits per job (progress + result) | {CountingReplier.edits / jobs:.1f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--speed", type=float, default=0.05)
    args = parser.parse_args()
    asyncio.run(main(args.jobs, args.speed))
