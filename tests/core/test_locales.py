"""Both catalogs have every key, the same placeholders, no technical words, and numbers with
the right forms of the words after them."""

from __future__ import annotations

import re
import string

import pytest

from core.i18n import Translator, normalize_locale, plural

TECHNICAL = re.compile(
    r"\b(API|HTTP|script|polling|attribute_id|model_version|form_config|product list)\b"
    r"|轮询|脚本|接口|商品列表|\b(4\d\d|5\d\d|6\d{3})\b",
    re.IGNORECASE,
)
translator = Translator.load()
KEYS = sorted(set(translator.catalogs["en"]) | set(translator.catalogs["zh"]))


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_both_locales_exist() -> None:
    assert set(translator.catalogs) == {"en", "zh"}


@pytest.mark.parametrize("key", KEYS)
def test_key_in_both_with_same_placeholders(key: str) -> None:
    en = translator.catalogs["en"].get(key)
    zh = translator.catalogs["zh"].get(key)
    assert en is not None, f"{key} missing in en"
    assert zh is not None, f"{key} missing in zh"
    assert placeholders(en) == placeholders(zh)


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("locale", ["en", "zh"])
def test_rendered_message_has_no_technical_words(key: str, locale: str) -> None:
    values = {name: "Nano Banana Pro" for name in placeholders(translator.catalogs[locale][key])}
    text = translator.t(locale, key, **values)
    assert text.strip()
    assert not TECHNICAL.search(text), text


def test_zh_texts_are_chinese() -> None:
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for key, text in translator.catalogs["zh"].items():
        words = re.sub(r"\{[a-z_]+\}", "", text)
        if any(ch.isalpha() for ch in words):  # "• {kind}：{model}" has nothing to translate
            assert cjk.search(words), key


@pytest.mark.parametrize(
    ("hint", "expected"),
    [("zh-CN", "zh"), ("zh_TW", "zh"), ("en-US", "en"), ("ja", "en"), (None, "en"), ("", "en")],
)
def test_normalize_locale(hint: str | None, expected: str) -> None:
    assert normalize_locale(hint) == expected


#: English words after a number, singular and plural.
NOUNS = ("pt", "credit", "creation", "second", "character")
ONE_PLURAL = re.compile(rf"\b1 ({'|'.join(n + 's' for n in NOUNS)})\b")
MANY_SINGULAR = re.compile(rf"\b5 ({'|'.join(NOUNS)})\b")


@pytest.mark.parametrize("locale", ["en", "zh"])
def test_every_message_with_one_and_with_many(locale: str) -> None:
    for key, template in translator.catalogs[locale].items():
        names = placeholders(template)
        one = translator.t(locale, key, **dict.fromkeys(names, 1))
        many = translator.t(locale, key, **dict.fromkeys(names, 5))
        for text in (one, many):
            assert "|" not in text, (key, text)
        assert not ONE_PLURAL.search(one), (key, one)
        assert not MANY_SINGULAR.search(many), (key, many)


def test_english_plurals() -> None:
    t = translator.t
    assert t("en", "success.credits", credits=1) == "• Credits: 1 pt"
    assert t("en", "success.credits", credits=0) == "• Credits: 0 pts"
    assert t("en", "choice.model", model="Wan 2.6", credits="25–40") == "Wan 2.6 · 25–40 pts"
    assert t("en", "limit.user_cap", credits=1, cap=1, per="per day", left=0, reset="1 hour") == (
        "This costs 1 credit, more than you have left of your limit of 1 credit per day (0 left)."
        " It resets in 1 hour."
    )
    assert t("en", "queue.starts_in", minutes=2) == "• It should start in about 2 minutes."


def test_chinese_has_one_form_for_every_number() -> None:
    assert [plural("zh", n) for n in (0, 1, 2)] == ["other"] * 3
    assert [plural("en", n) for n in (0, 1, "1", 2, "5–10", 1.5)] == [
        "other", "one", "one", "other", "other", "other",
    ]  # fmt: skip
    assert translator.t("zh", "success.credits", credits=1) == "• 消耗积分：1 积分"
    assert translator.t("zh", "queue.position", position=1) == "• 排队位置：第 1 位"
