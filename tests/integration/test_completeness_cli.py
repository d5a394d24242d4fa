"""`communis completeness`: a report per account, kept and audited, exit 1 on a gap, one-line errors."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from archive.access import open_audit
from archive.cli import app
from archive.completeness.book import load, report_keys
from archive.config import Settings, get_settings
from archive.context import Archive
from schemas import AuditAction, CountOf, Platform
from tests.completeness_data import comment, index_records, reading, record, write_readings

pytestmark = pytest.mark.integration

M, WP = Platform.MASTODON, Platform.WORDPRESS
OCT = datetime(2026, 10, 5, tzinfo=UTC)
NOV = datetime(2026, 11, 5, tzinfo=UTC)
MASTODON, BLOG = "sundsvik-mastodon", "sundsvik-blogg"  # the sample accounts file's


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[CliRunner, Archive]]:
    for name, value in {
        "COMMUNIS_DATA_DIR": settings.data_dir,
        "COMMUNIS_STORE_PATH": settings.store_path,
        "COMMUNIS_ES_INDEX_PREFIX": settings.es_index_prefix,
        "COMMUNIS_EVENTS_PREFIX": settings.events_prefix,
        "COMMUNIS_ACCOUNTS_FILE": settings.accounts_file,
    }.items():
        monkeypatch.setenv(name, str(value))
    get_settings.cache_clear()
    arc = Archive(settings)
    yield CliRunner(), arc
    get_settings.cache_clear()
    arc.index.destroy()


def _holdings(arc: Archive) -> None:
    """Mastodon: October complete, November one comment short under p2. The blog: its totals agree."""
    index_records(
        arc.index,
        [
            record(M, MASTODON, "p1", published=OCT),
            comment(M, MASTODON, "c1", "p1", published=OCT),
            record(M, MASTODON, "p2", published=NOV),
            comment(M, MASTODON, "c2", "p2", published=NOV),
            record(WP, BLOG, "post-1", published=OCT),
        ],
    )
    write_readings(
        arc.index,
        [
            reading(M, MASTODON, 1, item_id="p1", published=OCT),
            reading(M, MASTODON, 2, item_id="p2", published=NOV),
            reading(M, MASTODON, 2, what=CountOf.POSTS),
            reading(WP, BLOG, 1, what=CountOf.POSTS),
            reading(WP, BLOG, 0, what=CountOf.PAGES),
            reading(WP, BLOG, 0, what=CountOf.COMMENTS, detail="approved"),
        ],
    )


def test_a_gap_exits_1_names_the_post_and_is_kept_and_audited(
    cli: tuple[CliRunner, Archive], settings: Settings
) -> None:
    runner, arc = cli
    _holdings(arc)
    result = runner.invoke(app, ["completeness"])
    assert result.exit_code == 1, result.output
    assert (
        "sundsvik-mastodon (mastodon, account): gap: 1 comment(s) missing under 1 item(s) in 1 month(s) (2026-11)"
        in result.output
    )
    assert "p2" in result.output and "1 missing" in result.output
    assert "sundsvik-blogg (wordpress, account): unknowable" in result.output  # no per-post count on WordPress
    mastodon_keys, blog_keys = report_keys(arc.store, MASTODON), report_keys(arc.store, BLOG)
    assert len(mastodon_keys) == 1 and len(blog_keys) == 1
    audit = open_audit(settings)
    audit.refresh()
    mine = {
        e.target: e
        for e in audit.latest(1000, action=AuditAction.COMPLETENESS)
        if e.note.endswith((mastodon_keys[0], blog_keys[0]))
    }
    assert set(mine) == {MASTODON, BLOG}
    assert mine[MASTODON].note == f"gap: {mastodon_keys[0]}" and (mine[MASTODON].user or "").startswith("os:")


def test_one_month_of_one_account_and_json(cli: tuple[CliRunner, Archive]) -> None:
    runner, arc = cli
    _holdings(arc)
    result = runner.invoke(app, ["completeness", "--account", MASTODON, "--month", "2026-10", "--json"])
    assert result.exit_code == 0, result.output
    (line,) = result.output.splitlines()
    report = json.loads(line)
    assert (report["scope"], report["status"], [m["month"] for m in report["months"]]) == (
        "month 2026-10",
        "complete",
        ["2026-10"],
    )
    assert report_keys(arc.store, BLOG) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--month", "2026-13"], "error: --month '2026-13' is not a month — write it as YYYY-MM"),
        (["--account", "nobody"], "error: account 'nobody' is not in the accounts file"),
    ],
)
def test_bad_input_is_one_line(cli: tuple[CliRunner, Archive], args: list[str], message: str) -> None:
    runner, _ = cli
    result = runner.invoke(app, ["completeness", *args])
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[0].startswith(message), result.output


def test_the_sign_off_pdf_is_kept_beside_the_report_and_written_out(
    cli: tuple[CliRunner, Archive], tmp_path: Path
) -> None:
    runner, arc = cli
    _holdings(arc)
    out = tmp_path / "signed"
    out.mkdir()
    result = runner.invoke(app, ["completeness", "--account", MASTODON, "--pdf", str(out)])
    assert result.exit_code == 1, result.output
    (key,) = report_keys(arc.store, MASTODON)
    pdf_key = key.removesuffix(".json") + ".pdf"
    (written,) = out.iterdir()
    assert written.name == f"{MASTODON}-{pdf_key.rsplit('/', 1)[-1]}" and f"wrote {written}" in result.output
    with arc.store.open(pdf_key) as fh:
        assert fh.read() == written.read_bytes()
    text = "\n".join(page.extract_text() for page in PdfReader(written).pages)
    assert "Completeness report" in text and "GAP" in text and "p2" in text and "Signature" in text
    assert hashlib.sha256(load(arc.store, key).model_dump_json(indent=2).encode()).hexdigest() in text
    again = runner.invoke(app, ["completeness", "--account", MASTODON, "--pdf", str(out / "nowhere")])
    assert again.exit_code == 2 and "is not a folder — create it" in " ".join(again.output.split())
