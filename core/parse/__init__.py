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

from collections.abc import Callable, Sequence

from core.parse import (
    clean,
    commands,
    directives,
    edits,
    media,
    params,
    prompt,
    questions,
    replies,
    sections,
)
from core.parse.model import (
    Command,
    Edit,
    EditKind,
    ModelScope,
    ParsedMessage,
    Quality,
    Question,
    QuestionHint,
    QuestionTopic,
)
from core.parse.state import State

__all__ = [
    "Command",
    "Edit",
    "EditKind",
    "ModelScope",
    "ParsedMessage",
    "Quality",
    "Question",
    "QuestionHint",
    "QuestionTopic",
    "parse_message",
]

#: The passes, in reading order. Each reads what earlier ones found; see the module doc.
PASSES: tuple[Callable[[State], None], ...] = (
    clean.clean,
    clean.links,
    replies.whole_message,
    sections.midjourney,
    sections.lyrics,
    sections.negative_prompt,
    sections.seed,
    directives.models_and_quality,
    directives.another_model,
    directives.retry,
    params.sound,
    params.resolution,
    params.ratio,
    params.count,
    media.media,
    params.duration,
    prompt.described,
    questions.question,
    edits.edit,
    commands.command,
    prompt.prompt,
)


def parse_message(
    text: str, *, image_count: int = 0, model_names: Sequence[str] = ()
) -> ParsedMessage:
    """Read one chat message.

    ``image_count`` images came with it; ``model_names`` are the surface names and aliases of
    the models on offer right now (a matched one is returned exactly as given).
    """
    state = State(text, image_count, tuple(model_names))
    for read in PASSES:
        read(state)
        if state.finished:
            break
    return state.result()
