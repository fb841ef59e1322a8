"""Minutes, not hours (issue 17), end to end: the real receiver (`meltano invoke billbee-wemalo-events:serve`), hooks
registered with the simulators by `meltano invoke billbee-wemalo-events:register`, the simulators' deliveries (with
their faults), the worker's `meltano run` jobs. No hourly run moves the orders here unless a test says so."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from billbee_wemalo_events.accounts import wemalo_client
from events.tests.receiver_process import ReceiverProcess
from sandbox.runner import Sandbox
from tests.conftest import MeltanoProject
from tests.e2e import events_rig as rig

pytestmark = pytest.mark.e2e
LATENCY_LIMIT = 90.0  # seconds; the jobs take ~10 s each here, the limit only bounds the test


@pytest.fixture
def hooked(project: MeltanoProject, tmp_path: Path) -> Iterator[ReceiverProcess]:
    """Demo data, one hourly `sync` (products into wemalo, the tagged orders sent), then the receiver started and
    its hooks registered."""
    control = project.sandbox.control
    control.load_demo()
    control.wemalo_settings(webhook_retry_seconds=2.0)
    project.run("run", "sync")
    running = rig.receiver(project.env, tmp_path)
    running.start(coalesce=0.5)
    try:
        project.run("invoke", "billbee-wemalo-events:register", env=running.env)
        yield running
    finally:
        running.stop()


def test_an_order_reaches_wemalo_and_its_tracking_number_billbee_within_seconds(
        project: MeltanoProject, hooked: ReceiverProcess) -> None:
    control = project.sandbox.control
    order_id = rig.new_paid_tagged_order(control, rig.template_order(control), "E2E-1")
    to_wemalo = rig.wait_for("goods order in wemalo", lambda: rig.goods_orders(control)[order_id] == 1,
                             LATENCY_LIMIT, hooked.log)
    rig.wait_idle(hooked)

    control.wemalo("POST", "/stock", {p["sku"]: 50 for p in control.wemalo_state()["products"]})
    rig.wait_idle(hooked)  # the jobs of the orders the stock released (their status_update)

    # The parcel is handed over: wemalo's status_updates (orderId + externalId) and trackingnumber_added (only
    # wemalo's ids), in that order as the sandbox's literal reading sends them -> one wemalo-to-billbee run
    # restricted to the order: the tracking event is linked to it through the status_updates' ids.
    shipped = rig.hand_over(control, hooked, order_id, LATENCY_LIMIT)
    goods_order, mark, tracking, to_billbee = shipped.goods_order, shipped.mark, shipped.tracking, shipped.seconds
    assert rig.goods_orders(control)[order_id] == 1
    assert rig.tracking_numbers(control, order_id).count(tracking) == 1
    scopes = rig.job_scopes(hooked, "wemalo-to-billbee", since=mark)
    assert scopes
    assert set(scopes) == {f"orders {order_id}"}, scopes  # never "all orders"
    [parcel_event] = [r for r in rig.queue_rows(hooked) if r["kind"] == "trackingnumber_added"
                      and r["detail"].get("wemalo_order_id") == goods_order]
    assert (parcel_event["order_id"], parcel_event["status"]) == (None, "handled")  # wemalo named only its own id
    assert (f"trackingnumber_added for wemalo order {goods_order} (merchant default): Billbee order {order_id}"
            in hooked.log.read_text()[mark:])
    counts = rig.queue_counts(hooked)
    assert counts["failed"] == 0
    assert counts["handled"] == counts["received"]
    assert control.violations() == {"billbee": [], "wemalo": []}
    # Billbee notifies the connector's own writes (shipment, state Versendet, the received tag) too; their
    # deliveries show the order's state and tags (the literal reading, merged), so tap-billbee reads the order
    # only for its first event; target-billbee reads it once before the shipment (tap_billbee/hints.py).
    reads = [r for r in control.requests("billbee")
             if r["method"] == "GET" and r["path"] == f"/api/v1/orders/{order_id}"]
    not_read = sum(json.loads(p.read_text()).get("counters", {}).get("orders_not_read_by_hint", 0)
                   for p in (project.workdir / "reports").glob("tap-billbee-*.json"))
    if project.sandbox.profile == "literal":
        assert len(reads) == 2, reads
        assert not_read >= 1
    print(f"latency: order -> wemalo {to_wemalo:.1f} s, parcel -> Billbee {to_billbee:.1f} s (restricted run); "
          f"GET of the order {len(reads)}, echoes not read {not_read}")


def test_a_parcel_of_an_order_no_delivery_linked_still_reaches_billbee_with_a_run_for_all_orders(
        project: MeltanoProject, hooked: ReceiverProcess) -> None:
    """No status_update ever names the order (wemalo dropped that hook, as after 10 failed deliveries): its
    trackingnumber_added names only wemalo's ids, cannot be linked, and makes an unrestricted run, as before."""
    control = project.sandbox.control
    wemalo = wemalo_client(hooked.env)
    wemalo.delete_webhook("status_update")
    wemalo.close()
    order_id = rig.new_paid_tagged_order(control, rig.template_order(control), "E2E-NOLINK")
    rig.wait_for("goods order in wemalo", lambda: rig.goods_orders(control)[order_id] == 1, LATENCY_LIMIT,
                 hooked.log)
    control.wemalo("POST", "/stock", {p["sku"]: 50 for p in control.wemalo_state()["products"]})
    rig.wait_idle(hooked)

    shipped = rig.hand_over(control, hooked, order_id, LATENCY_LIMIT)
    goods_order, mark, tracking, to_billbee = shipped.goods_order, shipped.mark, shipped.tracking, shipped.seconds
    assert rig.tracking_numbers(control, order_id).count(tracking) == 1
    assert rig.job_scopes(hooked, "wemalo-to-billbee", since=mark) == ["all orders"]
    assert (f"trackingnumber_added for wemalo order {goods_order} (merchant default): no Billbee order known"
            in hooked.log.read_text()[mark:])
    counts = rig.queue_counts(hooked)
    assert (counts["failed"], counts["pending"]) == (0, 0)
    assert control.violations() == {"billbee": [], "wemalo": []}
    print(f"latency: parcel -> Billbee {to_billbee:.1f} s (unrestricted run)")


def test_forged_and_unsigned_deliveries_are_refused_and_queue_nothing(
        project: MeltanoProject, hooked: ReceiverProcess) -> None:
    rig.wait_idle(hooked, quiet=1.0)
    before = rig.queue_counts(hooked)
    body = json.dumps({"Id": "forged", "Notifications": [{"Action": "order.created", "OrderId": 1}]}).encode()
    wrong = "sha256=" + hmac.new(b"not-the-secret-0123456789abcdef-xyz", body, hashlib.sha256).hexdigest()
    url = hooked.url
    answers = [
        requests.post(f"{url}/hooks/billbee", data=body, headers={"ms-signature": wrong}, timeout=10),
        requests.post(f"{url}/hooks/billbee", data=body, timeout=10),  # unsigned
        requests.post(f"{url}/hooks/wemalo?event=status_update", json={"token": "guess", "externalId": "1"},
                      timeout=10),
        requests.post(f"{url}/hooks/wemalo?event=status_update", json={"externalId": "1"}, timeout=10),
        requests.post(f"{url}/hooks/nobody/billbee", data=body, headers={"ms-signature": wrong}, timeout=10),
    ]
    assert [a.status_code for a in answers] == [401, 401, 401, 401, 404]
    assert rig.queue_counts(hooked) == before
    assert rig.TOKEN not in hooked.log.read_text()


def test_duplicated_and_reordered_deliveries_change_nothing_and_a_dropped_one_waits_for_the_hourly_run(
        project: MeltanoProject, hooked: ReceiverProcess) -> None:
    control = project.sandbox.control
    template = rig.template_order(control)
    control.billbee("POST", "/webhooks/faults", {"seed": 3, "duplicate": 1.0, "reorder": 0.5, "hold_seconds": 2.0})
    orders = [rig.new_paid_tagged_order(control, template, f"E2E-D{i}") for i in range(3)]
    control.billbee("POST", "/webhooks/flush", {"wait": 20})
    rig.wait_for("the three orders in wemalo", lambda: all(rig.goods_orders(control)[o] for o in orders),
                 LATENCY_LIMIT, hooked.log)
    rig.wait_idle(hooked)
    deliveries = control.billbee("GET", "/webhooks")["deliveries"]
    assert any("duplicate" in a["faults"] for d in deliveries for a in d["attempts"])
    assert any("reorder" in d["faults"] for d in deliveries)
    assert all(rig.goods_orders(control)[o] == 1 for o in orders)

    control.billbee("POST", "/webhooks/faults", {"drop": 1.0})
    dropped = rig.new_paid_tagged_order(control, template, "E2E-DROP")
    rig.wait_idle(hooked, quiet=3.0)
    assert rig.goods_orders(control)[dropped] == 0  # no event: nothing happened
    project.run("run", "sync")  # the hourly run
    assert rig.goods_orders(control)[dropped] == 1
    rig.wait_idle(hooked)
    assert all(rig.goods_orders(control)[o] == 1 for o in [*orders, dropped])
    assert rig.queue_counts(hooked)["failed"] == 0


def test_a_receiver_killed_between_accepting_and_handling_handles_the_event_once_after_a_restart(
        project: MeltanoProject, hooked: ReceiverProcess) -> None:
    control = project.sandbox.control
    rig.wait_idle(hooked, quiet=1.0)
    hooked.stop()
    hooked.start(coalesce=600)  # accepts, but its worker waits
    order_id = rig.new_paid_tagged_order(control, rig.template_order(control), "E2E-KILL")
    control.billbee("POST", "/webhooks/flush", {"wait": 20})
    delivered = [d for d in control.billbee("GET", "/webhooks")["deliveries"]
                 if d["payload"].get("OrderId") == int(order_id)]
    assert [d["state"] for d in delivered] == ["delivered"]  # answered 2xx
    hooked.kill()
    assert rig.goods_orders(control)[order_id] == 0
    assert rig.queue_counts(hooked)["pending"] >= 1

    hooked.start(coalesce=0.5)
    rig.wait_for("goods order in wemalo after the restart", lambda: rig.goods_orders(control)[order_id] == 1,
                 LATENCY_LIMIT, hooked.log)
    rig.wait_idle(hooked)
    hooked.stop()
    hooked.start(coalesce=0.5)  # once more: nothing left to run
    rig.wait_idle(hooked, quiet=2.0)
    # The accepted event was handled once: its row, and no run for the order beyond one per event (the
    # connector's own tag write on the order is a later event of its own).
    rows = [r for r in rig.queue_rows(hooked) if r["order_id"] == order_id]
    [created] = [r for r in rows if r["kind"] == "order.created"]
    assert (created["status"], created["attempts"]) == ("handled", 0)
    runs = [line for line in hooked.log.read_text().splitlines()
            if "Running billbee-to-wemalo" in line and order_id in line]
    assert 1 <= len(runs) <= len(rows), (runs, rows)
    assert all(r["status"] == "handled" for r in rows)
    assert rig.goods_orders(control)[order_id] == 1
    assert rig.queue_counts(hooked)["pending"] == 0


SHOP_B = {"TAP_BILLBEE_USERNAME": "b@shop-b.example", "TAP_BILLBEE_PASSWORD": "shop-b-api-password",
          "TAP_BILLBEE_API_KEY": "shop-b-api-key", "TARGET_WEMALO_TOKEN": "shop-b-wemalo-token"}


def test_two_merchants_on_one_receiver_stay_apart(project: MeltanoProject, tmp_path: Path) -> None:
    """The default merchant and shop-b (its own Billbee and wemalo accounts, env file, hook secret and token, state
    id suffix), one receiver: each order goes to its own warehouse only."""
    a = project.sandbox.control
    a.load_demo(seed=7)
    with Sandbox(billbee_port=0, wemalo_port=0) as sandbox_b:
        b = sandbox_b.control
        b.load_demo(seed=8)  # other order ids
        b.billbee_settings(username=SHOP_B["TAP_BILLBEE_USERNAME"], password=SHOP_B["TAP_BILLBEE_PASSWORD"],
                           api_key=SHOP_B["TAP_BILLBEE_API_KEY"])
        b.wemalo_settings(token=SHOP_B["TARGET_WEMALO_TOKEN"])
        own = {f"{p}_{k}": v for p in ("TAP_BILLBEE", "TARGET_BILLBEE") for k, v in
               (("USERNAME", SHOP_B["TAP_BILLBEE_USERNAME"]), ("PASSWORD", SHOP_B["TAP_BILLBEE_PASSWORD"]),
                ("API_KEY", SHOP_B["TAP_BILLBEE_API_KEY"]), ("API_URL", f"{sandbox_b.billbee_url}/api/v1"))}
        own |= {f"{p}_{k}": v for p in ("TARGET_WEMALO", "TAP_WEMALO_SHIPMENTS") for k, v in
                (("TOKEN", SHOP_B["TARGET_WEMALO_TOKEN"]), ("API_URL", f"{sandbox_b.wemalo_url}/v1"))}
        own |= {f"{p}_REPORT_DIR": str(tmp_path / "reports-b") for p in ("TARGET_WEMALO", "TARGET_BILLBEE")}
        own |= {"BILLBEE_WEMALO_EVENTS_BILLBEE_SECRET": "shop-b-billbee-hook-secret-0123456789abcdef",
                "BILLBEE_WEMALO_EVENTS_WEMALO_HOOK_TOKEN": "shop-b-wemalo-hook-token"}
        (tmp_path / "shop-b.env").write_text("".join(f"{k}={v}\n" for k, v in own.items()))
        (tmp_path / "merchants.toml").write_text('[merchants.shop-b]\nenv_file = "shop-b.env"\n')

        project.run("run", "sync")
        project.run("run", "--state-id-suffix=shop-b", "sync", env=own)
        running = rig.receiver(project.env, tmp_path)
        running.env["BILLBEE_WEMALO_EVENTS_MERCHANTS_FILE"] = str(tmp_path / "merchants.toml")
        running.start(coalesce=0.5)
        try:
            project.run("invoke", "billbee-wemalo-events:register", env=running.env)
            assert [h["WebHookUri"] for h in b.billbee("GET", "/webhooks")["registrations"]] == [
                f"{running.url}/hooks/shop-b/billbee"]
            order_a = rig.new_paid_tagged_order(a, rig.template_order(a), "A-EVENT")
            order_b = rig.new_paid_tagged_order(b, rig.template_order(b), "B-EVENT")
            rig.wait_for("both goods orders", lambda: rig.goods_orders(a)[order_a] == rig.goods_orders(b)[order_b]
                         == 1, 2 * LATENCY_LIMIT, running.log)
            rig.wait_idle(running)
        finally:
            running.stop()
        ids_a = {str(o["BillBeeOrderId"]) for o in a.billbee_state()["orders"]}
        ids_b = {str(o["BillBeeOrderId"]) for o in b.billbee_state()["orders"]}
        assert set(rig.goods_orders(a)) <= ids_a
        assert set(rig.goods_orders(b)) <= ids_b
        for control in (a, b):
            assert not [r for r in control.requests("billbee") + control.requests("wemalo")
                        if r["status"] in (401, 403)]
        merchants = {r["merchant"] for r in rig.queue_rows(running) if r["order_id"] == order_b}
        assert merchants == {"shop-b"}


def test_the_scheduled_hook_check_re_registers_a_dropped_hook_and_says_so(project: MeltanoProject,
                                                                          tmp_path: Path) -> None:
    control = project.sandbox.control
    running = rig.receiver(project.env, tmp_path)
    running.start(coalesce=0.5)
    try:
        first = project.run("run", "events-check", env=running.env, check=False)
        assert first.returncode != 0  # nothing was registered: all three hooks are, and reported
        assert "re-registered 3" in first.stderr
        assert project.run("run", "events-check", env=running.env, check=False).returncode == 0
        control.wemalo("POST", "/reset")  # wemalo forgot the hooks (as after 10 failed deliveries)
        again = project.run("run", "events-check", env=running.env, check=False)
        assert again.returncode != 0
        assert "re-registered 2 dropped or changed hook(s): wemalo status_update, wemalo trackingnumber_added" in (
            again.stderr)
        status = project.run("invoke", "billbee-wemalo-events", "status", "--json", env=running.env)
        [report] = json.loads(status.stdout)
        assert report["events"] == {"received": 0, "handled": 0, "failed": 0, "pending": 0}
        assert {h["state"] for h in report["hooks"]} == {"ok"}
    finally:
        running.stop()
