"""Pass 3: labelled sections: lyrics, negative prompt, seed."""

from __future__ import annotations

import re

from core.parse.state import State
from core.parse.text import NOCASE, B

_LYRICS_RE = re.compile(r"(?:歌词|lyrics?)\s*(?:是|如下|为|are|below|as\s+follows)?\s*:\s*", NOCASE)
_NEGATIVE_RE = re.compile(
    r"(?:反向提示词?|负面提示词?|反向词|负面词|避免|排除|"
    rf"{B}(?:negative(?:\s+prompts?)?|neg\s*prompt))\s*:\s*(?P<value>[^\n\x00]*)",
    NOCASE,
)
_SEED_RE = re.compile(
    rf"(?:{B}seed|随机种子|种子)\s*(?:[:=#]|is|为|是|值)?\s*(?P<value>-?\d{{1,12}})(?!\d)", NOCASE
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
