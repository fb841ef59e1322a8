"""The simulator's own description of the Billbee routes it serves, used to record spec violations.

Written from Billbee's Swagger 2.0 spec (docs/api-contract.md), reduced to what the connector uses. For each route:
the query parameters with their types, the path parameters, and a JSON Schema of the request body.

Choices where the vendor spec is loose (each is a recorded violation, never a refusal):

* a body property the vendor model does not define is a violation (ASP.NET would ignore it silently);
* properties without which a call means nothing are required: ``Tags``, ``NewStateId``, ``Sku`` +
  ``NewQuantity``, ``Text``; the others may be ``null`` (nullable .NET types);
* list parameters may be sent as repeated keys (``tag=a&tag=b``, Swagger ``collectionFormat: multi``) or with
  indexes (``tag[0]=a&tag[1]=b``, what the official SDKs send); a scalar sent twice or with brackets is a violation;
* ``pageSize`` must lie in 1..250 and ``page`` be at least 1;
* a query parameter the vendor spec marks ``required`` (``id`` of ``/products/reservedamount``) must be present.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import MethodNotAllowed

from sandbox.core import schema_errors

API_PREFIX = "/api/v1"
INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
_KEY = re.compile(r"^(?P<name>[^\[\]]+)(?:\[(?P<index>\d*)\])?$")


@dataclass(frozen=True)
class Param:
    type: str  # int32 | int64 | string | boolean | date-time
    array: bool = False
    enum: tuple[Any, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    required: bool = False  # the vendor spec's `required: true`; a missing one is a violation

    def problems(self, name: str, values: list[str]) -> list[str]:
        out = []
        if not self.array and len(values) > 1:
            out.append(f"query parameter {name!r} given {len(values)} times; it is not a list")
        for raw in values:
            value, error = parse_value(self.type, raw)
            if error:
                out.append(f"query parameter {name!r}: {error}")
                continue
            if self.enum and value not in self.enum:
                out.append(f"query parameter {name!r}: {raw!r} is not one of {list(self.enum)}")
            if self.minimum is not None and value < self.minimum:
                out.append(f"query parameter {name!r}: {raw} is below the minimum {self.minimum}")
            if self.maximum is not None and value > self.maximum:
                out.append(f"query parameter {name!r}: {raw} exceeds the maximum {self.maximum}")
        return out


@dataclass(frozen=True)
class RouteSpec:
    method: str
    rule: str  # Flask rule; path variables carry the vendor's names, e.g. <id>
    query: dict[str, Param] = field(default_factory=dict)
    path: dict[str, Param] = field(default_factory=dict)
    body: dict[str, Any] | None = None  # JSON Schema; None: the route takes no body

    @property
    def vendor_path(self) -> str:
        return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", self.rule)


def parse_value(kind: str, raw: str) -> tuple[Any, str | None]:
    """(typed value, None) or (None, why `raw` is not a `kind`)."""
    if kind in INT_RANGES:
        if not re.fullmatch(r"[+-]?\d+", raw.strip()):
            return None, f"{raw!r} is not an integer"
        value = int(raw)
        low, high = INT_RANGES[kind]
        if not low <= value <= high:
            return None, f"{raw} is out of the {kind} range"
        return value, None
    if kind == "boolean":
        if raw.strip().lower() not in ("true", "false"):
            return None, f"{raw!r} is not a boolean"
        return raw.strip().lower() == "true", None
    if kind == "date-time":
        try:
            return datetime.fromisoformat(raw.strip().replace("Z", "+00:00")), None
        except ValueError:
            return None, f"{raw!r} is not a date-time"
    return raw, None


def split_query(args: MultiDict[str, str]) -> tuple[dict[str, list[str]], dict[str, str], list[str]]:
    """Query -> ({name: values}, {name: "plain"|"indexed"}, malformed keys). Indexed values sort by index."""
    values: dict[str, list[tuple[int, int, str]]] = {}
    forms: dict[str, str] = {}
    bad = []
    order = 0
    for key, value in args.items(multi=True):
        m = _KEY.match(key)
        if not m:
            bad.append(key)
            continue
        name, index = m.group("name"), m.group("index")
        form = "plain" if index is None else "indexed"
        if forms.get(name, form) != form:
            forms[name] = "mixed"
        else:
            forms[name] = form
        position = int(index) if index else -1
        values.setdefault(name, []).append((position, order, value))
        order += 1
    return ({name: [v for _, _, v in sorted(items)] for name, items in values.items()}, forms, bad)


def query_list(name: str) -> list[str]:
    """All values of list parameter `name` of the current request, in either form."""
    return split_query(request.args)[0].get(name, [])


# -- body schemas ----------------------------------------------------------------------------------------


def _nullable(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": [kind, "null"], **extra}


_INT32 = {"minimum": INT_RANGES["int32"][0], "maximum": INT_RANGES["int32"][1]}
_INT64 = {"minimum": INT_RANGES["int64"][0], "maximum": INT_RANGES["int64"][1]}

TAGS_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {"Tags": {"type": "array", "items": {"type": "string"}}},
    "required": ["Tags"],
    "additionalProperties": False,
}
ORDER_STATE_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {"NewStateId": {"type": "integer", "enum": list(range(1, 18))}},
    "required": ["NewStateId"],
    "additionalProperties": False,
}
SHIPMENT_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "ShippingId": _nullable("string"),
        "OrderId": _nullable("string"),
        "Comment": _nullable("string"),
        "ShippingProviderId": _nullable("integer", **_INT64),
        "ShippingProviderProductId": _nullable("integer", **_INT64),
        "CarrierId": _nullable("integer", **_INT32),
        "ShipmentType": {"type": ["integer", "null"], "enum": [0, 1, None]},
    },
    "additionalProperties": False,
}
MESSAGE_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "IsInternal": _nullable("boolean"),
        "SenderName": _nullable("string"),
        "Text": {"type": "string"},
    },
    "required": ["Text"],
    "additionalProperties": False,
}
UPDATE_STOCK_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "BillbeeId": _nullable("integer", **_INT64),
        "Sku": {"type": "string"},
        "StockId": _nullable("integer", **_INT64),
        "Reason": _nullable("string"),
        "OldQuantity": _nullable("number"),
        "NewQuantity": {"type": "number"},
        "DeltaQuantity": _nullable("number"),
        "ForceSendStockToShops": _nullable("boolean"),
        "AutosubtractReservedAmount": _nullable("boolean"),
    },
    "required": ["Sku", "NewQuantity"],
    "additionalProperties": False,
}
UPDATE_STOCK_MULTIPLE_BODY: dict[str, Any] = {"type": "array", "items": UPDATE_STOCK_BODY}
WEBHOOK_BODY: dict[str, Any] = {  # WebHookApiModel
    "type": "object",
    "properties": {
        "Id": _nullable("string"),
        "WebHookUri": {"type": "string"},
        "Secret": {"type": "string"},
        "Description": _nullable("string"),
        "IsPaused": _nullable("boolean"),
        "Filters": {"type": ["array", "null"], "items": {"type": "string"}, "uniqueItems": True},
        "Headers": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
        "Properties": {"type": ["object", "null"]},  # values: .NET `object`, i.e. anything
    },
    "required": ["Secret", "WebHookUri"],
    "additionalProperties": False,
}

# -- routes --------------------------------------------------------------------------------------------------

_PAGE = Param("int32", minimum=1)
_PAGE_SIZE = Param("int32", minimum=1, maximum=250)
_TITLE_SOURCE = Param("int32", enum=(0, 1, 2, 3))
_ORDER_ID = {"id": Param("int64")}

ROUTES: tuple[RouteSpec, ...] = (
    RouteSpec("GET", "/api/v1/products", query={
        "page": _PAGE, "pageSize": _PAGE_SIZE, "minCreatedAt": Param("date-time"),
        "minimumBillBeeArticleId": Param("int64"), "maximumBillBeeArticleId": Param("int64")}),
    RouteSpec("GET", "/api/v1/products/stocks"),
    RouteSpec("GET", "/api/v1/products/<id>", path={"id": Param("string")},
              query={"lookupBy": Param("string", enum=("id", "ean", "sku"))}),
    RouteSpec("GET", "/api/v1/products/reservedamount", query={
        "id": Param("string", required=True), "lookupBy": Param("string", enum=("id", "sku")),
        "stockId": Param("int64")}),
    RouteSpec("POST", "/api/v1/products/updatestock", body=UPDATE_STOCK_BODY),
    RouteSpec("POST", "/api/v1/products/updatestockmultiple", body=UPDATE_STOCK_MULTIPLE_BODY),
    RouteSpec("GET", "/api/v1/orders", query={
        "minOrderDate": Param("date-time"), "maxOrderDate": Param("date-time"), "page": _PAGE,
        "pageSize": _PAGE_SIZE, "shopId": Param("int64", array=True), "orderStateId": Param("int32", array=True),
        "tag": Param("string", array=True), "minimumBillBeeOrderId": Param("int64"),
        "modifiedAtMin": Param("date-time"), "modifiedAtMax": Param("date-time"),
        "articleTitleSource": _TITLE_SOURCE, "excludeTags": Param("boolean")}),
    RouteSpec("GET", "/api/v1/orders/<id>", path=_ORDER_ID, query={"articleTitleSource": _TITLE_SOURCE}),
    RouteSpec("GET", "/api/v1/orders/findbyextref/<extRef>", path={"extRef": Param("string")}),
    RouteSpec("POST", "/api/v1/orders/<id>/tags", path=_ORDER_ID, body=TAGS_BODY),
    RouteSpec("PUT", "/api/v1/orders/<id>/tags", path=_ORDER_ID, body=TAGS_BODY),
    RouteSpec("PUT", "/api/v1/orders/<id>/orderstate", path=_ORDER_ID, body=ORDER_STATE_BODY),
    RouteSpec("POST", "/api/v1/orders/<id>/shipment", path=_ORDER_ID, body=SHIPMENT_BODY),
    RouteSpec("POST", "/api/v1/orders/<id>/message", path=_ORDER_ID, body=MESSAGE_BODY),
    RouteSpec("GET", "/api/v1/shipment/shippingproviders"),
    RouteSpec("GET", "/api/v1/enums/orderstates"),
    RouteSpec("GET", "/api/v1/enums/shippingcarriers"),
    # "Attach ?noecho to the uri to prevent echo test": read as the WebHookUri's query (setting webhook_noecho_in);
    # on the call's own URL it is accepted too, without a violation.
    RouteSpec("GET", "/api/v1/webhooks"),
    RouteSpec("POST", "/api/v1/webhooks", query={"noecho": Param("string")}, body=WEBHOOK_BODY),
    RouteSpec("DELETE", "/api/v1/webhooks"),
    RouteSpec("GET", "/api/v1/webhooks/filters"),
    RouteSpec("GET", "/api/v1/webhooks/<id>", path={"id": Param("string")}),
    RouteSpec("PUT", "/api/v1/webhooks/<id>", path={"id": Param("string")}, body=WEBHOOK_BODY),
    RouteSpec("DELETE", "/api/v1/webhooks/<id>", path={"id": Param("string")}),
)
ROUTE_INDEX: dict[tuple[str, str], RouteSpec] = {(r.method, r.rule): r for r in ROUTES}


def route_spec() -> RouteSpec | None:
    rule = request.url_rule
    return ROUTE_INDEX.get((request.method, rule.rule)) if rule is not None else None


def check_request() -> list[str]:
    """Every way the current request departs from the simulator's spec (empty list: none)."""
    if request.url_rule is None:
        if isinstance(request.routing_exception, MethodNotAllowed):
            return [f"method {request.method} is not defined for {request.path}"]
        return [f"unknown route {request.method} {request.path}"]
    spec = route_spec()
    if spec is None:
        return [f"{request.method} {request.url_rule.rule} is not in the simulator's spec"]
    problems: list[str] = []
    for name, param in spec.path.items():
        raw = str((request.view_args or {}).get(name, ""))
        _, error = parse_value(param.type, raw)
        if error:
            problems.append(f"path parameter {name!r}: {error}")
    values, forms, bad = split_query(request.args)
    problems += [f"malformed query key {key!r}" for key in bad]
    problems += [f"required query parameter {name!r} missing" for name, param in spec.query.items()
                 if param.required and not any(v.strip() for v in values.get(name, []))]
    for name, vals in values.items():
        param = spec.query.get(name)
        if param is None:
            problems.append(f"unknown query parameter {name!r}")
            continue
        if not param.array and forms.get(name) != "plain":
            problems.append(f"query parameter {name!r} is not a list but was sent with brackets")
        problems += param.problems(name, vals)
    problems += _body_problems(spec)
    return problems


def _body_problems(spec: RouteSpec) -> list[str]:
    raw = request.get_data(cache=True, as_text=True)
    if spec.body is None:
        return ["this route takes no request body"] if raw.strip() else []
    if not raw.strip():
        return ["request body missing"]
    problems = []
    if request.mimetype not in ("application/json", "text/json"):
        problems.append(f"body Content-Type {request.mimetype or 'missing'!r}: the simulator reads JSON only")
    try:
        body = json.loads(raw)
    except ValueError:
        return [*problems, "request body is not valid JSON"]
    return problems + schema_errors(body, spec.body, "body")
