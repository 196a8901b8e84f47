"""A loopback Discord (REST + gateway + CDN) that the real discord.py client logs into.

Typical use::

    async with FakeDiscord(deadline=0.5) as fake:
        client = discord.Client(intents=discord.Intents.default(), guild_ready_timeout=0)
        tree = discord.app_commands.CommandTree(client)
        ...  # register commands
        async with running_client(fake, client):
            await tree.sync()
            interaction = await fake.send_slash_command("imagine", {"prompt": "a cat"})
            assert await interaction.wait_for_response() == 5  # deferred
            original = await interaction.wait_for_original(lambda m: not m.loading)
"""

from .errors import ErrorSpec
from .harness import pointed_at, running_client, sync_client
from .invocations import Upload
from .models import (
    Answer,
    ApiError,
    FakeChannel,
    FakeGuild,
    FakeInteraction,
    FakeUser,
    MessageSnapshot,
    RequestRecord,
    StoredAttachment,
    StoredMessage,
)
from .server import FakeDiscord

__all__ = [
    "Answer",
    "ApiError",
    "ErrorSpec",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeInteraction",
    "FakeUser",
    "MessageSnapshot",
    "RequestRecord",
    "StoredAttachment",
    "StoredMessage",
    "Upload",
    "pointed_at",
    "running_client",
    "sync_client",
]
