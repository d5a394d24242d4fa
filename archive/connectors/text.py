"""Plain text, links, hashtags and mentions out of the HTML that platforms send.

Platforms give post bodies as HTML; search and the records need the text as the public read
it. The stdlib parser is enough: no rendering, only text, `<br>`/`<p>` as line breaks, and
the `href` of every link.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK = frozenset({"p", "br", "div", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6"})
_HIDDEN = frozenset({"script", "style"})
_HASHTAG = re.compile(r"(?<![\w&])#(\w[\w-]*)", re.UNICODE)
_MENTION = re.compile(r"(?<![\w@])@(\w[\w.-]*(?:@[\w.-]+\w)?)", re.UNICODE)


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self.hidden = 0  # inside <script>/<style>: code, not text anyone reads

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        if tag in _BLOCK and self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")
        if tag == "a":
            href = dict(attrs).get("href")
            if href and href not in self.links:
                self.links.append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN and self.hidden:
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_to_text(html: str) -> tuple[str, list[str]]:
    """(text, links) of an HTML fragment."""
    parser = _Extractor()
    parser.feed(html or "")
    parser.close()
    text = re.sub(r"[ \t]+", " ", "".join(parser.parts))
    text = re.sub(r"\n\s*\n+", "\n\n", text).strip()
    return text, parser.links


def hashtags(text: str) -> list[str]:
    return list(dict.fromkeys(m.lower() for m in _HASHTAG.findall(text)))


def mentions(text: str) -> list[str]:
    return list(dict.fromkeys(_MENTION.findall(text)))
