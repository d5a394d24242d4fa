"""Public-records requests and legal holds through the HTTP API, on the `legal_served` world.

One case from an anonymous request to a closed case with a delivered package, the roles that
may (not) handle cases and holds, and the audit trail every step leaves.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import stat
import zipfile
from pathlib import Path
from typing import Any

import bagit
import pytest

from tests.harvesting import PLANTED, PNR
from tests.web.conftest import PERMIT_POST, Served

pytestmark = pytest.mark.integration


def doc_of(served: Served, name: str) -> dict[str, Any]:
    served.arc.index.es.indices.refresh(index=served.arc.index.alias)
    return served.latest(name)


def new_case(served: Served, role: str = "legal", **body: Any) -> dict[str, Any]:
    payload = {
        "request_text": "Alla inlägg och kommentarer om bygglovet för Solbacken",
        "searches": [{"q": "bygglovet"}],
        **body,
    }
    with served.client(role) as client:
        response = client.post("/api/requests", json=payload)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_anonymous_request_from_case_to_closed_delivery(legal_served: Served, tmp_path: Path) -> None:
    served = legal_served
    created = new_case(served)
    case = created["case"]
    cid = case["id"]
    assert case["requester"] is None and case["handler"] == "legal" and case["status"] == "open"
    assert created["due"] and created["overdue"] is False

    with served.client("legal") as legal:
        run = legal.post(f"/api/requests/{cid}/run")
        assert run.status_code == 200, run.text
        assert run.json()["total"] == 2 and run.json()["by_platform"] == {"facebook": 2}
        assert run.json()["suggestions"] >= 3

        detail = legal.get(f"/api/requests/{cid}").json()
        assert detail["snapshot"]["by_account"] == {"facebook": {"sv-facebook": 2}}
        assert detail["masks"]["pending"] >= 3 and detail["masks"]["by_kind"].keys() >= {"personnummer", "email"}
        assert detail["packages"] == []

        # Nothing leaves while a suggestion is unreviewed; the refusal says why and leaves no package.
        refused = legal.post(f"/api/requests/{cid}/export")
        assert refused.status_code == 400 and "unreviewed" in refused.json()["detail"]
        assert not any((served.arc.settings.data_dir / "packages").glob(f"{cid}-*"))

        masks = legal.get(f"/api/requests/{cid}/masks", params={"status": "pending"}).json()
        assert len(masks) == detail["masks"]["pending"]
        assert all(value not in json.dumps(masks) for value in PLANTED), "a mask list must not copy the values"
        no_ground = legal.post(f"/api/requests/{cid}/masks/decide", json={"accept": True, "all": True})
        assert no_ground.status_code == 400 and "ground" in no_ground.json()["detail"]
        both = legal.post(f"/api/requests/{cid}/masks/decide", json={"accept": True, "all": True, "ids": ["x"]})
        assert both.status_code == 422
        one = legal.post(
            f"/api/requests/{cid}/masks/decide", json={"accept": True, "ground": "OSL 21:3", "ids": [masks[0]["id"]]}
        )
        assert one.json() == {"decided": 1}
        rest = legal.post(f"/api/requests/{cid}/masks/decide", json={"accept": True, "ground": "OSL 21:7", "all": True})
        assert rest.json() == {"decided": len(masks) - 1}

        post = doc_of(served, "permit")
        start = PERMIT_POST.index("Solbacken")
        manual = legal.post(
            f"/api/requests/{cid}/masks",
            json={
                "record_id": post["record_id"],
                "field": "text",
                "start": start,
                "end": start + len("Solbacken"),
                "ground": "OSL 21:7",
            },
        )
        assert manual.status_code == 201, manual.text
        assert manual.json()["mask"]["kind"] == "manual" and manual.json()["mask"]["status"] == "accepted"
        outside = legal.post(
            f"/api/requests/{cid}/masks",
            json={"record_id": post["record_id"], "field": "text", "start": 0, "end": 10_000, "ground": "OSL 21:7"},
        )
        assert outside.status_code == 400

        excluded = legal.post(
            f"/api/requests/{cid}/records/{post['record_id']}/review",
            json={"include": False, "reason": "utanför begäran"},
        )
        assert excluded.status_code == 200 and excluded.json()["included"] is False
        no_reason = legal.post(
            f"/api/requests/{cid}/records/{post['record_id']}/review", json={"include": True, "reason": ""}
        )
        assert no_reason.status_code == 422
        legal.post(
            f"/api/requests/{cid}/records/{post['record_id']}/review", json={"include": True, "reason": "omfattas ändå"}
        ).raise_for_status()

        exported = legal.post(f"/api/requests/{cid}/export")
        assert exported.status_code == 201, exported.text
        out = exported.json()
        assert out["records"] == 2 and out["masked_spans"] == len(masks) + 1
        assert out["package"]["name"] == f"{cid}-1" and Path(out["package"]["path"]).is_dir()
        assert legal.get(f"/api/requests/{cid}").json()["packages"] == [out["package"]]

        download = legal.get(out["package"]["download"])
        assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
        assert legal.get(f"/api/requests/{cid}/packages/9.zip").status_code == 404

        delivered = legal.post(
            f"/api/requests/{cid}/deliveries",
            json={"package": out["package"]["name"], "note": "e-post till den sökande"},
        )
        assert delivered.status_code == 201, delivered.text
        assert delivered.json()["number"] == 1 and delivered.json()["records"] == 2
        assert legal.post(f"/api/requests/{cid}/deliveries", json={"package": "not-a-package"}).status_code == 400

        closed = legal.post(f"/api/requests/{cid}/close")
        assert closed.status_code == 200 and closed.json()["status"] == "closed"
        assert legal.post(f"/api/requests/{cid}/run").status_code == 409
        assert legal.post(f"/api/requests/{cid}/deliveries", json={}).status_code == 409
        listed = {s["case"]["id"]: s for s in legal.get("/api/requests").json()}
        assert listed[cid]["case"]["deliveries"][0]["package"] == f"{cid}-1" and listed[cid]["overdue"] is False

    # The zip is the delivery, a bag of the release copy: it validates, and no planted value is in it.
    with zipfile.ZipFile(io.BytesIO(download.content)) as zf:
        assert all(name.startswith(f"{cid}-1/") for name in zf.namelist())
        zf.extractall(tmp_path)
    bag = tmp_path / f"{cid}-1"
    bagit.Bag(str(bag)).validate()
    for path in (bag / "data").rglob("*"):
        if path.suffix in (".html", ".csv", ".jsonl"):
            text = path.read_text(encoding="utf-8")
            assert not any(value in text for value in PLANTED), path
    assert "Solbacken" not in (bag / "data/records.jsonl").read_text(encoding="utf-8")
    decision = json.loads((bag / "data/masking-decision.json").read_text())
    assert {s["ground"] for s in decision["masked_spans"]} == {"OSL 21:3", "OSL 21:7"}

    events = served.audit_events(target=cid, user="legal")
    assert all(e["client"] == "127.0.0.1" and e["role"] == "legal" for e in events)
    actions = {(e["action"], e["outcome"]) for e in events}
    assert actions >= {
        ("request.create", "ok"),
        ("request.run", "ok"),
        ("request.review", "ok"),
        ("request.export", "failed"),
        ("request.export", "ok"),
        ("request.deliver", "ok"),
        ("request.close", "ok"),
    }
    failed = [e["note"] for e in events if e["action"] == "request.export" and e["outcome"] == "failed"]
    assert any("unreviewed" in note for note in failed) and any("no package 9" in note for note in failed)


def test_the_download_holds_the_release_only_and_no_digest_a_guess_can_be_tested_against(
    legal_served: Served, tmp_path: Path
) -> None:
    """A requester who brute-forces a personnummer needs its digest: the delivery carries none, nor the originals."""
    served = legal_served
    cid = new_case(served)["case"]["id"]
    with served.client("legal") as legal:
        legal.post(f"/api/requests/{cid}/run").raise_for_status()
        masks = legal.get(f"/api/requests/{cid}/masks").json()
        legal.post(
            f"/api/requests/{cid}/masks/decide", json={"accept": True, "ground": "OSL 21:7", "all": True}
        ).raise_for_status()
        exported = legal.post(f"/api/requests/{cid}/export")
        assert exported.status_code == 201, exported.text
        download = legal.get(exported.json()["package"]["download"])
        assert download.status_code == 200
    zipped = download.content
    with zipfile.ZipFile(io.BytesIO(zipped)) as zf:
        names = zf.namelist()
        everything = b"".join(zf.read(name) for name in names)
    # Release only: no unmasked WARC or WACZ, no internal decision, custody log or case file.
    assert not [n for n in names if "/internal/" in n or n.endswith((".warc.gz", ".wacz", "case.json"))], names
    assert f"{cid}-1/data/records.csv" in names and f"{cid}-1/data/masking-decision.json" in names
    assert PNR.encode() not in everything
    # No digest of a masked value: neither the plain SHA-256 anyone can recompute from a guess, nor the keyed one.
    plain = {m["mask"]["value_sha256"] for m in masks} | {hashlib.sha256(PNR.encode()).hexdigest()}
    assert plain and not [h for h in plain if h.encode() in everything]
    assert b"value_hmac" not in everything and b"value_sha256" not in everything

    # The authority's package keeps a keyed digest (HMAC under the installation's key, mode 0600, not in it).
    package = served.arc.settings.data_dir / "packages" / f"{cid}-1"
    internal = json.loads((package / "data/internal/masking-decision.json").read_text())
    key_file = served.arc.settings.data_dir / "secrets" / "request-masking.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    key = key_file.read_bytes()
    pnr_seal = hmac.new(key, PNR.encode(), hashlib.sha256).hexdigest()
    assert pnr_seal in {s["value_hmac"] for s in internal["masked_spans"]}
    assert not [h for h in plain if h in json.dumps(internal)]
    stored = b"".join(p.read_bytes() for p in package.rglob("*") if p.is_file()) + zipped
    for form in (key, key.hex().encode(), base64.b64encode(key)):
        assert form not in stored


def test_media_decisions_are_legal_staffs_need_a_ground_and_a_file_of_the_case(legal_served: Served) -> None:
    served = legal_served
    cid = new_case(served)["case"]["id"]
    body = {"media_sha256": "0" * 64, "action": "withhold", "ground": "OSL 21:7"}
    with served.client("archivist") as archivist:
        assert archivist.post(f"/api/requests/{cid}/media/decide", json=body).status_code == 403
    with served.client("legal") as legal:
        legal.post(f"/api/requests/{cid}/run").raise_for_status()
        unknown = legal.post(f"/api/requests/{cid}/media/decide", json=body)
        assert unknown.status_code == 400 and "no record" in unknown.json()["detail"]
        assert legal.post(f"/api/requests/{cid}/media/decide", json={**body, "ground": ""}).status_code == 422
        assert legal.post(f"/api/requests/{cid}/media/decide", json={**body, "action": "blur"}).status_code == 422
        page = legal.get(f"/requests/{cid}")
        assert page.status_code == 200 and 'aria-label="Media"' in page.text
        form = {"media": "0" * 64, "action": "withhold", "ground": "OSL 21:7"}
        refused = legal.post(f"/requests/{cid}/media/decide", data=form, follow_redirects=False)
        assert refused.status_code == 400 and "no record" in refused.text
    failed = served.audit_events(target=cid, action="request.review", outcome="failed")
    assert any("no record" in e["note"] for e in failed)


def test_only_legal_staff_handle_cases(legal_served: Served) -> None:
    served = legal_served
    cid = new_case(served, requester="Karin Svensson")["case"]["id"]
    steps = {
        "create": ("post", "/api/requests", {"searches": [{"q": "bygglovet"}]}),
        "run": ("post", f"/api/requests/{cid}/run", None),
        "export": ("post", f"/api/requests/{cid}/export", None),
        "close": ("post", f"/api/requests/{cid}/close", None),
    }
    for role in ("archivist", "read-only"):
        with served.client(role) as client:
            got = {
                name: client.request(method, path, json=body).status_code
                for name, (method, path, body) in steps.items()
            }
            assert got == {name: 403 for name in steps}, role
            assert client.get(f"/api/requests/{cid}").status_code == (200 if role == "archivist" else 403)
            assert client.get("/api/requests").status_code == (200 if role == "archivist" else 403)
    with served.client("admin") as admin:
        assert admin.post(f"/api/requests/{cid}/run").status_code == 200
    denied = served.audit_events(user="archivist", outcome="denied")
    assert {e["action"] for e in denied} >= {"request.create", "request.run", "request.export", "request.close"}
    assert any(e["target"] == f"/api/requests/{cid}/run" for e in denied)
    with served.client(None) as anon:
        assert anon.get("/api/requests").status_code == 401
        assert anon.post("/api/holds", json={}).status_code == 401


def test_back_dated_request_is_overdue_and_future_refused(legal_served: Served) -> None:
    served = legal_served
    old = new_case(served, received_at="2026-01-05T09:00:00+01:00", diary_number="KS 2026/12")
    assert old["case"]["received_at"].startswith("2026-01-05T09:00") and old["case"]["id"].startswith("case-20260105-")
    assert old["overdue"] is True and old["due"] == "2026-01-05"  # "skyndsamt": the day it arrived
    with served.client("legal") as legal:
        future = legal.post("/api/requests", json={"searches": [{"q": "x"}], "received_at": "2999-01-01T00:00:00Z"})
        assert future.status_code == 400 and "future" in future.json()["detail"]
        naive = legal.post("/api/requests", json={"searches": [{"q": "x"}], "received_at": "2026-01-05T09:00:00"})
        assert naive.status_code == 422
        empty = legal.post("/api/requests", json={"searches": [{}]})
        assert empty.status_code == 400
        unknown = legal.post("/api/requests", json={"searches": [{"q": "x"}], "profile": "atlantis"})
        assert unknown.status_code == 400 and "profile" in unknown.json()["detail"]
        listed = {s["case"]["id"]: s for s in legal.get("/api/requests").json()}
    assert listed[old["case"]["id"]]["overdue"] is True
    [event] = served.audit_events(target=old["case"]["id"], action="request.create")
    assert "received 2026-01-05T09:00:00+01:00, registered " in event["note"]


def test_holds_through_the_api_mark_records_and_are_audited(legal_served: Served) -> None:
    served = legal_served
    body = {"matter": "Tvist om skolskjutsar", "reason": "Tvist kan väntas", "scope": {"q": "skolskjutsar"}}
    for role in ("archivist", "read-only"):
        with served.client(role) as client:
            assert client.post("/api/holds", json=body).status_code == 403
            assert client.get("/api/holds").status_code == 403
    with served.client("legal") as legal:
        placed = legal.post("/api/holds", json=body)
        assert placed.status_code == 201, placed.text
        hold = placed.json()["hold"]
        assert placed.json()["records"] == 1 and hold["owner"] == "legal"
        assert hold["id"] in (doc_of(served, "held").get("legal_holds") or [])
        assert not doc_of(served, "permit").get("legal_holds")
        listed = {h["hold"]["id"]: h for h in legal.get("/api/holds").json()}
        assert listed[hold["id"]]["records"] == 1 and listed[hold["id"]]["hold"]["released_at"] is None

        everything = legal.post("/api/holds", json={"matter": "allt", "scope": {}})
        assert everything.status_code == 400 and "scope" in everything.json()["detail"]

        released = legal.post(f"/api/holds/{hold['id']}/release")
        assert released.status_code == 200 and released.json()["records"] == 1
        assert released.json()["hold"]["released_by"] == "legal"
        assert not doc_of(served, "held").get("legal_holds")
        assert legal.post(f"/api/holds/{hold['id']}/release").status_code == 400
        assert legal.post("/api/holds/hold-000000000000/release").status_code == 404
        active = legal.get("/api/holds", params={"released": "false"}).json()
        assert hold["id"] not in {h["hold"]["id"] for h in active}

    [place] = served.audit_events(action="hold.place", target=hold["id"])
    assert place["user"] == "legal" and place["client"] == "127.0.0.1" and "skolskjutsar" in place["note"]
    assert served.audit_events(action="hold.release", target=hold["id"], outcome="ok")
    assert served.audit_events(action="hold.release", target=hold["id"], outcome="failed")
    assert served.audit_events(action="hold.place", outcome="failed", user="legal")
    assert served.audit_events(action="hold.place", outcome="denied", user="archivist")
