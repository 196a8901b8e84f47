"""The ``ima-bot`` command: ``generate`` (one shot), ``sim`` (the local IMA simulator), ``demo``,
``console``, ``run`` and ``admin``.

Each sub-command builds what it needs in one place and tears it down on exit; nothing is
created at import time. Each also imports what it needs when it runs, so a command never waits
for what it doesn't use: ``generate`` loads neither the engine nor the simulator, no command but
``run`` loads a chat SDK (``bench/startup.py`` measures it).

``generate`` takes the IMA skill script's flags too (``--api-key``, ``--version-id``,
``--language``, ``--base-url``, ``--list-models``, ``n`` in ``--extra-params``); with
``--output-json`` every failure, a usage error included, is one JSON error object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from bot import admin
from core.ima.tasks import TaskType

if TYPE_CHECKING:
    from bot.settings import RunSettings
    from core.access import Access
    from core.engine import Engine
    from core.i18n import Translator
    from core.ima.catalog import Catalog
    from core.limits import Caps
    from core.settings import Settings

EXIT_FAILED = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """The command line can't be used as given; ``prog`` is the (sub-)command it is about."""

    def __init__(self, prog: str, message: str, usage: str = "") -> None:
        super().__init__(message)
        self.prog = prog
        self.message = message
        self.usage = usage


class _Parser(argparse.ArgumentParser):
    """Usage errors raise :class:`UsageError` instead of exiting, so that ``--output-json``
    can still answer with its JSON error object."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(self.prog, message, self.format_usage())


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object")
    return value


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ima-bot", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="generate one image, video or song and print the result")
    gen.add_argument("--task-type", required=True, choices=[t.value for t in TaskType])
    gen.add_argument("--model-id", help="model id, name or alias (default: the recommended one)")
    gen.add_argument(
        "--model-version", "--version-id", help="pick one version when several share a model id"
    )
    gen.add_argument("--prompt", help="what to make (needed unless --list-models)")
    gen.add_argument("--input-images", nargs="*", default=[], metavar="URL_OR_PATH")
    gen.add_argument(
        "--extra-params",
        type=_json_object,
        default={},
        metavar="JSON",
        help='more parameters, e.g. \'{"duration": 10}\'; "n" counts like --n',
    )
    gen.add_argument("--size", help="image size, e.g. 1K, 2K, 4K, 512px")
    gen.add_argument("--n", type=int, help="number of results (default 1, or n in --extra-params)")
    gen.add_argument("--api-key", help="the IMA API key (default: IMA_API_KEY)")
    gen.add_argument("--base-url", help="the IMA API base URL (default: IMA_BASE_URL)")
    gen.add_argument("--user-id", help="accepted for compatibility with the skill's script")
    gen.add_argument(
        "--lang", "--language", choices=["zh", "en"], help="language of messages and model names"
    )
    gen.add_argument(
        "--list-models", action="store_true", help="list the models of --task-type and exit"
    )
    gen.add_argument("--output-json", action="store_true", help="print one JSON object")
    gen.add_argument("--poll-interval", type=_positive, metavar="SECONDS")
    gen.add_argument("--timeout", type=_positive, metavar="SECONDS", help="maximum wait")

    sim = sub.add_parser("sim", help="run the local IMA simulator")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8765)
    sim.add_argument("--speed", type=_positive, default=1.0, help="time scale of generations")
    sim.add_argument("--api-key", help="accept only this key (default: any ima_ key)")

    demo = sub.add_parser("demo", help="a scripted conversation against the built-in simulator")
    demo.add_argument("--interactive", action="store_true", help="type the messages yourself")
    demo.add_argument("--lang", choices=["zh", "en"], help="default language of the bot")

    und = sub.add_parser(
        "understand", help="what the bot would do with a message, as JSON (spends nothing)"
    )
    und.add_argument("text", nargs="?", help="one message")
    und.add_argument("--lang", choices=["zh", "en"], default="en", help="the person's language")
    und.add_argument("--images", type=int, default=0, help="pictures attached to the message")
    und.add_argument("--jsonl", type=Path, metavar="FILE", help="one item per line (see docs)")

    sub.add_parser("console", help="chat with the bot in this terminal (uses IMA_API_KEY)")
    sub.add_parser("run", help="run the bot on every configured chat platform")
    admin.add_arguments(sub.add_parser("admin", help="usage reports, preferences, running jobs"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(words)
    except UsageError as exc:
        return _usage_error(exc, json_wanted="--output-json" in words)

    from bot.logs import setup_logging
    from bot.settings import RunSettings
    from core.settings import SettingsError, load, load_settings

    try:
        settings = load_settings()
        process = load(RunSettings)
    except SettingsError as exc:
        if getattr(args, "output_json", False):
            _print_error("config", None, f"Please fix these settings: {exc}")
        else:
            print(f"Please fix these settings:\n{exc}", file=sys.stderr)
        return EXIT_USAGE
    # Only the long-running command logs at INFO by default; one-shot commands stay quiet.
    long_running = args.command in ("run", "sim")
    level = "DEBUG" if args.verbose else process.log_level if long_running else "ERROR"
    secrets = _secrets(settings, process, getattr(args, "api_key", None))
    setup_logging(level, process.log_format, secrets)
    from core.store import StoreError

    try:
        return _command(args, settings, process)
    except StoreError as exc:  # the database can't be used: one sentence, no traceback
        if long_running:
            logging.getLogger("ima-bot").error("%s", exc)
        else:
            print(exc, file=sys.stderr)
        return EXIT_FAILED


def _command(args: argparse.Namespace, settings: Settings, process: RunSettings) -> int:
    if args.command == "generate":
        try:
            return asyncio.run(_generate(args, settings))
        except UsageError as exc:
            return _usage_error(exc, json_wanted=args.output_json)
    if args.command == "sim":
        return _sim(args)
    if args.command == "demo":
        return asyncio.run(_demo(args, settings))
    if args.command == "console":
        return asyncio.run(_console(settings, process))
    if args.command == "understand":
        return asyncio.run(_understand(args, settings))
    if args.command == "run":
        return _run(settings, process)
    if args.command == "admin":
        return asyncio.run(_admin(args, process, settings.policy().caps))
    raise SystemExit(EXIT_USAGE)


def _usage_error(exc: UsageError, *, json_wanted: bool) -> int:
    if json_wanted:
        _print_error("usage", None, exc.message)
    else:
        print(f"{exc.usage}{exc.prog}: error: {exc.message}", file=sys.stderr)
    return EXIT_USAGE


def _print_error(kind: str, code: int | str | None, message: str) -> None:
    error = {"error": {"type": kind, "code": code, "message": message}}
    print(json.dumps(error, ensure_ascii=False))


def _secrets(settings: Settings, process: RunSettings, given: str | None) -> list[str]:
    """Every secret the settings (from the environment or ``.env``) and the command line hold:
    none may be logged."""
    from bot.adapters import ADAPTERS
    from core.settings import SettingsError

    found = [*settings.secrets(), *process.secrets(), *([given] if given else [])]
    for entry in ADAPTERS:
        with contextlib.suppress(SettingsError):  # reported by `run`, the command that needs it
            found += entry.load().secrets()
    return found


# ── generate ─────────────────────────────────────────────────────────────────────────────


async def _generate(args: argparse.Namespace, settings: Settings) -> int:
    from core.i18n import Translator, normalize_locale
    from core.ima.client import IMAClient
    from core.ima.errors import IMAError, ModelNotFoundError
    from core.ima.session import IMASession

    locale = normalize_locale(args.lang or settings.bot_lang)
    translator = Translator.load()
    task_type = TaskType(args.task_type)
    params = dict(args.extra_params)
    n = _count(args, params, task_type, translator, locale)
    if not args.list_models:
        if args.prompt is None:
            raise UsageError("ima-bot generate", "the following arguments are required: --prompt")
        _check_images(task_type, len(args.input_images), translator, locale)
    configured = settings.ima_api_key
    key = args.api_key or (configured.get_secret_value() if configured is not None else "")
    if not key:
        return _fail(args, "config", None, "IMA_API_KEY is not set (or give --api-key)")
    if args.size:
        params["size"] = args.size
    session = IMASession(
        key,
        base_url=args.base_url or settings.ima_base_url,
        upload_base_url=settings.ima_upload_base_url,
        language=locale,
    )
    client = IMAClient(session, poll_interval=args.poll_interval or settings.ima_poll_interval)
    async with session:
        try:
            catalog = await client.catalog(task_type)
            if args.list_models:
                _print_models(catalog, args.output_json)
                return 0
            model = (
                catalog.by_version(args.model_version)
                if args.model_version
                else catalog.find(args.model_id or task_type.spec.recommended)
            )
            if model is None:
                raise ModelNotFoundError(f"{args.model_version or args.model_id} not offered")
            task, medias = await client.generate(
                model,
                args.prompt,
                params=params,
                images=args.input_images,
                n=n,
                max_wait=args.timeout,
            )
        except IMAError as exc:
            logging.getLogger("ima-bot").info("generation failed: %s", exc.log_fields())
            return _fail(args, exc.kind, exc.code, translator.t(locale, exc.locale_key))
    result = {
        "task_id": task.task_id,
        "url": medias[0].url,
        "urls": [m.url for m in medias],
        "cover_url": medias[0].cover_url,
        "model_id": model.model_id,
        "model_name": model.name,
        "model_version": model.version_id,
        "attribute_id": task.quote.rule.attribute_id,
        "credit": task.quote.credits,
    }
    if args.output_json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(translator.t(locale, "choice.model", model=model.name, credits=task.quote.credits))
        for media in medias:
            print(media.url)
    return 0


def _count(
    args: argparse.Namespace,
    params: dict[str, Any],
    task_type: TaskType,
    translator: Translator,
    locale: str,
) -> int:
    """How many results: ``--n``, else ``n`` in ``--extra-params`` (the skill's own form), else
    1. ``n`` leaves ``params``: it is the request's count, not a model parameter."""
    given = params.pop("n", None)
    n = args.n if args.n is not None else given if given is not None else 1
    most = task_type.spec.max_outputs
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= most:
        message = translator.t(locale, "cli.n", most=most, task=task_type.value)
        raise UsageError("ima-bot generate", message)
    return n


def _check_images(task_type: TaskType, given: int, translator: Translator, locale: str) -> None:
    """As many input images as the task type takes, said before anything is uploaded."""
    low, high = task_type.image_range
    if low <= given and (high is None or given <= high):
        return
    key = {(0, 0): "cli.images_none", (1, 1): "cli.images_one", (2, 2): "cli.images_two"}.get(
        (low, high or 0), "cli.images_some"
    )
    message = translator.t(locale, key, task=task_type.value, given=given)
    raise UsageError("ima-bot generate", message)


def _print_models(catalog: Catalog, as_json: bool) -> None:
    """The live models of one task type: what each costs with its defaults, and its range."""
    from core.ima.rules import quote

    rows = []
    for model in catalog.models:
        default = quote(model, {})
        rows.append(
            {
                "name": model.name,
                "model_id": model.model_id,
                "version_id": model.version_id,
                "credit": default.credits,
                "attribute_id": default.rule.attribute_id,
                "min_credit": model.min_points,
                "max_credit": model.max_points,
            }
        )
    if as_json:
        print(
            json.dumps({"task_type": catalog.task_type.value, "models": rows}, ensure_ascii=False)
        )
        return
    for row in rows:
        low, high = row["min_credit"], row["max_credit"]
        credits = f"{low}" if low == high else f"{low}-{high}"
        print(f"{row['name']} · {row['model_id']} · {row['version_id']} · {credits} pts")


def _fail(args: argparse.Namespace, kind: str, code: int | str | None, message: str) -> int:
    if args.output_json:
        _print_error(kind, code, message)
    else:
        print(message, file=sys.stderr)
    return EXIT_FAILED


# ── the other commands ───────────────────────────────────────────────────────────────────


def _sim(args: argparse.Namespace) -> int:
    from sim.app import serve

    options: dict[str, Any] = {"speed": args.speed}
    if args.api_key:
        options["api_key"] = args.api_key
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port, **options))
    return 0


def _run(settings: Settings, process: RunSettings) -> int:
    from bot.adapters import ADAPTERS
    from bot.run import run
    from core.settings import SettingsError

    if settings.ima_api_key is None:
        print("IMA_API_KEY is not set (see .env.example).", file=sys.stderr)
        return EXIT_USAGE
    try:
        return asyncio.run(run(settings, process, ADAPTERS))
    except SettingsError as exc:
        print(f"Please fix these settings:\n{exc}", file=sys.stderr)
        return EXIT_USAGE


async def _admin(args: argparse.Namespace, process: RunSettings, defaults: Caps) -> int:
    from core.access import Allowlists
    from core.settings import SettingsError
    from core.store import open_store

    try:
        configured = _configured_access() if args.admin_command in ("allow", "admins") else {}
    except SettingsError as exc:
        print(f"Please fix these settings:\n{exc}", file=sys.stderr)
        return EXIT_USAGE
    store = await open_store(process.database_url)
    try:
        return await admin.run_admin(
            args, store, sys.stdout, defaults=defaults, allowlists=Allowlists(store, configured)
        )
    finally:
        await store.close()


def _configured_access() -> dict[str, Access]:
    """What each platform's settings allow (read only by the commands that show or edit it)."""
    from bot.adapters import ADAPTERS

    return {entry.name: entry.load().access() for entry in ADAPTERS}


# The demo runs the simulator fifty times faster than real generations, and tells the engine so:
# expected times, progress and polling all shrink by the same factor.
DEMO_TIME_SCALE = 0.02
DEMO_SCRIPT = (
    "画一只戴着墨镜的柴犬，赛博朋克风格\n"
    "a 5 second video of ocean waves at sunset, 9:16\n"
    "an upbeat lo-fi song about rainy days, female vocals\n"
    "a castle on a cloud, oil painting [[sim:rs2]]\n"
)


async def _demo(args: argparse.Namespace, settings: Settings) -> int:
    """The console adapter against the in-process simulator, with a throwaway database."""
    import io
    import tempfile
    from pathlib import Path

    from pydantic import SecretStr

    from bot.runtime import wired
    from sim.app import start_simulator

    async with await start_simulator(speed=DEMO_TIME_SCALE, seed=2026) as sim:
        with tempfile.TemporaryDirectory(prefix="ima-bot-demo-") as tmp:
            demo_settings = settings.model_copy(
                update={
                    "ima_api_key": SecretStr("ima_demo_key_not_secret"),
                    "ima_base_url": sim.base_url,
                    "ima_upload_base_url": sim.base_url,
                    "ima_poll_interval": None,
                    "time_scale": DEMO_TIME_SCALE,
                    "bot_lang": args.lang or settings.bot_lang,
                }
            )
            async with wired(demo_settings, str(Path(tmp) / "demo.db")) as bot:
                if args.interactive:
                    await _chat(bot.engine)
                else:
                    print("IMA Bot demo: four requests against the built-in simulator.\n")
                    await _chat(bot.engine, io.StringIO(DEMO_SCRIPT), echo=True, sequential=True)
    return 0


async def _understand(args: argparse.Namespace, settings: Settings) -> int:
    from bot import understand

    if args.jsonl is not None:
        try:
            items = understand.read_items(args.jsonl.read_text("utf-8").splitlines())
        except (OSError, ValueError) as exc:
            print(f"Can't read {args.jsonl}: {exc}", file=sys.stderr)
            return EXIT_USAGE
    elif args.text is not None:
        items = [understand.Item("1", args.text, args.images, args.lang)]
    else:
        print("Give a message, or --jsonl FILE.", file=sys.stderr)
        return EXIT_USAGE
    live = settings.ima_api_key is not None
    await understand.run_understand(settings, items, sys.stdout, live=live)
    return 0


async def _console(settings: Settings, process: RunSettings) -> int:
    from bot.runtime import wired

    if settings.ima_api_key is None:
        print("IMA_API_KEY is not set: export it, or try `ima-bot demo` first.", file=sys.stderr)
        return EXIT_USAGE
    async with wired(settings, process.database_url) as bot:
        await _chat(bot.engine)
    return 0


async def _chat(engine: Engine, lines: TextIO = sys.stdin, **options: bool) -> None:
    """The console adapter on ``engine``, as ``ima-bot run`` would run an adapter."""
    from bot.console.adapter import ConsoleAdapter, run_console

    adapter = ConsoleAdapter(engine)
    await engine.warm_up()
    await adapter.start()
    await engine.resume()
    try:
        await run_console(adapter, engine.drain, lines, **options)
    finally:
        await adapter.pause()
        await engine.shutdown()
        await adapter.close()


if __name__ == "__main__":
    sys.exit(main())
