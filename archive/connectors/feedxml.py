"""A feed document's bytes → a safe ElementTree, read the way feed readers read feeds in the wild.

Real feeds are served in every encoding (gb2312, big5, euc-kr, UTF-16 without a byte-order mark,
names no codec knows), use HTML entities (`&aacute;`) that XML does not define, carry the Netscape
RSS 0.91 DOCTYPE, raw `&` in links, and control characters. expat alone refuses all of these (or
cannot even start: it reads no multi-byte encoding). So, before parsing:

1. **Decode** with Python's codecs, choosing as RFC 7303 does: a byte-order mark (or the UTF-16/32
   byte pattern of `<`), else the HTTP `charset`, else the XML declaration's `encoding`, else UTF-8.
   Names are read as browsers read them (WHATWG: gb2312 and gbk are GB18030, big5 is Big5-HKSCS,
   euc-kr is windows-949, latin-1 and us-ascii are windows-1252). A name no codec knows, or bytes
   the chosen codec cannot read, fall back to UTF-8, then windows-1252, then latin-1 (which reads
   anything): a mislabelled feed gives some wrong characters, never a lost feed.
2. **Repair** what is not XML but means one thing: HTML entities become character references,
   an unknown entity or a bare `&` stays literal text (`&amp;`), `&#X41;` is `&#x41;`, a reference
   to a character XML forbids (or to windows-1252's 0x80–0x9F, which HTML reads as windows-1252)
   is that character or U+FFFD, control characters are dropped (C1 ones read as windows-1252's),
   the XML declaration goes (the text is now UTF-8) and so does a DOCTYPE without an internal
   subset (nothing in it is read), and a last end tag without its `>` gets it. CDATA sections and
   comments are left as they are.
   Nothing else is guessed: a document still not well-formed (cut short, tags that do not nest) is
   refused whole, its bytes kept in the WARC and the quarantine. A recovering parser would archive
   a cut-off item as if the municipality had published it so, and its next reading as an edit.
3. **Parse** the UTF-8 result with defusedxml: a document that still declares entities (billion
   laughs, in any encoding) or refers to external ones is refused before anything is expanded or
   fetched, and one nested deeper than `MAX_DEPTH` is refused before anything walks it recursively.

Formats: RSS 0.9x/2.0 (also in the old Userland `rss2` namespace), RSS 1.0 and 0.90 (RDF), Atom 1.0
(also without its namespace), Atom 0.3 and Microsoft's CDF. Their element names are mapped onto RSS
2.0's (un-namespaced) or Atom 1.0's, so one reader reads each family; text constructs (content,
summary, description…) are left untouched inside.
"""

from __future__ import annotations

import codecs
import html.entities
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException, EntitiesForbidden, ExternalReferenceForbidden

ATOM = "{http://www.w3.org/2005/Atom}"
ATOM03 = "{http://purl.org/atom/ns#}"
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
#: Namespaces whose elements are RSS's own: RSS 1.0, RSS 0.90 and Userland's rss/rss2.
RSS_NAMESPACES = frozenset(
    {
        "{http://purl.org/rss/1.0/}",
        "{http://my.netscape.com/rdf/simple/0.9/}",
        "{http://backend.userland.com/rss2}",
        "{http://backend.userland.com/rss}",
        "{http://channel.netscape.com/rdf/simple/0.9/}",
    }
)
#: Elements whose content is text (or inline markup) the record reads as it is: nothing renamed inside.
TEXT_CONSTRUCTS = frozenset(
    {
        "title",
        "description",
        "content",
        "summary",
        "subtitle",
        "tagline",
        "rights",
        "copyright",
        "info",
        "encoded",
        "abstract",
    }
)
#: Deeper element nesting is refused: serializing and `itertext` recurse once per level.
MAX_DEPTH = 100

#: Encoding names as browsers read them (WHATWG Encoding Standard), where Python's codec is narrower.
AS_BROWSERS_READ = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "big5": "big5hkscs",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "iso-8859-9": "cp1254",
    "tis-620": "cp874",
}
_BOMS = (
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
_PATTERNS = (
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
)
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*?\bencoding\s*=\s*["']?([A-Za-z0-9._:+-]+)""")
_CHARSET = re.compile(r"""charset\s*[=:]\s*["']?([A-Za-z0-9._:+-]+)""", re.IGNORECASE)
#: Sections left as they are: CDATA, comments, processing instructions, a DOCTYPE.
#: Each alternative runs to its end or to the end of the text, so hostile input costs linear time.
_VERBATIM = re.compile(
    r"(<!\[CDATA\[.*?(?:\]\]>|\Z)|<!--.*?(?:-->|\Z)|<\?.*?(?:\?>|\Z)"
    r"|<!DOCTYPE[^\[>]*(?:\[[^\]]*(?:\]|\Z))?[^>]*(?:>|\Z))",
    re.DOTALL | re.IGNORECASE,
)
_REFERENCE = re.compile(r"&(?:#([0-9]+);|#[xX]([0-9a-fA-F]+);|([A-Za-z_][A-Za-z0-9._-]*);)?")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_XML_DECLARATION = re.compile(r"<\?xml(?:\s[^>]*?)?\?>")
_BARE_DOCTYPE = re.compile(r"<!DOCTYPE[^\[>]*>", re.IGNORECASE)
_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})
#: C1 controls never stand for themselves in a feed: they are windows-1252 text decoded as latin-1 (a
#: "moronized" ’ is U+0092), read as the windows-1252 characters they were.
_C1 = {c: bytes([c]).decode("cp1252", "ignore") or None for c in range(0x80, 0xA0)}
_UNCLOSED_END = re.compile(r"(</[A-Za-z_][\w.:-]*)\s*\Z")


class FeedError(ValueError):
    """The document is not a feed this connector reads; the message says why, cause first."""


@dataclass(frozen=True)
class Feed:
    """A parsed feed: its family ("rss" or "atom"), the channel/feed element and its items/entries."""

    kind: str
    container: ET.Element
    items: list[ET.Element]
    raw_items: list[bytes]
    """Each item as the document had it (before any renaming), for records' `raw` and the quarantine."""
    encoding: str
    format: str = "rss"
    """What the document is: rss (0.9x/2.0), rss1.0 (RDF, also 0.90), cdf, atom (1.0) or atom0.3."""


def charset_of(content_type: str | None) -> str | None:
    """The `charset` parameter of a Content-Type, read leniently (quoted, spaced, `charset:`)."""
    match = _CHARSET.search(content_type or "")
    return match.group(1) if match else None


def _codec(name: str | None) -> str | None:
    """Python's codec for an encoding name (as browsers read it), or None when there is none."""
    if not name:
        return None
    wanted = AS_BROWSERS_READ.get(name.strip().lower(), name.strip())
    try:
        return codecs.lookup(wanted).name
    except LookupError:
        return None


def decode(data: bytes, content_type: str | None = None) -> tuple[str, str]:
    """(text, codec used) of a feed document; see the module docstring for the order of choice."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, "replace"), codec
    for pattern, codec in _PATTERNS:
        if data.startswith(pattern):
            return data.decode(codec, "replace"), codec
    declared = _DECLARED.match(data[:1024])
    candidates = [
        _codec(charset_of(content_type)),
        _codec(declared.group(1).decode() if declared else None),
        "utf-8",
        "cp1252",
    ]
    for codec in dict.fromkeys(c for c in candidates if c):
        if codec.startswith(("utf-16", "utf-32")):
            continue  # a 16/32-bit document shows by its bytes (above); a label alone is wrong here
        try:
            return data.decode(codec), codec
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def _reference(match: re.Match[str]) -> str:
    decimal, hexadecimal, name = match.groups()
    if decimal or hexadecimal:
        number = int(decimal) if decimal else int(hexadecimal, 16)
        if 0x80 <= number <= 0x9F:  # HTML reads these as windows-1252 (&#150; is an en dash)
            character = bytes([number]).decode("cp1252", "replace")
        elif (
            number in (0x9, 0xA, 0xD)
            or 0x20 <= number <= 0xD7FF
            or 0xE000 <= number <= 0xFFFD
            or 0x10000 <= number <= 0x10FFFF
        ):
            character = chr(number)
        else:
            character = "\ufffd"
        return f"&#{ord(character)};" if len(character) == 1 else "".join(f"&#{ord(c)};" for c in character)
    if name is None:
        return "&amp;"  # a bare ampersand
    if name in _XML_ENTITIES:
        return match.group(0)
    value = html.entities.html5.get(name + ";")
    if value is None:
        return "&amp;" + name + ";"  # an entity nobody defines: kept as the text it is
    return "".join(f"&#{ord(c)};" for c in value)


def repair(text: str) -> str:
    """The decoded document made XML where it means one thing (step 2 of the module docstring)."""
    text = _CONTROL.sub("", text.lstrip("\ufeff")).translate(_C1)
    parts = _VERBATIM.split(text)
    out: list[str] = []
    for index, part in enumerate(parts):
        if index % 2:  # a verbatim section
            if part.startswith("<?"):
                part = _XML_DECLARATION.sub("", part)
            elif part[:9].upper() == "<!DOCTYPE":
                part = _BARE_DOCTYPE.sub("", part)
            out.append(part)
        else:
            out.append(_REFERENCE.sub(_reference, part))
    return _UNCLOSED_END.sub(r"\1>", "".join(out).lstrip())


def safe_xml(data: bytes) -> ET.Element:
    """Parse with defusedxml: no entity expansion, no external references; FeedError says why not."""
    try:
        root: ET.Element = SafeET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except EntitiesForbidden as exc:
        where = f", system id {exc.sysid!r}" if exc.sysid else ""
        raise FeedError(
            f"the document declares XML entities ({exc.name!r}{where}; refused: no entity expansion)"
        ) from exc
    except ExternalReferenceForbidden as exc:
        raise FeedError(f"the document refers to an external resource {exc.sysid!r} (refused)") from exc
    except DefusedXmlException as exc:
        raise FeedError(f"the document uses a forbidden XML construct ({exc})") from exc
    except ET.ParseError as exc:
        raise FeedError(f"not well-formed XML ({exc})") from exc
    except (ValueError, LookupError) as exc:  # expat: an encoding it cannot read
        raise FeedError(f"unreadable XML encoding ({exc})") from exc
    return root


def _depth(root: ET.Element) -> int:
    """How deep elements nest, counted without recursion."""
    deepest, stack = 0, [(root, 1)]
    while stack:
        element, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in element)
    return deepest


def _split(tag: str) -> tuple[str, str]:
    """("{namespace}", local name) of a tag."""
    if tag.startswith("{"):
        end = tag.index("}") + 1
        return tag[:end], tag[end:]
    return "", tag


def _rename(root: ET.Element, rename: dict[str, str], lower: bool) -> None:
    """Map namespaces onto RSS 2.0's or Atom 1.0's (`rename`: old → new), outside text constructs."""
    stack = [root]
    while stack:
        element = stack.pop()
        if not isinstance(element.tag, str):
            continue
        namespace, local = _split(element.tag)
        if lower and not namespace:
            local = local.lower()
            element.attrib = {k.lower(): v for k, v in element.attrib.items()}
        if namespace in rename:
            element.tag = rename[namespace] + local
        elif lower:
            element.tag = namespace + local
        if local not in TEXT_CONSTRUCTS:
            stack.extend(element)


def _items(root: ET.Element, tags: tuple[str, ...]) -> list[ET.Element]:
    """Every element of `tags` (items or entries) anywhere in the document, but not one inside another:
    where feed readers find them (an RSS 1.0 item is the channel's sibling, an Atom 0.3 feed may hold
    `<item>`s)."""
    found: list[ET.Element] = []
    stack = [root]
    while stack:
        element = stack.pop()
        if element.tag in tags:
            found.append(element)
            continue
        stack.extend(reversed(element))
    return found


def parse_feed(data: bytes, content_type: str | None = None) -> Feed:
    """The feed in a document's bytes (served with `content_type`); FeedError, cause first, when none."""
    text, encoding = decode(data, content_type)
    root = safe_xml(repair(text).encode("utf-8"))
    depth = _depth(root)
    if depth > MAX_DEPTH:
        raise FeedError(f"elements nested {depth} levels deep (more than {MAX_DEPTH}; refused)")
    namespace, local = _split(root.tag)
    item_tags: tuple[str, ...]
    if local.lower() in ("rss", "rdf", "channel") and (namespace in RSS_NAMESPACES or namespace in ("", RDF)):
        kind, item_tags = "rss", ("item",)
        rename = dict.fromkeys(RSS_NAMESPACES, "")
        lower = local == "CHANNEL" or (local == "channel" and namespace == "" and root.find("item") is None)
    elif local == "feed" and namespace in (ATOM, ATOM03, ""):
        kind, item_tags, lower = "atom", (f"{ATOM}entry", f"{ATOM}item"), False
        rename = {ATOM03: ATOM, "": ATOM}
    else:
        raise FeedError(f"neither RSS nor Atom (root element {root.tag!r})")
    originals = {id(e): (e.tag, e.attrib) for e in root.iter()}
    _rename(root, rename, lower)
    items = _items(root, item_tags)
    channel = root.find("channel") if kind == "rss" else None
    container = root if channel is None else channel
    form = {RDF: "rss1.0", ATOM03: "atom0.3"}.get(namespace, "cdf" if lower else kind)
    return Feed(kind, container, items, [_as_it_was(i, originals) for i in items], encoding, form)


def _as_it_was(item: ET.Element, originals: dict[int, tuple[str, dict[str, str]]]) -> bytes:
    """The item's XML with the tags and attributes the document gave it (undoing `_rename` for a moment)."""
    renamed = [(e, e.tag, e.attrib) for e in item.iter()]
    for element, _, _ in renamed:
        element.tag, element.attrib = originals.get(id(element), (element.tag, element.attrib))
    try:
        return ET.tostring(item, encoding="unicode").encode()
    finally:
        for element, tag, attrib in renamed:
            element.tag, element.attrib = tag, attrib
