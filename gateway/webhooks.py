"""Provider webhooks. A handler does four things only: authenticate, parse,
write durably, answer. Storage, fan-out and bots run after the ack (gateway.ingest).
"""

from __future__ import annotations

import functools
import hashlib
import logging
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, text

from core.errors import PayloadError, SignatureError, Unavailable
from core.metrics import WEBHOOKS
from gateway.rest import error_json, error_response
from gateway.runtime import Runtime
from gateway.tenants import ChannelRuntime
from providers.base import WebhookRequest
from providers.registry import provider_class, provider_for_webhook
from storage.inbox import RAW, UNPARSED, InboxRecord
from wagate.v1 import event_pb2

log = logging.getLogger("wagate.webhooks")

bp = Blueprint("webhooks", url_prefix="/webhooks")

# Seconds a provider is asked to wait before it retries a webhook refused with 503.
RETRY_AFTER_S = 5


def _runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.ctx.runtime
    return rt


@bp.get("/meta", name="meta_handshake")
@bp.get("/meta/<channel_id>", name="meta_handshake_channel")
async def meta_handshake(request: Request, channel_id: str | None = None) -> HTTPResponse:
    rt = _runtime(request)
    query = {k: v[0] for k, v in request.args.items()}
    candidates = (
        [rt.tenants.channel(channel_id)]
        if channel_id
        else [c for c in rt.tenants.channels.values() if c.provider.kind == "meta_cloud"]
    )
    for ch in candidates:
        if ch is not None and ch.provider.kind == "meta_cloud":
            challenge = ch.provider.handshake(query)
            if challenge is not None:
                return text(challenge)
    return text("forbidden", status=403)


@bp.post("/meta", name="meta_notify")
@bp.post("/meta/<channel_id>", name="meta_notify_channel")
async def meta_notify(request: Request, channel_id: str | None = None) -> HTTPResponse:
    return await receive(request, "meta_cloud", channel_id)


@bp.post("/<slug>/<key>", name="provider_notify")
async def provider_notify(request: Request, slug: str, key: str) -> HTTPResponse:
    """`POST /webhooks/<slug>/<key>` for every provider that declares a webhook slug
    (kapso: a channel id; qr: an engine session id). No provider is named here."""
    cls = provider_for_webhook(slug)
    if cls is None:
        return error_json(404, "not_found", f"no provider serves /webhooks/{slug}")
    if cls.webhook_key == "route":
        ch = _runtime(request).tenants.by_route(cls.kind, key)
        if ch is None:
            log.warning("webhook for unknown session", extra={"provider": cls.kind, "key": key})
            WEBHOOKS.labels(cls.kind, "unknown_channel").inc()
            return error_json(404, "not_found", f"unknown session '{key}'")
        key = ch.id
    return await receive(request, cls.kind, key)


async def receive(request: Request, kind: str, channel_id: str | None) -> HTTPResponse:
    """The shared webhook path for every provider kind."""
    rt = _runtime(request)
    if rt.ingest.over_bound():
        return _unavailable(kind, "backlog", "too many webhooks wait to be applied; retry later")
    req = WebhookRequest(body=request.body, headers=request.headers, query=request.args)
    try:
        if channel_id is not None:
            ch = rt.tenants.channel(channel_id)
            if ch is None or ch.provider.kind != kind:
                log.warning("webhook for unknown channel", extra={"channel_id": channel_id})
                WEBHOOKS.labels(kind, "unknown_channel").inc()
                return error_json(404, "not_found", f"unknown channel '{channel_id}'")
            ch.provider.authenticate(req)
            payload = ch.provider.decode(req.body)
            targets = [ch]
            accounts = ch.provider.account_keys(payload)
            owners = {ch.id: (ch, accounts)} if accounts else {}
        else:
            cls = provider_class(kind)
            payload = cls.decode(req.body)
            targets, unknown = _route(rt, kind, cls.route_keys(payload))
            candidates, unknown_accounts = _account_candidates(rt, kind, cls.account_keys(payload))
            unknown += unknown_accounts
            if unknown:
                log.warning(
                    "webhook for unknown account",
                    extra={"provider": kind, "route_keys": unknown},
                )
            if not targets and not candidates:
                WEBHOOKS.labels(kind, "unknown_channel").inc()
                return error_json(
                    404, "not_found", f"no channel for {', '.join(unknown) or 'payload'}"
                )
            for ch in targets:
                ch.provider.authenticate(req)
            owners = _account_owners(candidates, req)
    except SignatureError as exc:
        WEBHOOKS.labels(kind, "bad_signature").inc()
        return error_json(exc.http_status, exc.code, str(exc))
    except PayloadError as exc:
        WEBHOOKS.labels(kind, "bad_payload").inc()
        return error_json(exc.http_status, exc.code, str(exc))

    channels = [*targets, *(ch for ch, _ in owners.values())]
    request.ctx.tenant_id = ",".join(sorted({ch.tenant_id for ch in channels}))
    records = []
    for ch in targets:
        dedup_key = ch.provider.dedup_key(req)
        try:
            if ch.provider.parse_after_ack:
                ch.provider.check(payload)
                records.append(InboxRecord(ch.id, kind, dedup_key, req.body, b"", state=RAW))
                continue
            events = ch.provider.parse(req, payload)
            record = InboxRecord(ch.id, kind, dedup_key, req.body, _batch(events))
        except PayloadError as exc:
            WEBHOOKS.labels(kind, "bad_payload").inc()
            return error_json(exc.http_status, exc.code, str(exc))
        except Exception:
            # Our parser's bug, not the provider's fault: keep the body for replay, ack.
            log.exception("parser failed; stored unparsed", extra={"channel_id": ch.id})
            record = InboxRecord(ch.id, kind, dedup_key, req.body, b"", state=UNPARSED)
        records.append(record)
    for ch, accounts in owners.values():
        records.append(_account_record(ch, kind, req, payload, accounts))
    try:
        await rt.ingest.accept(records)
    except Exception as exc:  # the database is unreachable (or failing): nothing was recorded
        log.warning("webhook not recorded", extra={"provider": kind, "error": type(exc).__name__})
        return _unavailable(kind, "unrecorded", "the webhook could not be recorded; retry later")
    _accepted(kind).inc()
    return text("OK")


def _unavailable(kind: str, outcome: str, message: str) -> HTTPResponse:
    """503 with Retry-After: the provider keeps the delivery and sends it again."""
    WEBHOOKS.labels(kind, outcome).inc()
    answer = error_response(Unavailable(message))
    answer.headers["Retry-After"] = str(RETRY_AFTER_S)
    return answer


def _account_candidates(
    rt: Runtime, kind: str, accounts: list[str]
) -> tuple[dict[str, list[ChannelRuntime]], list[str]]:
    """Per business account addressed as a whole, the channels that may own it."""
    found: dict[str, list[ChannelRuntime]] = {}
    unknown: list[str] = []
    for account in accounts:
        channels = rt.tenants.by_account(kind, account)
        if channels:
            found[account] = channels
        else:
            unknown.append(account)
    return found, unknown


def _account_owners(
    candidates: dict[str, list[ChannelRuntime]], req: WebhookRequest
) -> dict[str, tuple[ChannelRuntime, list[str]]]:
    """For each account, the channels whose secret signed the delivery; one channel
    per tenant records it (the first by id), so each tenant stores it once.
    SignatureError when an account's candidates include none that signed it."""
    owners: dict[str, tuple[ChannelRuntime, list[str]]] = {}
    for account, channels in candidates.items():
        signed = [ch for ch in channels if _signed(ch, req)]
        if not signed:
            raise SignatureError(f"signature matches no channel of account {account}")
        by_tenant: dict[str, ChannelRuntime] = {}
        for ch in sorted(signed, key=lambda c: c.id):
            by_tenant.setdefault(ch.tenant_id, ch)
        for ch in by_tenant.values():
            owners.setdefault(ch.id, (ch, []))[1].append(account)
    return owners


def _signed(ch: ChannelRuntime, req: WebhookRequest) -> bool:
    try:
        ch.provider.authenticate(req)  # each check is constant-time (hmac.compare_digest)
    except SignatureError:
        return False
    return True


def _account_record(
    ch: ChannelRuntime, kind: str, req: WebhookRequest, payload: object, accounts: list[str]
) -> InboxRecord:
    """The account-level part of a delivery, parsed before the ack, with a dedup key of
    its own (the same body may also be a per-number record of this channel)."""
    dedup_key = hashlib.sha256(b"account|" + ch.provider.dedup_key(req).encode()).hexdigest()
    try:
        events = ch.provider.account_events(payload, accounts)
    except Exception:
        log.exception("parser failed; stored unparsed", extra={"channel_id": ch.id})
        return InboxRecord(ch.id, kind, dedup_key, req.body, b"", state="unparsed")
    return InboxRecord(ch.id, kind, dedup_key, req.body, _batch(events))


@functools.cache
def _accepted(kind: str) -> Any:
    """The hot path's counter child, looked up once per provider kind."""
    return WEBHOOKS.labels(kind, "accepted")


def _route(rt: Runtime, kind: str, keys: list[str]) -> tuple[list[ChannelRuntime], list[str]]:
    targets, unknown = [], []
    for key in keys:
        ch = rt.tenants.by_route(kind, key)
        if ch is None:
            unknown.append(key)
        elif ch not in targets:
            targets.append(ch)
    return targets, unknown


def _batch(events: list[event_pb2.Event]) -> bytes:
    return event_pb2.EventBatch(events=events).SerializeToString()
