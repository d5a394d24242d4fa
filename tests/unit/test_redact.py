from __future__ import annotations

import logging

import pytest

from archive.logs import setup_logging
from archive.redact import redact_headers, redact_text, redact_url


def test_url_params_and_userinfo_are_redacted() -> None:
    url = "https://u:pw@graph.example/v19/me/feed?access_token=EAAB123&limit=100&client_secret=zz"
    out = redact_url(url)
    assert "EAAB123" not in out and "zz" not in out and "pw" not in out
    assert "limit=100" in out


def test_harmless_url_is_untouched() -> None:
    url = "https://m.example/api/v1/accounts/1/statuses?limit=40&max_id=9"
    assert redact_url(url) == url


def test_headers() -> None:
    out = dict(redact_headers([("Authorization", "Bearer abc"), ("Accept", "application/json"), ("cookie", "a=b")]))
    assert out == {"Authorization": "REDACTED", "Accept": "application/json", "cookie": "REDACTED"}


def test_log_lines_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    setup_logging(logging.INFO)
    for handler in logging.getLogger().handlers:
        caplog.handler.filters = handler.filters
    logging.getLogger("archive.test").warning(
        "GET %s with Authorization: Bearer %s", "https://x.example/?access_token=SECRET1", "SECRET2abcdef"
    )
    assert "SECRET1" not in caplog.text and "SECRET2abcdef" not in caplog.text
    assert redact_text("token=abc") == "token=REDACTED"


@pytest.mark.parametrize(
    "link", ["https://gra\x00ph.example/next?access_token=SECRETNEXT123", "http://[::1/next?access_token=SECRETNEXT123"]
)
def test_a_next_link_that_is_no_url_is_refused_without_its_token(link: str) -> None:
    """A payload's next link can carry the account's token (Graph `paging.next`); when it cannot be
    requested, the one-line reason (quarantine, state, log) must not carry the token either."""
    import httpx

    from archive.connectors.http import Fetcher
    from archive.errors import PayloadInvalid

    with httpx.Client() as client, pytest.raises(PayloadInvalid) as info:
        Fetcher(client, api_host="graph.example").get(link)
    assert "SECRETNEXT123" not in info.value.one_line() and "REDACTED" in info.value.one_line()


def test_an_unexpected_error_is_recorded_without_a_token() -> None:
    from archive.harvest.runner import unexpected

    line = unexpected(RuntimeError("GET https://x.example/v1?api_key=SECRETKEY999 blew up\nsecond line"))
    assert line.startswith("unexpected RuntimeError: GET") and "SECRETKEY999" not in line and "\n" not in line
