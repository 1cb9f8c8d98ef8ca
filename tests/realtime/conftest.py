"""Fixtures of the realtime tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from tests.support.realtime import Client


@pytest.fixture
async def clients() -> AsyncIterator[Callable[[], Client]]:
    """Make Socket.IO clients with `clients()`; all are closed after the test."""
    made: list[Client] = []

    def make() -> Client:
        made.append(Client())
        return made[-1]

    yield make
    for client in made:
        await client.close()
