"""Failures that open completeness gaps: why a run read nothing, said so the alarm can say what to do.

Most failed runs are transient (a 5xx, a timeout) and alarm only after `alert_after_failures` in a
row. Four are not: while they last the platform goes on publishing and nothing of it is archived,
so each is an alarm at its first run (issue 17: "alarms also for the conditions that open gaps"):

- the token was refused (HTTP 401): expired or revoked;
- permission lost (HTTP 403): the token is valid but no longer allowed to read the account
  (a Page role removed, an app's review withdrawn);
- the rate limit was exhausted for longer than the harvest will wait (`RateLimited`): the run's
  interval passed with nothing read;
- the account is gone or renamed (HTTP 404/410 on the account's own listing, not on one item: an
  item's 404 is a deletion and makes a tombstone, never a failed run).
"""

from __future__ import annotations

from enum import StrEnum

from ..errors import AuthExpired, ConnectorError, Gone, RateLimited


class GapCause(StrEnum):
    """What stops the archive from seeing what the platform publishes, until someone acts."""

    TOKEN_REFUSED = "token refused"
    PERMISSION_LOST = "permission lost"
    RATE_LIMIT_EXHAUSTED = "rate limit exhausted"
    ACCOUNT_GONE = "account gone or renamed"


#: What to do, per cause: the alarm's second half.
ACTION = {
    GapCause.TOKEN_REFUSED: "renew the account's token and update its environment variable or Prefect Secret",
    GapCause.PERMISSION_LOST: "give the token's user or app back its role on the account (Page role, app review)",
    GapCause.RATE_LIMIT_EXHAUSTED: "harvest the account less often or ask the platform for a higher limit",
    GapCause.ACCOUNT_GONE: "check the account's handle: renamed, update the accounts file; closed, close it",
}


def gap_cause(error: ConnectorError) -> GapCause | None:
    """The gap-opening cause of a run's failure, or None for a failure that passes by itself."""
    if isinstance(error, AuthExpired):
        return GapCause.PERMISSION_LOST if "HTTP 403" in str(error) else GapCause.TOKEN_REFUSED
    if isinstance(error, RateLimited):
        return GapCause.RATE_LIMIT_EXHAUSTED
    if isinstance(error, Gone):
        return GapCause.ACCOUNT_GONE
    return None


def gap_alarm(cause: str, last_error: str | None) -> str:
    """The alarm line: the cause, what it does to the archive, what to do, then the error itself."""
    known = {c.value: c for c in GapCause}
    action = ACTION[known[cause]] if cause in known else "see the error"
    return f"{cause}: nothing is archived until it is fixed; {action} ({last_error})"
