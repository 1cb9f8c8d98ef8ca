"""REST bodies read in the proto3 JSON mapping, with errors a caller can act on.

protobuf's parser reports a string where an object belongs as `Message type
"wagate.v1.TextContent" has no field named "h"` (it walks the string's letters):
the body's shape is checked against the message first, naming the field (as
`text` or `interactive.list.sections[0]`); the parser then checks the values.
"""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from core.errors import InvalidArgument

P = TypeVar("P", bound=Message)

# Well-known types have JSON forms of their own (a Timestamp is a string).
_WELL_KNOWN = "google.protobuf."


def parse_json(body: bytes, message: P) -> P:
    """`body` parsed into `message`; InvalidArgument naming the field when it isn't one."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidArgument(f"malformed JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidArgument(f"the body must be a JSON object, not {_kind(data)}")
    _check_shape(data, message.DESCRIPTOR, "")
    try:
        json_format.ParseDict(data, message)
    except json_format.ParseError as exc:
        raise InvalidArgument(str(exc)) from None
    return message


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number"
    )


def _check_shape(data: dict[str, Any], descriptor: Any, path: str) -> None:
    """Objects where the message has a message field, lists where it has a repeated one."""
    fields = {f.json_name: f for f in descriptor.fields} | {f.name: f for f in descriptor.fields}
    for key, value in data.items():
        where = f"{path}{key}"
        field = fields.get(key)
        if field is None:
            raise InvalidArgument(f"unknown field '{where}'")
        if value is None:
            continue
        if field.is_repeated and not _is_map(field):
            if not isinstance(value, list):
                raise InvalidArgument(f"{where} must be a list, not {_kind(value)}")
            for i, item in enumerate(value):
                _check_value(item, field, f"{where}[{i}]")
        else:
            _check_value(value, field, where)


def _check_value(value: Any, field: FieldDescriptor, where: str) -> None:
    if field.type != FieldDescriptor.TYPE_MESSAGE or _is_map(field):
        return
    message_type = field.message_type
    if message_type is None or message_type.full_name.startswith(_WELL_KNOWN):
        return
    if not isinstance(value, dict):
        raise InvalidArgument(f"{where} must be an object, not {_kind(value)}")
    _check_shape(value, message_type, f"{where}.")


def _is_map(field: FieldDescriptor) -> bool:
    entry = field.message_type
    return entry is not None and entry.GetOptions().map_entry
