"""PREMIS 3 XML for a submission package: the objects with their fixity, and the events that made them.

The archive keeps its preservation events in Elasticsearch (archive/preservation/premis.py); an e-archive takes
them as a PREMIS file inside the package (metadata/preservation/premis.xml), so custody and fixity
travel with the records (OA-1, PR-1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

PREMIS_NS = "http://www.loc.gov/premis/v3"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
_P = f"{{{PREMIS_NS}}}"


@dataclass(frozen=True)
class PremisObject:
    identifier: str
    sha256: str
    size: int
    format_name: str
    original_name: str = ""


@dataclass(frozen=True)
class PremisEventEntry:
    identifier: str
    type: str
    at: datetime
    detail: str
    outcome: str
    agents: tuple[str, ...]
    objects: tuple[str, ...]
    outcome_detail: str = ""


@dataclass
class PremisDocument:
    objects: list[PremisObject] = field(default_factory=list)
    events: list[PremisEventEntry] = field(default_factory=list)

    def to_bytes(self) -> bytes:
        root = etree.Element(_P + "premis", nsmap={"premis": PREMIS_NS, "xsi": XSI_NS}, version="3.0")
        for obj in self.objects:
            el = etree.SubElement(root, _P + "object", {f"{{{XSI_NS}}}type": "premis:file"})
            ident = etree.SubElement(el, _P + "objectIdentifier")
            _text(ident, "objectIdentifierType", "local")
            _text(ident, "objectIdentifierValue", obj.identifier)
            chars = etree.SubElement(el, _P + "objectCharacteristics")
            fixity = etree.SubElement(chars, _P + "fixity")
            _text(fixity, "messageDigestAlgorithm", "SHA-256")
            _text(fixity, "messageDigest", obj.sha256)
            _text(fixity, "messageDigestOriginator", "Communis")
            _text(chars, "size", str(obj.size))
            fmt = etree.SubElement(etree.SubElement(chars, _P + "format"), _P + "formatDesignation")
            _text(fmt, "formatName", obj.format_name)
            if obj.original_name:
                _text(el, "originalName", obj.original_name)
        agents: dict[str, None] = {}
        for event in self.events:
            el = etree.SubElement(root, _P + "event")
            ident = etree.SubElement(el, _P + "eventIdentifier")
            _text(ident, "eventIdentifierType", "UUID")
            _text(ident, "eventIdentifierValue", event.identifier)
            _text(el, "eventType", event.type)
            _text(el, "eventDateTime", event.at.isoformat())
            _text(etree.SubElement(el, _P + "eventDetailInformation"), "eventDetail", event.detail)
            outcome = etree.SubElement(el, _P + "eventOutcomeInformation")
            _text(outcome, "eventOutcome", event.outcome)
            if event.outcome_detail:
                _text(
                    etree.SubElement(outcome, _P + "eventOutcomeDetail"), "eventOutcomeDetailNote", event.outcome_detail
                )
            for agent in event.agents:
                agents[agent] = None
                link = etree.SubElement(el, _P + "linkingAgentIdentifier")
                _text(link, "linkingAgentIdentifierType", "local")
                _text(link, "linkingAgentIdentifierValue", agent)
            for obj_id in event.objects:
                link = etree.SubElement(el, _P + "linkingObjectIdentifier")
                _text(link, "linkingObjectIdentifierType", "local")
                _text(link, "linkingObjectIdentifierValue", obj_id)
        for agent in agents:
            el = etree.SubElement(root, _P + "agent")
            ident = etree.SubElement(el, _P + "agentIdentifier")
            _text(ident, "agentIdentifierType", "local")
            _text(ident, "agentIdentifierValue", agent)
            _text(el, "agentName", agent.split(": ", 1)[-1])
            _text(el, "agentType", agent.split(": ", 1)[0] if ": " in agent else "software")
        return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _text(parent: etree._Element, name: str, value: str) -> etree._Element:
    el = etree.SubElement(parent, _P + name)
    el.text = value
    return el
