"""The record index: a versioned index behind an alias, bulk indexing, latest-version marking.

Document ids are the record ids (item key + content hash), so indexing the same version
twice overwrites it with identical content instead of duplicating it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from elasticsearch import BadRequestError, Elasticsearch, helpers

from ..errors import RecordNotFound, SearchIndexError
from ..faults import CrashPoint, crash_point
from .client import translate
from .documents import Document
from .mappings import LANGUAGE_ANALYZERS, MAPPING_VERSION, index_settings, record_mappings

log = logging.getLogger(__name__)


@dataclass
class BulkResult:
    indexed: int = 0
    errors: list[str] = field(default_factory=list)


Rank = tuple[datetime, int, str]


class _LatestTracker:
    """The newest version per item among the documents seen, and the ids it displaced.

    Order is (captured_at, version, record id), so the outcome does not depend on the order
    documents arrive in: reindex-from-WARC gives the same flags as incremental indexing.
    """

    def __init__(self) -> None:
        self.best: dict[str, tuple[Rank, str]] = {}
        self.losers: list[str] = []

    def see(self, item_key: str, rank: Rank) -> None:
        doc_id = rank[2]
        previous = self.best.get(item_key)
        if previous is None:
            self.best[item_key] = (rank, doc_id)
        elif rank > previous[0]:
            self.losers.append(previous[1])
            self.best[item_key] = (rank, doc_id)
        elif rank < previous[0]:
            self.losers.append(doc_id)


#: The derived indices beside the records that `destroy` drops with them.
DERIVED_BESIDE = ("harvest", "counts", "completeness")


class RecordIndex:
    """Record versions in Elasticsearch under `alias`."""

    def __init__(self, client: Elasticsearch, alias: str, *, replicas: int = 0) -> None:
        self._es = client
        self.alias = alias
        self.replicas = replicas
        self._languages: bool | None = None

    @property
    def es(self) -> Elasticsearch:
        """The raw client: for tests and benchmarks, which reach the raw documents on purpose.

        The product asks for what it needs by name (the methods here, archive/index/queries.py,
        EventStream.beside); tests/unit/test_layout.py keeps `.es` out of archive/ outside index/.
        """
        return self._es

    @property
    def concrete(self) -> str:
        return f"{self.alias}-v{MAPPING_VERSION}"

    def ensure(self) -> None:
        """Create index and alias if missing, and add new fields to an existing index (idempotent).

        The mapping is strict, so a document with a field the live index does not know is refused.
        When a release adds fields (same MAPPING_VERSION), `put_mapping` adds them to the existing
        index in place — Elasticsearch allows adding fields, and old documents simply lack them —
        so a deployment picks them up on its next run without a reindex. A change Elasticsearch
        refuses (a field's type) fails here loudly; that is what bumping MAPPING_VERSION is for.
        """
        with translate("create the record index"):
            if not self._es.indices.exists_alias(name=self.alias):
                mappings = record_mappings(languages=self._cluster_has_language_analyzers())
                try:  # settings and mappings in the request: no template, which only an admin may put
                    self._es.indices.create(
                        index=self.concrete, settings=index_settings(self.replicas), mappings=mappings
                    )
                except BadRequestError as exc:
                    # Two harvest tasks starting at once both find no index; the second one's create
                    # is refused as "already exists", which is the state both wanted.
                    if exc.error != "resource_already_exists_exception":
                        raise
                self._es.indices.put_alias(index=self.concrete, name=self.alias, is_write_index=True)
        self._add_new_fields()

    def _add_new_fields(self) -> None:
        """Put the current mapping on the indices behind the alias (a no-op when they already have it).

        The language multi-fields follow what the live index already has, not what the cluster
        could offer: adding `.sv` / `.en` to an index would leave its existing documents
        unsearchable through them until a reindex.
        """
        current = record_mappings(languages=self.has_language_fields)
        with translate("update the record index mapping"):
            self._es.indices.put_mapping(index=self.alias, dynamic=current["dynamic"], properties=current["properties"])

    def _cluster_has_language_analyzers(self) -> bool:
        """Whether the cluster has the built-in language analyzers (module analysis-common)."""
        client = self._es.options(ignore_status=400)
        for analyzer in LANGUAGE_ANALYZERS.values():
            resp = client.indices.analyze(analyzer=analyzer, text="snöröjningen")
            if "tokens" not in resp:
                return False
        return True

    @property
    def has_language_fields(self) -> bool:
        """Whether the index's text fields have `.sv` / `.en` multi-fields (read once from the mapping)."""
        if self._languages is None:
            with translate("read the index mapping"):
                resp = self._es.options(ignore_status=404).indices.get_mapping(index=self.alias)
            bodies = [body for body in dict(resp).values() if isinstance(body, dict) and "mappings" in body]
            if not bodies:
                return False  # no index yet: ask again next time
            text = bodies[0]["mappings"].get("properties", {}).get("text", {})
            self._languages = "sv" in text.get("fields", {})
        return self._languages

    def drop(self) -> None:
        """Delete the indices behind the alias (reindex rebuilds them from WARC)."""
        self._languages = None
        with translate("delete the record index"):
            if self._es.indices.exists_alias(name=self.alias):
                names = list(self._es.indices.get_alias(name=self.alias).keys())
                self._es.indices.delete(index=",".join(names))
            elif self._es.indices.exists(index=self.concrete):
                self._es.indices.delete(index=self.concrete)

    def beside_name(self, kind: str) -> str:
        """The name of the installation's index of `kind` beside this one (`{prefix}-records` → `{prefix}-kind`)."""
        return self.alias.removesuffix("-records") + f"-{kind}"

    def destroy(self) -> None:
        """Drop the indices, the derived indices beside them (harvest table, published counts,
        completeness rows) and the template (test and benchmark clean-up)."""
        self.drop()
        for kind in DERIVED_BESIDE:
            with translate(f"drop the {kind} index"):
                self._es.options(ignore_status=404).indices.delete(index=self.beside_name(kind))
        with translate("delete the index template"):
            self._es.options(ignore_status=(403, 404)).indices.delete_index_template(name=f"{self.alias}-template")

    def set_refresh(self, interval: str) -> None:
        with translate("set the refresh interval"):
            self._es.indices.put_settings(index=self.alias, settings={"refresh_interval": interval})

    def bulk(
        self, docs: Iterable[Document], *, chunk_size: int = 500, refresh: bool = True, check_older: bool = True
    ) -> BulkResult:
        """Index documents with the streaming bulk helper; collect per-document errors.

        Documents arrive marked latest. Among the documents of this call the newest version of
        each item wins (tracked in memory, no query); items at version > 1 are also compared
        with older versions already in the index (`check_older`; reindex, which sees every
        version, turns it off).
        """
        result = BulkResult()
        latest = _LatestTracker()
        older: set[str] = set()

        def actions() -> Iterator[dict[str, Any]]:
            for n, doc in enumerate(docs):
                if n > chunk_size and n % chunk_size == 1:
                    # The helper sends a full chunk when the next document is fed to it, so by now the
                    # requests before are answered and more documents are to come: mid bulk.
                    crash_point(CrashPoint.INDEX_MID_BULK)
                latest.see(doc.item_key, (doc.captured_at, doc.version, doc.record_id))
                if doc.version > 1:
                    older.add(doc.item_key)
                yield {"_index": self.alias, "_id": doc.record_id, "_source": doc.source}

        with translate("index records"):
            for ok, info in helpers.streaming_bulk(
                self._es,
                actions(),
                chunk_size=chunk_size,
                max_chunk_bytes=10 * 1024 * 1024,
                raise_on_error=False,
                raise_on_exception=True,
                max_retries=5,
                initial_backoff=1,
            ):
                if ok:
                    result.indexed += 1
                else:
                    item = next(iter(info.values()))
                    result.errors.append(f"{item.get('_id')}: {item.get('error')}")
            self._set_latest({doc_id: False for doc_id in latest.losers})
            if refresh:
                self._es.indices.refresh(index=self.alias)
        if check_older and older:
            self.mark_latest(older)
        if result.errors:
            log.error("%s documents failed to index; first: %s", len(result.errors), result.errors[0])
        return result

    def _set_latest(self, flags: dict[str, bool]) -> None:
        if flags:
            helpers.bulk(
                self._es,
                (
                    {"_op_type": "update", "_index": self.alias, "_id": doc_id, "doc": {"is_latest": flag}}
                    for doc_id, flag in flags.items()
                ),
            )

    def mark_latest(self, item_keys: Iterable[str]) -> None:
        """Set is_latest on the newest version of each item and clear it on the others.

        Order is (captured_at, version), so the result is the same whatever order documents
        arrived in, which keeps reindex-from-WARC identical to incremental indexing.
        """
        keys = sorted(set(item_keys))
        updates: dict[str, bool] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            versions: dict[str, list[tuple[Rank, bool | None]]] = defaultdict(list)
            with translate("read item versions"):
                for hit in helpers.scan(
                    self._es,
                    index=self.alias,
                    size=1000,
                    query={
                        "query": {"terms": {"item_key": chunk}},
                        "_source": ["item_key", "captured_at", "version", "is_latest"],
                    },
                ):
                    src = hit["_source"]
                    rank = (datetime.fromisoformat(src["captured_at"]), src.get("version", 1), hit["_id"])
                    versions[src["item_key"]].append((rank, src.get("is_latest")))
            for vs in versions.values():
                newest = max(rank for rank, _ in vs)[2]
                for (_, _, doc_id), flag in vs:
                    want = doc_id == newest
                    if flag is not want:
                        updates[doc_id] = want
        with translate("mark latest versions"):
            self._set_latest(updates)
            self._es.indices.refresh(index=self.alias)

    def get(self, record_id: str) -> dict[str, Any]:
        with translate("read a record"):
            resp = self._es.options(ignore_status=404).get(index=self.alias, id=record_id)
        if not resp.get("found"):
            raise RecordNotFound(f"no record {record_id} in the index", hint="search for it with `communis search`")
        return dict(resp["_source"])

    def exists(self) -> bool:
        """Whether the alias exists (no index is made before the first records are indexed)."""
        return bool(self._es.indices.exists_alias(name=self.alias))

    def refresh(self) -> None:
        """Make every write so far visible to searches."""
        with translate("refresh the index"):
            self._es.indices.refresh(index=self.alias)

    def count(self, query: dict[str, Any] | None = None) -> int:
        with translate("count records"):
            if not self._es.indices.exists_alias(name=self.alias):
                return 0
            return int(self._es.count(index=self.alias, query=query or {"match_all": {}})["count"])

    def scan(self, query: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every document matching `query` (sources only)."""
        with translate("scan the index"):
            for hit in helpers.scan(self._es, index=self.alias, query={"query": query}):
                yield dict(hit["_source"])

    def all_documents(self) -> Iterator[dict[str, Any]]:
        """Every document, by id order (for comparing index states)."""
        with translate("scan the index"):
            for hit in helpers.scan(
                self._es, index=self.alias, query={"query": {"match_all": {}}}, preserve_order=False
            ):
                yield {"_id": hit["_id"], **hit["_source"]}

    def server_version(self) -> str:
        """The version of the Elasticsearch node answering (GET / is absent from the integ-test distribution)."""
        with translate("read the node version"):
            nodes = self._es.nodes.info(node_id="_local", filter_path="nodes.*.version")
        return str(next(iter(nodes["nodes"].values()))["version"])

    def check(self) -> None:
        with translate("check the cluster"):
            health = self._es.cluster.health()
        if health.get("status") == "red":
            raise SearchIndexError(
                "Elasticsearch cluster health is red", hint="check the node's log (var/services/elasticsearch/logs)"
            )
