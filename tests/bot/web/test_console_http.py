"""The console over HTTP with aiohttp's test client: who gets in, forms that need their token,
wrong passwords limited, and what each page says (in both languages)."""

from __future__ import annotations

import contextlib
import hashlib
import re
import sqlite3
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from markupsafe import escape

from bot.web.app import Console, console_app
from bot.web.auth import MAX_FAILURES
from core.access import Access, AccessKind, Allowlists
from core.i18n import Translator
from core.limits import Caps, Window
from core.operations import Operations
from core.policy import Policy
from core.runner import today
from core.store import Store, open_store
from tests.core.store.test_store_contract import job
from tests.ops.test_http import Adapter as StubAdapter
from tests.ops.test_http import get, process_settings, serving

PASSWORD = "correct horse battery staple"
translator = Translator.load()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(str(tmp_path / "bot.db"))
    yield opened
    await opened.close()


@pytest.fixture
async def client(store: Store) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    policy = Policy(user_daily_credits=100, chat_daily_credits=None, max_active_per_user=3)
    console = Console(
        Operations(store, translator, policy.caps),
        PASSWORD,
        Allowlists(store, {"discord": Access(frozenset({"1001"}), frozenset({"2002"}))}),
    )
    app = web.Application()
    app.add_subapp("/admin", console_app(console))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


def said(locale: str, key: str, **values: object) -> str:
    """A sentence as the page shows it (escaped)."""
    return str(escape(translator.t(locale, key, **values)))


def field(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert found, f"no {name} in the page"
    return found.group(1)


async def login(client: TestClient[web.Request, web.Application], password: str = PASSWORD):
    page = await client.get("/admin/login")
    token = field(await page.text(), "login_token")
    return await client.post(
        "/admin/login",
        data={"login_token": token, "password": password},
        allow_redirects=False,
    )


async def csrf(client: TestClient[web.Request, web.Application]) -> str:
    page = await client.get("/admin/jobs")
    return field(await page.text(), "csrf")


async def test_pages_need_a_session(client: TestClient[web.Request, web.Application]) -> None:
    for path in ("/admin/", "/admin/jobs", "/admin/usage", "/admin/usage.csv", "/admin/failures"):
        answer = await client.get(path, allow_redirects=False)
        assert (answer.status, answer.headers["Location"]) == (303, "/admin/login"), path
    refused = await client.post("/admin/jobs/abc/cancel", data={}, allow_redirects=False)
    assert refused.status == 303
    static = await client.get("/admin/static/chart.umd.min.js")
    assert static.status == 200


async def test_login_sets_a_strict_http_only_session(
    client: TestClient[web.Request, web.Application],
) -> None:
    page = await client.get("/admin/login")
    assert "HttpOnly" in page.headers["Set-Cookie"]
    assert "SameSite=Strict" in page.headers["Set-Cookie"]
    answer = await login(client)
    assert (answer.status, answer.headers["Location"]) == (303, "/admin/jobs")
    cookie = next(c for c in answer.headers.getall("Set-Cookie") if "ima_admin_session" in c)
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Path=/admin" in cookie
    jobs = await client.get("/admin/jobs")
    assert jobs.status == 200
    assert "default-src 'self'" in jobs.headers["Content-Security-Policy"]
    assert jobs.headers["X-Frame-Options"] == "DENY"


async def test_login_needs_its_form_token(
    client: TestClient[web.Request, web.Application],
) -> None:
    answer = await client.post("/admin/login", data={"password": PASSWORD}, allow_redirects=False)
    assert answer.status == 403
    assert "ima_admin_session" not in answer.headers.get("Set-Cookie", "")


async def test_wrong_passwords_are_refused_then_limited(
    client: TestClient[web.Request, web.Application],
) -> None:
    for _ in range(MAX_FAILURES):
        answer = await login(client, "wrong")
        assert answer.status == 401
        assert said("en", "console.login.wrong") in await answer.text()
    # The limit holds even for the right password, so guessing on can't find it.
    limited = await login(client, PASSWORD)
    assert limited.status == 429
    assert limited.headers["Retry-After"] == "60"
    assert said("en", "console.login.too_many") in await limited.text()
    assert "ima_admin_session" not in limited.headers.get("Set-Cookie", "")


async def test_the_limit_speaks_chinese_to_a_chinese_browser(
    client: TestClient[web.Request, web.Application],
) -> None:
    client.session.headers["Accept-Language"] = "zh-CN,zh;q=0.9,en;q=0.8"
    answer = await login(client, "wrong")
    assert said("zh", "console.login.wrong") in await answer.text()


async def test_forms_need_the_sessions_token(
    client: TestClient[web.Request, web.Application], store: Store
) -> None:
    running = job()
    await store.admit(running)
    await login(client)
    forged = await client.post(f"/admin/jobs/{running.id}/cancel", data={"csrf": "guess"})
    assert forged.status == 403
    assert said("en", "console.bad_form") in await forged.text()
    assert await store.job_state(running.id) == "accepted"

    token = await csrf(client)
    done = await client.post(
        f"/admin/jobs/{running.id}/cancel", data={"csrf": token}, allow_redirects=False
    )
    assert (done.status, done.headers["Location"]) == (303, "/admin/jobs?notice=console.cancelled")
    assert await store.job_state(running.id) == "cancelled"
    again = await client.post(f"/admin/jobs/{running.id}/cancel", data={"csrf": token})
    assert said("en", "console.gone") in await again.text()


async def test_logout_ends_the_session(client: TestClient[web.Request, web.Application]) -> None:
    await login(client)
    token = await csrf(client)
    await client.post("/admin/logout", data={"csrf": token})
    answer = await client.get("/admin/jobs", allow_redirects=False)
    assert answer.status == 303


async def test_live_jobs_list_what_runs(
    client: TestClient[web.Request, web.Application], store: Store
) -> None:
    running = job(user="alice", chat_id="room-9", model_name="SeeDream 4.5")
    await store.admit(running)
    await login(client)
    page = await (await client.get("/admin/jobs")).text()
    assert running.id in page
    assert "SeeDream 4.5" in page
    assert "alice" in page
    assert "room-9" in page
    assert said("en", "console.state.accepted") in page


async def test_a_waiting_job_shows_its_place_in_the_queue(
    client: TestClient[web.Request, web.Application], store: Store
) -> None:
    first = job(user="erin", user_slots=1, created_at=1.0)
    second = job(user="erin", user_slots=1, created_at=2.0)
    await store.admit(first)
    await store.admit(second)
    await login(client)
    page = await (await client.get("/admin/jobs")).text()
    row = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*{second.id}(?:(?!</tr>).)*</tr>", page, re.S)
    assert row is not None
    assert '<td class="num">1</td>' in row.group(0)
    assert said("en", "console.state.queued") in row.group(0)


async def test_usage_and_its_csv(
    client: TestClient[web.Request, web.Application], store: Store
) -> None:
    for user, credits in (("alice", 10), ("bob", 4), ("alice", 6)):
        await store.admit(job(user=user, credits=credits, model_name="Wan 2.6"))
    await login(client)
    page = await (await client.get("/admin/usage?days=7")).text()
    since = (datetime.now(UTC) - timedelta(days=6)).strftime("%Y-%m-%d")
    assert said("en", "console.usage.total", credits=20, jobs=3, since=since) in page
    assert 'id="chart-data"' in page
    assert "test:alice" in page
    csv = await client.get("/admin/usage.csv?days=7")
    assert csv.headers["Content-Type"].startswith("text/csv")
    lines = (await csv.read()).decode("utf-8-sig").splitlines()
    assert lines[0] == "day,platform,user,chat,model,jobs,credits"
    assert f"{today()},test,alice,c1,Wan 2.6,2,16" in lines


async def test_failures_say_what_the_person_was_told_and_the_detail(
    client: TestClient[web.Request, web.Application], store: Store
) -> None:
    failed = job(user="carol")
    await store.admit(failed)
    await store.mark_failed(failed.id, error_kind="content_rejected", at=time.time(), release=True)
    await store.log(
        failed.id,
        "failed",
        {"error": "content_rejected", "reason": "error.content_rejected", "detail": "code 6009"},
    )
    older = job(user="dave")
    await store.admit(older)
    await store.mark_failed(older.id, error_kind="price_changed", at=time.time(), release=True)
    await login(client)
    page = await (await client.get("/admin/failures")).text()
    assert said("en", "error.content_rejected") in page
    assert "code 6009" in page
    assert said("en", "console.reason.price_changed") in page
    client.session.cookie_jar.update_cookies({"ima_admin_lang": "zh"})
    page = await (await client.get("/admin/failures")).text()
    assert said("zh", "error.content_rejected") in page


async def test_the_language_switch_remembers_and_goes_back(
    client: TestClient[web.Request, web.Application],
) -> None:
    await login(client)
    answer = await client.get("/admin/lang?to=zh&back=/admin/usage", allow_redirects=False)
    assert answer.headers["Location"] == "/admin/usage"
    page = await (await client.get("/admin/caps")).text()
    assert said("zh", "console.caps.heading") in page
    assert "1001" in page
    away = await client.get("/admin/lang?to=en&back=//evil.example/", allow_redirects=False)
    assert away.headers["Location"] == "/admin/jobs"


async def test_a_chats_caps_are_set_changed_and_cleared(
    client: TestClient[web.Request, web.Application], store: Store
) -> None:
    await login(client)
    token = await csrf(client)
    form = {
        "csrf": token,
        "platform": "discord",
        "chat": "guild-7",
        "user_credits": "20",
        "chat_credits": "",
        "user_running": "1",
        "chat_running": "",
        "window": "hour",
    }
    saved = await client.post("/admin/caps", data=form, allow_redirects=False)
    assert (saved.status, saved.headers["Location"]) == (303, "/admin/caps?notice=console.saved")
    assert await store.chat_caps("discord", "guild-7") == Caps(
        user_credits=20, window=Window.HOUR, user_running=1
    )
    page = await (await client.get("/admin/caps?platform=discord&chat=guild-7")).text()
    assert 'name="user_credits" type="number" min="0" value="20"' in page
    assert said("en", "console.window.hour") in page

    refused = await client.post("/admin/caps", data={**form, "user_running": "0"})
    assert refused.status == 400
    assert said("en", "console.caps.invalid") in await refused.text()
    refused = await client.post("/admin/caps", data={**form, "user_credits": "many"})
    assert refused.status == 400
    assert await store.chat_caps("discord", "guild-7") == Caps(
        user_credits=20, window=Window.HOUR, user_running=1
    )

    cleared = await client.post(
        "/admin/caps/clear", data={"csrf": token, "platform": "discord", "chat": "guild-7"}
    )
    assert cleared.status == 200
    assert await store.chat_caps("discord", "guild-7") is None


async def test_the_console_is_served_only_with_a_password(store: Store) -> None:
    off = process_settings()
    async with serving(store, StubAdapter(), off):
        status, _, _ = await get(f"http://127.0.0.1:{off.http_port}/admin/login")
        assert status == 404
    on = process_settings(admin_password=PASSWORD)
    assert PASSWORD in on.secrets()  # redacted from every log line
    async with serving(store, StubAdapter(), on):
        status, headers, body = await get(f"http://127.0.0.1:{on.http_port}/admin/login")
        assert status == 200
        assert "HttpOnly" in headers["Set-Cookie"]
        assert PASSWORD.encode() not in body
        status, _, _ = await get(f"http://127.0.0.1:{on.metrics_port}/admin/login")
        assert status == 404  # not on the private metrics server


async def test_allowlists_are_edited_with_ids_checked(
    client: TestClient[web.Request, web.Application], store: Store
) -> None:
    await login(client)
    token = await csrf(client)
    page = await (await client.get("/admin/caps")).text()
    assert said("en", "console.allow.from_settings") in page  # 1001, from the settings
    assert said("en", "console.allow.not_here") in page  # feishu doesn't run here

    add = {"csrf": token, "platform": "discord", "kind": "place", "entry_id": " 3003 "}
    saved = await client.post("/admin/allowlists", data=add, allow_redirects=False)
    assert saved.status == 303
    assert saved.headers["Location"].startswith("/admin/caps?notice=console.saved")
    assert [(e.platform, e.kind, e.entry_id) for e in await store.access_entries()] == [
        ("discord", AccessKind.PLACE, "3003")
    ]
    page = await (await client.get("/admin/caps")).text()
    assert 'data-entry="3003"' in page

    again = await client.post("/admin/allowlists", data=add)
    assert again.status == 409
    assert said("en", "console.allow.already") in await again.text()
    for platform, kind, text in (("discord", "place", "general"), ("feishu", "admin", "oc_x")):
        refused = await client.post(
            "/admin/allowlists",
            data={"csrf": token, "platform": platform, "kind": kind, "entry_id": text},
        )
        assert refused.status == 400
        assert said("en", f"console.allow.invalid.{platform}.{kind}") in await refused.text()
    forged = await client.post("/admin/allowlists", data={**add, "entry_id": "4004", "csrf": "x"})
    assert forged.status == 403
    client.session.cookie_jar.update_cookies({"ima_admin_lang": "zh"})
    refused = await client.post("/admin/allowlists", data={**add, "entry_id": "频道"})
    assert said("zh", "console.allow.invalid.discord.place") in await refused.text()

    removed = await client.post(
        "/admin/allowlists/remove",
        data={"csrf": token, "platform": "discord", "kind": "place", "entry_id": "3003"},
        allow_redirects=False,
    )
    assert removed.status == 303
    assert await store.access_entries() == []


def replica(store: Store) -> web.Application:
    """The console of one more replica on ``store``."""
    console = Console(Operations(store, translator), PASSWORD, Allowlists(store))
    app = web.Application()
    app.add_subapp("/admin", console_app(console))
    return app


def stored_rows(db: Path, table: str) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute(f"SELECT * FROM {table}").fetchall()  # noqa: S608


async def test_a_session_is_known_to_every_replica_and_outlives_a_restart(
    store: Store, tmp_path: Path
) -> None:
    """Two consoles on one database (two replicas behind a load balancer, or one before and
    after a restart): a login on one is a login on the other, and so is a logout."""

    async with (
        TestClient(TestServer(replica(store))) as one,
        TestClient(TestServer(replica(store))) as two,
    ):
        answer = await login(one)
        cookie = next(c for c in one.session.cookie_jar if c.key == "ima_admin_session")
        two.session.cookie_jar.update_cookies({"ima_admin_session": cookie.value})
        page = await two.get("/admin/jobs", allow_redirects=False)
        assert page.status == 200
        token = field(await page.text(), "csrf")  # the same session's CSRF token
        assert token == await csrf(one)
        rows = stored_rows(tmp_path / "bot.db", "console_sessions")
        assert cookie.value not in str(rows)  # only its hash is kept
        assert [r[0] for r in rows] == [hashlib.sha256(cookie.value.encode()).hexdigest()]
        await two.post("/admin/logout", data={"csrf": token})
        assert (await one.get("/admin/jobs", allow_redirects=False)).status == 303
        assert answer.status == 303


async def test_wrong_passwords_on_one_replica_count_on_the_other(store: Store) -> None:
    async with (
        TestClient(TestServer(replica(store))) as one,
        TestClient(TestServer(replica(store))) as two,
    ):
        for i in range(MAX_FAILURES):
            assert (await login(one if i % 2 else two, "wrong")).status == 401
        assert (await login(one, PASSWORD)).status == 429
        assert (await login(two, PASSWORD)).status == 429
