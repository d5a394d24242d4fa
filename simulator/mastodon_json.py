"""Mastodon entities (Status, Account, MediaAttachment, StatusEdit) as the REST API renders them.

Field order and markup follow Mastodon 4.x: links as ``<a … rel="nofollow noopener noreferrer"
translate="no"><span class="invisible">https://</span>…``, hashtags as ``class="mention hashtag"``,
mentions inside ``<span class="h-card">``; local status ``uri`` is ``{instance}/users/{u}/statuses/{id}``,
a boost's is ``…/{id}/activity``. Media files live under ``/system/media_attachments/files/`` with the
id split into groups of three digits, as Paperclip's ``id_partition`` does.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from . import textgen
from .clock import DAY_MS, mastodon_time, to_datetime
from .mastodon_model import Attachment, Author, Filter, MastodonModel, Poll, Status
from .rand import mix

_B83 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"


def escape(text: str) -> str:
    """HTML-escape as Rails ``html_escape`` does (``'`` becomes ``&#39;``)."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def _link(url: str) -> str:
    scheme, _, rest = url.partition("://")
    prefix = scheme + "://"
    if rest.startswith("www."):
        prefix, rest = prefix + "www.", rest[4:]
    shown, hidden, cls = (rest[:30], rest[30:], "ellipsis") if len(rest) > 30 else (rest, "", "")
    return (
        f'<a href="{escape(url)}" target="_blank" rel="nofollow noopener noreferrer" translate="no">'
        f'<span class="invisible">{escape(prefix)}</span><span class="{cls}">{escape(shown)}</span>'
        f'<span class="invisible">{escape(hidden)}</span></a>'
    )


def account_url(author: Author, inst: str) -> str:
    """Profile URL: on this instance for local accounts, on their home server otherwise."""
    return f"{inst}/@{author.username}" if author.domain is None else f"https://{author.domain}/@{author.username}"


def render_html(rich: textgen.Rich, inst: str, mentions: tuple[Author, ...]) -> str:
    """Status ``content`` HTML from rich tokens."""
    by_acct = {m.acct: m for m in mentions}
    paras = []
    for para in rich.paragraphs:
        out = []
        for kind, value in para:
            if kind == "link":
                out.append(_link(value))
            elif kind == "tag":
                out.append(
                    f'<a href="{inst}/tags/{quote(value)}" class="mention hashtag" rel="tag">'
                    f"#<span>{escape(value)}</span></a>"
                )
            elif kind == "mention":
                who = by_acct.get(value)
                href = account_url(who, inst) if who else f"{inst}/@{value}"
                name = value.split("@")[0]
                out.append(
                    f'<span class="h-card" translate="no"><a href="{escape(href)}" class="u-url mention">'
                    f"@<span>{escape(name)}</span></a></span>"
                )
            else:
                out.append(escape(value).replace("\n", "<br />"))
        paras.append("<p>" + "".join(out) + "</p>")
    return "".join(paras)


def account_json(author: Author, inst: str, model: MastodonModel) -> dict[str, Any]:
    """The Account entity; counters of municipal accounts follow the timeline."""
    local = next((a for a in model.accounts if a.author.id == author.id), None)
    h = mix(model.seed, "acctstats", author.id)
    last = None
    if local is not None:
        count = model.statuses_count(local.no)
        for p in range(model.position_count(local.no) - 1, -1, -1):
            sid = model.own_id(local.no, p)
            if sid not in model.deleted:
                last = to_datetime(sid >> 16).strftime("%Y-%m-%d")
                break
    else:
        count = h % 900
    created = author.created_ms - author.created_ms % DAY_MS
    avatar = f"{inst}/avatars/original/missing.png"
    return {
        "id": author.id,
        "username": author.username,
        "acct": author.acct,
        "display_name": author.display_name,
        "locked": False,
        "bot": author.bot,
        "discoverable": True,
        "indexable": True,
        "group": False,
        "created_at": mastodon_time(created),
        "note": author.note,
        "url": account_url(author, inst),
        "uri": f"{inst}/users/{author.username}"
        if author.domain is None
        else f"https://{author.domain}/users/{author.username}",
        "avatar": avatar,
        "avatar_static": avatar,
        "header": f"{inst}/headers/original/missing.png",
        "header_static": f"{inst}/headers/original/missing.png",
        "followers_count": h % 5000 + (3000 if local else 0),
        "following_count": (h >> 16) % 300,
        "statuses_count": count,
        "last_status_at": last,
        "hide_collections": False,
        "emojis": [],
        "fields": [],
    }


def media_path(att: Attachment, variant: str) -> str:
    """``/system/media_attachments/files/112/367/…/original/<hash>.png`` (instance-relative)."""
    digits = str(att.id)
    digits = digits.zfill((len(digits) + 2) // 3 * 3)
    partition = "/".join(digits[k : k + 3] for k in range(0, len(digits), 3))
    ext = (
        {"png": "png", "jpeg": "jpg", "mp4": "mp4"}[att.fmt]
        if variant == "original"
        else ("png" if att.fmt == "png" else "jpg")
    )
    return f"/system/media_attachments/files/{partition}/{variant}/{mix('file', att.id) % 16**16:016x}.{ext}"


def _blurhash(key: int) -> str:
    return "".join(_B83[mix("bh", key, k) % 83] for k in range(28))


def attachment_json(att: Attachment, inst: str) -> dict[str, Any]:
    """The MediaAttachment entity."""
    if att.via_proxy:
        url, preview = f"{inst}/media_proxy/{att.id}/original", f"{inst}/media_proxy/{att.id}/small"
    else:
        url, preview = inst + media_path(att, "original"), inst + media_path(att, "small")
    dims = {
        "width": att.width,
        "height": att.height,
        "size": f"{att.width}x{att.height}",
        "aspect": round(att.width / att.height, 4),
    }
    small = {
        "width": att.width // 2,
        "height": att.height // 2,
        "size": f"{att.width // 2}x{att.height // 2}",
        "aspect": round(att.width / att.height, 4),
    }
    meta: dict[str, Any] = {"original": dims, "small": small}
    if att.type == "video":
        meta = {
            "length": "0:00:03.00",
            "duration": 3.0,
            "fps": 25,
            **dims,
            "audio_encode": "aac",
            "original": {
                "width": att.width,
                "height": att.height,
                "frame_rate": "25/1",
                "duration": 3.0,
                "bitrate": 2900,
            },
            "small": small,
        }
    return {
        "id": str(att.id),
        "type": att.type,
        "url": url,
        "preview_url": preview,
        "remote_url": None,
        "preview_remote_url": None,
        "text_url": None,
        "meta": meta,
        "description": att.description,
        "blurhash": _blurhash(att.id),
    }


def maybe_time(ms: int | None) -> str | None:
    return None if ms is None else mastodon_time(ms)


def filter_json(f: Filter) -> dict[str, Any]:
    """The v2 Filter entity, keys in the order the recorded answers give them."""
    return {
        "id": str(f.id),
        "title": f.title,
        "context": list(f.context),
        "expires_at": maybe_time(f.expires_ms),
        "filter_action": f.action,
        "keywords": [{"id": str(k), "keyword": word, "whole_word": whole} for k, word, whole in f.keywords],
        "statuses": [],
    }


def poll_json(poll: Poll, model: MastodonModel) -> dict[str, Any]:
    """The Poll entity as an anonymous reader sees it (no ``voted``/``own_votes``, which need a token).
    ``voters_count`` is null on a single-choice poll, as the API documents; a multiple-choice poll
    counts voters and votes apart (the recorded ``test_polls``: 2 votes, 1 voter)."""
    counts, voters = model.votes.get(poll.id, ([0] * len(poll.options), 0))
    return {
        "id": str(poll.id),
        "expires_at": mastodon_time(poll.expires_ms),
        "expired": model.clock.now_ms() >= poll.expires_ms,
        "multiple": poll.multiple,
        "votes_count": sum(counts),
        "voters_count": voters if poll.multiple else None,
        "options": [{"title": t, "votes_count": n} for t, n in zip(poll.options, counts, strict=True)],
        "emojis": [],
    }


def status_json(st: Status, inst: str, model: MastodonModel) -> dict[str, Any]:
    """The Status entity, with nested reblog and account (malformed for a ``mastodon.corrupt`` status)."""
    if st.author.domain is None:
        uri = f"{inst}/users/{st.author.username}/statuses/{st.id}"
        url = uri + "/activity" if st.reblog else f"{inst}/@{st.author.username}/{st.id}"
        uri = url if st.reblog else uri
    else:
        uri = f"https://{st.author.domain}/users/{st.author.username}/statuses/{st.remote_id}"
        url = f"https://{st.author.domain}/@{st.author.username}/{st.remote_id}"
    out: dict[str, Any] = {
        "id": str(st.id),
        "created_at": mastodon_time(st.created_ms),
        "in_reply_to_id": None if st.in_reply_to_id is None else str(st.in_reply_to_id),
        "in_reply_to_account_id": st.in_reply_to_account_id,
        "sensitive": st.sensitive,
        "spoiler_text": st.spoiler_text,
        "visibility": st.visibility,
        "language": None if st.reblog else st.rich.language,
        "uri": uri,
        "url": url,
        "replies_count": model.replies_count(st.id),
        "reblogs_count": st.reblogs_count,
        "favourites_count": st.favourites_count,
        "edited_at": None if st.edited_ms is None else mastodon_time(st.edited_ms),
        "content": "" if st.reblog else render_html(st.rich, inst, st.mentions),
        "reblog": None if st.reblog is None else status_json(st.reblog, inst, model),
        "account": account_json(st.author, inst, model),
        "media_attachments": [attachment_json(a, inst) for a in st.media],
        "mentions": [
            {"id": m.id, "username": m.username, "url": account_url(m, inst), "acct": m.acct} for m in st.mentions
        ],
        "tags": [{"name": t, "url": f"{inst}/tags/{quote(t)}"} for t in st.rich.hashtags],
        "emojis": [],
        "card": None,
        "poll": None if st.poll is None else poll_json(st.poll, model),
    }
    if st.id in model.corrupted:  # a required field missing, another of the wrong type; the id stays
        del out["account"]
        out["created_at"] = st.created_ms // 1000
    return out


def edit_json(st: Status, at_ms: int, rich: textgen.Rich, inst: str, model: MastodonModel) -> dict[str, Any]:
    """One StatusEdit entry of ``/history``."""
    return {
        "content": render_html(rich, inst, st.mentions),
        "spoiler_text": st.spoiler_text,
        "sensitive": st.sensitive,
        "created_at": mastodon_time(at_ms),
        "account": account_json(st.author, inst, model),
        "poll": None if st.poll is None else {"options": [{"title": t} for t in st.poll.options]},
        "media_attachments": [attachment_json(a, inst) for a in st.media],
        "emojis": [],
    }
