"""`/openapi.json`, behind authentication like everything else that describes the archive."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi

from .auth import Principal, principal


def add_openapi_route(app: FastAPI) -> None:
    cached: dict[str, Any] = {}

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi(_: Annotated[Principal, Depends(principal)]) -> dict[str, Any]:
        if not cached:
            cached.update(
                get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            )
            cached.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer", "description": "`communis user add` prints a token"}
            }
            cached["security"] = [{"bearer": []}]
        return cached
