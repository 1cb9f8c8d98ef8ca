"""The two-tenant gateway config most tests start from, its keys and how to sign for it."""

from __future__ import annotations

from typing import Any

from providers.signing import hmac_hex

ACME_KEY = "acme-test-key"
GLOBEX_KEY = "globex-test-key"
ACME_SECRET = "test-app-secret"
GLOBEX_SECRET = "globex-app-secret"
ACME_PHONE_ID = "109876543210001"
GLOBEX_PHONE_ID = "209876543210002"
ACCESS_TOKEN = "acme-access-token"


def meta_sign(body: bytes, secret: str = ACME_SECRET) -> dict[str, str]:
    return {
        "X-Hub-Signature-256": "sha256=" + hmac_hex(secret, body),
        "Content-Type": "application/json",
    }


def two_tenant_config(graph_url: str, **channel_extra: Any) -> dict[str, Any]:
    """Tenant acme (channel acme-meta) and tenant globex (channel globex-meta)."""
    return {
        "tenants": [
            {
                "id": "acme",
                "api_keys": [ACME_KEY],
                "channels": [
                    {
                        "id": "acme-meta",
                        "provider": "meta_cloud",
                        "phone_number_id": ACME_PHONE_ID,
                        "app_secret": ACME_SECRET,
                        "verify_token": "acme-verify",
                        "access_token": ACCESS_TOKEN,
                        "api_base_url": graph_url,
                        **channel_extra,
                    }
                ],
            },
            {
                "id": "globex",
                "api_keys": [GLOBEX_KEY],
                "channels": [
                    {
                        "id": "globex-meta",
                        "provider": "meta_cloud",
                        "phone_number_id": GLOBEX_PHONE_ID,
                        "app_secret": GLOBEX_SECRET,
                        "verify_token": "globex-verify",
                        "access_token": "globex-access-token",
                        "api_base_url": graph_url,
                    }
                ],
            },
        ]
    }


SIM_PHONE_ID = "309876543210003"
QR_SESSION = "acme-phone"
ENGINE_KEY = "acme-engine-key"


def simulated_channel() -> dict[str, Any]:
    """acme's simulated Meta channel (`simulator: true`): its customers are played."""
    return {
        "id": "acme-sim",
        "provider": "meta_cloud",
        "simulator": True,
        "phone_number_id": SIM_PHONE_ID,
        "app_secret": "sim-secret",
        "verify_token": "sim-verify",
        "access_token": "sim-token",
    }


def qr_channel(engine_url: str) -> dict[str, Any]:
    """acme's QR-session channel, its engine at `engine_url`."""
    return {
        "id": "acme-qr",
        "provider": "qr_session",
        "session_id": QR_SESSION,
        "engine_base_url": engine_url,
        "engine_api_key": ENGINE_KEY,
    }
