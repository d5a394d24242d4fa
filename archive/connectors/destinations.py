"""Where harvest requests may connect: public addresses only, unless the operator allows a network.

A post or a comment names URLs the harvester fetches (media, and whatever their servers redirect
to), so without a check a citizen's comment could make it read this machine's services
(`http://127.0.0.1:9200/`), the cloud's metadata service (`http://169.254.169.254/`) or the local
network, and keep the answer in quarantine. The check sits where the connection is made: httpx's
connection pool asks its network backend to connect to (host, port), and `GuardedBackend` resolves
the host once, refuses unless every address it resolves to is public or in the allow-list
(`COMMUNIS_HTTP_ALLOWED_NETWORKS`), and then dials the vetted address itself. So:

- every redirect hop is checked, since each new origin is a new connection;
- a name that gives a check a public address and the connect a private one (DNS rebinding) gets
  no second lookup: the address checked is the address connected to;
- TLS is unchanged: httpcore still sends the host name as SNI and verifies the certificate for
  it, and the Host header is the URL's.

The guard covers every request of a harvest client, the API's too: an API base on a non-public
address (the simulator, a test peer, an intranet platform) is harvested only when the operator
allows its network. A harvest client uses no proxy from the environment (httpx reads
HTTP(S)_PROXY only for clients without a transport of their own): through a proxy, the address
connected to would be the proxy's and the check would mean nothing.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass

import httpcore
import httpx

from ..errors import DestinationRefused

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: neither private nor public
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


def _embedded(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address that connecting to `address` reaches (IPv4-mapped, NAT64, 6to4), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def kind_of(address: Address) -> str | None:
    """Why `address` is not a public destination ("loopback", "link-local", "private"…); None if it is."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded(address)
        if inner is not None:
            why = kind_of(inner)
            return None if why is None else f"{why}: IPv4 {inner} inside IPv6"
        if address in _NAT64_LOCAL:
            return "NAT64 local use"
    for name, found in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        ("site-local", isinstance(address, ipaddress.IPv6Address) and address.is_site_local),
        ("shared address space", address in _SHARED),
        ("not globally routable", not address.is_global),
    ):
        if found:
            return name
    return None


def _resolve(host: str, port: int) -> list[Address]:
    """Every address `host` stands for, looked up once (an address literal is itself)."""
    literal = _literal(host)
    if literal is not None:
        return [literal]
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:  # as when httpcore looks the name up itself: a connect error, retried
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    addresses: list[Address] = []
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]))
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise httpcore.ConnectError(f"cannot resolve {host}: no address")
    return addresses


@dataclass(frozen=True)
class DestinationPolicy:
    """Public addresses, and the non-public networks an operator allows."""

    allowed: tuple[Network, ...] = ()

    def refusal(self, address: Address) -> str | None:
        """Why a connection to `address` is refused, or None."""
        candidates = [address]
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            candidates.append(address.ipv4_mapped)
        if any(a in network for a in candidates for network in self.allowed):
            return None
        return kind_of(address)

    def vet(self, host: str, port: int) -> list[str]:
        """The addresses to dial for `host`: all of them public or allowed, else DestinationRefused.
        One refused address refuses the name: an answer mixing public and private addresses is an
        attack or a mistake, and which one a connect would pick is not ours to guess."""
        addresses = _resolve(host, port)
        for address in addresses:
            why = self.refusal(address)
            if why is not None:
                named = "" if _literal(host) == address else f", an address of {host}"
                raise DestinationRefused(f"refused destination {_shown(address)} ({why}){named}")
        return [str(a) for a in addresses]


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _shown(address: Address) -> str:
    """The address as people write it (`::ffff:127.0.0.1`, which Python 3.11 prints `::ffff:7f00:1`)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return f"::ffff:{address.ipv4_mapped}"
    return str(address)


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's socket backend, dialing only addresses the policy has vetted."""

    def __init__(self, policy: DestinationPolicy) -> None:
        self.policy = policy
        self._sockets = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        failed: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in self.policy.vet(host, port):
            try:  # the vetted address itself: no second lookup that could answer differently
                return self._sockets.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failed = exc
        assert failed is not None  # vet() returns at least one address
        raise failed

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None
    ) -> httpcore.NetworkStream:
        raise DestinationRefused(f"refused destination {path} (a local socket)")

    def sleep(self, seconds: float) -> None:
        self._sockets.sleep(seconds)


@functools.cache
def _tls() -> ssl.SSLContext:
    """httpx's default verifying context, made once per process: loading the CA bundle costs more than
    a quiet harvest run's one request, and a context is safe to share between clients."""
    return httpx.create_ssl_context()


class GuardedTransport(httpx.HTTPTransport):
    """httpx's own transport (TLS verification as usual), every connection made by a GuardedBackend.

    httpx.HTTPTransport takes no network backend, so its connection pool is built again with one,
    with httpx's default limits; tests/security/test_ssrf.py fails if the guard is ever bypassed."""

    def __init__(self, policy: DestinationPolicy) -> None:
        super().__init__(verify=_tls())
        self._pool = httpcore.ConnectionPool(
            ssl_context=_tls(),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=GuardedBackend(policy),
        )
