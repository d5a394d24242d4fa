"""OpenID Connect sign-in: the authorization code flow with PKCE against any standard provider.

Staff sign in with the municipality's identity provider (Entra ID, ADFS, Keycloak …); Communis is
configured with the provider's issuer URL alone and learns everything else from its discovery
document. What is checked, and why:

- **Only the code flow.** The browser carries a one-time code, never a token: an answer that brings
  `id_token`, `access_token` or `token` to the callback (the implicit or hybrid flow) is refused.
  The code is bound to this browser by PKCE (S256): the verifier never leaves our server and the
  browser's own cookie, so a code that leaks (a log, a referrer) is worth nothing to anyone else.
- **state** ties the answer to a sign-in this browser started (no login CSRF), **nonce** ties the
  ID token to it (no replayed token); both are 256-bit random, compared in constant time, and a
  started sign-in lives 10 minutes.
- **The ID token** comes straight from the token endpoint over TLS and is still verified as if it
  came from anywhere: its signature with the provider's published keys (JWKS, fetched again when a
  token names a key we do not know: providers rotate keys), an asymmetric algorithm from the allowed
  list only (RS256 unless configured; `none` and HMAC are never accepted: HMAC would let anyone who
  knows the client secret mint tokens, and an `alg` confusion would verify with a public key as the
  secret), `iss` equal to the discovered issuer, `aud` containing our client id (and `azp` ours when
  there are several audiences), `exp` in the future and `iat` present (with a small clock leeway).
- **The client secret** is never in a file: the settings name the environment variable that holds it
  (`COMMUNIS_OIDC_CLIENT_SECRET` unless told), the secret is remembered for log redaction, and a
  config file that holds one is refused.
- **Roles** come from one claim (`groups` unless told; a dotted path such as `realm_access.roles`
  reaches into nested claims) through an ordered map of claim value → role: the first entry the user
  has wins, so the map lists the strongest role first. A user with no mapped value gets no role and
  is refused; nothing falls back to a default role.

Identities are the provider's (`iss`, `sub`): the only pair OIDC promises is stable and never reused.
Each becomes a local user (archive/access/oidc_signin.py) whose name is readable and cannot be
claimed by anyone else: the username claim, made safe, then 10 hex digits of a hash of issuer and
subject (`anna.svensson.3f9c0a1b2d`). A renamed provider account becomes a new local user; a local
user with a password is never taken over.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import jwt
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from schemas import Role

from .. import clock
from ..config import CommunisSettings, refuse_plaintext_credential
from ..errors import AccessError, AuthenticationFailed, ConfigError, ServiceError
from ..redact import remember_secret

DEFAULT_SECRET_ENV = "COMMUNIS_OIDC_CLIENT_SECRET"
#: A sign-in started but not finished within this many seconds is refused (the user starts again).
PENDING_SECONDS = 600
#: Signature algorithms that may be allowed: asymmetric only (HMAC would make the client secret a signing key).
ASYMMETRIC = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"})
#: How long the discovery document is trusted before it is read again.
METADATA_SECONDS = 3600
#: At most one JWKS fetch per this many seconds for unknown key ids (a token naming random kids must not
#: make us hammer the provider).
JWKS_REFETCH_SECONDS = 60
_ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"


class SignOnFailed(AuthenticationFailed):
    """The provider's answer could not be accepted (state, nonce, signature, issuer, audience, expiry …)."""


class ProviderRefused(SignOnFailed):
    """The provider itself said no (`error=access_denied`, a cancelled sign-in …)."""

    http_status = 403


class NoRole(AccessError):
    """The identity is genuine but no role is mapped to it: signed in at the provider, refused here."""

    http_status = 403


class OidcSettings(CommunisSettings):
    """Single sign-on with an OpenID Connect provider; off unless `oidc_issuer` is set."""

    oidc_issuer: str | None = Field(
        default=None,
        description="The provider's issuer URL; its /.well-known/openid-configuration says the rest.",
    )
    oidc_client_id: str | None = Field(default=None, description="Communis' client (application) id at the provider.")
    oidc_client_secret_env: str = Field(
        default=DEFAULT_SECRET_ENV,
        pattern=_ENV_NAME,
        description="Name of the environment variable that holds the client secret (never the secret itself).",
    )
    oidc_scope: str = Field(default="openid profile email", description="Scopes asked for; must include openid.")
    oidc_roles_claim: str = Field(
        default="groups", description="The claim whose values are mapped to roles (a dotted path reaches nested ones)."
    )
    oidc_role_map: dict[str, Role] = Field(
        default_factory=dict,
        description="Claim value → role (a JSON object); the first entry the user has wins: list the strongest first.",
    )
    oidc_name_claim: str = Field(default="preferred_username", description="The claim a local user's name starts with.")
    oidc_redirect_uri: str | None = Field(
        default=None,
        description="The callback URL registered at the provider (…/login/oidc/callback); unset: from the request.",
    )
    oidc_post_logout_redirect_uri: str | None = Field(
        default=None, description="Where the provider sends the browser after signing out (…/login); unset: derived."
    )
    oidc_algorithms: list[str] = Field(default_factory=lambda: ["RS256"], description="ID token algorithms accepted.")
    oidc_leeway_seconds: int = Field(default=60, ge=0, le=600, description="Clock skew allowed on exp and iat.")
    oidc_timeout_seconds: float = Field(default=10, gt=0, le=120, description="Timeout of each call to the provider.")
    oidc_label: str = Field(default="single sign-on", max_length=80, description="What the sign-in button names.")

    @classmethod
    def load(cls) -> OidcSettings:
        """The settings from the environment and the config file; a mistake is one line naming the setting."""
        try:
            return cls()
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            said = str(first["msg"]).removeprefix("Value error, ")
            raise ConfigError(
                f"single sign-on: invalid setting {where}: {said}" if where else f"single sign-on: {said}",
                hint="fix the COMMUNIS_OIDC_* variables or the config file",
            ) from exc

    @model_validator(mode="before")
    @classmethod
    def _no_secret_in_files(cls, data: Any) -> Any:
        if isinstance(data, dict) and any(str(k).lower() == "oidc_client_secret" for k in data):
            raise ValueError(
                "the OIDC client secret is never kept in a file: put it in the environment variable "
                "that oidc_client_secret_env names"
            )
        return data

    @model_validator(mode="after")
    def _complete(self) -> OidcSettings:
        if self.oidc_issuer is None:
            return self
        if not self.oidc_client_id:
            raise ValueError("oidc_client_id is required when oidc_issuer is set")
        if not self.oidc_role_map:
            raise ValueError('oidc_role_map is required when oidc_issuer is set, e.g. {"/archivists": "archivist"}')
        if "openid" not in self.oidc_scope.split():
            raise ValueError("oidc_scope must include openid")
        weak = sorted(set(self.oidc_algorithms) - ASYMMETRIC)
        if weak or not self.oidc_algorithms:
            raise ValueError(f"oidc_algorithms: only asymmetric algorithms are accepted, not {weak or 'none at all'}")
        refuse_plaintext_credential(self.oidc_issuer, "oidc_issuer")
        return self

    @property
    def enabled(self) -> bool:
        return self.oidc_issuer is not None

    @property
    def issuer(self) -> str:
        if self.oidc_issuer is None:
            raise ConfigError("single sign-on is not configured", hint="set COMMUNIS_OIDC_ISSUER")
        return self.oidc_issuer.rstrip("/")

    @property
    def client_id(self) -> str:
        assert self.oidc_client_id is not None  # _complete
        return self.oidc_client_id

    def client_secret(self) -> str:
        """The secret from its environment variable, remembered for redaction; unset is a one-line error."""
        value = os.environ.get(self.oidc_client_secret_env, "")
        if not value:
            raise ConfigError(
                f"single sign-on: environment variable {self.oidc_client_secret_env} (the client secret) is not set",
                hint=f"export {self.oidc_client_secret_env}=<secret> for `communis serve`",
            )
        remember_secret(value)
        return value


class ProviderMetadata(BaseModel):
    """The parts of the discovery document (OpenID Connect Discovery 1.0 §3) that Communis uses."""

    model_config = ConfigDict(extra="ignore")

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None = None
    response_types_supported: list[str] = Field(default_factory=list)
    code_challenge_methods_supported: list[str] | None = None
    token_endpoint_auth_methods_supported: list[str] = Field(default_factory=lambda: ["client_secret_basic"])


# --- the started sign-in: state, nonce and the PKCE verifier, kept in the browser -------------------

PENDING_COOKIE_PREFIX = "communis_oidc_"


@dataclass(frozen=True)
class Pending:
    """A sign-in this browser started: kept in an HttpOnly cookie named after its state until the callback.

    Nothing in it needs protecting from the browser's own user (they could only spoil their own sign-in),
    and no other site can write our cookies, so it is not signed; it holds the verifier, which only this
    browser and the token request ever see."""

    state: str
    nonce: str
    verifier: str
    redirect_uri: str
    next: str
    started: float

    @classmethod
    def new(cls, redirect_uri: str, next: str) -> Pending:
        state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(64)
        return cls(state, nonce, verifier, redirect_uri, next, clock.now().timestamp())

    @property
    def challenge(self) -> str:
        """The S256 code challenge (RFC 7636 §4.2)."""
        return _b64url(hashlib.sha256(self.verifier.encode("ascii")).digest())

    @property
    def cookie_name(self) -> str:
        return pending_cookie_name(self.state)

    def cookie_value(self) -> str:
        fields = [self.state, self.nonce, self.verifier, self.redirect_uri, self.next, self.started]
        return _b64url(json.dumps(fields, separators=(",", ":")).encode())

    @classmethod
    def from_cookie(cls, value: str | None) -> Pending | None:
        """The sign-in a cookie holds, or None for a missing or unreadable one."""
        if not value:
            return None
        try:
            state, nonce, verifier, redirect_uri, next, started = json.loads(base64.urlsafe_b64decode(value + "=="))
            return cls(str(state), str(nonce), str(verifier), str(redirect_uri), str(next), float(started))
        except (ValueError, TypeError):
            return None


def pending_cookie_name(state: str) -> str:
    """One cookie per started sign-in (two tabs may sign in at once), named by the state's first characters."""
    return PENDING_COOKIE_PREFIX + re.sub(r"[^A-Za-z0-9_-]", "", state)[:16]


def check_callback(pending: Pending | None, params: Mapping[str, str], *, now: float | None = None) -> str:
    """The authorization code of a callback, once the answer is shown to belong to `pending`; else SignOnFailed."""
    implicit = sorted({"id_token", "access_token", "token"} & set(params))
    if implicit:
        raise SignOnFailed(f"the provider sent {', '.join(implicit)} to the browser: only the code flow is accepted")
    if "error" in params:
        said = params.get("error_description") or ""
        refusal = f"the identity provider refused the sign-in: {params['error'][:100]} {said[:300]}"
        raise ProviderRefused(refusal.strip())
    if pending is None:
        raise SignOnFailed("no sign-in was started in this browser (or its cookie is gone); start again")
    if not hmac.compare_digest(params.get("state", "").encode(), pending.state.encode()):
        raise SignOnFailed("the answer's state does not match the sign-in this browser started; start again")
    if (now if now is not None else clock.now().timestamp()) - pending.started > PENDING_SECONDS:
        raise SignOnFailed(f"the sign-in took longer than {PENDING_SECONDS // 60} minutes; start again")
    code = params.get("code", "")
    if not code:
        raise SignOnFailed("the provider's answer has no authorization code")
    return code


# --- the provider's keys and the ID token --------------------------------------------------------


@dataclass(frozen=True)
class KeySet:
    """The provider's signing keys by key id (encryption keys and keys of unknown types are left out)."""

    keys: tuple[jwt.PyJWK, ...]

    @classmethod
    def from_jwks(cls, data: Mapping[str, Any]) -> KeySet:
        found = []
        for entry in data.get("keys", []) if isinstance(data.get("keys"), list) else []:
            if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
                continue
            try:
                found.append(jwt.PyJWK(entry))
            except jwt.PyJWTError:
                continue  # a key type or algorithm this verifier does not know: not one it may use
        return cls(tuple(found))

    def find(self, kid: str | None, alg: str) -> jwt.PyJWK | None:
        """The key a token's header names (by `kid`; without one, the only key), if it is for `alg`."""
        usable = [k for k in self.keys if k.algorithm_name == alg]
        if kid is None:
            return usable[0] if len(usable) == 1 else None
        return next((k for k in usable if k.key_id == kid), None)


@dataclass(frozen=True)
class Expectations:
    """What an ID token must say to be ours: the discovered issuer, our client id, the algorithms allowed."""

    issuer: str
    client_id: str
    algorithms: Sequence[str]
    leeway: int = 60


def token_header(token: str, allowed: Sequence[str]) -> tuple[str, str | None]:
    """The token's algorithm and key id, refused before anything else unless the algorithm is allowed."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise SignOnFailed(f"the ID token is not a signed JWT: {exc}") from None
    alg = str(header.get("alg", ""))
    if alg.lower() == "none" or not alg:
        raise SignOnFailed("the ID token is unsigned (alg none): refused")
    if alg not in allowed:
        raise SignOnFailed(f"the ID token is signed with {alg[:20]}, not an allowed algorithm ({', '.join(allowed)})")
    kid = header.get("kid")
    return alg, str(kid) if kid is not None else None


def validate_id_token(
    token: str, keys: KeySet, expect: Expectations, *, nonce: str | None, check_expiry: bool = True
) -> dict[str, Any]:
    """The ID token's claims once signature, issuer, audience, expiry and nonce hold (OIDC Core §3.1.3.7);
    else SignOnFailed naming the first check that failed. `nonce=None` only for a token we issued before
    (the sign-out hint), which is also the only use of `check_expiry=False`."""
    alg, kid = token_header(token, expect.algorithms)
    key = keys.find(kid, alg)
    if key is None:
        raise SignOnFailed(f"the ID token is signed with a key the provider does not publish (kid {str(kid)[:60]})")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key=key,
            algorithms=[alg],
            audience=expect.client_id,
            issuer=expect.issuer,
            leeway=expect.leeway,
            options={"require": ["exp", "iat", "iss", "aud", "sub"], "verify_exp": check_expiry},
        )
    except jwt.ExpiredSignatureError:
        raise SignOnFailed("the ID token has expired") from None
    except jwt.InvalidAudienceError:
        raise SignOnFailed(f"the ID token is not for this client (aud is not {expect.client_id})") from None
    except jwt.InvalidIssuerError:
        raise SignOnFailed(f"the ID token is from another issuer (iss is not {expect.issuer})") from None
    except jwt.InvalidSignatureError:
        raise SignOnFailed("the ID token's signature does not verify") from None
    except jwt.MissingRequiredClaimError as exc:
        raise SignOnFailed(f"the ID token lacks the {exc.claim} claim") from None
    except jwt.PyJWTError as exc:
        raise SignOnFailed(f"the ID token is invalid: {exc}") from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != expect.client_id:
        raise SignOnFailed("the ID token has several audiences and azp is not this client")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise SignOnFailed("the ID token's sub is empty")
    if nonce is not None and not hmac.compare_digest(str(claims.get("nonce", "")).encode(), nonce.encode()):
        raise SignOnFailed("the ID token's nonce does not match the sign-in this browser started")
    return claims


# --- who the token names, and their role ---------------------------------------------------------


def claim_values(claims: Mapping[str, Any], path: str) -> tuple[str, ...]:
    """A claim's values as strings: the claim named `path`, else the dotted path into nested objects
    (`realm_access.roles`, `resource_access.communis.roles`). A single string is one value."""
    found: Any = claims.get(path)
    if found is None and "." in path:
        found = claims
        for part in path.split("."):
            found = found.get(part) if isinstance(found, Mapping) else None
    if isinstance(found, str):
        return (found,)
    if isinstance(found, list):
        return tuple(v for v in found if isinstance(v, str))
    return ()


def role_for(values: Sequence[str], role_map: Mapping[str, Role]) -> Role | None:
    """The role of the first map entry (in the map's order) the user has, or None."""
    have = set(values)
    return next((role for value, role in role_map.items() if value in have), None)


@dataclass(frozen=True)
class Identity:
    """A person the provider vouched for: issuer and subject (stable), a readable name, the roles claim."""

    issuer: str
    subject: str
    username: str
    values: tuple[str, ...]
    id_token: str = field(repr=False)

    @property
    def target(self) -> str:
        """How audit events name the identity: the provider's subject and issuer."""
        return f"oidc sub={self.subject} iss={self.issuer}"[:10_000]

    def local_name(self) -> str:
        """The local user this identity is: `slug.hash10`, a user-name pattern match (schemas USER_NAME_PATTERN)."""
        digest = hashlib.sha256(f"{self.issuer}\n{self.subject}".encode()).hexdigest()[:10]
        plain = unicodedata.normalize("NFKD", self.username).encode("ascii", "ignore").decode().lower()
        slug = re.sub(r"[^a-z0-9._-]+", "-", plain)
        slug = re.sub(r"^[^a-z0-9]+", "", slug)[:53].rstrip("._-") or "sso"
        return f"{slug}.{digest}"


# --- the provider ----------------------------------------------------------------------------------


class Provider:
    """One OpenID Connect provider: discovery, the authorization URL, the code exchange, the keys.

    Thread-safe (the web server calls it from its thread pool); the discovery document and the keys
    are cached, the keys fetched again when a token names an unknown one (at most once a minute)."""

    def __init__(self, settings: OidcSettings, http: httpx.Client | None = None) -> None:
        self.settings = settings
        self.secret = settings.client_secret()
        self.http = http or httpx.Client(timeout=settings.oidc_timeout_seconds, follow_redirects=False)
        self._lock = threading.Lock()
        self._metadata: tuple[float, ProviderMetadata] | None = None
        self._keys: tuple[float, KeySet] | None = None

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            resp = self.http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise ServiceError(f"the identity provider's {what} at {url} did not answer: {exc}") from None
        if resp.status_code != 200:
            raise ServiceError(f"the identity provider's {what} at {url} answered {resp.status_code}")
        try:
            data = resp.json()
        except ValueError:
            raise ServiceError(f"the identity provider's {what} at {url} is not JSON") from None
        if not isinstance(data, dict):
            raise ServiceError(f"the identity provider's {what} at {url} is not a JSON object")
        return data

    def metadata(self) -> ProviderMetadata:
        """The discovery document, checked: its issuer is the configured one, the code flow is offered,
        and the endpoints that receive the secret or give the keys are TLS (or loopback)."""
        with self._lock:
            if self._metadata and time.monotonic() - self._metadata[0] < METADATA_SECONDS:
                return self._metadata[1]
        url = f"{self.settings.issuer}/.well-known/openid-configuration"
        try:
            found = ProviderMetadata.model_validate(self._get_json(url, "discovery document"))
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ServiceError(f"the discovery document at {url} lacks {'.'.join(map(str, first['loc']))}") from None
        if found.issuer.rstrip("/") != self.settings.issuer:
            raise ConfigError(
                f"the discovery document at {url} names issuer {found.issuer[:200]}, not {self.settings.issuer}",
                hint="set COMMUNIS_OIDC_ISSUER to the issuer the provider names",
            )
        if "code" not in found.response_types_supported:
            raise ConfigError(f"the identity provider at {self.settings.issuer} does not offer the code flow")
        if found.code_challenge_methods_supported is not None and "S256" not in found.code_challenge_methods_supported:
            raise ConfigError(f"the identity provider at {self.settings.issuer} does not offer PKCE with S256")
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri", "end_session_endpoint"):
            value = getattr(found, name)
            if value is not None:
                refuse_plaintext_credential(value, f"the provider's {name}")
        with self._lock:
            self._metadata = (time.monotonic(), found)
        return found

    def keys(self, *, refresh: bool = False) -> KeySet:
        """The provider's signing keys; `refresh` fetches them again unless that was done within a minute."""
        with self._lock:
            cached = self._keys
        if cached and (not refresh or time.monotonic() - cached[0] < JWKS_REFETCH_SECONDS):
            return cached[1]
        found = KeySet.from_jwks(self._get_json(self.metadata().jwks_uri, "key set (JWKS)"))
        with self._lock:
            self._keys = (time.monotonic(), found)
        return found

    @property
    def expect(self) -> Expectations:
        meta = self.metadata()
        s = self.settings
        return Expectations(meta.issuer, s.client_id, s.oidc_algorithms, s.oidc_leeway_seconds)

    def start(self, redirect_uri: str, next: str) -> tuple[str, Pending]:
        """The provider's authorization URL for a new sign-in, and what the browser keeps until the callback."""
        pending = Pending.new(redirect_uri, next)
        query = {
            "response_type": "code",
            "client_id": self.settings.client_id,
            "redirect_uri": redirect_uri,
            "scope": self.settings.oidc_scope,
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": pending.challenge,
            "code_challenge_method": "S256",
        }
        endpoint = self.metadata().authorization_endpoint
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(query)}", pending

    def finish(self, pending: Pending | None, params: Mapping[str, str]) -> Identity:
        """The identity a callback proves: its code checked against `pending`, exchanged, and the ID token validated."""
        code = check_callback(pending, params)
        assert pending is not None  # check_callback
        token = self._exchange(code, pending)
        return self.identity(self.validate(token, nonce=pending.nonce), token)

    def identity(self, claims: Mapping[str, Any], token: str) -> Identity:
        """Who validated claims name: issuer, subject, the username claim and the roles claim's values."""
        name = claim_values(claims, self.settings.oidc_name_claim)
        return Identity(
            issuer=str(claims["iss"]),
            subject=str(claims["sub"]),
            username=(name[0] if name else "")[:200],
            values=claim_values(claims, self.settings.oidc_roles_claim),
            id_token=token,
        )

    def validate(self, token: str, *, nonce: str | None, check_expiry: bool = True) -> dict[str, Any]:
        """`validate_id_token` with the provider's keys, fetched again once if the token names a new key."""
        alg, kid = token_header(token, self.settings.oidc_algorithms)
        keys = self.keys()
        if keys.find(kid, alg) is None:
            keys = self.keys(refresh=True)
        return validate_id_token(token, keys, self.expect, nonce=nonce, check_expiry=check_expiry)

    def _exchange(self, code: str, pending: Pending) -> str:
        """Code → ID token at the token endpoint (RFC 6749 §4.1.3 with the PKCE verifier), client_secret_basic
        unless the provider offers only client_secret_post."""
        meta = self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": pending.redirect_uri,
            "code_verifier": pending.verifier,
        }
        # RFC 6749 §2.3.1: id and secret form-encoded before they are put in the Basic header
        auth: httpx.Auth | None = httpx.BasicAuth(quote(self.settings.client_id, safe=""), quote(self.secret, safe=""))
        methods = meta.token_endpoint_auth_methods_supported
        if "client_secret_basic" not in methods and "client_secret_post" in methods:
            form |= {"client_id": self.settings.client_id, "client_secret": self.secret}
            auth = None
        try:
            resp = self.http.post(
                meta.token_endpoint,
                data=form,
                auth=auth or httpx.USE_CLIENT_DEFAULT,
                headers={"Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise ServiceError(f"the identity provider's token endpoint did not answer: {exc}") from None
        try:
            answer = resp.json()
        except ValueError:
            answer = {}
        if resp.status_code != 200 or not isinstance(answer, dict):
            said = answer.get("error", "") if isinstance(answer, dict) else ""
            raise SignOnFailed(f"the identity provider refused the code ({resp.status_code} {str(said)[:100]})".strip())
        token = answer.get("id_token")
        if not isinstance(token, str) or not token:
            raise SignOnFailed("the token endpoint gave no ID token (is the openid scope allowed for this client?)")
        if str(answer.get("token_type", "Bearer")).lower() != "bearer":
            raise SignOnFailed(f"the token endpoint gave token_type {str(answer.get('token_type'))[:20]}, not Bearer")
        return token

    def logout_url(self, id_token_hint: str | None, post_logout_redirect_uri: str) -> str | None:
        """The provider's RP-initiated logout URL (OpenID Connect RP-Initiated Logout 1.0), if it has one."""
        endpoint = self.metadata().end_session_endpoint
        if endpoint is None:
            return None
        query = {"client_id": self.settings.client_id, "post_logout_redirect_uri": post_logout_redirect_uri}
        if id_token_hint:
            query["id_token_hint"] = id_token_hint
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(query)}"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
