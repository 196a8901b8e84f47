"""Caps, their windows and which caps apply where."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.limits import NO_CAPS, Caps, Window, caps_for
from core.settings import load_settings


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("window", "start", "end"),
    [
        (Window.HOUR, "2026-12-02T05:00:00", "2026-12-02T06:00:00"),
        (Window.DAY, "2026-12-02T00:00:00", "2026-12-03T00:00:00"),
        # 2 December 2026 is a Wednesday: the week began on Monday the 30th of November.
        (Window.WEEK, "2026-11-30T00:00:00", "2026-12-07T00:00:00"),
    ],
)
def test_windows_are_calendar_windows_in_utc(window: Window, start: str, end: str) -> None:
    now = at("2026-12-02T05:42:17")
    assert window.start(now) == at(start)
    assert window.end(now) == at(end)
    assert window.start(at(end)) == at(end)  # the reset moment starts the next window


def test_caps_round_trip_and_ignore_what_they_do_not_know() -> None:
    caps = Caps(user_credits=10, chat_credits=None, window=Window.HOUR, user_running=2)
    assert Caps.from_json(caps.to_json()) == caps
    assert Caps.from_json({**caps.to_json(), "future": 1}) == caps
    assert Caps.from_json({}) == NO_CAPS


def test_changed_sets_and_removes_caps() -> None:
    caps = Caps(user_credits=10, user_running=3)
    assert caps.changed(user_credits=None, window="week") == Caps(
        window=Window.WEEK, user_running=3
    )
    with pytest.raises(ValueError, match="user_running"):
        caps.changed(user_running=0)
    with pytest.raises(ValueError, match="chat_credits"):
        Caps(chat_credits=-1)


def test_a_chat_s_own_caps_replace_the_defaults_and_admins_have_none() -> None:
    defaults = Caps(user_credits=100, user_running=3)
    own = Caps(chat_credits=20, window=Window.WEEK)
    assert caps_for(defaults, None, admin=False) == defaults
    assert caps_for(defaults, own, admin=False) == own
    assert caps_for(defaults, own, admin=True) == Caps(window=Window.WEEK)
    assert not caps_for(defaults, None, admin=True).credits_capped


def test_defaults_come_from_the_settings() -> None:
    settings = load_settings(
        user_daily_credits=40, max_jobs_per_chat=5, caps_window="hour", max_running_jobs=8
    )
    policy = settings.policy()
    assert policy.caps == Caps(user_credits=40, window=Window.HOUR, user_running=3, chat_running=5)
    assert policy.max_running == 8
