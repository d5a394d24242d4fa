"""Logging setup: every log record is redacted as it is made, so no secret reaches a log line.

The CLI prints outcomes itself; the full story (with exception chains) goes to
`var/log/communis.log`, and to stderr too with `-v`. Flows run under Prefect's logging (its
console handler, its API handler that stores run logs in Prefect's database, handlers a
deployment's logging config adds): they call `install_log_redaction`, which redacts at the one
point every record passes whatever handler takes it, the log record factory.
"""

from __future__ import annotations

import logging
from pathlib import Path

from .redact import RedactingFilter, redact_record

NOISY = ("elastic_transport", "urllib3", "botocore", "boto3", "s3transfer", "httpx")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def install_log_redaction() -> None:
    """Redact every log record from now on, in every logger and for every handler (idempotent)."""
    current = logging.getLogRecordFactory()
    if getattr(current, "communis_redacting", False):
        return

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        return redact_record(current(*args, **kwargs))

    factory.communis_redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def setup_logging(level: int = logging.WARNING, *, stderr: bool = True, file: Path | None = None) -> None:
    install_log_redaction()
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
