"""Logging setup: redaction filter on every handler, so no secret reaches a log line."""

from __future__ import annotations

import logging

from .warc.redact import RedactingFilter


def setup_logging(level: int = logging.WARNING) -> None:
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(level)
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
