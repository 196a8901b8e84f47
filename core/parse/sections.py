"""Pass 3: labelled sections: lyrics, negative prompt, seed."""

from __future__ import annotations

import re

from core.parse.lexicon import words
from core.parse.state import State
from core.parse.text import NOCASE

_LYRICS_RE = re.compile(
    rf"{words('section.lyrics')}\s*{words('section.lyrics_joiner')}?\s*:\s*", NOCASE
)
_NEGATIVE_RE = re.compile(rf"{words('section.negative')}\s*:\s*(?P<value>[^\n\x00]*)", NOCASE)
_SEED_RE = re.compile(
    rf"{words('section.seed')}\s*(?:[:=#]|{words('section.seed_joiner')})?\s*"
    r"(?P<value>-?\d{1,12})(?!\d)",
    NOCASE,
)
_BLANK_LINES_RE = re.compile(r"\n\s*\n(?:\s*\n)+")
_VALUE_STRIP = " \t\n,.;:，。；：、"


def lyrics(state: State) -> None:
    """``歌词:``/``lyrics:`` takes everything after it, anywhere in the message."""
    scan = state.scan
    m = _LYRICS_RE.search(scan.view)
    if m is None:
        return
    text = _BLANK_LINES_RE.sub("\n\n", scan.raw[m.end() :]).strip()
    scan.mask([(m.start(), len(scan.view))])
    state.lyrics = text or None


def negative_prompt(state: State) -> None:
    scan = state.scan
    values = [
        scan.raw[m.start("value") : m.end("value")].strip(_VALUE_STRIP)
        for m in scan.take(_NEGATIVE_RE)
    ]
    state.negative_prompt = ", ".join(v for v in values if v) or None


def seed(state: State) -> None:
    found = state.scan.take(_SEED_RE)
    state.seed = int(found[0].group("value")) if found else None
