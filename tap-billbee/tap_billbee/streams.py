"""The tap's streams. HTTP is the shared Billbee client's job (paging, limits, retries), not RESTStream's,
because target-billbee uses the same client for its writes."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from singer_sdk import Stream, Tap
from singer_sdk.helpers.types import Context
from typing_extensions import override

from billbee_wemalo.billbee import CANCELLED_STATES, BillbeeClient, ConnectorTags, has_tag
from billbee_wemalo.http import NotFoundError, ProgressLog
from billbee_wemalo.sdk.hooks import HeldBookmarkStream, advance_bookmark
from tap_billbee import schemas
from tap_billbee.acks import ERROR_SEEN_KEY, STUCK_SEEN_KEY, AckPhase, AckWriter
from tap_billbee.hints import selected, skip_read
from tap_billbee.run import TapRun
from tap_billbee.timefmt import normalise_order_times, to_billbee_query

FULL_CHECK_KEY = "last_full_check"  # when the eligibility check last ran (UTC)
CANCEL_CHECK_KEY = "last_cancel_check"  # when the cancellation query last ran (UTC)
FULL_SCAN_KEY = "last_full_scan"  # products: when the last full catalogue scan started (UTC)
MAX_ID_KEY = "max_id"  # products: the highest article Id read so far
BUNDLES_KEY = "bundles"  # products: the bundle index between full scans (BundleIndex.bundle_state)
TAG_BUMP_KEY = "tag_writes_bump_modified"  # what the tap saw: {"value": bool, "observed_at": ISO UTC, "orders": n}
CLOCK_MARGIN = timedelta(seconds=60)  # Billbee's clock may be behind ours
# A run scheduled every hour starts a little earlier or later each time: a full product scan due "every 4 hours"
# must not slip to the 5th hour because the run 4 hours later started a minute early.
SCAN_SLACK_HOURS = 10 / 60

def interval_due(last: str | None, hours: float) -> bool:
    """Is a periodic read due: never done (`last`, ISO UTC), every run (`hours` 0), or `hours` passed since."""
    return not hours or not last or datetime.now(UTC) - datetime.fromisoformat(last) >= timedelta(hours=hours)


class BillbeeStream(Stream):
    """A stream of this tap: its services come from the run context (tap_billbee.run), not from the tap."""

    def __init__(self, tap: Tap, run: TapRun) -> None:
        super().__init__(tap)
        self.run = run

    @property
    def client(self) -> BillbeeClient:
        return self.run.client


class ProductsStream(BillbeeStream):
    """All articles, bundles included (a full scan: Billbee has no modified-since filter for products).

    With `products_full_scan_hours` > 0 the full scan runs only that often; the runs in between read only the
    articles created since (an Id above the highest one seen, `minimumBillBeeArticleId`: one call when there
    are none), so a new article reaches wemalo within the hour and changed ones with the next full scan.
    """

    name = "products"
    primary_keys = ("Id",)
    schema = schemas.PRODUCT.to_dict()

    @property
    def _scan_hours(self) -> float:
        return float(self.config.get("products_full_scan_hours", 0) or 0)

    def _full_scan_due(self) -> bool:
        hours = self._scan_hours
        return self.stream_state.get(MAX_ID_KEY) is None or interval_due(
            self.stream_state.get(FULL_SCAN_KEY), max(0.0, hours - SCAN_SLACK_HOURS) if hours else 0)

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        if self.run.order_ids:
            self.logger.info("Products: skipped (a run restricted to orders %s)", list(self.run.order_ids))
            return
        index = self.run.bundles
        progress = ProgressLog(self.name, self.client, self.logger)
        full = self._full_scan_due()
        started = datetime.now(UTC).isoformat()
        highest = self.stream_state.get(MAX_ID_KEY)
        min_id = None if full or highest is None else int(highest) + 1  # not full: highest is known
        if not full:
            self.logger.info("Products: only articles created since the last full scan (Id >= %s)", min_id)
            index.restore(self.stream_state.get(BUNDLES_KEY) or {})
        for product in self.client.iter_products(on_page=progress.page, min_id=min_id):
            index.add(product)
            progress.record()
            self.run.records_emitted[self.name] += 1
            if isinstance(product.get("Id"), int):
                highest = max(highest or 0, product["Id"])
            yield product
        # The bundles are known after a full scan, or from the last one's state (their changes wait for the next).
        index.loaded = full or BUNDLES_KEY in self.stream_state
        if highest is not None:
            self.stream_state[MAX_ID_KEY] = highest
        if self._scan_hours:
            self.stream_state[BUNDLES_KEY] = index.bundle_state()
        else:
            self.stream_state.pop(BUNDLES_KEY, None)
        if full:
            self.stream_state[FULL_SCAN_KEY] = started
        progress.emit(final=True)


class OrdersStream(HeldBookmarkStream, BillbeeStream):
    """Orders, incremental on LastModifiedAt (modifiedAtMin = bookmark - overlap).

    Fulfilment mode (`orders_tag` set), per run:

    1. the acknowledgements of the last run are written to Billbee (acks.py);
    2. the incremental query: orders in `order_state_ids` or cancelled/deleted (8/6), with the orders tag,
       modified since the bookmark;
    3. the eligibility check (every `full_check_hours`; 0 = every run): all orders in `order_state_ids` with
       the orders tag, whatever their LastModifiedAt. Whether Billbee bumps LastModifiedAt when only tags
       change is undocumented; without it, a tag set by a Billbee rule, or the re-send procedure (remove
       `order_received_by_<tag>`, set the tag again), would be invisible to the incremental query.
       The tap finds out from its own tag writes (`_observe_tag_bump`): once an order it only tagged comes back
       with a LastModifiedAt moved past the write, tag changes reach the incremental query, and the check runs
       only every `bumped_full_check_hours` (default 24) as a safety net. One observation of the opposite
       switches this off for good (state key `tag_writes_bump_modified`).

    The acknowledgements are written while the products are read (`start_acknowledgements`, called by the
    tap): other endpoints, each with its own Billbee limit. The orders are read after they are written.

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
        return to_billbee_query(start - overlap, self.run.zone)

    _acks: AckPhase | None = None
    _tag_only: frozenset[int] = frozenset()  # orders whose only write in this run's acknowledgements was a tag
    _ack_started: datetime | None = None
    _bump_seen: list[bool]

    def start_acknowledgements(self) -> None:
        """Start writing the last run's acknowledgements in a thread (no-op without `orders_tag`, or if started)."""
        tags = self.run.tags
        if tags is not None and self._acks is None:
            writer = AckWriter(self.client, tags, self.logger, self.run.zone,
                               stuck_tag=(self.config.get("stuck_tag") or "").strip(), mirror=self.run.mirror)
            self._acks = AckPhase(writer, self.stream_state).start()

    def _observe_tag_bump(self, order: dict[str, Any], context: Context | None) -> None:
        """Did the tag write of this run move the order's LastModifiedAt? Only orders that got nothing but a tag
        count (a message moves it anyway). Moved = at or after the write (less a clock margin) and past the
        bookmark, i.e. past every value the last run saw (which holds even with a wrong billbee_timezone)."""
        if order.get("BillBeeOrderId") not in self._tag_only or not order.get("LastModifiedAt"):
            return
        modified = datetime.fromisoformat(order["LastModifiedAt"])
        bookmark = self.get_starting_timestamp(context)
        assert self._ack_started is not None
        self._bump_seen.append(modified >= self._ack_started - CLOCK_MARGIN
                               and (bookmark is None or modified > bookmark))

    def _record_tag_bump(self) -> None:
        if not self._bump_seen:
            return
        before = (self.stream_state.get(TAG_BUMP_KEY) or {}).get("value")
        value = all(self._bump_seen) and before is not False
        if before is not value:
            self.logger.info("Billbee %s LastModifiedAt when the tap writes tags (seen on %d orders): eligibility "
                             "check every %s", "moves" if value else "does not move", len(self._bump_seen),
                             "bumped_full_check_hours" if value else "full_check_hours")
        self.stream_state[TAG_BUMP_KEY] = {"value": value, "observed_at": datetime.now(UTC).isoformat(),
                                           "orders": len(self._bump_seen)}
        self._bump_seen = []

    def _full_check_due(self) -> bool:
        bumps = (self.stream_state.get(TAG_BUMP_KEY) or {}).get("value") is True
        if bumps:
            hours = float(self.config.get("bumped_full_check_hours", 24) or 0)
        else:
            hours = float(self.config.get("full_check_hours", 0) or 0)
        return interval_due(self.stream_state.get(FULL_CHECK_KEY), hours)

    def _candidates(self, context: Context | None) -> Iterator[dict[str, Any]]:
        if self.run.order_ids:
            yield from self._by_id()
            return
        tags = self.run.tags
        states = self.run.order_states()
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
        self._record_tag_bump()  # get_records observed each order before asking for the next
        if self._full_check_due():
            started = datetime.now(UTC).isoformat()
            for order in self.client.iter_orders(state_ids=states or None, tags=[tags.orders_tag]):
                if order["BillBeeOrderId"] not in seen:
                    seen.add(order["BillBeeOrderId"])
                    yield order
            self.stream_state[FULL_CHECK_KEY] = started
            self._record_tag_bump()
        yield from self._cancellations(tags, seen)

    def _by_id(self) -> Iterator[dict[str, Any]]:
        """A restricted run (setting `order_ids`): each order read by id, kept when one of the normal queries
        would have returned it (the orders tag and a configured or cancelled state; a cancelled order that wemalo
        received), so an event never sends what the hourly run would not. The bookmarks stay where they are:
        the normal queries have not read what lies between them and now."""
        self.hold_bookmark = True
        tags = self.run.tags
        states = set(self.config.get("order_state_ids") or [])
        hints = self.config.get("order_hints") or {}
        stuck = self.stream_state.get(STUCK_SEEN_KEY) or {}
        for order_id in self.run.order_ids:
            if skip_read(hints.get(str(order_id)), tags, states, str(order_id) in stuck):
                self.logger.info("Order %s: its webhook shows nothing to do (wemalo has it, or outside this tap's "
                                 "selection); not read", order_id)
                self.run.hint_skips += 1
                continue
            try:
                order = self.client.get_order(order_id)  # Billbee's GET /orders/{id} throttle: the shared client
            except NotFoundError:
                self.logger.info("Order %s: not found in Billbee (deleted?); skipped", order_id)
                continue
            state = order.get("State")
            wanted = (not states or state in states) if tags is None else selected(state, order.get("Tags"), tags,
                                                                                    states)
            if wanted:
                yield order
            else:
                self.logger.info("Order %s: state %s or tags outside this tap's selection; skipped", order_id, state)

    def _cancellations(self, tags: ConnectorTags, seen: set[int]) -> Iterator[dict[str, Any]]:
        """Cancelled/deleted orders wemalo received, found by creation date (the last `cancel_check_days`):
        whether a state change moves LastModifiedAt, and in which zone Billbee reads modifiedAtMin, is not
        documented (docs/api-contract.md, "Billbee: cancellations"). Every run by default: a cancellation
        that waits for the next daily check may be shipped meanwhile."""
        days = int(self.config.get("cancel_check_days", 30) or 0)
        hours = float(self.config.get("cancel_check_hours", 0) or 0)
        if not days or not interval_due(self.stream_state.get(CANCEL_CHECK_KEY), hours):
            return
        started = datetime.now(UTC).isoformat()
        since = to_billbee_query(datetime.now(UTC) - timedelta(days=days), self.run.zone)
        for order in self.client.iter_orders(state_ids=sorted(CANCELLED_STATES), tags=[tags.received],
                                             created_after=since):
            if order["BillBeeOrderId"] not in seen and not has_tag(order.get("Tags"), tags.cancelled):
                seen.add(order["BillBeeOrderId"])
                yield order
        self.stream_state[CANCEL_CHECK_KEY] = started

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        tags = self.run.tags
        self._bump_seen = []
        if tags is not None:
            self.start_acknowledgements()  # no-op when the tap started them with the products
            acks, self._acks = self._acks, None
            assert acks is not None
            counts = acks.join(self.stream_state)
            self._tag_only, self._ack_started = frozenset(acks.writer.tag_only), acks.started
            if counts:
                self.logger.info("Acknowledgements written to Billbee: %s", dict(counts))
                self.run.ack_counts.update(counts)
        self._progress = ProgressLog(self.name, self.client, self.logger)
        for order in self._candidates(context):
            self._progress.record()
            normalise_order_times(order, self.run.zone)
            self._observe_tag_bump(order, context)
            if tags is not None and not self._eligible(order, tags):
                self._advance_bookmark(order, context)
                continue
            attach_bundle_components(order, self.run, self.logger)
            self.run.records_emitted[self.name] += 1
            yield order
        self._progress.emit(final=True)

    def _eligible(self, order: dict[str, Any], tags: ConnectorTags) -> bool:
        order_tags = order.get("Tags") or []
        if order.get("IsCancelationFor"):
            return False  # a cancellation credit order is never a new order for the warehouse
        if order.get("State") in CANCELLED_STATES:
            # Cancelled in wemalo once. Whether wemalo has the order is for the target to ask wemalo: the received
            # tag can be missing although it has (acknowledgement not written yet, a re-send in progress). A
            # cancellation wemalo refused (error tag) is asked again only once the merchant changed the order.
            if has_tag(order_tags, tags.cancelled):
                return False
            return not has_tag(order_tags, tags.error) or self._changed_since_rejection(order)
        if has_tag(order_tags, tags.received):
            return self._changed_since_stuck(order)
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

    def _changed_since_stuck(self, order: dict[str, Any]) -> bool:
        """An order wemalo holds for its address is sent again (its address, as a re-send) once the merchant
        changed it after the stuck flag was written: no manual re-tag. Once per change."""
        seen = self.stream_state.get(STUCK_SEEN_KEY) or {}
        key = str(order["BillBeeOrderId"])
        modified, flagged = order.get("LastModifiedAt"), seen.get(key)
        if not modified or not flagged or datetime.fromisoformat(modified) <= datetime.fromisoformat(flagged):
            return False
        seen[key] = modified
        return True

    def _advance_bookmark(self, order: dict[str, Any], context: Context | None) -> None:
        """Skipped orders still move the bookmark, or a quiet week would be re-read every hour."""
        advance_bookmark(self, order, context)


def attach_bundle_components(order: dict[str, Any], run: TapRun, logger: logging.Logger) -> None:
    """Each bundle line of the order gets its components (`BundleComponents`) from the catalogue."""
    index = run.bundles
    for item in order.get("OrderItems") or []:
        if index.is_bundle_line(item):
            if not index.loaded:
                logger.info("Bundle line found: reading the product catalogue once for BOMs")
                index.load(run.client.iter_products())
            item["BundleComponents"] = index.components(item)


class StocksStream(BillbeeStream):
    """Billbee's stock locations (warehouses); their ids are what target-billbee's storage_location_id means."""

    name = "stocks"
    primary_keys = ("Id",)
    schema = schemas.STOCK_LOCATION.to_dict()

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        yield from self.client.stocks()


class ShippingProvidersStream(BillbeeStream):
    name = "shipping_providers"
    primary_keys = ("id",)
    schema = schemas.SHIPPING_PROVIDER.to_dict()

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        yield from self.client.shipping_providers()


