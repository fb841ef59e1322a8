"""The wemalo simulator's routes and schemas (sandbox/wemalo/spec.py) against wemalo-connect's apidoc export."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from sandbox.wemalo import create_app, spec

APIDOC = Path(__file__).resolve().parents[2].parent / "shared/reference/vendor/wemalo-connect-apidoc.json"

# Routes only wemalo's WP plugin shows -> the documented route whose body they share.
KNOWN_EXTRAS = {("POST", "/goodsOrder/addConditional"): ("POST", "/goodsOrder/add")}
APIDOC_TYPES = {"String": {"string"}, "Double": {"number", "integer"}, "Number": {"number", "integer"},
                "Integer": {"integer"}, "Boolean": {"boolean"}, "Object": {"object"}, "Object[]": {"array"}}


def _version(entry: dict[str, Any]) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", entry.get("version") or "0"))


@pytest.fixture(scope="module")
def apidoc() -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
    """(method, normalised url) -> {dotted field: apidoc field} of the newest documented version."""
    if not APIDOC.exists():
        pytest.skip(f"vendor apidoc absent: {APIDOC}")
    newest: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in json.loads(APIDOC.read_text(encoding="utf-8"))["api"]:
        if not entry.get("type"):
            continue
        key = (entry["type"].upper(), spec.normalise_url(entry["url"]))
        if key not in newest or _version(entry) > _version(newest[key]):
            newest[key] = entry
    return {key: {f["field"]: f for group in ((e.get("parameter") or {}).get("fields") or {}).values()
                  for f in group}
            for key, e in newest.items()}


def _key(method: str, url: str) -> tuple[str, str]:
    return method, spec.normalise_url(url)


def _documented_at(route: spec.RouteSpec, dotted: str) -> tuple[tuple[str, str], str]:
    """Where the apidoc documents a body field of `route`: (route key, field name there)."""
    key = KNOWN_EXTRAS.get((route.method, route.url), (route.method, route.url))
    for prefix, (method, url) in route.item_docs.items():
        if not prefix:
            return _key(method, url), dotted
        if dotted.startswith(prefix + "."):
            return _key(method, url), dotted[len(prefix) + 1:]
    return _key(*key), dotted


def _properties(schema: dict[str, Any], prefix: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every (dotted name, schema) of a body schema, apidoc style."""
    out = []
    if schema.get("type") == "array":
        return _properties(schema.get("items") or {}, prefix)
    for name, sub in (schema.get("properties") or {}).items():
        dotted = prefix + name
        out.append((dotted, sub))
        out += _properties(sub, dotted + ".")
    return out


def test_every_simulated_route_is_documented(apidoc: dict) -> None:
    missing = [f"{r.method} {r.url}" for r in spec.ROUTES
               if _key(r.method, r.url) not in apidoc and (r.method, r.url) not in KNOWN_EXTRAS]
    assert missing == []
    for method, url in KNOWN_EXTRAS:
        assert _key(method, url) not in apidoc, f"{method} {url} is documented now: drop it from KNOWN_EXTRAS"
        assert next(r for r in spec.ROUTES if (r.method, r.url) == (method, url)).source == "wp"
    assert [(m, u) for m, u in spec.UNSIMULATED if _key(m, u) not in apidoc] == []


def test_flask_routes_match_the_spec() -> None:
    served = set()
    for rule in create_app().url_map.iter_rules():
        if not rule.rule.startswith(spec.API_PREFIX + "/") or rule.endpoint.endswith("not_served"):
            continue
        url = re.sub(r"<(?:\w+:)?(\w+)>", r":\1", rule.rule[len(spec.API_PREFIX):])
        served |= {_key(m, url) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert served == {_key(r.method, r.url) for r in spec.ROUTES}


def test_required_body_fields_are_required_in_the_apidoc(apidoc: dict) -> None:
    problems = []
    for route in spec.ROUTES:
        for dotted in spec.required_paths(route.body or {}):
            where, name = _documented_at(route, dotted)
            field = apidoc[where].get(name)
            if field is None or field.get("optional", True):
                problems.append(f"{route.method} {route.url}: {dotted} ({'optional' if field else 'absent'})")
    assert problems == []


def test_body_fields_exist_in_the_apidoc_with_compatible_types(apidoc: dict) -> None:
    problems = []
    for route in spec.ROUTES:
        for dotted, sub in _properties(route.body or {}):
            where, name = _documented_at(route, dotted)
            field = apidoc[where].get(name)
            if field is None:
                if name not in spec.WP_FIELDS | spec.EXAMPLE_FIELDS:
                    problems.append(f"{route.method} {route.url}: {dotted} not documented and not a WP field")
                continue
            allowed = APIDOC_TYPES.get(field.get("type") or "", set())
            if "type" in sub and sub["type"] not in allowed:
                problems.append(f"{route.method} {route.url}: {dotted} is {sub['type']}, apidoc {field.get('type')}")
    assert problems == []


def test_query_parameters_are_documented(apidoc: dict) -> None:
    problems = []
    for route in spec.ROUTES:
        fields = apidoc.get(_key(route.method, route.url), {})
        for name in route.query:
            if name not in fields:
                problems.append(f"{route.method} {route.url}: query {name} not documented")
            elif (name in route.required_query) == fields[name].get("optional", True):
                problems.append(f"{route.method} {route.url}: query {name} required-ness differs")
    assert problems == []
