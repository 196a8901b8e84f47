"""Pass 12: the command: what the message asks the bot to do (see the package doc for the
order), and whether a generation is ``unsure``."""

from __future__ import annotations

import re
from dataclasses import replace

from core.ima.tasks import MediaKind, TaskType
from core.parse.directives import any_model_name
from core.parse.edits import content_words
from core.parse.frames import has_request_verb
from core.parse.lexicon import lexicon, words
from core.parse.model import Command, EditKind, Quality, QuestionTopic
from core.parse.params import WAITED_RE
from core.parse.questions import FEEDBACK_RE
from core.parse.state import State
from core.parse.text import EMOJI_RE, NOCASE, SHORT

#: Up to 8 characters between a verb and its object ("清除我的视频偏好"), or a few English
#: words ("reset all of my video preferences").
_GAP = r"(?:[^\x00\n。!?]{0,8}?|(?:\s+[A-Za-z]+){0,4}\s+)"
_RESET_RE = re.compile(
    rf"{words('preference.reset_verb')}{_GAP}{words('preference.reset_object')}"
    rf"|{words('preference.reset')}|\A[\s\x00]*{words('preference.reset_alone')}[\s\x00.!]*\Z",
    NOCASE,
)
_KEEP_RE = lexicon().pattern("preference.keep")
#: Around a keep phrase, an affirmation: "行 就它了 设成默认", "yeah that one, make it my default".
_KEEP_FILLER_RE = lexicon().pattern("preference.keep_filler", "reply.yes", "reply.particles")
_LOOKS_RE = lexicon().pattern("media.looks", "media.see_wish")
_SEE_WISH_RE = lexicon().pattern("media.see_wish")
_SHOW_PREFS_RE = re.compile(
    rf"{words('preference.show_verb')}{_GAP}{words('preference.show_object')}"
    rf"|{words('preference.show')}",
    NOCASE,
)
_ONE_OR_ME_RE = lexicon().pattern("question.benefactive", "question.one_thing")
_GENERIC_PLURAL_RE = lexicon().pattern("question.generic_plural")
_USAGE_RE = lexicon().pattern("usage.phrase")
#: "can I see my history?": the history asked for within a longer message.
_HISTORY_RE = lexicon().pattern("history.phrase")
_BENEFACTIVE_RE = re.compile(
    rf"{words('question.benefactive')}"
    rf"|{words('question.one_thing')}\s*{words('media.video', 'media.music', 'media.image')}",
    NOCASE,
)
_REACTION_RE = lexicon().pattern("chat.reaction")
_REMARK_WORDS_RE = lexicon().pattern("chat.reaction", "chat.subject", "chat.degree")
_FIRST_PERSON_RE = re.compile(rf"[\s\x00\x01,.!~]*{words('chat.first_person')}", NOCASE)
_WANT_RE = lexicon().pattern("chat.want")
_JUDGEMENT_RE = lexicon().pattern("chat.judgement")
_NARRATION_RE = re.compile(
    rf"{words('chat.narration')}"
    rf"|(?:{words('chat.narrator_owner')}\s+[A-Za-z]+|{words('chat.narrator')})"
    rf"\s+(?:{words('chat.narrator_adverb')}\s+)?{words('chat.past_verb')}",
    NOCASE,
)
_PRAISE_RE = lexicon().pattern("chat.praise")
_POSSESSIVE_RE = re.compile(rf"[\s\x00\x01]*{words('chat.possessive')}", NOCASE)
_EDIT_VERB_RE = lexicon().pattern("edit.verb", "edit.change", "edit.to_media")
_WISH_RE = lexicon().pattern("unsure.wish")
_CHATTER_RE = lexicon().pattern("chat.chatter", "chat.mockery", "chat.laugh")
_VAGUE_EDIT_RE = lexicon().pattern("edit.vague")
_LAUGH_RE = lexicon().pattern("chat.laugh")
_SHOWING_RE = lexicon().pattern("chat.showing")
_ASKS_RE = lexicon().pattern("edit.asks", "edit.vague", "edit.comparative", "chat.want")
_BOT_WORK_RE = lexicon().pattern("chat.bot_work")
_MOCKERY_RE = lexicon().pattern("chat.mockery")
_IMPATIENCE_RE = lexicon().pattern("chat.impatience")
_HESITATION_RE = lexicon().pattern("chat.hesitation")
#: A laugh mocks only in a wh-question ("why is he like that lol"); "is this AI lol" asks.
_WH_RE = lexicon().pattern("question.wh")
_IDENTITY_RE = lexicon().pattern("question.identity")
#: Verbs that ask for nothing: someone's work ("机器人画的", "你画的", "这画的") and calls to the
#: others to look ("快来看").
_NO_REQUEST_RE = lexicon().pattern("chat.bot_work", "chat.made_by", "chat.addressee")
_ADDRESSEE_RE = lexicon().pattern("chat.addressee")
#: Clause separators: a negated model ("别用可灵") rules its own clause only.
#: What may follow "my"/"我家" in "my cat", "我家的猫咪": a word or two, a few characters.
_OWN_WORDS = 2
_OWN_CHARS = 10
_CLAUSE_END_RE = re.compile(r"[,.;!?，。；！？\n]")
_STANDING_RE = lexicon().pattern("directive.standing")
_REMARK_MARKER_RE = re.compile(
    rf"{words('chat.remark_marker')}"
    rf"|{words('chat.remark_particle')}[!~。！]*(?=[\s\x00\x01,，]|\Z)",
    NOCASE,
)
#: A message opening with someone's @name is said to them (the adapters take the bot's own
#: mention out): "@小李 下午帮我画个流程图不", "@sarah can you check the deck".
_TO_SOMEONE_RE = re.compile(
    rf"\A[\s\x00\x01]*@(?![\s\x00\x01]*{words('chat.bot_name')}(?![A-Za-z]))[^\s@]", NOCASE
)


def command(state: State) -> None:
    state.command = _command(state)
    if state.command is Command.GENERATE:
        state.unsure = state.unsure or _unsure(state)


def _command(s: State) -> Command:
    """The first command that applies, in the order of the package doc (step 12)."""
    d = s.directives
    directed = d.model is not None or d.quality is not None or s.another_model
    kept = s.scan.kept()
    if not s.images and _TO_SOMEONE_RE.match(s.scan.original()) is not None:
        return Command.CHAT
    if not directed and _RESET_RE.search(kept) is not None:
        return Command.RESET
    if not directed and _SHOW_PREFS_RE.search(kept) is not None:
        return Command.SHOW_PREFS
    if not directed and not s.images and _keeps_last_model(s):
        return Command.ALWAYS_MODEL  # the model just used, as the default
    requests = s.images > 0 or has_request_verb(s.scan.edges())
    asks = s.question_form is not None and not s.question_form.mark_only
    if d.avoided is not None and d.model is None and not asks and not _requests_elsewhere(s):
        return Command.AVOID_MODEL  # not "不能用sora吗": a question
    if s.scan.search(_USAGE_RE) is not None and (
        (not requests and s.media.media is None) or asks  # "我的积分还够做几个视频"
    ):
        return Command.USAGE
    # "之前画的那只猫再来一张": more of it, not the list
    more = (
        s.retry
        or s.count.value is not None
        or (s.edit is not None and s.edit.kind is EditKind.MORE)
    )
    if (
        s.scan.search(_HISTORY_RE) is not None
        and not more
        and not has_request_verb(_HISTORY_RE.sub(" ", s.scan.edges()))
    ):
        # "always use kling for my videos": the default for them, not the list of them
        return Command.ALWAYS_MODEL if d.model is not None and d.always else Command.HISTORY
    form = s.question_form
    if s.another_model and d.model is None and d.quality is None and not s.images:
        asked_to = form is not None and (form.polite or form.asks_to_do) and s.edit is None
        if (form is None and not s.described) or asked_to:
            # "能不能换个模型再试下", "can you try a different model?": other models offered,
            # never the same one again
            return Command.ANOTHER_MODEL
    if _wonders_how_it_looks(s):
        # A picture of it, unsure: the bot proposes it first.
        s.media = replace(s.media, media=MediaKind.IMAGE, task_type=TaskType.TEXT_TO_IMAGE)
        s.unsure = True
        return Command.GENERATE
    about_the_bot = _about_the_bot(s)
    if about_the_bot and _ADDRESSEE_RE.search(s.scan.kept()) is not None:
        return Command.CHAT  # "@小李 看看机器人做的视频 牛不牛": asked of someone else
    if form is not None and not form.mark_only and (change := _asks_to_change(s)) is not None:
        return change  # "could you make it vertical?", "能再来一张吗": the last result, changed
    if form is not None and not form.mark_only and not _polite_request(s):
        return Command.CHAT if _mocks(s) or _impatient(s) else Command.QUESTION
    if about_the_bot:
        return Command.CHAT
    if _judges(s):
        return Command.CHAT
    if _hesitates(s):
        return Command.CHAT
    if s.edit is not None:
        return Command.EDIT
    if s.images and not directed and _vague_edit(s):
        return Command.NONE  # "帮我p一下", "clean this up" with a picture: what should change?
    if _remark(s) or _unasked(s, directed, requests) or _picture_remark(s, directed):
        return Command.CHAT
    if s.images and not directed and _captions(s) and _shows(s):
        return Command.CHAT  # "our new puppy!!", "周末去爬山拍的": a picture shown
    if _chatter(s, directed, requests):
        return Command.CHAT
    if s.described or (s.images and (s.media.media is not None or not directed)):
        return Command.GENERATE
    if directed and not d.always and s.media.media is not None:
        return Command.GENERATE
    if s.retry and not s.another_model:
        return Command.RETRY
    if d.model is not None:
        return Command.ALWAYS_MODEL if d.always else Command.USE_MODEL
    if d.quality is not None:
        return Command.BEST if d.quality is Quality.BEST else Command.CHEAPEST
    if s.another_model:
        return Command.ANOTHER_MODEL
    if (
        s.media.media is not None
        or s.media.conflict
        or s.has_parameters
        or s.media.mentions_input_image
        or requests
        or _WANT_RE.search(kept) is not None
    ):
        return Command.GENERATE  # "i want something": which medium?
    return Command.CHAT


_RESULT_RE = lexicon().pattern("edit.it", "edit.result", "edit.convert", "media.edit_clause_start")
_NOT_RESULT_RE = lexicon().pattern("edit.not_result")
_NAMED_RESULT_RE = lexicon().pattern("edit.result")
#: What a question asks about that no change of a result answers.
_TOPICS_ANSWERED = frozenset(
    {QuestionTopic.PRICE, QuestionTopic.TIME, QuestionTopic.MODELS, QuestionTopic.CREDITS}
)


def _asks_to_change(s: State) -> Command | None:
    """A change of the last result asked as a yes/no question ("can u put some music to it",
    "这个 video 能改成 9:16 吗", "能再来一张吗"): ``EDIT`` or ``RETRY``, which the engine carries
    on from the person's last result, or asks about when there is none. Not a question about
    prices, times or models, nor what a model or a medium can do ("can it do 4k?")."""
    form, question = s.question_form, s.question
    if form is None or not form.asks_to_do or question is None:
        return None
    if question.topic in _TOPICS_ANSWERED:
        return None
    view = _NOT_RESULT_RE.sub(" ", s.scan.original())
    # The result named ("…to it", "这个 video", "make it…"), or something new put into it with
    # no medium named ("could u add a seagull?"); "能加音效吗", "can you animate photos?" ask
    # what the bot can do.
    named = _RESULT_RE.search(view) is not None
    adds = s.edit is not None and s.edit.kind is EditKind.CONTENT and s.media.media is None
    if s.edit is not None and (named or (adds and form.subject)):
        return Command.EDIT
    if s.retry and not s.retry_weak and not s.described:
        return Command.RETRY
    return None


def _mocks(s: State) -> bool:
    """A question that laughs at or complains about a result ("这画的什么玩意儿 手都是六根指头",
    "why does it have 6 fingers lmao"), asking nothing the bot answers (price, models, time…)
    and nothing to make: a remark. "why do videos take so long?" is still answered."""
    question = s.question
    if question is None or question.topic not in (QuestionTopic.OTHER, QuestionTopic.ABOUT_INPUT):
        return False
    if s.edit is not None or s.retry or has_request_verb(_NO_REQUEST_RE.sub(" ", s.scan.edges())):
        return False  # "这画的什么玩意儿": a verb before 的 asks for nothing
    kept = s.scan.kept()
    if s.images and _IDENTITY_RE.search(kept) is not None:
        return False  # "what is this lol" with a picture: what it shows, asked
    laughs = _LAUGH_RE.search(kept) is not None and _WH_RE.search(kept) is not None
    mocks = laughs or _MOCKERY_RE.search(kept) is not None
    return mocks and FEEDBACK_RE.search(kept) is None


def _hesitates(s: State) -> bool:
    """Hesitation and nothing else ("我再想想", "算了 再说吧", "先别生成 我再想想", "not now"):
    a remark, although "再想想" reads like a change of degree."""
    kept = s.scan.kept()
    rest = _HESITATION_RE.sub(" ", kept)
    if rest == kept or s.media.media is not None or has_request_verb(rest):
        return False  # "想想做个视频": a wish to make one
    return not content_words(rest)


def _impatient(s: State) -> bool:
    """Impatience with the job under way asked as a question ("好了没??", "怎么还没好 等半天了",
    "is it done yet", "why is it so slow 😩"), asking for nothing else: a remark. "how long do
    videos take?" and "还要等多久" ask how long, and are answered."""
    question = s.question
    if question is None or question.topic not in (QuestionTopic.TIME, QuestionTopic.OTHER):
        return False
    if s.edit is not None or s.retry:
        return False
    # "画好了没": a verb inside the impatience asks for nothing
    return _IMPATIENCE_RE.search(s.scan.kept()) is not None and not has_request_verb(
        _IMPATIENCE_RE.sub(" ", s.scan.edges())
    )


def _about_the_bot(s: State) -> bool:
    """The bot's work talked about in the third person, to the others in the chat ("@小王 你看
    机器人画的比你好多了", "look @bob the bot draws better than you", "给你们看看它做的视频"),
    with no change, retry or other model asked for: a remark, whatever verb it has."""
    if s.edit is not None or s.retry or s.another_model:
        return False
    if s.directives.model is not None or s.directives.quality is not None:
        return False
    kept = s.scan.kept()
    if _BOT_WORK_RE.search(kept) is None:
        return False
    return not has_request_verb(_NO_REQUEST_RE.sub(" ", kept))


def _wonders_how_it_looks(s: State) -> bool:
    """ "i wonder what a cat astronaut would look like", "好想看看会飞的鲸鱼是什么样": a picture
    of something described, asked about nothing the bot answers (price, models, time…). The
    question word may be the person's own ("不知道…会是什么样子", "curious what … would look
    like"), or there is none ("好想看看赛博朋克版的故宫"): then no medium may be named ("draw a
    cat that looks like a lion" is a request)."""
    question = s.question
    if question is None:  # a wish must say so: "the result looks like crap" is a remark
        kept = s.scan.kept()
        wished = _WISH_RE.search(kept) is not None or _SEE_WISH_RE.search(kept) is not None
        wonders = s.media.media is None and wished
    else:
        wonders = question.topic is QuestionTopic.OTHER and s.media.media in (None, MediaKind.IMAGE)
    # Something to see beyond the wish: "would be so cool to see that" is a remark.
    seen = content_words(_LOOKS_RE.sub(" ", s.scan.kept()))
    return (
        wonders
        and s.described
        and bool(seen)
        and not s.images
        and not s.media.conflict
        and s.scan.search(_LOOKS_RE) is not None
    )


def _keeps_last_model(s: State) -> bool:
    """ "make it my default", "设成默认吧" with nothing else asked: the model just used."""
    found = s.scan.search(_KEEP_RE)
    if found is None:
        return False
    view = s.scan.view
    rest = _KEEP_FILLER_RE.sub(" ", view[: found.start()] + " " + view[found.end() :])
    return not content_words(rest)


def _polite_request(s: State) -> bool:
    """A request phrased as a question: "can you draw a cat?", "能帮我生成一个视频吗" (something
    to make, named), not "can you make videos?" or "能做音乐吗" (what the bot can do)."""
    form = s.question_form
    if form is None or not form.polite:
        return False
    if not s.images and s.scan.search(_GENERIC_PLURAL_RE) and not s.scan.search(_BENEFACTIVE_RE):
        return False  # "can u make videos from two pics, like a start and an end?"
    named = s.media.media is not None and s.scan.search(_BENEFACTIVE_RE) is not None
    # "can you use kling instead?": a model or quality asked for, nothing else said ("能不能
    # 用veo做video" asks what veo can do).
    directed = (
        not s.described
        and s.media.media is None
        and (s.directives.model is not None or s.directives.quality is not None)
    )
    more = s.edit is not None and s.edit.kind is EditKind.MORE  # "can i get 3 more like that"
    lyrics = s.lyrics is not None  # "can u make my lyrics into a song:⏎…"
    return (s.described and form.subject) or s.images > 0 or named or directed or more or lyrics


def _requests_elsewhere(s: State) -> bool:
    """Whether a clause other than the negated one asks for something ("别用sora，做个视频"),
    the negation only sets a name against another choice in a request ("a video of waves,
    anything but sora"), or a medium is described around it ("video of a fox but dont use
    sora"); never when the negation is for good or says why ("stop using sora, too pricey")."""
    if s.directives.contrast and (s.media.media is not None or s.described):
        return True
    if _STANDING_RE.search(s.scan.original()) is not None:
        return False  # "以后做视频别用可灵了 效果一般", "stop using sora, too pricey": for good
    if s.edit is not None:
        return True  # "改成竖屏的 别用sora": a change of the last result, without it
    if s.media.media is not None and s.described:
        return True  # "video of a fox … but dont use sora": a request, once without it
    view, at = s.scan.view, s.directives.avoided_at
    start = max((m.end() for m in _CLAUSE_END_RE.finditer(view, 0, at)), default=0)
    end_match = _CLAUSE_END_RE.search(view, at)
    end = end_match.start() if end_match else len(view)
    rest = view[:start] + " " + view[end:]
    # "画个龙 别用mj", "draw a dragon but not with midjourney": a described request before the
    # negation in the same clause; without a description ("做视频别用sora了") it stays a reset.
    described_before = s.described and has_request_verb(view[start:at])
    asked = has_request_verb(rest) or _WANT_RE.search(rest) is not None  # "gimme a pic, no mj"
    return s.images > 0 or described_before or asked


def _remark(s: State) -> bool:
    """Remarks, praise, complaints, feelings with nothing asked for, in a short message:
    "这张不错", "太慢了吧", "the colors are nice", "我今天好累"."""
    asked = (
        s.images
        or s.media.media is not None
        or s.media.conflict
        or s.has_parameters
        or s.lyrics is not None
        or (s.retry and not s.retry_weak)
        or s.directives.model is not None
        or s.directives.quality is not None
        or s.another_model
        or has_request_verb(s.scan.edges())
    )
    if asked or len(s.scan.raw) > SHORT:
        return False
    kept = s.scan.kept()
    waited = WAITED_RE.sub(" ", kept)  # "已经等了3分钟": a complaint
    reacts = waited != kept or _REACTION_RE.search(kept) is not None
    reacts = reacts or EMOJI_RE.search(kept) is not None
    rest = EMOJI_RE.sub(" ", _REMARK_WORDS_RE.sub(" ", waited))  # "thx!! this is sick 🔥"
    if reacts and len(content_words(rest)) <= 1:
        return True
    return _FIRST_PERSON_RE.match(kept) is not None and _WANT_RE.search(kept) is None


def _judges(s: State) -> bool:
    """An opinion about a medium or a model with nothing asked for, in a short message: "sora
    的视频好贵", "kling 视频太慢了", "veo videos look amazing", "我喜欢sora的视频"."""
    if s.images or len(s.scan.raw) > SHORT or s.has_settings or s.lyrics is not None:
        return False
    if s.edit is not None and s.edit.kind is not EditKind.MEDIA:
        return False  # "the picture is too bright, make it darker": a change asked for
    # The result named ("这个视频太暗了吧") is what the opinion is about, as a medium is.
    about = s.media.media is not None or s.directives.model is not None
    about = about or s.media.mentions_input_image  # "这张图好奇怪", no picture attached
    about = about or _NAMED_RESULT_RE.search(s.scan.original()) is not None
    if (s.count.value or 1) > 1 or s.retry or s.another_model or not about:
        return False
    kept = s.scan.kept()
    if _WANT_RE.search(kept) is not None:
        return False
    if has_request_verb(s.scan.edges()):
        return False
    if _NARRATION_RE.search(kept) is not None:
        return True  # "my friend made a video with this bot", "昨天看了个视频"
    names = any_model_name(s.model_names)  # a name not directed is what the opinion is about
    praise = _PRAISE_RE.sub(" ", kept)
    if praise != kept:  # "nice pic!", not "nice pic of a cat"
        return not content_words(_REMARK_WORDS_RE.sub(" ", praise))
    if _JUDGEMENT_RE.search(kept) is None:
        return False
    rest = _REMARK_WORDS_RE.sub(" ", _JUDGEMENT_RE.sub(" ", kept))
    return len(content_words(names.sub(" ", rest) if names else rest)) <= 1


def _unasked(s: State, directed: bool, requests: bool) -> bool:
    """A short message of chatter (a greeting, an ack, someone addressed, waiting, the bot
    talked about) that asks for nothing: no medium, picture, parameter, model, lyrics, request
    verb or wish ("大家晚上好", "gg", "@sam check this out", "等了半天"). A bare description
    ("a cat in space") or "something for my moms birthday" still asks which medium."""
    if len(s.scan.raw) > SHORT or directed or requests or s.retry or s.edit is not None:
        return False
    media = s.media
    if media.media is not None or media.conflict or media.mentions_input_image:
        return False
    if s.has_parameters or s.lyrics is not None or s.midjourney:
        return False
    kept = s.scan.kept()
    chatter = _CHATTER_RE.sub(" ", kept)
    return chatter != kept and _WANT_RE.search(chatter) is None


def _chatter(s: State, directed: bool, requests: bool) -> bool:
    """Words that ask for nothing and read as a remark ("又卡了 服了", "ugh i'm so tired", "真是
    越来越离谱"): no medium, picture, parameter, model, verb, want, edit or retry, and a mark of
    a remark (a person, a particle ending a clause, a laugh); a bare description ("a nice cat in
    space") still asks what to make."""
    if s.images or directed or requests or s.edit is not None or s.retry:
        return False
    media = s.media
    if media.media is not None or media.conflict or media.mentions_input_image:
        return False
    if s.has_parameters or s.lyrics is not None or s.midjourney or len(s.scan.raw) > SHORT:
        return False
    kept = s.scan.kept()
    if _WANT_RE.search(kept) is not None:
        return False
    return _REMARK_MARKER_RE.search(kept) is not None or _LAUGH_RE.search(kept) is not None


def _picture_remark(s: State, directed: bool) -> bool:
    """A picture shown with a laugh, chatter, a reaction or a word on where it comes from, and
    no request ("我家猫 哈哈哈", "look at my cat lol", "so cute", "这是我画的"): a remark about
    it, not a change to make."""
    if not s.images or directed or s.has_parameters:
        return False
    edges = s.scan.edges()
    if _EDIT_VERB_RE.search(edges) or len(s.scan.raw) > SHORT:
        return False
    kept = s.scan.kept()
    if _NARRATION_RE.search(kept) is not None:
        return True  # "这是我画的", "look what i made": the picture's story, no request
    if s.media.media is not None or has_request_verb(edges):
        return False
    if _LAUGH_RE.search(kept) is not None or _CHATTER_RE.search(kept) is not None:
        return True
    reacts = _REACTION_RE.search(kept) is not None
    return reacts and len(content_words(_REMARK_WORDS_RE.sub(" ", kept))) <= 1


def _captions(s: State) -> bool:
    """A picture with words that ask for nothing: no medium, model, parameter, sound wish,
    lyrics, frame or reference, request or edit verb, comparative, style or polite word ("my
    grandma's garden this morning 🌸", "old church downtown"); not an empty text."""
    media, sound = s.media, s.sound
    # A picture noun may say what the picture is ("my kid's drawing from school"); another
    # medium is asked for.
    if (
        media.media not in (None, MediaKind.IMAGE)
        or media.conflict
        or media.frames
        or media.reference
        or s.has_parameters
        or any(v is not None for v in (sound.audio, sound.vocal_gender, sound.instrumental))
        or s.lyrics is not None
        or s.midjourney
        or s.negative_prompt is not None
        or len(s.scan.raw) > SHORT
    ):
        return False
    edges, kept = s.scan.edges(), s.scan.kept()
    verb = has_request_verb(_SHOWING_RE.sub(" ", edges))  # "周末去爬山拍的": 拍 said when
    if verb or _EDIT_VERB_RE.search(edges) or _ASKS_RE.search(kept):
        return False
    return bool(content_words(kept)) or EMOJI_RE.search(kept) is not None


def _shows(s: State) -> bool:
    """A captioned picture that reads as shown: a word of when, where from or whose, an
    emoji, or one's own with a few words ("my cat", "我家猫")."""
    kept = s.scan.kept()
    if _SHOWING_RE.search(kept) is not None or EMOJI_RE.search(kept) is not None:
        return True
    own = _POSSESSIVE_RE.match(kept)
    if own is None:
        return False
    rest = kept[own.end() :].strip()
    return len(rest) <= _OWN_CHARS and len(content_words(rest)) <= _OWN_WORDS


def _vague_edit(s: State) -> bool:
    """A change to a picture that names no change: "帮我p一下", "edit this pls", "修一下"."""
    kept = s.scan.kept()
    vague = _VAGUE_EDIT_RE.sub(" ", kept)
    return vague != kept and not content_words(vague) and not s.has_parameters


#: A request this long (words, ideographs one each) that asks for something outright is not
#: made unsure by a question mark inside its description.
_LONG_REQUEST_WORDS = 8


def _musing_in_a_request(s: State) -> bool:
    """ "i need an image for my sister's bday … maybe max in a field of sunflowers?? make it
    bright": a question mark only (no question word), in a long request with a medium named
    and a request verb or a want."""
    form = s.question_form
    edges = s.scan.edges()
    return (
        form is not None
        and form.mark_only
        and s.media.media is not None
        and (has_request_verb(edges) or _WANT_RE.search(s.scan.kept()) is not None)
        and len(content_words(edges)) >= _LONG_REQUEST_WORDS
    )


def _unsure(s: State) -> bool:
    """Signals disagree (a question mark on a plain description, a request phrased as a
    question that is not clear-cut), a wish rather than a request, or mostly unknown words
    (in a short message: a long one is a real description)."""
    form = s.question_form
    if form is not None:
        # "能帮我画一只猫吗", "can you make a video of waves": for me, or one thing; "能不能生成
        # 带字的图" may ask what the bot can do.
        addressed = s.images > 0 or s.count.value is not None or bool(s.scan.search(_ONE_OR_ME_RE))
        clear = (
            form.polite
            and addressed
            and (s.described or s.images > 0)
            # the medium or the model named, or the picture to change is there
            and (s.media.media is not None or s.directives.model is not None or s.images > 0)
        ) or (form.polite and s.lyrics is not None)  # the words to sing are given
        if not (clear or _musing_in_a_request(s)):
            return True
    kept = s.scan.kept()
    if s.images and s.directives.model is None and s.directives.quality is None and _captions(s):
        return True  # "old church downtown" with a picture: what to change is not said
    return _WISH_RE.search(kept) is not None or (len(s.scan.raw) <= SHORT and _mostly_unknown(kept))


_LATIN_WORD_RE = re.compile(r"[A-Za-z]+")
_VOWELS = frozenset("aeiouy")
_CONSONANT_RUN_RE = re.compile(r"[b-df-hj-np-tv-xz]{6,}")
_REPEAT_RE = re.compile(r"(.)\1\1")
#: Three keys in a row, as a hand slides over a keyboard ("asdkjh", "qwezxc"); the runs that
#: English words have ("alert", "power", "party", "biopsy") are left out.
_KEYBOARD_RUNS = [
    "asd",
    "sdf",
    "dfg",
    "fgh",
    "ghj",
    "hjk",
    "jkl",
    "qwe",
    "tyu",
    "yui",
    "zxc",
    "xcv",
    "cvb",
    "vbn",
    "bnm",
]


def _odd(word: str) -> bool:
    """A Latin word no language has: no vowel, six consonants in a row, a letter three times
    over, a run of keys ("sdfsdf", "xkcdq", "asdkjh", "zzzz")."""
    w = word.lower()
    if len(w) < 4:
        return False
    return (
        not any(c in _VOWELS for c in w)
        or _CONSONANT_RUN_RE.search(w) is not None
        or _REPEAT_RE.search(w) is not None
        or any(run in w for run in _KEYBOARD_RUNS)
    )


def _mostly_unknown(kept: str) -> bool:
    """Most of what is described is gibberish ("asdkjh qwe video")."""
    described = content_words(kept)
    latin = [w for w in described if _LATIN_WORD_RE.fullmatch(w)]
    odd = [w for w in latin if _odd(w)]
    return bool(odd) and len(odd) * 2 >= len(described)
