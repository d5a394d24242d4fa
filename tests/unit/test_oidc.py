"""Our OpenID Connect validator, refusing what it must: tokens signed here with keys made by the test.

Not a fake provider: these are the checks Communis makes of any provider's answer (archive/access/
oidc.py), each fed one thing wrong — state, nonce, audience, issuer, expiry, signature, key, `alg:
none`, an HMAC token signed with the public key, the implicit flow — beside a token that passes, so
a refusal is never a broken test setup. The real provider is tests/web/test_oidc_browser.py's Keycloak.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from archive.access.oidc import (
    PENDING_SECONDS,
    Expectations,
    Identity,
    KeySet,
    OidcSettings,
    Pending,
    ProviderRefused,
    SignOnFailed,
    check_callback,
    claim_values,
    pending_cookie_name,
    role_for,
    validate_id_token,
)
from archive.errors import ConfigError
from schemas import Role
from schemas.access import USER_NAME_PATTERN

ISSUER = "https://idp.sundsvik.example/realms/kommun"
CLIENT = "communis"
NONCE = "n-0S6_WzA2Mj"
EXPECT = Expectations(ISSUER, CLIENT, ["RS256"], leeway=60)


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


KEY, OTHER_KEY = _key(), _key()


def _jwks(*pairs: tuple[rsa.RSAPrivateKey, str]) -> KeySet:
    keys = []
    for private, kid in pairs:
        jwk = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
        keys.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
    # an encryption key beside them, as Keycloak publishes one: never used to verify
    enc = RSAAlgorithm.to_jwk(OTHER_KEY.public_key(), as_dict=True)
    keys.append({**enc, "kid": "enc-1", "use": "enc", "alg": "RSA-OAEP"})
    return KeySet.from_jwks({"keys": keys})


KEYS = _jwks((KEY, "sig-1"))


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": CLIENT,
        "sub": "5f0c7c1e-2b1a-4a57-9f57-0a4b1c2d3e4f",
        "iat": now,
        "exp": now + 300,
        "nonce": NONCE,
        "preferred_username": "arkivarie.anna",
        "groups": ["/archivists"],
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _token(
    claims: dict[str, Any] | None = None, *, key: Any = KEY, kid: str | None = "sig-1", alg: str = "RS256"
) -> str:
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(claims or _claims(), key, algorithm=alg, headers=headers)


def _part(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _unsigned(claims: dict[str, Any]) -> str:
    """`alg: none`, as an attacker would send it: a header, the claims and an empty signature."""
    return f"{_part({'alg': 'none', 'typ': 'JWT', 'kid': 'sig-1'})}.{_part(claims)}."


def _refused(token: str, match: str, *, keys: KeySet = KEYS, nonce: str | None = NONCE) -> None:
    with pytest.raises(SignOnFailed, match=match):
        validate_id_token(token, keys, EXPECT, nonce=nonce)


def test_a_token_signed_by_the_provider_for_us_passes() -> None:
    claims = validate_id_token(_token(), KEYS, EXPECT, nonce=NONCE)
    assert claims["sub"] == "5f0c7c1e-2b1a-4a57-9f57-0a4b1c2d3e4f"
    assert claim_values(claims, "groups") == ("/archivists",)


def test_a_token_with_another_nonce_is_refused() -> None:
    _refused(_token(_claims(nonce="another-sign-in")), "nonce does not match")
    _refused(_token(_claims(nonce=None)), "nonce does not match")


def test_a_token_for_another_client_is_refused() -> None:
    _refused(_token(_claims(aud="someone-else")), "not for this client")
    # several audiences: ours among them is not enough without azp naming us
    _refused(_token(_claims(aud=[CLIENT, "someone-else"])), "azp is not this client")
    assert validate_id_token(_token(_claims(aud=[CLIENT, "x"], azp=CLIENT)), KEYS, EXPECT, nonce=NONCE)


def test_an_expired_token_is_refused_beyond_the_leeway() -> None:
    now = int(time.time())
    _refused(_token(_claims(iat=now - 3600, exp=now - 61)), "has expired")
    # within the clock leeway it still passes (a provider's clock a few seconds ahead)
    assert validate_id_token(_token(_claims(iat=now - 3600, exp=now - 30)), KEYS, EXPECT, nonce=NONCE)


def test_an_unsigned_token_alg_none_is_refused() -> None:
    _refused(_unsigned(_claims()), r"unsigned \(alg none\)")


def test_an_hmac_token_keyed_with_the_public_key_is_refused() -> None:
    """The old `alg` confusion: HS256 with the provider's public key as the shared secret."""
    public_pem = KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = f"{_part({'alg': 'HS256', 'typ': 'JWT', 'kid': 'sig-1'})}.{_part(_claims())}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    _refused(forged, "HS256, not an allowed algorithm")


def test_a_token_from_another_issuer_is_refused() -> None:
    _refused(_token(_claims(iss="https://evil.example/realms/kommun")), "another issuer")


def test_a_token_signed_by_another_key_is_refused() -> None:
    _refused(_token(key=OTHER_KEY), "signature does not verify")  # the provider's kid, someone else's key
    _refused(_token(kid="unknown"), "key the provider does not publish")
    _refused(_token(kid="enc-1", key=OTHER_KEY), "key the provider does not publish")  # an encryption key


def test_a_token_without_a_key_id_uses_the_only_key() -> None:
    assert validate_id_token(_token(kid=None), KEYS, EXPECT, nonce=NONCE)
    two = _jwks((KEY, "sig-1"), (OTHER_KEY, "sig-2"))
    _refused(_token(kid=None), "key the provider does not publish", keys=two)


def test_a_token_lacking_required_claims_is_refused() -> None:
    _refused(_token(_claims(exp=None)), "lacks the exp claim")
    _refused(_token(_claims(sub=None)), "lacks the sub claim")
    _refused(_token(_claims(iat=None)), "lacks the iat claim")


def test_garbage_is_refused_in_one_line() -> None:
    _refused("not-a-jwt", "not a signed JWT")


def test_the_sign_out_hint_may_have_expired_but_must_still_be_ours() -> None:
    now = int(time.time())
    old = _token(_claims(iat=now - 86_400, exp=now - 80_000))
    claims = validate_id_token(old, KEYS, EXPECT, nonce=None, check_expiry=False)
    assert claims["sub"]
    with pytest.raises(SignOnFailed, match="signature"):
        validate_id_token(_token(key=OTHER_KEY), KEYS, EXPECT, nonce=None, check_expiry=False)


# --- the callback: state, the code flow only, the provider's refusal ----------------------------


def _pending(**changes: Any) -> Pending:
    made = Pending.new("http://127.0.0.1:8080/login/oidc/callback", "/records/abc")
    return Pending(**{**made.__dict__, **changes})


def test_a_callback_with_the_started_state_gives_its_code() -> None:
    pending = _pending()
    assert check_callback(pending, {"state": pending.state, "code": "the-code"}) == "the-code"


def test_a_callback_with_another_state_is_refused() -> None:
    pending = _pending()
    with pytest.raises(SignOnFailed, match="state does not match"):
        check_callback(pending, {"state": pending.state[:-1] + "x", "code": "c"})
    with pytest.raises(SignOnFailed, match="state does not match"):
        check_callback(pending, {"code": "c"})
    with pytest.raises(SignOnFailed, match="no sign-in was started"):
        check_callback(None, {"state": pending.state, "code": "c"})


def test_a_callback_after_ten_minutes_is_refused() -> None:
    pending = _pending()
    params = {"state": pending.state, "code": "c"}
    assert check_callback(pending, params, now=pending.started + PENDING_SECONDS - 1) == "c"
    with pytest.raises(SignOnFailed, match="longer than 10 minutes"):
        check_callback(pending, params, now=pending.started + PENDING_SECONDS + 1)


def test_the_implicit_flow_is_refused() -> None:
    pending = _pending()
    for token_param in ("id_token", "access_token", "token"):
        with pytest.raises(SignOnFailed, match="only the code flow"):
            check_callback(pending, {"state": pending.state, token_param: _token()})


def test_the_providers_refusal_is_said() -> None:
    pending = _pending()
    with pytest.raises(ProviderRefused, match="access_denied") as refused:
        check_callback(pending, {"state": pending.state, "error": "access_denied", "error_description": "nej"})
    assert refused.value.http_status == 403


def test_the_started_sign_in_survives_its_cookie_and_its_challenge_is_s256() -> None:
    pending = _pending()
    again = Pending.from_cookie(pending.cookie_value())
    assert again == pending
    assert Pending.from_cookie("bm90IGpzb24") is None and Pending.from_cookie(None) is None
    assert re.fullmatch(r"[A-Za-z0-9_-]{43,128}", pending.verifier)  # RFC 7636 §4.1
    digest = hashlib.sha256(pending.verifier.encode()).digest()
    assert pending.challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert pending.cookie_name == pending_cookie_name(pending.state) and re.fullmatch(
        r"communis_oidc_[A-Za-z0-9_-]{16}", pending.cookie_name
    )
    assert len({Pending.new("u", "/").state for _ in range(50)}) == 50


# --- roles and local names -------------------------------------------------------------------------

ROLE_MAP = {"/admins": Role.ADMIN, "/legal": Role.LEGAL, "/archivists": Role.ARCHIVIST}


def test_the_first_mapped_value_in_the_maps_order_wins() -> None:
    assert role_for(["/archivists", "/legal"], ROLE_MAP) is Role.LEGAL
    assert role_for(["/archivists"], ROLE_MAP) is Role.ARCHIVIST
    assert role_for(["/kitchen"], ROLE_MAP) is None
    assert role_for([], ROLE_MAP) is None


def test_claims_are_read_by_name_or_by_dotted_path() -> None:
    claims = {"roles": "archivist", "realm_access": {"roles": ["a", 1, "b"]}, "http://x/claims/role": ["r"]}
    assert claim_values(claims, "roles") == ("archivist",)
    assert claim_values(claims, "realm_access.roles") == ("a", "b")
    assert claim_values(claims, "http://x/claims/role") == ("r",)
    assert claim_values(claims, "missing.path") == ()


def test_local_names_are_readable_valid_and_bound_to_issuer_and_subject() -> None:
    anna = Identity(ISSUER, "sub-1", "Anna.Åkesson@Sundsvik.se", ("/archivists",), "t")
    assert re.fullmatch(r"anna\.akesson-sundsvik\.se\.[0-9a-f]{10}", anna.local_name())
    others = {
        Identity(ISSUER, "sub-2", anna.username, (), "t").local_name(),  # a second Anna
        Identity("https://other.example", "sub-1", anna.username, (), "t").local_name(),
        anna.local_name(),
    }
    assert len(others) == 3
    for username in ("", "---", "x" * 300, "管理者", "admin"):
        name = Identity(ISSUER, "s", username, (), "t").local_name()
        assert re.fullmatch(USER_NAME_PATTERN, name), name
        assert name != "admin"  # a provider's user can never be a local user's name
    assert anna.target == f"oidc sub=sub-1 iss={ISSUER}"


# --- settings ---------------------------------------------------------------------------------------

GOOD: dict[str, Any] = {"oidc_issuer": ISSUER, "oidc_client_id": CLIENT, "oidc_role_map": {"/archivists": "archivist"}}


def test_settings_read_the_role_map_in_order_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMMUNIS_OIDC_ISSUER", ISSUER)
    monkeypatch.setenv("COMMUNIS_OIDC_CLIENT_ID", CLIENT)
    monkeypatch.setenv("COMMUNIS_OIDC_ROLE_MAP", '{"/legal": "legal", "/archivists": "archivist"}')
    found = OidcSettings.load()
    assert list(found.oidc_role_map.items()) == [("/legal", Role.LEGAL), ("/archivists", Role.ARCHIVIST)]
    assert found.enabled and found.client_id == CLIENT


def test_settings_refuse_what_would_weaken_sign_in() -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"oidc_client_secret": "s3cret"}, "never kept in a file"),
        ({"oidc_algorithms": ["RS256", "HS256"]}, "only asymmetric"),
        ({"oidc_algorithms": ["none"]}, "only asymmetric"),
        ({"oidc_role_map": {}}, "oidc_role_map is required"),
        ({"oidc_client_id": None}, "oidc_client_id is required"),
        ({"oidc_scope": "profile"}, "must include openid"),
    ]
    for bad, match in cases:
        with pytest.raises(ValueError, match=match):
            OidcSettings(**{**GOOD, **bad})
    with pytest.raises(ConfigError, match="without TLS"):
        OidcSettings(**{**GOOD, "oidc_issuer": "http://idp.sundsvik.example/realms/kommun"})
    assert OidcSettings(**{**GOOD, "oidc_issuer": "http://localhost:8080/realms/kommun"}).enabled


def test_a_missing_client_secret_is_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = OidcSettings(**GOOD, oidc_client_secret_env="SSO_SECRET_FOR_TEST")
    monkeypatch.delenv("SSO_SECRET_FOR_TEST", raising=False)
    with pytest.raises(ConfigError, match="SSO_SECRET_FOR_TEST") as missing:
        settings.client_secret()
    assert "\n" not in missing.value.one_line()
    monkeypatch.setenv("SSO_SECRET_FOR_TEST", "hemligt-värde")
    assert settings.client_secret() == "hemligt-värde"


def test_the_secret_in_its_default_variable_is_read_and_one_in_the_config_file_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("COMMUNIS_OIDC_ISSUER", ISSUER)
    monkeypatch.setenv("COMMUNIS_OIDC_CLIENT_ID", CLIENT)
    monkeypatch.setenv("COMMUNIS_OIDC_ROLE_MAP", '{"/archivists": "archivist"}')
    monkeypatch.setenv("COMMUNIS_OIDC_CLIENT_SECRET", "från-miljön")
    config = tmp_path / "communis.toml"
    config.write_text('oidc_label = "Sundsviks kommun"\n')
    monkeypatch.setenv("COMMUNIS_CONFIG", str(config))
    found = OidcSettings.load()
    assert found.client_secret() == "från-miljön" and found.oidc_label == "Sundsviks kommun"
    config.write_text('oidc_client_secret = "i-en-fil"\n')
    with pytest.raises(ConfigError, match="never kept in a file") as refused:
        OidcSettings.load()
    assert "i-en-fil" not in refused.value.one_line()
