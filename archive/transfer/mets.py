"""The package's METS.xml in the E-ARK CSIP 2.1 / SIP structure.

One representation (`representations/rep1`) holding the WARC file; descriptive metadata (the
records as JSON) in a dmdSec and preservation metadata (PREMIS) in an amdSec, both by reference
with size, date and SHA-256; a fileSec whose every file carries CHECKSUM and CHECKSUMTYPE
"SHA-256"; and the CSIP structMap (PHYSICAL, label CSIP) tying them together (SE-18).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lxml import etree

METS_NS = "http://www.loc.gov/METS/"
XLINK_NS = "http://www.w3.org/1999/xlink"
CSIP_NS = "https://DILCIS.eu/XML/METS/CSIPExtensionMETS"
SIP_NS = "https://DILCIS.eu/XML/METS/SIPExtensionMETS"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
SIP_PROFILE = "https://earksip.dilcis.eu/profile/E-ARK-SIP-v2-1-0.xml"
SCHEMA_LOCATIONS = " ".join(
    [
        METS_NS,
        "http://www.loc.gov/standards/mets/mets.xsd",
        XLINK_NS,
        "http://www.loc.gov/standards/mets/xlink.xsd",
        CSIP_NS,
        "https://earkcsip.dilcis.eu/schema/DILCISExtensionMETS.xsd",
        SIP_NS,
        "https://earksip.dilcis.eu/schema/DILCISExtensionSIPMETS.xsd",
    ]
)
_M, _X, _C, _S = f"{{{METS_NS}}}", f"{{{XLINK_NS}}}", f"{{{CSIP_NS}}}", f"{{{SIP_NS}}}"


@dataclass(frozen=True)
class PackageFile:
    """A file in the package: its path inside the package, MIME type, size, SHA-256 and creation time."""

    path: str
    mimetype: str
    size: int
    sha256: str
    created: datetime


def _ref(parent: etree._Element, tag: str, f: PackageFile, **attrs: str) -> etree._Element:
    return etree.SubElement(
        parent,
        _M + tag,
        {
            "LOCTYPE": "URL",
            _X + "type": "simple",
            _X + "href": f.path,
            **attrs,
            "MIMETYPE": f.mimetype,
            "SIZE": str(f.size),
            "CREATED": _dt(f.created),
            "CHECKSUM": f.sha256,
            "CHECKSUMTYPE": "SHA-256",
        },
    )


def _dt(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def build_mets(
    *,
    objid: str,
    label: str,
    created: datetime,
    software: str,
    version: str,
    submitter: str,
    descriptive: PackageFile,
    preservation: PackageFile,
    data: list[PackageFile],
) -> bytes:
    root = etree.Element(
        _M + "mets",
        {
            "OBJID": objid,
            "LABEL": label,
            "TYPE": "Other",
            _C + "OTHERTYPE": "Social media records",
            _C + "CONTENTINFORMATIONTYPE": "OTHER",
            _C + "OTHERCONTENTINFORMATIONTYPE": "WARC (ISO 28500) web archive",
            "PROFILE": SIP_PROFILE,
            f"{{{XSI_NS}}}schemaLocation": SCHEMA_LOCATIONS,
        },
        nsmap={"mets": METS_NS, "xlink": XLINK_NS, "csip": CSIP_NS, "sip": SIP_NS, "xsi": XSI_NS},
    )
    hdr = etree.SubElement(
        root,
        _M + "metsHdr",
        {"CREATEDATE": _dt(created), "LASTMODDATE": _dt(created), "RECORDSTATUS": "NEW", _C + "OAISPACKAGETYPE": "SIP"},
    )
    agent = etree.SubElement(hdr, _M + "agent", {"ROLE": "CREATOR", "TYPE": "OTHER", "OTHERTYPE": "SOFTWARE"})
    etree.SubElement(agent, _M + "name").text = software
    etree.SubElement(agent, _M + "note", {_C + "NOTETYPE": "SOFTWARE VERSION"}).text = version
    org = etree.SubElement(hdr, _M + "agent", {"ROLE": "CREATOR", "TYPE": "ORGANIZATION"})
    etree.SubElement(org, _M + "name").text = submitter

    dmd = etree.SubElement(root, _M + "dmdSec", {"ID": "dmd-records", "CREATED": _dt(created), "STATUS": "CURRENT"})
    _ref(dmd, "mdRef", descriptive, MDTYPE="OTHER", OTHERMDTYPE="Communis Record JSON")
    amd = etree.SubElement(root, _M + "amdSec")
    digiprov = etree.SubElement(amd, _M + "digiprovMD", {"ID": "digiprov-premis", "STATUS": "CURRENT"})
    _ref(digiprov, "mdRef", preservation, MDTYPE="PREMIS")

    file_sec = etree.SubElement(root, _M + "fileSec", {"ID": "filesec"})
    grp = etree.SubElement(
        file_sec,
        _M + "fileGrp",
        {
            "ID": "filegrp-rep1",
            "USE": "Representations/rep1",
            "ADMID": "digiprov-premis",
            _C + "CONTENTINFORMATIONTYPE": "OTHER",
            _C + "OTHERCONTENTINFORMATIONTYPE": "WARC (ISO 28500) web archive",
        },
    )
    ids = []
    for n, f in enumerate(data, start=1):
        file_id = f"file-rep1-{n:05d}"
        ids.append(file_id)
        el = etree.SubElement(
            grp,
            _M + "file",
            {
                "ID": file_id,
                "MIMETYPE": f.mimetype,
                "SIZE": str(f.size),
                "CREATED": _dt(f.created),
                "CHECKSUM": f.sha256,
                "CHECKSUMTYPE": "SHA-256",
                "ADMID": "digiprov-premis",
                "DMDID": "dmd-records",
            },
        )
        etree.SubElement(el, _M + "FLocat", {"LOCTYPE": "URL", _X + "type": "simple", _X + "href": f.path})

    smap = etree.SubElement(root, _M + "structMap", {"ID": "structmap-csip", "TYPE": "PHYSICAL", "LABEL": "CSIP"})
    top = etree.SubElement(smap, _M + "div", {"ID": "div-root", "LABEL": objid})
    etree.SubElement(
        top, _M + "div", {"ID": "div-metadata", "LABEL": "Metadata", "DMDID": "dmd-records", "ADMID": "digiprov-premis"}
    )
    rep = etree.SubElement(top, _M + "div", {"ID": "div-rep1", "LABEL": "Representations/rep1"})
    for file_id in ids:
        etree.SubElement(rep, _M + "fptr", {"FILEID": file_id})
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
