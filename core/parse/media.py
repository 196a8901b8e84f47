"""Pass 6: the media asked for (image, video or music) and the task type."""

from __future__ import annotations

import re
from dataclasses import replace

from core.ima.tasks import MediaKind, TaskType
from core.parse.frames import DRAW_RE, lead_end
from core.parse.state import Media, State
from core.parse.text import NOCASE, B, E

_VIDEO_WORDS = (
    rf"{B}music\s*videos?{E}|音乐视频|{B}mv{E}|短视频|视频|动画片?|短片|影片|微电影|录像|"
    r"(?:动|活)起来|动一动|会动的?|"
    rf"{B}(?:videos?|clips?|animations?|animated|animate|movies?|footage|"
    r"make\s+(?:it|them|him|her)\s+move|come\s+(?:alive|to\s+life)|"
    rf"bring\s+(?:it|them|this|these)\s+to\s+life){E}"
)
_MUSIC_WORDS = (
    r"纯音乐|背景音乐|音乐|歌曲|歌|曲子|乐曲|配乐|旋律|伴奏|曲目|曲调|"
    rf"{B}(?:bgm|music|songs?|tracks?|tunes?|melod(?:y|ies)|soundtracks?|beats?|instrumentals?){E}"
)
#: Music words that also say what to play ("一首钢琴曲" is enough to make something).
_MUSIC_STYLES = (
    r"儿歌|情歌|说唱|钢琴曲|舞曲|小夜曲|进行曲|协奏曲|奏鸣曲|交响曲|圆舞曲|摇篮曲|小曲|"
    rf"{B}(?:jingles?|ballads?|lullab(?:y|ies)|anthems?|raps?|symphon(?:y|ies)|waltz(?:es)?){E}"
)
_IMAGE_WORDS = (
    r"图片|图像|图画|插图|插画|配图|照片|相片|海报|头像|壁纸|封面|图标|表情包|贴纸|漫画|素描|油画|水彩|图|画|"
    rf"{B}(?:images?|pictures?|pics?|photos?|photographs?|drawings?|draw|paint(?:ings?)?|"
    r"sketch(?:es)?|illustrations?|posters?|wallpapers?|logos?|icons?|avatars?|portraits?|"
    rf"artworks?|stickers?|banners?|thumbnails?|memes?|selfies?){E}"
)
_NOT_MEDIA = (
    r"画面|画质|画风(?!景)|画幅|画家|画廊|画布|画师|画展|画室|画笔|画板|画框|画册|构图|试图|意图|企图|图书馆?|蓝图|"
    r"图案|帧图|歌词|歌手|唱歌|歌唱|歌舞|歌剧院|歌颂|歌星|歌迷|歌厅|听音乐|听歌|视频通话|视频会议|看视频|刷视频|"
    r"(?:这|那|我的|上传的|发的)\s*(?:个|段)?\s*视频|"
    rf"{B}(?:video\s*games?|videogames?|video\s*(?:calls?|chats?|conferenc\w*)|clip\s*art|"
    r"(?:paper|hair)\s*clips?|(?:race|train|railway|running)\s*tracks?|"
    r"track\s+(?:and\s+field|record)|keep(?:ing)?\s+track|(?:on|off)\s+track|fine[- ]?tun\w*|"
    r"in\s+tune|heart\s*beats?|music\s+(?:festival|box|stand|teacher|room|notes?)|movie\s+stars?|"
    r"listen(?:s|ing)?\s+to\s+(?:music|songs?)|sheet\s+music|"
    rf"paint\s*(?:brush|bucket|can)s?|draw\s+(?:a\s+)?(?:conclusion|attention|the\s+line)){E}"
)
#: Words that point at an image the user gives (or gave) rather than one to make.
_INPUT_IMAGE = (
    r"(?:这|那|此|该)\s*(?:一|两|几)?\s*(?:张|幅|些)\s*(?:图片|图像|照片|相片|图|画)?|"
    r"(?:这|那|此|该)\s*个\s*(?:图片|图像|照片|图)|"
    r"(?:上面的?|下面的?|前面的?|刚才的?|我的|上传的|发的|附件(?:里|中)?的?)\s*(?:图片|图像|照片|相片|自拍|图|画)|"
    r"(?:图片|照片)(?:中|里|上)的?|(?:上|原|底|参考)图|"
    rf"{B}(?:this|that|these|those|my|attached|uploaded|above|provided|reference|input|source|"
    r"original)\s+(?:(?:attached|uploaded|original|reference|input|first|second|two|2)\s+)?"
    rf"(?:images?|pictures?|photos?|pics?|photographs?|drawings?|paintings?|illustrations?|"
    rf"frames?|selfies?|screenshots?){E}"
)
_EDITS_EARLIER = (
    rf"{B}(?:make\s+(?:it|this|that|them)\s+(?:more|less|brighter|darker|bigger|smaller|better|"
    r"look|into|move)|(?:turn|convert|change|edit|modify|adjust|fix|animate|transform|enhance|"
    rf"upscale|restyle|improve|redo)\s+(?:it|this|that|them|these|those)){E}|"
    r"把\s*(?:它|他|她|这|那)|让\s*(?:它|他|她)|"
    r"(?:\A|(?<=[,.;!?。；！？]))[\s\x00\x01]*(?:改成|改为|换成|变成|调成|转成)"
)
_TASK_I2V = (
    r"图生视频|图片?(?:生成|转成?|变成)视频|照片(?:生成|转成?|变成)视频|"
    rf"{B}(?:i2v|img2vid|(?:image|photo|picture|img)[- ]?(?:to|2)[- ]?video){E}"
)
_TASK_T2V = rf"文生视频|文字生成视频|{B}(?:t2v|txt2vid|text[- ]?(?:to|2)[- ]?video){E}"
_TASK_I2I = rf"图生图|{B}(?:i2i|img2img|image[- ]?(?:to|2)[- ]?image){E}"
_TASK_T2I = rf"文生图|{B}(?:t2i|txt2img|text[- ]?(?:to|2)[- ]?image){E}"
_TASK_T2M = rf"文生音乐|{B}(?:t2m|text[- ]?(?:to|2)[- ]?music){E}"
_TASK_REFERENCE = rf"参考图?生视频|{B}(?:reference[- ](?:image[- ])?to[- ]video|ref2v){E}"
#: Both frames named: the task takes two images.
_BOTH_FRAMES = (
    r"首尾帧(?:生成?视频)?|首尾|开头和结尾|"
    rf"{B}(?:first\s*(?:and|&|/|-)\s*last(?:\s+frames?)?|start(?:ing)?\s*(?:and|&|/|-)\s*"
    r"end(?:ing)?\s+frames?|from\s+(?:this|the\s+first)(?:\s+(?:one|image|picture|photo))?\s+to\s+"
    rf"(?:that|the\s+second|this)(?:\s+(?:one|image|picture|photo))?){E}|"
    r"从(?:这|第一)张.{0,8}?(?:到|过渡到|变到|变成)(?:那|第二|另一)张"
)
#: One image as the first frame is an ordinary image-to-video task.
_FIRST_FRAME = rf"首帧|第一帧|起始帧|{B}(?:first|start(?:ing)?|opening)\s+frame{E}"
#: An image as the last frame needs a first one too.
_LAST_FRAME = rf"尾帧|最后一帧|结束帧|结尾帧|{B}(?:last|end(?:ing)?|final)\s+frame{E}"
_FIRST_LAST = f"{_BOTH_FRAMES}|{_FIRST_FRAME}|{_LAST_FRAME}"
_REFERENCE = (
    r"参考(?:图|图片|照片|这|那|上面|它|一下这)|(?:作为|当作|当成|做)参考|以.{0,8}?为参考|"
    r"保持(?:这个|同一个?|一致的?)?(?:角色|人物|人|形象|脸|主体|长相)|(?:角色|人物|形象)一致|"
    rf"{B}(?:reference\s+(?:images?|pictures?|photos?)|as\s+(?:a\s+)?references?|"
    r"(?:in\s+)?the\s+style\s+of\s+(?:this|these|that|the\s+(?:image|photo|picture))|"
    r"keep(?:ing)?\s+(?:this|the|that|these|my)\s+(?:character|person|face|subject|product|look)s?|"
    rf"same\s+(?:character|person|face)s?|consistent\s+characters?){E}|{_TASK_REFERENCE}"
)
_ANY_MEDIA = f"{_VIDEO_WORDS}|{_MUSIC_STYLES}|{_MUSIC_WORDS}|{_IMAGE_WORDS}"
_TARGET = (
    r"(?:做成|变成|转成|转换成|转为|转化为|制作成|改成|弄成|变为|搞成|整成|换成|生成|制作|创作|做|来|写|拍|出)"
    r"[\s\x00]*(?:(?:[一两二三四五六七八九十几]|\d{1,3})?[\s\x00]*(?:个|段|张|首|幅|部|支))?[\s\x00]*"
    rf"(?={_ANY_MEDIA})|{B}into\s+(?:(?:a|an|some)\s+)?(?:(?:short|quick|little|animated|cute)\s+)?"
    rf"(?={_ANY_MEDIA})"
)
MEDIA_RE = re.compile(
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
    NOCASE,
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
    rf"\s+(?:of|about|showing|featuring|depicting|for|where|in\s+which|that\s+shows?){E}", NOCASE
)
_INPUT_IMAGE_RE = re.compile(
    rf"{_INPUT_IMAGE}|{_EDITS_EARLIER}|{_TASK_I2V}|{_TASK_I2I}|{_FIRST_LAST}|{_REFERENCE}", NOCASE
)
_EDITS_EARLIER_RE = re.compile(_EDITS_EARLIER, NOCASE)
_BOTH_FRAMES_RE = re.compile(_BOTH_FRAMES, NOCASE)
_FIRST_FRAME_RE = re.compile(_FIRST_FRAME, NOCASE)
_LAST_FRAME_RE = re.compile(_LAST_FRAME, NOCASE)
_REFERENCE_RE = re.compile(_REFERENCE, NOCASE)
_DE_BEFORE_RE = re.compile(r"的\s*\Z")


def media(state: State) -> None:
    """The output kind and the task type."""
    scan, images = state.scan, state.images
    view = scan.view
    count_end = state.count.end
    strong: set[MediaKind] = set()
    # Weak signals found by earlier passes: 张/幅 pictures and 首 songs, lyrics, instrumental.
    weak = {state.count.kind} if state.count.kind else set()
    if state.lyrics is not None or state.sound.instrumental is not None:
        weak.add(MediaKind.MUSIC)
    # English heads come first ("a poster of the top 10 songs"), Chinese ones last
    # ("唱歌的女孩的视频"): only the outermost head of each kind of phrase counts.
    english_heads: list[MediaKind] = []
    chinese_heads: list[MediaKind] = []
    if DRAW_RE.match(view, lead_end(view)):
        strong.add(MediaKind.IMAGE)
    target_end = -1
    for m in scan.finditer(MEDIA_RE):
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
    found = Media(
        media=next(iter(kinds)) if len(kinds) == 1 else None,
        conflict=len(kinds) > 1,
        mentions_input_image=scan.search(_INPUT_IMAGE_RE) is not None,
        edits_earlier=scan.search(_EDITS_EARLIER_RE) is not None,
        first_last=both or last,
        frames=both or last or scan.search(_FIRST_FRAME_RE) is not None,
        reference=scan.search(_REFERENCE_RE) is not None,
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
