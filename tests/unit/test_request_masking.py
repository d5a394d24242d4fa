"""Masked copies hide every accepted span, refuse stale masks, and decisions never hold the value."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from archive.requests.detect import suggest, value_sha256
from archive.requests.masking import (
    MARKER,
    MaskError,
    apply_masks,
    decision_entries,
    manual_suggestion,
    mask_fields,
    review,
)
from schemas import DetectorKind, Mask, MaskStatus, MaskSuggestion

AT = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
PNR = "811218-9876"  # valid checksum (Skatteverket's example)
TEXT = f"Hej, jag heter Anna och mitt personnummer är {PNR}. Ring 070-123 45 67 eller mejla anna@example.se."


def accepted(record_id: str, field: str, text: str, ground: str = "OSL 21:7") -> list[Mask]:
    return [
        review(s, accept=True, reviewer="handläggare", at=AT, ground=ground) for s in suggest(record_id, field, text)
    ]


def span(
    text: str, value: str, kind: DetectorKind = DetectorKind.MANUAL, record_id: str = "r1", field: str = "text"
) -> MaskSuggestion:
    start = text.index(value)
    return MaskSuggestion(
        record_id=record_id,
        field=field,
        start=start,
        end=start + len(value),
        kind=kind,
        value_sha256=value_sha256(value),
    )


def test_masked_copy_has_no_digit_of_the_personnummer() -> None:
    text = f"Mitt personnummer är {PNR}, tack."
    out = apply_masks(text, accepted("r1", "text", text))
    assert out == f"Mitt personnummer är {MARKER}, tack."
    assert not set(PNR.replace("-", "")) & set(out)


def test_all_accepted_spans_are_hidden_and_the_original_is_unchanged() -> None:
    record = {"text": TEXT}
    out = mask_fields(record, accepted("r1", "text", TEXT), record_id="r1")["text"]
    assert record == {"text": TEXT}
    for secret in (PNR, "070-123 45 67", "anna@example.se"):
        assert secret not in out
    assert out.count(MARKER) == 3
    assert not any(c.isdigit() for c in out)


def test_marker_does_not_leak_the_length() -> None:
    short, long = "Bo", "Maximiliana Andersson-Lindqvist"
    text = f"{short} och {long}"
    masks = [review(span(text, v), accept=True, reviewer="r", at=AT, ground="OSL 21:3") for v in (short, long)]
    assert apply_masks(text, masks) == f"{MARKER} och {MARKER}"


def test_overlapping_and_adjacent_masks_become_one_marker() -> None:
    text = "Anna Svensson, Storgatan 12"
    first = span(text, "Anna Sv")
    second = span(text, "Svensson")  # overlaps the first
    third = span(text, ", ")  # touches the second
    masks = [review(s, accept=True, reviewer="r", at=AT, ground="OSL 21:3") for s in (third, first, second)]
    assert apply_masks(text, masks) == f"{MARKER}Storgatan 12"


def test_rejected_masks_are_not_applied_and_pending_block_a_release() -> None:
    text = f"pnr {PNR}"
    [suggestion] = suggest("r1", "text", text)
    rejected = review(suggestion, accept=False, reviewer="r", at=AT)
    assert apply_masks(text, [rejected]) == text
    pending = Mask.from_suggestion(suggestion, ground="OSL 21:7")
    with pytest.raises(MaskError, match="not reviewed"):
        apply_masks(text, [pending])
    with pytest.raises(MaskError, match="not reviewed"):
        decision_entries([pending])
    assert apply_masks(text, [pending], allow_pending=True) == text  # preview shows only accepted


def test_stale_offsets_or_changed_text_are_errors() -> None:
    text = f"pnr {PNR}"
    [mask] = accepted("r1", "text", text)
    with pytest.raises(MaskError, match="no longer fit"):
        apply_masks(text[:8], [mask])
    with pytest.raises(MaskError, match="SHA-256 differs"):
        apply_masks("pnr 811218-9875", [mask])
    with pytest.raises(MaskError, match="SHA-256 differs"):
        apply_masks(f"xx pnr {PNR}", [mask])  # text shifted


def test_accepting_needs_a_ground_and_a_reviewer() -> None:
    [suggestion] = suggest("r1", "text", f"pnr {PNR}")
    with pytest.raises(MaskError, match="legal 'ground'"):
        review(suggestion, accept=True, reviewer="r", at=AT)
    with pytest.raises(MaskError, match="legal 'ground'"):
        review(suggestion, accept=True, reviewer="r", at=AT, ground="  ")
    with pytest.raises(ValidationError):
        Mask.model_validate({**suggestion.model_dump(), "status": "accepted", "ground": "OSL 21:7"})
    with pytest.raises(MaskError, match="timezone"):
        review(suggestion, accept=True, reviewer="r", at=datetime(2026, 11, 27, 9), ground="OSL 21:7")


def test_decision_entries_carry_ground_reviewer_time_and_keyed_hash_but_never_the_value() -> None:
    masks = accepted("r1", "text", TEXT) + accepted("r0", "author.name", "Anna 070-123 45 67", ground="OSL 26:1")
    texts = {("r1", "text"): TEXT, ("r0", "author.name"): "Anna 070-123 45 67"}
    key = b"k" * 32
    entries = decision_entries(masks, texts, key)
    assert [(e.record_id, e.field, e.kind) for e in entries] == [
        ("r0", "author.name", DetectorKind.PHONE),
        ("r1", "text", DetectorKind.PERSONNUMMER),
        ("r1", "text", DetectorKind.PHONE),
        ("r1", "text", DetectorKind.EMAIL),
    ]
    assert {e.ground for e in entries} == {"OSL 21:7", "OSL 26:1"}
    assert all(e.reviewer == "handläggare" and e.decided_at == AT for e in entries)
    # A keyed digest: the unsalted SHA-256 of the value (which anyone can recompute from a guess) is nowhere.
    assert entries[1].value_hmac == hmac.new(key, PNR.encode(), hashlib.sha256).hexdigest()
    dumped = "".join(e.model_dump_json() for e in entries)
    for secret in (PNR, "8112189876", "070-123 45 67", "anna@example.se", value_sha256(PNR)):
        assert secret not in dumped
    assert "value" not in {name for e in entries for name in type(e).model_fields if name != "value_hmac"}
    # Without the originals and the key (the requester's copy) there is no digest at all.
    assert all(e.value_hmac is None for e in decision_entries(masks))
    # A text that changed since review is refused, not sealed under another value.
    with pytest.raises(MaskError, match="changed"):
        decision_entries(masks, {**texts, ("r1", "text"): TEXT.replace(PNR, "811218-9877")}, key)


def test_rejected_suggestions_have_no_decision_entry() -> None:
    [suggestion] = suggest("r1", "text", f"pnr {PNR}")
    assert decision_entries([review(suggestion, accept=False, reviewer="r", at=AT)]) == []


def test_mask_fields_per_record() -> None:
    values = {"text": TEXT, "author.name": "Anna Svensson", "title": "Fråga"}
    name = review(
        manual_suggestion("r1", "author.name", values["author.name"], 0, 13),
        accept=True,
        reviewer="r",
        at=AT,
        ground="OSL 21:3",
    )
    out = mask_fields(values, [*accepted("r1", "text", TEXT), name], record_id="r1")
    assert out["author.name"] == MARKER and out["title"] == "Fråga" and PNR not in out["text"]
    with pytest.raises(MaskError, match="another record"):
        mask_fields(values, accepted("r2", "text", TEXT), record_id="r1")
    with pytest.raises(MaskError, match="no field"):
        mask_fields({"title": "x"}, [name], record_id="r1")
    with pytest.raises(MaskError, match="more than one"):
        apply_masks(TEXT, [*accepted("r1", "text", TEXT), name])


def test_manual_span_outside_the_text_is_an_error() -> None:
    with pytest.raises(MaskError, match="outside"):
        manual_suggestion("r1", "text", "kort", 2, 10)


def test_unicode_offsets_are_code_points() -> None:
    text = "Åsa 🙂 bor på Östra Långgatan 3B i Göteborg"
    [mask] = accepted("r1", "text", text, ground="OSL 21:3")
    assert mask.kind is DetectorKind.ADDRESS and text[mask.start : mask.end] == "Östra Långgatan 3B"
    assert apply_masks(text, [mask]) == f"Åsa 🙂 bor på {MARKER} i Göteborg"


def test_a_custom_marker_may_not_reintroduce_the_value() -> None:
    text = "kod 1234"
    mask = review(span(text, "1234"), accept=True, reviewer="r", at=AT, ground="OSL 21:7")
    assert apply_masks(text, [mask], marker="[MASKERAT]") == "kod [MASKERAT]"
    with pytest.raises(MaskError, match="shares characters"):
        apply_masks(text, [mask], marker="[MASKED: OSL 21:7]")
    assert Mask.model_validate(mask.model_dump()).status is MaskStatus.ACCEPTED
