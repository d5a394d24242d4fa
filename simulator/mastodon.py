"""Mastodon REST API handlers (``{base}/m`` is the instance root).

Faithful points (docs.joinmastodon.org, methods/accounts and methods/statuses; Mastodon 4.x
``Api::V1::Accounts::StatusesController``):
- ``limit`` as Mastodon's ``limit_param``: default 20, ``abs()`` of the integer, capped at 40.
- ``min_id`` pages are the ``limit`` statuses just above it, returned newest first; ``since_id``
  returns the newest ones above it (and so can leave gaps).
- ``Link``: ``rel="next"`` with ``max_id`` = last id, only when the page is full; ``rel="prev"`` with
  ``min_id`` = first id, only when the page is not empty. Both carry ``limit`` and the filters
  (``exclude_replies``, ``exclude_reblogs``, ``only_media``, ``pinned``, ``tagged``) sorted by name,
  as Rails ``to_query`` does.
- ``exclude_replies`` keeps self-replies (threads), like Mastodon's ``without_replies`` scope.
- Unauthenticated ``/context`` is capped at 40 ancestors and 60 descendants (depth 20).
- A token that is presented must be valid, even on public endpoints (``authorize_if_got_token!``):
  otherwise 401 ``The access token is invalid`` (Doorkeeper). An account marked as needing a token
  behaves like an instance in limited-federation mode / ``DISALLOW_UNAUTHENTICATED_API_ACCESS``:
  without a token 401 ``This method requires an authenticated user`` (the wording clients report,
  e.g. pinafore#2146, mastodon-android#637), with a wrong one 401 ``The access token is invalid``.
- Over the rate limit: 429 ``{"error":"Too many requests"}`` with the ``X-RateLimit-*`` headers and,
  as rack-attack in Mastodon, no ``Retry-After`` (injected 429 faults do send one).
- Deleted or unknown statuses: 404 ``{"error":"Record not found"}``. Descendants continue below a
  deleted reply so every live reply stays reachable.
- The account's own moderation (methods/blocks, mutes, domain_blocks, filters), for the account's own
  token only: without a token 401 ``The access token is invalid``; an instance token that is no
  account's 422 ``This method requires an authenticated user``. ``GET /api/v1/blocks`` and ``/mutes``:
  Account entities, newest first, ``limit`` default 40, at most 80; a mute carries ``mute_expires_at``
  (null without an end). ``GET /api/v1/domain_blocks``: domain strings, ``limit`` default 100, at most
  200. All three page by ``Link`` (``max_id``/``since_id`` of the block itself, not of the account; a
  ``next`` link only when the page is full). ``GET /api/v2/filters``: every Filter entity (``keywords``
  with ``whole_word``, ``statuses``, ``context``, ``filter_action``, ``expires_at``), not paged.
  Unverified against a real server: the recordings hold these lists empty (`[]`) and filters only as
  single Filter objects, which the simulator's match; the block ids behind ``max_id`` are our own.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from . import mastodon_json as mj
from .faults import RateLimiter
from .httpcore import Request, Response, json_response, mastodon_json
from .mastodon_model import Author, MastodonModel, Status
from .media import Blob, image, mp4, png

CT = "application/json; charset=utf-8"
FILTERS = ("exclude_reblogs", "exclude_replies", "only_media", "pinned", "tagged")
_FILE = re.compile(r"^/system/media_attachments/files/((?:\d{3}/)+)(original|small)/([0-9a-f]{16})\.(png|jpg|mp4)$")
_TRUE = {"1", "true", "t", "on", "yes", "y"}


def _error(status: int, message: str, headers: list[tuple[str, str]] | None = None) -> Response:
    return json_response(status, mastodon_json({"error": message}), content_type=CT, headers=headers)


def _truthy(value: str | None) -> bool:
    return value is not None and value.strip().lower() in _TRUE


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.strip().isdigit() else None


class _Ids:
    """Timeline ids of one account as a sorted sequence, for ``bisect``."""

    def __init__(self, model: MastodonModel, a: int) -> None:
        self.model, self.a = model, a

    def __len__(self) -> int:
        return self.model.position_count(self.a)

    def __getitem__(self, p: int) -> int:
        return self.model.own_id(self.a, p)


class MastodonApp:
    """Routes and answers instance requests; the server adds faults and logging around it."""

    def __init__(self, model: MastodonModel, rate: RateLimiter, *, extra_tokens: tuple[str, ...] = ()) -> None:
        self.model, self.rate = model, rate
        self.extra_tokens = set(extra_tokens)

    # ---- who is this about (auth, fault matching) ---------------------------------------------------
    def _account_by_name(self, acct: str) -> int | None:
        name, _, domain = acct.lstrip("@").partition("@")
        if domain and self._remote(acct) is not None:
            return None
        return next((s.no for s in self.model.accounts if s.spec.username == name), None)

    def _account_by_id(self, aid: str) -> int | None:
        return next((s.no for s in self.model.accounts if s.author.id == aid), None)

    def account_of(self, path: str, req: Request) -> str | None:
        """Username of the municipal account a request concerns, if any."""
        parts = path.strip("/").split("/")
        a = None
        if parts[:4] == ["api", "v1", "accounts", "lookup"]:
            a = self._account_by_name(req.param("acct") or "")
        elif parts[:3] == ["api", "v1", "accounts"] and len(parts) > 3:
            a = self._account_by_id(parts[3])
        elif parts[:3] == ["api", "v1", "statuses"] and len(parts) > 3 and parts[3].isdigit():
            st = self.model.generated(int(parts[3]))
            a = st.account_no if st else None
        return None if a is None else self.model.accounts[a].spec.username

    def valid_tokens(self) -> set[str]:
        """Every token the instance accepts."""
        return {s.token for s in self.model.accounts if s.token} | self.extra_tokens

    def _auth(self, req: Request, a: int | None) -> Response | None:
        token = req.bearer()
        challenge = [
            (
                "WWW-Authenticate",
                'Bearer realm="Doorkeeper", error="invalid_token", error_description="The access token is invalid"',
            )
        ]
        if token is not None and token not in self.valid_tokens():
            return _error(401, "The access token is invalid", challenge)
        needed = None if a is None else self.model.accounts[a].token
        if needed and token != needed:
            return _error(
                401,
                "This method requires an authenticated user" if token is None else "The access token is invalid",
                None if token is None else challenge,
            )
        return None

    # ---- routing --------------------------------------------------------------------------------------
    def handle(self, path: str, req: Request, inst: str) -> Response:
        """Answer one request; ``path`` is relative to the instance root, ``inst`` its absolute URL."""
        if req.method not in ("GET", "HEAD"):
            return _error(405, "Method not allowed")
        if not path.startswith("/api/"):
            return self._files(path, inst)
        token = req.bearer()
        key = f"token:{token}" if token in self.valid_tokens() else "ip:127.0.0.1"
        allowed, headers = self.rate.hit(key)
        resp = self._api(path, req, inst) if allowed else _error(429, "Too many requests")
        resp.headers += headers
        return resp

    def _remote(self, key: str) -> Author | None:
        """A citizen or organisation account known to the instance, by id or ``user@domain``."""
        key = key.lstrip("@")
        return next((p for p in (*self.model.citizens, *self.model.orgs) if key in (p.id, p.acct)), None)

    def _api(self, path: str, req: Request, inst: str) -> Response:
        parts = path.strip("/").split("/")[2:]  # after api/v1
        if path.startswith("/api/v1/accounts/lookup"):
            a = self._account_by_name(req.param("acct") or "")
            remote = self._remote(req.param("acct") or "") if a is None else None
            denied = self._auth(req, a)
            if denied or (a is None and remote is None):
                return denied or _error(404, "Record not found")
            author = remote if a is None else self.model.accounts[a].author
            assert author is not None
            return self._ok(mj.account_json(author, inst, self.model))
        if len(parts) >= 2 and parts[0] == "accounts":
            a = self._account_by_id(parts[1])
            remote = self._remote(parts[1]) if a is None else None
            denied = self._auth(req, a)
            if denied or (a is None and remote is None):
                return denied or _error(404, "Record not found")
            if len(parts) == 2:
                author = remote if a is None else self.model.accounts[a].author
                assert author is not None
                return self._ok(mj.account_json(author, inst, self.model))
            if parts[2:] == ["statuses"]:  # remote accounts: the instance holds none of their own posts
                return self._ok([]) if a is None else self._statuses(a, req, inst, path)
        if len(parts) >= 2 and parts[0] == "statuses" and parts[1].isdigit() and len(parts) <= 3:
            st = self.model.get(int(parts[1]))
            denied = self._auth(req, st.account_no if st else None)
            if denied or st is None:
                return denied or _error(404, "Record not found")
            if len(parts) == 2:
                return self._ok(mj.status_json(st, inst, self.model))
            if parts[2] == "context":
                return self._context(st, req, inst)
            if parts[2] == "history":
                return self._ok(
                    [mj.edit_json(st, at, rich, inst, self.model) for at, rich in self.model.history(st.id)]
                )
        if parts in (["blocks"], ["mutes"], ["domain_blocks"]) and path.startswith("/api/v1/"):
            return self._moderation(parts[0], req, inst, path)
        if parts == ["filters"] and path.startswith("/api/v2/"):
            return self._moderation("filters", req, inst, path)
        denied = self._auth(req, None)
        return denied or _error(404, "Record not found")

    # ---- the token's own moderation -----------------------------------------------------------------
    def _moderation(self, which: str, req: Request, inst: str, path: str) -> Response:
        token = req.bearer()
        if token is None or token not in self.valid_tokens():
            return _error(401, "The access token is invalid")
        owner = next((s for s in self.model.accounts if s.token and s.token == token), None)
        if owner is None:
            return _error(422, "This method requires an authenticated user")
        mod = owner.moderation
        if which == "filters":
            return self._ok([mj.filter_json(f) for f in sorted(mod.filters.values(), key=lambda f: f.id)])
        rows: list[tuple[int, Any]]
        if which == "blocks":
            rows = [(bid, mj.account_json(who, inst, self.model)) for who, bid in mod.blocks.values()]
        elif which == "mutes":
            rows = [
                (mid, {**mj.account_json(who, inst, self.model), "mute_expires_at": mj.maybe_time(until)})
                for who, mid, until in mod.mutes.values()
            ]
        else:
            rows = [(bid, domain) for domain, bid in mod.domains.items()]
        default, most = (100, 200) if which == "domain_blocks" else (40, 80)
        raw = req.param("limit")
        limit = min(abs(int(raw)), most) if raw is not None and raw.strip().lstrip("-").isdigit() else default
        rows.sort(key=lambda row: row[0], reverse=True)  # the block's own id grows with its time: newest first
        max_id, since_id = _int(req.param("max_id")), _int(req.param("since_id"))
        page = [r for r in rows if (max_id is None or r[0] < max_id) and (since_id is None or r[0] > since_id)][:limit]
        url = f"{inst}{path}?"
        links = []
        if page and len(page) == limit:
            links.append(f'<{url}{urlencode([("limit", str(limit)), ("max_id", str(page[-1][0]))])}>; rel="next"')
        if page:
            links.append(f'<{url}{urlencode([("limit", str(limit)), ("since_id", str(page[0][0]))])}>; rel="prev"')
        return self._ok([body for _, body in page], [("Link", ", ".join(links))] if links else [])

    def _ok(self, obj: Any, headers: list[tuple[str, str]] | None = None) -> Response:
        return json_response(200, mastodon_json(obj), content_type=CT, headers=headers)

    # ---- account statuses ---------------------------------------------------------------------------
    def _predicate(self, a: int, req: Request) -> Callable[[Status], bool]:
        me = self.model.accounts[a].author.id
        no_replies, no_reblogs = _truthy(req.param("exclude_replies")), _truthy(req.param("exclude_reblogs"))
        only_media, pinned = _truthy(req.param("only_media")), _truthy(req.param("pinned"))
        tagged = (req.param("tagged") or "").lstrip("#").lower()

        def keep(st: Status) -> bool:
            if no_replies and st.in_reply_to_id is not None and st.in_reply_to_account_id != me:
                return False
            return not (
                (no_reblogs and st.reblog is not None)
                or (only_media and not st.media)
                or (pinned and not st.pinned)
                or (tagged and tagged not in st.rich.hashtags)
            )

        return keep

    def _statuses(self, a: int, req: Request, inst: str, path: str) -> Response:
        raw_limit = req.param("limit")
        limit = (
            20 if raw_limit is None else min(abs(int(raw_limit)) if raw_limit.strip().lstrip("-").isdigit() else 0, 40)
        )
        max_id, since_id, min_id = _int(req.param("max_id")), _int(req.param("since_id")), _int(req.param("min_id"))
        keep, ids = self._predicate(a, req), _Ids(self.model, a)
        hi = bisect_left(ids, max_id) if max_id is not None else len(ids)
        page: list[Status] = []
        if min_id is not None:
            p = bisect_right(ids, min_id)
            while p < hi and len(page) < limit:
                st = self.model.get(ids[p])
                if st is not None and keep(st):
                    page.append(st)
                p += 1
            page.reverse()
        else:
            lo = bisect_right(ids, since_id) if since_id is not None else 0
            p = hi - 1
            while p >= lo and len(page) < limit:
                st = self.model.get(ids[p])
                if st is not None and keep(st):
                    page.append(st)
                p -= 1
        keep_params = sorted((k, v) for k, v in req.query if k in FILTERS or k == "limit")
        url = f"{inst}{path}?"
        links = []
        if page and len(page) == limit:
            links.append(f'<{url}{urlencode(keep_params + [("max_id", str(page[-1].id))])}>; rel="next"')
        if page:
            links.append(f'<{url}{urlencode(keep_params + [("min_id", str(page[0].id))])}>; rel="prev"')
        headers = [("Link", ", ".join(links))] if links else []
        return self._ok([mj.status_json(st, inst, self.model) for st in page], headers)

    # ---- threads ------------------------------------------------------------------------------------
    def _context(self, st: Status, req: Request, inst: str) -> Response:
        authed = req.bearer() is not None
        max_anc, max_desc, max_depth = (4096, 4096, 4096) if authed else (40, 60, 20)
        ancestors: list[Status] = []
        parent, hops = st.in_reply_to_id, 0
        while parent is not None and len(ancestors) < max_anc and hops < 4096:
            found = self.model.generated(parent)
            if found is None:
                break
            live = self.model.get(parent)
            if live is not None:
                ancestors.append(live)
            parent, hops = found.in_reply_to_id, hops + 1
        descendants: list[Status] = []
        stack = [(c, 1) for c in reversed(self.model.children(st.id))]
        while stack and len(descendants) < max_desc:
            sid, depth = stack.pop()
            live = self.model.get(sid)
            if live is not None:
                descendants.append(live)
            if depth < max_depth:
                stack += [(c, depth + 1) for c in reversed(self.model.children(sid))]
        return self._ok(
            {
                "ancestors": [mj.status_json(s, inst, self.model) for s in reversed(ancestors)],
                "descendants": [mj.status_json(s, inst, self.model) for s in descendants],
            }
        )

    # ---- files --------------------------------------------------------------------------------------
    def blob(self, path: str) -> Blob | str | None:
        """A media file for an instance path, the redirect target (str) of a proxy URL, or None."""
        if path in ("/avatars/original/missing.png", "/headers/original/missing.png"):
            data = png(48, 48, 0)
            return Blob("image/png", len(data), data)
        m = re.match(r"^/media_proxy/(\d+)/(original|small)$", path)
        if m:
            found = self.model.attachment(int(m.group(1)))
            return None if found is None else mj.media_path(found[1], m.group(2))
        m = _FILE.match(path)
        if not m:
            return None
        found = self.model.attachment(int(m.group(1).replace("/", "")))
        if found is None or self.model.get(found[0].id) is None:
            return None
        att = found[1]
        if mj.media_path(att, m.group(2)) != path:
            return None
        if m.group(2) == "small":
            return image("png" if att.fmt == "png" else "jpeg", att.width // 2, att.height // 2, att.id)
        if att.fmt == "mp4":
            return mp4(att.id, att.size)
        return image(att.fmt, att.width, att.height, att.id)

    def _files(self, path: str, inst: str) -> Response:
        found = self.blob(path)
        if isinstance(found, str):
            return Response(302, b"", [("Location", inst + found), ("Content-Type", "text/html; charset=utf-8")])
        if found is None:
            return Response(404, b"Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        headers = [("Content-Type", found.content_type), ("Cache-Control", "public, max-age=31536000")]
        return Response(200, headers=headers, chunks=found.chunks(), length=found.length)
