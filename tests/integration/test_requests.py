"""A public-records request end to end on harvested simulator data, real Elasticsearch and MinIO."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import bagit
import pytest
from pypdf import PdfReader

from archive import clock
from archive.access import open_audit
from archive.context import Archive
from archive.index.client import make_client
from archive.requests.casebook import CaseBook, CaseError
from archive.requests.detect import detect
from archive.requests.production import produce
from archive.requests.verify import verify_package
from archive.requests.workflow import decide_masks, new_case, review_record, run_case
from schemas.search import SavedSearch
from simulator import Simulator
from tests.conftest import warcio_check
from tests.contract.subjects import TOKEN, TOKEN_ENV, SocialSubject
from tests.harvesting import EMAIL, PHONE, PLANTED, PNR, harvest_subject

pytestmark = pytest.mark.integration
FB = SocialSubject("facebook")


@pytest.fixture
def world(s3_settings: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Archive, CaseBook]]:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    arc = Archive(s3_settings)  # type: ignore[arg-type]
    book = CaseBook(make_client(arc.settings), arc.settings.es_index_prefix)
    with Simulator(posts=2, rate_limit=10**9, social_token=TOKEN) as sim:
        sim.apply([{"type": "clock.advance", "hours": 1}])
        post = FB.publish(sim, text="Bygglovet för Solbacken är beviljat. Frågor? Ring kommunen.", images=1)
        FB.comment(
            sim,
            post,
            text=f"Jag bor granne, mitt personnummer är {PNR}, ring mig på {PHONE} "
            f"eller mejla {EMAIL}. Vi överklagar bygglovet!",
        )
        harvest_subject(arc, sim, FB)
    arc.index.es.indices.refresh(index=arc.index.alias)
    yield arc, book
    book.destroy()
    arc.index.destroy()


def release_texts(package: Path) -> dict[str, str]:
    """Every text layer handed to the requester: HTML, CSV, JSONL, PDF text, text files, natives."""
    out = {}
    for path in sorted((package / "data" / "release").rglob("*")):
        if path.suffix in (".html", ".csv", ".jsonl", ".txt", ".json"):
            out[str(path)] = path.read_text(encoding="utf-8")
        elif path.suffix == ".pdf":
            out[str(path)] = "\n".join(page.extract_text() for page in PdfReader(path).pages)
    return out


def test_anonymous_request_from_case_to_verified_package(world: tuple[Archive, CaseBook], tmp_path: Path) -> None:
    arc, book = world
    audit = open_audit(arc.settings)
    case = new_case(
        book,
        searches=[SavedSearch(q="bygglovet")],
        handler="registrator",
        now=clock.now(),
        request_text="Alla inlägg och kommentarer om bygglovet för Solbacken",
    )
    assert case.requester is None
    run = run_case(book, arc.index, case.id, spans=detect)
    assert run.snapshot == 1 and run.total == 2 and run.by_platform == {"facebook": 2}
    assert run.suggestions >= 3

    comment = next(d for d in arc.index.scan({"term": {"kind": "comment"}}) if PNR in d["text"])
    digest_before = comment["content_sha256"], comment["warc"]["sha256"]

    with pytest.raises(CaseError, match="unreviewed"):
        produce(arc.settings, book, arc.index, arc.store, audit, case.id, tmp_path / "refused", by="r", now=clock.now())
    with pytest.raises(CaseError, match="ground"):
        decide_masks(book, case.id, accept=True, ground="", by="granskare", now=clock.now())
    assert decide_masks(book, case.id, accept=True, ground="OSL 21:7", by="granskare", now=clock.now()) >= 3

    package = tmp_path / "package"
    result = produce(
        arc.settings,
        book,
        arc.index,
        arc.store,
        audit,
        case.id,
        package,
        by="registrator",
        now=clock.now(),
        bates_prefix="SOLB",
    )
    assert result.records == 2 and result.masked_spans >= 3 and result.media_files == 1

    # A valid bag, a valid WARC, a valid WACZ.
    bagit.Bag(str(package)).validate()
    assert warcio_check(package / "data/internal/records.warc.gz").returncode == 0
    wacz = subprocess.run(
        [sys.executable, "-m", "wacz.main", "validate", "-f", str(package / "data/internal/records.wacz")],
        capture_output=True,
        text=True,
    )
    assert wacz.returncode == 0, wacz.stdout + wacz.stderr

    # Nothing planted is in any released layer; the originals are kept unmasked and unchanged.
    texts = release_texts(package)
    assert any(path.endswith(".pdf") for path in texts)
    for path, text in texts.items():
        for value in PLANTED:
            assert value not in text, (value, path)
    assert "Vi överklagar bygglovet" in texts[str(package / "data/release/records.csv")]
    with (package / "data/internal/records.warc.gz").open("rb") as fh:
        import gzip

        assert PNR.encode() in gzip.decompress(fh.read())
    after = arc.index.get(comment["record_id"])
    assert (after["content_sha256"], after["warc"]["sha256"]) == digest_before
    decision = json.loads((package / "data/internal/masking-decision.json").read_text())
    assert {s["ground"] for s in decision["masked_spans"]} == {"OSL 21:7"}
    assert all(v not in json.dumps(decision) for v in PLANTED)

    # Bates: contiguous, every load-file path exists; custody has capture and export per record.
    import csv

    rows = list(csv.DictReader((package / "data/release/loadfile.csv").open(encoding="utf-8")))
    numbers = [int(r[k][4:]) for r in rows for k in ("BEGBATES", "ENDBATES")]
    assert numbers[0] == 1 and all(b - a in (0, 1) for a, b in zip(numbers, numbers[1:], strict=False))
    assert all(
        (package / "data/release" / r[k]).is_file() for r in rows for k in ("NATIVELINK", "TEXTLINK", "IMAGELINK")
    )
    stamped = texts[str(package / "data/release" / rows[0]["IMAGELINK"])]
    assert rows[0]["BEGBATES"] in stamped and rows[-1]["ENDBATES"] in stamped
    events = [json.loads(line) for line in (package / "data/internal/chain-of-custody.jsonl").open()]
    assert {e["event"] for e in events} >= {"capture", "export"}

    # verify: clean, then a flipped byte is found and its file named.
    assert verify_package(package, arc.index, arc.store) == []
    target = package / "data/release/records.csv"
    data = bytearray(target.read_bytes())
    data[10] ^= 0x20
    target.write_bytes(bytes(data))
    problems = verify_package(package, arc.index, arc.store)
    assert problems and all("records.csv" in p or "Oxum" in p for p in problems)


def test_exclusion_and_rerun_snapshot(world: tuple[Archive, CaseBook]) -> None:
    arc, book = world
    case = new_case(book, searches=[SavedSearch(q="bygglovet")], handler="h", now=clock.now(), requester="Anna A")
    first = run_case(book, arc.index, case.id, spans=detect)
    rid = sorted(e.record_id for e in book.entries(case.id, 1))[0]
    with pytest.raises(CaseError, match="reason"):
        review_record(book, case.id, rid, include=False, reason=" ", by="h", now=clock.now())
    review_record(book, case.id, rid, include=False, reason="utanför begäran", by="h", now=clock.now())
    assert [e.included for e in book.entries(case.id, 1) if e.record_id == rid] == [False]
    second = run_case(book, arc.index, case.id, spans=detect)
    assert second.snapshot == 2 and second.total == first.total and not second.added and not second.removed
    assert rid in book.open_record_ids()
    # Found again, a decided suggestion keeps its decision.
    decide_masks(book, case.id, accept=False, ground=None, by="h", now=clock.now())
    run_case(book, arc.index, case.id, spans=detect)
    assert all(m.status != "pending" for m in book.masks(case.id))


def test_a_case_needs_a_search(world: tuple[Archive, CaseBook]) -> None:
    _, book = world
    with pytest.raises(CaseError):
        new_case(book, searches=[SavedSearch()], handler="h", now=clock.now())


def test_hash_of_package_warc_members_matches_archive(world: tuple[Archive, CaseBook], tmp_path: Path) -> None:
    arc, book = world
    case = new_case(book, searches=[SavedSearch(q="Solbacken")], handler="h", now=clock.now())
    run_case(book, arc.index, case.id, spans=detect)
    decide_masks(book, case.id, accept=False, ground=None, by="h", now=clock.now())
    produce(
        arc.settings,
        book,
        arc.index,
        arc.store,
        open_audit(arc.settings),
        case.id,
        tmp_path / "p",
        by="h",
        now=clock.now(),
    )
    import csv

    for row in csv.DictReader((tmp_path / "p/data/internal/hash-report.csv").open()):
        key = arc.index.get(row["record_id"])["warc_key"]
        stored = arc.store.get_range(key, int(row["offset"]), int(row["length"]))
        assert hashlib.sha256(stored).hexdigest() == row["sha256_at_export"] == row["sha256_at_capture"]
