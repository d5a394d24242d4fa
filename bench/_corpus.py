"""A large, seeded corpus of record versions for the search benchmark, made with the simulator's text generators.

Posts are the simulator's municipal announcements (`simulator.textgen.municipal_post`: Swedish with
å/ä/ö and emoji, some English, links, hashtags), comments and replies its citizens' texts (some with
personal data) and the municipality's answers, media the simulator's image/video mix (`social._media_for`'s
proportions and alt texts). They are spread over several accounts, platforms and departments and three years,
with edits (a second version), deletions (a tombstone version) and comments hidden by a moderator, the way
the harvester records them. Item *k* is generated from `rng(seed, "post", k)` alone, so the same `n` and
seed always give the same documents.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from archive.index import RecordIndex, to_document
from archive.index.documents import Document
from schemas import Author, MediaRef, Record, Removal
from simulator import textgen
from simulator.rand import rng
from simulator.social import _title_of

#: Bump when the generator changes, so `--reuse` does not keep an index made by an older one.
GENERATOR = 2
SEED = 20261127
TOWN = "Sundsvik"
DOMAIN = "sundsvik.example"
START = datetime(2023, 1, 1, tzinfo=UTC)
END = datetime(2025, 12, 31, 23, 59, tzinfo=UTC)
SPAN_S = int((END - START).total_seconds())


@dataclass(frozen=True)
class BenchAccount:
    id: str
    platform: str
    department: str
    weight: int
    retention_class: str = "social-10y"


ACCOUNTS = [
    BenchAccount("kommunen-fb", "facebook", "Kommunikation", 14),
    BenchAccount("kommunen-ig", "instagram", "Kommunikation", 8),
    BenchAccount("kommunen-x", "x", "Kommunikation", 8),
    BenchAccount("kommunen-yt", "youtube", "Kommunikation", 3),
    BenchAccount("kommunen-li", "linkedin", "HR", 4),
    BenchAccount("kommunen-mastodon", "mastodon", "Kommunikation", 5),
    BenchAccount("kommunen-bsky", "bluesky", "Kommunikation", 4),
    BenchAccount("nyheter-blogg", "wordpress", "Kommunikation", 5),
    BenchAccount("nyheter-rss", "rss", "Kommunikation", 3),
    BenchAccount("biblioteket-fb", "facebook", "Kultur", 8),
    BenchAccount("biblioteket-ig", "instagram", "Kultur", 5),
    BenchAccount("foton-flickr", "flickr", "Kultur", 3),
    BenchAccount("raddningstjansten-fb", "facebook", "Räddningstjänst", 7),
    BenchAccount("skolan-ig", "instagram", "Utbildning", 6),
    BenchAccount("samhallsbyggnad-fb", "facebook", "Samhällsbyggnad", 9),
    BenchAccount("fritid-tiktok", "tiktok", "Fritid", 5, "short-2y"),
]
_WEIGHTED = [a for a in ACCOUNTS for _ in range(a.weight)]
_TITLED = {"wordpress", "youtube", "rss", "flickr", "linkedin"}
_HTML = {"wordpress", "mastodon", "rss"}
OWNER_NAMES = {
    "Kommunikation": "Sundsviks kommun",
    "HR": "Sundsviks kommun – jobb",
    "Kultur": "Biblioteken i Sundsvik",
    "Räddningstjänst": "Räddningstjänsten Sundsvik",
    "Utbildning": "Skolorna i Sundsvik",
    "Samhällsbyggnad": "Samhällsbyggnad Sundsvik",
    "Fritid": "Fritid Sundsvik",
}


def _media(r: Any, platform: str, no: int) -> list[MediaRef]:
    """The simulator's mix (social._media_for): 35 % one image, 10 % three, 10 % a video, else none."""
    roll = r.random()
    if platform == "flickr":
        roll = 0.0  # every Flickr item is a photo
    if roll < 0.35:
        specs = [("jpg", "image/jpeg", "Bild från kommunen")]
    elif roll < 0.45:
        specs = [
            ("jpg" if k % 2 == 0 else "png", "image/jpeg" if k % 2 == 0 else "image/png", f"Bild {k + 1}")
            for k in range(3)
        ]
    elif roll < 0.55:
        specs = [("mp4", "video/mp4", "Film")]
    else:
        return []
    return [
        MediaRef(
            url=f"https://cdn.{platform}.example/{no}/{k}.{ext}",
            content_type=ctype,
            description=alt,
            sha256=hashlib.sha256(f"{platform}/{no}/{k}".encode()).hexdigest(),
        )
        for k, (ext, ctype, alt) in enumerate(specs)
    ]


def _tokens(rich: textgen.Rich, kind: str) -> list[str]:
    return [v for para in rich.paragraphs for k, v in para if k == kind]


def _versions(
    base: dict[str, Any],
    r: Any,
    created: datetime,
    *,
    edit_text: str | None,
    edit_p: float,
    delete_p: float,
    hide_p: float = 0.0,
) -> list[Record]:
    """Version 1, then maybe an edit, a moderator's hiding, and a deletion tombstone (each a new version)."""
    first_seen = created + timedelta(seconds=r.randrange(60, 15 * 60))  # the next 15-minute harvest
    out = [Record(**base, published_at=created, captured_at=first_seen, first_seen_at=first_seen)]
    if edit_text is not None and r.random() < edit_p:
        edited = created + timedelta(seconds=r.randrange(3600, 86400))
        out.append(
            Record(
                **{**base, "text": edit_text},
                published_at=created,
                edited_at=edited,
                captured_at=edited + timedelta(seconds=r.randrange(60, 15 * 60)),
                first_seen_at=first_seen,
                version=len(out) + 1,
            )
        )
    if hide_p and r.random() < hide_p:
        at = created + timedelta(seconds=r.randrange(600, 2 * 86400))
        out.append(
            out[-1].model_copy(
                update={
                    "hidden_on_platform": True,
                    "removal": Removal(
                        actor="moderator", reason="Bryter mot kommunens riktlinjer för kommentarer", at=at
                    ),
                    "captured_at": at + timedelta(seconds=r.randrange(60, 15 * 60)),
                    "version": len(out) + 1,
                }
            )
        )
    if r.random() < delete_p:
        gone = created + timedelta(seconds=r.randrange(86400, 60 * 86400))
        last = out[-1]
        out.append(
            Record(
                platform=last.platform,
                account=last.account,
                item_id=last.item_id,
                kind=last.kind,
                direction=last.direction,
                parent_id=last.parent_id,
                thread_id=last.thread_id,
                url=last.url,
                published_at=created,
                captured_at=gone,
                first_seen_at=first_seen,
                deleted=True,
                source_url=last.source_url,
                version=len(out) + 1,
            )
        )
    return out


def thread(k: int) -> list[list[Record]]:
    """Post number k with its comments and replies: one list of versions per item."""
    r = rng(SEED, "post", k)
    acct = r.choice(_WEIGHTED)
    p = acct.platform
    created = START + timedelta(seconds=r.randrange(SPAN_S - 5 * 86400))
    rich = textgen.municipal_post(r, TOWN, DOMAIN)
    text = rich.plain()
    post_id = f"{k + 1_000_000}"
    owner = Author(
        id=f"{acct.id}-owner", handle=acct.id, name=OWNER_NAMES[acct.department], url=f"https://{p}.example/{acct.id}"
    )
    kind = "media" if p == "flickr" or (p == "instagram" and r.random() < 0.3) else "post"
    base: dict[str, Any] = {
        "platform": p,
        "account": acct.id,
        "item_id": post_id,
        "kind": kind,
        "thread_id": post_id,
        "author": owner,
        "direction": "upprattad",
        "title": _title_of(text) if p in _TITLED else None,
        "text": text,
        "html": "<p>" + text.replace("\n\n", "</p><p>") + "</p>" if p in _HTML else None,
        "url": f"https://{p}.example/{acct.id}/{post_id}",
        "links": _tokens(rich, "link"),
        "hashtags": rich.hashtags,
        "mentions": rich.mentions,
        "media": _media(r, p, k),
        "language": rich.language,
        "source_url": f"https://api.{p}.example/{acct.id}/feed?page={k % 97}",
        "raw": {"id": post_id, "created_time": created.isoformat(), "message": text, "from": {"id": owner.id}},
    }
    items = [_versions(base, r, created, edit_text=text + " (Uppdaterad: ny tid.)", edit_p=0.10, delete_p=0.03)]
    for c in range(r.choice((0, 0, 1, 1, 2, 3))):
        when = created + timedelta(seconds=r.randrange(600, 3 * 86400))
        first, last = textgen.person(r)
        handle = textgen.ascii_fold(f"{first}{last}")[:15]
        citizen = Author(id=str(1000 + r.randrange(10**6)), handle=handle, name=f"{first} {last}")
        said = textgen.citizen_text(r, TOWN, pii=r.random() < 0.15)
        cid = f"{post_id}_{c}"
        cbase = {
            **base,
            "item_id": cid,
            "kind": "comment",
            "parent_id": post_id,
            "author": citizen,
            "direction": "inkommen",
            "title": None,
            "text": said.plain(),
            "html": None,
            "links": [],
            "hashtags": [],
            "mentions": [],
            "media": [],
            "language": said.language,
            "url": f"{base['url']}?comment={cid}",
            "raw": {
                "id": cid,
                "created_time": when.isoformat(),
                "message": said.plain(),
                "from": {"id": citizen.id, "name": citizen.name},
            },
        }
        items.append(
            _versions(
                cbase, r, when, edit_text=said.plain() + " Edit: stavfel.", edit_p=0.05, delete_p=0.04, hide_p=0.02
            )
        )
        roll = r.random()
        if roll < 0.5:
            at = when + timedelta(seconds=r.randrange(3600, 86400))
            if roll < 0.35:
                answer, author, direction = textgen.municipal_reply(r, TOWN, handle), owner, "upprattad"
            else:
                first, last = textgen.person(r)
                answer = textgen.citizen_text(r, TOWN, pii=False)
                author = Author(
                    id=str(1000 + r.randrange(10**6)),
                    handle=textgen.ascii_fold(f"{first}{last}")[:15],
                    name=f"{first} {last}",
                )
                direction = "inkommen"
            rid = f"{cid}_r"
            rbase = {
                **cbase,
                "item_id": rid,
                "kind": "reply",
                "parent_id": cid,
                "author": author,
                "direction": direction,
                "text": answer.plain(),
                "mentions": answer.mentions,
                "language": answer.language,
                "url": f"{base['url']}?comment={rid}",
                "raw": {"id": rid, "created_time": at.isoformat(), "message": answer.plain()},
            }
            items.append(_versions(rbase, r, at, edit_text=None, edit_p=0.0, delete_p=0.02))
    return items


#: (first version of an item, its account) → (warc_key, retention_class) of the file it goes to.
FileOf = Callable[[Record, BenchAccount], tuple[str, str]]


def account_file(record: Record, account: BenchAccount) -> tuple[str, str]:
    """The default: the account's class, one file per account and month."""
    month = record.captured_at.strftime("%Y%m")
    key = f"warc/{account.id}/{account.id}-{account.retention_class}-{month}-bench-00001.warc.gz"
    return key, account.retention_class


def documents(n: int, file_of: FileOf = account_file) -> Iterator[list[Document]]:
    """Exactly n documents, one list per item (all versions of an item together)."""
    made = 0
    k = 0
    while made < n:
        for versions in thread(k):
            versions = versions[: n - made]
            ba = _BY_ID[versions[0].account]
            key, rclass = file_of(versions[0], ba)
            yield [to_document(v, warc_key=key, retention_class=rclass, department=ba.department) for v in versions]
            made += len(versions)
            if made >= n:
                return
        k += 1


_BY_ID = {a.id: a for a in ACCOUNTS}


@dataclass
class LoadReport:
    documents: int = 0
    seconds: float = 0.0
    generate_seconds: float = 0.0  # time the producer thread spent generating (overlaps with indexing)
    errors: int = 0
    skipped: int = 0  # already indexed by an interrupted load (resumed)


def load(
    index: RecordIndex,
    n: int,
    *,
    call_docs: int = 20_000,
    chunk_size: int = 500,
    skip: int = 0,
    file_of: FileOf = account_file,
) -> LoadReport:
    """Generate n documents in a producer thread and index them with `RecordIndex.bulk`, refresh off.

    One `bulk` call per ~`call_docs` documents, each holding whole items, so the indexer's in-memory
    latest-version tracking sees every version of an item (as in `reindex`: `check_older=False`).
    `skip`: documents already in the index from an interrupted load of the same n (calls go in order, so
    they are a prefix); calls that ended at least one call before it are generated but not sent again.
    """
    report = LoadReport()
    q: queue.Queue[list[Document] | None] = queue.Queue(maxsize=4)
    failure: list[BaseException] = []

    def produce() -> None:
        try:
            batch: list[Document] = []
            spent = 0.0
            sent = 0
            t = time.perf_counter()
            for item in documents(n, file_of):
                batch.extend(item)
                if len(batch) >= call_docs:
                    spent += time.perf_counter() - t
                    sent += len(batch)
                    if sent <= skip - call_docs:
                        report.skipped += len(batch)
                    else:
                        q.put(batch)
                    batch = []
                    t = time.perf_counter()
            spent += time.perf_counter() - t
            if batch:
                q.put(batch)
            report.generate_seconds = spent
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            failure.append(exc)
        finally:
            q.put(None)

    start = time.perf_counter()
    producer = threading.Thread(target=produce, name="corpus", daemon=True)
    producer.start()
    while (batch := q.get()) is not None:
        result = index.bulk(batch, chunk_size=chunk_size, refresh=False, check_older=False)
        report.documents += result.indexed
        report.errors += len(result.errors)
        if result.errors:
            print(f"  bulk errors: {len(result.errors)}; first: {result.errors[0][:300]}")
        done = report.documents + report.skipped
        if done // 100_000 != (done - len(batch)) // 100_000:
            rate = report.documents / (time.perf_counter() - start)
            print(f"  … {done:,} documents, {rate:,.0f} docs/s", flush=True)
    producer.join()
    if failure:
        raise failure[0]
    report.seconds = time.perf_counter() - start
    return report
