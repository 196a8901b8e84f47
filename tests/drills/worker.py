"""A bot process for the fault drills: runs N generations (or resumes), logging every reply.

``python -m tests.drills.worker --db F --sim URL --out F.jsonl --jobs N`` starts N video
generations for N different users and runs until they are delivered; ``--resume`` instead
continues whatever a previous (killed) process left. Every send and edit is appended to the
JSONL file, flushed at once, so a kill -9 loses nothing that was shown to a user.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
from collections.abc import Mapping
from typing import Any, TextIO

from core.engine import Engine, EngineConfig
from core.i18n import Translator
from core.ima.client import IMAClient
from core.ima.session import IMASession
from core.policy import Policy
from core.replier import Reply
from core.request import ChatRequest
from core.store import open_store

PLATFORM = "drill"


class JsonlReplier:
    def __init__(self, out: TextIO, user: str) -> None:
        self._out = out
        self._user = user
        self._ids = itertools.count()

    def _write(self, kind: str, handle: str, reply: Reply) -> None:
        entry = {
            "pid": os.getpid(),
            "op": kind,
            "user": self._user,
            "handle": handle,
            "stage": reply.stage.value,
            "key": reply.key,
            "media": len(reply.media),
        }
        self._out.write(json.dumps(entry) + "\n")
        self._out.flush()

    async def send(self, reply: Reply) -> str:
        handle = f"{self._user}-{os.getpid()}-{next(self._ids)}"
        self._write("send", handle, reply)
        return handle

    async def edit(self, handle: str, reply: Reply) -> None:
        self._write("edit", handle, reply)


async def main(args: argparse.Namespace, out: TextIO) -> None:
    store = await open_store(args.db)
    session = IMASession("ima_drill_key_0000000000", base_url=args.sim, upload_base_url=args.sim)
    engine = Engine(
        IMAClient(session, retry_base_delay=0.05),
        store,
        Translator.load(),
        EngineConfig(policy=Policy(max_active_per_user=1), time_scale=args.scale),
    )

    def factory(target: Mapping[str, Any]) -> JsonlReplier:
        return JsonlReplier(out, str(target["user"]))

    engine.register_platform(PLATFORM, factory)
    if args.resume:
        await engine.resume()
        await engine.drain()
    else:
        requests = [
            ChatRequest(
                PLATFORM, f"user{i}", "drill", {"user": f"user{i}"}, f"ocean waves {i} video"
            )
            for i in range(args.jobs)
        ]
        await asyncio.gather(*(engine.handle(r, JsonlReplier(out, r.user_id)) for r in requests))
    await session.close()
    await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--sim", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--jobs", type=int, default=0)
    parser.add_argument("--scale", type=float, required=True)
    parser.add_argument("--resume", action="store_true")
    arguments = parser.parse_args()
    with open(arguments.out, "a", encoding="utf-8") as replies:
        asyncio.run(main(arguments, replies))
