"""Config for tortoise's own CLI: `tortoise -c storage.tortoise_cli.TORTOISE_ORM makemigrations`."""

from storage.db import tortoise_config

TORTOISE_ORM = tortoise_config("sqlite://data/makemigrations.sqlite3")
