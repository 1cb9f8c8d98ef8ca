"""QR-session provider: whatsapp-web.js bridge and WAHA engines."""
