"""Chat platform adapters and the ``ima-bot`` command line."""
