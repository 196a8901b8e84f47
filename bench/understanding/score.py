"""Score what the bot understood of chat messages against the labelled corpus.

    python -m bench.understanding.score --corpus bench/understanding/corpus.jsonl --run
    python -m bench.understanding.score --corpus bench/understanding/corpus.jsonl \\
        --predictions predictions.jsonl [--markdown] [--check BASELINE.json]
        [--write-baseline FILE]

`--run` runs ``ima-bot understand --jsonl CORPUS`` and reads one JSON line per item from its
stdout; `--predictions` reads such lines from a file. The corpus format and the labelling rules
are in bench/understanding/README.md. This module only reads JSON: it imports nothing from the
bot, so it scores any implementation that prints the same lines.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Item = Mapping[str, Any]

ACTIONS = ("generate", "confirm", "answer", "ask", "preference", "refuse", "chat")
GROUPS = ("zh", "en", "mixed")
LANGS = ("zh", "en")
TASK_TYPES = (
    "text_to_image",
    "image_to_image",
    "text_to_video",
    "image_to_video",
    "first_last_frame_to_video",
    "reference_image_to_video",
    "text_to_music",
)
PREFERENCE_OPS = ("set", "reset", "show", "best", "cheapest", "another")
# The canonical values a corpus label may hold, per parameter.
PARAM_VALUES: dict[str, tuple[object, ...] | type] = {
    "duration": int,
    "aspect_ratio": ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9"),
    "resolution": ("720P", "1080P", "4K"),
    "size": ("1K", "2K", "4K", "512px"),
    "audio": bool,
    "instrumental": bool,
    "vocal_gender": ("male", "female"),
    "lyrics": bool,
}
MAX_OUTPUTS = {"text_to_music": 2}  # every other task type: 4
# The figures a baseline file holds; --check also accepts the other keys of Report.figures().
BASELINE_KEYS = ("overall", "zh", "en", "mixed", "task_type", "params", "followups")
NO_PREDICTION = "(none)"  # the predicted action of an item the bot printed nothing for


class CorpusError(ValueError):
    """The corpus or the predictions are not what this scorer reads; the message lists why."""


@dataclass(frozen=True)
class Rate:
    """`right` out of `total`; no value when nothing was counted."""

    right: int = 0
    total: int = 0

    @property
    def value(self) -> float | None:
        return self.right / self.total if self.total else None

    def add(self, ok: bool) -> Rate:
        return Rate(self.right + ok, self.total + 1)


@dataclass(frozen=True)
class Spent:
    """A message the bot would have spent credits on although nobody asked it to."""

    id: str
    text: str
    expected: str


@dataclass(frozen=True)
class Report:
    items: int
    overall: Rate
    groups: dict[str, Rate]
    recall: dict[str, Rate]  # per expected action
    confusion: dict[str, dict[str, int]]  # expected action -> predicted action -> items
    # Among items expected and predicted "generate":
    task_type: Rate
    model: Rate  # only where a model is expected
    params: Rate  # only where params are expected: every expected key must match
    param_keys: dict[str, Rate]
    n: Rate  # only where n is expected
    prompt: Rate  # only where prompt_contains is given: every word must be in the prompt
    preference: Rate  # expected and predicted "preference": op (and model where expected)
    followups: Rate  # unquoted follow-ups: right action and continues
    spent_unasked: tuple[Spent, ...]
    unknown_ids: tuple[str, ...]  # predictions for ids the corpus does not have

    def figures(self) -> dict[str, float | None]:
        """The headline accuracies by name, as a baseline file stores them."""
        return {
            "overall": self.overall.value,
            **{group: rate.value for group, rate in self.groups.items()},
            "task_type": self.task_type.value,
            "model": self.model.value,
            "params": self.params.value,
            "n": self.n.value,
            "prompt": self.prompt.value,
            "preference": self.preference.value,
            "followups": self.followups.value,
        }


# --- reading


def read_jsonl(lines: Iterable[str], source: str) -> list[dict[str, Any]]:
    """One JSON object per non-blank line; anything else is an error naming the line."""
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{source}:{number}: not JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise CorpusError(f"{source}:{number}: not a JSON object")
        rows.append(row)
    return rows


def load_corpus(path: Path) -> list[dict[str, Any]]:
    items = read_jsonl(path.read_text("utf-8").splitlines(), str(path))
    problems = corpus_problems(items)
    if problems:
        raise CorpusError(f"{path}: " + "; ".join(problems))
    return items


def corpus_problems(items: Sequence[Item]) -> list[str]:
    """Everything about the items that breaks the corpus format (empty when nothing does)."""
    problems: list[str] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        item_id = item.get("id")
        if not isinstance(item_id, str) or not item_id:
            problems.append(f"item {index + 1}: no id")
            continue
        if item_id in seen:
            problems.append(f"{item_id}: id used twice")
        seen.add(item_id)
        problems.extend(f"{item_id}: {p}" for p in _item_problems(item))
    return problems


def _item_problems(item: Item) -> list[str]:
    problems = []
    if not isinstance(item.get("text"), str) or not item["text"].strip():
        problems.append("no text")
    images = item.get("images")
    if not isinstance(images, int) or isinstance(images, bool) or images < 0:
        problems.append("images is not a count")
    if item.get("lang") not in LANGS:
        problems.append(f"lang is not one of {LANGS}")
    if item.get("group") not in GROUPS:
        problems.append(f"group is not one of {GROUPS}")
    context = item.get("context")
    if not isinstance(context, list) or not all(isinstance(m, str) for m in context):
        problems.append("context is not a list of messages")
        context = []
    if not isinstance(item.get("reply_to_last"), bool):
        problems.append("reply_to_last is not true or false")
    elif item["reply_to_last"] and not context:
        problems.append("replies to a result but has no context that made one")
    expect = item.get("expect")
    if not isinstance(expect, Mapping):
        return [*problems, "no expect"]
    text = item["text"] if isinstance(item.get("text"), str) else ""
    return problems + _expect_problems(expect, text, context)


def _expect_problems(expect: Item, text: str, context: Sequence[str]) -> list[str]:
    problems = []
    action = expect.get("action")
    if action not in ACTIONS:
        return [f"action is not one of {ACTIONS}"]
    task_type = expect.get("task_type")
    makes = action in ("generate", "confirm")
    if makes and task_type not in TASK_TYPES:
        problems.append(f"{action} needs a task_type from {TASK_TYPES}")
    if not makes and task_type is not None:
        problems.append("task_type is only for generate and confirm")
    if not _is_model(expect.get("model")):
        problems.append("model is not null, a name or a list of names")
    params = expect.get("params")
    if not isinstance(params, Mapping):
        problems.append("params is not an object")
    else:
        problems.extend(_param_problems(params))
    n = expect.get("n")
    if n is not None:
        most = MAX_OUTPUTS.get(str(task_type), 4)
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= most:
            problems.append(f"n is not null or 1-{most}")
    if not isinstance(expect.get("continues"), bool):
        problems.append("continues is not true or false")
    elif expect["continues"] and not context:
        problems.append("continues a result but has no context that made one")
    preference = expect.get("preference")
    if action == "preference":
        if not isinstance(preference, Mapping) or preference.get("op") not in PREFERENCE_OPS:
            problems.append(f"preference needs an op from {PREFERENCE_OPS}")
        elif not _is_model(preference.get("model")):
            problems.append("preference model is not null, a name or a list of names")
    elif preference is not None:
        problems.append("preference is only for the preference action")
    words = expect.get("prompt_contains")
    if words is not None:
        said = " ".join([text, *context]).casefold()
        if not isinstance(words, list) or not words or not all(isinstance(w, str) for w in words):
            problems.append("prompt_contains is not a list of words")
        else:
            problems.extend(
                f"prompt_contains {w!r} is not in the text or context"
                for w in words
                if w.casefold() not in said
            )
    return problems


def _param_problems(params: Item) -> list[str]:
    problems = []
    for key, value in params.items():
        allowed = PARAM_VALUES.get(key)
        if allowed is None:
            problems.append(f"unknown param {key!r}")
        elif isinstance(allowed, type):
            if type(value) is not allowed:
                problems.append(f"param {key} is not {allowed.__name__}")
        elif value not in allowed:
            problems.append(f"param {key} is not one of {allowed}")
    return problems


def _is_model(model: object) -> bool:
    if model is None or (isinstance(model, str) and model):
        return True
    return isinstance(model, list) and bool(model) and all(isinstance(m, str) for m in model)


# --- scoring


def score(items: Sequence[Item], predictions: Sequence[Item]) -> Report:
    """Compare what the bot understood with what the corpus expects, item by item.

    `items` are in the checked corpus format (see load_corpus and corpus_problems). Items the
    bot printed no line for count as wrong everywhere (their predicted action is "(none)").
    Predictions for ids the corpus does not have are listed, not scored.
    """
    by_id: dict[str, Item] = {}
    for prediction in predictions:
        pid = str(prediction.get("id"))
        if pid in by_id:
            raise CorpusError(f"prediction for {pid} printed twice")
        by_id[pid] = prediction
    known = {str(item["id"]) for item in items}

    overall = Rate()
    groups = {group: Rate() for group in GROUPS}
    recall = {action: Rate() for action in ACTIONS}
    confusion = {action: dict.fromkeys(ACTIONS, 0) for action in ACTIONS}
    task_type = model = params = n = prompt = preference = followups = Rate()
    param_keys: dict[str, Rate] = {}
    spent: list[Spent] = []

    for item in items:
        expect = item["expect"]
        guess = by_id.get(str(item["id"]), {})
        want, got = expect["action"], guess.get("action") or NO_PREDICTION
        right = got == want
        overall = overall.add(right)
        groups[item["group"]] = groups[item["group"]].add(right)
        recall[want] = recall[want].add(right)
        row = confusion[want]
        row[got] = row.get(got, 0) + 1
        if got == "generate" and want != "generate":
            spent.append(Spent(str(item["id"]), str(item["text"]), want))
        if expect["continues"] and not item["reply_to_last"]:
            followups = followups.add(right and guess.get("continues") is True)
        if want == got == "preference":
            preference = preference.add(_same_preference(expect["preference"], guess))
        if not want == got == "generate":
            continue
        task_type = task_type.add(guess.get("task_type") == expect["task_type"])
        if expect["model"] is not None:
            model = model.add(_same_model(expect["model"], guess.get("model")))
        wanted_params: Mapping[str, Any] = expect["params"]
        if wanted_params:
            asked = _asked_params(guess)
            hits = {key: _same(value, asked.get(key)) for key, value in wanted_params.items()}
            params = params.add(all(hits.values()))
            for key, hit in hits.items():
                param_keys[key] = param_keys.get(key, Rate()).add(hit)
        if expect["n"] is not None:
            n = n.add(_same(expect["n"], guess.get("n")))
        if expect.get("prompt_contains"):
            sent = str(guess.get("prompt") or "").casefold()
            prompt = prompt.add(all(w.casefold() in sent for w in expect["prompt_contains"]))

    return Report(
        items=len(items),
        overall=overall,
        groups=groups,
        recall=recall,
        confusion=confusion,
        task_type=task_type,
        model=model,
        params=params,
        param_keys=dict(sorted(param_keys.items())),
        n=n,
        prompt=prompt,
        preference=preference,
        followups=followups,
        spent_unasked=tuple(spent),
        unknown_ids=tuple(sorted(set(by_id) - known)),
    )


def _asked_params(guess: Item) -> Mapping[str, Any]:
    """The canonical asked-for parameters (`wishes`) when the bot prints them, else `params`."""
    wishes = guess.get("wishes")
    if isinstance(wishes, Mapping):
        return wishes
    params = guess.get("params")
    return params if isinstance(params, Mapping) else {}


def _canonical(value: object) -> object:
    """Equal for values that mean the same: 10, 10.0 and "10"; "1080p" and "1080P"."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip().casefold()
        try:
            return float(text)
        except ValueError:
            return text
    return value


def _same(expected: object, got: object) -> bool:
    return _canonical(expected) == _canonical(got)


def _same_model(expected: str | list[str], got: object) -> bool:
    """A list in the corpus means any of these models is right (an unversioned family name)."""
    names = [expected] if isinstance(expected, str) else expected
    return isinstance(got, str) and any(_same(name, got) for name in names)


def _same_preference(expected: Item, guess: Item) -> bool:
    got = guess.get("preference")
    if not isinstance(got, Mapping) or got.get("op") != expected["op"]:
        return False
    return expected["model"] is None or _same_model(expected["model"], got.get("model"))


# --- baselines


def regressions(report: Report, baseline: Mapping[str, Any]) -> list[str]:
    """Why the report is worse than the baseline: any spend nobody asked for, or a lower figure.

    A figure with nothing to count (no value) counts as 0 against a baseline that has one.
    """
    figures = report.figures()
    unknown = sorted(set(baseline) - set(figures))
    if unknown:
        raise CorpusError(f"baseline has unknown figures: {', '.join(unknown)}")
    found = []
    if report.spent_unasked:
        found.append(f"spent without being asked on {len(report.spent_unasked)} items")
    for key, before in baseline.items():
        if before is None:
            continue
        now = _rounded(figures[key]) or 0.0
        if now < before:
            found.append(f"{key}: {_percent(now)} now, {_percent(before)} in the baseline")
    return found


def baseline_of(report: Report) -> dict[str, float | None]:
    figures = report.figures()
    return {key: _rounded(figures[key]) for key in BASELINE_KEYS}


def _rounded(value: float | None) -> float | None:
    """Four decimals: what a baseline stores, so that today's run never fails against itself."""
    return None if value is None else round(value, 4)


# --- rendering


def render(report: Report, markdown: bool = False) -> str:
    """The report as text tables, or as Markdown tables for docs/benchmarks.md."""
    bullet = "- " if markdown else "  "
    sections = [
        (
            f"Action ({report.items} messages)",
            _table(
                ["messages", "right action", "items"],
                [["all", *_cells(report.overall)]]
                + [[group, *_cells(rate)] for group, rate in report.groups.items()],
                markdown,
            ),
        ),
        (
            "Action recall, by expected action",
            _table(
                ["expected", "right action", "items"],
                [[action, *_cells(rate)] for action, rate in report.recall.items()],
                markdown,
            ),
        ),
        ("Confusion (rows: expected, columns: predicted)", _confusion(report, markdown)),
        (
            'Expected and predicted "generate"',
            _table(
                ["figure", "right", "items"],
                [
                    ["task type", *_cells(report.task_type)],
                    ["model (where one is expected)", *_cells(report.model)],
                    ["params (every expected key)", *_cells(report.params)],
                    *[[f"param {key}", *_cells(rate)] for key, rate in report.param_keys.items()],
                    ["n (where expected)", *_cells(report.n)],
                    ["prompt keeps the words", *_cells(report.prompt)],
                ],
                markdown,
            ),
        ),
        (
            "Preferences and follow-ups",
            _table(
                ["figure", "right", "items"],
                [
                    ["preference op and model", *_cells(report.preference)],
                    ["unquoted follow-ups: action and continues", *_cells(report.followups)],
                ],
                markdown,
            ),
        ),
        (
            f"Spent without being asked: {len(report.spent_unasked)}",
            "\n".join(
                f"{bullet}{s.id} (expected {s.expected}): {s.text}" for s in report.spent_unasked
            ),
        ),
    ]
    if report.unknown_ids:
        sections.append(("Predictions for ids not in the corpus", ", ".join(report.unknown_ids)))
    heading = "### {}" if markdown else "== {}"
    return "\n\n".join(
        heading.format(title) + ("\n\n" + body if body else "") for title, body in sections
    )


def _confusion(report: Report, markdown: bool) -> str:
    """Every action as a column, then "(none)" and any action the bot made up, if they occur."""
    seen = {got for row in report.confusion.values() for got, count in row.items() if count}
    columns = [*ACTIONS, *sorted(seen - set(ACTIONS))]
    rows = [
        [want, *[str(row.get(got) or "") for got in columns]]
        for want, row in report.confusion.items()
    ]
    return _table(["expected", *columns], rows, markdown)


def _table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool, numeric_from: int = 1
) -> str:
    if markdown:
        rule = ["---" if i < numeric_from else "---:" for i in range(len(headers))]
        lines = [headers, rule, *rows]
        return "\n".join("| " + " | ".join(line) + " |" for line in lines)
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.ljust(width) if i < numeric_from else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join(line(row) for row in [headers, *rows])


def _cells(rate: Rate) -> list[str]:
    """The share and the counts behind it, as two columns."""
    share = "—" if rate.value is None else _percent(rate.value)
    return [share, f"{rate.right}/{rate.total}"]


def _percent(value: float) -> str:
    return f"{value:.1%}"


# --- running the bot


def bot_command() -> list[str]:
    """`ima-bot` next to this Python (a venv's bin/), else the one on PATH."""
    beside = Path(sys.executable).with_name("ima-bot")
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("ima-bot")
    if found is None:
        raise CorpusError("no ima-bot next to this Python or on PATH")
    return [found]


def run_bot(corpus: Path, command: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Run ``<command> understand --jsonl CORPUS`` and read the lines it prints."""
    argv = [*(command or bot_command()), "understand", "--jsonl", str(corpus)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-5:]
        raise CorpusError(f"{' '.join(argv)} exited with {done.returncode}: " + " / ".join(tail))
    return read_jsonl(done.stdout.splitlines(), "ima-bot understand")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.understanding.score")
    parser.add_argument("--corpus", type=Path, required=True)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--predictions", type=Path, help="JSON lines, one per item")
    source.add_argument("--run", action="store_true", help="run ima-bot understand on the corpus")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument("--check", type=Path, metavar="BASELINE.json", help="exit 1 if worse")
    parser.add_argument("--write-baseline", type=Path, metavar="FILE")
    args = parser.parse_args(argv)
    try:
        items = load_corpus(args.corpus)
        if args.run:
            predictions = run_bot(args.corpus)
        else:
            lines = args.predictions.read_text("utf-8").splitlines()
            predictions = read_jsonl(lines, str(args.predictions))
        report = score(items, predictions)
        print(render(report, args.markdown))
        if args.write_baseline:
            text = json.dumps(baseline_of(report), indent=2) + "\n"
            args.write_baseline.write_text(text, "utf-8")
        if args.check:
            found = regressions(report, json.loads(args.check.read_text("utf-8")))
            for reason in found:
                print(f"worse than {args.check}: {reason}", file=sys.stderr)
            if found:
                return 1
    except (CorpusError, OSError) as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
