"""Finding 4: no credential the application runs with can destroy evidence, proved on the real services.

Elasticsearch runs with security on; the harvester's and the web application's users may add audit
and PREMIS events but never delete, overwrite or roll one over, nor put the template that could give
a stream a deleting lifecycle. MinIO has one user per role: none may bypass a GOVERNANCE lock, only
the disposal role may delete an object version (and Object Lock still refuses it before its date),
permanent classes are COMPLIANCE-locked, and hold, approval and journal objects are locked write-once.

Each refusal is asked of the real server with the role's own credential; each test also shows the
allowed path working, so a refusal cannot come from a broken credential.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from elasticsearch import AuthorizationException, Elasticsearch
from pydantic import SecretStr

from archive.access.audit import AuditLog
from archive.config import Settings
from archive.errors import SearchIndexError
from archive.holds.book import save_placed
from archive.index.client import empty_data_stream
from archive.index.streams import prepare
from archive.preservation.premis import PremisLog
from archive.services import elasticsearch as local_es
from archive.services import es_access, minio, minio_access
from archive.services.launcher import endpoints, role_credentials
from archive.store import S3Store
from schemas import AuditAction, LockMode
from schemas.holds import LegalHold
from schemas.premis import PremisEventType
from schemas.retention import RetentionClass
from schemas.search import SavedSearch
from tests.security.conftest import World

pytestmark = pytest.mark.integration

APP_USERS = (es_access.HARVESTER, es_access.WEB)


@pytest.fixture(scope="module")
def creds() -> dict[str, dict[str, str]]:
    if not endpoints():
        pytest.fail("the services are not running: scripts/services up")
    return role_credentials()


def es_as(creds: dict[str, dict[str, str]], user: str) -> Elasticsearch:
    return Elasticsearch(local_es.url(), basic_auth=(user, creds["es"][user]), request_timeout=30)


@pytest.fixture(scope="module")
def streams(creds: dict[str, dict[str, str]]) -> Iterator[dict[str, str]]:
    """One audit and one PREMIS stream of a fresh prefix, each with an event written by the harvester."""
    prefix = f"test-lp-{uuid.uuid4().hex[:8]}"
    harvester = es_as(creds, es_access.HARVESTER)
    audit = AuditLog(harvester, f"{prefix}-audit")
    audit.event(AuditAction.SEARCH, user="anna", role=None, target="q", refresh=True)
    premis = PremisLog(harvester, f"{prefix}-premis")
    premis.record(PremisEventType.FIXITY_CHECK, objects=["warc/x.warc.gz"], refresh=True)
    yield {"audit": audit.name, "premis": premis.name}
    admin = es_as(creds, es_access.ADMIN)
    for name in (audit.name, premis.name):
        empty_data_stream(admin, name)  # this distribution has no delete-data-stream API


def backing(creds: dict[str, dict[str, str]], stream: str) -> dict[str, Any]:
    """The stream's first event as the admin reads it: backing index, id, sequence number and term."""
    hits = es_as(creds, es_access.ADMIN).search(index=stream, size=1, seq_no_primary_term=True)["hits"]["hits"]
    return dict(hits[0])


def test_anonymous_requests_are_refused() -> None:
    answer = httpx.get(f"{local_es.url()}/_search")
    assert answer.status_code == 401


def test_the_application_writes_events_into_append_only_streams(creds: dict[str, dict[str, str]], streams: Any) -> None:
    """The first event made a data stream from the admin's template, though the harvester may put none."""
    admin = es_as(creds, es_access.ADMIN)
    for name in streams.values():
        found = admin.indices.resolve_index(name=name)
        assert [s["name"] for s in found["data_streams"]] == [name]
        assert admin.count(index=name)["count"] == 1


@pytest.mark.parametrize("user", APP_USERS)
@pytest.mark.parametrize("kind", ["audit", "premis"])
def test_no_application_credential_can_delete_or_overwrite_an_event(
    creds: dict[str, dict[str, str]], streams: dict[str, str], user: str, kind: str
) -> None:
    stream = streams[kind]
    hit = backing(creds, stream)
    index, event_id = hit["_index"], hit["_id"]
    version = {"if_seq_no": hit["_seq_no"], "if_primary_term": hit["_primary_term"]}  # what a data stream admits
    es = es_as(creds, user)
    attempts = {
        "delete the event": lambda: es.delete(index=index, id=event_id, **version),
        "overwrite the event": lambda: es.index(
            index=index, id=event_id, document={"@timestamp": "2020-01-01T00:00:00Z"}, **version
        ),
        "update the event": lambda: es.update(index=index, id=event_id, doc={"note": "x"}, **version),
        "delete the backing index": lambda: es.indices.delete(index=index),
        "roll the stream over": lambda: es.indices.rollover(alias=stream),
        "close the backing index": lambda: es.indices.close(index=index),
        "change the stream's settings": lambda: es.indices.put_settings(
            index=stream, settings={"index.blocks.read_only": False}
        ),
        "put a template over the stream": lambda: es.indices.put_index_template(
            name=f"evil-{kind}", index_patterns=[f"*-{kind}"], priority=500, data_stream={}
        ),
    }
    allowed = [what for what, attempt in attempts.items() if _succeeds(attempt)]
    assert allowed == []
    assert es_as(creds, es_access.ADMIN).count(index=stream)["count"] == 1  # the event is still there


def _succeeds(attempt: Any) -> bool:
    try:
        attempt()
    except AuthorizationException:
        return False
    return True


def test_the_web_credential_creates_no_index(creds: dict[str, dict[str, str]]) -> None:
    name = f"test-lp-{uuid.uuid4().hex[:8]}-records-v1"
    with pytest.raises(AuthorizationException):
        es_as(creds, es_access.WEB).indices.create(index=name)


def test_the_harvest_table_is_the_harvesters_and_the_web_only_reads_it(creds: dict[str, dict[str, str]]) -> None:
    """The harvest state (cursors, what is known) is written by the harvest alone: a web host that is
    taken over cannot make the harvest skip items or forget a deletion, but it can show account health."""
    name = f"test-lp-{uuid.uuid4().hex[:8]}-harvest"
    harvester, web = es_as(creds, es_access.HARVESTER), es_as(creds, es_access.WEB)
    try:
        harvester.index(index=name, id="head|a|x", document={"entry": "head", "account": "a"}, refresh=True)
        assert web.get(index=name, id="head|a|x")["found"]
        with pytest.raises(AuthorizationException):
            web.index(index=name, id="head|a|x", document={"entry": "head", "account": "a", "cursor": {}})
        with pytest.raises(AuthorizationException):
            web.delete(index=name, id="head|a|x")
    finally:
        es_as(creds, es_access.ADMIN).options(ignore_status=404).indices.delete(index=name)


@pytest.mark.parametrize("user", APP_USERS)
def test_both_application_credentials_keep_the_access_store_and_only_the_harvester_drops_it(
    creds: dict[str, dict[str, str]], user: str
) -> None:
    """Every web host checks tokens and counts failed sign-ins, the CLI adds users: both roles read and
    write the access store and may create it on first use, with its strict mapping. A web host may not
    drop or close it; the harvester may drop it (clean-up), which `write` (delete every document) allows
    in effect already."""
    from archive.index.access_store import AccessStore

    name = f"test-lp-{uuid.uuid4().hex[:8]}-access"
    es = es_as(creds, user)
    try:
        store = AccessStore(es, name)
        assert store.create("user|anna", {"kind": "user", "name": "anna", "role": "archivist"})
        assert store.get("user|anna") is not None
        assert store.update("user|anna", {"disabled": True})
        assert [d.id for d in store.every("user", sort=["name"])] == ["user|anna"]
        assert store.delete("user|anna")
        if user == es_access.WEB:
            with pytest.raises(AuthorizationException):
                es.indices.delete(index=name)
            with pytest.raises(AuthorizationException):
                es.indices.close(index=name)
        else:
            store.destroy()
            assert not store.exists()
    finally:
        es_as(creds, es_access.ADMIN).options(ignore_status=404).indices.delete(index=name)


def test_an_event_log_that_is_a_plain_index_is_refused(creds: dict[str, dict[str, str]]) -> None:
    """Written before its template existed, a 'log' is an ordinary overwritable index: say so, write nothing."""
    name = f"test-lp-{uuid.uuid4().hex[:8]}-audit"
    admin = es_as(creds, es_access.ADMIN)
    # The admin's templates make every `*-audit` a data stream; a plain index is what a cluster whose
    # admin step never ran would get from the first event. Make one as the admin, past the template.
    admin.indices.put_index_template(name=f"{name}-plain", index_patterns=[name], priority=900)
    admin.indices.create(index=name)
    admin.indices.delete_index_template(name=f"{name}-plain")
    try:
        with pytest.raises(SearchIndexError, match="plain index, not an append-only data stream"):
            AuditLog(es_as(creds, es_access.HARVESTER), name).event(AuditAction.SEARCH, user="a", role=None)
        assert admin.count(index=name)["count"] == 0
    finally:
        admin.indices.delete(index=name)


def test_the_admin_step_is_idempotent(creds: dict[str, dict[str, str]]) -> None:
    assert prepare(es_as(creds, es_access.ADMIN)) == prepare(es_as(creds, es_access.ADMIN))


# --- MinIO ------------------------------------------------------------------------------------------


def s3_as(creds: dict[str, dict[str, str]], user: str) -> Any:
    secret = creds["s3"]["root"] if user == "root" else creds["s3"][user]
    key = creds["s3"]["root-user"] if user == "root" else user
    return boto3.client(
        "s3",
        endpoint_url=minio.url(),
        region_name=minio.REGION,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


BUCKET = "communis-test"


def put_locked(s3: Any, key: str, mode: str | None, days: int = 30) -> str:
    extra: dict[str, Any] = {}
    if mode:
        extra = {"ObjectLockMode": mode, "ObjectLockRetainUntilDate": datetime.now(UTC) + timedelta(days=days)}
    return str(s3.put_object(Bucket=BUCKET, Key=key, Body=b"evidence", **extra)["VersionId"])


def refused(call: Any) -> bool:
    try:
        call()
    except ClientError as exc:
        return exc.response["Error"]["Code"] in {"AccessDenied", "InvalidRequest", "ObjectLocked"}
    return False


@pytest.mark.parametrize("user", minio_access.ROLES)
def test_no_role_can_bypass_a_governance_lock(creds: dict[str, dict[str, str]], user: str) -> None:
    key = f"lp/{uuid.uuid4().hex}/file.warc.gz"
    version = put_locked(s3_as(creds, minio_access.HARVESTER), key, "GOVERNANCE")
    s3 = s3_as(creds, user)
    assert refused(lambda: s3.delete_object(Bucket=BUCKET, Key=key, VersionId=version, BypassGovernanceRetention=True))
    assert s3_as(creds, "root").head_object(Bucket=BUCKET, Key=key, VersionId=version)["ContentLength"] == 8


def test_the_disposal_role_cannot_shorten_a_lock_first(creds: dict[str, dict[str, str]]) -> None:
    """MinIO lets a writer shorten a GOVERNANCE date with the bypass header (docs/security.md), so the
    one role that may delete versions may write nothing at all."""
    key = f"lp/{uuid.uuid4().hex}/file.warc.gz"
    version = put_locked(s3_as(creds, minio_access.HARVESTER), key, "GOVERNANCE")
    s3 = s3_as(creds, minio_access.DISPOSAL)
    soon = datetime.now(UTC) + timedelta(seconds=5)
    assert refused(
        lambda: s3.put_object_retention(
            Bucket=BUCKET,
            Key=key,
            VersionId=version,
            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": soon},
            BypassGovernanceRetention=True,
        )
    )
    assert refused(lambda: s3.put_object(Bucket=BUCKET, Key=f"{key}.new", Body=b"x"))
    retention = s3_as(creds, "root").get_object_retention(Bucket=BUCKET, Key=key, VersionId=version)
    assert retention["Retention"]["RetainUntilDate"] > datetime.now(UTC) + timedelta(days=29)


@pytest.mark.parametrize("user", ["root", *minio_access.ROLES])
def test_nobody_shortens_a_compliance_lock(creds: dict[str, dict[str, str]], user: str) -> None:
    key = f"lp/{uuid.uuid4().hex}/kept.warc.gz"
    version = put_locked(s3_as(creds, minio_access.HARVESTER), key, "COMPLIANCE")
    s3 = s3_as(creds, user)
    soon = datetime.now(UTC) + timedelta(seconds=5)
    for mode in ("COMPLIANCE", "GOVERNANCE"):
        assert refused(
            lambda mode=mode: s3.put_object_retention(
                Bucket=BUCKET,
                Key=key,
                VersionId=version,
                Retention={"Mode": mode, "RetainUntilDate": soon},
                BypassGovernanceRetention=True,
            )
        )
    assert refused(lambda: s3.delete_object(Bucket=BUCKET, Key=key, VersionId=version, BypassGovernanceRetention=True))


@pytest.mark.parametrize("user", [minio_access.HARVESTER, minio_access.WEB])
def test_only_the_disposal_role_deletes_a_version(creds: dict[str, dict[str, str]], user: str) -> None:
    """Even an unlocked version (an expired file): harvester and web are refused, disposal may."""
    key = f"lp/{uuid.uuid4().hex}/expired.warc.gz"
    version = put_locked(s3_as(creds, minio_access.HARVESTER), key, None)
    assert refused(lambda: s3_as(creds, user).delete_object(Bucket=BUCKET, Key=key, VersionId=version))
    s3_as(creds, minio_access.DISPOSAL).delete_object(Bucket=BUCKET, Key=key, VersionId=version)
    with pytest.raises(ClientError):
        s3_as(creds, "root").head_object(Bucket=BUCKET, Key=key, VersionId=version)


def test_the_disposal_role_cannot_delete_before_retain_until(creds: dict[str, dict[str, str]]) -> None:
    s3 = s3_as(creds, minio_access.DISPOSAL)
    key = f"lp/{uuid.uuid4().hex}/due-later.warc.gz"
    version = put_locked(s3_as(creds, minio_access.HARVESTER), key, "GOVERNANCE")
    assert refused(lambda: s3.delete_object(Bucket=BUCKET, Key=key, VersionId=version))


@pytest.mark.parametrize("user", minio_access.ROLES)
def test_no_role_changes_the_bucket(creds: dict[str, dict[str, str]], user: str) -> None:
    s3 = s3_as(creds, user)
    assert refused(lambda: s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"}))
    assert refused(
        lambda: s3.put_object_lock_configuration(
            Bucket=BUCKET, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"}
        )
    )
    assert refused(lambda: s3.delete_bucket(Bucket=BUCKET))


def test_permanent_classes_are_compliance_locked_by_default() -> None:
    assert RetentionClass(name="bevara", permanent=True).lock_mode is LockMode.COMPLIANCE
    assert RetentionClass(name="gallras-10", years=10).lock_mode is LockMode.GOVERNANCE
    assert Settings().retention_class("bevara").lock_mode is LockMode.COMPLIANCE


def harvester_store(creds: dict[str, dict[str, str]]) -> S3Store:
    return S3Store(
        BUCKET,
        endpoint_url=minio.url(),
        region=minio.REGION,
        access_key=minio_access.HARVESTER,
        secret_key=creds["s3"][minio_access.HARVESTER],
        prefix=f"lp-{uuid.uuid4().hex[:8]}/",
    )


def test_a_permanent_file_cannot_be_deleted_even_by_root(creds: dict[str, dict[str, str]], tmp_path: Path) -> None:
    store = harvester_store(creds)
    path = tmp_path / "kept.warc.gz"
    path.write_bytes(b"a permanent record")
    until = RetentionClass(name="bevara", permanent=True).retain_until(datetime.now(UTC))
    store.put_file(
        "kept.warc.gz", path, hashlib.sha256(path.read_bytes()).hexdigest(), retain_until=until, lock_mode=None
    )
    stored = store.head("kept.warc.gz")
    assert stored is not None and stored.lock_mode is LockMode.GOVERNANCE  # what the store does unasked
    store.put_file(
        "bevara.warc.gz",
        path,
        hashlib.sha256(path.read_bytes()).hexdigest(),
        retain_until=until,
        lock_mode=RetentionClass(name="bevara", permanent=True).lock_mode,
    )
    root = s3_as(creds, "root")
    key = f"{store.prefix}bevara.warc.gz"
    version = root.head_object(Bucket=BUCKET, Key=key)["VersionId"]
    assert root.get_object_retention(Bucket=BUCKET, Key=key)["Retention"]["Mode"] == "COMPLIANCE"
    assert refused(
        lambda: root.delete_object(Bucket=BUCKET, Key=key, VersionId=version, BypassGovernanceRetention=True)
    )


def test_hold_objects_are_locked_write_once(creds: dict[str, dict[str, str]]) -> None:
    """A hold's record cannot be deleted or replaced, by the roles or by root."""
    store = harvester_store(creds)
    hold = LegalHold(
        id=f"hold-{uuid.uuid4().hex[:12]}",
        matter="Mål T 1-26",
        scope=SavedSearch(q="x"),
        owner="lena",
        created_at=datetime.now(UTC),
    )
    save_placed(store, hold)
    key = f"{store.prefix}holds/{hold.id}/placed.json"
    root = s3_as(creds, "root")
    assert root.get_object_retention(Bucket=BUCKET, Key=key)["Retention"]["Mode"] == "COMPLIANCE"
    version = root.head_object(Bucket=BUCKET, Key=key)["VersionId"]
    for user in ("root", *minio_access.ROLES):
        s3 = s3_as(creds, user)
        assert refused(
            lambda s3=s3: s3.delete_object(Bucket=BUCKET, Key=key, VersionId=version, BypassGovernanceRetention=True)
        ), user
    assert (
        root.get_object(Bucket=BUCKET, Key=key, VersionId=version)["Body"].read()
        == hold.model_dump_json(indent=2).encode()
    )


def test_the_web_application_does_its_work_with_the_web_credential(
    world: World, creds: dict[str, dict[str, str]]
) -> None:
    """`communis serve` on a web host holds only the web credential: search, read (audited), place a hold,
    read the completeness rows the harvest wrote (and none yet, without creating their index)."""
    from archive.accounts import load_accounts
    from archive.completeness.service import report_account
    from archive.samples import ACCOUNTS_FILE

    password = SecretStr(creds["es"][es_access.WEB])
    web = world.settings.model_copy(update={"es_username": es_access.WEB, "es_password": password})
    as_web = World(**{**vars(world), "settings": web})
    with as_web.app() as client:
        found = client.get("/api/records", params={"q": "kommun"}, headers=world.headers("legal"))
        assert found.status_code == 200, found.text
        shown = client.get(f"/api/records/{world.free_id}", headers=world.headers("legal"))
        assert shown.status_code == 200, shown.text
        body = {"matter": f"Mål LP {world.run}", "scope": {"record_ids": [world.free_id]}}
        placed = client.post("/api/holds", json=body, headers=world.headers("legal"))
        assert placed.status_code == 201, placed.text
        none_yet = client.get("/api/completeness", headers=world.headers("records-manager"))
        assert none_yet.status_code == 200 and none_yet.json()["accounts"][0]["reported"] is False, none_yet.text
        account = next(a for a in load_accounts(ACCOUNTS_FILE, world.settings) if a.id == "sundsvik-mastodon")
        report_account(world.settings, world.arc.store, world.arc.index, account, made_by="test")  # the harvester's
        calendar = client.get(f"/api/completeness/{account.id}", headers=world.headers("records-manager"))
        assert calendar.status_code == 200 and calendar.json()["months"], calendar.text
    viewed = world.events(action="view", target=world.free_id)
    assert viewed and viewed[0].user == world.name("legal")
