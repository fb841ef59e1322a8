"""The end state the connector must reach after the chaos, checked against the simulators' data.

`check` returns figures (for the report) and the list of violated invariants (empty when all hold). Each
invariant counts what it checked and what broke, with the first few offending ids.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from billbee_wemalo.protocol import bookings_named
from tests.chaos.world import BUNDLE, CANCELLED_TAG, ERROR, RECEIVED, STUCK, World, has_tag
from tests.stock_check import sellable_stock_problems

REJECT_TEXT = "wemalo hat den Auftrag nicht angenommen"
CANCEL_REFUSED_TEXT = "Stornierung nicht an wemalo übertragen"


class Invariants:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, name: str, checked: int, bad: list[str]) -> None:
        self.rows.append({"invariant": name, "checked": checked, "violations": len(bad), "examples": bad[:5]})

    @property
    def failures(self) -> list[dict[str, Any]]:
        return [row for row in self.rows if row["violations"]]


def _order_skus(order: dict[str, Any], bundles: dict[str, list[str]]) -> set[str]:
    """The SKUs wemalo needs for `order`: bundle lines replaced by their components; coupons left out."""
    skus: set[str] = set()
    for item in order.get("OrderItems") or []:
        product = item.get("Product") or {}
        sku = (product.get("SKU") or "").strip()
        if item.get("IsCoupon") or float(item.get("Quantity") or 0) <= 0 or (not sku and not product.get("BillbeeId")):
            continue
        if product.get("Type") == BUNDLE or sku.casefold() in bundles:
            skus.update(bundles.get(sku.casefold(), [f"<bundle {sku} without components>"]))
        else:
            skus.add(sku.casefold() or f"<line without SKU in {order['BillBeeOrderId']}>")
    return skus


def valid_products(products: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Billbee articles wemalo must have: SKU and EAN, not a bundle, first (by Id) to claim its SKU and EAN."""
    valid: dict[str, dict[str, Any]] = {}
    skus: set[str] = set()
    eans: set[str] = set()
    for product in sorted(products, key=lambda p: p["Id"]):
        sku, ean = (product.get("SKU") or "").strip(), (product.get("EAN") or "").strip()
        if product.get("Type") == BUNDLE or not sku or not ean:
            continue
        if sku.casefold() in skus or ean in eans:
            continue
        skus.add(sku.casefold())
        eans.add(ean)
        valid[sku.casefold()] = product
    return valid


def check(world: World, requests: dict[str, list[dict[str, Any]]]) -> tuple[dict[str, Any], Invariants]:
    control = world.control
    billbee_state, wemalo_state = control.billbee_state(), control.wemalo_state()
    billbee = {str(o["BillBeeOrderId"]): o for o in billbee_state["orders"]}
    messages: dict[str, list[dict[str, Any]]] = billbee_state["messages"]
    wemalo = {o["externalId"]: o for o in wemalo_state["orders"]}
    in_wemalo = {p["sku"].casefold() for p in wemalo_state["products"]}
    bundles = {p["SKU"].casefold(): [c["SKU"].casefold() for c in p.get("BillOfMaterial") or []]
               for p in billbee_state["products"] if p.get("Type") == BUNDLE and p.get("SKU")}
    inv = Invariants()

    candidates = {k for k in world.ever_paid_tagged if k in billbee}
    eligible = {k for k in candidates if k not in world.bad_address and _order_skus(billbee[k], bundles) <= in_wemalo}
    refused = candidates - eligible

    # 1. every eligible order in wemalo exactly once; nothing else in wemalo; no duplicate ever attempted
    adds = Counter(((r.get("body") or {}).get("meta") or {}).get("externalId") for r in requests["wemalo"]
                   if r["path"] == "/v1/goodsOrder/add" and r["status"] == 200 and r["fault"] in (None, "slow"))
    duplicates = [r for r in requests["wemalo"] if r["path"] == "/v1/goodsOrder/add" and r["status"] == 409]
    bad = [f"{k}: {adds[k]} goods orders created" for k in sorted(eligible) if adds[k] != 1 or k not in wemalo]
    bad += [f"{k}: in wemalo but never paid and tagged" for k in sorted(set(wemalo) - candidates)]
    bad += [f"{k}: in wemalo although it must be refused" for k in sorted(refused & set(wemalo))]
    bad += [f"{len(duplicates)} goodsOrder/add refused as duplicates"] if duplicates else []
    inv.add("eligible order in wemalo exactly once", len(eligible), bad)

    # 2. the received tag only on orders wemalo has; after the clean runs on every one not cancelled since
    received = {k for k, o in billbee.items() if has_tag(o.get("Tags"), RECEIVED) and k not in world.preloaded}
    bad = [f"{k}: received tag, not in wemalo" for k in sorted(received - set(wemalo))]
    bad += [f"{k}: in wemalo, no received tag" for k in sorted(set(wemalo) - received - world.cancelled)]
    inv.add("received tag exactly on the orders wemalo has", len(received | set(wemalo)), bad)

    # 3. every refused order: error tag and the reason as a message; no accepted order keeps the error tag
    bad = []
    for k in sorted(refused):
        if not has_tag(billbee[k].get("Tags"), ERROR):
            bad.append(f"{k}: refused, no error tag")
        if not any(m["Text"].startswith(REJECT_TEXT) for m in messages.get(k, [])):
            bad.append(f"{k}: refused, no reason message")
    # (a cancellation wemalo refused carries the error tag by design, with its own message: invariant 6)
    cancel_refused = {k for k in world.cancelled
                      if any(m["Text"].startswith(CANCEL_REFUSED_TEXT) for m in messages.get(k, []))}
    bad += [f"{k}: accepted but still tagged {ERROR}" for k in sorted(eligible - cancel_refused)
            if has_tag(billbee[k].get("Tags"), ERROR)]
    inv.add("refused order: error tag and reason; accepted: no error tag", len(candidates), bad)

    # 4. every parcel's tracking number on its Billbee order exactly once, and nothing else there
    bad = []
    parcels = 0
    for ext, order in wemalo.items():
        handed = Counter(p["trackingNumber"] for p in order["parcels"] if p.get("isHandedOver"))
        parcels += sum(handed.values())
        on_order = Counter(s["ShippingId"] for s in billbee[ext].get("ShippingIds") or [])
        if on_order != handed:
            bad.append(f"{ext}: Billbee {dict(on_order)} != wemalo {dict(handed)}")
    inv.add("tracking number on the Billbee order exactly once", parcels, bad)

    # 5. state 4 exactly on completely shipped orders not cancelled in Billbee
    bad = []
    for ext, order in wemalo.items():
        state = billbee[ext]["State"]
        if ext in world.cancelled:
            if state != 8:
                bad.append(f"{ext}: cancelled in Billbee, now state {state}")
        elif (state == 4) != (order["status"] == "SHIPPED"):
            bad.append(f"{ext}: Billbee state {state}, wemalo {order['status']}")
    bad += [f"{k}: state 4 but not in wemalo" for k, o in billbee.items()
            if o["State"] == 4 and k not in wemalo and k not in world.preloaded]
    inv.add("state 4 exactly on the completely shipped orders", len(wemalo), bad)

    # 6. cancellations: cancelled in wemalo and tagged, or the reason why not as a message
    bad = []
    for k in sorted(world.cancelled):
        if wemalo[k]["status"] == "CANCELLED":
            if not has_tag(billbee[k].get("Tags"), CANCELLED_TAG):
                bad.append(f"{k}: cancelled in wemalo, no {CANCELLED_TAG}")
        elif not any(m["Text"].startswith(CANCEL_REFUSED_TEXT) for m in messages.get(k, [])):
            bad.append(f"{k}: wemalo {wemalo[k]['status']}, no message why the cancellation was refused")
        elif not has_tag(billbee[k].get("Tags"), ERROR):
            bad.append(f"{k}: cancellation refused by wemalo, no {ERROR} tag")
    inv.add("cancellation reached wemalo or was explained", len(world.cancelled), bad)

    # 7. every valid article exactly once in wemalo, under its Billbee id; nothing else
    valid = valid_products(billbee_state["products"])
    per_sku = Counter(p["sku"].casefold() for p in wemalo_state["products"])
    by_sku = {p["sku"].casefold(): p for p in wemalo_state["products"]}
    bad = [f"{sku}: {per_sku[sku]} wemalo products" for sku in sorted(valid) if per_sku[sku] != 1]
    bad += [f"{sku}: wemalo externalId {by_sku[sku]['externalId']} != Billbee Id {p['Id']}"
            for sku, p in sorted(valid.items()) if sku in by_sku and by_sku[sku]["externalId"] != str(p["Id"])]
    bad += [f"{sku}: in wemalo but not a valid article" for sku in sorted(set(per_sku) - set(valid))]
    inv.add("valid article exactly once in wemalo", len(valid), bad)

    # 8. Billbee stock (standard storage location) = what can still be sold (tests/stock_check.py), never negative
    checked, bad = sellable_stock_problems(billbee_state, wemalo_state,
                                           control.billbee("GET", "/settings")["unfulfilled_states"])
    inv.add("Billbee stock = sellable stock (no oversell, no double subtraction)", checked, bad)

    # 10. every return booking wemalo links to an order: named in exactly one message on that order, marked
    # synchronised in wemalo after the clean runs; one it cannot link (or whose row does not name its order, the
    # apidoc example's fields): no message anywhere, never marked (reported and kept in wemalo's list)
    returns = {str(b["id"]): b for b in control.wemalo("GET", "/returns")["bookings"]}
    rows_name_order = control.wemalo("GET", "/settings")["returns_fields"] == "field_list"
    named = Counter(b for k, rows in messages.items() for b in bookings_named({"Comments": rows}))
    bad = []
    for booking, order_id in sorted(world.returns.items()):
        linked = order_id is not None and rows_name_order
        synchronised = bool(returns.get(booking, {}).get("synchronised"))
        if linked and named[booking] != 1:
            bad.append(f"booking {booking} of {order_id}: named in {named[booking]} messages")
        if not linked and named[booking]:
            bad.append(f"booking {booking}: cannot be linked, yet named in a message")
        if synchronised != linked:
            bad.append(f"booking {booking}: synchronised {synchronised}, linked {linked}")
    inv.add("return written exactly once, marked in wemalo only after", len(world.returns), bad)

    # 11. the stuck tag exactly on the orders wemalo holds: BLOCKEDPACKED, or PARTIAL for the address where
    # getStatus names the reason (its example does not: then only after stuck_partial_hours, never in a test)
    reasons = control.wemalo("GET", "/settings")["status_fields"] == "field_list"
    bad = []
    for ext, order in sorted(wemalo.items()):
        if ext in world.preloaded:
            continue  # sent before the connector watched anything (the demo's preloaded orders)
        held = order["status"] == "BLOCKEDPACKED" or (
            reasons and order["status"] == "PARTIAL" and order.get("reasonPartiallyReserved") == "ADDRESS")
        if held != has_tag(billbee[ext].get("Tags"), STUCK):
            bad.append(f"{ext}: wemalo {order['status']} {order.get('reasonPartiallyReserved') or ''}, "
                       f"stuck tag {not held}")
    inv.add("stuck tag exactly on the orders wemalo holds", len(wemalo), bad)

    # 9. everything the connector sent conformed to the simulators' schemas of the vendor specs
    violations = control.violations()
    bad = [f"{system} {v['method']} {v['path']}: {v['violations'][:2]}" for system, rows in violations.items()
           for v in rows]
    inv.add("zero spec violations", sum(len(r) for r in requests.values()), bad)

    status = Counter(o["status"] for o in wemalo.values())
    repeated_texts = [f"{k}: {count}x {text[:60]}" for k, rows in sorted(messages.items())
                      for text, count in Counter(m["Text"] for m in rows).items() if count > 1]
    repeated = len(repeated_texts)
    figures = {
        "orders ever paid and tagged": len(candidates),
        "orders in wemalo": len(wemalo),
        "wemalo order status": dict(sorted(status.items())),
        "orders refused (error tag + reason)": len(refused),
        "parcels handed over": parcels,
        "tracking numbers on Billbee orders": sum(len(billbee[k].get("ShippingIds") or []) for k in wemalo),
        "orders in state 4": sum(1 for k in wemalo if billbee[k]["State"] == 4),
        "orders cancelled in Billbee": len(world.cancelled),
        "orders re-sent": len(world.resent),
        "updateMeta calls (re-sends applied)": sum(1 for r in requests["wemalo"]
                                                   if r["path"].startswith("/v1/goodsOrder/updateMeta/")
                                                   and r["status"] == 200),
        "valid articles in wemalo": sum(1 for sku in valid if per_sku[sku] == 1),
        "order messages written": sum(len(rows) for rows in messages.values()),
        "identical messages repeated on an order": repeated,
        "repeated messages (examples)": repeated_texts[:5],
        "goodsOrder/add refused as duplicate": len(duplicates),
        "return bookings (linked / not)": f"{sum(1 for o in world.returns.values() if o)} / "
                                          f"{sum(1 for o in world.returns.values() if not o)}",
        "return messages written": sum(1 for rows in messages.values() for m in rows if "wemalo-Buchung" in m["Text"]),
        "orders with the stuck tag": sum(1 for k in wemalo if has_tag(billbee[k].get("Tags"), STUCK)),
        "orders held for the address (ever)": len(world.held_for_address),
    }
    return figures, inv
