"""Alarms reach the webhook as JSON (a real local HTTP server receives them)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer

from archive.harvest.health import AccountHealth, notify


def test_alarm_is_posted_to_the_webhook() -> None:
    received: list[dict[str, object]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - stdlib name
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.handle_request, daemon=True).start()
    problem = AccountHealth(
        "kommun-x",
        "x",
        None,
        datetime(2026, 11, 1, tzinfo=UTC),
        0,
        0,
        3,
        "refused our credentials",
        "failed 3 runs in a row: refused our credentials",
    )
    assert notify(f"http://127.0.0.1:{server.server_port}/hook", [problem])
    server.server_close()
    assert received[0]["accounts"][0]["account"] == "kommun-x"  # type: ignore[index]
    assert "3 runs in a row" in received[0]["accounts"][0]["alarm"]  # type: ignore[index]


def test_a_dead_webhook_is_not_fatal() -> None:
    assert notify("http://127.0.0.1:9/none", []) is False
