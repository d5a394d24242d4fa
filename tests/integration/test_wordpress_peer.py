"""Harvesting a real WordPress (Debian's package, tests/peers/wordpress.py), not the simulator.

The site is given posts, a page, comments and a reply by the site's own user, a comment held for
moderation, an image; the WordPress connector and the feed connector (its RSS 2.0 and Atom
feeds) harvest it into an archive on the real Elasticsearch and store. Then the site changes: an
edit, a deletion, the held comment approved, a comment marked spam, a new comment; and is
harvested again. Each time the archive must hold exactly what WordPress itself, asked through its
own PHP API, says the public sees. Both permalink settings are run: on plain permalinks the REST
API is not at /wp-json/ but where the home page announces it (`?rest_route=`).
"""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest

from archive.connectors.text import html_to_text
from archive.context import Archive
from archive.harvest.probe import check_access
from archive.harvest.runner import harvest_one
from archive.harvest.service import HarvestReport
from schemas import Account
from tests.harvesting import latest_versions, state_of
from tests.peers.wordpress import PLAIN, PRETTY, WordPressPeer, fresh, png

pytestmark = pytest.mark.integration

IMAGE = png(6, 4, (0, 90, 160))


def account(peer: WordPressPeer, platform: str = "wordpress", handle: str = "blogg") -> Account:
    return Account(
        id=f"peer-{platform}-{handle.strip('/?=').replace('/', '-').replace('=', '-')}",
        platform=platform,
        handle=handle,
        display_name="Sundsviks kommun (real WordPress)",
        department="Kommunstyrelsen",
        retention_class="social-10y",
        base_url=peer.url,
    )


def harvest(arc: Archive, acc: Account) -> HarvestReport:
    report = harvest_one(arc.settings, arc.store, arc.index, acc)
    assert report.ok, report.error
    return report


def latest(arc: Archive, acc: Account) -> dict[str, dict[str, Any]]:
    return latest_versions(arc, acc.id)


def words(html: str) -> str:
    return " ".join(html_to_text(html)[0].split())


def public(truth: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What WordPress shows the public, in the connector's item ids: published posts and pages, and the
    approved comments on them, each with its text, kind, parent and direction."""
    shown: dict[str, dict[str, Any]] = {}
    for item in truth["items"]:
        shown[f"{item['type']}-{item['id']}"] = {
            "kind": item["type"],
            "text": words(item["rendered"]),
            "parent": None,
            "item": item,
        }
    for c in truth["comments"]:
        if c["status"] == "approved" and c["post_status"] == "publish":
            shown[f"comment-{c['id']}"] = {
                "kind": "comment" if c["parent"] == 0 else "reply",
                "text": words(c["rendered"]),
                "parent": f"post-{c['post']}" if c["parent"] == 0 else f"comment-{c['parent']}",
                "direction": "upprattad" if c["user"] else "inkommen",
                "item": c,
            }
    return shown


def assert_archive_is_the_site(arc: Archive, acc: Account, peer: WordPressPeer) -> dict[str, dict[str, Any]]:
    """The archive's live items are exactly what WordPress shows, with its text, thread and direction."""
    docs = latest(arc, acc)
    live = {i: d for i, d in docs.items() if not d["deleted"] and not d.get("hidden_on_platform")}
    shown = public(peer.truth())
    assert set(live) == set(shown), (sorted(set(live) - set(shown)), sorted(set(shown) - set(live)))
    for item_id, want in shown.items():
        doc = live[item_id]
        assert " ".join(doc["text"].split()) == want["text"], (item_id, doc["text"], want["text"])
        assert doc["kind"] == want["kind"], item_id
        if want["parent"]:
            assert doc["parent_id"] == want["parent"], item_id
            assert doc["direction"] == want["direction"], item_id
    return docs


@pytest.mark.parametrize("structure", [PLAIN, PRETTY], ids=["plain-permalinks", "pretty-permalinks"])
def test_the_archive_holds_what_the_real_wordpress_shows(archive: Archive, structure: str) -> None:
    """On the local store and on MinIO (Object Lock), as the simulator's integration tests run."""
    arc, peer = archive, fresh(structure)
    site = account(peer)
    with_image = peer.publish("Snöröjningen börjar i natt. Parkera inte på gatan.", title="Snöröjning", image=IMAGE)
    meeting = peer.publish("Kommunfullmäktige sammanträder måndag klockan 18.", title="Fullmäktige")["id"]
    doomed = peer.publish("Ett inlägg som tas bort.", title="Tas bort")["id"]
    page = peer.publish("Stadshuset har öppet 8–16.", title="Kontakt", kind="page")["id"]
    question = peer.comment(with_image["id"], "Gäller det även Storgatan?")
    answer = peer.comment(with_image["id"], "Ja, hela centrum.", parent=question, user=1, author="Sundsviks kommun")
    held = peer.comment(meeting, "Sänds mötet på webben?", approved=0)
    spammed = peer.comment(meeting, "Köp billiga klockor här")
    on_doomed = peer.comment(doomed, "Synd att det försvinner.")

    first = harvest(arc, site)
    docs = assert_archive_is_the_site(arc, site, peer)
    assert f"comment-{held}" not in docs  # held for moderation: not public, so not archived
    assert docs[f"comment-{answer}"]["direction"] == "upprattad" and docs[f"page-{page}"]["kind"] == "page"
    [image] = docs[f"post-{with_image['id']}"]["media"]
    assert image["url"] == with_image["image"] and image["sha256"] == hashlib.sha256(IMAGE).hexdigest()
    assert first.counts.media == 1 and not first.quarantined, [q.reason for q in first.quarantined]

    peer.one("edit", id=meeting, text="Kommunfullmäktige sammanträder måndag klockan 19 (ny tid).")
    peer.one("delete", id=doomed)
    peer.one("moderate", id=held, status="approve")
    peer.one("moderate", id=spammed, status="spam")
    later = peer.comment(page, "Har ni öppet på lördagar?")

    second = harvest(arc, site)
    docs = assert_archive_is_the_site(arc, site, peer)
    assert docs[f"post-{meeting}"]["version"] == 2 and "klockan 19" in docs[f"post-{meeting}"]["text"]
    assert docs[f"post-{doomed}"]["deleted"] is True and docs[f"post-{doomed}"]["version"] == 2
    assert docs[f"comment-{spammed}"]["hidden_on_platform"] is True
    assert f"comment-{held}" in docs and f"comment-{later}" in docs
    assert docs[f"comment-{on_doomed}"]["deleted"] is True  # WordPress deletes a post's comments with it
    assert second.counts.new == 2 and second.counts.deleted == 2, second.counts
    assert not second.quarantined, [q.reason for q in second.quarantined]


@pytest.mark.parametrize("structure", [PLAIN, PRETTY], ids=["plain-permalinks", "pretty-permalinks"])
def test_the_feeds_wordpress_generates_are_archived_whole(local_archive: Archive, structure: str) -> None:
    """The RSS 2.0 and Atom feeds WordPress writes: every published post (feeds carry no pages and no
    comments), by WordPress's guid, with its text; an edit is a new version; a deletion is not seen."""
    arc, peer = local_archive, fresh(structure)
    feeds = (
        {"rss": "?feed=rss2", "atom": "?feed=atom"} if structure == PLAIN else {"rss": "feed/", "atom": "feed/atom/"}
    )
    posts = [peer.publish(f"Nyhet nummer {n} från kommunen.", title=f"Nyhet {n}")["id"] for n in range(3)]
    peer.publish("Sidor står inte i flödet.", title="Om kommunen", kind="page")
    accounts = {name: account(peer, "rss", handle) for name, handle in feeds.items()}
    for name, acc in accounts.items():
        assert (
            httpx.get(acc.api_base + "/" + acc.handle).headers["content-type"].startswith(f"application/{name}+xml")
        ), name

    def by_guid() -> dict[str, dict[str, Any]]:
        return {i["guid"]: i for i in peer.truth()["items"] if i["type"] == "post"}

    for acc in accounts.values():
        harvest(arc, acc)
        docs, truth = latest(arc, acc), by_guid()
        assert set(docs) == set(truth), (sorted(docs), sorted(truth))
        assert all(" ".join(docs[g]["text"].split()) == words(i["rendered"]) for g, i in truth.items())
    gone_guid = next(g for g, i in by_guid().items() if i["id"] == posts[0])
    peer.one("edit", id=posts[1], text="Nyhet nummer 1, rättad.")
    peer.one("delete", id=posts[0])
    for acc in accounts.values():
        harvest(arc, acc)
        docs, truth = latest(arc, acc), by_guid()
        assert set(docs) - set(truth) == {gone_guid}  # a feed cannot tell a deletion from an item gone from it
        edited = next(g for g, i in truth.items() if i["id"] == posts[1])
        assert docs[edited]["version"] == 2 and " ".join(docs[edited]["text"].split()) == "Nyhet nummer 1, rättad."


def test_a_run_that_can_read_no_listing_fails_and_says_why(local_archive: Archive) -> None:
    """A site on plain permalinks that hides where its API is (no Link header, as hardening plugins do):
    /wp-json/ answers the home page, every listing page is quarantined, and the run has failed, saying
    why, rather than reporting ok with nothing archived. Once the site announces its API, it is read."""
    arc, peer = local_archive, fresh(PLAIN)
    post = peer.publish("Ett inlägg som ingen hittar.", title="Gömt")["id"]
    peer.one("announce", on=0)
    site = account(peer)
    check = check_access(arc.settings, site)
    assert not check.ok and "response is not JSON" in check.message, check.message

    failed = harvest_one(arc.settings, arc.store, arc.index, site)
    assert not failed.ok and failed.error is not None
    assert failed.error.startswith("no listing page could be read (3 quarantined; first: response is not JSON"), (
        failed.error
    )
    assert len(failed.quarantined) == 3 and all(q.reason.startswith("response is not JSON") for q in failed.quarantined)
    assert state_of(arc, site.id).consecutive_failures == 1
    assert failed.counts.new == 0

    peer.one("announce", on=1)
    check = check_access(arc.settings, site)
    assert check.ok and check.message == "1 published posts", check.message
    harvest(arc, site)
    assert set(latest(arc, site)) == {f"post-{post}"}
    assert state_of(arc, site.id).consecutive_failures == 0


def test_a_server_without_rewrite_rules_is_read_where_the_site_announces_its_api(local_archive: Archive) -> None:
    """Plain permalinks behind a server with no rewrite rules: /wp-json/… is a 404 of the server, and
    the API is read at the `?rest_route=` root the home page announces."""
    arc, peer = local_archive, fresh(PLAIN)
    post = peer.publish("Sophämtningen flyttas till tisdag.", title="Sophämtning")["id"]
    comment = peer.comment(post, "Gäller det hela kommunen?")
    peer.rewrites(False)
    assert httpx.get(peer.url + "/wp-json/wp/v2/posts").status_code == 404
    site = account(peer)
    harvest(arc, site)
    assert_archive_is_the_site(arc, site, peer)
    assert set(latest(arc, site)) == {f"post-{post}", f"comment-{comment}"}
