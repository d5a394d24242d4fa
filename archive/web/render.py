"""HTML fragments built from untrusted text: every piece is escaped before markup is added.

Citizens and platforms wrote this text. Only http(s) URLs become links (never `javascript:`,
`data:` …), and they open without a referrer or opener.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from markupsafe import Markup, escape

_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""


def safe_url(url: object) -> str | None:
    """The URL if it is http(s) with a host, else None (so it is shown as text, not a link)."""
    if not isinstance(url, str):
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def link(url: str, label: str | None = None) -> Markup:
    return Markup('<a href="{}" rel="noopener noreferrer nofollow" target="_blank">{}</a>').format(
        url, label if label is not None else url
    )


def linkify(text: object) -> Markup:
    """Plain text with its http(s) URLs as links and line breaks kept; everything else escaped."""
    raw = "" if text is None else str(text)
    out: list[Markup] = []
    pos = 0
    for match in _URL.finditer(raw):
        url = match.group().rstrip(_TRAILING)
        end = match.start() + len(url)
        out.append(escape(raw[pos : match.start()]))
        out.append(link(url) if safe_url(url) else escape(url))
        pos = end
    out.append(escape(raw[pos:]))
    return Markup("").join(out).replace("\n", Markup("<br>"))


def highlighted(fragment: str) -> Markup:
    """A search highlight with `[[…]]` around matches → escaped text with <mark> around them."""
    out: list[Markup] = []
    for n, part in enumerate(re.split(r"\[\[|\]\]", fragment)):
        out.append(Markup("<mark>{}</mark>").format(part) if n % 2 else escape(part))
    return Markup("").join(out)


def bar_chart(points: Sequence[tuple[str, int]], *, height: int = 120, width: int = 1000) -> Markup:
    """A small inline SVG bar chart (no script), one bar per (label, value) with a tooltip."""
    if not points:
        return Markup('<p class="muted">Nothing in this period.</p>')
    bar = max(2, min(40, width // len(points) - 2))
    top = max(v for _, v in points) or 1
    width = len(points) * (bar + 2)
    bars = Markup("").join(
        Markup('<rect x="{}" y="{}" width="{}" height="{}"><title>{}: {}</title></rect>').format(
            i * (bar + 2), height - max(1, round(v / top * height)), bar, max(1, round(v / top * height)), label, v
        )
        for i, (label, v) in enumerate(points)
    )
    return Markup(
        '<svg class="chart" role="img" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
        'aria-label="{n} periods, at most {top}">{bars}</svg>'
    ).format(w=width, h=height, n=len(points), top=top, bars=bars)
