"""``ima-bot admin``: what operators ask of a running bot's database."""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TextIO

from bot.adapters import PLATFORMS
from core.ima.tasks import TaskType

if TYPE_CHECKING:
    from core.store import Store


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="admin_command", required=True)
    usage = sub.add_parser("usage", help="credits per day, user, chat and model")
    usage.add_argument("--days", type=int, default=7, help="how many days back (default 7)")
    usage.add_argument("--platform", choices=PLATFORMS)
    usage.add_argument("--user", help="only this user id")
    reset = sub.add_parser("reset-prefs", help="forget a user's default models")
    reset.add_argument("platform", choices=PLATFORMS)
    reset.add_argument("user")
    reset.add_argument("--task-type", choices=[t.value for t in TaskType])
    sub.add_parser("jobs", help="list running jobs")
    cancel = sub.add_parser("cancel", help="stop a running job")
    cancel.add_argument("job_id")


def _table(rows: list[tuple[object, ...]], header: tuple[str, ...], out: TextIO) -> None:
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows, strict=True)]
    for row in (header, *rows):
        out.write("  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)).rstrip())
        out.write("\n")


async def run_admin(args: argparse.Namespace, store: Store, out: TextIO) -> int:
    """Returns the exit status: 0 done, 1 nothing to do (unknown job, no such preference)."""
    if args.admin_command == "usage":
        since = (datetime.now(UTC) - timedelta(days=args.days - 1)).strftime("%Y-%m-%d")
        rows = await store.usage(since, platform=args.platform, user_id=args.user)
        _table(
            [
                (r.day, r.platform, r.user_id, r.chat_id, r.model_name, r.jobs, r.credits)
                for r in rows
            ],
            ("day", "platform", "user", "chat", "model", "jobs", "credits"),
            out,
        )
        out.write(f"total credits: {sum(r.credits for r in rows)}\n")
        return 0
    if args.admin_command == "reset-prefs":
        task_type = TaskType(args.task_type) if args.task_type else None
        removed = await store.clear_preferences(args.platform, args.user, task_type)
        out.write(f"removed {removed} saved model(s)\n")
        return 0 if removed else 1
    if args.admin_command == "jobs":
        now = time.time()
        jobs = await store.active_jobs()
        _table(
            [
                (
                    j.id,
                    j.platform,
                    j.user_id,
                    j.task_type.value,
                    j.model_name,
                    j.state.value,
                    f"{int(now - j.created_at)}s",
                )
                for j in jobs
            ],
            ("job", "platform", "user", "task", "model", "state", "age"),
            out,
        )
        return 0
    if not await store.mark_cancelled(args.job_id, at=time.time()):
        out.write("no running job with that id\n")
        return 1
    out.write(f"cancelled {args.job_id}; the person is told at the job's next step\n")
    return 0
