"""`GET /api/v1/messages/{id}/media`: a message's media bytes, fetched from its
provider with the channel's credentials, streamed to the client, bounded in size
and kept in a disk cache (gateway/media_cache.py). `POST /api/v1/media`: a file
uploaded to a channel's provider, to send as media by its id."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, file_stream, json

from core.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PayloadError,
    SendError,
    Unavailable,
    UnsupportedContent,
)
from gateway.media_cache import MediaCache
from gateway.rest import authenticated
from gateway.runtime import Runtime
from storage import repo

log = logging.getLogger("wagate.media")

bp = Blueprint("media", url_prefix="/api/v1")

MEDIA_KINDS = frozenset({"image", "audio", "video", "document", "sticker"})
# WhatsApp's largest media (documents) is 100 MB.
MAX_BYTES = 100 * 1024 * 1024
_CHUNK = 64 * 1024


def media_cache(request: Request) -> MediaCache:
    cache: MediaCache | None = getattr(request.app.ctx, "media_cache", None)
    if cache is None:
        settings = request.app.ctx.runtime.settings
        cache = MediaCache(settings.media_cache_dir, settings.media_cache_mb * 1024 * 1024)
        request.app.ctx.media_cache = cache
    return cache


@bp.get("/messages/<id>/media")
@authenticated
async def message_media(request: Request, rt: Runtime, tenant_id: str, id: str) -> Any:
    """`id`: the gateway id or the provider message id (the contract's `{id}`)."""
    ident = id
    row = await repo.get_message(tenant_id, ident)
    if row is None:
        raise NotFound(f"message '{ident[:80]}' not found")
    msg = repo.message_proto(row)
    kind = msg.WhichOneof("content")
    if kind not in MEDIA_KINDS:
        raise NotFound(f"message '{ident[:80]}' has no media")
    cache = media_cache(request)
    hit = cache.get(tenant_id, msg.id)
    if hit is not None:
        return await file_stream(hit.path, mime_type=hit.content_type, headers=_private())
    channel = rt.tenants.channel(msg.channel_id)
    if channel is None or channel.tenant_id != tenant_id:
        raise NotFound(f"the channel of message '{ident[:80]}' is gone")
    media = getattr(msg, kind)
    try:
        source = await channel.provider.media_source(media)
    except UnsupportedContent as exc:
        raise NotFound(str(exc)) from None
    except (SendError, PayloadError) as exc:
        raise Unavailable(f"the provider did not give the media: {exc}") from None
    if not source.url:
        raise NotFound(f"message '{ident[:80]}' has no media to fetch")
    key = (tenant_id, msg.id)
    return await _relay(
        request, rt.http, source.url, dict(source.headers), media.mime_type, cache, key
    )


@bp.post("/media")
@authenticated
async def upload_media(request: Request, rt: Runtime, tenant_id: str) -> HTTPResponse:
    """Multipart `channelId` and `file` (within the gateway's request size limit)."""
    channel_id = (request.form.get("channelId") if request.form else None) or ""
    upload = request.files.get("file") if request.files else None
    if not channel_id or upload is None or not upload.body:
        raise InvalidArgument("expected multipart fields 'channelId' and 'file'")
    channel = rt.tenants.tenant_channel(tenant_id, channel_id)
    mime_type = upload.type or "application/octet-stream"
    try:
        media_id = await channel.provider.upload_media(upload.body, mime_type, upload.name)
    except UnsupportedContent as exc:
        raise FailedPrecondition(str(exc)) from None
    except (SendError, PayloadError) as exc:
        raise Unavailable(f"the provider did not take the file: {exc}") from None
    answer = {"id": media_id, "mimeType": mime_type, "filename": upload.name}
    return json(answer, status=201)


def _private() -> dict[str, str]:
    return {"Cache-Control": "private, max-age=3600"}


async def _relay(
    request: Request,
    http: aiohttp.ClientSession,
    url: str,
    headers: dict[str, str],
    fallback_type: str,
    cache: MediaCache,
    key: tuple[str, str],
) -> HTTPResponse | None:
    """Stream the download to the client and into the cache at once."""
    timeout = aiohttp.ClientTimeout(total=120, sock_read=30)
    try:
        upstream = await http.get(url, headers=headers, timeout=timeout, allow_redirects=True)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise Unavailable(f"media download failed: {type(exc).__name__}") from None
    async with upstream:
        if upstream.status != 200:
            raise Unavailable(f"media download answered HTTP {upstream.status}")
        if (upstream.content_length or 0) > MAX_BYTES:
            raise FailedPrecondition(f"media is larger than {MAX_BYTES // 2**20} MB")
        content_type = upstream.headers.get("Content-Type") or fallback_type
        content_type = content_type or "application/octet-stream"
        response = await request.respond(content_type=content_type, headers=_private())
        part = cache.writer()
        size, complete = 0, False
        try:
            async for chunk in upstream.content.iter_chunked(_CHUNK):
                size += len(chunk)
                if size > MAX_BYTES:  # no Content-Length said so: cut off here
                    log.warning("media over the size bound cut off", extra={"message_id": key[1]})
                    break
                part.write(chunk)
                await response.send(chunk)
            else:
                complete = True
        finally:
            part.close()
            if not complete:  # cut off, or the client went away
                cache.discard(part.name)
        if complete:
            await response.eof()
            cache.put(*key, part.name, content_type)
    return None
