"""The REST API as an OpenAPI 3.0 document (served at `GET /openapi.json`).

Bodies that are protobuf messages in their JSON mapping (a send request, a
`Message`, a `Conversation`) get schemas generated from the message descriptors, so
they cannot drift from the proto; the rest are written out here. A test checks that
every route registered on the app is in `PATHS`.

Format: https://spec.openapis.org/oas/v3.0.3
"""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor import FieldDescriptor

from gateway.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from wagate.v1 import event_service_pb2, message_pb2, messaging_service_pb2

Schema = dict[str, Any]

VERSION = "3.0.3"
_PROTO_PACKAGE = "wagate.v1."

# -- schemas from protobuf descriptors (the proto3 JSON mapping) -----------------------

_SCALARS: dict[int, Schema] = {
    FieldDescriptor.TYPE_DOUBLE: {"type": "number", "format": "double"},
    FieldDescriptor.TYPE_FLOAT: {"type": "number", "format": "float"},
    FieldDescriptor.TYPE_INT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_SINT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_SFIXED32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_UINT32: {"type": "integer", "format": "int64", "minimum": 0},
    FieldDescriptor.TYPE_FIXED32: {"type": "integer", "format": "int64", "minimum": 0},
    # 64-bit integers are JSON strings in the proto3 mapping.
    FieldDescriptor.TYPE_INT64: {"type": "string", "format": "int64"},
    FieldDescriptor.TYPE_SINT64: {"type": "string", "format": "int64"},
    FieldDescriptor.TYPE_SFIXED64: {"type": "string", "format": "int64"},
    FieldDescriptor.TYPE_UINT64: {"type": "string", "format": "uint64"},
    FieldDescriptor.TYPE_FIXED64: {"type": "string", "format": "uint64"},
    FieldDescriptor.TYPE_BOOL: {"type": "boolean"},
    FieldDescriptor.TYPE_STRING: {"type": "string"},
    FieldDescriptor.TYPE_BYTES: {"type": "string", "format": "byte"},
}
_WELL_KNOWN: dict[str, Schema] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "example": "1.5s"},
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.Value": {},
    "google.protobuf.Empty": {"type": "object"},
}


def _name(full_name: str) -> str:
    return full_name.removeprefix(_PROTO_PACKAGE)


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


class _ProtoSchemas:
    """Component schemas for messages and enums, each generated once, by name."""

    def __init__(self) -> None:
        self.schemas: dict[str, Schema] = {}

    def message(self, desc: Any) -> Schema:
        """A `$ref` to the schema of message descriptor `desc` (inline for well-known types)."""
        if desc.full_name in _WELL_KNOWN:
            return dict(_WELL_KNOWN[desc.full_name])
        name = _name(desc.full_name)
        if name not in self.schemas:
            self.schemas[name] = {}  # placeholder: messages may refer to themselves
            props = {f.json_name: self._field(f) for f in desc.fields}
            schema: Schema = {"type": "object", "properties": props}
            oneofs = [o for o in desc.oneofs if not o.name.startswith("_")]
            if oneofs:
                schema["description"] = " ".join(
                    f"At most one of {', '.join(f.json_name for f in o.fields)} (`{o.name}`)."
                    for o in oneofs
                )
            self.schemas[name] = schema
        return _ref(name)

    def _enum(self, desc: Any) -> Schema:
        name = _name(desc.full_name)
        if name not in self.schemas:
            self.schemas[name] = {"type": "string", "enum": [v.name for v in desc.values]}
        return _ref(name)

    def _single(self, field: FieldDescriptor) -> Schema:
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            return self.message(field.message_type)
        if field.type == FieldDescriptor.TYPE_ENUM:
            return self._enum(field.enum_type)
        return dict(_SCALARS[field.type])

    def _field(self, field: FieldDescriptor) -> Schema:
        entry = field.message_type
        if entry is not None and entry.GetOptions().map_entry:
            value = entry.fields_by_name["value"]
            return {"type": "object", "additionalProperties": self._single(value)}
        if field.is_repeated:
            return {"type": "array", "items": self._single(field)}
        return self._single(field)


# -- hand-written schemas -------------------------------------------------------------

_ERROR: Schema = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {
                    "type": "string",
                    "description": "Stable, machine-readable: invalid_argument, unauthenticated, "
                    "permission_denied, not_found, conflict, failed_precondition, unavailable, "
                    "invalid_signature, invalid_payload, internal.",
                    "example": "invalid_argument",
                },
                "message": {
                    "type": "string",
                    "description": "For people: names the field or thing at fault.",
                    "example": "channelId is required",
                },
            },
        }
    },
}
_SESSION_STATUS = [
    "qr_generated",
    "connecting",
    "loading",
    "session_connected",
    "session_not_connected",
    "auth_failure",
    "error",
]
_NULLABLE_STRING: Schema = {"type": "string", "nullable": True}
_SESSION: Schema = {
    "type": "object",
    "properties": {
        "sessionId": {"type": "string"},
        "channelId": {"type": "string"},
        "status": {"type": "string", "enum": _SESSION_STATUS},
        "message": {"type": "string"},
        "qr": {**_NULLABLE_STRING, "description": "The QR code text, while one is to be scanned"},
        "qrImage": {**_NULLABLE_STRING, "description": "The QR code as a PNG data URL"},
        "isConnected": {"type": "boolean"},
        "needsQR": {"type": "boolean"},
        "isLoading": {"type": "boolean"},
        "hasError": {"type": "boolean"},
        "loadingPercent": {"type": "integer"},
        "createdAt": {**_NULLABLE_STRING, "format": "date-time"},
        "updatedAt": {**_NULLABLE_STRING, "format": "date-time"},
    },
}
_SESSION_SUMMARY: Schema = {
    "type": "object",
    "properties": {
        k: {"type": "integer"}
        for k in ("connected", "disconnected", "loading", "needsQR", "error", "total")
    },
}
_HAND_WRITTEN: dict[str, Schema] = {
    "Error": _ERROR,
    "Session": _SESSION,
    "SessionList": {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": _ref("Session")},
            "summary": _ref("SessionSummary"),
        },
    },
    "SessionSummary": _SESSION_SUMMARY,
    "ProviderPayload": {
        "type": "object",
        "additionalProperties": True,
        "description": "The provider's own webhook body, as it sends it (Meta Cloud API, "
        "Kapso, a WAHA-compatible engine); authenticated by its signature header.",
    },
}


def _page_of(item: Schema) -> Schema:
    return {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": item},
            "next_cursor": {
                **_NULLABLE_STRING,
                "description": "Pass as `?cursor=` for the next page; null on the last page.",
            },
        },
    }


# -- operations -----------------------------------------------------------------------

_ACTIONS: Schema = {"type": "string", "enum": ["start", "stop", "logout"]}
_SIMULATOR: dict[str, Schema] = {
    "SimulatorChannels": {
        "type": "object",
        "properties": {
            "channels": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "channelId": {"type": "string"},
                        "provider": {"type": "string"},
                        "sessionId": {"type": "string", "nullable": True},
                    },
                },
            }
        },
    },
    "SimulatedMessage": {
        "type": "object",
        "required": ["channelId", "from", "text"],
        "properties": {
            "channelId": {"type": "string"},
            "from": {"type": "string", "description": "The customer's phone number"},
            "name": {"type": "string", "description": "The customer's profile name"},
            "text": {"type": "string"},
        },
    },
}
# Per status: what it means, and an example of its envelope.
_ERRORS: dict[int, tuple[str, str, str]] = {
    400: (
        "The request is invalid; the message names the field",
        "invalid_argument",
        "text.body is longer than 4096 characters (4097)",
    ),
    401: (
        "Missing or unknown API key",
        "unauthenticated",
        "missing 'Authorization: Bearer <api key>'",
    ),
    403: (
        "The resource belongs to another tenant",
        "permission_denied",
        "channel 'globex-cloud' belongs to another tenant",
    ),
    404: ("Not found", "not_found", "conversation 'cv_123' not found"),
    409: (
        "The id or provider route is taken, or the tenant is the config file's",
        "conflict",
        "tenant 'acme' is managed by the config file; change it there",
    ),
    422: (
        "The request is valid but cannot be carried out now",
        "failed_precondition",
        "this channel cannot send templates and there is no fallback; send text instead",
    ),
    503: (
        "A dependency (database, bus, provider) is unavailable; retry later",
        "unavailable",
        "realtime is not available",
    ),
}


def _errors(*statuses: int) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for status in statuses:
        description, code, message = _ERRORS[status]
        example = {"error": {"code": code, "message": message}}
        media = {"schema": _ref("Error"), "example": example}
        answers[str(status)] = {"description": description, "content": {"application/json": media}}
    return answers


def _json(schema: Schema, description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _text(description: str, media: str = "text/plain") -> dict[str, Any]:
    return {"description": description, "content": {media: {"schema": {"type": "string"}}}}


def _path_param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


_AUTH: list[dict[str, list[str]]] = [{"apiKey": []}]
_PAGING = [
    {
        "name": "limit",
        "in": "query",
        "description": f"Page size (default {DEFAULT_PAGE_SIZE})",
        "schema": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_PAGE_SIZE,
            "default": DEFAULT_PAGE_SIZE,
        },
    },
    {
        "name": "cursor",
        "in": "query",
        "description": "`next_cursor` of the previous page",
        "schema": {"type": "string"},
    },
]
_SIGNED_WEBHOOK = {
    "200": _text("Recorded durably; the provider may forget it"),
    **_errors(400, 404, 503),
    "401": {
        "description": "Missing or invalid signature",
        "content": {"application/json": {"schema": _ref("Error")}},
    },
}


def _operations(proto: _ProtoSchemas) -> dict[str, dict[str, Any]]:
    send_request = proto.message(messaging_service_pb2.SendMessageRequest.DESCRIPTOR)
    message = proto.message(message_pb2.Message.DESCRIPTOR)
    conversation = proto.message(message_pb2.Conversation.DESCRIPTOR)
    token_request = proto.message(event_service_pb2.CreateRealtimeTokenRequest.DESCRIPTOR)
    token_response = proto.message(event_service_pb2.CreateRealtimeTokenResponse.DESCRIPTOR)
    meta_handshake = {
        "tags": ["webhooks"],
        "summary": "Meta's subscription handshake",
        "parameters": [
            {"name": name, "in": "query", "schema": {"type": "string"}}
            for name in ("hub.mode", "hub.verify_token", "hub.challenge")
        ],
        "responses": {
            "200": _text("`hub.challenge`, exactly"),
            "403": _text("The verify token matches no Meta channel"),
        },
    }
    meta_notify = {
        "tags": ["webhooks"],
        "summary": "Meta Cloud API notifications (`X-Hub-Signature-256` required)",
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _ref("ProviderPayload")}},
        },
        "responses": _SIGNED_WEBHOOK,
    }
    channel = _path_param("channel_id", "A configured channel id")
    conversation_id = _path_param("conversation_id", "A conversation id (`cv_…`)")
    return {
        "/": {
            "get": {
                "tags": ["meta"],
                "summary": "Where to go from here: the API docs and the console",
                "responses": {"200": _json({"type": "object", "additionalProperties": True})},
            }
        },
        "/openapi.json": {
            "get": {
                "tags": ["meta"],
                "summary": "This document",
                "responses": {"200": _json({"type": "object"})},
            }
        },
        "/docs": {
            "get": {
                "tags": ["meta"],
                "summary": "A page to browse this document (works offline)",
                "responses": {"200": _text("HTML", "text/html")},
            }
        },
        "/docs/{asset}": {
            "get": {
                "tags": ["meta"],
                "summary": "The page's scripts and styles, served by the gateway itself",
                "parameters": [_path_param("asset", "A file name, e.g. swagger-ui.css")],
                "responses": {"200": _text("The file"), **_errors(404)},
            }
        },
        "/healthz": {
            "get": {
                "tags": ["operations"],
                "summary": "Liveness",
                "responses": {"200": _json({"type": "object", "example": {"status": "ok"}})},
            }
        },
        "/readyz": {
            "get": {
                "tags": ["operations"],
                "summary": "Readiness: the database and the bus are reachable",
                "responses": {
                    "200": _json(_ref("Readiness")),
                    "503": _json(_ref("Readiness"), "Not ready; `checks` says what failed"),
                },
            }
        },
        "/metrics": {
            "get": {
                "tags": ["operations"],
                "summary": "Prometheus metrics (text exposition format)",
                "responses": {"200": _text("Metrics", "text/plain; version=0.0.4")},
            }
        },
        "/webhooks/meta": {"get": meta_handshake, "post": meta_notify},
        "/webhooks/meta/{channel_id}": {
            "parameters": [channel],
            "get": meta_handshake,
            "post": meta_notify,
        },
        "/webhooks/{slug}/{key}": {
            "parameters": [
                _path_param("slug", "The provider's webhook name: kapso, qr, ..."),
                _path_param("key", "The channel id, or the provider's account id (QR session)"),
            ],
            "post": {
                "tags": ["webhooks"],
                "summary": "Webhooks of other providers (Kapso, QR-session engines, plugins)",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("ProviderPayload")}},
                },
                "responses": _SIGNED_WEBHOOK,
            },
        },
        "/api/v1/conversations": {
            "get": {
                "tags": ["history"],
                "summary": "The tenant's conversations, latest activity first",
                "security": _AUTH,
                "parameters": [
                    *_PAGING,
                    {
                        "name": "channel_id",
                        "in": "query",
                        "description": "Only this channel's",
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {"200": _json(_page_of(conversation)), **_errors(400, 401)},
            }
        },
        "/api/v1/conversations/{conversation_id}/messages": {
            "parameters": [conversation_id],
            "get": {
                "tags": ["history"],
                "summary": "A conversation's messages, newest first",
                "security": _AUTH,
                "parameters": _PAGING,
                "responses": {"200": _json(_page_of(message)), **_errors(400, 401, 404)},
            },
        },
        "/api/v1/conversations/{conversation_id}/release": {
            "parameters": [conversation_id],
            "post": {
                "tags": ["bots"],
                "summary": "Hand a conversation back to the bots after a handoff",
                "security": _AUTH,
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "released": {
                                    "type": "integer",
                                    "description": "Handoffs ended (0 when there was none)",
                                }
                            },
                        }
                    ),
                    **_errors(401, 404),
                },
            },
        },
        "/api/v1/messages": {
            "post": {
                "tags": ["messaging"],
                "summary": "Send a message (the same as gRPC SendMessage)",
                "description": "Checked against WhatsApp's limits before it is stored: text "
                "4096 characters, captions 1024, interactive body 1024, header and footer 60, "
                "1 to 3 reply buttons (titles 20), lists of at most 10 sections and 10 rows "
                "(row titles 24, descriptions 72). `to` is a phone number or wa_id (digits, "
                "optional leading +), a user id (`user.…`), or on QR channels a chat id "
                "(`…@c.us`, `…@g.us`). A repeated `idempotencyKey` returns the first result.",
                "security": _AUTH,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": send_request,
                            "example": {
                                "channelId": "acme-cloud",
                                "to": "+15551234567",
                                "text": {"body": "Hello"},
                            },
                        }
                    },
                },
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["message"],
                            "properties": {"message": message},
                        },
                        "Stored and attempted; `message.status` says how it went",
                    ),
                    **_errors(400, 401, 403, 404, 422, 503),
                },
            }
        },
        "/api/v1/realtime-tokens": {
            "post": {
                "tags": ["realtime"],
                "summary": "A short-lived token for a browser's Socket.IO connection",
                "security": _AUTH,
                "requestBody": {
                    "required": False,
                    "content": {"application/json": {"schema": token_request}},
                },
                "responses": {"201": _json(token_response, "Created"), **_errors(400, 401, 503)},
            }
        },
        "/api/v1/sessions": {
            "get": {
                "tags": ["sessions"],
                "summary": "The tenant's QR sessions and their summary",
                "security": _AUTH,
                "parameters": [
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"type": "string", "enum": _SESSION_STATUS},
                    }
                ],
                "responses": {"200": _json(_ref("SessionList")), **_errors(400, 401)},
            }
        },
        "/api/v1/sessions/{session_id}": {
            "parameters": [_path_param("session_id", "A configured QR session id")],
            "get": {
                "tags": ["sessions"],
                "summary": "One QR session's status",
                "security": _AUTH,
                "responses": {"200": _json(_ref("Session")), **_errors(401, 404)},
            },
        },
        "/api/v1/sessions/{session_id}/{action}": {
            "parameters": [
                _path_param("session_id", "A configured QR session id"),
                {**_path_param("action", "What to ask of the engine"), "schema": _ACTIONS},
            ],
            "post": {
                "tags": ["sessions"],
                "summary": "Start, stop or log out a QR session through its engine",
                "description": "The engine's WAHA-compatible API is called with the "
                "channel's `engine_api_key`; the states that follow arrive as "
                "`session:updated` events.",
                "security": _AUTH,
                "responses": {
                    "202": _json(
                        {
                            "type": "object",
                            "properties": {
                                "sessionId": {"type": "string"},
                                "action": {"type": "string"},
                            },
                        },
                        "Asked",
                    ),
                    **_errors(400, 401, 404, 503),
                },
            },
        },
        "/api/v1/messages/{id}/media": {
            "parameters": [_path_param("id", "The gateway id or the provider message id")],
            "get": {
                "tags": ["history"],
                "summary": "The media of a message, fetched from its provider",
                "description": "Image, audio, video, document or sticker bytes with the "
                "provider's Content-Type (at most 100 MB), cached on disk.",
                "security": _AUTH,
                "responses": {
                    "200": _text("The media bytes", "application/octet-stream"),
                    **_errors(401, 404, 422, 503),
                },
            },
        },
        "/api/v1/media": {
            "post": {
                "tags": ["messaging"],
                "summary": "Upload a file to a channel's provider, to send as media by its id",
                "description": "Meta and Kapso channels; the file is within the gateway's "
                "request size limit (4 MB). Send it with `POST /api/v1/messages` and "
                '`{"image": {"id": ...}}` (or audio, video, document, sticker).',
                "security": _AUTH,
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["channelId", "file"],
                                "properties": {
                                    "channelId": {"type": "string"},
                                    "file": {"type": "string", "format": "binary"},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "201": _json(
                        {
                            "type": "object",
                            "properties": {
                                "id": {"type": "string"},
                                "mimeType": {"type": "string"},
                                "filename": {"type": "string"},
                            },
                        },
                        "Uploaded",
                    ),
                    **_errors(400, 401, 403, 404, 422, 503),
                },
            }
        },
        "/console": {
            "get": {
                "tags": ["meta"],
                "summary": "The web console (a single-page app, works offline)",
                "responses": {"200": _text("HTML", "text/html")},
            }
        },
        "/console/{asset}": {
            "get": {
                "tags": ["meta"],
                "summary": "The console's scripts and styles, served by the gateway itself",
                "parameters": [_path_param("asset", "A file name, e.g. console.js")],
                "responses": {"200": _text("The file"), **_errors(404)},
            }
        },
        "/api/v1/simulator": {
            "get": {
                "tags": ["simulator"],
                "summary": "The tenant's simulated channels (`simulator: true`, and the demo)",
                "security": _AUTH,
                "responses": {"200": _json(_ref("SimulatorChannels")), **_errors(401)},
            }
        },
        "/api/v1/simulator/messages": {
            "post": {
                "tags": ["simulator"],
                "summary": "A simulated customer writes: a signed provider webhook goes in",
                "security": _AUTH,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("SimulatedMessage")}},
                },
                "responses": {
                    "202": _json({"type": "object"}, "Posted to the webhook route"),
                    **_errors(400, 401, 404, 503),
                },
            }
        },
        "/api/v1/simulator/sessions/{session_id}/scan": {
            "parameters": [_path_param("session_id", "A simulated QR session id")],
            "post": {
                "tags": ["simulator"],
                "summary": "A simulated phone scans the QR: the session becomes ready",
                "security": _AUTH,
                "responses": {
                    "202": _json({"type": "object"}, "Scanned"),
                    **_errors(401, 404, 503),
                },
            },
        },
    }


# -- the admin API (gateway/admin, CONTRACT "Admin API") ----------------------------------

_ADMIN_AUTH: list[dict[str, list[str]]] = [{"adminKey": []}]
_ANY_OBJECT: Schema = {"type": "object", "additionalProperties": True}
_ADMIN_SCHEMAS: dict[str, Schema] = {
    "AdminTenant": {
        "type": "object",
        "properties": {
            "id": {"type": "string", "pattern": "^[a-z0-9-]+$"},
            "managedBy": {"type": "string", "enum": ["config", "api"]},
            "createdAt": {**_NULLABLE_STRING, "format": "date-time"},
            "channels": {"type": "array", "items": {"type": "string"}},
            "apiKeys": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "createdAt": {**_NULLABLE_STRING, "format": "date-time"},
                    },
                },
            },
        },
    },
    "AdminChannel": {
        **_ANY_OBJECT,
        "required": ["id", "provider"],
        "description": "Exactly a config-file channel: `id`, `provider` and the provider's "
        'keys. Reads show secrets as `"***"`.',
        "properties": {"id": {"type": "string"}, "provider": {"type": "string"}},
    },
    "AdminBots": {
        "type": "object",
        "properties": {"bots": {"type": "array", "items": _ANY_OBJECT}},
        "description": "The whole chain, exactly as the config file's `bots:` list.",
    },
    "AdminAuditEntry": {
        "type": "object",
        "properties": {
            k: {"type": "string"} for k in ("id", "at", "actor", "action", "tenantId", "target")
        }
        | {"details": _ANY_OBJECT},
    },
}


# What these statuses mean on an admin route, rather than on a tenant's.
_ADMIN_MEANING = {
    "401": "Missing or unknown admin key",
    "403": "A tenant API key: the admin API takes an admin key",
    "404": "No admin key is configured (the admin API is absent), or no such tenant, "
    "channel or key",
    "422": "WAGATE_SECRET_KEY is not set, so no secret can be stored",
}


def _admin(summary: str, ok: dict[str, Any], *errors: int, body: Schema | None = None) -> Schema:
    """One admin operation: 401, 403 (a tenant key) and 404 (no admin key set) always."""
    answers = _errors(*sorted({401, 403, 404, *errors}))
    for status, meaning in _ADMIN_MEANING.items():
        if status in answers:
            answers[status] = {**answers[status], "description": meaning}
    op: Schema = {
        "tags": ["admin"],
        "summary": summary,
        "security": _ADMIN_AUTH,
        "responses": {**ok, **answers},
    }
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return op


def _admin_operations() -> dict[str, dict[str, Any]]:
    tenant = _path_param("tenant_id", "A tenant id")
    channel = _path_param("channel_id", "A channel id")
    no_content = {"204": {"description": "Done"}}
    tenant_ok = {"200": _json(_ref("AdminTenant"))}
    channel_ok = {"200": _json(_ref("AdminChannel"))}
    created_channel = {"201": _json(_ref("AdminChannel"), "Created")}
    listing = _list_of("tenants", "AdminTenant")
    channels = _list_of("channels", "AdminChannel")
    audit = {
        "type": "object",
        "properties": {
            "entries": {"type": "array", "items": _ref("AdminAuditEntry")},
            "next": {**_NULLABLE_STRING, "description": "Pass as `?after=` for the next page"},
        },
    }
    new_tenant = {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}
    new_key = {
        "type": "object",
        "properties": {"id": {"type": "string"}, "key": {"type": "string"}},
        "description": "The key is shown this once; it is stored hashed.",
    }
    return {
        "/api/v1/admin/tenants": {
            "get": _admin(
                "Every tenant, from the config file and the admin API", _json_ok(listing)
            ),
            "post": _admin(
                "Create a tenant",
                {"201": _json(_ref("AdminTenant"), "Created")},
                400,
                409,
                422,
                body=new_tenant,
            ),
        },
        "/api/v1/admin/tenants/{tenant_id}": {
            "parameters": [tenant],
            "get": _admin("One tenant", tenant_ok),
            "delete": _admin("Delete a tenant: its keys stop working at once", no_content, 409),
        },
        "/api/v1/admin/tenants/{tenant_id}/api-keys": {
            "parameters": [tenant],
            "post": _admin("Create an API key", {"201": _json(new_key, "Created")}, 409),
        },
        "/api/v1/admin/tenants/{tenant_id}/api-keys/{key_id}": {
            "parameters": [tenant, _path_param("key_id", "An API key id")],
            "delete": _admin("Revoke an API key, on every replica", no_content, 409),
        },
        "/api/v1/admin/tenants/{tenant_id}/channels": {
            "parameters": [tenant],
            "get": _admin("The tenant's channels", _json_ok(channels)),
            "post": _admin(
                "Create a channel", created_channel, 400, 409, 422, body=_ref("AdminChannel")
            ),
        },
        "/api/v1/admin/tenants/{tenant_id}/channels/{channel_id}": {
            "parameters": [tenant, channel],
            "get": _admin("One channel", channel_ok),
            "patch": _admin(
                "Merge keys into a channel (null removes one)",
                channel_ok,
                400,
                409,
                422,
                body=_ANY_OBJECT,
            ),
            "delete": _admin("Delete a channel; its history stays readable", no_content, 409),
        },
        "/api/v1/admin/tenants/{tenant_id}/bots": {
            "parameters": [tenant],
            "get": _admin("The tenant's bot chain", _json_ok(_ref("AdminBots")), 409),
            "put": _admin(
                "Replace the bot chain",
                _json_ok(_ref("AdminBots")),
                400,
                409,
                422,
                body=_ref("AdminBots"),
            ),
        },
        "/api/v1/admin/audit": {
            "get": {
                **_admin("Who changed what and when (secrets masked)", _json_ok(audit), 400),
                "parameters": [
                    {"name": "tenant", "in": "query", "schema": {"type": "string"}},
                    {"name": "after", "in": "query", "schema": {"type": "string"}},
                    _PAGING[0],
                ],
            }
        },
    }


def _list_of(key: str, schema: str) -> Schema:
    return {"type": "object", "properties": {key: {"type": "array", "items": _ref(schema)}}}


def _json_ok(schema: Schema) -> dict[str, Any]:
    return {"200": _json(schema)}


def document(version: str) -> dict[str, Any]:
    """The whole document; `version` is wagate's."""
    proto = _ProtoSchemas()
    paths = {**_operations(proto), **_admin_operations()}
    schemas: dict[str, Schema] = {
        **_HAND_WRITTEN,
        **_SIMULATOR,
        **_ADMIN_SCHEMAS,
        "Readiness": {
            "type": "object",
            "properties": {
                "status": {"type": "string", "enum": ["ok", "unavailable"]},
                "checks": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
        **dict(sorted(proto.schemas.items())),
    }
    return {
        "openapi": VERSION,
        "info": {
            "title": "wagate",
            "version": version,
            "description": "Multi-tenant WhatsApp gateway. `/api/v1` routes take "
            "`Authorization: Bearer <tenant api key>` and see only that tenant's data. Errors "
            'are `{"error": {"code", "message"}}` with a 4xx or 5xx status.',
            "license": {"name": "Apache-2.0"},
        },
        "tags": [
            {"name": name}
            for name in (
                "messaging",
                "history",
                "sessions",
                "simulator",
                "realtime",
                "bots",
                "webhooks",
                "operations",
                "meta",
                "admin",
            )
        ],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "apiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A tenant API key from the config",
                },
                "adminKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An admin key (WAGATE_ADMIN_KEY or `admin_keys:`)",
                },
            },
        },
    }
