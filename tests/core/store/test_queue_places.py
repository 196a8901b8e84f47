"""Places in the queue, counted in one pass, are those the pairwise rule gives."""

from __future__ import annotations

import random

import pytest

from core.store.sql import _competes, _places, _Waiting


def pairwise(queued: list[_Waiting], max_running: int | None) -> dict[str, int]:
    return {
        job.id: 1 + sum(1 for earlier in queued[:i] if _competes(earlier, job, max_running))
        for i, job in enumerate(queued)
    }


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("max_running", [None, 3])
def test_one_pass_counts_as_pairs_do(seed: int, max_running: int | None) -> None:
    rng = random.Random(seed)
    queued = [
        _Waiting(
            id=f"job{i}",
            platform=rng.choice(["discord", "feishu"]),
            user_id=rng.choice(["u1", "u2", "u3"]),
            chat_id=rng.choice(["c1", "c2"]),
            user_slots=rng.choice([None, 1]),
            chat_slots=rng.choice([None, 2]),
        )
        for i in range(40)
    ]
    assert _places(queued, max_running) == pairwise(queued, max_running)


def test_a_person_waits_behind_their_own_and_their_limited_chat() -> None:
    def waiting(job_id: str, user: str, chat: str, chat_slots: int | None) -> _Waiting:
        return _Waiting(job_id, "discord", user, chat, None, chat_slots)

    queued = [
        waiting("a", "ann", "c1", None),
        waiting("b", "bob", "c1", None),
        waiting("c", "ann", "c2", None),
        waiting("d", "cat", "c1", 2),  # behind a and b: their chat's slots are limited
        waiting("e", "ann", "c1", 2),  # behind a, b, c and d; a counted once
    ]
    assert _places(queued, None) == {"a": 1, "b": 1, "c": 2, "d": 3, "e": 5}
    assert _places(queued, 4) == {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}
