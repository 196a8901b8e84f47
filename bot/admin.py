"""``ima-bot admin``: what operators ask of a running bot's database."""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TextIO

from bot.adapters import ALLOWLIST_PLATFORMS, PLATFORMS, access_id
from core.access import AccessKind, Allowlists
from core.ima.tasks import TaskType
from core.limits import NO_CAPS, Caps, Window

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
    cancel = sub.add_parser("cancel", help="stop a running or waiting job")
    cancel.add_argument("job_id")
    _caps_arguments(sub.add_parser("caps", help="spending and queue limits, per chat or server"))
    for command, (_, meaning) in _ALLOWLISTS.items():
        _allowlist_arguments(sub.add_parser(command, help=meaning))


#: ``admin allow`` / ``admin admins``: the allowlist each edits, and what it is.
_ALLOWLISTS = {
    "allow": (AccessKind.PLACE, "where the bot answers: server, channel or chat ids"),
    "admins": (AccessKind.ADMIN, "people no limit applies to"),
}


def _allowlist_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="allowlist_command", required=True)
    show = sub.add_parser("list", help="the settings' ids and those added since")
    show.add_argument("platform", nargs="?", choices=ALLOWLIST_PLATFORMS)
    for command, meaning in (("add", "add an id"), ("remove", "take an added id out")):
        change = sub.add_parser(command, help=meaning)
        change.add_argument("platform", choices=ALLOWLIST_PLATFORMS)
        change.add_argument("id")


async def _allowlist(args: argparse.Namespace, allowlists: Allowlists, out: TextIO) -> int:
    kind = _ALLOWLISTS[args.admin_command][0]
    if args.allowlist_command == "list":
        rows: list[tuple[object, ...]] = [
            (platform, entry.entry_id, "settings" if entry.from_settings else "added")
            for platform in ALLOWLIST_PLATFORMS
            if args.platform in (None, platform)
            for entry in await allowlists.listing(platform, kind)
        ]
        _table(rows, ("platform", "id", "from"), out)
        if kind is AccessKind.PLACE and not rows:
            out.write("no place is listed: the bot answers everywhere\n")
        return 0
    try:
        entry_id = access_id(args.platform, kind, args.id)
    except ValueError as exc:
        out.write(f"{exc}\n")
        return 1
    if args.allowlist_command == "remove":
        if not await allowlists.remove(args.platform, kind, entry_id):
            listed = entry_id in allowlists.settings(args.platform).ids(kind)
            out.write("that id is in the settings: change them instead\n" if listed
                      else "that id was not added\n")  # fmt: skip
            return 1
        out.write(f"removed {entry_id}; every replica follows within a few seconds\n")
        return 0
    first = not await allowlists.listing(args.platform, kind)
    if not await allowlists.add(args.platform, kind, entry_id):
        out.write("that id is already listed\n")
        return 1
    out.write(f"added {entry_id}; every replica follows within a few seconds\n")
    if first and kind is AccessKind.PLACE:
        out.write(f"the bot now answers on {args.platform} only in the places listed\n")
    return 0


#: ``--user-credits`` … → the :class:`Caps` field each sets.
_CAP_OPTIONS = {
    "user_credits": "credits one person may spend per window",
    "chat_credits": "credits the chat may spend per window",
    "user_running": "jobs one person may have running at once (more wait)",
    "chat_running": "jobs the chat may have running at once (more wait)",
}


def _cap_value(text: str) -> int | None:
    """A number, or "none" for no cap."""
    if text.casefold() in ("none", "-", ""):
        return None
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("a number, or 'none' for no cap") from None
    if value < 0:
        raise argparse.ArgumentTypeError("0 or more")
    return value


def _caps_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="caps_command", required=True)
    show = sub.add_parser("show", help="the defaults and every chat's own caps")
    show.add_argument("platform", nargs="?", choices=PLATFORMS)
    show.add_argument("chat", nargs="?", help="a chat, group or server id")
    change = sub.add_parser("set", help="give a chat its own caps (starting from what applies)")
    change.add_argument("platform", choices=PLATFORMS)
    change.add_argument("chat", help="a chat, group or server id")
    for name, meaning in _CAP_OPTIONS.items():
        change.add_argument(
            f"--{name.replace('_', '-')}", type=_cap_value, default=argparse.SUPPRESS, help=meaning
        )
    change.add_argument("--window", choices=[w.value for w in Window], default=argparse.SUPPRESS)
    clear = sub.add_parser("clear", help="the chat follows the defaults again")
    clear.add_argument("platform", choices=PLATFORMS)
    clear.add_argument("chat")


def _caps_row(scope: tuple[str, str], caps: Caps) -> tuple[object, ...]:
    def shown(value: int | None) -> object:
        return "-" if value is None else value

    return (*scope, shown(caps.user_credits), shown(caps.chat_credits), caps.window.value,
            shown(caps.user_running), shown(caps.chat_running))  # fmt: skip


_CAPS_HEADER = ("platform", "chat", "user credits", "chat credits", "window", "user running",
                "chat running")  # fmt: skip


async def _caps(args: argparse.Namespace, store: Store, defaults: Caps, out: TextIO) -> int:
    if args.caps_command == "show":
        if args.platform and args.chat:
            own = await store.chat_caps(args.platform, args.chat)
            scope = (args.platform, args.chat if own else f"{args.chat} (defaults)")
            _table([_caps_row(scope, own or defaults)], _CAPS_HEADER, out)
            return 0
        every = await store.all_chat_caps()
        rows = [_caps_row(("*", "defaults"), defaults)]
        rows += [
            _caps_row(scope, caps)
            for scope, caps in every.items()
            if args.platform in (None, scope[0])
        ]
        _table(rows, _CAPS_HEADER, out)
        return 0
    if args.caps_command == "clear":
        if not await store.set_chat_caps(args.platform, args.chat, None):
            out.write("that chat has no caps of its own\n")
            return 1
        out.write(f"{args.platform} {args.chat} follows the defaults again\n")
        return 0
    current = await store.chat_caps(args.platform, args.chat) or defaults
    given = vars(args)  # options not given are absent (argparse.SUPPRESS)
    changes = {name: given[name] for name in (*_CAP_OPTIONS, "window") if name in given}
    try:
        caps = current.changed(**changes)
    except ValueError as exc:
        out.write(f"{exc}\n")
        return 1
    await store.set_chat_caps(args.platform, args.chat, caps)
    _table([_caps_row((args.platform, args.chat), caps)], _CAPS_HEADER, out)
    return 0


def _table(rows: list[tuple[object, ...]], header: tuple[str, ...], out: TextIO) -> None:
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows, strict=True)]
    for row in (header, *rows):
        out.write("  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)).rstrip())
        out.write("\n")


async def run_admin(
    args: argparse.Namespace,
    store: Store,
    out: TextIO,
    *,
    defaults: Caps = NO_CAPS,
    allowlists: Allowlists | None = None,
) -> int:
    """Returns the exit status: 0 done, 1 nothing to do (unknown job, no such preference).
    ``defaults``: the caps the settings give a chat without its own; ``allowlists``: the
    settings' allowlists over ``store``."""
    if args.admin_command == "caps":
        return await _caps(args, store, defaults, out)
    if args.admin_command in _ALLOWLISTS:
        return await _allowlist(args, allowlists or Allowlists(store), out)
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
