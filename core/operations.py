"""What the operator console reads and does, without any web or chat platform in it.

The console (``bot/web``) shows these records and calls these actions; ``ima-bot admin`` could
use the same. Cancelling goes through the store's ``mark_cancelled``, the path ``ima-bot admin
cancel`` takes: the store tells the job's runner (:meth:`core.store.Store.watch_cancels`), which
stops the job at its next step and changes the person's message.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.i18n import Translator
from core.ima.errors import IMAError
from core.jobs import JobState
from core.limits import Caps, Window
from core.store import Store
from core.store.base import FailureRow, UsageRow

#: Why a job failed when its generation log doesn't name the sentence the person got (jobs
#: from before it did, and the failures that are not IMA's errors).
_OWN_REASONS = {
    "delivery": "console.reason.delivery",
    "price_changed": "console.reason.price_changed",
    "unknown_outcome": "error.unknown_outcome",
}


def _error_reasons() -> dict[str, str]:
    """Each IMA error kind's sentence: the first class in the tree that names the kind."""
    reasons: dict[str, str] = {}
    pending: list[type[IMAError]] = [IMAError]
    while pending:
        cls = pending.pop(0)
        reasons.setdefault(cls.kind, cls.locale_key)
        pending.extend(cls.__subclasses__())
    return reasons


_REASONS = {**_error_reasons(), **_OWN_REASONS}


def reason_key(kind: str, told: str | None = None) -> str:
    """The locale key of the plain sentence for a failure of ``kind`` (``told``: the one the
    person was given, when the generation log kept it)."""
    return told or _REASONS.get(kind, "error.unknown")


@dataclass(frozen=True)
class LiveJob:
    id: str
    state: JobState
    #: Its place in the queue (1 is next), when it waits for a slot.
    position: int | None
    age_seconds: int
    task_type: str
    model_name: str
    credits: int
    platform: str
    user_id: str
    chat_id: str


@dataclass(frozen=True)
class Failure:
    job_id: str
    at: float
    platform: str
    user_id: str
    chat_id: str
    model_name: str
    kind: str
    #: The plain sentence, in the console's language (the one the person got, in theirs).
    reason: str
    #: What IMA or the bot said, for the operator ("" when nothing was kept).
    detail: str


@dataclass(frozen=True)
class Total:
    key: str
    jobs: int
    credits: int


@dataclass(frozen=True)
class UsageReport:
    since_day: str
    rows: Sequence[UsageRow]
    by_day: Sequence[Total]
    by_model: Sequence[Total]
    by_person: Sequence[Total]
    by_chat: Sequence[Total]
    #: Failures in the same days, by kind, most frequent first.
    failures_by_kind: Sequence[tuple[str, int]]

    @property
    def credits(self) -> int:
        return sum(r.credits for r in self.rows)

    @property
    def jobs(self) -> int:
        return sum(r.jobs for r in self.rows)


def _totals(rows: Iterable[UsageRow], key: str) -> list[Total]:
    jobs: dict[str, int] = defaultdict(int)
    credits: dict[str, int] = defaultdict(int)
    for row in rows:
        name = {
            "day": row.day,
            "model": row.model_name,
            "person": f"{row.platform}:{row.user_id}",
            "chat": f"{row.platform}:{row.chat_id}",
        }[key]
        jobs[name] += row.jobs
        credits[name] += row.credits
    return [Total(name, jobs[name], credits[name]) for name in jobs]


def _days(since_day: str, until_day: str) -> list[str]:
    start = datetime.strptime(since_day, "%Y-%m-%d").replace(tzinfo=UTC)
    end = datetime.strptime(until_day, "%Y-%m-%d").replace(tzinfo=UTC)
    return [(start + timedelta(days=i)).strftime("%Y-%m-%d") for i in range((end - start).days + 1)]


def usage_csv(rows: Iterable[UsageRow]) -> str:
    """The ledger's rows as CSV (a spreadsheet opens it), with a header line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("day", "platform", "user", "chat", "model", "jobs", "credits"))
    for r in rows:
        writer.writerow((r.day, r.platform, r.user_id, r.chat_id, r.model_name, r.jobs, r.credits))
    return out.getvalue()


#: The caps an operator can set for a chat, in the order the console shows them.
CAP_FIELDS = ("user_credits", "chat_credits", "user_running", "chat_running")


@dataclass(frozen=True)
class CapsOverview:
    defaults: Caps
    #: Chats with caps of their own, by (platform, chat id), sorted.
    chats: Sequence[tuple[tuple[str, str], Caps]]


class Operations:
    """The console's reads and actions over one store (``defaults``: the settings' caps)."""

    def __init__(
        self,
        store: Store,
        translator: Translator,
        defaults: Caps | None = None,
        *,
        max_running: int | None = None,
    ) -> None:
        self.store = store
        self.translator = translator
        self.defaults = defaults or Caps()
        #: Everyone's limit on jobs at IMA at once: a queued job's place counts it.
        self.max_running = max_running

    async def caps(self) -> CapsOverview:
        every = await self.store.all_chat_caps()
        return CapsOverview(self.defaults, sorted(every.items()))

    async def set_caps(
        self,
        platform: str,
        chat_id: str,
        values: dict[str, int | None],
        window: Window,
    ) -> Caps:
        """Give a chat its own caps (every field: what is not given is not capped there);
        ValueError for a value the caps can't take."""
        unknown = set(values) - set(CAP_FIELDS)
        if unknown:
            raise ValueError(f"unknown caps {sorted(unknown)}")
        caps = Caps(window=window, **values)
        await self.store.set_chat_caps(platform, chat_id, caps)
        return caps

    async def clear_caps(self, platform: str, chat_id: str) -> bool:
        """The chat follows the defaults again; False when it had no caps of its own."""
        return await self.store.set_chat_caps(platform, chat_id, None)

    async def live_jobs(self, now: float) -> list[LiveJob]:
        jobs = await self.store.active_jobs()
        places = await self.store.queue_positions(self.max_running)
        return [
            LiveJob(
                id=job.id,
                state=job.state,
                position=places.get(job.id),
                age_seconds=max(0, int(now - job.created_at)),
                task_type=job.task_type.value,
                model_name=job.model_name,
                credits=job.credits,
                platform=job.platform,
                user_id=job.user_id,
                chat_id=job.chat_id,
            )
            for job in jobs
        ]

    async def cancel(self, job_id: str, now: float) -> bool:
        """Stop a live job; False when it has ended meanwhile (or never was)."""
        return await self.store.mark_cancelled(job_id, at=now)

    async def usage(self, days: int, today: str) -> UsageReport:
        """The last ``days`` days up to ``today`` (UTC, as the ledger counts them)."""
        since = (datetime.strptime(today, "%Y-%m-%d") - timedelta(days=days - 1)).strftime(
            "%Y-%m-%d"
        )
        rows = await self.store.usage(since)
        since_at = datetime.strptime(since, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()
        failures = await self.store.recent_failures(since_at, limit=None)
        by_day = {t.key: t for t in _totals(rows, "day")}
        return UsageReport(
            since_day=since,
            rows=rows,
            by_day=[by_day.get(day, Total(day, 0, 0)) for day in _days(since, today)],
            by_model=sorted(_totals(rows, "model"), key=lambda t: (-t.credits, t.key)),
            by_person=sorted(_totals(rows, "person"), key=lambda t: (-t.credits, t.key)),
            by_chat=sorted(_totals(rows, "chat"), key=lambda t: (-t.credits, t.key)),
            failures_by_kind=Counter(f.error_kind for f in failures).most_common(),
        )

    def reason(self, locale: str, kind: str) -> str:
        """The plain sentence for a failure kind, as the console shows it."""
        return self.translator.t(locale, reason_key(kind))

    async def failures(self, locale: str, *, since: float, limit: int = 50) -> list[Failure]:
        return [
            self._failure(locale, row) for row in await self.store.recent_failures(since, limit)
        ]

    def _failure(self, locale: str, row: FailureRow) -> Failure:
        try:
            reason = self.translator.t(locale, reason_key(row.error_kind, row.reason))
        except (KeyError, IndexError):  # a sentence that needs values the log didn't keep
            reason = self.translator.t(locale, reason_key(row.error_kind))
        return Failure(
            job_id=row.job_id,
            at=row.at,
            platform=row.platform,
            user_id=row.user_id,
            chat_id=row.chat_id,
            model_name=row.model_name,
            kind=row.error_kind,
            reason=reason,
            detail=row.detail or "",
        )
