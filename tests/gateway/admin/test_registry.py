"""In-process and fast: admin keys in the config, and the live tenant registry's swaps."""

from __future__ import annotations

import pytest

from core.errors import ConfigError, NotFound, PermissionDenied, Unauthenticated
from gateway.admin.auth import AdminAuth, admin_key_id
from gateway.config import build_settings, channel_config
from gateway.tenants import Tenants, TenantSpec, key_digest


def meta(channel_id: str, phone: str, secret: str = "s") -> dict[str, str]:
    return {
        "id": channel_id,
        "provider": "meta_cloud",
        "phone_number_id": phone,
        "app_secret": secret,
        "verify_token": "v",
        "access_token": "t",
    }


def settings() -> Tenants:
    data = {"tenants": [{"id": "acme", "api_keys": ["acme-key"], "channels": [meta("a", "1")]}]}
    return Tenants(build_settings(data, {}))


def test_admin_keys_come_from_the_file_and_the_environment() -> None:
    s = build_settings({"admin_keys": ["from-file"]}, {"WAGATE_ADMIN_KEY": "from-env"})
    assert s.admin_keys == ("from-env", "from-file")
    assert {"from-env", "from-file"} <= s.secrets  # masked in logs
    assert build_settings({}, {}).admin_keys == ()
    for bad in ("key", [""], [1]):
        with pytest.raises(ConfigError, match=r"^admin_keys: expected a list of keys$"):
            build_settings({"admin_keys": bad}, {})
    s = build_settings({}, {"WAGATE_SECRET_KEY": "k1,k2"})
    assert s.secret_key == "k1,k2" and "k1,k2" in s.secrets
    assert "k1" not in repr(s)


def test_admin_auth() -> None:
    tenants = settings()
    auth = AdminAuth(["admin-one", "admin-two"], tenants.tenant_for_key)
    assert auth.authenticate("admin-two") == admin_key_id("admin-two")
    assert admin_key_id("admin-two").startswith("admin:") and "two" not in admin_key_id("admin-two")
    with pytest.raises(PermissionDenied):
        auth.authenticate("acme-key")
    for bad in (None, "", "admin-on", "admin-one "):
        with pytest.raises(Unauthenticated):
            auth.authenticate(bad)
    with pytest.raises(NotFound):
        AdminAuth([], tenants.tenant_for_key).authenticate("admin-one")


def test_a_tenant_is_swapped_in_whole_and_out() -> None:
    tenants = settings()
    acme = tenants.channel("a")
    assert acme is not None
    beta = TenantSpec(
        "beta", frozenset({key_digest("beta-key")}), (channel_config(meta("b", "2"), "", set()),)
    )
    tenants.put([beta])
    assert tenants.exists("beta") and tenants.tenant_for_key("beta-key") == "beta"
    b = tenants.by_route("meta_cloud", "2")
    assert b is not None and b.tenant_id == "beta" and tenants.channel("b") is b
    assert tenants.channel("a") is acme  # the others keep their runtime
    with pytest.raises(PermissionDenied):
        tenants.tenant_channel("acme", "b")

    # A changed secret: a new provider, the same rate limiter; the old object is intact.
    rotated = TenantSpec(
        "beta", beta.key_digests, (channel_config(meta("b", "2", "new"), "", set()),)
    )
    tenants.put([rotated])
    b2 = tenants.channel("b")
    assert b2 is not None and b2 is not b and b2.limiter is b.limiter
    assert b.provider.settings["app_secret"] == "s" and b2.provider.settings["app_secret"] == "new"
    tenants.put([rotated])
    assert tenants.channel("b") is b2  # nothing changed, nothing rebuilt

    tenants.remove("beta")
    assert not tenants.exists("beta") and tenants.channel("b") is None
    assert tenants.by_route("meta_cloud", "2") is None
    with pytest.raises(Unauthenticated):
        tenants.tenant_for_key("beta-key")
    with pytest.raises(NotFound):
        tenants.tenant_channel("beta", "b")
    assert tenants.tenant_for_key("acme-key") == "acme"
