"""Running one job: admission, the first message, upload, create, poll, deliver or fail.

Every step is written to the store as it happens. The IMA task id is committed right after the
create returns, so from then on a restart resumes the job (``poll_and_deliver``) instead of
creating it again; a job stopped before that is failed with an apology, never re-created.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core import choice
from core.ima.catalog import Catalog, Model
from core.ima.client import IMAClient
from core.ima.errors import IMAError
from core.ima.rules import quote
from core.ima.tasks import TaskType
from core.ima.timing import Timing, timing_for, timing_for_media
from core.ima.upload import MAX_IMAGE_BYTES
from core.jobs import Job, JobState, ModelSource, new_job_id
from core.messages import Messages, Offer
from core.metrics import CREDITS, JOBS, JOBS_ACTIVE
from core.policy import Policy
from core.preferences import Preferences
from core.replier import Replier, Reply
from core.request import Attachment
from core.store import Admission, Store
from core.wants import Message, Refused, Wants, map_wants

log = logging.getLogger(__name__)


#: Pauses before each attempt to show a message that must be seen (result, failure).
_SHOW_PAUSES = (0.0, 1.0, 3.0)


class _Cancelled(Exception):
    """An operator cancelled the job (``ima-bot admin cancel``) while it was running."""


@dataclass(frozen=True)
class Plan:
    """What the engine decided to make: task type, model, parameters, prompt."""

    task_type: TaskType
    model: Model
    source: ModelSource
    wants: Wants
    params: dict[str, Any]
    notes: tuple[Message, ...]
    prompt: str
    premium: bool = False


@dataclass(frozen=True)
class Requester:
    """Who a job is for and where it answers: from a chat request, or from an earlier job."""

    platform: str
    user_id: str
    chat_id: str
    locale: str
    reply_target: Mapping[str, Any]


def _today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


class JobRunner:
    def __init__(
        self,
        client: IMAClient,
        store: Store,
        messages: Messages,
        preferences: Preferences,
        policy: Policy,
        time_scale: float,
    ) -> None:
        self.client = client
        self.store = store
        self.messages = messages
        self.preferences = preferences
        self.policy = policy
        self.time_scale = time_scale
        #: Jobs this process is running: a resume never starts a second poller for them.
        self.running: set[str] = set()
        #: Tasks running a job (the adapter's task that awaits the engine, or a resumed one).
        self.tasks: set[asyncio.Task[Any]] = set()

    def track_current_task(self) -> None:
        task = asyncio.current_task()
        if task is not None:
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def start(
        self,
        plan: Plan,
        who: Requester,
        replier: Replier,
        catalog: Catalog,
        *,
        attachments: Sequence[Attachment] = (),
        image_urls: Sequence[str] = (),
    ) -> None:
        offer = quote(plan.model, plan.params, plan.wants.n)
        platform, user_id, locale = who.platform, who.user_id, who.locale
        job = Job(
            id=new_job_id(),
            platform=platform,
            user_id=user_id,
            chat_id=who.chat_id,
            locale=locale,
            task_type=plan.task_type,
            version_id=plan.model.version_id,
            model_name=plan.model.name,
            prompt=plan.prompt,
            params=plan.params,
            n=offer.n,
            credits=offer.credits,
            source=plan.source,
            reply_target=dict(who.reply_target),
            image_urls=tuple(image_urls),
            created_at=time.time(),
            extra={"wants": plan.wants.to_json()},
        )
        policy = self.policy
        admission = await self.store.add_job(
            job, day=_today(), limits=policy.limits_for(platform, user_id)
        )
        if admission is not Admission.OK:
            JOBS.labels(job.task_type.value, "refused").inc()
            count = await self.store.count_active(platform, user_id)
            values = {
                "count": count,
                "credits": job.credits,
                "cap": policy.user_daily_credits
                if admission is Admission.USER_CAP
                else policy.chat_daily_credits,
            }
            await replier.send(self.messages.info(locale, Message(f"limit.{admission}", values)))
            return
        JOBS_ACTIVE.labels(job.task_type.value).inc()
        self.running.add(job.id)
        self.track_current_task()
        cheaper = None
        if (
            offer.credits > choice.EXPENSIVE
            and not plan.premium
            and plan.source
            not in (
                ModelSource.BEST,
                ModelSource.CHEAPEST,
            )
        ):
            found = choice.cheaper_than(catalog, offer, plan.params)
            cheaper = Offer(found[0], found[1].credits) if found else None
        timing = self.timing(plan.model, plan.task_type)
        before = self.messages.before(
            job,
            estimate=(timing.estimate_low, timing.estimate_high),
            each=offer.rule.points,
            notes=plan.notes,
            cheaper=cheaper,
        )
        if not await self._show(job, replier, before):
            # Nobody can see this job: stop before anything is spent.
            await self.store.release_usage(job.id)
            await self.store.update_job(job.id, state=JobState.FAILED, error_kind="delivery")
            self._finished(job, JobState.FAILED)
            return
        await self._step(job, "accepted", model=job.version_id, credits=job.credits)
        await self._run(job, plan.model, replier, attachments)

    def timing(self, model: Model | None, task_type: TaskType) -> Timing:
        # A model that left the catalog while its job ran falls back to the table's timing.
        timing = timing_for(model) if model else timing_for_media(task_type.media)
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

    async def _run(
        self, job: Job, model: Model, replier: Replier, attachments: Sequence[Attachment]
    ) -> None:
        """Upload inputs, create, commit the task id, then poll and deliver."""
        try:
            if attachments:
                data = [await a.fetch(MAX_IMAGE_BYTES) for a in attachments]
                job.image_urls = tuple(await self.client.prepare_images(data))
                await self.store.update_job(job.id, image_urls=job.image_urls)
            elif any(not url.startswith("https://") for url in job.image_urls):
                # A result used as input that IMA can't take as it is: upload it again.
                job.image_urls = tuple(await self.client.prepare_images(job.image_urls))
                await self.store.update_job(job.id, image_urls=job.image_urls)
            task = await self.client.create(
                model, job.prompt, params=job.params, image_urls=job.image_urls, n=job.n
            )
        except IMAError as exc:
            await self.store.release_usage(job.id)  # refused or never sent: nothing charged
            await self._fail(job, exc, replier)
            return
        job.state = JobState.RUNNING
        job.ima_task_id = task.task_id
        job.started_at = time.time()
        job.credits = task.quote.credits
        # Commit the task id before anything else: a restart from here on resumes, never re-creates.
        await self.store.update_job(
            job.id,
            state=job.state,
            ima_task_id=job.ima_task_id,
            started_at=job.started_at,
            credits=job.credits,
        )
        await self.store.set_usage(job.id, job.credits)
        CREDITS.labels(job.task_type.value).inc(job.credits)
        await self._step(job, "created", task_id=task.task_id)
        await self.poll_and_deliver(job, replier)

    async def poll_and_deliver(self, job: Job, replier: Replier) -> None:
        if job.ima_task_id is None or job.started_at is None:
            raise ValueError(f"job {job.id} has no task to poll")
        try:
            catalog = await self.client.catalog(job.task_type)
            model = catalog.by_version(job.version_id)
            timing = self.timing(model, job.task_type)
            estimate = (timing.estimate_low, timing.estimate_high)
            monotonic_start = time.monotonic() - (time.time() - job.started_at)
            last_progress = 0.0
            last_text = ""

            async def on_poll(elapsed: float) -> None:
                nonlocal last_progress, last_text
                if elapsed - last_progress < timing.progress_every or job.handle is None:
                    return
                last_progress = elapsed
                stored = await self.store.get_job(job.id)
                if stored is not None and stored.state is JobState.CANCELLED:
                    raise _Cancelled
                reply = self.messages.progress(job, elapsed=elapsed, estimate=estimate)
                if reply.text != last_text:
                    last_text = reply.text
                    await self._show(job, replier, reply, final=False)

            medias = await self.client.wait(
                job.ima_task_id, job.n, timing, started_at=monotonic_start, on_poll=on_poll
            )
        except IMAError as exc:
            await self._fail(job, exc, replier)
            return
        except _Cancelled:
            await self._show(job, replier, self.messages.cancelled(job))
            await self._step(job, "cancelled")
            self._finished(job, JobState.CANCELLED)
            return
        actual = time.time() - job.started_at
        saved_note, buttons = await self.preferences.after_success(job, catalog)
        reply = self.messages.success(
            job,
            estimate=estimate,
            actual=actual,
            media=[(m.url, m.cover_url) for m in medias],
            notes=saved_note,
            buttons=buttons,
        )
        # The result's buttons work the moment it is shown: store what they need first.
        job.result_urls = tuple(m.url for m in medias)
        job.result_covers = tuple(m.cover_url for m in medias)
        await self.store.update_job(
            job.id, result_urls=job.result_urls, result_covers=job.result_covers
        )
        if not await self._show(job, replier, reply):
            # The result exists but the chat refused it: the next start delivers it again.
            log.error("job %s: result not delivered, left for the next start", job.id)
            self.running.discard(job.id)
            JOBS_ACTIVE.labels(job.task_type.value).dec()
            return
        await self.store.update_job(job.id, state=JobState.DELIVERED, finished_at=time.time())
        await self._step(job, "delivered", seconds=round(actual, 1))
        self._finished(job, JobState.DELIVERED)

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

    def _finished(self, job: Job, outcome: JobState) -> None:
        self.running.discard(job.id)
        JOBS.labels(job.task_type.value, outcome.value).inc()
        JOBS_ACTIVE.labels(job.task_type.value).dec()

    async def _show(self, job: Job, replier: Replier, reply: Reply, *, final: bool = True) -> bool:
        """Put ``reply`` in the job's one message (sent the first time, edited after).

        Progress is best effort. A message that must be seen is tried again when the platform
        refuses it; False when it never got through.
        """
        for pause in _SHOW_PAUSES if final else (0.0,):
            await asyncio.sleep(pause)
            try:
                if job.handle is None:
                    job.handle = await replier.send(reply)
                    await self.store.update_job(job.id, handle=job.handle)
                else:
                    await replier.edit(job.handle, reply)
                return True
            except Exception:  # any adapter's error: the platform did not take the message
                log.warning("job %s: %s message refused", job.id, reply.stage, exc_info=True)
        return False

    async def _fail(self, job: Job, exc: IMAError, replier: Replier) -> None:
        log.warning("job %s failed: %s", job.id, exc.log_fields())
        catalog = await self._catalog_or_none(job.task_type)
        offers: list[Offer] = []
        failed = catalog.by_version(job.version_id) if catalog else None
        if catalog is not None and failed is not None and exc.suggest_other_model:
            wants = Wants.from_json(job.extra.get("wants", {}))
            for alt in choice.alternatives(catalog, failed, count=4):
                try:
                    mapped = map_wants(alt, wants, catalog)
                except Refused:
                    continue
                offers.append(
                    Offer(alt, quote(alt, mapped.params, job.n).credits, self._tag(catalog, alt))
                )
                if len(offers) == 2:
                    break
        reply = self.messages.failure(
            job,
            reason_key=exc.locale_key,
            offers=offers,
            retry_same=exc.transient or (exc.suggest_other_model and not offers),
        )
        await self.finish_failed(job, exc.kind, reply, replier)

    async def finish_failed(self, job: Job, kind: str, reply: Reply, replier: Replier) -> None:
        await self._show(job, replier, reply)
        await self.store.update_job(
            job.id, state=JobState.FAILED, error_kind=kind, finished_at=time.time()
        )
        await self._step(job, "failed", error=kind)
        self._finished(job, JobState.FAILED)

    async def _catalog_or_none(self, task_type: TaskType) -> Catalog | None:
        try:
            return await self.client.catalog(task_type)
        except IMAError:
            return None

    @staticmethod
    def _tag(catalog: Catalog, model: Model) -> str | None:
        if model == choice.cheapest(catalog):
            return "budget"
        if model == choice.best(catalog):
            return "premium"
        if model == choice.recommended(catalog):
            return "popular"
        return None
