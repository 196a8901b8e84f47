"""Both catalogs have every key, the same placeholders, and no technical words."""

from __future__ import annotations

import re
import string

import pytest

from core.i18n import Translator, normalize_locale

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
