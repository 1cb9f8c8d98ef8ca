"""Realtime fan-out (Socket.IO), built with the realtime issue.

Events reach it through gateway.bus.
"""
