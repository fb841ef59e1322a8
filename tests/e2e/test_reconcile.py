"""`billbee-wemalo-reconcile` against the sandbox: after `meltano run sync` on the demo it lists what did not
move (and why) and exits 1; once the merchant fixed the articles and orders and the sync ran, it exits 0."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import pytest

from sandbox import demo_data
from sandbox.runner import ROOT
from tests.conftest import MeltanoProject
from tests.e2e.meltano_sysdir import private_sys_dir

pytestmark = pytest.mark.e2e

DEFAULT_HOURS = 2.0


def reconcile(project: MeltanoProject, *args: str, env: dict[str, str] | None = None,
              ) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it, configured by the plugins' environment variables (no Meltano involved).
    Run from the source folder, so the test does not depend on the package being installed in this venv."""
    path = os.pathsep.join([str(ROOT / "reconcile"), str(ROOT / "core")])
    full_env = {**project.env, "PYTHONPATH": path, **(env or {})}
    return subprocess.run([sys.executable, "-m", "billbee_wemalo_reconcile", *args], cwd=ROOT, env=full_env,
                          text=True, capture_output=True, timeout=120, check=False)


def reconcile_json(project: MeltanoProject, *args: str) -> tuple[int, dict[str, Any]]:
    result = reconcile(project, "--json", *args)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def age_limit(orders: list[dict[str, Any]]) -> list[str]:
    """`--older-than-hours` that makes every demo order old enough: the default (2 h) unless this machine's
    clock is less than 2 h past the demo's fixed dates."""
    newest = max(datetime.fromisoformat(o["PayedAt"]).replace(tzinfo=UTC) for o in orders if o.get("PayedAt"))
    hours = (datetime.now(UTC) - newest).total_seconds() / 3600
    return [] if hours > DEFAULT_HOURS + 0.1 else [f"--older-than-hours={hours - 1:.3f}"]


def ean13(body: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def last_request_ids(control: Any) -> dict[str, int]:
    return {s: max((r["id"] for r in control.requests(s)), default=0) for s in ("billbee", "wemalo")}


def writes_since(control: Any, marks: dict[str, int]) -> list[dict[str, Any]]:
    return [r for s in ("billbee", "wemalo") for r in control.requests(s)
            if r["id"] > marks[s] and r["method"] != "GET"]


def by_kind(findings: list[dict[str, Any]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in findings:
        out.setdefault(f["kind"], set()).add(str(f.get("article_id") or f.get("tracking_number") or f["order_id"]))
    return out


def test_reconcile_lists_what_did_not_move_and_is_clean_after_the_fixes(project: MeltanoProject) -> None:
    control = project.sandbox.control
    billbee = control.load_demo()["billbee"]
    products, orders = billbee["products"], billbee["orders"]
    normal = [p for p in products if p["Type"] == 1]
    limit = age_limit(orders)
    no_ean = {str(normal[i]["Id"]) for i in demo_data.NO_EAN}
    duplicate_ean = str(normal[demo_data.DUPLICATE_EAN[1]]["Id"])
    no_sku = str(normal[demo_data.NO_SKU]["Id"])
    bundles = {str(p["Id"]) for p in products if p["Type"] == 2}
    already_received = orders[demo_data.CASES["already_received"]]
    no_ean_skus = {normal[i]["SKU"] for i in demo_data.NO_EAN}
    refused = {str(o["BillBeeOrderId"]) for o in orders
               if o["State"] == 3 and o is not already_received and not o.get("IsCancelationFor")
               and "wemalo" in {t.casefold() for t in o["Tags"]}
               and any(li["Product"].get("SKU") in no_ean_skus for li in o["OrderItems"])}
    assert len(refused) == 1

    # Before any sync: everything is missing. The check only reads.
    marks = last_request_ids(control)
    code, before = reconcile_json(project, *limit)
    assert code == 1
    assert before["ok"] is False
    assert len(before["orders_missing_in_wemalo"]) >= 10
    assert writes_since(control, marks) == []

    project.run("run", "sync", env=private_sys_dir(project.workdir))
    code, first = reconcile_json(project, *limit)
    assert code == 1
    assert by_kind(first["articles_not_in_wemalo"]) == {
        "no_ean": no_ean, "duplicate_ean": {duplicate_ean}, "no_sku": {no_sku}, "bundle": bundles}
    assert all(not f["needs_attention"] for f in first["articles_not_in_wemalo"] if f["kind"] == "bundle")
    assert by_kind(first["orders_missing_in_wemalo"]) == {
        "not_transferred": refused, "received_but_missing": {str(already_received["BillBeeOrderId"])}}
    [order] = [f for f in first["orders_missing_in_wemalo"] if f["kind"] == "not_transferred"]
    assert set(order["reason"].rpartition("articles not in wemalo: ")[2].split(", ")) <= no_ean_skus
    assert first["parcels_missing_in_billbee"] == []
    assert first["needs_attention"] == len(no_ean) + 2 + 2

    text = reconcile(project, *limit)
    assert text.returncode == 1
    assert "no EAN (wemalo requires one)" in text.stdout
    assert "7 item(s) need attention." in text.stdout
    assert "(and 3 bundles, as designed)" in text.stdout

    # The warehouse ships; until target-billbee ran, the parcels are missing in Billbee, but only reported
    # once they are older than --older-than-hours.
    control.wemalo("POST", "/stock", {p["sku"]: 50 for p in control.wemalo_state()["products"]})
    shipped = sorted(o["externalId"] for o in control.wemalo_state()["orders"] if o["status"] == "OPEN")[:3]
    control.advance("SHIPPED", shipped[:1], parcels=2)
    control.advance("SHIPPED", shipped[1:])
    tracking = {p["trackingNumber"] for o in control.wemalo_state()["orders"] for p in o["parcels"]
                if p.get("isHandedOver")}
    assert len(tracking) == 4
    _, recent = reconcile_json(project, "--older-than-hours=2")
    assert recent["parcels_missing_in_billbee"] == []
    assert recent["checked"]["parcels_too_recent"] == 4
    _, now = reconcile_json(project, "--older-than-hours=0")
    assert by_kind(now["parcels_missing_in_billbee"]) == {"tracking_missing": tracking}

    # The merchant fixes the articles and re-sends the order tagged "received" that wemalo never got.
    fixed = [{**p, "EAN": ean13(f"4099{n:08d}")} for n, p in enumerate(
        normal[i] for i in (*demo_data.NO_EAN, demo_data.DUPLICATE_EAN[1]))]
    fixed.append({**normal[demo_data.NO_SKU], "SKU": "HH-1011-NEU"})
    control.billbee("POST", "/products", {"products": fixed})
    control.billbee("PATCH", f"/orders/{already_received['BillBeeOrderId']}", {"Tags": ["wemalo"]})
    project.run("run", "sync", env=private_sys_dir(project.workdir))
    code, second = reconcile_json(project, "--older-than-hours=0")
    assert code == 1
    assert by_kind(second["articles_not_in_wemalo"]) == {"bundle": bundles}
    assert second["parcels_missing_in_billbee"] == []
    # The refused order now carries the error tag; it is sent again once the merchant changed it.
    assert by_kind(second["orders_missing_in_wemalo"]) == {"rejected": refused}
    [order_id] = refused
    control.billbee("PATCH", f"/orders/{order_id}", {"Tags": ["wemalo"]})
    project.run("run", "sync", env=private_sys_dir(project.workdir))

    code, clean = reconcile_json(project, "--older-than-hours=0")
    assert code == 0, json.dumps(clean, indent=1)
    assert clean["ok"] is True
    assert clean["needs_attention"] == 0
    assert clean["orders_missing_in_wemalo"] == []
    assert clean["parcels_missing_in_billbee"] == []
    assert clean["checked"]["parcels"] == 4
    text = reconcile(project)
    assert text.returncode == 0
    assert text.stdout.rstrip().endswith("Nothing needs attention.")

    # As the Meltano utility: settings of the dev environment, secrets from the plugins' variables.
    env = {**private_sys_dir(project.workdir),
           "BILLBEE_WEMALO_RECONCILE_BILLBEE_API_URL": project.env["TAP_BILLBEE_API_URL"],
           "BILLBEE_WEMALO_RECONCILE_WEMALO_API_URL": project.env["TARGET_WEMALO_API_URL"]}
    marks = last_request_ids(control)
    utility = project.run("invoke", "billbee-wemalo-reconcile", "--json", env=env)
    assert json.loads(utility.stdout)["ok"] is True
    assert writes_since(control, marks) == []
    assert control.violations() == {"billbee": [], "wemalo": []}


def test_reconcile_says_in_one_line_what_is_wrong(project: MeltanoProject) -> None:
    project.sandbox.control.load_demo()
    result = reconcile(project, env={"TAP_BILLBEE_PASSWORD": "wrong"})
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert "credentials refused" in result.stderr
    assert "username" in result.stderr
    assert "api_key" in result.stderr

    result = reconcile(project, env={"TARGET_WEMALO_TOKEN": "", "TAP_WEMALO_SHIPMENTS_TOKEN": ""})
    assert result.returncode == 2
    assert result.stderr.strip() == "billbee-wemalo-reconcile: wemalo setting missing: token"
