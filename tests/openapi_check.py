"""A small checker of JSON against the response schemas of GitHub's OpenAPI description.

It covers what the (dereferenced, OpenAPI 3.0) description uses for responses: `type` with
`nullable`, `required`, `properties`, `items`, `anyOf`, `oneOf`, `allOf`, `enum`, and the
`date-time` format. `oneOf` is checked like `anyOf`: GitHub's description has overlapping
alternatives (the private and the public user both fit a private user).
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

Schema = dict[str, Any]

SPEC_PATH = Path(__file__).parent / "data" / "rest-issues-subset.openapi.json.gz"
DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


def load_spec(path: Path = SPEC_PATH) -> Schema:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        spec: Schema = json.load(handle)
    return spec


def response_schema(spec: Schema, path: str, method: str, status: int) -> Schema:
    """The JSON schema of one operation's response, e.g. ("/repos/{owner}/{repo}", "get", 200)."""
    response = spec["paths"][path][method.lower()]["responses"][str(status)]
    schema: Schema = response["content"]["application/json"]["schema"]
    return schema


def validate(value: Any, schema: Schema, where: str = "$") -> list[str]:
    """Every way `value` breaks `schema`, as "where: what" lines; empty when it conforms."""
    if value is None:
        return _check_null(schema, where)
    for check in (_check_type, _check_enum, _check_format, _check_combinators):
        problems = check(value, schema, where)
        if problems:
            return problems
    if isinstance(value, dict):
        return _check_object(value, schema, where)
    if isinstance(value, list) and "items" in schema:
        return [
            p
            for i, item in enumerate(value)
            for p in validate(item, schema["items"], f"{where}[{i}]")
        ]
    return []


def _check_null(schema: Schema, where: str) -> list[str]:
    if schema.get("nullable"):
        return []
    if any(key in schema for key in ("anyOf", "oneOf", "allOf")):
        return _check_combinators(None, schema, where)
    return [f"{where}: null not allowed"] if "type" in schema else []


def _check_type(value: Any, schema: Schema, where: str) -> list[str]:
    expected = schema.get("type")
    if expected is None or expected == "null":
        return []
    kinds = _TYPES[expected]
    if isinstance(value, bool) and bool not in kinds:
        return [f"{where}: expected {expected}, got boolean"]
    if not isinstance(value, kinds):
        return [f"{where}: expected {expected}, got {type(value).__name__}"]
    return []


def _check_enum(value: Any, schema: Schema, where: str) -> list[str]:
    if "enum" in schema and value not in schema["enum"]:
        return [f"{where}: {value!r} not in {schema['enum']}"]
    return []


def _check_format(value: Any, schema: Schema, where: str) -> list[str]:
    is_time = schema.get("format") == "date-time" and isinstance(value, str)
    if is_time and not DATE_TIME.match(value):
        return [f"{where}: {value!r} is not a date-time"]
    return []


def _check_combinators(value: Any, schema: Schema, where: str) -> list[str]:
    problems = [p for part in schema.get("allOf", []) for p in validate(value, part, where)]
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if options is None:
            continue
        attempts = [validate(value, option, where) for option in options]
        if all(attempts):
            best = min(attempts, key=len)
            problems.append(f"{where}: matches no {key} alternative; closest: {best[0]}")
    return problems


def _check_object(value: dict[str, Any], schema: Schema, where: str) -> list[str]:
    problems = [
        f"{where}: missing {name!r}" for name in schema.get("required", []) if name not in value
    ]
    for name, sub in schema.get("properties", {}).items():
        if name in value:
            problems += validate(value[name], sub, f"{where}.{name}")
    return problems
