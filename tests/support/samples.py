"""Where the shared hand-written provider payloads live (protocols `samples/`)."""

from __future__ import annotations

from pathlib import Path

# /work/<checkout>/tests/support/samples.py -> /work/shared/protocols/samples
SAMPLES_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "protocols" / "samples"


def sample_path(provider: str, name: str) -> Path:
    """Path of one sample; `name` may omit the `.json` suffix."""
    if not Path(name).suffix:
        name += ".json"
    return SAMPLES_DIR / provider / name


def sample_bytes(provider: str, name: str) -> bytes:
    """The exact bytes of one sample file (signatures are computed over them)."""
    return sample_path(provider, name).read_bytes()
