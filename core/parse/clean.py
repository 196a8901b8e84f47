"""Passes 1 and 2: clean the text and start the scan; take out links to pictures."""

from __future__ import annotations

import re
import unicodedata

from core.parse.lexicon import lexicon
from core.parse.model import Command
from core.parse.state import State
from core.parse.text import INVISIBLE_RE, WORD_RE, Scan


def clean(state: State) -> None:
    """Drop invisible characters (newlines kept for lyrics); nothing readable and no picture is
    an empty message."""
    text = state.text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    raw = INVISIBLE_RE.sub(lambda m: _kept(m, text), text)
    state.images = max(0, state.image_count)
    if not WORD_RE.search(raw):
        if not state.images:
            state.command = Command.NONE
            state.finished = True
        raw = ""
    state.scan = Scan(raw)


#: Invisible characters that are part of an emoji after a symbol: the joiner of 👨‍👩‍👧, the
#: variation selector of ❤️ and 1️⃣, the tags of a subdivision flag. Alone they are invisible.
_EMOJI_PARTS = re.compile("[\u200d\ufe0e\ufe0f\U000e0020-\U000e007f]")


def _kept(found: re.Match[str], text: str) -> str:
    """An invisible character stays only inside an emoji sequence (shown back in prompts)."""
    char, at = found.group(), found.start()
    if not _EMOJI_PARTS.fullmatch(char):
        return ""
    before = at - 1
    while before >= 0 and _EMOJI_PARTS.fullmatch(text[before]):
        before -= 1  # a joiner after a selector, tags after tags
    after = text[at + 1 : at + 2]
    symbol = before >= 0 and unicodedata.category(text[before]) in ("So", "Sk")
    keycap = char == "\ufe0f" and after == "\u20e3"
    return char if symbol or keycap else ""


_URL_RE = re.compile(r"https://[^\s<>\"'`，。！？、；：（）【】「」《》\x00\x01]+", re.IGNORECASE)
#: Not part of a link when it ends one: "see https://x/cat.png."; the path is before ? or #.
_URL_TRAILING = ".,;:!?)]}>'\""
_PICTURE_PATH_RE = re.compile(r"\.(?:png|jpe?g|webp|gif)\Z", re.IGNORECASE)
#: Words saying a link is a picture ("this image", "这张图", "图片链接").
_SAYS_PICTURE_RE = lexicon().pattern("media.input_image", "links.picture")


def links(state: State) -> None:
    """Links to pictures are removed from the text and count as attached pictures (the IMA
    API takes https URLs as they are); other links stay in the prompt, hidden from the rules.
    A link is a picture by its extension, or any link when the text says it is a picture."""
    scan = state.scan
    spans: list[tuple[int, int]] = []
    for m in scan.finditer(_URL_RE):
        end = m.end()
        while end > m.start() + len("https://") and scan.view[end - 1] in _URL_TRAILING:
            end -= 1
        spans.append((m.start(), end))
    if not spans:
        return
    scan.mask(spans, keep=True)
    says_picture = scan.search(_SAYS_PICTURE_RE) is not None
    pictures = [
        (start, end)
        for start, end in spans
        if says_picture or _PICTURE_PATH_RE.search(re.split(r"[?#]", scan.raw[start:end])[0])
    ]
    scan.mask(pictures)
    state.image_urls = tuple(scan.raw[start:end] for start, end in pictures)
    state.images += len(pictures)
