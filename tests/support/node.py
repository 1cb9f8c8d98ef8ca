"""A Node script under test whose stdout is one JSON object per line, read as it comes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from tests.support.polling import eventually


class NodeLines:
    """Collects a Node process's JSON output lines in `lines` while it runs."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[dict[str, Any]] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for raw in self.proc.stdout:
            self.lines.append(json.loads(raw))

    async def until(self, check: Callable[[dict[str, Any]], bool], count: int = 1) -> None:
        await eventually(
            lambda: sum(map(check, self.lines)) >= count, 15, f"node output ({self.lines})"
        )

    async def finish(self) -> int:
        """Wait for the script to exit on its own; its exit code."""
        code = await asyncio.wait_for(self.proc.wait(), 20)
        await self._reader
        return code

    async def stop(self) -> None:
        """End the script (if it still runs) and its reader."""
        if self.proc.returncode is None:
            self.proc.terminate()
        await self.proc.wait()
        await self._reader
