"""Admitting a person the identity provider vouched for: their role, their local user, the audit trail.

The provider proves who someone is (archive/access/oidc.py); whether they may use the archive, and
as what, is decided here, from the roles claim and the role map alone, at every sign-in (a person
moved to another group at the provider has the new group's role from their next sign-in). Every
outcome is an audit event naming the provider's subject and issuer (`target`: `oidc sub=… iss=…`),
so the audit log can always be traced back to the provider's own records of the person:

- `login` ok: signed in, with the role and the provider's username in the note;
- `login` denied: no role mapped (the values the claim had are noted), the local user disabled in
  Communis (`communis user disable` stops a provider's user too), or an answer that could not be
  accepted (bad state, nonce, signature …: then the subject is not known yet, and the target is the
  callback's path);
- `logout`: the web's sign-out, with the subject when the session was a provider's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from schemas import AuditAction, AuditOutcome, Role, User

from ..errors import AccessError
from .audit import AuditLog
from .oidc import Identity, NoRole, role_for
from .users import UserStore

CALLBACK_PATH = "/login/oidc/callback"


@dataclass
class OidcSignIn:
    """Role mapping and local users for provider identities, every outcome audited."""

    users: UserStore
    audit: AuditLog
    role_map: Mapping[str, Role]
    roles_claim: str = "groups"

    def admit(self, identity: Identity, *, client: str) -> User:
        """The local user of `identity` with the role its claims map to; NoRole (403) when none does,
        AccessError when its local user is disabled or is a local password user."""
        name = identity.local_name()
        role = role_for(identity.values, self.role_map)
        who = f"as {identity.username or '(no username)'}"
        if role is None:
            shown = ", ".join(identity.values[:20]) or "no values"
            note = f"{who}: no role is mapped to the {self.roles_claim} claim ({shown})"
            self._denied(name, identity.target, client, note)
            raise NoRole(f"signed in at the identity provider {who}, but no role in Communis is given to you")
        try:
            user = self.users.provision(name, role)
        except AccessError as exc:
            self._denied(name, identity.target, client, f"{who}: {exc}")
            raise
        if user.disabled:
            self._denied(name, identity.target, client, f"{who}: the user {name} is disabled in Communis")
            raise NoRole(f"the user {name} is disabled in Communis")
        self.audit.event(
            AuditAction.LOGIN,
            user=name,
            role=role,
            target=identity.target,
            client=client[:200],
            note=f"single sign-on {who}, role {role.value} from {self.roles_claim}"[:1000],
        )
        return user

    def refused(self, reason: str, *, client: str, target: str = CALLBACK_PATH) -> None:
        """An answer from the provider that was not accepted, before any identity was proven."""
        self._denied(None, target, client, reason)

    def _denied(self, name: str | None, target: str, client: str, note: str) -> None:
        self.audit.event(
            AuditAction.LOGIN,
            user=name,
            role=None,
            target=target[:10_000],
            client=client[:200],
            outcome=AuditOutcome.DENIED,
            note=note[:1000],
        )
