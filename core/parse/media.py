"""Pass 7: the media asked for (image, video or music) and the task type."""

from __future__ import annotations

import re
from dataclasses import replace

from core.ima.tasks import MediaKind, TaskType
from core.parse.frames import DRAW_RE, NOT_MEDIA, lead_end
from core.parse.lexicon import any_phrase, led, lexicon, words
from core.parse.params import says_length
from core.parse.state import Media, State
from core.parse.text import NOCASE

_INPUT_IMAGE = words("media.input_image")
_EDITS_EARLIER = (
    rf"{words('media.edits_earlier')}"
    rf"|(?:\A|(?<=[,.;!?。；！？]))[\s\x00\x01]*{words('media.edit_clause_start')}"
)
_TASK_I2V = words("task.image_to_video")
_TASK_I2I = words("task.image_to_image")
_BOTH_FRAMES = (
    rf"{words('frames.both')}|{words('frames.both_from')}.{{0,8}}?{words('frames.both_to')}"
)
#: With two pictures: "start is the empty lot, end is the finished house", "开头是白天 结尾是晚上".
_START_END = (
    rf"{words('frames.start_clause')}.{{0,60}}?{words('frames.end_clause')}"
    rf"|{words('frames.both_pictures')}"
)
_FIRST_FRAME = words("frames.first")
_LAST_FRAME = words("frames.last")
_FIRST_LAST = f"{_BOTH_FRAMES}|{_FIRST_FRAME}|{_LAST_FRAME}"
_REFERENCE = (
    rf"{words('media.reference', 'task.reference_to_video')}"
    rf"|{words('media.reference_around')}.{{0,8}}?{words('media.reference_around_end')}"
    rf"|{words('media.reference_lead')}.{{0,8}}?{words('media.reference_lead_end')}"
)
_ANY_MEDIA = words("media.video", "media.motion", "media.music_style", "media.music", "media.image")
#: Motion words: a video of the picture ("让它动起来", "animate it").
MOTION_RE = lexicon().pattern("media.motion")
#: With a picture attached, someone made to move ("make him wave", "让她笑一下", "挥挥手").
MOTION_FRAME_RE = led(
    rf"{words('media.motion_subject')}(?:\s+[\w']+){{0,6}}?\s+{words('media.motion_verb')}"
    rf"|{words('media.motion_let')}[^,.;!?，。；！？\n]{{0,12}}?{words('media.motion_verb')}"
    rf"|{words('media.motion_short')}",
    "media.motion_subject",
    "media.motion_let",
    "media.motion_short",
)
_TARGET = (
    rf"{words('media.target_verb')}[\s\x00]*(?:(?:[一两二三四五六七八九十几]|\d{{1,3}})?[\s\x00]*"
    rf"{words('media.target_classifier')})?[\s\x00]*(?={_ANY_MEDIA})"
    rf"|{words('media.into')}\s*(?={_ANY_MEDIA})"
)
_NOUN_GROUPS = {
    "video": ("media.video", "media.motion"),
    "music_style": ("media.music_style",),
    "music": ("media.music",),
    "image": ("media.image",),
}
#: The media nouns of every kind in one alternation, longest first ("clip art" is a picture,
#: "clip" a video); each phrase in a group named after its kind and place: "image_3".
_NOUN_PHRASES = sorted(
    (
        (group, p)
        for group, cats in _NOUN_GROUPS.items()
        for c in cats
        for p in lexicon().phrases(c)
    ),
    key=lambda gp: (-len(gp[1]), gp[1]),
)
_NOUNS = any_phrase(
    [p for _, p in _NOUN_PHRASES], [f"{g}_{i}" for i, (g, _) in enumerate(_NOUN_PHRASES)]
)
#: The media tokenizer: at each place the first group that matches wins (exclusions first),
#: and among the nouns the longest phrase.
_MEDIA_CATEGORIES = (
    "media.not_media",
    "media.input_image",
    "task.image_to_video",
    "task.text_to_video",
    "task.reference_to_video",
    "frames.both",
    "frames.both_from",
    "frames.first",
    "frames.last",
    "task.image_to_image",
    "task.text_to_image",
    "task.text_to_music",
    "media.target_verb",
    "media.into",
    "media.video",
    "media.motion",
    "media.music_style",
    "media.music",
    "media.image",
)
MEDIA_RE = led(
    rf"(?P<skip>{NOT_MEDIA})"
    rf"|(?P<input>{_INPUT_IMAGE})"
    rf"|(?P<task_video>{_TASK_I2V}|{words('task.text_to_video', 'task.reference_to_video')}"
    rf"|{_FIRST_LAST})"
    rf"|(?P<task_image>{_TASK_I2I}|{words('task.text_to_image')})"
    rf"|(?P<task_music>{words('task.text_to_music')})"
    rf"|(?P<target>{_TARGET})"
    rf"|{_NOUNS}",
    *_MEDIA_CATEGORIES,
)


def token_group(m: re.Match[str]) -> str:
    """The group of a ``MEDIA_RE`` match: "skip", "input", "target", "task_video", "video",
    "music_style", "music" or "image"."""
    return (m.lastgroup or "").rstrip("0123456789").rstrip("_")


_KINDS = {
    "task_video": MediaKind.VIDEO,
    "task_image": MediaKind.IMAGE,
    "task_music": MediaKind.MUSIC,
    "video": MediaKind.VIDEO,
    "music": MediaKind.MUSIC,
    "music_style": MediaKind.MUSIC,
    "image": MediaKind.IMAGE,
}
#: A media noun after "for" is what the output is for ("… for vlog", "a picture for my video").
_PURPOSE_BEFORE_RE = re.compile(
    rf"{words('media.purpose')}\s+(?:{words('media.purpose_det')}\s+)?\Z", NOCASE
)
#: A poem counted with 首, ending its clause ("一首关于秋天的诗").
_POEM_RE = re.compile(rf"{words('media.poem')}\s*(?:[,.;!?，。；！？]|\Z)")
#: An English media noun is the head of its phrase when a complement follows.
_HEAD_AFTER_RE = re.compile(rf"\s+{words('media.head_after')}", NOCASE)
#: A clause start: whitespace or a removed span before an edit verb.
_CLAUSE = r"\s\x00\x01"
_INPUT_CATEGORIES = (
    "media.input_image",
    "media.edits_earlier",
    "media.edit_clause_start",
    "task.image_to_video",
    "task.image_to_image",
    "frames.both",
    "frames.both_from",
    "frames.first",
    "frames.last",
    "media.reference",
    "task.reference_to_video",
    "media.reference_around",
    "media.reference_lead",
)
#: Everything that points at an input or earlier picture.
_INPUT_IMAGE_RE = led(
    f"{_INPUT_IMAGE}|{_EDITS_EARLIER}|{_TASK_I2V}|{_TASK_I2I}|{_FIRST_LAST}|{_REFERENCE}",
    *_INPUT_CATEGORIES,
    also=_CLAUSE,
)
_EDITS_EARLIER_RE = led(
    _EDITS_EARLIER, "media.edits_earlier", "media.edit_clause_start", also=_CLAUSE
)
_BOTH_FRAMES_RE = led(_BOTH_FRAMES, "frames.both", "frames.both_from")
_START_END_RE = led(_START_END, "frames.start_clause", "frames.both_pictures")
_FIRST_FRAME_RE = re.compile(_FIRST_FRAME, NOCASE)
_LAST_FRAME_RE = re.compile(_LAST_FRAME, NOCASE)
_REFERENCE_RE = led(
    _REFERENCE,
    "media.reference",
    "task.reference_to_video",
    "media.reference_around",
    "media.reference_lead",
)
_DE_BEFORE_RE = re.compile(r"的\s*\Z")
#: A media noun opening the message as a label: "video: …", "视频：…".
_LABEL_RE = re.compile(r"\s*:")


#: A request taken back: "dont make a video yet", "stop generating", "不要做视频", "别画了 够了",
#: "no video pls", "不要视频 画一张就行". It ends its clause (a particle or "yet" may follow): "别
#: 画猫了" and "don't make it too dark" say what to make, not to make nothing.
_NEGATED_MEDIA = words("media.video", "media.music", "media.image")
_NEGATED_END = (
    rf"(?=(?:[\s\x00\x01,]*{words('frame.negated_end')})*[\s\x00\x01]*"
    r"(?:[,.;!?，。；！？~]|\s+(?=[\u3400-\u9fff])|$))"
)
_NEGATED_RE = led(
    rf"{words('frame.negated')}\s*(?:再\s*)?{words('frame.negated_verb')}"
    rf"(?:[\s\x00]*(?:(?:a|an|any|the|more|one|一|个|张|段|首|幅)[\s\x00]*)*"
    rf"(?:{_NEGATED_MEDIA}|{words('frame.negated_object')}))?"
    rf"(?:[\s\x00]*{words('frame.negated_end')})*{_NEGATED_END}"
    rf"|{words('frame.negated_noun')}[\s\x00]*{_NEGATED_MEDIA}{_NEGATED_END}",
    "frame.negated",
    "frame.negated_noun",
)


def media(state: State) -> None:
    """The output kind and the task type."""
    scan, images = state.scan, state.images
    scan.take(_NEGATED_RE)  # a request taken back asks for nothing
    view = scan.view
    count_end = state.count.end
    strong: set[MediaKind] = set()
    # Weak signals found by earlier passes: 张/幅 pictures and 首 songs, lyrics, instrumental.
    weak = [state.count.kind] if state.count.kind else []
    if state.count.kind is MediaKind.MUSIC and _POEM_RE.search(view, state.count.end):
        weak = []  # "写一首关于秋天的诗": a poem
    if state.lyrics is not None or state.sound.instrumental is not None:
        weak.append(MediaKind.MUSIC)
    # English heads come first ("a poster of the top 10 songs"), Chinese ones last
    # ("唱歌的女孩的视频"): only the outermost head of each kind of phrase counts.
    english_heads: list[MediaKind] = []
    chinese_heads: list[MediaKind] = []
    lead = lead_end(view)
    labelled: MediaKind | None = None
    if state.midjourney or DRAW_RE.match(view, lead):
        strong.add(MediaKind.IMAGE)
    target_end = -1
    #: The last noun: where it ended, its kind, and whether its place made it strong.
    previous: tuple[int, MediaKind, bool] | None = None
    #: Media nouns after "for": what another output is for, or, when no other is named, the
    #: output itself ("the cheapest model for videos").
    purposes: list[MediaKind] = []
    for m in scan.finditer(MEDIA_RE):
        group = token_group(m)
        if group == "target":
            target_end = m.end()
            continue
        kind = _KINDS.get(group)
        if kind is not None and _PURPOSE_BEFORE_RE.search(view, max(0, m.start() - 16), m.start()):
            purposes.append(kind)
            kind = None
        if kind is None:
            previous = None
            continue
        if (
            previous is not None
            and previous[1] is not kind
            and not view[previous[0] : m.start()].strip()
        ):
            # A compound names its last noun ("视频封面", "音乐节海报", "video thumbnail"): the
            # noun before it only says what it is for.
            weak.remove(previous[1])
            strong.add(kind)
        if m.start() == lead and _LABEL_RE.match(view, m.end()) is not None:
            labelled = kind  # "video: a girl painting a portrait", "视频：墙上的海报被风吹走"
        placed = group.startswith("task_") or m.start() in (target_end, count_end)
        if placed:
            strong.add(kind)
        elif _DE_BEFORE_RE.search(view, max(0, m.start() - 8), m.start()):
            chinese_heads.append(kind)
            if (
                previous is not None
                and previous[2]
                and previous[1] is not kind
                and view[previous[0] : m.start()].strip(" \x00\x01") == "的"
            ):
                # "一段 vlog 的 bgm": the noun after the count says what the head is for.
                strong.discard(previous[1])
        elif _HEAD_AFTER_RE.match(view, m.end()):
            english_heads.append(kind)
        previous = (m.end(), kind, placed)
        weak.append(kind)
    strong.update(heads[i] for heads, i in ((english_heads, 0), (chinese_heads, -1)) if heads)
    if labelled is not None:
        strong = {labelled}  # what follows the label is what it shows
    if not weak and not strong:
        weak.extend(purposes)
    if (state.resolution.wants_8k or state.resolution.vector) and not weak and not strong:
        weak.append(MediaKind.IMAGE)  # "16k render of a car", "an svg logo": a picture
    both = scan.search(_BOTH_FRAMES_RE) is not None
    if images >= 2 and scan.search(_START_END_RE) is not None:
        both = True  # "start is the empty lot, end is the finished house"
    last = scan.search(_LAST_FRAME_RE) is not None
    kinds = strong or set(weak)
    if images and not strong - {MediaKind.VIDEO} and scan.search(MOTION_FRAME_RE) is not None:
        kinds = {MediaKind.VIDEO}  # a subject of the picture made to move: a video of it
    if (images or says_length(scan)) and len(kinds) > 1:
        # With a picture attached, or a length given ("帮我做个 10 秒的 intro video … 最后 logo
        # 出现"), a picture noun is content: the other medium is the output.
        kinds.discard(MediaKind.IMAGE)
    reference = scan.search(_REFERENCE_RE) is not None
    if images >= 2 and reference and not kinds:
        kinds = {MediaKind.VIDEO}  # "keep the character from these": a video of them
    if images >= 2 and both and kinds <= {MediaKind.IMAGE}:
        # "开头是白天 结尾是晚上", "一开始是一张白纸，最后变成一幅画": a video between the two;
        # a picture noun is what they show
        kinds = {MediaKind.VIDEO}
    found = Media(
        media=next(iter(kinds)) if len(kinds) == 1 else None,
        conflict=len(kinds) > 1,
        mentions_input_image=scan.search(_INPUT_IMAGE_RE) is not None,
        edits_earlier=scan.search(_EDITS_EARLIER_RE) is not None,
        first_last=both or last,
        frames=both or last or scan.search(_FIRST_FRAME_RE) is not None,
        reference=reference,
    )
    state.media = replace(found, task_type=_task_type(found, images))


def _task_type(media: Media, images: int) -> TaskType | None:
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
