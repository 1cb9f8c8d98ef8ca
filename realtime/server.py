"""The realtime server: Socket.IO on the HTTP port, fed from the bus.

- Mounting: python-socketio's `AsyncServer(async_mode="asgi")` behind its `ASGIApp`,
  served at `/socket.io` by Sanic's own server through `realtime.asgi` (`gateway.app` mounts it).
- Auth: `auth.token` is a tenant API key or a realtime token (`realtime.tokens`).
  A connection joins `tenant:{id}`, or, with a conversation-scoped token, the
  `conversation:{id}` rooms of its scope. `join:conversation` / `leave:conversation`
  answer with an ack; a conversation that is unknown, another tenant's or outside
  the token's scope gets the same refusal.
- Fan-out: one bus subscriber emits each event once to `[tenant:{t}, conversation:{c}]`
  (a client in both rooms gets it once). With a Redis bus, python-socketio's
  `AsyncRedisManager` can be passed as `client_manager` to carry emits across replicas.
- Resume: `auth.after_event_id` replays stored events to the client before it enters
  its rooms; the hand-over runs under the same lock as the fan-out (`realtime.hub`).
- Slow clients: a client with more than `realtime_buffer` packets queued gets an
  `error` event and is disconnected; it can reconnect with `after_event_id`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import socketio

from core.errors import ApiError, NotFound, Unauthenticated, envelope
from core.kinds import conversation_of, socket_event
from core.metrics import SOCKETIO_CONNECTIONS
from realtime.asgi import AsgiApp
from realtime.hub import Hub, Subscriber, parse_event_id, replay
from realtime.tokens import Grant, Minted, TokenSigner, is_realtime_token
from storage import repo
from wagate.v1 import event_pb2

log = logging.getLogger("wagate.realtime")

NAMESPACE = "/"
SWEEP_SECONDS = 0.25
CONNECT_WAIT = 10.0
MAX_ID_LENGTH = 64


def tenant_room(tenant_id: str) -> str:
    return f"tenant:{tenant_id}"


def conversation_room(conversation_id: str) -> str:
    return f"conversation:{conversation_id}"


def _conversation_arg(data: Any) -> str:
    if isinstance(data, dict):
        data = data.get("conversationId", data.get("conversation_id"))
    if isinstance(data, str) and 0 < len(data) <= MAX_ID_LENGTH:
        return data
    return ""


def _refusal(conversation_id: str) -> dict[str, Any]:
    # The same answer for unknown, another tenant's and out-of-scope conversations.
    return {
        "ok": False,
        **envelope("not_found", f"conversation '{conversation_id}' not found"),
    }


@dataclass
class _Resume:
    task: asyncio.Task[None] | None = None
    rooms: list[str] = field(default_factory=list)


class SocketServer:
    """Socket.IO: the bus's events emitted to rooms, and clients resumed after an event id."""

    def __init__(
        self,
        tenant_for_key: Callable[[str], str],
        tenant_exists: Callable[[str], bool],
        signer: TokenSigner,
        limit: int,
        client_manager: Any = None,
    ) -> None:
        self._tenant_for_key = tenant_for_key
        # Live: tenants come and go at run time (the admin API).
        self._tenant_exists = tenant_exists
        self.signer = signer
        self.limit = limit
        # Clients catching up after an event id; fed under `_lock` with the rooms.
        self._catching_up = Hub()
        self.sio = socketio.AsyncServer(
            async_mode="asgi",
            client_manager=client_manager,
            # Auth is a token in the connect payload, never a cookie, so any
            # origin may connect: browsers' frontends live on other origins.
            cors_allowed_origins="*",
            logger=False,
            engineio_logger=False,
        )
        self.asgi: AsgiApp = socketio.ASGIApp(self.sio, socketio_path="socket.io")
        # Fan-out and resume hand-overs take turns (see realtime.hub).
        self._lock = asyncio.Lock()
        self._resumes: dict[str, _Resume] = {}
        # Resumed clients → the last id their replay sent (see _replayed_already).
        self._replayed: dict[str, int] = {}
        self._cut: set[str] = set()
        # Each connected client's tenant, to disconnect a deleted tenant's clients.
        self._tenant_of: dict[str, str] = {}
        self._sweeper: asyncio.Task[None] | None = None
        self._track_engine_tasks()
        self._release_polls_on_close()
        self.sio.on("connect", self._connect)
        self.sio.on("disconnect", self._disconnect)
        self.sio.on("join:conversation", self._join)
        self.sio.on("leave:conversation", self._leave)

    def prefix_session_ids(self, prefix: str) -> None:
        """Start every new Engine.IO session id with `prefix` (which worker holds it:
        gateway/worker_sessions.py)."""
        generate = self.sio.eio.generate_id
        self.sio.eio.generate_id = lambda: prefix + generate()

    def _track_engine_tasks(self) -> None:
        """Keep python-engineio's background tasks (pings) so that close() can end them."""
        self._engine_tasks: set[asyncio.Task[Any]] = set()
        start_task = self.sio.eio.start_background_task

        def tracked(target: Any, *args: Any, **kwargs: Any) -> Any:
            task = start_task(target, *args, **kwargs)
            self._engine_tasks.add(task)
            task.add_done_callback(self._engine_tasks.discard)
            return task

        self.sio.eio.start_background_task = tracked

    def _release_polls_on_close(self) -> None:
        """Answer a pending long-poll GET as soon as its Engine.IO session closes.

        python-engineio leaves it waiting for up to ping interval + timeout (45 s),
        which holds a connection open and keeps a closing client waiting.
        """
        handler = self.sio.eio.handlers["disconnect"]

        async def on_disconnect(eio_sid: str, reason: Any = None) -> None:
            try:
                await handler(eio_sid, reason)
            finally:
                sock = self.sio.eio.sockets.get(eio_sid)
                if sock is not None and not sock.upgraded:
                    sock.queue.put_nowait(None)  # poll() returns no packets

        self.sio.eio.on("disconnect", on_disconnect)

    def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep(), name="socketio-sweeper")
        SOCKETIO_CONNECTIONS.set_function(lambda: len(self.sio.eio.sockets))

    # -- fan-out ------------------------------------------------------------------------

    async def on_event(self, event: event_pb2.Event) -> None:
        """Bus subscriber: the event to its rooms, and to the clients still catching up."""
        async with self._lock:
            self._catching_up.dispatch(event)
            skip = self._replayed_already(event) if self._replayed else None
            if not self._listened(event):
                return  # nobody to render it for: skip the JSON work
            out = socket_event(event)
            if out is None:
                return
            name, data, conversation_id = out
            rooms = [tenant_room(event.tenant_id)]
            if conversation_id:
                rooms.append(conversation_room(conversation_id))
            await self.sio.emit(name, data, to=rooms, skip_sid=skip or None)

    def _replayed_already(self, event: event_pb2.Event) -> list[str]:
        """Clients that just resumed and got this event from storage already: its live
        copy can come after their replay read it (it is published after its commit).
        Live events come in id order, so a client is forgotten at the first event past
        what it replayed."""
        if not event.id:
            return []
        event_id = int(event.id)
        skip = [sid for sid, last in self._replayed.items() if event_id <= last]
        self._replayed = {sid: last for sid, last in self._replayed.items() if event_id < last}
        return skip

    def _listened(self, event: event_pb2.Event) -> bool:
        """Whether a Socket.IO client could receive `event`. Only the local manager
        knows; a pub/sub manager (Redis) must publish for the other replicas anyway."""
        if type(self.sio.manager) is not socketio.AsyncManager:
            return True
        rooms = self.sio.manager.rooms.get(NAMESPACE, {})
        conversation_id = conversation_of(event)
        return bool(
            rooms.get(tenant_room(event.tenant_id))
            or (conversation_id and rooms.get(conversation_room(conversation_id)))
        )

    # -- connections ------------------------------------------------------------------------

    def grant_for(self, token: Any) -> Grant:
        if not isinstance(token, str) or not token:
            raise Unauthenticated("auth.token is required: an API key or a realtime token")
        if is_realtime_token(token):
            grant = self.signer.verify(token)
            if not self._tenant_exists(grant.tenant_id):
                raise Unauthenticated("invalid realtime token")
            return grant
        return Grant(self._tenant_for_key(token))

    async def _connect(self, sid: str, environ: dict[str, Any], auth: Any) -> bool:
        auth = auth if isinstance(auth, dict) else {}
        try:
            grant = self.grant_for(auth.get("token"))
            after = parse_event_id(auth.get("after_event_id"), "auth.after_event_id")
        except ApiError as exc:
            raise socketio.exceptions.ConnectionRefusedError(
                exc.message, {"code": exc.code}
            ) from None
        if grant.conversations is None:
            rooms = [tenant_room(grant.tenant_id)]
        else:
            rooms = [conversation_room(c) for c in sorted(grant.conversations)]
        # No await may suspend from here on: once in a room, the client must not get
        # an event before python-socketio has queued its CONNECT answer.
        await self.sio.save_session(sid, {"grant": grant})
        self._tenant_of[sid] = grant.tenant_id
        if after is None:
            for room in rooms:
                await self.sio.enter_room(sid, room)
            return True
        sub = Subscriber(
            grant.tenant_id,
            limit=self.limit,
            resuming=True,
            conversations=grant.conversations,
            name=f"socket.io {sid}",
        )
        self._catching_up.add(sub)
        resume = self._resumes[sid] = _Resume(rooms=rooms)
        resume.task = asyncio.create_task(self._resume(sid, sub, after, resume))
        return True

    async def _resume(self, sid: str, sub: Subscriber, after: int, resume: _Resume) -> None:
        try:
            if not await self._connected(sid):
                return
            async for event in replay(sub, after):
                await self._emit_to(sid, event)
                if not self.sio.manager.is_connected(sid, NAMESPACE):
                    return
            async with self._lock:
                self._catching_up.remove(sub)
                missed = sub.go_live(after)
                if not self.sio.manager.is_connected(sid, NAMESPACE):
                    return
                for room in resume.rooms:
                    await self.sio.enter_room(sid, room)
                if sub.replayed > after:
                    self._replayed[sid] = sub.replayed
                for event in missed:
                    await self._emit_to(sid, event, wait=False)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("socket.io resume failed", extra={"tenant": sub.tenant_id})
            await self.sio.disconnect(sid)
        finally:
            self._catching_up.remove(sub)
            if self._resumes.get(sid) is resume:
                del self._resumes[sid]

    async def _connected(self, sid: str) -> bool:
        """Wait until python-socketio has answered the client's CONNECT."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CONNECT_WAIT
        while True:
            if self.sio.manager.is_connected(sid, NAMESPACE):
                return True
            if loop.time() > deadline or self.sio.manager.eio_sid_from_sid(sid, NAMESPACE) is None:
                return False
            await asyncio.sleep(0.001)

    async def _emit_to(self, sid: str, event: event_pb2.Event, wait: bool = True) -> None:
        out = socket_event(event)
        if out is None:
            return
        if wait:
            # Replay goes at the client's pace: never queue more than half the budget.
            sock = self._engine_socket(sid)
            while True:
                if sock is None or sock.closed or sock.queue.qsize() <= self.limit // 2:
                    break
                await asyncio.sleep(0.005)
        await self.sio.emit(out[0], out[1], to=sid)

    def _engine_socket(self, sid: str) -> Any:
        eio_sid = self.sio.manager.eio_sid_from_sid(sid, NAMESPACE)
        return self.sio.eio.sockets.get(eio_sid) if eio_sid is not None else None

    async def _disconnect(self, sid: str, reason: Any = None) -> None:
        self._replayed.pop(sid, None)
        self._tenant_of.pop(sid, None)
        resume = self._resumes.pop(sid, None)
        if resume is not None and resume.task is not None:
            resume.task.cancel()

    async def _grant(self, sid: str) -> Grant:
        session = await self.sio.get_session(sid)
        grant: Grant = session["grant"]
        return grant

    async def _join(self, sid: str, data: Any = None) -> dict[str, Any]:
        conversation_id = _conversation_arg(data)
        grant = await self._grant(sid)
        if (
            not conversation_id
            or not grant.allows(conversation_id)
            or await repo.get_conversation(grant.tenant_id, conversation_id) is None
        ):
            return _refusal(conversation_id)
        room = conversation_room(conversation_id)
        resume = self._resumes.get(sid)
        if resume is not None:  # entered at the hand-over, with the other rooms
            if room not in resume.rooms:
                resume.rooms.append(room)
        else:
            await self.sio.enter_room(sid, room)
        return {"ok": True, "conversationId": conversation_id}

    async def _leave(self, sid: str, data: Any = None) -> dict[str, Any]:
        conversation_id = _conversation_arg(data)
        if not conversation_id:
            return _refusal(conversation_id)
        room = conversation_room(conversation_id)
        resume = self._resumes.get(sid)
        if resume is not None and room in resume.rooms:
            resume.rooms.remove(room)
        await self.sio.leave_room(sid, room)
        return {"ok": True, "conversationId": conversation_id}

    async def disconnect_tenant(self, tenant_id: str) -> int:
        """Disconnect this process's clients of a deleted tenant; how many there were."""
        sids = [sid for sid, tenant in self._tenant_of.items() if tenant == tenant_id]
        for sid in sids:
            await self.sio.emit(
                "error", {"code": "unauthenticated", "message": "the tenant was deleted"}, to=sid
            )
            await self.sio.disconnect(sid)
        return len(sids)

    # -- slow clients ---------------------------------------------------------------------

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                await self._cut_slow_clients()
            except Exception:
                log.exception("socket.io sweep failed")

    async def _cut_slow_clients(self) -> None:
        sockets = self.sio.eio.sockets
        self._cut.intersection_update(sockets)
        for eio_sid, sock in list(sockets.items()):
            queued = sock.queue.qsize()
            if queued <= self.limit or eio_sid in self._cut:
                continue
            self._cut.add(eio_sid)
            sid = self.sio.manager.sid_from_eio_sid(eio_sid, NAMESPACE)
            if sid is None:
                continue
            log.warning("slow socket.io client cut off", extra={"queued": queued})
            message = (
                f"more than {self.limit} events were waiting for this client; "
                "reconnect with auth.after_event_id to resume"
            )
            await self.sio.emit("error", {"code": "slow_consumer", "message": message}, to=sid)
            await self.sio.disconnect(sid)

    async def close(self) -> None:
        """Disconnect every client (before the HTTP server drains its connections)."""
        self._catching_up.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
        for resume in list(self._resumes.values()):
            if resume.task is not None:
                resume.task.cancel()
        if self.sio.eio.sockets:
            try:
                await asyncio.wait_for(self.sio.eio.disconnect(), timeout=2)
            except TimeoutError:
                log.warning("socket.io clients did not close in time")
        await self.sio.shutdown()
        for task in list(self._engine_tasks):
            task.cancel()
        await asyncio.gather(*self._engine_tasks, return_exceptions=True)


@dataclass(frozen=True)
class Realtime:
    """Realtime for the HTTP and gRPC APIs: token minting and the Socket.IO server."""

    signer: TokenSigner
    sockets: SocketServer

    async def mint(
        self, tenant_id: str, conversation_ids: Sequence[str], ttl: int | None
    ) -> Minted:
        """A realtime token for the tenant; every conversation must be its own."""
        for conversation_id in dict.fromkeys(conversation_ids):
            if (
                len(conversation_id) > MAX_ID_LENGTH
                or await repo.get_conversation(tenant_id, conversation_id) is None
            ):
                raise NotFound(f"conversation '{conversation_id[:MAX_ID_LENGTH]}' not found")
        return self.signer.mint(tenant_id, conversation_ids, ttl)

    async def close(self) -> None:
        await self.sockets.close()
