"""One contract every Store backend must pass (run against each backend)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.access import AccessEntry, AccessKind
from core.ima.tasks import TaskType
from core.jobs import Job, JobState, ModelSource, new_job_id
from core.limits import Caps, Window
from core.replier import Handle
from core.store import Admission, ConsoleSession, Preference, Store, StoreError, open_store
from core.store.sql import CANCEL_CHECK, KEEP_SECONDS
from tests.postgres import PASSWORD, Server

DAY = "2026-11-25"


@pytest.fixture(params=["file", "memory", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "postgres":
        url = await request.getfixturevalue("postgres_server").new_database()
    else:
        url = f"sqlite:///{tmp_path / 'bot.db'}" if request.param == "file" else ":memory:"
    s = await open_store(url)
    yield s
    await s.close()


def job(user: str = "u1", **kw: object) -> Job:
    values: dict[str, object] = {
        "id": new_job_id(),
        "platform": "test",
        "user_id": user,
        "chat_id": "c1",
        "locale": "en",
        "task_type": TaskType.TEXT_TO_IMAGE,
        "version_id": "v",
        "model_id": "m",
        "model_name": "Model",
        "prompt": "a cat",
        "params": {"size": "2K"},
        "n": 1,
        "credits": 5,
        "source": ModelSource.DEFAULT,
        "reply_target": {"channel": "c1"},
        "created_at": time.time(),
    }
    values.update(kw)
    return Job(**values)  # type: ignore[arg-type]


async def test_preferences_roundtrip(store: Store) -> None:
    pref = Preference("m", "v", "Model", 5, 1.0)
    assert await store.get_preference("test", "u1", TaskType.TEXT_TO_IMAGE) is None
    await store.set_preference("test", "u1", TaskType.TEXT_TO_IMAGE, pref)
    await store.set_preference("test", "u1", TaskType.TEXT_TO_VIDEO, pref)
    assert await store.get_preference("test", "u1", TaskType.TEXT_TO_IMAGE) == pref
    newer = Preference("m2", "v2", "Other", 9, 2.0)
    await store.set_preference("test", "u1", TaskType.TEXT_TO_IMAGE, newer)
    assert (await store.list_preferences("test", "u1"))[TaskType.TEXT_TO_IMAGE] == newer
    assert await store.get_preference("other", "u1", TaskType.TEXT_TO_IMAGE) is None
    assert await store.clear_preferences("test", "u1", TaskType.TEXT_TO_VIDEO) == 1
    assert await store.clear_preferences("test", "u1") == 1
    assert await store.list_preferences("test", "u1") == {}


async def test_a_preference_saved_by_use_is_told_from_a_chosen_one(store: Store) -> None:
    used = Preference("m", "v", "Model", 5, 1.0, chosen=False)
    await store.set_preference("test", "u1", TaskType.TEXT_TO_VIDEO, used)
    assert await store.get_preference("test", "u1", TaskType.TEXT_TO_VIDEO) == used
    chosen = Preference("m", "v", "Model", 5, 2.0)
    await store.set_preference("test", "u1", TaskType.TEXT_TO_VIDEO, chosen)
    assert (await store.list_preferences("test", "u1"))[TaskType.TEXT_TO_VIDEO].chosen


async def test_preferences_saved_before_the_chosen_mark_stay_binding(tmp_path: Path) -> None:
    import sqlite3

    from core.store.migrations import MIGRATIONS

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:  # the schema as it was before migration 11
        for number, migration in enumerate(MIGRATIONS[:10], start=1):
            conn.executescript(f"{migration.sqlite};PRAGMA user_version = {number};")
        conn.execute(
            "INSERT INTO preferences VALUES ('test', 'u1', ?, 'm', 'v', 'Model', 5, 1.0)",
            (TaskType.TEXT_TO_IMAGE.value,),
        )
    s = await open_store(str(path))
    try:
        pref = await s.get_preference("test", "u1", TaskType.TEXT_TO_IMAGE)
    finally:
        await s.close()
    assert pref == Preference("m", "v", "Model", 5, 1.0, chosen=True)


async def test_job_roundtrip_and_transitions(store: Store) -> None:
    j = job(
        image_urls=("https://x/1.png",),
        attachments=({"name": "a.png", "ref": {"url": "u"}},),
        wants={"duration": 5},
        origin_id="j0",
    )
    assert await store.admit(j) is Admission.OK
    loaded = await store.get_job(j.id)
    assert loaded is not None
    assert loaded.state is JobState.ACCEPTED
    assert loaded.attachments == ({"name": "a.png", "ref": {"url": "u"}},)
    assert (loaded.wants, loaded.origin_id, loaded.model_id) == ({"duration": 5}, "j0", "m")
    assert not await store.mark_running(j.id, task_id="t1", started_at=1.0, credits=5)
    assert await store.mark_creating(j.id)
    assert not await store.mark_creating(j.id)  # only from accepted
    assert await store.mark_not_sent(j.id)
    assert await store.mark_creating(j.id)
    assert await store.mark_running(j.id, task_id="t1", started_at=1.0, credits=8)
    await store.set_inputs(j.id, ["https://x/up.png"])
    loaded = await store.get_job(j.id)
    assert loaded is not None
    assert (loaded.state, loaded.ima_task_id, loaded.credits) == (JobState.RUNNING, "t1", 8)
    assert loaded.image_urls == ("https://x/up.png",)
    assert loaded.attachments == ()
    assert sum(r.credits for r in await store.usage(DAY)) == 8  # the price IMA took
    assert await store.job_state(j.id) == "running"
    assert [x.id for x in await store.active_jobs()] == [j.id]
    assert await store.mark_delivering(j.id, result_urls=["https://r"], result_covers=[None])
    assert await store.mark_delivered(j.id, at=2.0)
    assert not await store.mark_failed(j.id, error_kind="x", at=3.0, release=True)
    assert not await store.mark_cancelled(j.id, at=3.0)
    assert await store.active_jobs() == []
    loaded = await store.get_job(j.id)
    assert loaded is not None
    assert (loaded.state, loaded.result_urls, loaded.finished_at) == (
        JobState.DELIVERED,
        ("https://r",),
        2.0,
    )


async def test_failing_and_cancelling_release_only_what_was_never_sent(store: Store) -> None:
    refused, unknown, cancelled, sent = job(), job(), job(), job()
    for j in (refused, unknown, cancelled, sent):
        await store.admit(j)
    await store.mark_creating(refused.id)
    assert await store.mark_failed(refused.id, error_kind="bad_request", at=1.0, release=True)
    await store.mark_creating(unknown.id)
    assert await store.mark_failed(unknown.id, error_kind="unknown", at=1.0, release=False)
    assert await store.mark_cancelled(cancelled.id, at=1.0)  # accepted: never sent
    await store.mark_creating(sent.id)
    assert await store.mark_cancelled(sent.id, at=1.0)  # maybe sent: stays counted
    assert sum(r.credits for r in await store.usage(DAY)) == 10


@pytest.mark.parametrize("backend", ["file", "postgres"])
async def test_cancels_are_told_here_at_once_and_from_another_process_soon(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if backend == "postgres":
        url = await request.getfixturevalue("postgres_server").new_database()
    else:
        url = f"sqlite:///{tmp_path / 'bot.db'}"
    here, elsewhere = await open_store(url), await open_store(url)  # two processes' stores
    try:
        told: list[str] = []
        heard = asyncio.Event()

        def tell(job_id: str) -> None:
            told.append(job_id)
            heard.set()

        here.watch_cancels(tell)
        ours, theirs, finished = job(), job(), job()
        for j in (ours, theirs, finished):
            await here.admit(j)
        assert await here.mark_cancelled(ours.id, at=time.time())
        assert set(told) == {ours.id}  # before the cancel returned (maybe more than once)
        heard.clear()
        await here.mark_failed(finished.id, error_kind="x", at=time.time(), release=True)
        started = time.monotonic()
        assert await elsewhere.mark_cancelled(theirs.id, at=time.time())
        while theirs.id not in told:
            await asyncio.wait_for(heard.wait(), CANCEL_CHECK + 5)
            heard.clear()
        if backend == "postgres":  # notified, not found by the periodic look
            assert time.monotonic() - started < CANCEL_CHECK
        assert finished.id not in told
        assert not await elsewhere.mark_cancelled(theirs.id, at=time.time())  # once
    finally:
        await here.close()
        await elsewhere.close()


async def test_recent_failures_latest_first_with_what_the_log_kept(store: Store) -> None:
    old, told, untold, cancelled = job(), job(user="u2"), job(user="u3"), job()
    for j in (old, told, untold, cancelled):
        await store.admit(j)
    await store.mark_failed(old.id, error_kind="timeout", at=10.0, release=False)
    await store.mark_failed(told.id, error_kind="content_rejected", at=30.0, release=True)
    await store.log(told.id, "accepted", {"credits": 5})
    logged = {"error": "content_rejected", "reason": "error.content_rejected", "detail": "6009"}
    await store.log(told.id, "failed", logged)
    await store.mark_failed(untold.id, error_kind="delivery", at=20.0, release=True)
    await store.mark_cancelled(cancelled.id, at=25.0)
    failures = await store.recent_failures(15.0)
    assert [(f.job_id, f.error_kind, f.reason, f.detail) for f in failures] == [
        (told.id, "content_rejected", "error.content_rejected", "6009"),
        (untold.id, "delivery", None, None),
    ]
    assert (failures[0].at, failures[0].user_id, failures[0].model_name) == (30.0, "u2", "Model")
    assert len(await store.recent_failures(0.0, limit=1)) == 1
    assert len(await store.recent_failures(0.0, limit=None)) == 3


async def test_handles_and_the_messages_of_a_job(store: Store) -> None:
    j = job()
    await store.admit(j)
    await store.set_handle(j.id, Handle("card-1", "{}", ("video-1",)), expires_at=None)
    for message_id in ("card-1", "video-1"):
        found = await store.job_for_message("test", message_id)
        assert found is not None
        assert found.id == j.id
    await store.set_handle(j.id, Handle("card-2"), expires_at=None)  # posted anew
    assert (await store.job_for_message("test", "card-2")) is not None
    assert (await store.job_for_message("test", "card-1")) is not None  # replies to the old too
    assert await store.job_for_message("other", "card-2") is None
    loaded = await store.get_job(j.id)
    assert loaded is not None
    assert loaded.handle == Handle("card-2")


async def test_reprice_checks_the_caps(store: Store) -> None:
    caps = Caps(user_credits=20)
    a, b = job(credits=5), job(credits=5)
    await store.admit(a, caps=caps)
    await store.admit(b, caps=caps)
    assert await store.reprice(a.id, 16, caps=caps) is Admission.USER_CAP
    assert await store.reprice(a.id, 10, caps=caps) is Admission.OK
    assert sum(r.credits for r in await store.usage(DAY)) == 15
    assert (await store.get_job(a.id)).credits == 10  # type: ignore[union-attr]


async def test_requests_stored_before_acknowledged(store: Store) -> None:
    results = await asyncio.gather(
        *(store.receive("p:1", {"text": "hi"}, expires_at=None) for _ in range(5))
    )
    assert results.count(True) == 1
    now = time.time()
    assert await store.claim_requests(0, now) == []  # this replica answers it
    assert await store.claim_requests(0, now, previous_life=True) == [{"text": "hi"}]
    assert await store.admit(job(), request_key="p:1") is Admission.OK  # answered with it
    assert await store.claim_requests(0, now, previous_life=True) == []
    assert await store.admit(job(), request_key="p:1") is Admission.ANSWERED  # never two jobs
    await store.receive("p:2", {"text": "help"}, expires_at=None)
    await store.finish_request("p:2")
    assert await store.claim_requests(0, now, previous_life=True) == []
    assert not await store.receive("p:2", {"text": "help"}, expires_at=None)


async def test_requests_arriving_together_are_each_stored_once(store: Store) -> None:
    keys = [f"burst:{i}" for i in range(1200)] + ["burst:7", "burst:1100"]  # two redelivered
    fresh = await asyncio.gather(*(store.receive(k, {"n": k}, expires_at=None) for k in keys))
    assert fresh == [True] * 1200 + [False, False]
    stored = await store.claim_requests(0, time.time(), previous_life=True)
    assert sorted(r["n"] for r in stored) == sorted(set(keys))


async def test_short_lived_credentials_are_scrubbed(store: Store) -> None:
    target = {"channel": 1, "token": "secret-token", "expires": {"token": 100.0}}
    j = job(reply_target=target)
    await store.admit(j)
    await store.set_handle(
        j.id, Handle("m1", '{"token":"t","expires":{"token":100.0}}'), expires_at=100.0
    )
    await store.receive("p:1", {"reply_target": target}, expires_at=100.0)
    assert await store.scrub(50.0) == 0
    assert await store.scrub(150.0) == 2
    loaded = await store.get_job(j.id)
    assert loaded is not None
    assert loaded.reply_target == {"channel": 1}
    assert loaded.handle == Handle("m1", "{}")
    assert await store.claim_requests(0, time.time(), previous_life=True) == [
        {"reply_target": {"channel": 1}}
    ]
    assert await store.scrub(200.0) == 0


async def test_slots_are_atomic_under_concurrency_and_the_rest_wait(store: Store) -> None:
    results = await asyncio.gather(*(store.admit(job(user_slots=3)) for _ in range(20)))
    assert results.count(Admission.OK) == 3
    assert results.count(Admission.QUEUED) == 17
    assert await store.active_counts("test", "u1") == {JobState.ACCEPTED: 3, JobState.QUEUED: 17}
    assert await store.admit(job(user="u2", user_slots=3)) is Admission.OK
    assert await store.promote() == []  # every slot is taken
    positions = await store.queue_positions()
    assert sorted(positions.values()) == list(range(1, 18))


async def test_the_queue_gives_slots_oldest_first_within_every_limit(store: Store) -> None:
    jobs = [job(user=f"u{i % 2}", created_at=float(i), user_slots=2) for i in range(8)]
    for j in jobs:
        await store.admit(j, max_running=3)
    assert [j.state for j in jobs[:4]] == [JobState.ACCEPTED] * 3 + [JobState.QUEUED]
    assert await store.queue_positions(max_running=3) == {j.id: i + 1 for i, j in
                                                          enumerate(jobs[3:])}  # fmt: skip
    assert await store.queue_positions() == {
        jobs[3].id: 1,
        jobs[4].id: 1,
        jobs[5].id: 2,
        jobs[6].id: 2,
        jobs[7].id: 3,
    }
    assert await store.mark_creating(jobs[0].id)
    assert await store.mark_failed(jobs[0].id, error_kind="x", at=1.0, release=True)
    # u0 holds 1 (job 2), u1 holds 1 (job 1): one slot in all is free, for the oldest (u1's 3)
    promoted = await store.promote(max_running=3)
    assert [j.id for j in promoted] == [jobs[3].id]
    assert promoted[0].state is JobState.ACCEPTED
    assert await store.promote(max_running=3) == []  # once only
    for j in jobs[1:4]:
        await store.mark_cancelled(j.id, at=2.0)
    # three slots, two each: u0's 4 and 6, u1's 5 (7 waits: three run)
    assert [j.id for j in await store.promote(max_running=3)] == [
        jobs[4].id,
        jobs[5].id,
        jobs[6].id,
    ]


async def test_a_chat_limit_holds_for_everyone_in_it(store: Store) -> None:
    for i in range(3):
        await store.admit(job(user=f"u{i}", created_at=float(i), chat_slots=2))
    assert await store.active_counts("test", "u2") == {JobState.QUEUED: 1}
    other = job(user="u9", chat_id="c9", created_at=9.0, chat_slots=2)
    assert await store.admit(other) is Admission.OK  # another chat


async def test_cancelling_a_queued_job_gives_its_credits_back(store: Store) -> None:
    first, waiting = job(user_slots=1), job(user_slots=1)
    await store.admit(first, caps=Caps(user_credits=10))
    assert await store.admit(waiting, caps=Caps(user_credits=10)) is Admission.QUEUED
    assert await store.spent(0, "test", user_id="u1") == 10
    assert await store.mark_cancelled(waiting.id, at=1.0)
    assert await store.spent(0, "test", user_id="u1") == 5
    assert await store.queue_positions() == {}


async def test_caps_never_overshoot_under_50_concurrent_requests(store: Store) -> None:
    user_cap = Caps(user_credits=100)
    results = await asyncio.gather(*(store.admit(job(credits=7), caps=user_cap) for _ in range(50)))
    assert results.count(Admission.OK) == 14  # 14 × 7 = 98 ≤ 100 < 105
    assert sum(r.credits for r in await store.usage(DAY)) == 98
    chat_cap = Caps(chat_credits=20)
    results = await asyncio.gather(
        *(store.admit(job(user=f"x{i}", chat_id="c2", credits=5), caps=chat_cap) for i in range(50))
    )
    assert results.count(Admission.OK) == 4
    assert set(results) == {Admission.OK, Admission.CHAT_CAP}


async def test_credit_caps_count_their_window(store: Store) -> None:
    hourly = Caps(user_credits=10, window=Window.HOUR)
    at = Window.HOUR.start(time.time()) + 60  # a minute into this hour
    assert await store.admit(job(credits=6, created_at=at), caps=hourly) is Admission.OK
    assert await store.admit(job(credits=6, created_at=at + 1), caps=hourly) is Admission.USER_CAP
    next_hour = at + 3600
    assert await store.admit(job(credits=6, created_at=next_hour), caps=hourly) is Admission.OK
    weekly = Caps(user_credits=12, window=Window.WEEK)  # the two hours are in one week (mostly)
    if Window.WEEK.start(at) == Window.WEEK.start(next_hour):
        assert await store.admit(job(credits=1, created_at=next_hour), caps=weekly) is (
            Admission.USER_CAP
        )
    assert await store.spent(Window.HOUR.start(next_hour), "test", user_id="u1") == 6


async def test_first_seen_once(store: Store) -> None:
    results = await asyncio.gather(*(store.first_seen("event-1") for _ in range(10)))
    assert results.count(True) == 1
    assert await store.first_seen("event-2")


async def test_log_and_keys_are_pruned_after_a_week(store: Store) -> None:
    await store.log("j1", "created", {"task": "t"})
    await store.first_seen("old-press")
    await store.receive("old-message", {}, expires_at=None)
    await store.start_session("ended", ConsoleSession("csrf", 100.0), now=0.0)
    await store.prune(time.time() + KEEP_SECONDS + 10)
    assert await store.first_seen("old-press")
    assert await store.receive("old-message", {}, expires_at=None)
    assert await store.session("ended", now=0.0) is None


async def test_user_state(store: Store) -> None:
    assert await store.get_user_state("test", "u1", "k") is None
    await store.set_user_state("test", "u1", "k", {"a": 1})
    assert await store.get_user_state("test", "u1", "k") == {"a": 1}
    await store.set_user_state("test", "u1", "k", None)
    assert await store.get_user_state("test", "u1", "k") is None


async def test_recent_jobs_newest_first(store: Store) -> None:
    for i in range(3):
        await store.admit(job(created_at=float(i), prompt=f"p{i}"))
    assert [j.prompt for j in await store.recent_jobs("test", "u1", 2)] == ["p2", "p1"]


async def test_migrations_are_versioned(tmp_path: Path) -> None:
    import sqlite3

    from core.store.migrations import MIGRATIONS

    s = await open_store(str(tmp_path / "v.db"))
    await s.close()
    with sqlite3.connect(tmp_path / "v.db") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_reopen_keeps_data(tmp_path: Path) -> None:
    url = str(tmp_path / "bot.db")
    first = await open_store(url)
    j = job()
    await first.admit(j)
    await first.close()
    second = await open_store(url)
    assert (await second.get_job(j.id)) is not None
    assert await second.ping()
    await second.close()


# ── PostgreSQL: several replicas on one database ──────────────────────────────────────────


async def test_replicas_migrate_once_and_share_the_caps(postgres_server: Server) -> None:
    url = await postgres_server.new_database()
    replicas = await asyncio.gather(*(open_store(url) for _ in range(3)))  # migrate together
    try:
        cap = Caps(user_credits=100)
        results = await asyncio.gather(
            *(replicas[i % 3].admit(job(credits=7), caps=cap) for i in range(30))
        )
        assert results.count(Admission.OK) == 14  # never overshoots, whichever replica admits
        assert await replicas[1].spent(0, "test", user_id="u1") == 98
        presses = await asyncio.gather(*(r.first_seen("press-1") for r in replicas))
        assert presses.count(True) == 1
    finally:
        for r in replicas:
            await r.close()


async def test_a_wrong_password_is_one_sentence_without_the_password(
    postgres_server: Server,
) -> None:
    url = postgres_server.url(password="wrong-password")
    with pytest.raises(StoreError) as caught:
        await open_store(url)
    message = str(caught.value)
    assert message.startswith(f"The database 127.0.0.1:{postgres_server.port}/postgres can't be")
    assert "wrong-password" not in message
    assert PASSWORD not in message


async def test_postgres_migrations_are_versioned(postgres_server: Server) -> None:
    import asyncpg

    from core.store.migrations import MIGRATIONS

    url = await postgres_server.new_database()
    for _ in range(2):  # the second open has nothing left to run
        await (await open_store(url)).close()
    conn = await asyncpg.connect(url)
    try:
        versions = [r[0] for r in await conn.fetch("SELECT version FROM schema_version")]
    finally:
        await conn.close()
    assert versions == list(range(1, len(MIGRATIONS) + 1))


async def test_chat_caps_replace_the_defaults_per_chat(store: Store) -> None:
    assert await store.chat_caps("test", "c1") is None
    caps = Caps(user_credits=50, window=Window.WEEK, user_running=2)
    assert await store.set_chat_caps("test", "c1", caps)
    await store.set_chat_caps("test", "c2", Caps(chat_credits=0))
    assert await store.chat_caps("test", "c1") == caps
    assert await store.chat_caps("other", "c1") is None
    assert set(await store.all_chat_caps()) == {("test", "c1"), ("test", "c2")}
    assert await store.set_chat_caps("test", "c1", None)
    assert not await store.set_chat_caps("test", "c1", None)
    assert await store.all_chat_caps() == {("test", "c2"): Caps(chat_credits=0)}


async def test_allowlist_entries_added_and_removed(store: Store) -> None:
    assert await store.access_entries() == []
    assert await store.add_access_entry("discord", AccessKind.PLACE, "222", 5.0)
    assert not await store.add_access_entry("discord", AccessKind.PLACE, "222", 6.0)
    assert await store.add_access_entry("discord", AccessKind.ADMIN, "222", 7.0)
    assert await store.add_access_entry("feishu", AccessKind.PLACE, "oc_a", 8.0)
    assert await store.access_entries() == [
        AccessEntry("discord", AccessKind.ADMIN, "222", 7.0),
        AccessEntry("discord", AccessKind.PLACE, "222", 5.0),
        AccessEntry("feishu", AccessKind.PLACE, "oc_a", 8.0),
    ]
    assert await store.remove_access_entry("discord", AccessKind.PLACE, "222")
    assert not await store.remove_access_entry("discord", AccessKind.PLACE, "222")
    assert [e.kind for e in await store.access_entries() if e.platform == "discord"] == [
        AccessKind.ADMIN
    ]


async def test_console_sessions_by_token_hash_until_they_end(store: Store) -> None:
    session = ConsoleSession("csrf-1", expires_at=100.0)
    await store.start_session("hash-1", session, now=10.0)
    assert await store.session("hash-1", now=99.0) == session
    assert await store.session("hash-1", now=100.0) is None  # ended
    assert await store.session("hash-2", now=10.0) is None
    # Starting a session forgets those that ended.
    await store.start_session("hash-2", ConsoleSession("csrf-2", 300.0), now=150.0)
    assert await store.session("hash-1", now=0.0) is None
    await store.end_session("hash-2")
    assert await store.session("hash-2", now=150.0) is None


async def test_wrong_passwords_counted_per_address_within_the_window(store: Store) -> None:
    for at in (1.0, 2.0, 3.0):
        await store.login_failed("10.0.0.1", now=at, window=60.0)
    await store.login_failed("10.0.0.2", now=3.0, window=60.0)
    assert await store.login_failures("10.0.0.1", since=0.0) == 3
    assert await store.login_failures("10.0.0.1", since=2.0) == 2
    assert await store.login_failures("10.0.0.3", since=0.0) == 0
    await store.login_failed("10.0.0.2", now=70.0, window=60.0)  # forgets those before 10
    assert await store.login_failures("10.0.0.1", since=0.0) == 0
    assert await store.login_failures("10.0.0.2", since=0.0) == 1


async def test_replicas_share_sessions_and_allowlists(postgres_server: Server) -> None:
    url = await postgres_server.new_database()
    one, two = await open_store(url), await open_store(url)
    try:
        await one.start_session("hash", ConsoleSession("csrf", 200.0), now=100.0)
        assert await two.session("hash", now=150.0) == ConsoleSession("csrf", 200.0)
        await one.login_failed("10.0.0.1", now=100.0, window=60.0)
        assert await two.login_failures("10.0.0.1", since=50.0) == 1
        added = await asyncio.gather(
            one.add_access_entry("discord", AccessKind.PLACE, "9", 1.0),
            two.add_access_entry("discord", AccessKind.PLACE, "9", 1.0),
        )
        assert sorted(added) == [False, True]
        assert [e.entry_id for e in await two.access_entries()] == ["9"]
    finally:
        await one.close()
        await two.close()
