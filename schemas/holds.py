"""Legal holds: a matter's records kept from any disposal until the hold is released."""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from ._base import Model
from .search import SavedSearch

HOLD_ID_PATTERN = r"^hold-[0-9a-f]{12}$"


class LegalHold(Model):
    """A hold covers every record its scope matches, including records captured after it was placed."""

    id: str = Field(pattern=HOLD_ID_PATTERN)
    matter: str = Field(min_length=1, max_length=500, description="Case or matter the hold is for.")
    reason: str = Field(default="", max_length=2000)
    scope: SavedSearch
    owner: str = Field(min_length=1, max_length=200, description="Who placed the hold.")
    created_at: AwareDatetime
    released_at: AwareDatetime | None = None
    released_by: str | None = None

    @property
    def active(self) -> bool:
        return self.released_at is None
