from __future__ import annotations

import logging

import pytest

from archive.logs import install_log_redaction, setup_logging
from archive.redact import Secrets, redact_headers, redact_text, redact_url, remember_secret


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


def test_exact_values_are_cut_out_in_every_shape_they_travel_in() -> None:
    """A key with characters URLs and JSON escape is found as is, URL-encoded and JSON-escaped."""
    key = "k3y/with+odd=chars"
    secrets = Secrets([key, "short"])  # under six characters: not a secret (it would cut words out)
    body = f'{{"a":"{key}","b":"k3y\\/with+odd=chars","c":"?x=k3y%2Fwith%2Bodd%3Dchars","d":"short"}}'
    cleaned, count = secrets.bytes(body.encode())
    assert count == 3 and b"k3y" not in cleaned and b'"d":"short"' in cleaned
    assert secrets.text(f"GET /v?q={key}") == "GET /v?q=REDACTED"
    assert not Secrets([]) and Secrets([key])


def test_a_remembered_secret_is_cut_out_of_messages_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    """Flows run under Prefect's handlers, not the CLI's: the record factory redacts every record,
    its message and the traceback a handler would print, whatever handler takes it."""
    remember_secret("plain-key-no-pattern-771")
    install_log_redaction()
    assert "plain-key" not in redact_text("the key plain-key-no-pattern-771 was refused")
    assert "plain-key" not in redact_url("https://x.example/v1/plain-key-no-pattern-771/items")
    caplog.set_level(logging.INFO)
    log = logging.getLogger("some.library")  # no Communis handler or filter on it
    try:
        raise RuntimeError("upstream said: plain-key-no-pattern-771 is invalid")
    except RuntimeError:
        log.exception("call failed for %s", "plain-key-no-pattern-771")
    assert "plain-key" not in caplog.text and "REDACTED" in caplog.text
    assert "RuntimeError: upstream said: REDACTED is invalid" in caplog.text
