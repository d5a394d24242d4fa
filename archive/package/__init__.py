"""The container formats of a production package: BagIt bag, WARC file, WACZ and PDF renders.

Each module streams: records and files go in one at a time, so a request of 10 000 records
never has them all in memory. What goes into a package (selection, masking, load file) is
decided by the caller; these modules only write and verify the formats.
"""

from __future__ import annotations
