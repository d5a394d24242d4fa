"""A real TCP proxy between Communis and a service, controlled by the test: cut, restore, reset, slow.

The proxy runs an asyncio loop in one daemon thread and listens on 127.0.0.1 (an ephemeral port).
Every state change is made by test code, either directly (`cut()`, `restore()`, `reset()`) or by a
trigger tied to progress, never to a clock: the nth client→service chunk containing a byte pattern
(`cut_on(b"POST /_bulk")`), the kth connection (`cut_at_connection(k)`), or more than N bytes
forwarded to the service (`cut_after_bytes(N)`). A cut can end by itself after the client has been
refused a given number of times (`restore_after_refusals=`), which models an outage that a client's
retries ride out, again counted in attempts, not seconds.

Modes of a cut:
- default: the listening socket stays open; every existing connection and every new one is closed
  with a TCP RST (the client sees "connection reset"). Refused attempts are counted.
- `refuse=True`: the listening socket is closed too, so new connections get ECONNREFUSED; `restore()`
  listens again on the same port.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

_LINGER_RST = struct.pack("ii", 1, 0)
_METHODS = {b"GET", b"PUT", b"POST", b"HEAD", b"DELETE", b"PATCH", b"OPTIONS"}


def _rst(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST (SO_LINGER 0) instead of an orderly FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RST)
    writer.transport.abort()


@dataclass
class _Trigger:
    pattern: bytes | None = None
    nth: int = 1
    seen: int = 0
    after_bytes: int | None = None
    at_connection: int | None = None
    refuse: bool = False
    restore_after_refusals: int | None = None


@dataclass(eq=False)
class _Conn:
    client: asyncio.StreamWriter
    server: asyncio.StreamWriter | None = None
    tail: bytes = b""
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class Proxy:
    """`with Proxy("127.0.0.1", 9200) as p: settings.es_url = p.url` — then cut and restore it."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.connections = 0
        self.refusals = 0
        self.bytes_up = 0
        self.bytes_down = 0
        self.requests: list[bytes] = []
        """First line of every client→service chunk that starts an HTTP request (for failure messages)."""
        self.cuts = 0
        """How many times the proxy was cut (a test asserts > 0: the outage really happened)."""
        self._cut = False
        self._refusing = False
        self._restore_after: int | None = None
        self._slow: tuple[int, float] | None = None
        self._triggers: list[_Trigger] = []
        self._conns: set[_Conn] = set()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="test-proxy", daemon=True)

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> Proxy:
        self._thread.start()
        self._call(self._listen())
        return self

    def stop(self) -> None:
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def __enter__(self) -> Proxy:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- control (from the test's thread) --------------------------------------------------

    def cut(self, *, refuse: bool = False, restore_after_refusals: int | None = None) -> None:
        """Cut now: existing connections are reset, new ones reset (or refused with `refuse`)."""
        self._call(self._do_cut(refuse, restore_after_refusals))

    def restore(self) -> None:
        """Let connections through again."""
        self._call(self._do_restore())

    def reset(self) -> None:
        """RST every open connection once; new connections go through."""
        self._call(self._reset_all())

    def slow(self, chunk_bytes: int, delay_seconds: float) -> None:
        """Forward at most `chunk_bytes` at a time with a pause between chunks (both directions).

        For exercising client timeouts; never a means of synchronisation."""
        self._slow = (chunk_bytes, delay_seconds)

    def fast(self) -> None:
        self._slow = None

    @property
    def is_cut(self) -> bool:
        return self._cut

    def cut_on(
        self, pattern: bytes, nth: int = 1, *, refuse: bool = False, restore_after_refusals: int | None = None
    ) -> None:
        """Cut when the nth client→service chunk containing `pattern` arrives; that chunk is not forwarded."""
        self._triggers.append(
            _Trigger(pattern=pattern, nth=nth, refuse=refuse, restore_after_refusals=restore_after_refusals)
        )

    def cut_after_bytes(self, n: int, *, refuse: bool = False, restore_after_refusals: int | None = None) -> None:
        """Cut when forwarding a chunk would take the bytes sent to the service past `n`."""
        self._triggers.append(_Trigger(after_bytes=n, refuse=refuse, restore_after_refusals=restore_after_refusals))

    def cut_at_connection(self, k: int, *, refuse: bool = False, restore_after_refusals: int | None = None) -> None:
        """Cut when the kth connection (counted from now on) is accepted; it is reset."""
        self._triggers.append(
            _Trigger(at_connection=self.connections + k, refuse=refuse, restore_after_refusals=restore_after_refusals)
        )

    # --- inside the loop --------------------------------------------------------------------

    def _call(self, coro: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        await self._reset_all()

    async def _do_cut(self, refuse: bool, restore_after: int | None) -> None:
        self._cut = True
        self.cuts += 1
        self._restore_after = restore_after
        self.refusals = 0
        if refuse and self._server is not None:
            self._refusing = True
            self._server.close()
            self._server = None
        await self._reset_all()

    async def _do_restore(self) -> None:
        self._cut = False
        self._restore_after = None
        if self._refusing:
            self._refusing = False
            await self._listen()

    async def _reset_all(self) -> None:
        for conn in list(self._conns):
            self._drop(conn)

    def _drop(self, conn: _Conn) -> None:
        _rst(conn.client)
        if conn.server is not None:
            _rst(conn.server)
        self._conns.discard(conn)

    async def _fire(self, trig: _Trigger) -> None:
        self._triggers.remove(trig)
        await self._do_cut(trig.refuse, trig.restore_after_refusals)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        for trig in list(self._triggers):
            if trig.at_connection is not None and self.connections >= trig.at_connection:
                await self._fire(trig)
        if self._cut:
            self.refusals += 1
            _rst(writer)
            if self._restore_after is not None and self.refusals >= self._restore_after:
                await self._do_restore()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            _rst(writer)
            return
        conn = _Conn(writer, up_writer)
        self._conns.add(conn)
        conn.tasks = [
            asyncio.create_task(self._pump(conn, reader, up_writer, upstream=True)),
            asyncio.create_task(self._pump(conn, up_reader, writer, upstream=False)),
        ]

    async def _matches(self, conn: _Conn, chunk: bytes) -> _Trigger | None:
        window = conn.tail + chunk
        for trig in self._triggers:
            if trig.pattern is not None and trig.pattern in window:
                trig.seen += 1
                if trig.seen >= trig.nth:
                    return trig
            if trig.after_bytes is not None and self.bytes_up + len(chunk) > trig.after_bytes:
                return trig
        longest = max((len(t.pattern) for t in self._triggers if t.pattern), default=1)
        conn.tail = window[-(longest - 1) :] if longest > 1 else b""
        return None

    async def _pump(
        self, conn: _Conn, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, upstream: bool
    ) -> None:
        try:
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                if upstream:
                    if chunk[:8].split(b" ", 1)[0] in _METHODS:
                        self.requests.append(chunk.split(b"\r\n", 1)[0])
                    trig = await self._matches(conn, chunk)
                    if trig is not None:
                        await self._fire(trig)
                        return
                if conn not in self._conns:
                    return
                slow = self._slow
                parts = [chunk[i : i + slow[0]] for i in range(0, len(chunk), slow[0])] if slow else [chunk]
                for part in parts:
                    writer.write(part)
                    await writer.drain()
                    if slow:
                        await asyncio.sleep(slow[1])
                if upstream:
                    self.bytes_up += len(chunk)
                else:
                    self.bytes_down += len(chunk)
            if writer.can_write_eof():
                writer.write_eof()
        except (OSError, asyncio.IncompleteReadError, RuntimeError):
            pass
        finally:
            if all(t.done() or t is asyncio.current_task() for t in conn.tasks) and conn in self._conns:
                self._conns.discard(conn)
                for w in (conn.client, conn.server):
                    if w is not None:
                        w.close()
