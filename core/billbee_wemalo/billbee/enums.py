"""Billbee enumerations the connector needs (docs/api-contract.md, "Billbee: order states")."""

from __future__ import annotations

import re
from enum import IntEnum

BUNDLE_TYPE = 2  # Article.Type / SoldProduct.Type: 1 normal, 2 bill of materials ("Stückliste")


class OrderState(IntEnum):
    ORDERED = 1
    CONFIRMED = 2
    PAID = 3  # "Bezahlt"
    SHIPPED = 4  # "Versendet"
    RECLAMATION = 5
    DELETED = 6
    CLOSED = 7
    CANCELED = 8  # "Storniert"
    ARCHIVED = 9
    DEMAND_NOTE = 11  # "Mahnung"
    DEMAND_NOTE_2 = 12  # "Mahnung2"
    PACKED = 13
    PAYMENT_REMINDER = 15  # "Zahlungserinnerung"
    FULFILLING = 16


# A cancelled order (6 "Gelöscht", 8 "Storniert"): tap-billbee reads them, target-wemalo cancels the goods order.
CANCELLED_STATES = frozenset({OrderState.DELETED, OrderState.CANCELED})


# States of an order whose goods have not left yet: "Versendet" may follow them, no later state of the merchant's.
BEFORE_SHIPPING_STATES = frozenset({OrderState.ORDERED, OrderState.CONFIRMED, OrderState.PAID,
                                    OrderState.DEMAND_NOTE, OrderState.DEMAND_NOTE_2, OrderState.PACKED,
                                    OrderState.PAYMENT_REMINDER, OrderState.FULFILLING})


# ShippingCarrier enum (official SDKs), keyed by normalised carrier names as wemalo reports them.
_CARRIERS = {
    "other": 0,
    "dhlexpress": 1,
    "dhl": 2,
    "deutschepostdhl": 2,
    "hermes": 3,
    "dpd": 4,
    "ups": 5,
    "gls": 6,
    "dpag": 7,
    "deutschepost": 7,
    "internetmarke": 7,
    "warenpost": 2,
    "oepost": 8,
    "osterreichischepost": 8,
    "fedex": 9,
    "generalovernight": 10,
    "tnt": 11,
    "liefery": 12,
    "iloxx": 13,
    "parcelone": 14,
    "cargointernational": 15,
    "pinmail": 16,
    "usps": 17,
    "uspostalservice": 17,
    "amazonlogistics": 18,
}


def carrier_id_for(name: str | None) -> int | None:
    """Billbee's CarrierId for a carrier name such as "DHL", "DHL Express" or "Deutsche Post"; None if unknown."""
    if not name:
        return None
    key = re.sub(r"[^a-z]", "", name.lower().replace("ö", "o").replace("ä", "a").replace("ü", "u"))
    if key in _CARRIERS:
        return _CARRIERS[key]
    for prefix in sorted(_CARRIERS, key=len, reverse=True):  # "dhlpaket" -> dhl, "dpdclassic" -> dpd
        if prefix != "other" and key.startswith(prefix):
            return _CARRIERS[prefix]
    return None
