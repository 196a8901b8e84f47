"""What the bot decided to do with one message, for ``ima-bot understand`` (a dry run).

The engine notes its decision here as it answers a message watched by :func:`watching` (a
context variable, so concurrent messages never mix); in a dry run the decision to make
something stops before the job is stored, so nothing is spent.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.planning import Plan


class Decision(StrEnum):
    #: A job was started (spends credits).
    GENERATE = "generate"
    #: The bot proposed a job and waits for a tap (spends nothing until then).
    CONFIRM = "confirm"
    #: A question answered or information shown.
    ANSWER = "answer"
    #: The bot needs a detail (what to make, which medium, a picture).
    ASK = "ask"
    #: A default-model command.
    PREFERENCE = "preference"
    #: It can't be done as asked; the bot explains.
    REFUSE = "refuse"
    #: Talk: thanks, greetings, remarks.
    CHAT = "chat"


class PreferenceOp(StrEnum):
    SET = "set"
    RESET = "reset"
    SHOW = "show"
    BEST = "best"
    CHEAPEST = "cheapest"
    ANOTHER = "another"


@dataclass
class Verdict:
    #: Stop before storing a job: record the plan instead.
    dry: bool = True
    action: Decision | None = None
    plan: Plan | None = None
    #: It carries on from an earlier result.
    continues: bool = False
    preference: PreferenceOp | None = None
    preference_model: str | None = None
    #: Everything the bot said, in order.
    texts: list[str] = field(default_factory=list)


_WATCHED: ContextVar[Verdict | None] = ContextVar("verdict", default=None)


@contextlib.contextmanager
def watching(verdict: Verdict) -> Iterator[Verdict]:
    token = _WATCHED.set(verdict)
    try:
        yield verdict
    finally:
        _WATCHED.reset(token)


def current() -> Verdict | None:
    """The verdict of the message being answered, if someone watches it."""
    return _WATCHED.get()


def decide(action: Decision, **details: object) -> None:
    """Note the decision about the watched message (the first one wins: a handler that
    delegates to the planning path lets that decide)."""
    verdict = _WATCHED.get()
    if verdict is None or verdict.action is not None:
        return
    verdict.action = action
    for name, value in details.items():
        setattr(verdict, name, value)


def note(**details: object) -> None:
    """Note a detail of the watched message's answer (that it carries on from a result)."""
    verdict = _WATCHED.get()
    if verdict is not None:
        for name, value in details.items():
            setattr(verdict, name, value)
