"""Pass 5: parameters: sound wishes, resolution and size, ratio, count; duration (pass 7,
once the media is known)."""

from __future__ import annotations

import math
import re

from core.ima.tasks import MediaKind
from core.parse.state import Count, Resolution, Sound, State
from core.parse.text import (
    CN_NUMBER,
    DIGITS,
    EN_NUMBER,
    NOCASE,
    NUMBER,
    B,
    E,
    Scan,
    number,
    with_de,
)

_AUDIO_RE = re.compile(
    r"(?P<on>(?:带|加|配|有|加上|配上|带上|生成)(?:上)?(?:音效|声音|音频|背景音乐|配乐|音乐|对白|对话)|"
    r"有声(?!书)|配音|同步音频|"
    rf"{B}(?:with\s+(?:audio|sound(?:\s+effects)?|sfx|music|background\s+music|dialogue|"
    rf"voice(?:[- ]?over)?)|sound\s+on|audio\s+on|generate\s+audio){E})"
    r"|(?P<off>无声|静音|没有声音|不要声音|不带声音|不要音效|不要音频|不要配乐|"
    rf"{B}(?:no\s+(?:audio|sound)|without\s+(?:audio|sound)|"
    rf"(?:silent|muted?)(?=\s+(?:video|clip|film|movie|animation))|sound\s+off|audio\s+off){E})",
    NOCASE,
)
_VOCAL_RE = re.compile(
    rf"(?P<male>男声|男生唱|男歌手|男嗓|{B}male\s+(?:vocals?|voice|singer|vocalist){E})"
    rf"|(?P<female>女声|女生唱|女歌手|女嗓|{B}female\s+(?:vocals?|voice|singer|vocalist){E})",
    NOCASE,
)
_INSTRUMENTAL_RE = re.compile(
    r"(?P<on>纯音乐|纯器乐|无人声|没有人声|不要人声|不带人声|不需要人声|伴奏|"
    rf"{B}(?:instrumental|no\s+vocals?|without\s+vocals?|no\s+singing|no\s+lyrics){E})"
    rf"|(?P<off>带人声|有人声|要人声|{B}with\s+(?:vocals?|lyrics|singing){E})",
    NOCASE,
)


def sound(state: State) -> None:
    """Sound wishes: kept in the prompt, hidden from media detection."""
    scan = state.scan
    audio = scan.take(_AUDIO_RE, keep=True)
    vocal = scan.take(_VOCAL_RE, keep=True)
    instrumental = scan.take(_INSTRUMENTAL_RE, keep=True)
    state.sound = Sound(
        audio=audio[0].lastgroup == "on" if audio else None,
        vocal_gender=vocal[0].lastgroup if vocal else None,
        instrumental=instrumental[0].lastgroup == "on" if instrumental else None,
    )


_RESOLUTION_RE = re.compile(
    rf"{B}(?P<p>480|540|720|768|1080|1440|2160)\s*p{E}|{B}(?P<k>[1248])\s*k{E}"
    rf"|{B}(?P<px>512)\s*(?:px|像素)",
    NOCASE,
)
_RESOLUTION_WORDS_RE = re.compile(
    rf"(?P<uhd>超高清|{B}uhd{E})|(?P<hd>全高清|超清|高清|{B}(?:full[- ]?hd|fhd|hd){E})", NOCASE
)
_P_NAMES = {"1440": "2K", "2160": "4K"}


def resolution(state: State) -> None:
    scan = state.scan
    picked: str | None = None
    size: str | None = None
    wants_8k = False
    for m in scan.take(_RESOLUTION_RE):
        if m.group("p"):
            picked = picked or _P_NAMES.get(m.group("p"), m.group("p") + "P")
        elif m.group("px"):
            size = size or "512px"
        elif m.group("k") == "8":
            wants_8k = True
        else:
            name = m.group("k") + "K"
            size = size or name
            if name != "1K":
                picked = picked or name
    if picked is None and (word := scan.search(_RESOLUTION_WORDS_RE)):
        picked = "4K" if word.group("uhd") else "1080P"
    state.resolution = Resolution(resolution=picked, size=size, wants_8k=wants_8k)


_STANDARD_RATIOS = frozenset({"16:9", "9:16", "1:1", "4:3", "3:4", "21:9"})
#: Ratios whose second number has two digits, which would otherwise read as a clock time.
_TWO_DIGIT_RATIOS = frozenset({"9:16", "9:21", "16:10", "10:16"})
_RATIO_RE = re.compile(r"(?<![\d.:])(?P<w>\d{1,2})\s*(?P<sep>:|比)\s*(?P<h>\d{1,2})(?![\d:])")
_RATIO_CONTEXT_RE = re.compile(r"比例|比率|画幅|尺寸|构图|宽高|ratio|aspect|format", NOCASE)
_CLOCK_AFTER_RE = re.compile(r"\A\s*(?:am|pm|a\.m|p\.m|点|分|o'?clock)", NOCASE)
_ORIENTATION_RE = re.compile(
    rf"(?P<wide>横屏|横版|横向|宽屏|横构图|{B}(?:(?:in\s+)?(?:landscape|horizontal)\s+"
    r"(?:format|orientation|mode|ratio|aspect(?:\s+ratio)?)|in\s+(?:landscape|horizontal)|"
    r"wide[- ]?screen|horizontal(?=\s+(?:video|clip|image|picture|photo|wallpaper|poster|banner)))"
    rf"{E}|(?:^|(?<=[,;]))\s*horizontal(?=\s*(?:[,;.!]|$)))"
    rf"|(?P<tall>竖屏|竖版|竖向|竖构图|{B}(?:(?:in\s+)?(?:portrait|vertical)\s+"
    r"(?:format|orientation|mode|ratio|aspect(?:\s+ratio)?)|in\s+(?:portrait|vertical)|vertically|"
    r"vertical(?=\s+(?:video|clip|image|picture|photo|wallpaper|poster|short|reel|story|screen)))"
    rf"{E}|(?:^|(?<=[,;]))\s*vertical(?=\s*(?:[,;.!]|$)))"
    r"|(?P<square>(?:正方形|方形)(?=\s*的?\s*(?:图|照片|画|视频|头像|海报|比例|构图|尺寸|格式|壁纸|logo))|"
    rf"方图|{B}(?:square\s+(?:format|ratio|aspect(?:\s+ratio)?|crop)|in\s+square|"
    r"square(?=\s+(?:image|picture|photo|video|logo|avatar|icon|poster|wallpaper|clip))){E})",
    NOCASE,
)
_ORIENTATION_RATIOS = {"wide": "16:9", "tall": "9:16", "square": "1:1"}


def _ratio(scan: Scan, m: re.Match[str]) -> str | None:
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


def ratio(state: State) -> None:
    """The first ratio asked for: standard (``aspect_ratio``) or not (``custom_ratio``)."""
    scan = state.scan
    picked: str | None = None
    spans = []
    for m in scan.finditer(_RATIO_RE):
        found = _ratio(scan, m)
        if found is not None:
            picked = picked or found
            spans.append((m.start(), with_de(scan.view, m.end())))
    scan.mask(spans)
    for m in scan.take(_ORIENTATION_RE):
        picked = picked or _ORIENTATION_RATIOS[m.lastgroup or ""]
    if picked in _STANDARD_RATIOS:
        state.aspect_ratio = picked
    else:
        state.custom_ratio = picked


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
    rf"{_NOT_AFTER_DEMONSTRATIVE}(?P<zhv>{DIGITS}|{CN_NUMBER})\s*(?:个|种|套|款)?\s*(?:不同的?)?\s*"
    rf"{_ZH_COUNT_NOUN}"
    rf"|{_NOT_AFTER_DEMONSTRATIVE}(?P<zh>{DIGITS}|{CN_NUMBER})\s*(?:张|幅|个|段|首|支|部|条|版|款|份|种)"
    rf"(?=\s*(?:不同|不一样)?的?\s*{_ZH_OUTPUT_NOUN})"
    rf"|(?:^|(?<=[画成做来出要给拍写\s\x00\x01,.;!?，。；！？、])){_NOT_AFTER_DEMONSTRATIVE}"
    rf"(?P<lead>{DIGITS}|{CN_NUMBER})\s*(?:张|幅|首|段)"
    rf"|{B}{_EN_NOT_COUNT}(?P<en>\d{{1,6}}|{EN_NUMBER}){E}(?:\s+(?:{_EN_ADJECTIVE}\s+)?{_EN_COUNT_NOUN}"
    rf"(?:\s+of)?{E}|(?=\s+(?:{_EN_ADJECTIVE}\s+)?{_EN_OUTPUT_NOUN}{E}))"
    rf"|{B}n\s*=\s*(?P<n>\d{{1,6}}){E}",
    NOCASE,
)


_CLASSIFIER_KINDS = {"张": MediaKind.IMAGE, "幅": MediaKind.IMAGE, "首": MediaKind.MUSIC}


def count(state: State) -> None:
    scan = state.scan
    m = scan.search(_COUNT_RE)
    if m is None:
        return
    value = number(m.group(m.lastgroup or "n"))
    if value is None or value < 1 or value != int(value):
        return
    scan.mask([m.span()])
    end = m.end()
    while end < len(scan.view) and scan.view[end].isspace():
        end += 1
    state.count = Count(int(value), _CLASSIFIER_KINDS.get(m.group()[-1]), end)


_SECONDS_UNIT = r"(?:秒钟|秒|seconds?|secs?|s)"
_DURATION_RE = re.compile(
    rf"(?:(?:时长|长度|持续时间|{B}duration|{B}length)\s*(?:[:=]|为|是)?\s*)?"
    rf"(?:(?P<min>{NUMBER})\s*-?\s*个?\s*(?:分钟|分(?=\s*(?:半|{NUMBER}\s*秒))|mins?{E}|minutes?{E})"
    rf"(?:\s*(?P<half>半)|\s*(?:and\s+)?(?P<minsec>{NUMBER})\s*{_SECONDS_UNIT}{E})?"
    rf"|(?P<halfmin>半分钟|{B}half\s+a\s+minute{E})"
    rf"|(?P<sec>{NUMBER})\s*-?\s*(?P<unit>秒钟|秒|seconds?{E}|secs?{E}|(?<=\d)s{E}))",
    NOCASE,
)
_DECADE_BEFORE_RE = re.compile(
    r"(?:the|her|his|their|my|your|our|early|late|mid|')[\s-]*\Z", NOCASE
)
#: After "30s", what makes it a length rather than a decade ("30s video", "30s, 9:16").
_SECONDS_AFTER_RE = re.compile(
    r"\s*(?:[^\sA-Za-z]|\Z|(?:long|video|clip|animation|movie|film|footage|of|at|in|with|and|or|"
    rf"max|total|each){E})",
    NOCASE,
)


def _seconds(scan: Scan, m: re.Match[str]) -> int | None:
    if m.group("halfmin"):
        return 30
    if m.group("min"):
        minutes = number(m.group("min"))
        if minutes is None:
            return None
        extra = 30.0 if m.group("half") else number(m.group("minsec") or "0") or 0.0
        return round(minutes * 60 + extra) or None
    value = number(m.group("sec"))
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


def duration(state: State) -> None:
    """Seconds of video or music; a length next to a picture stays in its description."""
    if state.media.media is MediaKind.IMAGE:
        return
    scan = state.scan
    for m in scan.finditer(_DURATION_RE):
        seconds = _seconds(scan, m)
        if seconds is not None:
            scan.mask([(m.start(), with_de(scan.view, m.end()))])
            state.duration = seconds
            return
