"""PDF renders: real text (å ä ö intact, masked values absent), emoji degrade, Bates numbers contiguous."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from archive.package import pdf as pdf_module
from archive.package.pdf import BatesCounter, PageSpan, PdfReport, Provenance, RecordView

T = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
SHA = "ab" * 32
LONG = " ".join(f"Mening {i} om vägarbetet på Storgatan, med åäö och ÅÄÖ." for i in range(180))


def _record(i: int, text: str) -> RecordView:
    return RecordView(
        platform="facebook",
        account="sundsvik",
        kind="comment" if i % 2 else "post",
        captured=T,
        author=f"Författare {i}",
        text=text,
        published=T if i % 3 else None,
        url=f"https://facebook.com/sundsvik/posts/{i}",
        provenance=Provenance("REQ-2026-0042.warc.gz", 395 + i * 1000, 420, SHA, f"<urn:uuid:{i}>"),
    )


def _pages(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


def _report(tmp_path: Path, bates: BatesCounter | None) -> tuple[Path, PdfReport, list[PageSpan]]:
    report = PdfReport("Begäran REQ-2026-0042 · Sundsviks kommun", bates=bates, created=T)
    report.title_page(
        "Utlämnande av allmänna handlingar",
        [
            ("Ärende", "REQ-2026-0042"),
            ("Beställare", "Örjan Åkesson"),
            ("Antal poster", "12"),
            ("Maskering", "personnummer maskerade enligt OSL 21:7"),
        ],
    )
    spans: list[PageSpan] = []
    report.section("Konto: sundsvik (facebook)")
    spans.append(report.add_record(_record(1, "Inlägg med åäö ÅÄÖ och ett party 🎉 och 👍🏽 och kvinna‍💻.")))
    spans.append(report.add_record(_record(2, "Ring mig på [MASKERAT] om bygglovet.")))
    spans.append(report.add_record(_record(3, LONG)))
    for i in range(4, 13):
        spans.append(report.add_record(_record(i, f"Kort kommentar nummer {i}: tack för informationen!")))
    report.section("Konto: sundsvik (instagram)")
    spans.append(report.add_record(_record(13, "Ελληνικά, кириллица, Łódź")))
    path = tmp_path / "render.pdf"
    return path, report, spans


def test_text_layer_holds_the_rendered_records(tmp_path: Path) -> None:
    path, report, _ = _report(tmp_path, BatesCounter("SUNDS", start=1))
    report.save(path)
    text = "\n".join(_pages(path))
    assert report.unicode
    for expected in (
        "Utlämnande av allmänna handlingar",
        "Örjan Åkesson",
        "Inlägg med åäö ÅÄÖ",
        "Författare 1",
        "Ring mig på [MASKERAT] om bygglovet.",
        "Ελληνικά, кириллица, Łódź",
        "facebook · sundsvik · post",
        "captured 2026-11-20 09:00 UTC",
        "published unknown",
        "REQ-2026-0042.warc.gz · offset 1395 · length 420",
        f"SHA-256: {SHA}",
        "[party popper]",
        "Mening 179 om vägarbetet",
    ):
        assert expected in text, expected
    assert "19810101-1234" not in text  # the caller masked it; nothing of it reaches the PDF
    assert "\U0001f389" not in text and "\u200d" not in text and "kvinna[personal computer]" in text


def test_bates_numbers_are_unique_contiguous_and_one_per_page(tmp_path: Path) -> None:
    counter = BatesCounter("SUNDS", start=41, digits=6)
    path, report, spans = _report(tmp_path, counter)
    saved = report.save(path)
    pages = _pages(path)
    stamps = [re.findall(r"SUNDS\d{6}", page) for page in pages]
    assert all(len(s) == 1 for s in stamps), stamps
    numbers = [int(s[0][5:]) for s in stamps]
    assert numbers == list(range(41, 41 + len(pages))) and len(pages) > 3
    assert (saved.first_bates, saved.last_bates, saved.pages) == (
        "SUNDS000041",
        f"SUNDS{40 + len(pages):06d}",
        len(pages),
    )
    long_record = spans[2]
    assert long_record.last > long_record.first  # the long text ran over pages
    assert report.bates_label(long_record.first) == f"SUNDS{40 + long_record.first:06d}"
    assert all("Begäran REQ-2026-0042 · Sundsviks kommun" in page for page in pages)  # running title
    # the next document of the production continues the numbering
    second = PdfReport("Del 2", bates=counter, created=T)
    second.add_record(_record(99, "Sista posten"))
    assert second.save(tmp_path / "part2.pdf").first_bates == f"SUNDS{41 + len(pages):06d}"


def test_without_bates_nothing_is_stamped(tmp_path: Path) -> None:
    path, report, _ = _report(tmp_path, None)
    saved = report.save(path)
    assert saved.first_bates is None and not re.search(r"SUNDS\d", "".join(_pages(path)))
    with pytest.raises(RuntimeError):
        report.save(tmp_path / "again.pdf")


def test_without_a_unicode_font_latin1_survives_and_the_fallback_is_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pdf_module, "FONT_CANDIDATES", ())
    path, report, _ = _report(tmp_path, BatesCounter("S"))
    report.save(path)
    text = "\n".join(_pages(path))
    assert not report.unicode
    assert "Inlägg med åäö ÅÄÖ" in text and "Lódz" in text and "[party popper]" in text
    assert "core Helvetica" in text


def test_bates_counter_refuses_overflow() -> None:
    counter = BatesCounter("X", start=99, digits=2)
    assert counter.take() == "X99"
    with pytest.raises(OverflowError):
        counter.take()
