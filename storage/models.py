"""tortoise-orm models. Schema changes go through versioned migrations in storage/migrations.

Models carry no docstrings: tortoise turns them into table comments.
Messages and statuses keep the normalized protobuf (`payload`) beside a few
queryable columns, so nothing downstream re-reads provider JSON.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from storage.inbox import PENDING


class Tenant(Model):
    id = fields.CharField(primary_key=True, max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "tenant"


class Channel(Model):
    id = fields.CharField(primary_key=True, max_length=128)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "wagate.Tenant", related_name="channels"
    )
    provider = fields.CharField(max_length=64)

    class Meta:
        table = "channel"


class Contact(Model):
    id = fields.CharField(primary_key=True, max_length=40)
    tenant_id = fields.CharField(max_length=64)
    channel_id = fields.CharField(max_length=128)
    # wa_id when known, else the BSUID: the identity we key conversations on.
    key = fields.CharField(max_length=300)
    wa_id = fields.CharField(max_length=64, default="")
    user_id = fields.CharField(max_length=300, default="")
    name = fields.CharField(max_length=256, default="")
    username = fields.CharField(max_length=256, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    # The user's choice about marketing messages ("stop" / "resume"), and when;
    # NULL while they never chose (raw inserts of the hot path do not name it).
    marketing_messages = fields.CharField(max_length=16, null=True)
    marketing_messages_at = fields.DatetimeField(null=True)

    class Meta:
        table = "contact"
        unique_together = (("channel_id", "key"),)


class Conversation(Model):
    seq = fields.BigIntField(primary_key=True)
    id = fields.CharField(max_length=40, unique=True)
    tenant_id = fields.CharField(max_length=64)
    channel_id = fields.CharField(max_length=128)
    contact: fields.ForeignKeyRelation[Contact] = fields.ForeignKeyField(
        "wagate.Contact", related_name="conversations"
    )
    last_message_at = fields.DatetimeField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "conversation"
        unique_together = (("channel_id", "contact_id"),)
        indexes = (("tenant_id", "last_message_at"),)


class Message(Model):
    seq = fields.BigIntField(primary_key=True)
    id = fields.CharField(max_length=40, unique=True)
    tenant_id = fields.CharField(max_length=64)
    channel_id = fields.CharField(max_length=128)
    conversation_id = fields.CharField(max_length=40, db_index=True)
    provider = fields.CharField(max_length=64)
    # NULL until an outbound message is accepted by the provider.
    provider_message_id = fields.CharField(max_length=256, null=True)
    direction = fields.SmallIntField()
    status = fields.SmallIntField()
    content_type = fields.CharField(max_length=32)
    idempotency_key = fields.CharField(max_length=256, null=True)
    payload = fields.BinaryField()
    # Outbox bookkeeping for outbound messages.
    to = fields.CharField(max_length=300, default="")
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "message"
        unique_together = (("channel_id", "provider_message_id"), ("tenant_id", "idempotency_key"))


# Every distinct status report, kept even before its message is known.
class StatusEvent(Model):
    id = fields.BigIntField(primary_key=True)
    channel_id = fields.CharField(max_length=128)
    provider_message_id = fields.CharField(max_length=256)
    status = fields.SmallIntField()
    payload = fields.BinaryField()
    applied = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "status_event"
        unique_together = (("channel_id", "provider_message_id", "status"),)


# Raw webhook deliveries, written before the provider gets its 200. Rows are
# inserted by storage.inbox with plain SQL (group commit); this model defines
# the schema and serves reads.
class WebhookInbox(Model):
    id = fields.BigIntField(primary_key=True)
    channel_id = fields.CharField(max_length=128)
    provider = fields.CharField(max_length=64)
    # SHA-256 of the raw body: a redelivered webhook is stored once.
    dedup_key = fields.CharField(max_length=64)
    body = fields.BinaryField()
    # The parsed wagate.v1.EventBatch, so the body is never parsed twice.
    events = fields.BinaryField()
    state = fields.CharField(max_length=16, default=PENDING, db_index=True)  # storage.inbox states
    error = fields.TextField(null=True)
    received_at = fields.DatetimeField()

    class Meta:
        table = "webhook_inbox"
        unique_together = (("channel_id", "dedup_key"),)


# Every published event: its id is the event id that streams resume from.
class EventLog(Model):
    id = fields.BigIntField(primary_key=True)
    tenant_id = fields.CharField(max_length=64)
    channel_id = fields.CharField(max_length=128)
    conversation_id = fields.CharField(max_length=40, default="")
    kind = fields.SmallIntField()
    payload = fields.BinaryField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "event_log"
        indexes = (("tenant_id", "id"),)


# The last known state of a QR-session engine, one row per configured session.
class Session(Model):
    id = fields.BigIntField(primary_key=True)
    tenant_id = fields.CharField(max_length=64)
    channel_id = fields.CharField(max_length=128)
    session_id = fields.CharField(max_length=128)
    # A SessionStatus name in lower snake case, e.g. "qr_generated".
    status = fields.CharField(max_length=32)
    message = fields.TextField(default="")
    qr = fields.TextField(default="")
    # PNG data URL of `qr`.
    qr_image = fields.TextField(default="")
    loading_percent = fields.IntField(default=0)
    # When the engine reported the state; older reports never overwrite newer ones.
    reported_at = fields.DatetimeField()
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "qr_session"
        unique_together = (("tenant_id", "session_id"),)
        indexes = (("tenant_id", "status"),)


# Bots (gateway.bots): one row per inbound message a bot chain ran on, so a
# replayed or duplicated message never runs the chain twice.
class BotRun(Model):
    id = fields.BigIntField(primary_key=True)
    tenant_id = fields.CharField(max_length=64)
    message_id = fields.CharField(max_length=40, unique=True)
    conversation_id = fields.CharField(max_length=40)
    state = fields.CharField(max_length=16, default="claimed")
    plugin = fields.CharField(max_length=128, default="")
    created_at = fields.DatetimeField()

    class Meta:
        table = "bot_run"


# A flow session per (conversation, flow); flow "@handoff" pauses the whole chain.
class BotSession(Model):
    id = fields.BigIntField(primary_key=True)
    tenant_id = fields.CharField(max_length=64)
    conversation_id = fields.CharField(max_length=40)
    flow = fields.CharField(max_length=128)
    node = fields.CharField(max_length=128, default="")
    status = fields.CharField(max_length=16)
    vars = fields.TextField(default="{}")
    updated_at = fields.DatetimeField()

    class Meta:
        table = "bot_session"
        unique_together = (("conversation_id", "flow"),)


# One row per AI call: token usage per tenant, daily limits, quotas.
class BotUsage(Model):
    id = fields.BigIntField(primary_key=True)
    tenant_id = fields.CharField(max_length=64)
    conversation_id = fields.CharField(max_length=40)
    provider = fields.CharField(max_length=32)
    model = fields.CharField(max_length=128)
    tokens_in = fields.IntField(default=0)
    tokens_out = fields.IntField(default=0)
    created_at = fields.DatetimeField()

    class Meta:
        table = "bot_usage"
        indexes = (("tenant_id", "created_at"), ("conversation_id", "created_at"))


# A turn sent to a remote bot (BotService.Connect) and not yet settled: whichever replica
# the bot is connected to sends it, its reply is stored here, the chain's replica acts on it
# (while it holds the row: `held_until`; after that, any replica does).
class BotDelivery(Model):
    id = fields.BigIntField(primary_key=True)
    tenant_id = fields.CharField(max_length=64)
    bot = fields.CharField(max_length=128)
    delivery_id = fields.CharField(max_length=40)
    conversation_id = fields.CharField(max_length=40)
    payload = fields.BinaryField()
    state = fields.CharField(max_length=16, default="pending")
    attempt = fields.IntField(default=0)
    reply = fields.BinaryField(null=True)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    held_until = fields.DatetimeField()

    class Meta:
        table = "bot_delivery"
        unique_together = (("tenant_id", "bot", "delivery_id"),)
        indexes = (("tenant_id", "bot", "state"), ("state", "held_until"))


# A connected remote bot stream, on any replica; kept while its lease is renewed.
class BotStream(Model):
    id = fields.BigIntField(primary_key=True)
    stream_id = fields.CharField(max_length=40, unique=True)
    tenant_id = fields.CharField(max_length=64)
    name = fields.CharField(max_length=128)
    priority = fields.IntField(default=0)
    channels = fields.TextField(default="[]")
    connected_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()

    class Meta:
        table = "bot_stream"


# An edit or revoke of a message (an Event), kept until its message is stored.
class MessageChange(Model):
    id = fields.BigIntField(primary_key=True)
    channel_id = fields.CharField(max_length=128)
    provider_message_id = fields.CharField(max_length=256)
    change_id = fields.CharField(max_length=256)
    payload = fields.BinaryField()
    applied = fields.BooleanField(default=False)
    created_at = fields.DatetimeField()

    class Meta:
        table = "message_change"
        unique_together = (("channel_id", "change_id"),)
        indexes = (("channel_id", "provider_message_id"),)


# The provider's message templates as its webhooks last described them.
class Template(Model):
    id = fields.BigIntField(primary_key=True)
    tenant_id = fields.CharField(max_length=64)
    account_id = fields.CharField(max_length=64)
    template_id = fields.CharField(max_length=64)
    name = fields.CharField(max_length=512)
    language = fields.CharField(max_length=16)
    category = fields.CharField(max_length=32, default="")
    status = fields.CharField(max_length=32, default="")
    quality = fields.CharField(max_length=32, default="")
    updated_at = fields.DatetimeField()

    class Meta:
        table = "message_template"
        unique_together = (("tenant_id", "account_id", "template_id"),)
        indexes = (("tenant_id", "name", "language"),)


# The admin API's runtime configuration (gateway/admin): tenants, keys, channels and bot
# chains created at run time, beside the config file's. Secrets are sealed (AES-GCM) and
# keys hashed; `version` is the config version of the tenant's last change, so a replica
# that missed announcements catches up on `version > what it applied`.
class AdminTenant(Model):
    id = fields.CharField(primary_key=True, max_length=64)
    created_at = fields.DatetimeField()
    # Set when the tenant is deleted: the row stays so that replicas see the deletion and
    # the id (whose history is kept) is not handed to another tenant.
    deleted_at = fields.DatetimeField(null=True)
    version = fields.BigIntField(default=0)
    # The bot chain as the config file's `bots:` list, JSON, sealed whole ("" for none).
    bots = fields.TextField(default="")
    timezone = fields.CharField(max_length=64, default="UTC")

    class Meta:
        table = "admin_tenant"
        indexes = (("version",),)


class AdminApiKey(Model):
    id = fields.CharField(primary_key=True, max_length=40)
    tenant_id = fields.CharField(max_length=64)
    # SHA-256 of the key, hex: the key itself is shown once and never stored.
    key_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "admin_api_key"
        indexes = (("tenant_id",),)


class AdminChannel(Model):
    id = fields.CharField(primary_key=True, max_length=128)
    tenant_id = fields.CharField(max_length=64)
    provider = fields.CharField(max_length=64)
    # The provider's routing key (phone number id, session id), unique per provider.
    route = fields.CharField(max_length=256, null=True)
    # The channel object as JSON; secret values sealed one by one.
    config = fields.TextField()
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "admin_channel"
        unique_together = (("provider", "route"),)
        indexes = (("tenant_id",),)


# One row: the config version, bumped (and row-locked) by every admin change.
class AdminVersion(Model):
    id = fields.IntField(primary_key=True)
    version = fields.BigIntField(default=0)

    class Meta:
        table = "admin_version"


class AdminAudit(Model):
    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField()
    # The admin key's id (a prefix of its hash), never the key.
    actor = fields.CharField(max_length=64)
    action = fields.CharField(max_length=64)
    tenant_id = fields.CharField(max_length=64)
    target = fields.CharField(max_length=256, default="")
    # JSON, secrets masked.
    details = fields.TextField(default="{}")

    class Meta:
        table = "admin_audit"
        indexes = (("tenant_id", "id"),)
