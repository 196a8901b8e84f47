"""Login, command sync with zh-CN names, autocomplete from the live catalog, settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.discord.config import DEFAULT_API_BASE, DiscordSettings
from core.ima.tasks import TaskType
from core.jobs import Job, ModelSource, new_job_id
from core.policy import MAX_PROMPT_CHARS
from core.settings import SettingsError, load
from sim.app import RunningSimulator
from tests.bot.discord.conftest import SCALE
from tests.bot.discord.world import World, world_at
from tests.fakes.discord import FakeDiscord


def by_name(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in items}


async def test_login_and_sync_with_chinese_names(world: World) -> None:
    assert world.adapter.healthy()
    commands = by_name(world.fake.commands())
    assert set(commands) == {"image", "video", "music", "preferences", "history", "usage"}
    assert commands["usage"]["name_localizations"] == {"zh-CN": "额度"}
    assert commands["history"]["name_localizations"] == {"zh-CN": "作品"}
    image = commands["image"]
    assert image["name_localizations"] == {"zh-CN": "图片"}
    assert image["description_localizations"]["zh-CN"] == "根据描述生成图片"
    options = by_name(image["options"])
    assert list(options) == ["prompt", "model", "image", "size", "count"]
    assert options["prompt"]["required"]
    assert options["model"]["autocomplete"]
    assert options["prompt"]["name_localizations"] == {"zh-CN": "描述"}
    assert [c["value"] for c in options["size"]["choices"]] == ["512px", "1K", "2K", "4K"]
    assert (options["count"]["min_value"], options["count"]["max_value"]) == (1, 4)
    video = by_name(commands["video"]["options"])
    assert video["last_frame"]["name_localizations"] == {"zh-CN": "尾帧"}
    vocal = by_name(commands["music"]["options"])["vocal"]
    assert vocal["choices"][1]["name_localizations"] == {"zh-CN": "女声"}
    subcommands = by_name(commands["preferences"]["options"])
    assert {s["name_localizations"]["zh-CN"] for s in subcommands.values()} == {
        "查看",
        "设置",
        "重置",
    }
    assert world.fake.commands(world.fake.default_guild.id) == []


async def test_guild_ids_get_the_commands_at_once(
    fake: FakeDiscord, sim: RunningSimulator, tmp_path: Path
) -> None:
    guild = fake.default_guild.id
    async with world_at(fake, sim, tmp_path / "bot.db", scale=SCALE, guild_ids=(guild,)):
        assert {c["name"] for c in fake.commands(guild)} == {
            "image",
            "video",
            "music",
            "preferences",
            "history",
            "usage",
        }
        assert fake.commands() == []


async def test_model_autocomplete_shows_live_models_with_credits(world: World) -> None:
    fake = world.fake
    typed = await fake.send_autocomplete("image", "model", "nano", {"prompt": "a cat"})
    assert await typed.wait_for_response() == 8
    assert typed.autocomplete_choices == [
        {"name": "Nano Banana 2 · 4–13 pts", "value": "Nano Banana 2"},
        {"name": "Nano Banana Pro · 10–18 pts", "value": "Nano Banana Pro"},
    ]

    music = await fake.send_autocomplete("music", "model", "", {"prompt": "x"}, locale="zh-CN")
    await music.wait_for_response()
    assert music.autocomplete_choices == [
        {"name": "Suno · 25 积分", "value": "Suno"},
        {"name": "DouBao - BGM · 30 积分", "value": "DouBao - BGM"},
        {"name": "DouBao - Song · 30 积分", "value": "DouBao - Song"},
    ]


async def test_autocomplete_follows_the_other_options(world: World) -> None:
    fake = world.fake
    frames = await fake.send_autocomplete(
        "video",
        "model",
        "",
        {
            "prompt": "x",
            "image": ("a.png", "image/png", b"1"),
            "last_frame": ("b.png", "image/png", b"2"),
        },
    )
    await frames.wait_for_response()
    names = [c["value"] for c in frames.autocomplete_choices or []]
    assert "Kling O1" in names
    assert "Wan 2.6" not in names  # no first-and-last-frame videos

    # A default for videos: one choice per model across every kind of video, widest price.
    kind = await fake.send_autocomplete("preferences set", "model", "kling o", {"kind": "video"})
    await kind.wait_for_response()
    assert kind.autocomplete_choices == [{"name": "Kling O1 · 48–192 pts", "value": "Kling O1"}]


async def test_prompts_are_declared_with_the_engines_limit(world: World) -> None:
    """Discord's client then refuses a longer prompt itself, instead of the engine later."""
    commands = by_name(world.fake.commands())
    for name in ("image", "video", "music"):
        assert by_name(commands[name]["options"])["prompt"]["max_length"] == MAX_PROMPT_CHARS
    with pytest.raises(ValueError, match="max_length"):
        await world.fake.send_slash_command("image", {"prompt": "x" * (MAX_PROMPT_CHARS + 1)})


async def test_history_choices_fit_discords_limits(world: World) -> None:
    """25 choices at most, each within 100 characters: one more makes Discord refuse them all."""
    user = str(world.fake.default_user.id)
    for number in range(30):
        job = Job(
            id=new_job_id(), platform="discord", user_id=user, chat_id="1", locale="en",
            task_type=TaskType.TEXT_TO_IMAGE, version_id="doubao-seedream-4-5-251128",
            model_id="doubao-seedream-4.5", model_name="SeeDream 4.5",
            prompt=f"picture {number}: a lighthouse on a cliff at dawn, " * 4, params={}, n=1,
            credits=5, source=ModelSource.DEFAULT, reply_target={},
        )  # fmt: skip
        await world.store.admit(job)
        await world.store.mark_creating(job.id)
        await world.store.mark_running(job.id, task_id=f"t{number}", started_at=1.0, credits=5)
        await world.store.mark_delivering(job.id, result_urls=["https://x/1.png"], result_covers=[])
        await world.store.mark_delivered(job.id, at=2.0)
    typed = await world.fake.send_autocomplete("history", "item", "lighthouse", {})
    assert await typed.wait_for_response() == 8
    choices = typed.autocomplete_choices or []
    assert len(choices) == 25
    assert all(len(c["name"]) <= 100 and c["name"].endswith("…") for c in choices)
    assert typed.errors == []


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "secret-token")
    monkeypatch.setenv("DISCORD_GUILD_IDS", "12, 34,")
    monkeypatch.setenv("DISCORD_MESSAGE_CONTENT", "true")
    settings = load(DiscordSettings, _env_file=None)
    assert settings.token is not None
    assert settings.token.get_secret_value() == "secret-token"
    assert "secret-token" not in repr(settings)
    assert settings.guild_ids == (12, 34)
    assert settings.message_content
    assert settings.api_base == DEFAULT_API_BASE

    monkeypatch.setenv("DISCORD_API_BASE", "ftp://secret-proxy")
    monkeypatch.setenv("DISCORD_GUILD_IDS", "general")
    with pytest.raises(SettingsError) as caught:
        load(DiscordSettings, _env_file=None)
    assert "DISCORD_API_BASE" in str(caught.value)
    assert "DISCORD_GUILD_IDS" in str(caught.value)
    assert "secret-proxy" not in str(caught.value)


def test_no_token_no_adapter(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("DISCORD_TOKEN", "")  # as .env.example leaves it
    assert not load(DiscordSettings).configured
