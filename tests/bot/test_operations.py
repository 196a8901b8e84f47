"""What operators rely on: settings errors, health and metrics, logs, the admin command, run()."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import socket
import time
from pathlib import Path
from typing import Any, ClassVar

import aiohttp
import pytest
from aiohttp import web

from bot import admin
from bot.adapters import Entry
from bot.base import BaseAdapter
from bot.cli import build_parser
from bot.discord.config import DiscordSettings
from bot.feishu.config import FeishuSettings
from bot.logs import JsonFormatter, RedactingFormatter
from bot.run import run
from bot.settings import PlatformSettings, RunSettings
from core.access import Access, Allowlists
from core.door import Platform
from core.ima.tasks import TaskType
from core.jobs import Job, JobState, ModelSource, new_job_id
from core.limits import Caps, Window
from core.replier import Handle, ReplierLimits
from core.settings import Settings, SettingsError, load, load_settings
from core.store import Preference, open_store
from sim.app import start_simulator
from tests.wiring import settings_for

SECRET = "ima_super_secret_key_1234567890"


def test_settings_errors_name_the_variable_and_never_the_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTP_PORT", "not-a-port")
    monkeypatch.setenv("BOT_LANG", "fr")
    monkeypatch.setenv("IMA_BASE_URL", f"ftp://{SECRET}")
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None)
    text = str(caught.value)
    assert "BOT_LANG" in text
    assert "IMA_BASE_URL" in text
    assert SECRET not in text
    with pytest.raises(SettingsError, match="HTTP_PORT"):
        load(RunSettings, _env_file=None)


def test_each_part_reads_its_own_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_ALLOWED_GUILDS", "1, 2,")
    monkeypatch.setenv("DISCORD_ALLOWED_CHANNELS", "3")
    monkeypatch.setenv("FEISHU_ADMIN_IDS", "ou_boss")
    monkeypatch.setenv("BANNED_WORDS", "foo,bar baz")
    monkeypatch.setenv("USER_DAILY_CREDITS", "100")
    monkeypatch.setenv("CHAT_DAILY_CREDITS", "")  # as .env.example leaves it: not set
    policy = load_settings(_env_file=None).policy()
    assert policy.banned_words == ("foo", "bar baz")
    assert (policy.user_daily_credits, policy.chat_daily_credits) == (100, None)
    discord = load(DiscordSettings, _env_file=None).access()
    assert discord.allowed_places == {"1", "2", "3"}
    assert "ou_boss" in load(FeishuSettings, _env_file=None).access().admins


def test_log_lines_are_json_and_redacted() -> None:
    formatter = RedactingFormatter(JsonFormatter(), [SECRET])
    record = logging.makeLogRecord(
        {"msg": "calling https://x/?appUid=%s", "args": (SECRET,), "levelname": "INFO",
         "name": "t", "job_id": "j1"}
    )  # fmt: skip
    line = formatter.format(record)
    entry = json.loads(line)
    assert SECRET not in line
    assert entry["job_id"] == "j1"
    assert entry["msg"].startswith("calling https://x/?appUid=ima_su")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FakeSettings(PlatformSettings):
    @property
    def configured(self) -> bool:
        return True


class _Quiet:
    limits = ReplierLimits()

    async def send(self, reply: Any) -> Handle:
        return Handle("h")

    async def edit(self, handle: Handle, reply: Any) -> Handle:
        return handle


class FakeAdapter(BaseAdapter):
    """An adapter as ``ima-bot run`` builds it from its entry."""

    name = "test"
    built: ClassVar[list[FakeAdapter]] = []

    def __init__(self, door: Any, settings: FakeSettings) -> None:
        super().__init__(door)
        self.closed = False
        FakeAdapter.built.append(self)

    def platform(self) -> Platform:
        async def fetch(ref: Any, max_bytes: int) -> bytes:
            return b""

        return Platform("test", lambda target: _Quiet(), fetch)

    async def connect(self) -> None:
        pass

    async def disconnect(self) -> None:
        self.closed = True

    def routes(self) -> list[web.RouteDef]:
        async def hook(request: web.Request) -> web.Response:
            return web.json_response({"ok": True})

        return [web.post("/test/hook", hook)]


FAKE = Entry("test", FakeSettings, f"{__name__}:FakeAdapter")


async def test_run_serves_health_metrics_and_routes_then_stops(tmp_path: Path) -> None:
    async with await start_simulator(speed=0.001) as sim:
        port, metrics_port = free_port(), free_port()
        process = RunSettings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=str(tmp_path / "bot.db"),
            http_host="127.0.0.1",
            http_port=port,
            metrics_port=metrics_port,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(run(settings_for(sim, 0.001), process, (FAKE,), stop))
        base = f"http://127.0.0.1:{port}"
        health: Any = None
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                try:
                    async with http.get(f"{base}/readyz") as resp:
                        if resp.status == 200:
                            health = await resp.json()
                            break
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.02)
            assert health == {"status": "ok", "database": True, "adapters": {"test": True}}
            async with http.get(f"{base}/healthz") as resp:
                assert await resp.json() == health
            async with http.get(f"{base}/livez") as resp:
                assert resp.status == 200
            async with http.get(f"{base}/metrics") as resp:
                assert resp.status == 404  # not on the public server
            async with http.get(f"http://127.0.0.1:{metrics_port}/metrics") as resp:
                body = await resp.text()
            assert "ima_bot_jobs_total" in body
            assert "ima_bot_ima_request_seconds" in body
            async with http.post(f"{base}/test/hook") as resp:
                assert resp.status == 200
        stop.set()
        assert await asyncio.wait_for(task, 10) == 0
        assert FakeAdapter.built[-1].closed


async def test_run_without_platforms_says_what_to_set(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    settings = Settings(_env_file=None, ima_api_key=SECRET)  # type: ignore[call-arg, arg-type]
    process = RunSettings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=str(tmp_path / "bot.db"),
        http_port=free_port(),
        metrics_port=free_port(),
    )
    assert await run(settings, process, ()) == 2
    assert "DISCORD_TOKEN" in caplog.text


def job(**kw: Any) -> Job:
    values: dict[str, Any] = dict(
        id=new_job_id(), platform="discord", user_id="u1", chat_id="g1", locale="en",
        task_type=TaskType.TEXT_TO_VIDEO, version_id="wan2.6-t2v", model_id="wan2.6-t2v",
        model_name="Wan 2.6", prompt="waves", params={}, n=1, credits=25,
        source=ModelSource.DEFAULT, reply_target={}, created_at=time.time(),
    )  # fmt: skip
    values.update(kw)
    return Job(**values)


async def test_admin_usage_reset_jobs_cancel(tmp_path: Path) -> None:
    store = await open_store(str(tmp_path / "bot.db"))
    running = job()
    await store.admit(running)
    await store.admit(job(user_id="u2", credits=5, model_name="SeeDream 4.5"))
    await store.set_preference(
        "discord", "u1", TaskType.TEXT_TO_VIDEO, Preference("m", "v", "Wan 2.6", 25, 0)
    )
    parser = build_parser()

    async def admin_says(*argv: str) -> tuple[int, str]:
        out = io.StringIO()
        code = await admin.run_admin(parser.parse_args(["admin", *argv]), store, out)
        return code, out.getvalue()

    code, text = await admin_says("usage", "--platform", "discord")
    assert code == 0
    assert "total credits: 30" in text
    assert "SeeDream 4.5" in text
    code, text = await admin_says("jobs")
    assert running.id in text
    code, text = await admin_says("cancel", running.id)
    assert code == 0
    stored = await store.get_job(running.id)
    assert stored is not None
    assert stored.state is JobState.CANCELLED
    assert (await admin_says("cancel", running.id))[0] == 1
    code, text = await admin_says("reset-prefs", "discord", "u1")
    assert (code, text) == (0, "removed 1 saved model(s)\n")
    await store.close()


def test_env_example_documents_every_setting() -> None:
    example = (Path(__file__).parents[2] / ".env.example").read_text()
    documented = {
        line.split("=")[0]
        for line in example.splitlines()
        if "=" in line and not line.startswith("#")
    }
    for model in (Settings, RunSettings, DiscordSettings, FeishuSettings):
        prefix = str(model.model_config.get("env_prefix") or "")
        assert {prefix + name.upper() for name in model.model_fields} <= documented, model


async def test_admin_caps_show_set_clear(tmp_path: Path) -> None:
    store = await open_store(str(tmp_path / "bot.db"))
    defaults = Caps(user_credits=100, user_running=3)
    parser = build_parser()

    async def admin_says(*argv: str) -> tuple[int, str]:
        out = io.StringIO()
        args = parser.parse_args(["admin", "caps", *argv])
        code = await admin.run_admin(args, store, out, defaults=defaults)
        return code, out.getvalue()

    code, text = await admin_says("show")
    assert code == 0
    assert "defaults" in text
    assert "100" in text
    code, _ = await admin_says(
        "set", "discord", "g1", "--chat-credits", "500", "--window", "week", "--user-credits",
        "none",
    )  # fmt: skip
    assert code == 0
    assert await store.chat_caps("discord", "g1") == Caps(
        chat_credits=500, window=Window.WEEK, user_running=3
    )
    await admin_says("set", "discord", "g1", "--user-running", "1")  # the rest is kept
    assert await store.chat_caps("discord", "g1") == Caps(
        chat_credits=500, window=Window.WEEK, user_running=1
    )
    code, text = await admin_says("show", "discord")
    assert "g1" in text
    assert "week" in text
    assert (await admin_says("set", "discord", "g1", "--user-running", "0"))[0] == 1
    assert (await admin_says("clear", "discord", "g1"))[0] == 0
    assert (await admin_says("clear", "discord", "g1"))[0] == 1
    code, text = await admin_says("show", "discord", "g1")
    assert "(defaults)" in text
    await store.close()


async def test_admin_allow_and_admins_list_add_remove(tmp_path: Path) -> None:
    store = await open_store(str(tmp_path / "bot.db"))
    allowlists = Allowlists(store, {"discord": Access(frozenset({"111"}), frozenset())})
    parser = build_parser()

    async def admin_says(*argv: str) -> tuple[int, str]:
        out = io.StringIO()
        args = parser.parse_args(["admin", *argv])
        return await admin.run_admin(args, store, out, allowlists=allowlists), out.getvalue()

    code, text = await admin_says("allow", "add", "discord", " 222 ")
    assert (code, text) == (0, "added 222; every replica follows within a few seconds\n")
    assert (await admin_says("allow", "add", "discord", "222"))[0] == 1  # already there
    assert (await admin_says("allow", "add", "discord", "111"))[0] == 1  # in the settings
    code, text = await admin_says("allow", "add", "discord", "general")
    assert (code, text) == (1, "'general' is not a discord place id\n")
    code, text = await admin_says("allow", "list")
    assert text.splitlines()[1:] == ["discord   111  settings", "discord   222  added"]
    assert (await store.access_entries())[0].entry_id == "222"

    code, text = await admin_says("admins", "add", "feishu", "ou_boss")
    assert code == 0
    assert "only in the places" not in text  # admins don't narrow where the bot answers
    assert (await admin_says("admins", "add", "feishu", "oc_group"))[0] == 1
    assert (await allowlists.access("feishu")).admins == {"ou_boss"}
    code, text = await admin_says("allow", "add", "feishu", "oc_team")
    assert "the bot now answers on feishu only in the places listed" in text

    code, text = await admin_says("allow", "remove", "discord", "111")
    assert (code, text) == (1, "that id is in the settings: change them instead\n")
    assert (await admin_says("allow", "remove", "discord", "222"))[0] == 0
    assert (await admin_says("allow", "remove", "discord", "222"))[0] == 1
    code, text = await admin_says("allow", "list", "discord")
    assert "222" not in text
    await store.close()
