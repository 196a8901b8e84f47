"""In-flight capacity: thousands of concurrent video jobs in one process, against the simulator.

    .venv/bin/python -m bench.inflight                 # 1,000 and 5,000 jobs + the baseline
    .venv/bin/python -m bench.inflight --jobs 200 --script-processes 5   # a quick look

The simulator runs in its own process (so its work is not counted), with video-like durations
(Wan 2.6's catalog estimate of 300~420 s scaled by --sim-speed, 0.3 → 90~126 s; runs of 2,000
jobs or more use --long-sim-speed, 0.9 → 270~378 s, so that every job is in flight for a while
after the last one is admitted) and the bot polls at the spec's 8 s. Measured in the bot
process: peak RSS above the idle baseline per in-flight job, CPU share of one core while the
jobs run, the CPU of one status check (everything the process did while all jobs were in
flight, divided by the status checks it made meanwhile) and event-loop lag. The same figures
are measured for the spec's approach — one blocking Python process per generation, as its
script does — with a few such processes in the same run, and the CPU one in-flight job costs
is put against one such process's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client import REGISTRY

from bot.runtime import Wired
from core.door import Platform
from core.replier import Handle, ReplierLimits, Reply, Stage
from core.request import ChatRequest
from tests.wiring import TEST_KEY, bot_on

SPEC_POLL_SECONDS = 8.0
#: Runs of at least this many jobs use a simulator with longer tasks (``--long-sim-speed``):
#: admitting 5,000 requests outlasts a 90–126 s task, leaving no moment with every job in
#: flight (measured 2026-12-03: 240 s of wall time, no window).
LONG_RUN_JOBS = 2000


def rss_kib(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class CountingReplier:
    """Counts what a platform would be asked to do; keeps nothing else."""

    limits = ReplierLimits()
    sends = 0
    edits = 0
    delivered = 0

    async def send(self, reply: Reply) -> Handle:
        CountingReplier.sends += 1
        return Handle("h")

    async def edit(self, handle: Handle, reply: Reply) -> Handle:
        CountingReplier.edits += 1
        if reply.stage is Stage.SUCCESS:
            CountingReplier.delivered += 1
        return handle


async def _fetch(ref: Mapping[str, Any], max_bytes: int) -> bytes:
    raise AssertionError("benchmarks attach no pictures")


#: The benchmarks' chat platform: counting repliers, no pictures.
BENCH_PLATFORM = Platform("bench", lambda target: CountingReplier(), _fetch)


async def _nothing() -> None:
    """Requests here need no acknowledgement."""


@dataclass
class Result:
    approach: str
    jobs: int
    rss_per_job_kib: float
    cpu_share: float
    lag_p50_ms: float
    lag_p99_ms: float
    lag_max_ms: float
    seconds: float
    extra: Mapping[str, Any]


def requests_to(endpoint: str) -> float:
    """Calls this process has made to one of IMA's endpoints (``tasks_detail``: status
    checks), as the IMA client's latency metric counts them."""
    count = REGISTRY.get_sample_value("ima_bot_ima_request_seconds_count", {"endpoint": endpoint})
    return count or 0.0


async def lag_monitor(samples: list[float], stop: asyncio.Event, every: float = 0.05) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        start = loop.time()
        await asyncio.sleep(every)
        samples.append(max(0.0, loop.time() - start - every) * 1000)


async def engine_run(sim_url: str, jobs: int, db: str) -> Result:
    async with bot_on(
        sim_url,
        db,
        scale=1.0,
        client_options={},
        max_jobs_per_user=jobs,
        ima_poll_interval=SPEC_POLL_SECONDS,
    ) as bot:
        bot.engine.register(BENCH_PLATFORM)
        await bot.engine.warm_up()  # part of the baseline, as `ima-bot run` does
        return await _engine_run(bot, jobs)


async def _engine_run(bot: Wired, jobs: int) -> Result:
    engine, store = bot.engine, bot.store
    CountingReplier.sends = CountingReplier.edits = CountingReplier.delivered = 0
    baseline = rss_kib()
    resource_before = resource.getrusage(resource.RUSAGE_SELF)
    samples: list[float] = []
    stop = asyncio.Event()
    monitor = asyncio.create_task(lag_monitor(samples, stop))
    peak = baseline

    async def sample_rss() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, rss_kib())
            await asyncio.sleep(0.5)

    steady: dict[str, float] = {}

    def cpu_seconds() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    async def steady_window() -> None:
        """CPU while every job is in flight: after the last create returned, until the first
        delivery."""
        creates = requests_to("tasks_create") + jobs
        while requests_to("tasks_create") < creates and not stop.is_set():  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        await asyncio.sleep(1)  # the last "created" steps are written
        steady["start"], steady["cpu_start"] = time.monotonic(), cpu_seconds()
        steady["checks_start"] = requests_to("tasks_detail")
        while CountingReplier.delivered == 0 and not stop.is_set():  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        steady["end"], steady["cpu_end"] = time.monotonic(), cpu_seconds()
        steady["checks_end"] = requests_to("tasks_detail")

    sampler = asyncio.create_task(sample_rss())
    window = asyncio.create_task(steady_window())
    started = time.monotonic()
    for i in range(jobs):
        request = ChatRequest(
            "bench", f"user{i % 50}", "bench", {}, f"a video of ocean waves {i}", f"m{i}"
        )
        await engine.deliver(request, CountingReplier(), _nothing)
    await engine.drain()
    seconds = time.monotonic() - started
    stop.set()
    await asyncio.gather(monitor, sampler, window)
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (used.ru_utime - resource_before.ru_utime) + (used.ru_stime - resource_before.ru_stime)
    details = await store.usage("2000-01-01", platform="bench")
    assert CountingReplier.delivered == jobs, CountingReplier.delivered
    return Result(
        approach="engine (one process, asyncio)",
        jobs=jobs,
        rss_per_job_kib=(peak - baseline) / jobs,
        cpu_share=cpu / seconds,
        lag_p50_ms=statistics.median(samples),
        lag_p99_ms=statistics.quantiles(samples, n=100)[98],
        lag_max_ms=max(samples),
        seconds=seconds,
        extra={
            "steady_cpu_share": (steady["cpu_end"] - steady["cpu_start"])
            / max(steady["end"] - steady["start"], 0.001),
            "steady_seconds": steady["end"] - steady["start"],
            "check_cpu_ms": (steady["cpu_end"] - steady["cpu_start"])
            * 1000
            / max(steady["checks_end"] - steady["checks_start"], 1),
            "checks_per_second": (steady["checks_end"] - steady["checks_start"])
            / max(steady["end"] - steady["start"], 0.001),
            "edits_per_job": CountingReplier.edits / jobs,
            "credits": sum(r.credits for r in details),
        },
    )


SCRIPT = Path(__file__).with_name("script_like.py")


def script_run(sim_url: str, processes: int) -> Result:
    """The spec's way: one blocking process per generation (requests + time.sleep polling)."""
    env = {**os.environ, "IMA_API_KEY": TEST_KEY, "IMA_BASE_URL": sim_url}
    started = time.monotonic()
    procs = [
        subprocess.Popen(  # noqa: S603 - our own script
            [sys.executable, str(SCRIPT), f"a video of ocean waves {i}"],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        for i in range(processes)
    ]
    peak: dict[int, int] = {}
    cpu: dict[int, float] = {}
    while any(p.poll() is None for p in procs):
        for p in procs:
            if p.poll() is None:
                try:
                    peak[p.pid] = max(peak.get(p.pid, 0), rss_kib(p.pid))
                    fields = Path(f"/proc/{p.pid}/stat").read_text().rsplit(")", 1)[1].split()
                    cpu[p.pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
                except (FileNotFoundError, ProcessLookupError, IndexError):
                    pass
        time.sleep(0.25)
    seconds = time.monotonic() - started
    if any(p.returncode for p in procs):
        raise RuntimeError("a script process failed")
    return Result(
        approach="one blocking process per job (the spec's script)",
        jobs=processes,
        rss_per_job_kib=statistics.mean(peak.values()),
        cpu_share=sum(cpu.values()) / seconds,
        lag_p50_ms=float("nan"),
        lag_p99_ms=float("nan"),
        lag_max_ms=float("nan"),
        seconds=seconds,
        extra={},
    )


def table(results: list[Result]) -> str:
    lines = [
        "| approach | in-flight jobs | RSS per job | CPU, whole run | CPU, all jobs in flight "
        "| CPU per status check | loop lag p50 / p99 / max | wall time | progress edits per job |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lag = (
            "—"
            if r.lag_p50_ms != r.lag_p50_ms
            else f"{r.lag_p50_ms:.1f} / {r.lag_p99_ms:.1f} / {r.lag_max_ms:.1f} ms"
        )
        rss = f"{r.rss_per_job_kib:,.1f} KiB"
        edits = f"{r.extra['edits_per_job']:.1f}" if "edits_per_job" in r.extra else "—"
        steady = (
            f"{r.extra['steady_cpu_share']:.1%} ({r.extra['steady_seconds']:.0f} s)"
            if "steady_cpu_share" in r.extra
            else "—"
        )
        check = (
            f"{r.extra['check_cpu_ms']:.3f} ms ({r.extra['checks_per_second']:.0f}/s)"
            if "check_cpu_ms" in r.extra
            else "—"
        )
        lines.append(
            f"| {r.approach} | {r.jobs:,} | {rss} | {r.cpu_share:.1%} | {steady} | {check} "
            f"| {lag} | {r.seconds:.0f} s | {edits} |"
        )
    return "\n".join(lines)


async def engine_runs(sim_url: str, long_sim_url: str | None, sizes: list[int]) -> list[Result]:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            url = long_sim_url if long_sim_url is not None and n >= LONG_RUN_JOBS else sim_url
            result = await engine_run(url, n, str(Path(tmp) / f"bench-{n}.db"))
            print(table([result]).splitlines()[-1], flush=True)
            results.append(result)
    return results


@contextmanager
def simulator_process(speed: float) -> Iterator[str]:
    """The IMA simulator in a process of its own (so its work is not counted); its URL."""
    port = free_port()
    command = ["-m", "bot.cli", "sim", "--port", str(port), "--speed", str(speed)]
    sim = subprocess.Popen(  # noqa: S603 - our own command
        [sys.executable, *command], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        sim.terminate()
        sim.wait()


def main(args: argparse.Namespace) -> None:
    with ExitStack() as stack:
        sim_url = stack.enter_context(simulator_process(args.sim_speed))
        long_sim_url = (
            stack.enter_context(simulator_process(args.long_sim_speed))
            if any(n >= LONG_RUN_JOBS for n in args.jobs)
            else None
        )
        results = asyncio.run(engine_runs(sim_url, long_sim_url, args.jobs))
        if args.script_processes:
            result = script_run(sim_url, args.script_processes)
            print(table([result]).splitlines()[-1], flush=True)
            results.append(result)
        print()
        print(table(results))
        if args.script_processes:
            script = results[-1]
            cpu_per_process = script.cpu_share / script.jobs
            for r in results[:-1]:
                memory = script.rss_per_job_kib / max(r.rss_per_job_kib, 0.001)
                cpu_per_job = r.extra["steady_cpu_share"] / r.jobs
                print(
                    f"{r.jobs:,} jobs: {memory:,.0f}x less memory per in-flight job; "
                    f"CPU per in-flight job {cpu_per_job:.5%} of a core against "
                    f"{cpu_per_process:.3%} for one script process: "
                    f"{cpu_per_process / max(cpu_per_job, 1e-9):,.0f}x less"
                )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--script-processes", type=int, default=20)
    parser.add_argument("--sim-speed", type=float, default=0.3)
    parser.add_argument(
        "--long-sim-speed",
        type=float,
        default=0.9,
        help=f"simulator speed for runs of {LONG_RUN_JOBS:,} jobs or more (0.9: 270-378 s tasks)",
    )
    main(parser.parse_args())
