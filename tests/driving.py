"""Driving one connector's harvest the way the harvest service drives it, with nothing stored.

`drive` runs `connector.harvest(ctx)` for a first run (empty state, a look-back of a century) over
a real `Fetcher` and a real httpx client, and classifies what came out:

* ``parsed``: the harvest ended; `records` and `rejected` hold everything it yielded;
* ``failed``: it stopped with a `CommunisError` (the run's one-line error, as `harvest_one` saves it);
* ``crashed``: anything else escaped, or a record or rejection came out that the pipeline could not
  write (a record whose JSON does not read back, a reason that is not one line).

The fuzz harness (tests/fuzz) and the replay tests on real recordings (tests/replay) both use it.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx

from archive.bundles import Rejected
from archive.connectors.base import HarvestContext
from archive.connectors.credentials import token_for
from archive.connectors.http import Fetcher, make_client
from archive.connectors.registry import connector_for
from archive.errors import CommunisError
from schemas import Account, CaptureBundle, HarvestState, Record

FULL = timedelta(days=365 * 100)


@dataclass
class Outcome:
    """What one harvest made of the payloads it was served."""

    kind: str
    records: list[Record] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    error: str | None = None
    crash: str | None = None
    """`ExceptionType at file:line` of a crash: crashes with one signature are one bug."""
    trace: str | None = None
    counted: list[CaptureBundle] = field(default_factory=list)
    """The bundles that carried published counts (`CaptureBundle.counts`), in the order they came."""
    notes: list[str] = field(default_factory=list)
    """The run's notes for the harvest report (a moderation list the token may not read)."""

    @property
    def reasons(self) -> list[str]:
        return [r.reason for r in self.rejected]


def signature(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/archive/" in f.filename or "/schemas/" in f.filename] or frames
    if not ours:
        return type(exc).__name__
    last = ours[-1]
    return f"{type(exc).__name__} at {'/'.join(last.filename.split('/')[-2:])}:{last.lineno}"


def check_record(record: Record) -> None:
    """What the pipeline does with a record: hash it, write its JSON, read that JSON back."""
    _ = record.content_sha256, record.record_id
    Record.model_validate_json(record.to_json_bytes())


def check_rejected(rejected: Rejected) -> None:
    reason = rejected.reason
    if not reason.strip() or "\n" in reason:
        raise AssertionError(f"a rejection's reason must be one non-empty line: {reason!r}")
    if not isinstance(rejected.raw, bytes):
        raise AssertionError("a rejection must keep the raw bytes")
    reason.encode("utf-8")  # it goes into the quarantine entry's JSON


def drive(
    account: Account,
    now: datetime,
    transport: httpx.BaseTransport | None = None,
    *,
    state: HarvestState | None = None,
    lookback: timedelta = FULL,
    sweep: bool = True,
    lists_only: bool = False,
) -> Outcome:
    """One harvest of the account (a first run unless `state` is given); never raises. With `lists_only`
    the connector reads the account's moderation lists (`moderation_lists`) instead of its listings."""
    connector = connector_for(account.platform.value)
    out = Outcome("parsed")
    try:
        token = token_for(account, None) if account.credentials else None
        headers, params = connector.client_auth(account, token)
        with make_client(transport=transport) as client:
            fetcher = Fetcher(
                client,
                max_tries=2,
                backoff=0.0,
                sleep=lambda _s: None,
                max_wait=0.0,
                throttled=connector.throttled,
                secrets=[token] if token else [],
                api_host=httpx.URL(account.api_base).host,
                auth_headers=headers,
                auth_params=params,
            )
            ctx = HarvestContext(
                account,
                state or HarvestState(account=account.id),
                fetcher,
                now,
                lookback=lookback,
                media_max_bytes=256 * 1024,
                sweep=sweep,
            )
            for item in connector.moderation_lists(ctx) if lists_only else connector.harvest(ctx):
                if isinstance(item, Rejected):
                    check_rejected(item)
                    out.rejected.append(item)
                elif isinstance(item, CaptureBundle):
                    for record in item.records:
                        check_record(record)
                        out.records.append(record)
                    if item.counts:
                        out.counted.append(item)
                else:
                    raise AssertionError(f"a connector yielded {type(item).__name__}")
            out.notes = list(ctx.notes)
    except CommunisError as exc:  # what harvest_one catches: the run's one-line error, saved in the state
        out.kind, out.error = "failed", exc.one_line()
        out.error.encode("utf-8")
    except Exception as exc:  # noqa: BLE001 - the point: anything else is a crash
        out.kind, out.crash, out.trace = "crashed", signature(exc), traceback.format_exc()
    return out
