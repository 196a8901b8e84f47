"""At ``LOG_LEVEL=DEBUG`` the log says more, never what people wrote or a credential: the bot
as a process on Discord and on Feishu's long connection, with real traffic."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from sim.app import start_simulator
from tests.bot.discord.world import finished
from tests.bot.feishu.conftest import header
from tests.bot.test_operations import free_port
from tests.fakes.discord import FakeDiscord
from tests.fakes.feishu import FakeFeishu
from tests.ops.process import bare_environment, ima_bot_run

SCALE = 0.005
KEY = "ima_debug_log_key_0123456789"
DISCORD_PROMPT = "a lighthouse knitted from blue wool"
FEISHU_PROMPT = "draw a teapot shaped like a whale"


async def test_debug_logs_keep_prompts_and_credentials_out(tmp_path: Path) -> None:
    http_port = free_port()
    async with (
        FakeDiscord() as discord,
        FakeFeishu() as feishu,
        await start_simulator(speed=SCALE, seed=8) as sim,
    ):
        env = bare_environment({})
        env.update(
            IMA_API_KEY=KEY,
            IMA_BASE_URL=sim.base_url,
            IMA_UPLOAD_BASE_URL=sim.base_url,
            TIME_SCALE=str(SCALE),
            DISCORD_TOKEN=discord.token,
            DISCORD_API_BASE=discord.api_base,
            DISCORD_GATEWAY_URL=discord.gateway_url,
            FEISHU_APP_ID=feishu.app_id,
            FEISHU_APP_SECRET=feishu.app_secret,
            FEISHU_DOMAIN=feishu.domain,
            FEISHU_MODE="ws",
            DATABASE_URL=str(tmp_path / "bot.db"),
            HTTP_HOST="127.0.0.1",
            HTTP_PORT=str(http_port),
            METRICS_PORT=str(free_port()),
            LOG_LEVEL="DEBUG",
        )
        async with ima_bot_run(env, tmp_path) as bot:
            await bot.until_ready(http_port)
            interaction = await discord.send_slash_command("image", {"prompt": DISCORD_PROMPT})
            await interaction.wait_for_original(finished, timeout=30)

            event = feishu.events.dm_text(FEISHU_PROMPT)
            await feishu.push_event(event)
            message_id = event["event"]["message"]["message_id"]
            card = await feishu.wait_for_message(
                lambda m: m.reply_to == message_id and m.msg_type == "interactive"
            )
            await feishu.wait_until(lambda: header(card.json())["template"] == "green", "result")
            assert await bot.stop() == 0
        connection = parse_qs(urlsplit(feishu.ws_connections[0].url).query)
        never = {
            "the Discord prompt": DISCORD_PROMPT,
            "the Feishu prompt": FEISHU_PROMPT.removeprefix("draw "),
            "the IMA key": KEY,
            "the Discord token": discord.token,
            "the interaction's token": discord.interactions[0].token,
            "the Feishu app secret": feishu.app_secret,
            "the long connection's access key": connection["access_key"][0],
            "the long connection's ticket": connection["ticket"][0],
            **{f"tenant token {token[:6]}…": token for token in feishu.state.tenant_tokens},
        }
    log = bot.log
    assert " DEBUG " in log  # the level took effect
    assert "job_id=" in log
    leaked = [what for what, text in never.items() if text in log]
    assert leaked == []
