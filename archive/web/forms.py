"""What the legal-staff pages share: reading a form, running a step so that a refusal shows the page
again with its reason, and the redirect (303) with a notice after a step succeeded.

Notices after a redirect are chosen from a fixed list by a short code in the URL; nothing typed
into a form is ever echoed from a URL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ValidationError

from schemas.search import SavedSearch

from ..errors import CommunisError

T = TypeVar("T")

#: What a page says after a step succeeded (`?done=…`); a fixed list so no URL puts text on a page.
NOTICES = {
    "created": "The request case was opened.",
    "run": "The searches were run and the result frozen as a new snapshot.",
    "reviewed": "The review decision was saved.",
    "decided": "The masking decision was saved.",
    "masked": "The manual mask was added.",
    "exported": "The package was produced; it is listed under Packages.",
    "delivered": "The delivery was logged.",
    "closed": "The case was closed.",
    "placed": "The hold was placed.",
    "released": "The hold was released.",
}

#: Refusals shown on the form's page with their own status; any other refusal is shown there as 400.
FORM_STATUSES = (400, 409, 422)
#: Statuses that stay an error page of their own (what the page is about is missing, or not theirs to see).
PAGE_ERRORS = (401, 403, 404)


class Failed(Exception):
    """A step refused with a message to show on the page, and the status to show it with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def attempt(step: Callable[[], T]) -> T:
    """Run a step; a refusal the user can act on becomes `Failed` (a missing page or right stays an error,
    answered by the application's one handler)."""
    try:
        return step()
    except CommunisError as exc:
        if exc.http_status in PAGE_ERRORS:
            raise
        raise Failed(exc.http_status if exc.http_status in FORM_STATUSES else 400, exc.one_line()) from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise Failed(400, f"{where}: {err['msg']}" if where else str(err["msg"])) from exc


async def read_form(request: Request) -> dict[str, str]:
    """The submitted fields, trimmed, empty ones dropped (an empty field means "not given")."""
    form = await request.form()
    return {k: v.strip() for k, v in form.items() if isinstance(v, str) and v.strip()}


def back(path: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?done={done}", status_code=303)


def notice(request: Request) -> str | None:
    return NOTICES.get(request.query_params.get("done", ""))


def search_of(form: dict[str, str]) -> SavedSearch:
    """One saved search from the form's search fields (record ids: separated by spaces, commas or lines)."""
    fields: dict[str, Any] = {k: form.get(k) for k in ("platform", "account", "published_from", "published_to")}
    fields.update(q=form.get("q", ""), record_ids=form.get("record_ids", "").replace(",", " ").split())
    return SavedSearch.model_validate(fields)


def model(kind: type[BaseModel], data: dict[str, Any]) -> Any:
    return kind.model_validate(data)
