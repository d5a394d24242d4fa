"""Every connector against mutated wire formats: nothing but the project's own errors ever escapes.

Each example serves one harvest of a platform's account from the real simulator over real HTTP,
with one JSON or XML response changed (see `mutations`): fields removed, nulls, wrong types, huge
strings and numbers, unicode edge cases, timestamps in formats the platform documents and in ones
it does not, whole bodies cut or replaced. The harvest must end with records and `Rejected` items
(one-line reasons that name the page or item and the cause), or stop with a `CommunisError` (the
run's one-line error); a record it yields must be one the pipeline can hash and write. Anything
else is a crash and fails the test with the mutation that caused it.

Hypothesis draws the choices, derandomized so CI sees the same examples every run;
`bench/fuzz.py` runs 10 000 a connector with the same mutations.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator import Simulator
from tests.contract.subjects import TOKEN, TOKEN_ENV

from .harness import TARGETS, Baseline, fuzz_once, record

pytestmark = pytest.mark.integration


class Drawn:
    """A `Chooser` over hypothesis's draws (so a failing example shrinks to the smallest mutation)."""

    def __init__(self, data: st.DataObject) -> None:
        self.data = data

    def below(self, n: int) -> int:
        return int(self.data.draw(st.integers(0, n - 1)))


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(TOKEN_ENV, TOKEN)
        with Simulator(posts=3, rate_limit=10**9, social_token=TOKEN) as running:
            yield running


@pytest.fixture(scope="module")
def baselines(sim: Simulator) -> dict[str, Baseline]:
    return {}


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_a_mutated_payload_is_archived_quarantined_or_a_one_line_error_never_a_crash(
    name: str, sim: Simulator, baselines: dict[str, Baseline]
) -> None:
    baseline = baselines.setdefault(name, record(sim, TARGETS[name]))

    @settings(
        max_examples=40,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def one(data: st.DataObject) -> None:
        fuzzed = fuzz_once(baseline, Drawn(data))
        out = fuzzed.outcome
        assert out.kind != "crashed", f"{name}: {out.crash} after {fuzzed.what!r}\n{out.trace}"

    one()


def test_the_unmutated_harvests_are_clean_so_a_quarantine_is_the_mutations_doing(
    sim: Simulator, baselines: dict[str, Baseline]
) -> None:
    for name, target in TARGETS.items():
        baseline = baselines.setdefault(name, record(sim, target))
        assert baseline.outcome.kind == "parsed" and baseline.outcome.records, (name, baseline.outcome)
