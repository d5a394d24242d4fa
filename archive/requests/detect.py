"""Suggesting personal data in a record's text, for a reviewer to accept or reject.

Everything found here is a *suggestion* (SE-9): Swedish personnummer are public by default,
so nothing is masked until a person accepts a span with a legal ground. The detectors
therefore lean towards precision on the things that look like personal data in municipal
posts (dates, times, prices, years, plan numbers) while still catching the usual ways people
write identity numbers, phone numbers, e-mail addresses and street addresses.

How ambiguities are settled:

- Personnummer and samordningsnummer must have a real date (samordningsnummer: day + 60)
  and a valid Luhn check digit over the ten digits YYMMDDNNNN. Organisation numbers (month
  20 and above) are therefore never flagged. A ten-digit run without a separator that is
  both a valid personnummer and a possible mobile number (0701234567) is reported as a
  personnummer, since either way it is personal data and the more specific kind helps the
  reviewer choose the ground.
- When spans overlap, the longer one wins (an e-mail address that contains a number is
  one e-mail address), then the more specific kind.
- Swedish landline numbers need a separator after the area code (08-123 456 78,
  031 12 34 56, (08) 123 45 67), so bare digit runs are not guessed at; anything shaped
  like a date is dropped.
- Fediverse handles (@name@server) are not reported as e-mail addresses.
- A moderation list (a record of kind `moderation`: whom the account blocked or muted) names third
  parties by design: `listed_parties` suggests every listed account's `@handle`, display name, and the
  platform id shown for an account without a handle, wherever the list's text shows them. Blocked
  domains and filtered words are not people and are not suggested.

All patterns are compiled once at import and only the detectors that can match run (no "@":
no e-mail scan; no digit: nothing else), so 10 000 short posts take about a second and a
post without digits costs a few microseconds. No pattern backtracks more than linearly.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any, NamedTuple

from schemas import DetectorKind, MaskSuggestion


class Span(NamedTuple):
    """A detected span [start, end) of the exact string that was searched."""

    start: int
    end: int
    kind: DetectorKind


# --- Personnummer / samordningsnummer -------------------------------------------------------

_PNR = re.compile(
    r"(?<![\w+\-])"
    r"(?:(?P<cc>18|19|20)(?P<yy4>\d{2})|(?P<yy2>\d{2}))"
    r"(?P<mm>\d{2})(?P<dd>\d{2})(?P<sep>[-+]?)(?P<num>\d{4})"
    r"(?![\w]|[-+]\d)"
)


def luhn_valid(digits: str) -> bool:
    """True if the digit string passes the Luhn (mod 10) check, as Skatteverket's numbers do."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = int(char)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def _real_date(years: tuple[int, ...], month: int, day: int) -> bool:
    for year in years:
        try:
            date(year, month, day)
        except ValueError:
            continue
        return True
    return False


def _identity_number(match: re.Match[str]) -> DetectorKind | None:
    """The kind of a personnummer-shaped match, or None if its date or checksum is wrong.

    A ten-digit number does not say its century; "-" (or none) means under 100 years old
    and "+" over, so the date only has to exist in one of the two possible centuries.
    This keeps the check independent of today's date (the text may be decades old).
    """
    yy = match["yy4"] or match["yy2"]
    month, day = int(match["mm"]), int(match["dd"])
    kind = DetectorKind.PERSONNUMMER
    if day > 60:
        kind, day = DetectorKind.SAMORDNINGSNUMMER, day - 60
    if match["cc"]:
        years: tuple[int, ...] = (int(match["cc"] + yy),)
    elif match["sep"] == "+":
        years = (1800 + int(yy), 1900 + int(yy))
    else:
        years = (1900 + int(yy), 2000 + int(yy))
    if not _real_date(years, month, day):
        return None
    if not luhn_valid(yy + match["mm"] + match["dd"] + match["num"]):
        return None
    return kind


def _identity_numbers(text: str) -> Iterator[Span]:
    for match in _PNR.finditer(text):
        kind = _identity_number(match)
        if kind is not None:
            yield Span(match.start(), match.end(), kind)


# --- Phone numbers --------------------------------------------------------------------------

_AREA = r"0(?:8|[1-9]\d{1,2})"  # Swedish trunk 0 + area code: 08, 031, 0980 ...
_PHONE_PATTERNS = [
    # Swedish mobile, national form: 070-123 45 67, 070 1234567, 0701234567, 073-123-45-67.
    re.compile(r"(?<![\w+\-])07\d(?:\s?[-–/]\s?|\s)?\d(?:[ \-]?\d){6}(?![ \-]?\d)(?!\w)"),
    # Swedish landline with a separator after the area code: 08-123 456 78, (031) 12 34 56.
    re.compile(rf"(?<![\w+\-])(?:\({_AREA}\)\s?|{_AREA}\s?[-–/]\s?|{_AREA}\s)\d(?:\s?\d){{4,7}}(?!\s?\d)(?!\w)"),
    # Swedish international: +46 70 123 45 67, +46 (0)8-123 456 78, 0046 8 123 456 78.
    re.compile(r"(?<![\w+])(?:\+|00)46[ \-]?(?:\(0\)[ \-]?)?[1-9](?:[ \-]?\d){6,8}(?![ \-]?\d)(?!\w)"),
    # North American: (555) 123-4567, 555-123-4567, 555.123.4567, +1 555 123 4567, 1-800-555-1234.
    re.compile(r"(?<![\w+\-])(?:\+?1[ .\-]?)?\([2-9]\d{2}\)\s?\d{3}[ .\-]\d{4}(?![\w\-])"),
    re.compile(r"(?<![\w+\-.])(?:\+?1[ .\-])?[2-9]\d{2}(?P<s>[.\-])\d{3}(?P=s)\d{4}(?![\w\-]|\.\d)"),
    re.compile(r"(?<![\w+])\+1[ .\-]?[2-9]\d{2}[ .\-]?\d{3}[ .\-]?\d{4}(?![\w\-]|\.\d)"),
]
_DATE_SHAPED = re.compile(r"\(?\d{1,4}\)?[\s./\-–]+\d{1,2}[\s./\-–]+\d{1,4}")
_PNR_SHAPED = re.compile(r"(?:\d{2})?\d{6}[-+]\d{4}")  # 070206-3117 with a bad checksum: not a phone


def _digit_count(value: str) -> int:
    return sum(c.isdigit() for c in value)


def _phones(text: str) -> Iterator[Span]:
    for i, pattern in enumerate(_PHONE_PATTERNS):
        for match in pattern.finditer(text):
            value = match.group()
            if i == 1 and not 8 <= _digit_count(value) <= 10:
                continue
            if _DATE_SHAPED.fullmatch(value) and _digit_count(value) <= 8:
                continue  # 08-11-2026, 08 11 2026: a date, not a number
            if _PNR_SHAPED.fullmatch(value):
                continue
            yield Span(match.start(), match.end(), DetectorKind.PHONE)


# --- E-mail addresses -----------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.%+'@\-])[\w%+'\-](?:[\w.%+'\-]*[\w%+'\-])?"
    r"@(?:[^\W_](?:[\w\-]*[^\W_])?\.)+[^\W\d_]{2,}(?![\w\-]|\.[^\W_])"
)


def _emails(text: str) -> Iterator[Span]:
    for match in _EMAIL.finditer(text):
        yield Span(match.start(), match.end(), DetectorKind.EMAIL)


# --- Street addresses -----------------------------------------------------------------------

_SV_UP = "A-ZÅÄÖÉÜ"
_SV_LOW = "a-zåäöéüß"
_SV_SUFFIX = (
    "gatan|gata|gränden|gränd|vägen|väg|torget|torg|allén|allé|stigen|backen|backe|plan|platsen|"
    "leden|kajen|stråket|promenaden|liden|hagen|slingan"  # not -gången/-ringen: avgången 3, placeringen 2
)
_SV_PREFIX = r"(?:(?:Norra|Södra|Östra|Västra|Stora|Lilla|Gamla|Nya|Övre|Nedre|Sankt|S:t)\s+)?"
_SV_NUMBER = r"[1-9]\d{0,2}(?:[A-Za-z]|\s[A-H])?(?:\s?[-–]\s?[1-9]\d{0,2})?(?![\w])"
_SV_ADDRESS = re.compile(
    rf"(?<![\w])(?:{_SV_PREFIX}[{_SV_UP}][{_SV_LOW}]*(?:{_SV_SUFFIX})"  # Storgatan, Östra Långgatan
    rf"|(?:[{_SV_UP}][{_SV_LOW}]+\s+){{1,2}}(?:väg|gata|gränd|torg|plan|allé|backe))"  # Drottning Kristinas väg
    rf"\s+{_SV_NUMBER}"
)
# Planning documents, not places: "detaljplan 12", "Översiktsplan 2030" (years fail the number anyway).
_NOT_A_STREET = re.compile(
    r"(?:detalj|översikts|handlings|åtgärds|budget|affärs|verksamhets|tids?|miljö|skol|kommun|avfalls|vatten|"
    r"trafik|utvecklings|stads|arbets|jämställdhets|kris|beredskaps|kompetens|vånings?)plan\b",
    re.IGNORECASE,
)
_US_SUFFIX = (
    "Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Drive|Dr|Lane|Ln|Way|Court|Ct|Place|Pl|Terrace|Ter|"
    "Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq"
)
_US_ADDRESS = re.compile(
    r"(?<![\w$.,\-])[1-9]\d{0,5}[A-Z]?\s+(?:(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)\.?\s+)?"
    r"(?:[A-Z][a-z]+|\d{1,3}(?:st|nd|rd|th))(?:\s+[A-Z][a-z]+){0,2}"
    rf"\s+(?:{_US_SUFFIX})(?![\w])"
    r"(?:,?\s+(?:Apt|Suite|Ste|Unit)\.?\s*#?\w{1,5}(?![\w])|\s*#\s?\w{1,5}(?![\w]))?"
)


def _addresses(text: str) -> Iterator[Span]:
    for match in _SV_ADDRESS.finditer(text):
        if _NOT_A_STREET.search(match.group()):
            continue
        yield Span(match.start(), match.end(), DetectorKind.ADDRESS)
    for match in _US_ADDRESS.finditer(text):
        yield Span(match.start(), match.end(), DetectorKind.ADDRESS)


# --- Accounts a moderation list names ---------------------------------------------------------


def listed_parties(doc: Mapping[str, Any]) -> list[Span]:
    """Spans of a moderation record's `text` that name the accounts on the list; nothing for any other record.

    The text is one line per entry after a count (archive/connectors/moderation.py renders it): an
    account is the line's start (`@handle`, or the platform id of one without a handle) and its name in
    parentheses after it; a blocked list names its maker as `(a list by @handle)`. Only those places
    are looked at, so an id that is a short number is never found inside the count or another word."""
    if doc.get("kind") != "moderation":
        return []
    text = doc.get("text") or ""
    values: set[str] = set()
    for entry in (doc.get("moderation") or {}).get("entries") or []:
        if entry.get("keyword") is not None or entry.get("domain") is not None or entry.get("status_id"):
            continue
        handle = str(entry.get("handle") or "").lstrip("@")
        values.update(v for v in (f"@{handle}" if handle else str(entry.get("id") or ""), entry.get("name")) if v)
    found: list[Span] = []
    start = text.find("\n") + 1 if "\n" in text else len(text)  # past the count line
    for line in text[start:].split("\n"):
        for value in sorted(values, key=len, reverse=True):
            at = -1
            if line.startswith(value) and line[len(value) : len(value) + 1] in ("", " ", ","):
                at = 0
            elif f"({value})" in line:
                at = line.index(f"({value})") + 1
            elif f"by {value})" in line:
                at = line.index(f"by {value})") + 3
            if at >= 0:
                span = Span(start + at, start + at + len(value), DetectorKind.ACCOUNT)
                if all(span.end <= other.start or span.start >= other.end for other in found):
                    found.append(span)
        start += len(line) + 1
    return sorted(found)


# --- Putting it together --------------------------------------------------------------------

# More specific kinds first when two candidates cover the same length.
_PRIORITY = {
    DetectorKind.PERSONNUMMER: 0,
    DetectorKind.SAMORDNINGSNUMMER: 0,
    DetectorKind.EMAIL: 1,
    DetectorKind.PHONE: 2,
    DetectorKind.ADDRESS: 3,
    DetectorKind.ACCOUNT: 4,
    DetectorKind.MANUAL: 5,
}


_DIGIT = re.compile(r"\d")


def detect(text: str) -> list[Span]:
    """Spans of likely personal data in `text`: sorted by start, never overlapping."""
    detectors = [_emails] if "@" in text else []
    if _DIGIT.search(text):  # every other detector needs a digit
        detectors += [_identity_numbers, _phones, _addresses]
    candidates = [span for detector in detectors for span in detector(text)]
    candidates.sort(key=lambda s: (s.start - s.end, _PRIORITY[s.kind], s.start))
    chosen: list[Span] = []
    for span in candidates:
        if all(span.end <= other.start or span.start >= other.end for other in chosen):
            chosen.append(span)
    return sorted(chosen)


def value_sha256(value: str) -> str:
    """SHA-256 (lowercase hex) of a span's UTF-8 bytes: identifies a masked value without keeping it."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def suggest(record_id: str, field: str, text: str) -> list[MaskSuggestion]:
    """Detected spans of one record field as suggestions for review (values hashed, never kept)."""
    return [
        MaskSuggestion(
            record_id=record_id,
            field=field,
            start=s.start,
            end=s.end,
            kind=s.kind,
            value_sha256=value_sha256(text[s.start : s.end]),
        )
        for s in detect(text)
    ]


__all__ = ["Span", "detect", "listed_parties", "luhn_valid", "suggest", "value_sha256"]
