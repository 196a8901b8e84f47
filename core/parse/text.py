"""Text primitives every pass shares: the scan (a masked view of the message), numbers, and
ASCII word boundaries."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

NOCASE = re.IGNORECASE
#: ASCII word boundaries: Python's \b treats ideographs as word characters ("用Suno").
B = r"(?<![A-Za-z0-9])"
E = r"(?![A-Za-z0-9])"
#: Removed from the prompt (and hidden from later rules).
GONE = "\x00"
#: Kept in the prompt but hidden from later rules.
USED = "\x01"

INVISIBLE_RE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb"
    "\ud800-\udfff\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)
FOLD = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {
    0x3000: 0x20,
    0x2018: 0x27,
    0x2019: 0x27,
    0x201C: 0x22,
    0x201D: 0x22,
    0x2236: 0x3A,
}
#: Something readable: a letter, ideograph or digit.
WORD_RE = re.compile(r"[^\W_]")
#: An emoji (or a pictograph such as ✨ or ☀), as a regular expression.
EMOJI = "[\u2600-\u27bf\U0001f000-\U0001faff]"
EMOJI_RE = re.compile(EMOJI)
#: A letter, ideograph or emoji: something that can describe.
CONTENT_RE = re.compile(rf"[^\W\d_]|{EMOJI}")
_WIDE_RE = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
EN_NUMBERS = {
    word: value
    for value, word in enumerate(
        (
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        )
    )
} | {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "ninety": 90}
EN_NUMBER = "|".join(sorted(EN_NUMBERS, key=len, reverse=True))
DIGITS = r"(?<![\d.])\d{1,6}(?:\.\d{1,3})?(?![\d])"
CN_NUMERALS = "零〇一二两三四五六七八九十百"
CN_NUMBER = rf"(?<![{CN_NUMERALS}])[{CN_NUMERALS}]{{1,8}}(?![{CN_NUMERALS}])"
NUMBER = rf"(?:{DIGITS}|{CN_NUMBER}|{B}(?:{EN_NUMBER}){E})"
#: Where a number can start: a digit, a Chinese numeral, the first letter of an English one.
_EN_FIRSTS = "".join(sorted({c for w in EN_NUMBERS for c in (w[0], w[0].upper())}))
NUMBER_LEAD = rf"(?=[0-9{CN_NUMERALS}])|(?<![A-Za-z])(?=[{_EN_FIRSTS}])"


def number(token: str) -> float | None:
    token = token.strip().lower()
    if not token:
        return None
    if token[0].isdigit():
        return float(token)
    if token in EN_NUMBERS:
        return float(EN_NUMBERS[token])
    return _cn_number(token)


def _cn_number(token: str) -> float | None:
    """一 → 1, 十五 → 15, 二十 → 20, 一百二十 → 120; None for digit runs like 一二."""
    total, current, after_digit = 0, 0, False
    for ch in token:
        if ch in "零〇":
            after_digit = False
        elif ch in _CN_DIGITS:
            if after_digit:
                return None
            current, after_digit = _CN_DIGITS[ch], True
        else:
            total += (current or 1) * (10 if ch == "十" else 100)
            current, after_digit = 0, False
    return float(total + current)


def is_wide(ch: str) -> bool:
    return bool(_WIDE_RE.match(ch))


def has_content(text: str) -> bool:
    return CONTENT_RE.search(text) is not None


#: Instructions live at the edges of a message. In a very long one, rules read the first
#: ``HEAD`` and last ``TAIL`` characters and the middle is description (keeps parsing linear
#: and fast: a 20,000-character message costs about as much as a 3,000-character one).
HEAD = 2000
TAIL = 1000
#: Edits of a result and remarks are short: a longer message describes something new.
SHORT = 200


class Scan:
    """The cleaned message and a same-length view of it that rules match and mask."""

    __slots__ = ("folded", "raw", "view", "windows")

    def __init__(self, raw: str) -> None:
        self.raw = raw
        #: The text the rules match: full-width characters folded, one for one.
        self.folded = raw.translate(FOLD)
        self.view = self.folded
        n = len(raw)
        self.windows = ((0, n),) if n <= HEAD + TAIL else ((0, HEAD), (n - TAIL, n))

    def finditer(self, pattern: re.Pattern[str]) -> Iterator[re.Match[str]]:
        for start, end in self.windows:
            yield from pattern.finditer(self.view, start, end)

    def search(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        return next(self.finditer(pattern), None)

    def edges(self) -> str:
        """The text the rules read, windows joined by a line break."""
        return "\n".join(self.view[start:end] for start, end in self.windows)

    def original(self) -> str:
        """The edges as written (folded), nothing masked."""
        return "\n".join(self.folded[start:end] for start, end in self.windows)

    def kept(self) -> str:
        """The edges with the spans kept for the prompt (sound wishes, "again") visible again:
        what a question or a remark says, parameters and model names aside."""
        windows = []
        for start, end in self.windows:
            pieces, pos = [], start
            for m in _USED_RUN_RE.finditer(self.view, start, end):
                pieces += [self.view[pos : m.start()], self.folded[m.start() : m.end()]]
                pos = m.end()
            pieces.append(self.view[pos:end])
            windows.append("".join(pieces))
        return "\n".join(windows)

    def middle_describes(self) -> bool:
        """Whether the unread middle of a long message has any content."""
        return len(self.windows) > 1 and has_content(self.view[HEAD : len(self.view) - TAIL])

    def mask(self, spans: Iterable[tuple[int, int]], *, keep: bool = False) -> None:
        """Hide spans from later rules; ``keep`` leaves them in the prompt."""
        pieces: list[str] = []
        pos = 0
        for start, end in sorted(spans):
            start = max(start, pos)
            if end <= start:
                continue
            pieces.append(self.view[pos:start])
            segment = self.view[start:end]
            if keep:
                pieces.append("".join(GONE if c == GONE else USED for c in segment))
            else:
                pieces.append(GONE * (end - start))
            pos = end
        pieces.append(self.view[pos:])
        self.view = "".join(pieces)

    def take(self, pattern: re.Pattern[str], *, keep: bool = False) -> list[re.Match[str]]:
        """All matches of ``pattern``, masked."""
        found = list(self.finditer(pattern))
        self.mask(((m.start(), with_de(self.view, m.end())) for m in found), keep=keep)
        return found

    def content_bounds(self) -> tuple[int, int]:
        """Start of the first and end of the last content character still visible."""
        first = CONTENT_RE.search(self.view)
        if first is None:
            return 0, 0
        last = CONTENT_RE.search(self.view[::-1])
        return first.start(), len(self.view) - (last.start() if last else 0)


_USED_RUN_RE = re.compile(USED + "+")
_DE_RE = re.compile(r"\s*的(?=\s*\S)")


def with_de(view: str, end: int) -> int:
    """Extend a removed parameter over a following 的 ("30秒的视频" → "视频")."""
    m = _DE_RE.match(view, end)
    return m.end() if m else end
