"""What the connector fuzz found, pinned as plain tests (each failed before its fix)."""

from __future__ import annotations

import json

import pytest

from archive.connectors.times import epoch, iso, rfc822
from archive.errors import PayloadInvalid


@pytest.mark.parametrize("value", [10**20, 10**400, 253402300800, -1, float("nan"), True, [1]])
def test_an_epoch_out_of_range_is_a_value_error_the_item_loop_quarantines(value: object) -> None:
    with pytest.raises(ValueError):
        epoch(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00", -1, 1.5])
def test_an_iso_time_that_overflows_utc_or_is_no_string_is_a_value_error(value: object) -> None:
    with pytest.raises(ValueError):
        iso(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["Mon, 31 Feb 2024 99:99:99 +9999", "garbage", 1714637730])
def test_an_unreadable_rfc822_date_is_a_value_error(value: object) -> None:
    with pytest.raises(ValueError):
        rfc822(value)  # type: ignore[arg-type]


def test_a_one_line_error_quoting_a_lone_surrogate_can_be_saved_as_utf8() -> None:
    handle = json.loads('"sundsvik\\ud800"')
    line = PayloadInvalid(f"the token belongs to @{handle}").one_line()
    assert "\\ud800" in line
    line.encode("utf-8")


def test_a_rejection_reason_is_one_line_of_utf8_whoever_wrote_it() -> None:
    from archive.bundles import Rejected, encoded

    url = json.loads('"http://cdn.example/\\r\\n\\tx\\udfff"')
    rejected = Rejected(encoded(url), f"media {url}: cannot request it")
    assert "\n" not in rejected.reason and "\\udfff" in rejected.reason
    rejected.reason.encode("utf-8")
    assert rejected.raw.endswith(b"x\\udfff")


@pytest.mark.parametrize("tweet_id", ["17829239897530408961782923989753040896", "x1", ""])
def test_an_id_that_is_no_snowflake_is_a_value_error(tweet_id: str) -> None:
    from archive.connectors.x import snowflake_time

    with pytest.raises(ValueError):
        snowflake_time(tweet_id)


@pytest.mark.parametrize("wrong", [10**30, 5e-324, 1.5, True, "text", {"a": 1}])
def test_x_includes_and_references_of_the_wrong_type_are_ignored(wrong: object) -> None:
    from archive.connectors.x import _Page, _replied_to

    page = _Page({"includes": {"users": wrong, "media": wrong, "tweets": wrong}, "data": wrong})
    assert page.users == {} and page.media == {} and page.first == {}
    assert _replied_to({"referenced_tweets": wrong}) is None


def test_a_linkedin_id_with_a_lone_surrogate_still_makes_a_path() -> None:
    from archive.connectors.linkedin import _quoted

    assert _quoted(json.loads('"a\\ud83d"')) == "a%5Cud83d"


def test_giving_up_on_a_url_too_long_to_parse_is_a_connector_error() -> None:
    """A 50 000-character media URL from a payload: the give-up message itself must not raise."""
    import httpx

    from archive.connectors.http import Fetcher
    from archive.errors import GaveUp

    with httpx.Client() as client, pytest.raises(GaveUp) as info:
        Fetcher(client, max_tries=1, backoff=0).get("http://127.0.0.1:1/x/" + "#tag " * 10_000)
    assert len(info.value.one_line()) < 400


def test_an_error_answer_to_a_path_too_long_to_parse_again_is_a_connector_error() -> None:
    """An enclosure URL of 30 000 characters: the server answers 414, and the message naming the URL
    must not fail on the URL itself."""
    import httpx

    from archive.connectors.http import Fetcher
    from archive.errors import PayloadInvalid
    from simulator import Simulator

    with Simulator(posts=1, rate_limit=10**9) as sim, httpx.Client() as client, pytest.raises(PayloadInvalid) as info:
        Fetcher(client, max_tries=1, backoff=0).get(sim.wordpress_url + "/rss/" + "<p>" * 10_000, max_bytes=10**6)
    assert "414" in info.value.one_line() and len(info.value.one_line()) < 600
