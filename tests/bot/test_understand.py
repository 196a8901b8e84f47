"""``ima-bot understand``: the real engine's decision about a message, spending nothing."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from bot.understand import Item, run_understand, understander
from tests.wiring import settings_for


async def test_context_runs_and_the_item_is_a_dry_run() -> None:
    settings = settings_for("http://127.0.0.1:9", 1.0)  # never reached: in-process simulator
    async with understander(settings, live=False) as reader:
        made = await reader.understand(Item("1", "a 10 second video of rain, 9:16", lang="en"))
        assert made["action"] == "generate"
        assert made["task_type"] == "text_to_video"
        assert made["wishes"] == {"duration": 10, "aspect_ratio": "9:16"}
        assert made["credits"] > 0
        assert "Creating your video" in made["text"]
        follow = await reader.understand(
            Item("2", "make it bluer", context=("draw a red fox",), reply_to_last=True)
        )
        assert (follow["action"], follow["continues"]) == ("generate", True)
        assert follow["task_type"] == "image_to_image"
        jobs = await reader._bot.store.recent_jobs("understand", "person-2", 10)
        assert [j.prompt for j in jobs] == ["a red fox"]  # only the context's job was made
        saved = await reader.understand(Item("3", "以后都用可灵", lang="zh"))
        assert saved["preference"] == {"op": "set", "model": "Kling O1"}
        assert saved["task_type"] is None


def test_the_command_reads_jsonl_and_prints_one_line_each(tmp_path: Path) -> None:
    items = tmp_path / "items.jsonl"
    items.write_text(
        '{"id": "a", "text": "help", "lang": "en"}\n\n'
        '{"id": "b", "text": "画一只猫", "lang": "zh", "images": 0, "context": []}\n',
        "utf-8",
    )
    exe = Path(sys.executable).with_name("ima-bot")
    done = subprocess.run(  # noqa: S603 - the project's own command
        [str(exe), "understand", "--jsonl", str(items)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(x["id"], x["action"]) for x in lines] == [("a", "answer"), ("b", "generate")]
    assert lines[1]["model"] == "SeeDream 4.5"


async def test_many_items_in_one_run() -> None:
    out = io.StringIO()
    items = [Item(str(i), text) for i, text in enumerate(["thanks!", "draw a cat", "my history"])]
    await run_understand(settings_for("http://127.0.0.1:9", 1.0), items, out, live=False)
    assert len(out.getvalue().splitlines()) == 3


async def test_a_typed_answer_to_make_it_your_default_names_the_model_or_keeps_it() -> None:
    settings = settings_for("http://127.0.0.1:9", 1.0)
    context = ("make a video of a cat", "make a video of a dog with kling")
    async with understander(settings, live=False) as reader:
        yes = await reader.understand(Item("1", "yes", lang="en", context=context))
        assert yes["action"] == "preference"
        assert yes["preference"] == {"op": "set", "model": "Kling O1"}
        no = await reader.understand(Item("2", "no thanks", lang="en", context=context))
        assert (no["action"], no["preference"]) == ("chat", None)  # the default stays
        assert "stays your default" in no["text"]
