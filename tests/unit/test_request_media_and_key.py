"""Released media carry no metadata; the masking key stays private to the installation."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest
from PIL import ExifTags, Image, PngImagePlugin

from archive.config import Settings
from archive.errors import ConfigError
from archive.requests.casebook import CaseError
from archive.requests.keys import key_path, masking_key, seal
from archive.requests.media import choose, strip_metadata
from schemas import MediaAction

OWNER = "Karin Grannen"


def _png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", OWNER)
    info.add_itxt("XML:com.adobe.xmp", f"<x:xmpmeta><dc:creator>{OWNER}</dc:creator></x:xmpmeta>")
    exif = Image.Exif()
    exif[ExifTags.Base.Artist] = OWNER
    out = io.BytesIO()
    Image.new("RGBA", (10, 8), (0, 128, 255, 100)).save(out, "PNG", pnginfo=info, exif=exif)
    return out.getvalue()


def _rotated_jpeg() -> bytes:
    """A JPEG stored sideways with EXIF orientation 6 (shown rotated 90°), as phones write them."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Artist] = OWNER
    out = io.BytesIO()
    Image.new("RGB", (40, 20), (10, 200, 10)).save(out, "JPEG", exif=exif, comment=OWNER.encode())
    return out.getvalue()


def test_png_text_xmp_and_exif_are_gone_and_pixels_kept() -> None:
    original = _png_with_text()
    assert OWNER.encode() in original
    clean = strip_metadata(original, "image/png", sha256="0" * 64)
    assert OWNER.encode() not in clean and b"tEXt" not in clean and b"iTXt" not in clean and b"eXIf" not in clean
    with Image.open(io.BytesIO(original)) as before, Image.open(io.BytesIO(clean)) as after:
        assert after.mode == before.mode and after.tobytes() == before.tobytes()


def test_jpeg_is_turned_upright_then_stripped_of_exif_and_comment() -> None:
    clean = strip_metadata(_rotated_jpeg(), "image/jpeg", sha256="0" * 64)
    assert OWNER.encode() not in clean and b"Exif" not in clean
    with Image.open(io.BytesIO(clean)) as im:
        assert im.size == (20, 40) and not im.getexif() and "comment" not in im.info


def test_video_is_withheld_by_default_and_cannot_be_stripped() -> None:
    assert choose("a" * 64, "video/mp4", None, "OSL 21:7").action is MediaAction.WITHHOLD
    assert choose("a" * 64, "image/jpeg", None, "OSL 21:7").action is MediaAction.STRIP
    with pytest.raises(CaseError, match="cannot be removed"):
        strip_metadata(b"\x00\x00\x00\x18ftypisom", "video/mp4", sha256="a" * 64)


def test_an_image_that_does_not_decode_is_refused_not_released_as_is() -> None:
    with pytest.raises(CaseError, match="cannot be decoded"):
        strip_metadata(b"\xff\xd8\xff\xe1 not really a jpeg " + OWNER.encode(), "image/jpeg", sha256="b" * 64)


def test_key_is_made_once_private_and_refused_when_others_can_read_it(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    key = masking_key(settings)
    path = key_path(settings)
    assert len(key) == 32 and masking_key(settings) == key  # made once, then read
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left beside it
    assert seal(key, "811218-9876") != seal(b"x" * 32, "811218-9876")
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="open to other users"):
        masking_key(settings)
