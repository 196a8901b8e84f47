"""A valid task of every type runs to completion and yields a real, downloadable file."""

import aiohttp
import pytest

from sim.app import start_simulator
from tests.sim.helpers import Api, FakeClock

IMAGE_COUNTS = {
    "text_to_image": 0,
    "image_to_image": 1,
    "text_to_video": 0,
    "image_to_video": 1,
    "first_last_frame_to_video": 2,
    "reference_image_to_video": 2,
    "text_to_music": 0,
}
PNG = b"\x89PNG\r\n\x1a\n"


def is_mp4(data: bytes) -> bool:
    return data[4:8] == b"ftyp"


def is_mp3(data: bytes) -> bool:
    return data.startswith(b"ID3") or (data[0] == 0xFF and data[1] & 0xE0 == 0xE0)


@pytest.mark.parametrize("category", list(IMAGE_COUNTS))
async def test_every_task_type_completes_with_a_real_file(api: Api, category: str) -> None:
    images = [await api.upload() for _ in range(IMAGE_COUNTS[category])]
    created = await api.create_ok(await api.valid_body(category, images=images))

    assert created["medias"] == []
    assert created["generate_count"] == 1
    assert created["timeout_at"] > created["created_at"]

    done = await api.poll(created["id"])
    (media,) = done["medias"]
    assert (done["id"], done["task_type"]) == (created["id"], category)
    assert (media["resource_status"], media["status"], media["error_msg"]) == (1, "success", "")

    status, content_type, data = await api.fetch(media["url"])
    assert status == 200
    if category.endswith("image"):
        assert (content_type, media["format"]) == ("image/png", "png")
        assert data.startswith(PNG)
        assert (media["width"], media["height"]) == (256, 256)
    elif category.endswith("video"):
        assert (content_type, media["format"]) == ("video/mp4", "mp4")
        assert is_mp4(data)
        assert media["duration_str"]
        assert media["cover_url"] == media["cover"]
        cover_status, cover_type, cover = await api.fetch(media["cover_url"])
        assert (cover_status, cover_type) == (200, "image/png")
        assert cover.startswith(PNG)
    else:
        assert (content_type, media["format"]) == ("audio/mpeg", "mp3")
        assert is_mp3(data)
        assert media["duration_str"]


async def test_images_depend_on_the_prompt(api: Api) -> None:
    urls = []
    for prompt in ("a cat", "a dog", "a cat"):
        created = await api.create_ok(await api.valid_body("text_to_image", prompt=prompt))
        urls.append((await api.poll(created["id"]))["medias"][0]["url"])
    cat, dog, cat_again = [(await api.fetch(url))[2] for url in urls]

    assert cat != dog
    assert cat == cat_again


async def test_lifecycle_follows_the_clock(http: aiohttp.ClientSession) -> None:
    clock = FakeClock()
    async with await start_simulator(clock=clock, seed=3) as sim:
        api = Api(http, sim.base_url)
        created = await api.create_ok(await api.valid_body("text_to_video", leaf=2))
        seconds = sim.state.tasks[created["id"]].medias[0].seconds
        assert 150 <= seconds <= 210  # Seedance 1.5 Pro's EET tag says 150~210s

        early = [(await api.detail(created["id"]))["medias"][0] for _ in range(4)]
        assert [m["status"] for m in early] == ["pending"] * 4
        assert sorted({m["resource_status"] for m in early}, key=str) == [0, None]
        assert all(m["url"] == "" for m in early)

        clock.advance(seconds / 2)
        media = (await api.detail(created["id"]))["medias"][0]
        assert (media["resource_status"] in (0, None), media["status"]) == (True, "processing")
        status, _, _ = await api.fetch(f"{sim.base_url}/results/{created['id']}/0.mp4")
        assert status == 404  # nothing to download before it is done

        clock.advance(seconds / 2 + 0.01)
        media = (await api.detail(created["id"]))["medias"][0]
        assert (media["resource_status"], media["status"]) == (1, "success")
        assert (await api.fetch(media["url"]))[0] == 200


async def test_speed_scales_times_and_default_ranges_apply(http: aiohttp.ClientSession) -> None:
    async with await start_simulator(speed=0.5, seed=3, clock=FakeClock()) as sim:
        api = Api(http, sim.base_url)
        created = await api.create_ok(await api.valid_body("text_to_video", leaf=0))
        # Seedance 2.0 fast has no EET tag: the video default of 60~180 s applies.
        assert 30 <= sim.state.tasks[created["id"]].medias[0].seconds <= 90


async def test_unknown_task_is_a_business_404(sim, http: aiohttp.ClientSession) -> None:
    for body in ({"task_id": "task_nope"}, {}):
        async with http.post(f"{sim.base_url}/open/v1/tasks/detail", json=body) as resp:
            payload = await resp.json()
        assert resp.status == 200
        assert payload["code"] == (404 if body else 400)
