"""Turn one chat message (Chinese, English or mixed) into a structured intent.

``parse_message(text, image_count=0, model_names=())`` is pure, rule-based and deterministic:
no I/O but reading its lexicon files once, no catalog, no platform. It reports what the text
says; the engine decides what to do (task type, model, parameters, a question, a limit to
explain). Where a wrong guess would spend credits the parser says ``ambiguous`` or ``unsure``
instead of guessing, and a question is never a generation.

Where things are
================
``model.py`` the result (``ParsedMessage``, ``Command`` and the small types) · ``lexicon.py``
and ``lexicon/{zh,en,common}.toml`` every word the parser knows, as data (the phrase syntax is
documented in ``lexicon.py``; adding a phrase is one line there plus a table row in
``tests/core/parse/``) · ``text.py`` the scan: the cleaned text and a same-length view that
passes match and mask · ``state.py`` what the passes found so far · one module per pass below.

How a message is read: ``PASSES``, in this order
================================================
Each pass is a function of the shared ``State``; it reads what earlier passes found, matches on
the view, and masks what it used: removed from the prompt, or kept in it but hidden from later
passes (sound wishes, "again").

1. ``clean.clean``: zero-width, format and control characters and lone surrogates go (newlines
   stay for lyrics), ``\\r\\n`` becomes ``\\n``, tabs become spaces. The view folds full-width
   ASCII (``１０秒``, ``16：9``), the ideographic space, curly quotes and ``∶`` to ASCII, one for
   one, so spans found there cut the original text. Nothing readable and no picture → ``NONE``.
   In a message longer than 3,000 characters the passes read the first 2,000 and the last
   1,000: instructions live at the edges, the middle is description (lyrics are still found
   anywhere). A 20,000-character message parses in about 10 ms on a slow machine.
2. ``clean.links``: https links ending in .png/.jpg/.jpeg/.webp/.gif, or any https link when
   the text says "this image"/"这张图"/"图片链接", are pictures: removed, listed in
   ``image_urls`` and counted as attached. Other links stay in the prompt, hidden.
3. ``replies.whole_message`` (≤ 200 characters, words repeated and particles allowed):
   yes → ``CONFIRM_YES``, no / just this once → ``CONFIRM_NO``, help / 你能做什么 → ``HELP``,
   我的作品 / my history → ``HISTORY``, greetings, thanks, praise → ``CHAT``. Done.
4. ``sections``: Midjourney's ``/imagine [prompt:]`` (a picture) and flags (``--ar``/``--aspect``
   set the ratio, ``--no`` the negative prompt, ``--seed`` the seed, every other ``--flag`` is
   dropped); ``歌词:``/``lyrics:`` takes the rest of the message, and so does a line naming
   the lyrics that ends with a colon and asks for a song (帮我把歌词谱成歌：, turn these
   lyrics into a song:); with lyrics, no edit of the last result; ``negative:``/``反向提示词:``
   the rest of its line; ``seed 42``/``种子42``. "不要X"/"without X" stay in the prompt.
5. ``directives``: model names, with the words that direct them. An entry of ``model_names``
   matches case-insensitively with spaces, hyphens, dots and underscores optional
   (``nano-banana-pro``, ``seedream4.5``), longest first, never inside a bigger word (``wan`` ≠
   ``want``); it is returned as given, the display spelling first among equals. Versioned or
   multi-word names count anywhere; single words (``Sonic``, ``Gemini``, ``MJ``, ``海螺``,
   ``香蕉``) only with a directive before them (用/换成/以后都用/use/with/switch to…), 模型/model
   or a request verb after them, as the whole message, or, Latin ones, at its very start or end.
   ``X style``/``X风格`` is a style. Scope: 以后[视频]都用X / 默认用X / 把X设为默认 / always X /
   make X my default / set my default [video] model to X → ``ALWAYS``, else ``THIS_TIME``.
   A negation before or after a name (不要用/别用/甭用/stop using/no more/skip/w/o/dont want/
   X不要了/X不行/X is banned) removes it and never chooses it: it is ``avoided``, and so is a
   name met only at the edge with a negation a few words before it (i really dont like using
   sora); "instead of X"/"除了X" only leave it out of the request. Qualities: 用最好的/the
   best → ``BEST``, 用便宜的/the cheapest → ``CHEAPEST`` (bare
   最好/best/cheap need a directive or the whole message: 最好看 is "prettiest");
   ``premium_requested`` from explicit quality words (高画质, high-quality), never a bare
   "premium". 换个模型/another model → ``another_model``. Retry words: 再来一次/regenerate are
   removed; "again"/"one more" stay in the text, a retry only when nothing else is described
   ("garfield hating monday again").
6. ``params``: sound wishes (kept in the prompt): 带音效/with sound → ``audio``, 男声/female
   vocals → ``vocal_gender``, 纯音乐/no vocals → ``instrumental``. Resolution ``480p``…``2160p``
   and ``2K``/``4K`` (``size`` and ``resolution``; the engine reads the one its task has),
   ``512px``; 高清/HD → 1080P and 超高清/UHD → 4K kept in the prompt; ``8K`` → ``wants_8k``; a
   resolution right before TV/monitor/screen/电视 is content ("a 4K TV on a wall"). Ratios
   ``W:H``/``W比H`` (reduced unless standard as written; non-standard ones → ``custom_ratio``),
   clock times (``3:30``, ``10:30 pm``) excluded unless a ratio word is near; orientation words
   (横屏/竖屏/方图, in portrait, vertical video, make it vertical, "…, vertical", "海边日落
   vertical") → 16:9, 9:16, 1:1; "portrait" only before a video noun or as a clause of a
   message naming a video or saying nothing else; bare landscape/portrait/square are
   descriptions. Counts: 两张/3个视频/three songs/2 images/n=4/3 versions/logo x4/来四个,
   Arabic, English and Chinese numerals; never after 这/那/有/第 nor top/with/of/the/my
   (``这两张图`` are inputs, ``top 10 songs`` a title). 张/幅 hint a picture, 首 a song.
7. ``media.media``: a request taken back first ("dont make a video yet", 不要做视频, 别画了,
   "no video pls") is masked: it asks for nothing. Then a tokenizer over media words (typos
   and slang included: 视屏, viedo, vid, pic, imgae, gif…) in which exclusions are tokens
   too (画面, 画质, video game, music festival, 喜欢画画…) and, among nouns, the longest wins
   ("clip art" is a picture). Input-picture words (这张图, my photo, the attached image) are
   no output. Strong signals: task phrases (图生视频,
   text-to-image, 首尾帧), conversion targets (做成视频, into a song), the noun right after a
   count, the last noun of a compound (视频封面, 音乐节海报, video thumbnail), the outermost head
   of a phrase (the first English one: "a poster of the top 10 songs"; the last Chinese one:
   唱歌的女孩的视频), an imperative 画/draw opening the request, /imagine. One kind among the
   strong signals (else among all) is ``media``; several → ambiguous, except that picture words
   give way when pictures are attached. With a picture attached, a subject of it made to move
   (make him wave, 让她笑一下, 挥挥手; no motion verb in "make him wear a hat") is a video, and
   two or more pictures with reference words and no media word ("keep the character from
   these") a video of them. The task type follows from the media, the pictures
   (attached or linked) and the frame and reference words (see ``media._task_type``); words
   that need pictures not attached still give their task and set ``mentions_input_image``.
8. ``params.duration`` (once the media is known): 10秒/1分30秒/一分半/10s/10-second/1.5
   minutes; music → ``music_duration``; pictures → description; "80s synthwave" is a decade.
9. ``prompt.described``: is anything left but frames, media words and fillers?
10. ``questions.question``: a question mark, a question word anywhere (多少, 哪个, how much,
    A-not-A 贵不贵, a wish for feedback: 给点意见, be honest), 吗/呢/么 ending a clause
    (好看吗这张 too; 吗 before a space: 好看吗 给点意见), a modal then 不/没 ending it
    (能做音乐不), or a question opening (what/how…, is it…, can a video…, do you…, a model
    before a modal: veo能配音吗) make a question, with a ``topic`` (chosen among all topic
    words, longest first: models, price, limits, time, credits, then a picture attached → about
    the picture, then capabilities) and a ``feature``. Question words inside a plain request with a
    description (画一个什么都不怕的女孩) or after 不知道/not sure don't count. A request phrased
    as a yes/no question (can you draw a cat?, 能帮我画一只猫吗) with something to make named
    stays a request when it is for me or about one thing (帮我, 一只, a); a question mark on a
    plain description ("a cat in space?") makes an ``unsure`` request, unless a long request
    asks for a medium outright around it.
11. ``edits.edit``: with nothing attached and a short message, an edit of the last result:
    ``MORE`` (3 more, 再来三张, 再来两个), ``MEDIA`` (make a video of it, 配个音乐, 让它动起来, make
    him wave, 做成视频 + what it shows: the conversion is removed), ``PARAMS``
    (make it vertical, 10 seconds, 再高清一点), ``CONTENT`` (add a seagull, 换成夜景, sadder,
    更欢快一点).
12. ``commands.command``: in this order: ``CHAT`` for a message opening with someone's
    @name (said to them; the bot's own name aside); ``RESET`` (清除偏好, go back to the default) and
    ``SHOW_PREFS`` (我的偏好, what's my default) when no model is directed; ``ALWAYS_MODEL``
    without a model (设成默认吧, make it my default: the model just used); ``AVOID_MODEL`` (a
    model avoided, none chosen, nothing asked in another clause nor a medium described around
    it: "video of a fox but dont use sora" is made without it, unless the negation is for
    good: stop, 以后, too pricey); ``USAGE`` (my usage, 我的额度,
    how many credits do I have left: own credits, asked or not, or asked about a job: 我的积分还够
    做几个视频) and ``HISTORY`` (can I see my history, 我以前做的图) when nothing is asked for;
    ``ANOTHER_MODEL`` for another model asked with nothing new described or as a yes/no
    question (能不能换个模型再试下); ``GENERATE`` of a picture, unsure, for wondering what
    something looks like (what would a cat astronaut look like, 不知道…会是什么样子);
    ``QUESTION``, or ``CHAT`` when it laughs at a result and asks nothing the bot answers
    (这手怎么六根手指 笑死, why does it have 6 fingers lmao) or is impatient with the job
    under way (好了没??, is it done yet); ``CHAT`` for
    the bot's work talked about in the third person (机器人画的比你好多了, the vid the bot made:
    a remark to the others), for an opinion about a medium or a model or telling what
    happened (sora 的视频好贵, 这首歌好难听, nice pic!, my friend made a video with this bot),
    for hesitation alone (我再想想, 算了 再说吧, nvm); ``EDIT``;
    ``CHAT`` (remarks, praise, complaints, feelings with nothing asked for: 这张不错, 太慢了吧,
    我今天好累), and for words that ask for nothing with a mark of a remark: a person, a particle
    ending a clause, a laugh (又卡了 服了, ugh i'm so tired); ``GENERATE`` when
    something is described or pictures came, or a model or quality with a media word (not
    ALWAYS: 以后视频都用可灵 is a preference); ``RETRY`` (again, 用可灵再来一次: with ``model`` or
    ``quality``); ``ALWAYS_MODEL``/``USE_MODEL`` (a bare name too: it is how people answer
    换个模型), ``BEST``/``CHEAPEST``, ``ANOTHER_MODEL``; ``GENERATE`` for a media word,
    parameters, input-picture words or a request verb alone (the engine asks what to make);
    else ``CHAT``. A generation is ``unsure`` when its question form is not clear-cut, it is a
    wish (maybe, someday, 改天), or its words are mostly gibberish.
13. ``prompt.prompt``: for ``GENERATE``, the text minus sections, directives and parameters,
    the request frame removed from its start (帮我画一张, 生成一个, can you please draw me, to
    make, a label like 视频：), question particles of a polite request removed, separators
    tidied, a trailing thanks/please trimmed; "" when nothing was described (生成一个视频,
    来首歌), unless pictures came. ``ambiguous``/``question_hint`` when the media can't be told
    and no model is named. For ``EDIT``, the change itself.
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
