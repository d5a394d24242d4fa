"""Keeping what was stored provable: the PREMIS event log, fixity checks, reading one record back
with its digest, and rebuilding the index from the stored WARC files alone."""
