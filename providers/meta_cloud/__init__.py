"""Meta WhatsApp Cloud API provider."""
