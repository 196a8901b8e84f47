"""Discord: slash commands and buttons over the gateway, replies edited in place.

``adapter`` wires the discord.py client to the engine, ``commands`` declares the slash
commands, ``event`` turns what Discord sends into chat requests (pure), ``replier`` shows the
engine's replies as Discord messages, ``config`` reads the ``DISCORD_*`` settings.
"""
