"""The outbox: every send, from gRPC, REST or a bot, goes through here.

A message is stored PENDING (with its idempotency key) before the provider is
called, then becomes SENT with the provider's id or FAILED with its error.
Retryable failures are retried with exponential backoff by a sweeper that also
picks up sends a crash interrupted (a lease on `next_attempt_at`).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from core.errors import (
    ErrorKind,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    SendError,
    Unavailable,
    UnsupportedContent,
)
from core.metrics import OUTBOX_RETRIES, PROVIDER_CALL_SECONDS, SENDS
from gateway.bus import Bus
from gateway.fallback import degrade_or_refuse
from gateway.marketing import check_marketing
from gateway.send_validation import check_recipient, check_request
from gateway.tenants import ChannelRuntime, Tenants
from providers.base import OutboundMessage, provider_error
from storage import models, outbound, repo
from storage.batching import GroupCommit
from storage.messages import StoredMessage
from storage.outbound import Outbound, OutboundRequest, Sent
from storage.status import advances
from storage.times import now
from storage.writer import writer
from wagate.v1 import event_pb2, message_pb2, messaging_service_pb2

log = logging.getLogger("wagate.outbox")

M = message_pb2
# How long an attempt may run before a sweeper (of any replica) assumes it died with
# its process and sends again. Longer than a provider call may take (the HTTP client's
# 30 s timeout, gateway/compose.py), or a slow send would be sent twice.
LEASE = timedelta(seconds=60)
# How often every replica's sweeper looks for due retries and expired leases.
SWEEP = 0.25


class Outbox:
    def __init__(
        self,
        tenants: Tenants,
        bus: Bus,
        *,
        max_attempts: int = 6,
        base_delay: float = 0.5,
        lease: timedelta = LEASE,
    ) -> None:
        self.tenants = tenants
        self.lease = lease
        self.bus = bus
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._inflight: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        # Concurrent sends share transactions: one for the PENDING rows, one for SENT.
        self._creates: GroupCommit[OutboundRequest, Outbound] = GroupCommit(
            "outbox-create", self._create_batch
        )
        self._sents: GroupCommit[Sent, None] = GroupCommit("outbox-sent", self._sent_batch)

    def start(self) -> None:
        self._creates.start()
        self._sents.start()
        self._task = asyncio.create_task(self._sweep(), name="outbox")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self._creates.stop()
        await self._sents.stop()

    async def _publish(self, events: list[event_pb2.Event]) -> None:
        for event in events:
            await self.bus.publish(event)

    async def _write(self, fn: Callable[..., Awaitable[list[event_pb2.Event]]], *args: Any) -> None:
        """One transaction, then its events published, in commit (= event id) order."""
        await self._publish(await writer().run(fn, *args))

    async def _create_batch(self, requests: list[OutboundRequest]) -> list[Outbound]:
        outs, events = await writer().run(outbound.create_outbound, requests, now() + self.lease)
        await self._publish(events)
        return outs

    async def _sent_batch(self, items: list[Sent]) -> list[None]:
        await self._write(outbound.mark_sent, items)
        return [None] * len(items)

    # -- API ------------------------------------------------------------------------------

    async def send(
        self, tenant_id: str, request: messaging_service_pb2.SendMessageRequest
    ) -> message_pb2.Message:
        kind = check_request(request)
        ch = self.tenants.tenant_channel(tenant_id, request.channel_id)
        check_recipient(request.to, ch.provider.capabilities)
        msg = M.Message()
        getattr(msg, kind).CopyFrom(getattr(request, kind))
        if request.reply_to:
            msg.context.reply_to_id = request.reply_to
        msg = degrade_or_refuse(msg, ch.provider.capabilities)
        try:
            ch.provider.validate(OutboundMessage(to=request.to, message=msg))
        except UnsupportedContent as exc:
            raise InvalidArgument(str(exc)) from None
        await check_marketing(tenant_id, ch, request.to, msg)
        out = await self._creates.submit(
            OutboundRequest(
                tenant_id, ch.id, ch.provider.kind, request.to, msg, request.idempotency_key
            )
        )
        if out.created:
            await self._attempt(ch, out.stored)
        return out.message

    # -- attempts -------------------------------------------------------------------------

    async def _attempt(self, ch: ChannelRuntime, stored: StoredMessage) -> None:
        """One provider call; the stored message's status follows its outcome."""
        msg = stored.message
        if msg.id in self._inflight:
            return
        self._inflight.add(msg.id)
        try:
            await ch.limiter.acquire()
            try:
                with PROVIDER_CALL_SECONDS.labels(ch.provider.kind, "send").time():
                    result = await ch.provider.send(OutboundMessage(to=stored.to, message=msg))
            except SendError as exc:
                await self._failed(stored, exc)
            except UnsupportedContent as exc:
                await self._failed(stored, SendError(ErrorKind.PERMANENT, str(exc)))
            else:
                SENDS.labels(ch.provider.kind, "sent", "").inc()
                await self._sents.submit(
                    Sent(msg.id, result.provider_message_id, result.recipient_id)
                )
                msg.provider_message_id = result.provider_message_id
                if advances(msg.status, M.MESSAGE_STATUS_SENT):
                    msg.status = M.MESSAGE_STATUS_SENT
        finally:
            self._inflight.discard(msg.id)

    async def _failed(self, stored: StoredMessage, exc: SendError) -> None:
        msg = stored.message
        attempt = stored.attempts + 1
        extra = {
            "message_id": msg.id,
            "code": exc.code,
            "kind": str(exc.kind),
            "attempt": attempt,
            "error": str(exc)[:200],
        }
        if exc.retryable and attempt < self.max_attempts:
            delay = exc.retry_after or self.base_delay * 2 ** (attempt - 1)
            delay *= random.uniform(1.0, 1.2)  # jitter: retries from many sends spread out
            await repo.schedule_retry(msg.id, now() + timedelta(seconds=delay))
            SENDS.labels(msg.provider, "retrying", str(exc.kind)).inc()
            OUTBOX_RETRIES.labels(msg.provider).inc()
            log.warning("send failed, will retry", extra={**extra, "delay_s": round(delay, 2)})
            self._wakeup.set()
            return
        log.warning("send failed", extra=extra)
        SENDS.labels(msg.provider, "failed", str(exc.kind)).inc()
        error = provider_error(exc)
        await self._write(outbound.mark_failed, msg.id, error)
        msg.status = M.MESSAGE_STATUS_FAILED
        msg.errors.append(error)

    async def _sweep(self) -> None:
        """Every `SWEEP` seconds, on every replica: claim due sends and attempt them."""
        while True:
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout=SWEEP)
            except TimeoutError:
                pass
            self._wakeup.clear()
            try:
                at = now()
                due = await writer().run(outbound.claim_due, at, at + self.lease, 100, events=False)
                for stored in due:
                    ch = self.tenants.channel(stored.message.channel_id)
                    if ch is None or stored.message.id in self._inflight:
                        continue
                    task = asyncio.create_task(self._attempt(ch, stored))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
            except Exception:
                log.exception("outbox sweep failed")

    # -- non-message actions ----------------------------------------------------------

    async def mark_read(self, tenant_id: str, ident: str) -> None:
        row = await repo.get_message(tenant_id, ident)
        if row is None:
            raise NotFound(f"message '{ident}' not found")
        if row.direction != M.DIRECTION_INBOUND or not row.provider_message_id:
            raise InvalidArgument("only inbound messages can be marked read")
        ch = self.tenants.tenant_channel(tenant_id, row.channel_id)
        await ch.limiter.acquire()
        await _call(ch.provider.kind, "mark_read", ch.provider.mark_read(row.provider_message_id))

    async def send_typing(self, tenant_id: str, conversation_id: str, ident: str = "") -> str:
        """Show a typing indicator; returns the conversation's channel id."""
        conv = await repo.get_conversation(tenant_id, conversation_id)
        if conv is None:
            raise NotFound(f"conversation '{conversation_id}' not found")
        row = await (
            repo.get_message(tenant_id, ident)
            if ident
            else repo.last_inbound(tenant_id, conversation_id)
        )
        if row is None or not row.provider_message_id:
            raise InvalidArgument("no inbound message to show typing against")
        ch = self.tenants.tenant_channel(tenant_id, conv.channel_id)
        contact = await models.Contact.get(id=conv.contact_id)  # type: ignore[attr-defined]
        await ch.limiter.acquire()
        typing = ch.provider.send_typing(row.provider_message_id, contact.key)
        await _call(ch.provider.kind, "typing", typing)
        return conv.channel_id


async def _call(provider: str, operation: str, coro: Awaitable[None]) -> None:
    """Run a provider call, timed, turning its errors into API errors."""
    try:
        with PROVIDER_CALL_SECONDS.labels(provider, operation).time():
            await coro
    except UnsupportedContent as exc:
        raise FailedPrecondition(str(exc)) from None
    except SendError as exc:
        if exc.retryable:
            raise Unavailable(f"provider error {exc.code}: {exc}") from None
        raise FailedPrecondition(f"provider error {exc.code}: {exc}") from None
