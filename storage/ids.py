"""Time-ordered, URL-safe ids: `<prefix>_<hex ms><hex random>`."""

from __future__ import annotations

import os
import time

# Random bytes come from os.urandom in blocks: one syscall per 512 ids, not per id.
_BLOCK = 4096
_random = b""
_at = 0


def new_id(prefix: str) -> str:
    global _random, _at
    if _at + 8 > len(_random):
        _random, _at = os.urandom(_BLOCK), 0
    tail = _random[_at : _at + 8].hex()
    _at += 8
    return f"{prefix}_{time.time_ns() // 1_000_000:012x}{tail}"
