"""Shared pydantic configuration for boundary models.

Models are frozen (a captured fact never changes after it is made) and forbid unknown
fields, so a typo in an accounts file or a drifting payload is an error, not silent loss.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """Base of every Communis schema: immutable, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
