"""What the request and hold routes depend on: the application state, who acts (with the role each
step needs, a refusal audited as the step refused), and the path parameters they share.

API routes and pages import these from here, so a page and its API twin check the same rights.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends
from fastapi import Path as PathParam

from schemas import AuditAction
from schemas.cases import CASE_ID_PATTERN
from schemas.holds import HOLD_ID_PATTERN

from ..access.policy import Permission
from ..usecases import Actor
from .auth import Principal, require
from .state import AppState, app_state

State = Annotated[AppState, Depends(app_state)]
CaseId = Annotated[str, PathParam(pattern=CASE_ID_PATTERN)]
HoldId = Annotated[str, PathParam(pattern=HOLD_ID_PATTERN)]


def actor(who: Principal) -> Actor:
    """The signed-in user as the use cases know an actor: name, role and client address."""
    return Actor(who.user.name, who.role, who.client)


def _handler(action: AuditAction) -> Any:
    """A legal-staff dependency whose refusal is audited as the step that was refused."""
    return Depends(require(Permission.REQUESTS, action))


Viewer = Annotated[Principal, Depends(require(Permission.REQUESTS_VIEW))]
Creator = Annotated[Principal, _handler(AuditAction.REQUEST_CREATE)]
Runner = Annotated[Principal, _handler(AuditAction.REQUEST_RUN)]
Reviewer = Annotated[Principal, _handler(AuditAction.REQUEST_REVIEW)]
Exporter = Annotated[Principal, _handler(AuditAction.REQUEST_EXPORT)]
Deliverer = Annotated[Principal, _handler(AuditAction.REQUEST_DELIVER)]
Closer = Annotated[Principal, _handler(AuditAction.REQUEST_CLOSE)]
HoldViewer = Annotated[Principal, Depends(require(Permission.HOLDS))]
Placer = Annotated[Principal, Depends(require(Permission.HOLDS, AuditAction.HOLD_PLACE))]
Releaser = Annotated[Principal, Depends(require(Permission.HOLDS, AuditAction.HOLD_RELEASE))]
