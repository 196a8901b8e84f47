"""Pass 3: whole-message replies: yes, no, help, history, greetings and thanks."""

from __future__ import annotations

import re

from core.parse.lexicon import words
from core.parse.model import Command
from core.parse.state import State
from core.parse.text import FOLD, NOCASE

_TRIM_RE = re.compile(r"^[\W_]+|[\W_]+$")
_JOIN = r"[\s,.!~、。…]*"
_PARTICLES = words("reply.particles")


def _whole(category: str) -> re.Pattern[str]:
    """Words that make up a whole message, possibly repeated ("嗯嗯，好的") with particles."""
    found = words(category)
    return re.compile(rf"{found}(?:{_JOIN}(?:{found}|{_PARTICLES}))*", NOCASE)


_WHOLE_COMMANDS = (
    (_whole("reply.yes"), Command.CONFIRM_YES),
    (_whole("reply.no"), Command.CONFIRM_NO),
    (_whole("reply.help"), Command.HELP),
    (_whole("reply.history"), Command.HISTORY),
    (_whole("reply.chat"), Command.CHAT),
)


def whole_message(state: State) -> None:
    """A short message that is one reply as a whole ("好的", "no thanks", "help", "hi")."""
    raw = state.scan.raw
    if len(raw) > 200:
        return
    text = _TRIM_RE.sub("", raw.translate(FOLD))
    for pattern, command in _WHOLE_COMMANDS:
        if pattern.fullmatch(text):
            state.command = command
            state.finished = True
            return
