"""Provider payloads the tests replay, kept in the repository under tests/fixtures/."""

from __future__ import annotations

from pathlib import Path

from tests.support.paths import TESTS

SAMPLES_DIR = TESTS / "fixtures"


def sample_path(provider: str, name: str) -> Path:
    """Path of one sample; `name` may omit the `.json` suffix."""
    if not Path(name).suffix:
        name += ".json"
    return SAMPLES_DIR / provider / name


def sample_bytes(provider: str, name: str) -> bytes:
    """The exact bytes of one sample file (signatures are computed over them)."""
    return sample_path(provider, name).read_bytes()
