"""The console end to end: ``ima-bot run`` (the real wiring, the Discord adapter on the fake
Discord, the IMA simulator) driven by a person in a real headless Chromium (Playwright with
Debian's ``/usr/bin/chromium``; no browser is downloaded).

A screenshot of each page is kept in the test's tmp dir; with ``CONSOLE_SCREENSHOTS=1`` they
also replace the ones in ``docs/img/`` that ``docs/operators.md`` shows.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from bot.adapters import ADAPTERS
from bot.run import run
from bot.settings import RunSettings
from core.i18n import Translator
from sim.app import RunningSimulator, start_simulator
from tests.bot.discord.world import finished
from tests.bot.test_operations import free_port
from tests.fakes.discord import FakeDiscord
from tests.wiring import settings_for

CHROMIUM = Path("/usr/bin/chromium")
DOCS_IMG = Path(__file__).resolve().parents[3] / "docs" / "img"
PASSWORD = "operator-password-for-the-test"
#: Slow enough that a video runs for many seconds (time to see it and stop it).
SCALE = 0.1

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium (.ci/run installs it)"
    ),
    pytest.mark.timeout(120),
]
translator = Translator.load()


@dataclass
class Running:
    base: str
    fake: FakeDiscord
    sim: RunningSimulator


@pytest.fixture(autouse=True)
def _restore_discord_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    monkeypatch.setattr(Route, "BASE", Route.BASE)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", DiscordWebSocket.DEFAULT_GATEWAY)


@pytest.fixture
async def bot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Running]:
    monkeypatch.chdir(tmp_path)  # no developer's .env here
    async with FakeDiscord() as fake, await start_simulator(speed=SCALE, seed=3) as sim:
        monkeypatch.setenv("DISCORD_TOKEN", fake.token)
        monkeypatch.setenv("DISCORD_API_BASE", fake.api_base)
        monkeypatch.setenv("DISCORD_GATEWAY_URL", fake.gateway_url)
        process = RunSettings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=str(tmp_path / "bot.db"),
            http_host="127.0.0.1",
            http_port=free_port(),
            metrics_port=free_port(),
            admin_password=PASSWORD,  # type: ignore[arg-type]
        )
        stop = asyncio.Event()
        running = asyncio.create_task(run(settings_for(sim, SCALE), process, ADAPTERS, stop))
        await fake.wait_for(lambda: fake.commands(), timeout=20, what="synced commands")
        await fake.wait_for_session(timeout=20)
        try:
            yield Running(f"http://127.0.0.1:{process.http_port}", fake, sim)
        finally:
            stop.set()
            assert await asyncio.wait_for(running, 30) == 0


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            yield launched
        finally:
            await launched.close()


async def new_page(browser: Browser, locale: str = "en-US") -> Page:
    context = await browser.new_context(locale=locale, viewport={"width": 1280, "height": 800})
    return await context.new_page()


async def screenshot(page: Page, tmp_path: Path, name: str) -> None:
    path = tmp_path / "screenshots" / f"console-{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    if os.environ.get("CONSOLE_SCREENSHOTS") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_IMG / path.name)


async def drawn(page: Page, chart: str) -> None:
    """Until Chart.js has drawn ``chart`` (within 10 s). Polled from here: the page's
    Content-Security-Policy (no eval) refuses the function ``wait_for_function`` runs in it."""
    async with asyncio.timeout(10):
        while not await page.evaluate(  # noqa: ASYNC110 - a page, not an event
            f"!!(window.Chart && window.Chart.getChart('chart-{chart}'))"
        ):
            await asyncio.sleep(0.1)


async def sign_in(page: Page, base: str) -> None:
    await page.goto(f"{base}/admin/jobs")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await expect(page.locator("h1")).to_contain_text(translator.t("en", "console.jobs.heading"))


async def test_an_operator_signs_in_watches_a_job_and_stops_it(
    bot: Running, browser: Browser, tmp_path: Path
) -> None:
    page = await new_page(browser)
    await page.goto(f"{bot.base}/admin/")
    assert page.url.endswith("/admin/login")
    await screenshot(page, tmp_path, "login")

    await page.fill("input[name=password]", "not the password")
    await page.click("button[type=submit]")
    await expect(page.get_by_role("alert")).to_have_text(translator.t("en", "console.login.wrong"))
    await sign_in(page, bot.base)
    await expect(page.locator("#live")).to_contain_text(translator.t("en", "console.jobs.none"))

    # A person asks for a video on Discord; the page shows it without a reload.
    interaction = await bot.fake.send_slash_command("video", {"prompt": "waves at sunset"})
    first = await interaction.wait_for_original(timeout=10)
    row = page.locator("#live tr[data-job]")
    await expect(row).to_have_count(1, timeout=10_000)
    await expect(row).to_contain_text("discord")
    await screenshot(page, tmp_path, "jobs")

    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await row.get_by_role("button").click()
    await expect(page.get_by_role("status")).to_have_text(translator.t("en", "console.cancelled"))
    stopped = translator.t("en", "failure.cancelled")
    message = await interaction.wait_for_original(
        lambda m: stopped in m.content and m.id == first.id, timeout=20
    )
    assert finished(message)
    await expect(page.locator("#live tr[data-job]")).to_have_count(0, timeout=10_000)

    # One that fails, for the failures page, and one delivered, for the usage page.
    bot.sim.state.faults.push("create", "moderation")  # IMA turns the picture down
    refused = await bot.fake.send_slash_command("image", {"prompt": "a cat"})
    await refused.wait_for_original(lambda m: m.content.startswith("❌"), timeout=20)
    made = await bot.fake.send_slash_command("image", {"prompt": "a dog in a hat"})
    await made.wait_for_original(finished, timeout=30)

    await page.click(f"text={translator.t('en', 'console.nav.failures')}")
    failures = page.locator("tbody tr")
    await expect(failures).to_have_count(1)
    await expect(failures).to_contain_text(translator.t("en", "error.content_rejected"))
    await expect(failures).to_contain_text("content_rejected")
    await screenshot(page, tmp_path, "failures")

    await page.click(f"text={translator.t('en', 'console.nav.usage')}")
    for chart in ("credits", "models", "failures"):  # drawn by the vendored Chart.js
        await drawn(page, chart)
    await expect(page.locator(".total")).to_contain_text("3 jobs")
    await screenshot(page, tmp_path, "usage")
    async with page.expect_download() as download_info:
        await page.click(f"text={translator.t('en', 'console.usage.csv')}")
    download = await download_info.value
    saved = await download.path()
    csv = (await asyncio.to_thread(Path(saved).read_text, "utf-8-sig")).splitlines()
    assert csv[0] == "day,platform,user,chat,model,jobs,credits"
    assert len(csv) >= 2

    # The switch speaks Chinese, and remembers it.
    await page.click("a[lang=zh]")
    await expect(page.locator("h1")).to_have_text(translator.t("zh", "console.usage.heading"))
    await page.click(f"text={translator.t('zh', 'console.nav.caps')}")
    await expect(page.locator("h1")).to_have_text(translator.t("zh", "console.caps.heading"))


async def test_a_chinese_browser_sets_caps_and_an_allowlist_the_bot_follows(
    bot: Running, browser: Browser, tmp_path: Path
) -> None:
    page = await new_page(browser, locale="zh-CN")
    await page.goto(f"{bot.base}/admin/login")
    await expect(page.locator("h1")).to_have_text(translator.t("zh", "console.login.heading"))
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.click(f"text={translator.t('zh', 'console.nav.caps')}")
    form = page.locator("#set-caps")
    await form.locator("select[name=platform]").select_option("discord")
    await form.locator("input[name=chat]").fill("12345")
    await form.locator("input[name=user_credits]").fill("40")
    await form.locator("select[name=window]").select_option("week")
    await form.get_by_role("button").click()
    await expect(page.get_by_role("status")).to_have_text(translator.t("zh", "console.saved"))
    chat = page.locator("tr[data-chat='discord:12345']")
    await expect(chat).to_contain_text("40")
    await expect(chat).to_contain_text(translator.t("zh", "console.window.week"))

    # Only #general from now on: an id that can't be one is refused in Chinese first.
    general = bot.fake.default_channel
    elsewhere = await bot.fake.add_text_channel(bot.fake.default_guild, "random")
    allow = page.locator("#allow")
    await allow.locator("select[name=platform]").select_option("discord")
    await allow.locator("select[name=kind]").select_option("place")
    await allow.locator("input[name=entry_id]").fill("#general")
    await allow.get_by_role("button").click()
    invalid = translator.t("zh", "console.allow.invalid.discord.place")
    await expect(page.get_by_role("alert")).to_have_text(invalid)
    await page.locator("#allow input[name=entry_id]").fill(str(general.id))
    await page.locator("#allow").get_by_role("button").click()
    await expect(page.get_by_role("status")).to_have_text(translator.t("zh", "console.saved"))
    places = page.locator("tr[data-allowlist='discord:place']")
    await expect(places.locator(f"[data-entry='{general.id}']")).to_be_visible()
    await screenshot(page, tmp_path, "caps")

    creates = len(bot.sim.state.calls("create"))
    ignored = await bot.fake.send_slash_command(
        "image", {"prompt": "a cat"}, channel_id=elsewhere.id
    )
    not_here = translator.t("en", "access.not_allowed")
    await ignored.wait_for_original(lambda m: not_here in m.content, timeout=20)
    answered = await bot.fake.send_slash_command(
        "image", {"prompt": "a cat"}, channel_id=general.id
    )
    await answered.wait_for_original(finished, timeout=30)
    assert len(bot.sim.state.calls("create")) == creates + 1

    # Removed again: the bot answers everywhere.
    await places.locator(f"[data-entry='{general.id}']").get_by_role("button").click()
    await expect(page.get_by_role("status")).to_have_text(translator.t("zh", "console.saved"))
    await expect(places).to_contain_text(translator.t("zh", "console.allow.everywhere"))
    again = await bot.fake.send_slash_command("image", {"prompt": "a dog"}, channel_id=elsewhere.id)
    await again.wait_for_original(finished, timeout=30)


async def test_a_cap_set_in_the_console_holds_for_the_next_request(
    bot: Running, browser: Browser
) -> None:
    made = await bot.fake.send_slash_command("image", {"prompt": "a cat"})
    await made.wait_for_original(finished, timeout=30)
    page = await new_page(browser)
    await sign_in(page, bot.base)
    await page.goto(f"{bot.base}/admin/usage")
    chat = (await page.locator("section").filter(has_text="discord:").last.inner_text()).split()
    chat_id = next(word for word in chat if word.startswith("discord:")).split(":", 1)[1]
    await page.goto(f"{bot.base}/admin/caps")
    form = page.locator("#set-caps")
    await form.locator("select[name=platform]").select_option("discord")
    await form.locator("input[name=chat]").fill(chat_id)
    await form.locator("input[name=user_credits]").fill("0")
    await form.get_by_role("button").click()
    await expect(page.get_by_role("status")).to_have_text(translator.t("en", "console.saved"))
    creates = len(bot.sim.state.calls("create"))
    refused = await bot.fake.send_slash_command("image", {"prompt": "another cat"})
    message = await refused.wait_for_original(timeout=20)
    assert not message.content.startswith("✅")
    assert len(bot.sim.state.calls("create")) == creates  # nothing was spent
