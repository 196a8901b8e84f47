"""The IMA client against the simulator over real loopback HTTP."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from core.ima import errors
from core.ima.client import IMAClient
from core.ima.rules import quote
from core.ima.session import Call, IMASession
from core.ima.tasks import TaskType, Timing
from core.ima.upload import ImageSource, sniff_image
from sim.app import RunningSimulator, start_simulator
from sim.media import render_png

API_KEY = "ima_client_test_key_0123456789"
PNG = render_png("input", 16, 16)
MAGIC = {
    TaskType.TEXT_TO_IMAGE: b"\x89PNG",
    TaskType.TEXT_TO_VIDEO: b"ftyp",
    TaskType.TEXT_TO_MUSIC: b"",
}
FAST = Timing(1, 2, 0.01, 1, 10.0)


@pytest.fixture
async def sim() -> AsyncIterator[RunningSimulator]:
    async with await start_simulator(speed=0.002, seed=3, slow_seconds=0.2) as running:
        yield running


def make_client(sim: RunningSimulator, *, clock: Callable[[], float] = time.monotonic) -> IMAClient:
    session = IMASession(API_KEY, base_url=sim.base_url, upload_base_url=sim.base_url)
    return IMAClient(session, poll_interval=0.01, retry_base_delay=0.01, clock=clock)


@pytest.fixture
async def client(sim: RunningSimulator) -> AsyncIterator[IMAClient]:
    c = make_client(sim)
    yield c
    await c.session.close()


def images_for(task_type: TaskType, tmp_path: Path) -> list[ImageSource]:
    low, _ = task_type.image_range
    path = tmp_path / "input.png"
    path.write_bytes(PNG)
    # One as a local path, the rest as bytes: both go through the upload flow.
    return [path, *([PNG] * (low - 1))] if low else []


@pytest.mark.parametrize("task_type", list(TaskType))
async def test_every_task_type_end_to_end(
    task_type: TaskType, client: IMAClient, sim: RunningSimulator, tmp_path: Path
) -> None:
    model = (await client.catalog(task_type)).find(task_type.spec.recommended)
    assert model is not None
    task, medias = await client.generate(
        model, "a fox in the snow", images=images_for(task_type, tmp_path)
    )
    assert len(medias) == 1
    body = sim.state.calls("create")[-1].body
    entry = body["parameters"][0]
    assert entry["attribute_id"] == task.quote.rule.attribute_id
    assert entry["credit"] == task.quote.rule.points
    assert len(body["src_img_url"]) == task_type.image_range[0]
    async with aiohttp.ClientSession() as http, http.get(medias[0].url) as resp:
        data = await resp.read()
    if task_type.media.value == "image":
        assert sniff_image(data) == ("image/png", "png")
    elif task_type.media.value == "video":
        assert data[4:8] == b"ftyp"
    else:
        assert data[:4] in (b"RIFF", b"ID3\x03", b"ID3\x04") or data[:2] == b"\xff\xfb"


async def test_n_results_charged_n_times(client: IMAClient, sim: RunningSimulator) -> None:
    model = (await client.catalog(TaskType.TEXT_TO_IMAGE)).find("Nano Banana 2")
    assert model is not None
    task, medias = await client.generate(model, "two cats", params={"size": "2K"}, n=2)
    assert len(medias) == 2
    assert task.quote.credits == 2 * task.quote.rule.points
    assert sum(e.points for e in sim.state.ledger) == task.quote.credits


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("rs2", errors.GenerationFailedError),
        ("rs3", errors.ResourceDeletedError),
        ("failed", errors.GenerationFailedError),
        ("moderation", errors.ContentRejectedError),
    ],
)
async def test_task_failures(fault: str, error: type[Exception], client: IMAClient) -> None:
    model = (await client.catalog(TaskType.TEXT_TO_IMAGE)).find("SeeDream 4.5")
    assert model is not None
    with pytest.raises(error):
        await client.generate(model, f"a cat [[sim:{fault}]]")


@pytest.mark.parametrize("fault", ["null", "partial"])
async def test_slow_or_null_media_still_complete(fault: str, client: IMAClient) -> None:
    model = (await client.catalog(TaskType.TEXT_TO_IMAGE)).find("SeeDream 4.5")
    assert model is not None
    _, medias = await client.generate(model, f"a cat [[sim:{fault}]]", n=2)
    assert len(medias) == 2


async def test_timeout(client: IMAClient) -> None:
    model = (await client.catalog(TaskType.TEXT_TO_IMAGE)).find("SeeDream 4.5")
    assert model is not None
    with pytest.raises(errors.GenerationTimeoutError):
        await client.generate(model, "a cat [[sim:timeout]]", max_wait=0.2)


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("401", errors.AuthError),
        ("4008", errors.InsufficientCreditsError),
        ("4014", errors.SubscriptionRequiredError),
        ("503", errors.ModelUnavailableError),
        ("500", errors.ServerError),
        ("reset", errors.NetworkError),
    ],
)
async def test_create_errors_are_classified_and_never_retried(
    fault: str, error: type[Exception], client: IMAClient, sim: RunningSimulator
) -> None:
    model = (await client.catalog(TaskType.TEXT_TO_IMAGE)).find("SeeDream 4.5")
    assert model is not None
    sim.state.faults.push("create", fault)
    with pytest.raises(error):
        await client.create(quote(model, {}), "a cat")
    # A create that may have reached the server is never sent again: it could charge twice.
    assert len(sim.state.calls("create")) == 1


async def test_create_retried_after_429(client: IMAClient, sim: RunningSimulator) -> None:
    model = (await client.catalog(TaskType.TEXT_TO_IMAGE)).find("SeeDream 4.5")
    assert model is not None
    sim.state.faults.push("create", "429", times=2)
    await client.create(quote(model, {}), "a cat")
    assert len(sim.state.calls("create")) == 3
    assert len(sim.state.tasks) == 1


@pytest.mark.parametrize("fault", ["6006", "6009", "6010"])
async def test_rule_mismatch_is_raised_and_requote_reads_the_catalog_again(
    fault: str, client: IMAClient, sim: RunningSimulator
) -> None:
    """The engine decides whether a new price may be spent; the client never re-creates."""
    model = (await client.catalog(TaskType.TEXT_TO_VIDEO)).find("Wan 2.6")
    assert model is not None
    sim.state.faults.push("create", fault)
    q = quote(model, {"duration": 10})
    with pytest.raises(errors.RuleMismatchError):
        await client.create(q, "waves")
    assert sim.state.tasks == {}
    fresh = await client.requote(q, {"duration": 10})
    assert fresh is not None
    assert sim.state.product_list_calls("text_to_video") == 2
    await client.create(fresh, "waves")
    assert len(sim.state.tasks) == 1


async def test_one_shot_generate_requotes_once(client: IMAClient, sim: RunningSimulator) -> None:
    model = (await client.catalog(TaskType.TEXT_TO_VIDEO)).find("Wan 2.6")
    assert model is not None
    sim.state.faults.push("create", "6010", times=2)
    with pytest.raises(errors.RuleMismatchError):
        await client.generate(model, "waves")
    assert len(sim.state.calls("create")) == 2


async def test_connection_refused_is_not_sent() -> None:
    session = IMASession(
        API_KEY, base_url="http://127.0.0.1:9", upload_base_url="http://127.0.0.1:9"
    )
    client = IMAClient(session, retry_base_delay=0.001)
    try:
        with pytest.raises(errors.NetworkError) as caught:
            await client.catalog(TaskType.TEXT_TO_IMAGE)
        assert caught.value.sent is False
    finally:
        await session.close()


async def test_polls_survive_transient_errors(client: IMAClient, sim: RunningSimulator) -> None:
    model = (await client.catalog(TaskType.TEXT_TO_IMAGE)).find("SeeDream 4.5")
    assert model is not None
    task = await client.create(quote(model, {}), "a cat")
    for fault in ("429", "500", "reset", "503"):
        sim.state.faults.push("detail", fault)
    medias = await client.wait(task.task_id, 1, FAST)
    assert len(medias) == 1


async def test_catalog_cached_per_category_and_ttl(sim: RunningSimulator) -> None:
    now = [0.0]
    client = make_client(sim, clock=lambda: now[0])  # the default TTL is 600 s
    try:
        await asyncio.gather(*(client.catalog(TaskType.TEXT_TO_IMAGE) for _ in range(50)))
        await client.catalog(TaskType.TEXT_TO_VIDEO)
        assert sim.state.product_list_calls("text_to_image") == 1
        now[0] = 599.0
        await client.catalog(TaskType.TEXT_TO_IMAGE)
        assert sim.state.product_list_calls("text_to_image") == 1
        now[0] = 601.0
        await client.catalog(TaskType.TEXT_TO_IMAGE)
        assert sim.state.product_list_calls("text_to_image") == 2
    finally:
        await client.session.close()


async def test_stricter_server_with_other_ids_and_prices() -> None:
    async with await start_simulator(
        speed=0.002, seed=1, attribute_id_offset=100_000, points_offset=7
    ) as strict:
        client = make_client(strict)
        try:
            model = (await client.catalog(TaskType.TEXT_TO_VIDEO)).find("Wan 2.6")
            assert model is not None
            task, _ = await client.generate(model, "waves", params={"duration": 10})
            # Wan 2.6 defaults to 1080P: 10 s at 1080P is rule 2060 / 80 points in the snapshot.
            assert task.quote.rule.attribute_id == 2060 + 100_000
            assert task.quote.rule.points == 80 + 7
        finally:
            await client.session.close()


async def test_upload_rules(client: IMAClient, sim: RunningSimulator, tmp_path: Path) -> None:
    text = tmp_path / "notes.png"  # the name lies: the bytes decide
    text.write_bytes(b"just some text")
    with pytest.raises(errors.NotAnImageError):
        await client.prepare_images([text])
    with pytest.raises(errors.ImageUnreachableError):
        await client.prepare_images([tmp_path / "missing.png"])
    with pytest.raises(errors.ImageTooLargeError):
        await client.prepare_images([PNG + b"\0" * (21 * 1024 * 1024)])
    assert await client.prepare_images(["https://example.com/a.png"]) == [
        "https://example.com/a.png"
    ]
    assert sim.state.calls("upload_token") == []
    [url] = await client.prepare_images([PNG])
    assert url.startswith(sim.base_url)
    token_call = sim.state.calls("upload_token")[0]
    assert token_call.query["fContentType"] == "image/png"
    assert token_call.query["fSuffix"] == "png"


async def test_api_key_never_in_logs_or_errors(
    client: IMAClient, sim: RunningSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for fault in ("500", "429", "401"):
        sim.state.faults.push("upload_token", fault)
        with pytest.raises(errors.IMAError) as caught:
            await client.prepare_images([PNG])
        assert API_KEY not in str(caught.value)
        assert API_KEY not in repr(caught.value.log_fields())
    sim.state.faults.push("create", "401")
    model = (await client.catalog(TaskType.TEXT_TO_IMAGE)).find("SeeDream 4.5")
    assert model is not None
    with pytest.raises(errors.AuthError):
        await client.create(quote(model, {}), "x")
    assert API_KEY not in caplog.text
    assert API_KEY not in repr(client.session)


def count_checks(client: IMAClient) -> list[int]:
    """How many status checks ``client`` sends from now on (one number, in a list)."""
    sent = [0]
    submit = client.session.submit

    def counting(*args: Any, **kwargs: Any) -> Call:
        sent[0] += 1
        return submit(*args, **kwargs)

    client.session.submit = counting  # type: ignore[method-assign]
    return sent


async def test_quiet_checks_leave_the_task_asleep(client: IMAClient) -> None:
    model = (await client.catalog(TaskType.TEXT_TO_IMAGE)).find("SeeDream 4.5")
    assert model is not None
    task = await client.create(quote(model, {}), "a cat")
    checks, polled = count_checks(client), []

    async def on_poll(elapsed: float) -> None:
        polled.append(elapsed)

    medias = await client.wait(task.task_id, 1, FAST, on_poll=on_poll, due=lambda _: False)
    assert len(medias) == 1
    assert checks[0] > 2
    assert polled == []


async def test_on_poll_runs_after_every_check_that_is_due(client: IMAClient) -> None:
    model = (await client.catalog(TaskType.TEXT_TO_IMAGE)).find("SeeDream 4.5")
    assert model is not None
    task = await client.create(quote(model, {}), "a cat")
    checks, polled = count_checks(client), []

    async def on_poll(elapsed: float) -> None:
        polled.append(elapsed)

    await client.wait(task.task_id, 1, FAST, on_poll=on_poll, due=lambda _: len(polled) < 2)
    assert len(polled) == 2
    assert checks[0] > 3
    await client.wait(task.task_id, 1, FAST, on_poll=on_poll)  # no `due`: after every one
    assert len(polled) == 2  # done at the first check: nothing after it


async def test_a_cancelled_wait_stops_its_checks(client: IMAClient, sim: RunningSimulator) -> None:
    model = (await client.catalog(TaskType.TEXT_TO_VIDEO)).find("Wan 2.6")
    assert model is not None
    task = await client.create(quote(model, {}), "waves")
    checks = count_checks(client)
    waiting = asyncio.create_task(client.wait(task.task_id, 1, FAST))
    await asyncio.sleep(0.1)
    sim.state.faults.push("detail", "slow")  # the next check is on its way when cancelled
    await asyncio.sleep(0.05)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    made = checks[0]
    await asyncio.sleep(0.4)  # the slow answer comes, the grid's next points pass
    assert checks[0] == made


async def test_a_check_failing_for_good_fails_the_wait(
    client: IMAClient, sim: RunningSimulator
) -> None:
    model = (await client.catalog(TaskType.TEXT_TO_VIDEO)).find("Wan 2.6")
    assert model is not None
    task = await client.create(quote(model, {}), "waves")
    waiting = asyncio.create_task(client.wait(task.task_id, 1, FAST, due=lambda _: False))
    await asyncio.sleep(0.05)
    sim.state.faults.push("detail", "401")
    with pytest.raises(errors.AuthError):
        await waiting
