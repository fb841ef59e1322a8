"""The Billbee simulator's own spec (sandbox/billbee/spec.py) must stay inside Billbee's published Swagger spec."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.billbee import create_app
from sandbox.billbee.spec import API_PREFIX, ROUTE_INDEX, ROUTES, RouteSpec

VENDOR_SPEC = Path(__file__).resolve().parents[2].parent / "shared/reference/vendor/billbee-openapi.yaml"
# Query parameters a route's description names without declaring them: (method, rule, name).
DESCRIBED_ONLY = {("POST", "/api/v1/webhooks", "noecho")}  # "Attach ?noecho to the uri to prevent echo test."
SWAGGER_TYPES = {"int32": ("integer", "int32"), "int64": ("integer", "int64"), "string": ("string", None),
                 "boolean": ("boolean", None), "date-time": ("string", "date-time")}


@pytest.fixture(scope="module")
def vendor() -> dict[str, Any]:
    if not VENDOR_SPEC.is_file():
        pytest.skip(f"vendor spec absent: {VENDOR_SPEC} (Billbee's Swagger file is kept outside the repo)")
    return yaml.safe_load(VENDOR_SPEC.read_text(encoding="utf-8"))


def _operation(vendor: dict[str, Any], route: RouteSpec) -> dict[str, Any]:
    path = vendor["paths"].get(route.vendor_path)
    assert path is not None, f"{route.vendor_path} is not in the vendor spec"
    op = path.get(route.method.lower())
    assert op is not None, f"{route.method} {route.vendor_path} is not in the vendor spec"
    return op


def _params(op: dict[str, Any], where: str) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in op.get("parameters", []) if p.get("in") == where}


def _resolve(vendor: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref:
        return vendor["definitions"][ref.split("/")[-1]]
    return schema


def test_every_served_route_is_in_the_simulator_spec_and_the_vendor_spec(vendor: dict[str, Any]) -> None:
    app = create_app()
    served = {(method, rule.rule) for rule in app.url_map.iter_rules() if rule.rule.startswith(API_PREFIX)
              for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}}
    assert served == set(ROUTE_INDEX), "app routes and spec.ROUTES differ"
    for route in ROUTES:
        _operation(vendor, route)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.rule}")
def test_query_and_path_parameters_are_declared_with_their_types(vendor: dict[str, Any], route: RouteSpec) -> None:
    op = _operation(vendor, route)
    for where, params in (("query", route.query), ("path", route.path)):
        declared = _params(op, where)
        for name, param in params.items():
            if (route.method, route.rule, name) in DESCRIBED_ONLY:
                assert f"?{name}" in str(op), f"{name} is no longer named by {route.method} {route.rule}"
                continue
            assert name in declared, f"{where} parameter {name!r} not declared for {route.method} {route.rule}"
            vendor_param = declared[name]
            kind = vendor_param["items"] if vendor_param.get("type") == "array" else vendor_param
            assert (vendor_param.get("type") == "array") == param.array, f"{name}: list-ness differs"
            expected_type, expected_format = SWAGGER_TYPES[param.type]
            assert kind.get("type") == expected_type, f"{name}: type differs"
            if expected_format:
                assert kind.get("format") == expected_format, f"{name}: format differs"
    assert set(route.path) == set(_params(op, "path")), "path parameters differ"


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.rule}")
def test_body_schemas_use_only_vendor_property_names(vendor: dict[str, Any], route: RouteSpec) -> None:
    op = _operation(vendor, route)
    bodies = _params(op, "body")
    assert (route.body is not None) == bool(bodies), "body presence differs from the vendor spec"
    if route.body is None:
        return
    vendor_schema = _resolve(vendor, next(iter(bodies.values()))["schema"])
    ours = route.body
    if ours.get("type") == "array":
        assert vendor_schema.get("type") == "array"
        vendor_schema, ours = _resolve(vendor, vendor_schema["items"]), ours["items"]
    vendor_props = vendor_schema.get("properties", {})
    unknown = set(ours.get("properties", {})) - set(vendor_props)
    assert not unknown, f"properties not in the vendor model: {sorted(unknown)}"
    for name, prop in ours.get("properties", {}).items():
        if "enum" in prop and "enum" in vendor_props[name]:
            assert {v for v in prop["enum"] if v is not None} <= set(vendor_props[name]["enum"]), name
