"""The delivery-status state machine: statuses only move forward.

PENDING < SENT < DELIVERED < READ < PLAYED; FAILED is terminal and may follow
any non-failed status (Meta reports late failures after `sent`).
"""

from __future__ import annotations

from wagate.v1 import message_pb2 as m

_RANK: dict[int, int] = {
    m.MESSAGE_STATUS_UNSPECIFIED: 0,
    m.MESSAGE_STATUS_PENDING: 1,
    m.MESSAGE_STATUS_SENT: 2,
    m.MESSAGE_STATUS_DELIVERED: 3,
    m.MESSAGE_STATUS_READ: 4,
    m.MESSAGE_STATUS_PLAYED: 5,
}


def advances(current: int, new: int) -> bool:
    """Whether a message in `current` status may move to `new`."""
    if current == m.MESSAGE_STATUS_FAILED or new == current:
        return False
    if new == m.MESSAGE_STATUS_FAILED:
        return True
    return _RANK.get(new, 0) > _RANK.get(current, 0)


def status_name(status: int) -> str:
    """`MESSAGE_STATUS_READ` → `read`, as REST and Socket.IO show it."""
    return m.MessageStatus.Name(status).removeprefix("MESSAGE_STATUS_").lower()
