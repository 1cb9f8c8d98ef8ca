"""Realtime pieces in-process: tokens, resume hand-over, typing timers (real SQLite and bus)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.errors import InvalidArgument, ResourceExhausted, Unauthenticated
from gateway.bus import InProcessBus
from realtime.hub import Hub, Subscriber, parse_event_id, replay
from realtime.tokens import MAX_TTL, TokenSigner
from realtime.typing import TypingTimers
from storage import repo
from storage.db import close_database, open_database
from wagate.v1 import event_pb2


def test_tokens_sign_scope_and_expire() -> None:
    signer = TokenSigner("s3cret")
    minted = signer.mint("acme", ["cv_1", "cv_2", "cv_1"], ttl=60, now=1000)
    assert minted.expires_at == 1060 and minted.conversations == ("cv_1", "cv_2")
    grant = signer.verify(minted.token, now=1059)
    assert grant.tenant_id == "acme" and grant.conversations == frozenset({"cv_1", "cv_2"})
    assert grant.allows("cv_1") and not grant.allows("cv_3")
    assert TokenSigner("s3cret").verify(signer.mint("acme").token).conversations is None
    with pytest.raises(Unauthenticated, match="expired"):
        signer.verify(minted.token, now=1060)
    with pytest.raises(Unauthenticated, match="invalid"):
        TokenSigner("other").verify(minted.token, now=1000)
    head, _, sig = minted.token.split(".")
    other = signer.mint("globex", ["cv_1"], ttl=60, now=1000).token.split(".")[1]
    with pytest.raises(Unauthenticated, match="invalid"):
        signer.verify(f"{head}.{other}.{sig}", now=1000)  # payload swapped, signature kept
    with pytest.raises(InvalidArgument):
        signer.mint("acme", ttl=MAX_TTL + 1)
    assert signer.mint("acme", now=0).expires_at == 900  # 15 minutes by default
    assert TokenSigner(None).ephemeral


def test_parse_event_id() -> None:
    assert parse_event_id(None) is None and parse_event_id("") is None
    assert parse_event_id("42") == 42 and parse_event_id(7) == 7
    for bad in ("-1", "4x", "1e3", True, 1.5, "9" * 20):
        with pytest.raises(InvalidArgument):
            parse_event_id(bad)


def _event(event_id: int, conversation: str = "cv_1") -> event_pb2.Event:
    return event_pb2.Event(
        id=str(event_id),
        tenant_id="acme",
        typing=event_pb2.Typing(conversation_id=conversation, active=True),
    )


def test_live_buffer_is_bounded_and_cuts_off() -> None:
    hub = Hub()
    slow = Subscriber("acme", limit=3, resuming=False)
    other = Subscriber("acme", limit=3, resuming=False, conversations=["cv_2"])
    hub.add(slow)
    hub.add(other)
    for i in range(1, 5):
        hub.dispatch(_event(i))
    assert isinstance(slow.failed, ResourceExhausted)
    assert hub.count() == 1  # the slow one is gone; the filtered one never matched
    assert other.failed is None


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[None]:
    await open_database(f"sqlite://{tmp_path}/wagate.sqlite3")
    try:
        yield
    finally:
        await close_database()


async def _append(conversation: str = "cv_1") -> event_pb2.Event:
    event = event_pb2.Event(
        channel_id="acme-meta", typing=event_pb2.Typing(conversation_id=conversation, active=True)
    )
    return await repo.append_event("acme", event, conversation)


async def test_resume_hand_over_has_no_gap_and_no_duplicate(db: None) -> None:
    hub = Hub()
    stored = [await _append() for _ in range(5)]
    sub = Subscriber("acme", limit=100, resuming=True)
    hub.add(sub)
    # Published after the subscriber registered, but already in storage: replayed
    # *and* buffered; it must come out once.
    late = await _append()
    hub.dispatch(late)
    got: list[str] = []
    after = int(stored[1].id)
    async for event in replay(sub, after):
        got.append(event.id)
        if len(got) == 1:  # while replay runs, more events commit and are published
            for _ in range(2):
                hub.dispatch(await _append())
    got += [e.id for e in sub.go_live(after)]
    hub.dispatch(live := await _append())
    got += [e.id for e in await sub.next_batch()]
    expected = [e.id for e in stored[2:]] + [late.id]
    assert got[: len(expected)] == expected
    assert len(got) == len(set(got)) == len(expected) + 3
    assert got[-1] == live.id
    assert [int(i) for i in got] == sorted(int(i) for i in got)


async def test_resume_survives_an_overflowing_catch_up_buffer(db: None) -> None:
    hub = Hub()
    sub = Subscriber("acme", limit=2, resuming=True, conversations=["cv_1"])
    hub.add(sub)
    events = [await _append("cv_1" if i % 2 else "cv_2") for i in range(10)]
    for event in events:  # published while nothing is read: the buffer overflows
        hub.dispatch(event)
    assert sub.lost and sub.failed is None
    got = [e.id async for e in replay(sub, 0)]
    got += [e.id for e in sub.go_live(0)]
    assert got == [e.id for i, e in enumerate(events) if i % 2]


async def test_typing_stops_after_its_time(db: None) -> None:
    bus = InProcessBus()
    seen: list[event_pb2.Event] = []

    async def record(event: event_pb2.Event) -> None:
        seen.append(event)

    bus.subscribe("test", record)
    await bus.start()
    timers = TypingTimers(bus.publish, seconds=0.2)
    try:
        await timers.start("acme", "acme-meta", "cv_1")
        await asyncio.sleep(0.1)
        await timers.start("acme", "acme-meta", "cv_1")  # re-arms the timer
        await asyncio.sleep(0.15)
        await bus.drain()
        assert [e.typing.active for e in seen] == [True, True]
        await asyncio.sleep(0.15)
        await bus.drain()
        assert [e.typing.active for e in seen] == [True, True, False]
        assert all(e.id and e.typing.conversation_id == "cv_1" for e in seen)
        await timers.stop("acme", "cv_1")  # not typing any more: nothing published
        await bus.drain()
        assert len(seen) == 3
    finally:
        timers.close()
        await bus.stop()
