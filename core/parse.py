"""Turn one chat message (Chinese, English or mixed) into a structured intent.

``parse_message`` is pure and rule-based: no I/O, no catalog, no platform. It reports what the
text says; the engine decides what to do (task type, model, parameters, a question, a limit to
explain). Where a wrong guess would spend credits the parser says "ambiguous" instead of guessing.

How a message is read
=====================
1. Clean: zero-width / format / control characters and lone surrogates are removed (newlines
   kept for lyrics), ``\\r\\n`` becomes ``\\n``, tabs become spaces. Rules match a copy in which
   full-width ASCII (``１０秒``, ``16：9``), the ideographic space, curly quotes and ``∶`` are
   folded to ASCII, one character for one, so spans found there cut the original text.
   Instructions live at the edges of a message: in one longer than 3,000 characters the rules
   read the first 2,000 and the last 1,000 and the middle is description (lyrics are still found
   anywhere). This keeps a 20,000-character message to a few milliseconds.
2. Whole-message replies (≤ 200 characters): ``是/好/嗯/可以/yes/y/ok/sure…`` → ``CONFIRM_YES``;
   ``否/不/不用/取消/仅本次/no/n/just this once…`` → ``CONFIRM_NO``; ``help/帮助/你能做什么/
   你是谁/what can you do`` → ``HELP``; greetings, thanks, praise → ``NONE``; text with no letter,
   ideograph or digit (emoji, punctuation) → ``NONE``.
3. Sections: ``歌词:``/``lyrics:`` takes everything after it (lines kept, blank runs squeezed);
   ``negative:``/``negative prompt:``/``反向提示词:``/``负面提示词:``/``避免:``/``排除:``
   takes the rest of its line; ``seed 42``/``seed=42``/``种子42``. Only these explicit forms:
   "不要X" or "without X" stay in the prompt, where models read them, rather than being
   guessed into a negative prompt.
4. Model names. An entry of ``model_names`` matches case-insensitively with spaces, hyphens, dots
   and underscores optional between its characters (``nanobanana pro``, ``nano-banana-pro``,
   ``seedream4.5``); the longest wins, and a Latin name never matches inside a bigger word
   (``wan`` ≠ ``want``, ``kling`` ≠ ``klingon``). An entry is returned exactly as given; when
   several normalise alike (``Suno``/``suno``) the display spelling (capitals, spaces) is used.
   Versioned or multi-word names (``Kling O1``, ``Nano Banana Pro``, ``wan2.6``, ``海螺23``) count
   wherever they appear. Single-word names can be ordinary words (``Sonic`` the hedgehog, a
   ``Gemini`` poster, ``MJ``, a ``海螺`` conch, a ``香蕉`` banana), so they count only with a
   directive before them (``用/使用/换成/改用/试试/以后都用/use/with/using/switch to…``), with
   ``模型/model`` or a request verb right after them (``可灵生成…``), as the whole message, or —
   Latin ones — at the very start or end (``Suno 写一首歌``, ``…, kling``). ``X style``/``X风格``
   is a style, not a model; ``不要用X``/``don't use X`` is removed but not chosen. Scope:
   ``以后(视频)都用X / 默认用X / 把默认模型设为X / 把X设为默认 / always use X / make X my default /
   use X by default / default to X`` → ``ALWAYS``; any other mention → ``THIS_TIME``. The first
   counted mention wins.
   Quality: ``用最好的 / 最好的模型 / 最高画质 / best quality / best model / use the best`` →
   ``BEST`` (and ``premium_requested``); ``用便宜的 / 最便宜 / 省钱 / cheapest / budget model`` →
   ``CHEAPEST``. Bare ``最好`` ("preferably", ``最好看`` "prettiest") and ``best``/``cheap`` need a
   directive or must be the whole message. Scope words work alike (``以后都用最便宜的`` → ALWAYS).
   ``换个模型 / 用别的 / try another model / different model`` → ``another_model``.
   ``premium_requested`` also comes from explicit quality words (``高质量/高画质/顶级画质/high
   quality/premium quality``), never from a bare "premium" or "best" (``a premium coffee brand``).
   Retry words (``再来一次/再画一张/重新生成/again/regenerate``) are removed and remembered.
5. Sound wishes stay in the prompt (they describe the result and help models without the
   parameter) but are hidden from media detection: ``带音效/有声音/配音/带背景音乐/with audio/
   with sound/with music`` → ``audio=True``; ``无声/静音/no audio/silent video`` → ``False`` (a
   bare "silent" is a description). ``男声/女声/male vocals/female singer`` → ``vocal_gender``;
   ``纯音乐/无人声/伴奏/instrumental/no vocals`` → ``instrumental=True``; ``带人声/with vocals`` →
   ``False`` (both also say "music").
6. Parameters (removed from the prompt with a following ``的``; ``时长``/``duration`` labels too):
   resolution ``480p…2160p`` (1440p → ``2K``, 2160p → ``4K``) and ``2K``/``4K``; word forms stay
   in the prompt and map ``高清/超清/全高清/HD/FHD/Full HD`` → ``1080P`` (what Chinese video sites
   label 高清; a 720P reading would be *below* several models' defaults) and ``超高清/UHD`` →
   ``4K``. Sizes ``512px/1K/2K/4K`` → ``size``; ``2K``/``4K`` fill both ``size`` and
   ``resolution`` and the engine reads the one its task has. ``8K`` only sets ``wants_8k``.
   Ratios ``W:H``/``W比H``, reduced unless standard as written (``32:18`` → ``16:9``; ``21:9``
   stays). 16:9, 9:16, 1:1, 4:3, 3:4, 21:9 → ``aspect_ratio``; any other → ``custom_ratio`` (the
   spec's "custom ratio" advice; the engine should still check the live catalog, where e.g. Nano
   Banana Pro offers 4:5 and 2:3). ``3:30``/``12:30`` (second number two digits ≤ 59) are clock
   times unless written 9:16/9:21/16:10/10:16 or next to a ratio word (比例, ratio, aspect…).
   Orientation: ``横屏/横版/宽屏/widescreen/landscape format/in landscape`` → 16:9; ``竖屏/竖版/
   vertical video/portrait mode/in portrait`` → 9:16; ``正方形的图/方图/square format/square
   image`` → 1:1. Bare ``landscape``/``portrait``/``square`` are descriptions (scenery, a
   portrait, Times Square) and stay.
   Count: ``两张/3个视频/三首歌/两个版本/2 images/four variations/n=4``. Arabic, English
   (one…twenty) and Chinese numerals (一二两三…十, 十五, 二十, 一百二十) all work. A Chinese count
   needs an image/video/music noun right after it, or 张/幅/首/段 at the start of a clause or right
   after a verb (``画两张猫``); never after 这/那/有/和/第 (``这两张图`` are inputs,
   ``有三张照片的海报`` is one poster) nor "top/with/of/the/my…" (``top 10 songs``, ``a collage
   with 3 photos``); so ``三个人跳舞的视频`` is one video. "versions/variations/版本" are removed
   with their number. ``count_requested`` is the number as asked; ``count`` is that number when
   it is 1–4, else ``None`` (the engine explains the limit). "a couple of" is not a number.
   张/幅 hint image and 首 hints music (``生成三张赛博朋克城市``).
7. Media. A tokenizer reads media words; at any place the longest/earliest token wins, so
   ``动画`` is video (its 画 is no image), and exclusions are tokens too: ``画面/画质/画风/构图/
   试图/歌词/歌手/唱歌/歌剧院/我的视频/video game/clip art/race track/fine-tune/heartbeat/
   music festival…`` are not media, ``music video``/``MV``/``音乐视频`` are video, ``draw`` is not
   ``drawer``. Words that point at an input image (``这张图/原图/图中/我的照片/this photo/the
   attached image``) are not an output. Strong signals: task phrases (``图生视频/文生图/首尾帧/
   image-to-video/t2v…``), conversion targets (``做成视频/生成一张图片/来首歌/into a video``), the
   noun right after a count (``一张图片，…``), the outermost head noun — the first English one
   (``a poster of the top 10 songs``) and the last Chinese one (``唱歌的女孩的视频``) — an
   imperative ``画/draw/paint`` opening the request, a lyrics section. One kind among the strong
   signals (else among all) is the media; several kinds → ambiguous, except that image words
   give way when images are attached (they describe the input). "track" as a noun outside the
   listed phrases ("a track through the woods") still reads as music — a known weakness.
8. Duration (once the media is known): ``10秒/十秒/10s/10 seconds/10-second/1分钟/1分30秒/
   一分半/半分钟/1.5 minutes``. Music → ``music_duration`` (the engine says it can't be set);
   images → left in the prompt; otherwise ``duration``. ``80s synthwave``, ``the 90s``,
   ``'70s style`` are decades: a bare ``Ns`` with N in 20…90 is seconds only when followed by
   punctuation, the end, or a word like video/clip/long/of.
9. Task type: image → ``TEXT_TO_IMAGE``, or ``IMAGE_TO_IMAGE`` with images; music →
   ``TEXT_TO_MUSIC`` (images ignored); video → ``TEXT_TO_VIDEO`` with none, ``IMAGE_TO_VIDEO`` with
   one unless reference words (``参考图/保持角色一致/reference image/keep this character/in the
   style of this``) make it ``REFERENCE_IMAGE_TO_VIDEO``; with two or more,
   ``FIRST_LAST_FRAME_TO_VIDEO`` if frame words (``首尾帧/首帧/尾帧/first and last frame/start and
   end frames/from this to that``) are there, else ``REFERENCE_IMAGE_TO_VIDEO``. Words naming both
   frames or the last frame ask for ``FIRST_LAST_FRAME_TO_VIDEO`` whatever is attached (the
   engine asks for the missing image); ``首帧/first frame`` with one image is image-to-video.
   No media word but images → ``IMAGE_TO_IMAGE`` (Midjourney-like: "a cat in space" + photo);
   ``动起来/animate/make it move`` are video words. When the words need input images that are not
   attached (``让这张图动起来``, ``首尾帧``, ``图生图``), ``task_type`` is still that task and
   ``mentions_input_image`` is set: the engine's image-count check asks for the images.
10. Prompt: the text minus sections, directives and parameters, with the request frame removed
   from its start (``帮我画一张``, ``生成一个``, ``给我来首``, ``请``, ``can you please draw me``,
   ``to make``, a label like ``视频：``), whitespace collapsed, dangling separators and a
   trailing "thanks/please" trimmed. Media nouns, sound wishes and descriptive words stay
   (``a video of waves``). When nothing but frame, media words and fillers (``这个不好看``
   included) is left and no image is attached, ``prompt`` is ``""``: nothing was described, and
   the engine asks what to make (``生成一个视频``, ``30秒的视频``, ``来首歌``). With images the text
   stays as the instruction (``让这张图动起来``). Only ``GENERATE`` carries a prompt.

Commands
========
Something described (or images with a media word, or images and no directive) → ``GENERATE``
with any ``model``/``quality``/``another_model`` — unless it is a reset or show-preferences
phrase, or an interrogative question naming no media, model or parameter and no request verb
(``what is…``, ``为什么…``, ``今天天气怎么样``) → ``NONE``. Nothing described: a directive with a
media word and a request verb (``用 Suno 写一首歌``) is still ``GENERATE`` (empty prompt) unless
its scope is ALWAYS (``以后视频都用可灵`` is a preference); else a model → ``USE_MODEL``/
``ALWAYS_MODEL`` (a bare name counts: it is how users answer "换个模型"), a quality →
``BEST``/``CHEAPEST``, ``another_model`` → ``ANOTHER_MODEL``; then ``RESET`` (``清除/重置…偏好``,
``reset my preferences``, ``forget my default``; ``media`` says which kind), ``SHOW_PREFS``
(``我的偏好``, ``what's my default``), ``RETRY`` (retry words alone); a media word, parameters or
an edit of an earlier result → ``GENERATE``; else ``NONE``.

``ambiguous`` is set only on ``GENERATE`` when the media can't be told and no model is named
(a named model implies its media): ``question_hint`` is ``SOURCE`` when the text edits an
earlier result with nothing attached (``make it more vivid``, ``改成竖屏``), else ``MEDIA``
("image, video or music?").
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

from core.ima.tasks import MediaKind, TaskType

__all__ = ["Command", "ModelScope", "ParsedMessage", "Quality", "QuestionHint", "parse_message"]


class Command(StrEnum):
    """The main action a message asks for."""

    GENERATE = "generate"
    USE_MODEL = "use_model"
    ALWAYS_MODEL = "always_model"
    ANOTHER_MODEL = "another_model"
    BEST = "best"
    CHEAPEST = "cheapest"
    RESET = "reset"
    SHOW_PREFS = "show_prefs"
    CONFIRM_YES = "confirm_yes"
    CONFIRM_NO = "confirm_no"
    HELP = "help"
    #: "再来一次 / 重新生成 / again / regenerate" with nothing else: redo the last request.
    RETRY = "retry"
    #: "我的作品 / 历史记录 / my history / my creations" alone: list the person's recent results.
    HISTORY = "history"
    NONE = "none"


class ModelScope(StrEnum):
    THIS_TIME = "this_time"
    ALWAYS = "always"


class Quality(StrEnum):
    BEST = "best"
    CHEAPEST = "cheapest"


class QuestionHint(StrEnum):
    """What to ask when a generation request is ambiguous."""

    #: Image, video or music?
    MEDIA = "media"
    #: The text edits an earlier result or image, but none is attached: which one?
    SOURCE = "source"


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    """What one message says. Every field but ``command`` is optional; see the module doc."""

    command: Command
    #: The description for the generator; "" when nothing was described or not GENERATE.
    prompt: str = ""
    #: The kind of output named by the words (not by the model name).
    media: MediaKind | None = None
    #: The task the words and attachments ask for; None when the media is unknown.
    task_type: TaskType | None = None
    #: The entry of ``model_names`` that was named, exactly as given.
    model: str | None = None
    #: Set with ``model`` or ``quality``: only this time, or remember as the default.
    model_scope: ModelScope | None = None
    quality: Quality | None = None
    #: "换个模型 / another model" was said (the command when nothing else is asked).
    another_model: bool = False
    #: The user explicitly asked for high-end quality (also true with ``Quality.BEST``).
    premium_requested: bool = False
    #: The text points at an input/earlier image (这张图, this photo, 首尾帧, make it …).
    mentions_input_image: bool = False
    #: Video length in seconds (also set when the media is unknown).
    duration: int | None = None
    #: "480P" / "540P" / "720P" / "768P" / "1080P" / "2K" / "4K".
    resolution: str | None = None
    #: One of 16:9, 9:16, 1:1, 4:3, 3:4, 21:9.
    aspect_ratio: str | None = None
    #: Any other W:H ratio, reduced (e.g. "7:3", "4:5").
    custom_ratio: str | None = None
    #: Image size: "512px" / "1K" / "2K" / "4K".
    size: str | None = None
    wants_8k: bool = False
    #: Outputs asked for, when 1..4.
    count: int | None = None
    #: Outputs asked for, as asked (may exceed 4).
    count_requested: int | None = None
    lyrics: str | None = None
    #: "male" / "female".
    vocal_gender: str | None = None
    instrumental: bool | None = None
    #: Video with sound (True), explicitly silent (False), not said (None).
    audio: bool | None = None
    #: Music length in seconds (not settable; the engine explains).
    music_duration: int | None = None
    negative_prompt: str | None = None
    seed: int | None = None
    ambiguous: bool = False
    question_hint: QuestionHint | None = None


# ── text primitives ──────────────────────────────────────────────────────────────────────────

_I = re.IGNORECASE
#: ASCII word boundaries: Python's \b treats ideographs as word characters ("用Suno").
_B = r"(?<![A-Za-z0-9])"
_E = r"(?![A-Za-z0-9])"
#: Removed from the prompt (and hidden from later rules).
_GONE = "\x00"
#: Kept in the prompt but hidden from later rules.
_USED = "\x01"

_INVISIBLE_RE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb"
    "\ud800-\udfff\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)
_FOLD = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {
    0x3000: 0x20,
    0x2018: 0x27,
    0x2019: 0x27,
    0x201C: 0x22,
    0x201D: 0x22,
    0x2236: 0x3A,
}
#: A letter, ideograph or emoji: something that can describe.
_CONTENT_RE = re.compile(r"[^\W\d_]|[\u2600-\u27bf\U0001f000-\U0001faff]")
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
_EN_NUMBERS = {
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
_EN_NUMBER = "|".join(sorted(_EN_NUMBERS, key=len, reverse=True))
_DIGITS = r"(?<![\d.])\d{1,6}(?:\.\d{1,3})?(?![\d])"
_CN_NUMERAL = "零〇一二两三四五六七八九十百"
_CN_NUMBER = rf"(?<![{_CN_NUMERAL}])[{_CN_NUMERAL}]{{1,8}}(?![{_CN_NUMERAL}])"
_NUMBER = rf"(?:{_DIGITS}|{_CN_NUMBER}|{_B}(?:{_EN_NUMBER}){_E})"


def _clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return _INVISIBLE_RE.sub("", text)


def _number(token: str) -> float | None:
    token = token.strip().lower()
    if not token:
        return None
    if token[0].isdigit():
        return float(token)
    if token in _EN_NUMBERS:
        return float(_EN_NUMBERS[token])
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


def _is_wide(ch: str) -> bool:
    return bool(_WIDE_RE.match(ch))


def _has_content(text: str) -> bool:
    return _CONTENT_RE.search(text) is not None


#: Instructions live at the edges of a message. In a very long one, rules read the first
#: ``_HEAD`` and last ``_TAIL`` characters and the middle is description (keeps parsing linear
#: and fast: a 20,000-character message costs about as much as a 3,000-character one).
_HEAD = 2000
_TAIL = 1000


class _Scan:
    """The cleaned message and a same-length view of it that rules match and mask."""

    __slots__ = ("raw", "view", "windows")

    def __init__(self, raw: str) -> None:
        self.raw = raw
        self.view = raw.translate(_FOLD)
        n = len(raw)
        self.windows = ((0, n),) if n <= _HEAD + _TAIL else ((0, _HEAD), (n - _TAIL, n))

    def finditer(self, pattern: re.Pattern[str]) -> Iterator[re.Match[str]]:
        for start, end in self.windows:
            yield from pattern.finditer(self.view, start, end)

    def search(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        return next(self.finditer(pattern), None)

    def edges(self) -> str:
        """The text the rules read, windows joined by a line break."""
        return "\n".join(self.view[start:end] for start, end in self.windows)

    def middle_describes(self) -> bool:
        """Whether the unread middle of a long message has any content."""
        return len(self.windows) > 1 and _has_content(self.view[_HEAD : len(self.view) - _TAIL])

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
                pieces.append("".join(_GONE if c == _GONE else _USED for c in segment))
            else:
                pieces.append(_GONE * (end - start))
            pos = end
        pieces.append(self.view[pos:])
        self.view = "".join(pieces)

    def take(self, pattern: re.Pattern[str], *, keep: bool = False) -> list[re.Match[str]]:
        """All matches of ``pattern``, masked."""
        found = list(self.finditer(pattern))
        self.mask(((m.start(), _with_de(self.view, m.end())) for m in found), keep=keep)
        return found

    def content_bounds(self) -> tuple[int, int]:
        """Start of the first and end of the last content character still visible."""
        first = _CONTENT_RE.search(self.view)
        if first is None:
            return 0, 0
        last = _CONTENT_RE.search(self.view[::-1])
        return first.start(), len(self.view) - (last.start() if last else 0)


_DE_RE = re.compile(r"\s*的(?=\S)")


def _with_de(view: str, end: int) -> int:
    """Extend a removed parameter over a following 的 ("30秒的视频" → "视频")."""
    m = _DE_RE.match(view, end)
    return m.end() if m else end


# ── whole-message replies ────────────────────────────────────────────────────────────────────

_WORD_RE = re.compile(r"[^\W_]")
_TRIM_RE = re.compile(r"^[\W_]+|[\W_]+$")
_JOIN = r"[\s,.!~、。…]*"
_PARTICLES = r"(?:吧|啦|了|呀|啊|的|哈|哦|嘛|呢|谢谢|thanks|please|pls)"


def _whole(words: str) -> re.Pattern[str]:
    """Words that make up a whole message, possibly repeated ("嗯嗯，好的") with particles."""
    return re.compile(rf"(?:{words})(?:{_JOIN}(?:{words}|{_PARTICLES}))*", _I)


_YES_RE = _whole(
    r"是|是的|好|好的|好啊|好呀|好滴|对|对的|对啊|嗯+|恩|行|可以|确定|确认|保存|存|设为默认|没问题|"
    r"当然|要|需要|yes|y|yeah|yep|yup|ya|ok|okay|k|kk|sure|save|save it|of course|definitely|"
    r"sounds good|do it|go ahead|please do|yes please|👍"
)
_NO_RE = _whole(
    r"否|不|不是|不用|不用了|不要|不了|别|算了|不必|不需要|没必要|仅本次|仅这次|只本次|就这一次|就这次|"
    r"只用这次|只这一次|这次就行|一次就好|取消|no|n|nope|nah|no thanks|not now|don'?t|do not|"
    r"just this once|only this once|just this time|only this time|cancel"
)
_HELP_RE = _whole(
    r"/?help|帮助|菜单|使用说明|使用方法|说明书?|怎么用|如何使用|如何用|你能做什么|你会做什么|你会什么|"
    r"你可以做什么|能做什么|你是谁|指令|命令|who are you|what can you do|what do you do|"
    r"how (?:do i|to|can i) use (?:this|you|it|the bot)|commands|usage|menu"
)
_HISTORY_RE = _whole(
    r"(?:查看|看看|显示|列出|打开)?(?:我的|我)?(?:作品|作品集|历史|历史记录|生成记录|创作记录|记录)|"
    r"(?:show|list|see|view|open)? ?(?:me )?my (?:history|results|creations|generations|works|"
    r"images|videos|songs|gallery)|history|/history"
)
_CHITCHAT_RE = _whole(
    r"hi|hello|hey|hiya|yo|howdy|sup|你好|您好|嗨|哈喽|哈啰|嘿|在吗|在不在|在么|早|早安|早上好|中午好|"
    r"下午好|晚上好|晚安|good ?(?:morning|afternoon|evening|night)|thanks|thank you|thx|ty|tks|"
    r"谢谢你?|多谢|感谢|谢啦|谢了|辛苦了|cool|nice|great|awesome|amazing|wow|lol|lmao|ha(?:ha)+|"
    r"he(?:he)+|哈+|呵呵|嘿嘿|bye|goodbye|再见|拜拜|good job|well done|棒|很棒|太棒了|真棒|厉害|"
    r"不错|牛|there|bot|everyone|all|you|a lot|so much|very much|你|您|👍|❤️|🙏"
)
_WHOLE_COMMANDS = (
    (_YES_RE, Command.CONFIRM_YES),
    (_NO_RE, Command.CONFIRM_NO),
    (_HELP_RE, Command.HELP),
    (_HISTORY_RE, Command.HISTORY),
    (_CHITCHAT_RE, Command.NONE),
)


def _whole_message_command(raw: str) -> Command | None:
    if len(raw) > 200:
        return None
    text = _TRIM_RE.sub("", raw.translate(_FOLD))
    for pattern, command in _WHOLE_COMMANDS:
        if pattern.fullmatch(text):
            return command
    return None


# ── model and quality directives ─────────────────────────────────────────────────────────────

_NAME_SEP = r"[\s\-_.·]*"
_NAME_SEP_RE = re.compile(r"[\s\-_.·]+")


def _model_key(name: str) -> str:
    return _NAME_SEP_RE.sub("", name.translate(_FOLD)).casefold()


def _is_latin(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


@dataclass(frozen=True, slots=True)
class _Names:
    """The model names of one call, compiled."""

    pattern: re.Pattern[str] | None
    #: Normalised key → the name to return: the display spelling ("Kling O1" over "klingo1"),
    #: else the first given.
    by_key: dict[str, str]
    #: Keys of versioned or multi-word names ("Kling O1", "Nano Banana Pro", "海螺23"): these
    #: count wherever they appear. Single words ("Kling", "Sonic", "Gemini", "MJ") can also
    #: be ordinary words or characters, so they need a directive or the edge of the message.
    distinctive: frozenset[str]


def _display_rank(name: str) -> tuple[bool, bool]:
    """Among names that normalise alike, prefer the display spelling ("Suno" to "suno")."""
    return any(ch.isupper() for ch in name), _NAME_SEP_RE.search(name.strip()) is not None


@functools.lru_cache(maxsize=32)
def _model_matcher(names: tuple[str, ...]) -> _Names:
    """One pattern for all names (longest first)."""
    by_key: dict[str, str] = {}
    distinctive: set[str] = set()
    for name in names:
        key = _model_key(name)
        if not key:
            continue
        if key not in by_key or _display_rank(name) > _display_rank(by_key[key]):
            by_key[key] = name
        latin = [_is_latin(ch) for ch in key if not ch.isdigit()]
        if (
            any(ch.isdigit() for ch in key)
            or _NAME_SEP_RE.search(name.strip())
            or (any(latin) and not all(latin))
        ):
            distinctive.add(key)
    if not by_key:
        return _Names(None, by_key, frozenset())
    alternatives = []
    for key in sorted(by_key, key=lambda k: (-len(k), k)):
        body = _NAME_SEP.join(re.escape(ch) for ch in key)
        if _is_latin(key[0]):
            body = _B + body
        if _is_latin(key[-1]):
            body += _E
        alternatives.append(body)
    return _Names(re.compile("|".join(alternatives), _I), by_key, frozenset(distinctive))


_WINDOW = 24
_ALWAYS_BEFORE_RE = re.compile(
    r"(?:(?:以后|今后|往后|之后|从此|从今以后|从现在(?:开始|起))(?P<gap>[^\x00\n。!?,]{0,8}?)"
    r"(?:都|就|一律|全部|一直|也)?\s*(?:默认)?\s*(?:用|使用|选用|选|换成|改用)"
    r"|(?:默认|一直|总是|永远|始终|每次都)\s*都?\s*(?:用|使用|选用|选)"
    r"|默认(?:模型)?\s*(?:设为|设成|设置为|改为|改成|换成)"
    rf"|{_B}(?:(?:always|from now on,?|by default,?)\s+(?:use|go with|pick|choose)"
    r"|(?:set|change|switch|make)\s+(?:my\s+|the\s+)?default(?:\s+model)?\s+(?:to|as)"
    r"|default\s+to)(?:\s+the)?)\s*\Z",
    _I,
)
_THIS_BEFORE_RE = re.compile(
    r"(?:(?:请|帮我|给我|就|还是|改|再)?(?:用|使用|换成|换用|改用|改成|换到|切换到|切换成|切到|试试|"
    r"试一下|选用|选|调用|要)"
    rf"|{_B}(?:use|using|with|via|switch(?:ed)?\s+to|change\s+to|try|pick|choose|go\s+with|in|on|by)"
    r"(?:\s+the)?)\s*\Z",
    _I,
)
_NEGATED_RE = re.compile(
    rf"(?:不(?:要|想|能|准)?|别|{_B}(?:don'?t|do\s+not|never|not|no))\s*(?:再\s*)?"
    r"(?:用|使用|换成|use|using|with)?\s*(?:the\s+)?\Z",
    _I,
)
_ALWAYS_AFTER_RE = re.compile(
    r"\A\s*(?:模型|model)?\s*(?:(?:作为|当作|当成|设为|设成|设置为|定为|做|当)\s*(?:我的)?\s*(?:默认|常用)"
    r"(?:模型)?|(?:as|to\s+be)?\s*(?:my|the)\s+(?:new\s+)?default(?:\s+model)?|by\s+default"
    r"|from\s+now\s+on|going\s+forward|permanently|for(?:ever|\s+good)|every\s*time)",
    _I,
)
_THIS_AFTER_RE = re.compile(r"\A\s*(?:模型|model)", _I)
_VERB_AFTER_RE = re.compile(r"\A\s*(?:来|去)?\s*(?:画|生成|做|写|拍|制作|创作|出)")
_STYLE_AFTER_RE = re.compile(r"\A\s*(?:style|风格|风|画风|那样|一样|like)", _I)


@dataclass(frozen=True, slots=True)
class _Directive:
    """Words around a model name or quality phrase that make it an instruction."""

    #: The name or phrase with its directive words (a scope gap like 以后[视频]都用 is kept).
    spans: tuple[tuple[int, int], ...]
    #: A directive verb before it, or 模型/model or a scope after it.
    directed: bool
    #: A request verb right after it ("可灵生成…"): enough for a model name, not for 最好.
    verb_after: bool
    always: bool
    negated: bool
    style: bool


def _directive(view: str, start: int, end: int) -> _Directive:
    before = view[max(0, start - _WINDOW) : start]
    offset = start - len(before)
    after = view[end : end + _WINDOW]
    spans: list[tuple[int, int]] = []
    always_before = _ALWAYS_BEFORE_RE.search(before)
    this_before = None if always_before else _THIS_BEFORE_RE.search(before)
    lead = always_before or this_before
    head = start
    if lead is not None:
        head = offset + lead.start()
        gap = lead.span("gap") if always_before is not None else (-1, -1)
        if gap[0] >= 0 and gap[1] > gap[0]:
            spans.append((head, offset + gap[0]))
            head = offset + gap[1]
    always_after = _ALWAYS_AFTER_RE.match(after)
    trail = always_after or _THIS_AFTER_RE.match(after)
    tail = end + (trail.end() if trail else 0)
    spans.append((head, tail))
    return _Directive(
        spans=tuple(spans),
        directed=lead is not None or trail is not None,
        verb_after=_VERB_AFTER_RE.match(after) is not None,
        always=always_before is not None or always_after is not None,
        negated=_NEGATED_RE.search(view[max(0, head - _WINDOW) : head]) is not None,
        style=_STYLE_AFTER_RE.match(after) is not None,
    )


_QUALITY_RE = re.compile(
    r"(?P<best>最好的模型|最强的模型|最贵的模型|质量最好的?|效果最好的?|最高(?:质量|画质|品质)|"
    rf"最佳(?:质量|画质|模型)|{_B}(?:best[- ](?:quality|model)|highest[- ]quality(?:\s+model)?|"
    rf"top[- ]quality(?:\s+model)?|most\s+expensive\s+model|premium\s+model){_E})"
    r"|(?P<cheapest>最便宜的?(?:模型)?|最省钱的?(?:模型)?|便宜(?:一?点)?的模型|积分最少的?(?:模型)?|"
    rf"省钱模式|省积分|{_B}(?:cheapest(?:\s+(?:model|option|one))?|lowest[- ]cost(?:\s+model)?|"
    rf"least\s+(?:credits|points)|budget\s+(?:model|option|mode)|cheap(?:er)?\s+model){_E})"
    r"|(?P<best_directed>(?:最好|最强|最贵)(?!看|听|玩|吃|喝|用)的?|"
    rf"{_B}(?:best(?:\s+one)?|most\s+expensive(?:\s+one)?){_E})"
    rf"|(?P<cheapest_directed>便宜(?:一?点)?的?|省钱的?|{_B}(?:cheap(?:er)?(?:\s+one)?|budget){_E})",
    _I,
)
_PREMIUM_RE = re.compile(
    r"高质量|高品质|高画质|顶级(?:质量|画质|品质|模型|效果)|高端(?:模型|画质)|旗舰模型|"
    rf"最好的(?:模型|质量|效果|画质)|最高(?:质量|画质|品质)|{_B}(?:premium\s+(?:quality|model|"
    r"version|tier)|high[- ]?quality|high[- ]end|top[- ](?:quality|tier|notch)|best[- ](?:quality|"
    rf"model)|highest[- ]quality|go\s+premium|use\s+premium){_E}",
    _I,
)
_ANOTHER_RE = re.compile(
    r"换(?:个|一个|一下|别的|其他的?|其它的?)?模型|(?:换|用|试试)(?:别的|其他的?|其它的?)(?:模型)?|"
    rf"{_B}(?:(?:try|use|pick|switch\s+to|give\s+me)\s+(?:a\s+)?(?:different|another|other)\s+"
    r"(?:model|one)|(?:different|another|other)\s+model|switch\s+models?|change\s+(?:the\s+)?model)"
    rf"{_E}",
    _I,
)
_RETRY_RE = re.compile(
    r"再来一(?:次|个|张|遍|首|段)|再试(?:一次|一下|试)?|重新(?:生成|来|画|做)(?:一(?:次|个|张|遍))?|重来|"
    rf"重试|再生成一(?:次|个|张|遍)|再画一(?:次|张|遍)|{_B}(?:(?:try\s+)?again|retry|"
    rf"one\s+more(?:\s+time)?|regenerate|redo|do\s+it\s+again|another\s+one){_E}",
    _I,
)


@dataclass(frozen=True, slots=True)
class _Directives:
    model: str | None = None
    quality: Quality | None = None
    always: bool = False


def _take_directives(scan: _Scan, model_names: Sequence[str]) -> _Directives:
    """Find (and remove) model names and quality phrases with the words that direct them."""
    model: str | None = None
    quality: Quality | None = None
    always = False
    names = _model_matcher(tuple(model_names))
    if names.pattern is not None:
        first, last = scan.content_bounds()
        spans: list[tuple[int, int]] = []
        for m in scan.finditer(names.pattern):
            key = _model_key(m.group())
            d = _directive(scan.view, m.start(), m.end())
            edge = m.start() <= first or m.end() >= last
            latin = any(_is_latin(ch) for ch in key)
            counts = (
                d.directed
                or d.verb_after
                or key in names.distinctive
                or (edge and (latin or (m.start() <= first and m.end() >= last)))
            )
            if d.style or not counts:
                continue
            spans.extend(d.spans)
            if model is None and not d.negated:
                model = names.by_key.get(key)
                always = d.always
        scan.mask(spans)
    first, last = scan.content_bounds()
    spans = []
    for m in scan.finditer(_QUALITY_RE):
        d = _directive(scan.view, m.start(), m.end())
        group = m.lastgroup or ""
        whole = m.start() <= first and m.end() >= last
        if group.endswith("_directed") and not (d.directed or whole):
            continue
        spans.extend(d.spans)
        if quality is None and not d.negated:
            quality = Quality.BEST if group.startswith("best") else Quality.CHEAPEST
            always = always or (model is None and d.always)
    scan.mask(spans)
    return _Directives(model=model, quality=quality, always=always)


# ── sound ────────────────────────────────────────────────────────────────────────────────────

_AUDIO_RE = re.compile(
    r"(?P<on>(?:带|加|配|有|加上|配上|带上|生成)(?:上)?(?:音效|声音|音频|背景音乐|配乐|音乐|对白|对话)|"
    r"有声(?!书)|配音|同步音频|"
    rf"{_B}(?:with\s+(?:audio|sound(?:\s+effects)?|sfx|music|background\s+music|dialogue|"
    rf"voice(?:[- ]?over)?)|sound\s+on|audio\s+on|generate\s+audio){_E})"
    r"|(?P<off>无声|静音|没有声音|不要声音|不带声音|不要音效|不要音频|不要配乐|"
    rf"{_B}(?:no\s+(?:audio|sound)|without\s+(?:audio|sound)|"
    rf"(?:silent|muted?)(?=\s+(?:video|clip|film|movie|animation))|sound\s+off|audio\s+off){_E})",
    _I,
)
_VOCAL_RE = re.compile(
    rf"(?P<male>男声|男生唱|男歌手|男嗓|{_B}male\s+(?:vocals?|voice|singer|vocalist){_E})"
    rf"|(?P<female>女声|女生唱|女歌手|女嗓|{_B}female\s+(?:vocals?|voice|singer|vocalist){_E})",
    _I,
)
_INSTRUMENTAL_RE = re.compile(
    r"(?P<on>纯音乐|纯器乐|无人声|没有人声|不要人声|不带人声|不需要人声|伴奏|"
    rf"{_B}(?:instrumental|no\s+vocals?|without\s+vocals?|no\s+singing|no\s+lyrics){_E})"
    rf"|(?P<off>带人声|有人声|要人声|{_B}with\s+(?:vocals?|lyrics|singing){_E})",
    _I,
)


@dataclass(frozen=True, slots=True)
class _Sound:
    audio: bool | None = None
    vocal_gender: str | None = None
    instrumental: bool | None = None


def _take_sound(scan: _Scan) -> _Sound:
    """Sound wishes: kept in the prompt, hidden from media detection."""
    audio = scan.take(_AUDIO_RE, keep=True)
    vocal = scan.take(_VOCAL_RE, keep=True)
    instrumental = scan.take(_INSTRUMENTAL_RE, keep=True)
    return _Sound(
        audio=audio[0].lastgroup == "on" if audio else None,
        vocal_gender=vocal[0].lastgroup if vocal else None,
        instrumental=instrumental[0].lastgroup == "on" if instrumental else None,
    )


# ── sections: lyrics, negative prompt, seed ──────────────────────────────────────────────────

_LYRICS_RE = re.compile(r"(?:歌词|lyrics?)\s*(?:是|如下|为|are|below|as\s+follows)?\s*:\s*", _I)
_NEGATIVE_RE = re.compile(
    r"(?:反向提示词?|负面提示词?|反向词|负面词|避免|排除|"
    rf"{_B}(?:negative(?:\s+prompts?)?|neg\s*prompt))\s*:\s*(?P<value>[^\n\x00]*)",
    _I,
)
_SEED_RE = re.compile(
    rf"(?:{_B}seed|随机种子|种子)\s*(?:[:=#]|is|为|是|值)?\s*(?P<value>-?\d{{1,12}})(?!\d)", _I
)
_BLANK_LINES_RE = re.compile(r"\n\s*\n(?:\s*\n)+")
_VALUE_STRIP = " \t\n,.;:，。；：、"


def _take_lyrics(scan: _Scan) -> str | None:
    m = _LYRICS_RE.search(scan.view)
    if m is None:
        return None
    lyrics = _BLANK_LINES_RE.sub("\n\n", scan.raw[m.end() :]).strip()
    scan.mask([(m.start(), len(scan.view))])
    return lyrics or None


def _take_negative(scan: _Scan) -> str | None:
    values = [
        scan.raw[m.start("value") : m.end("value")].strip(_VALUE_STRIP)
        for m in scan.take(_NEGATIVE_RE)
    ]
    return ", ".join(v for v in values if v) or None


def _take_seed(scan: _Scan) -> int | None:
    found = scan.take(_SEED_RE)
    return int(found[0].group("value")) if found else None


# ── parameters ───────────────────────────────────────────────────────────────────────────────

_RESOLUTION_RE = re.compile(
    rf"{_B}(?P<p>480|540|720|768|1080|1440|2160)\s*p{_E}|{_B}(?P<k>[1248])\s*k{_E}"
    rf"|{_B}(?P<px>512)\s*(?:px|像素)",
    _I,
)
_RESOLUTION_WORDS_RE = re.compile(
    rf"(?P<uhd>超高清|{_B}uhd{_E})|(?P<hd>全高清|超清|高清|{_B}(?:full[- ]?hd|fhd|hd){_E})", _I
)
_P_NAMES = {"1440": "2K", "2160": "4K"}


@dataclass(frozen=True, slots=True)
class _Resolution:
    resolution: str | None = None
    size: str | None = None
    wants_8k: bool = False


def _take_resolution(scan: _Scan) -> _Resolution:
    resolution: str | None = None
    size: str | None = None
    wants_8k = False
    for m in scan.take(_RESOLUTION_RE):
        if m.group("p"):
            resolution = resolution or _P_NAMES.get(m.group("p"), m.group("p") + "P")
        elif m.group("px"):
            size = size or "512px"
        elif m.group("k") == "8":
            wants_8k = True
        else:
            name = m.group("k") + "K"
            size = size or name
            if name != "1K":
                resolution = resolution or name
    if resolution is None and (word := scan.search(_RESOLUTION_WORDS_RE)):
        resolution = "4K" if word.group("uhd") else "1080P"
    return _Resolution(resolution=resolution, size=size, wants_8k=wants_8k)


_STANDARD_RATIOS = frozenset({"16:9", "9:16", "1:1", "4:3", "3:4", "21:9"})
#: Ratios whose second number has two digits, which would otherwise read as a clock time.
_TWO_DIGIT_RATIOS = frozenset({"9:16", "9:21", "16:10", "10:16"})
_RATIO_RE = re.compile(r"(?<![\d.:])(?P<w>\d{1,2})\s*(?P<sep>:|比)\s*(?P<h>\d{1,2})(?![\d:])")
_RATIO_CONTEXT_RE = re.compile(r"比例|比率|画幅|尺寸|构图|宽高|ratio|aspect|format", _I)
_CLOCK_AFTER_RE = re.compile(r"\A\s*(?:am|pm|a\.m|p\.m|点|分|o'?clock)", _I)
_ORIENTATION_RE = re.compile(
    rf"(?P<wide>横屏|横版|横向|宽屏|横构图|{_B}(?:(?:in\s+)?(?:landscape|horizontal)\s+"
    r"(?:format|orientation|mode|ratio|aspect(?:\s+ratio)?)|in\s+(?:landscape|horizontal)|"
    r"wide[- ]?screen|horizontal(?=\s+(?:video|clip|image|picture|photo|wallpaper|poster|banner)))"
    rf"{_E}|(?:^|(?<=[,;]))\s*horizontal(?=\s*(?:[,;.!]|$)))"
    rf"|(?P<tall>竖屏|竖版|竖向|竖构图|{_B}(?:(?:in\s+)?(?:portrait|vertical)\s+"
    r"(?:format|orientation|mode|ratio|aspect(?:\s+ratio)?)|in\s+(?:portrait|vertical)|vertically|"
    r"vertical(?=\s+(?:video|clip|image|picture|photo|wallpaper|poster|short|reel|story|screen)))"
    rf"{_E}|(?:^|(?<=[,;]))\s*vertical(?=\s*(?:[,;.!]|$)))"
    r"|(?P<square>(?:正方形|方形)(?=\s*的?\s*(?:图|照片|画|视频|头像|海报|比例|构图|尺寸|格式|壁纸|logo))|"
    rf"方图|{_B}(?:square\s+(?:format|ratio|aspect(?:\s+ratio)?|crop)|in\s+square|"
    r"square(?=\s+(?:image|picture|photo|video|logo|avatar|icon|poster|wallpaper|clip))){_E})",
    _I,
)
_ORIENTATION_RATIOS = {"wide": "16:9", "tall": "9:16", "square": "1:1"}


def _ratio(scan: _Scan, m: re.Match[str]) -> str | None:
    """The ratio for a W:H match (reduced unless standard as written: 21:9 is not 7:3), or
    None when it reads as a clock time."""
    w, h = int(m.group("w")), int(m.group("h"))
    if not w or not h:
        return None
    written = f"{w}:{h}"
    if m.group("sep") == ":" and written not in _TWO_DIGIT_RATIOS:
        near = scan.view[max(0, m.start() - 12) : m.end() + 12]
        clock = len(m.group("h")) == 2 and w <= 23 and h <= 59
        if _CLOCK_AFTER_RE.match(scan.view, m.end()) or (
            clock and not _RATIO_CONTEXT_RE.search(near)
        ):
            return None
    if written in _STANDARD_RATIOS:
        return written
    g = math.gcd(w, h)
    return f"{w // g}:{h // g}"


def _take_ratio(scan: _Scan) -> tuple[str | None, str | None]:
    """(aspect_ratio, custom_ratio): the first ratio asked for, standard or not."""
    ratio: str | None = None
    spans = []
    for m in scan.finditer(_RATIO_RE):
        found = _ratio(scan, m)
        if found is not None:
            ratio = ratio or found
            spans.append((m.start(), _with_de(scan.view, m.end())))
    scan.mask(spans)
    for m in scan.take(_ORIENTATION_RE):
        ratio = ratio or _ORIENTATION_RATIOS[m.lastgroup or ""]
    if ratio is None:
        return None, None
    return (ratio, None) if ratio in _STANDARD_RATIOS else (None, ratio)


_ZH_OUTPUT_NOUN = (
    r"(?:图片|图像|图|照片|相片|画|插画|海报|头像|壁纸|视频|短片|影片|动画|歌曲|歌|音乐|曲子|配乐|bgm|"
    r"款式|风格)"
)
_EN_OUTPUT_NOUN = (
    r"(?:images?|pictures?|pics?|photos?|drawings?|illustrations?|paintings?|posters?|wallpapers?|"
    r"logos?|icons?|avatars?|sketch(?:es)?|videos?|clips?|animations?|songs?|tracks?|tunes?|"
    r"renders?|shots?)"
)
#: Count nouns that are not a description: removed with their number ("3 versions of a logo").
_EN_COUNT_NOUN = (
    r"(?:versions?|variations?|variants?|options?|takes|outputs?|results?|alternatives)"
)
_ZH_COUNT_NOUN = r"(?:版本|变体|方案|选项)"
_EN_ADJECTIVE = (
    r"(?:different|more|new|distinct|unique|separate|alternative|alternate|other|quick|short|"
    r"random)"
)
#: Numbers that describe the content, not how many outputs: 这两张图 (inputs), 有三张照片的海报,
#: 第一张; "top 10 songs", "a collage with 3 photos", "of 4 images".
_NOT_AFTER_DEMONSTRATIVE = "(?<![这那此该有含带和与及第前后])"
_EN_NOT_COUNT = "".join(
    rf"(?<!{word}\s)"
    for word in (
        "top",
        "the",
        "of",
        "all",
        "than",
        "over",
        "under",
        "about",
        "with",
        "and",
        "my",
        "his",
        "her",
        "their",
        "our",
        "your",
        "its",
        "these",
        "those",
        "last",
        "first",
        "next",
    )
)
_COUNT_RE = re.compile(
    rf"{_NOT_AFTER_DEMONSTRATIVE}(?P<zhv>{_DIGITS}|{_CN_NUMBER})\s*(?:个|种|套|款)?\s*(?:不同的?)?\s*"
    rf"{_ZH_COUNT_NOUN}"
    rf"|{_NOT_AFTER_DEMONSTRATIVE}(?P<zh>{_DIGITS}|{_CN_NUMBER})\s*(?:张|幅|个|段|首|支|部|条|版|款|份|种)"
    rf"(?=\s*(?:不同|不一样)?的?\s*{_ZH_OUTPUT_NOUN})"
    rf"|(?:^|(?<=[画成做来出要给拍写\s\x00\x01,.;!?，。；！？、])){_NOT_AFTER_DEMONSTRATIVE}"
    rf"(?P<lead>{_DIGITS}|{_CN_NUMBER})\s*(?:张|幅|首|段)"
    rf"|{_B}{_EN_NOT_COUNT}(?P<en>\d{{1,6}}|{_EN_NUMBER}){_E}(?:\s+(?:{_EN_ADJECTIVE}\s+)?{_EN_COUNT_NOUN}"
    rf"(?:\s+of)?{_E}|(?=\s+(?:{_EN_ADJECTIVE}\s+)?{_EN_OUTPUT_NOUN}{_E}))"
    rf"|{_B}n\s*=\s*(?P<n>\d{{1,6}}){_E}",
    _I,
)


_CLASSIFIER_KINDS = {"张": MediaKind.IMAGE, "幅": MediaKind.IMAGE, "首": MediaKind.MUSIC}


@dataclass(frozen=True, slots=True)
class _Count:
    """The number of outputs asked for, as asked (the first explicit one)."""

    value: int | None = None
    #: What the Chinese classifier implies (张/幅 pictures, 首 songs).
    kind: MediaKind | None = None
    #: Where the count ended: a media noun right there is the output ("一张图片，…").
    end: int = -1


def _take_count(scan: _Scan) -> _Count:
    m = scan.search(_COUNT_RE)
    if m is None:
        return _Count()
    value = _number(m.group(m.lastgroup or "n"))
    if value is None or value < 1 or value != int(value):
        return _Count()
    scan.mask([m.span()])
    end = m.end()
    while end < len(scan.view) and scan.view[end].isspace():
        end += 1
    return _Count(int(value), _CLASSIFIER_KINDS.get(m.group()[-1]), end)


# ── media ────────────────────────────────────────────────────────────────────────────────────

_VIDEO_WORDS = (
    rf"{_B}music\s*videos?{_E}|音乐视频|{_B}mv{_E}|短视频|视频|动画片?|短片|影片|微电影|录像|"
    r"(?:动|活)起来|动一动|会动的?|"
    rf"{_B}(?:videos?|clips?|animations?|animated|animate|movies?|footage|"
    r"make\s+(?:it|them|him|her)\s+move|come\s+(?:alive|to\s+life)|"
    rf"bring\s+(?:it|them|this|these)\s+to\s+life){_E}"
)
_MUSIC_WORDS = (
    r"纯音乐|背景音乐|音乐|歌曲|歌|曲子|乐曲|配乐|旋律|伴奏|曲目|曲调|"
    rf"{_B}(?:bgm|music|songs?|tracks?|tunes?|melod(?:y|ies)|soundtracks?|beats?|instrumentals?){_E}"
)
#: Music words that also say what to play ("一首钢琴曲" is enough to make something).
_MUSIC_STYLES = (
    r"儿歌|情歌|说唱|钢琴曲|舞曲|小夜曲|进行曲|协奏曲|奏鸣曲|交响曲|圆舞曲|摇篮曲|小曲|"
    rf"{_B}(?:jingles?|ballads?|lullab(?:y|ies)|anthems?|raps?|symphon(?:y|ies)|waltz(?:es)?){_E}"
)
_IMAGE_WORDS = (
    r"图片|图像|图画|插图|插画|配图|照片|相片|海报|头像|壁纸|封面|图标|表情包|贴纸|漫画|素描|油画|水彩|图|画|"
    rf"{_B}(?:images?|pictures?|pics?|photos?|photographs?|drawings?|draw|paint(?:ings?)?|"
    r"sketch(?:es)?|illustrations?|posters?|wallpapers?|logos?|icons?|avatars?|portraits?|"
    rf"artworks?|stickers?|banners?|thumbnails?|memes?|selfies?){_E}"
)
_NOT_MEDIA = (
    r"画面|画质|画风(?!景)|画幅|画家|画廊|画布|画师|画展|画室|画笔|画板|画框|画册|构图|试图|意图|企图|图书馆?|蓝图|"
    r"图案|帧图|歌词|歌手|唱歌|歌唱|歌舞|歌剧院|歌颂|歌星|歌迷|歌厅|听音乐|听歌|视频通话|视频会议|看视频|刷视频|"
    r"(?:这|那|我的|上传的|发的)\s*(?:个|段)?\s*视频|"
    rf"{_B}(?:video\s*games?|videogames?|video\s*(?:calls?|chats?|conferenc\w*)|clip\s*art|"
    r"(?:paper|hair)\s*clips?|(?:race|train|railway|running)\s*tracks?|"
    r"track\s+(?:and\s+field|record)|keep(?:ing)?\s+track|(?:on|off)\s+track|fine[- ]?tun\w*|"
    r"in\s+tune|heart\s*beats?|music\s+(?:festival|box|stand|teacher|room|notes?)|movie\s+stars?|"
    r"listen(?:s|ing)?\s+to\s+(?:music|songs?)|sheet\s+music|"
    rf"paint\s*(?:brush|bucket|can)s?|draw\s+(?:a\s+)?(?:conclusion|attention|the\s+line)){_E}"
)
#: Words that point at an image the user gives (or gave) rather than one to make.
_INPUT_IMAGE = (
    r"(?:这|那|此|该)\s*(?:一|两|几)?\s*(?:张|幅|些)\s*(?:图片|图像|照片|相片|图|画)?|"
    r"(?:这|那|此|该)\s*个\s*(?:图片|图像|照片|图)|"
    r"(?:上面的?|下面的?|前面的?|刚才的?|我的|上传的|发的|附件(?:里|中)?的?)\s*(?:图片|图像|照片|相片|自拍|图|画)|"
    r"(?:图片|照片)(?:中|里|上)的?|(?:上|原|底|参考)图|"
    rf"{_B}(?:this|that|these|those|my|attached|uploaded|above|provided|reference|input|source|"
    r"original)\s+(?:(?:attached|uploaded|original|reference|input|first|second|two|2)\s+)?"
    rf"(?:images?|pictures?|photos?|pics?|photographs?|drawings?|paintings?|illustrations?|"
    rf"frames?|selfies?|screenshots?){_E}"
)
_EDITS_EARLIER = (
    rf"{_B}(?:make\s+(?:it|this|that|them)\s+(?:more|less|brighter|darker|bigger|smaller|better|"
    r"look|into|move)|(?:turn|convert|change|edit|modify|adjust|fix|animate|transform|enhance|"
    rf"upscale|restyle|improve|redo)\s+(?:it|this|that|them|these|those)){_E}|"
    r"把\s*(?:它|他|她|这|那)|让\s*(?:它|他|她)|"
    r"(?:\A|(?<=[,.;!?。；！？]))[\s\x00\x01]*(?:改成|改为|换成|变成|调成|转成)"
)
_TASK_I2V = (
    r"图生视频|图片?(?:生成|转成?|变成)视频|照片(?:生成|转成?|变成)视频|"
    rf"{_B}(?:i2v|img2vid|(?:image|photo|picture|img)[- ]?(?:to|2)[- ]?video){_E}"
)
_TASK_T2V = rf"文生视频|文字生成视频|{_B}(?:t2v|txt2vid|text[- ]?(?:to|2)[- ]?video){_E}"
_TASK_I2I = rf"图生图|{_B}(?:i2i|img2img|image[- ]?(?:to|2)[- ]?image){_E}"
_TASK_T2I = rf"文生图|{_B}(?:t2i|txt2img|text[- ]?(?:to|2)[- ]?image){_E}"
_TASK_T2M = rf"文生音乐|{_B}(?:t2m|text[- ]?(?:to|2)[- ]?music){_E}"
_TASK_REFERENCE = rf"参考图?生视频|{_B}(?:reference[- ](?:image[- ])?to[- ]video|ref2v){_E}"
#: Both frames named: the task takes two images.
_BOTH_FRAMES = (
    r"首尾帧(?:生成?视频)?|首尾|开头和结尾|"
    rf"{_B}(?:first\s*(?:and|&|/|-)\s*last(?:\s+frames?)?|start(?:ing)?\s*(?:and|&|/|-)\s*"
    r"end(?:ing)?\s+frames?|from\s+(?:this|the\s+first)(?:\s+(?:one|image|picture|photo))?\s+to\s+"
    rf"(?:that|the\s+second|this)(?:\s+(?:one|image|picture|photo))?){_E}|"
    r"从(?:这|第一)张.{0,8}?(?:到|过渡到|变到|变成)(?:那|第二|另一)张"
)
#: One image as the first frame is an ordinary image-to-video task.
_FIRST_FRAME = rf"首帧|第一帧|起始帧|{_B}(?:first|start(?:ing)?|opening)\s+frame{_E}"
#: An image as the last frame needs a first one too.
_LAST_FRAME = rf"尾帧|最后一帧|结束帧|结尾帧|{_B}(?:last|end(?:ing)?|final)\s+frame{_E}"
_FIRST_LAST = f"{_BOTH_FRAMES}|{_FIRST_FRAME}|{_LAST_FRAME}"
_REFERENCE = (
    r"参考(?:图|图片|照片|这|那|上面|它|一下这)|(?:作为|当作|当成|做)参考|以.{0,8}?为参考|"
    r"保持(?:这个|同一个?|一致的?)?(?:角色|人物|人|形象|脸|主体|长相)|(?:角色|人物|形象)一致|"
    rf"{_B}(?:reference\s+(?:images?|pictures?|photos?)|as\s+(?:a\s+)?references?|"
    r"(?:in\s+)?the\s+style\s+of\s+(?:this|these|that|the\s+(?:image|photo|picture))|"
    r"keep(?:ing)?\s+(?:this|the|that|these|my)\s+(?:character|person|face|subject|product|look)s?|"
    rf"same\s+(?:character|person|face)s?|consistent\s+characters?){_E}|{_TASK_REFERENCE}"
)
_ANY_MEDIA = f"{_VIDEO_WORDS}|{_MUSIC_STYLES}|{_MUSIC_WORDS}|{_IMAGE_WORDS}"
_TARGET = (
    r"(?:做成|变成|转成|转换成|转为|转化为|制作成|改成|弄成|变为|搞成|整成|换成|生成|制作|创作|做|来|写|拍|出)"
    r"[\s\x00]*(?:(?:[一两二三四五六七八九十几]|\d{1,3})?[\s\x00]*(?:个|段|张|首|幅|部|支))?[\s\x00]*"
    rf"(?={_ANY_MEDIA})|{_B}into\s+(?:(?:a|an|some)\s+)?(?:(?:short|quick|little|animated|cute)\s+)?"
    rf"(?={_ANY_MEDIA})"
)
_MEDIA_RE = re.compile(
    rf"(?P<skip>{_NOT_MEDIA})"
    rf"|(?P<input>{_INPUT_IMAGE})"
    rf"|(?P<task_video>{_TASK_I2V}|{_TASK_T2V}|{_TASK_REFERENCE}|{_FIRST_LAST})"
    rf"|(?P<task_image>{_TASK_I2I}|{_TASK_T2I})"
    rf"|(?P<task_music>{_TASK_T2M})"
    rf"|(?P<target>{_TARGET})"
    rf"|(?P<video>{_VIDEO_WORDS})"
    rf"|(?P<music_style>{_MUSIC_STYLES})"
    rf"|(?P<music>{_MUSIC_WORDS})"
    rf"|(?P<image>{_IMAGE_WORDS})",
    _I,
)
_KINDS = {
    "task_video": MediaKind.VIDEO,
    "task_image": MediaKind.IMAGE,
    "task_music": MediaKind.MUSIC,
    "video": MediaKind.VIDEO,
    "music": MediaKind.MUSIC,
    "music_style": MediaKind.MUSIC,
    "image": MediaKind.IMAGE,
}
#: An English media noun is the head of its phrase when a complement follows.
_HEAD_AFTER_RE = re.compile(
    rf"\s+(?:of|about|showing|featuring|depicting|for|where|in\s+which|that\s+shows?){_E}", _I
)
_INPUT_IMAGE_RE = re.compile(
    rf"{_INPUT_IMAGE}|{_EDITS_EARLIER}|{_TASK_I2V}|{_TASK_I2I}|{_FIRST_LAST}|{_REFERENCE}", _I
)
_EDITS_EARLIER_RE = re.compile(_EDITS_EARLIER, _I)
_BOTH_FRAMES_RE = re.compile(_BOTH_FRAMES, _I)
_FIRST_FRAME_RE = re.compile(_FIRST_FRAME, _I)
_LAST_FRAME_RE = re.compile(_LAST_FRAME, _I)
_REFERENCE_RE = re.compile(_REFERENCE, _I)
_POLITE = (
    r"请你?|麻烦你?|帮我|帮忙|给我|替我|为我|帮|你|能不能|能否|可不可以|可以|我想要?|我要|想要|我需要|需要|"
    rf"再|也|好的(?=[\s,])|嗯|{_B}(?:hey|hi|hello|ok|okay|please|pls|plz|kindly|"
    r"(?:can|could|would|will)\s+you(?:\s+please)?|i\s+(?:want|need|would\s+like)(?:\s+to)?|"
    rf"i'd\s+like(?:\s+to)?|let'?s|give\s+me|show\s+me){_E}"
)
_SEPARATORS = r"[\s\x00\x01,!.~。、]*"
_POLITE_LEAD_RE = re.compile(rf"{_SEPARATORS}(?:(?:{_POLITE}){_SEPARATORS})*", _I)
_DE_BEFORE_RE = re.compile(r"的\s*\Z")
_DRAW_RE = re.compile(
    rf"画(?![面质幅家廊布师展室笔板框册]|风(?!景))|{_B}(?:draw|paint|sketch|illustrate){_E}", _I
)


def _lead_end(view: str) -> int:
    """Where the request starts after greetings and politeness ("帮我", "can you please")."""
    m = _POLITE_LEAD_RE.match(view)
    return m.end() if m else 0


@dataclass(frozen=True, slots=True)
class _Media:
    media: MediaKind | None
    #: Several kinds were named and none stands out.
    conflict: bool
    mentions_input_image: bool
    edits_earlier: bool
    #: Both frames, or a last frame, are named: first-last-frame video whatever is attached.
    first_last: bool
    #: Any frame words (with two images: first-last-frame video).
    frames: bool
    reference: bool


def _detect_media(scan: _Scan, images: int, hinted: set[MediaKind], count_end: int) -> _Media:
    """The output kind; ``hinted`` are weak signals found by earlier rules, ``count_end`` is
    where an output count ended."""
    view = scan.view
    strong: set[MediaKind] = set()
    weak = set(hinted)
    # English heads come first ("a poster of the top 10 songs"), Chinese ones last
    # ("唱歌的女孩的视频"): only the outermost head of each kind of phrase counts.
    english_heads: list[MediaKind] = []
    chinese_heads: list[MediaKind] = []
    if _DRAW_RE.match(view, _lead_end(view)):
        strong.add(MediaKind.IMAGE)
    target_end = -1
    for m in scan.finditer(_MEDIA_RE):
        group = m.lastgroup or ""
        if group == "target":
            target_end = m.end()
            continue
        kind = _KINDS.get(group)
        if kind is None:
            continue
        weak.add(kind)
        if group.startswith("task_") or m.start() in (target_end, count_end):
            strong.add(kind)
        elif _DE_BEFORE_RE.search(view, max(0, m.start() - 8), m.start()):
            chinese_heads.append(kind)
        elif _HEAD_AFTER_RE.match(view, m.end()):
            english_heads.append(kind)
    strong.update(heads[i] for heads, i in ((english_heads, 0), (chinese_heads, -1)) if heads)
    both = scan.search(_BOTH_FRAMES_RE) is not None
    last = scan.search(_LAST_FRAME_RE) is not None
    kinds = strong or weak
    if images and len(kinds) > 1:
        kinds.discard(MediaKind.IMAGE)
    return _Media(
        media=next(iter(kinds)) if len(kinds) == 1 else None,
        conflict=len(kinds) > 1,
        mentions_input_image=scan.search(_INPUT_IMAGE_RE) is not None,
        edits_earlier=scan.search(_EDITS_EARLIER_RE) is not None,
        first_last=both or last,
        frames=both or last or scan.search(_FIRST_FRAME_RE) is not None,
        reference=scan.search(_REFERENCE_RE) is not None,
    )


# ── duration ─────────────────────────────────────────────────────────────────────────────────

_SECONDS_UNIT = r"(?:秒钟|秒|seconds?|secs?|s)"
_DURATION_RE = re.compile(
    rf"(?:(?:时长|长度|持续时间|{_B}duration|{_B}length)\s*(?:[:=]|为|是)?\s*)?"
    rf"(?:(?P<min>{_NUMBER})\s*-?\s*个?\s*(?:分钟|分(?=\s*(?:半|{_NUMBER}\s*秒))|mins?{_E}|minutes?{_E})"
    rf"(?:\s*(?P<half>半)|\s*(?:and\s+)?(?P<minsec>{_NUMBER})\s*{_SECONDS_UNIT}{_E})?"
    rf"|(?P<halfmin>半分钟|{_B}half\s+a\s+minute{_E})"
    rf"|(?P<sec>{_NUMBER})\s*-?\s*(?P<unit>秒钟|秒|seconds?{_E}|secs?{_E}|(?<=\d)s{_E}))",
    _I,
)
_DECADE_BEFORE_RE = re.compile(r"(?:the|her|his|their|my|your|our|early|late|mid|')[\s-]*\Z", _I)
#: After "30s", what makes it a length rather than a decade ("30s video", "30s, 9:16").
_SECONDS_AFTER_RE = re.compile(
    r"\s*(?:[^\sA-Za-z]|\Z|(?:long|video|clip|animation|movie|film|footage|of|at|in|with|and|or|"
    rf"max|total|each){_E})",
    _I,
)


def _seconds(scan: _Scan, m: re.Match[str]) -> int | None:
    if m.group("halfmin"):
        return 30
    if m.group("min"):
        minutes = _number(m.group("min"))
        if minutes is None:
            return None
        extra = 30.0 if m.group("half") else _number(m.group("minsec") or "0") or 0.0
        return round(minutes * 60 + extra) or None
    value = _number(m.group("sec"))
    if value is None:
        return None
    if m.group("unit").lower() == "s":
        decade = value in (20, 30, 40, 50, 60, 70, 80, 90) and (
            _DECADE_BEFORE_RE.search(scan.view, max(0, m.start() - 8), m.start()) is not None
            or _SECONDS_AFTER_RE.match(scan.view, m.end()) is None
        )
        if decade or value >= 100:
            return None
    return round(value) or None


def _take_duration(scan: _Scan) -> int | None:
    for m in scan.finditer(_DURATION_RE):
        seconds = _seconds(scan, m)
        if seconds is not None:
            scan.mask([(m.start(), _with_de(scan.view, m.end()))])
            return seconds
    return None


# ── prompt ───────────────────────────────────────────────────────────────────────────────────

_LEAD_VERB = (
    r"(?:生成|制作|创作|绘制|画出|设计|画(?![面质幅家廊布师展室笔板框册]|风(?!景))|"
    r"(?:做|写|作|拍|搞|弄|整|出|来)(?=[\s\x00]*(?:一下)?[\s\x00]*"
    r"(?:(?:[一两二三四五六七八九十]|\d{1,3})[\s\x00]*)?(?:张|幅|个|段|首|支|部|条|份|款)|[\s\x00]*\x00|"
    r"(?:视频|图片|图|照片|歌|音乐|动画|海报|短片))|"
    rf"{_B}(?:generate|make|create|draw|paint|sketch|design|produce|render|compose|write|build|"
    rf"craft|illustrate)(?:\s+me)?{_E}(?!\s+(?:it|this|that|them|these|those|him|her){_E}))(?:一下)?"
)
#: A media label after the frame: "生成视频：…", "生成一张图 一只狐狸", "image: …".
_LEAD_LABEL = (
    r"(?:(?:图片|图像|图|照片|视频|短片|动画|音乐|歌曲|歌|配乐)(?:\s*[:,]|\s+)|"
    r"(?:image|picture|photo|video|clip|animation|song|music|track)\s*[:,])"
)
_CLASSIFIER = r"(?:张|幅|个|段|首|支|部|份|款)"
_LEAD_RE = re.compile(
    rf"(?:(?:(?:来|去|{_B}to\s+)?(?:{_LEAD_VERB}){_SEPARATORS}(?:(?:一|1)?[\s\x00]*{_CLASSIFIER})?"
    rf"|(?:一|1)[\s\x00]*{_CLASSIFIER}){_SEPARATORS})?(?:{_LEAD_LABEL})?{_SEPARATORS}",
    _I,
)
#: What is left of a request that describes nothing: frames, fillers, particles.
_FILLER_RE = re.compile(
    rf"{_POLITE}|{_LEAD_VERB}|"
    r"的|了|吧|呢|啊|呀|哦|嘛|吗|一下|一个|一张|一段|一首|一幅|个|张|段|首|幅|把|让|将|给|我|你|请|要|想|来|做|"
    r"用|再|也|就|都|这|那|它|些|模型|默认|重新|一次|好|嗯|能|成|变|设为|设成|作为|当|以后|今后|"
    r"不好看|不满意|不喜欢|不太行|不行|太丑了?|难看|一般般?|不对|效果不好|不太好|"
    rf"{_B}(?:a|an|the|me|my|please|make|create|generate|produce|render|design|give|show|can|could|"
    r"would|will|you|i|want|need|like|to|of|for|it|this|that|these|some|one|and|set|as|default|"
    r"instead|time|now|again|just|use|using|new|another|more|something|anything|thing|let|us|do|"
    rf"get|build|craft|write|compose|with|in|on|by|from|model|version|thanks?|ok|okay|yes|no|hey|"
    rf"hi|hello|turn|into|be|bad|ugly|meh|not\s+good|not\s+great|don'?t\s+like){_E}",
    _I,
)
_GONE_RUN_RE = re.compile(r"\x00+(?:\s*\x00+)*")
_SPACES_RE = re.compile(r"\s+")
_SPACE_BEFORE_PUNCT_RE = re.compile(r" +(?=[,.;:!?，。；：！？、)）\]】])|(?<=[(（\[【]) +")
_PUNCT_RUN_RE = re.compile(r"([,;，；、])(?:\s*[,;.，；。、])+")
_EMPTY_BRACKETS_RE = re.compile(r"\(\s*\)|（\s*）|\[\s*\]|【\s*】|\"\s*\"|“\s*”|「\s*」")
_LEADING_JUNK = " ,.;:!?，。；：、！？-–—~～"
_TRAILING_JUNK = " ,;:，；：、-–—~～"
_TRAILING_THANKS_RE = re.compile(
    rf"(?:[\s,，]*(?:{_B}(?:please|pls|plz|thanks|thank\s+you|thx){_E}|谢谢你?|谢啦|多谢))+"
    r"[\s.!。！~～]*\Z",
    _I,
)


def _strip_lead(scan: _Scan) -> None:
    """Remove the request frame ("帮我画一张", "please generate") if content follows it."""
    start = _lead_end(scan.view)
    verb = _LEAD_RE.match(scan.view, start)
    end = verb.end() if verb else start
    if end and _has_content(scan.view[end:]):
        scan.mask([(0, end)])


def _prompt(scan: _Scan) -> str:
    """The visible original text, with removed spans closed up and separators tidied."""
    raw = scan.raw
    pieces: list[str] = []
    pos = 0
    for m in _GONE_RUN_RE.finditer(scan.view):
        start, end = m.span()
        while start > pos and raw[start - 1].isspace():
            start -= 1
        while end < len(raw) and raw[end].isspace():
            end += 1
        pieces.append(raw[pos:start])
        left = raw[start - 1] if start else ""
        right = raw[end] if end < len(raw) else ""
        if left and right and not (_is_wide(left) and _is_wide(right)):
            pieces.append(" ")
        pos = end
    pieces.append(raw[pos:])
    text = _SPACES_RE.sub(" ", "".join(pieces))
    text = _SPACE_BEFORE_PUNCT_RE.sub("", text)
    text = _PUNCT_RUN_RE.sub(r"\1", _EMPTY_BRACKETS_RE.sub("", text))
    text = text.lstrip(_LEADING_JUNK).rstrip(_TRAILING_JUNK)
    tail = _TRAILING_THANKS_RE.search(text, max(0, len(text) - 40))
    if tail is not None:
        text = text[: tail.start()]
    return text.rstrip(_TRAILING_JUNK)


#: Tokens of these groups are description, not request frame.
_CONTENT_GROUPS = frozenset({"skip", "music_style"})


def _describes(scan: _Scan) -> bool:
    """Whether anything but frames, media words and fillers is left."""
    if scan.middle_describes():
        return True
    view = _MEDIA_RE.sub(
        lambda m: m.group() if m.lastgroup in _CONTENT_GROUPS else " ", scan.edges()
    )
    return _has_content(_FILLER_RE.sub(" ", view).replace(_USED, " ").replace(_GONE, " "))


# ── commands ─────────────────────────────────────────────────────────────────────────────────

_RESET_RE = re.compile(
    r"(?:清除|清空|删除|删掉|重置|忘掉|忘记|取消|还原)[^\x00\n。!?]{0,8}?(?:偏好|默认模型|默认设置|默认|习惯)|"
    rf"恢复默认(?:设置|模型)?|{_B}(?:(?:reset|clear|delete|forget|remove|wipe|erase)\s+(?:all\s+)?"
    r"(?:of\s+)?(?:my\s+|the\s+)?(?:\w+\s+)?(?:preferences?|prefs?|defaults?|default\s+models?|"
    rf"settings)|forget\s+what\s+i\s+(?:like|prefer)){_E}|\A[\s\x00]*reset[\s\x00.!]*\Z",
    _I,
)
_SHOW_PREFS_RE = re.compile(
    r"(?:我的|查看|看看|显示|看一下|列出)(?:我的)?[^\x00\n。!?]{0,6}?(?:偏好|默认模型|默认设置|常用模型)|"
    r"我(?:现在|目前)?(?:默认)?(?:用|使用)的?是?(?:什么|哪个)模型|"
    rf"{_B}(?:(?:show|list|view|see|check)\s+(?:me\s+)?my\s+(?:\w+\s+)?(?:preferences?|prefs?|"
    r"defaults?|settings)|what(?:'s|\s+is|\s+are)\s+my\s+(?:\w+\s+)?(?:preferences?|prefs?|"
    r"defaults?|default\s+models?|settings)|my\s+(?:preferences|prefs|defaults)|"
    rf"(?:which|what)\s+model\s+(?:am\s+i|do\s+i|are\s+you|do\s+you)\s+us\w*){_E}",
    _I,
)
#: A question to the bot rather than a request ("what is …", "为什么 …").
_QUESTION_RE = re.compile(
    rf"(?:{_B}(?:what|why|how|who|when|where|which|is|are|does|do|did){_E}|为什么|为啥|怎么|什么是|"
    r"如何|谁|哪|是不是)",
    _I,
)
_QUESTION_END_RE = re.compile(
    r"(?:吗|呢|么|怎么样|如何|是什么|为什么|多少|几点|哪里|哪儿|好不好|行不行)[?\s]*\Z"
)
_REQUEST_VERB_RE = re.compile(
    rf"画|生成|做|来|写|拍|制作|创作|{_B}(?:make|generate|create|draw|paint|render|compose|write)"
    rf"{_E}",
    _I,
)


def _task_type(media: _Media, images: int) -> TaskType | None:
    """The task the words ask for; input images named but not attached still count."""
    wants_input = images > 0 or media.mentions_input_image
    if media.media is MediaKind.IMAGE:
        return TaskType.IMAGE_TO_IMAGE if wants_input else TaskType.TEXT_TO_IMAGE
    if media.media is MediaKind.MUSIC:
        return TaskType.TEXT_TO_MUSIC
    if media.media is MediaKind.VIDEO:
        if media.first_last or (images >= 2 and media.frames):
            return TaskType.FIRST_LAST_FRAME_TO_VIDEO
        if images >= 2 or (media.reference and wants_input):
            return TaskType.REFERENCE_IMAGE_TO_VIDEO
        return TaskType.IMAGE_TO_VIDEO if wants_input else TaskType.TEXT_TO_VIDEO
    return TaskType.IMAGE_TO_IMAGE if images else None


@dataclass(frozen=True, slots=True)
class _Signals:
    """Everything :func:`_command` weighs."""

    described: bool
    images: int
    media: _Media
    directives: _Directives
    another: bool
    retry: bool
    has_parameters: bool
    scan: _Scan


def _command(s: _Signals) -> Command:
    d = s.directives
    directed = d.model is not None or d.quality is not None or s.another
    reset = not directed and s.scan.search(_RESET_RE) is not None
    show = not directed and s.scan.search(_SHOW_PREFS_RE) is not None
    if s.described or (s.images and (s.media.media is not None or not directed)):
        if reset:
            return Command.RESET
        if show:
            return Command.SHOW_PREFS
        question = (
            not s.images
            and not directed
            and not s.has_parameters
            and s.media.media is None
            and not s.media.conflict
            and (
                _QUESTION_RE.match(s.scan.view, _lead_end(s.scan.view)) is not None
                or _QUESTION_END_RE.search(s.scan.view, max(0, len(s.scan.view) - 12)) is not None
            )
            and s.scan.search(_REQUEST_VERB_RE) is None
        )
        return Command.NONE if question else Command.GENERATE
    if (
        directed
        and not d.always
        and s.media.media is not None
        and s.scan.search(_REQUEST_VERB_RE) is not None
    ):
        return Command.GENERATE
    if d.model is not None:
        return Command.ALWAYS_MODEL if d.always else Command.USE_MODEL
    if d.quality is not None:
        return Command.BEST if d.quality is Quality.BEST else Command.CHEAPEST
    if s.another:
        return Command.ANOTHER_MODEL
    if reset:
        return Command.RESET
    if show:
        return Command.SHOW_PREFS
    if s.retry:
        return Command.RETRY
    if (
        s.media.media is not None
        or s.media.conflict
        or s.has_parameters
        or s.media.mentions_input_image
    ):
        return Command.GENERATE
    return Command.NONE


def parse_message(
    text: str, *, image_count: int = 0, model_names: Sequence[str] = ()
) -> ParsedMessage:
    """Read one chat message.

    ``image_count`` images came with it; ``model_names`` are the surface names and aliases of
    the models on offer right now (a matched one is returned exactly as given).
    """
    images = max(0, image_count)
    raw = _clean(text)
    if not _WORD_RE.search(raw):
        if not images:
            return ParsedMessage(command=Command.NONE)
        raw = ""
    elif (whole := _whole_message_command(raw)) is not None:
        return ParsedMessage(command=whole)

    scan = _Scan(raw)
    lyrics = _take_lyrics(scan)
    negative = _take_negative(scan)
    seed = _take_seed(scan)
    directives = _take_directives(scan, model_names)
    another = bool(scan.take(_ANOTHER_RE))
    retry = bool(scan.take(_RETRY_RE))
    sound = _take_sound(scan)
    res = _take_resolution(scan)
    aspect_ratio, custom_ratio = _take_ratio(scan)
    count = _take_count(scan)
    hinted = {count.kind} if count.kind else set()
    if lyrics is not None or sound.instrumental is not None:
        hinted.add(MediaKind.MUSIC)
    media = _detect_media(scan, images, hinted, count.end)
    duration = None if media.media is MediaKind.IMAGE else _take_duration(scan)
    has_parameters = res.wants_8k or any(
        v is not None
        for v in (
            duration,
            res.resolution,
            res.size,
            aspect_ratio,
            custom_ratio,
            count.value,
            seed,
            negative,
        )
    )
    described = lyrics is not None or _describes(scan)
    command = _command(
        _Signals(
            described=described,
            images=images,
            media=media,
            directives=directives,
            another=another,
            retry=retry,
            has_parameters=has_parameters,
            scan=scan,
        )
    )
    if command is Command.NONE:
        return ParsedMessage(command=command)

    hint: QuestionHint | None = None
    prompt = ""
    if command is Command.GENERATE:
        if media.media is None and not images and directives.model is None:
            hint = QuestionHint.SOURCE if media.edits_earlier else QuestionHint.MEDIA
        if described or images:
            _strip_lead(scan)
            prompt = _prompt(scan)
    is_music = media.media is MediaKind.MUSIC
    scope = None
    if directives.model is not None or directives.quality is not None:
        scope = ModelScope.ALWAYS if directives.always else ModelScope.THIS_TIME
    return ParsedMessage(
        command=command,
        prompt=prompt,
        media=media.media,
        task_type=_task_type(media, images),
        model=directives.model,
        model_scope=scope,
        quality=directives.quality,
        another_model=another,
        premium_requested=directives.quality is Quality.BEST
        or scan.search(_PREMIUM_RE) is not None,
        mentions_input_image=media.mentions_input_image,
        duration=None if is_music else duration,
        resolution=res.resolution,
        aspect_ratio=aspect_ratio,
        custom_ratio=custom_ratio,
        size=res.size,
        wants_8k=res.wants_8k,
        count=count.value if count.value is not None and count.value <= 4 else None,
        count_requested=count.value,
        lyrics=lyrics,
        vocal_gender=sound.vocal_gender,
        instrumental=sound.instrumental,
        audio=sound.audio,
        music_duration=duration if is_music else None,
        negative_prompt=negative,
        seed=seed,
        ambiguous=hint is not None,
        question_hint=hint,
    )
