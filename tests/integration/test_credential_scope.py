"""An account's credential goes to its platform's API host only: media on other hosts (the CDNs)
are fetched without the Authorization header or the API key."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from archive.config import Settings
from archive.connectors.registry import connector_for
from archive.harvest.runner import open_fetcher
from schemas import Account

SECRET = "scoped-secret-4411"


@pytest.fixture
def server() -> Iterator[tuple[int, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []

    class Recorder(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            seen.append(
                {
                    "host": self.headers.get("Host"),
                    "path": self.path,
                    "authorization": self.headers.get("Authorization"),
                }
            )
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1], seen
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize("platform", ["x", "youtube", "flickr"])
def test_credential_goes_to_the_api_host_only(
    server: tuple[int, list[dict[str, Any]]], platform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    port, seen = server
    monkeypatch.setenv("SCOPED_SECRET", SECRET)
    account = Account(
        id="scoped",
        platform=platform,
        handle="sundsvik",
        display_name="Sundsvik",
        department="Kommunstyrelsen",
        retention_class="social-10y",
        base_url=f"http://127.0.0.1:{port}",
        credentials={"env": "SCOPED_SECRET"},
    )
    with open_fetcher(Settings(), account, connector_for(platform)) as fetcher:
        fetcher.get(f"http://127.0.0.1:{port}/api/list")
        fetcher.get(f"http://localhost:{port}/cdn/photo.png")  # another host name: a CDN
    api, cdn = seen
    assert SECRET in (api["authorization"] or "") + api["path"]
    assert cdn["host"].startswith("localhost") and cdn["authorization"] is None and SECRET not in cdn["path"]
