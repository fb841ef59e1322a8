"""wemalo goods order id -> Billbee order id: learnt from the deliveries that name both (status_update), per merchant,
and used when the worker plans the job of an event that names only wemalo's id (trackingnumber_added)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError
from starlette.testclient import TestClient

from billbee_wemalo_events.event_queue import EventQueue
from billbee_wemalo_events.events import WEMALO_TO_BILLBEE, Event
from billbee_wemalo_events.receiver import create_app
from billbee_wemalo_events.settings import Settings
from events.tests.conftest import SHOP_B_TOKEN, TOKEN
from events.tests.test_worker import FakeRunner, worker


def status_update(wemalo_id: str, order_id: str) -> tuple[Event, object]:
    detail = {"wemalo_order_id": wemalo_id, "order_id": order_id}
    return (Event("wemalo", "status_update", WEMALO_TO_BILLBEE, order_id, None, detail),
            {"orderId": wemalo_id, "externalId": order_id})


def tracking(wemalo_id: str, parcel: str) -> tuple[Event, object]:
    detail = {"wemalo_order_id": wemalo_id, "parcel_id": parcel}
    return (Event("wemalo", "trackingnumber_added", WEMALO_TO_BILLBEE, None, None, detail),
            {"goodsOrderId": wemalo_id, "goodsOrderParcelId": parcel})


def stock_change(wemalo_id: str, external: str) -> tuple[Event, object]:
    return (Event("wemalo", "stock_change", WEMALO_TO_BILLBEE, None, None, {"wemalo_order_id": wemalo_id}),
            {"type": "RETURNSHIPMENT", "orderId": wemalo_id, "externalId": external})


# -- the table ------------------------------------------------------------------------------------------------


def test_a_link_is_kept_per_merchant_and_the_latest_wins(queue: EventQueue) -> None:
    queue.add("default", [status_update("17", "4711")], [("17", "4711")])
    queue.add("shop-b", [status_update("17", "900")], [("17", "900")])
    assert queue.linked_orders("default", ["17", "18"]) == {"17": "4711"}
    assert queue.linked_orders("shop-b", ["17"]) == {"17": "900"}
    assert queue.linked_orders("shop-c", ["17"]) == {}

    queue.add("default", [status_update("17", "4712")], [("17", "4712")])  # an upsert, not a second row
    assert queue.linked_orders("default", ["17"]) == {"17": "4712"}
    assert queue.linked_orders("shop-b", ["17"]) == {"17": "900"}
    assert queue.linked_orders("default", []) == {}


def test_a_duplicate_delivery_still_teaches_its_link(queue: EventQueue) -> None:
    item = status_update("5", "4711")
    assert queue.add("default", [item]) == (1, 0)  # an older caller that passes no links: nothing learnt
    assert queue.linked_orders("default", ["5"]) == {}
    assert queue.add("default", [item], [("5", "4711")]) == (0, 1)
    assert queue.linked_orders("default", ["5"]) == {"5": "4711"}


# -- what the receiver learns ---------------------------------------------------------------------------------


def test_the_receiver_learns_from_order_events_that_name_both_ids(settings: Settings, queue: EventQueue) -> None:
    client = TestClient(create_app(settings, queue))
    # status_update as documented (flat) and as wemalo's shop plugin reads it (eventData), JSON and form fields
    assert client.post("/hooks/wemalo?event=status_update",
                       json={"token": TOKEN, "orderId": 3, "externalId": "4711", "orderNumber": "A"}).status_code == 200
    assert client.post("/hooks/wemalo?event=status_update", content=(
        f"token={TOKEN}&eventData[orderId]=4&eventData[externalId]=4712&eventData[orderNumber]=B").encode(),
        headers={"content-type": "application/x-www-form-urlencoded"}).status_code == 200
    # trackingnumber_added with the external id some readings add
    assert client.post("/hooks/shop-b/wemalo?event=trackingnumber_added", json={
        "token": SHOP_B_TOKEN, "eventData": {"goodsOrderId": 3, "goodsOrderParcelId": 9,
                                             "goodsOrderExternalId": "800"}}).status_code == 200
    # what teaches nothing: wemalo's ids only, a stock booking's ids (a goods receipt or return, not a goods
    # order), a refused delivery
    assert client.post("/hooks/wemalo?event=trackingnumber_added",
                       json={"token": TOKEN, "goodsOrderId": 6, "goodsOrderParcelId": 10}).status_code == 200
    assert client.post("/hooks/wemalo?event=stock_change",
                       json={"token": TOKEN, "type": "RETURNSHIPMENT", "orderId": 7, "externalId": "R-1"}
                       ).status_code == 200
    assert client.post("/hooks/wemalo?event=status_update",
                       json={"token": "wrong", "orderId": 8, "externalId": "4713"}).status_code == 401

    assert queue.linked_orders("default", ["3", "4", "6", "7", "8"]) == {"3": "4711", "4": "4712"}
    assert queue.linked_orders("shop-b", ["3"]) == {"3": "800"}


# -- the worker's plan ----------------------------------------------------------------------------------------


def test_a_tracking_event_after_a_status_update_runs_restricted_to_its_billbee_order(
        queue: EventQueue, settings: Settings) -> None:
    runner = FakeRunner()
    w, clock = worker(queue, settings, runner)
    queue.add("default", [status_update("17", "4711")], [("17", "4711")])
    clock.at += timedelta(seconds=60)
    w.run_once()
    queue.add("default", [tracking("17", "90")])  # later, in a batch of its own
    clock.at += timedelta(seconds=60)
    w.run_once()
    assert [job.order_ids for job, _ in runner.jobs] == [("4711",), ("4711",)]
    assert queue.counts() == {"received": 2, "handled": 2, "failed": 0, "pending": 0}
    [row] = [r for r in queue.rows() if r["kind"] == "trackingnumber_added"]
    assert row["order_id"] is None  # the queue keeps what wemalo said; the link is looked up per plan


def test_a_status_update_arriving_after_the_tracking_event_in_the_same_window_restricts_the_job(
        queue: EventQueue, settings: Settings) -> None:
    runner = FakeRunner()
    w, clock = worker(queue, settings, runner)
    queue.add("default", [tracking("17", "90")])
    queue.add("default", [tracking("18", "91")])
    queue.add("default", [status_update("18", "4712")], [("18", "4712")])
    queue.add("default", [status_update("17", "4711")], [("17", "4711")])
    clock.at += timedelta(seconds=60)
    w.run_once()
    assert [(job.direction, job.order_ids) for job, _ in runner.jobs] == [(WEMALO_TO_BILLBEE, ("4711", "4712"))]
    assert queue.counts()["handled"] == 4


def test_an_unknown_wemalo_order_still_makes_a_run_for_all_orders(queue: EventQueue, settings: Settings) -> None:
    runner = FakeRunner()
    w, clock = worker(queue, settings, runner)
    queue.add("shop-b", [status_update("17", "900")], [("17", "900")])  # another merchant's link
    clock.at += timedelta(seconds=60)
    w.run_once()
    queue.add("default", [status_update("5", "4711")], [("5", "4711")])
    queue.add("default", [tracking("17", "90")])  # not linked for this merchant
    clock.at += timedelta(seconds=60)
    w.run_once()
    assert [(job.merchant, job.order_ids) for job, _ in runner.jobs] == [("shop-b", ("900",)), ("default", ())]
    assert queue.counts() == {"received": 3, "handled": 3, "failed": 0, "pending": 0}


def test_a_stock_change_is_never_resolved_to_an_order(queue: EventQueue, settings: Settings) -> None:
    """Its orderId names a goods receipt or a return: even where that id is also a linked goods order id, the stock
    needs a run for all orders."""
    runner = FakeRunner()
    w, clock = worker(queue, settings, runner)
    queue.add("default", [status_update("17", "4711")], [("17", "4711")])
    queue.add("default", [stock_change("17", "R-1")])
    clock.at += timedelta(seconds=60)
    w.run_once()
    assert [job.order_ids for job, _ in runner.jobs] == [()]


def test_a_failed_restricted_job_is_planned_again_with_the_link(queue: EventQueue, settings: Settings) -> None:
    runner = FakeRunner(ok=False)
    w, clock = worker(queue, settings, runner)
    queue.add("default", [tracking("17", "90")])
    queue.add("default", [status_update("17", "4711")], [("17", "4711")])
    clock.at += timedelta(seconds=60)
    w.run_once()
    runner.ok = True
    clock.at += timedelta(seconds=settings.retry_seconds + 1)
    w.run_once()
    assert [job.order_ids for job, _ in runner.jobs] == [("4711",), ("4711",)]
    assert queue.counts()["handled"] == 2


def test_a_failed_lookup_leaves_the_events_pending(queue: EventQueue, settings: Settings,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The links are read before the events are claimed: a database error there runs nothing and loses nothing."""
    runner = FakeRunner()
    w, clock = worker(queue, settings, runner)
    queue.add("default", [tracking("17", "90")])

    def unavailable(merchant: str, ids: Iterable[str]) -> dict[str, str]:
        raise OperationalError("SELECT", {}, Exception("database away"))

    monkeypatch.setattr(queue, "linked_orders", unavailable)
    clock.at += timedelta(seconds=60)
    with pytest.raises(OperationalError):
        w.run_once()
    assert runner.jobs == []
    assert [ev.kind for ev in queue.due(clock())] == ["trackingnumber_added"]  # pending, not left running
    monkeypatch.undo()
    w.run_once()
    assert [job.order_ids for job, _ in runner.jobs] == [()]
