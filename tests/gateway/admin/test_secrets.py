"""SecretBox: sealed secrets open only with a key of WAGATE_SECRET_KEY and their own AAD."""

from __future__ import annotations

import base64

import pytest

from core.errors import ConfigError
from gateway.admin.secrets import SecretBox

AAD = "channel:acme/meta:app_secret"


def box(value: str) -> SecretBox:
    b = SecretBox.from_env(value)
    assert b is not None
    return b


def test_unset_or_blank_key_gives_no_box() -> None:
    assert SecretBox.from_env(None) is None
    assert SecretBox.from_env("") is None
    assert SecretBox.from_env(" , ") is None


def test_round_trip_and_format() -> None:
    b = box("correct horse battery staple")
    sealed = b.seal("s3cr3t-app-secret", AAD)
    version, key_id, _ = sealed.split(".")
    assert (version, key_id) == ("v1", b.key_id)
    assert len(key_id) == 8 and int(key_id, 16) >= 0
    assert "s3cr3t" not in sealed
    assert b.open(sealed, AAD) == "s3cr3t-app-secret"
    # A fresh random nonce per value: the same secret never seals to the same text.
    assert b.seal("s3cr3t-app-secret", AAD) != sealed
    assert b.open(b.seal("", AAD), AAD) == ""
    assert b.open(b.seal("ünïcødé ✓", AAD), AAD) == "ünïcødé ✓"


def test_same_key_string_same_key_on_every_replica() -> None:
    sealed = box("k1").seal("x", AAD)
    assert box(" k1 ").open(sealed, AAD) == "x"
    assert box("k1").key_id == box("k1").key_id != box("k2").key_id


def test_wrong_aad_fails() -> None:
    b = box("k1")
    sealed = b.seal("s3cr3t", AAD)
    for other in ("channel:acme/meta:access_token", "channel:other/meta:app_secret", ""):
        with pytest.raises(ConfigError) as err:
            b.open(sealed, other)
        assert "s3cr3t" not in str(err.value)


def test_unknown_key_id_names_the_ids() -> None:
    sealed = box("old").seal("s3cr3t", AAD)
    new = box("new")
    with pytest.raises(ConfigError, match=r"sealed with key [0-9a-f]{8}") as err:
        new.open(sealed, AAD)
    assert new.key_id in str(err.value)


def test_rotation_new_first_old_still_opens() -> None:
    old = box("old")
    sealed_old = old.seal("s3cr3t", AAD)
    rotated = box("new,old")
    assert rotated.key_id == box("new").key_id
    assert rotated.key_ids == [box("new").key_id, old.key_id]
    assert rotated.open(sealed_old, AAD) == "s3cr3t"
    resealed = rotated.seal("s3cr3t", AAD)
    assert resealed.split(".")[1] == rotated.key_id
    # Once every value is resealed, the old key can go.
    assert box("new").open(resealed, AAD) == "s3cr3t"
    with pytest.raises(ConfigError):
        box("new").open(sealed_old, AAD)


def test_tampering_fails() -> None:
    b = box("k1")
    sealed = b.seal("s3cr3t", AAD)
    version, key_id, body = sealed.split(".")
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    for i in (0, 12, len(raw) - 1):  # the nonce, the ciphertext, the tag
        flipped = bytearray(raw)
        flipped[i] ^= 1
        forged = base64.urlsafe_b64encode(bytes(flipped)).decode().rstrip("=")
        with pytest.raises(ConfigError, match="does not open"):
            b.open(f"{version}.{key_id}.{forged}", AAD)
    for bad in ("", "plain", "v2." + sealed[3:], f"v1.{key_id}.", f"v1.{key_id}.!!!", "v1.x.AAAA"):
        with pytest.raises(ConfigError):
            b.open(bad, AAD)
    # The same body relabelled to another key id of the box does not open either.
    two = box("k1,k2")
    with pytest.raises(ConfigError, match="does not open"):
        two.open(f"v1.{box('k2').key_id}.{body}", AAD)
