"""The conversation engine: one chat message in, the four-step conversation out.

Adapters call :meth:`Engine.handle` with a :class:`~core.request.ChatRequest` and a
:class:`~core.replier.Replier`, and :meth:`Engine.handle_action` when someone presses a button.
The engine understands the message, chooses the model, announces cost and time, runs the IMA
flow with progress edited into the same message, delivers the result or a plain-language failure
with alternatives, and keeps preferences and jobs in the store so a restart loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from core import choice
from core.i18n import Translator, normalize_locale
from core.ima.catalog import Catalog, Model
from core.ima.client import IMAClient
from core.ima.errors import IMAError
from core.ima.rules import quote
from core.ima.tasks import MediaKind, TaskType
from core.ima.timing import Timing, timing_for, timing_for_media
from core.ima.upload import MAX_IMAGE_BYTES
from core.jobs import Job, JobState, ModelSource, new_job_id
from core.messages import Messages, Offer
from core.metrics import CREDITS, DEDUPLICATED, JOBS, JOBS_ACTIVE
from core.parse import Command, ModelScope, ParsedMessage, Quality, parse_message
from core.policy import Policy
from core.replier import Replier, ReplierFactory, Reply
from core.request import Attachment, ChatRequest
from core.store import Admission, Preference, Store
from core.wants import Message, Refused, Wants, map_wants

log = logging.getLogger(__name__)

_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]{2,}")
_PENDING_SAVE = "pending_save"
#: Longer descriptions are refused with a message rather than cut or sent to fail at IMA.
MAX_PROMPT_CHARS = 2000
MAX_LYRICS_CHARS = 3000


class _Cancelled(Exception):
    """An operator cancelled the job (``ima-bot admin cancel``) while it was running."""


class ActionResult(StrEnum):
    DONE = "done"
    NOT_YOURS = "not_yours"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class EngineConfig:
    policy: Policy = field(default_factory=Policy)
    #: Multiplies every expected time, poll and progress interval. 1 in production; demos and
    #: tests run the simulator faster by the same factor so everything stays consistent.
    time_scale: float = 1.0
    default_locale: str = "en"


@dataclass(frozen=True)
class Plan:
    task_type: TaskType
    model: Model
    source: ModelSource
    wants: Wants
    params: dict[str, Any]
    notes: tuple[Message, ...]
    prompt: str
    premium: bool = False


def pick_locale(request: ChatRequest, default: str) -> str:
    """The platform's locale for the user if it has one, else the language they wrote in."""
    if request.locale:
        return normalize_locale(request.locale, default)
    if _CJK.search(request.text):
        return "zh"
    if _LATIN.search(request.text):
        return "en"
    return default


def _today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


class Engine:
    def __init__(
        self,
        client: IMAClient,
        store: Store,
        translator: Translator,
        config: EngineConfig | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.messages = Messages(translator)
        self.config = config or EngineConfig()
        self._factories: dict[str, ReplierFactory] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        #: Jobs this process is running: resume() never starts a second poller for them.
        self._running: set[str] = set()
        #: Tasks running a job (the adapter's task that awaits handle(), or a resumed one).
        self._job_tasks: set[asyncio.Task[Any]] = set()
        #: Recent button presses, so a double click runs a retry once.
        self._presses: dict[tuple[str, str, str], float] = {}
        self._names_cache: tuple[tuple[Catalog, ...], list[str]] = ((), [])

    def text(self, locale: str, key: str, **values: Any) -> str:
        """A message from the catalogs, for adapters' own words (errors about attachments…)."""
        return self.messages.text(locale, Message(key, values))

    def register_platform(self, platform: str, factory: ReplierFactory) -> None:
        """How to rebuild a replier for ``platform`` from a stored reply target."""
        self._factories[platform] = factory

    # ── entry points ──────────────────────────────────────────────────────────────────────

    async def handle(self, request: ChatRequest, replier: Replier) -> None:
        """Answer one chat message; returns when its generation (if any) has been delivered."""
        if request.event_id and not await self.store.first_seen(
            f"{request.platform}:{request.event_id}"
        ):
            log.info("duplicate event %s ignored", request.event_id)
            DEDUPLICATED.labels(request.platform).inc()
            return
        locale = pick_locale(request, self.config.default_locale)
        if not self.config.policy.allows(request):
            await replier.send(self.messages.info(locale, Message("access.not_allowed")))
            return
        try:
            await self._handle(request, replier, locale)
        except IMAError as exc:  # the catalog could not be read: nothing was started
            log.warning("request failed before a job started: %s", exc.log_fields())
            await replier.send(self.messages.info(locale, Message(exc.locale_key)))

    async def handle_action(
        self, platform: str, user_id: str, action: str, replier: Replier, locale: str | None = None
    ) -> ActionResult:
        """A button press. Only the person who made the original request may use its buttons."""
        verb, _, rest = action.partition(":")
        if verb == "retry":
            if self._pressed_twice(platform, user_id, action):
                return ActionResult.DONE
            job_id, _, version_id = rest.partition(":")
            job = await self.store.get_job(job_id)
            if job is None or job.platform != platform:
                return ActionResult.UNKNOWN
            if job.user_id != user_id:
                return ActionResult.NOT_YOURS
            await self._retry(job, version_id or job.version_id, replier)
            return ActionResult.DONE
        if verb in ("save", "nosave"):
            type_value, _, version_id = rest.partition(":")
            try:
                task_type = TaskType(type_value)
            except ValueError:
                return ActionResult.UNKNOWN
            pending = await self.store.get_user_state(platform, user_id, _PENDING_SAVE)
            if not pending or pending.get("version_id") != version_id:
                return ActionResult.NOT_YOURS
            loc = normalize_locale(locale or pending.get("locale"), self.config.default_locale)
            await self._answer_save(platform, user_id, task_type, verb == "save", replier, loc)
            return ActionResult.DONE
        return ActionResult.UNKNOWN

    def _pressed_twice(self, platform: str, user_id: str, action: str, window: float = 30) -> bool:
        """True for the same button pressed again by the same person within ``window`` s."""
        now = time.monotonic()
        self._presses = {k: t for k, t in self._presses.items() if now - t < window}
        key = (platform, user_id, action)
        if key in self._presses:
            return True
        self._presses[key] = now
        return False

    async def resume(self) -> int:
        """Continue every job a previous run left unfinished; returns how many were resumed."""
        resumed = 0
        for job in await self.store.active_jobs():
            factory = self._factories.get(job.platform)
            if factory is None or job.id in self._running:
                continue
            self._running.add(job.id)
            replier = factory(job.reply_target)
            if job.state is JobState.ACCEPTED:
                # The create may or may not have reached IMA: never send it twice.
                JOBS_ACTIVE.labels(job.task_type.value).inc()
                await self._finish_failed(
                    job, "interrupted", self.messages.interrupted(job), replier
                )
                continue
            resumed += 1
            JOBS_ACTIVE.labels(job.task_type.value).inc()
            self._spawn(self._poll_and_deliver(job, replier))
        return resumed

    async def shutdown(self) -> None:
        """Stop every job this process runs, without failing them: the next start resumes."""
        tasks = (self._job_tasks | self._tasks) - {asyncio.current_task()}
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def drain(self) -> None:
        """Wait for every background job task (resumed jobs) to finish."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _track_current_task(self) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._job_tasks.add(task)
            task.add_done_callback(self._job_tasks.discard)

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ── understanding ─────────────────────────────────────────────────────────────────────

    async def _catalogs(self) -> dict[TaskType, Catalog]:
        catalogs = await asyncio.gather(*(self.client.catalog(t) for t in TaskType))
        return dict(zip(TaskType, catalogs, strict=True))

    def _model_names(self, catalogs: Mapping[TaskType, Catalog]) -> Sequence[str]:
        """All names of all categories, longest first; recomputed only when a catalog changes."""
        key = tuple(catalogs.values())
        cached = self._names_cache[0]
        if len(cached) != len(key) or any(a is not b for a, b in zip(cached, key, strict=True)):
            names = {n for c in catalogs.values() for n in c.surface_names()}
            self._names_cache = (key, sorted(names, key=len, reverse=True))
        return self._names_cache[1]

    async def _handle(self, request: ChatRequest, replier: Replier, locale: str) -> None:
        catalogs = await self._catalogs()
        names = self._model_names(catalogs)
        parsed = parse_message(
            request.text, image_count=len(request.attachments), model_names=names
        )
        say = self.messages
        platform, user = request.platform, request.user_id
        command = parsed.command
        if request.options.media is not None or request.options.model is not None:
            command = Command.GENERATE

        if command is Command.GENERATE:
            await self._generate(request, replier, locale, parsed, catalogs)
        elif command in (Command.USE_MODEL, Command.ALWAYS_MODEL):
            await self.set_preference(
                platform, user, parsed.media, parsed.model or "", replier, locale
            )
        elif command in (Command.ANOTHER_MODEL, Command.BEST, Command.CHEAPEST):
            await self._suggest(request, replier, locale, command, catalogs)
        elif command is Command.RESET:
            await self.reset_preferences(platform, user, parsed.media, replier, locale)
        elif command is Command.SHOW_PREFS:
            await self.show_preferences(platform, user, replier, locale)
        elif command in (Command.CONFIRM_YES, Command.CONFIRM_NO):
            pending = await self.store.get_user_state(platform, user, _PENDING_SAVE)
            if pending:
                task_type = TaskType(pending["task_type"])
                await self._answer_save(
                    platform, user, task_type, command is Command.CONFIRM_YES, replier, locale
                )
            else:
                await replier.send(say.info(locale, Message("help.text")))
        elif command is Command.RETRY:
            recent = await self.store.recent_jobs(platform, user, 1)
            if recent:
                await self._retry(recent[0], recent[0].version_id, replier)
            else:
                await replier.send(say.info(locale, Message("pref.no_context")))
        elif command is Command.HELP:
            await replier.send(say.info(locale, Message("help.text")))
        else:
            empty = not request.text.strip() and not request.attachments
            await replier.send(
                say.question(locale, Message("question.empty" if empty else "question.media"))
            )

    def _task_type(
        self, request: ChatRequest, parsed: ParsedMessage, catalogs: Mapping[TaskType, Catalog]
    ) -> TaskType | None:
        images = len(request.attachments)
        media = request.options.media or parsed.media
        if request.options.media is None and parsed.task_type is not None:
            return parsed.task_type
        if media is None:
            named = request.options.model or parsed.model
            if named:
                kinds = {t.media for t, c in catalogs.items() if c.find(named) is not None}
                media = kinds.pop() if len(kinds) == 1 else None
        if media is MediaKind.IMAGE:
            return TaskType.IMAGE_TO_IMAGE if images else TaskType.TEXT_TO_IMAGE
        if media is MediaKind.MUSIC:
            return TaskType.TEXT_TO_MUSIC
        if media is MediaKind.VIDEO:
            if images == 0:
                return TaskType.TEXT_TO_VIDEO
            if images == 2 and (
                request.options.first_last_frame
                or parsed.task_type is TaskType.FIRST_LAST_FRAME_TO_VIDEO
            ):
                return TaskType.FIRST_LAST_FRAME_TO_VIDEO
            return TaskType.IMAGE_TO_VIDEO if images == 1 else TaskType.REFERENCE_IMAGE_TO_VIDEO
        return None

    def _wants(self, request: ChatRequest, parsed: ParsedMessage) -> Wants:
        o = request.options
        return Wants(
            duration=o.duration or parsed.duration,
            resolution=o.resolution or parsed.resolution,
            aspect_ratio=o.aspect_ratio or parsed.aspect_ratio or parsed.custom_ratio,
            size=o.size or parsed.size,
            wants_8k=parsed.wants_8k,
            count=o.count or parsed.count_requested or parsed.count,
            audio=o.audio if o.audio is not None else parsed.audio,
            lyrics=o.lyrics or parsed.lyrics,
            instrumental=o.instrumental if o.instrumental is not None else parsed.instrumental,
            vocal_gender=o.vocal_gender or parsed.vocal_gender,
            music_duration=parsed.music_duration,
            negative_prompt=parsed.negative_prompt,
            seed=parsed.seed,
        )

    async def _choose(
        self,
        request: ChatRequest,
        parsed: ParsedMessage,
        task_type: TaskType,
        catalogs: Mapping[TaskType, Catalog],
        locale: str,
    ) -> tuple[Model, ModelSource]:
        """This message's model > the saved preference > the recommended default."""
        catalog = catalogs[task_type]
        named = request.options.model or parsed.model
        if named:
            model = catalog.find(named)
            if model is None:
                elsewhere = [m for c in catalogs.values() if (m := c.find(named)) is not None]
                if elsewhere:
                    models = ", ".join(m.name for m in catalog.models[:6])
                    kind = self.messages.kind(locale, task_type)
                    raise Refused(
                        Message(
                            "question.model_wrong_kind",
                            {"model": elsewhere[0].name, "kind": kind, "models": models},
                        )
                    )
                raise Refused(Message("pref.unknown_model", {"model": named}))
            scope = (
                ModelSource.ALWAYS
                if parsed.model_scope is ModelScope.ALWAYS
                else ModelSource.EXPLICIT
            )
            return model, scope
        if parsed.quality is Quality.BEST:
            found = choice.best(catalog)
            if found is not None:
                return found, ModelSource.BEST
        if parsed.quality is Quality.CHEAPEST:
            found = choice.cheapest(catalog)
            if found is not None:
                return found, ModelSource.CHEAPEST
        pref = await self.store.get_preference(request.platform, request.user_id, task_type)
        if pref is not None:
            found = catalog.by_version(pref.version_id) or catalog.find(pref.model_id)
            if found is not None:
                return found, ModelSource.PREFERENCE
        default = choice.recommended(catalog)
        if default is None:
            raise IMAError("the catalog offers no model for this task type")
        return default, ModelSource.DEFAULT

    # ── generation ────────────────────────────────────────────────────────────────────────

    async def _generate(
        self,
        request: ChatRequest,
        replier: Replier,
        locale: str,
        parsed: ParsedMessage,
        catalogs: Mapping[TaskType, Catalog],
    ) -> None:
        say = self.messages
        task_type = self._task_type(request, parsed, catalogs)
        if task_type is None or (parsed.ambiguous and request.options.media is None):
            await replier.send(say.question(locale, Message("question.media")))
            return
        low, high = task_type.image_range
        images = len(request.attachments)
        if images < low or (high is not None and images > high):
            key = (
                "question.images_first_last"
                if task_type is TaskType.FIRST_LAST_FRAME_TO_VIDEO
                else "question.images_needed"
            )
            await replier.send(say.question(locale, Message(key)))
            return
        if self.config.policy.banned(f"{parsed.prompt} {parsed.lyrics or ''}"):
            await replier.send(say.info(locale, Message("access.banned")))
            return
        wants = self._wants(request, parsed)
        try:
            model, source = await self._choose(request, parsed, task_type, catalogs, locale)
            mapped = map_wants(model, wants, catalogs[task_type])
        except Refused as refusal:
            await replier.send(say.info(locale, refusal.message))
            return
        prompt = parsed.prompt.strip()
        if not prompt:
            await replier.send(say.question(locale, Message("question.empty")))
            return
        if len(prompt) > MAX_PROMPT_CHARS or len(wants.lyrics or "") > MAX_LYRICS_CHARS:
            limits = {"prompt": MAX_PROMPT_CHARS, "lyrics": MAX_LYRICS_CHARS}
            await replier.send(say.question(locale, Message("question.too_long", limits)))
            return
        notes = list(mapped.notes)
        if source is ModelSource.ALWAYS:
            await self._save_preference(request.platform, request.user_id, task_type, model)
            notes.insert(
                0,
                Message("pref.saved", {"model": model.name, "kinds": say.kind(locale, task_type)}),
            )
        plan = Plan(
            task_type=task_type,
            model=model,
            source=source,
            wants=wants,
            params=mapped.params,
            notes=tuple(notes),
            prompt=prompt,
            premium=parsed.premium_requested,
        )
        await self._start(
            plan,
            platform=request.platform,
            user_id=request.user_id,
            chat_id=request.chat_id,
            locale=locale,
            reply_target=request.reply_target,
            replier=replier,
            attachments=request.attachments,
            catalog=catalogs[task_type],
        )

    async def _start(
        self,
        plan: Plan,
        *,
        platform: str,
        user_id: str,
        chat_id: str,
        locale: str,
        reply_target: Mapping[str, Any],
        replier: Replier,
        catalog: Catalog,
        attachments: Sequence[Attachment] = (),
        image_urls: Sequence[str] = (),
    ) -> None:
        offer = quote(plan.model, plan.params, plan.wants.n)
        job = Job(
            id=new_job_id(),
            platform=platform,
            user_id=user_id,
            chat_id=chat_id,
            locale=locale,
            task_type=plan.task_type,
            version_id=plan.model.version_id,
            model_name=plan.model.name,
            prompt=plan.prompt,
            params=plan.params,
            n=offer.n,
            credits=offer.credits,
            source=plan.source,
            reply_target=dict(reply_target),
            image_urls=tuple(image_urls),
            created_at=time.time(),
            extra={"wants": plan.wants.to_json()},
        )
        policy = self.config.policy
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
        self._running.add(job.id)
        self._track_current_task()
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
        timing = self._timing(plan.model, plan.task_type)
        before = self.messages.before(
            job,
            estimate=(timing.estimate_low, timing.estimate_high),
            each=offer.rule.points,
            notes=plan.notes,
            cheaper=cheaper,
        )
        job.handle = await replier.send(before)
        await self.store.update_job(job.id, handle=job.handle)
        await self._step(job, "accepted", model=job.version_id, credits=job.credits)
        await self._run(job, plan.model, replier, attachments)

    def _timing(self, model: Model | None, task_type: TaskType) -> Timing:
        # A model that left the catalog while its job ran falls back to the table's timing.
        timing = timing_for(model) if model else timing_for_media(task_type.media)
        scale = self.config.time_scale
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
        await self._poll_and_deliver(job, replier)

    async def _poll_and_deliver(self, job: Job, replier: Replier) -> None:
        if job.ima_task_id is None or job.started_at is None:
            raise ValueError(f"job {job.id} has no task to poll")
        try:
            catalog = await self.client.catalog(job.task_type)
            model = catalog.by_version(job.version_id)
            timing = self._timing(model, job.task_type)
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
                    await self._edit(job, replier, reply)

            medias = await self.client.wait(
                job.ima_task_id, job.n, timing, started_at=monotonic_start, on_poll=on_poll
            )
        except IMAError as exc:
            await self._fail(job, exc, replier)
            return
        except _Cancelled:
            await self._edit(job, replier, self.messages.cancelled(job))
            await self._step(job, "cancelled")
            self._finished(job, JobState.CANCELLED)
            return
        actual = time.time() - job.started_at
        saved_note, buttons = await self._after_success(job, catalog)
        reply = self.messages.success(
            job,
            estimate=estimate,
            actual=actual,
            media=[(m.url, m.cover_url) for m in medias],
            notes=saved_note,
            buttons=buttons,
        )
        await self._edit(job, replier, reply)
        await self.store.update_job(
            job.id,
            state=JobState.DELIVERED,
            finished_at=time.time(),
            result_urls=tuple(m.url for m in medias),
            result_covers=tuple(m.cover_url for m in medias),
        )
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
        self._running.discard(job.id)
        JOBS.labels(job.task_type.value, outcome.value).inc()
        JOBS_ACTIVE.labels(job.task_type.value).dec()

    async def _edit(self, job: Job, replier: Replier, reply: Reply) -> None:
        if job.handle is None:
            job.handle = await replier.send(reply)
            await self.store.update_job(job.id, handle=job.handle)
        else:
            await replier.edit(job.handle, reply)

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
        await self._finish_failed(job, exc.kind, reply, replier)

    async def _finish_failed(self, job: Job, kind: str, reply: Reply, replier: Replier) -> None:
        await self._edit(job, replier, reply)
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

    # ── preferences ───────────────────────────────────────────────────────────────────────

    async def _save_preference(
        self, platform: str, user_id: str, task_type: TaskType, model: Model
    ) -> None:
        pref = Preference(
            model.model_id, model.version_id, model.name, model.min_points, time.time()
        )
        await self.store.set_preference(platform, user_id, task_type, pref)

    async def _after_success(self, job: Job, catalog: Catalog) -> tuple[list[Message], list[Any]]:
        """Save the preference as the spec says; ask when an explicit choice differs from it."""
        model = catalog.by_version(job.version_id)
        if model is None or job.source is ModelSource.CHEAPEST:
            return [], []
        current = await self.store.get_preference(job.platform, job.user_id, job.task_type)
        if (
            job.source is ModelSource.EXPLICIT
            and current
            and current.version_id != model.version_id
        ):
            await self.store.set_user_state(
                job.platform,
                job.user_id,
                _PENDING_SAVE,
                {
                    "task_type": job.task_type.value,
                    "version_id": model.version_id,
                    "locale": job.locale,
                },
            )
            note = Message("pref.ask_save", {"old": current.model_name, "new": model.name})
            return [note], self.messages.save_buttons(job.locale, job.task_type, model.version_id)
        if current is None or job.source in (ModelSource.BEST, ModelSource.PREFERENCE):
            await self._save_preference(job.platform, job.user_id, job.task_type, model)
        return [], []

    async def _answer_save(
        self,
        platform: str,
        user_id: str,
        task_type: TaskType,
        save: bool,
        replier: Replier,
        locale: str,
    ) -> None:
        pending = await self.store.get_user_state(platform, user_id, _PENDING_SAVE)
        await self.store.set_user_state(platform, user_id, _PENDING_SAVE, None)
        catalog = await self.client.catalog(task_type)
        model = catalog.by_version(pending["version_id"]) if pending else None
        if model is None:
            return
        if save:
            await self._save_preference(platform, user_id, task_type, model)
            message = Message(
                "pref.saved", {"model": model.name, "kinds": self.messages.kind(locale, task_type)}
            )
        else:
            current = await self.store.get_preference(platform, user_id, task_type)
            message = Message("pref.kept", {"model": current.model_name if current else model.name})
        await replier.send(self.messages.info(locale, message))

    async def set_preference(
        self,
        platform: str,
        user_id: str,
        media: MediaKind | None,
        query: str,
        replier: Replier,
        locale: str,
    ) -> bool:
        """ "Always use X": save X for every task type (of ``media``, if given) it can do."""
        saved: list[tuple[TaskType, Model]] = []
        for task_type in TaskType:
            if media is not None and task_type.media is not media:
                continue
            model = (await self.client.catalog(task_type)).find(query) if query else None
            if model is not None:
                await self._save_preference(platform, user_id, task_type, model)
                saved.append((task_type, model))
        if not saved:
            message = Message("pref.unknown_model", {"model": query})
            await replier.send(self.messages.info(locale, message))
            return False
        kinds = ("、" if locale == "zh" else ", ").join(
            self.messages.kind(locale, t) for t, _ in saved
        )
        message = Message("pref.saved", {"model": saved[0][1].name, "kinds": kinds})
        await replier.send(self.messages.info(locale, message))
        return True

    async def reset_preferences(
        self, platform: str, user_id: str, media: MediaKind | None, replier: Replier, locale: str
    ) -> None:
        """Forget the saved models (of one media, or all): the recommended ones apply again."""
        for task_type in TaskType:
            if media is None or task_type.media is media:
                await self.store.clear_preferences(platform, user_id, task_type)
        if media is None:
            message = Message("pref.reset_all")
        else:
            message = Message("pref.reset_one", {"kind": self.messages.media(locale, media)})
        await replier.send(self.messages.info(locale, message))

    async def show_preferences(
        self, platform: str, user_id: str, replier: Replier, locale: str
    ) -> None:
        prefs = await self.store.list_preferences(platform, user_id)
        lines = [Message("pref.list_title")] + [
            Message(
                "pref.list_line", {"kind": self.messages.kind(locale, t), "model": p.model_name}
            )
            for t, p in prefs.items()
        ]
        await replier.send(
            self.messages.info(locale, *(lines if prefs else [Message("pref.nothing_saved")]))
        )

    async def _suggest(
        self,
        request: ChatRequest,
        replier: Replier,
        locale: str,
        command: Command,
        catalogs: Mapping[TaskType, Catalog],
    ) -> None:
        """ "Another model" / "the best" / "the cheapest" after a result: offer buttons."""
        recent = await self.store.recent_jobs(request.platform, request.user_id, 1)
        if not recent:
            await replier.send(self.messages.info(locale, Message("pref.no_context")))
            return
        last = recent[0]
        catalog = catalogs[last.task_type]
        current = catalog.by_version(last.version_id)
        wants = Wants.from_json(last.extra.get("wants", {}))
        kind = self.messages.kind(locale, last.task_type)
        if command is Command.ANOTHER_MODEL:
            candidates = (
                choice.alternatives(catalog, current, count=len(catalog.models))
                if current
                else list(catalog.models)
            )
            key = "another.title"
        else:
            picked = choice.best(catalog) if command is Command.BEST else choice.cheapest(catalog)
            candidates = [picked] if picked else []
            key = "another.best" if command is Command.BEST else "another.cheapest"
        offers: list[Offer] = []
        for model in candidates:
            try:
                mapped = map_wants(model, wants, catalog)
            except Refused:
                continue
            offers.append(Offer(model, quote(model, mapped.params, last.n).credits))
            if len(offers) == 3:
                break
        if not offers:
            await replier.send(self.messages.info(locale, Message("pref.no_context")))
            return
        first = offers[0]
        message = Message(key, {"kind": kind, "model": first.model.name, "credits": first.credits})
        buttons = self.messages.pick_buttons(locale, last.id, offers)
        await replier.send(self.messages.question(locale, message, buttons))

    async def _retry(self, job: Job, version_id: str, replier: Replier) -> None:
        """Run a finished job's request again, with the same or another model."""
        catalog = await self.client.catalog(job.task_type)
        model = catalog.by_version(version_id)
        if model is None:
            await replier.send(
                self.messages.info(
                    job.locale, Message("pref.unknown_model", {"model": job.model_name})
                )
            )
            return
        low, _ = job.task_type.image_range
        if len(job.image_urls) < low:
            await replier.send(
                self.messages.question(job.locale, Message("question.images_needed"))
            )
            return
        wants = Wants.from_json(job.extra.get("wants", {}))
        try:
            mapped = map_wants(model, wants, catalog)
        except Refused as refusal:
            await replier.send(self.messages.info(job.locale, refusal.message))
            return
        same = version_id == job.version_id
        plan = Plan(
            task_type=job.task_type,
            model=model,
            source=job.source if same else ModelSource.EXPLICIT,
            wants=wants,
            params=mapped.params,
            notes=mapped.notes,
            prompt=job.prompt,
        )
        await self._start(
            plan,
            platform=job.platform,
            user_id=job.user_id,
            chat_id=job.chat_id,
            locale=job.locale,
            reply_target=job.reply_target,
            replier=replier,
            catalog=catalog,
            image_urls=job.image_urls,
        )
