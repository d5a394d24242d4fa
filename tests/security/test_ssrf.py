"""Finding 5: server-side request forgery. A URL in a citizen's comment must not make the harvester reach
this machine's services, the cloud's metadata address or the local network: not directly, not through a
redirect, not through a name that resolves there (docs/security.md).

No test traffic leaves this machine. `net` stands in for the network while a test runs: names resolve
only from the test's own table (no DNS is asked), and a connect goes through only to the test's own
servers on 127.0.0.1. A "public" test address (`PUBLIC`, which the guard must treat as any public
address) is translated to one of those servers, as a NAT would; every other connect (above all one to a
refused address) is recorded in `net.attempted` and fails before a packet is sent. Each test asserts
that list is empty and that the internal service on loopback (`inside`) was never asked.

The harvest client is the production one (`open_fetcher` from settings), with an empty allow-list:
the production default, set explicitly because tests/conftest.py allows loopback for the simulator.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from archive.config import Settings
from archive.connectors.base import HarvestContext
from archive.connectors.media import fetch_media
from archive.connectors.registry import connector_for
from archive.errors import ConfigError
from archive.harvest.probe import check_access
from archive.harvest.runner import open_fetcher
from schemas import Account, CaptureBundle, HarvestState, MediaRef
from tests.replay.server import Answer, Asked, Replay, serving
from tests.replay.test_mastodon import NOW, Recorded

#: The address the test's public names resolve to: a globally routable one, never dialed (see `Net`).
PUBLIC = "93.184.215.14"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
METADATA = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"


@dataclass
class Net:
    """The test's network: a name table, a NAT from (public address, port) to a loopback port, and the
    loopback ports of the test's own servers. Anything else is refused and recorded."""

    names: dict[str, list[list[str]]] = field(default_factory=dict)
    nat: dict[tuple[str, int], int] = field(default_factory=dict)
    servers: set[int] = field(default_factory=set)
    attempted: list[tuple[str, int]] = field(default_factory=list)
    lookups: list[str] = field(default_factory=list)

    def name(self, host: str, *answers: list[str]) -> None:
        """`host` resolves to each answer in turn (the last one from then on)."""
        self.names[host] = list(answers)

    def public(self, host: str, server: Replay, port: int = 80) -> None:
        """`host` resolves to PUBLIC, and PUBLIC:`port` reaches `server` on loopback."""
        self.name(host, [PUBLIC])
        self.nat[(PUBLIC, port)] = int(server.base_url.rsplit(":", 1)[1])

    def resolve(self, host: str) -> list[str]:
        self.lookups.append(host)
        answers = self.names[host]
        return answers.pop(0) if len(answers) > 1 else answers[0]

    def route(self, host: str, port: int) -> tuple[str, int] | None:
        if (host, port) in self.nat:
            return "127.0.0.1", self.nat[(host, port)]
        if host == "127.0.0.1" and port in self.servers:
            return host, port
        return None


@pytest.fixture
def net(monkeypatch: pytest.MonkeyPatch) -> Net:
    the_net = Net()
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0) -> Any:  # noqa: A002
        name = host.decode() if isinstance(host, bytes) else str(host)
        try:
            ipaddress.ip_address(name.split("%")[0])
        except ValueError:
            pass
        else:  # a literal: no lookup leaves the machine
            return real_getaddrinfo(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)
        if name not in the_net.names:
            raise socket.gaierror(socket.EAI_NONAME, f"test network: no name {name}")
        out: list[tuple[Any, ...]] = []
        for address in the_net.resolve(name):
            ip = ipaddress.ip_address(address)
            if ip.version == 4:
                out.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port or 0))))
            else:
                out.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, int(port or 0), 0, 0)))
        return out

    def connect(sock: socket.socket, address: Any) -> None:
        host, port = str(address[0]), int(address[1])
        target = the_net.route(host, port)
        if target is None:
            the_net.attempted.append((host, port))
            raise ConnectionRefusedError(f"test network: no connection to {host}:{port} leaves this machine")
        real_connect(sock, target)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        the_net.attempted.append((str(address[0]), int(address[1])))
        return 111

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    return the_net


@pytest.fixture
def inside(net: Net) -> Iterator[Replay]:
    """An internal service on this machine's loopback (Elasticsearch, an admin page): it records every
    request, and answers each with a secret that must never reach the archive."""
    with serving(lambda asked: Answer(200, b'{"secret": "inside"}', {"Content-Type": "image/png"})) as server:
        net.servers.add(int(server.base_url.rsplit(":", 1)[1]))
        yield server


def _settings(tmp_path: Path, allowed: list[str] | None = None) -> Settings:
    return Settings(data_dir=tmp_path / "data", http_allowed_networks=allowed or [], http_max_tries=1)


def _account(base_url: str = "http://social.public.test") -> Account:
    return Account(
        id="ssrf-mastodon",
        platform="mastodon",
        handle="@admin",
        display_name="Sundsvik",
        department="Kommunstyrelsen",
        retention_class="social-10y",
        base_url=base_url,
    )


def _fetch(settings: Settings, urls: list[str]) -> dict[str, Any]:
    """Each URL as a comment's media, through the production harvest client: url → bundle or Rejected."""
    account = _account()
    with open_fetcher(settings, account, connector_for("mastodon")) as fetcher:
        ctx = HarvestContext(account, HarvestState(account=account.id), fetcher, NOW)
        out = list(fetch_media(ctx, [MediaRef(url=u) for u in urls]))
    assert len(out) == len(urls)
    return dict(zip(urls, out, strict=True))


def _reason(outcome: Any) -> str:
    assert not isinstance(outcome, CaptureBundle), f"fetched: {outcome.capture.url}"
    return str(outcome.reason)


def test_comment_media_urls_to_internal_addresses_are_refused_before_any_connect(
    tmp_path: Path, net: Net, inside: Replay
) -> None:
    port = inside.base_url.rsplit(":", 1)[1]
    net.name("intranet.kommun.test", ["10.0.0.1"])
    net.name("both.kommun.test", [PUBLIC, "192.168.1.10"])  # one private answer among public ones
    expected = {
        METADATA: "refused destination 169.254.169.254 (link-local)",
        f"http://127.0.0.1:{port}/_cat/indices": "refused destination 127.0.0.1 (loopback)",
        "http://[::1]/admin": "refused destination ::1 (loopback)",
        "http://10.0.0.1/": "refused destination 10.0.0.1 (private)",
        "http://intranet.kommun.test/logo.png": "refused destination 10.0.0.1 (private), an address of intranet",
        "http://both.kommun.test/a.png": "refused destination 192.168.1.10 (private), an address of both",
        f"http://0.0.0.0:{port}/": "refused destination 0.0.0.0 (unspecified)",
        f"http://[::ffff:127.0.0.1]:{port}/": "refused destination ::ffff:127.0.0.1 (loopback: IPv4 127.0.0.1",
        "http://[64:ff9b::a9fe:a9fe]/latest/": "refused destination 64:ff9b::a9fe:a9fe (link-local: IPv4 169.254",
        "http://224.0.0.251/": "refused destination 224.0.0.251 (multicast)",
        "http://240.0.0.1/": "refused destination 240.0.0.1 (reserved)",
    }
    outcomes = _fetch(_settings(tmp_path), list(expected))
    for url, start in expected.items():
        reason = _reason(outcomes[url])
        assert reason.startswith(start), reason
        assert reason.endswith(f" for media {url}"), reason
        assert outcomes[url].raw == url.encode()  # the URL is what is quarantined: nothing was fetched
    assert net.attempted == [] and inside.asked == []


def test_a_public_url_that_redirects_inside_is_refused_at_the_hop(tmp_path: Path, net: Net, inside: Replay) -> None:
    port = inside.base_url.rsplit(":", 1)[1]
    hops = {
        "/cat.png": METADATA,
        "/dog.png": f"http://127.0.0.1:{port}/_security/_authenticate",
        "/bird.png": "http://printer.kommun.test/",
        "/fish.png": "/twice.png",  # a hop on the same public host first, then inside
        "/twice.png": "http://[fd00::1]/",
    }

    def cdn(asked: Asked) -> Answer | None:
        if asked.path in hops:
            return Answer(302, b"", {"Location": hops[asked.path]})
        return Answer(200, PNG, {"Content-Type": "image/png"}) if asked.path == "/ok.png" else None

    with serving(cdn) as server:
        net.public("cdn.public.test", server)
        net.name("printer.kommun.test", ["172.16.5.5"])
        urls = [f"http://cdn.public.test{path}" for path in ("/cat.png", "/dog.png", "/bird.png", "/fish.png")]
        outcomes = _fetch(_settings(tmp_path), [*urls, "http://cdn.public.test/ok.png"])
    assert _reason(outcomes[urls[0]]) == f"refused destination 169.254.169.254 (link-local) for media {urls[0]}"
    assert _reason(outcomes[urls[1]]) == f"refused destination 127.0.0.1 (loopback) for media {urls[1]}"
    assert _reason(outcomes[urls[2]]).startswith("refused destination 172.16.5.5 (private), an address of printer")
    assert _reason(outcomes[urls[3]]).startswith("refused destination fd00::1 (private)")
    fetched = outcomes["http://cdn.public.test/ok.png"]
    assert isinstance(fetched, CaptureBundle) and fetched.capture.body == PNG and fetched.is_media
    assert [a.path for a in server.asked] == ["/cat.png", "/dog.png", "/bird.png", "/fish.png", "/twice.png", "/ok.png"]
    assert server.asked[0].headers["host"] == "cdn.public.test"  # the name, though the vetted address was dialed
    assert net.attempted == [] and inside.asked == []


def test_a_name_that_rebinds_is_connected_to_at_the_address_checked(tmp_path: Path, net: Net, inside: Replay) -> None:
    """DNS rebinding: the first answer is public, every later one loopback. The guard looks the name up
    once per connection and dials that address; a guard that checked the name and then let the connect
    look it up again would reach `inside` (same port). Main's code, which checks nothing and looks up
    once, passes this test too: it is here for the fix, not the finding."""
    port = int(inside.base_url.rsplit(":", 1)[1])
    with serving(lambda asked: Answer(200, PNG, {"Content-Type": "image/png"})) as cdn:
        net.public("rebind.public.test", cdn, port=port)
        net.name("rebind.public.test", [PUBLIC], ["127.0.0.1"])
        url = f"http://rebind.public.test:{port}/a.png"
        outcome = _fetch(_settings(tmp_path), [url])[url]
    assert isinstance(outcome, CaptureBundle) and outcome.capture.body == PNG
    assert net.lookups == ["rebind.public.test"] and [a.path for a in cdn.asked] == ["/a.png"]
    assert net.attempted == [] and inside.asked == []


def test_a_citizens_reply_with_hostile_media_is_harvested_and_its_media_quarantined(
    tmp_path: Path, net: Net, inside: Replay
) -> None:
    """The whole connector: a Mastodon status with its own picture, and a citizen's reply whose
    attachments point at the metadata address, a loopback service and a redirect to the metadata
    address. The post and the reply are archived, the own picture too; the three are quarantined."""
    port = inside.base_url.rsplit(":", 1)[1]
    (status,) = Recorded.read("test_status_update_with_media_edit").statuses.values()
    own = {**status, "replies_count": 1, "in_reply_to_id": None}
    own["media_attachments"] = [
        {**status["media_attachments"][0], "type": "image", "url": "http://social.public.test/own.png"}
    ]
    citizen = {**status["account"], "id": "4242", "username": "karin", "acct": "karin@elsewhere.example"}
    hostile = [METADATA, f"http://127.0.0.1:{port}/_cluster/settings", "http://social.public.test/media_proxy/9"]
    reply = {
        **own,
        "id": str(int(own["id"]) + 1),
        "in_reply_to_id": own["id"],
        "in_reply_to_account_id": own["account"]["id"],
        "account": citizen,
        "replies_count": 0,
        "media_attachments": [{**own["media_attachments"][0], "id": str(n), "url": u} for n, u in enumerate(hostile)],
    }

    def instance(asked: Asked) -> Answer | None:
        if asked.path == "/api/v1/accounts/lookup":
            return Answer.json(own["account"])
        if asked.path == f"/api/v1/accounts/{own['account']['id']}/statuses":
            return Answer.json([own] if asked.param("max_id") is None else [])
        if asked.path == f"/api/v1/statuses/{own['id']}/context":
            return Answer.json({"ancestors": [], "descendants": [reply]})
        if asked.path == "/media_proxy/9":
            return Answer(302, b"", {"Location": METADATA})
        return Answer(200, PNG, {"Content-Type": "image/png"}) if asked.path == "/own.png" else None

    with serving(instance) as server:
        net.public("social.public.test", server)
        account = _account()
        with open_fetcher(_settings(tmp_path), account, connector_for("mastodon")) as fetcher:
            ctx = HarvestContext(account, HarvestState(account=account.id), fetcher, NOW)
            out = list(connector_for("mastodon").harvest(ctx))
    records = {r.item_id: r for b in out if isinstance(b, CaptureBundle) for r in b.records}
    assert {own["id"], reply["id"]} <= set(records)
    media = [b.capture.url for b in out if isinstance(b, CaptureBundle) and b.is_media]
    assert media == ["http://social.public.test/own.png"]
    reasons = sorted(str(b.reason) for b in out if not isinstance(b, CaptureBundle))
    assert reasons == sorted(
        [
            f"refused destination 169.254.169.254 (link-local) for media {hostile[0]}",
            f"refused destination 127.0.0.1 (loopback) for media {hostile[1]}",
            f"refused destination 169.254.169.254 (link-local) for media {hostile[2]}",
        ]
    )
    assert net.attempted == [] and inside.asked == []


def test_the_allow_list_opens_the_networks_it_names_and_no_other(tmp_path: Path, net: Net, inside: Replay) -> None:
    """What the simulator and the test peers need: loopback allowed by the operator. 127.0.0.1/32 lets
    the loopback server in; [::1] (loopback too, not named) and the metadata address stay refused."""
    url = f"{inside.base_url}/simulated.png"
    outcomes = _fetch(_settings(tmp_path, ["127.0.0.1/32"]), [url, "http://[::1]/", METADATA])
    assert isinstance(outcomes[url], CaptureBundle) and [a.path for a in inside.asked] == ["/simulated.png"]
    assert _reason(outcomes["http://[::1]/"]).startswith("refused destination ::1 (loopback)")
    assert _reason(outcomes[METADATA]).startswith("refused destination 169.254.169.254 (link-local)")
    assert net.attempted == []


def test_an_api_base_inside_is_refused_unless_allowed(tmp_path: Path, net: Net, inside: Replay) -> None:
    """API requests pass the same guard: an account whose base URL is on loopback (or any non-public
    address) is refused with the setting to change, until the operator allows that network."""
    check = check_access(_settings(tmp_path), _account(inside.base_url))
    assert not check.ok and inside.asked == []
    assert check.message.startswith("refused destination 127.0.0.1 (loopback)"), check.message
    assert "COMMUNIS_HTTP_ALLOWED_NETWORKS" in check.message
    check_access(_settings(tmp_path, ["127.0.0.0/8"]), _account(inside.base_url))
    assert [a.path for a in inside.asked] == ["/api/v1/accounts/lookup"]
    assert net.attempted == []


def test_an_allow_list_entry_that_is_no_network_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMMUNIS_HTTP_ALLOWED_NETWORKS", json.dumps(["127.0.0.0/8", "intranet"]))
    with pytest.raises(ConfigError) as raised:
        Settings.load()
    assert raised.value.one_line().startswith("invalid setting http_allowed_networks:")
    assert "'intranet' is not an address or a network" in raised.value.one_line()


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("0.0.0.0", "unspecified"),
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("::1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("10.1.2.3", "private"),
        ("172.31.0.1", "private"),
        ("192.168.0.1", "private"),
        ("fd00:ec2::254", "private"),
        ("100.64.0.1", "shared address space"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("::127.0.0.1", "reserved"),
        ("fec0::1", "site-local"),
        ("::ffff:169.254.169.254", "link-local: IPv4 169.254.169.254 inside IPv6"),
        ("64:ff9b::7f00:1", "loopback: IPv4 127.0.0.1 inside IPv6"),
        ("2002:a00:1::", "private: IPv4 10.0.0.1 inside IPv6"),
        ("64:ff9b:1::a00:1", "NAT64 local use"),
        ("192.0.2.1", "private"),
        ("93.184.215.14", None),
        ("2606:4700:4700::1111", None),
        ("::ffff:93.184.215.14", None),
        ("64:ff9b::5db8:d70e", None),
    ],
)
def test_what_counts_as_an_internal_address(address: str, kind: str | None) -> None:
    from archive.connectors.destinations import kind_of  # here: the other tests also run on code without it

    assert kind_of(ipaddress.ip_address(address)) == kind
