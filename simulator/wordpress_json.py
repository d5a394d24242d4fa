"""WordPress REST resources (post, page, attachment, comment, user) as ``wp/v2`` renders them.

Dates: ``date``/``modified`` in site-local time (Europe/Stockholm) without a zone, ``*_gmt`` in UTC.
``_links`` use the site's REST base: ``{site}/wp-json/…`` with pretty permalinks, otherwise
``{site}/index.php?rest_route=/…``. Media files live under ``/wp-content/uploads/YYYY/MM/``; an
inline image of some posts points at ``/wp-content/uploads/legacy/…``, which answers 302.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from .clock import wp_gmt, wp_local
from .textgen import slugify
from .wordpress_model import CATEGORIES, USERS, WordPressModel, WpComment, WpMedia, WpPost

_URL = re.compile(r"https?://[^\s<]+[^\s<.,!?)]")
EXT = {"png": "png", "jpeg": "jpg", "mp4": "mp4"}
MIME = {"png": "image/png", "jpeg": "image/jpeg", "mp4": "video/mp4"}


def rest_url(site: str, route: str, pretty: bool) -> str:
    """``rest_url()``: the REST address of a route."""
    return f"{site}/wp-json{route}" if pretty else f"{site}/index.php?rest_route={route}"


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def texturize(text: str) -> str:
    """A little of ``wptexturize``: escaping and the typographic apostrophe."""
    return _esc(text).replace("'", "&#8217;")


def autop(text: str) -> str:
    """A paragraph with URLs made into links, as the block editor stores them."""
    return "<p>" + _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', texturize(text)) + "</p>"


def post_link(site: str, post: WpPost) -> str:
    """Permalink: ``/%year%/%monthnum%/%postname%/`` for posts, ``/%pagename%/`` for pages."""
    if post.type == "page":
        return f"{site}/{post.slug}/"
    local = wp_local(post.date_ms)
    return f"{site}/{local[:4]}/{local[5:7]}/{post.slug}/"


def media_url(site: str, m: WpMedia, *, legacy: bool = False) -> str:
    """Where the file is served (``legacy``: the old address that redirects)."""
    name = slugify(m.title, 40)
    if legacy:
        return f"{site}/wp-content/uploads/legacy/{m.id}.{EXT[m.fmt]}"
    local = wp_local(m.date_ms)
    return f"{site}/wp-content/uploads/{local[:4]}/{local[5:7]}/{m.id}-{name}.{EXT[m.fmt]}"


def render_content(site: str, post: WpPost, model: WordPressModel) -> str:
    """``content.rendered``: paragraphs, an inline image figure, a video block."""
    blocks = [autop(p) for p in post.paragraphs]
    inline = model.media(post.inline_media) if post.inline_media else None
    if inline is not None:
        src = media_url(site, inline, legacy=inline.legacy)
        blocks.insert(
            1,
            f'<figure class="wp-block-image size-large"><img decoding="async" width="{inline.width}" '
            f'height="{inline.height}" src="{src}" alt="{texturize(inline.title)}" '
            f'class="wp-image-{inline.id}"/></figure>',
        )
    video = model.media(post.video_media) if post.video_media else None
    if video is not None:
        blocks.append(
            f'<figure class="wp-block-video"><video controls src="{media_url(site, video)}"></video></figure>'
        )
    return "\n\n".join(blocks) + "\n"


def excerpt(post: WpPost) -> str:
    """``excerpt.rendered``: the first 55 words, ``[&hellip;]`` when cut."""
    words = " ".join(post.paragraphs).split()
    text = " ".join(words[:55]) + (" [&hellip;]" if len(words) > 55 else "")
    return "<p>" + texturize(text).replace("[&amp;hellip;]", "[&hellip;]") + "</p>\n"


def _curies() -> list[dict[str, Any]]:
    return [{"name": "wp", "href": "https://api.w.org/{rel}", "templated": True}]


def post_json(post: WpPost, site: str, model: WordPressModel, pretty: bool) -> dict[str, Any]:
    """The post or page resource (``view`` context)."""
    base = "posts" if post.type == "post" else "pages"
    self_url = rest_url(site, f"/wp/v2/{base}/{post.id}", pretty)
    links: dict[str, Any] = {
        "self": [{"href": self_url, "targetHints": {"allow": ["GET"]}}],
        "collection": [{"href": rest_url(site, f"/wp/v2/{base}", pretty)}],
        "about": [{"href": rest_url(site, f"/wp/v2/types/{post.type}", pretty)}],
        "author": [{"embeddable": True, "href": rest_url(site, f"/wp/v2/users/{post.author}", pretty)}],
        "replies": [
            {
                "embeddable": True,
                "href": rest_url(site, "/wp/v2/comments", pretty) + ("&" if not pretty else "?") + f"post={post.id}",
            }
        ],
        "version-history": [
            {"count": post.versions - 1, "href": rest_url(site, f"/wp/v2/{base}/{post.id}/revisions", pretty)}
        ],
    }
    if post.featured_media:
        links["wp:featuredmedia"] = [
            {"embeddable": True, "href": rest_url(site, f"/wp/v2/media/{post.featured_media}", pretty)}
        ]
    links["wp:attachment"] = [
        {"href": rest_url(site, "/wp/v2/media", pretty) + ("&" if not pretty else "?") + f"parent={post.id}"}
    ]
    links["curies"] = _curies()
    out: dict[str, Any] = {
        "id": post.id,
        "date": wp_local(post.date_ms),
        "date_gmt": wp_gmt(post.date_ms),
        "guid": {"rendered": f"{site}/?{'p' if post.type == 'post' else 'page_id'}={post.id}"},
        "modified": wp_local(post.modified_ms),
        "modified_gmt": wp_gmt(post.modified_ms),
        "slug": post.slug,
        "status": "publish",
        "type": post.type,
        "link": post_link(site, post),
        "title": {"rendered": texturize(post.title)},
        "content": {"rendered": render_content(site, post, model), "protected": False},
        "excerpt": {"rendered": excerpt(post), "protected": False},
        "author": post.author,
        "featured_media": post.featured_media,
    }
    if post.type == "page":
        out.update({"parent": 0, "menu_order": 0})
    out.update({"comment_status": post.comment_status, "ping_status": "closed"})
    if post.type == "post":
        out.update(
            {
                "sticky": post.sticky,
                "template": "",
                "format": "standard",
                "meta": {"footnotes": ""},
                "categories": list(post.categories),
                "tags": [],
            }
        )
    else:
        out.update({"template": "", "meta": {"footnotes": ""}})
    cls = [f"post-{post.id}", post.type, f"type-{post.type}", "status-publish"]
    cls += ["format-standard"] if post.type == "post" else []
    cls += ["has-post-thumbnail"] if post.featured_media else []
    cls += ["hentry"] + [f"category-{CATEGORIES[c].lower().split()[0]}" for c in post.categories if post.type == "post"]
    out["class_list"] = cls
    out["_links"] = links
    if post.id in model.corrupted:  # malformed: ``content`` a string, ``date_gmt`` a number, no title
        out["content"] = out["content"]["rendered"]
        out["date_gmt"] = post.date_ms // 1000
        del out["title"]
    return out


def media_json(m: WpMedia, site: str, model: WordPressModel, pretty: bool) -> dict[str, Any]:
    """The attachment resource."""
    parent = model.post(m.post)
    author = parent.author if parent else 1
    src = media_url(site, m)
    kind = "file" if m.fmt == "mp4" else "image"
    details: dict[str, Any] = {"filesize": m.size or None, "file": src.split("/uploads/")[1]}
    if kind == "image":
        details.update(
            {
                "width": m.width,
                "height": m.height,
                "sizes": {},
                "image_meta": {
                    "caption": "",
                    "copyright": "",
                    "credit": "",
                    "title": "",
                    "orientation": "0",
                    "keywords": [],
                },
            }
        )
    else:
        details.update(
            {
                "mime_type": "video/mp4",
                "length": 3,
                "length_formatted": "0:03",
                "width": m.width,
                "height": m.height,
                "fileformat": "mp4",
                "dataformat": "mp4",
            }
        )
    return {
        "id": m.id,
        "date": wp_local(m.date_ms),
        "date_gmt": wp_gmt(m.date_ms),
        "guid": {"rendered": src},
        "modified": wp_local(m.date_ms),
        "modified_gmt": wp_gmt(m.date_ms),
        "slug": f"{m.id}-bild",
        "status": "inherit",
        "type": "attachment",
        "link": (post_link(site, parent) if parent else site + "/") + f"{m.id}-bild/",
        "title": {"rendered": texturize(m.title)},
        "author": author,
        "featured_media": 0,
        "comment_status": "open",
        "ping_status": "closed",
        "template": "",
        "meta": [],
        "class_list": [],
        "description": {"rendered": f'<p class="attachment"><a href="{src}">{texturize(m.title)}</a></p>\n'},
        "caption": {"rendered": ""},
        "alt_text": texturize(m.title)[:100],
        "media_type": kind,
        "mime_type": MIME[m.fmt],
        "media_details": details,
        "post": m.post,
        "source_url": src,
        "_links": {
            "self": [{"href": rest_url(site, f"/wp/v2/media/{m.id}", pretty)}],
            "collection": [{"href": rest_url(site, "/wp/v2/media", pretty)}],
            "author": [{"embeddable": True, "href": rest_url(site, f"/wp/v2/users/{author}", pretty)}],
        },
    }


def _avatars(seed: str) -> dict[str, str]:
    digest = hashlib.sha256(seed.strip().lower().encode()).hexdigest()
    return {s: f"https://secure.gravatar.com/avatar/{digest}?s={s}&d=mm&r=g" for s in ("24", "48", "96")}


def comment_json(c: WpComment, site: str, model: WordPressModel, pretty: bool) -> dict[str, Any]:
    """The comment resource (``view`` context: no e-mail, no IP)."""
    post = model.post(c.post)
    links: dict[str, Any] = {
        "self": [{"href": rest_url(site, f"/wp/v2/comments/{c.id}", pretty), "targetHints": {"allow": ["GET"]}}],
        "collection": [{"href": rest_url(site, "/wp/v2/comments", pretty)}],
    }
    if c.author:
        links["author"] = [{"embeddable": True, "href": rest_url(site, f"/wp/v2/users/{c.author}", pretty)}]
    links["up"] = [{"embeddable": True, "post_type": "post", "href": rest_url(site, f"/wp/v2/posts/{c.post}", pretty)}]
    if c.parent:
        links["in-reply-to"] = [{"embeddable": True, "href": rest_url(site, f"/wp/v2/comments/{c.parent}", pretty)}]
    return {
        "id": c.id,
        "post": c.post,
        "parent": c.parent,
        "author": c.author,
        "author_name": c.author_name,
        "author_url": "",
        "date": wp_local(c.date_ms),
        "date_gmt": wp_gmt(c.date_ms),
        "content": {"rendered": autop(c.text) + "\n"},
        "link": (post_link(site, post) if post else site + "/") + f"#comment-{c.id}",
        "status": c.status,
        "type": "comment",
        "author_avatar_urls": _avatars(c.author_name),
        "meta": [],
        "_links": links,
    }


def user_json(uid: int, site: str, pretty: bool) -> dict[str, Any]:
    """A public author profile."""
    name, slug = USERS[uid]
    return {
        "id": uid,
        "name": name,
        "url": "",
        "description": "",
        "link": f"{site}/author/{slug}/",
        "slug": slug,
        "avatar_urls": _avatars(slug),
        "meta": [],
        "_links": {
            "self": [{"href": rest_url(site, f"/wp/v2/users/{uid}", pretty)}],
            "collection": [{"href": rest_url(site, "/wp/v2/users", pretty)}],
        },
    }


def category_json(cid: int, site: str, pretty: bool) -> dict[str, Any]:
    """A category term."""
    name = CATEGORIES[cid]
    slug = slugify(name)
    return {
        "id": cid,
        "count": 0,
        "description": "",
        "link": f"{site}/category/{slug}/",
        "name": name,
        "slug": slug,
        "taxonomy": "category",
        "parent": 0,
        "meta": [],
        "_links": {"self": [{"href": rest_url(site, f"/wp/v2/categories/{cid}", pretty)}]},
    }


def error(code: str, message: str, status: int, **data: Any) -> dict[str, Any]:
    """``WP_Error`` as the REST server renders it."""
    return {"code": code, "message": message, "data": {"status": status, **data}}
