"""Completeness: what each platform says exists against what the archive holds, with the evidence.

The platform's counts (account totals and per-item comment counts, read with the responses that
show them: archive/index/counts.py) are compared with the archive's holdings (archive/index/holdings.py)
per account, per month of publication and per item, under a documented per-platform tolerance
(tolerance.py). The result is a write-once report in the store (book.py) and rows for the web app
(archive/index/completeness.py); the harvest acts on its gaps (backfill.py). This package imports
nothing above it: the harvest calls it, never the other way.
"""
