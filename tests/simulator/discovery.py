"""A small validator of JSON against a Google API discovery document (YouTube Data API v3).

The simulator was written from the same reading of the documentation as the connectors; checking
its answers against the schema Google publishes (the discovery document that ships in
`google-api-python-client`, `googleapiclient/discovery_cache/documents/youtube.v3.json`) makes
it agree with the platform, not only with us. Discovery schemas are a closed JSON-Schema subset:
`type` (string, integer, number, boolean, object, array, any), `$ref` by schema id, `properties`,
`additionalProperties` (maps), `items`, `enum`, `format` (int64/uint64 travel as strings;
date-time as RFC 3339). An object with `properties` and no `additionalProperties` is closed, so
a property the schema does not define is reported too: an invented field is a disagreement.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "number": (int, float),
    "integer": (int,),
}


@cache
def youtube() -> dict[str, Any]:
    """The discovery document of the YouTube Data API v3, as the installed client library ships it."""
    doc = resources.files("googleapiclient").joinpath("discovery_cache/documents/youtube.v3.json")
    loaded: dict[str, Any] = json.loads(doc.read_text(encoding="utf-8"))
    return loaded


def response_schema(resource: str, method: str = "list") -> str:
    """The schema id a method answers with (`channels` → `ChannelListResponse`)."""
    ref: str = youtube()["resources"][resource]["methods"][method]["response"]["$ref"]
    return ref


def problems(value: Any, schema: dict[str, Any] | str, where: str = "$") -> list[str]:
    """Every disagreement of `value` with `schema` (a schema object or a schema id), as `path: what`."""
    if isinstance(schema, str):
        schema = {"$ref": schema}
    if "$ref" in schema:
        return problems(value, youtube()["schemas"][schema["$ref"]], where)
    kind = schema.get("type", "any")
    if kind == "any":
        return []
    if kind not in _JSON_TYPES:
        return [f"{where}: the schema has an unknown type {kind!r}"]
    fmt = schema.get("format")
    if kind == "string" and fmt in ("int64", "uint64") and isinstance(value, int) and not isinstance(value, bool):
        return [f"{where}: {fmt} must travel as a string, got the number {value}"]
    if not isinstance(value, _JSON_TYPES[kind]) or (isinstance(value, bool) and kind in ("integer", "number")):
        return [f"{where}: expected {kind}, got {type(value).__name__} {json.dumps(value)[:60]}"]
    # `value` is of `kind` by now; the isinstance checks below only say so to the type checker.
    if kind == "string" and isinstance(value, str):
        return _string(value, schema, where)
    if kind == "array" and isinstance(value, list):
        return [p for i, item in enumerate(value) for p in problems(item, schema.get("items", {}), f"{where}[{i}]")]
    if kind == "object" and isinstance(value, dict):
        return _object(value, schema, where)
    return []


def _string(value: str, schema: dict[str, Any], where: str) -> list[str]:
    out: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{where}: {value!r} is not one of {schema['enum']}")
    fmt = schema.get("format")
    if fmt in ("int64", "uint64") and not value.lstrip("-").isdigit():
        out.append(f"{where}: {value!r} is no {fmt}")
    if fmt == "date-time":
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            out.append(f"{where}: {value!r} is no RFC 3339 date-time")
    return out


def _object(value: dict[str, Any], schema: dict[str, Any], where: str) -> list[str]:
    out: list[str] = []
    properties: dict[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties")
    for key, item in value.items():
        if key in properties:
            out += problems(item, properties[key], f"{where}.{key}")
        elif extra is not None:
            out += problems(item, extra, f"{where}.{key}")
        elif properties:
            out.append(f"{where}.{key}: not a property of the published schema")
    return out
