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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from core.access import AccessEntry, AccessKind
from core.ima.tasks import TaskType
from core.jobs import Job, JobState
from core.leases import Lease
from core.limits import NO_CAPS, Caps
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
    #: The person chose it ("always use X", a yes to "make it your default?"): binding. False:
    #: saved because they used it, which the planner treats like the recommended default.
    chosen: bool = True


@dataclass(frozen=True)
class UsageRow:
    day: str
    platform: str
    user_id: str
    chat_id: str
    model_name: str
    jobs: int
    credits: int


@dataclass(frozen=True)
class FailureRow:
    """A failed job as the operator console lists it."""

    job_id: str
    at: float
    platform: str
    user_id: str
    chat_id: str
    model_name: str
    error_kind: str
    #: The locale key of the sentence the person was given, when the generation log kept it.
    reason: str | None
    #: The technical detail (IMA's words), when the generation log kept it.
    detail: str | None


@dataclass(frozen=True)
class ConsoleSession:
    """A signed-in operator's session of the console (its token is known only as a hash)."""

    csrf: str
    expires_at: float


class Admission(StrEnum):
    """Whether a new job may start, and if not, which limit stopped it."""

    #: Stored, and started at once.
    OK = "ok"
    #: Stored, waiting for a slot (its credits are reserved all the same).
    QUEUED = "queued"
    USER_CAP = "user_cap"
    CHAT_CAP = "chat_cap"
    #: Not stored: the request is answered elsewhere (another replica took it over).
    ANSWERED = "answered"

    @property
    def admitted(self) -> bool:
        return self in (Admission.OK, Admission.QUEUED)


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
        """Store a request before it is acknowledged, leased to this replica while it answers
        it; False if ``key`` was seen before (a redelivery: nothing is stored).
        ``expires_at``: when its short-lived fields expire."""
        ...

    async def finish_request(self, key: str) -> None:
        """The request is answered (or its job admitted): a restart doesn't answer it again."""
        ...

    async def claim_requests(
        self, since: float, now: float, *, previous_life: bool = False
    ) -> list[Mapping[str, Any]]:
        """Take the requests received after ``since``, never finished, that no live replica is
        answering (unowned, or their lease expired; ``previous_life``: also those this replica
        id held before it restarted), oldest first. Their leases are renewed with the jobs'."""
        ...

    async def first_seen(self, key: str) -> bool:
        """Record ``key`` (a button press); True the first time, False for every redelivery."""
        ...

    # ── jobs ──────────────────────────────────────────────────────────────────────────────
    async def admit(
        self,
        job: Job,
        *,
        caps: Caps = NO_CAPS,
        max_running: int | None = None,
        request_key: str | None = None,
    ) -> Admission:
        """Insert ``job``, reserve its credits in the ledger and finish the request
        ``request_key``, in one transaction — unless the person's or the chat's credits in
        ``caps``' window (the one holding ``job.created_at``) would exceed them (then nothing
        is stored). Concurrent calls can never overshoot a cap.

        It is stored accepted (:attr:`Admission.OK`) when it has a slot (see :meth:`promote`)
        and no queued job waits for one it needs, else queued (:attr:`Admission.QUEUED`);
        ``job.state`` is set to match.

        With ``request_key``, the request must be unfinished and this replica's: otherwise
        another replica answers it (or has), nothing is stored and the verdict is
        :attr:`Admission.ANSWERED`. So one request never makes two jobs, whatever races."""
        ...

    async def promote(self, max_running: int | None = None) -> list[Job]:
        """Give free slots to queued jobs, oldest first, and return them (now accepted), in
        one transaction: a job starts when its person and its chat hold fewer jobs than its
        ``user_slots`` / ``chat_slots``, and when fewer than ``max_running`` jobs hold one in
        all. Every caller (any process, any replica) gets a job at most once, and no limit is
        ever exceeded."""
        ...

    async def queue_positions(self, max_running: int | None = None) -> dict[str, int]:
        """Each queued job's place in the queue (1: next): one plus the queued jobs before it
        that wait for the same slots (its person's, its chat's when it has a chat limit, and
        everyone's under ``max_running``)."""
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

    async def reprice(self, job_id: str, credits: int, *, caps: Caps = NO_CAPS) -> Admission:
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
        """Any active state → cancelled; credits are given back if it was never sent (queued
        or accepted)."""
        ...

    def watch_cancels(self, told: Callable[[str], None]) -> None:
        """From now on, call ``told(job_id)`` for every job cancelled: at once when through
        this store (before :meth:`mark_cancelled` returns), and within a few seconds when by
        another process on the same database (``ima-bot admin cancel``, another replica). It
        may hear of a job more than once, and of jobs not running here. Call it inside the
        event loop."""
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

    async def active_counts(self, platform: str, user_id: str) -> dict[JobState, int]:
        """How many of the person's jobs are in each active state (states with none left
        out)."""
        ...

    async def recent_jobs(
        self, platform: str, user_id: str, limit: int = 10, *, chat_id: str | None = None
    ) -> list[Job]: ...

    # ── leases: which replica runs each active job (core/leases.py) ───────────────────────
    async def claim(self, now: float, *, previous_life: bool = False) -> list[Job]:
        """Take the active jobs no replica holds (unowned, or their lease expired); from
        now on this replica's ``mark_*`` writes on them are fenced by the claim."""
        ...

    async def renew(self, now: float) -> list[str]:
        """Extend every lease this replica holds (jobs and requests); the ids of jobs it lost
        to another."""
        ...

    async def next_lease_end(self, now: float) -> float | None:
        """When the first lease another replica holds on an active job runs out (after
        ``now``), or None: a replica that died stops renewing, so its jobs can be claimed
        from then on."""
        ...

    async def release(self, job_ids: Sequence[str] | None = None) -> None:
        """Give leases up (all, or ``job_ids``): another replica may take them at once."""
        ...

    async def holds(self, job_id: str) -> bool:
        """Whether this replica still holds ``job_id``'s lease."""
        ...

    # ── caps a chat has instead of the defaults (core/limits.py) ──────────────────────────
    async def chat_caps(self, platform: str, chat_id: str) -> Caps | None:
        """The chat's own caps, or None: the defaults apply."""
        ...

    async def set_chat_caps(self, platform: str, chat_id: str, caps: Caps | None) -> bool:
        """Give the chat its own caps (None: back to the defaults); whether anything changed."""
        ...

    async def all_chat_caps(self) -> dict[tuple[str, str], Caps]:
        """Every chat's own caps, by (platform, chat id)."""
        ...

    # ── allowlists: ids operators added to the settings' (core/access.py) ──────────────────
    async def access_entries(self) -> list[AccessEntry]:
        """Every id operators added, on every platform."""
        ...

    async def add_access_entry(
        self, platform: str, kind: AccessKind, entry_id: str, at: float
    ) -> bool:
        """Add one id to ``platform``'s allowlist of ``kind``; False when it is there already."""
        ...

    async def remove_access_entry(self, platform: str, kind: AccessKind, entry_id: str) -> bool:
        """Take one id out; False when it was not there."""
        ...

    # ── the console's sessions and wrong passwords, shared by every replica (bot/web) ────
    async def start_session(self, token_hash: str, session: ConsoleSession, *, now: float) -> None:
        """Keep a new session under its token's hash (never the token), forgetting those
        that ended by ``now``."""
        ...

    async def session(self, token_hash: str, *, now: float) -> ConsoleSession | None:
        """The session of that token hash, unless it ended by ``now`` (or never was)."""
        ...

    async def end_session(self, token_hash: str) -> None: ...

    async def login_failed(self, address: str, *, now: float, window: float) -> None:
        """Count a wrong password from ``address`` at ``now``; those older than ``window``
        seconds are forgotten (from every address)."""
        ...

    async def login_failures(self, address: str, *, since: float) -> int:
        """Wrong passwords from ``address`` at ``since`` or later."""
        ...

    # ── the usage ledger (credits reserved at admission, per job) ─────────────────────────
    async def usage(
        self, since_day: str, *, platform: str | None = None, user_id: str | None = None
    ) -> Sequence[UsageRow]: ...

    async def spent(
        self, since: float, platform: str, *, user_id: str | None = None, chat_id: str | None = None
    ) -> int:
        """Credits counted since ``since`` (a window's start) for one person or one chat."""
        ...

    async def recent_failures(self, since: float, limit: int | None = 50) -> list[FailureRow]:
        """Jobs that failed at ``since`` or later, the latest first (at most ``limit``)."""
        ...

    # ── the generation log and housekeeping ───────────────────────────────────────────────
    async def log(
        self, job_id: str, step: str, detail: Mapping[str, Any] | None = None
    ) -> None: ...

    async def prune(self, now: float) -> None:
        """Forget what is older than a week (log rows, request and press keys) and the
        console's sessions that ended by ``now``."""
        ...

    async def scrub(self, now: float) -> int:
        """Drop short-lived credentials (:mod:`core.replier`) that expired by ``now`` from
        stored targets, handles and requests; returns how many rows changed."""
        ...
