"""core.parse: generations the parser is not sure of are made only after a confirmation."""

from __future__ import annotations

import pytest

from core.parse import Command
from tests.core.parse.support import GEN, IMAGE, T2I, Row, case, check, each

CASES = [
    # ── a question mark inside a long request is part of its description ──────────────────
    case(
        "long-request-musing",
        "i need a poster for my bands gig next friday at the old mill, something moody with neon"
        " lights?? make it pop",
        command=GEN,
        unsure=False,
    ),
    case("short-request-mark", "i want a video of a cat in space?", unsure=True),
    case("max-is-a-name", "a picture of my dog max in a field?", unsure=True, command=GEN),
    # ── wondering what something looks like: a picture, proposed first ─────────────────────
    *each(
        "looks",
        [
            "i wonder what a cat astronaut would look like",
            "what would a dragon made of glass look like?",
            "what does a quokka look like lol",
            "好想看看一只会飞的鲸鱼是什么样",
            "想知道赛博朋克风的长城长什么样子",
            "穿汉服的猫会是什么样",
            # the question word is the person's own, or there is none
            "不知道水墨风的埃菲尔铁塔会是什么样子",
            "kinda curious what a steampunk eiffel tower would look like",
            "不知道我家狗变成超级英雄会是啥样",
            "好奇月球上的长城会怎样",
            "好想看看赛博朋克版的故宫",
            "想瞧瞧穿西装的柴犬",
            "wonder what my cat would look like as a knight",
            "curious how a cyberpunk great wall would look",
            "would love to see a glass dragon",
            "i want to see a whale made of clouds",
            # "would be (so) cool to see …" and its family
            "would be so cool to see a tiger made of origami",
            "it'd be fun to see a cat running a bakery",
            "itd be sick to see a dragon made of clouds",
            "wouldn't it be cool to see a penguin in space",
            "be cool to see a lighthouse in a storm",
            "would be funny to see shrek as a k-pop idol lol",
        ],
        command=GEN,
        task_type=T2I,
        unsure=True,
    ),
    case(
        "looks-price-is-question",
        "what would a video look like and how much?",
        command=Command.QUESTION,
    ),
    case(
        "looks-video-is-question",
        "what would a video of a dragon look like?",
        command=Command.QUESTION,
    ),
    case("looks-remark", "the result looks like crap", unsure=False),
    case("see-wish-nothing-to-see", "would be so cool to see that", command=Command.CHAT),
    # ── a wish rather than a request ──────────────────────────────────────────────────────
    *each(
        "wish",
        [
            "would be cool to have a dragon pic someday",
            "maybe a cat video",
            "perhaps a song about rain",
            "one day a video of my dog would be nice",
            "some day a picture of the moon",
            "sometime a poster of a lighthouse",
            "eventually a song about us",
            "i wish i had a dragon pic",
            "i'd love to see a video of a whale",
            "would love to see a cat astronaut pic",
            "i'd like to see a song about rain",
            "if only there was a video of a whale",
            "it'd be fun to have a song about cats",
            "kinda want a picture of a bear",
            "thinking of a video of waves",
            "thinking about a cat poster",
            "what if a picture of a flying whale",
            "would be nice to get a sunset video",
            "我想要一个视频但是不知道做什么",
            "不确定要不要，一张猫的图片",
            "也许来一张猫的图片",
            "以后再做个视频吧",
            "一张猫的图片，再说吧",
            "可能要一张海报",
            "哪天给我画一只猫",
            "如果能有一首歌就好了",
            "想想做个视频",
            "或许一张猫的图片",
            "改天做个视频",
            "有机会画一只猫",
            "有空的时候画一只猫",
            "犹豫要不要一张猫的图片",
            "考虑做一个视频",
            "要是有一张猫的图片",
            "随便吧，一张猫的图片",
            "would be sick to have a trailer for our dnd campaign",
            "it'd be so cool to get a promo for my band",
            "curious to see a vlog of a cat's day",
            "要是能把我们年会做成电影预告片就好了",
            "imagine a trailer for our wedding lol that'd be epic",
            "a song about my dog, that would be fun",
            "bet a video of our team as superheroes would go hard",
            "a song about our trip would slap",
            "a poster of my cat would hit different",
            "a lofi track about rain would be a vibe",
            "想象一下 做个月球上的长城的视频",
        ],
        command=GEN,
        unsure=True,
    ),
    case("a-cat-that-looks-like", "draw a cat that looks like a lion", command=GEN, unsure=False),
    # ── mostly unknown words ──────────────────────────────────────────────────────────────
    *each(
        "gibberish",
        [
            "asdkjh qwe video",
            "sdfsdf pic",
            "xkqzvb image",
            "zzzzz song",
            "qwerty uiop picture",
            "hjkl jkl video",
            "bcdfgh video",
        ],
        command=GEN,
        unsure=True,
    ),
    # ── clear requests are not unsure ─────────────────────────────────────────────────────
    *each(
        "sure",
        [
            "draw a cat",
            "a video of waves at sunset",
            "画一只猫",
            "写一首关于夏天的歌",
            "can you draw a cat?",
            "a strengths and weaknesses poster",
            "make a logo for kfc",
        ],
        command=GEN,
        unsure=False,
    ),
    case("long-description-not-gibberish", "video of " + "qwxz " * 60, command=GEN, unsure=False),
    # Wishes and doubt: shown with a price, made on a tap.
    *each(
        "wish-more",
        [
            "this would look sick as a video idk",
            "a castle on a cloud would look amazing as a poster",
            "好想要一张 our band 的 poster 啊",
            "真想看看一只会飞的鲸鱼的图",
            "idk maybe a video of rain",
        ],
        command=GEN,
        unsure=True,
    ),
    case("wish-if-only-see", "要是能看到会飞的鲸鱼就好了", command=GEN, media=IMAGE, unsure=True),
    case("wish-hope-see", "真希望能见到赛博朋克版的长城", command=GEN, unsure=True),
    # deferred: proposed first
    *each(
        "deferred",
        [
            "下次再做视频吧",
            "明天再画吧 今天太晚了",
            "等会儿再 generate 图片",
            "晚点再做个视频",
            "回头再弄个海报",
            "过两天再写首歌",
            "i'll make a video of the trip later",
            "gonna do it later, a poster for the party",
            "maybe a song about rain next time",
            "we will draw a dragon another time",
        ],
        command=GEN,
        unsure=True,
    ),
]


@pytest.mark.parametrize("row", CASES)
def test_parse(row: Row) -> None:
    check(row)
