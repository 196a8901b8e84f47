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


async def run_cli(sim: RunningSimulator, *args: str, key: str | None = KEY) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMA_")}
    env.update(
        IMA_BASE_URL=sim.base_url, IMA_UPLOAD_BASE_URL=sim.base_url, IMA_POLL_INTERVAL="0.02"
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


async def test_bad_flags_exit_2(sim: RunningSimulator) -> None:
    code, _, err = await run_cli(sim, "--task-type", "text_to_image", "--prompt", "x",
                                 "--extra-params", "[1]")  # fmt: skip
    assert code == 2
    assert "JSON object" in err
