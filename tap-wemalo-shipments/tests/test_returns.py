"""The `returns` stream against a recorded wemalo (no sandbox): grouping, the readings of a booking row, and the
marks of the bookings Billbee has (docs/api-contract.md, "wemalo: returns")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from billbee_wemalo.http import NotFoundError, TransientError
from billbee_wemalo.protocol import PENDING_RETURN_ACKS_KEY
from tap_wemalo_shipments.returns import ReturnsStream
from tap_wemalo_shipments.tap import TapWemaloShipments

CONFIG = {"api_url": "http://127.0.0.1:1/v1", "token": "t", "sync_returns": True}


class RecordedWemalo:
    def __init__(self, rows: list[dict[str, Any]], failing: dict[str, Exception] | None = None) -> None:
        self.rows = rows
        self.failing = failing or {}
        self.marked: list[str] = []

    def iter_booked_returns(self) -> Iterator[dict[str, Any]]:
        yield from (r for r in self.rows if str(r.get("id")) not in self.marked)

    def mark_return_synchronised(self, booking_id: int | str) -> None:
        if str(booking_id) in self.failing:
            raise self.failing[str(booking_id)]
        self.marked.append(str(booking_id))


def stream_with(client: RecordedWemalo, state: dict[str, Any] | None = None) -> ReturnsStream:
    tap = TapWemaloShipments(config=CONFIG, state={"bookmarks": {"returns": state or {}}}, validate_config=False)
    tap.run.__dict__["client"] = client  # the run's cached client, replaced by the recording
    stream = tap.streams["returns"]
    assert isinstance(stream, ReturnsStream)
    return stream


def row(booking: int, order: str | None = "300001", **fields: Any) -> dict[str, Any]:
    base = {"externalProductId": "9001", "productId": "4711", "productName": "Shirt", "id": booking,
            "bookingDate": "14.05.2017 19:26:55", "attributeCode": "1. choice", "attributeDefault": True,
            "reasonCode": "damaged", "goodsOrderExternalId": order, "goodsOrderNumber": "#1001"}
    return {**base, **fields}


def test_bookings_are_grouped_per_order_with_every_documented_field() -> None:
    client = RecordedWemalo([row(12, serialNumber="SN-1"), row(9, externalProductId="9002", readyForShipment=False),
                             row(20, order="300002")])
    records = list(stream_with(client).get_records(None))
    assert [r["return_id"] for r in records] == ["300001/9", "300002/20"]
    first = records[0]
    assert first["booking_ids"] == ["9", "12"]  # numeric order, not text order
    assert first["order_number"] == "#1001"
    assert first["items"][0] == {
        "booking_id": "9", "external_product_id": "9002", "product_id": "4711", "product_name": "Shirt", "sku": None,
        "quantity": 1, "reason_code": "damaged", "condition": "1. choice", "condition_is_default": True,
        "serial_number": None, "ready_for_shipment": False, "booked_at": "2017-05-14T19:26:55+02:00"}
    assert first["items"][1]["serial_number"] == "SN-1"
    assert first["booked_at"] == "2017-05-14T19:26:55+02:00"
    assert client.marked == []  # nothing to mark: nothing was acknowledged


def test_the_examples_spelling_and_a_quantity_field_are_read() -> None:
    """The apidoc's example spells `externaProductlId` and names no quantity; a `count`/`quantity` is used."""
    example = row(1, quantity="3")
    del example["externalProductId"]
    example["externaProductlId"] = "9005"
    records = list(stream_with(RecordedWemalo([example, row(2, count=2)])).get_records(None))
    items = records[0]["items"]
    assert (items[0]["external_product_id"], items[0]["quantity"]) == ("9005", 3)
    assert items[1]["quantity"] == 2


@pytest.mark.parametrize("order", [None, ""])
def test_a_booking_without_an_order_is_emitted_not_dropped(order: str | None) -> None:
    records = list(stream_with(RecordedWemalo([row(5, order=order)])).get_records(None))
    assert records[0]["order_external_id"] is None
    assert records[0]["return_id"] == "no-order/5"


def test_acknowledged_bookings_are_marked_first_and_not_read_again() -> None:
    client = RecordedWemalo([row(1), row(2), row(3)],
                            failing={"2": TransientError("wemalo 503"), "3": NotFoundError("gone")})
    state = {PENDING_RETURN_ACKS_KEY: {"1": "300001", "2": "300001", "3": "300001"}}
    stream = stream_with(client, state)
    records = list(stream.get_records(None))
    assert client.marked == ["1"]
    # 2 failed transiently: kept in the state for the next run, and not emitted again meanwhile (Billbee has it)
    assert stream.stream_state[PENDING_RETURN_ACKS_KEY] == {"2": "300001"}
    # 3 was unknown to wemalo: dropped from the state; the recording still lists it, but it was handled
    assert records == []


def test_the_stream_exists_only_when_switched_on() -> None:
    tap = TapWemaloShipments(config={**CONFIG, "sync_returns": False}, validate_config=False)
    assert "returns" not in tap.streams
