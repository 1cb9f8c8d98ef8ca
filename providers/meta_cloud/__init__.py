"""Meta WhatsApp Cloud API provider: Meta's webhooks in, the Graph API's `/messages` out
(https://developers.facebook.com/documentation/business-messaging/whatsapp/about-the-platform).

parse.py reads webhooks, send.py builds and posts send bodies, errors.py lists Meta's
error codes, testing.py is the contract kit. Kapso reuses the parsing and sending.
"""
