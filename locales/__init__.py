"""Message catalogs (one TOML file per locale); loaded by :mod:`core.i18n`."""

from pathlib import Path

LOCALES_DIR = Path(__file__).resolve().parent
