"""The understanding scorer: every figure on small hand-made corpora and predictions."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from bench.understanding import score as scoring
from bench.understanding.score import (
    CorpusError,
    Rate,
    baseline_of,
    corpus_problems,
    read_jsonl,
    regressions,
    render,
    run_bot,
    score,
)


def item(
    item_id: str,
    action: str,
    *,
    text: str = "some message",
    group: str = "en",
    task_type: str | None = None,
    model: str | list[str] | None = None,
    params: dict[str, Any] | None = None,
    n: int | None = None,
    continues: bool = False,
    reply: bool = False,
    context: tuple[str, ...] = (),
    preference: dict[str, Any] | None = None,
    words: list[str] | None = None,
) -> dict[str, Any]:
    if action in ("generate", "confirm") and task_type is None:
        task_type = "text_to_image"
    expect: dict[str, Any] = {
        "action": action,
        "task_type": task_type,
        "model": model,
        "params": params or {},
        "n": n,
        "continues": continues,
        "preference": preference,
    }
    if words:
        expect["prompt_contains"] = words
    return {
        "id": item_id,
        "text": text,
        "images": 0,
        "lang": "zh" if group == "zh" else "en",
        "group": group,
        "context": list(context),
        "reply_to_last": reply,
        "expect": expect,
    }


def guess(item_id: str, action: str, **fields: Any) -> dict[str, Any]:
    return {"id": item_id, "action": action, **fields}


def test_action_accuracy_overall_per_group_per_action_and_confusion() -> None:
    items = [
        item("a", "generate", group="zh"),
        item("b", "answer", group="zh"),
        item("c", "chat", group="en"),
        item("d", "ask", group="mixed"),
        item("e", "answer", group="mixed"),
    ]
    predictions = [
        guess("a", "generate"),
        guess("b", "answer"),
        guess("c", "answer"),
        guess("d", "ask"),
        # nothing printed for "e"
    ]
    report = score(items, predictions)
    assert report.items == 5
    assert report.overall == Rate(3, 5)
    assert report.groups == {"zh": Rate(2, 2), "en": Rate(0, 1), "mixed": Rate(1, 2)}
    assert report.recall["answer"] == Rate(1, 2)
    assert report.recall["chat"] == Rate(0, 1)
    assert report.recall["refuse"] == Rate(0, 0)
    assert report.recall["refuse"].value is None
    assert report.confusion["chat"]["answer"] == 1
    assert (
        "| expected | generate | confirm | answer | ask | preference | refuse | chat | (none) |"
        in (render(report, markdown=True))
    )
    assert report.confusion["answer"] == {
        **dict.fromkeys(scoring.ACTIONS, 0),
        "answer": 1,
        scoring.NO_PREDICTION: 1,
    }


def test_generate_figures_count_only_items_expected_and_predicted_generate() -> None:
    items = [
        item(
            "img",
            "generate",
            task_type="text_to_image",
            model="Nano Banana Pro",
            params={"aspect_ratio": "9:16", "size": "4K"},
            n=2,
            words=["Shiba", "墨镜"],
        ),
        item(
            "vid",
            "generate",
            task_type="text_to_video",
            model=["Kling O1", "Kling 2.6"],
            params={"duration": 10, "resolution": "1080P"},
            words=["waves"],
        ),
        item("song", "generate", task_type="text_to_music", params={"instrumental": True}),
        # Predicted "confirm": none of its figures count.
        item("unsure", "generate", model="Midjourney", params={"size": "2K"}, n=3),
    ]
    predictions = [
        guess(
            "img",
            "generate",
            task_type="text_to_image",
            model="nano banana pro",
            # `wishes` is what was asked; `params` what the model got: wishes win.
            wishes={"aspect_ratio": "9:16", "size": "2K"},
            params={"aspect_ratio": "9:16", "size": "4K"},
            n=2,
            prompt="a shiba inu wearing 墨镜",
        ),
        guess(
            "vid",
            "generate",
            task_type="image_to_video",
            model="Kling 2.6",
            params={"duration": "10", "resolution": "1080p"},  # no wishes: params are read
            prompt="the sea at dusk",
        ),
        guess("song", "generate", task_type="text_to_music", wishes={"instrumental": True}),
        guess("unsure", "confirm", model="Midjourney"),
    ]
    report = score(items, predictions)
    assert report.task_type == Rate(2, 3)
    assert report.model == Rate(2, 2)  # a list means any of those; case does not matter
    assert report.params == Rate(2, 3)
    assert report.param_keys == {
        "aspect_ratio": Rate(1, 1),
        "duration": Rate(1, 1),
        "instrumental": Rate(1, 1),
        "resolution": Rate(1, 1),
        "size": Rate(0, 1),
    }
    assert report.n == Rate(1, 1)
    assert report.prompt == Rate(1, 2)


def test_a_wrong_model_or_count_is_counted_wrong() -> None:
    items = [item("a", "generate", model="Suno", n=1), item("b", "generate", model="Sora 2 Pro")]
    predictions = [guess("a", "generate", model="DouBao - Song", n=2), guess("b", "generate")]
    report = score(items, predictions)
    assert report.model == Rate(0, 2)
    assert report.n == Rate(0, 1)


def test_unquoted_followups_need_the_right_action_and_continues() -> None:
    context = ("draw a cat",)
    items = [
        item("right", "generate", continues=True, context=context),
        item("not-carried-on", "generate", continues=True, context=context),
        item("wrong-action", "generate", continues=True, context=context),
        item("quoted", "generate", continues=True, context=context, reply=True),
        item("fresh", "generate"),
    ]
    predictions = [
        guess("right", "generate", continues=True),
        guess("not-carried-on", "generate", continues=False),
        guess("wrong-action", "ask", continues=True),
        guess("quoted", "chat", continues=False),
        guess("fresh", "generate", continues=False),
    ]
    assert score(items, predictions).followups == Rate(1, 3)


def test_spending_on_anything_but_a_request_is_listed() -> None:
    items = [
        item("q", "answer", text="how much is a video?"),
        item("maybe", "confirm", text="i wonder what a cat astronaut looks like"),
        item("asked", "generate", text="draw a cat"),
        item("thanks", "chat", text="thanks"),
    ]
    predictions = [
        guess("q", "generate"),
        guess("maybe", "generate"),
        guess("asked", "generate"),
        guess("thanks", "chat"),
    ]
    spent = score(items, predictions).spent_unasked
    assert [(s.id, s.expected, s.text) for s in spent] == [
        ("q", "answer", "how much is a video?"),
        ("maybe", "confirm", "i wonder what a cat astronaut looks like"),
    ]


def test_preferences_need_the_op_and_the_expected_model() -> None:
    items = [
        item("set", "preference", preference={"op": "set", "model": "Kling O1"}),
        item("family", "preference", preference={"op": "reset", "model": ["Hailuo 2.3", "x"]}),
        item("cheap", "preference", preference={"op": "set", "model": None}),
        item("wrong-op", "preference", preference={"op": "show", "model": None}),
        item("missed", "preference", preference={"op": "another", "model": None}),
    ]
    predictions = [
        guess("set", "preference", preference={"op": "set", "model": "Kling 2.6"}),
        guess("family", "preference", preference={"op": "reset", "model": "Hailuo 2.3"}),
        guess("cheap", "preference", preference={"op": "set", "model": "Nano Banana 2"}),
        guess("wrong-op", "preference", preference={"op": "reset", "model": None}),
        guess("missed", "chat", preference=None),
    ]
    assert score(items, predictions).preference == Rate(2, 4)


def test_predictions_for_unknown_ids_are_listed_and_duplicates_refused() -> None:
    items = [item("a", "chat")]
    report = score(items, [guess("a", "chat"), guess("zz", "chat")])
    assert report.unknown_ids == ("zz",)
    assert report.overall == Rate(1, 1)
    with pytest.raises(CorpusError, match="twice"):
        score(items, [guess("a", "chat"), guess("a", "answer")])


def test_figures_baselines_and_regressions() -> None:
    items = [
        item("a", "generate", group="zh", params={"duration": 5}),
        item("b", "answer", group="en"),
        item("c", "chat", group="en"),
    ]
    report = score(
        items,
        [guess("a", "generate", wishes={"duration": 5}), guess("b", "answer"), guess("c", "ask")],
    )
    baseline = baseline_of(report)
    assert list(baseline) == list(scoring.BASELINE_KEYS)
    assert baseline["overall"] == 0.6667  # stored rounded, 2 of 3
    assert baseline["mixed"] is None  # nothing to count
    assert regressions(report, baseline) == []  # a run never fails against its own figures
    worse = regressions(report, {**baseline, "en": 0.75, "mixed": 0.5})
    assert worse == [
        "en: 50.0% now, 75.0% in the baseline",
        "mixed: 0.0% now, 50.0% in the baseline",
    ]
    assert regressions(report, {"en": None}) == []
    with pytest.raises(CorpusError, match="unknown figures: speed"):
        regressions(report, {"speed": 1.0})


def test_any_spend_unasked_is_a_regression() -> None:
    report = score([item("a", "answer")], [guess("a", "generate")])
    assert regressions(report, {}) == ["spent without being asked on 1 items"]


def test_corpus_problems_name_the_item_and_the_field() -> None:
    good = item("ok", "generate", params={"aspect_ratio": "9:16"}, words=["message"])
    assert corpus_problems([good]) == []
    broken = [
        good,
        item("ok", "chat"),
        item("no-task", "generate", task_type=None) | {"lang": "fr"},
        item("odd-param", "generate", params={"aspect_ratio": "2:3", "fps": 60, "duration": "5"}),
        item("orphan", "generate", continues=True, words=["dragon"]),
        item("pref", "preference", preference={"op": "forget", "model": None}),
        item("songs", "generate", task_type="text_to_music", n=3),
    ]
    broken[2]["expect"]["task_type"] = None
    assert corpus_problems(broken) == [
        "ok: id used twice",
        "no-task: lang is not one of ('zh', 'en')",
        "no-task: generate needs a task_type from " + str(scoring.TASK_TYPES),
        "odd-param: param aspect_ratio is not one of ('16:9', '9:16', '1:1', '4:3', '3:4', '21:9')",
        "odd-param: unknown param 'fps'",
        "odd-param: param duration is not int",
        "orphan: continues a result but has no context that made one",
        "orphan: prompt_contains 'dragon' is not in the text or context",
        "pref: preference needs an op from " + str(scoring.PREFERENCE_OPS),
        "songs: n is not null or 1-2",
    ]


def test_read_jsonl_names_the_bad_line() -> None:
    assert read_jsonl(['{"id": "a"}', "", '{"id": "b"}'], "f") == [{"id": "a"}, {"id": "b"}]
    with pytest.raises(CorpusError, match="f:2: not JSON"):
        read_jsonl(['{"id": "a"}', "starting the bot..."], "f")
    with pytest.raises(CorpusError, match="f:1: not a JSON object"):
        read_jsonl(["[1, 2]"], "f")


def test_render_as_text_and_markdown() -> None:
    items = [item("a", "answer", text="能做视频吗"), item("b", "generate", model="Suno")]
    report = score(items, [guess("a", "generate"), guess("b", "generate", model="Suno")])
    text = render(report)
    assert "== Action (2 messages)" in text
    assert "Spent without being asked: 1" in text
    assert "a (expected answer): 能做视频吗" in text
    markdown = render(report, markdown=True)
    assert "| all | 50.0% | 1/2 |" in markdown
    assert "| model (where one is expected) | 100.0% | 1/1 |" in markdown
    assert "| n (where expected) | — | 0/0 |" in markdown
    assert (
        "| expected | generate | confirm | answer | ask | preference | refuse | chat |" in markdown
    )
    assert "- a (expected answer): 能做视频吗" in markdown


def write_lines(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def test_cli_reads_predictions_writes_and_checks_baselines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = write_lines(tmp_path / "corpus.jsonl", [item("a", "chat"), item("b", "answer")])
    predictions = write_lines(
        tmp_path / "predictions.jsonl", [guess("a", "chat"), guess("b", "ask")]
    )
    base = tmp_path / "baseline.json"
    argv = ["--corpus", str(corpus), "--predictions", str(predictions)]
    assert scoring.main([*argv, "--write-baseline", str(base)]) == 0
    assert json.loads(base.read_text())["overall"] == 0.5
    assert scoring.main([*argv, "--check", str(base), "--markdown"]) == 0
    assert "| all | 50.0% | 1/2 |" in capsys.readouterr().out
    base.write_text(json.dumps({"overall": 0.9}))
    assert scoring.main([*argv, "--check", str(base)]) == 1
    assert "overall: 50.0% now, 90.0% in the baseline" in capsys.readouterr().err


def test_cli_refuses_a_broken_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = write_lines(tmp_path / "corpus.jsonl", [item("a", "shrug")])
    predictions = write_lines(tmp_path / "predictions.jsonl", [])
    assert scoring.main(["--corpus", str(corpus), "--predictions", str(predictions)]) == 2
    assert "a: action is not one of" in capsys.readouterr().err


FAKE_BOT = textwrap.dedent(
    """
    import json, sys
    assert sys.argv[1:3] == ["understand", "--jsonl"], sys.argv
    for line in open(sys.argv[3], encoding="utf-8"):
        item = json.loads(line)
        print(json.dumps({"id": item["id"], "action": "chat", "continues": False}))
    """
)


def test_run_reads_what_the_bot_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = write_lines(tmp_path / "corpus.jsonl", [item("a", "chat"), item("b", "generate")])
    bot = tmp_path / "bot.py"
    bot.write_text(FAKE_BOT)
    command = [sys.executable, str(bot)]
    assert [p["id"] for p in run_bot(corpus, command)] == ["a", "b"]
    monkeypatch.setattr(scoring, "bot_command", lambda: command)
    assert scoring.main(["--corpus", str(corpus), "--run"]) == 0
    assert "50.0%" in capsys.readouterr().out


def test_run_reports_a_failing_bot(tmp_path: Path) -> None:
    corpus = write_lines(tmp_path / "corpus.jsonl", [item("a", "chat")])
    bot = tmp_path / "bot.py"
    bot.write_text("import sys\nsys.exit('no such command: understand')\n")
    with pytest.raises(CorpusError, match="exited with 1: no such command: understand"):
        run_bot(corpus, [sys.executable, str(bot)])


def test_the_bot_is_looked_for_next_to_this_python() -> None:
    found = Path(scoring.bot_command()[0])
    assert found.name == "ima-bot"
    assert found.is_file()
