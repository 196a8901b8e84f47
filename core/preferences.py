"""Per-user default models: saved after success as the spec says, set, shown and reset.

A model the user names this time is used this time; after it succeeds the user is asked whether
it should become the default (buttons, or a typed yes/no), unless nothing was saved yet. "Always
use X" saves at once; the cheapest model is never saved without being asked for.
"""

from __future__ import annotations

import time

from core.ima.catalog import Catalog, Model
from core.ima.client import IMAClient
from core.ima.tasks import MediaKind, TaskType
from core.jobs import Job, ModelSource
from core.messages import Messages
from core.replier import Button, Replier
from core.store import Preference, Store
from core.wants import Message

#: User state key of a "make it your default?" question waiting for its answer.
PENDING_SAVE = "pending_save"


class Preferences:
    def __init__(self, client: IMAClient, store: Store, messages: Messages) -> None:
        self.client = client
        self.store = store
        self.messages = messages

    async def save(self, platform: str, user_id: str, task_type: TaskType, model: Model) -> None:
        pref = Preference(
            model.model_id, model.version_id, model.name, model.min_points, time.time()
        )
        await self.store.set_preference(platform, user_id, task_type, pref)

    async def after_success(self, job: Job, catalog: Catalog) -> tuple[list[Message], list[Button]]:
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
                PENDING_SAVE,
                {
                    "task_type": job.task_type.value,
                    "version_id": model.version_id,
                    "locale": job.locale,
                },
            )
            note = Message("pref.ask_save", {"old": current.model_name, "new": model.name})
            return [note], self.messages.save_buttons(job.locale, job.task_type, model.version_id)
        if current is None or job.source in (ModelSource.BEST, ModelSource.PREFERENCE):
            await self.save(job.platform, job.user_id, job.task_type, model)
        return [], []

    async def answer_save(
        self,
        platform: str,
        user_id: str,
        task_type: TaskType,
        save: bool,
        replier: Replier,
        locale: str,
    ) -> None:
        pending = await self.store.get_user_state(platform, user_id, PENDING_SAVE)
        await self.store.set_user_state(platform, user_id, PENDING_SAVE, None)
        catalog = await self.client.catalog(task_type)
        model = catalog.by_version(pending["version_id"]) if pending else None
        if model is None:
            return
        if save:
            await self.save(platform, user_id, task_type, model)
            message = Message(
                "pref.saved", {"model": model.name, "kinds": self.messages.kind(locale, task_type)}
            )
        else:
            current = await self.store.get_preference(platform, user_id, task_type)
            message = Message("pref.kept", {"model": current.model_name if current else model.name})
        await replier.send(self.messages.info(locale, message))

    async def set(
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
                await self.save(platform, user_id, task_type, model)
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

    async def reset(
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

    async def show(self, platform: str, user_id: str, replier: Replier, locale: str) -> None:
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
