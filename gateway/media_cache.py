"""A size-bounded disk cache of message media, so a console scrolling back through a
conversation does not fetch every picture from the provider again.

One file per (tenant, message), named by a hash; its content type in a sidecar file.
When the cache grows past its limit, the least recently read files go first.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DIR = "data/media-cache"
DEFAULT_LIMIT = 256 * 1024 * 1024


@dataclass(frozen=True)
class Cached:
    path: Path
    content_type: str
    size: int


class MediaCache:
    def __init__(self, folder: str | Path = DEFAULT_DIR, limit: int = DEFAULT_LIMIT) -> None:
        self.folder = Path(folder)
        self.limit = limit

    def _path(self, tenant_id: str, message_id: str) -> Path:
        name = hashlib.sha256(f"{tenant_id}/{message_id}".encode()).hexdigest()
        return self.folder / name

    def get(self, tenant_id: str, message_id: str) -> Cached | None:
        path = self._path(tenant_id, message_id)
        try:
            content_type = path.with_suffix(".type").read_text()
            size = path.stat().st_size
        except OSError:
            return None
        os.utime(path)  # recently read: evicted last
        return Cached(path, content_type, size)

    def writer(self) -> tempfile._TemporaryFileWrapper[bytes]:
        """A temporary file in the cache folder, to `put` once complete."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return tempfile.NamedTemporaryFile(dir=self.folder, suffix=".part", delete=False)

    def discard(self, part_name: str) -> None:
        """Drop an incomplete download."""
        Path(part_name).unlink(missing_ok=True)

    def put(self, tenant_id: str, message_id: str, part_name: str, content_type: str) -> None:
        """Adopt a complete download, then trim the cache to its limit."""
        part = Path(part_name)
        if part.stat().st_size > self.limit:
            part.unlink(missing_ok=True)
            return
        path = self._path(tenant_id, message_id)
        path.with_suffix(".type").write_text(content_type)
        part.replace(path)
        self._trim()

    def _trim(self) -> None:
        files = [
            (p.stat().st_mtime, p.stat().st_size, p)
            for p in self.folder.iterdir()
            if not p.suffix and p.is_file()
        ]
        total = sum(size for _, size, _ in files)
        for _, size, path in sorted(files):
            if total <= self.limit:
                break
            path.unlink(missing_ok=True)
            path.with_suffix(".type").unlink(missing_ok=True)
            total -= size
