"""The Communis error tree. Every class says in one line what went wrong.

Third-party exceptions are translated at the boundary (botocore in store/, elasticsearch
in index/) so callers and the CLI deal only with these. The CLI shows `str(error)` as one
line; the chain goes to the log. Each class carries the HTTP status the web application
answers it with (`http_status`), so one exception handler maps them all and no route maps
errors of its own.
"""

from __future__ import annotations


class CommunisError(Exception):
    """Base of all errors Communis raises on purpose."""

    hint: str = ""
    #: The status the web application answers with: 400, the request cannot be done as asked.
    http_status: int = 400

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    def one_line(self) -> str:
        """What is wrong and what to do, on one line. A lone surrogate a platform sent (and the message
        quotes) is escaped: the line is saved in the account's state as UTF-8 JSON."""
        text = str(self)
        text = f"{text} — {self.hint}" if self.hint else text
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


class NotFound(CommunisError):
    """What the request names (a case, a hold, a package, a mask) does not exist."""

    http_status = 404


class Conflict(CommunisError):
    """The request is valid but the thing's state refuses it (a closed case takes no further change)."""

    http_status = 409


class PermissionDenied(CommunisError):
    """The acting user's role does not allow the step (for checks made below the web's `require`)."""

    http_status = 403


class ConfigError(CommunisError):
    """Configuration or an input file is invalid."""


class ServiceError(CommunisError):
    """A local service could not be downloaded, built, started or reached."""

    http_status = 503


class DiskFull(CommunisError):
    """The local work folder's disk is full."""

    hint = "free space there (or move COMMUNIS_DATA_DIR) and run again; the next run starts where this one stopped"


class StoreError(CommunisError):
    """The blob store failed."""


class StoreUnavailable(StoreError):
    """The blob store cannot be reached."""

    hint = "start it with `scripts/services up` or check COMMUNIS_S3_ENDPOINT_URL"
    http_status = 503


class ObjectExists(StoreError):
    """A key already exists; stored files are never overwritten."""

    http_status = 409


class ObjectLocked(StoreError):
    """The object is under retention or legal hold and cannot be deleted or changed."""

    http_status = 409


class ObjectMissing(StoreError):
    """The key does not exist in the store."""

    http_status = 404


class DigestMismatch(StoreError):
    """Bytes read back do not match their recorded SHA-256."""


class SearchIndexError(CommunisError):
    """Elasticsearch rejected a request."""


class IndexUnavailable(SearchIndexError):
    """Elasticsearch cannot be reached."""

    hint = "start it with `scripts/services up` or check COMMUNIS_ES_URL"
    http_status = 503


class SearchTooCostly(SearchIndexError):
    """A search asks more of the cluster than a search may (too many clauses, a leading wildcard, a short
    prefix, too large a page): refused before it is sent, since ingest shares the cluster."""

    hint = "narrow the search: fewer words, a longer prefix before *, a date range, a platform or an account"


class SearchTimedOut(SearchTooCostly):
    """A search ran past its time limit and was stopped (its partial answer is not shown)."""

    hint = "narrow the search (fewer words, a date range, a platform or an account) or try again later"
    http_status = 503


class RecordNotFound(NotFound):
    """No record with that id is in the index."""


class WarcError(CommunisError):
    """A WARC file or record is malformed."""


class InputRejected(CommunisError):
    """An input was refused (too large, malformed) and quarantined with the reason."""


class ConnectorError(CommunisError):
    """A platform could not be read as expected."""


class RateLimited(ConnectorError):
    """The platform asked us to slow down for longer than we are willing to wait."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message, hint="the next scheduled run continues where this one stopped")
        self.retry_after = retry_after


class AuthExpired(ConnectorError):
    """The platform refused our credentials (401/403): usually an expired token."""

    hint = "renew the account's token and update its environment variable or Prefect Secret"


class Gone(ConnectorError):
    """The item no longer exists on the platform (404/410): a deletion to record as a tombstone."""


class PayloadInvalid(ConnectorError):
    """The platform answered with something we cannot parse; it is quarantined with the reason."""


class GaveUp(ConnectorError):
    """A request kept failing (5xx, timeouts, resets) after every retry."""


class DestinationRefused(ConnectorError):
    """A request would connect to a non-public address (loopback, private, link-local, multicast,
    reserved) that `http_allowed_networks` does not allow: refused before any byte is sent. A URL in
    a post, a comment or a redirect must not make the harvester reach this machine or its network."""

    hint = "if that address is a platform this installation harvests, add its network to COMMUNIS_HTTP_ALLOWED_NETWORKS"


class NothingListed(ConnectorError):
    """Every listing page of a run was unreadable (quarantined): the run read nothing, so it failed.
    Reported as a success, such a run hid a broken account behind "ok, 0 captures" for ever."""

    hint = "nothing was archived; the quarantine holds each page with its reason, and the next run retries"

    def __init__(self, first_reason: str, pages: int) -> None:
        super().__init__(f"no listing page could be read ({pages} quarantined; first: {first_reason})")


class AccessError(CommunisError):
    """A user could not be created, found or changed."""


class AuthenticationFailed(AccessError):
    """A password or API token was wrong, unknown or belongs to a disabled user."""

    http_status = 401
