"""WACZ 1.1.1 (WZ-1) from one produced WARC file, with its CDXJ index (CX-1) and page list.

A WACZ lets a requester open the production in ReplayWeb.page without any Communis software.
The WARC goes in as it is (ZIP_STORED: its gzip members stay seekable by the CDXJ offsets and
its SHA-256 stays the one in the bag and the hash report); the index is built by reading the
WARC itself, so it can only describe what is really in the file.

Pages: Communis captures platform APIs, so the URL whose bytes are in the WARC is the API URL
of the response holding a record, not the public post URL (which was never fetched). Pages
therefore point at API URLs of captured responses (`Page.for_record`), with the public URL or
post text in the title; `write_wacz` refuses a page whose URL is not in the index.

Memory: the index lines are sorted in runs of `SORT_RUN` lines spilled to temporary files and
merged, so only the set of indexed URLs (to check pages against) grows with the record count.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import re
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator

from .. import clock
from ..version import SOFTWARE
from .warcfile import CopiedRecord

WACZ_VERSION = "1.1.1"
INDEXED_TYPES = frozenset({"response", "revisit", "resource"})
SORT_RUN = 50_000
_CHUNK = 1024 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}
_NAME = re.compile(r"[^-a-z0-9._/]")


@dataclass(frozen=True)
class Page:
    """One entry of pages.jsonl: a URL in the index, when it was captured, and a human title."""

    url: str
    ts: datetime
    title: str = ""

    @classmethod
    def for_record(cls, copied: CopiedRecord, title: str) -> Page:
        """The page of a produced record: the URL and capture time of the response that holds it."""
        return cls(copied.target_uri, parse_warc_date(copied.date), title)


@dataclass(frozen=True)
class BuiltWacz:
    """The finished WACZ: path, size, SHA-256, and how many index lines and pages it holds."""

    path: Path
    bytes: int
    sha256: str
    index_lines: int
    pages: int


def parse_warc_date(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def rfc3339(moment: datetime) -> str:
    """UTC, `Z`, seconds or microseconds: what pages.jsonl `ts` and datapackage `created` carry."""
    moment = moment.astimezone(UTC)
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if moment.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return moment.strftime(fmt)


def surt(url: str) -> str:
    """The SURT sort key of `url` as pywb and py-wacz write it (`com,example)/path?a=1&b=2`).

    Scheme, `www.`, the default port and a trailing slash are dropped, the host is reversed,
    query arguments are sorted and the whole key is lowercased: the IA canonicalizer's rules
    that apply to the API URLs Communis captures (it does not strip session ids or re-escape
    percent-encoding). A test compares it with the `surt` package, which is not a dependency
    because it pulls in tldextract for rules these URLs never need.
    """
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().rstrip(".")
    host = re.sub(r"^www\d*\.", "", host)
    key = ",".join(reversed(host.split(".")))
    try:
        port = parts.port
    except ValueError:
        port = None
    if port and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        key += f":{port}"
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    query = "&".join(sorted(parts.query.lower().split("&"))) if parts.query else ""
    return (key + ")" + path + ("?" + query if query else "")).lower()


def _index_entries(warc: Path, filename: str, urls: set[str]) -> Iterator[str]:
    """One CDXJ line per response, revisit and resource record of `warc`; collects their URLs."""
    with warc.open("rb") as fh:
        it = ArchiveIterator(fh)
        for record in it:
            rtype = str(record.rec_type)
            headers = record.rec_headers
            it.read_to_end(record)
            if rtype not in INDEXED_TYPES:
                continue
            url = str(headers.get_header("WARC-Target-URI") or "")
            if not url:
                continue
            status = 200
            mime = str(headers.get_header("Content-Type") or "").split(";")[0].strip()
            if record.http_headers is not None and rtype != "resource":
                status = int(record.http_headers.get_statuscode() or 0)
                mime = str(record.http_headers.get_header("Content-Type") or "").split(";")[0].strip()
            if rtype == "revisit":
                mime = "warc/revisit"
            digest = headers.get_header("WARC-Payload-Digest") or headers.get_header("WARC-Block-Digest") or ""
            # numbers as strings, as pywb and cdxj-indexer write them (a test compares with cdxj-indexer)
            fields = {
                "url": url,
                "mime": mime,
                "status": str(status),
                "digest": str(digest),
                "length": str(it.get_record_length()),
                "offset": str(it.get_record_offset()),
                "filename": filename,
            }
            timestamp = parse_warc_date(str(headers.get_header("WARC-Date"))).strftime("%Y%m%d%H%M%S")
            urls.add(url)
            yield f"{surt(url)} {timestamp} {json.dumps(fields, ensure_ascii=False, separators=(', ', ': '))}\n"


def _sorted(lines: Iterator[str], spill: ExitStack) -> Iterator[str]:
    """`lines` sorted, holding at most SORT_RUN of them in memory (runs spilled to temp files)."""
    runs: list[IO[str]] = []
    while True:
        run = sorted(line for _, line in zip(range(SORT_RUN), lines, strict=False))
        if not run:
            break
        if len(run) < SORT_RUN and not runs:
            yield from run
            return
        # closed by `spill` when the WACZ is written, since the merge reads every run until then
        tmp = spill.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8"))  # noqa: SIM115
        tmp.writelines(run)
        tmp.seek(0)
        runs.append(tmp)
    yield from heapq.merge(*runs)


class _Resources:
    """Writes ZIP members while hashing them, collecting the datapackage `resources` entries."""

    def __init__(self, zf: zipfile.ZipFile, date_time: tuple[int, int, int, int, int, int]) -> None:
        self.zf, self.date_time = zf, date_time
        self.entries: list[dict[str, str | int]] = []

    def write(self, path: str, chunks: Iterable[bytes], compress: int, size_hint: int = 0) -> None:
        info = zipfile.ZipInfo(path, self.date_time)
        info.compress_type = compress
        digest = hashlib.sha256()
        size = 0
        with self.zf.open(info, "w", force_zip64=size_hint > 2**31 - 1) as out:
            for chunk in chunks:
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
        name = _NAME.sub("-", path.rsplit("/", 1)[-1].lower())
        self.entries.append({"name": name, "path": path, "hash": "sha256:" + digest.hexdigest(), "bytes": size})


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while block := fh.read(_CHUNK):
            yield block


def _page_lines(pages: Iterable[Page], title: str, urls: set[str], counts: dict[str, int]) -> Iterator[bytes]:
    header = {"format": "json-pages-1.0", "id": "pages", "title": title}
    yield (json.dumps(header, ensure_ascii=False) + "\n").encode("utf-8")
    for page in pages:
        if page.url not in urls:
            raise ValueError(f"page {page.url} is not in the index of this WACZ: a page must be a captured URL")
        counts["pages"] += 1
        line = {
            "id": hashlib.sha256(f"{page.url} {rfc3339(page.ts)}".encode()).hexdigest()[:32],
            "url": page.url,
            "ts": rfc3339(page.ts),
            "title": page.title,
        }
        yield (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8")


def write_wacz(
    dest: Path, warc: Path, pages: Iterable[Page], *, title: str, description: str = "", created: datetime | None = None
) -> BuiltWacz:
    """Write `dest` (*.wacz): `warc` stored unchanged, its CDXJ index, `pages` and the datapackage.

    Raises ValueError if a page's URL is not a captured URL of `warc`; nothing is left behind.
    """
    if dest.suffix != ".wacz":
        raise ValueError(f"{dest.name}: a WACZ file is named *.wacz")
    if not warc.name.endswith((".warc.gz", ".warc")):
        raise ValueError(f"{warc.name}: not a WARC file name")
    moment = (created or clock.now()).astimezone(UTC)
    date_time = moment.timetuple()[:6]
    archive_path = f"archive/{warc.name}"
    urls: set[str] = set()
    counts = {"index": 0, "pages": 0}
    tmp = dest.with_name(dest.name + ".open")
    try:
        with ExitStack() as spill, zipfile.ZipFile(tmp, "x", allowZip64=True) as zf:
            res = _Resources(zf, date_time)
            res.write(archive_path, _file_chunks(warc), zipfile.ZIP_STORED, warc.stat().st_size)

            def index_lines() -> Iterator[bytes]:
                for line in _sorted(_index_entries(warc, warc.name, urls), spill):
                    counts["index"] += 1
                    yield line.encode("utf-8")

            res.write("indexes/index.cdxj", index_lines(), zipfile.ZIP_DEFLATED)
            res.write("pages/pages.jsonl", _page_lines(pages, title, urls, counts), zipfile.ZIP_DEFLATED)
            package = {
                "profile": "data-package",
                "wacz_version": WACZ_VERSION,
                "title": title,
                **({"description": description} if description else {}),
                "created": rfc3339(moment.replace(microsecond=0)),
                "software": SOFTWARE,
                "resources": res.entries,
            }
            package_bytes = json.dumps(package, ensure_ascii=False, indent=2).encode("utf-8")
            zf.writestr(zipfile.ZipInfo("datapackage.json", date_time), package_bytes, zipfile.ZIP_DEFLATED)
            digest = {"path": "datapackage.json", "hash": "sha256:" + hashlib.sha256(package_bytes).hexdigest()}
            zf.writestr(
                zipfile.ZipInfo("datapackage-digest.json", date_time),
                json.dumps(digest, indent=2).encode("utf-8"),
                zipfile.ZIP_DEFLATED,
            )
    except BaseException:
        tmp.unlink(missing_ok=True)  # half a WACZ is never produced
        raise
    tmp.rename(dest)
    whole = hashlib.sha256()
    for block in _file_chunks(dest):
        whole.update(block)
    return BuiltWacz(dest, dest.stat().st_size, whole.hexdigest(), counts["index"], counts["pages"])
