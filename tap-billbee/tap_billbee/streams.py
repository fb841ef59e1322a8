"""The tap's streams. HTTP is the shared Billbee client's job (paging, limits, retries), not RESTStream's,
because target-billbee uses the same client for its writes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from singer_sdk import Stream
from singer_sdk.helpers.types import Context

from billbee_api import BillbeeClient, has_tag
from tap_billbee import schemas
from tap_billbee.acks import AckWriter
from tap_billbee.timefmt import normalise_order_times, to_billbee_query

if TYPE_CHECKING:
    from tap_billbee.tap import TapBillbee

class BillbeeStream(Stream):
    @property
    def tap(self) -> TapBillbee:
        return self._tap  # type: ignore[return-value]

    @property
    def client(self) -> BillbeeClient:
        return self.tap.client


class ProductsStream(BillbeeStream):
    """All articles, bundles included (a full scan: Billbee has no modified-since filter for products)."""

    name = "products"
    primary_keys = ("Id",)
    schema = schemas.PRODUCT.to_dict()

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        index = self.tap.bundle_index
        for product in self.client.iter_products():
            index.add(product)
            yield product
        index.loaded = True


class OrdersStream(BillbeeStream):
    """Orders, incremental on LastModifiedAt (modifiedAtMin = bookmark - overlap).

    With `orders_tag` set (fulfilment mode) only orders in `order_state_ids` carrying the tag are emitted,
    minus those already received by wemalo or marked with the error tag, minus Billbee's cancellation credit
    orders; before querying, the acknowledgements from the last run are written to Billbee (acks.py).
    """

    name = "orders"
    primary_keys = ("BillBeeOrderId",)
    replication_key = "LastModifiedAt"
    is_sorted = False  # Billbee's sort order is undocumented
    schema = schemas.ORDER.to_dict()

    def _modified_after(self, context: Context | None) -> str | None:
        start = self.get_starting_timestamp(context)
        if start is None:
            return None
        overlap = timedelta(minutes=int(self.config.get("modified_overlap_minutes", 10)))
        return to_billbee_query(start - overlap, self.tap.zone)

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        tags = self.tap.connector_tags
        if tags is not None:
            counts = AckWriter(self.client, tags, self.logger).apply_all(self.stream_state)
            if counts:
                self.logger.info("Acknowledgements written to Billbee: %s", dict(counts))
        states = list(self.config.get("order_state_ids") or [])
        orders = self.client.iter_orders(
            state_ids=states or None,
            tags=[tags.orders_tag] if tags else None,
            modified_after=self._modified_after(context),
        )
        index = self.tap.bundle_index
        for order in orders:
            normalise_order_times(order, self.tap.zone)
            if tags is not None and not self._eligible(order):
                self._advance_bookmark(order, context)
                continue
            for item in order.get("OrderItems") or []:
                if index.is_bundle_line(item):
                    if not index.loaded:
                        self.logger.info("Bundle line found: reading the product catalogue once for BOMs")
                        index.load(self.client.iter_products())
                    item["BundleComponents"] = index.components(item)
            yield order

    def _eligible(self, order: dict[str, Any]) -> bool:
        tags = self.tap.connector_tags
        assert tags is not None
        order_tags = order.get("Tags") or []
        if order.get("IsCancelationFor"):
            return False  # a cancellation credit order is never a new order for the warehouse
        return not (has_tag(order_tags, tags.received) or has_tag(order_tags, tags.error))

    def _advance_bookmark(self, order: dict[str, Any], context: Context | None) -> None:
        """Skipped orders still move the bookmark, or a quiet week would be re-read every hour."""
        self._increment_stream_state(order, context=context)


class StocksStream(BillbeeStream):
    """Billbee's stock locations (warehouses); their ids are what target-billbee's storage_location_id means."""

    name = "stocks"
    primary_keys = ("Id",)
    schema = schemas.STOCK_LOCATION.to_dict()

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        yield from self.client.stocks()


class ShippingProvidersStream(BillbeeStream):
    name = "shipping_providers"
    primary_keys = ("id",)
    schema = schemas.SHIPPING_PROVIDER.to_dict()

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        yield from self.client.shipping_providers()


