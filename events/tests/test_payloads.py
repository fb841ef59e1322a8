"""Every plausible delivery shape is parsed: the order ids found, and a full-sync event when none is."""

from __future__ import annotations

import json
from typing import Any

import pytest

from billbee_wemalo_events import billbee_payloads, wemalo_payloads
from billbee_wemalo_events.auth import Refused


def billbee(data: Any) -> list[tuple[str, str | None, str | None]]:
    return [(e.kind, e.order_id, e.delivery_id) for e, _ in billbee_payloads.parse(json.dumps(data).encode())]


@pytest.mark.parametrize(("data", "expected"), [
    ({"Id": "w1", "Attempt": 1, "Properties": {}, "Notifications": [{"Action": "order.created", "OrderId": 7}]},
     [("order.created", "7", "w1")]),
    ({"Id": "w2", "Notifications": [{"Action": "order.updated", "BillBeeOrderId": "8"},
                                    {"Action": "order.updated", "Order": {"Id": 9, "OrderNumber": "A"}}]},
     [("order.updated", "8", "w2"), ("order.updated", "9", "w2")]),
    ({"Id": "w3", "Properties": {"OrderId": 10}, "Notifications": [{"Action": "order.created"}]},
     [("order.created", "10", "w3")]),
    ({"Id": "w4", "Notifications": [{"Action": "order.created", "Data": {"BillBeeOrderId": 11, "Id": 99}}]},
     [("order.created", "11", "w4")]),
    ({"Action": "order.created", "OrderId": 12}, [("order.created", "12", None)]),
    ({"BillBeeOrderId": 13, "OrderNumber": "X", "State": 3, "Id": 13}, [("unknown", "13", None)]),
    ({"Id": 14, "OrderNumber": "X", "OrderItems": []}, [("unknown", "14", None)]),  # a bare order
    ([{"Action": "a", "order_id": 15}, {"Action": "b", "orderIds": [16, "17"]}],
     [("a", "15", None), ("b", "16", None), ("b", "17", None)]),
    ({"Id": "w5", "Notifications": [{"Action": "order.created", "Data": [{"BillBeeOrderId": 18}]}]},
     [("order.created", "18", "w5")]),
], ids=["envelope", "envelope-order-object", "properties", "data-object", "bare-event", "bare-order",
        "bare-order-id-only", "list", "data-list"])
def test_billbee_shapes(data: Any, expected: list[tuple[str, str | None, str | None]]) -> None:
    assert billbee(data) == expected


@pytest.mark.parametrize("data", [
    {"Id": "w6", "Notifications": [{"Action": "product.updated", "ProductId": 5}]},
    {"Id": "w7", "Notifications": []},
    {"Action": "order.created", "Id": 99},  # an Id that is not (visibly) an order's
])
def test_a_billbee_delivery_without_an_order_id_becomes_a_full_sync(data: Any) -> None:
    events = billbee(data)
    assert len(events) == 1
    assert events[0][1] is None


def billbee_hints(data: Any) -> list[tuple[str | None, Any]]:
    return [(e.order_id, e.detail.get("hint")) for e, _ in billbee_payloads.parse(json.dumps(data).encode())]


RECEIVED = ["wemalo", "order_received_by_wemalo"]


@pytest.mark.parametrize(("data", "expected"), [
    # merged (the library's NotificationDictionary, the simulator's default): the order's fields beside Action
    ({"Id": "h1", "Notifications": [{"Action": "order.tagschanged", "OrderId": 7, "BillBeeOrderId": 7, "State": 3,
                                     "Tags": RECEIVED, "InvoiceAddress": {"LastName": "X"}}]},
     [("7", {"State": 3, "Tags": RECEIVED})]),  # state and tags only: no address reaches the queue
    # nested: the order under Order
    ({"Id": "h2", "Notifications": [{"Action": "order.updated", "OrderId": 8,
                                     "Order": {"BillBeeOrderId": 8, "State": 4, "Tags": RECEIVED}}]},
     [("8", {"State": 4, "Tags": RECEIVED})]),
    ({"Action": "order.created", "OrderId": 9, "State": 3, "Tags": ["wemalo"], "IsCancelationFor": 5},
     [("9", {"State": 3, "Tags": ["wemalo"], "IsCancelationFor": 5})]),
    # id only: no hint, the order is read
    ({"Id": "h3", "Notifications": [{"Action": "order.updated", "OrderId": 10}]}, [("10", None)]),
    # only one of the two fields: no hint
    ({"Action": "order.updated", "OrderId": 11, "State": 3}, [("11", None)]),
    # an order object of ANOTHER order beside this order's id: its state is not this order's
    ({"Action": "order.updated", "OrderId": 12, "Order": {"BillBeeOrderId": 99, "State": 3, "Tags": []}},
     [("12", None), ("99", None)]),
    # several orders in one notification: no hint for any
    ({"Action": "order.updated", "OrderIds": [13, 14], "State": 3, "Tags": RECEIVED}, [("13", None), ("14", None)]),
], ids=["merged", "nested", "bare-merged", "id-only", "state-without-tags", "other-order", "several-orders"])
def test_billbee_hints_are_the_orders_own_state_and_tags(data: Any, expected: list[tuple[str, Any]]) -> None:
    assert billbee_hints(data) == expected


def wemalo(data: Any, hint: str | None = None) -> list[tuple[str, str | None, dict[str, Any]]]:
    return [(e.kind, e.order_id, e.detail) for e, _ in wemalo_payloads.parse(data, hint)]


def test_wemalo_status_update_flat_with_the_event_from_the_url() -> None:
    assert wemalo({"orderId": 3, "externalId": "4711", "orderNumber": "A-1", "token": "t"}, "status_update") == [
        ("status_update", "4711", {"wemalo_order_id": "3", "order_id": "4711"})]


def test_wemalo_event_named_in_the_body_wins_over_a_missing_hint() -> None:
    assert wemalo({"event": "status_update", "externalId": "1"})[0][:2] == ("status_update", "1")


def test_wemalo_event_data_as_wemalos_shop_plugin_reads_it() -> None:
    data = {"token": "t", "eventData": {"goodsOrderParcelId": 44, "goodsOrderExternalId": "4711", "goodsOrderId": 3}}
    assert wemalo(data, "trackingnumber_added") == [
        ("trackingnumber_added", "4711", {"wemalo_order_id": "3", "parcel_id": "44", "order_id": "4711"})]


def test_wemalo_tracking_number_without_the_external_id_becomes_a_full_sync_of_the_direction() -> None:
    [(kind, order_id, detail)] = wemalo({"goodsOrderId": 3, "goodsOrderParcelId": 44}, "trackingnumber_added")
    assert (kind, order_id, detail) == ("trackingnumber_added", None, {"wemalo_order_id": "3", "parcel_id": "44"})


def test_wemalo_stock_change_is_a_full_sync_and_refurbishment_is_ignored() -> None:
    assert wemalo({"type": "INCOMING_STOCK", "orderId": 1, "externalId": "R-1"}, "stock_change")[0][:2] == (
        "stock_change", None)
    assert wemalo({"refurbishmentId": 5}, "refurbishment_action") == []


def test_wemalo_form_encoded_with_json_event_data() -> None:
    data = wemalo_payloads.decode(b'token=t&eventData=%7B%22externalId%22%3A%2242%22%7D',
                                  "application/x-www-form-urlencoded")
    assert wemalo_payloads.body_token(data) == "t"
    assert wemalo(data, "status_update")[0][:2] == ("status_update", "42")


@pytest.mark.parametrize("raw", [b"", b"\xff\xfe", b"just text", b'{"broken": '])
def test_malformed_wemalo_bodies_are_refused(raw: bytes) -> None:
    with pytest.raises(Refused) as refused:
        wemalo_payloads.decode(raw, "application/json")
    assert refused.value.status == 400


def test_a_wemalo_body_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(Refused):
        wemalo([1, 2], "status_update")
