"""X's published API v2 schema, read from X's TypeScript SDK, and a validator of JSON against it.

No registry package ships X's OpenAPI document as JSON. X's own TypeScript SDK (`twitter-api-sdk`
on npm) ships `dist/gen/openapi-types.d.ts`, which openapi-typescript generated from that document:
`components["schemas"]` with the wire names (`edit_history_tweet_ids`, `referenced_tweets`), which
properties are required (no `?`), enums as string-literal unions. (The newer `xdk` SDKs rename the
fields, `edit_history_post_ids`, camelCase: not the wire.) `install` beside this file puts the
package in ~/.cache/communis; this module parses the `components` interface (a small recursive
descent over the TypeScript type syntax openapi-typescript emits: object literals, index
signatures, `T[]`, `|`, `&`, literals, `components["schemas"]["X"]`) and checks a body against a
schema: types, required properties, enums, and no property the schema does not define.

The SDK's document is of 2022. Fields X has added since are named in `LATER` with the release that
added them; they are accepted where X sends them now, and nothing else is. openapi-typescript does
not render OpenAPI `discriminator`s: `Media` (by `type`: photo, video, animated_gif) and `Problem`
(by its `type` URL, `…/problems/resource-not-found` → `ResourceNotFoundProblem`) are resolved to
their subtypes here, as the document's discriminator mappings do.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

#: Properties X added after the SDK's OpenAPI document was generated (schema → property → why).
LATER: dict[str, dict[str, str]] = {
    "Tweet": {"note_tweet": "long posts (note_tweet.text), API v2 since 2023"},
    "Tweet.public_metrics": {
        "impression_count": "public impression counts, since December 2022",
        "bookmark_count": "public bookmark counts, since 2023",
    },
}

#: The `Media` subtypes by `type` (the document's discriminator mapping).
MEDIA_TYPES = {"photo": "Photo", "video": "Video", "animated_gif": "AnimatedGif"}
PROBLEMS = "https://api.twitter.com/2/problems/"

_TOKEN = re.compile(
    r'\s+|/\*[\s\S]*?\*/|//[^\n]*|"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|\d+|[A-Za-z_$][\w$]*|'
    r"[{}\[\]();:?|&<>,.=]"
)


@dataclass
class T:
    """A TypeScript type: `kind` is obj, arr, union, inter, lit, prim or ref."""

    kind: str
    props: dict[str, tuple[T, bool]] = field(default_factory=dict)  # name → (type, optional)
    index: T | None = None
    of: list[T] = field(default_factory=list)
    value: Any = None


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = [t for t in _TOKEN.findall(text) if t.strip() and not t.startswith(("/*", "//"))]
        self.i = 0

    def peek(self, k: int = 0) -> str:
        return self.tokens[self.i + k] if self.i + k < len(self.tokens) else ""

    def take(self, want: str | None = None) -> str:
        tok = self.peek()
        if want is not None and tok != want:
            raise SyntaxError(f"expected {want!r}, found {tok!r} at token {self.i}")
        self.i += 1
        return tok

    def type(self) -> T:
        if self.peek() == "|":
            self.take()
        parts = [self.inter()]
        while self.peek() == "|":
            self.take()
            parts.append(self.inter())
        return parts[0] if len(parts) == 1 else T("union", of=parts)

    def inter(self) -> T:
        parts = [self.postfix()]
        while self.peek() == "&":
            self.take()
            parts.append(self.postfix())
        return parts[0] if len(parts) == 1 else T("inter", of=parts)

    def postfix(self) -> T:
        base = self.primary()
        while self.peek() == "[" and self.peek(1) == "]":
            self.take("[")
            self.take("]")
            base = T("arr", of=[base])
        return base

    def primary(self) -> T:
        tok = self.peek()
        if tok == "(":
            self.take()
            inner = self.type()
            self.take(")")
            return inner
        if tok == "{":
            return self.object()
        if tok[:1] in "\"'":
            self.take()
            return T("lit", value=tok[1:-1])
        if tok.isdigit():
            self.take()
            return T("lit", value=int(tok))
        name = self.take()
        if name in ("true", "false"):
            return T("lit", value=name == "true")
        path = [name]
        while self.peek() == "[" and self.peek(1)[:1] in "\"'":
            self.take("[")
            path.append(self.take()[1:-1])
            self.take("]")
        if self.peek() == "<":
            self.take()
            args = [self.type()]
            while self.peek() == ",":
                self.take()
                args.append(self.type())
            self.take(">")
            if name == "Record" and len(args) == 2:
                return T("obj", index=args[1])
            return T("prim", value="any")
        if len(path) > 1:
            return T("ref", value=path)
        return T("prim", value=name)

    def object(self) -> T:
        self.take("{")
        out = T("obj")
        while self.peek() != "}":
            if self.peek() == "[":  # an index signature: [key: string]: T
                self.take("[")
                self.take()
                self.take(":")
                self.type()
                self.take("]")
                self.take(":")
                out.index = self.type()
            else:
                key = self.take()
                key = key[1:-1] if key[:1] in "\"'" else key
                optional = self.peek() == "?"
                if optional:
                    self.take()
                self.take(":")
                out.props[key] = (self.type(), optional)
            while self.peek() in (";", ","):
                self.take()
        self.take("}")
        return out


def types_file() -> Path:
    """openapi-types.d.ts of the installed SDK (installed on first use, by the project's own script)."""
    done = subprocess.run([str(HERE / "install")], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"x_openapi/install failed: {done.stderr[-2000:]}")
    return Path(done.stdout.strip().splitlines()[-1])


@cache
def schemas() -> dict[str, T]:
    """`components["schemas"]` of X's API v2 OpenAPI document, by name."""
    text = types_file().read_text(encoding="utf-8")
    start = text.index("export interface components")
    parser = _Parser(text[text.index("{", start) :])
    components = parser.object()
    found = components.props["schemas"][0]
    return {name: t for name, (t, _) in found.props.items()}


def problems(value: Any, schema: T | str, where: str = "$", name: str = "") -> list[str]:
    """Every disagreement of `value` with a schema (a type, or a name in components.schemas)."""
    if isinstance(schema, str):
        return problems(value, schemas()[schema], where, schema)
    t = schema
    if t.kind == "ref":
        ref = _subtype(t.value[-1], value)
        return problems(value, schemas()[ref], where, ref)
    if t.kind == "prim":
        ok = {
            "string": isinstance(value, str),
            "boolean": isinstance(value, bool),
            "number": isinstance(value, int | float) and not isinstance(value, bool),
            "null": value is None,
        }.get(t.value, True)
        return [] if ok else [f"{where}: expected {t.value}, got {type(value).__name__} {str(value)[:40]!r}"]
    if t.kind == "lit":
        return [] if value == t.value else [f"{where}: {value!r} is not {t.value!r}"]
    if t.kind == "arr":
        if not isinstance(value, list):
            return [f"{where}: expected an array, got {type(value).__name__}"]
        return [p for i, item in enumerate(value) for p in problems(item, t.of[0], f"{where}[{i}]", name)]
    if t.kind == "union":
        tried = [problems(value, part, where, name) for part in t.of]
        if any(not found for found in tried):
            return []
        if all(part.kind == "lit" for part in t.of):
            return [f"{where}: {value!r} is not one of {[part.value for part in t.of]}"]
        return min(tried, key=len)
    if t.kind == "inter":
        objects = [_resolved(part) for part in t.of]
        if all(o.kind == "obj" for o in objects):
            merged = T("obj")
            for o in objects:
                for key, (sub, optional) in o.props.items():
                    was = merged.props.get(key)
                    merged.props[key] = (sub, optional and (was is None or was[1]))
                merged.index = merged.index or o.index
            return _object(value, merged, where, name)
        return [p for part in t.of for p in problems(value, part, where, name)]
    return _object(value, t, where, name)


def _subtype(name: str, value: Any) -> str:
    """The schema a discriminated value names (`Media` → `Photo`; `Problem` → `ResourceNotFoundProblem`)."""
    kind = value.get("type") if isinstance(value, dict) else None
    if name == "Media" and kind in MEDIA_TYPES:
        return MEDIA_TYPES[kind]
    if name == "Problem" and isinstance(kind, str) and kind.startswith(PROBLEMS):
        sub = "".join(w.capitalize() for w in kind[len(PROBLEMS) :].split("-")) + "Problem"
        if sub in schemas():
            return sub
    return name


def _resolved(t: T) -> T:
    while t.kind == "ref":
        t = schemas()[t.value[-1]]
    return t


def _object(value: Any, t: T, where: str, name: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{where}: expected an object, got {type(value).__name__}"]
    out: list[str] = []
    later = LATER.get(name, {})
    for key, (_, optional) in t.props.items():
        if not optional and key not in value:
            out.append(f"{where}: the required property {key!r} is missing")
    for key, item in value.items():
        if key in t.props:
            out += problems(item, t.props[key][0], f"{where}.{key}", f"{name}.{key}" if name else "")
        elif t.index is not None:
            out += problems(item, t.index, f"{where}.{key}", "")
        elif key not in later:
            out.append(f"{where}.{key}: not a property of the published schema")
    return out
