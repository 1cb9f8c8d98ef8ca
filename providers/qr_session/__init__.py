"""QR-session provider: a WhatsApp Web session run by an engine, a whatsapp-web.js
bridge (https://wwebjs.dev) or WAHA (https://waha.devlike.pro), linked by scanning a QR
code. Webhooks in from either; sends out through a WAHA-compatible HTTP API.
"""
