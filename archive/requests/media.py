"""Media in a released copy: re-encoded from their pixels, so no metadata leaves with them.

A photograph taken with a phone carries EXIF: the GPS position it was taken at, the camera's
make, model and serial number, often its owner's name, and a thumbnail that may show the picture
before it was cropped. XMP, IPTC, ICC profiles and comment segments can carry names too. None of
that is what the requester asked for, and all of it may be personal data, so an image is released
(by default) as a new file made from its decoded pixels alone: what a reader sees, nothing more.
The archived original is never changed; the internal part of the package keeps it.

Decisions (schemas.MediaDecision): `strip-metadata` (the default for images, under the
profile's first ground), `withhold`, or `release` as archived, which only a reviewer can choose.
Video and audio cannot be re-encoded here, so they are withheld unless a reviewer decides to
release them whole; a `strip-metadata` decision on one is refused, as is an image that does not
decode: releasing it as archived would be the one thing the reviewer did not decide.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from schemas import MediaAction, MediaDecision

from .casebook import CaseError

#: Formats re-encoded in their own format (so a PNG stays lossless and a GIF keeps its frames).
_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}
#: The ground of a default decision when the case's profile names none.
FALLBACK_GROUND = "metadata is not part of the record released"


@dataclass(frozen=True)
class MediaChoice:
    """The decision applied to one media file: a reviewer's, or the default (`reviewer` None)."""

    media_sha256: str
    content_type: str
    action: MediaAction
    ground: str
    reviewer: str | None = None
    decided_at: datetime | None = None

    @property
    def default(self) -> bool:
        return self.reviewer is None


def strippable(content_type: str) -> bool:
    return content_type in _FORMATS


def choose(sha256: str, content_type: str, decided: MediaDecision | None, default_ground: str) -> MediaChoice:
    """The decision for one file: the reviewer's if any, else strip an image and withhold anything else."""
    if decided is not None:
        if decided.action is MediaAction.STRIP and not strippable(content_type):
            raise CaseError(
                f"media {sha256[:12]}… is {content_type}: its metadata cannot be removed here",
                hint="decide `withhold`, or `release` it as archived",
            )
        return MediaChoice(sha256, content_type, decided.action, decided.ground, decided.reviewer, decided.decided_at)
    action = MediaAction.STRIP if strippable(content_type) else MediaAction.WITHHOLD
    return MediaChoice(sha256, content_type, action, default_ground)


def _clean(frame: Image.Image) -> Image.Image:
    """A new image holding only the frame's pixels (and palette), upright as EXIF said it was shown."""
    upright = ImageOps.exif_transpose(frame) or frame
    fresh = Image.frombytes(upright.mode, upright.size, upright.tobytes())
    if upright.mode in ("P", "PA") and (palette := upright.getpalette()) is not None:
        fresh.putpalette(palette)
    return fresh


def strip_metadata(body: bytes, content_type: str, *, sha256: str) -> bytes:
    """The image re-encoded from its pixels: no EXIF, XMP, IPTC, ICC profile, text chunk or comment."""
    fmt = _FORMATS.get(content_type)
    if fmt is None:
        raise CaseError(f"media {sha256[:12]}… is {content_type}: its metadata cannot be removed here")
    try:
        with Image.open(io.BytesIO(body)) as im:
            im.load()
            frames = [_clean(f.copy()) for f in ImageSequence.Iterator(im)]
            transparency = im.info.get("transparency")
            durations = im.info.get("duration")
            loop = im.info.get("loop")
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise CaseError(
            f"media {sha256[:12]}… ({content_type}) cannot be decoded, so its metadata cannot be removed ({exc})",
            hint="decide `withhold`, or `release` it as archived",
        ) from exc
    out = io.BytesIO()
    first, rest = frames[0], frames[1:]
    options: dict[str, object] = {}
    if fmt == "JPEG":
        if first.mode not in ("RGB", "L", "CMYK"):
            first = first.convert("RGB")
        options.update(quality=95)
    if fmt in ("PNG", "GIF") and isinstance(transparency, int | bytes):
        options["transparency"] = transparency
    if rest and fmt in ("GIF", "WEBP"):
        options.update(save_all=True, append_images=rest)
        if durations is not None:
            options["duration"] = durations
        if loop is not None:
            options["loop"] = loop
    first.save(out, format=fmt, **options)
    return out.getvalue()


__all__ = ["FALLBACK_GROUND", "MediaChoice", "choose", "strip_metadata", "strippable"]
