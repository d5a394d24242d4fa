"""The test proxy itself: forwards bytes, and cuts, resets and restores exactly when told."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator

import pytest

from tests.proxy import Proxy


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data)


@pytest.fixture
def echo() -> Iterator[Proxy]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with Proxy("127.0.0.1", server.server_address[1]) as proxy:
        yield proxy
    server.shutdown()
    server.server_close()


def _roundtrip(proxy: Proxy, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as s:
        s.sendall(data)
        got = b""
        while len(got) < len(data):
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        return got


def test_forwards_and_counts(echo: Proxy) -> None:
    assert _roundtrip(echo, b"hello") == b"hello"
    assert echo.connections == 1 and echo.bytes_up == 5


def test_cut_resets_new_connections_until_restored(echo: Proxy) -> None:
    echo.cut()
    with pytest.raises(OSError):
        _roundtrip(echo, b"x" * 10)
        raise ConnectionResetError("closed without data")  # an empty answer counts as refused too
    echo.restore()
    assert _roundtrip(echo, b"back") == b"back"


def test_refuse_closes_the_port_and_restore_reopens_it(echo: Proxy) -> None:
    port = echo.port
    echo.cut(refuse=True)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=10)
    echo.restore()
    assert echo.port == port and _roundtrip(echo, b"again") == b"again"


def test_pattern_trigger_cuts_before_forwarding_and_existing_connections_die(echo: Proxy) -> None:
    echo.cut_on(b"STOP")
    with socket.create_connection(("127.0.0.1", echo.port), timeout=10) as s:
        s.sendall(b"one")
        assert s.recv(10) == b"one"
        s.sendall(b"then STOP")
        with pytest.raises(ConnectionResetError):
            if not s.recv(10):
                raise ConnectionResetError
    assert echo.is_cut and echo.cuts == 1 and echo.bytes_up == 3


def test_cut_ends_itself_after_k_refusals(echo: Proxy) -> None:
    echo.cut(restore_after_refusals=2)
    for _ in range(2):
        with pytest.raises(OSError):
            if not _roundtrip(echo, b"x"):
                raise ConnectionResetError
    assert not echo.is_cut and _roundtrip(echo, b"ok") == b"ok"
