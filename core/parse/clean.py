"""Pass 1: clean the text and start the scan."""

from __future__ import annotations

from core.parse.model import Command
from core.parse.state import State
from core.parse.text import INVISIBLE_RE, WORD_RE, Scan


def clean(state: State) -> None:
    """Drop invisible characters (newlines kept for lyrics); nothing readable and no picture is
    an empty message."""
    text = state.text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    raw = INVISIBLE_RE.sub("", text)
    state.images = max(0, state.image_count)
    if not WORD_RE.search(raw):
        if not state.images:
            state.command = Command.NONE
            state.finished = True
        raw = ""
    state.scan = Scan(raw)
