"""WordPress wire format: paging headers, dates, filters, comments, errors, rest_route, _fields, media."""

from __future__ import annotations

import re

import httpx
from simhelp import walk

from simulator import Simulator

LOCAL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")


def test_page_walk_with_total_pages(http: httpx.Client, sim: Simulator) -> None:
    first = http.get("/wp/wp-json/wp/v2/posts", params={"per_page": 30})
    assert first.headers["X-WP-Total"] == "200" and first.headers["X-WP-TotalPages"] == "7"
    seen = []
    for page in range(1, 8):
        resp = http.get("/wp/wp-json/wp/v2/posts", params={"per_page": 30, "page": page})
        assert resp.status_code == 200
        seen += [p["id"] for p in resp.json()]
    assert len(seen) == len(set(seen)) == 200
    truth = {r["id"] for r in sim.state()["wordpress"]["items"] if r["type"] == "post"}
    assert set(seen) == truth
    linked, _ = walk(http, "/wp/wp-json/wp/v2/posts?per_page=30")
    assert [p["id"] for p in linked] == seen


def test_link_header_and_past_the_end(http: httpx.Client, sim: Simulator) -> None:
    resp = http.get("/wp/wp-json/wp/v2/posts", params={"per_page": 50, "page": 2, "orderby": "modified"})
    base = f"{sim.wordpress_url}/wp-json/wp/v2/posts?per_page=50&page="
    assert resp.headers["Link"] == f'<{base}1&orderby=modified>; rel="prev", <{base}3&orderby=modified>; rel="next"'
    past = http.get("/wp/wp-json/wp/v2/posts", params={"per_page": 50, "page": 5})
    assert past.status_code == 400
    assert past.json() == {
        "code": "rest_post_invalid_page_number",
        "message": "The page number requested is larger than the number of pages available.",
        "data": {"status": 400},
    }


def test_per_page_out_of_range(http: httpx.Client) -> None:
    for value in ("0", "101"):
        resp = http.get("/wp/wp-json/wp/v2/posts", params={"per_page": value})
        body = resp.json()
        assert resp.status_code == 400 and body["code"] == "rest_invalid_param"
        assert body["data"]["params"]["per_page"] == "per_page must be between 1 (inclusive) and 100 (inclusive)"
    assert len(http.get("/wp/wp-json/wp/v2/posts").json()) == 10


def test_dates_and_fields(http: httpx.Client) -> None:
    post = http.get("/wp/wp-json/wp/v2/posts", params={"per_page": 1}).json()[0]
    for key in ("date", "date_gmt", "modified", "modified_gmt"):
        assert LOCAL.match(post[key]), post[key]
    assert post["date"] != post["date_gmt"]  # Stockholm is ahead of UTC
    assert post["title"]["rendered"] and post["content"]["protected"] is False and post["type"] == "post"
    slim = http.get("/wp/wp-json/wp/v2/posts", params={"per_page": 2, "_fields": "id,title.rendered,modified_gmt"})
    assert [set(p) for p in slim.json()] == [{"id", "title", "modified_gmt"}] * 2


def test_modified_after_and_ordering(http: httpx.Client, sim: Simulator) -> None:
    rows = [r for r in sim.state()["wordpress"]["items"] if r["type"] == "post"]
    cut = sorted(r["modified_gmt"] for r in rows)[150]
    expected = sorted((r["modified_gmt"], r["id"]) for r in rows if r["modified_gmt"] > cut)
    resp = http.get(
        "/wp/wp-json/wp/v2/posts",
        params={"modified_after": cut + "Z", "orderby": "modified", "order": "asc", "per_page": 100},
    )
    assert [(p["modified_gmt"], p["id"]) for p in resp.json()] == expected
    assert int(resp.headers["X-WP-Total"]) == len(expected)
    after = http.get("/wp/wp-json/wp/v2/posts", params={"after": "2024-01-01T00:00:00Z", "per_page": 100}).json()
    assert after and all(p["date_gmt"] > "2024-01-01T00:00:00" for p in after)


def test_rest_route_form(http: httpx.Client, sim: Simulator) -> None:
    pretty = http.get("/wp/wp-json/wp/v2/posts", params={"per_page": 3}).content
    plain = http.get("/wp/", params={"rest_route": "/wp/v2/posts", "per_page": 3})
    assert plain.content == pretty
    assert "rest_route=%2Fwp%2Fv2%2Fposts&per_page=3&page=2" in plain.headers["Link"]
    with Simulator(seed=1, wp_pretty_permalinks=False) as other, httpx.Client(base_url=other.base_url) as c:
        assert c.get("/wp/wp-json/wp/v2/posts").status_code == 404
        resp = c.get("/wp/index.php", params={"rest_route": "/wp/v2/posts/1000"})
        href = resp.json()["_links"]["self"][0]["href"]
        assert href == f"{other.wordpress_url}/index.php?rest_route=/wp/v2/posts/1000"


def test_pages_and_single_items(http: httpx.Client) -> None:
    pages = http.get("/wp/wp-json/wp/v2/pages", params={"per_page": 100})
    assert pages.headers["X-WP-Total"] == "8" and all(p["type"] == "page" for p in pages.json())
    page = pages.json()[0]
    assert http.get(f"/wp/wp-json/wp/v2/pages/{page['id']}").json()["id"] == page["id"]
    wrong = http.get(f"/wp/wp-json/wp/v2/posts/{page['id']}")
    assert wrong.status_code == 404 and wrong.json()["code"] == "rest_post_invalid_id"
    assert http.get("/wp/wp-json/wp/v2/nothing").json()["code"] == "rest_no_route"


def test_comments_flat_with_parent_and_only_approved(http: httpx.Client, sim: Simulator) -> None:
    truth = [r for r in sim.state()["wordpress"]["items"] if r["type"] == "comment"]
    hidden = next(r for r in truth if r["status"] in ("hold", "spam"))
    visible = [r for r in truth if r["visible"]]
    all_comments, _ = walk(http, "/wp/wp-json/wp/v2/comments?per_page=100&orderby=date_gmt&order=asc")
    assert {c["id"] for c in all_comments} == {r["id"] for r in visible}
    assert hidden["id"] not in {c["id"] for c in all_comments}
    assert any(c["parent"] for c in all_comments) and all(c["status"] == "approved" for c in all_comments)
    resp = http.get(f"/wp/wp-json/wp/v2/comments/{hidden['id']}")
    assert resp.status_code == 401 and resp.json()["code"] == "rest_cannot_read"
    post = hidden["post"]
    mine = http.get("/wp/wp-json/wp/v2/comments", params={"post": post, "per_page": 100}).json()
    assert {c["id"] for c in mine} == {r["id"] for r in visible if r["post"] == post}
    beyond = http.get("/wp/wp-json/wp/v2/comments", params={"per_page": 100, "page": 99})
    assert beyond.status_code == 200 and beyond.json() == []


def test_media_endpoint_and_files(http: httpx.Client, sim: Simulator) -> None:
    posts, _ = walk(http, "/wp/wp-json/wp/v2/posts?per_page=100")
    with_media = next(p for p in posts if p["featured_media"])
    media = http.get(f"/wp/wp-json/wp/v2/media/{with_media['featured_media']}").json()
    assert media["post"] == with_media["id"] and media["source_url"].startswith(sim.wordpress_url)
    file = http.get(media["source_url"])
    assert file.status_code == 200 and file.headers["Content-Type"] == media["mime_type"]
    assert int(file.headers["Content-Length"]) == len(file.content) > 100
    legacy = next(p for p in posts if "/uploads/legacy/" in p["content"]["rendered"])
    src = re.search(r'src="([^"]+/uploads/legacy/[^"]+)"', legacy["content"]["rendered"]).group(1)  # type: ignore[union-attr]
    moved = http.get(src)
    assert moved.status_code == 302 and moved.headers["Location"].startswith(sim.wordpress_url + "/wp-content/")
    assert http.get(src, follow_redirects=True).status_code == 200


def test_oversized_media(sim: Simulator) -> None:
    with Simulator(seed=1, oversize_bytes=3_000_000) as big, httpx.Client(base_url=big.base_url) as c:
        truth = big.state()["wordpress"]["items"]
        url = next(m["url"] for r in truth if r["type"] == "post" for m in r["media"] if m["oversized"])
        with c.stream("GET", url) as resp:
            assert resp.headers["Content-Type"] == "video/mp4" and resp.headers["Content-Length"] == "3000000"
            assert sum(len(b) for b in resp.iter_bytes()) == 3_000_000
        head = c.head(url)
        assert head.headers["Content-Length"] == "3000000" and head.content == b""


def test_json_is_escaped_like_php(http: httpx.Client) -> None:
    raw = http.get("/wp/wp-json/wp/v2/posts", params={"per_page": 5}).text
    assert "\\/" in raw and "\\u00" in raw and "å" not in raw
