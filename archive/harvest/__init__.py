"""Harvesting: connectors → versions → pipeline, with state saved only after storage."""
