"""One mutation of one wire-format body (JSON or XML), chosen by a `Chooser`.

The same mutations serve the hypothesis suite (choices drawn by hypothesis, which shrinks them) and
`bench/fuzz.py` (choices from a seeded `random.Random`, 10 000 a connector). A mutation picks one
node of the document the simulator served and changes it the way platforms drift: removed, null,
the wrong type, huge, unicode edge cases, a timestamp in another format, or the whole body cut,
emptied or replaced. It returns the new body and a one-line description for the report.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET  # noqa: S405 - parses the simulator's own output, never foreign input
from collections.abc import Sequence
from io import BytesIO
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Chooser(Protocol):
    def below(self, n: int) -> int:
        """An integer in [0, n)."""
        ...


def pick(choose: Chooser, options: Sequence[T]) -> T:
    return options[choose.below(len(options))]


#: Timestamps as the platforms document them and as they do not.
TIMESTAMPS: tuple[Any, ...] = (
    "2024-05-02T08:15:30Z",
    "2024-05-02T08:15:30.000Z",
    "2024-05-02T08:15:30.123456789Z",
    "2024-05-02T08:15:30+0000",
    "2024-05-02T08:15:30+00:00",
    "2024-05-02T10:15:30+02:00",
    "2024-05-02T08:15:30-12:00",
    "2024-05-02T08:15:30+14:00",
    "2024-05-02T08:15:30",
    "2024-05-02 08:15:30",
    "2024-05-02",
    "20240502T081530Z",
    "2024-W18-4",
    "2024-05-02T08:15:30+25:00",
    "2024-02-30T00:00:00Z",
    "2024-05-02T25:00:00Z",
    "2016-12-31T23:59:60Z",
    "0001-01-01T00:00:00+01:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-01:00",
    "0000-00-00T00:00:00Z",
    "2024-05-02T08:15:30Z[Europe/Stockholm]",
    "Thu, 02 May 2024 08:15:30 +0000",
    "Thu, 02 May 2024 08:15:30 GMT",
    "Thu, 02 May 2024 08:15:30",
    "02 May 2024",
    "Mon, 31 Feb 2024 99:99:99 +9999",
    "yesterday",
    "now",
    "",
    " ",
    "NaN",
    "Infinity",
    "-1",
    "0",
    "1714637730",
    "1714637730000",
    "1714637730.5",
    "١٧١٤٦٣٧٧٣٠",
    1714637730,
    1714637730000,
    1714637730.5,
    0,
    -1,
    -1714637730,
    253402300800,
    10**20,
    10**400,
    1e308,
    True,
)
#: Strings a platform may send anywhere text goes.
UNICODE: tuple[str, ...] = (
    "\ud800",
    "\udfff",
    "a\ud83d",
    "\udc00b",  # lone surrogates (escaped in JSON, as platforms send them)
    "\u202eevil\u202c",
    "\u200f\u200e",
    "\u0645\u0631\u062d\u0628\u0627",  # RTL override, marks, Arabic
    "\u200b\u200c\u200d\ufeff",
    "\u2060",  # zero-width
    "\U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",
    "\U0001f3f3\ufe0f\u200d\U0001f308\U0001f1f8\U0001f1ea",
    "\U0001f469\U0001f3fd\u200d\U0001f692",  # emoji ZWJ sequences, flags, skin tones
    "e\u0301\u0301\u0301",
    "Z\u0338\u031b\u0354a\u0337" * 20,
    "\x00",
    "\x00\x01\x1f\x7f",
    "\uffff\ufffe",
    "\U0001d573\U0001d58a",
    "<script>alert(1)</script>",
    "&amp;&lt;&#0;",
    "\r\n\t",
    "\ufdfa" * 50,
)
#: Values of the wrong type.
WRONG_TYPES: tuple[Any, ...] = (
    0,
    -1,
    1.5,
    True,
    False,
    "",
    "x",
    "0",
    [],
    {},
    [None],
    {"": None},
    [[[]]],
    {"a": {"b": {}}},
)
HUGE: tuple[Any, ...] = (10**30, -(10**30), 2**63, 2**64, -(2**63) - 1, 10**400, 1e308, -1e308, 5e-324)
TIME_KEY = re.compile(r"time|date|_at$|^at$|published|created|updated|timestamp|modified|posted|edited|gmt|expir", re.I)


def huge_string(choose: Chooser) -> str:
    unit = pick(choose, ("a", "å", "👩‍👩‍👧‍👦", " ", "<p>", "\u200b", "&amp;", "#tag "))
    return unit * pick(choose, (10_000, 100_000, 1_000_000))


# ---- JSON ------------------------------------------------------------------------------------------

Path = tuple[str | int, ...]


def _nodes(doc: Any, path: Path = ()) -> list[tuple[Path, Any]]:
    out = [(path, doc)]
    if isinstance(doc, dict):
        for key, value in doc.items():
            out.extend(_nodes(value, (*path, key)))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            out.extend(_nodes(value, (*path, i)))
    return out


def _set(doc: Any, path: Path, value: Any) -> Any:
    if not path:
        return value
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return doc


def _remove(doc: Any, path: Path) -> Any:
    if not path:
        return None
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    del parent[path[-1]]
    return doc


def _where(path: Path) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:40]}… ({len(text):,} chars)"


def _dump(doc: Any, choose: Chooser) -> bytes:
    if choose.below(2):
        try:
            return json.dumps(doc, ensure_ascii=False).encode("utf-8")
        except (UnicodeEncodeError, ValueError):
            pass  # lone surrogates: only escaped, as platforms send them
    return json.dumps(doc).encode("ascii")


def mutate_json(body: bytes, choose: Chooser) -> tuple[bytes, str]:
    """One change to a JSON document (or the whole body)."""
    try:
        doc = json.loads(body)
    except ValueError:
        return body, "unchanged (not JSON)"
    op = pick(
        choose,
        (
            "remove",
            "null",
            "wrong type",
            "huge string",
            "huge number",
            "unicode",
            "unicode",
            "timestamp",
            "timestamp",
            "timestamp",
            "string edit",
            "whole body",
        ),
    )
    if op == "whole body":
        return whole_body(body, choose)
    nodes = _nodes(doc)
    if op == "timestamp":
        timed = [(p, v) for p, v in nodes if p and isinstance(p[-1], str) and TIME_KEY.search(p[-1])]
        nodes = timed or nodes
    if op == "string edit":
        nodes = [(p, v) for p, v in nodes if isinstance(v, str)] or nodes
    path, value = pick(choose, nodes)
    if op == "remove":
        doc, what = _remove(doc, path), "removed"
    else:
        if op == "null":
            new: Any = None
        elif op == "wrong type":
            new = pick(choose, WRONG_TYPES)
        elif op == "huge string":
            new = huge_string(choose)
        elif op == "huge number":
            new = pick(choose, HUGE)
        elif op == "unicode":
            new = pick(choose, UNICODE)
            if isinstance(value, str) and choose.below(2):
                new = value + new if choose.below(2) else new + value
        elif op == "timestamp":
            new = pick(choose, TIMESTAMPS)
        else:
            text = value if isinstance(value, str) else json.dumps(value)
            cut = choose.below(len(text) + 1)
            new = pick(
                choose,
                (
                    text[:cut],
                    text[cut:],
                    text[:cut] + pick(choose, UNICODE) + text[cut:],
                    text.upper(),
                    text * 2,
                    " " + text + " ",
                ),
            )
        doc = _set(doc, path, new)
        what = f"← {_short(new)}"
    return _dump(doc, choose), f"{op}: {_where(path)} {what}"


def whole_body(body: bytes, choose: Chooser) -> tuple[bytes, str]:
    """The body cut short, emptied or replaced by something else."""
    op = pick(choose, ("truncated", "empty", "null", "list", "object", "scalar", "garbage", "html", "bom"))
    if op == "truncated":
        cut = choose.below(max(1, len(body)))
        return body[:cut], f"whole body: truncated at {cut} of {len(body)} bytes"
    replaced = {
        "empty": b"",
        "null": b"null",
        "list": b"[]",
        "object": b"{}",
        "scalar": b'"ok"',
        "garbage": b"\xff\xfe\x00garbage{[",
        "html": b"<html><body>502 Bad Gateway</body></html>",
        "bom": b"\xef\xbb\xbf" + body,
    }[op]
    return replaced, f"whole body: {op}"


# ---- XML -------------------------------------------------------------------------------------------

_MARK = "\u2063MARK\u2063"
"""Stands for a character ElementTree cannot serialize (a lone surrogate), swapped in as bytes after."""


def _register_namespaces(body: bytes) -> None:
    try:
        for _event, (prefix, uri) in ET.iterparse(BytesIO(body), events=("start-ns",)):  # noqa: S314
            ET.register_namespace(prefix, uri)
    except (ET.ParseError, ValueError):
        pass


def mutate_xml(body: bytes, choose: Chooser) -> tuple[bytes, str]:
    """One change to an XML document (or the whole body)."""
    _register_namespaces(body)
    try:
        root = ET.fromstring(body)  # noqa: S314
    except ET.ParseError:
        return body, "unchanged (not XML)"
    op = pick(
        choose,
        (
            "remove",
            "empty",
            "huge string",
            "unicode",
            "unicode",
            "timestamp",
            "timestamp",
            "attribute",
            "nested",
            "whole body",
        ),
    )
    if op == "whole body":
        return whole_body(body, choose)
    parents = {child: parent for parent in root.iter() for child in parent}
    elements = list(root.iter())
    if op == "timestamp":
        elements = [e for e in elements if TIME_KEY.search(e.tag.rsplit("}", 1)[-1])] or elements
    if op == "attribute":
        elements = [e for e in elements if e.attrib] or elements
    element = pick(choose, elements)
    name = element.tag.rsplit("}", 1)[-1]
    swap: bytes | None = None
    if op == "remove" and element in parents:
        parents[element].remove(element)
        what = "removed"
    elif op == "empty" or (op == "remove"):
        element.text, what = None, "emptied"
        for child in list(element):
            element.remove(child)
    elif op == "huge string":
        element.text = huge_string(choose)
        what = f"← {len(element.text):,} chars"
    elif op == "unicode":
        new = pick(choose, UNICODE)
        if any("\ud800" <= ch <= "\udfff" for ch in new):
            swap = pick(choose, (b"&#xD800;", b"\xed\xa0\x80", b"&#x0;", b"\xff"))
            new = _MARK
        element.text = (element.text or "") + new if choose.below(2) else new
        what = f"← {_short(new if swap is None else swap)}"
    elif op == "timestamp":
        element.text = str(pick(choose, TIMESTAMPS))
        what = f"← {_short(element.text)}"
    elif op == "attribute" and element.attrib:
        key = pick(choose, sorted(element.attrib))
        if choose.below(2):
            del element.attrib[key]
            what = f"@{key} removed"
        else:
            element.attrib[key] = pick(
                choose, ("", "javascript:alert(1)", "::::", "http://[::1", huge_string(choose), *UNICODE[4:10])
            )
            what = f"@{key} ← {_short(element.attrib[key])}"
    else:
        depth = pick(choose, (3, 50, 500))
        inner = element
        for _ in range(depth):
            inner = ET.SubElement(inner, element.tag)
        inner.text = "deep"
        what = f"nested {depth} levels"
    out = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    if swap is not None:
        out = out.replace(_MARK.encode("utf-8"), swap)
    return out, f"{op}: <{name}> {what}"


def mutate(body: bytes, content_type: str, choose: Chooser) -> tuple[bytes, str]:
    """The body's one mutation, by its content type."""
    if "xml" in content_type or "rss" in content_type or "atom" in content_type:
        return mutate_xml(body, choose)
    return mutate_json(body, choose)
