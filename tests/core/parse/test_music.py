"""core.parse: Music: songs, instrumentals, vocals, lyrics."""

from __future__ import annotations

import pytest

from tests.core.parse.support import GEN, IMAGE, MUSIC, T2M, Row, case, check, each

CASES = [
    # ── words between the lyrics label and its colon ─────────────────────────────────────
    case(
        "zh-lyrics-given",
        "用suno做首说唱 男声 歌词我给你：早八人 早八魂",
        command=GEN,
        media=MUSIC,
        lyrics="早八人 早八魂",
    ),
    case("zh-lyrics-written", "写首歌 歌词我写好了：月亮弯弯", command=GEN, lyrics="月亮弯弯"),
    case("zh-lyrics-here", "做首歌 歌词在这：风吹过麦田", command=GEN, lyrics="风吹过麦田"),
    case("zh-lyrics-to-you", "写首民谣 歌词给你：小河弯弯", command=GEN, lyrics="小河弯弯"),
    case("en-male-vox", "synthwave track about night drives, male vox", vocal_gender="male"),
    case("en-female-vox", "a lullaby with female vox", vocal_gender="female"),
    # ── the lyrics label ending its line, no colon: the lyrics are the lines below ──────────
    case(
        "zh-lyrics-break",
        "用suno写首民谣 歌词如下\n窗外的雨停了\n你还没回来",
        command=GEN,
        media=MUSIC,
        lyrics="窗外的雨停了\n你还没回来",
    ),
    case(
        "en-lyrics-break",
        "make a song with these lyrics\nsunday morning\nno alarm",
        command=GEN,
        media=MUSIC,
        lyrics="sunday morning\nno alarm",
    ),
    case("lyrics-break-remark", "love the lyrics\nso much", lyrics=None),
    case("zh-folk-song", "写首民谣 关于故乡的秋天", command=GEN, media=MUSIC),
    case("zh-folk-song-style", "来一首民歌", command=GEN, media=MUSIC),
    # ── lyrics introduced in other words, kept verbatim; counts of songs ───────────────────
    # a line naming the lyrics and ending with a colon, the lyrics on the lines below
    case(
        "zh-lyrics-line",
        "帮我把歌词谱成歌：\n月亮挂在天上\n我在窗前想你",
        command=GEN,
        media=MUSIC,
        lyrics="月亮挂在天上\n我在窗前想你",
    ),
    case(
        "zh-lyrics-line-sing",
        "把这些歌词唱出来 女声：\n晚风吹过小巷",
        command=GEN,
        vocal_gender="female",
        lyrics="晚风吹过小巷",
    ),
    case(
        "zh-lyrics-line-compose",
        "这段歌词帮我编曲：\n风吹过山岗",
        command=GEN,
        media=MUSIC,
        lyrics="风吹过山岗",
    ),
    case(
        "en-lyrics-line",
        "turn these lyrics into a song:\nthe night is young\nwe are free",
        command=GEN,
        media=MUSIC,
        lyrics="the night is young\nwe are free",
    ),
    case(
        "en-lyrics-line-polite",
        "can u make my lyrics into a pop song, male vocals:\nwalking home alone",
        command=GEN,
        vocal_gender="male",
        lyrics="walking home alone",
        unsure=False,
    ),
    case(
        "en-lyrics-line-sing",
        "sing these lyrics for me:\nhold on\nlet go",
        command=GEN,
        lyrics="hold on\nlet go",
    ),
    case(
        "en-lyrics-line-set",
        "set these lyrics to music:\nhold on",
        command=GEN,
        lyrics="hold on",
    ),
    case("zh-lyrics-line-write", "给这些歌词作曲：\n春天来了", command=GEN, lyrics="春天来了"),
    *each(
        "lyrics-line-word",
        [
            "用这段词做首歌：\n春风十里",
            "帮我唱这段：\n春风十里",
            "我写了几句词 帮我谱曲：\n春风十里",
            "把这首诗唱出来：\n春风十里",
            "这几句 做成一首歌：\n春风十里",
            "here's my poem, make it a song:\n春风十里",
            "turn these words into a jingle:\n春风十里",
            "sing these lines:\n春风十里",
            "make my verses into a song:\n春风十里",
        ],
        command=GEN,
        lyrics="春风十里",
    ),
    case("zh-lyrics-line-video", "这段视频做成歌：\n哈哈", lyrics=None),
    case("zh-lyrics-line-remark", "歌词写得真好：\n哈哈", lyrics=None),
    case(
        "en-song-with-these-lyrics",
        "song with these lyrics: [verse] i left my keys in the fridge / [chorus] oh what a day",
        command=GEN,
        media=MUSIC,
        lyrics="[verse] i left my keys in the fridge / [chorus] oh what a day",
        prompt="",
    ),
    case("en-using-the-following", "a ballad using the following lyrics: stay", lyrics="stay"),
    case(
        "en-section-tags",
        "[Verse]\nI walk alone\n[Chorus]\nhold me tight",
        lyrics="[Verse]\nI walk alone\n[Chorus]\nhold me tight",
        media=MUSIC,
    ),
    case(
        "en-tag-numbered",
        "a pop song\nVerse 1:\nsun\nChorus:\nyoung",
        lyrics="Verse 1:\nsun\nChorus:\nyoung",
    ),
    case(
        "en-tag-bridge",
        "song pls [bridge 2] la la [outro] bye",
        lyrics="[bridge 2] la la [outro] bye",
    ),
    case(
        "en-tag-more",
        "[intro] hey [hook] yeah [pre-chorus] go",
        lyrics="[intro] hey [hook] yeah [pre-chorus] go",
    ),
    case(
        "en-tag-pre-chorus",
        "a song\npre-chorus: go go\nbridge: stop",
        lyrics="pre-chorus: go go\nbridge: stop",
    ),
    case(
        "zh-section-tags",
        "写首歌 [主歌] 月亮弯弯 [副歌] 照九州",
        lyrics="[主歌] 月亮弯弯 [副歌] 照九州",
    ),
    case(
        "zh-tag-colon",
        "写首歌\n主歌1：月亮弯弯\n副歌：照九州",
        lyrics="主歌1：月亮弯弯\n副歌：照九州",
    ),
    case(
        "zh-tag-more",
        "来首歌 [前奏] 啦 [桥段] 嗯 [尾奏] 哦",
        lyrics="[前奏] 啦 [桥段] 嗯 [尾奏] 哦",
    ),
    case("en-chorus-is-content", "draw a chorus of angels singing", lyrics=None),
    case("en-here-are-lyrics", "here are the lyrics: la la la", lyrics="la la la", media=MUSIC),
    case("en-my-lyrics", "my lyrics: la la", lyrics="la la"),
    case(
        "zh-only-lyrics-prompt",
        "生成一首歌，歌词：月光洒在窗台上 我想起你的模样",
        lyrics="月光洒在窗台上 我想起你的模样",
        prompt="",
    ),
    case("zh-with-these-lyrics", "写首歌 用这些歌词：花开了", lyrics="花开了", media=MUSIC),
    case("zh-following-lyrics", "下面是歌词：春天来了", lyrics="春天来了"),
    case("zh-described-and-lyrics", "写首歌 关于夏天 歌词：蝉鸣", lyrics="蝉鸣", prompt="关于夏天"),
    case("en-two-jingles", "make 2 jingles for my podcast intro, no vocals", count=2, media=MUSIC),
    case("en-couple-of-songs", "couple of songs about rain", count=2, media=MUSIC),
    case("en-three-beats", "3 beats for my stream, lofi", count=3),
    case("en-two-loops", "two loops, chill", count=2),
    case("en-two-ballads", "2 ballads about the sea", count=2),
    case("zh-two-songs", "两首 关于夏天的歌", count=2, media=MUSIC),
    # ── music ────────────────────────────────────────────────────────────────────────────
    case(
        "en-lofi-lyrics",
        "make a lo-fi song, female vocals, lyrics: Rain on the window\nCoffee in my hand",
        media=MUSIC,
        task_type=T2M,
        vocal_gender="female",
        lyrics="Rain on the window\nCoffee in my hand",
        prompt="a lo-fi song, female vocals",
    ),
    case("zh-instrumental", "纯音乐 钢琴 放松", instrumental=True, media=MUSIC, prompt="钢琴 放松"),
    case("zh-5-minutes", "5分钟的音乐", music_duration=300, duration=None, media=MUSIC),
    case("zh-two-minute-song", "两分钟的歌，关于夏天", music_duration=120),
    case("en-3-minute", "make a 3 minute track, chill lo-fi", music_duration=180, media=MUSIC),
    case(
        "zh-summer-song",
        "写一首关于夏天的歌，男声",
        media=MUSIC,
        vocal_gender="male",
        prompt="关于夏天的歌，男声",
    ),
    case("zh-bgm", "来首欢快的背景音乐", media=MUSIC, prompt="欢快的背景音乐"),
    case(
        "zh-lyrics-only",
        "歌词：\n第一行\n\n\n\n第二行",
        media=MUSIC,
        lyrics="第一行\n\n第二行",
        prompt="",
    ),
    case("en-no-vocals", "upbeat electronic music, 120 BPM, no vocals", instrumental=True),
    case("en-with-vocals", "a song with vocals about the sea", instrumental=False, media=MUSIC),
    case("zh-doubao-bgm", "DouBao BGM 来一段轻松的咖啡馆音乐", model="DouBao BGM", media=MUSIC),
    case(
        "zh-suno-song",
        "用 Suno 写一首歌",
        command=GEN,
        model="Suno",
        media=MUSIC,
        prompt="",
    ),
    case("en-rain-song", "a song about rain", media=MUSIC, task_type=T2M),
    case("zh-song-empty", "来首歌", command=GEN, media=MUSIC, prompt=""),
    case("en-decade-track", "80s synthwave track", music_duration=None, media=MUSIC),
    case("en-1920s", "a 1920s jazz song", music_duration=None, duration=None),
    case("zh-two-songs", "两首歌，说唱风格", count=2, media=MUSIC),
    case("zh-music-for-my-video", "给我的视频配乐", media=MUSIC),
    case("en-race-track", "a race track at sunset, poster", media=IMAGE),
    case(
        "mixed-suno-female",
        "用Suno写一首lo-fi歌曲，female vocals",
        model="Suno",
        vocal_gender="female",
        media=MUSIC,
    ),
    case("music-images-ignored", "为这张图配一首歌", 1, media=MUSIC, task_type=T2M),
    # ── a piece for an instrument is music; a poem counted with 首 is no song (issue 12) ──
    *each(
        "instrument-piece",
        [
            "a sad piano piece",
            "acoustic guitar pieces for a rainy day",
            "an 8-bit chiptune for my game",
        ],
        command=GEN,
        media=MUSIC,
    ),
    *each(
        "poem-is-no-song", ["写一首关于秋天的诗", "来一首古诗，关于月亮"], command=GEN, media=None
    ),
    case("song-still-song", "写一首关于秋天的歌", media=MUSIC),
]


@pytest.mark.parametrize("row", CASES)
def test_parse(row: Row) -> None:
    check(row)
