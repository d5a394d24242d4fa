"""Local users' password hashing (no services). The user store itself, which lives in Elasticsearch, is
tested on the real node in tests/integration/test_access_store.py."""

from __future__ import annotations

from archive.access.users import hash_password, needs_rehash, verify_password


def test_password_hash_is_salted_scrypt_with_parameters() -> None:
    a, b = hash_password("hemligt"), hash_password("hemligt")
    assert a != b and a.startswith("scrypt$131072$8$1$")  # OWASP: N=2^17, r=8, p=1
    assert verify_password("hemligt", a) and verify_password("hemligt", b)
    assert not verify_password("Hemligt", a)
    assert not verify_password("hemligt", "garbage") and not verify_password("hemligt", "md5$x$y$z$a$b")


def test_weaker_hashes_are_marked_for_rehashing() -> None:
    assert needs_rehash(hash_password("x", n=2**14)) and needs_rehash("garbage")
    assert not needs_rehash(hash_password("x"))
