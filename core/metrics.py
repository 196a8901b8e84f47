"""Prometheus metrics of the engine and the IMA client (served by ``ima-bot run`` on /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

JOBS = Counter(
    "ima_bot_jobs_total",
    "Generation jobs by task type and how they ended (delivered, failed, cancelled, refused).",
    ["task_type", "outcome"],
)
JOBS_ACTIVE = Gauge(
    "ima_bot_jobs_active", "Jobs accepted or running in this process.", ["task_type"]
)
CREDITS = Counter("ima_bot_credits_total", "Credits charged, by task type.", ["task_type"])
IMA_LATENCY = Histogram(
    "ima_bot_ima_request_seconds",
    "Latency of calls to IMA, by endpoint.",
    ["endpoint"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
IMA_ERRORS = Counter("ima_bot_ima_errors_total", "IMA errors by class.", ["kind"])
DEDUPLICATED = Counter(
    "ima_bot_events_deduplicated_total", "Redelivered chat events ignored.", ["platform"]
)
UNDERSTANDING_FALLBACKS = Counter(
    "ima_bot_understanding_fallbacks_total",
    "Messages the understanding model gave no usable answer for (the rules read them alone).",
    ["reason"],
)
