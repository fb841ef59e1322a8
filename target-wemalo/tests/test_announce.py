"""Billbee order tagged for a return -> returns/announce body, and what a replay knows (target_wemalo.announce).
Pure: no I/O."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from billbee_wemalo.protocol import return_external_id
from target_wemalo.announce import KEPT_DAYS, AnnounceError, AnnouncementLedger, map_announcement, map_sender

ADDRESS = {"FirstName": "Max", "LastName": "Mustermann", "Street": "Hauptstr. 12", "Zip": "10115", "City": "Berlin",
           "CountryISO2": "DE"}


def line(sku: str | None, quantity: int = 1, *, type_: int = 1, components: list[dict[str, Any]] | None = None,
         **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"BillbeeId": None, "Quantity": quantity, "TotalPrice": None, "TaxAmount": None,
                            "IsCoupon": False, "Product": {"SKU": sku, "Type": type_, "IsDigital": False}, **extra}
    if components is not None:
        item["BundleComponents"] = components
    return item


def component(sku: str, quantity: int) -> dict[str, Any]:
    return {"ArticleId": 1, "SKU": sku, "EAN": None, "Quantity": quantity}


def order(*items: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return {"BillBeeOrderId": 900001, "OrderNumber": "A-1001", "ShippingAddress": dict(ADDRESS),
            "OrderItems": list(items), **overrides}


def test_the_announcement_names_order_delivery_sender_and_items() -> None:
    body = map_announcement(order(line("SKU-1", 2), line("SKU-2", 1)), n=1)
    assert body == {
        "deliveryNumber": "A-1001-R1", "externalId": "900001-R1", "goodsOrderExternalId": "900001",
        "orderNumberCustomer": "A-1001", "picking_notice": "Retoure zu Billbee-Auftrag A-1001",
        "sender": {"name1": "Max Mustermann", "street": "Hauptstr.", "house_no": "12", "streetNumber": "12",
                   "zip": "10115", "city": "Berlin", "country": "DE", "countryCode2Letter": "DE"},
        "items": [{"externalId": "SKU-1", "quantity": 2}, {"externalId": "SKU-2", "quantity": 1}],
    }


def test_both_sender_spellings_of_the_apidoc_are_sent() -> None:
    """The field list's house_no/country/mail and the example's streetNumber/countryCode2Letter/email: each reading
    finds its keys (the sandbox's announce_required field_list and example)."""
    sender = map_sender({"Company": "Firma GmbH", "FirstName": "Erika", "LastName": "Muster", "Street": "Weg 5a",
                         "Zip": "65195", "City": "Wiesbaden", "CountryISO2": "de", "Email": "e@example.com",
                         "Phone": "0611 1", "State": "HE", "Line2": "Hinterhaus"})
    assert sender == {"name1": "Firma GmbH", "name2": "Erika Muster", "street": "Weg", "house_no": "5a",
                      "streetNumber": "5a", "zip": "65195", "city": "Wiesbaden", "country": "DE",
                      "countryCode2Letter": "DE", "mail": "e@example.com", "email": "e@example.com",
                      "phone": "0611 1", "state": "HE", "addressAddition": "Hinterhaus"}


def test_bundles_are_announced_as_their_components_and_coupons_left_out() -> None:
    body = map_announcement(order(line("BUNDLE", 2, type_=2, components=[component("C-1", 1), component("C-2", 3)]),
                                  line("C-1", 1), line("COUPON", 1, IsCoupon=True)), n=1)
    assert body["items"] == [{"externalId": "C-1", "quantity": 2}, {"externalId": "C-2", "quantity": 3}]


def test_the_return_reason_goes_with_every_item_when_set() -> None:
    body = map_announcement(order(line("SKU-1"), line("SKU-2")), n=2, return_reason_id=7)
    assert [i["returnReason"] for i in body["items"]] == [7, 7]
    assert (body["externalId"], body["deliveryNumber"]) == ("900001-R2", "A-1001-R2")


@pytest.mark.parametrize(("changes", "reason"), [
    ({"ShippingAddress": None}, "order A-1001 (Billbee id 900001): the order has no shipping address"),
    ({"OrderItems": []}, "order A-1001 (Billbee id 900001): no articles to return"),
    ({"OrderItems": [line(None)]}, "order A-1001 (Billbee id 900001): line 1 (no SKU): no SKU"),
    ({"OrderNumber": None, "ShippingAddress": {"FirstName": "A", "Street": "Weg 1", "Zip": "1", "City": "B",
                                               "CountryISO2": "Deutschland"}},
     "Billbee order 900001: shipping address: country"),
])
def test_bad_input_is_refused_with_a_reason_naming_the_order(changes: dict[str, object], reason: str) -> None:
    with pytest.raises(AnnounceError) as refused:
        map_announcement(order(line("SKU-1"), **changes), n=1)
    assert str(refused.value).startswith(reason)


def test_the_external_id_is_stable_per_order_and_number() -> None:
    assert return_external_id(900001, 1) == return_external_id("900001", 1) == "900001-R1"


def test_a_pending_acknowledgement_is_a_replay_and_a_confirmed_announcement_counts_on() -> None:
    ledger = AnnouncementLedger(known={"1": {"n": 1, "externalId": "1-R1", "id": 4711, "on": "2026-01-01"}},
                                pending={"2"})
    assert ledger.is_replay("2")
    assert not ledger.is_replay("1")
    assert ledger.number("1") == 2  # the confirmation tag was written and removed: another return
    assert ledger.number("3") == 1
    ledger.record("3", 1, "3-R1", 4712, date(2026, 12, 1))
    assert ledger.number("3") == 2


def test_old_announcements_are_forgotten_after_kept_days() -> None:
    ledger = AnnouncementLedger()
    ledger.record("9", 1, "9-R1", 1, date(2026, 12, 1))
    stored = {"1": {"n": 1, "on": "2020-01-01"}, "2": {"n": 1, "on": "2026-06-01"}}
    assert set(ledger.merged(stored, date(2026, 12, 1))) == {"2", "9"}
    assert KEPT_DAYS >= 365
