"""The understanding corpus keeps its format and the mix of messages it was written with."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from bench.understanding.score import load_corpus

CORPUS = Path(__file__).resolve().parents[2] / "bench" / "understanding" / "corpus.jsonl"


def shares(counts: Counter[str], total: int) -> dict[str, float]:
    return {key: count / total for key, count in counts.items()}


def test_corpus_is_well_formed_and_mixed_as_intended() -> None:
    items = load_corpus(CORPUS)  # raises, naming each broken item
    total = len(items)
    assert total >= 420
    groups = shares(Counter(i["group"] for i in items), total)
    assert 0.35 <= groups["zh"] <= 0.45
    assert 0.35 <= groups["en"] <= 0.45
    assert 0.15 <= groups["mixed"] <= 0.25

    def kind(expect: dict[str, object]) -> str:
        return "followup" if expect["continues"] else str(expect["action"])

    kinds = shares(Counter(kind(i["expect"]) for i in items), total)
    assert 0.33 <= kinds["generate"] <= 0.40  # "about 35 %": categories add other kinds
    assert 0.18 <= kinds["answer"] <= 0.22
    # Remarks grew with issue 12's categories (pictures shown, slang, mockery): up to 12 %.
    assert 0.08 <= kinds["chat"] <= 0.12
    assert 0.09 <= kinds["preference"] <= 0.12
    assert 0.12 <= kinds["followup"] <= 0.15
    assert kinds["confirm"] < kinds["ask"]


def test_followups_mostly_do_not_quote_the_result() -> None:
    followups = [i for i in load_corpus(CORPUS) if i["expect"]["continues"]]
    quoted = [i for i in followups if i["reply_to_last"]]
    assert len(quoted) < len(followups) / 5


def test_about_half_the_generate_items_name_words_the_prompt_keeps() -> None:
    generate = [i for i in load_corpus(CORPUS) if i["expect"]["action"] == "generate"]
    with_words = [i for i in generate if "prompt_contains" in i["expect"]]
    assert 0.4 <= len(with_words) / len(generate) <= 0.65


def test_texts_are_not_repeated() -> None:
    seen = Counter((i["text"], tuple(i["context"]), i["images"]) for i in load_corpus(CORPUS))
    assert [key for key, count in seen.items() if count > 1] == []
