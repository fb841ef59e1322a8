"""The simulator's own description of the wemalo-connect v1 routes it serves, written from wemalo's apidoc.

Every API request is checked against these routes (`check_request`); what the apidoc does not allow becomes a
spec violation that core.py records, and the request is still answered as wemalo would answer it.

Sources (see docs/api-contract.md): the apidoc export of wemalo-connect (urls without `/v1`,
`:param` path segments) and, marked `WP`, what wemalo's own WooCommerce plugin sends although the apidoc does
not list it (the route `goodsOrder/addConditional`; fields `shop`, `meta.priority`, ...). Those are accepted
without a violation because wemalo's own client relies on them.

Where the apidoc lists a path parameter among the body parameters (e.g. `externalId` of `goodsOrder/cancel/:id`),
it is a path parameter here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from flask import request

from sandbox.core import schema_errors

API_PREFIX = "/v1"

STRING = {"type": "string"}
NUMBER = {"type": "number"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}
ANY: dict[str, Any] = {}

# Query values arrive as strings; these describe the text.
Q_STRING = {"type": "string"}
Q_NUMBER = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}
Q_BOOLEAN = {"type": "string", "enum": ["true", "false", "1", "0"]}
Q_HOUR = {"type": "string", "pattern": r"^\d{10}$"}  # ddMMyyyyHH
Q_DATETIME = {"type": "string", "pattern": r"^\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}:\d{2}$"}  # dd.MM.yyyy HH:mm:ss

# Fields (dotted, as in the apidoc) that only wemalo's WP plugin shows; accepted without a violation.
WP_FIELDS = frozenset({
    "shop", "stock", "b-stock", "thumbnail", "post_type", "post_status",  # products (createProductArray)
    "posCounter", "meta.priority", "meta.category", "meta.linkedOrderExternalId", "meta.createWECheck",
    "meta.createWACheck", "positions.name", "positions.sku", "positions._externalId",  # goods orders
})

PRODUCT_REQUIRED = ("externalId", "sku", "productGroup")
PRODUCT_STRINGS = ("externalId", "sku", "productGroup", "name", "description", "ean", "ean2", "ean3", "ean4",
                   "customsTariffNumber", "factoryNumber", "supplierNumber", "originCountry", "producerName",
                   "externalArticleNumber")
PRODUCT_NUMBERS = ("depth", "height", "width", "volume", "depthShipping", "heightShipping", "widthShipping",
                   "volumeShipping", "grossWeight", "netWeight", "salesPrice", "purchasePrice")
PRODUCT_BOOLEANS = ("hasSerialNumber", "isActive", "ignorePicking")
# WP: sent by wemalo's WooCommerce plugin with every product (WemaloPluginProducts::createProductArray).
PRODUCT_WP_EXTRAS: dict[str, Any] = {"shop": STRING, "stock": ANY, "b-stock": ANY, "thumbnail": ANY,
                                     "post_type": STRING, "post_status": STRING}

PRODUCT_PROPERTIES: dict[str, Any] = {
    **{k: STRING for k in PRODUCT_STRINGS},
    **{k: NUMBER for k in PRODUCT_NUMBERS},
    **{k: BOOLEAN for k in PRODUCT_BOOLEANS},
    **PRODUCT_WP_EXTRAS,
}
PRODUCT_SCHEMA = {"type": "object", "properties": PRODUCT_PROPERTIES, "required": list(PRODUCT_REQUIRED),
                  "additionalProperties": False}
PRODUCT_UPDATE_SCHEMA = {"type": "object", "properties": PRODUCT_PROPERTIES, "additionalProperties": False}

RECEIVER_REQUIRED = ("name1", "street", "countryCode2Letter", "city", "zip")
RECEIVER_SCHEMA = {
    "type": "object",
    "properties": {
        "primary": BOOLEAN,
        **{k: STRING for k in ("name1", "name2", "name3", "street", "streetNumber", "addressAddition",
                               "countryCode2Letter", "city", "zip", "stateProvinceCountry", "phoneNumber",
                               "email", "customerNumber")},
    },
    "required": list(RECEIVER_REQUIRED),
    "additionalProperties": False,
}
# WP: meta fields sent by WemaloPluginOrders::buildOrderObj; types partly unknown.
META_WP_EXTRAS: dict[str, Any] = {"priority": INTEGER, "category": ANY, "linkedOrderExternalId": ANY,
                                  "createWECheck": ANY, "createWACheck": ANY}
META_SCHEMA = {
    "type": "object",
    "properties": {
        "externalId": STRING,
        "orderNumber": STRING,
        "currency": STRING,
        **{k: NUMBER for k in ("total", "totalInvoice", "totalNet", "totalVat")},
        "dispatcherProfile": STRING,
        "externalIdMatch": {"type": "string", "enum": ["sku", "externalId"]},
        "pickingInfo": STRING,
        "expectedDeliveryDate": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
        "descriptionOfGoods": STRING,
        **{k: INTEGER for k in ("b2b", "blocked", "fastSendWeight")},
        **{k: STRING for k in ("extraInfo", "extraInfo2", "extraInfo3", "extraInfo4", "departmentNumber")},
        # An array even for one address; an empty one is as good as missing.
        "receiver": {"type": "array", "items": RECEIVER_SCHEMA, "minItems": 1},
        **META_WP_EXTRAS,
    },
    "required": ["externalId", "receiver"],
    "additionalProperties": False,
}
POSITION_SCHEMA = {
    "type": "object",
    "properties": {
        "externalId": STRING,
        "serialNumber": STRING,
        "quantity": NUMBER,
        "externalPositionIdentifier": STRING,
        "total": INTEGER,  # cents
        "tax": INTEGER,  # cents
        # WP: position fields sent by the plugin.
        "name": ANY, "sku": ANY, "_externalId": ANY,
    },
    "required": ["externalId"],
    "additionalProperties": False,
}
GOODS_ORDER_SCHEMA = {
    "type": "object",
    "properties": {
        "meta": META_SCHEMA,
        "positions": {"type": "array", "items": POSITION_SCHEMA, "minItems": 1},
        # WP: top-level fields sent by the plugin.
        "shop": STRING, "posCounter": ANY,
    },
    "required": ["meta", "positions"],
    "additionalProperties": False,
}

# returns/announce. `sender` is typed Object[] in the field list and written as one object in the parameter example:
# both are taken. The example also writes three sender keys its field list names differently (below); they are
# accepted without a violation, and `country` may be given as the example's `countryCode2Letter`. The example
# lacks the required `deliveryNumber`: sending the example as it is, is a violation.
SENDER_EXAMPLE_KEYS = ("streetNumber", "countryCode2Letter", "email")  # for house_no, country, mail
ANNOUNCE_SENDER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {k: STRING for k in ("name1", "name2", "name3", "street", "house_no", "zip", "city", "country",
                                       "addressAddition", "state", "mail", "phone", *SENDER_EXAMPLE_KEYS)},
    "required": ["name1", "street", "zip", "city"],
    "anyOf": [{"required": ["country"]}, {"required": ["countryCode2Letter"]}],
    "additionalProperties": False,
}
ANNOUNCE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        **{k: STRING for k in ("deliveryNumber", "trackingNumber", "orderNumberCustomer", "externalId",
                               "goodsOrderExternalId", "picking_notice")},
        "skipSerialNumberCheck": BOOLEAN,
        "sender": {"anyOf": [ANNOUNCE_SENDER_SCHEMA, {"type": "array", "items": ANNOUNCE_SENDER_SCHEMA,
                                                      "minItems": 1, "maxItems": 1}]},
        "items": {"type": "array", "minItems": 1, "items": {
            "type": "object",
            "properties": {"returnReason": NUMBER, "id": NUMBER, "externalId": STRING, "quantity": NUMBER},
            "required": ["quantity"],
            "anyOf": [{"required": ["id"]}, {"required": ["externalId"]}],  # "either this id or the external id"
            "additionalProperties": False}},
    },
    "required": ["deliveryNumber", "sender", "items"],
    "additionalProperties": False,
}
RETURNS_QUERY = {"dateFrom": Q_DATETIME, "dateTo": Q_DATETIME, "externalGoodsOrderId": Q_STRING,
                 "externalReturnsId": Q_STRING, "returnsId": Q_STRING, "page": Q_NUMBER}


WEBHOOK_SCHEMA = {
    "type": "object",
    "properties": {"payload": {"type": "string", "minLength": 1}, "token": {"type": "string", "minLength": 1},
                   "email": STRING, "mail": STRING},
    "required": ["payload", "token"],
    "anyOf": [{"required": ["email"]}, {"required": ["mail"]}],
    "additionalProperties": False,
}
# Body fields only an apidoc example shows (not its field list); accepted without a violation.
EXAMPLE_FIELDS = frozenset({"mail"})


@dataclass(frozen=True)
class RouteSpec:
    method: str
    url: str  # as the apidoc writes it: without /v1, `:name` for path segments
    name: str  # the apidoc's name of the route, or the WP plugin's use
    query: dict[str, dict[str, Any]] = field(default_factory=dict)
    required_query: tuple[str, ...] = ()
    body: dict[str, Any] | None = None
    source: str = "apidoc"  # "apidoc" or "wp" (only wemalo's WP plugin shows the route)
    # Body parts the apidoc documents at another route: "products" (its items) -> the fields of product/add;
    # "" -> the whole body.
    item_docs: dict[str, tuple[str, str]] = field(default_factory=dict)


ROUTES: tuple[RouteSpec, ...] = (
    RouteSpec("POST", "/product/add", "addProduct", body=PRODUCT_SCHEMA),
    RouteSpec("POST", "/product/addMultiple", "addMultiple",
              body={"type": "object", "properties": {"products": {"type": "array", "items": PRODUCT_SCHEMA}},
                    "required": ["products"], "additionalProperties": False},
              item_docs={"products": ("POST", "/product/add")}),
    # The apidoc documents no body fields for update; WRAP sends product/add fields, so those are taken.
    RouteSpec("PUT", "/product/update/:externalId", "updateProduct", body=PRODUCT_UPDATE_SCHEMA,
              item_docs={"": ("POST", "/product/add")}),
    RouteSpec("GET", "/product/get/:externalId", "getProduct"),
    RouteSpec("GET", "/product/getAll", "getAllProducts", query={"fromDate": Q_HOUR}, required_query=("fromDate",)),
    RouteSpec("GET", "/product/availableStock/", "availableStock", query={"fromDate": Q_HOUR},
              required_query=("fromDate",)),
    RouteSpec("POST", "/goodsOrder/add", "addGoodsOrder", body=GOODS_ORDER_SCHEMA),
    RouteSpec("POST", "/goodsOrder/addConditional", "addConditional (WP)", body=GOODS_ORDER_SCHEMA, source="wp"),
    RouteSpec("GET", "/goodsOrder/getStatus/:id", "getGoodsOrderStatus"),
    RouteSpec("PUT", "/goodsOrder/updateMeta/:id", "updateGoodsOrderMeta",
              body={"type": "object", "properties": {"meta": META_SCHEMA}, "required": ["meta"],
                    "additionalProperties": False}),
    RouteSpec("PUT", "/goodsOrder/cancel/:id", "cancelGoodsOrder",
              body={"type": "object", "properties": {"reason": STRING, "shop": STRING},  # shop: WP
                    "additionalProperties": False}),
    RouteSpec("GET", "/goodsOrder/packages", "getOrderPackages",
              query={"orderId": Q_NUMBER, "externalOrderId": Q_STRING}),
    RouteSpec("GET", "/goodsOrder/sentPackages/", "getSentPackages",
              query={"externalId": Q_STRING, "dateFrom": Q_DATETIME, "dateTo": Q_DATETIME,
                     "addRecipient": Q_BOOLEAN, "page": Q_NUMBER}),
    RouteSpec("GET", "/goodsOrder/packages/sent/", "getSentPackagesByFlag",
              query={"externalId": Q_STRING, "addRecipient": Q_BOOLEAN, "page": Q_NUMBER}),
    RouteSpec("PUT", "/goodsOrder/packages/sent/:bookingId", "putSentPackagesFlag"),
    RouteSpec("GET", "/goodsOrder/package/:parcelId/trackingNumber", "getTrackingNumber"),
    RouteSpec("GET", "/goodsOrder/profiles", "getProfiles"),
    RouteSpec("POST", "/returns/announce", "announceReturn", body=ANNOUNCE_SCHEMA),
    RouteSpec("GET", "/returns/booked", "getBookedReturns", query=RETURNS_QUERY),
    RouteSpec("GET", "/returns/getBookings", "getReturnBookings", query=RETURNS_QUERY),
    RouteSpec("PUT", "/returns/booked/:bookingId", "putSynchedReturnsFlag"),
    # The apidoc lists `email` as required; its request example sends `mail` instead: either satisfies it.
    RouteSpec("POST", "/webhook/:event", "registerWebHook", body=WEBHOOK_SCHEMA),
    RouteSpec("GET", "/webhook", "getWebhooks"),
    RouteSpec("DELETE", "/webhook/:event", "deleteWebHook"),
)

# Routes the apidoc documents that the simulator does not serve: answered 501, no violation.
UNSIMULATED: tuple[tuple[str, str], ...] = (
    ("POST", "/client/new"), ("POST", "/goodsOrder/addPosition/:externalId"),
    ("POST", "/goodsOrder/addDocument/:externalId"), ("PUT", "/goodsOrder/note/:externalId"),
    ("PUT", "/goodsOrder/trackingNumber/:packageId"), ("PUT", "/goodsOrder/changePriority/:id"),
    ("DELETE", "/goodsOrder/reservations"), ("POST", "/goodsOrder/finish/:orderId"),
    ("GET", "/goodsOrder/package/:parcelId/label"),
    ("DELETE", "/goodsOrder/removePosition/:externalId/:externalpositionId"),
    ("POST", "/goodsOrder/package/:parcelId/sent"), ("POST", "/goodsReceipt/add"), ("GET", "/goodsReceipt/get"),
    ("PUT", "/product/addImage/:externalId"), ("POST", "/product/unit/:externalId"),
    ("PUT", "/product/changeActiveFlag/:externalId"), ("GET", "/product/bookings/flag"),
    ("GET", "/product/stock/:externalId"), ("GET", "/product/stock/reduced/:externalId"),
    ("GET", "/product/unit/:externalId"), ("PUT", "/product/bookings/flag"), ("GET", "/refurbishment/get"),
    ("POST", "/returns/document/:externalId"), ("GET", "/user/genericInterfaces"),
)


def normalise_url(url: str) -> str:
    """`/goodsOrder/getStatus/:id/` -> `/goodsOrder/getStatus/:`: parameter names and trailing slashes ignored."""
    url = re.sub(r":[A-Za-z_][A-Za-z0-9_]*", ":", url)
    return url.rstrip("/") or "/"


def _pattern(url: str) -> re.Pattern[str]:
    parts = normalise_url(url).split("/")
    out = []
    for i, part in enumerate(parts):
        if part == ":":
            # The last segment may hold an url-encoded slash, which arrives decoded.
            out.append(".+" if i == len(parts) - 1 else "[^/]+")
        else:
            out.append(re.escape(part))
    return re.compile("^" + "/".join(out) + "/?$")


_COMPILED = [(r, _pattern(r.url)) for r in ROUTES]
_COMPILED_UNSIMULATED = [(m, _pattern(u)) for m, u in UNSIMULATED]


def find_route(method: str, path: str) -> RouteSpec | None:
    """The route spec for a request path without the /v1 prefix."""
    for route, pattern in _COMPILED:
        if route.method == method and pattern.match(path):
            return route
    return None


def is_unsimulated(method: str, path: str) -> bool:
    return any(m == method and p.match(path) for m, p in _COMPILED_UNSIMULATED)


def check_request() -> list[str]:
    """Spec violations of the current Flask request (runs in core's before_request hook)."""
    path = request.path[len(API_PREFIX):] if request.path.startswith(API_PREFIX) else request.path
    where = f"{request.method} {path}"
    out: list[str] = []
    auth = request.headers.get("Authorization")
    if not auth:
        out.append(f"{where}: header Authorization (JWT <token>) missing")
    elif not auth.startswith("JWT "):
        out.append(f"{where}: header Authorization must read 'JWT <token>'")
    route = find_route(request.method, path)
    if route is None:
        if is_unsimulated(request.method, path):
            return out
        other = [r.method for r, p in _COMPILED if p.match(path)]
        if other:
            out.append(f"{where}: method not documented for this route (documented: {', '.join(sorted(other))})")
        else:
            out.append(f"{where}: route not documented")
        return out
    for name in request.args:
        if name not in route.query:
            out.append(f"{where}: query parameter '{name}' not documented")
        else:
            out += schema_errors(request.args.get(name), route.query[name], f"{where} query {name}")
    for name in route.required_query:
        if name not in request.args:
            out.append(f"{where}: required query parameter '{name}' missing")
    raw = request.get_data(cache=True, as_text=True)
    if route.body is None:
        if raw.strip() not in ("", "{}", "null") and request.method != "GET":
            out.append(f"{where}: the route takes no body")
        return out
    if not raw.strip():
        out.append(f"{where}: body missing")
        return out
    if (request.mimetype or "") != "application/json":
        out.append(f"{where}: Content-Type must be application/json (is {request.content_type!r})")
    try:
        body = json.loads(raw)
    except ValueError:
        out.append(f"{where}: body is not JSON")
        return out
    out += schema_errors(body, route.body, f"{where} body")
    return out


def required_paths(schema: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted names of the required fields of a body schema, apidoc style (`meta.receiver.name1`)."""
    out: list[str] = []
    if schema.get("type") == "array":
        return required_paths(schema.get("items") or {}, prefix)
    for name in schema.get("required", []):
        dotted = f"{prefix}{name}"
        out.append(dotted)
        out += required_paths((schema.get("properties") or {}).get(name) or {}, dotted + ".")
    return out
