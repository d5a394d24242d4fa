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
