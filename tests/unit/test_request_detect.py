"""Personal-data suggestions: identity numbers with real checksums, phones, e-mail, addresses; no noise."""

from __future__ import annotations

import random
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from archive.requests.detect import detect, luhn_valid, suggest, value_sha256
from schemas import DetectorKind
from tests.waiting import HANG_GUARD_S

REPO = Path(__file__).resolve().parents[2]


def check_digit(nine: str) -> str:
    """Luhn check digit for YYMMDDNNN, computed here independently of the code under test."""
    total = 0
    for i, char in enumerate(nine):
        n = int(char) * (2 if i % 2 == 0 else 1)
        total += n // 10 + n % 10
    return str((10 - total % 10) % 10)


def pnr(born: date, serial: str = "238", *, samordning: bool = False) -> str:
    """A valid ten-digit personnummer (or samordningsnummer) without separator."""
    day = born.day + (60 if samordning else 0)
    nine = f"{born:%y%m}{day:02d}{serial}"
    return nine + check_digit(nine)


def wrong_check(number: str) -> str:
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def found(text: str) -> list[tuple[str, str]]:
    return [(text[s.start : s.end], s.kind.value) for s in detect(text)]


def test_generated_numbers_are_valid_by_construction() -> None:
    assert pnr(date(1981, 12, 18), "987") == "8112189876"  # Skatteverket's own example number
    assert luhn_valid("8112189876") and not luhn_valid("8112189875")


@pytest.mark.parametrize("form", ["{s}-{n}", "{s}{n}", "19{s}-{n}", "19{s}{n}", "{s}+{n}"])
def test_personnummer_in_all_written_forms(form: str) -> None:
    number = pnr(date(1974, 3, 9), "412")
    written = form.format(s=number[:6], n=number[6:])
    text = f"Hej! Mitt personnummer är {written}, ring mig."
    assert found(text) == [(written, "personnummer")]


def test_many_random_valid_numbers_are_found_and_broken_ones_are_not() -> None:
    rng = random.Random(6)
    for _ in range(300):
        born = date(1930, 1, 1) + timedelta(days=rng.randrange(365 * 90))
        number = pnr(born, f"{rng.randrange(1000):03d}")
        good = f"pnr {number[:6]}-{number[6:]} här"
        assert found(good) == [(good[4:15], "personnummer")], good
        bad = wrong_check(number)
        assert [k for _, k in found(f"pnr {bad[:6]}-{bad[6:]} här")] == [], bad


def test_samordningsnummer_is_day_plus_sixty() -> None:
    number = pnr(date(1990, 5, 28), "114", samordning=True)
    assert number[4:6] == "88"
    text = f"Samordningsnummer {number[:6]}-{number[6:]}."
    assert found(text) == [(f"{number[:6]}-{number[6:]}", "samordningsnummer")]
    assert found(f"Samordningsnummer {wrong_check(number)}.") == []


@pytest.mark.parametrize(
    "nine",
    [
        "811332123",  # month 13
        "810230123",  # 30 February
        "810931123",  # 31 September
        "812000123",  # day 0
        "811292123",  # samordningsnummer day 32 + 60
        "212000135",  # organisation number (month 20): public, not personal data
    ],
)
def test_impossible_dates_are_rejected_even_with_a_valid_checksum(nine: str) -> None:
    number = nine + check_digit(nine)
    assert found(f"nr {number[:6]}-{number[6:]} och {number}") == []


def test_leap_day() -> None:
    leap = pnr(date(2000, 2, 29), "123")
    assert found(f"20{leap}") == [(f"20{leap}", "personnummer")]
    not_leap = "010229123" + check_digit("010229123")  # 2001 (or 1901): no 29 February
    assert found(f"20{not_leap}") == []


def test_swedish_phone_numbers() -> None:
    text = (
        "Ring 070-123 45 67 eller 0701234567, växeln 08-123 456 78, Göteborg 031-12 34 56 "
        "eller (0470) 123 45, utomlands +46 70 123 45 67 och +46 (0)8-123 456 78."
    )
    assert [v for v, k in found(text) if k == "phone"] == [
        "070-123 45 67",
        "0701234567",
        "08-123 456 78",
        "031-12 34 56",
        "(0470) 123 45",
        "+46 70 123 45 67",
        "+46 (0)8-123 456 78",
    ]


def test_us_phone_numbers() -> None:
    text = "Call (555) 123-4567, 206-555-0199, 206.555.0199, +1 206 555 0199 or 1-800-555-1234 today."
    assert found(text) == [
        (v, "phone") for v in ["(555) 123-4567", "206-555-0199", "206.555.0199", "+1 206 555 0199", "1-800-555-1234"]
    ]


def test_emails() -> None:
    text = "Mejla anna.svensson@example.se. Or write to J.Doe+records@mail.city.example.gov, not @anna@mastodon.social"
    assert found(text) == [("anna.svensson@example.se", "email"), ("J.Doe+records@mail.city.example.gov", "email")]


def test_swedish_addresses() -> None:
    text = (
        "Jag bor på Storgatan 12 och flyttar till Östra Långgatan 3B. Hämta på Kungsvägen 5 A, "
        "Lövstigen 14-16, Stortorget 2, Drottning Kristinas väg 5 eller Ekbacken 1."
    )
    assert [v for v, k in found(text) if k == "address"] == [
        "Storgatan 12",
        "Östra Långgatan 3B",
        "Kungsvägen 5 A",
        "Lövstigen 14-16",
        "Stortorget 2",
        "Drottning Kristinas väg 5",
        "Ekbacken 1",
    ]


def test_us_addresses() -> None:
    text = "I live at 123 Main St, Apt 4B. The office is 4500 N Oak Avenue and 77 5th Street."
    assert [v for v, k in found(text) if k == "address"] == [
        "123 Main St, Apt 4B",
        "4500 N Oak Avenue",
        "77 5th Street",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Mötet hålls 2026-11-27 kl. 14:30 eller 14.30–16.00.",
        "Sista dag 27/11/2026, 27.11.2026, 08-11-2026 eller 08 11 2026.",
        "Biljetten kostar 1 200 kr, bygget 12 500 000 kr, tomten $1,200.00 och 1.200,00 €.",
        "Kommunen grundades 1863 och budgeten för 2026 är klar; se 1990–2026.",
        "Detaljplan 12 och Översiktsplan 2030 antogs i paragraf 118, dnr KS 2026/123.",
        "Kommunens organisationsnummer är 212000-0555.",
        "Vi har öppet 08-17 och ringer 2 gånger, rum 301, buss 4 mot centrum.",
        "Meeting on 11/27/2026 at 7:30 pm, budget $12,500,000, population 2,300,415.",
    ],
)
def test_no_false_positives(text: str) -> None:
    assert found(text) == []


def test_spans_are_sorted_non_overlapping_and_exact() -> None:
    number = pnr(date(1985, 7, 1), "601")
    text = f"{number}@example.se och {number[:6]}-{number[6:]}, tel 070-123 45 67, Storgatan 1"
    spans = detect(text)
    assert spans == sorted(spans)
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:], strict=False))
    assert [s.kind for s in spans] == [
        DetectorKind.EMAIL,
        DetectorKind.PERSONNUMMER,
        DetectorKind.PHONE,
        DetectorKind.ADDRESS,
    ]


def test_suggestions_carry_a_hash_not_the_value() -> None:
    number = pnr(date(1962, 2, 14), "331")
    text = f"pnr {number}"
    [suggestion] = suggest("rec1", "text", text)
    assert suggestion.value_sha256 == value_sha256(number)
    assert number not in suggestion.model_dump_json()


def test_ten_thousand_records() -> None:
    number = pnr(date(1981, 12, 18), "987")
    texts = [
        f"Inlägg {i}: Tack för svaret! Ring 070-{i % 1000:03d} 45 67 eller mejla a{i}@example.se, "
        f"mötet 2026-11-27 kl 14:30 kostar 1 200 kr. {number[:6]}-{number[6:]} Storgatan {i % 90 + 1}"
        for i in range(10_000)
    ]
    assert sum(len(detect(t)) for t in texts) == 40_000


#: 200 kB of each shape the detectors' quantifiers could fight over (digits and separators,
#: e-mail local parts and domains, capitalised words before a street number, US house numbers).
#: Each is read by every detector (see SUFFIX), not only the one it is aimed at.
_SIZE = 200_000
BACKTRACKING_BAIT = {
    "digits": "1" * _SIZE,
    "mobile and spaces": "07" + " 1" * (_SIZE // 2),
    "digits and dashes": "1-" * (_SIZE // 2),
    "+46 and spaces": "+46 " + "1 " * (_SIZE // 2),
    "date-shaped": "1/" * (_SIZE // 2),
    "pnr-shaped": "19" * (_SIZE // 2),
    "e-mail, no dot": "a@" + "b" * _SIZE,
    "e-mail, digit tld": "a@" + "b." * (_SIZE // 2) + "1",
    "e-mail, dotted local": "a." * (_SIZE // 2),
    "e-mail, hyphens": "a@b" + "-" * _SIZE,
    "e-mail, many @": "a@" * (_SIZE // 2),
    "capitalised words": "Ab " * (_SIZE // 3),
    "street names": "Storgatan " * (_SIZE // 10),
    "one long word": "A" + "a" * _SIZE,
    "US street words": "1 " + "Abc " * (_SIZE // 4),
    "US numbers": "1 " * (_SIZE // 2),
}


_READ_BAIT = """
import sys
from archive.requests.detect import detect
from tests.unit.test_request_detect import BACKTRACKING_BAIT, SUFFIX
for shape, text in BACKTRACKING_BAIT.items():
    print(shape, len(detect(text + SUFFIX)), flush=True)
"""
SUFFIX = " @ 1"  # a digit and an @: every detector reads every bait (detect() skips those that cannot match)


def test_no_runaway_backtracking() -> None:
    """Structural, not timed: linear matching reads all the bait in seconds, while catastrophic
    (exponential) backtracking on it would not end in any lifetime (and quadratic would need some
    10^10 steps per shape: minutes, which shows). So nothing is measured; the only limit is the
    hang guard, reached only if matching never ends (a bug). It needs a child process: `re` holds
    the GIL while it matches, so no thread could stop it. The child names each shape as it is done,
    so a hang names its shape. Such bait yields no suggestion: none of it is personal data."""
    child = subprocess.Popen([sys.executable, "-c", _READ_BAIT], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        out, _ = child.communicate(timeout=HANG_GUARD_S)
    except subprocess.TimeoutExpired:
        child.kill()
        out, _ = child.communicate()
        done = [line.rsplit(" ", 1)[0] for line in out.splitlines()]
        stuck = next(shape for shape in BACKTRACKING_BAIT if shape not in done)
        pytest.fail(f"detect() never finished on {stuck!r} (hang guard {HANG_GUARD_S:.0f} s): runaway backtracking")
    assert child.returncode == 0
    assert out.splitlines() == [f"{shape} 0" for shape in BACKTRACKING_BAIT]
