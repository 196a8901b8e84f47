"""Job leases with fencing, on both backends: two replicas (two stores) on one database."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from core.jobs import JobState
from core.leases import Lease
from core.store import Admission, Store, open_store
from tests.core.store.test_store_contract import job

LEASE = 30.0


@pytest.fixture(params=["sqlite", "postgres"])
async def replicas(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Store, Store]]:
    if request.param == "postgres":
        url = await request.getfixturevalue("postgres_server").new_database()
    else:
        url = str(tmp_path / "bot.db")
    a = await open_store(url, Lease("a", LEASE))
    b = await open_store(url, Lease("b", LEASE))
    yield a, b
    await a.close()
    await b.close()


async def test_a_replica_that_lost_its_lease_writes_nothing(replicas: tuple[Store, Store]) -> None:
    a, b = replicas
    j = job()
    await a.admit(j)
    now = time.time()
    assert await b.claim(now) == []  # a holds it
    assert await a.renew(now) == []
    later = now + LEASE + 1  # a stopped renewing (it died, or lost the database)
    [taken] = await b.claim(later)
    assert taken.id == j.id
    assert not await a.mark_creating(j.id)  # fenced: a's write changes nothing
    assert not await a.holds(j.id)
    assert await a.renew(later) == [j.id]  # a learns it lost the job, and stops it
    assert not await a.mark_failed(j.id, error_kind="x", at=later, release=True)
    assert await b.holds(j.id)
    assert await b.mark_creating(j.id)
    loaded = await b.get_job(j.id)
    assert loaded is not None
    assert loaded.state is JobState.CREATING


async def test_a_job_that_may_have_been_created_is_taken_over_as_it_is(
    replicas: tuple[Store, Store],
) -> None:
    a, b = replicas
    j = job()
    await a.admit(j)
    await a.mark_creating(j.id)
    [taken] = await b.claim(time.time() + LEASE + 1)
    assert taken.state is JobState.CREATING  # resumed by polling or "maybe made", never re-sent
    assert not await a.mark_running(j.id, task_id="t", started_at=1.0, credits=5)


async def test_released_jobs_are_taken_at_once_and_claims_never_overlap(
    replicas: tuple[Store, Store],
) -> None:
    a, b = replicas
    jobs = [job(user=f"u{i}") for i in range(10)]
    for j in jobs:
        await a.admit(j)
    await a.release()
    first, second = await asyncio.gather(b.claim(time.time()), a.claim(time.time()))
    assert sorted(x.id for x in first + second) == sorted(j.id for j in jobs)
    assert not {x.id for x in first} & {x.id for x in second}


async def test_a_restarted_replica_takes_back_its_own_jobs(
    replicas: tuple[Store, Store],
) -> None:
    a, _ = replicas
    j = job()
    await a.admit(j)
    assert await a.claim(time.time()) == []  # held, by itself: not claimed again while it runs
    [again] = await a.claim(time.time(), previous_life=True)
    assert again.id == j.id
    assert await a.mark_creating(j.id)  # with the new version


async def test_a_lost_job_is_named_once(replicas: tuple[Store, Store]) -> None:
    a, b = replicas
    j = job()
    await a.admit(j)
    later = time.time() + LEASE + 1
    await b.claim(later)
    assert await a.renew(later) == [j.id]
    assert await a.renew(later) == []
    assert not await a.mark_creating(j.id)


async def test_the_replica_that_gives_a_queued_job_its_slot_holds_it(
    replicas: tuple[Store, Store],
) -> None:
    a, b = replicas
    first, waiting = job(user_slots=1, created_at=1.0), job(user_slots=1, created_at=2.0)
    await a.admit(first)
    await a.admit(waiting)  # queued behind the first, held by a
    assert await a.mark_cancelled(first.id, at=time.time())
    [started] = await b.promote()
    assert started.id == waiting.id
    assert await b.holds(waiting.id)
    assert not await a.holds(waiting.id)
    assert not await a.mark_creating(waiting.id)  # a can't send it as well
    assert await a.renew(time.time()) == [waiting.id]
    assert await b.mark_creating(waiting.id)


def beside_next_write(
    monkeypatch: pytest.MonkeyPatch,
    store: Store,
    then: Callable[[], Awaitable[object]],
    *,
    before: bool = False,
) -> list[bool]:
    """Run ``then`` once, right after ``store``'s next lease write commits, or right before
    it begins: for the renewal, between what it reads first and what it compares."""
    driver = store._driver  # type: ignore[attr-defined]
    transaction = driver.leasing
    ran: list[bool] = []

    async def once() -> None:
        if not ran:
            ran.append(True)
            monkeypatch.setattr(driver, "leasing", transaction)
            await then()

    @contextlib.asynccontextmanager
    async def beside(*args: object) -> AsyncIterator[object]:
        if before:
            await once()
        async with transaction(*args) as c:
            yield c
        await once()

    monkeypatch.setattr(driver, "leasing", beside)
    return ran


async def test_a_request_is_answered_by_one_replica_and_taken_over_when_it_dies(
    replicas: tuple[Store, Store],
) -> None:
    """A replica that starts (or looks for a dead one's work) never answers a request another
    live replica is answering; one that died is answered once its lease ran out, and however
    the two race, the request makes one job."""
    a, b = replicas
    assert await a.receive("p:1", {"text": "draw a cat"}, expires_at=None)
    now = time.time()
    assert await b.claim_requests(0, now, previous_life=True) == []  # a answers it
    assert await a.renew(now) == []  # ... and keeps it while it does
    later = now + LEASE + 1  # a died before it answered
    assert await b.claim_requests(0, later) == [{"text": "draw a cat"}]
    assert await a.claim_requests(0, later, previous_life=True) == []  # b has it now
    assert await a.admit(job(), request_key="p:1") is Admission.ANSWERED  # a woke up late
    assert await b.admit(job(), request_key="p:1") is Admission.OK
    assert await b.claim_requests(0, later + LEASE + 1) == []


async def test_a_job_admitted_while_leases_are_renewed_stays_fenced(
    replicas: tuple[Store, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = replicas
    j = job()
    ran = beside_next_write(monkeypatch, a, lambda: a.admit(j))
    assert await a.renew(time.time()) == []
    assert ran  # the job was not renewed, yet it has not ended
    [taken] = await b.claim(time.time() + LEASE + 1)  # a stalled; b takes the job
    assert taken.id == j.id
    assert not await a.mark_creating(j.id)  # a still names the lease it admitted the job with
    assert await b.mark_creating(j.id)


async def test_a_job_ending_while_leases_are_renewed_is_no_error(
    replicas: tuple[Store, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    # It was one in the drill: the renewal raised, and the replica stopped renewing its leases
    # and taking over dead replicas' jobs.
    a, _ = replicas
    j = job()
    await a.admit(j)
    ran = beside_next_write(
        monkeypatch,
        a,
        lambda: a.mark_failed(j.id, error_kind="x", at=1.0, release=True),
        before=True,
    )
    assert await a.renew(time.time()) == []
    assert ran
    other = job()
    await a.admit(other)
    assert await a.renew(time.time()) == []
    assert await a.mark_creating(other.id)


@pytest.fixture(params=["sqlite", "postgres"])
async def three(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[list[Store]]:
    if request.param == "postgres":
        url = await request.getfixturevalue("postgres_server").new_database()
    else:
        url = str(tmp_path / "bot.db")
    stores: list[Store] = [await open_store(url, Lease(name, LEASE)) for name in "abc"]
    yield stores
    for store in stores:
        await store.close()


async def test_a_dead_replicas_jobs_and_requests_are_shared_by_the_survivors(
    three: list[Store],
) -> None:
    a, b, dead = three
    for store, count in ((a, 4), (b, 2), (dead, 9)):
        for n in range(count):
            await store.admit(job(user=f"{store.lease.replica}{n}"))
    for n in range(6):
        await dead.receive(f"r{n}", {"n": n}, expires_at=None)
    later = time.time() + LEASE + 1  # the dead one's leases ran out; the others renewed
    assert await a.renew(later) == []
    assert await b.renew(later) == []

    # One look each: the 15 jobs end 8 / 7, the least loaded taking the most.
    first, second = await a.claim(later), await b.claim(later)
    assert (len(first), len(second)) == (4, 5)
    assert not {j.id for j in first} & {j.id for j in second}
    assert await a.claim(later) == await b.claim(later) == []  # nothing is taken twice
    assert await a.mark_creating(first[0].id)  # fenced with the version each claimed

    since = later - 3600
    mine, yours = await a.claim_requests(since, later), await b.claim_requests(since, later)
    assert (len(mine), len(yours)) == (3, 3)
    assert sorted(r["n"] for r in mine + yours) == list(range(6))


async def test_the_next_lease_end_is_another_replicas_first(replicas: tuple[Store, Store]) -> None:
    a, b = replicas
    now = time.time()
    assert await b.next_lease_end(now) is None
    first, second = job(user="u1"), job(user="u2")
    await a.admit(first)
    ends = await b.next_lease_end(now)
    assert ends is not None
    assert now + LEASE - 1 <= ends <= time.time() + LEASE
    assert await a.next_lease_end(now) is None  # its own leases are not looked for
    await b.admit(second)
    assert await a.next_lease_end(now) is not None
    assert await b.next_lease_end(ends + 1) is None  # ended already: claimable, not awaited
