"""RSS 2.0 and Atom feeds in the simulator (windowed feed, RFC 5005 paging, conditional requests, errors)
and the feed connector reading them (both formats, 304, malformed documents)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest

from archive.bundles import Rejected
from archive.connectors.base import HarvestContext
from archive.connectors.feeds import ATOM, CONTENT, FeedConnector, parse_feed
from archive.connectors.http import Fetcher, make_client
from archive.connectors.text import html_to_text
from schemas import Account, CaptureBundle, HarvestState, Record
from simulator import Simulator

RFC822 = re.compile(r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


pytestmark = pytest.mark.sim(posts=45)


def posts(sim: Simulator) -> list[dict[str, Any]]:
    """Visible posts, newest first, as the feed lists them."""
    rows = [r for r in sim.state()["platforms"]["rss"]["items"] if r["kind"] == "post" and r["visible"]]
    return sorted(rows, key=lambda r: r["created_at"], reverse=True)


def older(container: ET.Element) -> str | None:
    link = next((x for x in container.findall(f"{ATOM}link") if x.get("rel") == "next"), None)
    return None if link is None else link.get("href")


def test_rss_window_pages_to_the_end(http: httpx.Client, sim: Simulator) -> None:
    url: str | None = f"{sim.url('rss')}/feed.xml"
    items: list[ET.Element] = []
    pages = 0
    while url:
        resp = http.get(url)
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/rss+xml")
        channel = ET.fromstring(resp.content).find("channel")
        assert channel is not None and channel.findtext("ttl") == "60"
        assert RFC822.match(channel.findtext("lastBuildDate") or "")
        found = channel.findall("item")
        assert len(found) <= 20
        items += found
        pages += 1
        url = older(channel)
    assert pages == 3
    truth = posts(sim)
    assert [i.findtext("guid") for i in items] == [r["id"] for r in truth]
    first, row = items[0], truth[0]
    guid = first.find("guid")
    assert guid is not None and guid.get("isPermaLink") == "false"
    assert RFC822.match(first.findtext("pubDate") or "")
    assert parsedate_to_datetime(first.findtext("pubDate") or "").isoformat()[:19] == row["created_at"][:19]
    assert first.findtext("{http://purl.org/dc/elements/1.1/}creator") == "Sundsviks kommun"
    assert html_to_text(first.findtext(CONTENT) or "")[0] == row["text"]  # exactly the model's text
    with_media = next(i for i, r in zip(items, truth, strict=True) if len(r["media"]) > 1)
    enclosures = with_media.findall("enclosure")
    assert len(enclosures) > 1 and all(e.get("length", "").isdigit() and e.get("type") for e in enclosures)
    assert http.get(f"{sim.url('rss')}/feed.xml?paged=4").status_code == 404


def test_atom_dates_and_enclosures(http: httpx.Client, sim: Simulator) -> None:
    feed = ET.fromstring(http.get("/rss/atom.xml").content)
    assert feed.tag == f"{ATOM}feed" and RFC3339.match(feed.findtext(f"{ATOM}updated") or "")
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 20 and older(feed) is not None
    for entry in entries:
        assert RFC3339.match(entry.findtext(f"{ATOM}updated") or "")
        assert RFC3339.match(entry.findtext(f"{ATOM}published") or "")
    truth = posts(sim)[:20]
    assert [e.findtext(f"{ATOM}id") for e in entries] == [r["id"] for r in truth]
    media = [len([x for x in e.findall(f"{ATOM}link") if x.get("rel") == "enclosure"]) for e in entries]
    assert media == [len(r["media"]) for r in truth]


def test_conditional_requests_get_304_until_something_changes(http: httpx.Client, sim: Simulator) -> None:
    first = http.get("/rss/feed.xml")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert modified.endswith(" GMT")
    again = http.get("/rss/feed.xml", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert http.get("/rss/feed.xml", headers={"If-Modified-Since": modified}).status_code == 304
    sim.apply([{"type": "clock.advance", "hours": 1}, {"type": "rss.publish", "text": "Ny nyhet."}])
    changed = http.get("/rss/feed.xml", headers={"If-None-Match": etag, "If-Modified-Since": modified})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert parsedate_to_datetime(changed.headers["last-modified"]) > parsedate_to_datetime(modified)


def test_errors_carry_retry_after(http: httpx.Client, sim: Simulator) -> None:
    sim.apply(
        [
            {"type": "fault", "kind": "rate_limit", "retry_after": 9, "match": {"platform": "rss"}},
            {"type": "fault", "kind": "status", "status": 503, "retry_after": 5, "match": {"platform": "rss"}},
            {"type": "fault", "kind": "status", "status": 500, "match": {"platform": "rss"}},
        ]
    )
    limited, unavailable, broken = (http.get("/rss/feed.xml") for _ in range(3))
    assert limited.status_code == 429 and limited.headers["retry-after"] == "9"
    assert unavailable.status_code == 503 and unavailable.headers["retry-after"] == "5"
    assert broken.status_code == 500 and "retry-after" not in broken.headers
    assert http.get("/rss/feed.xml").status_code == 200


def test_a_corrupt_item_has_no_identity_and_a_deleted_one_leaves_the_feed(http: httpx.Client, sim: Simulator) -> None:
    bad, gone = posts(sim)[1], posts(sim)[2]
    sim.apply([{"type": "rss.corrupt", "no": bad["no"]}, {"type": "rss.delete", "no": gone["no"]}])
    items = ET.fromstring(http.get("/rss/feed.xml").content).findall("channel/item")
    assert len(items) == 20
    broken = items[1]
    assert not broken.findtext("guid") and not broken.findtext("link") and not broken.findtext("title")
    guids = [i.findtext("guid") for i in items]
    assert gone["id"] not in guids and bad["id"] not in guids


# ---- the connector --------------------------------------------------------------------------------


def context(
    sim: Simulator, handle: str, state: HarvestState | None = None, *, sweep: bool = True
) -> tuple[HarvestContext, httpx.Client]:
    account = Account.model_validate(
        {
            "id": "sv-rss",
            "platform": "rss",
            "handle": handle,
            "display_name": "Sundsvik news",
            "department": "Kommunstyrelsen",
            "retention_class": "social-10y",
            "base_url": sim.url("rss"),
        }
    )
    now = datetime.fromisoformat(sim.state(items=False)["now"].replace("Z", "+00:00"))
    client = make_client()
    fetcher = Fetcher(client, max_tries=3, backoff=0.01, sleep=lambda _: None)
    return HarvestContext(account, state or HarvestState(account="sv-rss"), fetcher, now, sweep=sweep), client


def run(ctx: HarvestContext) -> tuple[list[Record], list[Rejected], int]:
    records: list[Record] = []
    rejected: list[Rejected] = []
    pages = 0
    for out in FeedConnector().harvest(ctx):
        if isinstance(out, Rejected):
            rejected.append(out)
        elif isinstance(out, CaptureBundle) and not out.is_media:
            pages += 1
            records += out.records
    return records, rejected, pages


def test_the_connector_reads_atom_through_every_page(sim: Simulator) -> None:
    sim.apply([{"type": "clock.advance", "hours": 3}, {"type": "rss.publish", "text": "Först.\n\nSedan mer."}])
    newest = posts(sim)[0]
    sim.apply(
        [
            {"type": "clock.advance", "hours": 1},
            {"type": "rss.edit", "no": newest["no"], "text": "Först.\n\nSedan mer (ändrad)."},
        ]
    )
    ctx, client = context(sim, "atom.xml")
    with client:
        records, rejected, pages = run(ctx)
    assert rejected == [] and pages == 3
    truth = {r["id"]: r for r in posts(sim)}
    assert {r.item_id for r in records} == set(truth)
    by_id = {r.item_id: r for r in records}
    edited = by_id[newest["id"]]
    assert edited.text == "Först.\n\nSedan mer (ändrad)." and edited.title == "Först."
    assert edited.edited_at is not None and edited.published_at is not None
    assert edited.edited_at > edited.published_at
    assert all(r.text == truth[r.item_id]["text"] for r in records)
    assert all(len(r.media) == len(truth[r.item_id]["media"]) for r in records)
    assert all(r.raw and r.raw["format"] == "atom" for r in records)
    assert ctx.cursor["etag"] and ctx.cursor["last_modified"] and ctx.cursor["newest"]


def test_the_connector_sends_conditional_requests_and_keeps_its_cursor_on_304(sim: Simulator) -> None:
    ctx, client = context(sim, "feed.xml")
    with client:
        records, _, _ = run(ctx)
    assert len(records) == 45
    saved = HarvestState(account="sv-rss", cursor=ctx.cursor)
    again, client = context(sim, "feed.xml", saved, sweep=False)
    with client:
        records, rejected, pages = run(again)
        assert "if-none-match" not in client.headers  # only the first page's request carried them
    assert (records, rejected, pages) == ([], [], 0)
    assert again.cursor == saved.cursor and again.fetcher.requests == 1


def test_the_connector_quarantines_a_broken_item_and_refuses_a_broken_document(sim: Simulator) -> None:
    bad = posts(sim)[0]
    sim.apply([{"type": "rss.corrupt", "no": bad["no"]}])
    ctx, client = context(sim, "feed.xml")
    with client:
        records, rejected, _ = run(ctx)
    assert len(records) == 44 and len(rejected) == 1 and rejected[0].reason.startswith("unreadable feed item")
    assert "the item is empty" in rejected[0].reason
    assert rejected[0].raw.startswith(b"<item>") and b"<pubDate>" in rejected[0].raw
    sim.apply([{"type": "fault", "kind": "malformed", "variant": "truncated", "match": {"platform": "rss"}}])
    ctx, client = context(sim, "feed.xml")
    with client:
        records, rejected, _ = run(ctx)
    assert records == [] and len(rejected) == 1 and "not well-formed" in rejected[0].reason and ctx.incomplete


def test_entity_declarations_are_refused() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaa">]><rss version="2.0"><channel/></rss>'
    with pytest.raises(ValueError, match="entities"):
        parse_feed(bomb)
    feed = parse_feed(b'<rss version="2.0"><channel><item><guid>x</guid></item></channel></rss>')
    assert feed.kind == "rss" and len(feed.items) == 1


def test_a_wordpress_feed_without_paging_links_is_paged_by_paged(sim: Simulator) -> None:
    """Stock WordPress announces no RFC 5005 links; the connector still reaches every page by ?paged=N."""
    first = httpx.get(sim.url("rss") + "/wp-feed.xml")
    assert b'rel="next"' not in first.content and b"wordpress.org" in first.content
    ctx, client = context(sim, "wp-feed.xml")
    with client:
        records, rejected, pages = run(ctx)
    assert rejected == [] and pages == 3 and len(records) == 45
    assert ctx.fetcher.requests >= 4  # page 4 answered 404: the end


# ---- the other shapes real feeds have: RSS 1.0, Atom 0.3, GB2312, a cache that ignores ?paged -----------

RDF_NS = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
RSS1 = "{http://purl.org/rss/1.0/}"


def harvested(sim: Simulator, handle: str) -> tuple[dict[str, Record], list[Rejected], HarvestContext]:
    ctx, client = context(sim, handle)
    with client:
        records, rejected, _ = run(ctx)
    by_id = {r.item_id: r for r in records}
    assert len(by_id) == len(records)  # no item twice
    return by_id, rejected, ctx


def test_rdf_is_rss_1_0_and_the_connector_reads_it_as_the_rss_2_0_feed(http: httpx.Client, sim: Simulator) -> None:
    resp = http.get("/rss/rdf.xml")
    assert resp.headers["content-type"].startswith("application/rdf+xml")
    root = ET.fromstring(resp.content)
    assert root.tag == f"{RDF_NS}RDF"
    items = root.findall(f"{RSS1}item")  # beside the channel, not in it
    channel = root.find(f"{RSS1}channel")
    assert channel is not None and len(items) == 20 and channel.find(f"{RSS1}item") is None
    seq = [li.get(f"{RDF_NS}resource") for li in channel.iter(f"{RDF_NS}li")]
    assert seq == [i.get(f"{RDF_NS}about") for i in items] == [i.findtext(f"{RSS1}link") for i in items]
    assert all(i.find(f"{RSS1}guid") is None for i in items)

    rdf, rejected, _ = harvested(sim, "rdf.xml")
    rss, _, _ = harvested(sim, "feed.xml")
    assert rejected == [] and len(rdf) == len(rss) == 45
    assert all(
        r.raw
        and r.raw["format"] == "rss1.0"
        and r.raw["xml"].startswith("<ns0:item")
        and 'xmlns:ns0="http://purl.org/rss/1.0/"' in r.raw["xml"]
        for r in rdf.values()
    )  # as served
    for record in rss.values():  # the RDF item's id is its URI, the permalink
        twin = rdf[record.url or ""]
        assert (twin.title, twin.text, twin.published_at, twin.author.name) == (
            record.title,
            record.text,
            record.published_at,
            record.author.name,
        )


def test_atom_0_3_is_read_as_the_atom_1_0_feed(http: httpx.Client, sim: Simulator) -> None:
    newest = posts(sim)[0]
    sim.apply([{"type": "clock.advance", "hours": 1}, {"type": "rss.edit", "no": newest["no"], "text": "Ändrad."}])
    feed = ET.fromstring(http.get("/rss/atom03.xml").content)
    assert feed.tag == "{http://purl.org/atom/ns#}feed" and feed.get("version") == "0.3"
    old, rejected, _ = harvested(sim, "atom03.xml")
    new, _, _ = harvested(sim, "atom.xml")
    assert rejected == [] and set(old) == set(new) == {r["id"] for r in posts(sim)}
    assert all(
        r.raw and r.raw["format"] == "atom0.3" and "http://purl.org/atom/ns#" in r.raw["xml"] for r in old.values()
    )
    for item_id, record in new.items():
        twin = old[item_id]
        assert (twin.title, twin.text, twin.url, twin.published_at, twin.edited_at, len(twin.media)) == (
            record.title,
            record.text,
            record.url,
            record.published_at,
            record.edited_at,
            len(record.media),
        )
    assert old[newest["id"]].text == "Ändrad." and old[newest["id"]].edited_at is not None


def test_a_gb2312_feed_declared_only_in_its_xml_declaration_is_read(http: httpx.Client, sim: Simulator) -> None:
    from simulator.platforms.rss import GB_TITLE

    resp = http.get("/rss/feed-gb2312.xml")
    assert resp.headers["content-type"] == "text/xml"  # no charset: the XML declaration says it
    assert resp.content.startswith(b'<?xml version="1.0" encoding="gb2312"?>')
    with pytest.raises(UnicodeDecodeError):
        resp.content.decode("utf-8")
    assert GB_TITLE.encode("gb2312") in resp.content
    gb, rejected, _ = harvested(sim, "feed-gb2312.xml")
    rss, _, _ = harvested(sim, "feed.xml")
    assert rejected == [] and set(gb) == set(rss) and len(gb) == 45
    for item_id, record in rss.items():
        assert gb[item_id].title == GB_TITLE + (record.title or "")
        assert gb[item_id].text == record.text  # å, ä, ö as character references come back as themselves


def test_a_feed_whose_cache_ignores_paged_is_read_once(http: httpx.Client, sim: Simulator) -> None:
    """Stock WordPress behind a cache that ignores the query: ?paged=2 is page 1 again. The connector
    stops at the page that brings nothing new (it read 1 000 pages of the same items before)."""
    assert http.get("/rss/wp-feed-cached.xml?paged=2").content == http.get("/rss/wp-feed-cached.xml").content
    sim.clear_requests()
    records, rejected, _ = harvested(sim, "wp-feed-cached.xml")
    assert rejected == [] and len(records) == 20
    pages = [r.path for r in sim.requests() if r.path.startswith("/rss/wp-feed-cached.xml")]
    assert pages == ["/rss/wp-feed-cached.xml", "/rss/wp-feed-cached.xml?paged=2"]
    assert set(records) == {r["id"] for r in posts(sim)[:20]}
