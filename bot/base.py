"""What ``ima-bot run`` needs from every chat adapter."""

from __future__ import annotations

from typing import Protocol

from aiohttp import web


class Adapter(Protocol):
    #: Platform name, also ``ChatRequest.platform`` and the key for ``Engine.register_platform``.
    name: str

    async def start(self) -> None:
        """Connect, register the platform's replier factory with the engine, start receiving."""
        ...

    async def stop(self) -> None:
        """Stop receiving new requests. Running jobs are left to the next start's resume."""
        ...

    def healthy(self) -> bool:
        """Connected and able to receive (for ``/healthz``)."""
        ...

    def routes(self) -> list[web.RouteDef]:
        """HTTP routes to mount on the bot's HTTP server (webhooks); empty if none."""
        ...
