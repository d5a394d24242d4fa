"""Moderation lists as records: what is content, what a partial or refused list becomes, who is suggested for masking.

The lists are read over real HTTP on loopback (`tests.replay.server`), a Mastodon-shaped list paged
by `Link`, by the shared reader every connector uses (archive/connectors/moderation.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from archive.bundles import Rejected
from archive.connectors.base import HarvestContext, MemoryItems
from archive.connectors.http import Fetcher, make_client
from archive.connectors.mastodon import _accounts_page
from archive.connectors.moderation import ListSource, read_list, render
from archive.harvest.report import markdown_report
from archive.harvest.versions import Versioner
from archive.requests.detect import listed_parties
from archive.requests.workflow import suggest_masks
from schemas import (
    Account,
    CaptureBundle,
    DetectorKind,
    HarvestState,
    Kind,
    ModerationEntry,
    ModerationList,
    Poll,
    PollOption,
    Record,
)
from tests.replay.server import Answer, Asked, serving

T = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
T2024 = datetime(2024, 1, 1, tzinfo=UTC)
ACCOUNT = Account(
    id="sv-mastodon",
    platform="mastodon",
    handle="@sundsvik",
    display_name="Sundsviks kommun",
    department="Kommunstyrelsen",
    retention_class="social-10y",
    base_url="https://social.sundsvik.example",
)


def person(n: int, name: str | None = None) -> dict[str, Any]:
    return {"id": str(n), "acct": f"medborgare{n}@toot.example", "display_name": name or f"Medborgare {n}"}


def read(routes: Callable[[Asked], Answer | None]) -> tuple[list[CaptureBundle | Rejected], list[str]]:
    with serving(routes) as replay, make_client() as client:
        fetcher = Fetcher(client, max_tries=1, sleep=lambda _s: None, api_host="127.0.0.1")
        ctx = HarvestContext(ACCOUNT, HarvestState(account=ACCOUNT.id), fetcher, T)
        source = ListSource("blocks", f"{replay.base_url}/api/v1/blocks", {"limit": "2"}, _accounts_page)
        out = list(read_list(ctx, "mastodon", source))
    return out, ctx.notes


def pages(*bodies: Any) -> Callable[[Asked], Answer | None]:
    """Page n at `?page=n`, each linking to the next (the last to none)."""

    def routes(asked: Asked) -> Answer | None:
        n = int(asked.param("page") or 1)
        if n > len(bodies):
            return None
        link = {
            "Link": f'<http://127.0.0.1:{asked.headers["host"].split(":")[1]}/api/v1/blocks?page={n + 1}>; rel="next"'
        }
        body = bodies[n - 1]
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return Answer(200, raw, {"Content-Type": "application/json", **(link if n < len(bodies) else {})})

    return routes


def the_record(out: list[CaptureBundle | Rejected]) -> Record:
    records = [r for item in out if isinstance(item, CaptureBundle) for r in item.records]
    assert len(records) == 1, out
    return records[0]


def test_a_list_of_two_pages_is_one_record_on_the_last_page_and_every_page_a_capture() -> None:
    out, notes = read(pages([person(1), person(2)], [person(3)]))
    assert notes == [] and [isinstance(i, CaptureBundle) for i in out] == [True, True]
    assert not out[0].records and out[1].records  # type: ignore[union-attr]
    record = the_record(out)
    assert record.kind.value == "moderation" and record.item_id == "blocks" and record.direction.value == "upprattad"
    assert record.moderation is not None and [e.id for e in record.moderation.entries] == ["1", "2", "3"]
    assert record.text.splitlines()[0] == "Blocked accounts: 3"
    assert "\n@medborgare3@toot.example\n" in record.text + "\n"  # the handle; display names stay in `moderation`
    assert record.source_url is not None and record.source_url.endswith("/api/v1/blocks?limit=2")


def test_what_is_content_the_entries_not_their_order_nor_a_display_name() -> None:
    one = the_record(read(pages([person(1), person(2)], [person(3)]))[0])
    reordered = the_record(read(pages([person(3), person(1)], [person(2)]))[0])
    renamed = the_record(read(pages([person(1, "Nytt namn"), person(2)], [person(3)]))[0])
    fewer = the_record(read(pages([person(1), person(2)]))[0])
    assert one.content_sha256 == reordered.content_sha256 == renamed.content_sha256
    assert fewer.content_sha256 != one.content_sha256  # an unblock is a new version


def test_a_list_cut_short_is_not_recorded_it_would_read_as_unblocks() -> None:
    out, notes = read(pages([person(1), person(2)], b"<html>Bad gateway</html>"))
    assert not [r for i in out if isinstance(i, CaptureBundle) for r in i.records]
    assert [type(i).__name__ for i in out] == ["CaptureBundle", "Rejected"]  # page 1 kept, page 2 quarantined
    (note,) = notes
    assert note.startswith("mastodon blocks: not recorded this run: unreadable blocks list") and "\n" not in note


def test_a_refused_list_is_kept_as_evidence_and_a_one_line_note() -> None:
    out, notes = read(lambda asked: Answer.json({"error": "This action is outside the authorized scopes"}, 403))
    assert len(out) == 1 and isinstance(out[0], CaptureBundle) and out[0].records == [] and out[0].capture.status == 403
    assert notes == [notes[0]] and "answered HTTP 403 (the token may not read it)" in notes[0]


def test_a_list_whose_next_link_repeats_is_not_recorded() -> None:
    def routes(asked: Asked) -> Answer | None:
        port = asked.headers["host"].split(":")[1]
        link = f'<http://127.0.0.1:{port}/api/v1/blocks?limit=2>; rel="next"'
        return Answer(200, json.dumps([person(1)]).encode(), {"Content-Type": "application/json", "Link": link})

    out, notes = read(routes)
    assert not [r for i in out if isinstance(i, CaptureBundle) for r in i.records]
    assert len(notes) == 1 and "a page repeats" in notes[0]


def test_render_says_what_each_list_holds() -> None:
    filters = [
        ModerationEntry(id="1/1", title="Reklam", keyword="köp nu", whole_word=True, action="hide", context=["home"]),
        ModerationEntry(id="1/s/2", title="Reklam", status_id="42", action="hide"),
    ]
    assert render("filters", "Word filters", filters).splitlines() == [
        "Word filters: 2",
        'Reklam: "köp nu" (whole word; hide; home)',
        "Reklam: post 42 (hide)",
    ]
    assert render("domain_blocks", "Blocked domains", [ModerationEntry(domain="spam.example")]).endswith("spam.example")
    lists = [ModerationEntry(id="at://x/app.bsky.graph.list/1", title="Troll", handle="anna.bsky.social")]
    assert render("list_blocks", "Blocked lists", lists).endswith("Troll (a list by @anna.bsky.social)")
    by_id = [ModerationEntry(id="959746583768184", name="Maria Yilmaz")]
    assert render("blocks", "Blocked accounts", by_id).endswith("959746583768184 (Maria Yilmaz)")


def _list_record(name: str, entries: list[ModerationEntry]) -> Record:
    return Record(
        platform="mastodon",
        account="sv-mastodon",
        item_id=name,
        kind="moderation",
        direction="upprattad",
        text=render(name, name, entries),
        moderation=ModerationList(name=name, entries=entries),
        captured_at=T,
    )


def test_the_people_a_list_names_are_suggested_for_masking_and_nothing_else() -> None:
    blocks = _list_record(
        "blocks",
        [
            ModerationEntry(id="1", handle="karin@toot.example", name="Karin Svensson"),
            ModerationEntry(id="2", name="Bo Ek"),  # no handle (a Facebook profile): its id is shown
        ],
    )
    doc = json.loads(blocks.to_json_bytes()) | {"record_id": blocks.record_id}
    spans = [doc["text"][s.start : s.end] for s in listed_parties(doc)]
    assert sorted(spans) == sorted(["@karin@toot.example", "2", "Bo Ek"])  # not the "2" of the count
    masks = suggest_masks(doc, lambda _text: [])
    assert {m.kind for m in masks} == {DetectorKind.ACCOUNT} and {m.field for m in masks} == {"text"}
    domains = _list_record("domain_blocks", [ModerationEntry(domain="spam.example")])
    words = _list_record("filters", [ModerationEntry(id="1/1", title="Reklam", keyword="köp nu")])
    for record in (domains, words):
        assert listed_parties(json.loads(record.to_json_bytes())) == []
    post = json.loads(blocks.model_copy(update={"kind": Kind.POST, "moderation": None}).to_json_bytes())
    assert listed_parties(post) == []


def test_new_list_versions_are_counted_apart_and_notes_reach_the_report() -> None:
    versioner = Versioner(MemoryItems(), T)
    first = _list_record("blocks", [ModerationEntry(id="1", handle="a@b.example")])
    assert versioner.apply(first) is not None and versioner.apply(first) is None
    second = versioner.apply(_list_record("blocks", []))
    assert second is not None and second.version == 2
    assert (versioner.counts.moderation, versioner.counts.new, versioner.counts.edited) == (2, 0, 0)
    note = "x blocks: not read: https://api.x.com/2/users/1/blocking answered HTTP 403 (the token may not read it)"
    text = markdown_report([{"account": "sv-x", "ok": True, "notes": [note]}], [])
    assert "## Notes" in text and f"- **sv-x**: {note}" in text


def test_records_written_before_moderation_existed_keep_their_hashes() -> None:
    """The hashes the code before `moderation` gave a plain post, one with a poll and one with a quote."""
    plain = Record(
        platform="x", account="a", item_id="1", kind="post", direction="upprattad", text="hej", captured_at=T2024
    )
    polled = plain.model_copy(update={"poll": Poll(options=[PollOption(title="ja")])})
    quoting = plain.model_copy(update={"quote_of": "http://q"})
    assert plain.content_sha256 == "88e18f91b2acd457cfce399179d8b95dc22dcd868f91de7e9cf3278980c3213c"
    assert polled.content_sha256 == "75ccd309bfc0ce27a9c75a7f425421fa444d00a207840bf747589a1ba627446e"
    assert quoting.content_sha256 == "e7b6abe39f1b75a8e53c951ddb50379bc9af4f85ad73d0d109e2020beb5e3d30"
