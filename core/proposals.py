"""What the bot offers to make and waits for a tap (or a typed yes) before spending.

When the bot is not sure someone wants something made now, when it suggests the closest thing
that can be made ("the most is 4K — use it?"), or when an operator wants group chats to
confirm expensive jobs, it plans the job, says what it would make and for how much, and keeps
the plan here: one waiting proposal per person and chat. Going ahead plans it again, with the
same model, and never pays more than the price shown without asking again.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.ima.tasks import TaskType
from core.jobs import ModelSource
from core.planning import Draft, Plan, Remembered
from core.request import Attachment
from core.state import Key, UserState
from core.wants import Wants

#: A proposal waits this long for its answer.
KEEP_FOR = 900.0


@dataclass(frozen=True)
class Proposal:
    id: str
    task_type: str
    prompt: str
    version_id: str
    model_id: str
    model_name: str
    source: str
    #: The price shown.
    credits: int
    at: float
    wants: Mapping[str, Any] = field(default_factory=dict)
    attachments: list[Mapping[str, Any]] = field(default_factory=list)
    image_urls: list[str] = field(default_factory=list)
    premium: bool = False
    origin_id: str | None = None

    @classmethod
    def of(cls, plan: Plan) -> Proposal:
        draft = plan.draft
        return cls(
            id=secrets.token_urlsafe(9),
            task_type=draft.task_type.value,
            prompt=draft.prompt,
            version_id=plan.model.version_id,
            model_id=plan.model.model_id,
            model_name=plan.model.name,
            source=plan.source.value,
            credits=plan.quote.credits,
            at=time.time(),
            wants=draft.wants.to_json(),
            attachments=[dataclasses.asdict(a) for a in draft.attachments],
            image_urls=list(draft.image_urls),
            premium=draft.premium,
            origin_id=draft.origin_id,
        )

    def draft(self) -> Draft:
        """The same request, with the model that was priced."""
        return Draft(
            TaskType(self.task_type),
            self.prompt,
            Wants.from_json(self.wants),
            attachments=tuple(Attachment(**a) for a in self.attachments),
            image_urls=tuple(self.image_urls),
            pick=Remembered(
                self.version_id, self.model_id, self.model_name, ModelSource(self.source)
            ),
            premium=self.premium,
            origin_id=self.origin_id,
        )

    @property
    def fresh(self) -> bool:
        return time.time() - self.at <= KEEP_FOR


PROPOSAL = Key("proposal", Proposal)


class Proposals:
    def __init__(self, state: UserState) -> None:
        self._state = state

    async def keep(self, platform: str, user_id: str, chat_id: str, plan: Plan) -> Proposal:
        proposal = Proposal.of(plan)
        await self._state.set(platform, user_id, PROPOSAL.of(chat_id), proposal)
        return proposal

    async def take(
        self, platform: str, user_id: str, chat_id: str, proposal_id: str | None = None
    ) -> Proposal | None:
        """The waiting proposal (the one with ``proposal_id``, if given), forgotten once taken;
        None when there is none, or it is stale."""
        key = PROPOSAL.of(chat_id)
        found = await self._state.get(platform, user_id, key)
        if found is None or (proposal_id is not None and found.id != proposal_id):
            return None
        await self._state.set(platform, user_id, key, None)
        return found if found.fresh else None
