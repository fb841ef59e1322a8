"""Streams of tap-wemalo-shipments.

`shipments` reads the time window of sent packages (`goodsOrder/sentPackages`, one row per product line per
parcel) since the bookmark minus an overlap, groups the rows into parcels, and completes each shipped order
with its parcels (`goodsOrder/packages`: parcel ids, profile names) and status (`getStatus`: SHIPPED means
completely shipped). The acknowledged queue (`packages/sent` + PUT per booking) was not chosen: it costs one
write per booking row and would make the tap write to wemalo; a window with an overlap is read-only and
replay-safe because target-billbee never adds a tracking number twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from singer_sdk import Stream, Tap
from singer_sdk import typing as th
from singer_sdk.helpers.types import Context
from typing_extensions import override

from billbee_wemalo.http import ProgressLog
from billbee_wemalo.protocol import UNTRACKED_PREFIX
from billbee_wemalo.sdk.hooks import HeldBookmarkStream
from billbee_wemalo.wemalo import WemaloClient, parse_wemalo_datetime
from tap_wemalo_shipments.run import ShipmentsRun
from tap_wemalo_shipments.stock import sellable_quantity

DEFAULT_LOOKBACK = timedelta(days=7)
RESTRICTED_LOOKBACK = timedelta(days=30)  # a run for named orders: their parcels of the last 30 days


class WemaloStream(Stream):
    """A stream of this tap: its services come from the run context (tap_wemalo_shipments.run)."""

    def __init__(self, tap: Tap, run: ShipmentsRun) -> None:
        super().__init__(tap)
        self.run = run

    @property
    def client(self) -> WemaloClient:
        return self.run.client

    def _window_start(self, context: Context | None, overlap: timedelta) -> datetime:
        start = self.get_starting_timestamp(context)
        if start is None:
            return datetime.now(UTC) - DEFAULT_LOOKBACK
        return start - overlap


class ShipmentsStream(HeldBookmarkStream, WemaloStream):
    name = "shipments"
    primary_keys = ("order_external_id", "tracking_number")
    replication_key = "handed_over_at"
    is_sorted = False
    schema = th.PropertiesList(
        th.Property("order_external_id", th.StringType, required=True, description="the Billbee order id"),
        th.Property("wemalo_order_id", th.IntegerType),
        th.Property("order_number", th.StringType),
        th.Property("parcel_id", th.IntegerType, description="wemalo package id"),
        th.Property("tracking_number", th.StringType, required=True,
                    description="the carrier's tracking number; for a parcel handed over without one (letters, "
                                "Internetmarke profiles) `untracked:<order id>`"),
        th.Property("untracked", th.BooleanType, description="handed over without a tracking number"),
        th.Property("carrier", th.StringType, description="wemalo dispatcher (carrier) name"),
        th.Property("profile_name", th.StringType, description="wemalo dispatcher profile / product name"),
        th.Property("items", th.ArrayType(th.ObjectType(
            th.Property("sku", th.StringType), th.Property("quantity", th.IntegerType),
            th.Property("serial_numbers", th.ArrayType(th.StringType)),
        ))),
        th.Property("handed_over_at", th.DateTimeType, required=True),
        th.Property("order_status", th.StringType),
        th.Property("order_completely_shipped", th.BooleanType),
        th.Property("order_tracking_numbers", th.ArrayType(th.StringType),
                    description="every handed-over parcel's tracking number of the order, this one included"),
    ).to_dict()

    def _aware(self, value: str) -> datetime:
        return parse_wemalo_datetime(value).replace(tzinfo=self.run.zone)

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        overlap = timedelta(minutes=int(self.config.get("overlap_minutes", 60)))
        date_from = self._window_start(context, overlap).astimezone(self.run.zone).replace(tzinfo=None)
        date_to = datetime.now(self.run.zone).replace(tzinfo=None) + timedelta(minutes=1)
        parcels: dict[tuple[str, str], dict[str, Any]] = {}
        for row in self._sent_rows(date_from, date_to):
            order_id = str(row.get("externalGoodsOrderId") or "")
            tracking = str(row.get("trackingNumber") or "").strip()
            if not order_id:
                self.logger.warning("Sent booking %s without the order's externalId skipped", row.get("historyId"))
                continue
            # Handed over is handed over: a parcel without a tracking number still ships the order.
            untracked = not tracking
            tracking = tracking or f"{UNTRACKED_PREFIX}{order_id}"
            parcel = parcels.setdefault((order_id, tracking), {
                "order_external_id": order_id,
                "untracked": untracked,
                "wemalo_order_id": row.get("goodsOrderId"),
                "order_number": row.get("orderNumberCustomer"),
                "tracking_number": tracking,
                "carrier": row.get("dispatcherName"),
                "profile_name": row.get("dispatcherProduct"),
                "handed_over_at": self._aware(row.get("handoverDate") or row["bookingDate"]).isoformat(),
                "_items": defaultdict(lambda: {"quantity": 0, "serial_numbers": []}),
            })
            item = parcel["_items"][row.get("sku") or ""]
            item["quantity"] += int(row.get("count") or 0)
            if row.get("serialNumber"):
                item["serial_numbers"].append(row["serialNumber"])
        by_order: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for parcel in parcels.values():
            by_order[parcel["order_external_id"]].append(parcel)
        progress = ProgressLog(self.name, self.client, self.logger)
        progress.total = sum(len(p) for p in by_order.values())  # parcels; each order costs two wemalo reads
        for order_id, order_parcels in by_order.items():
            for record in self._complete(order_id, order_parcels):
                progress.record()
                yield record
        progress.emit(final=True)

    def _sent_rows(self, date_from: datetime, date_to: datetime) -> Iterable[dict[str, Any]]:
        """The window's sent bookings; in a run restricted to `order_ids` (webhooks), those orders' bookings of
        the last 30 days, and the bookmark held: the window in between has not been read."""
        if not self.run.order_ids:
            yield from self.client.iter_sent_bookings(date_from, date_to)
            return
        self.hold_bookmark = True
        since = (datetime.now(self.run.zone) - RESTRICTED_LOOKBACK).replace(tzinfo=None)
        for order_id in self.run.order_ids:
            yield from self.client.iter_sent_bookings(since, date_to, external_id=order_id)

    def _complete(self, order_id: str, parcels: list[dict[str, Any]]) -> Iterable[dict[str, Any]]:
        status = self.client.order_status(order_id) or {}
        packages = self.client.order_packages(order_id)
        ids = {str(p.get("trackingNumber")): p for p in packages if p.get("trackingNumber")}
        handed_over = sorted({str(p["trackingNumber"]) for p in packages
                              if p.get("trackingNumber") and p.get("isHandedOver", True)}
                             | {p["tracking_number"] for p in parcels})
        for parcel in parcels:
            package = ids.get(parcel["tracking_number"]) or {}
            items = parcel.pop("_items")
            yield {
                **parcel,
                "parcel_id": package.get("id"),
                "profile_name": package.get("profileName") or parcel["profile_name"],
                "items": [{"sku": sku, **values} for sku, values in items.items()],
                "order_status": status.get("statusName"),
                "order_completely_shipped": status.get("statusName") == "SHIPPED",
                "order_tracking_numbers": handed_over,
            }


class StockLevelsStream(WemaloStream):
    """Sellable stock per SKU from `product/availableStock` (see stock.py for which figure that is).

    `semantics` says what the figure means (setting `stock_semantics`): "available" = net of wemalo's open
    orders (the route's name; wemalo reports negative stock when open orders exceed it), "on_hand" = physical
    stock, reserved included. An article without a usable figure is still emitted, with `available` null and
    the reason in `problem`, so that target-billbee reports it instead of it vanishing."""

    name = "stock_levels"
    primary_keys = ("sku",)
    replication_key = "observed_at"
    is_sorted = False
    schema = th.PropertiesList(
        th.Property("sku", th.StringType, required=True),
        th.Property("ean", th.StringType),
        th.Property("external_id", th.StringType, description="wemalo externalId (the Billbee article id)"),
        th.Property("available", th.IntegerType, description="the sellable quantity; negative when oversold; "
                                                             "null when wemalo's answer gave no usable figure"),
        th.Property("semantics", th.StringType, description="available (net of wemalo's open orders) | on_hand"),
        th.Property("source", th.StringType, description="attributes | virtualQuantity"),
        th.Property("problem", th.StringType, description="why `available` is null"),
        th.Property("observed_at", th.DateTimeType, required=True,
                    description="when the tap read the value (wemalo's fromDate has hour granularity)"),
    ).to_dict()

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        if self.run.order_ids:
            self.logger.info("Stock: skipped (a run restricted to orders %s)", list(self.run.order_ids))
            return
        observed = datetime.now(UTC)
        start = self.get_starting_timestamp(context)
        since = None if start is None else (start - timedelta(hours=1)).astimezone(self.run.zone).replace(tzinfo=None)
        named = {str(a) for a in self.config.get("sellable_attributes") or []}
        semantics = self.config.get("stock_semantics") or "available"
        progress = ProgressLog(self.name, self.client, self.logger)
        for article in self.client.available_stock(since):
            progress.record()
            if not isinstance(article, dict) or not article.get("sku"):
                continue
            figure = sellable_quantity(article, named)
            yield {
                "sku": str(article["sku"]),
                "ean": None if article.get("ean") is None else str(article["ean"]),
                "external_id": None if article.get("externalId") is None else str(article["externalId"]),
                "available": figure.quantity,
                "semantics": semantics,
                "source": figure.source or None,
                "problem": figure.problem or None,
                "observed_at": observed.isoformat(),
            }
        progress.emit(final=True)
