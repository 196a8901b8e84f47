import asyncio
import logging
import re

import aiohttp
import pytest

from sim.app import serve
from tests.sim.helpers import HEADERS, Api


class UrlWatcher(logging.Handler):
    """Catches the URL that ``serve`` logs once it listens."""

    def __init__(self) -> None:
        super().__init__()
        self.url = ""
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        found = re.search(r"serving on (http://\S+)", record.getMessage())
        if found:
            self.url = found[1]
            self.seen.set()


async def test_serve_runs_until_cancelled() -> None:
    watcher = UrlWatcher()
    logger = logging.getLogger("sim.app")
    logger.addHandler(watcher)
    logger.setLevel(logging.INFO)
    try:
        server = asyncio.create_task(serve("127.0.0.1", 0, seed=1))
        async with asyncio.timeout(5):
            await watcher.seen.wait()
    finally:
        logger.removeHandler(watcher)
        logger.setLevel(logging.NOTSET)

    async with aiohttp.ClientSession(headers=HEADERS) as http:
        status, payload = await Api(http, watcher.url).product_list("text_to_music")
        assert (status, payload["code"]) == (200, 0)

        server.cancel()
        with pytest.raises(asyncio.CancelledError):
            await server
        with pytest.raises(aiohttp.ClientConnectionError):
            await Api(http, watcher.url).product_list("text_to_music")
