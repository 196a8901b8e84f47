"""What a person or a chat may spend and run: caps, their window, and when a window resets.

The operator's settings give the defaults (:meth:`core.settings.Settings.caps`); a chat or a
server can have its own :class:`Caps` instead (``ima-bot admin caps set``, the console), kept in
the store (``chat_caps``). An override replaces the defaults for that chat as a whole: what it
leaves unset is not capped there.

Credits are counted per window: the calendar hour, day or ISO week (from Monday), in UTC, so
everyone's window starts and resets at the same moment and "resets at" is one time to show.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any


class Window(StrEnum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"

    def start(self, now: float) -> float:
        """When the window holding ``now`` began (a Unix time)."""
        moment = datetime.fromtimestamp(now, UTC)
        if self is Window.HOUR:
            begin = moment.replace(minute=0, second=0, microsecond=0)
        else:
            begin = moment.replace(hour=0, minute=0, second=0, microsecond=0)
            if self is Window.WEEK:
                begin -= timedelta(days=begin.weekday())
        return begin.timestamp()

    def end(self, now: float) -> float:
        """When the window holding ``now`` resets (the next one's start)."""
        begin = datetime.fromtimestamp(self.start(now), UTC)
        length = {Window.HOUR: timedelta(hours=1), Window.DAY: timedelta(days=1)}.get(
            self, timedelta(weeks=1)
        )
        return (begin + length).timestamp()


@dataclass(frozen=True)
class Caps:
    """Every limit that applies in one chat; None: not capped."""

    #: Credits one person may spend in the window.
    user_credits: int | None = None
    #: Credits the whole chat (a group, a server) may spend in the window.
    chat_credits: int | None = None
    window: Window = Window.DAY
    #: Jobs one person may have at IMA at once; more wait in the queue.
    user_running: int | None = None
    #: Jobs the chat may have at IMA at once; more wait in the queue.
    chat_running: int | None = None

    def __post_init__(self) -> None:
        for name in ("user_credits", "chat_credits"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be 0 or more")
        for name in ("user_running", "chat_running"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be 1 or more")

    @property
    def credits_capped(self) -> bool:
        return self.user_credits is not None or self.chat_credits is not None

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "window": self.window.value}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Caps:
        """Unknown keys are ignored (a newer version's caps read by an older one)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "window" in values:
            values["window"] = Window(values["window"])
        return cls(**values)

    def changed(self, **values: Any) -> Caps:
        """These caps with ``values`` set (None removes a cap)."""
        if "window" in values and values["window"] is not None:
            values["window"] = Window(values["window"])
        elif "window" in values:
            values["window"] = Window.DAY
        return replace(self, **values)


#: What applies to admins: nothing is capped, nothing waits for a person's or a chat's slot.
NO_CAPS = Caps()


def caps_for(defaults: Caps, override: Caps | None, *, admin: bool) -> Caps:
    """The caps that apply: none for admins, else the chat's own, else the defaults."""
    if admin:
        return replace(NO_CAPS, window=(override or defaults).window)
    return override if override is not None else defaults
