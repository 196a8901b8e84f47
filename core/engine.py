"""The conversation engine, behind the narrow door adapters use (:class:`core.door.Door`).

One message in: it is stored before the platform is told it arrived, read in the order its
sender sent it, dispatched by what it asks (a table per message kind, per button verb and per
slash command), and answered; a generation goes through the one planning path
(:mod:`core.planning`) to the job runner (:mod:`core.runner`), which runs it on its own.
Commands that need nothing from IMA (help, yes/no, history, showing or resetting preferences)
answer without it, so they work while IMA is down.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from typing import Any

from core import choice, followups, understanding, verdict
from core.access import Allowlists
from core.actions import Action, Verb, decode, model_digest
from core.answers import Answers, Asked
from core.door import Ack, ActionResult, Choice, Platform, Press
from core.i18n import Translator, normalize_locale
from core.ima.catalog import Catalog
from core.ima.client import IMAClient
from core.ima.errors import IMAError, ImageUnreachableError
from core.ima.models import name_key, static_names
from core.ima.rules import quote
from core.ima.tasks import MediaKind, TaskType
from core.jobs import Job, JobState, ModelSource
from core.llm import LLMReader
from core.logcontext import about
from core.messages import Messages, Offer, duration
from core.metrics import DEDUPLICATED, REFUSALS
from core.parse import Command, ModelScope, ParsedMessage, QuestionTopic, parse_message
from core.parse.frames import has_request_verb
from core.pictures import PictureMemory
from core.planning import Draft, Named, Pick, Plan, Planner, Remembered, Unplanned
from core.policy import Policy
from core.preferences import Preferences
from core.proposals import Proposal, Proposals
from core.replier import Replier, Reply, Stage, expiry, fit
from core.request import Attachment, ChatRequest, Explicit
from core.runner import JobRunner, Requester
from core.state import FIRST_FRAME, FirstFrame, UserState
from core.store import Admission, Store, StoreError
from core.turns import Turns
from core.verdict import Decision, PreferenceOp
from core.wants import Message, Refused, Wants, map_wants

log = logging.getLogger(__name__)

#: What "another model", "the best" and "the cheapest" are, as preference commands.
_SUGGESTIONS = {
    Command.ANOTHER_MODEL: PreferenceOp.ANOTHER,
    Command.BEST: PreferenceOp.BEST,
    Command.CHEAPEST: PreferenceOp.CHEAPEST,
}

_CJK = re.compile(r"[\u3400-\u9fff]")
#: Where a message's clauses end: sentence marks and commas (a dot between digits, as in
#: "Wan 2.6", ends nothing), a space between Chinese words, "and" and 然后.
_CLAUSES = re.compile(
    r"[，,。！!；;\n]+|(?<!\d)\.(?!\d)|(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])"
    r"|\band\b|然后"
)
_LATIN = re.compile(r"[A-Za-z]{2,}")
HISTORY_SIZE = 10
#: Requests stored but never answered are answered after a restart if they are this recent.
REPLAY_WITHIN = 3600.0
#: The same button pressed again by the same person this soon is the same press.
DOUBLE_PRESS = 30.0
#: An edit that quotes nothing ("make it vertical") changes the person's last result in the
#: chat if it came this recently; after that it is too unclear which one is meant.
EDIT_WITHIN = 1800.0


@dataclass(frozen=True)
class EngineConfig:
    policy: Policy = field(default_factory=Policy)
    #: Multiplies every expected time, poll and progress interval. 1 in production; demos and
    #: tests run the simulator faster by the same factor so everything stays consistent.
    time_scale: float = 1.0
    default_locale: str = "en"
    #: How many messages are answered (read, planned, admitted) at once. The rest wait, stored
    #: and acknowledged, each in its sender's order: a burst can't take the event loop from
    #: the acknowledgements of the messages arriving behind it.
    intake: int = 16


@dataclass(frozen=True)
class _Turn:
    """One message being answered."""

    request: ChatRequest
    replier: Replier
    locale: str
    parsed: ParsedMessage
    #: Attached to the message, and remembered from pictures sent before it.
    attachments: tuple[Attachment, ...]
    admin: bool

    @property
    def who(self) -> Requester:
        r = self.request
        return Requester(
            r.platform, r.user_id, r.chat_id, self.locale, r.reply_target, self.admin, r.private
        )


_Handler = Callable[[_Turn], Awaitable[None]]
_PressHandler = Callable[[Press, Action, Replier], Awaitable[ActionResult]]


class Engine:
    """Implements :class:`core.door.Door`; ``bot/runtime.py`` builds it and runs its lifecycle
    (:meth:`warm_up`, :meth:`resume`, :meth:`shutdown`)."""

    def __init__(
        self,
        client: IMAClient,
        store: Store,
        translator: Translator,
        config: EngineConfig | None = None,
        *,
        reader: LLMReader | None = None,
    ) -> None:
        self.config = config or EngineConfig()
        #: The optional language model that reads messages with the rules.
        self._reader = reader
        self.default_locale = self.config.default_locale
        self._client = client
        self._store = store
        self._messages = Messages(translator)
        self._state = UserState(store)
        self._preferences = Preferences(client, store, self._messages, self._state)
        self._planner = Planner(client, store, self.config.policy)
        self._pictures = PictureMemory(self._state)
        self._proposals = Proposals(self._state)
        self._answers = Answers(client, store, self.config.policy)
        self._runner = JobRunner(
            client,
            store,
            self._messages,
            self._preferences,
            self.config.policy,
            self.config.time_scale,
            repliers=self._replier_for,
            fetch=self._fetch,
        )
        self._platforms: dict[str, Platform] = {}
        #: Where the bot answers and who its admins are: each platform's settings plus what
        #: operators added (the console shares this, so its edits apply here at once).
        self.allowlists = Allowlists(store)
        self._turns = Turns()
        self._intake = asyncio.Semaphore(self.config.intake)
        self._presses: dict[tuple[str, str, str], float] = {}
        #: Keys of the requests this process received, until :meth:`resume` has run: those are
        #: answered where they arrived, so a resume must not answer them a second time.
        self._arrived: set[str] | None = set()
        #: Answers the requests of replicas that died (from :meth:`resume` on).
        self._keeper: asyncio.Task[None] | None = None
        self._names: tuple[tuple[Catalog, ...], tuple[str, ...]] = ((), static_names())
        self._on_command: dict[Command, _Handler] = {
            Command.GENERATE: self._generate,
            Command.EDIT: self._edit,
            Command.QUESTION: self._asked,
            Command.USAGE: self._usage,
            Command.CHAT: self._chat,
            Command.AVOID_MODEL: self._avoid,
            Command.HISTORY: self._history,
            Command.USE_MODEL: self._set_default,
            Command.ALWAYS_MODEL: self._set_default,
            Command.ANOTHER_MODEL: self._suggest,
            Command.BEST: self._suggest,
            Command.CHEAPEST: self._suggest,
            Command.RESET: self._reset,
            Command.SHOW_PREFS: self._show_preferences,
            Command.CONFIRM_YES: self._yes_no,
            Command.CONFIRM_NO: self._yes_no,
            Command.RETRY: self._again,
            Command.HELP: self._help,
            Command.NONE: self._nothing,
        }
        self._on_press: dict[Verb, _PressHandler] = {
            Verb.RETRY: self._press_retry,
            Verb.SHOW: self._press_show,
            Verb.VARY: self._press_follow,
            Verb.ANIMATE: self._press_follow,
            Verb.SOUNDTRACK: self._press_follow,
            Verb.FRAME: self._press_frame,
            Verb.SAVE: self._press_save,
            Verb.KEEP: self._press_save,
            Verb.CONFIRM: self._press_proposal,
            Verb.CANCEL: self._press_proposal,
            Verb.UNQUEUE: self._press_unqueue,
        }
        self._explicit: dict[Explicit, Callable[[ChatRequest], ParsedMessage]] = {
            Explicit.HISTORY: lambda r: ParsedMessage(Command.HISTORY),
            Explicit.PREFERENCES: lambda r: ParsedMessage(Command.SHOW_PREFS),
            Explicit.SET_DEFAULT: lambda r: ParsedMessage(
                Command.ALWAYS_MODEL, media=r.options.media, model=r.options.model
            ),
            Explicit.RESET_DEFAULTS: lambda r: ParsedMessage(Command.RESET, media=r.options.media),
            Explicit.USAGE: lambda r: ParsedMessage(Command.USAGE),
        }

    # ── the door ──────────────────────────────────────────────────────────────────────────

    def register(self, platform: Platform) -> None:
        self._platforms[platform.name] = platform
        self.allowlists.configure(platform.name, platform.access)

    def text(self, locale: str, key: str, /, **values: Any) -> str:
        return self._messages.text(locale, Message(key, values))

    def locale_for(self, hint: str | None, text: str = "") -> str:
        if hint:
            return normalize_locale(hint, self.default_locale)
        if _CJK.search(text):
            return "zh"
        if _LATIN.search(text):
            return "en"
        return self.default_locale

    async def deliver(self, request: ChatRequest, replier: Replier, ack: Ack) -> None:
        with about(platform=request.platform, user=request.user_id):
            await self._deliver(request, replier, ack)

    async def _deliver(self, request: ChatRequest, replier: Replier, ack: Ack) -> None:
        """Stored and acknowledged at once, whatever the sender's earlier messages are doing;
        answered in its turn, by one of the :attr:`EngineConfig.intake` answering at a time."""
        if self._arrived is not None:
            self._arrived.add(request.key)
        turn = self._turns.take((request.platform, request.chat_id, request.user_id))
        try:
            fresh = await self._store.receive(
                request.key, request.to_json(), expires_at=expiry(request.reply_target)
            )
            await ack()
        except BaseException:
            turn.leave()
            raise
        if not fresh:
            turn.leave()
            log.info("redelivered message %s ignored", request.key)
            DEDUPLICATED.labels(request.platform).inc()
            return
        async with turn, self._intake:
            await self._answer(request, replier)

    async def press(self, press: Press, replier: Replier) -> ActionResult:
        with about(platform=press.platform, user=press.user_id):
            return await self._press(press, replier)

    async def _press(self, press: Press, replier: Replier) -> ActionResult:
        action = decode(press.action)
        if action is None:
            return ActionResult.UNKNOWN
        if press.event_id and not await self._store.first_seen(
            f"{press.platform}:press:{press.event_id}"
        ):
            DEDUPLICATED.labels(press.platform).inc()
            return ActionResult.DONE
        line = (press.platform, press.chat_id, press.user_id)
        async with self._turns.take(line):
            try:
                return await self._on_press[action.verb](press, action, replier)
            except IMAError as exc:  # the catalog could not be read: nothing was started
                log.warning("button %s failed: %s", press.action, exc.log_fields())
                await self._say(replier, self._info(self._locale(press), exc.locale_key))
                return ActionResult.DONE

    async def model_choices(
        self, task_types: Sequence[TaskType], typed: str, locale: str
    ) -> list[Choice]:
        prices: dict[str, tuple[int, int]] = {}
        wanted = name_key(typed)
        for task_type in task_types:
            try:
                catalog = await self._client.catalog(task_type)
            except IMAError as exc:
                log.warning("no models to suggest: %s", exc.log_fields())
                return []
            for model in catalog.models:
                if wanted not in name_key(model.name):
                    continue
                low, high = prices.get(model.name, (model.min_points, model.max_points))
                prices[model.name] = (min(low, model.min_points), max(high, model.max_points))
        return [
            Choice(
                self.text(
                    locale,
                    "choice.model",
                    model=name,
                    credits=str(low) if low == high else f"{low}–{high}",
                ),
                name,
            )
            for name, (low, high) in prices.items()
        ]

    async def history_choices(self, platform: str, user_id: str, typed: str) -> list[Choice]:
        wanted = typed.casefold()
        return [
            Choice(f"{job.prompt} · {job.model_name}", job.id)
            for job in await self._store.recent_jobs(platform, user_id, 50)
            if job.state is JobState.DELIVERED and wanted in job.prompt.casefold()
        ]

    # ── lifecycle (for the wiring in bot/runtime.py) ──────────────────────────────────────

    async def warm_up(self) -> None:
        """Read every category's catalog now, so the first message doesn't wait for them."""
        results = await asyncio.gather(
            *(self._client.catalog(t) for t in TaskType), return_exceptions=True
        )
        for error in (r for r in results if isinstance(r, IMAError)):
            log.warning("a catalog was not read at start: %s", error.log_fields())

    async def resume(self) -> int:
        """Carry on with the jobs a previous run left, then answer the requests it stored but
        never answered; returns how many jobs were taken up. From then on, answer the requests
        of replicas that died before answering them (their leases ran out)."""
        resumed = await self._runner.resume()
        unanswered = await self._store.claim_requests(
            time.time() - REPLAY_WITHIN, time.time(), previous_life=True
        )
        arrived, self._arrived = self._arrived or set(), None  # after the query: none missed
        await self._replay(unanswered, skip=arrived)  # those are answered where they arrived
        if self._keeper is None:
            self._keeper = asyncio.create_task(self._take_over_requests(), name="requests")
        return resumed

    async def _take_over_requests(self) -> None:
        every = self._store.lease.renew_every
        while True:
            await asyncio.sleep(every)
            try:
                await self._replay(
                    await self._store.claim_requests(time.time() - REPLAY_WITHIN, time.time())
                )
            except StoreError:
                continue  # the store has logged the cause; the next round tries again

    async def _replay(
        self, raws: Sequence[Mapping[str, Any]], skip: Set[str] = frozenset()
    ) -> None:
        """Answer stored requests nobody answered (a restart, or a replica that died)."""
        for raw in raws:
            request = ChatRequest.from_json(raw)
            replier = self._replier_for(request.platform, request.reply_target)
            if replier is None or request.key in skip:
                continue
            log.info("answering %s, stored but not answered before", request.key)
            try:
                async with self._turns.take((request.platform, request.chat_id, request.user_id)):
                    await self._answer(request, replier)
            except Exception:
                log.exception("stored request %s could not be answered", request.key)

    async def shutdown(self) -> None:
        """Stop every job this process runs without failing them: the next start resumes them."""
        if self._keeper is not None:
            self._keeper.cancel()
            await asyncio.wait({self._keeper})
            self._keeper = None
        await self._runner.shutdown()
        if self._reader is not None:
            await self._reader.close()

    async def drain(self) -> None:
        """Wait until every job this process runs has ended (tests and one-shot use)."""
        await self._runner.drain()

    # ── answering a message ───────────────────────────────────────────────────────────────

    async def _answer(self, request: ChatRequest, replier: Replier) -> None:
        locale = self.locale_for(request.locale, request.text)
        access = await self.allowlists.access(request.platform)
        try:
            if not access.allows(request):
                verdict.decide(Decision.REFUSE)
                REFUSALS.labels("not_allowed").inc()
                await self._say(replier, self._info(locale, "access.not_allowed"))
                return
            if request.attachments and not request.text.strip() and request.options.media is None:
                verdict.decide(Decision.ASK)
                await self._pictures.remember(request)
                await self._say(replier, self._info(locale, "pictures.saved"))
                return
            attachments = (*await self._pictures.peek(request), *request.attachments)
            turn = _Turn(
                request,
                replier,
                locale,
                await self._read(request, len(attachments), locale),
                attachments,
                admin=request.user_id in access.admins,
            )
            await self._dispatch(turn)
        except IMAError as exc:  # the catalog could not be read: nothing was started
            log.warning("request failed before a job started: %s", exc.log_fields())
            await self._say(replier, self._info(locale, exc.locale_key))
        finally:
            await self._store.finish_request(request.key)

    async def _read(self, request: ChatRequest, images: int, locale: str) -> ParsedMessage:
        explicit = request.options.explicit
        if explicit is not None and explicit in self._explicit:
            return self._explicit[explicit](request)
        parsed = parse_message(request.text, image_count=images, model_names=self._model_names())
        if request.options.media is not None or request.options.model is not None:
            return replace(parsed, command=Command.GENERATE)
        if self._reader is None or parsed.command in understanding.CERTAIN:
            return parsed
        recent = await self._store.recent_jobs(
            request.platform, request.user_id, 3, chat_id=request.chat_id
        )
        reading = await self._reader.read(
            request.text,
            images=images,
            recent=[j.prompt for j in recent if followups.editable(j)],
            models=sorted({m.name for c in self._client.cached() for m in c.models}),
            locale=locale,
        )
        return understanding.merge(parsed, reading)

    async def _dispatch(self, turn: _Turn) -> None:
        request = turn.request
        if request.options.explicit is Explicit.SHOW and request.options.item:
            await self._show_result(turn, request.options.item)
            return
        command = turn.parsed.command
        if request.reply_to and command in (Command.GENERATE, Command.NONE):
            origin = await self._store.job_for_message(request.platform, request.reply_to)
            if origin is not None and followups.editable(origin):
                await self._carry_on(turn, origin)
                return
        await self._on_command[command](turn)
        if command is not Command.GENERATE and request.attachments:
            # pictures sent with a question or a remark wait for the request that uses them
            await self._pictures.remember(request)

    def _model_names(self) -> Sequence[str]:
        """Every name of every model, longest first: the live catalogs' (those read so far)
        and the known ones; recomputed only when a catalog changes."""
        catalogs = tuple(self._client.cached())
        cached, names = self._names
        if len(cached) != len(catalogs) or any(
            a is not b for a, b in zip(cached, catalogs, strict=True)
        ):
            every = {n for c in catalogs for n in c.surface_names()} | set(static_names())
            names = tuple(sorted(every, key=len, reverse=True))
            self._names = (catalogs, names)
        return names

    # ── message kinds ─────────────────────────────────────────────────────────────────────

    async def _generate(self, turn: _Turn) -> None:
        parsed, options = turn.parsed, turn.request.options
        task_type = understanding.task_type(
            options, parsed, len(turn.attachments), self._client.cached()
        )
        if task_type is None or (parsed.ambiguous and options.media is None):
            verdict.decide(Decision.ASK)
            if turn.request.attachments:
                await self._pictures.remember(turn.request)
            await self._say(turn.replier, self._question(turn.locale, "question.media"))
            return
        await self._pictures.forget(turn.request)
        wants = self._wants(turn)
        draft = Draft(
            task_type,
            understanding.prompt(parsed, wants),
            wants,
            attachments=turn.attachments,
            image_urls=parsed.image_urls,
            pick=self._pick(turn),
            premium=parsed.premium_requested,
            avoid=parsed.avoided,
            another=parsed.another_model,
        )
        await self._start(
            draft,
            turn.who,
            turn.replier,
            request_key=turn.request.key,
            unsure=parsed.unsure and options.media is None,
        )

    def _wants(self, turn: _Turn) -> Wants:
        """What the message asks of a model, and whether it insists on it."""
        wants = understanding.wants(turn.request.options, turn.parsed)
        return replace(wants, strict=True) if turn.parsed.insisted else wants

    def _pick(self, turn: _Turn) -> Pick:
        named = turn.request.options.model or turn.parsed.model
        if named:
            return Named(named, always=turn.parsed.model_scope is ModelScope.ALWAYS)
        return turn.parsed.quality

    async def _edit(self, turn: _Turn) -> None:
        """ "Make it vertical", "add a moon", "让它动起来", "3 more": the result it quotes, or
        else the person's last one in this chat."""
        request = turn.request
        origin = None
        if request.reply_to:
            origin = await self._store.job_for_message(request.platform, request.reply_to)
        if origin is None:
            recent = await self._store.recent_jobs(
                request.platform, request.user_id, 5, chat_id=request.chat_id
            )
            since = time.time() - EDIT_WITHIN
            origin = next(
                (j for j in recent if followups.editable(j) and (j.finished_at or 0) >= since),
                None,
            )
        if origin is None or not followups.editable(origin):
            verdict.decide(Decision.ASK)
            await self._say(turn.replier, self._question(turn.locale, "follow.no_result"))
            return
        await self._carry_on(turn, origin)

    async def _carry_on(self, turn: _Turn, origin: Job) -> None:
        """A message replying to one of the bot's results, or editing the last one."""
        if origin.user_id != turn.request.user_id:
            verdict.decide(Decision.REFUSE)
            await self._say(turn.replier, self._info(turn.locale, "follow.not_yours"))
            return
        verdict.note(continues=True)
        parsed = turn.parsed
        media = turn.request.options.media or parsed.media
        wants = self._wants(turn)
        pick = self._pick(turn)
        premium = parsed.premium_requested
        if parsed.edit is not None:
            draft = followups.from_edit(
                origin, parsed.edit.kind, parsed.prompt.strip(), media, wants, pick, premium=premium
            )
        else:
            draft = followups.from_words(
                origin, parsed.prompt.strip(), media, wants, pick, premium=premium
            )
        await self._start(
            draft, turn.who, turn.replier, request_key=turn.request.key, unsure=parsed.unsure
        )

    async def _history(self, turn: _Turn) -> None:
        verdict.decide(Decision.ANSWER)
        request = turn.request
        jobs = [
            j
            for j in await self._store.recent_jobs(request.platform, request.user_id, 30)
            if j.state is JobState.DELIVERED
        ][:HISTORY_SIZE]
        if not jobs:
            await self._say(turn.replier, self._info(turn.locale, "history.empty", private=True))
            return
        await self._say(
            turn.replier, replace(self._messages.history(turn.locale, jobs), private=True)
        )

    async def _show_result(self, turn: _Turn, job_id: str) -> None:
        verdict.decide(Decision.ANSWER)
        job = await self._store.get_job(job_id)
        request = turn.request
        if job is None or job.platform != request.platform or job.state is not JobState.DELIVERED:
            await self._say(turn.replier, self._info(turn.locale, "action.expired", private=True))
        elif job.user_id != request.user_id:
            await self._say(turn.replier, self._info(turn.locale, "action.not_yours", private=True))
        else:
            await self._say(turn.replier, replace(self._messages.recall(job), private=True))

    async def _set_default(self, turn: _Turn) -> None:
        """ "Always use X"; without a model ("make it my default") the one just used."""
        parsed, request = turn.parsed, turn.request
        named, media = parsed.model, parsed.media
        if named is None:
            if await self._preferences.pending(request.platform, request.user_id) is not None:
                await self._yes_no(replace(turn, parsed=ParsedMessage(Command.CONFIRM_YES)))
                return
            last = await self._last_job(turn)
            if last is None:
                verdict.decide(Decision.ASK)
                await self._say(turn.replier, self._info(turn.locale, "pref.no_context"))
                return
            named, media = last.model_name, media or last.task_type.media
        verdict.decide(
            Decision.PREFERENCE,
            preference=PreferenceOp.SET,
            preference_model=self._display_name(named, media),
        )
        reply = await self._preferences.set(
            request.platform, request.user_id, media, named, turn.locale
        )
        await self._say(turn.replier, reply)

    async def _reset(self, turn: _Turn) -> None:
        verdict.decide(Decision.PREFERENCE, preference=PreferenceOp.RESET)
        request = turn.request
        reply = await self._preferences.reset(
            request.platform, request.user_id, turn.parsed.media, turn.locale
        )
        await self._say(turn.replier, reply)

    async def _show_preferences(self, turn: _Turn) -> None:
        verdict.decide(Decision.PREFERENCE, preference=PreferenceOp.SHOW)
        request = turn.request
        reply = await self._preferences.show(request.platform, request.user_id, turn.locale)
        await self._say(turn.replier, reply)

    async def _yes_no(self, turn: _Turn) -> None:
        request = turn.request
        yes = turn.parsed.command is Command.CONFIRM_YES
        proposal = await self._proposals.take(request.platform, request.user_id, request.chat_id)
        if proposal is not None:  # the bot asked "shall I go ahead?": this is the answer
            await self._answer_proposal(proposal, yes, turn.who, turn.replier, request.key)
            return
        waiting = await self._preferences.pending(request.platform, request.user_id)
        reply = await self._preferences.answer_save(
            request.platform, request.user_id, yes, turn.locale
        )
        if reply is not None and waiting is not None and yes:
            verdict.decide(
                Decision.PREFERENCE,
                preference=PreferenceOp.SET,
                preference_model=waiting.model_name,
            )
        else:  # "no" (the default stays), or "ok" with nothing waiting for an answer
            verdict.decide(Decision.CHAT)
        if reply is None:
            reply = self._info(turn.locale, "chat.ok")
        await self._say(turn.replier, reply)

    async def _again(self, turn: _Turn) -> None:
        last = await self._last_job(turn)
        if last is None:
            verdict.decide(Decision.ASK)
            await self._say(turn.replier, self._info(turn.locale, "pref.no_context"))
            return
        verdict.note(continues=True)
        pick = self._pick(turn) if (turn.parsed.model or turn.parsed.quality) else None
        await self._start(
            followups.again(last, pick),
            turn.who,
            turn.replier,
            request_key=turn.request.key,
            unsure=turn.parsed.unsure,
        )

    async def _asked(self, turn: _Turn) -> None:
        """A question: answered from the live catalog and the ledger, spending nothing."""
        verdict.decide(Decision.ANSWER)
        parsed, request = turn.parsed, turn.request
        question = parsed.question
        asked = Asked(
            question.topic if question is not None else QuestionTopic.OTHER,
            parsed.media,
            question.feature if question is not None else None,
            parsed.model,
            understanding.wants(request.options, parsed),
            parsed.quality,
        )
        lines = await self._answers.answer(
            asked,
            platform=request.platform,
            user_id=request.user_id,
            chat_id=request.chat_id,
            now=time.time(),
            admin=turn.admin,
        )
        await self._say(turn.replier, self._messages.info(turn.locale, *lines))

    async def _usage(self, turn: _Turn) -> None:
        verdict.decide(Decision.ANSWER)
        request = turn.request
        lines = await self._answers.credits(
            request.platform, request.user_id, request.chat_id, time.time(), admin=turn.admin
        )
        await self._say(
            turn.replier, replace(self._messages.info(turn.locale, *lines), private=True)
        )

    async def _chat(self, turn: _Turn) -> None:
        verdict.decide(Decision.CHAT)
        await self._say(turn.replier, self._info(turn.locale, "chat.reply"))

    async def _avoid(self, turn: _Turn) -> None:
        """ "Stop using X", "别用可灵了" — and with a request beside it ("以后别用可灵了，做个…"),
        that request too, never with X."""
        parsed, request = turn.parsed, turn.request
        beside = self._request_beside(turn)
        if beside is None:
            verdict.decide(
                Decision.PREFERENCE,
                preference=PreferenceOp.RESET,
                preference_model=self._display_name(parsed.model, parsed.media),
            )
        media = parsed.media if beside is None else None  # the medium of the request beside
        reply = await self._preferences.avoid(
            request.platform, request.user_id, media, parsed.model or "", turn.locale
        )
        await self._say(turn.replier, reply)
        if beside is not None:
            await self._generate(replace(turn, parsed=beside))

    def _request_beside(self, turn: _Turn) -> ParsedMessage | None:
        """The request in the clauses of a stop-using message that don't stop anything, from
        the first one that asks to make something of a known medium on (else the first that
        asks at all: "stop using sora, too pricey. make a video of…" → "make a video of…"), as
        a request that avoids the stopped model (proposed, not made, without a verb of making);
        None when there is none, when its medium is unclear ("…, too pricey" is a reason, not a
        request) or when it names that model."""
        stopped, images, names = turn.parsed.model, len(turn.attachments), self._model_names()
        text = turn.request.text
        ends = [m.end() for m in _CLAUSES.finditer(text)] + [len(text)]
        spans = [(a, b) for a, b in zip([0, *ends], ends, strict=False) if text[a:b].strip()]
        clauses = [  # each clause with the marks that end it, as typed
            (text[a:b], parse_message(text[a:b], image_count=images, model_names=names))
            for a, b in spans
        ]
        asks = [i for i, (_, p) in enumerate(clauses) if p.command is Command.GENERATE]
        if stopped is None or not asks:
            return None
        start = next((i for i in asks if not clauses[i][1].ambiguous), asks[0])
        rest = "".join(t for t, p in clauses[start:] if p.command is not Command.AVOID_MODEL)
        beside = parse_message(rest, image_count=images, model_names=names)
        if (
            beside.command is not Command.GENERATE
            or beside.ambiguous
            or (
                beside.model is not None
                and self._display_name(beside.model) == self._display_name(stopped)
            )
        ):
            return None
        # said after a stop, words with no verb of making are as likely a reason ("pictures
        # from mj are better anyway") as a request: shown with its price, made on a tap
        unsure = beside.unsure or not has_request_verb(rest)
        return replace(beside, avoided=stopped, unsure=unsure)

    async def _help(self, turn: _Turn) -> None:
        verdict.decide(Decision.ANSWER)
        await self._say(turn.replier, self._info(turn.locale, "help.text"))

    async def _nothing(self, turn: _Turn) -> None:
        """Words that ask for nothing the bot does: a remark — or, with pictures, a request
        that doesn't say what to do with them yet."""
        if turn.attachments:
            verdict.decide(Decision.ASK)
            await self._say(turn.replier, self._question(turn.locale, "pictures.what"))
        elif not turn.request.text.strip():
            verdict.decide(Decision.ASK)
            await self._say(turn.replier, self._question(turn.locale, "question.empty"))
        else:
            await self._chat(turn)

    async def _suggest(self, turn: _Turn) -> None:
        """ "Another model" / "the best" / "the cheapest" after a result: offer buttons
        ("always the cheapest" saves it instead)."""
        command = turn.parsed.command
        if command is not Command.ANOTHER_MODEL and turn.parsed.model_scope is ModelScope.ALWAYS:
            verdict.decide(Decision.PREFERENCE, preference=PreferenceOp.SET)
            request = turn.request
            reply = await self._preferences.set_quality(
                request.platform,
                request.user_id,
                turn.parsed.media,
                command is Command.BEST,
                turn.locale,
            )
            await self._say(turn.replier, reply)
            return
        verdict.decide(Decision.PREFERENCE, preference=_SUGGESTIONS[command])
        last = await self._last_job(turn)
        if last is None:
            await self._say(turn.replier, self._info(turn.locale, "pref.no_context"))
            return
        catalog = await self._client.catalog(last.task_type)
        current = catalog.resolve(last.version_id, last.model_id)
        if command is Command.ANOTHER_MODEL:
            others = [m for m in catalog.models if m != current]
            candidates = (
                choice.alternatives(catalog, current, count=len(others))
                if current is not None
                else others
            )
            key = "another.title"
        else:
            picked = choice.best(catalog) if command is Command.BEST else choice.cheapest(catalog)
            candidates = [picked] if picked is not None else []
            key = "another.best" if command is Command.BEST else "another.cheapest"
        wants = Wants.from_json(last.wants)
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
            await self._say(turn.replier, self._info(turn.locale, "pref.no_context"))
            return
        first = offers[0]
        kind = self._messages.kind(turn.locale, last.task_type)
        message = Message(key, {"kind": kind, "model": first.model.name, "credits": first.credits})
        buttons = self._messages.pick_buttons(turn.locale, last.id, offers)
        await self._say(
            turn.replier, self._messages.question(turn.locale, message, buttons=buttons)
        )

    async def _last_job(self, turn: _Turn) -> Job | None:
        request = turn.request
        recent = await self._store.recent_jobs(
            request.platform, request.user_id, 1, chat_id=request.chat_id
        )
        return recent[0] if recent else None

    # ── buttons ───────────────────────────────────────────────────────────────────────────

    async def _origin(self, press: Press, job_id: str) -> Job | ActionResult:
        """The job a button belongs to, if the presser may use it."""
        job = await self._store.get_job(job_id)
        if job is None or job.platform != press.platform:
            return ActionResult.UNKNOWN
        if job.user_id != press.user_id:
            return ActionResult.NOT_YOURS
        return job

    async def _press_retry(self, press: Press, action: Action, replier: Replier) -> ActionResult:
        origin = await self._origin(press, action.subject)
        if isinstance(origin, ActionResult):
            return origin
        if self._pressed_twice(press):
            return ActionResult.DONE
        pick: Pick = None
        if action.model is not None:
            catalog = await self._client.catalog(origin.task_type)
            model = next(
                (m for m in catalog.models if model_digest(m.version_id) == action.model), None
            )
            if model is None:
                message = Message("pref.unknown_model", {"model": origin.model_name})
                await self._say(replier, self._messages.info(self._locale(press, origin), message))
                return ActionResult.DONE
            pick = Remembered(model.version_id, model.model_id, model.name, ModelSource.EXPLICIT)
        draft = followups.again(origin, pick)
        await self._start(draft, await self._requester(press, origin), replier)
        return ActionResult.DONE

    async def _press_show(self, press: Press, action: Action, replier: Replier) -> ActionResult:
        origin = await self._origin(press, action.subject)
        if isinstance(origin, ActionResult):
            return origin
        if origin.state is not JobState.DELIVERED:
            return ActionResult.UNKNOWN
        await self._say(replier, replace(self._messages.recall(origin), private=True))
        return ActionResult.DONE

    async def _press_follow(self, press: Press, action: Action, replier: Replier) -> ActionResult:
        origin = await self._origin(press, action.subject)
        if isinstance(origin, ActionResult):
            return origin
        if not origin.result_urls or (
            action.verb is not Verb.SOUNDTRACK and not origin.task_type.spec.result_is_picture
        ):
            return ActionResult.UNKNOWN
        if self._pressed_twice(press):
            return ActionResult.DONE
        draft = followups.from_button(action.verb, origin, action.index or 0)
        await self._start(draft, await self._requester(press, origin), replier)
        return ActionResult.DONE

    async def _press_frame(self, press: Press, action: Action, replier: Replier) -> ActionResult:
        """The first press picks the first frame, the second makes the video."""
        origin = await self._origin(press, action.subject)
        if isinstance(origin, ActionResult):
            return origin
        if not origin.result_urls or not origin.task_type.spec.result_is_picture:
            return ActionResult.UNKNOWN
        if self._pressed_twice(press):
            return ActionResult.DONE
        index = action.index or 0
        first = await self._state.get(origin.platform, origin.user_id, FIRST_FRAME)
        if first is None:
            picked = FirstFrame(origin.id, followups.result_url(origin, index), origin.prompt)
            await self._state.set(origin.platform, origin.user_id, FIRST_FRAME, picked)
            note = self._info(self._locale(press, origin), "follow.first_frame", private=True)
            await self._say(replier, note)
            return ActionResult.DONE
        await self._state.set(origin.platform, origin.user_id, FIRST_FRAME, None)
        draft = followups.from_frames(first.url, first.prompt, origin, index)
        await self._start(draft, await self._requester(press, origin), replier)
        return ActionResult.DONE

    async def _press_save(self, press: Press, action: Action, replier: Replier) -> ActionResult:
        origin = await self._origin(press, action.subject)
        if isinstance(origin, ActionResult):
            return origin
        reply = await self._preferences.answer_save(
            press.platform,
            press.user_id,
            action.verb is Verb.SAVE,
            self._locale(press, origin),
            job_id=origin.id,
        )
        if reply is None:
            return ActionResult.UNKNOWN
        await self._say(replier, reply)
        return ActionResult.DONE

    async def _press_unqueue(self, press: Press, action: Action, replier: Replier) -> ActionResult:
        """Leave the queue: the job's owner, or an admin of its platform."""
        job = await self._store.get_job(action.subject)
        if job is None or job.platform != press.platform:
            return ActionResult.UNKNOWN
        if job.user_id != press.user_id and not await self._is_admin(press.platform, press.user_id):
            return ActionResult.NOT_YOURS
        if not await self._runner.leave_queue(job):
            return ActionResult.UNKNOWN
        return ActionResult.DONE

    async def _press_proposal(self, press: Press, action: Action, replier: Replier) -> ActionResult:
        proposal = await self._proposals.take(
            press.platform, press.user_id, press.chat_id, action.subject
        )
        if proposal is None:
            return ActionResult.UNKNOWN
        who = Requester(
            press.platform,
            press.user_id,
            press.chat_id,
            self._locale(press),
            press.reply_target,
            admin=await self._is_admin(press.platform, press.user_id),
        )
        await self._answer_proposal(proposal, action.verb is Verb.CONFIRM, who, replier)
        return ActionResult.DONE

    async def _answer_proposal(
        self,
        proposal: Proposal,
        yes: bool,
        who: Requester,
        replier: Replier,
        request_key: str | None = None,
    ) -> None:
        if not yes:
            verdict.decide(Decision.CHAT)
            await self._say(replier, self._info(who.locale, "proposal.dropped"))
            return
        await self._start(
            proposal.draft(), who, replier, request_key=request_key, shown=proposal.credits
        )

    def _pressed_twice(self, press: Press) -> bool:
        """True for the same button pressed again by the same person within a short while."""
        now = time.monotonic()
        self._presses = {k: t for k, t in self._presses.items() if now - t < DOUBLE_PRESS}
        key = (press.platform, press.user_id, press.action)
        if key in self._presses:
            return True
        self._presses[key] = now
        return False

    async def _requester(self, press: Press, origin: Job) -> Requester:
        return Requester(
            origin.platform,
            origin.user_id,
            origin.chat_id,
            self._locale(press, origin),
            press.reply_target or origin.reply_target,
            admin=await self._is_admin(press.platform, press.user_id),
        )

    def _locale(self, press: Press, origin: Job | None = None) -> str:
        if press.locale:
            return normalize_locale(press.locale, self.default_locale)
        return origin.locale if origin is not None else self.default_locale

    # ── starting a job: the one path ──────────────────────────────────────────────────────

    async def _start(
        self,
        draft: Draft,
        who: Requester,
        replier: Replier,
        *,
        request_key: str | None = None,
        unsure: bool = False,
        shown: int | None = None,
    ) -> None:
        """Plan ``draft`` and make it — or, when the person should decide first (``unsure``,
        the operator's group price threshold), propose it. ``shown``: the price a proposal
        showed and the person accepted; more is never paid without asking again."""
        try:
            plan = await self._planner.plan(draft, who.platform, who.user_id)
        except Unplanned as refusal:
            verdict.decide(Decision.ASK if refusal.stage is Stage.QUESTION else Decision.REFUSE)
            REFUSALS.labels(_refusal_reason(refusal.message.key)).inc()
            await self._refuse(draft, refusal, who, replier)
            return
        threshold = self.config.policy.confirm_above_credits
        expensive = threshold is not None and not who.private and plan.quote.credits > threshold
        if shown is None and (unsure or expensive):
            await self._propose(plan, who, replier, Message("proposal.ask"))
            return
        if shown is not None and plan.quote.credits > shown:  # the price rose meanwhile
            message = Message("proposal.price_rose", {"old": shown})
            await self._propose(plan, who, replier, message)
            return
        watched = verdict.current()
        dry = watched is not None and watched.dry
        if plan.source is ModelSource.ALWAYS:
            if not dry:
                await self._preferences.save(who.platform, who.user_id, plan.task_type, plan.model)
            kinds = Message(f"kind.{plan.task_type.value}")
            saved = Message("pref.saved", {"model": plan.model.name, "kinds": kinds})
            plan = replace(plan, notes=(saved, *plan.notes))
        if watched is not None and dry:  # a dry run: what would be made, not made
            verdict.decide(Decision.GENERATE, plan=plan)
            watched.texts.append(self._runner.sketch(plan, who))
            return
        admission = await self._runner.admit(plan, who, replier, request_key=request_key)
        if admission is Admission.ANSWERED:
            log.info("request %s is answered by another replica", request_key)
            return
        if not admission.admitted:
            verdict.decide(Decision.REFUSE)
            REFUSALS.labels(admission.value).inc()
            await self._say(replier, await self._refusal(admission, who, plan.quote.credits))
            return
        verdict.decide(Decision.GENERATE, plan=plan)

    async def _refuse(
        self, draft: Draft, refusal: Unplanned, who: Requester, replier: Replier
    ) -> None:
        """Say why it can't be made; when something close can, offer it with one tap."""
        alternative = refusal.alternative
        plan = None
        if alternative is not None:
            pick = Remembered(
                alternative.model.version_id,
                alternative.model.model_id,
                alternative.model.name,
                ModelSource.EXPLICIT,
            )
            try:
                plan = await self._planner.plan(
                    replace(draft, wants=alternative.wants, pick=pick), who.platform, who.user_id
                )
            except Unplanned:
                plan = None
        if plan is None:
            text = self._messages.text(who.locale, refusal.message)
            await self._say(replier, Reply(refusal.stage, text, locale=who.locale))
            return
        await self._propose(plan, who, replier, refusal.message, intro=False)

    async def _propose(
        self,
        plan: Plan,
        who: Requester,
        replier: Replier,
        message: Message,
        *,
        intro: bool = True,
    ) -> None:
        """Keep ``plan`` and ask before making it: its model and price, and two buttons."""
        verdict.decide(Decision.CONFIRM, plan=plan)
        proposal = await self._proposals.keep(who.platform, who.user_id, who.chat_id, plan)
        values = {
            "kind": Message(f"kind.{plan.task_type.value}"),
            "model": plan.model.name,
            "credits": plan.quote.credits,
        }
        lines = [Message(message.key, {**values, **message.values}, message.tail)]
        if not intro:
            lines.append(Message("proposal.offer", values))
        buttons = self._messages.proposal_buttons(who.locale, proposal.id, plan.quote.credits)
        reply = self._messages.question(who.locale, *lines, buttons=buttons)
        await self._say(replier, reply)

    async def _refusal(self, admission: Admission, who: Requester, credits: int) -> Reply:
        """Which cap stopped a request, what remains under it and when it resets."""
        caps = await self.config.policy.caps_in(
            self._store, who.platform, who.chat_id, admin=who.admin
        )
        now = time.time()
        since = caps.window.start(now)
        if admission is Admission.USER_CAP:
            cap = caps.user_credits
            spent = await self._store.spent(since, who.platform, user_id=who.user_id)
        else:
            cap = caps.chat_credits
            spent = await self._store.spent(since, who.platform, chat_id=who.chat_id)
        values = {
            "credits": credits,
            "cap": cap or 0,
            "left": max(0, (cap or 0) - spent),
            "per": Message(f"window.per_{caps.window}"),
            "reset": duration(caps.window.end(now) - now),
        }
        return self._messages.info(who.locale, Message(f"limit.{admission}", values))

    # ── helpers ───────────────────────────────────────────────────────────────────────────

    async def _say(self, replier: Replier, reply: Reply) -> None:
        if (watched := verdict.current()) is not None:
            watched.texts.append(reply.text)
        await replier.send(fit(reply, replier.limits))

    def _info(self, locale: str, key: str, *, private: bool = False) -> Reply:
        return replace(self._messages.info(locale, Message(key)), private=private)

    def _question(self, locale: str, key: str) -> Reply:
        return self._messages.question(locale, Message(key))

    def _display_name(self, named: str | None, media: MediaKind | None = None) -> str | None:
        """The catalog's name of a model someone named ("可灵" → "Kling O1"), looked up first
        among the models of ``media`` ("豆包" for music is DouBao, not SeeDream)."""
        if named is None:
            return None
        catalogs = sorted(self._client.cached(), key=lambda c: c.task_type.media is not media)
        found = next((m for c in catalogs if (m := c.find(named))), None)
        return found.name if found is not None else named

    async def _is_admin(self, platform: str, user_id: str) -> bool:
        return user_id in (await self.allowlists.access(platform)).admins

    def _replier_for(self, platform: str, target: Mapping[str, Any]) -> Replier | None:
        found = self._platforms.get(platform)
        return found.replier(target) if found is not None else None

    async def _fetch(self, platform: str, ref: Mapping[str, Any], max_bytes: int) -> bytes:
        found = self._platforms.get(platform)
        if found is None:
            raise ImageUnreachableError(f"no adapter for {platform} is running here")
        return await found.fetch(ref, max_bytes)


def _refusal_reason(key: str) -> str:
    """The metric's reason for a refusal's message: "banned", "too_long", "advice", …"""
    return "advice" if key.startswith("advice.") else key.rsplit(".", 1)[-1]
