"""Pass 6: parameters: sound wishes, resolution and size, ratio, count; duration (pass 8,
once the media is known)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

from core.ima.tasks import MediaKind
from core.parse.lexicon import LexiconError, lead, led, lexicon, words
from core.parse.state import Count, Resolution, Sound, State
from core.parse.text import (
    CN_NUMBER,
    CN_NUMERALS,
    DIGITS,
    EN_NUMBER,
    NOCASE,
    NUMBER,
    NUMBER_LEAD,
    B,
    E,
    Scan,
    has_content,
    number,
    with_de,
)

_AUDIO_RE = re.compile(
    rf"(?P<skip>{words('sound.not_sound')})|(?P<on>{words('sound.audio_on')})"
    rf"|(?P<named>{words('sound.audio_named')})"
    rf"|(?P<off>{words('sound.audio_off')}|{words('sound.silent')}(?=\s+{words('sound.silent_noun')}))",
    NOCASE,
)
_VOCAL_RE = re.compile(
    rf"(?P<male>{words('sound.male')})|(?P<female>{words('sound.female')})", NOCASE
)
_INSTRUMENTAL_RE = re.compile(
    rf"(?P<on>{words('sound.instrumental_on')})|(?P<off>{words('sound.instrumental_off')})",
    NOCASE,
)


def sound(state: State) -> None:
    """Sound wishes: kept in the prompt, hidden from media detection."""
    scan = state.scan
    audio = [m for m in scan.take(_AUDIO_RE, keep=True) if m.lastgroup != "skip"]
    vocal = scan.take(_VOCAL_RE, keep=True)
    instrumental = scan.take(_INSTRUMENTAL_RE, keep=True)
    state.sound = Sound(
        audio=audio[0].lastgroup in ("on", "named") if audio else None,
        named=any(m.lastgroup == "named" for m in audio),
        vocal_gender=vocal[0].lastgroup if vocal else None,
        instrumental=instrumental[0].lastgroup == "on" if instrumental else None,
    )


_RESOLUTION_RE = re.compile(
    rf"{B}(?P<p>480|540|720|768|1080|1440|2160)\s*p{E}|{B}(?P<k>1[026]|[124-8])\s*k{E}"
    rf"|{B}(?P<px>512)\s*(?:px|像素)",
    NOCASE,
)
_RESOLUTION_WORDS_RE = re.compile(
    rf"(?P<uhd>{words('resolution.uhd')})|(?P<hd>{words('resolution.hd')})", NOCASE
)
_P_NAMES = {"1440": "2K", "2160": "4K"}
#: A vector file (SVG, 矢量图): no model makes one; the engine explains (kept in the prompt).
_VECTOR_RE = lexicon().pattern("resolution.vector")
#: "a 4K TV on a wall": a resolution right before one of these is what the picture shows.
_CONTENT_NOUN_RE = re.compile(rf"\s*{words('resolution.content_noun')}", NOCASE)


def resolution(state: State) -> None:
    scan = state.scan
    picked: str | None = None
    size: str | None = None
    wants_8k = False
    found = [
        m for m in scan.finditer(_RESOLUTION_RE) if not _CONTENT_NOUN_RE.match(scan.view, m.end())
    ]
    scan.mask([(m.start(), with_de(scan.view, m.end())) for m in found])
    for m in found:
        if m.group("p"):
            picked = picked or _P_NAMES.get(m.group("p"), m.group("p") + "P")
        elif m.group("px"):
            size = size or "512px"
        elif int(m.group("k")) > 4:
            wants_8k = True  # 8K, 16K…: more than any model makes
        else:
            name = m.group("k") + "K"
            size = size or name
            if name != "1K":
                picked = picked or name
    if picked is None and (word := scan.search(_RESOLUTION_WORDS_RE)):
        # The word stays in the prompt ("高清视频：城市车流") but is a parameter, not a
        # description ("再高清一点" only changes the resolution).
        scan.mask([word.span()], keep=True)
        picked = "4K" if word.group("uhd") else "1080P"
    state.resolution = Resolution(
        resolution=picked,
        size=size,
        wants_8k=wants_8k,
        vector=scan.search(_VECTOR_RE) is not None,
    )


_STANDARD_RATIOS = frozenset({"16:9", "9:16", "1:1", "4:3", "3:4", "21:9"})
#: Ratios whose second number has two digits, which would otherwise read as a clock time.
_TWO_DIGIT_RATIOS = frozenset({"9:16", "9:21", "16:10", "10:16"})
_RATIO_RE = re.compile(
    rf"(?<![\d.:])(?P<w>\d{{1,2}})\s*(?P<sep>:|比|{words('ratio.times')})\s*(?P<h>\d{{1,2}})(?![\d:])"
    rf"|(?P<cw>{CN_NUMBER})\s*(?P<csep>比)\s*(?P<ch>{CN_NUMBER})",
    NOCASE,
)
#: A ratio written "16x9", "16 by 9" or in Chinese numerals ("十六比九") only when it is a
#: standard one as written: "a 3x3 grid", "三比一" are no ratios.
_STANDARD_ONLY = ("x", "×", "*", "by")
_RATIO_CONTEXT_RE = lexicon().pattern("ratio.context")
_CLOCK_AFTER_RE = re.compile(rf"\A\s*{words('ratio.clock_after')}", NOCASE)


#: Where an orientation word standing as a clause may start: the message's start, after a
#: separator, or after an ideograph in mixed text ("海边日落 vertical"); and where it ends.
_CLAUSE_START = r"(?:^|(?<=[,;，；。！、]|[\u3400-\u9fff]))"
_CLAUSE_END = (
    rf"(?=(?:\s*{words('frame.trailing_thanks')})*\s*(?:{words('ratio.clause_tail')})*"
    rf"\s*(?:[,;.!，。；！]|$))"
)


def _clause(word: str) -> str:
    """``word`` as a clause of its own ("…, vertical", "15s and vertical", "landscape pls",
    "海边日落 vertical", "portrait 的吧")."""
    lead = words("ratio.clause_lead")
    return rf"(?:{_CLAUSE_START}\s*(?:{lead}\s+)*|(?<=\s)(?:{lead}\s+)+){word}{_CLAUSE_END}"


def _orientation(kind: str) -> str:
    """``ratio.<kind>`` phrases, and ``ratio.<kind>_before_noun`` words right before one of
    ``ratio.<kind>_noun`` or as a clause of their own."""
    before = words(f"ratio.{kind}_before_noun")
    noun = words(f"ratio.{kind}_noun")
    return rf"{words(f'ratio.{kind}')}|{before}(?=\s*的?\s*{noun})|{_clause(before)}"


#: "portrait" names a picture too ("a portrait of my dad", "a movie star, portrait"): a
#: video's orientation before a video noun ("portrait video", "portrait 的 video"), or as a
#: clause in a message that names a video or says nothing else (a follow-up: "portrait 的吧").
_PORTRAIT = words("ratio.tall_before_video_noun")
_VIDEO_NOUN = words("ratio.video_noun")
_VIDEO_NOUN_RE = re.compile(_VIDEO_NOUN, NOCASE)
_CLAUSE_REST_RE = lexicon().pattern(
    "ratio.clause_tail", "ratio.clause_lead", "frame.trailing_thanks"
)
_ORIENTATION_RE = led(
    "|".join(f"(?P<{kind}>{_orientation(kind)})" for kind in ("wide", "tall", "square"))
    + rf"|(?P<portrait>{_PORTRAIT}(?=\s*的?\s*{_VIDEO_NOUN}))"
    + rf"|(?P<portrait_clause>{_clause(_PORTRAIT)})",
    *(
        f"ratio.{kind}{part}"
        for kind in ("wide", "tall", "square")
        for part in ("", "_before_noun")
    ),
    "ratio.tall_before_video_noun",
    "ratio.clause_lead",
    also=r"\s",
)
_ORIENTATION_RATIOS = {
    "wide": "16:9",
    "tall": "9:16",
    "square": "1:1",
    "portrait": "9:16",
    "portrait_clause": "9:16",
}


def _orients(scan: Scan, m: re.Match[str]) -> bool:
    """Whether an orientation match is one: "portrait" as a clause only with a video named
    or nothing else said but a length ("portrait 的，10 s")."""
    if m.lastgroup != "portrait_clause" or _VIDEO_NOUN_RE.search(scan.view) is not None:
        return True
    rest = _DURATION_RE.sub(" ", scan.view[: m.start()] + " " + scan.view[m.end() :])
    return not has_content(_CLAUSE_REST_RE.sub(" ", rest))


def _ratio(scan: Scan, m: re.Match[str]) -> str | None:
    """The ratio for a W:H match (reduced unless standard as written: 21:9 is not 7:3), or
    None when it reads as a clock time."""
    if m.group("csep"):
        cw, ch = number(m.group("cw")), number(m.group("ch"))
        written = f"{cw:.0f}:{ch:.0f}" if cw and ch else ""
        return written if written in _STANDARD_RATIOS else None
    w, h = int(m.group("w")), int(m.group("h"))
    if not w or not h:
        return None
    if m.group("sep").lower() in _STANDARD_ONLY:
        return f"{w}:{h}" if f"{w}:{h}" in _STANDARD_RATIOS else None
    if m.group("sep") == ":" and f"{w}:{h}" not in _TWO_DIGIT_RATIOS:
        near = scan.view[max(0, m.start() - 12) : m.end() + 12]
        clock = len(m.group("h")) == 2 and w <= 23 and h <= 59
        if _CLOCK_AFTER_RE.match(scan.view, m.end()) or (
            clock and not _RATIO_CONTEXT_RE.search(near)
        ):
            return None
    return reduced_ratio(w, h)


def reduced_ratio(w: int, h: int) -> str:
    """W:H as written when it is standard (21:9 is not 7:3), else reduced (32:18 is 16:9)."""
    written = f"{w}:{h}"
    if written in _STANDARD_RATIOS:
        return written
    g = math.gcd(w, h)
    return f"{w // g}:{h // g}"


def set_ratio(state: State, ratio: str) -> None:
    """A standard ratio goes to ``aspect_ratio``, any other to ``custom_ratio``."""
    if ratio in _STANDARD_RATIOS:
        state.aspect_ratio = ratio
    else:
        state.custom_ratio = ratio


def ratio(state: State) -> None:
    """The first ratio asked for: standard (``aspect_ratio``) or not (``custom_ratio``); one
    given as a Midjourney flag comes first."""
    scan = state.scan
    picked: str | None = None
    spans = []
    for m in scan.finditer(_RATIO_RE):
        found = _ratio(scan, m)
        if found is not None:
            picked = picked or found
            spans.append((m.start(), with_de(scan.view, m.end())))
    scan.mask(spans)
    orientations = [m for m in scan.finditer(_ORIENTATION_RE) if _orients(scan, m)]
    scan.mask((m.start(), with_de(scan.view, m.end())) for m in orientations)
    for m in orientations:
        picked = picked or _ORIENTATION_RATIOS[m.lastgroup or ""]
    if picked is not None and state.aspect_ratio is None and state.custom_ratio is None:
        set_ratio(state, picked)


def _chars(category: str) -> str:
    """A character class of one-character phrases."""
    found = lexicon().phrases(category)
    if any(len(p) != 1 for p in found):
        raise LexiconError(f"{category}: only single characters")
    return "[" + "".join(found) + "]"


_NOUN_AFTER_CLASSIFIER = words("count.noun_after_classifier")
_NOUN_AFTER_NUMBER = words(
    "count.noun_after_number", "media.image", "media.video", "media.music", "media.music_style"
)
_COUNT_NOUN = words("count.count_noun")
_ADJECTIVE = words("count.adjective")
#: Numbers that describe the content, not how many outputs (see ``count.not_after``).
_NOT_AFTER_ZH = f"(?<!{_chars('count.not_after_char')})"
_NOT_AFTER_EN = "".join(rf"(?<!{word}\s)" for word in lexicon().phrases("count.not_after_word"))
_ZH_NUMBER = rf"{_NOT_AFTER_ZH}(?:{DIGITS}|{CN_NUMBER})"
_COUNT_RE = re.compile(
    rf"(?:{NUMBER_LEAD}|(?<![A-Za-z])(?=[nN])|{lead('count.couple')}|{lead('count.times')}|(?={_chars('count.end_verb')}))(?:(?P<zhv>{_ZH_NUMBER})\s*{_chars('count.variant_classifier')}?\s*(?:{_ADJECTIVE}的?)?\s*"
    rf"{_COUNT_NOUN}"
    rf"|(?P<zh>{_ZH_NUMBER})\s*{_chars('count.classifier')}"
    rf"(?=\s*{_ADJECTIVE}?的?\s*{_NOUN_AFTER_CLASSIFIER})"
    rf"|(?:^|(?<=[{_chars('count.lead_after')[1:-1]}\s\x00\x01,.;!?，。；！？、]))"
    rf"(?P<lead>{_ZH_NUMBER})\s*{_chars('count.lead_classifier')}"
    # "表情包 熊猫翻白眼 来四个": a count after a verb, ending its clause.
    rf"|(?<!{_chars('count.end_not_after')}){_chars('count.end_verb')}\s*(?P<end>{_ZH_NUMBER})\s*{_chars('count.variant_classifier')}"
    rf"(?:\s*{_chars('count.end_particle')})?(?=\s*(?:[,.;!?~，。；！？～]|$))"
    rf"|{B}{_NOT_AFTER_EN}(?P<en>\d{{1,6}}|{EN_NUMBER}){E}"
    rf"(?:\s+(?:{_ADJECTIVE}\s+)?{_COUNT_NOUN}(?:\s+of)?{E}"
    rf"|(?=\s+(?:{_ADJECTIVE}\s+)?{_NOUN_AFTER_NUMBER}))"
    rf"|{B}(?P<couple>{words('count.couple')}){E}(?=\s+(?:{_ADJECTIVE}\s+)?{_NOUN_AFTER_NUMBER})"
    rf"|{B}n\s*=\s*(?P<n>\d{{1,6}}){E}"
    # "logo x4", "头像 ×3": a times sign before the count, after a word
    rf"|(?<=\s){words('count.times')}\s?(?P<times>[1-9]){E})",
    NOCASE,
)


#: What a Chinese measure word after a count implies (张/幅 pictures, 首 songs).
_CLASSIFIER_KINDS = {
    **{c: MediaKind.IMAGE for c in lexicon().phrases("count.image_classifier")},
    **{c: MediaKind.MUSIC for c in lexicon().phrases("count.music_classifier")},
}


def count(state: State) -> None:
    scan = state.scan
    m = scan.search(_COUNT_RE)
    if m is None:
        return
    value = 2.0 if m.lastgroup == "couple" else number(m.group(m.lastgroup or "n"))
    if value is None or value < 1 or value != int(value):
        return
    scan.mask([m.span()])
    end = m.end()
    while end < len(scan.view) and scan.view[end].isspace():
        end += 1
    state.count = Count(int(value), _CLASSIFIER_KINDS.get(m.group()[-1]), end)


_SECOND = words("duration.second")
_MINUTE = words("duration.minute")
_HALF = words("duration.half")
#: A bare "s" for seconds, right after a number or one space after it ("10s", "10 s", "十五s").
_S = rf"(?:(?<=[\d{CN_NUMERALS}])|(?<=[\d{CN_NUMERALS}]\s))s{E}"
#: "10秒", "10s", "1分30秒", "一分半", "1.5 minutes", "half a minute", "时长8秒"; a bare "分"
#: is minutes only before 半 or seconds ("1分30秒"), a bare "s" only right after a digit.
_DURATION_RE = re.compile(
    rf"(?:{NUMBER_LEAD}|{lead('duration.label', 'duration.half_minute')})"
    rf"(?:{words('duration.label')}\s*(?:[:=]|{words('duration.label_joiner')})?\s*)?"
    rf"(?:(?P<min>{NUMBER})\s*-?\s*个?\s*(?:{_MINUTE}|分(?=\s*(?:{_HALF}|{NUMBER}\s*{_SECOND})))"
    rf"(?:\s*(?P<half>{_HALF})|\s*(?:and\s+)?(?P<minsec>{NUMBER})\s*(?:{_SECOND}|{_S}))?"
    rf"|(?P<halfmin>{words('duration.half_minute')})"
    rf"|(?P<sec>{NUMBER})\s*-?\s*(?P<unit>{_SECOND}|{_S}))",
    NOCASE,
)
_WAITED = (
    rf"{words('duration.waited')}[\s\x00\x01]*(?:{words('duration.waited_about')}[\s\x00\x01]*)?"
)
#: "等了5分钟", "took 10 minutes": how long someone waited, not a length to make.
_WAITED_RE = re.compile(rf"{_WAITED}\Z", NOCASE)
#: The waiting with its length, a complaint ("等了5分钟", "been waiting 2 minutes").
WAITED_RE = re.compile(rf"{_WAITED}(?:{_DURATION_RE.pattern})", NOCASE)
_DECADE_BEFORE_RE = re.compile(rf"(?:{words('duration.decade_before')}|')[\s-]*\Z", NOCASE)
#: After "30s", what makes it a length rather than a decade ("30s video", "30s, 9:16").
_SECONDS_AFTER_RE = re.compile(rf"\s*(?:[^\sA-Za-z]|\Z|{words('duration.seconds_after')})", NOCASE)


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
    for m, seconds in _lengths(scan):
        before = _LENGTH_BEFORE_RE.search(scan.view, max(0, m.start() - 12), m.start())
        after = _LENGTH_AFTER_RE.match(scan.view, m.end())
        start = before.start() if before else m.start()
        scan.mask([(start, after.end() if after else with_de(scan.view, m.end()))])
        state.duration = seconds
        return


#: Words of a length, removed with it: "for 10 seconds", "ten seconds long".
_LENGTH_BEFORE_RE = re.compile(rf"{B}{words('duration.length_before')}\s+\Z", NOCASE)
_LENGTH_AFTER_RE = re.compile(rf"\s*{words('duration.length_after')}", NOCASE)


def _lengths(scan: Scan) -> Iterator[tuple[re.Match[str], int]]:
    """Each length of time in the text, in seconds (not how long someone waited)."""
    for m in scan.finditer(_DURATION_RE):
        if _WAITED_RE.search(scan.view, max(0, m.start() - 16), m.start()) is not None:
            continue
        seconds = _seconds(scan, m)
        if seconds is not None:
            yield m, seconds


def says_length(scan: Scan) -> bool:
    """Whether the text gives a length of time ("10 秒的", "an 8 second clip")."""
    return next(_lengths(scan), None) is not None
