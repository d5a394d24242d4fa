"""Driving one connector's harvest against the simulator with one response body mutated.

The connector runs as the harvest service runs it (`connector.harvest(ctx)` over a real `Fetcher`
and a real httpx client to the simulator's real HTTP), but nothing is stored: the fuzz is about
what the connector and its listing toolkit make of a payload, and storage is tested elsewhere.
`MutatingTransport` forwards every request to the simulator and changes the body of the nth
JSON or XML response (the one a fuzz example chose); `run` classifies what came out:

* ``parsed``: the harvest ended and every item was archived as a record;
* ``quarantined``: it ended, and what could not be read came out as `Rejected` with a reason;
* ``failed``: it stopped with a `CommunisError` (the run's one-line error; nothing is lost, the
  cursor does not move and the next run reads it again);
* ``crashed``: anything else escaped, or a record came out that the pipeline could not write.
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
from simulator import Simulator
from tests.contract.subjects import SUBJECTS, Subject

from .mutations import Chooser, mutate

#: Every platform's subject (the same accounts the contract suite harvests).
BY_PLATFORM: dict[str, Subject] = {s.platform: s for s in SUBJECTS}
PLATFORMS = sorted(BY_PLATFORM)
#: Bodies of these types are mutated; media files (images, video) pass unchanged.
MUTABLE = ("json", "xml", "rss", "atom")
FULL = timedelta(days=365 * 100)

def is_mutable(content_type: str) -> bool:
    return any(kind in content_type for kind in MUTABLE)


Key = tuple[str, str, bytes]
_REAL = httpx.HTTPTransport()


def _key(request: httpx.Request) -> Key:
    return request.method, str(request.url), request.read()


@dataclass
class Exchange:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class MutatingTransport(httpx.BaseTransport):
    """Forwards to the simulator; the `target`-th JSON/XML response is served with `body` instead.

    Recording (`target` None): every exchange is kept in `exchanges`, and the JSON/XML bodies in
    order in `bodies`. Replaying (`replay` given, as `bench/fuzz.py` does for speed): the recorded
    simulator responses are served from memory, and requests the recording never made (a mutated
    cursor leads elsewhere) still go to the simulator."""

    def __init__(self, target: int | None = None, body: bytes = b"",
                 replay: dict[Key, Exchange] | None = None) -> None:
        self.inner = _REAL
        self.target, self.body, self.replay = target, body, replay
        self.seen = 0
        self.exchanges: dict[Key, Exchange] = {}
        self.bodies: list[tuple[str, str, bytes]] = []

    def _fetch(self, request: httpx.Request) -> Exchange:
        if self.replay is not None:
            known = self.replay.get(_key(request))
            if known is not None:
                return known
        response = self.inner.handle_request(request)
        try:
            body = response.read()
        finally:
            response.close()
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() != "content-length"]
        return Exchange(response.status_code, headers, body)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        got = self._fetch(request)
        body = got.body
        ctype = next((v for k, v in got.headers if k.lower() == "content-type"), "")
        if self.target is None:
            self.exchanges[_key(request)] = got
        if is_mutable(ctype):
            number, self.seen = self.seen, self.seen + 1
            if self.target is None:
                self.bodies.append((str(request.url), ctype, body))
            elif number == self.target:
                body = self.body
        return httpx.Response(got.status, headers=[*got.headers, ("content-length", str(len(body)))],
                              stream=httpx.ByteStream(body), request=request)

    def close(self) -> None:
        pass  # the real transport is shared: building one costs 50 ms of TLS set-up


@dataclass(frozen=True)
class Target:
    """One connector and wire format under fuzz: a platform's account (the feeds connector twice)."""

    name: str
    platform: str
    handle: str | None = None

    def account(self, sim: Simulator) -> Account:
        account = BY_PLATFORM[self.platform].account(sim)
        return account.model_copy(update={"handle": self.handle}) if self.handle else account


TARGETS: dict[str, Target] = {**{p: Target(p, p) for p in PLATFORMS}, "atom": Target("atom", "rss", "atom.xml")}


@dataclass
class Outcome:
    """What one harvest made of the payloads it was served."""

    kind: str
    records: int = 0
    rejected: list[str] = field(default_factory=list)
    error: str | None = None
    crash: str | None = None
    """`ExceptionType at file:line` of a crash: crashes with one signature are one bug."""
    trace: str | None = None


def _signature(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/archive/" in f.filename or "/schemas/" in f.filename] or frames
    if not ours:
        return type(exc).__name__
    last = ours[-1]
    return f"{type(exc).__name__} at {'/'.join(last.filename.split('/')[-2:])}:{last.lineno}"


def _check_record(record: Record) -> None:
    """What the pipeline does with a record: hash it, write its JSON, read that JSON back."""
    _ = record.content_sha256, record.record_id
    Record.model_validate_json(record.to_json_bytes())


def _check_rejected(rejected: Rejected) -> None:
    reason = rejected.reason
    if not reason.strip() or "\n" in reason:
        raise AssertionError(f"a rejection's reason must be one non-empty line: {reason!r}")
    if not isinstance(rejected.raw, bytes):
        raise AssertionError("a rejection must keep the raw bytes")
    reason.encode("utf-8")  # it goes into the quarantine entry's JSON


@dataclass
class Baseline:
    """One unmutated harvest of a target: what the simulator served and what came out."""

    target: Target
    account: Account
    now: datetime
    exchanges: dict[Key, Exchange]
    bodies: list[tuple[str, str, bytes]]
    outcome: Outcome


def harvest(account: Account, now: datetime, transport: httpx.BaseTransport) -> Outcome:
    """One first-run harvest of the account over `transport`; never raises (a crash is an outcome)."""
    connector = connector_for(account.platform.value)
    records, rejected = 0, []
    try:
        token = token_for(account, None) if account.credentials else None
        headers, params = connector.client_auth(account, token)
        with make_client(transport=transport) as client:
            fetcher = Fetcher(client, max_tries=2, backoff=0.0, sleep=lambda _s: None, max_wait=0.0,
                              throttled=connector.throttled, secrets=[token] if token else [],
                              api_host=httpx.URL(account.api_base).host, auth_headers=headers,
                              auth_params=params)
            ctx = HarvestContext(account, HarvestState(account=account.id), fetcher, now, lookback=FULL,
                                 media_max_bytes=256 * 1024)
            for out in connector.harvest(ctx):
                if isinstance(out, Rejected):
                    _check_rejected(out)
                    rejected.append(out.reason)
                elif isinstance(out, CaptureBundle):
                    for record in out.records:
                        _check_record(record)
                        records += 1
                else:
                    raise AssertionError(f"a connector yielded {type(out).__name__}")
    except CommunisError as exc:  # what harvest_one catches: the run's one-line error, saved in the state
        error = exc.one_line()
        error.encode("utf-8")
        return Outcome("failed", records, rejected, error=error)
    except Exception as exc:  # noqa: BLE001 - the point: anything else is a crash
        return Outcome("crashed", records, rejected, crash=_signature(exc), trace=traceback.format_exc())
    return Outcome("parsed", records, rejected)


def record(sim: Simulator, target: Target) -> Baseline:
    """The target's harvest as the simulator serves it, unmutated (it must be clean)."""
    account = target.account(sim)
    now = datetime.fromisoformat(sim.state(items=False)["now"].replace("Z", "+00:00"))
    transport = MutatingTransport()
    outcome = harvest(account, now, transport)
    if outcome.kind != "parsed" or not transport.bodies:
        raise AssertionError(f"{target.name}: the unmutated harvest is not clean: {outcome}")
    return Baseline(target, account, now, transport.exchanges, transport.bodies, outcome)


@dataclass
class Fuzzed:
    """One fuzz example: what was mutated (`what`, one line), the body served, and the outcome."""

    outcome: Outcome
    what: str
    body: bytes
    content_type: str


def fuzz_once(baseline: Baseline, choose: Chooser, *, replay: bool = False) -> Fuzzed:
    """One harvest with one JSON/XML response mutated (the choice of response and mutation is `choose`'s)."""
    number = choose.below(len(baseline.bodies))
    url, ctype, body = baseline.bodies[number]
    new, what = mutate(body, ctype, choose)
    transport = MutatingTransport(number, new, replay=baseline.exchanges if replay else None)
    outcome = harvest(baseline.account, baseline.now, transport)
    if outcome.kind == "parsed" and len(outcome.rejected) > len(baseline.outcome.rejected):
        outcome.kind = "quarantined"
    return Fuzzed(outcome, f"{httpx.URL(url).path} {what}", new, ctype)
