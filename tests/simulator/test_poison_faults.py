"""The simulator's poison faults on the wire, as a raw HTTP client sees them."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator

import httpx
import pytest

from simulator import Simulator, Timeline

POSTS = "/wp/wp-json/wp/v2/posts"


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(posts=5) as running:
        yield running


def _get(sim: Simulator, variant: str, **fields: int) -> httpx.Response:
    sim.apply(Timeline().fault("poison", variant=variant, match={"path_prefix": POSTS}, **fields))
    with httpx.Client(base_url=sim.base_url, headers={"Accept-Encoding": "identity"}) as http:
        return http.get(POSTS)


def test_json_poisons(sim: Simulator) -> None:
    with pytest.raises(RecursionError):
        json.loads(_get(sim, "deep_json").content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(_get(sim, "not_json").content)
    with pytest.raises(UnicodeDecodeError):
        _get(sim, "bad_utf8").content.decode("utf-8")
    flood = _get(sim, "whitespace_flood", size=300_000)
    assert flood.headers["transfer-encoding"] == "chunked" and len(flood.content) == 300_000
    assert json.loads(flood.content) == []


def test_a_truncated_gzip_body_is_sent_although_identity_was_asked(sim: Simulator) -> None:
    sim.apply(Timeline().fault("poison", variant="bad_gzip", match={"path_prefix": POSTS}))
    with (
        httpx.Client(base_url=sim.base_url, headers={"Accept-Encoding": "identity"}) as http,
        http.stream("GET", POSTS) as resp,
    ):
        raw = b"".join(resp.iter_raw())
    assert resp.headers["content-encoding"] == "gzip"
    decoder = zlib.decompressobj(32 + zlib.MAX_WBITS)
    decoder.decompress(raw)
    assert not decoder.eof  # cut mid-stream
    with pytest.raises(EOFError):
        gzip.decompress(raw)


def test_lying_lengths(sim: Simulator) -> None:
    short = _get(sim, "lying_length_short")
    assert int(short.headers["content-length"]) == len(short.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(short.content)
    with pytest.raises(httpx.RemoteProtocolError):
        _get(sim, "lying_length_long")


def test_huge_streams_count_what_was_sent(sim: Simulator) -> None:
    sim.apply(Timeline().fault("poison", variant="huge_stream", match={"path_prefix": POSTS}))
    with httpx.Client(base_url=sim.base_url) as http, http.stream("GET", POSTS) as resp:
        assert "content-length" not in resp.headers
        read = 0
        for chunk in resp.iter_raw():
            read += len(chunk)
            if read > 1024 * 1024:
                break
    [rule] = sim.faults.added()
    assert rule.sent >= read and rule.sent < 2 * 1024**3
    declared = _get(sim, "huge_declared", size=200_000)
    assert int(declared.headers["content-length"]) == 200_000 == len(declared.content)


@pytest.mark.parametrize("variant", ["billion_laughs", "billion_laughs_utf16", "external_entity", "deep_atom"])
def test_xml_poisons(sim: Simulator, variant: str) -> None:
    body = _get(sim, variant).content
    text = body.decode("utf-16") if variant.endswith("utf16") else body.decode()
    assert body.startswith(b"\xff\xfe") == variant.endswith("utf16")
    assert ("<!ENTITY" in text) == (variant != "deep_atom")
    if variant == "deep_atom":
        assert text.count("<div>") == 2000


def test_unknown_poison_is_refused(sim: Simulator) -> None:
    from simulator.timeline import TimelineError

    with pytest.raises(TimelineError, match="poison variant must be one of"):
        sim.apply(Timeline().fault("poison", variant="nope"))
