"""The platforms under the contract suite: how to configure an account for each in the simulator,
what the simulator's ground truth says it holds, and how to make things happen on it.

Every platform over the simulator's shared account model (``simulator/platforms``) is driven the
same way, by its ``{platform}.publish`` … events; items are named by the connector's item id
(the platform's native id), which the ground truth gives for each model number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from archive.connectors.base import Capabilities
from archive.connectors.registry import connector_class
from schemas import Account, CredentialRef
from schemas.account import API_DEFAULTS, Platform
from simulator import Simulator
from simulator.platforms import NAMES

#: The credential the simulated platforms require in the contract suite, and where accounts find it.
TOKEN_ENV = "COMMUNIS_CONTRACT_TOKEN"
TOKEN = "sim-token-3f9a1c"

#: How each platform names the account (the `handle` in the accounts file).
HANDLES = {
    "bluesky": "sundsvikkommun.bsky.social",
    "facebook": "sundsvikkommun",
    "instagram": "sundsvikkommun",
    "x": "sundsvikkommun",
    "youtube": "@sundsvikkommun",
    "linkedin": "sundsvikkommun",
    "flickr": "sundsvikkommun",
    "tiktok": "sundsvikkommun",
    "rss": "feed.xml",
}


@dataclass(frozen=True)
class Subject:
    """One platform of the simulator, as the contract suite drives it."""

    platform: str

    @property
    def capabilities(self) -> Capabilities:
        return connector_class(self.platform).capabilities

    @property
    def needs_token(self) -> bool:
        return API_DEFAULTS[Platform(self.platform)][1] is not None

    def account(self, sim: Simulator) -> Account:
        """The account entry as a municipality writes it, credential included where the API needs one."""
        return Account(id=f"sv-{self.platform}", platform=self.platform, handle=HANDLES[self.platform],
                       display_name=f"Sundsvik on {self.platform}", department="Kommunstyrelsen",
                       retention_class="social-10y", base_url=sim.url(self.platform),
                       credentials=CredentialRef(env=TOKEN_ENV) if self.needs_token else None)

    def rows(self, sim: Simulator) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = sim.state()["platforms"][self.platform]["items"]
        return rows

    def visible(self, sim: Simulator) -> dict[str, dict[str, Any]]:
        """Item id → ground-truth row, for what the public can see now."""
        return {r["id"]: r for r in self.rows(sim) if r["visible"]}

    def expected(self, sim: Simulator) -> set[str]:
        """What a complete harvest holds, given what the platform's API can reveal."""
        caps = self.capabilities
        kinds = {"post"} | ({"comment"} if caps.finds_comments else set()) | ({"reply"} if caps.finds_replies
                                                                             else set())
        return {i for i, r in self.visible(sim).items() if r["kind"] in kinds}

    def id_of(self, sim: Simulator, no: int) -> str:
        return next(r["id"] for r in self.rows(sim) if r["no"] == no)

    def no_of(self, sim: Simulator, item_id: str) -> int:
        return int(next(r["no"] for r in self.rows(sim) if r["id"] == item_id))

    def event(self, sim: Simulator, op: str, **fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = sim.apply([{"type": f"{self.platform}.{op}", **fields}])[0]
        return result

    def publish(self, sim: Simulator, **fields: Any) -> str:
        return self.id_of(sim, self.event(sim, "publish", **fields)["no"])

    def comment(self, sim: Simulator, post_id: str, **fields: Any) -> str:
        return self.id_of(sim, self.event(sim, "comment", post=self.no_of(sim, post_id), **fields)["no"])


SUBJECTS = [Subject(name) for name in NAMES]
