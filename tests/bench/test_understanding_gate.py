"""The CI gate on understanding: the real `ima-bot understand` dry run over the whole corpus,
scored against the recorded baseline. It fails on any credit spent without being asked, or on
any figure (action overall and per group, task type, params, follow-ups) below the baseline.

One process, the in-process simulator, nothing spent; about 20 s on the CI machine.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.understanding.score import load_corpus, regressions, run_bot, score

BENCH = Path(__file__).resolve().parents[2] / "bench" / "understanding"


def test_corpus_is_understood_at_least_as_well_as_the_baseline() -> None:
    items = load_corpus(BENCH / "corpus.jsonl")
    report = score(items, run_bot(BENCH / "corpus.jsonl"))
    baseline = json.loads((BENCH / "baseline.json").read_text("utf-8"))
    assert regressions(report, baseline) == []
