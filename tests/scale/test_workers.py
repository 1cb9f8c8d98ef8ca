"""`wagate serve --workers 2` on a real PostgreSQL and a real Redis: both worker processes
serve HTTP and gRPC on the shared ports, webhooks are stored once and reach a Socket.IO
client, a second gateway still cannot take the ports, a worker killed -9 is replaced, and
SIGTERM stops the group gracefully with nothing acknowledged lost."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import asyncpg  # type: ignore[import-untyped]
import grpc
import pytest

from providers.testing import FakeGraphAPI
from tests.support.polling import eventually
from tests.support.procs import Gateway, Postgres, RedisServer, start_gateway, start_redis
from tests.support.realtime import Client, api, text_webhook
from tests.support.refusals import one_line, refused_serve
from tests.support.tenants import ACME_KEY, meta_sign, two_tenant_config
from tests.support.workers import (
    all_workers_started,
    connection_owners,
    log_entries,
    worker_pids,
)
from wagate.v1 import messaging_service_pb2 as pb
from wagate.v1 import messaging_service_pb2_grpc as pb_grpc

pytestmark = pytest.mark.integration

ALEX = "15551238001"
# Connections each test opens: with the kernel hashing each to one of 2 workers at
# random, all landing on one worker has odds of 2 * 2**-24.
CONNECTIONS = 24


def start_group(postgres: Postgres, redis: RedisServer, graph_url: str) -> Gateway:
    url = postgres.create_database(f"workers_{uuid.uuid4().hex[:12]}")
    env = {
        "WAGATE_WORKERS": "2",
        "WAGATE_REDIS_URL": redis.url,
        "WAGATE_REALTIME_SECRET": "shared-secret",
    }
    return start_gateway(two_tenant_config(graph_url), database_url=url, env=env, ready_within=120)


@pytest.fixture(scope="module")
def redis_for_module() -> Iterator[RedisServer]:
    server = start_redis()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def graph_for_module() -> Iterator[str]:
    """A URL nothing answers: these tests never send through the provider."""
    yield "http://127.0.0.1:9/v23.0"


@pytest.fixture(scope="module")
def group(
    postgres: Postgres, redis_for_module: RedisServer, graph_for_module: str
) -> Iterator[Gateway]:
    """One `--workers 2` gateway for the module's tests that do not stop it."""
    gw = start_group(postgres, redis_for_module, graph_for_module)
    try:
        yield gw
    finally:
        gw.stop()


async def test_http_and_grpc_calls_are_served_by_both_workers(group: Gateway) -> None:
    pids = await all_workers_started(group, 2)
    sessions = [aiohttp.ClientSession() for _ in range(CONNECTIONS)]  # a connection each
    own_connection = [("grpc.use_local_subchannel_pool", 1)]  # channels share none
    channels = [
        grpc.aio.insecure_channel(group.grpc_target, options=own_connection)
        for _ in range(CONNECTIONS)
    ]
    try:
        for http in sessions:
            status, body = await api(http, group, "GET", "/conversations", ACME_KEY)
            assert status == 200, body
        metadata = (("authorization", f"Bearer {ACME_KEY}"),)
        for channel in channels:
            stub = pb_grpc.MessagingServiceStub(channel)
            await stub.ListConversations(pb.ListConversationsRequest(), metadata=metadata)
        # Every connection is still open: each is held by the worker that answered on it.
        http_owners = connection_owners(group.http_port, pids)
        grpc_owners = connection_owners(group.grpc_port, pids)
    finally:
        for http in sessions:
            await http.close()
        for channel in channels:
            await channel.close()
    assert set(http_owners) == pids and sum(http_owners.values()) == CONNECTIONS, http_owners
    assert set(grpc_owners) == pids and sum(grpc_owners.values()) == CONNECTIONS, grpc_owners
    assert {e.get("worker") for e in log_entries(group) if e["msg"] == "wagate started"} == {1, 2}


async def test_webhooks_on_both_workers_are_stored_once_and_reach_a_socketio_client(
    group: Gateway,
) -> None:
    await all_workers_started(group, 2)
    run = uuid.uuid4().hex[:8]
    wamids = [f"wamid.workers-{run}-{i}" for i in range(CONNECTIONS)]
    client = await Client().connect(group, ACME_KEY, "websocket")
    try:
        # A new connection for each webhook, so the kernel spreads them over the workers.
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
            for wamid in wamids:
                body = text_webhook([(wamid, "hello", ALEX)])
                url = f"{group.url}/webhooks/meta"
                async with http.post(url, data=body, headers=meta_sign(body)) as resp:
                    assert resp.status == 200, await resp.text()
            await client.wait("message:new", count=len(wamids), within=30)
            await asyncio.sleep(0.5)  # a second copy of any would have arrived by now
            got = [m["message"]["providerMessageId"] for m in client.of("message:new")]
            assert sorted(got) == sorted(wamids)
            assert await stored_count(group.database_url, f"wamid.workers-{run}-%") == len(wamids)
    finally:
        await client.close()
    takers = {
        e.get("worker")
        for e in log_entries(group)
        if e.get("path") == "/webhooks/meta" and e.get("status") == 200
    }
    assert takers == {1, 2}


class Polling:
    """Engine.IO's long-polling transport by hand (https://socket.io/docs/v4/engine-io-protocol/),
    each request on a new connection, so the kernel hands them to either worker."""

    def __init__(self, http: aiohttp.ClientSession, gw: Gateway) -> None:
        self.http = http
        self.url = f"{gw.url}/socket.io/?EIO=4&transport=polling"
        self.requests = 0

    async def open(self) -> str:
        async with self.http.get(self.url) as resp:
            opened = await resp.text()
        assert opened.startswith("0"), opened
        sid: str = json.loads(opened[1:])["sid"]
        self.url += f"&sid={sid}"
        return sid

    async def send(self, packet: str) -> None:
        async with self.http.post(self.url, data=packet) as resp:
            assert resp.status == 200, await resp.text()
        self.requests += 1

    async def until(self, prefix: str) -> str:
        """Poll until a packet starting with `prefix` comes (pings are answered)."""
        while True:
            async with self.http.get(self.url) as resp:
                body = await resp.text()
                assert resp.status == 200, body
            self.requests += 1
            for packet in body.split("\x1e"):
                if packet == "2":
                    await self.send("3")
                elif packet.startswith(prefix):
                    return packet


async def test_long_polling_requests_reach_the_worker_holding_the_session(
    group: Gateway,
) -> None:
    await all_workers_started(group, 2)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
        polling = Polling(http, group)
        sid = await polling.open()
        assert sid.split(".", 1)[0] in {"1", "2"}  # the worker holding it
        await polling.send("40" + json.dumps({"token": ACME_KEY}))
        await polling.until("40")  # connected
        for n in range(8):
            await polling.send(f'42{n}["join:conversation","conv-{n}"]')
            ack = json.loads((await polling.until(f"43{n}"))[len(f"43{n}") :])
            assert ack[0]["ok"] is False  # no such conversation: answered, by the holder
        wamid = f"wamid.polling-{uuid.uuid4().hex[:8]}"
        body = text_webhook([(wamid, "over long-polling", ALEX)])
        async with http.post(
            f"{group.url}/webhooks/meta", data=body, headers=meta_sign(body)
        ) as resp:
            assert resp.status == 200
        event = json.loads((await polling.until('42["message:new"'))[2:])
        assert event[1]["message"]["providerMessageId"] == wamid
    # 18+ requests on new connections, every one answered by the session's worker: with
    # two workers and no forwarding, about half would have been refused (400).
    assert polling.requests >= 18


def test_a_second_gateway_on_the_workers_ports_exits_1(
    group: Gateway, tmp_path: Path, redis_for_module: RedisServer
) -> None:
    lone = refused_serve(tmp_path, env={"WAGATE_HTTP_PORT": str(group.http_port)})
    assert lone.returncode == 1
    assert one_line(lone) == (
        f"wagate: cannot start: HTTP port 127.0.0.1:{group.http_port}"
        " is not available (Address already in use)"
    )
    other_group = refused_serve(
        tmp_path,
        "--workers",
        "2",
        env={
            "WAGATE_GRPC_PORT": str(group.grpc_port),
            "WAGATE_DATABASE_URL": group.database_url,
            "WAGATE_REDIS_URL": redis_for_module.url,
        },
        config=group.config,
    )
    assert other_group.returncode == 1
    assert one_line(other_group) == (
        f"wagate: cannot start: gRPC port 127.0.0.1:{group.grpc_port}"
        " is not available (Address already in use)"
    )
    assert group.proc.poll() is None


async def test_a_worker_killed_9_is_replaced(group: Gateway) -> None:
    before = await all_workers_started(group, 2)
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    after = await all_workers_started(group, 2, times=2)
    assert victim not in after and len(after & before) == 1
    async with aiohttp.ClientSession() as http:
        assert (await api(http, group, "GET", "/conversations", ACME_KEY))[0] == 200
    replaced = [e for e in log_entries(group) if e["msg"] == "worker exited; starting a new one"]
    assert [(e["pid"], e["exit"]) for e in replaced] == [(victim, "signal 9")]


async def test_workers_stop_by_themselves_when_the_supervisor_is_killed_9(group: Gateway) -> None:
    """Last of the module's tests on `group`: it ends it."""
    pids = await all_workers_started(group, 2)
    group.proc.kill()
    group.proc.wait()
    await eventually(
        lambda: not any(_alive(pid) for pid in pids), within=60, what="the orphaned workers gone"
    )
    stopped = [e for e in log_entries(group) if e["msg"] == "wagate stopped"]
    assert {e.get("worker") for e in stopped} == {1, 2}  # gracefully, not killed


async def test_sigterm_stops_the_group_and_loses_nothing_acknowledged(
    postgres: Postgres, redis_server: RedisServer, fake_graph: FakeGraphAPI
) -> None:
    gw = start_group(postgres, redis_server, fake_graph.base_url)
    pids = await all_workers_started(gw, 2)
    run = uuid.uuid4().hex[:8]
    acknowledged: list[str] = []
    answers: set[int] = set()

    async def sender(n: int, http: aiohttp.ClientSession) -> None:
        for i in range(100_000):
            wamid = f"wamid.term-{run}-{n}-{i}"
            body = text_webhook([(wamid, "under load", ALEX)])
            try:
                async with http.post(
                    f"{gw.url}/webhooks/meta", data=body, headers=meta_sign(body)
                ) as resp:
                    await resp.read()
            except aiohttp.ClientError:
                return  # the group stopped listening
            answers.add(resp.status)
            if resp.status == 200:
                acknowledged.append(wamid)

    connector = aiohttp.TCPConnector(force_close=True)  # spread over both workers
    async with aiohttp.ClientSession(connector=connector) as http:
        senders = [asyncio.create_task(sender(n, http)) for n in range(8)]
        await eventually(lambda: len(acknowledged) >= 200, within=60, what="webhooks acknowledged")
        started = time.monotonic()
        gw.proc.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.to_thread(gw.proc.wait, 90)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the group did not stop: {gw.logs()[-4000:]}") from None
        stopped_in = time.monotonic() - started
        await asyncio.wait_for(asyncio.gather(*senders), 30)
    assert code == 0, gw.logs()[-3000:]
    assert stopped_in < 30
    assert not worker_pids(gw) and not any(_alive(pid) for pid in pids)
    assert {e.get("worker") for e in log_entries(gw) if e["msg"] == "wagate stopped"} == {1, 2}
    assert answers <= {200, 503}  # refused while stopping is honest; never another answer

    # What was acknowledged and not applied yet waits in the inbox: a new start applies it.
    after = start_gateway(
        gw.config,
        database_url=gw.database_url,
        env={"WAGATE_REDIS_URL": redis_server.url},
    )
    try:
        pattern = f"wamid.term-{run}-%"
        await eventually(
            lambda: stored_count(gw.database_url, pattern), within=30, what="the stored webhooks"
        )

        async def all_stored() -> bool:
            return set(acknowledged) <= await stored_ids(gw.database_url, pattern)

        await eventually(all_stored, within=30, what="every acknowledged webhook stored")
        assert await stored_count(gw.database_url, pattern) == len(
            await stored_ids(gw.database_url, pattern)
        )  # none twice
    finally:
        after.stop()


def _alive(pid: int) -> bool:
    """Running (a zombie has exited: it only waits for whoever adopted it to reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def stored_ids(url: str, pattern: str) -> set[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT provider_message_id FROM message WHERE provider_message_id LIKE $1", pattern
        )
    finally:
        await conn.close()
    return {row[0] for row in rows}


async def stored_count(url: str, pattern: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        sql = "SELECT count(*) FROM message WHERE provider_message_id LIKE $1"
        return int(await conn.fetchval(sql, pattern))
    finally:
        await conn.close()
