"""Issue 15, finding 2: a platform key never lands anywhere (a message, a record, quarantine, a log, a
WARC), even when the platform echoes it.

A YouTube account (`key=`) and a Flickr account (`api_key=`) on the simulator each have a distinctive
key. The platforms then do what real ones sometimes do: an error page repeats the request's URL, key
and all (a 400 whose body the harvester quotes); a broken answer that repeats it is quarantined; a video
and a photo carry the key in their text; a 429 asks for a wait longer than the harvester accepts, so
the run fails with a message about the request (`last_error` in the write-once state, the Prefect
flow's message and artifact, and the alert webhook, configured here to a receiver on loopback). The
harvest runs as the real Prefect flow (the test harness: a Prefect server on a temporary SQLite
database), storing in the real MinIO and indexing in the real Elasticsearch.

Then every sink is searched for the keys' bytes: every object under the test's S3 prefix (harvest
state, quarantine, manifests, WARC files decompressed; base64 in JSON decoded), every document of the
test's index, Prefect's database file (flow and task states, logs, artifacts), its home folder (result
storage), its artifacts, runs and states read through its client, the webhook bodies, and every log
record and line the process wrote. The sinks that held the key before the fix must show the REDACTED
marker (or the message) where it was, so a sink that never saw the key cannot pass for a clean one.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import sqlite3
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

# Prefect sets up its console log handler when it is first imported, on the stream sys.stderr is then.
# Imported here, at collection, that is pytest's session-long capture; imported inside the test it would
# be the test's own `capfd` stream, closed when the test ends, and every later flow test's logging would
# fail on it (RecursionError, "I/O operation on closed file").
from prefect.logging.handlers import APILogHandler
from prefect.testing.utilities import prefect_test_harness

from archive.config import Settings, get_settings
from archive.context import Archive
from flows.harvest import harvest
from simulator import Simulator
from tests.conftest import s3_environment
from tests.harvesting import state_of
from tests.waiting import PREFECT_STARTUP_S

pytestmark = pytest.mark.integration

YT_KEY = "AIzaSyLeakTestYt7f3e9a2c41d8b6e0_x-9"
FL_KEY = "f1c4e5a7b9d2leak0c5b8e1d94a7f2aa"
KEYS = (YT_KEY.encode(), FL_KEY.encode())
MARKER = b"REDACTED"


# ---- finding the key in bytes that may be compressed or base64 inside JSON --------------------------
def _gunzip(data: bytes) -> bytes:
    """Every gzip member of `data` (a WARC file is one member per record)."""
    out, rest = [], data
    while rest[:2] == b"\x1f\x8b":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out.append(inflater.decompress(rest))
        rest = inflater.unused_data
    return b"".join(out)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def readable(data: bytes, depth: int = 0) -> Iterator[bytes]:
    """`data` and everything inside it a reader could decode: gzip members, base64 strings in JSON."""
    yield data
    if depth > 3:
        return
    if data[:2] == b"\x1f\x8b":
        yield from readable(_gunzip(data), depth + 1)
        return
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return
    for text in _strings(doc):
        if len(text) >= 12 and len(text) % 4 == 0:
            try:
                decoded = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                continue
            yield from readable(decoded, depth + 1)


def leaks(data: bytes) -> list[bytes]:
    """The keys found anywhere in `data`."""
    return [key for key in KEYS for blob in readable(data) if key in blob]


def marked(data: bytes) -> bool:
    return any(MARKER in blob for blob in readable(data))


# ---- the loopback alert receiver ----------------------------------------------------------------------
@pytest.fixture
def webhook() -> Iterator[tuple[str, list[bytes]]]:
    bodies: list[bytes] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - stdlib name
            bodies.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/alerts", bodies
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(posts=3, rate_limit=10**9) as running:
        running.apply([{"type": "youtube.set_token", "token": YT_KEY}, {"type": "flickr.set_token", "token": FL_KEY}])
        yield running


@pytest.fixture
def env(
    s3_settings: Settings,
    sim: Simulator,
    webhook: tuple[str, list[bytes]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Settings]:
    accounts = tmp_path / "accounts.yaml"
    accounts.write_text(
        yaml.safe_dump(
            {
                "accounts": [
                    {
                        "id": "sv-leak-youtube",
                        "platform": "youtube",
                        "handle": "@sundsvikkommun",
                        "display_name": "Sundsvik Play",
                        "department": "Kultur- och fritidsnämnden",
                        "retention_class": "social-10y",
                        "base_url": sim.url("youtube"),
                        "credentials": {"env": "LEAK_YT_KEY"},
                    },
                    {
                        "id": "sv-leak-flickr",
                        "platform": "flickr",
                        "handle": "sundsvikkommun",
                        "display_name": "Sundsvik i bild",
                        "department": "Kommunstyrelsen",
                        "retention_class": "social-10y",
                        "base_url": sim.url("flickr"),
                        "credentials": {"env": "LEAK_FL_KEY"},
                    },
                ]
            }
        )
    )
    s = s3_settings
    values = {
        "LEAK_YT_KEY": YT_KEY,
        "LEAK_FL_KEY": FL_KEY,
        **s3_environment(s),
        "COMMUNIS_ACCOUNTS_FILE": str(accounts),
        "COMMUNIS_HARVEST_LOOKBACK_DAYS": "3650",
        "COMMUNIS_ALERT_WEBHOOK_URL": webhook[0],
        "COMMUNIS_ALERT_AFTER_FAILURES": "1",
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
    }
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    settings = get_settings()
    yield settings
    Archive(settings).index.destroy()
    get_settings.cache_clear()


def _platform_echoes_and_fails(sim: Simulator) -> None:
    """Run 1: the key in a video's and a photo's text; an error page and a broken page that repeat the
    request's URL (key included)."""
    sim.apply(
        [
            {"type": "youtube.publish", "text": f"Felsökning: nyckeln {YT_KEY} skickades med av misstag."},
            {"type": "flickr.publish", "text": f"Testbild (api_key={FL_KEY})", "title": "Testbild"},
            # The first comment-thread request answers 400 with the URL in the body; the next one is cut.
            {
                "type": "fault",
                "kind": "status",
                "status": 400,
                "echo": True,
                "match": {"platform": "youtube", "path_prefix": "/yt/commentThreads"},
            },
            {
                "type": "fault",
                "kind": "malformed",
                "variant": "truncated",
                "echo": True,
                "match": {"platform": "youtube", "path_prefix": "/yt/commentThreads"},
            },
            {
                "type": "fault",
                "kind": "status",
                "status": 400,
                "echo": True,
                "match": {"platform": "flickr", "query": "method=flickr.photos.comments.getList"},
            },
        ]
    )


def _platforms_throttle(sim: Simulator) -> None:
    """Run 2: both platforms ask for a wait of days: each account's run fails with a message naming
    the request, the accounts alarm (after one failure here), and the webhook is called."""
    sim.apply(
        [
            {"type": "faults.clear"},
            *(
                {"type": "fault", "kind": "rate_limit", "retry_after": 10**6, "count": None, "match": {"platform": p}}
                for p in ("youtube", "flickr")
            ),
        ]
    )


def _prefect_sinks() -> tuple[list[tuple[str, bytes]], Path]:
    """What Prefect holds of this harness's runs, read through its client; and its database file."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL

    found: list[tuple[str, bytes]] = []
    with get_client(sync_client=True) as client:
        for artifact in client.read_artifacts():
            found.append((f"artifact {artifact.key}", json.dumps(artifact.model_dump(mode="json")).encode()))
        for run in client.read_flow_runs():
            found.append((f"flow run {run.name}", json.dumps(run.model_dump(mode="json")).encode()))
            for state in client.read_flow_run_states(run.id):
                found.append((f"flow run state {run.name}", json.dumps(state.model_dump(mode="json")).encode()))
        for task in client.read_task_runs():
            found.append((f"task run {task.name}", json.dumps(task.model_dump(mode="json")).encode()))
    database = Path(PREFECT_SERVER_DATABASE_CONNECTION_URL.value().split("///", 1)[1])
    return found, database


def test_no_platform_key_reaches_any_sink(
    env: Settings,
    sim: Simulator,
    webhook: tuple[str, list[bytes]],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.INFO)
    # A deployment that sends the archive's own log lines to Prefect too (PREFECT_LOGGING_EXTRA_LOGGERS)
    # stores them in the run's log table: so does this test, and every Prefect log reaches caplog.
    api_handler = APILogHandler()
    archive_logger, prefect_logger = logging.getLogger("archive"), logging.getLogger("prefect")
    archive_logger.addHandler(api_handler)
    prefect_logger.addHandler(caplog.handler)
    try:
        with prefect_test_harness(server_startup_timeout=PREFECT_STARTUP_S):
            _platform_echoes_and_fails(sim)
            first = harvest(return_state=True)
            _platforms_throttle(sim)
            second = harvest(return_state=True)
            prefect_found, database = _prefect_sinks()
        # The harness drained the run logs into its database as it closed; the file stays until exit.
    finally:
        archive_logger.removeHandler(api_handler)
        prefect_logger.removeHandler(caplog.handler)

    arc = Archive(env)
    hits = [r for r in sim.requests() if "key=" in r.path]
    assert hits, "the harvester sent no key: nothing was tested"
    assert first.is_completed(), first.message
    assert second.is_failed(), second.message

    sinks: dict[str, list[tuple[str, bytes]]] = {}
    # The store: harvest state, quarantine, manifests, WARC files (and anything else under the prefix).
    sinks["store"] = [(key, arc.store.open(key).read()) for key in sorted(arc.store.keys(""))]
    # The index: every document of the test's indices.
    arc.index.es.indices.refresh(index=f"{env.es_index_prefix}*")
    docs = arc.index.es.search(index=f"{env.es_index_prefix}*", size=10_000, query={"match_all": {}})
    sinks["index"] = [(hit["_id"], json.dumps(hit["_source"]).encode()) for hit in docs["hits"]["hits"]]
    # Prefect: its client's view, the database file (with its write-ahead log), and the log table.
    sinks["prefect"] = prefect_found + [
        (path.name, path.read_bytes()) for path in sorted(database.parent.glob(database.name + "*"))
    ]
    # Its home (result storage, local files), wherever a run might have persisted something.
    home = Path(os.environ["PREFECT_HOME"])
    sinks["prefect"] += [(str(p), p.read_bytes()) for p in sorted(home.rglob("*")) if p.is_file()]
    with sqlite3.connect(database) as db:
        logs = [row[0].encode() for row in db.execute("SELECT message FROM log")]
    sinks["prefect logs"] = [("log table", b"\n".join(logs))]
    sinks["webhook"] = [(f"POST {i}", body) for i, body in enumerate(webhook[1])]
    captured = capfd.readouterr()
    sinks["log output"] = [
        ("caplog", caplog.text.encode()),
        ("records", "\n".join(r.getMessage() for r in caplog.records).encode()),
        ("stderr", captured.err.encode()),
        ("stdout", captured.out.encode()),
    ]

    found = {name: [what for what, data in items if leaks(data)] for name, items in sinks.items()}
    assert not any(found.values()), f"a key was found in: {found}"

    # Not vacuous: the key was there to be cut out, and the marker stands where it was.
    for account in ("sv-leak-youtube", "sv-leak-flickr"):
        error = state_of(arc, account).last_error
        assert error is not None and "429" in error, (account, error)
    quarantined = [(k, d) for k, d in sinks["store"] if k.startswith("quarantine/")]
    warcs = [(k, d) for k, d in sinks["store"] if k.startswith("warc/")]
    assert any(marked(d) for _, d in quarantined), "no quarantined answer held the echoed key"
    reasons = [json.loads(d)["reason"] for _, d in quarantined]
    for platform in ("yt", "flickr"):  # the error page quoted in the reason, its echo of the key cut out
        assert any("HTTP 400" in r and f"/{platform}/" in r and "REDACTED" in r for r in reasons), reasons
    assert any(b"Communis-Redacted:" in _gunzip(d) for _, d in warcs), "no WARC record says it was redacted"
    assert any(marked(d) for _, d in sinks["index"]), "no record held the key"
    assert webhook[1], "the alert webhook was not called"
    assert any(b"429" in body for body in webhook[1])
    assert any(MARKER in d for _, d in sinks["prefect logs"])
