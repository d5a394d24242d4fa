"""What a requester receives holds nothing a masking decision hid: not in a URL, an id, an image's metadata.

Real connectors (X and Bluesky on the simulator) build a citizen's post URL from the handle, and a
Bluesky id holds the author's DID; a Mastodon reply is ingested by hand beside a photograph whose
EXIF names the camera's owner and the GPS position. The reviewer masks each citizen's name and
handle; then every file of the delivery (bytes, and the PDFs' text) is searched the way a
requester would search it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import ExifTags, Image
from pypdf import PdfReader

from archive import clock
from archive.access import open_audit
from archive.context import Archive
from archive.index.client import make_client
from archive.requests.casebook import CaseBook
from archive.requests.detect import detect
from archive.requests.masking import MARKER
from archive.requests.production import ProductionResult, produce
from archive.requests.verify import verify_package
from archive.requests.workflow import add_manual_mask, decide_masks, decide_media, new_case, run_case
from archive.usecases.requests import RequestDesk
from schemas import Account, Author, Capture, CaptureBundle, MediaAction, MediaRef, Record
from schemas.search import SavedSearch
from simulator import Simulator
from tests.contract.subjects import TOKEN, TOKEN_ENV, SocialSubject
from tests.harvesting import harvest_subject

pytestmark = pytest.mark.integration
T = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
OWNER, CAMERA, SERIAL = "Karin Grannen", "Pixel 9 Pro", "CAM-SN-4711"
CITIZEN = Author(id="109876", handle="karin_grannen@mastodon.example", name=OWNER, url=None)


def exif_photo() -> bytes:
    """A JPEG as a phone writes it: the owner, the camera and its serial, where it was taken."""
    exif = Image.Exif()
    exif[ExifTags.Base.Artist] = OWNER
    exif[ExifTags.Base.Model] = CAMERA
    exif[ExifTags.Base.BodySerialNumber] = SERIAL
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (62.0, 23.0, 30.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (17.0, 18.0, 0.0)
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "JPEG", exif=exif)
    return out.getvalue()


PHOTO = exif_photo()
PHOTO_SHA = hashlib.sha256(PHOTO).hexdigest()


def mastodon_bundles() -> list[CaptureBundle]:
    """The municipality's post with the photograph, and a citizen's reply from another instance."""

    def capture(url: str, body: bytes, ctype: str) -> Capture:
        return Capture(url=url, status=200, body=body, started_at=T, response_headers=[("Content-Type", ctype)])

    photo_url = "https://files.social.sundsvik.example/media/1.jpg"
    post = Record(
        platform="mastodon",
        account="sv-mastodon",
        item_id="1001",
        kind="post",
        direction="upprattad",
        text="Bygglovet för Solbacken: så här ser tomten ut.",
        author=Author(id="1", handle="sundsvik", name="Sundsviks kommun"),
        url="https://social.sundsvik.example/@sundsvik/1001",
        media=[MediaRef(url=photo_url, content_type="image/jpeg", sha256=PHOTO_SHA)],
        published_at=T,
        captured_at=T,
    )
    reply = Record(
        platform="mastodon",
        account="sv-mastodon",
        item_id="1002",
        kind="comment",
        direction="inkommen",
        parent_id="1001",
        thread_id="1001",
        text="Vi grannar överklagar bygglovet!",
        author=CITIZEN,
        url="https://mastodon.example/@karin_grannen/1002",
        published_at=T,
        captured_at=T,
    )
    api = "https://social.sundsvik.example/api/v1/statuses/"
    return [
        CaptureBundle(capture=capture(photo_url, PHOTO, "image/jpeg"), is_media=True),
        CaptureBundle(capture=capture(api + "1001", b'{"id": "1001"}', "application/json"), records=[post]),
        CaptureBundle(capture=capture(api + "1002", b'{"id": "1002"}', "application/json"), records=[reply]),
    ]


@pytest.fixture
def world(s3_settings: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Archive, CaseBook]]:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    arc = Archive(s3_settings)  # type: ignore[arg-type]
    book = CaseBook(make_client(arc.settings), arc.settings.es_index_prefix)
    with Simulator(posts=1, rate_limit=10**9, social_token=TOKEN) as sim:
        sim.apply([{"type": "clock.advance", "hours": 1}])
        for platform in ("x", "bluesky"):
            subject = SocialSubject(platform)
            post = subject.publish(sim, text="Bygglovet för Solbacken är beviljat.")
            subject.comment(sim, post, text="Vi grannar överklagar bygglovet!")
            harvest_subject(arc, sim, subject)
    account = Account(
        id="sv-mastodon",
        platform="mastodon",
        handle="sundsvik",
        display_name="Sundsvik on Mastodon",
        department="Kommunstyrelsen",
        retention_class="social-10y",
        base_url="https://social.sundsvik.example",
    )
    report = arc.pipeline().ingest(account, mastodon_bundles())
    assert not report.quarantined, report
    arc.index.refresh()
    yield arc, book
    book.destroy()
    arc.index.destroy()


def masked_case(arc: Archive, book: CaseBook) -> tuple[str, list[dict[str, Any]]]:
    """A case over all three platforms in which every citizen's name and handle is masked."""
    case = new_case(book, searches=[SavedSearch(q="bygglovet")], handler="registrator", now=clock.now())
    run = run_case(book, arc.index, case.id, spans=detect)
    assert run.by_platform == {"x": 2, "bluesky": 2, "mastodon": 2}, run
    decide_masks(book, case.id, accept=False, ground=None, by="granskare", now=clock.now())
    citizens = [arc.index.get(e.record_id) for e in book.entries(case.id, 1) if e.kind == "comment"]
    assert {d["platform"] for d in citizens} == {"x", "bluesky", "mastodon"}
    for doc in citizens:
        for field in ("name", "handle"):
            value = doc["author"][field]
            assert value, (doc["platform"], field)
            add_manual_mask(
                book,
                arc.index,
                case.id,
                record_id=doc["record_id"],
                field_path=f"author.{field}",
                start=0,
                end=len(value),
                ground="OSL 21:7",
                by="granskare",
                now=clock.now(),
            )
    return case.id, citizens


def export(arc: Archive, book: CaseBook, case_id: str, out: Path) -> ProductionResult:
    return produce(
        arc.settings,
        book,
        arc.index,
        arc.store,
        open_audit(arc.settings),
        case_id,
        out,
        by="registrator",
        now=clock.now(),
        bates_prefix="SOLB",
    )


def requester_view(delivery: Path) -> tuple[bytes, str]:
    """Every byte the requester receives, and every text they can read (PDF text extracted)."""
    raw, texts = b"", []
    for path in sorted(p for p in delivery.rglob("*") if p.is_file()):
        data = path.read_bytes()
        raw += data
        if path.suffix == ".pdf":
            texts.append("\n".join(page.extract_text() for page in PdfReader(path).pages))
        elif path.suffix in (".csv", ".jsonl", ".json", ".html", ".txt"):
            texts.append(data.decode("utf-8"))
    return raw, "\n".join(texts)


def secrets_of(doc: dict[str, Any]) -> set[str]:
    """What identifies the citizen: the name, the handle and its local part, a DID."""
    who = doc["author"]
    handle = who["handle"].lstrip("@")
    found = {who["name"], handle, handle.split("@")[0]}
    if str(who.get("id") or "").startswith("did:"):
        found.add(who["id"])
    return found


def test_no_masked_author_reaches_the_requester_by_url_id_or_image(
    world: tuple[Archive, CaseBook], tmp_path: Path
) -> None:
    arc, book = world
    case_id, citizens = masked_case(arc, book)
    # The archive itself has them in the URLs (and Bluesky in the ids): this is what must not leave.
    assert all(doc["author"]["handle"].split("@")[0].lower() in doc["url"].lower() for doc in citizens)

    result = export(arc, book, case_id, tmp_path / "p")
    assert result.delivery is not None and result.media_files == 1
    raw, text = requester_view(result.delivery)
    for doc in citizens:
        for secret in secrets_of(doc):
            assert secret.lower() not in text.lower(), (doc["platform"], secret)
            assert secret.encode() not in raw, (doc["platform"], secret)

    # The masked authors' URLs are withheld in every layer, with the ground of the mask that caused it.
    delivery = result.delivery / "data"
    rows = {r["item_key"]: r for r in csv.DictReader((delivery / "records.csv").open(encoding="utf-8"))}
    assert sum(1 for r in rows.values() if r["url"] == MARKER) == len(citizens)
    loadfile = list(csv.DictReader((delivery / "loadfile.csv").open(encoding="utf-8")))
    assert sum(1 for r in loadfile if r["URL"] == MARKER) == len(citizens)
    natives = [json.loads(p.read_text()) for p in (delivery / "natives").glob("*.json")]
    citizen_ids = {doc["record_id"] for doc in citizens}
    assert all(n["url"] == MARKER for n in natives if n["record_id"] in citizen_ids)
    assert any(n["record_id"] in citizen_ids for n in natives)
    decision = json.loads((delivery / "masking-decision.json").read_text())
    withheld = {(d["record_id"], d["field"]) for d in decision["withheld_fields"] if d["action"] == "withheld"}
    assert {(doc["record_id"], "url") for doc in citizens} <= withheld
    assert {d["ground"] for d in decision["withheld_fields"]} == {"OSL 21:7"}

    # The photograph: released re-encoded from its pixels, no EXIF, no GPS, no owner or serial.
    [photo] = (delivery / "media").iterdir()
    assert photo.name == f"{PHOTO_SHA}.jpg"
    released = photo.read_bytes()
    with Image.open(io.BytesIO(released)) as im:
        assert im.size == (64, 48) and not im.getexif() and "exif" not in im.info
    for planted in (OWNER, CAMERA, SERIAL):
        assert planted.encode() not in released
    assert b"Exif" not in released
    [media] = decision["media"]
    assert media["action"] == "strip-metadata" and media["ground"] == "OSL 21:7" and media["default"] is True
    # The original is kept unchanged for the authority, in the package's internal WARC only.
    import gzip

    assert PHOTO in gzip.decompress((tmp_path / "p/data/internal/records.warc.gz").read_bytes())

    # verify: the delivery is the release copy, file for file; an internal file slipped into it is named.
    assert verify_package(tmp_path / "p", arc.index, arc.store) == []
    shutil.copy(tmp_path / "p/data/internal/records.warc.gz", delivery / "records.warc.gz")
    problems = verify_package(tmp_path / "p", arc.index, arc.store)
    assert any(p.startswith("p-delivery: ") and "records.warc.gz" in p for p in problems), problems


def test_media_decisions_withhold_or_release_whole(world: tuple[Archive, CaseBook], tmp_path: Path) -> None:
    arc, book = world
    case_id, _ = masked_case(arc, book)
    decide_media(
        book,
        arc.index,
        case_id,
        media_sha256=PHOTO_SHA,
        action=MediaAction.WITHHOLD,
        ground="OSL 21:7",
        by="granskare",
        now=clock.now(),
    )
    desk = RequestDesk(arc, book, open_audit(arc.settings))
    [listed] = desk.media(case_id)  # what the case page lists, with the decision
    assert listed.sha256 == PHOTO_SHA and listed.decision is not None
    assert listed.decision.action is MediaAction.WITHHOLD
    withheld = export(arc, book, case_id, tmp_path / "withheld")
    assert withheld.delivery is not None and withheld.media_files == 0
    assert not (withheld.delivery / "data/media").exists()
    rows = list(csv.DictReader((withheld.delivery / "data/records.csv").open(encoding="utf-8")))
    assert [r["media"] for r in rows if r["item_key"] == "mastodon:sv-mastodon:1001"] == [MARKER]
    [entry] = json.loads((withheld.delivery / "data/masking-decision.json").read_text())["media"]
    assert entry["action"] == "withhold" and entry["reviewer"] == "granskare" and entry["released_as"] is None

    decide_media(
        book,
        arc.index,
        case_id,
        media_sha256=PHOTO_SHA,
        action=MediaAction.RELEASE,
        ground="the requester's own photograph",
        by="granskare",
        now=clock.now(),
    )
    whole = export(arc, book, case_id, tmp_path / "whole")
    assert whole.delivery is not None
    assert (whole.delivery / f"data/media/{PHOTO_SHA}.jpg").read_bytes() == PHOTO  # only by that decision


def test_a_media_decision_needs_a_ground_and_a_file_of_the_case(world: tuple[Archive, CaseBook]) -> None:
    arc, book = world
    case_id, _ = masked_case(arc, book)
    from archive.requests.casebook import CaseError

    with pytest.raises(CaseError, match="ground"):
        decide_media(
            book,
            arc.index,
            case_id,
            media_sha256=PHOTO_SHA,
            action=MediaAction.RELEASE,
            ground=" ",
            by="g",
            now=clock.now(),
        )
    with pytest.raises(CaseError, match="no record"):
        decide_media(
            book,
            arc.index,
            case_id,
            media_sha256="0" * 64,
            action=MediaAction.WITHHOLD,
            ground="OSL 21:7",
            by="g",
            now=clock.now(),
        )
