"""Sinks of target-billbee: parcels (tracking numbers, then "Versendet") and stock levels."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from singer_sdk import Target
from singer_sdk.sinks import BatchSink
from typing_extensions import override

from billbee_wemalo.billbee import BEFORE_SHIPPING_STATES, OrderState
from billbee_wemalo.http import AmbiguousWriteError, ApiError, ClientError, NotFoundError, TransientError
from billbee_wemalo.protocol import UNTRACKED_PREFIX
from billbee_wemalo.sdk.run import run_of
from billbee_wemalo.sdk.sinks import RuleCheckedSink
from target_billbee.run import BillbeeRun
from target_billbee.stock import billbee_has, breaker_verdict, held_quantities, new_quantity, stock_entry
from target_billbee.verify import casefolded
from target_billbee.worker_sink import WorkerSink

STOCK_CHUNK = 100
PRODUCT_PAGE = 250  # articles per page of GET /products
NOT_SHIPPABLE_STATES = {OrderState.DELETED, OrderState.CANCELED}
# "Versendet" is set only from a state before shipping (BEFORE_SHIPPING_STATES); any other (reclamation, closed,
# archived, ...) is the merchant's later word, never overwritten by a parcel (replayed or not).



class ShipmentsSink(WorkerSink):
    """Parcels grouped per order: every tracking number once, then state 4 when wemalo shipped the order fully.

    Tracking first, then the state: Billbee uploads tracking data to the shop on the change to "Versendet".
    Batches are written by this stream's worker thread (BillbeeRun.submit), one after the other and each
    order in sequence, while the stock levels are written by theirs: different endpoints, different limits.
    """

    max_size = 500

    @override
    def _process(self, records: list[dict[str, Any]]) -> None:
        by_order: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
        for parcel in records:
            by_order.setdefault(str(parcel.get("order_external_id")), []).append(parcel)
        for order_id, parcels in by_order.items():
            try:
                self._ship(order_id, parcels)
            except TransientError as exc:
                for parcel in parcels:
                    self.run.report.add("shipments", f"{order_id}/{parcel.get('tracking_number')}", "failed",
                                           f"will retry next run: {exc}")
                    self.run.held.hold("shipments", "handed_over_at", parcel["handed_over_at"])

    def _ship(self, order_id: str, parcels: list[dict[str, Any]]) -> None:
        report, client = self.run.report, self.run.client
        if not order_id.isdigit():
            for parcel in parcels:
                report.add("shipments", f"{order_id}/{parcel.get('tracking_number')}", "rejected",
                           "the wemalo order's externalId is not a Billbee order id")
            return
        try:
            order = client.get_order(int(order_id))
        except NotFoundError:
            for parcel in parcels:
                report.add("shipments", f"{order_id}/{parcel.get('tracking_number')}", "rejected",
                           "order not found in Billbee (deleted?)")
            return
        on_order = {str(s.get("ShippingId")) for s in order.get("ShippingIds") or [] if s.get("ShippingId")}
        for parcel in parcels:
            tracking = str(parcel["tracking_number"])
            record_id = f"{order_id}/{tracking}"
            if parcel.get("untracked") or tracking.startswith(UNTRACKED_PREFIX):  # serial numbers: _mark_shipped
                report.add("shipments", record_id, "skipped", "handed over without a tracking number")
                continue
            if tracking in on_order:
                report.add("shipments", record_id, "unchanged")
                continue
            self._serial_numbers(int(order_id), order, parcel)  # before the shipment: a replay stops at the above
            try:
                self._add_shipment(int(order_id), parcel, tracking)
            except ClientError as exc:
                report.add("shipments", record_id, "rejected", str(exc))
                continue
            on_order.add(tracking)
            report.add("shipments", record_id, "written")
            report.counters["tracking_numbers_written"] += 1
        self._mark_shipped(order_id, order, parcels, on_order)

    def _add_shipment(self, order_id: int, parcel: dict[str, Any], tracking: str) -> None:
        """One tracking number with its provider/product/carrier. Refused while the route came from the state's
        shipping providers: once more with them read again (a provider product the merchant removed)."""
        for attempt in (1, 2):
            route = self.run.route(parcel.get("profile_name"), parcel.get("carrier"))
            if not route.matched:
                self.run.note_unmatched_profile(parcel.get("profile_name"))
            body: dict[str, Any] = {"ShippingId": tracking, "ShipmentType": 0,
                                    "Comment": f"wemalo parcel {parcel.get('parcel_id') or tracking}"}
            for key, value in (("ShippingProviderId", route.provider_id),
                               ("ShippingProviderProductId", route.product_id), ("CarrierId", route.carrier_id)):
                if value is not None:
                    body[key] = value
            try:
                self.run.client.add_shipment(order_id, body)
            except AmbiguousWriteError:
                # The answer was lost: look before writing again, a shipment must not appear twice.
                refreshed = self.run.client.get_order(order_id)
                if tracking not in {str(s.get("ShippingId")) for s in refreshed.get("ShippingIds") or []}:
                    raise
            except ClientError:
                if attempt == 1 and "ShippingProviderProductId" in body and self.run.reread_providers():
                    continue
                raise
            return

    def _serial_numbers(self, order_id: int, order: dict[str, Any], parcel: dict[str, Any]) -> None:
        """The serial numbers wemalo booked for the parcel, as one order message (Billbee's API has no documented
        write for an order item's SerialNumber; docs/api-contract.md, "Billbee: order messages"). A message the
        order's Comments already list is not written again (a run killed between it and the shipment)."""
        text = serial_numbers_text(parcel)
        if not text or any(isinstance(c, dict) and str(c.get("Text") or "").strip() == text
                           for c in order.get("Comments") or []):
            return
        self.run.client.add_message(order_id, text)
        self.run.report.counters["serial_number_messages_written"] += 1

    def _mark_shipped(self, order_id: str, order: dict[str, Any], parcels: list[dict[str, Any]],
                      on_order: set[str]) -> None:
        report = self.run.report
        if not any(p.get("order_completely_shipped") for p in parcels):
            return  # a partial shipment: tracking numbers added, state left alone
        if order.get("State") == OrderState.SHIPPED:
            # Shipped by hand or by a run killed before its stock write: the stock comparison still looks at its SKUs
            self._left_unfulfilled(order)
            return
        if order.get("State") in NOT_SHIPPABLE_STATES:
            report.add("orders", order_id, "rejected", f"shipped by wemalo but state {order.get('State')} in Billbee")
            return
        if order.get("State") not in BEFORE_SHIPPING_STATES:
            report.add("orders", order_id, "unchanged",
                       f"shipped by wemalo; Billbee state {order.get('State')} (set later) is kept")
            return
        expected = {str(t) for p in parcels for t in p.get("order_tracking_numbers") or []
                    if not str(t).startswith(UNTRACKED_PREFIX)}
        missing = sorted(expected - on_order)
        if missing:
            report.add("orders", order_id, "failed", f"not set to shipped yet: parcels {missing} are not on the order")
            self.run.held.hold("shipments", "handed_over_at", min(p["handed_over_at"] for p in parcels))
            return
        untracked = [p for p in parcels if p.get("untracked")]
        if untracked:  # before the state: a crash between the two repeats this note at most once
            profiles = sorted({str(p.get("profile_name") or p.get("carrier") or "?") for p in untracked})
            serials = " ".join(filter(None, (serial_numbers_text(p) for p in untracked)))
            self.run.client.add_message(int(order_id), "wemalo: Paket ohne Sendungsnummer an den Versender "
                                                       f"übergeben ({', '.join(profiles)})"
                                                       + (f". {serials}" if serials else ""))
        self.run.client.set_order_state(int(order_id), OrderState.SHIPPED)
        self._left_unfulfilled(order)
        report.add("orders", order_id, "updated", "state set to 4 (Versendet)")
        report.counters["orders_marked_shipped"] += 1

    def _left_unfulfilled(self, order: dict[str, Any]) -> None:
        """The order's SKUs left Billbee's unfulfilled amount, which the last stock write subtracted: compare them."""
        skus, _ = held_quantities([order])  # casefolded, bundle lines left out (wemalo has their components)
        self.run.stock_left_unfulfilled.update(skus)


def serial_numbers_text(parcel: dict[str, Any]) -> str:
    """`wemalo Paket 0034…: Seriennummern SKU-1: A1, A2; SKU-2: B7`, or "" when the parcel has none."""
    parts = [f"{item.get('sku') or '?'}: {', '.join(str(n) for n in item['serial_numbers'])}"
             for item in parcel.get("items") or [] if isinstance(item, dict) and item.get("serial_numbers")]
    if not parts:
        return ""
    tracking = str(parcel.get("tracking_number") or "")
    name = "ohne Sendungsnummer" if parcel.get("untracked") or tracking.startswith(UNTRACKED_PREFIX) else tracking
    return f"wemalo Paket {name}: Seriennummern {'; '.join(parts)}"


class StockLevelsSink(RuleCheckedSink, BatchSink):
    """Stock per SKU into the configured Billbee storage location, for the whole run at once (see stock.py).

    Records are collected over the run and written in `clean_up`, so that the circuit breaker judges the run's
    whole write: a run that would zero a large share of the SKUs (or drop total stock by a large share) writes
    no stock at all, says why, holds the stock bookmark back and ends the target non-zero until an operator
    confirms (setting `stock_breaker_confirm`)."""

    max_size = 10_000

    def __init__(self, target: Target, stream_name: str, schema: dict[str, Any],
                 key_properties: Sequence[str] | None) -> None:
        super().__init__(target, stream_name, schema, key_properties)
        self.run = run_of(target, BillbeeRun)
        self._latest: dict[str, dict[str, Any]] = {}

    @override
    def process_batch(self, context: dict[str, Any]) -> None:
        for record in context.get("records", []):
            if record.get("sku"):
                self._latest[str(record["sku"])] = record
        self.run.stock_pending = len(self._latest)

    @override
    def clean_up(self) -> None:
        records, self._latest = self._latest, {}
        self.run.stock_pending = 0  # from here on every STATE waits for the write (wait_for_writes)
        if records:
            self.run.stock_pending = len(records)  # the announcement holds the stock bookmark back, as before
            self.run.announce_stock_write(sorted(records))
            self.run.stock_pending = 0
            # After the shipments' writes (the same worker, FIFO): the orders wemalo holds are read after the
            # shipped ones became "Versendet", so held quantities and Billbee's unfulfilled amount agree.
            self.run.submit("shipments", self._process, list(records.values()))
        super().clean_up()

    def _process(self, records: list[dict[str, Any]]) -> None:
        try:
            self._plan_and_write(records)
        finally:
            self.run.stock_in_flight = set()  # written, refused or failed: the state now says which

    def _plan_and_write(self, records: list[dict[str, Any]]) -> None:
        report = self.run.report
        usable = []
        for record in records:
            if isinstance(record.get("available"), bool) or not isinstance(record.get("available"), int):
                report.add("stock_levels", record["sku"], "rejected",
                           f"no stock figure from wemalo: {record.get('problem') or 'available is missing'}")
                continue
            usable.append(record)
        for record in usable:
            record["semantics"] = record.get("semantics") or "available"  # what the tap's figure has always been
        held = self.run.held_in_warehouse() if any(r["semantics"] == "available" for r in usable) else {}
        planned = {r["sku"]: new_quantity(int(r["available"]), r["semantics"], held, r["sku"]) for r in usable}
        known = self.run.stock_known or {}
        verdict = breaker_verdict(planned, known, self.run.breaker_limits)
        if verdict and not self.config.get("stock_breaker_confirm"):
            self.run.refuse_stock_write(verdict, records)
            return
        if verdict:
            report.counters["stock_breaker_confirmed"] += 1
            self.logger.warning("Stock circuit breaker confirmed by stock_breaker_confirm: %s", verdict)
        stock_id = self.run.storage_location_id
        items = []
        # A value equal to the last written (`known`) is not blindly taken as "Billbee has it": Billbee's stock
        # moves between runs in ways the documents leave open (a cancellation may or may not give stock back;
        # docs/api-contract.md, "Billbee: stock"), and `known` can be stale (an answer lost, a run killed before
        # its STATE). Such values are read from Billbee and written unless the write would change nothing: all of
        # them every `stock_verify_hours`, in between those something may have moved (verify.py).
        equal = [sku for sku, q in planned.items() if known.get(sku) == q]
        check = set(self.run.skus_to_check(equal))
        current = self._billbee_entries(sorted(check), stock_id, len(known))
        for sku, quantity in planned.items():
            if known.get(sku) == quantity and sku not in check:
                report.add("stock_levels", sku, "unchanged", "equal to the last written")
                continue
            if billbee_has(current.get(sku.casefold()), quantity):
                report.add("stock_levels", sku, "unchanged")
                self.run.stock_settled.add(sku)
                continue
            item: dict[str, Any] = {"Sku": sku, "NewQuantity": quantity, "AutosubtractReservedAmount": True,
                                    "Reason": "wemalo stock sync"}
            if stock_id:  # 0 = Billbee's standard storage, addressed by leaving StockId out
                item["StockId"] = stock_id
            items.append(item)
        for start in range(0, len(items), STOCK_CHUNK):
            self._write(items[start:start + STOCK_CHUNK])

    def _billbee_entries(self, skus: list[str], stock_id: int, catalogue: int) -> dict[str, Any]:
        """SKU (casefolded) -> the article's entry of the written stock: one article read per SKU when that is
        fewer calls than the catalogue's pages (`catalogue`: SKUs the state knows), else Billbee's article pages
        until every SKU asked for was seen. A read failure is no reason to skip anything: what was not read is
        written."""
        wanted = casefolded(skus)
        found: dict[str, Any] = {}
        if not wanted:
            return found
        try:
            location = stock_id or self.run.standard_stock_id
            if len(skus) <= max(1, math.ceil(catalogue / PRODUCT_PAGE)):
                for sku in skus:
                    try:
                        found[sku.casefold()] = stock_entry(self.run.client.get_product_by_sku(sku), location)
                    except NotFoundError:
                        continue
                return found
            for article in self.run.client.iter_products(prefetch=False):
                sku = str(article.get("SKU") or "").casefold()
                if sku in wanted and sku not in found:
                    found[sku] = stock_entry(article, location)
                    if len(found) == len(wanted):
                        break
        except ApiError as exc:
            self.logger.warning("Billbee's stock could not be read (%s): the values are written", exc)
        return found

    def _write(self, items: list[dict[str, Any]]) -> None:
        report = self.run.report
        try:
            results = self.run.client.update_stock_multiple(items)
        except ApiError as exc:
            for item in items:
                report.add("stock_levels", item["Sku"], "failed", str(exc))
                self.run.stock_unsure.add(item["Sku"])  # the answer may be lost after Billbee took the value
            return
        for item, result in zip(items, results + [{}] * (len(items) - len(results)), strict=True):
            if result.get("ErrorCode") or result.get("ErrorMessage"):
                report.add("stock_levels", item["Sku"], "rejected", str(result.get("ErrorMessage") or "refused"))
            else:
                report.add("stock_levels", item["Sku"], "written")
                report.counters["stock_values_written"] += 1
                self.run.stock_written[item["Sku"]] = item["NewQuantity"]
                self.run.stock_settled.add(item["Sku"])
