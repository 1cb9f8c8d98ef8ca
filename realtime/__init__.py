"""Realtime fan-out (Socket.IO). Built with the realtime issue; events reach it through gateway.bus."""
