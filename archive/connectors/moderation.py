"""The account's own moderation lists as records: who it blocked or muted, which domains, which words.

Requesters ask for these (US courts and attorneys general have ordered blocked-user lists disclosed;
a block is the municipality's own decision), so each list is a record of the account, kind
`moderation`, direction `upprattad`, with the item id of the list (`blocks`, `mutes`,
`domain_blocks`, `filters`, `list_blocks`). Its content is every entry (`Record.moderation`) and a
readable rendering of them in `text`, so full-text search and request masking (which read `text`)
see the third parties a list names. A block or an unblock changes the content, so the versioner
makes a new version of the list by itself; the version's `captured_at` is when the change was first
seen.

Each list is read once per run, every page of it, and every page is archived as its own capture
(the raw response in the WARC). The record rides on the last page's capture. A list is recorded
only when every page of it was read: a partial list would look like unblocks. A list the token may
not read (401/403, or 404 where the server has no such endpoint) is archived as the refusal and a
one-line note in the harvest report, never a failed run: many tokens (an app-only X token, a public
Mastodon account without one) may read posts but not moderation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from schemas import Author, CaptureBundle, Direction, Kind, ModerationEntry, ModerationList, Record

from ..bundles import Rejected
from ..errors import ConnectorError
from .base import HarvestContext
from .http import Fetched, without_query
from .listing import ITEM_ERRORS, cause, reason_at

#: What each list is called in a record's title and text.
TITLES = {
    "blocks": "Blocked accounts",
    "mutes": "Muted accounts",
    "domain_blocks": "Blocked domains",
    "filters": "Word filters",
    "list_blocks": "Blocked lists",
}
#: Statuses that mean "this token may not read this list here" rather than a failed run.
REFUSED = (401, 403, 404)
#: A list longer than this many pages is cut off with a note (a loop guard: real lists are short).
MAX_PAGES = 500

#: One page's entries and where the next page is (URL and query, or None at the end).
Page = tuple[list[ModerationEntry], tuple[str, dict[str, str] | None] | None]


@dataclass(frozen=True)
class ListSource:
    """Where one list is read and how a page of it is parsed."""

    name: str
    url: str
    params: dict[str, str] | None
    parse: Callable[[Fetched, Any], Page]
    """A page's body → its entries and the next page; raises (KeyError, TypeError, ValueError …) on a
    body that is not the list."""
    refused: tuple[int, ...] = REFUSED
    headers: dict[str, str] | None = None
    """Sent with every page (a credential the list needs that the account's other requests do not get)."""


def read_lists(ctx: HarvestContext, platform: str, sources: list[ListSource]) -> Iterator[CaptureBundle | Rejected]:
    """Every list in `sources`, one after another (a problem with one never stops the next)."""
    for source in sources:
        yield from read_list(ctx, platform, source)


def read_list(ctx: HarvestContext, platform: str, source: ListSource) -> Iterator[CaptureBundle | Rejected]:
    """One list: its pages as captures, and on the last a record of the whole list (if every page was read)."""
    title = TITLES.get(source.name, source.name)
    pages: list[Fetched] = []
    entries: list[ModerationEntry] = []
    raws: list[Any] = []
    url, params = source.url, source.params
    asked: set[str] = set()
    while True:
        asked.add(_where(url, params))
        try:
            fetched = ctx.fetcher.get(url, params=params, accept=source.refused, headers=source.headers)
        except ConnectorError as exc:
            ctx.notes.append(f"{platform} {source.name}: not read this run ({exc.one_line()})")
            yield from _without_record(pages)
            return
        status = fetched.response.status_code
        if status in source.refused:
            why = "no such list on this server" if status == 404 else "the token may not read it"
            where = without_query(fetched.capture.url)
            ctx.notes.append(f"{platform} {source.name}: not read: {where} answered HTTP {status} ({why})")
            yield from _without_record([*pages, fetched])  # the refusal is kept as evidence
            return
        try:
            body = fetched.json()
            found, following = source.parse(fetched, body)
        except (ConnectorError, *ITEM_ERRORS) as exc:
            reason = reason_at(f"unreadable {source.name} list ({cause(exc)})", fetched.capture.url)
            ctx.notes.append(f"{platform} {source.name}: not recorded this run: {reason}")
            yield from _without_record(pages)
            yield Rejected(fetched.capture.body, reason)
            return
        pages.append(fetched)
        entries += found
        raws.append(body)
        if following is None:
            break
        url, params = following
        if len(pages) >= MAX_PAGES or _where(url, params) in asked:
            ctx.notes.append(f"{platform} {source.name}: not recorded: more than {MAX_PAGES} pages, or a page repeats")
            yield from _without_record(pages)
            return
    record = moderation_record(ctx, platform, source.name, title, entries, pages, raws)
    yield from _without_record(pages[:-1])
    yield CaptureBundle(capture=pages[-1].capture, records=[record])


def _where(url: str, params: dict[str, str] | None) -> str:
    return url + "?" + "&".join(f"{k}={v}" for k, v in sorted((params or {}).items()))


def _without_record(pages: list[Fetched]) -> Iterator[CaptureBundle]:
    for fetched in pages:
        yield CaptureBundle(capture=fetched.capture, records=[])


def _sort_key(entry: ModerationEntry) -> tuple[str, ...]:
    return (
        entry.title or "",
        entry.id or "",
        entry.handle or "",
        entry.domain or "",
        entry.keyword or "",
        entry.status_id or "",
    )


def _line(name: str, e: ModerationEntry) -> str:
    if e.keyword is not None or e.status_id is not None or name == "filters":
        what = f'"{e.keyword}"' if e.keyword is not None else (f"post {e.status_id}" if e.status_id else "")
        extras = [x for x in ("whole word" if e.whole_word else None, e.action, ", ".join(e.context) or None) if x]
        line = ": ".join(x for x in (e.title, what) if x) or (e.id or "?")
        return line + (f" ({'; '.join(extras)})" if extras else "")
    if e.domain is not None:
        return e.domain
    if name == "list_blocks":
        return f"{e.title or e.id} (a list by @{e.handle.lstrip('@')})" if e.handle else (e.title or e.id or "?")
    if e.handle:  # the handle is who it is; a display name is theirs to change, and no change of the list
        return f"@{e.handle.lstrip('@')}"
    return f"{e.id or '?'} ({e.name})" if e.name else (e.id or "?")


def render(name: str, title: str, entries: list[ModerationEntry]) -> str:
    """The list as a reader (and full-text search, and request masking) sees it: one line per entry."""
    lines = [f"{title}: {len(entries)}"]
    for e in entries:
        line = _line(name, e)
        lines.append(line + (f", until {e.expires_at.isoformat()}" if e.expires_at is not None else ""))
    return "\n".join(lines)


def moderation_record(
    ctx: HarvestContext,
    platform: str,
    name: str,
    title: str,
    entries: list[ModerationEntry],
    pages: list[Fetched],
    raws: list[Any],
) -> Record:
    """The list as one record of the account: entries in a fixed order, so paging order is no change."""
    ordered = sorted(entries, key=_sort_key)
    account = ctx.account
    return Record(
        platform=platform,
        account=account.id,
        item_id=name,
        kind=Kind.MODERATION,
        author=Author(handle=account.handle, name=account.display_name),
        direction=Direction.UPPRATTAD,
        title=title,
        text=render(name, title, ordered),
        mentions=sorted({e.handle.lstrip("@") for e in ordered if e.handle}),
        moderation=ModerationList(name=name, entries=ordered),
        captured_at=pages[-1].capture.started_at,
        source_url=pages[0].capture.url,
        raw={"pages": raws},
    )
