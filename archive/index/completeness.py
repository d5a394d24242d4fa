"""The completeness rows: `{prefix}-completeness`, the latest report of each account, for the web app.

One document per account (`scope: account`: the report's status, summary and where it is kept) and
one per account-month (`scope: month`: the month's comparison with its disagreeing items), each the
latest report's. The reports themselves are write-once JSON in the store (archive/completeness/book.py);
these rows are derived from them, rewritten by each new report, so a calendar reads one account's
months with one query instead of opening report files.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from elasticsearch import helpers

from schemas import CompletenessReport, MonthCheck

from .client import Client, translate
from .indexer import RecordIndex

_keyword = {"type": "keyword"}
_long = {"type": "long"}
MAPPINGS: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "account": _keyword,
        "platform": _keyword,
        "scope": _keyword,  # "account" or "month"
        "month": _keyword,
        "status": _keyword,
        "report_key": _keyword,
        "run_id": _keyword,
        "made_at": {"type": "date"},
        "published": _long,
        "archived": _long,
        "missing": _long,
        "surplus": _long,
        "gap_items": _long,
        "posts": _long,
        "unread": _long,
        "summary": {"type": "text"},
        "check": {"type": "object", "enabled": False},  # the month's MonthCheck (or the report's head), as JSON
    },
}

#: Rows per bulk request and per search page.
CHUNK = 500


def _row_id(account: str, month: str | None) -> str:
    return f"{account}|{month or ''}"


class CompletenessRows:
    """The `{prefix}-completeness` index, created with its mapping on first use."""

    def __init__(self, client: Client, name: str) -> None:
        self._es = client
        self.name = name
        self._ready = False

    @classmethod
    def beside(cls, index: RecordIndex) -> CompletenessRows:
        """The rows of the record index's installation (`{prefix}-records` → `{prefix}-completeness`)."""
        return cls(index.es, index.beside_name("completeness"))

    def ensure(self) -> None:
        if self._ready:
            return
        with translate("create the completeness index"):
            if not self._es.indices.exists(index=self.name):
                self._es.options(ignore_status=400).indices.create(
                    index=self.name, mappings=MAPPINGS, settings={"number_of_shards": 1, "number_of_replicas": 0}
                )
        self._ready = True

    def put(self, report: CompletenessReport) -> int:
        """Make `report` the latest: its months' rows, and for a whole-account report the account's row (and
        no month row of an earlier report is left beside it). Returns the rows written."""
        self.ensure()
        head = {
            "account": report.account,
            "platform": report.platform.value,
            "report_key": report.key,
            "run_id": report.run_id,
            "made_at": report.made_at.isoformat(),
        }
        actions: list[dict[str, Any]] = [
            {
                "_op_type": "index",
                "_index": self.name,
                "_id": _row_id(report.account, m.month),
                "_source": _month(head, m),
            }
            for m in report.months
        ]
        whole = report.scope == "account"
        if whole:
            body = report.model_dump(mode="json", exclude={"months"})
            source = head | {
                "scope": "account",
                "status": report.status.value,
                "summary": report.summary,
                "missing": sum(m.missing for m in report.months),
                "gap_items": sum(m.gap_items for m in report.months),
                "check": body,
            }
            actions.append(
                {"_op_type": "index", "_index": self.name, "_id": _row_id(report.account, None), "_source": source}
            )
        with translate("write the completeness rows"):
            count, _ = helpers.bulk(self._es, actions, chunk_size=CHUNK, max_retries=3, refresh=True)
        if whole:  # months the new report no longer has (their items all deleted since) are not left over
            stale = [
                {"_op_type": "delete", "_index": self.name, "_id": row_id}
                for row_id in self._ids(report.account, other_than=report.key or "")
            ]
            with translate("drop the completeness rows of an earlier report"):
                helpers.bulk(self._es, stale, chunk_size=CHUNK, refresh=True, raise_on_error=False)
        return int(count)

    def _ids(self, account: str, *, other_than: str) -> list[str]:
        """The ids of the account's month rows written by a report other than `other_than` (the cluster may
        lack delete-by-query: the integration-test distribution has no reindex module)."""
        query = {
            "bool": {
                "filter": [{"term": {"account": account}}, {"term": {"scope": "month"}}],
                "must_not": [{"term": {"report_key": other_than}}],
            }
        }
        return [str(h["_id"]) for h in self._search(query, sort="month", source=False)]

    def _search(self, query: dict[str, Any], *, sort: str, source: Any = True) -> Iterator[dict[str, Any]]:
        """Every row matching `query`, a page at a time, in `sort` order; none if no report was ever kept
        (the index is not there, and a reader such as the web app's role may not create it)."""
        after: list[Any] | None = None
        while True:
            with translate("read the completeness rows"):
                resp = self._es.options(ignore_status=404).search(
                    index=self.name, query=query, sort=[{sort: "asc"}], size=CHUNK, search_after=after, source=source
                )
            hits = resp.get("hits", {}).get("hits", [])
            yield from hits
            if len(hits) < CHUNK:
                return
            after = hits[-1]["sort"]

    def account(self, account: str) -> dict[str, Any] | None:
        """The account's latest whole report as its row holds it (the report without its months), or None."""
        with translate("read the completeness rows"):
            found = self._es.options(ignore_status=404).get(index=self.name, id=_row_id(account, None))
        return dict(found["_source"]) if found.get("found") else None

    def accounts(self) -> list[dict[str, Any]]:
        """Every account's row (its latest whole report without its months), by account id."""
        return [dict(h["_source"]) for h in self._search({"term": {"scope": "account"}}, sort="account")]

    def months(self, account: str, *, items: bool = True) -> list[MonthCheck]:
        """The account's months as the latest reports compared them, oldest first; `items=False` leaves out
        each month's disagreeing items (a calendar needs the months' figures only: 120 months of 200 items
        would be 24 000 items read for nothing)."""
        query = {"bool": {"filter": [{"term": {"account": account}}, {"term": {"scope": "month"}}]}}
        source: Any = True if items else {"excludes": ["check.items"]}
        return [
            MonthCheck.model_validate(h["_source"]["check"]) for h in self._search(query, sort="month", source=source)
        ]

    def month(self, account: str, month: str) -> dict[str, Any] | None:
        """One month's row: the report that compared it last (`report_key`, `run_id`, `made_at`) and its
        `check` (the MonthCheck as JSON, with its disagreeing items), or None."""
        with translate("read the completeness rows"):
            found = self._es.options(ignore_status=404).get(index=self.name, id=_row_id(account, month))
        return dict(found["_source"]) if found.get("found") else None


def _month(head: dict[str, Any], month: MonthCheck) -> dict[str, Any]:
    return head | {
        "scope": "month",
        "month": month.month,
        "status": month.status.value,
        "published": month.published,
        "archived": month.archived,
        "missing": month.missing,
        "surplus": month.surplus,
        "gap_items": month.gap_items,
        "posts": month.posts,
        "unread": month.unread,
        "summary": month.note,
        "check": month.model_dump(mode="json"),
    }
