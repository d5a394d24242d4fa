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

from dataclasses import dataclass
from datetime import datetime

import httpx

from schemas import Account
from simulator import Simulator
from tests.contract.subjects import SUBJECTS, Subject
from tests.driving import Outcome, drive

from .mutations import Chooser, mutate

#: Every platform's subject (the same accounts the contract suite harvests).
BY_PLATFORM: dict[str, Subject] = {s.platform: s for s in SUBJECTS}
PLATFORMS = sorted(BY_PLATFORM)
#: Bodies of these types are mutated; media files (images, video) pass unchanged.
MUTABLE = ("json", "xml", "rss", "atom")


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

    def __init__(self, target: int | None = None, body: bytes = b"", replay: dict[Key, Exchange] | None = None) -> None:
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
        return httpx.Response(
            got.status,
            headers=[*got.headers, ("content-length", str(len(body)))],
            stream=httpx.ByteStream(body),
            request=request,
        )

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
    return drive(account, now, transport)


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
