"""The Mastodon connector against a real Mastodon server's responses (Mastodon.py's vcrpy cassettes).

`tests/recordings/mastodon/tests/cassettes/` holds what a real Mastodon server (4.6.4, on
localhost:3000) answered Mastodon.py's test suite: statuses posted, edited, boosted, quoted,
replied to, with media and polls, timelines, conversations, 404s. The suite mostly *made* those
statuses (POST /statuses, PUT for edits, POST /reblog), so a cassette seldom holds the account
listing the connector reads. Each harvest here is therefore composed from what the cassette
recorded, over loopback HTTP (`tests.driving.drive`, the connector run as the harvest service runs it):

* every status object the server sent (in any 200 answer but a DELETE's, which carries `text`
  instead of `content`: the status was gone), each in the last version the server sent, becomes
  its author's timeline: one harvest per author, `GET /api/v1/accounts/lookup` answered with the
  recorded account object the statuses embed, `GET /api/v1/accounts/{id}/statuses` with those
  statuses newest first (one page, no `Link`);
* a poll is shown with the last reading the server gave of it (`GET /api/v1/polls/{id}` and
  `POST .../votes` answers come after the status that carries it);
* `GET /api/v1/statuses/{id}/context` is answered with the recorded context where the cassette
  has one, else composed from the cassette's statuses: the chain of `in_reply_to_id` above the
  status, and every status below it;
* media files (the server's `/system/...` URLs) are not recorded: they answer 404 and are
  quarantined as media. `ToLoopback` sends every recorded host to the replay server.

Where a cassette recorded the account listing itself (`test_fetch_next_previous*`,
`test_get_pagination_info`: `limit=5` pages with `Link` headers), those exact pages are served,
and their `Link` followed (`test_recorded_account_listing_pages`). The records are compared with an
independent reading of the statuses' JSON (`expected`), field by field.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from archive.connectors.base import HarvestContext
from archive.connectors.http import Fetcher, make_client
from archive.connectors.mastodon import MastodonConnector
from schemas import Account, HarvestState, KnownItem, Record
from tests.driving import Outcome, drive
from tests.replay.loopback import ToLoopback
from tests.replay.server import RECORDINGS, Answer, Asked, serving

CASSETTES = RECORDINGS / "mastodon" / "tests" / "cassettes"
NOW = datetime(2026, 12, 1, tzinfo=UTC)
TYPES = {"image": "image/*", "gifv": "video/*", "video": "video/*", "audio": "audio/*"}


# ---- reading a cassette ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Exchange:
    method: str
    uri: str
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.uri).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.uri).query)

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@cache
def exchanges(name: str) -> tuple[Exchange, ...]:
    """A vcrpy cassette's interactions; the body is under `response.body.string` (str or bytes)."""
    data = yaml.load((CASSETTES / f"{name}.yaml").read_bytes(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    out = []
    for one in data.get("interactions") or []:
        response = one["response"]
        body = response.get("body")
        body = body.get("string", b"") if isinstance(body, dict) else body or b""
        headers = {
            k.lower(): ", ".join(v) if isinstance(v, list) else str(v)
            for k, v in (response.get("headers") or {}).items()
        }
        out.append(
            Exchange(
                one["request"]["method"],
                one["request"]["uri"],
                response["status"]["code"],
                headers,
                body if isinstance(body, bytes) else body.encode(),
            )
        )
    return tuple(out)


def is_status(obj: Any) -> bool:
    return isinstance(obj, dict) and {"id", "account", "created_at", "content"} <= obj.keys()


def statuses_in(obj: Any) -> Iterator[dict[str, Any]]:
    """Every status object in a decoded answer: itself, in lists, in notifications, boosted, quoted."""
    if is_status(obj):
        yield obj
    if isinstance(obj, dict):
        for value in obj.values():
            yield from statuses_in(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from statuses_in(value)


@dataclass
class Recorded:
    """What one cassette says about statuses: each in its last version, each poll's last reading."""

    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)
    contexts: dict[str, Exchange] = field(default_factory=dict)

    @classmethod
    def read(cls, name: str) -> Recorded:
        out = cls()
        polls: dict[str, dict[str, Any]] = {}
        for ex in exchanges(name):
            body = ex.json()
            if ex.status != 200 or ex.method == "DELETE" or body is None:
                continue
            if ex.path.endswith("/context") and ex.method == "GET":
                out.contexts[ex.path.split("/")[-2]] = ex
            if re.fullmatch(r"/api/v1/polls/\d+(/votes)?", ex.path) and isinstance(body, dict):
                polls[str(body["id"])] = body
            for status in statuses_in(body):
                out.statuses[str(status["id"])] = status
                if isinstance(status.get("poll"), dict):
                    polls[str(status["poll"]["id"])] = status["poll"]
        for status in out.statuses.values():
            if isinstance(status.get("poll"), dict):
                status["poll"] = polls[str(status["poll"]["id"])]
        return out

    def by(self, account_id: str) -> list[dict[str, Any]]:
        """The account's timeline: its statuses and boosts, newest first."""
        own = [s for s in self.statuses.values() if str(s["account"]["id"]) == account_id]
        return sorted(own, key=lambda s: int(s["id"]), reverse=True)

    def authors(self) -> dict[str, dict[str, Any]]:
        return {str(s["account"]["id"]): s["account"] for s in self.statuses.values()}

    def context(self, status_id: str) -> dict[str, list[dict[str, Any]]]:
        """The recorded context, or one composed from the cassette's statuses."""
        if status_id in self.contexts:
            recorded: dict[str, list[dict[str, Any]]] = self.contexts[status_id].json()
            return recorded
        ancestors: list[dict[str, Any]] = []
        parent = self.statuses[status_id].get("in_reply_to_id")
        while parent is not None and str(parent) in self.statuses:
            ancestors.insert(0, self.statuses[str(parent)])
            parent = self.statuses[str(parent)].get("in_reply_to_id")

        def below(s: dict[str, Any]) -> bool:
            up = s.get("in_reply_to_id")
            while up is not None:
                if str(up) == status_id:
                    return True
                up = self.statuses.get(str(up), {}).get("in_reply_to_id")
            return False

        descendants = sorted((s for s in self.statuses.values() if below(s)), key=lambda s: int(s["id"]))
        return {"ancestors": ancestors, "descendants": descendants}


def cassettes_with_statuses() -> list[str]:
    names = sorted(p.stem for p in CASSETTES.glob("*.yaml"))
    return [n for n in names if Recorded.read(n).statuses]


# ---- an independent reading of a status ------------------------------------------------------------
def plain(content: str) -> str:
    """The words of a status's HTML: paragraphs and line breaks are spaces, other tags vanish."""
    text = re.sub(r"<(?:br|/?p)\b[^>]*>", " ", content or "")
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", text)).split())


def moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def expected(status: dict[str, Any], own_id: str, thread: str | None) -> dict[str, Any]:
    """The record a status should give, read straight from its JSON (`thread`: the conversation's top
    when the status was read in a conversation, else None)."""
    shown = status.get("reblog") or status
    parent = status.get("in_reply_to_id")
    text = plain(shown.get("content", ""))
    if shown.get("spoiler_text"):
        text = f"{' '.join(shown['spoiler_text'].split())} {text}".strip()
    poll = shown.get("poll")
    quoted = (shown.get("quote") or {}).get("quoted_status")
    return {
        "item_id": str(status["id"]),
        "kind": "post" if parent is None else ("comment" if str(parent) == thread else "reply"),
        "parent_id": str(parent) if parent is not None else None,
        "thread_id": thread or str(status["id"]),
        "author": (str(status["account"]["id"]), status["account"]["acct"], status["account"].get("display_name")),
        "direction": "upprattad" if str(status["account"]["id"]) == own_id else "inkommen",
        "text": text,
        "url": status.get("url") or status.get("uri"),
        "repost_of": (shown.get("url") or shown.get("uri")) if status.get("reblog") else None,
        "quote_of": (quoted.get("url") or quoted.get("uri")) if isinstance(quoted, dict) else None,
        "links": list(dict.fromkeys(html.unescape(h) for h in re.findall(r'href="([^"]*)"', shown.get("content", "")))),
        "hashtags": [t["name"].lower() for t in shown.get("tags") or []],
        "mentions": [m["acct"] for m in shown.get("mentions") or []],
        "media": [(m["url"], TYPES.get(m["type"]), m.get("description")) for m in shown.get("media_attachments") or []],
        "published_at": moment(status["created_at"]),
        "edited_at": moment(shown.get("edited_at")),
        "language": shown.get("language"),
        "poll": None
        if poll is None
        else (
            [(o["title"], o.get("votes_count")) for o in poll["options"]],
            moment(poll.get("expires_at")),
            bool(poll.get("multiple")),
            poll.get("votes_count"),
            poll.get("voters_count"),
        ),
    }


def actual(record: Record) -> dict[str, Any]:
    poll = record.poll
    return {
        "item_id": record.item_id,
        "kind": record.kind.value,
        "parent_id": record.parent_id,
        "thread_id": record.thread_id,
        "author": (record.author.id, record.author.handle, record.author.name),
        "direction": record.direction.value,
        "text": " ".join(record.text.split()),
        "url": record.url,
        "repost_of": record.repost_of,
        "quote_of": record.quote_of,
        "links": record.links,
        "hashtags": record.hashtags,
        "mentions": record.mentions,
        "media": [(m.url, m.content_type, m.description) for m in record.media],
        "published_at": record.published_at,
        "edited_at": record.edited_at,
        "language": record.language,
        "poll": None
        if poll is None
        else ([(o.title, o.votes) for o in poll.options], poll.expires_at, poll.multiple, poll.votes, poll.voters),
    }


def expectations(recorded: Recorded, own_id: str) -> dict[str, dict[str, Any]]:
    """Item id → expected fields, for everything one harvest of the account's timeline should archive:
    its top-level statuses and boosts (and each boosted status), and the conversation of each status
    that has replies or is one."""
    out: dict[str, dict[str, Any]] = {}
    timeline = recorded.by(own_id)
    for status in timeline:
        if status.get("in_reply_to_id") is None:
            out[str(status["id"])] = expected(status, own_id, None)
            if isinstance(status.get("reblog"), dict):
                boosted = {**status["reblog"], "reblog": None}
                out[str(boosted["id"])] = expected(boosted, own_id, None)
    for status in timeline:
        if (status.get("replies_count") or 0) > 0 or status.get("in_reply_to_id") is not None:
            context = recorded.context(str(status["id"]))
            ancestors = context["ancestors"]
            root = str(ancestors[0]["id"]) if ancestors else str(status["id"])
            middle = [status] if status.get("in_reply_to_id") is not None else []
            for one in ancestors + middle + context["descendants"]:
                out[str(one["id"])] = expected(one, own_id, root)
    return out


# ---- replaying -------------------------------------------------------------------------------------
def account_for(base_url: str, acct: str) -> Account:
    return Account(
        id="replay-mastodon",
        platform="mastodon",
        handle=f"@{acct}",
        display_name="Replay",
        department="Test",
        retention_class="social-10y",
        base_url=base_url,
    )


def harvest(recorded: Recorded, person: dict[str, Any], timeline: Any = None) -> tuple[Outcome, list[Asked]]:
    """One harvest of `person`'s timeline, composed as the module docstring says (`timeline`: a route
    for the listing itself, to serve recorded pages instead of the composed one)."""
    ((outcome, asked),) = harvests(recorded, [person], timeline)
    return outcome, asked


def harvests(
    recorded: Recorded, people: list[dict[str, Any]], timeline: Any = None
) -> list[tuple[Outcome, list[Asked]]]:
    """`harvest` of each person in turn, from one replay server."""
    current: dict[str, Any] = {}

    def answer(asked: Asked) -> Answer | None:
        person = current["person"]
        own_id = str(person["id"])
        if asked.path == "/api/v1/accounts/lookup":
            return Answer.json(person) if asked.param("acct") == person["username"] else None
        if asked.path == f"/api/v1/accounts/{own_id}/statuses":
            return timeline(asked) if timeline else Answer.json(recorded.by(own_id))
        found = re.fullmatch(r"/api/v1/statuses/(\d+)/context", asked.path)
        if found and found.group(1) in recorded.statuses:
            return Answer.json(recorded.context(found.group(1)))
        return None

    out = []
    with serving(answer) as server:
        for person in people:
            current["person"] = person
            start = len(server.asked)
            outcome = drive(account_for(server.base_url, person["username"]), NOW, ToLoopback(server.base_url))
            assert outcome.kind == "parsed", outcome.crash or outcome.error or outcome.trace
            out.append((outcome, server.asked[start:]))
    return out


def field_errors(outcome: Outcome, want: dict[str, dict[str, Any]]) -> list[str]:
    got = {r.item_id: actual(r) for r in outcome.records}
    errors = [f"{i}: not archived" for i in want if i not in got]
    errors += [f"{i}: archived, but the recording does not put it in this timeline" for i in got if i not in want]
    for item_id in want.keys() & got.keys():
        errors += [
            f"{item_id}.{k}: {got[item_id][k]!r} != {v!r}" for k, v in want[item_id].items() if got[item_id][k] != v
        ]
    return errors


def not_media(outcome: Outcome) -> list[str]:
    return [r for r in outcome.reasons if not r.startswith("media ")]


# ---- the recordings --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", cassettes_with_statuses())
def test_every_author_of_a_cassette(name: str) -> None:
    """Each author's timeline of the cassette: every status archived, each field as the JSON says."""
    recorded = Recorded.read(name)
    problems = []
    people = list(recorded.authors().values())
    for person, (outcome, _) in zip(people, harvests(recorded, people), strict=True):
        want = expectations(recorded, str(person["id"]))
        problems += [f"@{person['acct']}: {e}" for e in field_errors(outcome, want)]
        problems += [f"@{person['acct']}: quarantined: {r}" for r in not_media(outcome)]
    assert not problems, "\n".join(problems)


def test_polls_are_content_and_their_votes_a_reading() -> None:
    """`test_polls`: a poll of two options, multiple choice, voted on twice; the last reading
    (`GET /api/v1/polls/1`: 2 votes by 1 voter) is the one the status is shown with."""
    recorded = Recorded.read("test_polls")
    (status,) = recorded.statuses.values()
    outcome, _ = harvest(recorded, status["account"])
    (record,) = outcome.records
    assert record.poll is not None
    assert [(o.title, o.votes) for o in record.poll.options] == [("four twenty", 1), ("sixty-nine", 1)]
    assert record.poll.multiple and record.poll.votes == 2 and record.poll.voters == 1
    assert record.poll.expires_at == datetime(2026, 8, 1, 13, 58, 7, 237000, tzinfo=UTC)
    before = record.model_copy(
        update={
            "poll": record.poll.model_copy(
                update={
                    "votes": 0,
                    "voters": 0,
                    "options": [o.model_copy(update={"votes": 0}) for o in record.poll.options],
                }
            )
        }
    )
    assert before.content_sha256 == record.content_sha256  # new votes are no new version
    renamed = record.model_copy(
        update={
            "poll": record.poll.model_copy(
                update={"options": [o.model_copy(update={"title": "x"}) for o in record.poll.options]}
            )
        }
    )
    assert renamed.content_sha256 != record.content_sha256  # other options are


def test_edits_boosts_quotes_and_replies_on_the_real_server() -> None:
    """The cassettes that show each: an edited status (`test_status_edit`: `edited_at`, new text), a
    boost of one's own status (`test_status_reblog_unreblog`), a quote (`test_status_post_with_quote`)
    and a reply (`test_status_reply`)."""
    edit = Recorded.read("test_status_edit")
    edited = next(s for s in edit.statuses.values() if s.get("edited_at"))
    outcome, _ = harvest(edit, edited["account"])
    record = next(r for r in outcome.records if r.item_id == str(edited["id"]))
    assert record.edited_at == moment(edited["edited_at"]) and "Kate" in record.text

    boost = Recorded.read("test_status_reblog_unreblog")
    wrapper = next(s for s in boost.statuses.values() if s.get("reblog"))
    outcome, _ = harvest(boost, wrapper["account"])
    records = {r.item_id: r for r in outcome.records}
    assert records[str(wrapper["id"])].repost_of == wrapper["reblog"]["url"]
    assert records[str(wrapper["reblog"]["id"])].repost_of is None

    quote = Recorded.read("test_status_post_with_quote")
    quoting = next(s for s in quote.statuses.values() if s.get("quote"))
    outcome, _ = harvest(quote, quoting["account"])
    records = {r.item_id: r for r in outcome.records}
    assert records[str(quoting["id"])].quote_of == quoting["quote"]["quoted_status"]["url"]

    reply = Recorded.read("test_status_reply")
    answering = next(s for s in reply.statuses.values() if s.get("in_reply_to_id"))
    outcome, asked = harvest(reply, answering["account"])
    records = {r.item_id: r for r in outcome.records}
    assert records[str(answering["id"])].parent_id == str(answering["in_reply_to_id"])
    assert any(a.path.endswith(f"/{answering['id']}/context") for a in asked)


@pytest.mark.parametrize(
    "name",
    [
        "test_fetch_next_previous",
        "test_fetch_next_previous_after_persist",
        "test_fetch_next_previous_from_pagination_info",
        "test_get_pagination_info",
    ],
)
def test_recorded_account_listing_pages(name: str) -> None:
    """The account listing as the server answered it (`limit=5` pages, `Link: rel="next"` by
    `max_id`), served byte for byte; the connector's first request (`limit=40`, no `max_id`) gets the
    recorded first page, a `Link` it follows gets the recorded page of that `max_id`, and a page past
    what was recorded gets `[]`, as Mastodon answers past the oldest status."""
    pages = {
        (ex.query.get("max_id") or [""])[0]: ex
        for ex in exchanges(name)
        if ex.method == "GET" and re.fullmatch(r"/api/v1/accounts/\d+/statuses", ex.path) and "min_id" not in ex.query
    }
    first = pages[""]
    person = first.json()[0]["account"]

    def timeline(asked: Asked) -> Answer:
        page = pages.get(asked.param("max_id") or "")
        if page is None:
            return Answer.json([])
        return Answer(200, page.body, {"Content-Type": page.headers["content-type"], "Link": page.headers["link"]})

    outcome, asked = harvest(Recorded.read(name), person, timeline)
    listed = [s for ex in pages.values() for s in ex.json()]
    followed = [a.param("max_id") for a in asked if a.path.endswith("/statuses")]
    assert followed[0] is None and set(followed[1:]) >= set(pages) - {""}
    recorded = Recorded()
    recorded.statuses = {str(s["id"]): s for s in listed}
    assert not field_errors(outcome, expectations(recorded, str(person["id"])))
    assert not not_media(outcome)
    # The real server's counts: `replies_count` of every status listed, `statuses_count` of the account.
    counts = {c.item_id: c.value for b in outcome.counted for c in b.counts if c.item_id is not None}
    assert counts == {str(s["id"]): s["replies_count"] for s in listed if not s.get("reblog")}
    assert [c.value for b in outcome.counted for c in b.counts if c.item_id is None] == [person["statuses_count"]]


def test_unknown_account_fails_the_run_with_one_line() -> None:
    """`test_account_lookup`: the server answers 404 `Record not found` for an unknown acct; the run
    fails with a one-line error naming that answer, and nothing else is asked."""
    lookup = next(ex for ex in exchanges("test_account_lookup") if ex.status == 404)

    def answer(asked: Asked) -> Answer | None:
        return Answer(404, lookup.body) if asked.path == "/api/v1/accounts/lookup" else None

    with serving(answer) as server:
        outcome = drive(account_for(server.base_url, "kljadklajsdkljlkjlkjlkjasdasd"), NOW, ToLoopback(server.base_url))
    assert outcome.kind == "failed" and outcome.error is not None and "404" in outcome.error
    assert [a.path for a in server.asked] == ["/api/v1/accounts/lookup"]


def test_a_status_the_server_answers_404_for_becomes_a_tombstone() -> None:
    """`test_status_missing`: `GET /api/v1/statuses/0` answered 404 `{"error": "Not Found"}`. A status
    the archive knows and the server answers so for is recorded as deleted (the harvest service asks
    `check_deleted` for known items the run did not see); the 404 exchange is kept as the evidence."""
    missing = next(ex for ex in exchanges("test_status_missing") if ex.status == 404)
    item_id = missing.path.rsplit("/", 1)[1]

    def answer(asked: Asked) -> Answer | None:
        return Answer(404, missing.body) if asked.path == missing.path else None

    seen = datetime(2026, 8, 1, 13, 0, tzinfo=UTC)
    known = KnownItem(
        content_sha256="0" * 64,
        record_id="r" * 32,
        version=1,
        kind="post",
        direction="upprattad",
        url=f"http://localhost:3000/@mastodonpy_test/{item_id}",
        first_seen=seen,
        last_seen=seen,
    )
    with serving(answer) as server, make_client(transport=ToLoopback(server.base_url)) as client:
        account = account_for(server.base_url, "mastodonpy_test")
        fetcher = Fetcher(client, max_tries=1, backoff=0.0, sleep=lambda _s: None, max_wait=0.0)
        ctx = HarvestContext(account, HarvestState(account=account.id), fetcher, NOW)
        bundle = MastodonConnector().check_deleted(ctx, item_id, known)
    assert bundle is not None and bundle.capture.status == 404 and bundle.capture.body == missing.body
    (tombstone,) = bundle.records
    assert tombstone.deleted and tombstone.item_id == item_id and tombstone.url == known.url


@pytest.mark.parametrize("name", ["test_status_edit", "test_status_update_with_media_edit"])
def test_an_edit_read_by_the_next_run_is_a_new_version(name: str) -> None:
    """The status as first posted (`POST /api/v1/statuses`), then as edited (`PUT`): two harvests, one
    before and one after the edit. The second record has the server's `edited_at` and the new text
    (and, in `test_status_update_with_media_edit`, the attachment's new description), and a new
    content hash, which is what makes it a new version in the archive."""
    posted = next(ex.json() for ex in exchanges(name) if ex.method == "POST" and ex.path == "/api/v1/statuses")
    edited = next(ex.json() for ex in exchanges(name) if ex.method == "PUT")
    assert posted["id"] == edited["id"] and posted["edited_at"] is None and edited["edited_at"]
    records = []
    for version in (posted, edited):
        recorded = Recorded()
        recorded.statuses = {str(version["id"]): version}
        outcome, _ = harvest(recorded, version["account"])
        assert not field_errors(outcome, expectations(recorded, str(version["account"]["id"])))
        records.append(next(r for r in outcome.records if r.item_id == str(version["id"])))
    before, after = records
    assert before.edited_at is None and after.edited_at == moment(edited["edited_at"])
    assert after.text != before.text or after.media != before.media
    assert after.content_sha256 != before.content_sha256
