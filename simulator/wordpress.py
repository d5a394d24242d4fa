"""WordPress REST API handlers (``{base}/wp`` is the site root).

Faithful points (developer.wordpress.org/rest-api; ``WP_REST_Posts_Controller`` and
``WP_REST_Comments_Controller`` in wordpress-develop):
- ``{site}/wp-json/wp/v2/…`` and ``{site}/?rest_route=/wp/v2/…`` (also ``index.php?rest_route=``);
  with ``pretty_permalinks=False`` only the latter works and ``/wp-json/`` is a 404 page.
- ``per_page`` 1–100 (default 10), ``page`` ≥ 1, ``order``, ``orderby``, dates: bad values give 400
  ``rest_invalid_param`` with ``data.params`` and ``data.details``, as ``rest_validate_request_arg``.
- ``X-WP-Total`` / ``X-WP-TotalPages``; ``Link`` ``rel="prev"`` when page > 1 (clamped to the last
  page) and ``rel="next"`` when pages remain, built as ``add_query_arg(urlencode_deep(params))``.
- Posts and pages past the last page: 400 ``rest_post_invalid_page_number`` (changeset 39967).
  Comments past the end return ``[]`` with the totals: the comments controller has no such check.
- A trashed post by id: 401 ``rest_forbidden`` to anonymous callers (what WordPress does); a post
  deleted for good: 404 ``rest_post_invalid_id``. The timeline's ``wordpress.delete`` defaults to the
  latter. Comments not approved: 401 ``rest_cannot_read`` by id, absent from listings.
- ``after``/``before``/``modified_after``/``modified_before``: RFC 3339; without an offset they are
  site-local time (Europe/Stockholm); compared exclusively against the UTC instants.
"""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import quote_plus

from . import wordpress_json as wj
from .clock import ClockError, parse_instant, stockholm_offset_ms
from .httpcore import Request, Response, html_response, json_response, wp_json
from .media import Blob, image, mp4
from .wordpress_model import CATEGORIES, USERS, WordPressModel
from .wordpress_query import Selection, WpQuery

CT = "application/json; charset=UTF-8"
POST_ORDERBY = ("author", "date", "id", "include", "modified", "parent", "relevance", "slug", "include_slugs", "title")
COMMENT_ORDERBY = ("date", "date_gmt", "id", "include", "post", "parent", "type")
_UPLOAD = re.compile(r"^/wp-content/uploads/\d{4}/\d{2}/(\d+)-[a-z0-9-]*\.(png|jpg|mp4)$")
_LEGACY = re.compile(r"^/wp-content/uploads/legacy/(\d+)\.(png|jpg|mp4)$")
_HEADERS = [
    ("X-Robots-Tag", "noindex"),
    ("X-Content-Type-Options", "nosniff"),
    ("Access-Control-Expose-Headers", "X-WP-Total, X-WP-TotalPages, Link"),
    ("Access-Control-Allow-Headers", "Authorization, X-WP-Nonce, Content-Disposition, Content-MD5, Content-Type"),
    ("Vary", "Origin"),
]


class _Invalid(Exception):
    def __init__(self, errors: dict[str, tuple[str, str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def _fields(obj: dict[str, Any], spec: str | None) -> dict[str, Any]:
    """Apply ``_fields`` (top level and one dotted level)."""
    if not spec:
        return obj
    out: dict[str, Any] = {}
    for name in [f.strip() for f in spec.split(",") if f.strip()]:
        top, _, sub = name.partition(".")
        if top not in obj:
            continue
        if sub and isinstance(obj[top], dict):
            if sub in obj[top]:
                out.setdefault(top, {})[sub] = obj[top][sub]
        else:
            out[top] = obj[top]
    return {k: out[k] for k in obj if k in out}


def add_query_arg(url: str, pairs: list[tuple[str, str]]) -> str:
    """PHP ``add_query_arg``: replace keys in place, append new ones; values already encoded."""
    base, _, query = url.partition("?")
    items = [tuple(p.split("=", 1)) if "=" in p else (p, "") for p in query.split("&") if p]
    for key, value in pairs:
        for n, item in enumerate(items):
            if item[0] == key:
                items[n] = (key, value)
                break
        else:
            items.append((key, value))
    return base + "?" + "&".join(f"{k}={v}" for k, v in items)


class WordPressApp:
    """Routes and answers site requests; the server adds faults and logging around it."""

    def __init__(self, model: WordPressModel, *, name: str, description: str, pretty_permalinks: bool = True) -> None:
        self.model, self.query = model, WpQuery(model)
        self.name, self.description, self.pretty = name, description, pretty_permalinks

    def handle(self, path: str, req: Request, site: str) -> Response:
        """Answer one request; ``path`` is relative to the site root, ``site`` its absolute URL."""
        if path in ("", "/", "/index.php") and req.param("rest_route") is not None:
            return self._rest((req.param("rest_route") or "/"), req, site)
        if path == "/wp-json" or path.startswith("/wp-json/"):
            if not self.pretty:
                return html_response(404, "<!doctype html><title>Sidan hittades inte</title><h1>404</h1>")
            return self._rest(path[len("/wp-json") :] or "/", req, site)
        if path.startswith("/wp-content/uploads/"):
            return self._file(path, site)
        return html_response(404, "<!doctype html><title>Sidan hittades inte</title><h1>404</h1>")

    # ---- REST plumbing ------------------------------------------------------------------------
    def _json(self, status: int, obj: Any, headers: list[tuple[str, str]] | None = None) -> Response:
        extra = [("Allow", "GET")] if status == 200 else []
        return json_response(status, wp_json(obj), content_type=CT, headers=[*_HEADERS, *extra, *(headers or [])])

    def _err(self, code: str, message: str, status: int, **data: Any) -> Response:
        return self._json(status, wj.error(code, message, status, **data))

    def _invalid(self, exc: _Invalid) -> Response:
        names = list(exc.errors)
        return self._err(
            "rest_invalid_param",
            "Invalid parameter(s): " + ", ".join(names),
            400,
            params={n: exc.errors[n][1] for n in names},
            details={n: {"code": exc.errors[n][0], "message": exc.errors[n][1], "data": None} for n in names},
        )

    def _rest(self, route: str, req: Request, site: str) -> Response:
        route = "/" + route.strip("/")
        if req.method not in ("GET", "HEAD"):
            return self._err("rest_no_route", "No route was found matching the URL and request method.", 404)
        if req.param("context") == "edit":
            return self._err(
                "rest_forbidden_context", "Sorry, you are not allowed to edit posts in this post type.", 401
            )
        parts = route.strip("/").split("/")
        try:
            if route == "/":
                return self._json(200, self._index(site))
            if parts[:2] == ["wp", "v2"] and len(parts) in (3, 4):
                res, ident = parts[2], parts[3] if len(parts) == 4 else None
                if ident is not None and not ident.isdigit():
                    raise LookupError
                kind = {"posts": "post", "pages": "page"}.get(res)
                if kind:
                    return self._item(kind, int(ident), req, site) if ident else self._posts(kind, req, site)
                if res == "comments":
                    return self._comment(int(ident), req, site) if ident else self._comments(req, site)
                if res == "media":
                    return self._media(int(ident), req, site) if ident else self._media_list(req, site)
                if res in ("users", "categories", "tags"):
                    return self._terms(res, ident, req, site)
            raise LookupError
        except LookupError:
            return self._err("rest_no_route", "No route was found matching the URL and request method.", 404)
        except _Invalid as exc:
            return self._invalid(exc)

    def _index(self, site: str) -> dict[str, Any]:
        now = self.model.clock.now_ms()
        routes = [
            "/wp/v2/posts",
            "/wp/v2/pages",
            "/wp/v2/comments",
            "/wp/v2/media",
            "/wp/v2/users",
            "/wp/v2/categories",
            "/wp/v2/tags",
        ]
        return {
            "name": self.name,
            "description": self.description,
            "url": site,
            "home": site,
            "gmt_offset": stockholm_offset_ms(now) // 3_600_000,
            "timezone_string": "Europe/Stockholm",
            "namespaces": ["oembed/1.0", "wp/v2", "wp-site-health/v1"],
            "authentication": {
                "application-passwords": {"endpoints": {"authorization": f"{site}/wp-admin/authorize-application.php"}}
            },
            "routes": {
                r: {
                    "namespace": "wp/v2",
                    "methods": ["GET"],
                    "endpoints": [{"methods": ["GET"], "args": {}}],
                    "_links": {"self": [{"href": wj.rest_url(site, r, self.pretty)}]},
                }
                for r in routes
            },
            "site_logo": 0,
            "site_icon": 0,
            "site_icon_url": "",
            "_links": {"help": [{"href": "https://developer.wordpress.org/rest-api/"}]},
        }

    # ---- parameters ---------------------------------------------------------------------------
    @staticmethod
    def _int(
        req: Request, name: str, default: int, errors: dict[str, tuple[str, str]], *, lo: int = 1, hi: int | None = None
    ) -> int:
        raw = req.param(name)
        if raw is None or raw == "":
            return default
        if not raw.strip().lstrip("-").isdigit():
            errors[name] = ("rest_invalid_type", f"{name} is not of type integer.")
            return default
        value = int(raw)
        if hi is not None and not lo <= value <= hi:
            errors[name] = ("rest_out_of_bounds", f"{name} must be between {lo} (inclusive) and {hi} (inclusive)")
        elif value < lo:
            errors[name] = ("rest_out_of_bounds", f"{name} must be greater than or equal to {lo}")
        return value

    @staticmethod
    def _date(req: Request, name: str, errors: dict[str, tuple[str, str]]) -> int | None:
        raw = req.param(name)
        if raw is None or raw == "":
            return None
        try:
            return parse_instant(raw, local_if_naive=True)
        except ClockError:
            errors[name] = ("rest_invalid_date", "Invalid date.")
            return None

    @staticmethod
    def _enum(
        req: Request, name: str, default: str, allowed: tuple[str, ...], errors: dict[str, tuple[str, str]]
    ) -> str:
        raw = req.param(name)
        if raw is None or raw == "":
            return default
        if raw not in allowed:
            listed = " and ".join(allowed) if len(allowed) == 2 else ", ".join(allowed[:-1]) + ", and " + allowed[-1]
            errors[name] = ("rest_not_in_enum", f"{name} is not one of {listed}.")
        return raw

    @staticmethod
    def _ids(req: Request, name: str) -> list[int] | None:
        values = req.params(name)
        return [int(v) for v in values if v.strip().isdigit()] if values else None

    def _paged(
        self,
        sel: Selection,
        req: Request,
        site: str,
        route: str,
        render: Any,
        *,
        posts: bool,
        per_page: int,
        page: int,
        offset: int | None,
    ) -> Response:
        total = len(sel)
        pages = math.ceil(total / per_page) if total else 0
        if posts and page > pages and total > 0:
            return self._err(
                "rest_post_invalid_page_number",
                "The page number requested is larger than the number of pages available.",
                400,
            )
        ids = sel.page(offset if offset is not None else (page - 1) * per_page, per_page)
        items = [_fields(render(i), req.param("_fields")) for i in ids]
        base = add_query_arg(wj.rest_url(site, route, self.pretty), [(k, quote_plus(v, safe="")) for k, v in req.query])
        links = []
        if page > 1:
            links.append(f'<{add_query_arg(base, [("page", str(min(page - 1, pages)))])}>; rel="prev"')
        if pages > page:
            links.append(f'<{add_query_arg(base, [("page", str(page + 1))])}>; rel="next"')
        headers = [("X-WP-Total", str(total)), ("X-WP-TotalPages", str(pages))]
        headers += [("Link", ", ".join(links))] if links else []
        return self._json(200, items, headers)

    # ---- resources ----------------------------------------------------------------------------
    def _posts(self, kind: str, req: Request, site: str) -> Response:
        errors: dict[str, tuple[str, str]] = {}
        per_page = self._int(req, "per_page", 10, errors, hi=100)
        page = self._int(req, "page", 1, errors)
        offset = self._int(req, "offset", 0, errors, lo=0) if req.param("offset") else None
        order = self._enum(req, "order", "desc", ("asc", "desc"), errors)
        orderby = self._enum(req, "orderby", "date", POST_ORDERBY, errors)
        dates = {n: self._date(req, n, errors) for n in ("after", "before", "modified_after", "modified_before")}
        if errors:
            raise _Invalid(errors)
        sel = self.query.posts(
            kind,
            orderby=orderby,
            desc=order == "desc",
            include=self._ids(req, "include"),
            exclude=self._ids(req, "exclude"),
            **dates,
        )
        route = f"/wp/v2/{kind}s"
        return self._paged(
            sel,
            req,
            site,
            route,
            lambda i: self._post_json(i, site),
            posts=True,
            per_page=per_page,
            page=page,
            offset=offset,
        )

    def _post_json(self, pid: int, site: str) -> dict[str, Any]:
        post = self.model.post(pid)
        assert post is not None
        return wj.post_json(post, site, self.model, self.pretty)

    def _item(self, kind: str, pid: int, req: Request, site: str) -> Response:
        post = self.model.post(pid)
        if post is None or post.type != kind or self.model.deleted.get(pid) == "delete":
            return self._err("rest_post_invalid_id", "Invalid post ID.", 404)
        if pid in self.model.deleted:
            return self._err("rest_forbidden", "Sorry, you are not allowed to do that.", 401)
        return self._json(200, _fields(wj.post_json(post, site, self.model, self.pretty), req.param("_fields")))

    def _comments(self, req: Request, site: str) -> Response:
        errors: dict[str, tuple[str, str]] = {}
        per_page = self._int(req, "per_page", 10, errors, hi=100)
        page = self._int(req, "page", 1, errors)
        offset = self._int(req, "offset", 0, errors, lo=0) if req.param("offset") else None
        order = self._enum(req, "order", "desc", ("asc", "desc"), errors)
        orderby = self._enum(req, "orderby", "date_gmt", COMMENT_ORDERBY, errors)
        after, before = self._date(req, "after", errors), self._date(req, "before", errors)
        if errors:
            raise _Invalid(errors)
        status = req.param("status")
        if status not in (None, "", "approve", "approved"):
            return self._err("rest_forbidden_param", "Query parameter not permitted: status", 401)
        sel = self.query.comments(
            posts=self._ids(req, "post"),
            parents=self._ids(req, "parent"),
            after=after,
            before=before,
            orderby=orderby,
            desc=order == "desc",
        )
        return self._paged(
            sel,
            req,
            site,
            "/wp/v2/comments",
            lambda i: self._comment_json(i, site),
            posts=False,
            per_page=per_page,
            page=page,
            offset=offset,
        )

    def _comment_json(self, cid: int, site: str) -> dict[str, Any]:
        c = self.model.comment(cid)
        assert c is not None
        return wj.comment_json(c, site, self.model, self.pretty)

    def _comment(self, cid: int, req: Request, site: str) -> Response:
        c = self.model.comment(cid)
        if c is None:
            return self._err("rest_comment_invalid_id", "Invalid comment ID.", 404)
        if self.model.deleted.get(c.post) == "delete":
            return self._err("rest_post_invalid_id", "Invalid post ID.", 404)
        if c.status != "approved":
            return self._err("rest_cannot_read", "Sorry, you are not allowed to read this comment.", 401)
        if c.post in self.model.deleted:
            return self._err(
                "rest_cannot_read_post", "Sorry, you are not allowed to read the post for this comment.", 401
            )
        return self._json(200, _fields(wj.comment_json(c, site, self.model, self.pretty), req.param("_fields")))

    def _media(self, mid: int, req: Request, site: str) -> Response:
        m = self.model.media(mid)
        if m is None:
            return self._err("rest_post_invalid_id", "Invalid post ID.", 404)
        return self._json(200, _fields(wj.media_json(m, site, self.model, self.pretty), req.param("_fields")))

    def _media_list(self, req: Request, site: str) -> Response:
        errors: dict[str, tuple[str, str]] = {}
        per_page, page = self._int(req, "per_page", 10, errors, hi=100), self._int(req, "page", 1, errors)
        if errors:
            raise _Invalid(errors)
        sel = Selection(self.query.media(self._ids(req, "parent")), False, None)

        def render(mid: int) -> dict[str, Any]:
            m = self.model.media(mid)
            assert m is not None
            return wj.media_json(m, site, self.model, self.pretty)

        return self._paged(
            sel, req, site, "/wp/v2/media", render, posts=True, per_page=per_page, page=page, offset=None
        )

    def _terms(self, res: str, ident: str | None, req: Request, site: str) -> Response:
        tables: dict[str, dict[int, Any]] = {"users": dict(USERS), "categories": dict(CATEGORIES), "tags": {}}
        table = tables[res]

        def render(i: int) -> dict[str, Any]:
            return wj.user_json(i, site, self.pretty) if res == "users" else wj.category_json(i, site, self.pretty)

        if ident is not None:
            if int(ident) not in table:
                code = {"users": "rest_user_invalid_id", "categories": "rest_term_invalid", "tags": "rest_term_invalid"}
                message = "Invalid user ID." if res == "users" else "Term does not exist."
                return self._err(code[res], message, 404)
            return self._json(200, render(int(ident)))
        sel = Selection(sorted(table), False, None)
        return self._paged(sel, req, site, f"/wp/v2/{res}", render, posts=False, per_page=100, page=1, offset=None)

    # ---- files --------------------------------------------------------------------------------
    def blob(self, path: str, site: str) -> Blob | str | None:
        """A file for an uploads path, the redirect target (str) of a legacy path, or None."""
        legacy = _LEGACY.match(path)
        if legacy:
            m = self.model.media(int(legacy.group(1)))
            return None if m is None or not m.legacy else wj.media_url(site, m)
        found = _UPLOAD.match(path)
        m = self.model.media(int(found.group(1))) if found else None
        if m is None or wj.media_url(site, m) != site + path:
            return None
        if m.fmt == "mp4":
            return mp4(m.id, m.size)
        return image(m.fmt, m.width, m.height, m.id)

    def _file(self, path: str, site: str) -> Response:
        found = self.blob(path, site)
        if isinstance(found, str):
            return Response(302, b"", [("Location", found), ("Content-Type", "text/html; charset=UTF-8")])
        if found is None:
            return html_response(404, "<!doctype html><title>Sidan hittades inte</title><h1>404</h1>")
        return Response(
            200,
            headers=[("Content-Type", found.content_type), ("Accept-Ranges", "bytes")],
            chunks=found.chunks(),
            length=found.length,
        )
