"""``/preferences show|set|reset``: private answers, and the defaults really used."""

from __future__ import annotations

from core.ima.tasks import TaskType
from tests.bot.discord.world import World, finished
from tests.fakes.discord import StoredMessage


async def preferences(world: World, sub: str, locale: str = "en-US", **options: str) -> str:
    interaction = await world.fake.send_slash_command(f"preferences {sub}", options, locale=locale)
    assert await interaction.wait_for_response() == 5
    reply = await interaction.wait_for_original(lambda m: not m.loading)
    assert reply.ephemeral
    return reply.content


async def test_set_show_and_reset(world: World) -> None:
    user = str(world.fake.default_user.id)
    assert await preferences(world, "show") == "You haven't saved any favourite models yet."

    saved = await preferences(world, "set", kind="video", model="Kling O1")
    assert saved.startswith("✅ Got it! From now on I'll use Kling O1 for videos from text")
    pref = await world.store.get_preference("discord", user, TaskType.IMAGE_TO_VIDEO)
    assert pref is not None
    assert pref.model_name == "Kling O1"
    await preferences(world, "set", kind="image", model="nano banana pro")

    shown = await preferences(world, "show", locale="zh-CN")
    assert "Kling O1" in shown
    assert "Nano Banana Pro" in shown

    # The default is what /image uses when no model is named.
    interaction = await world.fake.send_slash_command("image", {"prompt": "a cat"})
    message = await interaction.wait_for_original(finished)
    assert "Nano Banana Pro (your usual)" in message.history[1].content

    cleared = await preferences(world, "reset", kind="video")
    assert cleared.startswith("✅ Cleared your saved video models")
    assert await world.store.get_preference("discord", user, TaskType.TEXT_TO_VIDEO) is None
    assert await world.store.get_preference("discord", user, TaskType.TEXT_TO_IMAGE)

    assert (await preferences(world, "reset")).startswith("✅ Your saved models are cleared")
    assert await world.store.list_preferences("discord", user) == {}
    assert world.created_models() == ["Nano Banana Pro"]


async def test_unknown_model_is_not_saved_and_nothing_is_made(world: World) -> None:
    reply = await preferences(world, "set", kind="image", model="draw a cat")
    assert reply == "I couldn't find a model called “draw a cat”."
    assert await preferences(world, "set", kind="music", model="Kling O1") == (
        "I couldn't find a model called “Kling O1”."
    )
    assert await world.store.list_preferences("discord", str(world.fake.default_user.id)) == {}
    assert world.creates == []


async def test_history_lists_searches_and_shows_again(world: World) -> None:
    fake = world.fake
    made = await fake.send_slash_command("image", {"prompt": "a lighthouse at dawn"})
    await made.wait_for_original(finished)
    await world.settle()  # shown, then recorded as delivered
    choices = await fake.send_autocomplete("history", "item", "light", {})
    await choices.wait_for_response()
    [choice] = choices.autocomplete_choices or []
    assert "a lighthouse at dawn" in choice["name"]
    listing = await fake.send_slash_command("history", {})
    listed = await listing.wait_for_original(lambda m: "1." in m.content)
    assert listed.ephemeral
    shown = await fake.send_slash_command("history", {"item": choice["value"]})
    again = await shown.wait_for_original(lambda m: bool(m.attachments))
    assert "SeeDream 4.5" in again.content
    assert shown.answered_ephemerally
    stranger = fake.add_user("stranger")
    theirs = await fake.send_slash_command("history", {"item": choice["value"]}, user=stranger)
    refused = await theirs.wait_for_original(lambda m: bool(m.content))
    assert refused.content == world.engine.text("en", "action.not_yours")
    assert refused.ephemeral


async def test_what_is_shown_privately_stays_private(world: World) -> None:
    """Pressing "Show" on the private list, then a result button on what it shows: every answer
    is for the person only, and nothing appears in the channel."""
    fake = world.fake
    made = await fake.send_slash_command("image", {"prompt": "a lighthouse at dawn"})
    await made.wait_for_original(finished)
    await world.settle()

    def public() -> list[StoredMessage]:
        return [m for m in fake.channel_messages(fake.default_channel.id) if not m.ephemeral]

    before = public()
    listing = await fake.send_slash_command("history", {})
    listed = await listing.wait_for_original(lambda m: "1." in m.content)
    shown = await fake.press_button(listed, listed.custom_ids()[0])
    [again] = await shown.wait_for_followups(1)
    assert again.ephemeral
    assert again.attachments
    vary = next(c for c in again.custom_ids() if c.startswith("ima:v:"))
    varied = await fake.press_button(again, vary)
    result = await varied.wait_for_followups(1)
    await fake.wait_for(lambda: finished(result[0]), timeout=10, what="the varied picture")
    assert varied.answered_ephemerally
    assert world.creates[-1]["task_type"] == "image_to_image"
    assert public() == before
