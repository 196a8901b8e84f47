"""Running jobs: admission, the queue, the first message, upload, create, poll, deliver or fail.

The runner owns every job's task: :meth:`JobRunner.admit` stores the job (reserving its credits
within the caps) and returns; the job then runs in a task of the runner's, whoever asked for it.

A job without a free slot (its person's, its chat's or everyone's limit of jobs at IMA at once)
waits in the queue: its message shows its place and when it should start, with a button to
leave. The store decides who gets a slot (:meth:`core.store.Store.promote`, one transaction);
the runner asks it again whenever a job here leaves IMA, and every :data:`QUEUE_TICK` seconds
while jobs wait (another process's job may have ended, or an admin cancelled one), starts what
it was given and edits the waiting messages whose place changed.
Every step is a store transition written before the step happens (:mod:`core.jobs` explains
what a restart does in each state), so :meth:`resume` can carry on from any of them without
ever creating a task twice or showing a result twice.

Money rules kept here:

* the create is sent only at the price the person was shown; when IMA computes another price,
  a lower one is taken and a higher one is put to the person first (one tap), never paid;
* credits are given back only when IMA provably refused the create; when the answer to a create
  was lost, the job may exist and stay counted, and the person is told so plainly.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core import choice
from core.ima.catalog import Catalog, Model
from core.ima.client import CreatedTask, IMAClient
from core.ima.errors import IMAError, RuleMismatchError, UnknownOutcomeError
from core.ima.polling import Media
from core.ima.rules import Quote, quote
from core.ima.tasks import TaskType, Timing
from core.ima.timing import timing_for, timing_for_task
from core.ima.upload import MAX_IMAGE_BYTES
from core.jobs import Job, JobState, new_job_id
from core.limits import NO_CAPS
from core.logcontext import context_about
from core.messages import Messages, Offer
from core.metrics import CREDITS, DELIVERIES_FAILED, JOBS, JOBS_ACTIVE, JOBS_RESUMED
from core.planning import Plan
from core.policy import Policy
from core.preferences import Preferences
from core.replier import Handle, Replier, Reply, expiry, fit
from core.store import Admission, Store, StoreError
from core.wants import Refused, Wants, map_wants

log = logging.getLogger(__name__)

#: Pauses before each attempt to show a message that must be seen (result, failure).
_SHOW_PAUSES = (0.0, 1.0, 3.0)
#: How long a stopping runner waits for creates and messages in flight.
STOP_GRACE = 15.0
#: A look for a dead replica's jobs comes this fraction of a lease after its first lease ends.
_AFTER_LEASE_END = 0.05
#: Seconds between looks at the queue while jobs wait (scaled like every other time).
QUEUE_TICK = 5.0


class _Cancelled(Exception):
    """The job was cancelled (the console, ``ima-bot admin cancel``) while it ran."""


@dataclass(frozen=True)
class Requester:
    """Who a job is for and where it answers."""

    platform: str
    user_id: str
    chat_id: str
    locale: str
    reply_target: Mapping[str, Any]
    #: No limit applies to them (the platform's admins).
    admin: bool = False
    #: Only they and the bot see the conversation (a DM).
    private: bool = False


def today() -> str:
    """The day of the usage ledger (UTC), which daily caps count."""
    return datetime.now(UTC).strftime("%Y-%m-%d")


RepliersFor = Callable[[str, Mapping[str, Any]], Replier | None]
Fetch = Callable[[str, Mapping[str, Any], int], Coroutine[Any, Any, bytes]]


class JobRunner:
    def __init__(
        self,
        client: IMAClient,
        store: Store,
        messages: Messages,
        preferences: Preferences,
        policy: Policy,
        time_scale: float,
        *,
        repliers: RepliersFor,
        fetch: Fetch,
    ) -> None:
        """``repliers(platform, target)`` rebuilds a replier for a stored job (None: that
        platform is not running here); ``fetch(platform, ref, max_bytes)`` downloads an
        attachment through its adapter."""
        self.client = client
        self.store = store
        self.messages = messages
        self.preferences = preferences
        self.policy = policy
        self.time_scale = time_scale
        self._repliers = repliers
        self._fetch = fetch
        #: Job id → the task running it in this process.
        self._tasks: dict[str, asyncio.Task[None]] = {}
        #: Jobs whose create is on its way to IMA (until its answer is stored), and jobs whose
        #: message is being sent (until where it is now is stored): a stop waits for both, so
        #: no job is left "maybe sent" and no message is sent twice.
        self._creating: set[str] = set()
        self._showing: set[str] = set()
        self._closing = False
        #: Renews this replica's leases and takes over dead replicas' jobs (see :meth:`resume`).
        self._keeper: asyncio.Task[None] | None = None
        #: Queued jobs admitted here whose first message is on its way, and those of them the
        #: queue gave a slot meanwhile (started once that message is shown).
        self._announcing: set[str] = set()
        self._deferred: set[str] = set()
        #: Queued jobs whose message this process shows, with the place it shows, and the
        #: repliers of those admitted here (a Discord interaction's, say).
        self._places: dict[str, int] = {}
        self._waiting: dict[str, Replier] = {}
        #: The one task looking at the queue (and whether to look again when it is done), and
        #: the timer that asks it to while jobs wait.
        self._advancing: asyncio.Task[None] | None = None
        self._again = False
        self._ticker: asyncio.Task[None] | None = None
        self._others: set[asyncio.Task[None]] = set()
        #: Jobs running here that were cancelled: each stops at its next status check. The
        #: store tells of every cancel (:meth:`Store.watch_cancels`), so no check reads it.
        self._cancelled: set[str] = set()
        store.watch_cancels(self._told_cancelled)

    # ── starting ──────────────────────────────────────────────────────────────────────────

    async def admit(
        self, plan: Plan, who: Requester, replier: Replier, *, request_key: str | None = None
    ) -> Admission:
        """Store the job within the caps and start it, or queue it; returns at once with the
        verdict."""
        job = self._job(plan, who)
        caps = await self.policy.caps_in(self.store, who.platform, who.chat_id, admin=who.admin)
        job.user_slots, job.chat_slots = caps.user_running, caps.chat_running
        admission = await self.store.admit(
            job, caps=caps, max_running=self.policy.max_running, request_key=request_key
        )
        if not admission.admitted:
            JOBS.labels(job.task_type.value, "refused").inc()
            return admission
        if admission is Admission.OK:
            self._spawn(job, self._start(job, self._before(job, plan), replier))
        else:
            self._announcing.add(job.id)
            self._waiting[job.id] = replier
            self._background(self._announce(job, plan, replier))
        return admission

    def sketch(self, plan: Plan, who: Requester) -> str:
        """The first message the job of ``plan`` would get (a dry run's "what I'd say")."""
        return self._before(self._job(plan, who), plan).text

    def _job(self, plan: Plan, who: Requester) -> Job:
        draft = plan.draft
        return Job(
            id=new_job_id(),
            platform=who.platform,
            user_id=who.user_id,
            chat_id=who.chat_id,
            locale=who.locale,
            task_type=draft.task_type,
            version_id=plan.model.version_id,
            model_id=plan.model.model_id,
            model_name=plan.model.name,
            prompt=draft.prompt,
            params=dict(plan.quote.params),
            n=plan.quote.n,
            credits=plan.quote.credits,
            source=plan.source,
            reply_target=dict(who.reply_target),
            image_urls=draft.image_urls,
            attachments=tuple(dataclasses.asdict(a) for a in draft.attachments),
            created_at=time.time(),
            origin_id=draft.origin_id,
            wants=draft.wants.to_json(),
        )

    def _before(self, job: Job, plan: Plan) -> Reply:
        timing = self.timing(plan.model, job.task_type)
        return self.messages.before(
            job,
            estimate=(timing.estimate_low, timing.estimate_high),
            each=plan.quote.rule.points,
            notes=plan.notes,
            cheaper=plan.cheaper,
        )

    def _spawn(self, job: Job, work: Coroutine[Any, Any, None]) -> None:
        JOBS_ACTIVE.labels(job.task_type.value).inc()
        # Every log line of the job's task (the IMA client's too) names the job.
        about = context_about(job_id=job.id, platform=job.platform, user=job.user_id)
        task = asyncio.create_task(work, name=f"job-{job.id}", context=about)
        self._tasks[job.id] = task

        def done(finished: asyncio.Task[None]) -> None:
            self._tasks.pop(job.id, None)
            self._cancelled.discard(job.id)
            JOBS_ACTIVE.labels(job.task_type.value).dec()
            self._kick()  # its slot is free
            if finished.cancelled() or (error := finished.exception()) is None:
                return
            if isinstance(error, StoreError):  # the store has logged the cause
                log.warning("job %s stopped: its database can't be used; left to the next start",
                            job.id)  # fmt: skip
            else:
                log.error("job %s stopped on an unexpected error", job.id, exc_info=error)

        task.add_done_callback(done)

    def _told_cancelled(self, job_id: str) -> None:
        if job_id in self._tasks:
            self._cancelled.add(job_id)

    async def _start(self, job: Job, before: Reply, replier: Replier) -> None:
        if not await self._show(job, replier, before):
            # Nobody can see this job: stop before anything is spent.
            await self.store.mark_failed(
                job.id, error_kind="delivery", at=time.time(), release=True
            )
            self._finished(job, JobState.FAILED)
            return
        await self._step(job, "accepted", model=job.version_id, credits=job.credits)
        await self._create_and_deliver(job, replier)

    # ── the queue ─────────────────────────────────────────────────────────────────────────

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        """Queue work in a task of its own; its errors are logged, never raised."""
        task = asyncio.create_task(work)
        self._others.add(task)
        task.add_done_callback(self._others.discard)
        task.add_done_callback(_log_failure)

    async def _announce(self, job: Job, plan: Plan, replier: Replier) -> None:
        """The first message of a job that waits: its place in the queue."""
        try:
            positions = await self.store.queue_positions(self.policy.max_running)
            place = positions.get(job.id)
            if place is not None:
                reply = self._queued(job, place, self.timing(plan.model, job.task_type), plan)
                if await self._show(job, replier, reply):
                    self._places[job.id] = place
        finally:
            self._announcing.discard(job.id)
        if job.id in self._deferred:  # given a slot while its message was on its way
            self._deferred.discard(job.id)
            self._launch(job)
        self._tick()

    def _queued(self, job: Job, place: int, timing: Timing, plan: Plan | None = None) -> Reply:
        slots = min(
            (n for n in (job.user_slots, job.chat_slots, self.policy.max_running) if n), default=1
        )
        typical = (timing.estimate_low + timing.estimate_high) / 2
        return self.messages.queued(
            job,
            position=place,
            wait=math.ceil(place / slots) * typical,
            estimate=(timing.estimate_low, timing.estimate_high),
            each=plan.quote.rule.points if plan else job.credits // max(job.n, 1),
            notes=plan.notes if plan else (),
        )

    def _launch(self, job: Job) -> None:
        """Start a job the queue gave a slot (once, in this process); while stopping it stays
        accepted, and the next start sends it."""
        if job.id in self._tasks or self._closing:
            return
        if job.id in self._announcing:
            self._deferred.add(job.id)
            return
        replier = self._replier(job)
        if replier is None:  # its platform doesn't run here: a replica where it does takes it
            self._background(self.store.release([job.id]))
            return
        self._places.pop(job.id, None)
        self._waiting.pop(job.id, None)
        self._spawn(job, self._begin(job, replier))

    def _replier(self, job: Job) -> Replier | None:
        """Where a waiting job answers: where it was asked, else rebuilt from its target."""
        return self._waiting.get(job.id) or self._repliers(job.platform, job.reply_target)

    async def _begin(self, job: Job, replier: Replier) -> None:
        catalog = await self._catalog_or_none(job.task_type)
        model = catalog.resolve(job.version_id, job.model_id) if catalog else None
        timing = self.timing(model, job.task_type)
        before = self.messages.before(
            job,
            estimate=(timing.estimate_low, timing.estimate_high),
            each=job.credits // max(job.n, 1),
        )
        await self._start(job, before, replier)

    def _kick(self) -> None:
        """Look at the queue soon: a slot may have freed."""
        if self._closing:
            return
        if self._advancing is not None and not self._advancing.done():
            self._again = True
            return
        self._advancing = asyncio.create_task(self._advance())
        self._advancing.add_done_callback(_log_failure)

    async def _advance(self) -> None:
        while True:
            self._again = False
            for job in await self.store.promote(self.policy.max_running):
                self._launch(job)
            await self._refresh_places()
            if not self._again or self._closing:
                return

    async def _refresh_places(self) -> None:
        """Edit every waiting message whose place changed; say so on those cancelled."""
        positions = await self.store.queue_positions(self.policy.max_running)
        for job_id in [j for j in self._places if j not in positions]:
            del self._places[job_id]
            left = await self.store.get_job(job_id)
            if left is not None and left.state is JobState.CANCELLED:
                replier = self._replier(left)
                self._waiting.pop(job_id, None)
                if replier is not None:
                    await self._show(left, replier, self.messages.left_queue(left))
        if not positions:
            return
        for job in await self.store.active_jobs():
            place = positions.get(job.id)
            if place is None or self._places.get(job.id) == place or job.id in self._announcing:
                continue
            if self._closing or job.id in self._tasks:
                continue
            replier = self._replier(job)
            if replier is None:
                continue
            catalog = await self._catalog_or_none(job.task_type)
            model = catalog.resolve(job.version_id, job.model_id) if catalog else None
            reply = self._queued(job, place, self.timing(model, job.task_type))
            if await self._show(job, replier, reply, final=False):
                self._places[job.id] = place

    def _tick(self) -> None:
        """Look at the queue every :data:`QUEUE_TICK` seconds while jobs wait here."""
        if self._ticker is None or self._ticker.done():
            self._ticker = asyncio.create_task(self._ticking())
            self._ticker.add_done_callback(_log_failure)

    async def _ticking(self) -> None:
        while not self._closing and (self._places or self._announcing):
            await asyncio.sleep(max(0.05, QUEUE_TICK * self.time_scale))
            self._kick()

    async def leave_queue(self, job: Job) -> bool:
        """Take a waiting job out of the queue (its credits are given back) and say so in
        its message; False when it no longer waits."""
        if job.state is not JobState.QUEUED or not await self.store.mark_cancelled(
            job.id, at=time.time()
        ):
            return False
        self._places.pop(job.id, None)
        await self._step(job, "cancelled")
        self._finished(job, JobState.CANCELLED)
        replier = self._waiting.pop(job.id, None) or self._repliers(job.platform, job.reply_target)
        if replier is not None:
            await self._show(job, replier, self.messages.left_queue(job))
        self._kick()
        return True

    def timing(self, model: Model | None, task_type: TaskType) -> Timing:
        # A model that left the catalog while its job ran falls back to the table's timing.
        timing = timing_for(model) if model else timing_for_task(task_type)
        scale = self.time_scale
        if scale == 1.0:
            return timing
        return Timing(
            estimate_low=max(1, math.ceil(timing.estimate_low * scale)),
            estimate_high=max(1, math.ceil(timing.estimate_high * scale)),
            poll_every=timing.poll_every * scale,
            progress_every=timing.progress_every * scale,
            max_wait=timing.max_wait * scale,
        )

    # ── create ────────────────────────────────────────────────────────────────────────────

    async def _create_and_deliver(self, job: Job, replier: Replier) -> None:
        try:
            task = await self._create(job, replier)
        except _Cancelled:
            await self._say_cancelled(job, replier)
            return
        if task is not None:
            await self._poll_and_deliver(job, replier)

    async def _create(self, job: Job, replier: Replier) -> CreatedTask | None:
        """Upload the inputs and create the task at the price shown; None when the job ended
        instead (its failure told)."""
        try:
            catalog = await self.client.catalog(job.task_type)
            model = catalog.resolve(job.version_id, job.model_id)
            if model is None:
                raise RuleMismatchError(f"{job.version_id} is no longer offered")
            await self._prepare_inputs(job)
        except IMAError as exc:  # nothing was sent yet
            await self._fail(job, exc, replier, release=True)
            return None
        q = quote(model, job.params, job.n)
        for attempt in range(2):
            if q.credits > job.credits:
                await self._price_rose(job, q, replier)
                return None
            if q.credits < job.credits:  # cheaper than shown: always within the caps
                await self.store.reprice(job.id, q.credits, caps=NO_CAPS)
                job.credits = q.credits
            if self._closing:
                return None  # left accepted: the next start sends it
            if not await self.store.mark_creating(job.id):
                raise _Cancelled
            job.state = JobState.CREATING
            self._creating.add(job.id)
            try:
                task = await self.client.create(q, job.prompt, image_urls=job.image_urls)
                started_at = time.time()
                # Committed before anything else: from here on a restart polls, never
                # re-creates. A stop waits for this too, not only for IMA's answer.
                running = await self.store.mark_running(
                    job.id, task_id=task.task_id, started_at=started_at, credits=task.quote.credits
                )
            except RuleMismatchError as exc:
                # Refused before anything was charged: read the catalog again and re-price.
                await self.store.mark_not_sent(job.id)
                job.state = JobState.ACCEPTED
                fresh = await self._requote(q, job) if attempt == 0 else None
                if fresh is None:
                    await self._fail(job, exc, replier, release=True)
                    return None
                q = fresh
                continue
            except IMAError as exc:
                await self._fail(job, exc, replier, release=exc.refused)
                return None
            finally:
                self._creating.discard(job.id)
            if not running:  # cancelled while the create was on its way (it stays counted)
                raise _Cancelled
            job.state, job.ima_task_id, job.started_at = JobState.RUNNING, task.task_id, started_at
            job.credits = task.quote.credits
            CREDITS.labels(job.task_type.value).inc(job.credits)
            await self._step(job, "created", task_id=task.task_id, credits=job.credits)
            return task
        return None

    async def _requote(self, q: Quote, job: Job) -> Quote | None:
        try:
            return await self.client.requote(q, job.params)
        except IMAError:
            return None

    async def _prepare_inputs(self, job: Job) -> None:
        """Attachments downloaded through their adapter and uploaded; results IMA can't read
        as they are (not https) uploaded again."""
        if job.attachments:
            data = [
                await self._fetch(job.platform, a.get("ref") or {}, MAX_IMAGE_BYTES)
                for a in job.attachments
            ]
            urls = [*job.image_urls, *await self.client.prepare_images(data)]
        elif any(not url.startswith("https://") for url in job.image_urls):
            urls = await self.client.prepare_images(job.image_urls)
        else:
            return
        job.image_urls, job.attachments = tuple(urls), ()
        await self.store.set_inputs(job.id, job.image_urls)

    async def _price_rose(self, job: Job, q: Quote, replier: Replier) -> None:
        """IMA asks more than the person was shown: ask them, never pay it unasked."""
        log.warning("job %s: price rose from %s to %s credits", job.id, job.credits, q.credits)
        reply = self.messages.price_changed(job, q.credits)
        await self._show(job, replier, reply)
        await self.store.mark_failed(
            job.id, error_kind="price_changed", at=time.time(), release=True
        )
        await self._step(job, "failed", error="price_changed", credits=q.credits)
        self._finished(job, JobState.FAILED)

    # ── poll and deliver ──────────────────────────────────────────────────────────────────

    async def _poll_and_deliver(self, job: Job, replier: Replier) -> None:
        try:
            catalog = await self.client.catalog(job.task_type)
            timing = self.timing(catalog.resolve(job.version_id, job.model_id), job.task_type)
            medias = await self._wait(job, replier, timing)
        except IMAError as exc:
            await self._fail(job, exc, replier, release=False)
            return
        except _Cancelled:
            await self._say_cancelled(job, replier)
            return
        results, covers = tuple(m.url for m in medias), tuple(m.cover_url for m in medias)
        # The result's buttons work the moment it is shown: store what they need first.
        if not await self.store.mark_delivering(job.id, result_urls=results, result_covers=covers):
            await self._say_cancelled(job, replier)
            return
        job.state, job.result_urls, job.result_covers = JobState.DELIVERING, results, covers
        self._kick()  # it left IMA: its slot is free
        await self._deliver(job, replier, catalog, timing)

    async def _wait(self, job: Job, replier: Replier, timing: Timing) -> list[Media]:
        task_id, started_at = job.ima_task_id, job.started_at
        if task_id is None or started_at is None:
            raise ValueError(f"job {job.id} has no task to poll")
        estimate = (timing.estimate_low, timing.estimate_high)
        monotonic_start = time.monotonic() - (time.time() - started_at)
        last_progress = 0.0
        last_text = ""

        def due(elapsed: float) -> bool:
            """Whether on_poll has anything to do: a cancel to notice or progress to show."""
            return job.id in self._cancelled or (
                elapsed - last_progress >= timing.progress_every and job.handle is not None
            )

        async def on_poll(elapsed: float) -> None:
            nonlocal last_progress, last_text
            if job.id in self._cancelled:
                raise _Cancelled
            if not due(elapsed):
                return
            last_progress = elapsed
            reply = self.messages.progress(job, elapsed=elapsed, estimate=estimate)
            if reply.text != last_text:
                last_text = reply.text
                await self._show(job, replier, reply, final=False)

        return await self.client.wait(
            task_id, job.n, timing, started_at=monotonic_start, on_poll=on_poll, due=due
        )

    async def _deliver(
        self,
        job: Job,
        replier: Replier,
        catalog: Catalog | None,
        timing: Timing,
        *,
        again: bool = False,
    ) -> None:
        """Show the stored results; ``again``: after a restart, by editing only and quietly."""
        started_at = job.started_at or job.created_at
        question = await self.preferences.after_success(job, catalog)
        reply = self.messages.success(
            job,
            estimate=(timing.estimate_low, timing.estimate_high),
            actual=(job.finished_at or time.time()) - started_at,
            media=_results(job),
        )
        if again:
            reply = dataclasses.replace(reply, quiet=True)
        if not await self._show(job, replier, reply):
            # The result exists but the chat refused it: the next start shows it again.
            log.error("job %s: result not delivered, left for the next start", job.id)
            return
        if not await self.store.mark_delivered(job.id, at=time.time()):
            # Cancelled meanwhile, or its lease was lost: then the replica holding it now
            # shows the result again (quietly, by editing) and asks what follows; asking here
            # too would ask twice.
            log.warning("job %s: shown, but no longer this replica's to finish", job.id)
            return
        await self._step(job, "delivered", seconds=round(time.time() - started_at, 1))
        self._finished(job, JobState.DELIVERED)
        if question is not None:
            await self._ask(job, replier, dataclasses.replace(question, quiet=again))

    # ── ending ────────────────────────────────────────────────────────────────────────────

    async def _fail(self, job: Job, exc: IMAError, replier: Replier, *, release: bool) -> None:
        log.warning("job %s failed: %s", job.id, exc.log_fields())
        if job.state is JobState.CREATING and not release:
            # The create may have reached IMA: say so, keep it counted, suggest nothing. The
            # error's own sentence is not used: it may invite a retry ("try again in a moment").
            reply = self.messages.maybe_made(job, UnknownOutcomeError.locale_key)
            await self._finish_failed(
                job, "unknown_outcome", reply, replier, release=False,
                reason=UnknownOutcomeError.locale_key, detail=exc.detail,
            )  # fmt: skip
            return
        catalog = await self._catalog_or_none(job.task_type)
        offers: list[Offer] = []
        failed = catalog.resolve(job.version_id, job.model_id) if catalog else None
        if catalog is not None and failed is not None and exc.suggest_other_model:
            wants = Wants.from_json(job.wants)
            for alt in choice.alternatives(catalog, failed, count=4):
                try:
                    mapped = map_wants(alt, wants, catalog)
                except Refused:
                    continue
                credits = quote(alt, mapped.params, job.n).credits
                offers.append(Offer(alt, credits, choice.tag(catalog, alt)))
                if len(offers) == 2:
                    break
        reply = self.messages.failure(
            job,
            reason_key=exc.locale_key,
            offers=offers,
            retry_same=exc.transient or (exc.suggest_other_model and not offers),
        )
        await self._finish_failed(
            job, exc.kind, reply, replier, release=release, reason=exc.locale_key, detail=exc.detail
        )

    async def _finish_failed(
        self,
        job: Job,
        kind: str,
        reply: Reply,
        replier: Replier,
        *,
        release: bool,
        reason: str | None = None,
        detail: str | None = None,
    ) -> None:
        """``reason``: the locale key of the sentence the person was given, and ``detail`` the
        technical one, kept in the generation log for the operator console."""
        await self._show(job, replier, reply)
        await self.store.mark_failed(job.id, error_kind=kind, at=time.time(), release=release)
        told = {k: v for k, v in (("reason", reason), ("detail", detail)) if v}
        await self._step(job, "failed", error=kind, **told)
        self._finished(job, JobState.FAILED)

    async def _say_cancelled(self, job: Job, replier: Replier) -> None:
        if not await self.store.holds(job.id):
            # Another replica took the job over (this one's lease ran out): it carries on.
            log.warning("job %s: taken over by another replica; stopped here", job.id)
            return
        await self._show(job, replier, self.messages.cancelled(job))
        await self._step(job, "cancelled")
        self._finished(job, JobState.CANCELLED)

    def _finished(self, job: Job, outcome: JobState) -> None:
        JOBS.labels(job.task_type.value, outcome.value).inc()

    async def _catalog_or_none(self, task_type: TaskType) -> Catalog | None:
        try:
            return await self.client.catalog(task_type)
        except IMAError:
            return None

    # ── showing ───────────────────────────────────────────────────────────────────────────

    async def _show(self, job: Job, replier: Replier, reply: Reply, *, final: bool = True) -> bool:
        """Put ``reply`` in the job's one message (sent the first time, edited after) and keep
        where the message is now.

        Progress is best effort. A message that must be seen is tried again when the platform
        refuses it; False when it never got through.
        """
        if self._closing and not final:
            return False  # progress is not worth holding up a stop
        reply = fit(reply, replier.limits)
        self._showing.add(job.id)
        try:
            for pause in _SHOW_PAUSES if final else (0.0,):
                if pause:  # a first try goes at once, without a turn of the event loop
                    await asyncio.sleep(pause)
                try:
                    if job.handle is None:
                        handle = await replier.send(reply)
                    else:
                        handle = await replier.edit(job.handle, reply)
                except Exception:  # any adapter's error: the platform did not take the message
                    log.warning("job %s: %s message refused", job.id, reply.stage, exc_info=True)
                    continue
                await self._keep_handle(job, handle)
                return True
            if final:
                DELIVERIES_FAILED.labels(job.platform, reply.stage.value).inc()
            return False
        finally:
            self._showing.discard(job.id)

    async def _ask(self, job: Job, replier: Replier, question: Reply) -> None:
        """A question after the job's result, as a message of its own (best effort: a typed
        yes or no answers it too)."""
        try:
            await replier.send(fit(question, replier.limits))
        except Exception:  # any adapter's error: the result is shown, the question is not
            log.warning("job %s: the question after the result was refused", job.id, exc_info=True)

    async def _keep_handle(self, job: Job, handle: Handle) -> None:
        if handle == job.handle:
            return
        job.handle = handle
        await self.store.set_handle(job.id, handle, expires_at=expiry(handle))

    async def _step(self, job: Job, step: str, **detail: Any) -> None:
        """One log line and one generation-log row per job step (never prompts or keys)."""
        log.info(
            "job %s %s %s",
            job.id,
            step,
            " ".join(f"{k}={v}" for k, v in detail.items()),
            extra={"job_id": job.id, "step": step, "platform": job.platform, **detail},
        )
        await self.store.log(job.id, step, detail)

    # ── restarts ──────────────────────────────────────────────────────────────────────────

    async def resume(self) -> int:
        """Carry on with every active job a previous run left (or a dead replica: their
        leases ran out), from the state it is in; returns how many were taken up. From then
        on, every :attr:`~core.leases.Lease.renew_every` seconds, renews this replica's leases,
        stops the jobs it lost and takes over the jobs of replicas that died."""
        resumed = await self._take_over(previous_life=True)
        if self._keeper is None:
            self._keeper = asyncio.create_task(self._keep_leases(), name="leases")
        return resumed

    async def _keep_leases(self) -> None:
        """Renew every :attr:`~core.leases.Lease.renew_every` seconds, and look for orphans
        then and also just after another replica's first lease runs out: a dead replica's
        jobs are taken over when its leases end, not up to a renewal interval later."""
        lease = self.store.lease
        renew_at = look_at = time.time() + lease.renew_every
        while not self._closing:
            await asyncio.sleep(max(0.0, min(renew_at, look_at) - time.time()))
            try:
                if time.time() >= renew_at:
                    renew_at = time.time() + lease.renew_every
                    for job_id in await self.store.renew(time.time()):
                        log.warning("job %s: its lease was lost to another replica", job_id)
                        if (task := self._tasks.get(job_id)) is not None:
                            task.cancel()
                look_at = renew_at  # unless another replica's lease ends sooner
                if not self._closing:
                    await self._take_over(previous_life=False)
                ends = await self.store.next_lease_end(time.time())
                if ends is not None:  # a moment after it, and never in a tight loop
                    after = lease.seconds * _AFTER_LEASE_END
                    look_at = min(renew_at, max(ends, time.time()) + after)
            except StoreError:
                pass  # the store has logged the cause; the fences keep writes safe
            except Exception:
                # Never the end of the loop: a replica that stops renewing loses every job it
                # runs, and stops taking over the jobs of replicas that died.
                log.exception("the leases could not be renewed; trying again")

    async def _take_over(self, *, previous_life: bool) -> int:
        resumed = 0
        unrunnable: list[str] = []
        for job in await self.store.claim(time.time(), previous_life=previous_life):
            if job.id in self._tasks or job.state is JobState.QUEUED:
                continue
            replier = self._repliers(job.platform, job.reply_target)
            if replier is None:  # its platform doesn't run here: leave it to another replica
                unrunnable.append(job.id)
                continue
            resumed += 1
            JOBS_RESUMED.labels(job.state.value).inc()
            if job.state is JobState.ACCEPTED:  # never sent: safe to send now
                self._spawn(job, self._create_and_deliver(job, replier))
            elif job.state is JobState.CREATING:  # maybe sent: never again
                self._spawn(job, self._finish_failed(
                    job, "unknown_outcome", self.messages.maybe_made(job), replier, release=False
                ))  # fmt: skip
            elif job.state is JobState.RUNNING:
                self._spawn(job, self._poll_and_deliver(job, replier))
            else:
                self._spawn(job, self._deliver_again(job, replier))
        if unrunnable:
            await self.store.release(unrunnable)
        self._kick()  # queued jobs: started when they have a slot, else their places shown
        self._tick()
        return resumed

    async def _deliver_again(self, job: Job, replier: Replier) -> None:
        catalog = await self._catalog_or_none(job.task_type)
        model = catalog.resolve(job.version_id, job.model_id) if catalog else None
        await self._deliver(job, replier, catalog, self.timing(model, job.task_type), again=True)

    async def shutdown(self) -> None:
        """Stop every job this process runs, without failing them: creates on their way get
        their answer first (so no job is left "maybe sent") and messages being sent get where
        they are stored (so none is sent twice); the next start resumes the rest."""
        self._closing = True
        if self._keeper is not None:
            self._keeper.cancel()
            await asyncio.gather(self._keeper, return_exceptions=True)
        deadline = time.monotonic() + STOP_GRACE
        while (self._creating or self._showing) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        # Only now the queue's helpers: a waiting message on its way has got where it is stored.
        for helper in (self._advancing, self._ticker, *self._others):
            if helper is not None:
                helper.cancel()
        tasks = [t for t in self._tasks.values() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # Another replica takes them over at once (when the database can't be used, the store
        # has logged it and the leases run out instead).
        with contextlib.suppress(StoreError):
            await self.store.release()

    async def drain(self) -> None:
        """Wait until every job this process runs, and every job waiting in the queue, has
        ended (tests, one-shot use)."""
        while True:
            busy = [*self._tasks.values(), *self._others]
            if self._advancing is not None and not self._advancing.done():
                busy.append(self._advancing)
            if busy:
                await asyncio.gather(*busy, return_exceptions=True)
            elif self._places and not self._closing:  # waiting for a slot elsewhere
                await asyncio.sleep(max(0.05, QUEUE_TICK * self.time_scale))
            else:
                return

    def running(self, job_id: str) -> bool:
        return job_id in self._tasks


def _log_failure(task: asyncio.Task[None]) -> None:
    if task.cancelled() or (error := task.exception()) is None:
        return
    if isinstance(error, StoreError):  # the store has logged the cause
        log.warning("the queue could not be read: its database can't be used")
    else:
        log.error("the queue stopped on an unexpected error", exc_info=error)


def _results(job: Job) -> list[tuple[str, str | None]]:
    covers = job.result_covers or (None,) * len(job.result_urls)
    return list(zip(job.result_urls, covers, strict=False))
