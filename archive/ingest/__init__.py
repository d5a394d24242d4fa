"""Capture bundles into the archive: WARC files written, stored write-once, indexed; what cannot be
kept quarantined with its reason; what a crashed run left behind recovered."""
