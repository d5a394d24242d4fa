"""Regenerate the bundled sample captures in archive/samples/ (run by hand, output committed).

The samples are what the demo ingests before platform harvesting exists: realistic
Mastodon and WordPress REST responses (in the platforms' wire formats) with the
records a connector would derive from them. Bodies are the exact bytes of the responses.
"""

from __future__ import annotations

import json
import struct
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from schemas import Author, Capture, CaptureBundle, MediaRef, Record

OUT = Path(__file__).resolve().parent.parent / "archive" / "samples"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
MASTO = "https://social.sundsvik.example"
BLOG = "https://blogg.sundsvik.example"


def png(width: int = 4, height: int = 4) -> bytes:
    raw = b"".join(b"\x00" + bytes([40, 90, 160]) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def capture(
    url: str,
    body: bytes,
    at: datetime,
    ctype: str = "application/json; charset=utf-8",
    extra: list[tuple[str, str]] | None = None,
) -> Capture:
    return Capture(
        url=url,
        status=200,
        reason="OK",
        started_at=at,
        completed_at=at + timedelta(milliseconds=180),
        request_headers=[
            ("Accept", "application/json"),
            ("User-Agent", "Communis/0.1 (+records)"),
            ("Authorization", "Bearer sample-token-never-archived"),
        ],
        response_headers=[("Content-Type", ctype), ("Date", at.strftime("%a, %d %b %Y %H:%M:%S GMT")), *(extra or [])],
        body=body,
    )


def mastodon() -> list[CaptureBundle]:
    acct = {
        "id": "109",
        "username": "sundsvik",
        "acct": "sundsvik",
        "display_name": "Sundsviks kommun",
        "url": f"{MASTO}/@sundsvik",
    }
    img_url = "https://files.sundsvik.example/media/plogning.png"
    statuses: list[dict[str, Any]] = [
        {
            "id": "1103",
            "created_at": "2026-11-19T15:02:00.000Z",
            "edited_at": None,
            "in_reply_to_id": None,
            "visibility": "public",
            "language": "sv",
            "url": f"{MASTO}/@sundsvik/1103",
            "account": acct,
            "content": "<p>Snöröjningen börjar i natt på Storgatan och Ågatan. Flytta bilen före kl 22! "
            '<a href="https://sundsvik.example/sno">sundsvik.example/sno</a> '
            '<a href="https://social.sundsvik.example/tags/sn%C3%B6r%C3%B6jning">#snöröjning</a></p>',
            "reblog": None,
            "media_attachments": [
                {"id": "88", "type": "image", "url": img_url, "description": "Plogbil på Storgatan i snöfall"}
            ],
            "mentions": [],
            "tags": [{"name": "snöröjning"}],
            "replies_count": 2,
        },
        {
            "id": "1102",
            "created_at": "2026-11-18T08:30:00.000Z",
            "edited_at": "2026-11-18T09:10:00.000Z",
            "in_reply_to_id": None,
            "visibility": "public",
            "language": "sv",
            "url": f"{MASTO}/@sundsvik/1102",
            "account": acct,
            "content": "<p>Biblioteket i Ålsta har öppet till 20 i kväll 📚✨ Välkomna!</p>",
            "reblog": None,
            "media_attachments": [],
            "mentions": [],
            "tags": [],
            "replies_count": 0,
        },
        {
            "id": "1101",
            "created_at": "2026-11-17T12:00:00.000Z",
            "edited_at": None,
            "in_reply_to_id": None,
            "visibility": "public",
            "language": "en",
            "url": f"{MASTO}/@sundsvik/1101",
            "account": acct,
            "content": "<p>Council meeting on the budget tonight at 18:00, streamed live. "
            '<a href="https://social.sundsvik.example/tags/budget">#budget</a></p>',
            "reblog": None,
            "media_attachments": [],
            "mentions": [],
            "tags": [{"name": "budget"}],
            "replies_count": 1,
        },
    ]
    at = T0
    url = f"{MASTO}/api/v1/accounts/109/statuses?limit=40"
    body = json.dumps(statuses, ensure_ascii=False).encode()
    link = f'<{MASTO}/api/v1/accounts/109/statuses?limit=40&max_id=1101>; rel="next"'
    records = []
    for s in statuses:
        text = {
            "1103": "Snöröjningen börjar i natt på Storgatan och Ågatan. Flytta bilen före kl 22! "
            "sundsvik.example/sno #snöröjning",
            "1102": "Biblioteket i Ålsta har öppet till 20 i kväll 📚✨ Välkomna!",
            "1101": "Council meeting on the budget tonight at 18:00, streamed live. #budget",
        }[s["id"]]
        records.append(
            Record(
                platform="mastodon",
                account="sundsvik-mastodon",
                item_id=s["id"],
                kind="post",
                thread_id=s["id"],
                author=Author(id="109", handle="sundsvik", name="Sundsviks kommun", url=acct["url"]),
                direction="upprattad",
                text=text,
                html=s["content"],
                url=s["url"],
                links=["https://sundsvik.example/sno"] if s["id"] == "1103" else [],
                hashtags=[t["name"] for t in s["tags"]],
                media=[
                    MediaRef(url=m["url"], content_type="image/png", description=m["description"])
                    for m in s["media_attachments"]
                ],
                published_at=datetime.fromisoformat(s["created_at"]),
                edited_at=datetime.fromisoformat(s["edited_at"]) if s["edited_at"] else None,
                captured_at=at,
                language=s["language"],
                raw=s,
            )
        )
    bundles = [CaptureBundle(capture=capture(url, body, at, extra=[("Link", link)]), records=records)]

    at2 = T0 + timedelta(seconds=2)
    replies: list[dict[str, Any]] = [
        {
            "id": "1110",
            "created_at": "2026-11-19T15:40:00.000Z",
            "in_reply_to_id": "1103",
            "account": {
                "id": "5001",
                "username": "karin",
                "acct": "karin@mastodon.example",
                "display_name": "Karin Ö",
                "url": "https://mastodon.example/@karin",
            },
            "content": "<p>Gäller det även Östra Långgatan? Vi har inga plogmarkeringar här.</p>",
            "language": "sv",
            "url": "https://mastodon.example/@karin/1110",
            "edited_at": None,
        },
        {
            "id": "1111",
            "created_at": "2026-11-19T16:05:00.000Z",
            "in_reply_to_id": "1110",
            "account": acct,
            "content": "<p>@karin Ja, Östra Långgatan plogas efter midnatt.</p>",
            "language": "sv",
            "url": f"{MASTO}/@sundsvik/1111",
            "edited_at": None,
        },
        {
            "id": "1112",
            "created_at": "2026-11-19T17:20:00.000Z",
            "in_reply_to_id": "1103",
            "account": {
                "id": "5002",
                "username": "li",
                "acct": "li@fosstodon.example",
                "display_name": "李 Wei",
                "url": "https://fosstodon.example/@li",
            },
            "content": "<p>谢谢! Thanks for the heads-up ❄️</p>",
            "language": "en",
            "url": "https://fosstodon.example/@li/1112",
            "edited_at": None,
        },
    ]
    ctx = {"ancestors": [], "descendants": replies}
    curl = f"{MASTO}/api/v1/statuses/1103/context"
    crecs = []
    for r in replies:
        own = r["account"]["id"] == "109"
        text = r["content"].removeprefix("<p>").removesuffix("</p>")
        crecs.append(
            Record(
                platform="mastodon",
                account="sundsvik-mastodon",
                item_id=r["id"],
                kind="comment" if r["in_reply_to_id"] == "1103" else "reply",
                parent_id=r["in_reply_to_id"],
                thread_id="1103",
                author=Author(
                    id=r["account"]["id"],
                    handle=r["account"]["acct"],
                    name=r["account"]["display_name"],
                    url=r["account"]["url"],
                ),
                direction="upprattad" if own else "inkommen",
                text=text,
                html=r["content"],
                url=r["url"],
                mentions=["karin@mastodon.example"] if r["id"] == "1111" else [],
                published_at=datetime.fromisoformat(r["created_at"]),
                captured_at=at2,
                language=r["language"],
                raw=r,
            )
        )
    bundles.append(
        CaptureBundle(capture=capture(curl, json.dumps(ctx, ensure_ascii=False).encode(), at2), records=crecs)
    )
    at3 = T0 + timedelta(seconds=3)
    bundles.append(CaptureBundle(capture=capture(img_url, png(), at3, ctype="image/png"), is_media=True))
    return bundles


def wordpress() -> list[CaptureBundle]:
    posts: list[dict[str, Any]] = [
        {
            "id": 501,
            "date_gmt": "2026-11-15T10:00:00",
            "modified_gmt": "2026-11-16T07:45:00",
            "link": f"{BLOG}/2026/11/15/ny-forskola-i-norrby/",
            "status": "publish",
            "type": "post",
            "title": {"rendered": "Ny förskola i Norrby öppnar i januari"},
            "content": {
                "rendered": "<p>Kommunstyrelsens ordförande: Den nya förskolan i Norrby tar emot "
                "120 barn från den 8 januari. Ansök via e-tjänsten.</p>"
            },
            "author": 2,
            "comment_status": "open",
        },
        {
            "id": 498,
            "date_gmt": "2026-11-10T13:30:00",
            "modified_gmt": "2026-11-10T13:30:00",
            "link": f"{BLOG}/2026/11/10/budget-2027/",
            "status": "publish",
            "type": "post",
            "title": {"rendered": "Budget 2027: så prioriterar vi"},
            "content": {
                "rendered": "<p>Skola, äldreomsorg och gång- och cykelvägar går före. "
                "Läs hela förslaget i kallelsen.</p>"
            },
            "author": 2,
            "comment_status": "open",
        },
    ]
    at = T0 + timedelta(minutes=1)
    url = f"{BLOG}/wp-json/wp/v2/posts?per_page=100&orderby=modified&order=desc"
    recs = []
    for p in posts:
        recs.append(
            Record(
                platform="wordpress",
                account="sundsvik-blogg",
                item_id=f"post-{p['id']}",
                kind="post",
                thread_id=f"post-{p['id']}",
                author=Author(id="2", name="Kommunstyrelsens ordförande"),
                direction="upprattad",
                title=p["title"]["rendered"],
                text=p["content"]["rendered"].removeprefix("<p>").removesuffix("</p>"),
                html=p["content"]["rendered"],
                url=p["link"],
                published_at=datetime.fromisoformat(p["date_gmt"] + "+00:00"),
                edited_at=datetime.fromisoformat(p["modified_gmt"] + "+00:00")
                if p["modified_gmt"] != p["date_gmt"]
                else None,
                captured_at=at,
                language="sv",
                raw=p,
            )
        )
    headers = [("X-WP-Total", "2"), ("X-WP-TotalPages", "1")]
    bundles = [
        CaptureBundle(
            capture=capture(url, json.dumps(posts, ensure_ascii=False).encode(), at, extra=headers), records=recs
        )
    ]
    comments: list[dict[str, Any]] = [
        {
            "id": 9001,
            "post": 501,
            "parent": 0,
            "author_name": "Ahmed Yusuf",
            "date_gmt": "2026-11-15T18:12:00",
            "content": {"rendered": "<p>Äntligen! Blir det plats för syskon till barn som redan går i Norrby?</p>"},
            "link": f"{BLOG}/2026/11/15/ny-forskola-i-norrby/#comment-9001",
            "status": "approved",
        },
        {
            "id": 9002,
            "post": 501,
            "parent": 9001,
            "author_name": "Sundsviks kommun",
            "author": 2,
            "date_gmt": "2026-11-16T07:40:00",
            "content": {"rendered": "<p>Hej Ahmed! Ja, syskonförtur gäller. Ring oss på 0611-34 80 00.</p>"},
            "link": f"{BLOG}/2026/11/15/ny-forskola-i-norrby/#comment-9002",
            "status": "approved",
        },
    ]
    at2 = at + timedelta(seconds=1)
    curl = f"{BLOG}/wp-json/wp/v2/comments?post=501&per_page=100"
    crecs = [
        Record(
            platform="wordpress",
            account="sundsvik-blogg",
            item_id=f"comment-{c['id']}",
            kind="comment" if c["parent"] == 0 else "reply",
            parent_id="post-501" if c["parent"] == 0 else f"comment-{c['parent']}",
            thread_id="post-501",
            author=Author(id=str(c.get("author", "")) or None, name=c["author_name"]),
            direction="upprattad" if c.get("author") == 2 else "inkommen",
            text=c["content"]["rendered"].removeprefix("<p>").removesuffix("</p>"),
            html=c["content"]["rendered"],
            url=c["link"],
            published_at=datetime.fromisoformat(c["date_gmt"] + "+00:00"),
            captured_at=at2,
            language="sv",
            raw=c,
        )
        for c in comments
    ]
    bundles.append(
        CaptureBundle(
            capture=capture(
                curl,
                json.dumps(comments, ensure_ascii=False).encode(),
                at2,
                extra=[("X-WP-Total", "2"), ("X-WP-TotalPages", "1")],
            ),
            records=crecs,
        )
    )
    return bundles


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, bundles in (("sundsvik-mastodon", mastodon()), ("sundsvik-blogg", wordpress())):
        path = OUT / f"{name}.jsonl"
        path.write_text("".join(b.model_dump_json() + "\n" for b in bundles), encoding="utf-8")
        print(path, len(bundles), "captures", sum(len(b.records) for b in bundles), "records")


if __name__ == "__main__":
    main()
