"""Per-person default models: saved after success as the spec says, set, shown and reset.

Two kinds are saved. A model the person *chose* ("always use X", a yes to "make it your
default?", a stop-using that picked another) is binding. A model saved because they *used* it
(the spec's rule: the model of their first success) is their usual one, but the planner treats
it like the recommended default: when it can't do a wish, one that can may be used instead.

A model the person names this time is used this time; after it succeeds they are asked whether
it should become the default (a question of its own with buttons, private where the platform
allows; or a typed yes/no) when it isn't saved already: a yes makes it chosen, a no keeps what
was there before. The cheapest model (and one used only because the default could not do a
wish) is never saved without being asked for, and nothing saved by use replaces a chosen one.
Every method returns what to say; the caller sends it.
"""

from __future__ import annotations

import time

from core import choice
from core.ima.catalog import Catalog, Model
from core.ima.client import IMAClient
from core.ima.errors import IMAError
from core.ima.tasks import MediaKind, TaskType
from core.jobs import Job, ModelSource
from core.messages import Messages
from core.replier import Reply
from core.state import PENDING_SAVE, PendingSave, UserState
from core.store import Preference, Store
from core.wants import Message


class Preferences:
    def __init__(
        self, client: IMAClient, store: Store, messages: Messages, state: UserState
    ) -> None:
        self._client = client
        self._store = store
        self._messages = messages
        self._state = state

    async def save(
        self,
        platform: str,
        user_id: str,
        task_type: TaskType,
        model: Model,
        *,
        chosen: bool = True,
    ) -> None:
        """Save ``model`` as the default: chosen by the person, or (``chosen=False``) because
        they used it."""
        pref = Preference(
            model.model_id, model.version_id, model.name, model.min_points, time.time(), chosen
        )
        await self._store.set_preference(platform, user_id, task_type, pref)

    async def after_success(self, job: Job, catalog: Catalog | None) -> Reply | None:
        """Save the preference as the spec says; after a model the person named that isn't
        saved yet, the question whether it should be (and nothing saved by use yet, when
        another one is)."""
        model = catalog.resolve(job.version_id, job.model_id) if catalog else None
        if model is None or job.source in (ModelSource.CHEAPEST, ModelSource.FITTED):
            return None
        current = await self._store.get_preference(job.platform, job.user_id, job.task_type)
        if job.source is ModelSource.EXPLICIT and (
            current is None or current.version_id != model.version_id
        ):
            if current is None:  # the spec's rule, until they answer
                await self.save(job.platform, job.user_id, job.task_type, model, chosen=False)
            pending = PendingSave(
                job_id=job.id,
                task_type=job.task_type.value,
                version_id=model.version_id,
                model_id=model.model_id,
                model_name=model.name,
                credit=model.min_points,
                locale=job.locale,
            )
            await self._state.set(job.platform, job.user_id, PENDING_SAVE, pending)
            old = current.model_name if current is not None else None
            return self._messages.save_question(job, old=old, new=model.name)
        if job.source is ModelSource.PREFERENCE:  # its version may be newer now
            await self.save(job.platform, job.user_id, job.task_type, model)
        elif current is None or (
            not current.chosen and job.source in (ModelSource.BEST, ModelSource.USED)
        ):
            await self.save(job.platform, job.user_id, job.task_type, model, chosen=False)
        return None

    async def pending(self, platform: str, user_id: str) -> PendingSave | None:
        return await self._state.get(platform, user_id, PENDING_SAVE)

    async def answer_save(
        self, platform: str, user_id: str, save: bool, locale: str, *, job_id: str | None = None
    ) -> Reply | None:
        """The answer to "make it your default?" (for ``job_id``'s question, or whichever is
        waiting); None when no such question is waiting."""
        pending = await self.pending(platform, user_id)
        if pending is None or (job_id is not None and pending.job_id != job_id):
            return None
        await self._state.set(platform, user_id, PENDING_SAVE, None)
        task_type = TaskType(pending.task_type)
        if save:
            pref = Preference(
                pending.model_id,
                pending.version_id,
                pending.model_name,
                pending.credit,
                time.time(),
            )
            await self._store.set_preference(platform, user_id, task_type, pref)
            kinds = Message(f"kind.{task_type.value}")
            message = Message("pref.saved", {"model": pending.model_name, "kinds": kinds})
        else:
            current = await self._store.get_preference(platform, user_id, task_type)
            if current is None or (
                not current.chosen and current.version_id == pending.version_id
            ):  # saved only because they used it this once: not what they want
                await self._store.clear_preferences(platform, user_id, task_type)
                message = Message("pref.kept_recommended")
            else:
                message = Message("pref.kept", {"model": current.model_name})
        return self._messages.info(locale, message)

    async def set(
        self, platform: str, user_id: str, media: MediaKind | None, query: str, locale: str
    ) -> Reply:
        """ "Always use X": save X for every task type (of ``media``, if given) it can do."""
        saved: list[tuple[TaskType, Model]] = []
        for task_type, catalog in await self._catalogs(media):
            model = catalog.find(query) if query else None
            if model is not None:
                await self.save(platform, user_id, task_type, model)
                saved.append((task_type, model))
        if not saved:
            return self._messages.info(locale, Message("pref.unknown_model", {"model": query}))
        kinds = self._messages.join(locale, [self._messages.kind(locale, t) for t, _ in saved])
        message = Message("pref.saved", {"model": saved[0][1].name, "kinds": kinds})
        return self._messages.info(locale, message)

    async def set_quality(
        self, platform: str, user_id: str, media: MediaKind | None, best: bool, locale: str
    ) -> Reply:
        """ "Always use the best/cheapest": save that model for each task type (of ``media``)."""
        saved = []
        for task_type, catalog in await self._catalogs(media):
            model = choice.best(catalog) if best else choice.cheapest(catalog)
            if model is not None:
                await self.save(platform, user_id, task_type, model)
                saved.append(_line(task_type, model))
        if not saved:
            return self._messages.info(locale, Message("pref.nothing_saved"))
        title = Message("pref.saved_best" if best else "pref.saved_cheapest")
        return self._messages.info(locale, title, *saved)

    async def avoid(
        self, platform: str, user_id: str, media: MediaKind | None, query: str, locale: str
    ) -> Reply:
        """ "Stop using X": where X is what this person gets by default, forget it (the
        recommended model applies again) — or, when X is the recommended one, save the first
        alternative instead (chosen: nothing brings X back unasked) — and say which."""
        found: Model | None = None
        replaced = []
        for task_type, catalog in await self._catalogs(media):
            model = catalog.find(query) if query else None
            if model is None:
                continue
            found = model
            saved = await self._store.get_preference(platform, user_id, task_type)
            current = catalog.resolve(saved.version_id, saved.model_id) if saved else None
            recommended = choice.recommended(catalog)
            if model != (current or recommended):
                continue
            if recommended is not None and recommended != model:
                await self._store.clear_preferences(platform, user_id, task_type)
                instead = recommended
            else:
                alternative = next(iter(choice.alternatives(catalog, model, count=1)), None)
                if alternative is None:
                    await self._store.clear_preferences(platform, user_id, task_type)
                    continue
                await self.save(platform, user_id, task_type, alternative)
                instead = alternative
            replaced.append(_line(task_type, instead))
        if found is None:
            return self._messages.info(locale, Message("pref.unknown_model", {"model": query}))
        if not replaced:
            return self._messages.info(locale, Message("pref.avoid_unused", {"model": found.name}))
        return self._messages.info(
            locale, Message("pref.avoided", {"model": found.name}), *replaced
        )

    async def _catalogs(self, media: MediaKind | None) -> list[tuple[TaskType, Catalog]]:
        """Every task type's catalog (of ``media``, if given) that can be read now."""
        out = []
        for task_type in TaskType:
            if media is not None and task_type.media is not media:
                continue
            try:
                out.append((task_type, await self._client.catalog(task_type)))
            except IMAError:
                if media is not None:
                    raise  # the one category asked about can't be listed: say so
                # a category IMA can't list right now: the others still count
        return out

    async def reset(
        self, platform: str, user_id: str, media: MediaKind | None, locale: str
    ) -> Reply:
        """Forget the saved models (of one media, or all): the recommended ones apply again."""
        for task_type in TaskType:
            if media is None or task_type.media is media:
                await self._store.clear_preferences(platform, user_id, task_type)
        if media is None:
            message = Message("pref.reset_all")
        else:
            message = Message("pref.reset_one", {"kind": Message(f"media.{media.value}")})
        return self._messages.info(locale, message)

    async def show(self, platform: str, user_id: str, locale: str) -> Reply:
        prefs = await self._store.list_preferences(platform, user_id)
        if not prefs:
            return self._messages.info(locale, Message("pref.nothing_saved"))
        lines = [Message("pref.list_title")] + [
            Message(
                "pref.list_line" if p.chosen else "pref.list_line_used",
                {"kind": Message(f"kind.{t.value}"), "model": p.model_name},
            )
            for t, p in prefs.items()
        ]
        return self._messages.info(locale, *lines)


def _line(task_type: TaskType, model: Model) -> Message:
    return Message(
        "pref.list_line", {"kind": Message(f"kind.{task_type.value}"), "model": model.name}
    )
