"""Billbee's naive timestamps become aware in the records, and bookmarks go back naive into modifiedAtMin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tap_billbee.tap import TapBillbee
from tap_billbee.timefmt import normalise_order_times, to_aware, to_billbee_query

BERLIN = ZoneInfo("Europe/Berlin")
ZONES = [ZoneInfo("UTC"), BERLIN, ZoneInfo("America/New_York")]


def test_to_aware_in_utc_and_berlin() -> None:
    assert to_aware("2023-04-29T13:31:59.317", ZoneInfo("UTC")) == "2023-04-29T13:31:59.317000+00:00"
    assert to_aware("2023-04-29T13:31:59", BERLIN) == "2023-04-29T13:31:59+02:00"
    assert to_aware("2023-01-29T13:31:59", BERLIN) == "2023-01-29T13:31:59+01:00"


def test_values_with_an_offset_are_kept_and_empty_values_pass() -> None:
    assert to_aware("2023-04-29T13:31:59Z", BERLIN) == "2023-04-29T13:31:59+00:00"
    assert to_aware("2023-04-29T13:31:59+05:00", BERLIN) == "2023-04-29T13:31:59+05:00"
    assert to_aware(None, BERLIN) is None
    assert to_aware("", BERLIN) == ""


def test_query_is_naive_seconds_in_billbees_frame() -> None:
    aware = datetime(2023, 4, 29, 11, 31, 59, 317000, tzinfo=UTC)
    assert to_billbee_query(aware, BERLIN) == "2023-04-29T13:31:59"
    assert to_billbee_query(aware, ZoneInfo("UTC")) == "2023-04-29T11:31:59"
    assert to_billbee_query(datetime(2023, 4, 29, 13, 31, 59), BERLIN) == "2023-04-29T13:31:59"  # naive: as is


@pytest.mark.parametrize("zone", ZONES, ids=str)
def test_round_trip_of_a_billbee_value(zone: ZoneInfo) -> None:
    naive = "2024-10-27T02:30:00"  # in Berlin an ambiguous hour (clocks go back): must still round-trip
    emitted = to_aware(naive, zone)
    assert emitted is not None
    assert to_billbee_query(datetime.fromisoformat(emitted), zone) == naive


@given(value=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
       zone=st.sampled_from(ZONES))
def test_naive_aware_round_trip(value: datetime, zone: ZoneInfo) -> None:
    value = value.replace(microsecond=0)
    if value.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) != value:
        return  # a wall-clock time that does not exist in `zone` (spring forward): Billbee cannot send it
    emitted = to_aware(value.isoformat(), zone)
    assert emitted is not None
    parsed = datetime.fromisoformat(emitted)
    assert parsed.tzinfo is not None
    assert to_billbee_query(parsed, zone) == value.isoformat(timespec="seconds")


def test_normalise_order_times_includes_shipments() -> None:
    order = {"CreatedAt": "2024-01-02T03:04:05", "LastModifiedAt": "2024-07-02T03:04:05.5", "ShippedAt": None,
             "ShippingIds": [{"Created": "2024-07-02T03:00:00"}], "Other": "2024-01-02T03:04:05"}
    normalise_order_times(order, BERLIN)
    assert order == {"CreatedAt": "2024-01-02T03:04:05+01:00", "LastModifiedAt": "2024-07-02T03:04:05.500000+02:00",
                     "ShippedAt": None, "ShippingIds": [{"Created": "2024-07-02T03:00:00+02:00"}],
                     "Other": "2024-01-02T03:04:05"}


@pytest.mark.parametrize(("zone", "bookmark", "expected"), [
    ("UTC", "2024-07-02T03:04:05.500000+00:00", "2024-07-02T02:54:05"),
    ("Europe/Berlin", "2024-07-02T03:04:05+02:00", "2024-07-02T02:54:05"),
    ("Europe/Berlin", "2024-07-02T01:04:05+00:00", "2024-07-02T02:54:05"),
])
def test_orders_stream_query_from_bookmark(zone: str, bookmark: str, expected: str) -> None:
    """The bookmark (an emitted, aware LastModifiedAt) minus the overlap, back in Billbee's frame."""
    tap = TapBillbee(config={"api_url": "https://app.billbee.io/api/v1", "username": "u", "password": "p",
                             "api_key": "k", "billbee_timezone": zone, "modified_overlap_minutes": 10},
                     state={"bookmarks": {"orders": {"replication_key": "LastModifiedAt",
                                                     "replication_key_value": bookmark}}},
                     parse_env_config=False)
    stream = tap.streams["orders"]
    stream._write_starting_replication_value(None)  # what Stream.sync does before get_records
    assert stream._modified_after(None) == expected
    start = datetime.fromisoformat(bookmark) - timedelta(minutes=10)
    assert to_billbee_query(start, ZoneInfo(zone)) == expected
