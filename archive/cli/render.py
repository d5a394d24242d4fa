"""Rich renderings of search results and verified records for the terminal.

Platform text is untrusted: it is printed with Rich markup disabled (`Text`), so a post
containing `[bold]` or control sequences is shown as written.
"""

from __future__ import annotations

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..index import SearchResult
from ..preservation.readback import VerifiedRecord


def _when(value: str | None) -> str:
    return (value or "")[:16].replace("T", " ")


def results_table(result: SearchResult, query: str) -> Table:
    table = Table(
        title=f"{result.total} records match {query!r}" if query else f"{result.total} records", show_lines=False
    )
    table.add_column("record id", no_wrap=True)
    for col in ("platform", "account", "kind", "v", "published", "author"):
        table.add_column(col, overflow="fold")
    table.add_column("text", overflow="fold", ratio=3)
    for hit in result.hits:
        src = hit.source
        text = src.get("text") or src.get("title") or ""
        marker = "[deleted] " if src.get("deleted") else ("[hidden] " if src.get("hidden_on_platform") else "")
        table.add_row(
            Text(hit.record_id),
            Text(src["platform"]),
            Text(src["account"]),
            Text(src["kind"]),
            Text(f"{src.get('version', 1)}{'' if src.get('is_latest', True) else ' (old)'}"),
            Text(_when(src.get("published_at"))),
            Text((src.get("author") or {}).get("name") or ""),
            Text(marker + (text[:117] + "…" if len(text) > 120 else text)),
        )
    return table


def record_panel(v: VerifiedRecord) -> Panel:
    r = v.record
    loc = r.warc
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    rows = [
        ("item", r.item_key),
        ("kind", f"{r.kind.value} ({r.direction.value})"),
        ("author", " ".join(filter(None, [r.author.name, r.author.handle])) or "-"),
        ("published", str(r.published_at or "-")),
        ("edited", str(r.edited_at or "-")),
        ("captured", str(r.captured_at)),
        ("version", str(r.version)),
        ("url", r.url or "-"),
        ("deleted", "yes" if r.deleted else "no"),
        ("content sha256", r.content_sha256),
    ]
    if loc is not None:
        rows += [
            ("WARC", f"{v.document.get('warc_key')} @ {loc.offset}+{loc.length}"),
            ("WARC record", loc.record_id),
            ("record sha256", loc.sha256),
        ]
    if v.stored is not None:
        mode = v.stored.lock_mode.value if v.stored.lock_mode else "no lock"
        rows += [("stored at", v.stored.location), ("retain until", f"{v.stored.retain_until} ({mode})")]
    for name, value in rows:
        head.add_row(name, Text(value))
    body = Text((r.title + "\n\n" if r.title else "") + r.text)
    verdict = Text("✔ verified: the stored WARC record matches its SHA-256 and record id", style="green")
    return Panel(Group(head, Text(""), body, Text(""), verdict), title=f"record {r.record_id}", expand=False)
