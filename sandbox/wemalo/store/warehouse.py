"""The warehouse's work (admin ``advance``): orders moved on through the lifecycle, parcels packed with the
dispatcher profile's carrier, parcels handed over, which books the sent quantities; the dispatcher
profiles."""

from __future__ import annotations

import copy
from collections import Counter
from datetime import datetime
from typing import Any

from sandbox.wemalo.store.base import AccountBase
from sandbox.wemalo.store.carriers import carrier_for, tracking_number
from sandbox.wemalo.store.model import BERLIN, CHANGEABLE, CLOSED, LIFECYCLE


class WarehouseMixin(AccountBase):
    _scanning: dict[str, list[str]] = {}  # advance's serialNumbers, set per call (this default stays empty)

    def _profile(self, wanted: str | None, order: dict[str, Any]) -> tuple[str, str]:
        """(profileName, carrier) for a new parcel."""
        def lookup(key: str, by_match_only: bool) -> tuple[str, str] | None:
            for dispatcher in self.profiles:
                for prof in dispatcher.get("profiles") or []:
                    name = prof.get("name") or f"{dispatcher.get('name', '')} {prof.get('product', '')}".strip()
                    if prof.get("matchId") == key or (not by_match_only and key == name):
                        return name, carrier_for(dispatcher.get("name"), prof.get("product"), name)
            return None

        if wanted:
            return lookup(wanted, False) or (wanted, carrier_for(wanted))
        match_id = order["meta"].get("dispatcherProfile")
        if match_id:
            found = lookup(match_id, True)
            if found:
                return found
        default = str(self.ctx.settings.get("default_profile") or "DHL Paket")
        return lookup(default, False) or (default, carrier_for(default))

    def _make_parcels(self, order: dict[str, Any], count: int, profile: str | None, at: datetime) -> list[int]:
        units = [i for i, p in enumerate(order["positions"]) for _ in range(p["quantity"] - p["shipped"])]
        count = max(1, min(count, len(units) or 1))
        profile_name, carrier = self._profile(profile, order)
        ids, start = [], 0
        for k in range(count):
            size = len(units) // count + (1 if k < len(units) % count else 0)
            chunk = Counter(units[start:start + size])
            start += size
            items = []
            weight = 0
            for index, qty in sorted(chunk.items()):
                pos = order["positions"][index]
                product = self._product_by_id(pos["productId"])["data"]
                weight += int(float(product.get("grossWeight") or 0) * qty)
                item = {"positionIndex": index, "productId": pos["productId"], "externalId":
                        pos["productExternalId"], "sku": pos["sku"], "name": pos["name"], "quantity": qty,
                        "serialNumber": pos["serialNumber"]}
                scanned = self._scanning.get(str(pos["sku"]).casefold()) or []
                if pos["serialNumber"] or not scanned:
                    items.append(item)
                    continue
                # Scanned at packing: one item (and later one sent booking) per serial number, as the apidoc's
                # sentPackages rows are "per product line (and serial number)"; units beyond the list unscanned.
                count_scanned = min(qty, len(scanned))
                items += [{**item, "quantity": 1, "serialNumber": scanned.pop(0)} for _ in range(count_scanned)]
                if qty > count_scanned:
                    items.append({**item, "quantity": qty - count_scanned})
            parcel_id = self.next_parcel_id
            self.next_parcel_id += 1
            self.parcels[parcel_id] = {
                "id": parcel_id, "goodsOrderId": order["id"], "externalOrderId": order["externalId"],
                "profileName": profile_name, "carrier": carrier,
                "trackingNumber": tracking_number(carrier, self.tracking_counter), "barcode": f"P{parcel_id:07d}",
                "weightTotal": weight, "items": items, "isHandedOver": False, "handoverDate": None, "packedAt": at}
            self.tracking_counter += 1
            order["parcels"].append(parcel_id)
            self._webhook_event("trackingnumber_added", {"goodsOrderId": order["id"], "goodsOrderParcelId": parcel_id,
                                                         "goodsOrderExternalId": order["externalId"]})
            ids.append(parcel_id)
        return ids

    def _ship(self, order: dict[str, Any], parcel: dict[str, Any], at: datetime) -> list[str]:
        parcel["isHandedOver"] = True
        parcel["handoverDate"] = at
        history = []
        for item in parcel["items"]:
            order["positions"][item["positionIndex"]]["shipped"] += item["quantity"]
            self.stock[item["productId"]] -= item["quantity"]
            history_id = str(self.next_history_id)
            self.next_history_id += 1
            self.bookings.append({"historyId": history_id, "packageId": parcel["id"], "goodsOrderId": order["id"],
                                  "externalGoodsOrderId": order["externalId"], "productId": item["productId"],
                                  "externalProductId": item["externalId"], "sku": item["sku"],
                                  "productName": item["name"], "count": item["quantity"],
                                  "serialNumber": item["serialNumber"], "bookingDate": at, "handoverDate": at,
                                  "synchedAt": None})
            history.append(history_id)
        self._touch_stock({i["productId"] for i in parcel["items"]})
        return history

    def advance(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Admin: move orders forward through the lifecycle, packing and shipping parcels on the way."""
        with self.ctx.lock:
            target = str(spec.get("to") or "").upper()
            if target not in LIFECYCLE and target != "CANCELLED":
                return {"ok": False, "error": f"'to' must be one of {[*LIFECYCLE, 'CANCELLED']}"}
            reason = spec.get("reasonPartiallyReserved") or "STOCK"
            if not isinstance(reason, str):
                return {"ok": False, "error": "'reasonPartiallyReserved' must be a string (e.g. STOCK, ADDRESS)"}
            at = self.now()
            try:
                parcels = int(spec.get("parcels") or 1)
                if spec.get("at"):
                    at = datetime.fromisoformat(str(spec["at"]))
                    at = at if at.tzinfo else at.replace(tzinfo=BERLIN)
            except (TypeError, ValueError) as exc:
                return {"ok": False, "error": f"bad 'parcels' or 'at': {exc}"}
            if not 1 <= parcels <= 20:
                return {"ok": False, "error": "'parcels' must be 1..20"}
            wanted = spec.get("externalIds")
            if wanted is None:
                orders, skipped = list(self.orders.values()), []
            else:
                orders = [self.orders[e] for e in wanted if e in self.orders]
                skipped = [{"externalId": e, "reason": "unknown order"} for e in wanted if e not in self.orders]
            serials = spec.get("serialNumbers") or {}
            if not isinstance(serials, dict) or not all(isinstance(v, list) for v in serials.values()):
                return {"ok": False, "error": "'serialNumbers' must be {sku: [serial number, ...]}"}
            # the serial numbers the warehouse scans while packing these orders' parcels (by SKU, in this order)
            self._scanning = {str(k).casefold(): [str(n) for n in v] for k, v in serials.items()}
            changed = []
            for order in orders:
                try:
                    changed.append(self._advance_one(order, target, parcels,
                                                     bool(spec.get("partial")), spec.get("profile"), at,
                                                     str(spec.get("blockReason") or "LABEL_ERROR"), reason))
                except ValueError as exc:
                    if wanted is not None:
                        skipped.append({"externalId": order["externalId"], "reason": str(exc)})
            return {"ok": True, "changed": changed, "skipped": skipped}

    def _advance_one(self, order: dict[str, Any], target: str, parcels: int, partial: bool, profile: str | None,
                     at: datetime, block_reason: str, reason: str = "STOCK") -> dict[str, Any]:
        before = order["status"]
        result: dict[str, Any] = {"externalId": order["externalId"], "id": order["id"], "from": before,
                                  "parcelsCreated": [], "parcelsShipped": [], "bookings": []}
        if target == "CANCELLED":
            self.cancel(order["externalId"], "cancelled in the warehouse", admin=True)
            return {**result, "to": order["status"]}
        if target == "PARTIAL":  # wemalo holds the order back (reserved nothing) for `reason`
            if before not in CHANGEABLE:
                raise ValueError(f"already {before}: only an OPEN or PARTIAL order can be set PARTIAL")
            order["reserved"] = False
            order["reasonPartiallyReserved"] = reason
            if before != "PARTIAL":
                self._set_status(order, "PARTIAL", at)
            self._touch_stock({p["productId"] for p in order["positions"]})
            self._recheck_partial(skip=order["externalId"])  # its reservation freed: others may fit now
            return {**result, "to": "PARTIAL", "reasonPartiallyReserved": reason}
        if target == "OPEN":  # the operator releases a held order: reserved when stock covers it
            if before != "PARTIAL":
                raise ValueError(f"already {before}")
            if order["reasonPartiallyReserved"] == "STOCK":
                raise ValueError("PARTIAL for STOCK: set stock first")
            self._release_partial(order)
            return {**result, "to": order["status"], "reasonPartiallyReserved": order["reasonPartiallyReserved"]}
        if before in CLOSED:
            raise ValueError(f"already {before}")
        if before == "PARTIAL":
            raise ValueError("PARTIAL (not reserved): set stock first")
        current, goal = LIFECYCLE.index(before), LIFECYCLE.index(target)
        if goal <= current:  # a partly shipped order is PACKED, so SHIPPED is still ahead of it
            raise ValueError(f"already {before}")
        for status in LIFECYCLE[current + 1:goal + 1]:
            if status == "BLOCKEDPACKED" and target != "BLOCKEDPACKED":
                continue
            if status in ("BLOCKEDPACKED", "PACKED", "SHIPPED") and not order["parcels"]:
                result["parcelsCreated"] = self._make_parcels(order, parcels, profile, at)
            if status == "SHIPPED":
                break
            self._set_status(order, status, at)
            if status == "BLOCKEDPACKED":
                order["blockReason"] = block_reason
            elif status == "PACKED":
                order["blockReason"] = ""
        if target == "SHIPPED":
            pending = [self.parcels[p] for p in order["parcels"] if not self.parcels[p]["isHandedOver"]]
            for parcel in pending[:1] if partial else pending:
                result["bookings"] += self._ship(order, parcel, at)
                result["parcelsShipped"].append(parcel["id"])
            done = all(self.parcels[p]["isHandedOver"] for p in order["parcels"])
            final = "SHIPPED" if done else "PACKED"
            if order["status"] != final:
                order["blockReason"] = ""
                self._set_status(order, final, at)
            if done:
                order["reserved"] = False
        result["to"] = order["status"]
        result["parcels"] = [self._parcel_state(self.parcels[p]) for p in result["parcelsCreated"]]
        return result

    def get_profiles(self) -> dict[str, Any]:
        with self.ctx.lock:
            return {"dispatcher": copy.deepcopy(self.profiles), "Success": True, "status": 200}
