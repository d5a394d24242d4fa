"""Transfer to the e-archive: an E-ARK CSIP/SIP submission package (METS + PREMIS) of selected records."""

from __future__ import annotations

from .sip import TransferResult, build_transfer

__all__ = ["TransferResult", "build_transfer"]
