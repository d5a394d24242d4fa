"""A scriptable timeline: what happens on the platforms between two harvest runs.

Events are JSON objects, applied in order under the world lock (``POST /_sim/timeline`` takes a
list of them; ``Simulator.apply`` does the same in-process). Each returns a result object, e.g. the
id of what it created. Text is optional everywhere: without it the event generates deterministic text.

Clock:     {"type": "clock.advance", "seconds": 3600}   (or minutes/hours/days)
           {"type": "clock.set", "at": "2024-06-02T12:00:00Z"}
Mastodon:  {"type": "mastodon.publish", "account": "sundsvik", "text": "…", "images": 1, "video": false,
            "in_reply_to_id": "…", "poll": {"options": ["Ja", "Nej"], "expires_in": 86400,
            "multiple": false}}                          -> {"id": "…"}
           {"type": "mastodon.vote", "id": "…", "choices": [0]}   (someone votes on the status's poll;
                                                        the status is unchanged, its poll's counts move)
           {"type": "mastodon.edit", "id": "…", "text": "…"}   (sets edited_at, adds a /history entry)
           {"type": "mastodon.delete", "id": "…"}        (own status, or a moderator removing a reply)
           {"type": "mastodon.reply", "in_reply_to_id": "…", "text": "…", "author": "karin@toot.example",
            "pii": true}                                  -> {"id": "…"}  (a citizen replies, also to old posts)
           {"type": "mastodon.set_token", "account": "sundsvik", "token": "…" | null}
           {"type": "mastodon.drift", "id": "…", "by": -1}   (a count that moves without a visible item: the
                                                        status's replies_count, or without "id" the account's
                                                        statuses_count ("account": "sundsvik"), goes up or down
                                                        by "by": spam removed, a reply from an account gone
                                                        private; nothing listed changes)
           {"type": "mastodon.block", "account": "sundsvik", "target": "karin@toot.example"} -> {"id", "acct"}
           {"type": "mastodon.unblock", "target": "…"}   {"type": "mastodon.mute", "target": "…", "duration": 3600}
           {"type": "mastodon.unmute", "target": "…"}     (target: a citizen's acct or id; none: a random one)
           {"type": "mastodon.domain_block", "domain": "spam.example"}   {"type": "mastodon.domain_unblock", …}
           {"type": "mastodon.filter", "title": "Spam", "keywords": ["köp nu", "gratis"], "context": ["home"],
            "action": "hide"} -> {"id"}  (creates the filter, or replaces the keywords of the one with that title)
           {"type": "mastodon.filter_delete", "title": "Spam"}
           (moderation of the account named by ``account``, default the first; served to its own token only)
           {"type": "mastodon.corrupt", "id": "…"}    (served malformed wherever it appears, listings and
                                                        conversations: no ``account``, a numeric ``created_at``;
                                                        the ground truth shows it not visible)
WordPress: {"type": "wordpress.publish", "kind": "post" | "page", "title": "…", "text": "…", "image": true}
           {"type": "wordpress.edit", "id": 1000, "title": "…", "text": "…"}   (bumps modified_gmt)
           {"type": "wordpress.delete", "id": 1000, "mode": "delete" | "trash"}
           {"type": "wordpress.comment", "post": 1000, "parent": 0, "text": "…", "author_name": "…",
            "status": "approved" | "hold" | "spam", "pii": false}             -> {"id": 1234}
           {"type": "wordpress.edit_comment", "id": 1234, "text": "…"}
           {"type": "wordpress.moderate_comment", "id": 1234, "status": "hold" | "spam" | "trash" | "approved"
            | "delete"}
           {"type": "wordpress.corrupt", "id": 1000}   (post or page served malformed in listings and by id:
                                                        ``content`` a string, a numeric ``date_gmt``, no ``title``;
                                                        the ground truth shows it not visible, its comments stay)
Others:    (facebook, instagram, x, youtube, linkedin, flickr, tiktok, bluesky, rss; items by model ``no``)
           {"type": "bluesky.publish", "text": "…", "title": "…", "images": 2, "video": false} -> {"no": 17}
           {"type": "bluesky.edit", "no": 17, "text": "…"}        {"type": "bluesky.delete", "no": 17}
           {"type": "bluesky.comment", "post": 17, "parent": null | 23, "text": "…", "own": false, "pii": false}
           {"type": "bluesky.edit_comment", "no": 23, "text": "…"}   {"type": "bluesky.delete_comment", "no": 23}
           {"type": "bluesky.hide_comment", "no": 23}   {"type": "bluesky.corrupt", "no": 17} (served malformed)
           {"type": "bluesky.set_token", "token": "…" | null}
           {"type": "bluesky.drift", "no": 17, "by": 2}   (the post's published comment count, or without "no" the
                                                        account's published total, moves by "by"; nothing listed
                                                        changes: Bluesky replyCount/postsCount, Facebook
                                                        total_count, Instagram comments_count/media_count, X
                                                        reply_count/tweet_count, YouTube commentCount/videoCount,
                                                        Flickr count_comments/photos.total)
           {"type": "facebook.block", "handle": "…"} -> {"handle": "…", "name": "…"}   (the account blocks a
            commenter by handle, or a new citizen; ``unblock`` takes them off again; ``mute``/``unmute``,
            and ``block_list``/``unblock_list`` with ``"list": "…"`` (a moderation list the person made) likewise.
            Every platform's model keeps these lists; only Facebook (blocks), X (blocks, mutes) and Bluesky
            (blocks, mutes, list blocks) serve them, each at its own endpoint; the ground truth has them
            under ``moderation``)
Faults:    {"type": "fault", "kind": "status" | "rate_limit" | "slow" | "malformed" | "disconnect",
            "count": 3 | null, "status": 503, "retry_after": 2, "delay": 1.5,
            "variant": "truncated" | "wrong_types" | "html" | "empty", "echo": false,
            "match": {"platform": "mastodon", "path_prefix": "/m/api/v1/accounts", "account": "sundsvik",
                      "method": "GET"}}                   (count null = forever, e.g. an account that always fails;
                                                           path_prefix is the full path, /m/… or /wp/…; account
                                                           is a Mastodon username, or "blog" for WordPress;
                                                           echo true: the answer repeats the request's URL,
                                                           key and all, as some platforms' debug fields do;
                                                           "path_contains": "/blocking" matches a substring)
           {"type": "faults.clear"}
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from . import textgen
from .clock import ClockError, mastodon_time, parse_instant, wp_gmt
from .faults import FaultError, FaultInjector, FaultRule
from .mastodon_model import Attachment, Filter, Poll, Status
from .rand import mix, rng
from .social import SocialModel
from .world import World


class TimelineError(ValueError):
    """An event could not be applied; earlier events of the same batch stay applied."""


class Timeline:
    """A small builder for event lists (the JSON format above, without typing it by hand)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def add(self, type_: str, **fields: Any) -> Timeline:
        """Append any event."""
        self.events.append({"type": type_, **{k: v for k, v in fields.items() if v is not None}})
        return self

    def advance(self, seconds: float = 0, *, hours: float = 0, days: float = 0) -> Timeline:
        """Move the clock forward."""
        return self.add("clock.advance", seconds=seconds + hours * 3600 + days * 86400)

    def fault(
        self, kind: str = "status", *, count: int | None = 1, match: dict[str, str] | None = None, **fields: Any
    ) -> Timeline:
        """Inject a fault (``count=None``: forever)."""
        self.events.append({"type": "fault", "kind": kind, "count": count, "match": match or {}, **fields})
        return self


def apply_events(
    world: World, faults: FaultInjector, events: Iterable[dict[str, Any]] | Timeline
) -> list[dict[str, Any]]:
    """Apply events in order; raises ``TimelineError`` naming the first bad one."""
    items = events.events if isinstance(events, Timeline) else list(events)
    results = []
    with world.lock:
        for n, event in enumerate(items):
            try:
                if not isinstance(event, dict) or not isinstance(event.get("type"), str):
                    raise TimelineError("an event is an object with a string 'type'")
                results.append(_apply(world, faults, event))
            except (KeyError, ValueError, TypeError, ClockError, FaultError) as exc:
                raise TimelineError(
                    f"event {n} ({event.get('type') if isinstance(event, dict) else event!r}): {exc}"
                ) from exc
    return results


def _apply(world: World, faults: FaultInjector, ev: dict[str, Any]) -> dict[str, Any]:
    kind = ev["type"]
    clock = world.clock
    if kind == "clock.advance":
        seconds = float(ev.get("seconds", 0)) + 60 * float(ev.get("minutes", 0)) + 3600 * float(ev.get("hours", 0))
        clock.advance(seconds + 86400 * float(ev.get("days", 0)))
        return {"now": mastodon_time(clock.now_ms())}
    if kind == "clock.set":
        clock.set(parse_instant(str(ev["at"])))
        return {"now": mastodon_time(clock.now_ms())}
    if kind == "fault":
        faults.add(FaultRule.from_event(ev))
        return {"fault": ev.get("kind", "status")}
    if kind == "faults.clear":
        faults.clear()
        return {}
    if kind.startswith("mastodon."):
        return _mastodon(world, kind[9:], ev)
    if kind.startswith("wordpress."):
        return _wordpress(world, kind[10:], ev)
    platform, _, op = kind.partition(".")
    if platform in world.social:
        return _social(world.social[platform], op, ev)
    raise TimelineError(f"unknown event type {kind!r}")


def _social(m: SocialModel, op: str, ev: dict[str, Any]) -> dict[str, Any]:
    """The events every platform over ``SocialModel`` takes; items are named by their ``no``."""
    if op == "publish":
        post = m.publish(
            text=ev.get("text"), title=ev.get("title"), images=int(ev.get("images", 0)), video=bool(ev.get("video"))
        )
        return {"no": post.no}
    if op == "edit":
        return {"no": m.edit(int(ev["no"]), text=ev.get("text"), title=ev.get("title")).no}
    if op == "delete":
        m.delete(int(ev["no"]))
        return {}
    if op == "comment":
        parent = ev.get("parent")
        c = m.comment(
            int(ev["post"]),
            parent=None if parent is None else int(parent),
            text=ev.get("text"),
            own=bool(ev.get("own")),
            pii=bool(ev.get("pii")),
        )
        return {"no": c.no}
    if op == "edit_comment":
        return {"no": m.edit_comment(int(ev["no"]), str(ev["text"])).no}
    if op in ("delete_comment", "hide_comment", "corrupt"):
        {"delete_comment": m.delete_comment, "hide_comment": m.hide_comment, "corrupt": m.corrupt}[op](int(ev["no"]))
        return {}
    if op == "set_token":
        m.token = ev.get("token")
        return {}
    if op == "drift":
        no = ev.get("no")
        m.drift(None if no is None else int(no), int(ev["by"]))
        return {"no": no, "by": int(ev["by"])}
    if op in _LIST_OPS:
        name, adding = _LIST_OPS[op]
        if adding:
            entry = m.list_add(name, ev.get("handle"), ev.get("list"))
        else:
            entry = m.list_remove(name, str(ev["handle"]), ev.get("list"))
        return {
            "handle": entry.person.handle,
            "name": entry.person.name,
            **({"list": entry.list_name} if entry.list_name else {}),
        }
    raise TimelineError(f"unknown event type {m.platform}.{op!r}")


#: The moderation events of the shared model: event → (list, added or removed).
_LIST_OPS = {
    "block": ("blocks", True),
    "unblock": ("blocks", False),
    "mute": ("mutes", True),
    "unmute": ("mutes", False),
    "block_list": ("list_blocks", True),
    "unblock_list": ("list_blocks", False),
}


def _status_id(world: World, ev: dict[str, Any], key: str = "id") -> Status:
    sid = int(str(ev[key]))
    st = world.mastodon.get(sid)
    if st is None:
        raise KeyError(f"no status {sid} (unknown or deleted)")
    return st


def _mastodon(world: World, op: str, ev: dict[str, Any]) -> dict[str, Any]:
    m = world.mastodon
    salt = mix(world.config.seed, "tl", m.clock.now_ms(), len(m.extra), len(m.edits))
    r = rng(salt)
    if op == "publish":
        name = ev.get("account") or m.accounts[0].spec.username
        acct = next((s for s in m.accounts if s.spec.username == name), None)
        if acct is None:
            raise KeyError(f"no Mastodon account {name!r}")
        rich = textgen.parse(ev["text"]) if ev.get("text") else textgen.municipal_post(r, m.town, m.site)
        parent = _status_id(world, ev, "in_reply_to_id") if ev.get("in_reply_to_id") else None
        sid = m.new_id()
        media: tuple[Attachment, ...] = tuple(
            Attachment(sid + k, "image", "jpeg" if k % 2 == 0 else "png", 64, 48, f"Bild {k + 1}")
            for k in range(min(int(ev.get("images", 0)), 4))
        )
        if ev.get("video"):
            media = (Attachment(sid, "video", "mp4", 64, 48, "Film"),)
        mentions = (parent.author,) if parent is not None and parent.author.id != acct.author.id else ()
        asked = ev.get("poll")
        poll = (
            None
            if not asked
            else Poll(
                len(m.votes) + 1,
                tuple(str(o) for o in asked["options"]),
                m.clock.now_ms() + int(asked.get("expires_in", 86400)) * 1000,
                bool(asked.get("multiple", False)),
            )
        )
        if poll is not None and not 2 <= len(poll.options) <= 4:
            raise ValueError("a poll has 2 to 4 options")
        st = Status(
            sid,
            acct.author,
            acct.no,
            m.clock.now_ms(),
            rich,
            "own",
            None if parent is None else parent.id,
            None if parent is None else parent.author.id,
            media=media,
            mentions=mentions,
            spoiler_text=str(ev.get("spoiler_text", "")),
            poll=poll,
        )
        if poll is not None:
            m.votes[poll.id] = ([0] * len(poll.options), 0)
        m.add(st, own=True)
        return {"id": str(sid)}
    if op == "reply":
        parent = _status_id(world, ev, "in_reply_to_id")
        wanted = ev.get("author")
        author = (
            next((c for c in m.citizens if wanted in (c.acct, c.username)), None)
            if wanted
            else m.citizens[r.randrange(len(m.citizens))]
        )
        if author is None:
            raise KeyError(f"no citizen {wanted!r}")
        pii = bool(ev.get("pii", False))
        rich = (
            textgen.parse(ev["text"])
            if ev.get("text")
            else textgen.citizen_text(r, m.town, pii=pii, mention=parent.author.acct)
        )
        rich.pii = rich.pii or pii
        sid = m.new_id()
        st = Status(
            sid,
            author,
            parent.account_no,
            m.clock.now_ms(),
            rich,
            "citizen_reply",
            parent.id,
            parent.author.id,
            mentions=(parent.author,),
            remote_id=mix(salt, "rid") % 10**17,
        )
        m.add(st, own=False)
        return {"id": str(sid)}
    if op == "vote":
        st = _status_id(world, ev)
        counts, voters = m.vote(st.id, [int(c) for c in ev.get("choices") or [0]])
        return {"id": str(st.id), "votes": counts, "voters": voters}
    if op == "edit":
        st = _status_id(world, ev)
        if st.reblog is not None:
            raise ValueError("a boost cannot be edited")
        if ev.get("text"):
            rich = textgen.parse(ev["text"], st.rich.language)
        else:
            rich = textgen.Rich(
                [
                    *st.rich.paragraphs,
                    [("text", f"Uppdaterat: {textgen.EMOJI[r.randrange(14)]} Ny information har tillkommit.")],
                ],
                st.rich.language,
                st.rich.pii,
                list(st.rich.hashtags),
                list(st.rich.mentions),
            )
        m.edit(st.id, rich)
        return {"id": str(st.id), "versions": len(m.history(st.id))}
    if op == "delete":
        st = _status_id(world, ev)
        m.delete(st.id)
        return {"id": str(st.id)}
    if op == "corrupt":
        st = _status_id(world, ev)
        m.corrupt(st.id)
        return {"id": str(st.id)}
    if op == "drift":
        by = int(ev["by"])
        if ev.get("id") is not None:
            st = _status_id(world, ev)
            m.count_drift[st.id] = m.count_drift.get(st.id, 0) + by
            return {"id": str(st.id), "by": by}
        name = ev.get("account") or m.accounts[0].spec.username
        acct = next((s for s in m.accounts if s.spec.username == name), None)
        if acct is None:
            raise KeyError(f"no Mastodon account {name!r}")
        m.total_drift[acct.no] = m.total_drift.get(acct.no, 0) + by
        return {"account": name, "by": by}
    if op in _MASTODON_MODERATION:
        return _mastodon_moderation(world, op, ev, r)
    if op == "set_token":
        name = ev.get("account") or m.accounts[0].spec.username
        found = next((s for s in m.accounts if s.spec.username == name), None)
        if found is None:
            raise KeyError(f"no Mastodon account {name!r}")
        found.token = ev.get("token")
        return {"account": name}
    raise TimelineError(f"unknown event type mastodon.{op}")


_MASTODON_MODERATION = frozenset(
    {"block", "unblock", "mute", "unmute", "domain_block", "domain_unblock", "filter", "filter_delete"}
)


def _mastodon_moderation(world: World, op: str, ev: dict[str, Any], r: Any) -> dict[str, Any]:
    """The account's own moderation: blocks, mutes, domain blocks and filters (see the module docstring)."""
    m = world.mastodon
    name = ev.get("account") or m.accounts[0].spec.username
    acct = next((s for s in m.accounts if s.spec.username == name), None)
    if acct is None:
        raise KeyError(f"no Mastodon account {name!r}")
    mod, now = acct.moderation, m.clock.now_ms()
    if op in ("domain_block", "domain_unblock"):
        domain = str(ev["domain"]).lower()
        if op == "domain_block":
            mod.domains.setdefault(domain, mod.new_id(now))
        elif mod.domains.pop(domain, None) is None:
            raise KeyError(f"{domain!r} is not blocked by {name}")
        return {"domain": domain}
    if op in ("filter", "filter_delete"):
        title = str(ev["title"])
        existing = next((f for f in mod.filters.values() if f.title == title), None)
        if op == "filter_delete":
            if existing is None:
                raise KeyError(f"no filter {title!r}")
            del mod.filters[existing.id]
            return {"id": str(existing.id)}
        words = [str(w) for w in ev.get("keywords") or []]
        old = {word: (k, whole) for k, word, whole in (existing.keywords if existing else ())}
        keywords = tuple(
            (old[w][0] if w in old else mod.new_id(now), w, bool(ev.get("whole_word", True))) for w in words
        )
        fid = existing.id if existing else len(mod.filters) + 1 + max(mod.filters, default=0)
        expires = int(ev["expires_in"]) * 1000 + now if ev.get("expires_in") else None
        mod.filters[fid] = Filter(
            fid, title, keywords, tuple(ev.get("context") or ("home", "public")), str(ev.get("action", "warn")), expires
        )
        return {"id": str(fid)}
    wanted = ev.get("target")
    people = m.citizens
    who = (
        next((c for c in people if wanted in (c.acct, c.id, c.username)), None)
        if wanted
        else people[r.randrange(len(people))]
    )
    if who is None:
        raise KeyError(f"no citizen {wanted!r}")
    if op == "block":
        mod.blocks.setdefault(who.id, (who, mod.new_id(now)))
    elif op == "mute":
        until = now + int(ev["duration"]) * 1000 if ev.get("duration") else None
        mod.mutes[who.id] = (who, mod.new_id(now), until)
    elif (mod.blocks if op == "unblock" else mod.mutes).pop(who.id, None) is None:
        raise KeyError(f"{who.acct} is not {'blocked' if op == 'unblock' else 'muted'} by {name}")
    return {"id": who.id, "acct": who.acct}


def _wordpress(world: World, op: str, ev: dict[str, Any]) -> dict[str, Any]:
    w = world.wordpress
    r = rng(world.config.seed, "tlw", w.clock.now_ms(), w.next_post_id, w.next_comment_id, w.generation)
    paragraphs: list[str] | None
    if op == "publish":
        kind = ev.get("kind", "post")
        if kind not in ("post", "page"):
            raise ValueError("kind must be post or page")
        title, paras = textgen.wp_article(r, w.town, w.site)
        text = ev.get("text")
        paragraphs = str(text).split("\n\n") if text else paras
        post = w.publish(kind, str(ev.get("title") or title), paragraphs, image=bool(ev.get("image", False)))
        return {"id": post.id, "date_gmt": wp_gmt(post.date_ms)}
    if op == "edit":
        text = ev.get("text")
        cur = w.post(int(ev["id"]))
        if cur is None or int(ev["id"]) in w.deleted:
            raise KeyError(f"no post {ev['id']}")
        paragraphs = str(text).split("\n\n") if text else None
        if text is None and ev.get("title") is None:
            paragraphs = [*cur.paragraphs, "Uppdatering: " + textgen.wp_article(r, w.town, w.site)[1][-1]]
        post = w.edit(int(ev["id"]), ev.get("title"), paragraphs)
        return {"id": post.id, "modified_gmt": wp_gmt(post.modified_ms), "versions": post.versions}
    if op == "delete":
        mode = ev.get("mode", "delete")
        if mode not in ("delete", "trash"):
            raise ValueError("mode must be delete or trash")
        w.delete(int(ev["id"]), mode)
        return {"id": int(ev["id"])}
    if op == "comment":
        pid = int(ev["post"])
        if not w.visible(pid):
            raise KeyError(f"no visible post {pid}")
        status = ev.get("status", "approved")
        if status not in ("approved", "hold", "spam"):
            raise ValueError("status must be approved, hold or spam")
        first, last = textgen.person(r)
        pii = bool(ev.get("pii", False))
        text = ev.get("text") or textgen.citizen_text(r, w.town, pii=pii).plain()
        c = w.add_comment(
            pid, int(ev.get("parent", 0)), str(ev.get("author_name") or f"{first} {last}"), str(text), status, pii=pii
        )
        return {"id": c.id}
    if op == "edit_comment":
        text = ev.get("text") or "Rättelse: " + textgen.citizen_text(r, w.town, pii=False).plain()
        c = w.change_comment(int(ev["id"]), text=str(text))
        return {"id": c.id, "versions": c.versions}
    if op == "moderate_comment":
        status = ev.get("status", "hold")
        if status not in ("hold", "spam", "trash", "approved", "delete"):
            raise ValueError("status must be hold, spam, trash, approved or delete")
        w.change_comment(int(ev["id"]), status=status)
        return {"id": int(ev["id"]), "status": status}
    if op == "corrupt":
        w.corrupt(int(ev["id"]))
        return {"id": int(ev["id"])}
    raise TimelineError(f"unknown event type wordpress.{op}")
