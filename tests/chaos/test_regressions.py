"""Small, fast reproductions of bugs the chaos suite found (each fixed in the plugin named in its docstring)."""

from __future__ import annotations

import copy
import logging
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from billbee_wemalo.billbee import BillbeeClient, ConnectorTags
from sandbox.billbee.store import ARTICLE_ID_BASE, ORDER_ID_BASE
from sandbox.demo_data import DEFAULT_STOCK_ID
from tap_billbee.acks import AckWriter
from tap_billbee.timefmt import to_aware
from tests.chaos.cycle import KillPlan, RequestLog, run_sync
from tests.chaos.world import ERROR, RECEIVED, TAG, has_tag
from tests.conftest import MeltanoProject
from tests.e2e.meltano_sysdir import private_sys_dir

pytestmark = [pytest.mark.e2e, pytest.mark.chaos]

ADDRESS = {"FirstName": "Käthe", "LastName": "Groß", "Street": "Lindenallee", "HouseNumber": "7", "Zip": "04109",
           "City": "Leipzig", "CountryISO2": "DE"}


def test_order_with_an_article_whose_creation_failed_transiently_is_retried_not_refused(
        project: MeltanoProject) -> None:
    """target-wemalo (sinks.py): when `product/addMultiple` failed past every retry, an order for a new article
    was sent anyway, wemalo answered "no product with sku", and the order was refused for good (error tag,
    message) although the article arrived in wemalo with the next run. It must be held back and retried."""
    control = project.sandbox.control
    control.load({
        "billbee": {
            "stocks": [{"Id": DEFAULT_STOCK_ID, "Name": "Hauptlager", "IsDefault": True}],
            "products": [{"SKU": "NEU-1", "EAN": "4006381333931", "Title": "Gießkanne", "Weight": 900,
                          "Stocks": [{"StockId": DEFAULT_STOCK_ID, "StockCurrent": 0}]}],
            "orders": [{"State": 3, "Tags": [TAG], "ShippingAddress": ADDRESS,
                        "OrderItems": [{"Product": {"SKU": "NEU-1"}, "Quantity": 1}]}],
        },
        "wemalo": {"profiles": []},
    })
    order_id = str(control.billbee_state()["orders"][0]["BillBeeOrderId"])
    env = {**private_sys_dir(project.workdir), "TARGET_WEMALO_MAX_ATTEMPTS": "2"}

    control.wemalo("POST", "/faults", {"rate": 1.0, "seed": 1, "kinds": ["503"], "paths": ["/v1/product/addMultiple"]})
    project.run("run", "billbee-to-wemalo", env=env, check=False)
    control.wemalo("POST", "/faults", {"rate": 0})
    assert not control.wemalo_state()["products"]
    project.run("run", "billbee-to-wemalo", env=env)

    order = control.billbee_state()["orders"][0]
    assert [o["externalId"] for o in control.wemalo_state()["orders"]] == [order_id]
    assert not has_tag(order.get("Tags"), ERROR), order["Tags"]
    assert control.billbee_state()["messages"].get(order_id) is None
    project.run("run", "billbee-to-wemalo", env=env)
    assert has_tag(control.billbee_state()["orders"][0].get("Tags"), RECEIVED)


def test_refused_resend_keeps_the_received_tag_and_a_resent_order_can_still_be_cancelled(
        project: MeltanoProject) -> None:
    """Two ways an order wemalo has lost its link to Billbee:

    * target-wemalo (sinks.py): a re-send whose change cannot be mapped (here the Packstation's Postnummer was
      removed) was acknowledged as `rejected`: error tag, no received tag, although wemalo keeps the order.
      It is a refused change: received tag back, reason as message.
    * tap-billbee (streams.py): a cancelled order was only passed on with the received tag, so an order the
      merchant re-sent (received tag removed) and then cancelled was never cancelled in wemalo.
    """
    control = project.sandbox.control
    packstation = {**ADDRESS, "Street": "Packstation", "HouseNumber": "123", "Line2": "Postnummer 12345678"}
    control.load({
        "billbee": {
            "stocks": [{"Id": DEFAULT_STOCK_ID, "Name": "Hauptlager", "IsDefault": True}],
            "products": [{"SKU": "NEU-1", "EAN": "4006381333931", "Title": "Gießkanne", "Weight": 900,
                          "Stocks": [{"StockId": DEFAULT_STOCK_ID, "StockCurrent": 0}]}],
            "orders": [{"State": 3, "Tags": [TAG], "ShippingAddress": address,
                        "OrderItems": [{"Product": {"SKU": "NEU-1"}, "Quantity": 1}]}
                       for address in (packstation, ADDRESS)],
        },
        "wemalo": {"profiles": []},
    })
    changed, cancelled = (str(o["BillBeeOrderId"]) for o in control.billbee_state()["orders"])
    env = private_sys_dir(project.workdir)
    project.run("run", "billbee-to-wemalo", env=env)
    project.run("run", "billbee-to-wemalo", env=env)  # acknowledgements: both tagged received

    control.billbee("PATCH", f"/orders/{changed}", {"Tags": [TAG], "ShippingAddress": {"Line2": "Hinterhaus"}})
    control.billbee("PATCH", f"/orders/{cancelled}", {"Tags": [TAG]})
    control.billbee("PATCH", f"/orders/{cancelled}", {"State": 8})
    project.run("run", "billbee-to-wemalo", env=env)
    project.run("run", "billbee-to-wemalo", env=env)

    billbee = {str(o["BillBeeOrderId"]): o for o in control.billbee_state()["orders"]}
    wemalo = {o["externalId"]: o for o in control.wemalo_state()["orders"]}
    assert has_tag(billbee[changed]["Tags"], RECEIVED)
    assert not has_tag(billbee[changed]["Tags"], ERROR)
    assert [m["Text"][:35] for m in control.billbee_state()["messages"][changed]] == \
        ["Änderung nicht an wemalo übertragen"]
    assert wemalo[changed]["receiver"][0]["addressAddition"] == "Postnummer 12345678"  # wemalo kept the order as it was
    assert wemalo[cancelled]["status"] == "CANCELLED"
    assert has_tag(billbee[cancelled]["Tags"], f"order_cancelled_received_by_{TAG}")


def test_a_message_is_not_written_twice_when_a_killed_run_is_replayed(project: MeltanoProject) -> None:
    """tap-billbee (acks.py): the acknowledgements are dropped from the state, and `rejection_reasons` (which
    keeps a message from being written twice) is updated, only when Meltano commits the run. A run killed
    after tap-billbee wrote a `change_refused` message left the old state, and the next run wrote the same
    message again (tags are idempotent, messages are not). Found by the chaos suite (seed 5: target-wemalo
    killed in cycle 26, the message repeated in cycle 27). Now the order is read first and the message
    written before the received tag: an order that has the tag again had its acknowledgement applied."""
    control = project.sandbox.control
    order_id, article_id = ORDER_ID_BASE, ARTICLE_ID_BASE + 1
    control.load({
        "billbee": {  # the merchant re-sent the order: received tag removed, orders tag set
            "stocks": [{"Id": DEFAULT_STOCK_ID, "Name": "Hauptlager", "IsDefault": True}],
            "products": [{"Id": article_id, "SKU": "NEU-1", "EAN": "4006381333931", "Title": "Gießkanne",
                          "Stocks": [{"StockId": DEFAULT_STOCK_ID, "StockCurrent": 0}]}],
            "orders": [{"BillBeeOrderId": order_id, "State": 3, "Tags": [TAG], "ShippingAddress": ADDRESS,
                        "OrderItems": [{"Product": {"SKU": "NEU-1"}, "Quantity": 1}]}],
        },
        "wemalo": {  # ... which the warehouse is already picking
            "profiles": [], "stock": {"NEU-1": 5},
            "products": [{"externalId": str(article_id), "sku": "NEU-1", "ean": "4006381333931", "name": "Gießkanne",
                          "productGroup": "default"}],
            "orders": [{"meta": {"externalId": str(order_id), "externalIdMatch": "sku", "receiver": [
                {"name1": "Käthe Groß", "street": "Lindenallee", "streetNumber": "7", "zip": "04109",
                 "city": "Leipzig", "countryCode2Letter": "DE"}]},
                        "positions": [{"externalId": "NEU-1", "quantity": 1}], "status": "INPROCESS"}],
        },
    })
    env = {**project.env, **private_sys_dir(project.workdir)}
    project.run("run", "billbee-to-wemalo", env=env)  # change_refused, acknowledged in the state
    control.billbee_settings(endpoint_rate=1)  # the tap's next queries wait for Billbee: time for the kill
    # Killed once the acknowledgement was written (message, then received tag), before Meltano committed.
    killed = run_sync(env, project.workdir / "killed.log", RequestLog(control),
                      KillPlan("tap-billbee", "path", 0, path="/tags"), args=("run", "billbee-to-wemalo"))
    assert killed.killed, "tap-billbee ended before it wrote the tag"
    assert len(control.billbee_state()["messages"].get(str(order_id), [])) == 1
    control.billbee_settings(endpoint_rate=2)
    project.run("run", "billbee-to-wemalo", env=env)

    texts = [m["Text"] for m in control.billbee_state()["messages"].get(str(order_id), [])]
    assert has_tag(control.billbee_state()["orders"][0]["Tags"], RECEIVED)
    assert len(texts) == 1, texts


def test_a_rejection_replayed_after_a_killed_run_counts_its_message_as_written(project: MeltanoProject) -> None:
    """tap-billbee (acks.py): a run that applied a `rejected` acknowledgement (message, error tag) was not
    committed (target-wemalo killed). The replay saw the error tag and rightly wrote no second message, but
    did not record the reason as written; when the merchant changed the order and wemalo refused it again for
    the same reason, the message was written a second time. Found by the chaos suite (seed 7: target-wemalo
    killed in cycle 2, the order rejected again in cycle 8). Runs AckWriter against the sandbox, no Meltano."""
    control = project.sandbox.control
    control.load({"billbee": {"orders": [{"BillBeeOrderId": ORDER_ID_BASE, "State": 3, "Tags": [TAG],
                                          "ShippingAddress": ADDRESS}]}})
    env = project.env
    client = BillbeeClient(api_url=env["TAP_BILLBEE_API_URL"], username=env["TAP_BILLBEE_USERNAME"],
                           password=env["TAP_BILLBEE_PASSWORD"], api_key=env["TAP_BILLBEE_API_KEY"])
    key = str(ORDER_ID_BASE)
    ack = {"outcome": "rejected", "reason": "article KH-1007 is not in wemalo", "had_error_tag": False}
    committed = {"pending_acks": {key: ack}}  # the state of the run that rejected the order
    try:
        AckWriter(client, ConnectorTags(TAG), logging.getLogger("test")).apply_all(copy.deepcopy(committed))
        # ... that run is killed: the next one gets the same state and applies the acknowledgement again
        replayed = copy.deepcopy(committed)
        AckWriter(client, ConnectorTags(TAG), logging.getLogger("test")).apply_all(replayed)
        # the merchant changes the order; wemalo refuses it again for the same reason
        replayed["pending_acks"] = {key: {**ack, "had_error_tag": True}}
        AckWriter(client, ConnectorTags(TAG), logging.getLogger("test")).apply_all(replayed)
    finally:
        client.close()
    texts = [m["Text"] for m in control.billbee_state()["messages"].get(key, [])]
    assert texts == ["wemalo hat den Auftrag nicht angenommen: article KH-1007 is not in wemalo"]
    assert has_tag(control.billbee_state()["orders"][0]["Tags"], ERROR)


def test_a_refused_order_fixed_before_its_refusal_was_committed_is_tried_again(project: MeltanoProject) -> None:
    """tap-billbee (acks.py): a run applied a `rejected` acknowledgement (message, error tag) and was not
    committed; the merchant saw the tag and entered the missing ZIP code; the next run applied the entry again,
    took the order's LastModifiedAt (now the merchant's fix) as "seen right after the refusal" and never tried
    the fixed order again. Found by the chaos suite (seed 5, 8 cycles: a refused order fixed in the last
    cycles was not in wemalo after the clean cycles). The entry carries the refused version's LastModifiedAt
    (`modified_at`); an order changed since then is tried once more. Runs AckWriter against the sandbox."""
    control = project.sandbox.control
    control.load({"billbee": {"orders": [{"BillBeeOrderId": ORDER_ID_BASE, "State": 3, "Tags": [TAG],
                                          "ShippingAddress": {**ADDRESS, "Zip": ""}}]}})
    env = project.env
    client = BillbeeClient(api_url=env["TAP_BILLBEE_API_URL"], username=env["TAP_BILLBEE_USERNAME"],
                           password=env["TAP_BILLBEE_PASSWORD"], api_key=env["TAP_BILLBEE_API_KEY"])
    key = str(ORDER_ID_BASE)
    try:
        refused_version = client.get_order(ORDER_ID_BASE)["LastModifiedAt"]
        ack = {"outcome": "rejected", "reason": "receiver: zip missing", "had_error_tag": False,
               "modified_at": refused_version}
        committed = {"pending_acks": {key: ack}}
        AckWriter(client, ConnectorTags(TAG), logging.getLogger("test")).apply_all(copy.deepcopy(committed))
        after_refusal = client.get_order(ORDER_ID_BASE)["LastModifiedAt"]
        # ... that run is killed; the merchant fixes the address; the next run applies the same entry again
        control.billbee("PATCH", f"/orders/{ORDER_ID_BASE}", {"ShippingAddress": {"Zip": "04109"}})
        fixed = client.get_order(ORDER_ID_BASE)["LastModifiedAt"]
        assert _when(fixed) > _when(after_refusal), (fixed, after_refusal)  # the fix moves LastModifiedAt
        replayed = copy.deepcopy(committed)
        writer = AckWriter(client, ConnectorTags(TAG), logging.getLogger("test"))
        writer.apply_all(replayed)
    finally:
        client.close()
    seen = replayed["rejected_modified_at"][key]
    # the order is eligible again: its LastModifiedAt (the fix) is past what the tap remembers
    assert _when(seen) < _when(fixed), (seen, fixed)
    assert writer.counts["retried_after_change"] == 1
    texts = [m["Text"] for m in control.billbee_state()["messages"].get(key, [])]
    assert texts == ["wemalo hat den Auftrag nicht angenommen: receiver: zip missing"]  # still one message


def _when(value: str) -> datetime:
    return datetime.fromisoformat(to_aware(value, ZoneInfo("UTC")) or "")
