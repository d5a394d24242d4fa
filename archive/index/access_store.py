"""The access store: users, API tokens, browser sessions and the sign-in throttle in `{prefix}-access`.

One index beside the records, shared by every `communis serve` process and every CLI of the
installation, so a user added, disabled or signed in on one host is the same user on all of them.
What each document means, and every rule about secrets, belongs to archive/access (users.py,
signin.py); this module only knows the documents' ids and the questions asked of them.

Documents (field `kind`), each under an id that says what it is, so every check a request makes is
a GET by id, never a search:

- `user|NAME`: role, disabled, created, and the password's scrypt hash (stored, never indexed, and
  left out of every answer but the one `authenticate` asks for);
- `token|SHA256` and `session|SHA256`: the SHA-256 of an API token or a session secret (the secret
  itself is never sent here), its user and expiry, and a token's short public id;
- `throttle|SCOPE|HASH`: the recent failed sign-ins of one user name or client address and the end
  of its lockout;
- `guard|first-admin`: written once, when the first admin appears; of two bootstraps racing, one
  creates it and the other is refused.

Why GETs by id: a GET is real-time in Elasticsearch (it reads the latest write, refreshed or not,
from whichever copy answers, and a write returns only after every in-sync copy has it), so a user
disabled or a token revoked by one process is refused by the very next request to any other, with
nothing cached. Searches (listing users or a user's tokens) refresh first.

Writes that two processes may make to one document (a throttle counter, a password rehash) are
conditional on the version read (`if_seq_no`/`if_primary_term`), and report a conflict instead of
overwriting; the caller reads again and retries (archive/access/users.py).

The mapping is strict: a field nobody declared is refused, so nothing unplanned (a secret in a
field of its own) can be stored by mistake.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from elasticsearch import ConflictError, helpers

from ..errors import SearchIndexError
from .client import Client, translate

_keyword = {"type": "keyword"}
_date = {"type": "date"}
MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "kind": _keyword,
        "name": _keyword,  # the user's name (user documents) or the owner's (tokens, sessions)
        "role": _keyword,
        # scrypt$n$r$p$salt$hash: kept to be verified, never searched, aggregated or sorted on
        "password_hash": {"type": "keyword", "index": False, "doc_values": False},
        "disabled": {"type": "boolean"},
        "created_at": _date,
        "expires_at": _date,  # tokens and sessions; throttle entries: when they can be forgotten
        "token_id": _keyword,  # the first hex digits of a token's SHA-256: its public id
        "scope": _keyword,  # throttle: "user" or "address"
        "key": _keyword,  # throttle: the user name or address counted
        "failures": _date,  # throttle: times of the failed sign-ins still in the window
        "locked_until": _date,
        "source": _keyword,  # where a migrated document came from (the legacy file's path)
    },
}
SETTINGS: dict[str, Any] = {
    "number_of_shards": 1,
    # One copy on a single node, two on a cluster: the users must survive the loss of a node.
    "auto_expand_replicas": "0-1",
}
#: Documents per listing page and per bulk request.
CHUNK = 1000
#: The guard the first admin's bootstrap creates (never deleted once an admin exists).
FIRST_ADMIN = "guard|first-admin"


class AccessConflict(SearchIndexError):
    """A conditional write lost: the document changed since it was read (another process wrote it)."""


@dataclass(frozen=True)
class Doc:
    """A document as read, with what a conditional write over it must present."""

    id: str
    source: dict[str, Any]
    seq_no: int
    primary_term: int


def user_id(name: str) -> str:
    return f"user|{name}"


def secret_id(kind: str, digest: str) -> str:
    """`token|…` or `session|…`: the SHA-256 of the secret, so the lookup is the comparison."""
    return f"{kind}|{digest}"


def throttle_id(scope: str, key: str) -> str:
    """`throttle|scope|hash`: short and safe whatever a client sent as a name."""
    return f"throttle|{scope}|{hashlib.sha256(key.encode('utf-8')).hexdigest()[:40]}"


class AccessStore:
    """The `{prefix}-access` index, created with its strict mapping on first write."""

    def __init__(self, client: Client, name: str) -> None:
        self._es = client
        self.name = name
        self._ready = False

    def ensure(self) -> None:
        """Create the index (once per process); reads never need it: a missing index answers 'not found'."""
        if self._ready:
            return
        with translate("create the access index"):
            if not self._es.indices.exists(index=self.name):
                # 400: another process created it in between, which is what both wanted.
                self._es.options(ignore_status=400).indices.create(
                    index=self.name, mappings=MAPPINGS, settings=SETTINGS
                )
        self._ready = True

    def exists(self) -> bool:
        with translate("look for the access index"):
            return bool(self._es.indices.exists(index=self.name))

    def destroy(self) -> None:
        """Drop the index (test and benchmark clean-up, with a credential that may delete indices)."""
        with translate("drop the access index"):
            self._es.options(ignore_status=404).indices.delete(index=self.name)
        self._ready = False

    def refresh(self) -> None:
        with translate("refresh the access index"):
            self._es.options(ignore_status=404).indices.refresh(index=self.name)

    # -- by id: every check a request makes ----------------------------------------------------

    def get(self, doc_id: str, *, with_hash: bool = False) -> Doc | None:
        """One document, real-time; None when it (or the whole index) does not exist. The password
        hash comes back only `with_hash` (the one read that verifies a password)."""
        excludes = None if with_hash else ["password_hash"]
        with translate("read the access store"):
            found = self._es.options(ignore_status=404).get(index=self.name, id=doc_id, source_excludes=excludes)
        if not found.get("found"):
            return None
        return Doc(doc_id, dict(found["_source"]), int(found["_seq_no"]), int(found["_primary_term"]))

    def get_many(self, ids: Sequence[str]) -> dict[str, Doc]:
        """id → document for those that exist (one real-time mget), password hashes left out."""
        if not ids:
            return {}
        with translate("read the access store"):
            resp = self._es.options(ignore_status=404).mget(
                index=self.name, ids=list(ids), source_excludes=["password_hash"]
            )
        out = {}
        for doc in resp.get("docs", []):
            if doc.get("found"):
                out[doc["_id"]] = Doc(doc["_id"], dict(doc["_source"]), int(doc["_seq_no"]), int(doc["_primary_term"]))
        return out

    def create(self, doc_id: str, source: dict[str, Any]) -> bool:
        """Write a new document; False (nothing written) when one with this id exists already."""
        self.ensure()
        try:
            with translate("write the access store"):
                self._es.index(index=self.name, id=doc_id, document=source, op_type="create")
        except SearchIndexError as exc:
            if isinstance(exc.__cause__, ConflictError):
                return False
            raise
        return True

    def put(self, doc_id: str, source: dict[str, Any], over: Doc | None) -> Doc:
        """Replace the document read as `over` (or create it, for None); AccessConflict when another
        process wrote it (or created it) since. Returns the document as written."""
        self.ensure()
        condition: dict[str, Any] = (
            {"op_type": "create"} if over is None else {"if_seq_no": over.seq_no, "if_primary_term": over.primary_term}
        )
        try:
            with translate("write the access store"):
                resp = self._es.index(index=self.name, id=doc_id, document=source, **condition)
        except SearchIndexError as exc:
            if isinstance(exc.__cause__, ConflictError):
                raise AccessConflict(f"{doc_id.split('|')[0]} changed while it was being written") from None
            raise
        return Doc(doc_id, source, int(resp["_seq_no"]), int(resp["_primary_term"]))

    def update(self, doc_id: str, fields: dict[str, Any], *, over: Doc | None = None) -> bool:
        """Merge `fields` into an existing document (only if unchanged since `over`, when given);
        False when there is no such document. AccessConflict when `over` is out of date."""
        self.ensure()
        condition: dict[str, Any] = (
            {} if over is None else {"if_seq_no": over.seq_no, "if_primary_term": over.primary_term}
        )
        try:
            with translate("update the access store"):
                resp = self._es.options(ignore_status=404).update(
                    index=self.name, id=doc_id, doc=fields, retry_on_conflict=0 if over else 3, **condition
                )
        except SearchIndexError as exc:
            if isinstance(exc.__cause__, ConflictError):
                raise AccessConflict(f"{doc_id.split('|')[0]} changed while it was being written") from None
            raise
        return str(resp.get("result")) in ("updated", "noop")

    def delete(self, doc_id: str) -> bool:
        """Delete one document; whether it was there."""
        with translate("delete from the access store"):
            resp = self._es.options(ignore_status=404).delete(index=self.name, id=doc_id)
        return bool(resp.get("result") == "deleted")

    # -- the questions that are searches ---------------------------------------------------------

    def every(self, kind: str, *, sort: Sequence[str], **equal: str | bool) -> list[Doc]:
        """Every document of `kind` whose fields equal `equal`, sorted by the fields `sort` (which must
        tell any two apart: they page the listing), hashes left out (listings: users, a user's tokens).
        Refreshed first, so what was just written is listed."""
        if not self.exists():
            return []
        self.refresh()
        query = {"bool": {"filter": [{"term": {"kind": kind}}, *({"term": {k: v}} for k, v in equal.items())]}}
        out: list[Doc] = []
        after: list[Any] | None = None
        while True:
            with translate("list the access store"):
                resp = self._es.search(
                    index=self.name,
                    query=query,
                    sort=[{f: "asc"} for f in sort],
                    size=CHUNK,
                    search_after=after,
                    source_excludes=["password_hash"],
                    seq_no_primary_term=True,
                )
            hits = resp["hits"]["hits"]
            out += [Doc(h["_id"], dict(h["_source"]), int(h["_seq_no"]), int(h["_primary_term"])) for h in hits]
            if len(hits) < CHUNK:
                return out
            after = hits[-1]["sort"]

    def any_of(self, kind: str, **equal: str | bool) -> bool:
        """Whether any document of `kind` has fields equal to `equal` (refreshed first)."""
        if not self.exists():
            return False
        self.refresh()
        query = {"bool": {"filter": [{"term": {"kind": kind}}, *({"term": {k: v}} for k, v in equal.items())]}}
        with translate("search the access store"):
            return int(self._es.count(index=self.name, query=query)["count"]) > 0

    def delete_where(self, kind: str, *, name: str) -> int:
        """Delete every document of `kind` of the user `name` (a disabled user's sessions); how many."""
        if not self.exists():
            return 0
        self.refresh()  # the sessions made a moment ago too
        return self._delete_found({"bool": {"filter": [{"term": {"kind": kind}}, {"term": {"name": name}}]}})

    def delete_expired(self, kinds: Sequence[str], before: str) -> int:
        """Delete the documents of `kinds` whose `expires_at` is before `before` (ended sessions,
        forgotten throttle entries); how many. Never tokens: an expired token is listed as expired."""
        if not self.exists():
            return 0
        self.refresh()  # cheap on an index this small, and sign-ins (which call this) are rare
        return self._delete_found(
            {"bool": {"filter": [{"terms": {"kind": list(kinds)}}, {"range": {"expires_at": {"lt": before}}}]}}
        )

    def _delete_found(self, query: dict[str, Any]) -> int:
        """Delete what `query` finds, each over the version found: a document another process wrote
        since (a throttle entry counting a new failure) is left alone. Found, then deleted in bulk (the
        local node has no delete-by-query); how many went."""
        with translate("delete from the access store"):
            found = helpers.scan(
                self._es, index=self.name, query={"query": query}, size=CHUNK, source=False, seq_no_primary_term=True
            )
            actions = (
                {
                    "_op_type": "delete",
                    "_index": self.name,
                    "_id": hit["_id"],
                    "if_seq_no": hit["_seq_no"],
                    "if_primary_term": hit["_primary_term"],
                }
                for hit in found
            )
            deleted = 0
            for ok, item in helpers.streaming_bulk(self._es, actions, chunk_size=CHUNK, raise_on_error=False):
                result = item.get("delete", {})
                if ok:
                    deleted += 1
                elif result.get("status") not in (404, 409):  # gone already, or changed since: leave it
                    raise SearchIndexError(f"Elasticsearch refused to delete from the access store: {result}")
        return deleted

    def create_many(self, documents: Iterable[tuple[str, dict[str, Any]]]) -> tuple[list[str], list[str]]:
        """Create each (id, document) that does not exist yet, in bulk, visible to searches when this
        returns; (ids created, ids already there). A migration run twice creates nothing the second time."""
        self.ensure()
        actions = (
            {"_op_type": "create", "_index": self.name, "_id": doc_id, "_source": doc} for doc_id, doc in documents
        )
        created: list[str] = []
        existing: list[str] = []
        with translate("write the access store"):
            for ok, item in helpers.streaming_bulk(
                self._es, actions, chunk_size=CHUNK, raise_on_error=False, refresh="wait_for"
            ):
                result = item.get("create", {})
                if ok:
                    created.append(result["_id"])
                elif result.get("status") == 409:
                    existing.append(result["_id"])
                else:
                    raise SearchIndexError(f"Elasticsearch refused to write the access store: {result.get('error')}")
        return created, existing
