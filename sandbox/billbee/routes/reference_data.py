"""The Billbee API's reference data: the account's shipping providers, the enums of order states and
shipping carriers."""

from __future__ import annotations

from flask import Flask, Response

from sandbox.billbee.responses import raw_json
from sandbox.billbee.store import ORDER_STATES, BillbeeStore

SHIPPING_CARRIERS = (
    (0, "other"), (1, "dhlExpress"), (2, "dhl"), (3, "hermes"), (4, "dpd"), (5, "ups"), (6, "gls"), (7, "dpag"),
    (8, "OePost"), (9, "fedex"), (10, "generalOvernight"), (11, "tnt"), (12, "liefery"), (13, "iloxx"),
    (14, "parcel_one"), (15, "cargo_international"), (16, "pin_mail"), (17, "usPostalService"),
    (18, "amazon_logistics"),
)


def register(app: Flask, store: BillbeeStore) -> None:
    """The reference-data routes, added to `app`."""

    @app.get("/api/v1/shipment/shippingproviders")
    def shipping_providers() -> Response:
        return raw_json(store.list_providers())

    @app.get("/api/v1/enums/orderstates")
    def enum_orderstates() -> Response:
        return raw_json([{"Id": i, "Name": n} for i, n in ORDER_STATES])

    @app.get("/api/v1/enums/shippingcarriers")
    def enum_shippingcarriers() -> Response:
        return raw_json([{"Id": i, "Name": n} for i, n in SHIPPING_CARRIERS])
