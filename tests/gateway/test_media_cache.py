"""The media cache keeps what was read last and stays under its size limit."""

from __future__ import annotations

import os
from pathlib import Path

from gateway.media_cache import MediaCache


def download(cache: MediaCache, message_id: str, data: bytes, at: float) -> None:
    with cache.writer() as part:
        part.write(data)
    cache.put("acme", message_id, part.name, "image/png")
    cached = cache.get("acme", message_id)
    assert cached is not None
    os.utime(cached.path, (at, at))


def test_the_least_recently_read_goes_first(tmp_path: Path) -> None:
    cache = MediaCache(tmp_path, limit=250)
    download(cache, "read-again", b"a" * 100, at=1_000)
    download(cache, "unread", b"b" * 100, at=2_000)
    cache.get("acme", "read-again")  # read now: the newest
    download(cache, "new", b"c" * 100, at=3_000)  # 300 bytes > 250: one must go

    assert cache.get("acme", "unread") is None
    hit = cache.get("acme", "read-again")
    assert hit is not None and hit.path.read_bytes() == b"a" * 100
    assert hit.content_type == "image/png"
    assert cache.get("globex", "read-again") is None  # keyed by tenant too
    assert not list(tmp_path.glob("*.part"))


def test_a_file_larger_than_the_whole_cache_is_not_kept(tmp_path: Path) -> None:
    cache = MediaCache(tmp_path, limit=10)
    with cache.writer() as part:
        part.write(b"x" * 11)
    cache.put("acme", "big", part.name, "video/mp4")
    assert cache.get("acme", "big") is None
    assert list(tmp_path.iterdir()) == []
