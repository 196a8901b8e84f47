"""``ima-bot generate`` as a user runs it: a separate process talking to the simulator."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from sim.app import RunningSimulator, start_simulator
from sim.media import render_png

KEY = "ima_cli_test_key_0123456789abcdef"


@pytest.fixture
async def sim() -> AsyncIterator[RunningSimulator]:
    # Other ids and prices than the snapshot: the CLI must read everything from the live list.
    async with await start_simulator(
        speed=0.001, seed=4, attribute_id_offset=500, points_offset=2
    ) as running:
        yield running


async def run_cli(
    sim: RunningSimulator, *args: str, key: str | None = KEY, base_url: str | None = None
) -> tuple[int, str, str]:
    """``ima-bot generate ARGS`` with IMA_API_KEY set to ``key`` (unless None) and IMA_BASE_URL
    to ``base_url`` (default: the simulator)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMA_")}
    env.update(
        IMA_BASE_URL=base_url or sim.base_url,
        IMA_UPLOAD_BASE_URL=sim.base_url,
        IMA_POLL_INTERVAL="0.02",
    )
    if key:
        env["IMA_API_KEY"] = key
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "generate", *args,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_success_json(sim: RunningSimulator) -> None:
    code, out, err = await run_cli(
        sim, "--task-type", "text_to_image", "--model-id", "Nano Banana 2",
        "--prompt", "a lighthouse", "--size", "2k", "--n", "2", "--output-json",
    )  # fmt: skip
    assert code == 0, err
    result: dict[str, Any] = json.loads(out)
    assert set(result) == {
        "task_id", "url", "urls", "cover_url", "model_id", "model_name", "model_version",
        "attribute_id", "credit",
    }  # fmt: skip
    assert result["model_name"] == "Nano Banana 2"
    assert len(result["urls"]) == 2
    assert result["url"] == result["urls"][0]
    assert result["attribute_id"] == 4402 + 500
    assert result["credit"] == 2 * (10 + 2)
    assert KEY not in out + err


async def test_local_image_is_uploaded(sim: RunningSimulator, tmp_path: Path) -> None:
    image = tmp_path / "photo.jpg"  # the name says JPEG, the bytes say PNG: the bytes win
    image.write_bytes(render_png("photo", 8, 8))
    code, out, err = await run_cli(
        sim, "--task-type", "image_to_video", "--prompt", "make it move",
        "--input-images", str(image), "--extra-params", '{"duration": 5}', "--output-json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["model_id"] == "wan2.6-i2v"
    assert sim.state.calls("upload_token")[0].query["fContentType"] == "image/png"


@pytest.mark.parametrize(
    ("fault", "sentence"),
    [
        ("rs2", "生成过程遇到问题，建议换个模型试试。"),
        ("failed", "这次生成没成功，要不换个模型试试？"),
    ],
)
async def test_failure_json_is_localized_and_plain(
    sim: RunningSimulator, fault: str, sentence: str
) -> None:
    """resource_status 2 and a failed status: the spec's two sentences."""
    code, out, _ = await run_cli(
        sim, "--task-type", "text_to_image", "--prompt", f"a cat [[sim:{fault}]]",
        "--lang", "zh", "--output-json",
    )  # fmt: skip
    assert code != 0
    error = json.loads(out)["error"]
    assert error["type"] == "generation_failed"
    assert error["message"] == sentence


async def test_missing_key(sim: RunningSimulator) -> None:
    code, out, _ = await run_cli(
        sim, "--task-type", "text_to_music", "--prompt", "x", "--output-json", key=None
    )
    assert code != 0
    assert json.loads(out)["error"]["type"] == "config"
    code, out, _ = await run_cli(  # a malformed setting: said as JSON too
        sim, "--task-type", "text_to_music", "--prompt", "x", "--output-json", base_url="ftp://x"
    )
    assert code == 2
    assert "IMA_BASE_URL" in json.loads(out)["error"]["message"]


async def test_bad_flags_exit_2(sim: RunningSimulator) -> None:
    code, _, err = await run_cli(sim, "--task-type", "text_to_image", "--prompt", "x",
                                 "--extra-params", "[1]")  # fmt: skip
    assert code == 2
    assert "JSON object" in err
    code, out, err = await run_cli(sim, "--task-type", "image_to_image", "--prompt", "x",
                                   "--input-images", "a.png", "b.png", "--lang", "zh")  # fmt: skip
    assert (code, out) == (2, "")
    assert "image_to_image 需要正好一张输入图片，但给了 2 张。" in err


# ── the skill script's flags ─────────────────────────────────────────────────────────────


async def test_the_scripts_flags_are_taken(sim: RunningSimulator) -> None:
    """The spec's own command lines: --api-key instead of the environment, --base-url over it,
    --version-id and --language."""
    code, out, err = await run_cli(sim, "--task-type", "text_to_image", "--list-models",
                                   "--output-json")  # fmt: skip
    assert code == 0, err
    listing = json.loads(out)
    assert listing["task_type"] == "text_to_image"
    banana = next(m for m in listing["models"] if m["name"] == "Nano Banana 2")
    assert banana["min_credit"] == 4 + 2  # the live prices (the simulator adds 2), not the spec's
    assert banana["min_credit"] <= banana["credit"] <= banana["max_credit"]

    code, out, err = await run_cli(
        sim, "--api-key", KEY, "--base-url", sim.base_url, "--task-type", "text_to_image",
        "--model-id", "gemini-3.1-flash-image", "--version-id", banana["version_id"],
        "--prompt", "a lighthouse", "--language", "zh", "--user-id", "u1", "--output-json",
        key=None, base_url="http://127.0.0.1:9",  # the environment has no key and a dead URL
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(out)
    assert (result["model_name"], result["model_version"]) == (
        "Nano Banana 2",
        banana["version_id"],
    )
    assert KEY not in out + err
    assert (
        sim.state.calls("create")[-1].body["parameters"][0]["model_version"]
        == (banana["version_id"])
    )

    code, out, err = await run_cli(sim, "--task-type", "text_to_music", "--list-models")
    assert code == 0, err
    assert any(line.startswith("Suno · ") and line.endswith(" pts") for line in out.splitlines())


@pytest.mark.parametrize(
    ("flags", "results"),
    [
        (("--extra-params", '{"n": 2}'), 2),  # the script's own help writes it so
        (("--extra-params", '{"n": 2}', "--n", "1"), 1),  # the flag wins
        (("--n", "3"), 3),
    ],
)
async def test_n_from_either_place(
    sim: RunningSimulator, flags: tuple[str, ...], results: int
) -> None:
    _, out, _ = await run_cli(sim, "--task-type", "text_to_image", "--list-models", "--output-json")
    each = next(m["credit"] for m in json.loads(out)["models"] if m["name"] == "Nano Banana 2")
    code, out, err = await run_cli(
        sim, "--task-type", "text_to_image", "--model-id", "Nano Banana 2", "--prompt", "foxes",
        *flags, "--output-json",
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(out)
    assert len(result["urls"]) == results
    assert result["credit"] == results * each  # charged for every result, and only those
    inner = sim.state.calls("create")[-1].body["parameters"][0]["parameters"]
    assert inner["n"] == results


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--task-type", "nope", "--prompt", "x"), "invalid choice: 'nope'"),
        (("--task-type", "text_to_image"), "required: --prompt"),
        (("--task-type", "text_to_image", "--prompt", "x", "--n", "9"), "between 1 and 4"),
        (("--task-type", "text_to_image", "--prompt", "x", "--extra-params", '{"n": "two"}'),
         "between 1 and 4"),
        (("--task-type", "image_to_image", "--prompt", "x", "--input-images", "a.png", "b.png"),
         "image_to_image takes exactly one input image; 2 were given."),
        (("--task-type", "first_last_frame_to_video", "--prompt", "x", "--input-images", "a.png"),
         "first and the last frame; 1 were given"),
        (("--task-type", "text_to_music", "--prompt", "x", "--input-images", "a.png"),
         "takes no input images"),
    ],
)  # fmt: skip
async def test_usage_errors_are_json_too(
    sim: RunningSimulator, args: tuple[str, ...], message: str
) -> None:
    code, out, err = await run_cli(sim, *args, "--output-json")
    assert code == 2, err
    error = json.loads(out)["error"]
    assert (error["type"], error["code"]) == ("usage", None)
    assert message in error["message"]
    assert sim.state.requests == []  # refused before anything was asked or uploaded


async def test_generate_loads_no_chat_sdk_engine_or_simulator(sim: RunningSimulator) -> None:
    """What ``ima-bot generate`` imports on its way to a result: nothing of the chat platforms,
    the engine or the simulator (they took seconds to load before a request went out)."""
    probe = (
        "import sys\n"
        "from bot import cli\n"
        "code = cli.main(sys.argv[1:])\n"
        "heavy = ('discord', 'lark_oapi', 'aiohttp.web', 'core.engine', 'core.parse', 'sim')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
        "sys.exit(code)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMA_")}
    env.update(IMA_API_KEY=KEY, IMA_BASE_URL=sim.base_url)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", probe, "generate", "--task-type", "text_to_image", "--list-models",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    assert "SeeDream 4.5" in out.decode()
    assert out.decode().splitlines()[-1] == "[]"
