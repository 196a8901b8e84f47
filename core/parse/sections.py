"""Pass 4: labelled sections: Midjourney's /imagine and its flags, lyrics, negative prompt,
seed."""

from __future__ import annotations

import re

from core.parse.lexicon import lexicon, words
from core.parse.params import reduced_ratio, set_ratio
from core.parse.state import State
from core.parse.text import NOCASE

_BLANK_LINES_RE = re.compile(r"\n\s*\n(?:\s*\n)+")
_VALUE_STRIP = " \t\n,.;:，。；：、"

_IMAGINE_RE = re.compile(rf"\s*{words('section.imagine')}\s*:?\s*", NOCASE)
#: A flag: "--ar 16:9", "--no text, frames", "--tile". Its value runs to the next flag.
_FLAG_RE = re.compile(r"(?<!\S)--(?P<name>[a-z]+)\b(?P<value>(?:(?!\s--[a-z])[^\n])*)", NOCASE)
_FLAG_RATIO_RE = re.compile(r"\s*([1-9]\d{0,2})\s*:\s*([1-9]\d{0,2})\b")
_FLAG_SEED_RE = re.compile(r"\s*(\d{1,12})\b")
#: Midjourney's flags: with one of them (or /imagine) every "--flag" is read as one and
#: removed; only --ar/--aspect, --no and --seed mean something here.
_MIDJOURNEY_FLAGS = frozenset(lexicon().phrases("section.midjourney_flag"))


def midjourney(state: State) -> None:
    """Midjourney habits: "/imagine prompt: a cat --ar 16:9 --v 6" is a picture of a cat in
    16:9 (so is "a cat --ar 16:9": its flags are Midjourney's). --ar/--aspect set the ratio,
    --no the negative prompt, --seed the seed; other flags are dropped."""
    scan = state.scan
    imagine = _IMAGINE_RE.match(scan.view)
    flags = list(scan.finditer(_FLAG_RE))
    if imagine is None and not any(m["name"].lower() in _MIDJOURNEY_FLAGS for m in flags):
        return
    state.midjourney = True
    if imagine is not None:
        scan.mask([imagine.span()])
    negatives: list[str] = []
    for m in flags:
        name, value = m["name"].lower(), m["value"]
        if name in ("ar", "aspect") and (ratio := _FLAG_RATIO_RE.match(value)):
            set_ratio(state, reduced_ratio(int(ratio[1]), int(ratio[2])))
        elif name == "no" and (negative := value.strip(_VALUE_STRIP)):
            negatives.append(negative)
        elif name == "seed" and (seed_value := _FLAG_SEED_RE.match(value)):
            state.seed = int(seed_value[1])
    scan.mask([m.span() for m in flags])
    state.negative_prompt = ", ".join(negatives) or None


_LYRICS_RE = re.compile(
    rf"(?:{words('section.lyrics_before')}\s*)?{words('section.lyrics')}\s*"
    rf"{words('section.lyrics_joiner')}?\s*:\s*",
    NOCASE,
)
#: "帮我把歌词谱成歌：⏎…", "turn these lyrics into a song:⏎…": the lyrics word, more words on
#: its line, and a colon ending that line.
_LYRICS_LINE_RE = re.compile(
    rf"(?P<before>[^\n:]{{0,20}}?)(?:{words('section.lyrics_before')}\s*)?"
    rf"{words('section.lyrics', 'section.lyrics_line_word')}"
    rf"(?P<rest>[^\n:]{{0,40}}?)(?P<colon>:)[ \t]*\n",
    NOCASE,
)
#: "make a song with these lyrics⏎…", "用suno写一首rap 歌词如下⏎…": the lyrics label ending
#: its line without a colon; lyrics only when that line asks for a song.
_LYRICS_BREAK_RE = re.compile(
    rf"(?P<before>[^\n]{{0,40}}?)(?:{words('section.lyrics_before')}\s*)?"
    rf"{words('section.lyrics')}[ \t]*{words('section.lyrics_joiner')}?[ \t]*\n",
    NOCASE,
)
#: What that line must say around the lyrics word to ask for a song.
_LYRICS_LINE_ASKS_RE = lexicon().pattern(
    "section.lyrics_line_verb", "media.music", "media.music_style"
)
_LYRICS_TAG_RE = lexicon().pattern("section.lyrics_tag")
_NEGATIVE_RE = re.compile(rf"{words('section.negative')}\s*:\s*(?P<value>[^\n\x00]*)", NOCASE)
_SEED_RE = re.compile(
    rf"{words('section.seed')}\s*(?:[:=#]|{words('section.seed_joiner')})?\s*"
    r"(?P<value>-?\d{1,12})(?!\d)",
    NOCASE,
)


def lyrics(state: State) -> None:
    """``歌词:``/``lyrics:`` takes everything after it, anywhere in the message, and so does a
    line naming the lyrics that ends with a colon ("turn these lyrics into a song:"); without
    a label, a song-section tag ("[verse]", "Chorus:") starts the lyrics, tags kept."""
    scan = state.scan
    view = scan.view
    line = _LYRICS_LINE_RE.search(view)
    if line is not None and _LYRICS_LINE_ASKS_RE.search(f"{line['before']} {line['rest']}") is None:
        line = None  # "歌词写得真好：": a remark
    broken = _LYRICS_BREAK_RE.search(view)
    if broken is not None and _LYRICS_LINE_ASKS_RE.search(broken["before"]) is None:
        broken = None
    m = _LYRICS_RE.search(view) or line or broken or _LYRICS_TAG_RE.search(view)
    if m is None:
        return
    begin = m.start() if m.re is _LYRICS_TAG_RE else m.end()
    text = _BLANK_LINES_RE.sub("\n\n", scan.raw[begin:]).strip()
    if m is line:  # the rest of the line says what to make ("into a pop song, female vocals")
        scan.mask([(m.end("before"), m.start("rest")), (m.start("colon"), len(view))])
    elif m is broken:  # the line's start says what to make ("make a song with")
        scan.mask([(m.end("before"), len(view))])
    else:
        scan.mask([(m.start(), len(view))])
    state.lyrics = text or None


def negative_prompt(state: State) -> None:
    """``negative:``/``反向提示词:`` takes the rest of its line (added to a ``--no``)."""
    scan = state.scan
    values = [
        scan.raw[m.start("value") : m.end("value")].strip(_VALUE_STRIP)
        for m in scan.take(_NEGATIVE_RE)
    ]
    found = [state.negative_prompt] if state.negative_prompt else []
    state.negative_prompt = ", ".join(found + [v for v in values if v]) or None


def seed(state: State) -> None:
    found = state.scan.take(_SEED_RE)
    if found and state.seed is None:
        state.seed = int(found[0].group("value"))
