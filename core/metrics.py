"""Prometheus metrics of the bot, served by ``ima-bot run`` on /metrics (``bot/http.py``).

Counters and histograms move where things happen, one line there. The gauges that describe the
database (jobs waiting and running, the oldest running job, the most credits one person or chat
has used today) are read from the store at each scrape (:func:`read_database`), so they are
true for the whole database, also right after a restart. ``docs/operators.md`` lists every
metric; ``monitoring/`` holds the dashboard and the alert rules built on them (a test checks
that every name they use is exported here).
"""

from __future__ import annotations

import contextlib
import platform
import time
from collections import Counter as Tally
from importlib import metadata

from prometheus_client import Counter, Gauge, Histogram, Info, disable_created_metrics

from core.jobs import Job, JobState
from core.store import Store

# prometheus_client adds a ``*_created`` series (a timestamp) to every counter and histogram;
# on a dashboard it reads like "jobs created", and nothing here needs it.
disable_created_metrics()  # type: ignore[no-untyped-call]


def _version() -> str:
    try:
        return metadata.version("ima-bot")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


BUILD = Info("ima_bot_build", "The running version of the bot (the value is always 1).")
BUILD.info({"version": _version(), "python": platform.python_version()})

# ── jobs ──────────────────────────────────────────────────────────────────────────────────
JOBS = Counter(
    "ima_bot_jobs_total",
    "Generation jobs by task type and how they ended (delivered, failed, cancelled, refused).",
    ["task_type", "outcome"],
)
JOBS_ACTIVE = Gauge(
    "ima_bot_jobs_active", "Jobs this process is running now (its tasks).", ["task_type"]
)
JOBS_WAITING = Gauge(
    "ima_bot_jobs_waiting", "Jobs in the database waiting for their turn (queued)."
)
JOBS_RUNNING = Gauge(
    "ima_bot_jobs_running", "Jobs in the database started and not finished (any process)."
)
OLDEST_RUNNING = Gauge(
    "ima_bot_oldest_running_job_seconds",
    "How long ago the oldest unfinished job was accepted (0: none).",
)
JOBS_RESUMED = Counter(
    "ima_bot_jobs_resumed_total",
    "Jobs a previous run left and this one took up at start, by the state they were in.",
    ["state"],
)
DELIVERIES_FAILED = Counter(
    "ima_bot_deliveries_failed_total",
    "Messages that must be seen (the plan, a result, a failure) the chat platform refused "
    "after every retry, by platform and step.",
    ["platform", "stage"],
)
REFUSALS = Counter(
    "ima_bot_refusals_total",
    "Requests answered without starting a job, by reason (user_cap, chat_cap, "
    "banned, too_long, advice, not_allowed, …).",
    ["reason"],
)
UNDERSTANDING_FALLBACKS = Counter(
    "ima_bot_understanding_fallbacks_total",
    "Messages whose meaning was taken from the rule-based reading because the better one "
    "could not be used, by reason.",
    ["reason"],
)

# ── credits ───────────────────────────────────────────────────────────────────────────────
CREDITS = Counter("ima_bot_credits_total", "Credits charged, by task type.", ["task_type"])
DAILY_CAP = Gauge(
    "ima_bot_daily_credits_cap",
    "The daily credit cap of one person (scope=user) or one chat (scope=chat), when set.",
    ["scope"],
)
DAILY_HIGHEST = Gauge(
    "ima_bot_daily_credits_highest",
    "The most credits one person (scope=user) or one chat (scope=chat) has used today (UTC).",
    ["scope"],
)

# ── IMA ───────────────────────────────────────────────────────────────────────────────────
IMA_LATENCY = Histogram(
    "ima_bot_ima_request_seconds",
    "Latency of calls to IMA, by endpoint.",
    ["endpoint"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
IMA_ERRORS = Counter("ima_bot_ima_errors_total", "IMA errors by class.", ["kind"])

# ── chat platforms ────────────────────────────────────────────────────────────────────────
DEDUPLICATED = Counter(
    "ima_bot_events_deduplicated_total", "Redelivered chat events ignored.", ["platform"]
)
ACK_LATENCY = Histogram(
    "ima_bot_ack_seconds",
    "From a chat event arriving to the platform being told it was received (after it is "
    "stored), by platform.",
    ["platform"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3),
)
RATE_LIMITED = Counter(
    "ima_bot_chat_rate_limited_total",
    "Rate-limit answers (HTTP 429 and the like) from a chat platform's API, by platform.",
    ["platform"],
)
ADAPTER_UP = Gauge(
    "ima_bot_adapter_up", "1 while a chat platform's adapter is connected, else 0.", ["platform"]
)
DATABASE_UP = Gauge("ima_bot_database_up", "1 when the database took a write at the last scrape.")

#: States of jobs that wait for their turn (the queue, :mod:`core.runner`).
WAITING = frozenset({JobState.QUEUED.value})


def set_caps(user_daily: int | None, chat_daily: int | None) -> None:
    """The configured daily caps; a cap that is not set is not exported."""
    for scope, cap in (("user", user_daily), ("chat", chat_daily)):
        if cap is not None:
            DAILY_CAP.labels(scope).set(cap)
        else:
            with contextlib.suppress(KeyError):  # never set in this process
                DAILY_CAP.remove(scope)


async def read_database(store: Store, day: str) -> None:
    """Set the database's gauges from ``store`` (``day``: today's usage ledger)."""
    now = time.time()
    jobs: list[Job] = await store.active_jobs()
    waiting = [j for j in jobs if j.state in WAITING]
    running = [j for j in jobs if j.state not in WAITING]
    JOBS_WAITING.set(len(waiting))
    JOBS_RUNNING.set(len(running))
    OLDEST_RUNNING.set(max((now - j.created_at for j in running), default=0.0))
    users: Tally[tuple[str, str]] = Tally()
    chats: Tally[tuple[str, str]] = Tally()
    for row in await store.usage(day):
        if row.day == day:
            users[(row.platform, row.user_id)] += row.credits
            chats[(row.platform, row.chat_id)] += row.credits
    DAILY_HIGHEST.labels("user").set(max(users.values(), default=0))
    DAILY_HIGHEST.labels("chat").set(max(chats.values(), default=0))
