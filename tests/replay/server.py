"""A loopback HTTP server that answers a connector from recorded platform responses.

The recordings in tests/recordings were made by public SDK test suites against the real platforms;
a replay test chooses which recording answers which request (`Routes`: a function from the request
to an `Answer`, or None for "nothing recorded": a 404 the connector must cope with). The connector
is driven over real HTTP on 127.0.0.1, exactly as in a harvest (tests/driving.py), so what is
tested is the connector's reading of the platform's bytes, not a model of them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

RECORDINGS = Path(__file__).resolve().parent.parent / "recordings"


@dataclass(frozen=True)
class Asked:
    """One request as the replay server received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Answer:
    """A recorded response: status, headers and the exact body bytes."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})

    @classmethod
    def json(cls, obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Answer:
        return cls(status, json.dumps(obj).encode(), {"Content-Type": "application/json", **(headers or {})})

    @classmethod
    def file(cls, path: Path, content_type: str = "application/json") -> Answer:
        return cls(200, path.read_bytes(), {"Content-Type": content_type})


Routes = Callable[[Asked], Answer | None]


@dataclass
class Replay:
    """A running replay server: its base URL and what it was asked."""

    base_url: str
    asked: list[Asked] = field(default_factory=list)
    unmatched: list[Asked] = field(default_factory=list)


@contextmanager
def serving(routes: Routes) -> Iterator[Replay]:
    """Serve `routes` on 127.0.0.1 (a free port) for the block's duration."""
    replay = Replay("")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall each

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            pass

        def do_GET(self) -> None:  # noqa: N802 - stdlib naming
            parts = urlsplit(self.path)
            asked = Asked(
                "GET",
                parts.path,
                parse_qs(parts.query, keep_blank_values=True),
                {k.lower(): v for k, v in self.headers.items()},
            )
            replay.asked.append(asked)
            answer = routes(asked)
            if answer is None:
                replay.unmatched.append(asked)
                answer = Answer.json({"error": "nothing recorded for this request"}, 404)
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    replay.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    # A short poll interval: shutdown() waits for the loop to notice, up to one interval per server.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield replay
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
