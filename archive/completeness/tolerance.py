"""Per-platform tolerance: how far a platform's count may exceed the archive before it is called a gap.

Platforms count things their APIs do not show to the account's token: Mastodon's `replies_count`
counts followers-only replies, Bluesky's `replyCount` replies by accounts later taken down, YouTube's
`commentCount` comments held for review. No allowance at all would alarm on every such post; a wide
one would hide a real missed comment. The defaults allow nothing absolute (one missing comment under
a post with a few is always a gap) and 2 % of larger counts where the platform's count is known to
include what its API withholds; WordPress and Flickr count exactly what they list. docs/platforms.md
states the same table. An installation may set its own (`COMMUNIS_COMPLETENESS_TOLERANCE`); each
report records the tolerance it applied and where it came from, so a widened one is never silent.
"""

from __future__ import annotations

from schemas import Platform, Tolerance

from ..config import Settings

_DRIFT = Tolerance(absolute=0, relative=0.02, source="default (docs/platforms.md)")
_EXACT = Tolerance(absolute=0, relative=0.0, source="default (docs/platforms.md)")

DEFAULTS: dict[Platform, Tolerance] = {
    Platform.MASTODON: _DRIFT,
    Platform.BLUESKY: _DRIFT,
    Platform.X: _DRIFT,
    Platform.FACEBOOK: _DRIFT,
    Platform.INSTAGRAM: _DRIFT,
    Platform.YOUTUBE: _DRIFT,
    Platform.FLICKR: _EXACT,
    Platform.WORDPRESS: _EXACT,
}

SETTING = "COMMUNIS_COMPLETENESS_TOLERANCE"


def tolerance_for(platform: Platform, settings: Settings) -> Tolerance:
    """The tolerance applied to `platform`: the installation's setting if it names the platform, else the
    documented default; the source says which."""
    chosen = settings.completeness_tolerance.get(platform)
    if chosen is not None:
        return chosen.model_copy(update={"source": f"setting {SETTING}"})
    return DEFAULTS.get(platform, _EXACT)
