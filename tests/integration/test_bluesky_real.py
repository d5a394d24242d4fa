"""Harvesting Bluesky's real AppView (tests/peers/bluesky.py: @atproto/dev-env on loopback) into the archive.

The account and two citizens write through the PDS as a Bluesky client would: posts, a mention, a
hashtag, images, a link card, a quote, a quote with an image, a citizen's comment and the account's
reply to it, a repost of a citizen's post. The connector harvests the real AppView through the
whole pipeline (WARC, store, index); the archive is compared with what the PDS holds. Then an
edit, a deletion of a post and of a comment, and an undone repost: the next run makes a version
and tombstones of them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from archive.context import Archive
from archive.harvest.runner import harvest_one
from archive.harvest.service import HarvestReport
from schemas import Account
from tests.harvesting import latest_versions
from tests.peers.bluesky import POST, BlueskyPeer, Session, mention, shared
from tests.peers.wordpress import png


def account_of(peer: BlueskyPeer, session: Session) -> Account:
    return Account(
        id="sv-bluesky-real",
        platform="bluesky",
        handle=session.handle,
        display_name="Sundsviks kommun",
        department="Kommunstyrelsen",
        retention_class="social-10y",
        base_url=peer.appview,
    )


def harvest(arc: Archive, account: Account) -> HarvestReport:
    report = harvest_one(arc.settings, arc.store, arc.index, account, now=datetime.now(UTC))
    assert report.ok, report.error
    return report


def latest(arc: Archive, account: Account) -> dict[str, dict[str, Any]]:
    return latest_versions(arc, account.id)


def page(uri: str, handle: str) -> str:
    return f"https://bsky.app/profile/{handle}/post/{uri.rsplit('/', 1)[-1]}"


def test_the_archive_holds_what_the_real_appview_shows_and_follows_its_changes(local_archive: Archive) -> None:
    peer = shared()
    kommun = peer.account("sundsvik", "Sundsviks kommun")
    anna = peer.account("anna", "Anna Medborgare")
    bo = peer.account("bo", "Bo Medborgare")
    hello = f"Välkommen till Sundsviks kommun på Bluesky, @{anna.handle}! #Sundsvik"
    welcome = peer.post(kommun, hello, facets=mention(hello, anna.handle, anna.did))
    images = [peer.image(kommun, png(8, 6, (200, 40, 40))), peer.image(kommun, png(6, 8, (40, 40, 200)))]
    photos = peer.post(kommun, "Bilder från invigningen av nya biblioteket.", images=images)
    card = peer.post(
        kommun,
        "Läs mer om sommarens evenemang.",
        card={"uri": "https://sundsvik.example/evenemang", "title": "Evenemang"},
    )
    citizen = peer.post(bo, "Snöröjningen på Storgatan fungerade fint i morse.")
    quote = peer.post(
        kommun, "Tack Bo! Så här såg det ut.", quote=citizen, images=[peer.image(kommun, png(5, 5, (20, 160, 20)))]
    )
    plain_quote = peer.post(kommun, "Påminnelse om välkomstinlägget.", quote=welcome)
    question = peer.post(anna, "När öppnar biblioteket på lördagar?", reply_to=photos)
    answer = peer.post(kommun, "Klockan 10–14.", reply_to=question, root=photos)
    doomed = peer.post(kommun, "Fel datum i det här inlägget.")
    rude = peer.post(bo, "Ett inlägg som tas bort.", reply_to=welcome)
    repost = peer.repost(kommun, citizen)

    account = account_of(peer, kommun)
    first = harvest(local_archive, account)
    docs = latest(local_archive, account)

    # Everything the account's repository holds, and the citizens' replies in its threads, is archived.
    own = {r["uri"]: r["value"] for r in peer.records(kommun.did)}
    replies = {
        r["uri"]: r["value"]
        for did in (anna.did, bo.did)
        for r in peer.records(did)
        if r["value"].get("reply", {}).get("root", {}).get("uri") in own
    }
    for uri, value in {**own, **replies}.items():
        doc = docs[uri]
        assert doc["text"] == value["text"], uri
        assert doc["published_at"].startswith(value["createdAt"][:19]), uri
        reply = value.get("reply")
        assert doc["parent_id"] == (reply["parent"]["uri"] if reply else None), uri
        assert doc["thread_id"] == (reply["root"]["uri"] if reply else uri), uri
        assert doc["direction"] == ("upprattad" if uri in own else "inkommen"), uri
    assert docs[question.uri]["kind"] == "comment" and docs[answer.uri]["kind"] == "reply"
    assert docs[question.uri]["author"]["handle"] == anna.handle

    assert docs[welcome.uri]["mentions"] == [anna.handle] and docs[welcome.uri]["hashtags"] == ["sundsvik"]
    assert len(docs[photos.uri]["media"]) == 2 and all(m["sha256"] for m in docs[photos.uri]["media"])
    assert all(m["url"].startswith(peer.appview) for m in docs[photos.uri]["media"])  # served by the AppView
    assert docs[card.uri]["links"] == ["https://sundsvik.example/evenemang"]
    assert docs[quote.uri]["quote_of"] == page(citizen.uri, bo.handle)
    assert len(docs[quote.uri]["media"]) == 1 and docs[quote.uri]["media"][0]["sha256"]
    assert docs[plain_quote.uri]["quote_of"] == page(welcome.uri, kommun.handle) and not docs[plain_quote.uri]["media"]

    # The repost: the account's act, and the reposted post as the citizen's.
    act = docs[f"{citizen.uri}#repost-by-{kommun.did}"]
    assert act["repost_of"] == page(citizen.uri, bo.handle) and act["direction"] == "upprattad"
    assert act["author"]["id"] == kommun.did and act["text"] == "Snöröjningen på Storgatan fungerade fint i morse."
    assert docs[citizen.uri]["direction"] == "inkommen" and docs[citizen.uri]["author"]["id"] == bo.did
    assert set(docs) == set(own) | set(replies) | {citizen.uri, act["item_id"]}
    assert not [q.reason for q in first.quarantined]

    # Changes: an edit, a deleted post, a deleted comment, an undone repost.
    peer.edit(kommun, welcome, "Välkommen till Sundsviks kommun på Bluesky! (Rättad.)")
    peer.delete(kommun, doomed)
    peer.delete(bo, rude)
    peer.delete(kommun, repost)
    peer.wait_reposts_gone(citizen.uri, kommun.did)
    second = harvest(local_archive, account)
    docs = latest(local_archive, account)
    assert docs[welcome.uri]["version"] == 2 and docs[welcome.uri]["text"].endswith("(Rättad.)")
    assert docs[doomed.uri]["deleted"] and docs[rude.uri]["deleted"] and act["item_id"] in docs
    assert docs[act["item_id"]]["deleted"]
    assert not docs[citizen.uri]["deleted"] and not docs[photos.uri]["deleted"]
    assert second.counts.deleted == 3 and second.counts.edited == 1, second.counts
    assert {r["uri"] for r in peer.records(kommun.did, POST)} == set(own) - {doomed.uri}
