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

from pydantic import SecretStr

from bot.runtime import wired
from core.door import Platform
from core.replier import Handle, ReplierLimits, Reply
from core.request import ChatRequest
from core.settings import Settings

PLATFORM = "drill"


async def _nothing() -> None:
    """A drill's request needs no acknowledgement."""


class JsonlReplier:
    limits = ReplierLimits()

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

    async def send(self, reply: Reply) -> Handle:
        handle = f"{self._user}-{os.getpid()}-{next(self._ids)}"
        self._write("send", handle, reply)
        return Handle(handle)

    async def edit(self, handle: Handle, reply: Reply) -> Handle:
        self._write("edit", handle.message_id, reply)
        return handle


async def main(args: argparse.Namespace, out: TextIO) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        ima_api_key=SecretStr("ima_drill_key_0000000000"),
        ima_base_url=args.sim,
        ima_upload_base_url=args.sim,
        time_scale=args.scale,
        max_jobs_per_user=1,
        replica_id="drill-worker",  # the restart is the same replica: it takes its jobs back
    )
    async with wired(settings, args.db, client_options={"retry_base_delay": 0.05}) as bot:

        def factory(target: Mapping[str, Any]) -> JsonlReplier:
            return JsonlReplier(out, str(target["user"]))

        async def fetch(ref: Mapping[str, Any], max_bytes: int) -> bytes:
            raise AssertionError("drills attach no pictures")

        bot.engine.register(Platform(PLATFORM, factory, fetch))
        if args.resume:
            await bot.engine.resume()
        else:
            for i in range(args.jobs):
                user = f"user{i}"
                request = ChatRequest(
                    PLATFORM, user, "drill", {"user": user}, f"ocean waves {i} video", f"m{i}"
                )
                await bot.engine.deliver(request, JsonlReplier(out, user), _nothing)
        await bot.engine.drain()


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
