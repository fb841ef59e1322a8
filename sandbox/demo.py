"""`make demo`: the whole product in one minute against the sandbox.

Starts both simulators with the demo shop, runs `meltano run sync`, lets the simulated warehouse receive
goods and ship most orders (some in two parcels, one only partly; one blocked after packing, one held for its
address), runs `sync` again, books a customer's return, runs `sync` once more and prints what moved in each
direction (stuck orders and the return included) and what was rejected and why. Meltano's state goes to a
throw-away database, so the demo can be repeated and never touches a real project's state.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from sandbox.runner import Sandbox

ROOT = Path(__file__).resolve().parents[1]


def meltano(args: list[str], env: dict[str, str], log: Path) -> None:
    """Run meltano in the project, appending its output to `log`; stop the demo if it fails."""
    meltano_bin = Path(sys.executable).with_name("meltano")
    with log.open("a") as out:
        result = subprocess.run([str(meltano_bin), *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                check=False)
    if result.returncode != 0:
        sys.exit(f"meltano {' '.join(args)} failed (exit {result.returncode}); see {log}")


def warehouse_ships(sandbox: Sandbox) -> dict[str, int]:
    """Goods arrive, then the warehouse ships: most in one parcel, two in two parcels, one only partly."""
    control = sandbox.control
    state = control.wemalo_state()
    control.wemalo("POST", "/stock", {p["sku"]: 40 for p in state["products"]})
    open_ids = [o["externalId"] for o in control.wemalo_state()["orders"] if o["status"] == "OPEN"]
    plan = {"two_parcels": open_ids[:2], "partial": open_ids[2:3], "in_process": open_ids[3:4],
            "blocked_after_packing": open_ids[4:5], "held_for_address": open_ids[5:6],
            "one_parcel": open_ids[6:-2]}  # the last two stay OPEN: still changeable
    control.advance("SHIPPED", plan["two_parcels"], parcels=2)
    control.advance("SHIPPED", plan["partial"], parcels=2, partial=True)
    control.advance("INPROCESS", plan["in_process"])
    control.advance("BLOCKEDPACKED", plan["blocked_after_packing"], blockReason="LABEL_ERROR")
    control.advance("PARTIAL", plan["held_for_address"], reasonPartiallyReserved="ADDRESS")
    control.advance("SHIPPED", plan["one_parcel"])
    return {k: len(v) for k, v in plan.items()}


def customer_returns(sandbox: Sandbox) -> int:
    """A customer sends one item of a shipped order back; the warehouse books it (one return booking)."""
    shipped = [o for o in sandbox.control.wemalo_state()["orders"] if o["status"] == "SHIPPED"]
    if not shipped:
        return 0
    order = shipped[0]
    sandbox.control.wemalo("POST", "/return", {"externalId": order["externalId"], "items": [
        {"sku": order["positions"][0]["externalId"], "quantity": 1, "reasonCode": "zu klein",
         "attributeCode": "1. choice", "serialNumber": ""}]})
    return 1


def run_table(reports: Path) -> list[str]:
    """One line per plugin run that writes a report (tap-billbee and the targets): what it did."""
    lines = []
    for file in sorted(reports.glob("*.json"), key=lambda f: f.stat().st_mtime):
        report = json.loads(file.read_text())
        parts = [f"{stream} " + ", ".join(f"{k} {v}" for k, v in sorted(c.items()))
                 for stream, c in sorted(report["outcomes"].items())]
        parts += [f"{k} {v}" for k, v in sorted(report["counters"].items())]  # e.g. tap-billbee's tag writes
        lines.append(f"  {report['plugin']:<15} {'; '.join(parts) or 'nothing to do'}")
    return lines


def summary(sandbox: Sandbox, reports: Path, initial: dict[str, Any], shipped_plan: dict[str, int]) -> str:
    billbee, wemalo = sandbox.control.billbee_state(), sandbox.control.wemalo_state()
    in_wemalo = {o["externalId"] for o in wemalo["orders"]}
    before = {str(o["BillBeeOrderId"]): o for o in initial["orders"]}
    orders = [o for o in billbee["orders"] if str(o["BillBeeOrderId"]) in in_wemalo]
    received = [o for o in orders if "order_received_by_wemalo" in (o.get("Tags") or [])]
    errored = [o for o in billbee["orders"] if "wemalo_error" in (o.get("Tags") or [])]
    shipped = [o for o in orders if o["State"] == 4 and before[str(o["BillBeeOrderId"])]["State"] != 4]
    tracking = sum(len(o.get("ShippingIds") or []) for o in orders)
    status = Counter(o["status"] for o in wemalo["orders"])
    stuck = [o for o in orders if "wemalo_stuck" in (o.get("Tags") or [])]
    returns = sum(1 for notes in (billbee.get("messages") or {}).values() for n in notes
                  if "wemalo-Buchung" in (n.get("Text") or ""))
    problems: dict[tuple[str, str], list[str]] = {}
    for file in reports.glob("*.json"):
        report = json.loads(file.read_text())
        for stream, reasons in report["problems"].items():
            for reason, ids in reasons.items():
                problems[(f"{report['plugin']}:{stream}", reason)] = ids
    lines = ["", "=" * 78, "Each run (meltano run sync = tap-billbee target-wemalo, then tap-wemalo-shipments "
             "target-billbee):", *run_table(reports), "",
             "Billbee -> wemalo",
             f"  products in wemalo: {len(wemalo['products'])} of {len(initial['products'])} Billbee articles",
             f"  goods orders in wemalo: {len(wemalo['orders'])}  (status now: {dict(status)})",
             f"  tagged order_received_by_wemalo in Billbee: {len(received)};  tagged wemalo_error: {len(errored)}",
             "wemalo -> Billbee",
             f"  warehouse: {shipped_plan}",
             f"  tracking numbers on those Billbee orders: {tracking};  set to Versendet (4): {len(shipped)}",
             f"  orders wemalo holds, tagged wemalo_stuck with the reason: {len(stuck)};  returns written to "
             f"Billbee orders: {returns}",
             "Rejected or skipped, and why"]
    for (where, reason), ids in sorted(problems.items()):
        lines.append(f"  {where}: {reason}  [{', '.join(ids[:4])}{' ...' if len(ids) > 4 else ''}]")
    for order_id, notes in sorted((billbee.get("messages") or {}).items()):
        for note in notes:
            lines.append(f"  note on Billbee order {order_id}: {note.get('Text')}")
    lines.append("=" * 78)
    return "\n".join(lines)


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="billbee-wemalo-demo-"))
    log = workdir / "meltano.log"
    try:
        sandbox = Sandbox().start()
    except OSError as exc:
        sys.exit(f"cannot start the sandbox on ports 8301/8302 ({exc}); is `make sandbox` still running?")
    try:
        initial = sandbox.control.load_demo()["billbee"]
        # wemalo's apidoc lists more fields than its examples show: the demo's wemalo answers with the full lists,
        # so getStatus names why an order is held and a return booking names its order (the examples' literal
        # reading is the sandbox's default; there such orders and returns are reported instead).
        sandbox.control.wemalo_settings(status_fields="field_list", returns_fields="field_list")
        env = sandbox.meltano_env(workdir)
        print("1/4 meltano run sync          (products and paid, tagged orders go to wemalo)", flush=True)
        meltano(["run", "sync"], env, log)
        print("2/4 the warehouse ships       (goods received, orders picked, packed, handed to carriers)", flush=True)
        plan = warehouse_ships(sandbox)
        print("   (one order is blocked after packing, one held for its address)", flush=True)
        print("3/4 meltano run sync          (tags, tracking numbers, Versendet and stock go to Billbee)", flush=True)
        meltano(["run", "sync"], env, log)
        print(f"   a customer returns an item: {customer_returns(sandbox)} return booked in wemalo", flush=True)
        print("4/4 one more hourly run       (the tags of run 3's outcomes, the held orders' stuck tags, the "
              "return)", flush=True)
        meltano(["run", "sync"], env, log)
        print(summary(sandbox, workdir / "reports", initial, plan))
        print(f"Meltano's log of the runs: {log}")
    finally:
        sandbox.stop()


if __name__ == "__main__":
    main()
