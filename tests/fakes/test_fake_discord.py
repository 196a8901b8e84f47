"""The real discord.py client (login, gateway, app commands, components) against FakeDiscord."""

from __future__ import annotations

import asyncio
import io
import re
import struct
import zlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any, ClassVar

import aiohttp
import discord
import pytest
from discord import app_commands

from tests.fakes.discord import FakeDiscord, running_client
from tests.fakes.discord.gateway import GatewaySession

pytestmark = pytest.mark.timeout(15)

LOADING = 1 << 7
ZH = discord.Locale.chinese


def png_bytes() -> bytes:
    """A valid 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def make_bot(
    intents: discord.Intents | None = None,
) -> tuple[discord.Client, app_commands.CommandTree[discord.Client]]:
    client = discord.Client(intents=intents or discord.Intents.default(), guild_ready_timeout=0)
    return client, app_commands.CommandTree(client)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


class ZhTranslator(app_commands.Translator):
    """zh-CN names; ``broken`` makes it produce a name Discord rejects (upper case, space)."""

    NAMES: ClassVar[dict[str, str]] = {
        "imagine": "生成图片",
        "Generate an image": "生成一张图片",
        "prompt": "提示词",
    }

    def __init__(self) -> None:
        self.broken = False

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        if locale is not ZH:
            return None
        if self.broken and string.message == "imagine":
            return "Bad Name"
        return self.NAMES.get(string.message)


async def test_login_ready_and_sync_with_localizations(fake: FakeDiscord) -> None:
    client, tree = make_bot()
    translator = ZhTranslator()

    @tree.command(name="imagine", description="Generate an image")
    async def imagine(interaction: discord.Interaction, prompt: str) -> None:
        raise AssertionError("not invoked here")

    async with running_client(fake, client):
        await tree.set_translator(translator)
        assert client.user is not None
        assert client.user.id == fake.bot_user.id
        channel = client.get_channel(fake.default_channel.id)
        assert isinstance(channel, discord.TextChannel)
        assert channel.name == "general"
        assert channel.permissions_for(channel.guild.me).attach_files
        assert fake.sessions[0].compression == "zlib-stream"

        synced = await tree.sync()
        stored = fake.commands()
        assert [c.name for c in synced] == ["imagine"]
        assert synced[0].id == int(stored[0]["id"])
        assert stored[0]["name_localizations"] == {"zh-CN": "生成图片"}
        assert stored[0]["description_localizations"] == {"zh-CN": "生成一张图片"}
        assert stored[0]["options"][0]["name_localizations"] == {"zh-CN": "提示词"}

        guild = discord.Object(fake.default_guild.id)
        tree.copy_global_to(guild=guild)
        await tree.sync(guild=guild)
        assert [c["name"] for c in fake.commands(fake.default_guild.id)] == ["imagine"]

        translator.broken = True
        with pytest.raises(app_commands.CommandSyncFailure) as failure:
            await tree.sync()
        assert failure.value.code == 50035
        assert fake.commands() == stored  # a rejected sync changes nothing


async def test_deferred_progress_edits_and_png_attachment(fake: FakeDiscord) -> None:
    client, tree = make_bot()
    png = png_bytes()
    seen: asyncio.Future[tuple[discord.Locale, bytes]] = asyncio.get_running_loop().create_future()

    @tree.command(name="imagine", description="Generate an image")
    async def imagine(interaction: discord.Interaction, prompt: str) -> None:
        await interaction.response.defer()
        for step in range(1, 4):
            await interaction.edit_original_response(content=f"{prompt}: {step}/3")
        final = await interaction.edit_original_response(
            content="done", attachments=[discord.File(io.BytesIO(png), "result.png")]
        )
        seen.set_result((interaction.locale, await final.attachments[0].read()))

    async with running_client(fake, client):
        await tree.sync()
        interaction = await fake.send_slash_command("imagine", {"prompt": "cat"}, locale="zh-CN")
        assert await interaction.wait_for_response() == 5
        original = await interaction.wait_for_original(lambda m: bool(m.attachments))
        locale, downloaded = await asyncio.wait_for(seen, 5)

    assert locale is ZH
    assert downloaded == png
    assert [s.content for s in original.history] == ["", "cat: 1/3", "cat: 2/3", "cat: 3/3", "done"]
    assert original.history[0].flags & LOADING
    assert not original.loading
    [attachment] = original.attachments
    assert (attachment.filename, attachment.content_type, attachment.data) == (
        "result.png",
        "image/png",
        png,
    )
    assert [m.id for m in fake.channel_messages(fake.default_channel.id)] == [original.id]

    # Straight HTTP, no bot token: the callback route still answers (40060, not 401).
    async with aiohttp.ClientSession() as http:
        url = f"{fake.api_base}/interactions/{interaction.id}/{interaction.token}/callback"
        async with http.post(url, json={"type": 4, "data": {"content": "again"}}) as response:
            assert response.status == 400
            assert (await response.json())["code"] == 40060
        async with http.get(f"{fake.api_base}/users/@me") as response:
            assert response.status == 401
            assert response.headers["Content-Type"] == "application/json"


async def test_late_response_is_rejected_with_unknown_interaction() -> None:
    async with FakeDiscord(deadline=0.2) as fake:
        client, tree = make_bot()
        failure: asyncio.Future[discord.NotFound] = asyncio.get_running_loop().create_future()

        @tree.command(name="slow", description="Answers too late")
        async def slow(interaction: discord.Interaction) -> None:
            await asyncio.sleep(0.3)  # a handler doing slow work before its first response
            try:
                await interaction.response.defer()
            except discord.NotFound as exc:
                failure.set_result(exc)

        async with running_client(fake, client):
            await tree.sync()
            interaction = await fake.send_slash_command("slow")
            error = await asyncio.wait_for(failure, 5)

        assert error.code == 10062
        assert error.status == 404
        assert (await interaction.wait_for_error(10062)).route.endswith("/callback")
        assert interaction.response_type is None


async def test_autocomplete_round_trip(fake: FakeDiscord) -> None:
    client, tree = make_bot()
    models = ["flux-dev", "flux-pro", "sdxl", "midjourney"]

    @tree.command(name="imagine", description="Generate an image")
    async def imagine(interaction: discord.Interaction, prompt: str, model: str) -> None:
        raise AssertionError("not invoked here")

    @imagine.autocomplete("model")
    async def model_choices(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        assert interaction.namespace.prompt == "cat"
        return [app_commands.Choice(name=m, value=m) for m in models if m.startswith(current)]

    async with running_client(fake, client):
        await tree.sync()
        interaction = await fake.send_autocomplete("imagine", "model", "flux", {"prompt": "cat"})
        assert await interaction.wait_for_response() == 8

    assert interaction.autocomplete_choices == [
        {"name": "flux-dev", "value": "flux-dev"},
        {"name": "flux-pro", "value": "flux-pro"},
    ]


class RetryButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"job:(?P<job>\w+):retry"
):
    """A persistent button: the job id lives in the custom_id, so any process can handle it."""

    pressed: asyncio.Queue[tuple[str, int]]

    def __init__(self, job: str) -> None:
        super().__init__(discord.ui.Button(label="Retry", custom_id=f"job:{job}:retry"))
        self.job = job

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[discord.Client],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> RetryButton:
        return cls(match["job"])

    async def callback(self, interaction: discord.Interaction[discord.Client]) -> None:
        await self.pressed.put((self.job, interaction.user.id))
        await interaction.response.send_message(f"retrying {self.job}", ephemeral=True)


async def test_dynamic_button_works_before_and_after_restart(fake: FakeDiscord) -> None:
    RetryButton.pressed = asyncio.Queue()
    first, tree = make_bot()
    first.add_dynamic_items(RetryButton)

    @tree.command(name="imagine", description="Generate an image")
    async def imagine(interaction: discord.Interaction) -> None:
        view = discord.ui.View(timeout=None)
        view.add_item(RetryButton("ab12"))
        await interaction.response.send_message("here is your image", view=view)

    async with running_client(fake, first):
        await tree.sync()
        command = await fake.send_slash_command("imagine")
        message = await command.wait_for_original()
        assert message.custom_ids() == ["job:ab12:retry"]
        press = await fake.press_button(message, "job:ab12:retry")
        assert await press.wait_for_response() == 4
        assert await asyncio.wait_for(RetryButton.pressed.get(), 5) == (
            "ab12",
            fake.default_user.id,
        )
        assert press.original is not None
        assert press.original.ephemeral

    # A new process: no view in memory, only the registered dynamic item.
    second, _ = make_bot()
    second.add_dynamic_items(RetryButton)
    other = fake.add_user("someone-else")
    async with running_client(fake, second):
        press = await fake.press_button(message, "job:ab12:retry", user=other)
        assert await press.wait_for_response() == 4
        assert await asyncio.wait_for(RetryButton.pressed.get(), 5) == ("ab12", other.id)
    assert fake.identify_count == 2


async def test_token_expiry_surfaces_and_channel_fallback_works() -> None:
    async with FakeDiscord(token_ttl=5.0) as fake:
        client, tree = make_bot()
        go = asyncio.Event()
        outcome: asyncio.Future[tuple[timedelta, discord.HTTPException]] = (
            asyncio.get_running_loop().create_future()
        )

        @tree.command(name="imagine", description="Generate an image")
        async def imagine(interaction: discord.Interaction) -> None:
            await interaction.response.defer()
            left = interaction.expires_at - discord.utils.utcnow()
            await go.wait()
            try:
                await interaction.edit_original_response(content="done")
            except discord.HTTPException as exc:
                assert isinstance(interaction.channel, discord.TextChannel)
                await interaction.channel.send(f"{interaction.user.mention} done")
                outcome.set_result((left, exc))

        async with running_client(fake, client):
            await tree.sync()
            interaction = await fake.send_slash_command("imagine")
            await interaction.wait_for_response()
            interaction.expire_token()
            go.set()
            left, error = await asyncio.wait_for(outcome, 5)
            fallback = await fake.wait_for_message(
                fake.default_channel.id, lambda m: m.content.endswith("done")
            )

        # discord.py's expires_at agrees with the fake's token_ttl.
        assert timedelta(seconds=4) < left <= timedelta(seconds=5)
        assert (error.status, error.code) == (401, 50027)
        assert fallback.mentions == [fake.default_user]
        assert fallback.webhook_id is None
        assert interaction.original is not None
        assert interaction.original.loading


async def test_dm_channels_and_fallbacks(fake: FakeDiscord) -> None:
    client, tree = make_bot()
    blocked = fake.add_user("no-dms", accepts_dms=False)

    @tree.command(name="where", description="Where am I")
    async def where(interaction: discord.Interaction) -> None:
        in_dm = isinstance(interaction.channel, discord.DMChannel) and interaction.guild is None
        await interaction.response.send_message(f"dm={in_dm}")

    async with running_client(fake, client):
        await tree.sync()
        in_dm = await fake.send_slash_command("where", channel_id=fake.dm_channel(blocked).id)
        assert (await in_dm.wait_for_original()).content == "dm=True"
        user = await client.fetch_user(fake.default_user.id)
        dm = await user.create_dm()
        assert dm.id == fake.dm_channel(fake.default_user).id
        await dm.send("your video is ready", file=discord.File(io.BytesIO(b"x" * 10), "v.mp4"))
        [sent] = fake.dm_messages(fake.default_user)
        assert sent.content == "your video is ready"
        assert sent.attachments[0].content_type == "video/mp4"

        with pytest.raises(discord.Forbidden) as forbidden:
            await (await client.fetch_user(blocked.id)).send("hi")
        assert forbidden.value.code == 50007

        await fake.delete_channel(fake.default_channel.id)
        with pytest.raises(discord.NotFound) as gone:
            await client.get_partial_messageable(fake.default_channel.id).send("result")
        assert gone.value.code == 10003
        with pytest.raises(discord.NotFound):
            await client.fetch_channel(fake.default_channel.id)


async def test_gateway_messages_follow_intents(fake: FakeDiscord) -> None:
    client, _ = make_bot()  # default intents: no message_content
    received: asyncio.Queue[discord.Message] = asyncio.Queue()

    @client.event
    async def on_message(message: discord.Message) -> None:
        await received.put(message)

    async with running_client(fake, client):
        channel_id = fake.default_channel.id
        await fake.send_message(channel_id, "just chatting")
        mention = fake.bot_user.mention
        await fake.send_message(channel_id, f"{mention} draw a cat", mentions=[fake.bot_user])
        await fake.send_message(fake.dm_channel(fake.default_user).id, "draw a dog")
        channel = client.get_channel(channel_id)
        assert isinstance(channel, discord.TextChannel)
        await channel.send("a reply")

        got = [await asyncio.wait_for(received.get(), 5) for _ in range(4)]

    assert [m.content for m in got] == ["", f"{mention} draw a cat", "draw a dog", "a reply"]
    assert isinstance(got[2].channel, discord.DMChannel)
    assert got[3].author == client.user  # bots see their own messages and must skip them


async def test_resume_after_reconnect_request(fake: FakeDiscord) -> None:
    client, tree = make_bot()
    resumed = asyncio.Event()

    @client.event
    async def on_resumed() -> None:
        resumed.set()

    @tree.command(name="ping", description="Ping")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong")

    async with running_client(fake, client):
        await tree.sync()
        await fake.request_reconnect()
        # Sent while the client reconnects: queued on the session and replayed on RESUME.
        interaction = await fake.send_slash_command("ping")
        await asyncio.wait_for(resumed.wait(), 5)
        assert await interaction.wait_for_response() == 4
        assert (await fake.wait_for_session()).resumes == 1

    assert (fake.identify_count, fake.resume_count) == (1, 1)


async def test_limits_and_rate_limits() -> None:
    async with FakeDiscord(attachment_size_limit=1000) as fake:
        client, _ = make_bot()
        async with running_client(fake, client):
            channel = client.get_channel(fake.default_channel.id)
            assert isinstance(channel, discord.TextChannel)

            with pytest.raises(discord.HTTPException) as too_long:
                await channel.send("x" * 2001)
            assert (too_long.value.status, too_long.value.code) == (400, 50035)
            assert "content" in too_long.value.text

            with pytest.raises(discord.HTTPException) as too_big:
                await channel.send(file=discord.File(io.BytesIO(b"x" * 1001), "big.png"))
            assert (too_big.value.status, too_big.value.code) == (413, 40005)

            fake.inject_rate_limit("POST", "/channels/{channel_id}/messages", retry_after=0.05)
            await channel.send("x" * 2000)

            fake.inject_error(
                "GET", "/channels/{channel_id}", status=403, code=50001, message="Missing Access"
            )
            with pytest.raises(discord.Forbidden):
                await client.fetch_channel(channel.id)
            assert (await client.fetch_channel(channel.id)).id == channel.id

    statuses = [
        r.status for r in fake.requests if r.route == "POST /channels/{channel_id}/messages"
    ]
    assert statuses == [400, 413, 429, 200]


async def test_modal_round_trip(fake: FakeDiscord) -> None:
    client, tree = make_bot()
    submitted: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    class PromptModal(discord.ui.Modal, title="Prompt"):
        prompt: discord.ui.TextInput[PromptModal] = discord.ui.TextInput(
            label="Prompt", custom_id="prompt"
        )

        async def on_submit(self, interaction: discord.Interaction) -> None:
            submitted.set_result(self.prompt.value)
            await interaction.response.send_message("queued")

    @tree.command(name="imagine", description="Generate an image")
    async def imagine(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(PromptModal())

    async with running_client(fake, client):
        await tree.sync()
        opened = await fake.send_slash_command("imagine")
        assert await opened.wait_for_response() == 9
        submit = await fake.submit_modal(opened, {"prompt": "a cat"})
        assert await asyncio.wait_for(submitted, 5) == "a cat"
        assert (await submit.wait_for_original()).content == "queued"


async def test_subcommand_with_attachment_and_followups(fake: FakeDiscord) -> None:
    client, tree = make_bot()
    video = app_commands.Group(name="video", description="Video generation")
    received: asyncio.Future[tuple[str, str | None, bytes]] = (
        asyncio.get_running_loop().create_future()
    )

    @video.command(name="create", description="Animate an image")
    async def create(
        interaction: discord.Interaction, image: discord.Attachment, seconds: int = 5
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        received.set_result((image.filename, image.content_type, await image.read()))
        await interaction.followup.send(f"queued, {seconds}s")  # fills the thinking message
        await interaction.followup.send("second", wait=True)
        original = await interaction.original_response()
        await interaction.followup.send(f"original says {original.content}")

    tree.add_command(video)
    png = png_bytes()
    async with running_client(fake, client):
        await tree.sync()
        interaction = await fake.send_slash_command(
            "video create", {"seconds": 3}, attachments=[("cat.png", "image/png", png)]
        )
        assert await asyncio.wait_for(received, 5) == ("cat.png", "image/png", png)
        followups = await interaction.wait_for_followups(3)

    assert interaction.original is followups[0]
    assert [m.content for m in followups] == ["queued, 3s", "second", "original says queued, 3s"]
    assert followups[0].ephemeral
    assert not followups[1].ephemeral
    resolved = interaction.payload["data"]["resolved"]["attachments"]
    assert [a["filename"] for a in resolved.values()] == ["cat.png"]


async def test_buttons_update_their_message(fake: FakeDiscord) -> None:
    client, tree = make_bot()

    class Controls(discord.ui.View):
        @discord.ui.button(label="Cancel", custom_id="cancel")
        async def cancel(
            self, interaction: discord.Interaction, button: discord.ui.Button[Any]
        ) -> None:
            await interaction.response.edit_message(content="cancelled", view=None)

        @discord.ui.button(label="Refresh", custom_id="refresh")
        async def refresh(
            self, interaction: discord.Interaction, button: discord.ui.Button[Any]
        ) -> None:
            await interaction.response.defer()
            await interaction.edit_original_response(content="refreshed")

    @tree.command(name="imagine", description="Generate an image")
    async def imagine(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("working", view=Controls(timeout=None))

    async with running_client(fake, client):
        await tree.sync()
        # The fake stores the message before discord.py has read the callback response and
        # registered the view: wait for the command to finish before clicking.
        completed = client.wait_for("app_command_completion", timeout=5)
        command = await fake.send_slash_command("imagine")
        await completed
        message = await command.wait_for_original()
        refresh = await fake.press_button(message, "refresh")
        assert await refresh.wait_for_response() == 6
        await fake.wait_for(lambda: message.content == "refreshed")
        cancel = await fake.press_button(message, "cancel")
        assert await cancel.wait_for_response() == 7

    assert [s.content for s in message.history] == ["working", "refreshed", "cancelled"]
    assert message.components == []
    with pytest.raises(LookupError):
        await fake.press_button(message, "cancel")


async def test_privileged_intents_and_live_guilds() -> None:
    async with FakeDiscord(privileged_intents=0) as fake:
        client, _ = make_bot(discord.Intents.default() | discord.Intents(message_content=True))
        with pytest.raises(discord.PrivilegedIntentsRequired):
            async with running_client(fake, client):
                pass

        client, _ = make_bot()
        joined: asyncio.Future[discord.Guild] = asyncio.get_running_loop().create_future()

        @client.event
        async def on_guild_join(guild: discord.Guild) -> None:
            joined.set_result(guild)

        async with running_client(fake, client):
            guild = await fake.add_guild("Second", channel_names=["art", "video"])
            cached = await asyncio.wait_for(joined, 5)
            assert [c.name for c in cached.text_channels] == ["art", "video"]
            assert cached.id == guild.id


async def test_bot_token_message_operations(fake: FakeDiscord) -> None:
    client, _ = make_bot()
    async with running_client(fake, client):
        channel = client.get_channel(fake.default_channel.id)
        assert isinstance(channel, discord.TextChannel)
        async with channel.typing():
            sent = await channel.send("step 1", embed=discord.Embed(title="progress"))
        await sent.edit(content="step 2")
        fetched = await channel.fetch_message(sent.id)
        assert (fetched.content, fetched.embeds[0].title) == ("step 2", "progress")
        await sent.delete()

        stored = fake.message(sent.id)
        assert [s.content for s in stored.history] == ["step 1", "step 2"]
        assert stored.deleted
        assert fake.channel_messages(channel.id) == []
        with pytest.raises(discord.NotFound):
            await channel.fetch_message(sent.id)


async def test_a_repeated_nonce_returns_the_first_message(fake: FakeDiscord) -> None:
    """discord.py sends every message with ``enforce_nonce``; a nonce used again within
    Discord's window gets the message it made, nothing new."""
    client, _ = make_bot()
    async with running_client(fake, client):
        channel = client.get_channel(fake.default_channel.id)
        assert isinstance(channel, discord.TextChannel)
        first = await channel.send("result", nonce="job-1-success")
        again = await channel.send("result, again", nonce="job-1-success")
        other = await channel.send("another", nonce=12345)
        assert again.id == first.id
        assert again.content == "result"
        assert first.nonce == "job-1-success"
        assert other.id != first.id
        assert [m.content for m in fake.channel_messages(channel.id)] == ["result", "another"]
        with pytest.raises(discord.HTTPException) as too_long:
            await channel.send("x", nonce="n" * 26)
        assert too_long.value.code == 50035


async def test_raw_gateway_text_frames_and_bad_token(fake: FakeDiscord) -> None:
    url = f"{fake.gateway_url}?v=10&encoding=json"  # no compress: plain text frames
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(url) as ws:
            assert (await ws.receive_json())["op"] == 10
            await ws.send_json({"op": 2, "d": {"token": "wrong", "intents": 513}})
            closed = await ws.receive()
            assert (closed.type, closed.data) == (aiohttp.WSMsgType.CLOSE, 4004)

        async with http.ws_connect(url) as ws:
            await ws.receive_json()
            await ws.send_json({"op": 2, "d": {"token": fake.token, "intents": 513}})
            events = [await ws.receive_json() for _ in range(2)]
            assert [(e["t"], e["s"]) for e in events] == [("READY", 1), ("GUILD_CREATE", 2)]
            assert events[1]["d"]["channels"][0]["name"] == "general"
            await ws.send_json({"op": 1, "d": 2})
            assert await ws.receive_json() == {"op": 11}


class QuickShards(discord.AutoShardedClient):
    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Skip Discord's 5 s spacing between shard IDENTIFYs; the fake needs none."""


async def test_sharded_client_gets_each_event_once(fake: FakeDiscord) -> None:
    client = QuickShards(shard_count=2, intents=discord.Intents.default(), guild_ready_timeout=0)
    tree = app_commands.CommandTree(client)
    shards: list[int | None] = []

    @tree.command(name="ping", description="Ping")
    async def ping(interaction: discord.Interaction) -> None:
        shards.append(interaction.guild.shard_id if interaction.guild else None)
        await interaction.response.send_message("pong")

    async with running_client(fake, client):
        assert sorted(s.shard for s in fake.sessions if s.shard) == [(0, 2), (1, 2)]
        await tree.sync()
        in_guild = await fake.send_slash_command("ping")
        in_dm = await fake.send_slash_command(
            "ping", channel_id=fake.dm_channel(fake.default_user).id
        )
        assert await in_guild.wait_for_response() == 4
        assert await in_dm.wait_for_response() == 4

    assert shards == [(fake.default_guild.id >> 22) % 2, None]
    assert in_guild.errors == in_dm.errors == []


# --- Discord's limits, each failing the whole request with 400 / 50035 ----------------------


async def test_link_button_url_longer_than_512_fails_the_message(fake: FakeDiscord) -> None:
    client, tree = make_bot()
    failures: list[discord.HTTPException] = []

    def link(length: int) -> discord.ui.View:
        view = discord.ui.View()
        url = "https://example.com/"
        view.add_item(discord.ui.Button(label="Open", url=url + "a" * (length - len(url))))
        return view

    @tree.command(name="share", description="Share a result")
    async def share(interaction: discord.Interaction) -> None:
        try:
            await interaction.response.send_message("result", view=link(513))
        except discord.HTTPException as exc:
            failures.append(exc)
            await interaction.response.send_message("result", view=link(512))

    async with running_client(fake, client):
        await tree.sync()
        interaction = await fake.send_slash_command("share")
        original = await interaction.wait_for_original()

    [failure] = failures
    assert (failure.status, failure.code) == (400, 50035)
    assert "In components.url: Must be 512 or fewer in length." in failure.text
    [button] = original.components[0]["components"]
    assert len(button["url"]) == 512
    assert [m.id for m in fake.channel_messages(fake.default_channel.id)] == [original.id]


async def test_autocomplete_choice_limits(fake: FakeDiscord) -> None:
    client, tree = make_bot()
    answers = {
        "many": [app_commands.Choice(name=f"m{i}", value=f"m{i}") for i in range(26)],
        "long name": [app_commands.Choice(name="n" * 101, value="n")],
        "long value": [app_commands.Choice(name="v", value="v" * 101)],
        "most": [app_commands.Choice(name="x" * 100, value=f"{i:0>100}") for i in range(25)],
    }

    @tree.command(name="imagine", description="Generate an image")
    async def imagine(interaction: discord.Interaction, model: str) -> None:
        raise AssertionError("not invoked here")

    @imagine.autocomplete("model")
    async def model_choices(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return answers[current]

    async with running_client(fake, client):
        await tree.sync()
        refused = [await fake.send_autocomplete("imagine", "model", typed) for typed in answers]
        errors = [await i.wait_for_error(50035) for i in refused[:3]]
        assert await refused[3].wait_for_response() == 8

    assert [e.status for e in errors] == [400] * 3
    assert [i.autocomplete_choices for i in refused[:3]] == [None] * 3  # nothing was shown
    assert refused[3].autocomplete_choices is not None
    assert len(refused[3].autocomplete_choices) == 25


async def test_string_options_declare_their_length_and_the_client_enforces_it(
    fake: FakeDiscord,
) -> None:
    client, tree = make_bot()
    got: list[tuple[str, str, int]] = []

    @tree.command(name="imagine", description="Generate an image")
    @app_commands.choices(size=[app_commands.Choice(name="Square", value="1:1")])
    async def imagine(
        interaction: discord.Interaction,
        prompt: app_commands.Range[str, 2, 10],
        size: str = "1:1",
        count: app_commands.Range[int, 1, 4] = 1,
    ) -> None:
        got.append((prompt, size, count))
        await interaction.response.send_message("queued")

    async with running_client(fake, client):
        await tree.sync()
        [prompt, _, count] = fake.commands()[0]["options"]
        assert (prompt["min_length"], prompt["max_length"]) == (2, 10)
        assert (count["min_value"], count["max_value"]) == (1, 4)

        sent = await fake.send_slash_command("imagine", {"prompt": "x" * 10, "count": 4})
        assert await sent.wait_for_response() == 4
        for options, problem in (
            ({"prompt": "x" * 11}, "11 characters, over its max_length 10"),
            ({"prompt": "x"}, "1 characters, under its min_length 2"),
            ({"prompt": "a cat", "size": "2:3"}, "'2:3' is not one of its choices ['1:1']"),
            ({"prompt": "a cat", "count": 5}, "5 is outside 1..4"),
        ):
            with pytest.raises(ValueError, match=re.escape(problem)):
                await fake.send_slash_command("imagine", options)
        # While typing, only the length cap applies (a partial value may be too short).
        typing = await fake.send_autocomplete("imagine", "prompt", "x", {"count": 9})
        assert typing.payload["data"]["options"][0]["value"] == "x"
        with pytest.raises(ValueError, match="max_length 10"):
            await fake.send_autocomplete("imagine", "prompt", "x" * 11)

    assert got == [("x" * 10, "1:1", 4)]


async def test_command_definitions_are_validated(fake: FakeDiscord) -> None:
    client, tree = make_bot()

    def command(*options: dict[str, Any], description: str = "Generate an image") -> Any:
        return {"name": "imagine", "description": description, "options": list(options)}

    def text(name: str = "prompt", **extra: Any) -> dict[str, Any]:
        return {"type": 3, "name": name, "description": "What to draw", **extra}

    def sub(name: str, *options: dict[str, Any], kind: int = 1) -> dict[str, Any]:
        return {"type": kind, "name": name, "description": "A part", "options": list(options)}

    async with running_client(fake, client):
        upsert = client.http.bulk_upsert_global_commands
        await upsert(fake.application_id, [command(text(max_length=6000, min_length=0))])
        assert fake.commands()[0]["options"][0]["max_length"] == 6000
        for body, where in (
            (command(text(max_length=6001)), "In 0.options.0.max_length"),
            (command(text(max_length=0)), "In 0.options.0.max_length"),
            (command(text(min_length=6001)), "In 0.options.0.min_length"),
            (
                command(text(choices=[{"name": "n" * 101, "value": "v"}])),
                "0.options.0.choices.0.name",
            ),
            (
                command(text(choices=[{"name": f"c{i}", "value": "v"} for i in range(26)])),
                "0.options.0.choices",
            ),
            (command(description="d" * 101), "In 0.description"),
            (command(*[text(f"o{i}") for i in range(26)]), "In 0.options"),
            (command(sub("video", text()), text("seconds")), "In 0.options.1.type"),
            (command(sub("video", sub("create"))), "In 0.options.0.options.0.type"),
            (command(sub("video", text(), kind=2)), "In 0.options.0.options.0.type"),
        ):
            with pytest.raises(discord.HTTPException) as refused:
                await upsert(fake.application_id, [body])
            assert (refused.value.status, refused.value.code) == (400, 50035)
            assert where in refused.value.text
        nested = command(sub("video", sub("create", text()), kind=2))
        assert (await upsert(fake.application_id, [nested]))[0]["name"] == "imagine"

        # discord.py's own sync reports the failure with the command's name.
        @tree.command(name="imagine", description="Generate an image")
        async def imagine(
            interaction: discord.Interaction, prompt: app_commands.Range[str, 1, 7000]
        ) -> None:
            raise AssertionError("never synced")

        with pytest.raises(app_commands.CommandSyncFailure, match="max_length"):
            await tree.sync()
    assert fake.commands()[0]["options"][0]["type"] == 2  # the last accepted sync stands


async def test_interactions_record_whether_answers_were_ephemeral(fake: FakeDiscord) -> None:
    client, tree = make_bot()

    @tree.command(name="history", description="Your results")
    async def history(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True)
        await interaction.followup.send("your results")  # fills the private "thinking" message
        await interaction.followup.send("shown again", ephemeral=True)

    @tree.command(name="leak", description="Leaks")
    async def leak(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("private", ephemeral=True)
        await interaction.followup.send("for everyone")

    async with running_client(fake, client):
        await tree.sync()
        private = await fake.send_slash_command("history")
        await private.wait_for_followups(2)
        leaky = await fake.send_slash_command("leak")
        await leaky.wait_for_followups(1)

    assert private.answered_ephemerally
    assert [(a.callback_type, a.ephemeral) for a in private.answers] == [
        (5, True),
        (None, True),
        (None, True),
    ]
    assert private.public_answers == []
    assert not leaky.answered_ephemerally
    assert [a.message.content for a in leaky.public_answers] == ["for everyone"]


# --- shards ---------------------------------------------------------------------------------


async def test_auto_sharded_client_runs_the_recommended_shard_count() -> None:
    async with FakeDiscord(shards=3) as fake:
        client = QuickShards(intents=discord.Intents.default(), guild_ready_timeout=0)
        async with running_client(fake, client):
            assert client.shard_count == 3
            assert sorted(s.shard for s in fake.sessions if s.shard) == [(0, 3), (1, 3), (2, 3)]
            limits = await client.fetch_session_start_limits()

        assert (limits.total, limits.remaining, limits.max_concurrency) == (1000, 997, 1)
        assert [r.route for r in fake.requests].count("GET /gateway/bot") == 2
        for session in fake.sessions:
            [ready] = session.dispatched("READY")
            assert ready["shard"] == list(session.shard or ())


async def test_two_processes_each_run_one_shard(fake: FakeDiscord) -> None:
    """Events of a guild reach only the process running its shard; DMs reach shard 0's."""
    shard0 = await fake.add_guild("Zero", shard=(0, 2))
    shard1 = await fake.add_guild("One", shard=(1, 2))
    handled: list[tuple[str, int | None]] = []

    def process(name: str, shard_id: int) -> tuple[discord.Client, app_commands.CommandTree[Any]]:
        client = QuickShards(
            shard_count=2,
            shard_ids=[shard_id],
            intents=discord.Intents.default() | discord.Intents(message_content=True),
            guild_ready_timeout=0,
        )
        tree = app_commands.CommandTree(client)

        @tree.command(name="ping", description="Ping")
        async def ping(interaction: discord.Interaction) -> None:
            handled.append((name, interaction.guild_id))
            await interaction.response.send_message("pong")

        return client, tree

    processes = [process("A", 0), process("B", 1)]
    (a, tree_a), (b, _) = processes
    async with running_client(fake, a), running_client(fake, b):
        # READY and GUILD_CREATE: each process caches only its shard's guilds.
        assert {g.shard_id for g in a.guilds} == {0}
        assert {g.shard_id for g in b.guilds} == {1}
        assert {g.id for g in a.guilds} | {g.id for g in b.guilds} == set(fake.state.guilds)
        await tree_a.sync()  # one process syncs; both handle what reaches them
        dm_channel = fake.dm_channel(fake.default_user)
        for channel_id in (shard0.channel_ids[0], shard1.channel_ids[0], dm_channel.id):
            ping = await fake.send_slash_command("ping", channel_id=channel_id)
            assert await ping.wait_for_response() == 4
        await fake.send_message(shard1.channel_ids[0], "hello")
        [session_a] = [s for s in fake.sessions if s.shard == (0, 2)]
        [session_b] = [s for s in fake.sessions if s.shard == (1, 2)]
        await fake.wait_for(lambda: session_b.dispatched("MESSAGE_CREATE"))

    def guilds(session: GatewaySession, event: str) -> list[str | None]:
        return [d.get("guild_id") for d in session.dispatched(event)]

    assert handled == [("A", shard0.id), ("B", shard1.id), ("A", None)]
    assert guilds(session_a, "INTERACTION_CREATE") == [str(shard0.id), None]
    assert guilds(session_b, "INTERACTION_CREATE") == [str(shard1.id)]
    assert "hello" not in [m["content"] for m in session_a.dispatched("MESSAGE_CREATE")]
    assert set(guilds(session_a, "MESSAGE_CREATE")) == {str(shard0.id), None}  # the pongs
    assert [g["id"] for g in session_b.dispatched("GUILD_CREATE")] == [
        str(g.id) for g in fake.state.guilds.values() if g.shard_id(2) == 1
    ]


async def test_gateway_refuses_bad_shards_and_spent_session_starts() -> None:
    async with FakeDiscord(session_start_limit=1) as fake, aiohttp.ClientSession() as http:
        url = f"{fake.gateway_url}?v=10&encoding=json"
        identify = {"token": fake.token, "intents": 513}
        async with http.ws_connect(url) as ws:
            await ws.receive_json()
            await ws.send_json({"op": 2, "d": identify | {"shard": [2, 2]}})
            closed = await ws.receive()
            assert (closed.type, closed.data) == (aiohttp.WSMsgType.CLOSE, 4010)
        for expected in ("READY", None):
            async with http.ws_connect(url) as ws:
                await ws.receive_json()
                await ws.send_json({"op": 2, "d": identify})
                answer = await ws.receive_json()
                assert answer.get("t") == expected
        assert answer == {"op": 9, "d": False}  # no session starts left
        assert fake.identify_count == 1
