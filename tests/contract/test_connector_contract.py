"""One contract for every connector, run against the simulator through the whole harvest
(connector → WARC → store → index): the same scenarios on every platform.

What a platform's API cannot reveal is declared in the connector's `Capabilities` (and so in
docs/platforms.md); a scenario that needs it is skipped with that reason instead of passing.
"""

from __future__ import annotations

import gzip
import json
import logging
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

from archive.completeness.report import account_report
from archive.completeness.tolerance import tolerance_for
from archive.config import Settings
from archive.connectors.bluesky import BlueskyConnector
from archive.context import Archive
from archive.harvest.runner import harvest_one
from archive.harvest.service import HarvestReport
from archive.index.search import SearchQuery, search
from archive.redact import RedactingFilter
from schemas import Status
from simulator import Simulator
from tests.harvesting import archived_versions, harvest_subject, sim_now

from .real_bluesky import RealBlueskySubject
from .real_wordpress import RealWordPressSubject
from .real_world import RealWorld
from .subjects import SUBJECTS, TOKEN, TOKEN_ENV, Subject

pytestmark = pytest.mark.integration

LONG_TEXT = " ".join(
    f"Stycke {n}: Kommunfullmäktige sammanträder i stadshuset och allmänheten är välkommen." for n in range(700)
)  # ≈ 60 000 characters
WORLD_TEXT = (
    "Välkommen på invigningen! 🎉👩🏽‍🚒🇸🇪 Ελληνικά · العربية · 日本語の案内 · Русский · ᚠᚢᚦ · Åsa Öberg från Älvdalen"
)


@pytest.fixture(params=[*SUBJECTS, RealWordPressSubject(), RealBlueskySubject()], ids=lambda s: s.name)
def subject(request: pytest.FixtureRequest) -> Subject:
    param: Subject = request.param
    return param


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)


@pytest.fixture
def sim(subject: Subject) -> Iterator[Simulator]:
    with subject.world(posts=12) as running:
        yield running


@pytest.fixture
def arc(settings: Settings) -> Iterator[Archive]:
    # Below the simulator's 32 MB oversized video, so the size cap is exercised on every platform.
    archive = Archive(settings.model_copy(update={"media_max_bytes": 8 * 1024 * 1024}))
    yield archive
    archive.index.destroy()


def harvest(arc: Archive, sim: Simulator, subject: Subject) -> HarvestReport:
    return harvest_subject(arc, sim, subject)


def latest(arc: Archive, subject: Subject) -> dict[str, dict[str, Any]]:
    """Item id → the newest archived version of what the platform published (the account's own
    moderation lists, kind `moderation`, are the moderation scenarios' business)."""
    arc.index.es.indices.refresh(index=arc.index.alias)
    by_item: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for doc in arc.index.scan({"term": {"account": f"sv-{subject.platform}"}}):
        if doc["kind"] != "moderation":
            by_item[doc["item_id"]].append(doc)
    return {item: max(docs, key=lambda d: d["version"]) for item, docs in by_item.items()}


def same_text(a: str | None, b: str | None) -> bool:
    return " ".join((a or "").split()) == " ".join((b or "").split())


def need(subject: Subject, flag: str) -> None:
    if not getattr(subject.capabilities, flag):
        pytest.skip(f"{subject.platform}'s API does not reveal this ({flag} is false; see docs/platforms.md)")


def test_backfill_captures_every_visible_item_with_its_text_thread_and_media(
    arc: Archive, sim: Simulator, subject: Subject
) -> None:
    report = harvest(arc, sim, subject)
    docs = latest(arc, subject)
    expected = subject.expected(sim)
    assert expected <= set(docs), sorted(expected - set(docs))[:5]
    truth = subject.visible(sim)
    for item_id in expected:
        row, doc = truth[item_id], docs[item_id]
        assert same_text(doc["text"], row["text"]), (item_id, doc["text"][:80], row["text"][:80])
        assert doc["kind"] == row["kind"] or (row["kind"] == "post" and doc["kind"] in ("post", "media")), item_id
        if row["kind"] != "post":
            assert doc["parent_id"] == row["parent"], item_id
        if subject.capabilities.archives_media and row["kind"] == "post":
            wanted = [m for m in row["media"] if not m["oversized"]]
            digests = [m.get("sha256") for m in doc.get("media") or []]
            assert len([d for d in digests if d]) >= len(wanted), (item_id, doc.get("media"), wanted)
    oversized = [m for r in truth.values() for m in r["media"] if m["oversized"]]
    if subject.capabilities.archives_media and oversized:
        assert any("size cap" in q.reason for q in report.quarantined), [q.reason for q in report.quarantined]
    assert report.files and report.requests > 0


def test_incremental_run_finds_the_new_post_and_rewrites_nothing(
    arc: Archive, sim: Simulator, subject: Subject
) -> None:
    first = harvest(arc, sim, subject)
    sim.apply([{"type": "clock.advance", "hours": 1}])
    new_id = subject.publish(sim, text="Ny förskola öppnar i Norrby i augusti.", images=1)
    second = harvest(arc, sim, subject)
    docs = latest(arc, subject)
    assert new_id in docs and docs[new_id]["version"] == 1
    assert same_text(docs[new_id]["text"], "Ny förskola öppnar i Norrby i augusti.")
    assert second.counts.edited == 0 and second.counts.deleted == 0, second.counts
    assert second.requests < first.requests, (second.requests, first.requests)


def test_an_edit_becomes_a_new_version(arc: Archive, sim: Simulator, subject: Subject) -> None:
    need(subject, "finds_edits")
    sim.apply([{"type": "clock.advance", "hours": 1}])
    post_id = subject.publish(sim, text="Mötet börjar klockan 18.")
    harvest(arc, sim, subject)
    sim.apply([{"type": "clock.advance", "hours": 2}])
    subject.event(sim, "edit", no=subject.no_of(sim, post_id), text="Mötet börjar klockan 19 (ny tid).")
    harvest(arc, sim, subject)
    doc = latest(arc, subject)[post_id]
    assert doc["version"] == 2 and same_text(doc["text"], "Mötet börjar klockan 19 (ny tid).")


def test_deletions_become_tombstones(arc: Archive, sim: Simulator, subject: Subject) -> None:
    need(subject, "finds_post_deletions")
    sim.apply([{"type": "clock.advance", "hours": 1}])
    keep = subject.publish(sim, text="Inlägg som får en kommentar.")
    gone = subject.publish(sim, text="Inlägg som tas bort.")
    comment = (
        subject.comment(sim, keep, text="En kommentar som tas bort.")
        if subject.capabilities.finds_comment_deletions
        else None
    )
    harvest(arc, sim, subject)
    sim.apply([{"type": "clock.advance", "hours": 1}])
    subject.event(sim, "delete", no=subject.no_of(sim, gone))
    if comment is not None:
        subject.event(sim, "delete_comment", no=subject.no_of(sim, comment))
    report = harvest(arc, sim, subject)
    docs = latest(arc, subject)
    assert docs[gone]["deleted"] is True and docs[gone]["version"] == 2
    assert docs[keep]["deleted"] is False
    if comment is not None:
        assert docs[comment]["deleted"] is True
    assert report.counts.deleted == (2 if comment else 1)


def test_a_new_comment_on_an_old_post_is_found(arc: Archive, sim: Simulator, subject: Subject) -> None:
    need(subject, "finds_old_post_comments")
    harvest(arc, sim, subject)
    oldest = min((r for r in subject.visible(sim).values() if r["kind"] == "post"), key=lambda r: r["created_at"])
    sim.apply([{"type": "clock.advance", "hours": 25}])  # the daily sweep is due
    comment = subject.comment(sim, oldest["id"], text="Gäller det här fortfarande?")
    harvest(arc, sim, subject)
    doc = latest(arc, subject).get(comment)
    assert doc is not None and doc["parent_id"] == oldest["id"] and doc["direction"] == "inkommen"


def test_a_rate_limit_is_waited_out(arc: Archive, sim: Simulator, subject: Subject) -> None:
    sim.apply(
        [{"type": "fault", "kind": "rate_limit", "count": 1, "retry_after": 1, "match": {"platform": subject.platform}}]
    )
    harvest(arc, sim, subject)
    assert subject.expected(sim) <= set(latest(arc, subject))
    assert any(r.status == 429 for r in sim.requests())


def test_server_errors_are_retried(arc: Archive, sim: Simulator, subject: Subject) -> None:
    sim.apply(
        [
            {"type": "fault", "kind": "status", "status": 503, "count": 2, "match": {"platform": subject.platform}},
            {"type": "fault", "kind": "status", "status": 500, "count": 1, "match": {"platform": subject.platform}},
        ]
    )
    harvest(arc, sim, subject)
    assert subject.expected(sim) <= set(latest(arc, subject))
    assert sum(r.status >= 500 for r in sim.requests()) == 3


def test_a_malformed_item_is_quarantined_and_the_rest_archived(arc: Archive, sim: Simulator, subject: Subject) -> None:
    posts = sorted((r for r in subject.visible(sim).values() if r["kind"] == "post"), key=lambda r: r["created_at"])
    bad = posts[-2]
    subject.event(sim, "corrupt", no=bad["no"])
    report = harvest(arc, sim, subject)
    docs = latest(arc, subject)
    assert bad["id"] not in docs
    assert subject.expected(sim) <= set(docs)
    assert len(report.quarantined) >= 1 and all(q.reason for q in report.quarantined)


def test_an_empty_account_is_a_successful_run_with_nothing_in_it(arc: Archive, subject: Subject) -> None:
    with subject.world(posts=0) as empty:
        report = harvest(arc, empty, subject)
        assert not subject.visible(empty)
    assert report.quarantined == [] and report.counts.new == 0
    assert latest(arc, subject) == {}


def test_very_long_text_is_kept_whole(arc: Archive, sim: Simulator, subject: Subject) -> None:
    sim.apply([{"type": "clock.advance", "hours": 1}])
    post_id = subject.publish(sim, text=LONG_TEXT)
    harvest(arc, sim, subject)
    doc = latest(arc, subject)[post_id]
    assert same_text(doc["text"], LONG_TEXT), len(doc["text"])


def test_non_latin_and_emoji_text_is_kept_exactly_and_found_by_search(
    arc: Archive, sim: Simulator, subject: Subject
) -> None:
    sim.apply([{"type": "clock.advance", "hours": 1}])
    post_id = subject.publish(sim, text=WORLD_TEXT)
    harvest(arc, sim, subject)
    assert latest(arc, subject)[post_id]["text"].strip() == WORLD_TEXT
    hits = search(arc.index, SearchQuery(text="Älvdalen", account=f"sv-{subject.platform}")).hits
    assert post_id in {h.source["item_id"] for h in hits}


def test_the_credential_never_lands_in_warc_files_index_quarantine_or_logs(
    arc: Archive, sim: Simulator, subject: Subject, caplog: pytest.LogCaptureFixture
) -> None:
    if not subject.needs_token:
        pytest.skip(f"{subject.platform} needs no credential")
    caplog.set_level(logging.DEBUG)
    caplog.handler.addFilter(RedactingFilter())  # as archive.logs puts it on every handler Communis sets up
    sim.apply([{"type": "clock.advance", "hours": 1}])
    bad = subject.publish(sim, text="Ett inlägg som kommer fram trasigt.")
    subject.event(sim, "corrupt", no=subject.no_of(sim, bad))  # a quarantine entry, with its reason
    report = harvest(arc, sim, subject)
    assert report.quarantined
    secret = TOKEN.encode()
    stored = [key for key in arc.store.keys("") if not key.endswith("/")]
    assert any(key.startswith("warc/") for key in stored)
    for key in stored:
        with arc.store.open(key) as handle:
            data = handle.read()
        if key.endswith(".gz"):
            data = gzip.decompress(data)
        assert secret not in data, key
    docs = latest(arc, subject)
    assert docs and all(TOKEN not in json.dumps(doc) for doc in docs.values())
    assert TOKEN not in caplog.text


def test_the_published_counts_agree_with_the_archive_after_a_backfill(
    arc: Archive, sim: Simulator, subject: Subject
) -> None:
    """Every count the connector declares it reads is read, and after a backfill the archive holds what it
    says (within the platform's tolerance); a platform that declares none is "not knowable", never complete."""
    harvest(arc, sim, subject)
    account = subject.account(sim)
    report = account_report(
        arc.index, account.id, account.platform, tolerance_for(account.platform, arc.settings), made_by="contract"
    )
    caps = subject.capabilities
    if not caps.published:
        assert report.status is Status.UNKNOWABLE and report.unknowable, report.summary
        return
    assert report.status is not Status.GAP, report.summary
    declared = {(p.what, p.per_item) for p in caps.published}
    for what, per_item in declared:
        if per_item:
            # read for some items (X's replies older than 7 days cannot be read: such items are read, not compared)
            months = [m for m in report.months if m.counted or m.incomparable]
            assert months, f"no {what.value} count read per item: {report.summary}"
        else:
            checked = [t for t in report.totals if t.what is what]
            assert checked and all(t.published is not None and t.evidence for t in checked), report.totals
    assert all(m.status is not Status.GAP for m in report.months), report.summary


def need_moderation(subject: Subject) -> None:
    if not subject.capabilities.finds_moderation_lists:
        pytest.skip(f"{subject.platform} archives no moderation lists: {subject.capabilities.moderation}")


@pytest.fixture
def plc(subject: Subject, sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bluesky reads the account's PDS from its DID document: in the subject's PLC directory, not plc.directory."""
    directory = subject.plc_directory(sim)
    if directory is not None:
        monkeypatch.setattr(BlueskyConnector, "plc_directory", directory)


def harvest_moderated(arc: Archive, sim: Simulator, subject: Subject) -> HarvestReport:
    """A harvest of the account with the credential its moderation lists need; fails the test if not ok."""
    report = harvest_one(arc.settings, arc.store, arc.index, subject.moderation_account(sim), now=sim_now(sim))
    assert report.ok, report.error
    return report


@pytest.mark.usefixtures("plc")
def test_moderation_a_block_and_an_unblock_are_versions_of_the_block_list(
    arc: Archive, sim: Simulator, subject: Subject
) -> None:
    need_moderation(subject)
    first = harvest_moderated(arc, sim, subject)
    assert not [n for n in first.notes if " blocks" in n], first.notes
    sim.apply([{"type": "clock.advance", "hours": 1}])
    blocked = subject.block(sim)
    blocking = harvest_moderated(arc, sim, subject)
    sim.apply([{"type": "clock.advance", "hours": 1}])
    subject.unblock(sim, blocked)
    harvest_moderated(arc, sim, subject)
    harvest_moderated(arc, sim, subject)  # nothing changed: no new version
    versions = archived_versions(arc, f"sv-{subject.platform}")["blocks"]
    listed = [[e["id"] for e in v["moderation"]["entries"]] for v in versions]
    assert len(versions) == 3, listed
    assert blocked["id"] not in listed[0] and blocked["id"] in listed[1] and blocked["id"] not in listed[2], listed
    assert [v["version"] for v in versions] == [1, 2, 3]
    assert versions[0]["captured_at"] < versions[1]["captured_at"] < versions[2]["captured_at"]
    assert all(v["kind"] == "moderation" and v["direction"] == "upprattad" for v in versions)
    assert blocked["handle"].split("@")[0] in versions[1]["text"] or blocked["id"] in versions[1]["text"]
    # No post or reply of the blocked account looks deleted: the harvest reads the public view, not the
    # account's (which leaves out what it blocks). A Bluesky block is public, though: the account's quote of
    # the blocked account's post shows as blocked to everyone, and is archived so (a version of the quote).
    assert blocking.counts.moderation == 1, blocking.counts
    assert blocking.counts.new == blocking.counts.deleted == 0, blocking.counts


@pytest.mark.usefixtures("plc")
def test_moderation_a_list_the_token_may_not_read_is_a_note_not_a_failed_run(
    arc: Archive, sim: Simulator, subject: Subject
) -> None:
    need_moderation(subject)
    if isinstance(sim, RealWorld):
        pytest.skip(f"{sim.server} cannot be made to refuse one list to the token on demand")
    match = {"platform": subject.platform, "path_contains": subject.block_path}
    sim.apply([{"type": "fault", "kind": "status", "status": 403, "count": None, "match": match}])
    report = harvest_moderated(arc, sim, subject)
    assert report.ok
    refused = [n for n in report.notes if n.startswith(f"{subject.platform} blocks: not read")]
    assert len(refused) == 1 and "HTTP 403" in refused[0] and "\n" not in refused[0], report.notes
    assert "blocks" not in archived_versions(arc, f"sv-{subject.platform}")
    assert subject.expected(sim) <= set(latest(arc, subject))


def test_moderation_a_hidden_comment_stays_a_record_with_a_hidden_version(
    arc: Archive, sim: Simulator, subject: Subject
) -> None:
    if not subject.capabilities.finds_hidden_comments:
        pytest.skip(f"{subject.platform} shows no hidden comment to the account: {subject.capabilities.moderation}")
    sim.apply([{"type": "clock.advance", "hours": 1}])
    post = subject.publish(sim, text="Inlägg om Kvarnbäcksbron.")
    comment = subject.comment(sim, post, text="Kvarnbäcksbron är livsfarlig, se bilden från i går!")
    harvest(arc, sim, subject)
    sim.apply([{"type": "clock.advance", "hours": 1}])
    subject.event(sim, "hide_comment", no=subject.no_of(sim, comment))
    hiding = harvest(arc, sim, subject)
    assert hiding.counts.edited == 1, hiding.counts
    harvest(arc, sim, subject)  # seen hidden again: no third version
    versions = archived_versions(arc, f"sv-{subject.platform}")[comment]
    assert [v["hidden_on_platform"] for v in versions] == [False, True], versions
    live, hidden = versions
    assert hidden["deleted"] is False and hidden["direction"] == "inkommen" and hidden["is_latest"] is True
    assert live["captured_at"] < hidden["captured_at"]  # the capture that first saw it hidden
    assert hidden["first_seen_at"] == live["first_seen_at"]
    account = f"sv-{subject.platform}"
    found = {h.source["item_id"] for h in search(arc.index, SearchQuery(text="Kvarnbäcksbron", account=account)).hits}
    public = search(arc.index, SearchQuery(text="Kvarnbäcksbron", account=account, public_only=True)).hits
    assert comment in found and post in found
    assert comment not in {h.source["item_id"] for h in public} and post in {h.source["item_id"] for h in public}
