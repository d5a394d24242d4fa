"""Published counts end to end: simulator → connectors → WARC in MinIO → `{prefix}-counts` in Elasticsearch.

Mastodon, Bluesky and Facebook are harvested; the counts index must then hold each account's totals
and every post's comment count, each reading pointing at the WARC record it was read from, whose
bytes (read back from the store by range and checked against their SHA-256) show that very value.
A second run on an unchanged platform writes no count document; a count that moves is written again,
with the new response as its evidence.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from archive.config import Settings
from archive.context import Archive
from archive.harvest.runner import harvest_one
from archive.index.counts import PublishedCounts
from archive.preservation.readback import read_location
from schemas import Account, CountOf, CountReading, Covers
from simulator import Simulator
from tests.contract.subjects import SUBJECTS, TOKEN, TOKEN_ENV
from tests.harvesting import sim_now

PLATFORMS = ("mastodon", "bluesky", "facebook")


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(posts=40, rate_limit=10**9, social_token=TOKEN) as running:
        yield running


@pytest.fixture
def arc(s3_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Archive]:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    archive = Archive(s3_settings)
    yield archive
    archive.index.destroy()


def accounts(sim: Simulator) -> dict[str, Account]:
    return {s.platform: s.account(sim) for s in SUBJECTS if s.platform in PLATFORMS}


def run(arc: Archive, sim: Simulator) -> dict[str, int]:
    """One harvest of each account; platform → count documents it wrote."""
    written = {}
    for platform, account in accounts(sim).items():
        report = harvest_one(arc.settings, arc.store, arc.index, account, now=sim_now(sim))
        assert report.ok, report.error
        written[platform] = report.counts_written
    return written


def payload(arc: Archive, reading: CountReading) -> Any:
    """The JSON body of the response the reading names, read back from the store and verified."""
    record = read_location(arc.store, reading.account, reading.warc)
    assert record.warc_type == "response", record.warc_type
    assert record.record.http_headers.get_statuscode() == "200"
    return json.loads(record.content)


def shown(platform: str, body: Any, reading: CountReading) -> Any:
    """The value the platform wrote in that response for the reading: each platform's own field."""
    if reading.item_id is None:
        return {"mastodon": lambda: body["statuses_count"], "bluesky": lambda: body["postsCount"]}[platform]()
    if platform == "mastodon":
        return next(s["replies_count"] for s in body if s["id"] == reading.item_id)
    if platform == "bluesky":
        return next(i["post"]["replyCount"] for i in body["feed"] if i["post"]["uri"] == reading.item_id)
    return next(p["comments"]["summary"]["total_count"] for p in body["data"] if p["id"] == reading.item_id)


def readings(arc: Archive, account: str) -> tuple[list[CountReading], list[CountReading]]:
    counts = PublishedCounts.beside(arc.index)
    return counts.totals(account), list(counts.items(account, CountOf.COMMENTS))


def test_counts_are_archived_with_their_evidence_and_written_only_when_they_move(arc: Archive, sim: Simulator) -> None:
    first = run(arc, sim)
    truth = sim.state()
    posts = {
        "mastodon": {
            r["id"]
            for r in truth["mastodon"]["items"]
            if r["account"] == "sundsvik" and r["role"] == "own" and r["visible"]
        },
        "bluesky": {r["id"] for r in truth["platforms"]["bluesky"]["items"] if r["kind"] == "post" and r["visible"]},
        "facebook": {r["id"] for r in truth["platforms"]["facebook"]["items"] if r["kind"] == "post" and r["visible"]},
    }
    for platform, account in accounts(sim).items():
        totals, items = readings(arc, account.id)
        assert [t.what for t in totals] == ([] if platform == "facebook" else [CountOf.POSTS]), platform
        by_item = {r.item_id: r for r in items}
        assert posts[platform] and posts[platform] <= set(by_item), platform
        assert first[platform] == len(totals) + len(items)
        assert [r.item_id for r in items] == sorted(r.item_id or "" for r in items)  # streamed in item id order
        assert sum(r.value for r in items) > 0
        for reading in [*totals, *items]:
            assert reading.platform == platform and reading.account == account.id
            assert reading.warc.filename.startswith(f"{account.id}-")
            assert shown(platform, payload(arc, reading), reading) == reading.value, reading.key
            if reading.item_id is not None:
                assert reading.covers is Covers.CHILDREN and reading.month is not None
    mastodon_total = readings(arc, accounts(sim)["mastodon"].id)[0][0]
    assert mastodon_total.value == truth["mastodon"]["accounts"][0]["statuses_count"]

    # Nothing moved on the platforms: the second run reads the counts again and writes none of them, so
    # each document keeps the first capture that showed its value.
    before = {a.id: readings(arc, a.id) for a in accounts(sim).values()}
    assert run(arc, sim) == dict.fromkeys(PLATFORMS, 0)
    assert {a.id: readings(arc, a.id) for a in accounts(sim).values()} == before

    # Counts drift (spam removed, an account gone private): the newest post's count on each platform
    # and Bluesky's total move, no item does. Exactly those are written, each with the new response.
    newest = {
        "mastodon": max(posts["mastodon"], key=int),
        **{
            p: next(r for r in reversed(truth["platforms"][p]["items"]) if r["kind"] == "post" and r["visible"])
            for p in ("bluesky", "facebook")
        },
    }
    sim.apply(
        [
            {"type": "mastodon.drift", "id": newest["mastodon"], "by": 1},
            {"type": "bluesky.drift", "no": newest["bluesky"]["no"], "by": 1},
            {"type": "bluesky.drift", "by": -2},
            {"type": "facebook.drift", "no": newest["facebook"]["no"], "by": 3},
        ]
    )
    assert run(arc, sim) == {"mastodon": 1, "bluesky": 2, "facebook": 1}
    moved = {
        "mastodon": (newest["mastodon"], 1),
        "bluesky": (newest["bluesky"]["id"], 1),
        "facebook": (newest["facebook"]["id"], 3),
    }
    for platform, account in accounts(sim).items():
        totals, items = readings(arc, account.id)
        old_totals, old_items = before[account.id]
        item_id, by = moved[platform]
        [now] = [r for r in items if r.item_id == item_id]
        [was] = [r for r in old_items if r.item_id == item_id]
        assert now.value == was.value + by and now.warc != was.warc and now.captured_at > was.captured_at
        assert shown(platform, payload(arc, now), now) == now.value  # the new evidence shows the new value
        assert [r for r in items if r.item_id != item_id] == [r for r in old_items if r.item_id != item_id]
        if platform == "bluesky":
            assert totals[0].value == old_totals[0].value - 2 == shown(platform, payload(arc, totals[0]), totals[0])
        else:
            assert totals == old_totals
