"""The simulated world between two chaos cycles: the warehouse works, the shop sells, the merchant edits.

Every decision comes from the `random.Random` passed in (derived from the chaos seed and the cycle number),
and every change goes through the simulators' operator routes (`/_admin`), never through the API the
connector uses, so it is neither throttled nor hit by injected faults. `World` also keeps the ground truth
the invariants are checked against: which orders were ever paid and tagged, which ones the merchant
cancelled, which addresses were made invalid on purpose.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sandbox.demo_data import DEFAULT_STOCK_ID
from sandbox.runner import SandboxControl

TAG = "wemalo"
RECEIVED = f"order_received_by_{TAG}"
ERROR = f"{TAG}_error"
CANCELLED_TAG = f"order_cancelled_received_by_{TAG}"
STUCK = f"{TAG}_stuck"
BUNDLE = 2

_FIRST = ("Anna", "Jürgen", "Özlem", "Björn", "Käthe", "Sören", "Zoë", "Lukas")
_LAST = ("Müller", "Weiß", "Groß", "Köhler", "Schäfer", "Krüger", "Becker", "Fuchs")
_STREETS = ("Hauptstraße", "Lindenallee", "Am Mühlbach", "Goethestraße", "Kirchgasse", "Ringstraße")
_CITIES = (("04109", "Leipzig"), ("01067", "Dresden"), ("80331", "München"), ("50667", "Köln"),
           ("20095", "Hamburg"), ("99084", "Erfurt"))
_PROFILES = ("DHL Paket", "DHL Warenpost", "DPD Classic", "Standardversand")


def has_tag(tags: list[str] | None, tag: str) -> bool:
    return tag.casefold() in {t.casefold() for t in tags or []}


def ean13(rng: random.Random) -> str:
    body = "42" + "".join(str(rng.randint(0, 9)) for _ in range(10))
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


@dataclass
class World:
    control: SandboxControl
    preloaded: set[str] = field(default_factory=set)  # orders that carried the received tag when loaded
    ever_paid_tagged: set[str] = field(default_factory=set)
    bad_address: set[str] = field(default_factory=set)  # orders created with an address wemalo must refuse
    cancelled: set[str] = field(default_factory=set)  # transferred orders the merchant cancelled (State 8)
    resent: set[str] = field(default_factory=set)
    returns: dict[str, str | None] = field(default_factory=dict)  # wemalo return booking id -> order (None: unlinked)
    held_for_address: set[str] = field(default_factory=set)  # orders wemalo held for their address at some point
    actions: Counter[str] = field(default_factory=Counter)
    _serial: int = 0

    # -- ground truth --------------------------------------------------------------------------------
    def start(self) -> None:
        orders = self.control.billbee_state()["orders"]
        self.preloaded = {str(o["BillBeeOrderId"]) for o in orders if has_tag(o.get("Tags"), RECEIVED)}
        self.observe(orders)

    def observe(self, orders: list[dict[str, Any]] | None = None) -> None:
        """Remember every order that is paid and tagged now: the next run must hand it to wemalo."""
        for order in orders if orders is not None else self.control.billbee_state()["orders"]:
            key = str(order["BillBeeOrderId"])
            if order["State"] == 3 and has_tag(order.get("Tags"), TAG) and not order.get("IsCancelationFor") \
                    and key not in self.preloaded:
                self.ever_paid_tagged.add(key)

    # -- one step ------------------------------------------------------------------------------------
    def step(self, rng: random.Random, cycle: int) -> None:
        billbee = self.control.billbee_state()
        self._receive_stock(rng, first=cycle == 1)
        self._warehouse(rng)
        self._new_products(rng)
        self._new_orders(rng, self.control.billbee_state()["products"], cycle)
        self._payments(rng, billbee["orders"])
        wemalo_ids = {o["externalId"]: o["status"] for o in self.control.wemalo_state()["orders"]}
        self._edits(rng, billbee["orders"], cycle)
        self._resend(rng, billbee["orders"], wemalo_ids)
        self._cancel(rng, billbee["orders"], wemalo_ids)
        self._fix_address(rng, billbee["orders"])
        self._returns(rng)
        self._fix_held_address(rng, billbee["orders"])
        self.observe()

    def _receive_stock(self, rng: random.Random, *, first: bool) -> None:
        """Goods arrive: the first delivery covers most articles, later ones a few."""
        stock = self.control.wemalo_state()["stock"]
        if not stock:
            return
        arriving = {sku: qty + rng.randint(8, 30) for sku, qty in stock.items()
                    if rng.random() < (0.9 if first else 0.25)}
        if arriving:
            self.control.wemalo("POST", "/stock", arriving)
            self.actions["stock receipts"] += len(arriving)

    def _warehouse(self, rng: random.Random) -> None:
        """Picking, packing, shipping: some orders in two parcels, some partly shipped and completed later."""
        for order in self.control.wemalo_state()["orders"]:
            status, ext = order["status"], order["externalId"]
            if status == "OPEN" and rng.random() < 0.45:
                roll = rng.random()
                if roll < 0.05 and ext not in self.preloaded:
                    if self._advance(ext, "PARTIAL", reasonPartiallyReserved="ADDRESS"):
                        self.held_for_address.add(ext)
                        self.actions["held for the address"] += 1
                elif roll < 0.1 and ext not in self.preloaded:
                    if self._advance(ext, "BLOCKEDPACKED", blockReason="LABEL_ERROR"):
                        self.actions["blocked after packing"] += 1
                elif roll < 0.15:
                    self._advance(ext, "INPROCESS")
                elif roll < 0.25:
                    self._advance(ext, "PACKED", parcels=rng.choice((1, 2)))
                elif roll < 0.4:
                    if self._advance(ext, "SHIPPED", parcels=2, partial=True):
                        self.actions["partly shipped"] += 1
                else:
                    parcels = 2 if rng.random() < 0.3 else 1
                    if self._advance(ext, "SHIPPED", parcels=parcels):
                        self.actions[f"shipped in {parcels} parcel(s)"] += 1
            elif status in ("INPROCESS", "PACKED", "BLOCKEDPACKED") and rng.random() < 0.5 \
                    and self._advance(ext, "SHIPPED"):
                self.actions["shipped (completed)"] += 1

    def _advance(self, ext: str, to: str, **options: Any) -> bool:
        result = self.control.advance(to, [ext], **options)
        return bool(result.get("changed"))

    def _new_products(self, rng: random.Random) -> None:
        if rng.random() < 0.15:
            self._serial += 1
            sku = f"CH-{rng.randint(100, 999)}-{self._serial}"
            self.control.billbee("POST", "/products", {"products": [{
                "SKU": sku, "EAN": ean13(rng), "Type": 1, "Title": f"Chaos-Artikel {self._serial} „Größe M“",
                "Weight": rng.randint(100, 3000), "LengthCm": 20, "WidthCm": 15, "HeightCm": 5, "Price": 9.9,
                "Stocks": [{"StockId": DEFAULT_STOCK_ID, "StockCurrent": rng.randint(0, 5)}]}]})
            self.actions["new articles"] += 1

    def _new_orders(self, rng: random.Random, products: list[dict[str, Any]], cycle: int) -> None:
        usable = [p for p in products if p.get("SKU") and not p.get("IsDeactivated")]
        good = [p for p in usable if p.get("EAN") and p.get("Type") != BUNDLE]
        bundles = [p for p in usable if p.get("Type") == BUNDLE]
        bad = [p for p in usable if not p.get("EAN")]
        orders = []
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
            self._serial += 1
            lines = []
            for _ in range(rng.choice((1, 1, 2, 3))):
                roll = rng.random()
                pool = bundles if roll < 0.08 and bundles else bad if roll < 0.13 and bad else good
                lines.append({"Product": {"SKU": rng.choice(pool)["SKU"]}, "Quantity": rng.choice((1, 1, 2, 3))})
            zip_code, city = rng.choice(_CITIES)
            address = {"FirstName": rng.choice(_FIRST), "LastName": rng.choice(_LAST),
                       "Street": rng.choice(_STREETS), "HouseNumber": str(rng.randint(1, 99)),
                       "Zip": zip_code, "City": city, "CountryISO2": "DE", "Country": "DE"}
            broken = rng.random() < 0.07
            if broken:
                address["Zip"] = ""  # wemalo needs a ZIP code: refused, with the reason in Billbee
            orders.append({"OrderNumber": f"#C{cycle:02d}{self._serial:03d}", "Id": f"C{cycle:02d}{self._serial:03d}",
                           "State": 3, "Tags": ["Wemalo" if rng.random() < 0.1 else TAG],
                           "ShippingAddress": address, "OrderItems": lines, "Currency": "EUR",
                           "ShippingProfileName": rng.choice(_PROFILES)})
        if orders:
            created = self.control.billbee("POST", "/orders", {"orders": orders})["orders"]
            for order, spec in zip(created, orders, strict=True):
                if not spec["ShippingAddress"]["Zip"]:
                    self.bad_address.add(str(order["BillBeeOrderId"]))
            self.actions["new orders"] += len(created)

    def _payments(self, rng: random.Random, orders: list[dict[str, Any]]) -> None:
        unpaid = [o for o in orders if o["State"] == 1 and has_tag(o.get("Tags"), TAG)]
        if unpaid and rng.random() < 0.3:
            order = rng.choice(unpaid)
            self.control.billbee("PATCH", f"/orders/{order['BillBeeOrderId']}", {"State": 3})
            self.actions["payments received"] += 1

    def _edits(self, rng: random.Random, orders: list[dict[str, Any]], cycle: int) -> None:
        paid = [o for o in orders if o["State"] == 3 and str(o["BillBeeOrderId"]) not in self.bad_address]
        for order in rng.sample(paid, min(len(paid), rng.choice((0, 1, 2)))):
            change = rng.choice(({"SellerComment": f"Kundenwunsch aus Zyklus {cycle}"},
                                 {"ShippingAddress": {"Phone": f"0171 555{rng.randint(1000, 9999)}"}},
                                 {"ShippingProfileName": rng.choice(_PROFILES)}))
            self.control.billbee("PATCH", f"/orders/{order['BillBeeOrderId']}", change)
            self.actions["orders changed"] += 1

    def _resend(self, rng: random.Random, orders: list[dict[str, Any]], wemalo: dict[str, str]) -> None:
        """The documented re-send: remove the received tag, set the orders tag (here with an address change)."""
        done = [o for o in orders if o["State"] == 3 and has_tag(o.get("Tags"), RECEIVED)
                and str(o["BillBeeOrderId"]) in wemalo]
        if done and rng.random() < 0.4:
            order = rng.choice(done)
            tags = [t for t in order.get("Tags") or [] if t.casefold() != RECEIVED]
            if not has_tag(tags, TAG):
                tags.append(TAG)
            self.control.billbee("PATCH", f"/orders/{order['BillBeeOrderId']}",
                                 {"Tags": tags, "ShippingAddress": {"Line2": f"Hinterhaus {rng.randint(1, 9)}"}})
            self.resent.add(str(order["BillBeeOrderId"]))
            self.actions["re-sent"] += 1

    def _cancel(self, rng: random.Random, orders: list[dict[str, Any]], wemalo: dict[str, str]) -> None:
        """Storno of an order wemalo has (acknowledged in Billbee or not yet)."""
        candidates = [o for o in orders if o["State"] == 3 and wemalo.get(str(o["BillBeeOrderId"])) not in
                      (None, "CANCELLED")]
        if candidates and rng.random() < 0.35:
            order = rng.choice(candidates)
            self.control.billbee("PATCH", f"/orders/{order['BillBeeOrderId']}", {"State": 8})
            self.cancelled.add(str(order["BillBeeOrderId"]))
            self.actions["cancelled in Billbee"] += 1

    def _returns(self, rng: random.Random) -> None:
        """Customers send parcels back: one item of a shipped order, now and then a parcel wemalo cannot link."""
        wemalo = self.control.wemalo_state()["orders"]
        shipped = [o for o in wemalo if o["status"] == "SHIPPED" and o["externalId"] not in self.cancelled]
        if shipped and rng.random() < 0.3:
            order = rng.choice(shipped)
            sku = rng.choice(order["positions"])["externalId"]
            self._book_return(order["externalId"], sku, rng)
        if shipped and rng.random() < 0.1:
            self._book_return(None, rng.choice(rng.choice(shipped)["positions"])["externalId"], rng)

    def _book_return(self, order_id: str | None, sku: str, rng: random.Random) -> None:
        item = {"sku": sku, "quantity": 1, "reasonCode": rng.choice(("damaged", "too small", "not as described")),
                "attributeCode": rng.choice(("1. choice", "2. Wahl"))}
        if rng.random() < 0.3:
            item["serialNumber"] = f"SN-{rng.randint(10000, 99999)}"
        answer = self.control.wemalo("POST", "/return", {"externalId": order_id, "items": [item]})
        for booking in answer.get("bookingIds") or []:
            self.returns[str(booking)] = order_id
        self.actions["returns booked" if order_id else "returns without an order"] += 1

    def _fix_held_address(self, rng: random.Random, orders: list[dict[str, Any]]) -> None:
        """The merchant reads the stuck message of an order held for its address and corrects the street."""
        stuck = [o for o in orders if str(o["BillBeeOrderId"]) in self.held_for_address
                 and has_tag(o.get("Tags"), STUCK) and o["State"] == 3]
        if stuck and rng.random() < 0.5:
            order = rng.choice(stuck)
            self.control.billbee("PATCH", f"/orders/{order['BillBeeOrderId']}",
                                 {"ShippingAddress": {"Street": rng.choice(_STREETS), "HouseNumber": "1a"}})
            self.actions["held addresses corrected"] += 1

    def _fix_address(self, rng: random.Random, orders: list[dict[str, Any]]) -> None:
        """The merchant reads the reason on a rejected order and enters the ZIP code: it is tried again."""
        refused = [o for o in orders if str(o["BillBeeOrderId"]) in self.bad_address and has_tag(o.get("Tags"), ERROR)]
        if refused and rng.random() < 0.3:
            order = rng.choice(refused)
            self.control.billbee("PATCH", f"/orders/{order['BillBeeOrderId']}", {"ShippingAddress": {"Zip": "04109"}})
            self.bad_address.discard(str(order["BillBeeOrderId"]))
            self.actions["rejected orders fixed"] += 1
