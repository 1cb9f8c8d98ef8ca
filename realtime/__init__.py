"""Realtime fan-out: the Socket.IO server, its tokens and rooms, and the event-stream hub
that gRPC `StreamEvents` and resuming clients read. Events reach it from the bus after
commit; docs/realtime.md describes the protocol.
"""
