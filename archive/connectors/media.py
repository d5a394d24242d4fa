"""Media files referenced by records: fetched once per URL, size-capped and type-checked.

The URLs come from posts and comments, so anyone can write one: the harvest client connects only
to public addresses and allowed networks (`destinations.py`), on every redirect hop, and a refused
URL is quarantined with the refused address as its reason, nothing having been sent.

A media file is archived as a `response` record of its own, before the records that show
it, and those records carry its SHA-256 (the WARC-Payload-Digest of that response).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from schemas import CaptureBundle, MediaRef

from ..bundles import Rejected, encoded
from ..errors import ConnectorError, DestinationRefused
from .base import HarvestContext

ALLOWED = ("image/", "video/", "audio/")


def fetch_media(ctx: HarvestContext, refs: list[MediaRef]) -> Iterator[CaptureBundle | Rejected]:
    """Fetch each not-yet-archived URL; failures are quarantined, never fatal."""
    ctx.items.prefetch_media(ref.url for ref in refs)
    for ref in refs:
        if ref.url in ctx.media or ctx.items.media_sha(ref.url) is not None:
            continue
        try:
            fetched = ctx.fetcher.get(ref.url, max_bytes=ctx.media_max_bytes)
        except DestinationRefused as exc:  # the URL or a redirect points inside: nothing was sent
            yield Rejected(encoded(ref.url), f"{exc} for media {ref.url}")
            continue
        except ConnectorError as exc:
            yield Rejected(encoded(ref.url), f"media {ref.url}: {exc}")
            continue
        ctype = fetched.capture.content_type
        if not ctype.startswith(ALLOWED):
            yield Rejected(fetched.capture.body[:4096], f"media {ref.url}: unexpected content type {ctype!r}")
            continue
        ctx.media[ref.url] = hashlib.sha256(fetched.capture.body).hexdigest()
        yield CaptureBundle(capture=fetched.capture, is_media=True)


def with_digests(ctx: HarvestContext, refs: list[MediaRef]) -> list[MediaRef]:
    """The refs with the SHA-256 of their archived file, where known."""
    out = []
    for ref in refs:
        digest = ctx.media.get(ref.url) or ctx.items.media_sha(ref.url)
        out.append(ref.model_copy(update={"sha256": digest}) if digest else ref)
    return out
