"""The tap's streams. HTTP is the shared Billbee client's job (paging, limits, retries), not RESTStream's,
because target-billbee uses the same client for its writes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from singer_sdk import Stream
from singer_sdk.helpers.types import Context

from billbee_api import BillbeeClient, ConnectorTags, OrderState, has_tag
from connector_http import ProgressLog
from tap_billbee import schemas
from tap_billbee.acks import ERROR_SEEN_KEY, AckWriter
from tap_billbee.timefmt import normalise_order_times, to_billbee_query

if TYPE_CHECKING:
    from tap_billbee.tap import TapBillbee

CANCELLED_STATES = {OrderState.DELETED, OrderState.CANCELED}
FULL_CHECK_KEY = "last_full_check"  # when the eligibility check last ran (UTC)

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
        progress = ProgressLog(self.name, self.client, self.logger)
        for product in self.client.iter_products(on_page=progress.page):
            index.add(product)
            progress.record()
            self.tap.records_emitted[self.name] += 1
            yield product
        index.loaded = True
        progress.emit(final=True)


class OrdersStream(BillbeeStream):
    """Orders, incremental on LastModifiedAt (modifiedAtMin = bookmark - overlap).

    Fulfilment mode (`orders_tag` set), per run:

    1. the acknowledgements of the last run are written to Billbee (acks.py);
    2. the incremental query: orders in `order_state_ids` or cancelled/deleted (8/6), with the orders tag,
       modified since the bookmark;
    3. the eligibility check (every `full_check_hours`; 0 = every run): all orders in `order_state_ids` with
       the orders tag, whatever their LastModifiedAt. Whether Billbee bumps LastModifiedAt when only tags
       change is undocumented; without it, a tag set by a Billbee rule, or the re-send procedure (remove
       `order_received_by_<tag>`, set the tag again), would be invisible to the incremental query.

    Emitted: orders without the received tag (and, once rejected, only after the merchant changed them or
    removed the error tag), and orders cancelled or deleted since, until wemalo confirmed the cancellation
    (the target asks wemalo whether it has the order); never Billbee's cancellation credit orders.
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

    def _full_check_due(self) -> bool:
        hours = float(self.config.get("full_check_hours", 0) or 0)
        last = self.stream_state.get(FULL_CHECK_KEY)
        return not last or datetime.now(UTC) - datetime.fromisoformat(last) >= timedelta(hours=hours)

    def _candidates(self, context: Context | None) -> Iterator[dict[str, Any]]:
        tags = self.tap.connector_tags
        states = list(self.config.get("order_state_ids") or [])
        if tags is None:  # plain ELT: everything modified since the bookmark
            yield from self.client.iter_orders(state_ids=states or None, on_page=self._progress.page,
                                               modified_after=self._modified_after(context))
            return
        seen: set[int] = set()
        incremental = self.client.iter_orders(
            state_ids=sorted(set(states) | CANCELLED_STATES) if states else None,
            tags=[tags.orders_tag], modified_after=self._modified_after(context), on_page=self._progress.page)
        for order in incremental:
            seen.add(order["BillBeeOrderId"])
            yield order
        if self._full_check_due():
            started = datetime.now(UTC).isoformat()
            for order in self.client.iter_orders(state_ids=states or None, tags=[tags.orders_tag]):
                if order["BillBeeOrderId"] not in seen:
                    seen.add(order["BillBeeOrderId"])
                    yield order
            self.stream_state[FULL_CHECK_KEY] = started

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        tags = self.tap.connector_tags
        if tags is not None:
            counts = AckWriter(self.client, tags, self.logger, self.tap.zone).apply_all(self.stream_state)
            if counts:
                self.logger.info("Acknowledgements written to Billbee: %s", dict(counts))
                self.tap.ack_counts.update(counts)
        index = self.tap.bundle_index
        self._progress = ProgressLog(self.name, self.client, self.logger)
        for order in self._candidates(context):
            self._progress.record()
            normalise_order_times(order, self.tap.zone)
            if tags is not None and not self._eligible(order, tags):
                self._advance_bookmark(order, context)
                continue
            for item in order.get("OrderItems") or []:
                if index.is_bundle_line(item):
                    if not index.loaded:
                        self.logger.info("Bundle line found: reading the product catalogue once for BOMs")
                        index.load(self.client.iter_products())
                    item["BundleComponents"] = index.components(item)
            self.tap.records_emitted[self.name] += 1
            yield order
        self._progress.emit(final=True)

    def _eligible(self, order: dict[str, Any], tags: ConnectorTags) -> bool:
        order_tags = order.get("Tags") or []
        if order.get("IsCancelationFor"):
            return False  # a cancellation credit order is never a new order for the warehouse
        if order.get("State") in CANCELLED_STATES:
            # Cancelled in wemalo once. Whether wemalo has the order is for the target to ask wemalo: the received
            # tag can be missing although it has (acknowledgement not written yet, a re-send in progress).
            return not has_tag(order_tags, tags.cancelled)
        if has_tag(order_tags, tags.received):
            return False
        if has_tag(order_tags, tags.error):
            return self._changed_since_rejection(order)
        return True

    def _changed_since_rejection(self, order: dict[str, Any]) -> bool:
        """A rejected order is tried again once the merchant changed it (its LastModifiedAt moved past the
        value recorded right after the connector wrote the error tag), not every hour."""
        seen = self.stream_state.setdefault(ERROR_SEEN_KEY, {})
        key = str(order["BillBeeOrderId"])
        modified = order.get("LastModifiedAt")
        if key not in seen or not modified:
            seen[key] = modified  # rejected before this mechanism knew it: wait for the next change
            return False
        return datetime.fromisoformat(modified) > datetime.fromisoformat(seen[key])

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


