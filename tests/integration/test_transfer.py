"""Transfer to the e-archive: the E-ARK SIP validates against the official METS schema, and every checksum matches.

The schemas come from the E-ARK validator's package (eark-validator on PyPI ships the official
METS XSD of the Library of Congress with the DILCIS CSIP/SIP extension schemas); loc.gov itself
cannot be reached from here. Its schematron checks fetch vocabularies over the network at import,
so only its structure check runs; the CSIP rules that matter here (checksums on every file and
metadata reference, the CSIP structMap) are checked below.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from importlib_resources import files
from lxml import etree

from archive.context import Archive
from archive.index.client import make_client
from archive.preservation.premis import PremisLog
from archive.transfer import build_transfer
from schemas.premis import PremisEventType
from tests.conftest import warcio_check
from tests.integration.test_fixity import SHARED_PREFIX, empty_stream, ingest_samples

M = "{http://www.loc.gov/METS/}"
XLINK = "{http://www.w3.org/1999/xlink}href"
PREMIS = "{http://www.loc.gov/premis/v3}"


def sip_schema() -> etree.XMLSchema:
    import eark_validator.ipxml.resources.schema as schema_dir

    # mets.sip.local imports the official mets.xsd, xlink.xsd and the DILCIS CSIP and SIP extensions.
    return etree.XMLSchema(file=str(files(schema_dir).joinpath("mets.sip.local.v2-0.xsd")))


@pytest.fixture
def premis(local_archive: Archive) -> Iterator[PremisLog]:
    log = PremisLog(make_client(local_archive.settings), f"{SHARED_PREFIX}-premis")
    yield log
    empty_stream(log)


def checksum_problems(package: Path) -> list[str]:
    """Every file and metadata reference in METS.xml: present, SIZE and SHA-256 as stated."""
    mets = etree.parse(str(package / "METS.xml")).getroot()
    problems, refs = [], []
    for el in mets.iter(M + "file"):
        refs.append((el, el.find(M + "FLocat").get(XLINK)))
    for el in mets.iter(M + "mdRef"):
        refs.append((el, el.get(XLINK)))
    for el, href in refs:
        path = package / href
        if el.get("CHECKSUMTYPE") != "SHA-256" or not el.get("CHECKSUM"):
            problems.append(f"{href}: no SHA-256 checksum")
        elif not path.is_file():
            problems.append(f"{href}: missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != el.get("CHECKSUM"):
            problems.append(f"{href}: checksum differs")
        elif path.stat().st_size != int(el.get("SIZE", "-1")):
            problems.append(f"{href}: size differs")
    listed = {href for _, href in refs} | {"METS.xml"}
    on_disk = {p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file()}
    problems += [f"{p}: not in METS.xml" for p in sorted(on_disk - listed)]
    return problems


def test_transfer_package_validates_and_every_checksum_matches(
    local_archive: Archive, premis: PremisLog, tmp_path: Path
) -> None:
    arc = local_archive
    stored = ingest_samples(arc)
    result = build_transfer(
        arc.settings, arc.store, arc.index, premis, tmp_path / "out", retention_class="social-10y", by="os:archivist"
    )
    package = result.directory
    total = arc.index.count({"term": {"retention_class": "social-10y"}})
    assert result.records == total > 0

    schema = sip_schema()
    mets = etree.parse(str(package / "METS.xml"))
    assert schema.validate(mets), schema.error_log
    from eark_validator import structure

    well_formed, report = structure.validate(package)
    assert well_formed and not [m for m in report.messages if m.severity.value == "Error"], report.messages
    root = mets.getroot()
    assert root.find(M + "metsHdr").get("{https://DILCIS.eu/XML/METS/CSIPExtensionMETS}OAISPACKAGETYPE") == "SIP"
    smap = root.find(M + "structMap")
    assert (smap.get("TYPE"), smap.get("LABEL")) == ("PHYSICAL", "CSIP")

    assert checksum_problems(package) == []
    assert hashlib.sha256((package / "METS.xml").read_bytes()).hexdigest() == result.files["METS.xml"]

    # The WARC passes warcio's checker and holds exactly the selected records, byte for byte as stored.
    warc = package / "representations/rep1/data/records.warc.gz"
    checked = warcio_check(warc)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    records = json.loads((package / "metadata/descriptive/records.json").read_text())
    assert len(records) == total
    data = warc.read_bytes()
    for doc in records:
        loc = doc["warc"]
        original = arc.store.get_range(doc["warc_key"], loc["offset"], loc["length"])
        assert original in data and hashlib.sha256(original).hexdigest() == loc["sha256"]

    # PREMIS: the stored files' fixity as recorded at storage, their capture, and the transfer.
    premis_xml = etree.parse(str(package / "metadata/preservation/premis.xml")).getroot()
    digests = {
        o.findtext(f"{PREMIS}objectIdentifier/{PREMIS}objectIdentifierValue"): o.findtext(
            f"{PREMIS}objectCharacteristics/{PREMIS}fixity/{PREMIS}messageDigest"
        )
        for o in premis_xml.iter(PREMIS + "object")
    }
    assert set(result.source_files) <= set(stored) and set(result.source_files) <= set(digests)
    for key in result.source_files:
        assert digests[key] == arc.store.head(key).sha256  # type: ignore[union-attr]
    types = [e.findtext(PREMIS + "eventType") for e in premis_xml.iter(PREMIS + "event")]
    assert types.count("capture") == len(result.source_files) and types[-1] == "transfer"
    premis.refresh()
    logged = premis.events(object_id=f"package:{result.objid}", type=PremisEventType.TRANSFER)
    assert [e.id for e in logged] == [result.event_id] and logged[0].sha256 == result.files[
        "representations/rep1/data/records.warc.gz"
    ]

    # A changed byte anywhere is found by the same check.
    victim = package / "metadata/descriptive/records.json"
    victim.write_bytes(victim.read_bytes().replace(b"{", b"[", 1))
    assert checksum_problems(package) == ["metadata/descriptive/records.json: checksum differs"]


def test_transfer_of_selected_records(local_archive: Archive, premis: PremisLog, tmp_path: Path) -> None:
    arc = local_archive
    ingest_samples(arc)
    chosen = sorted(d["record_id"] for d in arc.index.scan({"match_all": {}}))[:2]
    result = build_transfer(arc.settings, arc.store, arc.index, premis, tmp_path, record_ids=chosen, by="os:a")
    records = json.loads((result.directory / "metadata/descriptive/records.json").read_text())
    assert sorted(r["record_id"] for r in records) == chosen
    assert sip_schema().validate(etree.parse(str(result.directory / "METS.xml")))
    assert checksum_problems(result.directory) == []
