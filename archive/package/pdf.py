"""PDF renders of produced records (US-11's "image" form), with a real text layer and Bates stamps.

Text is written as text (never as an image) so a requester can search it and a test can prove
a masked value is absent from it. Unicode needs an embedded TrueType font: DejaVu Sans (Debian
`fonts-dejavu-core`) covers Latin, Greek, Cyrillic and more; without it the PDF falls back to a
core font (Latin-1: å ä ö survive, other letters are transliterated) and says so on the title
page. Characters the font has no glyph for (emoji, most often) are written as their Unicode
name in brackets, e.g. `[party popper]`, instead of a blank box: the render stays readable and
the native WARC record keeps the original.

Bates numbers (prefix + zero-padded number, one per page, stamped in the footer) come from a
`BatesCounter` that can be shared by several documents, so a production numbered across many
PDFs stays unique and contiguous. fpdf2 keeps a document's pages in memory until it is saved:
records are fed one at a time, and a large production is split into several documents (one
per record or per thread, as US-11's per-document renders want) rather than one huge file.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from .. import clock
from ..version import SOFTWARE

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
#: (regular, bold) TrueType files tried in order; Debian package fonts-dejavu-core.
FONT_CANDIDATES = ((FONT_DIR / "DejaVuSans.ttf", FONT_DIR / "DejaVuSans-Bold.ttf"),)
FALLBACK_NOTE = (
    "Font: core Helvetica (no Unicode font found); characters outside Latin-1 are transliterated "
    "or written as their Unicode name."
)
_FAMILY = "body"
_KEEP = {"\n", "\t"}
_BOLD = FontFace(emphasis="BOLD")
_SKIN_TONES = (0x1F3FB, 0x1F3FF)
#: Letters NFKD does not decompose to ASCII, for the core-font fallback.
_LATIN = str.maketrans(
    {
        "Ł": "L",
        "ł": "l",
        "Đ": "D",
        "đ": "d",
        "Œ": "OE",
        "œ": "oe",
        "ı": "i",
        "Ŋ": "N",
        "ŋ": "n",
        "Ħ": "H",
        "ħ": "h",
        "–": "-",
        "—": "-",
        "‘": "'",
        "’": "'",
        "“": '"',
        "”": '"',
        "…": "...",
        "€": "EUR",
    }
)


def _translit(ch: str) -> str:
    """A Latin-1 stand-in for `ch` (ś → s, Ł → L), or "" when there is none (Greek, emoji …)."""
    mapped = ch.translate(_LATIN)
    if mapped != ch:
        return mapped
    return unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()


class BatesCounter:
    """Hands out Bates labels (`prefix` + `digits`-wide number), one per page, never twice."""

    def __init__(self, prefix: str, start: int = 1, digits: int = 6) -> None:
        if start < 0 or digits < 1:
            raise ValueError("Bates numbers start at 0 or more and have at least one digit")
        self.prefix, self.next, self.digits = prefix, start, digits

    def take(self) -> str:
        label = f"{self.prefix}{self.next:0{self.digits}d}"
        if len(label) - len(self.prefix) > self.digits:
            raise OverflowError(f"Bates number {self.next} does not fit in {self.digits} digits")
        self.next += 1
        return label


@dataclass(frozen=True)
class Provenance:
    """Where the rendered record's bytes are: the produced WARC file, the offset and the SHA-256."""

    warc_file: str
    offset: int
    length: int
    sha256: str
    record_id: str = ""


@dataclass(frozen=True)
class RecordView:
    """What is printed of one record; the caller applies masking before it gets here."""

    platform: str
    account: str
    kind: str
    captured: datetime
    author: str
    text: str
    provenance: Provenance
    published: datetime | None = None
    url: str = ""


@dataclass(frozen=True)
class PageSpan:
    """The pages (1-based, within the document) one record was printed on."""

    first: int
    last: int


@dataclass(frozen=True)
class SavedPdf:
    path: Path
    pages: int
    bytes: int
    sha256: str
    #: First and last Bates label, or None when the document is not stamped.
    first_bates: str | None
    last_bates: str | None


def _when(moment: datetime | None) -> str:
    return "unknown" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


class _Document(FPDF):
    """fpdf2 with the running title in the header and the Bates stamp in the footer."""

    def __init__(self, running_title: str, bates: BatesCounter | None, family: str) -> None:
        super().__init__(format="A4")
        self.running_title, self.bates, self.family = running_title, bates, family
        self.labels: list[str] = []

    def header(self) -> None:
        self.set_font(self.family, "", 8)
        self.set_text_color(90)
        self.cell(0, 5, self.running_title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0)
        self.ln(3)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.family, "", 8)
        self.cell(0, 5, f"{self.page_no()}", align="L")
        if self.bates is not None:
            label = self.bates.take()
            self.labels.append(label)
            self.set_x(self.l_margin)
            self.set_font(self.family, "B", 9)
            self.cell(0, 5, label, align="R")


class PdfReport:
    """One PDF: `title_page`, then `section`s and `add_record`s, then `save` (once)."""

    def __init__(
        self,
        title: str,
        *,
        bates: BatesCounter | None = None,
        font: tuple[Path, Path] | None = None,
        created: datetime | None = None,
    ) -> None:
        chosen = font or next(((r, b) for r, b in FONT_CANDIDATES if r.is_file() and b.is_file()), None)
        self.unicode = chosen is not None
        self._pdf = _Document(title, bates, _FAMILY if chosen else "helvetica")
        if chosen is not None:
            self._pdf.add_font(_FAMILY, "", str(chosen[0]))
            self._pdf.add_font(_FAMILY, "B", str(chosen[1]))
        self._pdf.running_title = self.printable(title)
        self._pdf.set_title(self.printable(title))
        self._pdf.set_creator(SOFTWARE)
        self._pdf.set_creation_date(created or clock.now())
        self._pdf.set_auto_page_break(True, margin=18)
        self._saved: SavedPdf | None = None

    def printable(self, text: str) -> str:
        """`text` with every character the font cannot draw replaced by its bracketed Unicode name."""
        font = self._pdf.fonts.get(_FAMILY) if self.unicode else None
        cmap = getattr(font, "cmap", None)
        out: list[str] = []
        for ch in text:
            drawable = ord(ch) in cmap if cmap is not None else ord(ch) < 256
            category = unicodedata.category(ch)
            if ch in _KEEP:
                out.append(ch)
            elif category == "Cc":
                out.append(" ")
            elif category == "Cf" or _SKIN_TONES[0] <= ord(ch) <= _SKIN_TONES[1] or (category == "Mn" and not drawable):
                continue  # joiners, variation selectors, skin tones, marks: nothing to read in a render
            elif drawable:
                out.append(ch)
            elif cmap is None and (latin := _translit(ch)):
                out.append(latin)
            else:
                out.append(f"[{unicodedata.name(ch, f'U+{ord(ch):04X}').lower()}]")
        return "".join(out)

    def _font(self, size: float, bold: bool = False) -> None:
        self._pdf.set_font(self._pdf.family, "B" if bold else "", size)

    def _write(self, text: str, size: float = 10, bold: bool = False, height: float = 5) -> None:
        self._font(size, bold)
        self._pdf.multi_cell(0, height, self.printable(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def title_page(self, heading: str, rows: Sequence[tuple[str, str]]) -> None:
        """A page with `heading` and a key/value table (request id, requester, dates, counts …)."""
        pdf = self._pdf
        pdf.add_page()
        self._write(heading, 18, bold=True, height=9)
        pdf.ln(4)
        notes = [] if self.unicode else [("Note", FALLBACK_NOTE)]
        self._font(10)
        with pdf.table(col_widths=(45, 135), text_align="LEFT", first_row_as_headings=False, line_height=6) as table:
            for key, value in [*rows, *notes]:
                row = table.row()
                row.cell(self.printable(key), style=_BOLD)
                row.cell(self.printable(value))

    def section(self, heading: str) -> None:
        """Starts a new page with a heading (one account, one thread, one document …)."""
        self._pdf.add_page()
        self._write(heading, 14, bold=True, height=7)
        self._pdf.ln(2)

    def add_record(self, record: RecordView) -> PageSpan:
        """Print one record: header line, author, text, provenance; returns the pages it took."""
        pdf = self._pdf
        if pdf.page == 0:
            pdf.add_page()
        if pdf.get_y() > pdf.page_break_trigger - 35:  # keep the header with the start of the text
            pdf.add_page()
        first = pdf.page_no()
        head = " · ".join(
            [
                record.platform,
                record.account,
                record.kind,
                f"published {_when(record.published)}",
                f"captured {_when(record.captured)}",
            ]
        )
        self._write(head, 8, bold=True, height=4.5)
        self._write(f"Author: {record.author}", 9)
        if record.url:
            self._write(f"URL: {record.url}", 8, height=4)
        pdf.ln(1.5)
        self._write(record.text or "(no text)", 10)
        pdf.ln(1.5)
        prov = record.provenance
        self._write(f"WARC: {prov.warc_file} · offset {prov.offset} · length {prov.length}", 7, height=3.5)
        self._write(f"SHA-256: {prov.sha256}", 7, height=3.5)
        if prov.record_id:
            self._write(f"WARC-Record-ID: {prov.record_id}", 7, height=3.5)
        pdf.ln(2)
        pdf.set_draw_color(180)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
        pdf.ln(3)
        return PageSpan(first, pdf.page_no())

    def bates_label(self, page: int) -> str | None:
        """The Bates label stamped on `page` (1-based); known once the document is saved."""
        if self._saved is None:
            raise RuntimeError("Bates labels are stamped when the document is saved")
        labels = self._pdf.labels
        return labels[page - 1] if labels else None

    def save(self, path: Path) -> SavedPdf:
        """Write the PDF (stamping the last page) and return its pages, digest and Bates range."""
        if self._saved is not None:
            raise RuntimeError("the document is already saved")
        if self._pdf.page == 0:
            self._pdf.add_page()
        data = bytes(self._pdf.output())
        with path.open("xb") as fh:
            fh.write(data)
        labels = self._pdf.labels
        self._saved = SavedPdf(
            path,
            self._pdf.pages_count,
            len(data),
            hashlib.sha256(data).hexdigest(),
            labels[0] if labels else None,
            labels[-1] if labels else None,
        )
        return self._saved
