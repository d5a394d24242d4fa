"""Bluesky's reference implementation as a test peer: `@atproto/dev-env` (PLC, PDS, AppView) on loopback.

`bluesky/install` puts the pinned npm packages (`bluesky/package-lock.json`) into
~/.cache/communis/bluesky-peer/, once; `scripts/system-packages` installs PostgreSQL, which the
AppView needs. This module runs both for one test session, under a temporary folder: a PostgreSQL
cluster of its own (as user `postgres`, on a free 127.0.0.1 port), and `bluesky/launch.js` on Node
with `bluesky/loopback.js` preloaded, so that every dev-env service listens on 127.0.0.1 only.

Content is written the way a Bluesky client writes it: XRPC calls to the PDS (`createAccount`,
`uploadBlob`, `createRecord`, `putRecord`, `deleteRecord`). The AppView indexes what the PDS emits
asynchronously, so each write is followed by a bounded poll (tests/waiting.py) until the AppView
shows it; nothing sleeps. What the account holds, the ground truth tests compare the archive
with, is read from the PDS (`com.atproto.repo.listRecords`), not from the AppView under test.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from tests.waiting import wait_for

HERE = Path(__file__).resolve().parent / "bluesky"
PG_BINS = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
INSTALL_HINT = "run scripts/system-packages (it installs postgresql)"
POST = "app.bsky.feed.post"


def missing() -> str | None:
    """What the peer needs that is not on the machine, or None."""
    if not PG_BINS or not (PG_BINS[-1] / "initdb").exists():
        return f"PostgreSQL's initdb is missing: {INSTALL_HINT}"
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "Node.js and npm are missing (the machine's Node 20+)"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def stamp(moment: datetime) -> str:
    """An AT Protocol datetime (ISO 8601 in UTC, milliseconds, `Z`)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class Session:
    """A logged-in account on the PDS."""

    did: str
    handle: str
    jwt: str


@dataclass(frozen=True)
class Ref:
    """A written record: its `at://` URI and CID (a strong reference)."""

    uri: str
    cid: str

    def strong(self) -> dict[str, str]:
        return {"uri": self.uri, "cid": self.cid}


@dataclass
class BlueskyPeer:
    """A running dev-env network: the PDS to write to and the AppView the connector harvests."""

    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="communis-bluesky-")))
    pds: str = ""
    appview: str = ""
    plc: str = ""
    install: Path | None = None
    started_s: float = 0.0
    _node: subprocess.Popen[bytes] | None = None
    _pg_port: int = 0
    _accounts: int = 0

    # ---- lifecycle ---------------------------------------------------------------------------
    def start(self) -> BlueskyPeer:
        reason = missing()
        if reason:
            raise RuntimeError(f"bluesky peer: {reason}")
        done = subprocess.run([str(HERE / "install")], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"bluesky peer: the npm install failed: {done.stderr.strip()[-2000:]}")
        self.install = Path(done.stdout.strip().splitlines()[-1])
        try:
            self._start_postgres()
            self._start_network()
        except BaseException:
            self.stop()  # nothing of a half-started peer is left running or on disk
            raise
        return self

    def stop(self) -> None:
        if self._node is not None and self._node.poll() is None:
            self._node.send_signal(signal.SIGTERM)
            try:
                self._node.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self._node.kill()
                self._node.wait()
        if (self.tmp / "pg" / "PG_VERSION").exists():
            subprocess.run(
                [
                    "runuser",
                    "-u",
                    "postgres",
                    "--",
                    str(PG_BINS[-1] / "pg_ctl"),
                    "-D",
                    str(self.tmp / "pg"),
                    "-m",
                    "fast",
                    "-w",
                    "stop",
                ],
                capture_output=True,
                check=False,
            )
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> BlueskyPeer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _start_postgres(self) -> None:
        """A cluster of the peer's own, owned by `postgres` (PostgreSQL refuses to run as root)."""
        os.chmod(self.tmp, 0o755)
        data, sock = self.tmp / "pg", self.tmp / "pgsock"
        for folder in (data, sock):
            folder.mkdir(mode=0o700)
            shutil.chown(folder, "postgres")
        as_pg = ["runuser", "-u", "postgres", "--"]
        made = subprocess.run(
            [
                *as_pg,
                str(PG_BINS[-1] / "initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "LC_ALL": "C"},
        )
        if made.returncode != 0:
            raise RuntimeError(f"bluesky peer: initdb failed: {(made.stderr or made.stdout).strip()[-1500:]}")
        self._pg_port = _free_port()
        started = subprocess.run(
            [
                *as_pg,
                str(PG_BINS[-1] / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(sock / "log"),
                "-o",
                f"-h 127.0.0.1 -p {self._pg_port} -k {sock} -c fsync=off",
                "-w",
                "start",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if started.returncode != 0:
            log = (sock / "log").read_text(errors="replace") if (sock / "log").exists() else ""
            raise RuntimeError(f"bluesky peer: PostgreSQL did not start: {started.stderr.strip()} {log[-1500:]}")

    def _start_network(self) -> None:
        assert self.install is not None
        out, err = self.tmp / "node.out", self.tmp / "node.err"
        node_tmp = self.tmp / "node-tmp"  # the PDS keeps its data and blobs under os.tmpdir()
        node_tmp.mkdir()
        env = {
            **os.environ,
            "NODE_PATH": str(self.install / "node_modules"),
            "TMPDIR": str(node_tmp),
            "DB_POSTGRES_URL": f"postgresql://postgres@127.0.0.1:{self._pg_port}/postgres",
            "DB_POSTGRES_SCHEMA": "communis",
            "REDIS_HOST": "127.0.0.1:1",
            "LOG_ENABLED": "false",
            "NODE_NO_WARNINGS": "1",
        }
        started = datetime.now(UTC)
        with out.open("wb") as stdout, err.open("wb") as stderr:
            self._node = subprocess.Popen(
                ["node", "-r", str(HERE / "loopback.js"), str(HERE / "launch.js")],
                stdin=subprocess.PIPE,
                stdout=stdout,
                stderr=stderr,
                env=env,
                cwd=self.tmp,
            )

        def ready() -> dict[str, Any] | None:
            for line in out.read_text(errors="replace").splitlines():
                if line.startswith("{"):
                    found: dict[str, Any] = json.loads(line)
                    return found
            return None

        def exited() -> str | None:
            if self._node is not None and self._node.poll() is not None:
                return f"node exited ({self._node.returncode}): {err.read_text(errors='replace')[-2000:]}"
            return None

        urls = wait_for(ready, "the Bluesky dev-env network to start", gone=exited)
        self.started_s = (datetime.now(UTC) - started).total_seconds()
        self.pds = urls["pds"].replace("localhost", "127.0.0.1")
        self.appview = urls["appview"].replace("localhost", "127.0.0.1")
        self.plc = urls["plc"].replace("localhost", "127.0.0.1")

    # ---- XRPC ---------------------------------------------------------------------------------
    def _call(
        self,
        method: str,
        *,
        session: Session | None = None,
        body: Any = None,
        params: Any = None,
        content: bytes | None = None,
        content_type: str | None = None,
        base: str | None = None,
    ) -> Any:
        headers = {"Authorization": f"Bearer {session.jwt}"} if session else {}
        if content_type:
            headers["Content-Type"] = content_type
        url = f"{base or self.pds}/xrpc/{method}"
        if body is None and content is None:
            response = httpx.get(url, params=params, headers=headers, timeout=60)
        else:
            response = httpx.post(url, json=body, content=content, headers=headers, timeout=60)
        if response.status_code != 200:
            raise RuntimeError(f"bluesky peer: {method} answered {response.status_code}: {response.text[:500]}")
        return response.json() if response.content else None

    def account(self, name: str, display_name: str | None = None, *, wait: bool = True) -> Session:
        """A new account `name-N.test` (N makes it unique in the session), with a profile name."""
        self._accounts += 1
        handle = f"{name}-{self._accounts}.test"
        made = self._call(
            "com.atproto.server.createAccount",
            body={"handle": handle, "email": f"{name}-{self._accounts}@example.test", "password": "peer-password"},
        )
        session = Session(made["did"], made["handle"], made["accessJwt"])
        if display_name:
            self._call(
                "com.atproto.repo.putRecord",
                session=session,
                body={
                    "repo": session.did,
                    "collection": "app.bsky.actor.profile",
                    "rkey": "self",
                    "record": {"$type": "app.bsky.actor.profile", "displayName": display_name},
                },
            )
        if wait:
            self.wait_profiles(session)
        return session

    def wait_profiles(self, *sessions: Session) -> None:
        """Wait until the AppView knows every one of the accounts."""
        wait_for(
            lambda: all(self._appview_ok("app.bsky.actor.getProfile", {"actor": s.did}) for s in sessions),
            f"the AppView to index {', '.join(s.handle for s in sessions)}",
        )

    def _appview_ok(self, method: str, params: Mapping[str, str | list[str]]) -> Any:
        response = httpx.get(f"{self.appview}/xrpc/{method}", params=params, timeout=60)
        return response.json() if response.status_code == 200 else None

    def image(self, session: Session, data: bytes, mime: str = "image/png") -> dict[str, Any]:
        blob: dict[str, Any] = self._call(
            "com.atproto.repo.uploadBlob", session=session, content=data, content_type=mime
        )["blob"]
        return blob

    def post(
        self,
        session: Session,
        text: str,
        *,
        reply_to: Ref | None = None,
        root: Ref | None = None,
        images: list[dict[str, Any]] | None = None,
        quote: Ref | None = None,
        facets: list[dict[str, Any]] | None = None,
        card: dict[str, str] | None = None,
        created_at: datetime | None = None,
        wait: bool = True,
    ) -> Ref:
        """Write a post (a reply when `reply_to`; a quote when `quote`, with `images` a quote with media)."""
        record: dict[str, Any] = {"$type": POST, "text": text, "createdAt": stamp(created_at or datetime.now(UTC))}
        if reply_to is not None:
            record["reply"] = {"root": (root or reply_to).strong(), "parent": reply_to.strong()}
        shown: dict[str, Any] | None = None
        if images:
            shown = {
                "$type": "app.bsky.embed.images",
                "images": [{"alt": f"Bild {n + 1}", "image": b} for n, b in enumerate(images)],
            }
        elif card:
            shown = {"$type": "app.bsky.embed.external", "external": {"description": "", "title": "", **card}}
        if quote is not None:
            quoted = {"$type": "app.bsky.embed.record", "record": quote.strong()}
            record["embed"] = (
                quoted
                if shown is None
                else {"$type": "app.bsky.embed.recordWithMedia", "record": quoted, "media": shown}
            )
        elif shown is not None:
            record["embed"] = shown
        if facets:
            record["facets"] = facets
        made = self._call(
            "com.atproto.repo.createRecord",
            session=session,
            body={"repo": session.did, "collection": POST, "record": record},
        )
        ref = Ref(made["uri"], made["cid"])
        if wait:
            self.wait_shown(ref.uri)
        return ref

    def edit(self, session: Session, ref: Ref, text: str) -> Ref:
        """Rewrite a post's text (`putRecord` on its rkey: a new CID, as an edit is on AT Protocol)."""
        rkey = ref.uri.rsplit("/", 1)[-1]
        record = self._call(
            "com.atproto.repo.getRecord", params={"repo": session.did, "collection": POST, "rkey": rkey}
        )["value"]
        record = {k: v for k, v in record.items() if k != "facets"}  # their byte ranges were the old text's
        made = self._call(
            "com.atproto.repo.putRecord",
            session=session,
            body={
                "repo": session.did,
                "collection": POST,
                "rkey": rkey,
                "record": {**record, "text": text},
                "swapRecord": ref.cid,
            },
        )
        new = Ref(made["uri"], made["cid"])
        wait_for(lambda: self._shown_cid(new.uri) == new.cid, f"the AppView to show the edit of {ref.uri}")
        return new

    def repost(self, session: Session, ref: Ref) -> Ref:
        made = self._call(
            "com.atproto.repo.createRecord",
            session=session,
            body={
                "repo": session.did,
                "collection": "app.bsky.feed.repost",
                "record": {
                    "$type": "app.bsky.feed.repost",
                    "subject": ref.strong(),
                    "createdAt": stamp(datetime.now(UTC)),
                },
            },
        )
        wait_for(lambda: self._reposted_by(ref.uri, session.did), f"the AppView to index the repost of {ref.uri}")
        return Ref(made["uri"], made["cid"])

    def block(self, session: Session, target: Session) -> Ref:
        """`session` blocks `target` (an `app.bsky.graph.block` record), once the AppView lists the block."""
        made = self._call(
            "com.atproto.repo.createRecord",
            session=session,
            body={
                "repo": session.did,
                "collection": "app.bsky.graph.block",
                "record": {
                    "$type": "app.bsky.graph.block",
                    "subject": target.did,
                    "createdAt": stamp(datetime.now(UTC)),
                },
            },
        )
        wait_for(lambda: target.did in self.blocked(session), f"the AppView to list {session.handle}'s block")
        return Ref(made["uri"], made["cid"])

    def unblock(self, session: Session, block: Ref, target: Session) -> None:
        """Delete a block record, once the AppView no longer lists the block."""
        self.delete(session, block)
        wait_for(lambda: target.did not in self.blocked(session), f"the AppView to drop {session.handle}'s block")

    def blocked(self, session: Session) -> set[str]:
        """The DIDs `session` blocks as the AppView answers its `getBlocks` (through the PDS, as a client asks)."""
        found = self._call("app.bsky.graph.getBlocks", session=session, params={"limit": "100"})
        return {p["did"] for p in found["blocks"]}

    def delete(self, session: Session, ref: Ref) -> None:
        """Delete a record (a post, a reply, a repost) and wait until the AppView no longer shows it."""
        collection, rkey = ref.uri.rsplit("/", 2)[-2:]
        self._call(
            "com.atproto.repo.deleteRecord",
            session=session,
            body={"repo": session.did, "collection": collection, "rkey": rkey},
        )
        if collection == POST:
            wait_for(lambda: self._shown_cid(ref.uri) == "", f"the AppView to drop {ref.uri}")

    def wait_shown(self, *uris: str) -> None:
        """Wait until the AppView shows every one of the posts (asked for 25 at a time)."""
        for start in range(0, len(uris), 25):
            batch = list(uris[start : start + 25])

            def shown(batch: list[str] = batch) -> bool:
                found = self._appview_ok("app.bsky.feed.getPosts", {"uris": batch})
                return found is not None and {p["uri"] for p in found["posts"]} >= set(batch)

            wait_for(shown, f"the AppView to index {len(batch)} posts from {batch[0]}")

    def _shown_cid(self, uri: str) -> str | None:
        """The CID the AppView shows for a post; "" when it shows none; None when it did not answer."""
        found = self._appview_ok("app.bsky.feed.getPosts", {"uris": uri})
        if found is None:
            return None
        return next((str(p["cid"]) for p in found["posts"] if p["uri"] == uri), "")

    def _reposted_by(self, uri: str, did: str) -> bool | None:
        """Whether the AppView lists `did` among the reposters of `uri`; None when it did not answer."""
        found = self._appview_ok("app.bsky.feed.getRepostedBy", {"uri": uri})
        return None if found is None else any(a["did"] == did for a in found["repostedBy"])

    def wait_reposts_gone(self, uri: str, did: str) -> None:
        """After deleting a repost record: wait until the AppView no longer lists the reposter."""
        wait_for(lambda: self._reposted_by(uri, did) is False, f"the AppView to drop {did}'s repost of {uri}")

    def records(self, did: str, collection: str = POST) -> list[dict[str, Any]]:
        """Every record of a collection in an account's repository, from the PDS (the ground truth)."""
        out: list[dict[str, Any]] = []
        params: dict[str, str] = {"repo": did, "collection": collection, "limit": "100"}
        while True:
            page = self._call("com.atproto.repo.listRecords", params=params)
            out += page["records"]
            if not page.get("cursor") or not page["records"]:
                return out
            params = {**params, "cursor": page["cursor"]}


def mention(text: str, handle: str, did: str) -> list[dict[str, Any]]:
    """The mention facet of `@handle` in `text` (byte offsets, as the lexicon wants)."""
    start = text.encode().index(f"@{handle}".encode())
    return [
        {
            "index": {"byteStart": start, "byteEnd": start + len(handle.encode()) + 1},
            "features": [{"$type": "app.bsky.richtext.facet#mention", "did": did}],
        }
    ]


_shared: BlueskyPeer | None = None


def shared() -> BlueskyPeer:
    """The session's one peer, started on first use and stopped when the test process ends (a
    network starts in seconds but holds ~400 MB: one for every test, each with its own accounts)."""
    global _shared
    if _shared is None:
        import atexit

        _shared = BlueskyPeer().start()
        atexit.register(_shared.stop)
    return _shared
