"""The Feishu adapter's metrics, in both delivery modes: redeliveries ignored, how fast events
are acknowledged, Feishu's rate limits."""

from __future__ import annotations

import copy

from tests.bot.feishu.conftest import Bot
from tests.ops.samples import sample


async def test_redeliveries_acknowledgements_and_rate_limits_are_counted(bot: Bot) -> None:
    def now() -> tuple[float, float, float]:
        return (
            sample("ima_bot_events_deduplicated_total", platform="feishu"),
            sample("ima_bot_ack_seconds_count", platform="feishu"),
            sample("ima_bot_chat_rate_limited_total", platform="feishu"),
        )

    before = now()
    bot.fake.inject_rate_limit("reply", reset_seconds=0)  # the card's first send
    event = bot.fake.events.dm_text("draw a lighthouse")
    for _ in range(2):
        await bot.deliver(event)  # Feishu delivers again when unsure we got it
    same_message = copy.deepcopy(event)  # and the same message under a new event id
    same_message["header"]["event_id"] = "e" * 32
    await bot.deliver(same_message)
    await bot.final_card(event)
    await bot.settle()
    assert len(bot.creates) == 1
    deduplicated, acknowledged, limited = (n - b for n, b in zip(now(), before, strict=True))
    assert (deduplicated, acknowledged, limited) == (2, 3, 1)
