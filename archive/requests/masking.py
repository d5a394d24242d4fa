"""Masking a released copy of a record's text, and the masking decision that goes with it.

The archived original is never touched (SE-8): these functions return new strings.

The marker: every masked run of text becomes exactly `█████` (five U+2588 FULL BLOCK),
whatever its length or kind. Decided this way because

- a fixed width does not leak the value's length (a three-letter name and a twelve-digit
  personnummer look the same), which a character-for-character blackout would;
- it contains no letter or digit, so no character of a masked value (a personnummer's
  digits, an OSL paragraph number) can appear in its place, and a reader cannot mistake
  it for text; a marker like "[MASKED: OSL 21:7]" would put digits where digits were;
- it reads the same in Swedish and English and prints as a black bar, as on paper.

The legal ground of each span is given in the decision entries instead, one per mask.

Errors are loud: a mask whose offsets no longer fit the string, or whose SHA-256 no longer
matches the characters at those offsets, raises `MaskError` rather than being skipped, since
releasing a copy with a secret left visible is worse than releasing it late. Pending
suggestions also stop a release unless the caller asks for a preview (SE-9: an unreviewed
suggestion cannot be finalised).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime

from pydantic import ValidationError

from schemas import DetectorKind, Mask, MaskDecision, MaskStatus, MaskSuggestion

from ..errors import CommunisError
from .detect import value_sha256
from .keys import seal

MARKER = "\u2588" * 5


class MaskError(CommunisError):
    """A mask cannot be applied or decided safely (stale offsets, changed text, unreviewed)."""


def _where(mask: MaskSuggestion) -> str:
    return f"record {mask.record_id} field {mask.field!r} [{mask.start}:{mask.end}]"


def manual_suggestion(record_id: str, field: str, text: str, start: int, end: int) -> MaskSuggestion:
    """A span a reviewer marked by hand, hashed from the text it covers now."""
    if not 0 <= start < end <= len(text):
        raise MaskError(
            f"record {record_id} field {field!r}: span [{start}:{end}] is outside the text (length {len(text)})"
        )
    return MaskSuggestion(
        record_id=record_id,
        field=field,
        start=start,
        end=end,
        kind=DetectorKind.MANUAL,
        value_sha256=value_sha256(text[start:end]),
    )


def review(suggestion: MaskSuggestion, *, accept: bool, reviewer: str, at: datetime, ground: str | None = None) -> Mask:
    """The reviewer's decision on a suggestion (or re-decision on a mask): accepted needs a ground.

    Built through validation, never `model_copy`, so an accepted mask without a ground or a
    naive decision time cannot come into being.
    """
    data = suggestion.model_dump(include=set(MaskSuggestion.model_fields))
    data.update(
        status=MaskStatus.ACCEPTED if accept else MaskStatus.REJECTED, reviewer=reviewer, decided_at=at, ground=ground
    )
    try:
        return Mask.model_validate(data)
    except ValidationError as exc:
        message = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        raise MaskError(f"{_where(suggestion)}: {message}") from exc


def _accepted(masks: Iterable[Mask], allow_pending: bool) -> list[Mask]:
    chosen = []
    for mask in masks:
        if mask.status is MaskStatus.PENDING and not allow_pending:
            raise MaskError(
                f"{_where(mask)}: suggestion not reviewed yet",
                hint="accept or reject every suggestion before releasing",
            )
        if mask.status is MaskStatus.ACCEPTED:
            chosen.append(mask)
    return chosen


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping and touching spans as one run, so two masks side by side give one marker."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def apply_masks(text: str, masks: Iterable[Mask], *, marker: str = MARKER, allow_pending: bool = False) -> str:
    """The released copy of one field's `text`, with every accepted mask's span replaced by `marker`.

    All masks must belong to the same record and field. Rejected masks are ignored; pending
    ones are an error unless `allow_pending` (a reviewer's preview, never a release).
    """
    masks = list(masks)
    if len({(m.record_id, m.field) for m in masks}) > 1:
        raise MaskError("apply_masks got masks of more than one record or field; use mask_fields")
    spans = []
    for mask in _accepted(masks, allow_pending):
        if mask.end > len(text):
            raise MaskError(f"{_where(mask)}: offsets no longer fit the text (length {len(text)})")
        value = text[mask.start : mask.end]
        if value_sha256(value) != mask.value_sha256:
            raise MaskError(f"{_where(mask)}: the text at these offsets has changed since review (SHA-256 differs)")
        if set(value) & set(marker):
            raise MaskError(f"{_where(mask)}: the marker {marker!r} shares characters with the masked value")
        spans.append((mask.start, mask.end))
    parts: list[str] = []
    position = 0
    for start, end in _merged(spans):
        parts += [text[position:start], marker]
        position = end
    parts.append(text[position:])
    return "".join(parts)


def mask_fields(
    values: Mapping[str, str],
    masks: Iterable[Mask],
    *,
    record_id: str,
    marker: str = MARKER,
    allow_pending: bool = False,
) -> dict[str, str]:
    """The released copy of one record's text fields (e.g. {"text": ..., "author.name": ...}).

    A mask for another record or for a field missing from `values` is an error: it means the
    caller is about to release something the reviewer did not see.
    """
    by_field: dict[str, list[Mask]] = defaultdict(list)
    for mask in masks:
        if mask.record_id != record_id:
            raise MaskError(f"{_where(mask)}: mask belongs to another record than {record_id}")
        if mask.field not in values:
            raise MaskError(f"{_where(mask)}: the record has no field {mask.field!r}")
        by_field[mask.field].append(mask)
    return {
        name: apply_masks(value, by_field.get(name, []), marker=marker, allow_pending=allow_pending)
        for name, value in values.items()
    }


def decision_entries(
    masks: Iterable[Mask], texts: Mapping[tuple[str, str], str] | None = None, key: bytes | None = None
) -> list[MaskDecision]:
    """One decision entry per accepted mask (ground, reviewer, time; never the value).

    With `texts` (the original string of each masked (record, field)) and the installation's
    `key`, each entry carries the HMAC of the value it covers (keys.py), checked first against the
    mask's own SHA-256 so the decision can never name another value than the one reviewed. Without
    them it carries no digest at all: that is the requester's copy.

    Sorted by record, field and offset. Rejected suggestions are not masked and so have no
    entry; a pending one means the decision is not finished and raises `MaskError`.
    """
    entries = []
    for mask in _accepted(masks, allow_pending=False):
        assert mask.ground is not None and mask.reviewer is not None and mask.decided_at is not None  # validated
        digest = None
        if texts is not None and key is not None:
            value = texts.get((mask.record_id, mask.field), "")[mask.start : mask.end]
            if value_sha256(value) != mask.value_sha256:
                raise MaskError(f"{_where(mask)}: the text at these offsets has changed since review (SHA-256 differs)")
            digest = seal(key, value)
        entries.append(
            MaskDecision(
                record_id=mask.record_id,
                field=mask.field,
                start=mask.start,
                end=mask.end,
                kind=mask.kind,
                ground=mask.ground,
                reviewer=mask.reviewer,
                decided_at=mask.decided_at,
                value_hmac=digest,
            )
        )
    return sorted(entries, key=lambda e: (e.record_id, e.field, e.start, e.end))


__all__ = ["MARKER", "MaskError", "apply_masks", "decision_entries", "manual_suggestion", "mask_fields", "review"]
