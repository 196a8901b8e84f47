"""Feishu (Lark): group @mentions and DMs in, one interactive card per request out.

Same layout as every adapter: ``adapter`` (receiving, wiring), ``event`` (raw JSON → typed
events, pure), ``replier`` (the engine's replies as cards and files), plus ``api`` (Feishu's REST
API), ``card`` (card JSON) and ``config`` (settings).
"""
