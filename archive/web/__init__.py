"""The archivists' web application and HTTP API (`communis serve`)."""

from .app import create_app

__all__ = ["create_app"]
