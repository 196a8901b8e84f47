"""What the engine needs from storage, as a protocol; every backend passes one contract test
(``tests/core/store/test_store_contract.py``).

Jobs change state only through the ``mark_*`` transitions, each a single conditional write that
says whether it took effect: a transition from a state the job is no longer in (an operator
cancelled it meanwhile), or by a replica that lost the job's lease (:mod:`core.leases`),
changes nothing and returns False, so the caller stops.

When the database can't be used (it can't be opened, is full, locked, corrupt or read-only),
every method raises :class:`StoreError`, whatever the backend: its message names the cause for
the operator, and the store logs that cause once, not at every call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from core.ima.tasks import TaskType
from core.jobs import Job
from core.leases import Lease
from core.replier import Handle


class StoreError(Exception):
    """The database can't be used; ``str()`` is one sentence naming it and the cause."""


@dataclass(frozen=True)
class Preference:
    model_id: str
    version_id: str
    model_name: str
    credit: int
    updated_at: float


@dataclass(frozen=True)
class UsageRow:
    day: str
    platform: str
    user_id: str
    chat_id: str
    model_name: str
    jobs: int
    credits: int


class Admission(StrEnum):
    """Whether a new job may start, and if not, which limit stopped it."""

    OK = "ok"
    TOO_MANY = "too_many"
    USER_CAP = "user_cap"
    CHAT_CAP = "chat_cap"


@dataclass(frozen=True)
class Limits:
    max_active: int | None = None
    user_daily_credits: int | None = None
    chat_daily_credits: int | None = None


NO_LIMITS = Limits()


class Store(Protocol):
    #: This replica's id and lease time.
    lease: Lease

    async def close(self) -> None: ...

    async def ping(self) -> bool:
        """Whether the database takes a write right now (for health checks)."""
        ...

    # ── preferences, per (platform, user, task type) ──────────────────────────────────────
    async def get_preference(
        self, platform: str, user_id: str, task_type: TaskType
    ) -> Preference | None: ...

    async def set_preference(
        self, platform: str, user_id: str, task_type: TaskType, pref: Preference
    ) -> None: ...

    async def clear_preferences(
        self, platform: str, user_id: str, task_type: TaskType | None = None
    ) -> int: ...

    async def list_preferences(self, platform: str, user_id: str) -> dict[TaskType, Preference]: ...

    # ── per-person conversation state (typed in core/state.py) ────────────────────────────
    async def get_user_state(self, platform: str, user_id: str, key: str) -> Any | None: ...

    async def set_user_state(
        self, platform: str, user_id: str, key: str, value: Any | None
    ) -> None: ...

    # ── requests, stored as they arrive ───────────────────────────────────────────────────
    async def receive(
        self, key: str, request: Mapping[str, Any], *, expires_at: float | None
    ) -> bool:
        """Store a request before it is acknowledged; False if ``key`` was seen before (a
        redelivery: nothing is stored). ``expires_at``: when its short-lived fields expire."""
        ...

    async def finish_request(self, key: str) -> None:
        """The request is answered (or its job admitted): a restart doesn't answer it again."""
        ...

    async def unfinished_requests(self, since: float) -> list[Mapping[str, Any]]:
        """Requests received after ``since`` and never finished, oldest first."""
        ...

    async def first_seen(self, key: str) -> bool:
        """Record ``key`` (a button press); True the first time, False for every redelivery."""
        ...

    # ── jobs ──────────────────────────────────────────────────────────────────────────────
    async def admit(
        self, job: Job, *, day: str, limits: Limits = NO_LIMITS, request_key: str | None = None
    ) -> Admission:
        """Insert ``job`` (accepted) and reserve its credits in ``day``'s ledger, and finish
        the request ``request_key``, in one transaction — unless the person's active jobs or
        the person's or chat's credits for the day would exceed ``limits`` (then nothing is
        stored). Concurrent calls can never overshoot a cap."""
        ...

    async def mark_creating(self, job_id: str) -> bool:
        """accepted → creating, just before the create is sent."""
        ...

    async def mark_not_sent(self, job_id: str) -> bool:
        """creating → accepted: IMA provably refused the create (a price or rule mismatch), so
        it may be sent again."""
        ...

    async def mark_running(
        self, job_id: str, *, task_id: str, started_at: float, credits: int
    ) -> bool:
        """creating → running: IMA made the task (its id), at ``credits``."""
        ...

    async def reprice(self, job_id: str, credits: int, *, day: str, limits: Limits) -> Admission:
        """A job that has not been created yet gets a higher price: its reserved credits
        become ``credits`` if the caps allow it (checked in the same transaction), else nothing
        changes and the refusal says which cap."""
        ...

    async def mark_delivering(
        self, job_id: str, *, result_urls: Sequence[str], result_covers: Sequence[str | None]
    ) -> bool:
        """running → delivering, with the results stored before they are shown."""
        ...

    async def mark_delivered(self, job_id: str, *, at: float) -> bool: ...

    async def mark_failed(self, job_id: str, *, error_kind: str, at: float, release: bool) -> bool:
        """Any active state → failed; ``release`` gives its credits back (only when the create
        provably never took effect)."""
        ...

    async def mark_cancelled(self, job_id: str, *, at: float) -> bool:
        """Any active state → cancelled; credits are given back if it was never sent."""
        ...

    async def set_handle(self, job_id: str, handle: Handle, *, expires_at: float | None) -> None:
        """Where the job's message is now (and the messages that belong to it)."""
        ...

    async def set_inputs(self, job_id: str, image_urls: Sequence[str]) -> None:
        """The job's pictures, uploaded: URLs IMA reads (replacing its attachments)."""
        ...

    async def get_job(self, job_id: str) -> Job | None: ...

    async def job_state(self, job_id: str) -> str | None: ...

    async def active_jobs(self) -> list[Job]: ...

    async def job_for_message(self, platform: str, message_id: str) -> Job | None:
        """The job one of whose messages is ``message_id`` (a reply to it carries on)."""
        ...

    async def count_active(self, platform: str, user_id: str) -> int: ...

    async def recent_jobs(
        self, platform: str, user_id: str, limit: int = 10, *, chat_id: str | None = None
    ) -> list[Job]: ...

    # ── leases: which replica runs each active job (core/leases.py) ───────────────────────
    async def claim(self, now: float, *, previous_life: bool = False) -> list[Job]:
        """Take the active jobs no replica holds (unowned, or their lease expired); from
        now on this replica's ``mark_*`` writes on them are fenced by the claim."""
        ...

    async def renew(self, now: float) -> list[str]:
        """Extend every lease this replica holds; the ids of jobs it lost to another."""
        ...

    async def release(self, job_ids: Sequence[str] | None = None) -> None:
        """Give leases up (all, or ``job_ids``): another replica may take them at once."""
        ...

    async def holds(self, job_id: str) -> bool:
        """Whether this replica still holds ``job_id``'s lease."""
        ...

    # ── the usage ledger (credits reserved at admission, per job) ─────────────────────────
    async def usage(
        self, since_day: str, *, platform: str | None = None, user_id: str | None = None
    ) -> Sequence[UsageRow]: ...

    async def spent(
        self, day: str, platform: str, *, user_id: str | None = None, chat_id: str | None = None
    ) -> int:
        """Credits counted on ``day`` for one person or one chat."""
        ...

    # ── the generation log and housekeeping ───────────────────────────────────────────────
    async def log(
        self, job_id: str, step: str, detail: Mapping[str, Any] | None = None
    ) -> None: ...

    async def prune(self, now: float) -> None:
        """Forget what is older than a week: log rows, request and press keys."""
        ...

    async def scrub(self, now: float) -> int:
        """Drop short-lived credentials (:mod:`core.replier`) that expired by ``now`` from
        stored targets, handles and requests; returns how many rows changed."""
        ...
