"""Quarantine reasons lead with the cause, then name the URL, shortened to fit (listing.reason_at).

An X timeline request URL alone is longer than the 400 characters a reason keeps: cut at 400
characters, "{url}: unreadable … ({cause})" ended mid-URL and never showed the error."""

from __future__ import annotations

import pytest

from archive.connectors.listing import REASON_LIMIT, reason_at
from simulator import Simulator
from tests.contract.subjects import TOKEN, TOKEN_ENV, SocialSubject
from tests.driving import drive
from tests.harvesting import sim_now


def test_a_long_url_is_shortened_and_the_cause_kept_whole() -> None:
    url = "https://api.x.com/2/users/1/tweets?" + "&".join(f"field{n}=value" for n in range(3000))
    reason = reason_at("unreadable post (KeyError: 'edit_history_tweet_ids')", url)
    assert reason.startswith("unreadable post (KeyError: 'edit_history_tweet_ids') — https://api.x.com/2/users/1/")
    assert len(reason) == REASON_LIMIT and reason.endswith("…")


def test_a_short_url_is_kept_whole_and_a_message_naming_it_does_not_repeat_it() -> None:
    url = "http://127.0.0.1:8000/wp-json/wp/v2/posts?page=1"
    assert (
        reason_at(f"{url}: response is not JSON (Expecting value)", url)
        == f"response is not JSON (Expecting value) — {url}"
    )


def test_an_x_item_quarantined_on_a_long_timeline_url_says_its_cause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    x = SocialSubject("x")
    with Simulator(posts=3, rate_limit=10**9, social_token=TOKEN) as sim:
        post = next(r for r in x.visible(sim).values() if r["kind"] == "post")
        x.event(sim, "corrupt", no=post["no"])
        outcome = drive(x.account(sim), sim_now(sim))
        timeline = f"{sim.url('x')}/2/users/"
    [reason] = outcome.reasons
    assert reason.startswith("unreadable post (KeyError: 'edit_history_tweet_ids') — " + timeline), reason
    assert len(reason) <= REASON_LIMIT
