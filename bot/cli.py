"""The ``ima-bot`` command: ``generate`` (one shot), ``sim`` (the local IMA simulator), ``demo``.

Each sub-command builds what it needs in one place and tears it down on exit; nothing is
created at import time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import logging
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from pydantic import SecretStr

from bot import admin
from bot.adapters import ADAPTERS
from bot.console.adapter import ConsoleAdapter, run_console
from bot.logs import setup_logging
from bot.run import run
from bot.runtime import wired
from bot.settings import RunSettings
from core.engine import Engine
from core.i18n import Translator, normalize_locale
from core.ima.client import IMAClient
from core.ima.errors import IMAError, ModelNotFoundError
from core.ima.session import IMASession
from core.ima.tasks import TaskType
from core.settings import Settings, SettingsError, load, load_settings
from core.store import StoreError, open_store
from sim.app import serve, start_simulator

EXIT_FAILED = 1
EXIT_USAGE = 2


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
    parser = argparse.ArgumentParser(prog="ima-bot", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="generate one image, video or song and print the result")
    gen.add_argument("--task-type", required=True, choices=[t.value for t in TaskType])
    gen.add_argument("--model-id", help="model id, name or alias (default: the recommended one)")
    gen.add_argument("--model-version", help="pick one version when several share a model id")
    gen.add_argument("--prompt", required=True)
    gen.add_argument("--input-images", nargs="*", default=[], metavar="URL_OR_PATH")
    gen.add_argument("--extra-params", type=_json_object, default={}, metavar="JSON")
    gen.add_argument("--size", help="image size, e.g. 1K, 2K, 4K, 512px")
    gen.add_argument("--n", type=int, default=1, help="number of results (1-4)")
    gen.add_argument("--user-id", help="accepted for compatibility with the skill's script")
    gen.add_argument("--lang", choices=["zh", "en"], help="language of messages")
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

    sub.add_parser("console", help="chat with the bot in this terminal (uses IMA_API_KEY)")
    sub.add_parser("run", help="run the bot on every configured chat platform")
    admin.add_arguments(sub.add_parser("admin", help="usage reports, preferences, running jobs"))
    return parser


async def _generate(args: argparse.Namespace, settings: Settings) -> int:
    locale = normalize_locale(args.lang or settings.bot_lang)
    translator = Translator.load()
    if settings.ima_api_key is None:
        return _fail(args, translator, locale, "config", None, "IMA_API_KEY is not set")
    task_type = TaskType(args.task_type)
    params = dict(args.extra_params)
    if args.size:
        params["size"] = args.size
    session = IMASession(
        settings.ima_api_key.get_secret_value(),
        base_url=settings.ima_base_url,
        upload_base_url=settings.ima_upload_base_url,
        language=locale,
    )
    client = IMAClient(session, poll_interval=args.poll_interval or settings.ima_poll_interval)
    async with session:
        try:
            catalog = await client.catalog(task_type)
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
                n=args.n,
                max_wait=args.timeout,
            )
        except IMAError as exc:
            logging.getLogger("ima-bot").info("generation failed: %s", exc.log_fields())
            message = translator.t(locale, exc.locale_key)
            return _fail(args, translator, locale, exc.kind, exc.code, message)
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
        print(f"{model.name} · {task.quote.credits} pts")
        for media in medias:
            print(media.url)
    return 0


def _fail(
    args: argparse.Namespace,
    translator: Translator,
    locale: str,
    kind: str,
    code: int | str | None,
    message: str,
) -> int:
    if args.output_json:
        print(
            json.dumps(
                {"error": {"type": kind, "code": code, "message": message}}, ensure_ascii=False
            )
        )
    else:
        print(message, file=sys.stderr)
    return EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        process = load(RunSettings)
    except SettingsError as exc:
        print(f"Please fix these settings:\n{exc}", file=sys.stderr)
        return EXIT_USAGE
    # Only the long-running command logs at INFO by default; one-shot commands stay quiet.
    long_running = args.command in ("run", "sim")
    level = "DEBUG" if args.verbose else process.log_level if long_running else "ERROR"
    setup_logging(level, process.log_format, _secrets(settings, process))
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
        return asyncio.run(_generate(args, settings))
    if args.command == "sim":
        options: dict[str, Any] = {"speed": args.speed}
        if args.api_key:
            options["api_key"] = args.api_key
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(args.host, args.port, **options))
        return 0
    if args.command == "demo":
        return asyncio.run(_demo(args, settings))
    if args.command == "console":
        return asyncio.run(_console(settings, process))
    if args.command == "run":
        return _run(settings, process)
    if args.command == "admin":
        return asyncio.run(_admin(args, process))
    raise SystemExit(EXIT_USAGE)


def _secrets(settings: Settings, process: RunSettings) -> list[str]:
    """Every secret the settings hold, from the environment or ``.env``: none may be logged."""
    found = [*settings.secrets(), *process.secrets()]
    for entry in ADAPTERS:
        with contextlib.suppress(SettingsError):  # reported by `run`, the command that needs it
            found += entry.load().secrets()
    return found


def _run(settings: Settings, process: RunSettings) -> int:
    if settings.ima_api_key is None:
        print("IMA_API_KEY is not set (see .env.example).", file=sys.stderr)
        return EXIT_USAGE
    try:
        return asyncio.run(run(settings, process, ADAPTERS))
    except SettingsError as exc:
        print(f"Please fix these settings:\n{exc}", file=sys.stderr)
        return EXIT_USAGE


async def _admin(args: argparse.Namespace, process: RunSettings) -> int:
    store = await open_store(process.database_url)
    try:
        return await admin.run_admin(args, store, sys.stdout)
    finally:
        await store.close()


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


async def _console(settings: Settings, process: RunSettings) -> int:
    if settings.ima_api_key is None:
        print("IMA_API_KEY is not set: export it, or try `ima-bot demo` first.", file=sys.stderr)
        return EXIT_USAGE
    async with wired(settings, process.database_url) as bot:
        await _chat(bot.engine)
    return 0


async def _chat(engine: Engine, lines: TextIO = sys.stdin, **options: bool) -> None:
    """The console adapter on ``engine``, as ``ima-bot run`` would run an adapter."""
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
