"""Logging setup: a redaction filter on every handler, so no secret reaches a log line.

The CLI prints outcomes itself; the full story (with exception chains) goes to
`var/log/communis.log`, and to stderr too with `-v`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from .redact import RedactingFilter

NOISY = ("elastic_transport", "urllib3", "botocore", "boto3", "s3transfer", "httpx")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(level: int = logging.WARNING, *, stderr: bool = True, file: Path | None = None) -> None:
    root = logging.getLogger()
    if stderr and not any(type(h) is logging.StreamHandler for h in root.handlers):
        console = logging.StreamHandler()
        console.setLevel(level)
        root.addHandler(console)
    if file is not None and not any(isinstance(h, logging.FileHandler) for h in root.handlers):
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            root.addHandler(logging.FileHandler(file, encoding="utf-8"))
        except OSError:
            pass  # an unwritable log folder must not stop a command
    root.setLevel(min(level, logging.INFO) if file is not None else level)
    for handler in root.handlers:
        handler.setFormatter(logging.Formatter(FORMAT))
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    # Client libraries log every retry with a traceback; keep them out unless debugging.
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.DEBUG if level <= logging.DEBUG else logging.ERROR)
