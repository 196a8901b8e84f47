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
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from core import choice
from core.i18n import Translator, normalize_locale
from core.ima.catalog import Catalog, Model
from core.ima.client import IMAClient
from core.ima.errors import IMAError
from core.ima.rules import quote
from core.ima.tasks import MediaKind, TaskType
from core.jobs import Job, JobState, ModelSource
from core.messages import Messages, Offer
from core.metrics import DEDUPLICATED, JOBS_ACTIVE
from core.parse import Command, ModelScope, ParsedMessage, Quality, parse_message
from core.policy import Policy
from core.preferences import PENDING_SAVE, Preferences
from core.replier import Replier, ReplierFactory
from core.request import ChatRequest
from core.runner import JobRunner, Plan, Requester
from core.store import Store
from core.wants import Message, Refused, Wants, map_wants

log = logging.getLogger(__name__)

_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]{2,}")
#: Longer descriptions are refused with a message rather than cut or sent to fail at IMA.
MAX_PROMPT_CHARS = 2000
MAX_LYRICS_CHARS = 3000
#: Button verbs that continue from a result (``<verb>:<job id>:<result index>``).
FOLLOW_UPS = ("show", "vary", "animate", "soundtrack", "frame")
#: User state key of a picture picked as the first frame of a video, waiting for the last.
FIRST_FRAME = "first_frame"
HISTORY_SIZE = 10


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


def pick_locale(request: ChatRequest, default: str) -> str:
    """The platform's locale for the user if it has one, else the language they wrote in."""
    if request.locale:
        return normalize_locale(request.locale, default)
    if _CJK.search(request.text):
        return "zh"
    if _LATIN.search(request.text):
        return "en"
    return default


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
        self.preferences = Preferences(client, store, self.messages)
        self.jobs = JobRunner(
            client,
            store,
            self.messages,
            self.preferences,
            self.config.policy,
            self.config.time_scale,
        )
        self._factories: dict[str, ReplierFactory] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        #: Recent button presses, so a double click runs a retry once.
        self._presses: dict[tuple[str, str, str], float] = {}
        self._names_cache: tuple[tuple[Catalog, ...], list[str]] = ((), [])
        self._closing = False

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
        if self._closing:
            await replier.send(self.messages.info(locale, Message("status.restarting")))
            return
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
        if verb in FOLLOW_UPS:
            job_id, _, index = rest.partition(":")
            origin = await self.store.get_job(job_id)
            if origin is None or origin.platform != platform or not origin.result_urls:
                return ActionResult.UNKNOWN
            if origin.user_id != user_id:
                return ActionResult.NOT_YOURS
            if not self._pressed_twice(platform, user_id, action):
                await self._follow_action(verb, origin, int(index or 0), replier)
            return ActionResult.DONE
        if verb in ("save", "nosave"):
            type_value, _, version_id = rest.partition(":")
            try:
                task_type = TaskType(type_value)
            except ValueError:
                return ActionResult.UNKNOWN
            pending = await self.store.get_user_state(platform, user_id, PENDING_SAVE)
            if not pending or pending.get("version_id") != version_id:
                return ActionResult.NOT_YOURS
            loc = normalize_locale(locale or pending.get("locale"), self.config.default_locale)
            await self.preferences.answer_save(
                platform, user_id, task_type, verb == "save", replier, loc
            )
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

    async def warm_up(self) -> None:
        """Read every category's catalog now, so the first message doesn't wait for them."""
        try:
            await self._catalogs()
        except IMAError as exc:  # the first message will try again and explain the problem
            log.warning("catalogs not read at start: %s", exc.log_fields())

    async def resume(self) -> int:
        """Continue every job a previous run left unfinished; returns how many were resumed."""
        resumed = 0
        for job in await self.store.active_jobs():
            factory = self._factories.get(job.platform)
            if factory is None or job.id in self.jobs.running:
                continue
            self.jobs.running.add(job.id)
            replier = factory(job.reply_target)
            if job.state is JobState.ACCEPTED:
                # The create may or may not have reached IMA: never send it twice.
                JOBS_ACTIVE.labels(job.task_type.value).inc()
                await self.jobs.finish_failed(
                    job, "interrupted", self.messages.interrupted(job), replier
                )
                continue
            resumed += 1
            JOBS_ACTIVE.labels(job.task_type.value).inc()
            self._spawn(self.jobs.poll_and_deliver(job, replier))
        return resumed

    async def shutdown(self) -> None:
        """Take no new requests and stop every job this process runs, without failing them:
        the next start resumes them."""
        self._closing = True
        tasks = (self.jobs.tasks | self._tasks) - {asyncio.current_task()}
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def drain(self) -> None:
        """Wait for every background job task (resumed jobs) to finish."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

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

        if request.follow_up and command in (Command.GENERATE, Command.EDIT, Command.NONE):
            origin = await self.store.get_job(request.follow_up)
            if origin is not None and origin.platform == platform and origin.result_urls:
                if origin.user_id != user:
                    await replier.send(say.info(locale, Message("follow.not_yours")))
                else:
                    await self._follow_text(origin, request, parsed, replier, locale, catalogs)
                return
        if command is Command.GENERATE:
            await self._generate(request, replier, locale, parsed, catalogs)
        elif command is Command.HISTORY:
            await self.history(platform, user, replier, locale)
        elif command in (Command.USE_MODEL, Command.ALWAYS_MODEL):
            await self.preferences.set(
                platform, user, parsed.media, parsed.model or "", replier, locale
            )
        elif command in (Command.ANOTHER_MODEL, Command.BEST, Command.CHEAPEST):
            await self._suggest(request, replier, locale, command, catalogs)
        elif command is Command.RESET:
            await self.preferences.reset(platform, user, parsed.media, replier, locale)
        elif command is Command.SHOW_PREFS:
            await self.preferences.show(platform, user, replier, locale)
        elif command in (Command.CONFIRM_YES, Command.CONFIRM_NO):
            pending = await self.store.get_user_state(platform, user, PENDING_SAVE)
            if pending:
                task_type = TaskType(pending["task_type"])
                await self.preferences.answer_save(
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
            await self.preferences.save(request.platform, request.user_id, task_type, model)
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
        who = Requester(
            request.platform, request.user_id, request.chat_id, locale, request.reply_target
        )
        await self.jobs.start(
            plan, who, replier, catalogs[task_type], attachments=request.attachments
        )

    # ── preferences ───────────────────────────────────────────────────────────────────────

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
        model = (await self.client.catalog(job.task_type)).by_version(version_id)
        if model is None:
            message = Message("pref.unknown_model", {"model": job.model_name})
            await replier.send(self.messages.info(job.locale, message))
            return
        same = version_id == job.version_id
        await self._continue(
            job,
            job.task_type,
            job.prompt,
            job.image_urls,
            replier,
            wants=Wants.from_json(job.extra.get("wants", {})),
            model=(model, job.source if same else ModelSource.EXPLICIT),
        )

    async def _continue(
        self,
        origin: Job,
        task_type: TaskType,
        prompt: str,
        image_urls: Sequence[str],
        replier: Replier,
        *,
        wants: Wants | None = None,
        model: tuple[Model, ModelSource] | None = None,
        locale: str | None = None,
    ) -> None:
        """Start a job for ``origin``'s person, in its chat: a retry, or a follow-up of a result.

        Without ``model``: the person's preference for ``task_type``, else the recommended one.
        ``locale``: the language of the message that asked, if not ``origin``'s.
        """
        locale = locale or origin.locale
        low, _ = task_type.image_range
        if len(image_urls) < low:
            message = Message("question.images_needed")
            await replier.send(self.messages.question(locale, message))
            return
        catalog = await self.client.catalog(task_type)
        if model is None:
            pref = await self.store.get_preference(origin.platform, origin.user_id, task_type)
            preferred = catalog.by_version(pref.version_id) if pref else None
            default = choice.recommended(catalog)
            if preferred is not None:
                model = (preferred, ModelSource.PREFERENCE)
            elif default is not None:
                model = (default, ModelSource.DEFAULT)
            else:
                raise IMAError("the catalog offers no model for this task type")
        wants = wants or Wants()
        try:
            mapped = map_wants(model[0], wants, catalog)
        except Refused as refusal:
            await replier.send(self.messages.info(locale, refusal.message))
            return
        plan = Plan(
            task_type=task_type,
            model=model[0],
            source=model[1],
            wants=wants,
            params=mapped.params,
            notes=mapped.notes,
            prompt=prompt,
        )
        who = Requester(
            origin.platform, origin.user_id, origin.chat_id, locale, origin.reply_target
        )
        await self.jobs.start(plan, who, replier, catalog, image_urls=image_urls)

    # ── follow-ups and history ────────────────────────────────────────────────────────────

    async def _follow_action(self, verb: str, job: Job, index: int, replier: Replier) -> None:
        """A result's button: show it again, vary it, animate it, score it, use it as a frame."""
        url = job.result_urls[min(index, len(job.result_urls) - 1)] if job.result_urls else ""
        if verb == "show":
            await replier.send(self.messages.recall(job))
        elif verb == "vary":
            await self._continue(job, TaskType.IMAGE_TO_IMAGE, job.prompt, [url], replier)
        elif verb == "animate":
            await self._continue(job, TaskType.IMAGE_TO_VIDEO, job.prompt, [url], replier)
        elif verb == "soundtrack":
            await self._continue(
                job, TaskType.TEXT_TO_MUSIC, soundtrack_prompt(job.prompt), [], replier
            )
        else:  # "frame": the first press picks the first frame, the second makes the video
            first = await self.store.get_user_state(job.platform, job.user_id, FIRST_FRAME)
            if not first:
                picked = {"url": url, "prompt": job.prompt}
                await self.store.set_user_state(job.platform, job.user_id, FIRST_FRAME, picked)
                await replier.send(self.messages.info(job.locale, Message("follow.first_frame")))
                return
            await self.store.set_user_state(job.platform, job.user_id, FIRST_FRAME, None)
            prompt = f"{first['prompt']} → {job.prompt}"
            await self._continue(
                job, TaskType.FIRST_LAST_FRAME_TO_VIDEO, prompt, [first["url"], url], replier
            )

    async def _follow_text(
        self,
        origin: Job,
        request: ChatRequest,
        parsed: ParsedMessage,
        replier: Replier,
        locale: str,
        catalogs: Mapping[TaskType, Catalog],
    ) -> None:
        """A message replying to a result: carry on from it ("bluer", "让它动起来", "配个音乐")."""
        source = origin.task_type.media
        wanted = request.options.media or parsed.media
        text = parsed.prompt.strip()
        images: list[str] = []
        if wanted is MediaKind.MUSIC and source is not MediaKind.MUSIC:
            task_type, prompt = TaskType.TEXT_TO_MUSIC, soundtrack_prompt(origin.prompt, text)
        elif source is MediaKind.IMAGE:
            video = wanted is MediaKind.VIDEO
            task_type = TaskType.IMAGE_TO_VIDEO if video else TaskType.IMAGE_TO_IMAGE
            prompt, images = text or origin.prompt, list(origin.result_urls[:1])
        else:  # change a video or a song: the same kind again, described anew
            task_type = (
                TaskType.TEXT_TO_MUSIC if source is MediaKind.MUSIC else TaskType.TEXT_TO_VIDEO
            )
            prompt = f"{origin.prompt}, {text}" if text else origin.prompt
        try:
            model = await self._choose(request, parsed, task_type, catalogs, locale)
        except Refused as refusal:
            await replier.send(self.messages.info(locale, refusal.message))
            return
        await self._continue(
            origin,
            task_type,
            prompt,
            images,
            replier,
            wants=self._wants(request, parsed),
            model=model,
            locale=locale,
        )

    async def history(self, platform: str, user_id: str, replier: Replier, locale: str) -> None:
        """The person's recent results, each with a button to show it again."""
        jobs = [
            j
            for j in await self.store.recent_jobs(platform, user_id, 30)
            if j.state is JobState.DELIVERED
        ][:HISTORY_SIZE]
        if not jobs:
            await replier.send(self.messages.info(locale, Message("history.empty")))
            return
        await replier.send(self.messages.history(locale, jobs))

    async def show_result(
        self, platform: str, user_id: str, job_id: str, replier: Replier, locale: str
    ) -> ActionResult:
        """Show one of the person's results again, with its model, credits and prompt."""
        job = await self.store.get_job(job_id)
        if job is None or job.platform != platform or job.state is not JobState.DELIVERED:
            return ActionResult.UNKNOWN
        if job.user_id != user_id:
            return ActionResult.NOT_YOURS
        await replier.send(self.messages.recall(job))
        return ActionResult.DONE


def soundtrack_prompt(prompt: str, extra: str = "") -> str:
    """The description of music for a picture or a video, built from what it shows."""
    return f"Background music for: {prompt}" + (f". {extra}" if extra else "")
