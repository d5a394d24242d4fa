"""Revisit targets from the saved state: responses stored in full by the previous run."""

from __future__ import annotations

from schemas import HarvestState, SeenPayload


class StatePayloads:
    """PayloadLookup over `state.payloads` (keyed `group|digest`)."""

    def __init__(self, state: HarvestState) -> None:
        self.payloads = dict(state.payloads)
        self.used: dict[str, SeenPayload] = {}

    def find(self, group: str, payload_digest: str) -> dict[str, str] | None:
        key = f"{group}|{payload_digest}"
        found = self.payloads.get(key)
        if found is None:
            return None
        self.used[key] = found
        return {"record_id": found.record_id, "uri": found.uri, "date": found.date}


def next_payloads(lookup: StatePayloads, written: dict[tuple[str, str], dict[str, str]]) -> dict[str, SeenPayload]:
    """What the next run may revisit: this run's full responses plus originals it revisited."""
    result = dict(lookup.used)
    for (group, digest), original in written.items():
        result[f"{group}|{digest}"] = SeenPayload(
            digest=digest, record_id=original["record_id"], uri=original["uri"], date=original["date"], group=group
        )
    return result
