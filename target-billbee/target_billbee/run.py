"""What one target-billbee run shares between its sinks, built once by the target (sinks: `run_of`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from typing_extensions import override

from billbee_wemalo.billbee import CANCELLED_STATES, BillbeeClient, ConnectorTags
from billbee_wemalo.http import ApiError
from billbee_wemalo.protocol import PENDING_RETURN_ACKS_KEY
from billbee_wemalo.sdk.run import TargetRun
from billbee_wemalo.sdk.settings import billbee_client
from billbee_wemalo.state import hold_back_bookmark
from target_billbee.carriers import PROVIDERS_KEY, RECHECK_UNMATCHED, CarrierMatcher, KnownProviders, ShipmentRoute
from target_billbee.stock import BreakerLimits, held_quantities
from target_billbee.verify import StockMemory, casefolded, to_check, verify_due

STOCK_KEY = "written"  # bookmarks.stock_levels.written: SKU -> the quantity last written to Billbee
STOCK_LOCATION_KEY = "written_stock_id"  # ... into this Billbee stock id


class BillbeeRun(TargetRun):
    """The Billbee client and what it reads once per run (carriers, the standard stock), the worker threads of
    the two streams, and the stock values this run carries from the last one and writes for the next."""

    def __init__(self, plugin: str, config: Mapping[str, Any], logger: logging.Logger) -> None:
        super().__init__(plugin, config, logger)
        self.tags = ConnectorTags((config.get("orders_tag") or "wemalo").strip())
        self.storage_location_id = int(config.get("storage_location_id") or 0)
        self.returns_tag = (config.get("returns_tag") or "").strip() or self.tags.returned
        state = config.get("returns_state_id")
        self.returns_state_id = None if state is None else int(state)
        self.returns_written: dict[str, str] = {}  # wemalo return booking id -> Billbee order id, for marking
        self.comments_listed: bool | None = None  # does Billbee list API messages in Comments (asked once)
        self._unmatched_profiles: set[str] = set()
        # Billbee's shipping providers: as the state had them (carriers.py), and whether this run read them.
        self.providers_cache_hours = int(config.get("shipping_providers_cache_hours", 24) or 0)
        self.known_providers: KnownProviders | None = None
        self.providers_read = False
        self._carriers: CarrierMatcher | None = None
        self._state_seen = False
        # Stock values Billbee has from earlier runs (carried in the state), and those written in this run.
        self.stock_known: dict[str, int] | None = None
        self.stock_written: dict[str, int] = {}
        self.stock_bookmark_before: str | None = None  # stock_levels' bookmark as this run started
        self.stock_refused = ""  # why the circuit breaker kept this run's stock write back
        self.stock_pending = 0  # stock records collected and not yet written (they are written at the end)
        # What decides which values equal to the last written are compared with Billbee (verify.py).
        self.stock_memory = StockMemory()
        self.started = datetime.now(UTC)
        self.stock_verified = False  # this run compared every value equal to the last written
        self.stock_held_now: dict[str, int] | None = None
        self.stock_cancelled_now: set[int] | None = None  # the cancelled/deleted orders of the window
        self.stock_in_flight: set[str] = set()  # SKUs of the stock write under way (announced before it)
        self.stock_settled: set[str] = set()  # SKUs whose Billbee value this run wrote or read
        self.stock_unsure: set[str] = set()  # SKUs whose write failed: Billbee may or may not have the value
        # SKUs (casefolded, no bundles) of the orders this run set to "Versendet", or found so with their last parcel
        # (a replay): they left Billbee's unfulfilled amount, which the last write of their SKUs subtracted (the stock
        # work runs after the shipments, in the same worker); kept as unsettled in the state until compared
        self.stock_left_unfulfilled: set[str] = set()
        self.emit_state: Callable[[], None] | None = None  # set by the target: write a STATE message now
        self._workers: dict[str, ThreadPoolExecutor] = {}
        self._pending: list[Future[None]] = []

    @cached_property
    def client(self) -> BillbeeClient:
        return billbee_client(self.config, self.logger, self.planned)

    # -- the streams' worker threads -------------------------------------------------------------------
    def submit(self, stream: str, work: Callable[[list[dict[str, Any]]], None], records: list[dict[str, Any]]) -> None:
        """Write a batch in the stream's own worker thread. Shipments (order reads, shipment POSTs, state PUTs)
        and stock levels use different Billbee endpoints, each limited on its own (2/s; the client also keeps
        the user's 10/s), so neither waits for the other. One thread per stream keeps its batches in order.
        Every STATE message waits for all batches (`wait_for_writes`), so a bookmark never passes a write."""
        worker = self._workers.get(stream)
        if worker is None:
            _ = self.client  # one client (one set of limiters) for all threads, made here and not in a race
            worker = self._workers[stream] = ThreadPoolExecutor(max_workers=1, thread_name_prefix=stream)
        self._pending.append(worker.submit(work, records))

    def wait_for_writes(self) -> None:
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()  # re-raises what the batch raised (e.g. AuthError), like the sequential code did

    def shutdown(self) -> None:
        self.wait_for_writes()
        for worker in self._workers.values():
            worker.shutdown()

    # -- read once per run -----------------------------------------------------------------------------
    @property
    def carriers(self) -> CarrierMatcher:
        """Billbee's shipping providers: from the state while younger than `shipping_providers_cache_hours`,
        else read (once per run, only when parcels come)."""
        if self._carriers is None:
            known, hours = self.known_providers, self.providers_cache_hours
            if known is not None and hours > 0 and known.age(datetime.now(UTC)) < timedelta(hours=hours):
                self._carriers = self._matcher(known)
            else:
                self._read_providers()
        assert self._carriers is not None
        return self._carriers

    def route(self, profile_name: str | None, carrier: str | None) -> ShipmentRoute:
        """The shipment's provider/product/carrier. A profile no name from the state matches reads the providers
        again when the state's are older than RECHECK_UNMATCHED: the merchant may have named one alike since."""
        matcher = self.carriers
        if not matcher.knows(profile_name) and self._may_reread(RECHECK_UNMATCHED):
            self._read_providers()
            matcher = self.carriers
        return matcher.route(profile_name, carrier)

    def reread_providers(self) -> bool:
        """After Billbee refused a shipment whose route came from the state (a provider product removed since?):
        read the providers now. False when this run has read them already (nothing new to learn)."""
        if not self._may_reread(timedelta(0)):
            return False
        self._read_providers()
        return True

    def _may_reread(self, older_than: timedelta) -> bool:
        known = self.known_providers
        return not self.providers_read and known is not None and known.age(datetime.now(UTC)) >= older_than

    def _read_providers(self) -> None:
        self.known_providers = KnownProviders.read(self.client.shipping_providers(), datetime.now(UTC))
        self.providers_read = True
        self._carriers = self._matcher(self.known_providers)

    def _matcher(self, known: KnownProviders) -> CarrierMatcher:
        return CarrierMatcher(known.providers, self.config.get("shipping_provider_map"))

    @cached_property
    def standard_stock_id(self) -> int | None:
        """The id of Billbee's standard storage (`IsDefault` in `GET /products/stocks`), where a write without
        StockId goes; read once per run, when needed."""
        default = next((s for s in self.client.stocks() if s.get("IsDefault")), None)
        return None if default is None else default.get("Id")

    def note_unmatched_profile(self, profile: str | None) -> None:
        name = profile or "(no profile)"
        if name not in self._unmatched_profiles:
            self._unmatched_profiles.add(name)
            self.logger.warning("wemalo profile %r matches no Billbee shipping provider product: tracking numbers "
                                "are written without provider (name one alike, or set shipping_provider_map)",
                                name)
            self.report.counters[f"unmatched_profile:{name}"] += 1

    # -- stock -----------------------------------------------------------------------------------------
    @property
    def breaker_limits(self) -> BreakerLimits:
        return BreakerLimits(zero_share=int(self.config.get("stock_breaker_zero_percent", 20)) / 100,
                             drop_share=int(self.config.get("stock_breaker_drop_percent", 50)) / 100,
                             min_skus=int(self.config.get("stock_breaker_min_skus", 5)))

    def held_in_warehouse(self) -> dict[str, int]:
        """SKU (casefolded) -> quantity of the orders wemalo holds and has not shipped (one orders query)."""
        orders = self.client.iter_orders(state_ids=list(self.config.get("held_order_state_ids") or [3]),
                                         tags=[self.tags.received])
        held, bundles = held_quantities(orders)
        if bundles:
            self.report.counters["held_bundle_lines_not_counted"] += bundles
        self.stock_held_now = dict(held)
        return dict(held)

    @property
    def stock_verify_hours(self) -> float:
        return float(self.config.get("stock_verify_hours", 24) or 0)

    def skus_to_check(self, equal: list[str]) -> list[str]:
        """Of the SKUs whose planned value equals the last written, those to compare with Billbee's articles:
        all of them every `stock_verify_hours` (and every run with 0), otherwise only those something may have
        moved (verify.py). Call after `held_in_warehouse`."""
        hours = self.stock_verify_hours
        if hours <= 0:
            self.stock_verified = True
            return equal
        cancelled = self._cancelled_since() if equal else set()
        if verify_due(self.stock_memory.verified_at, hours, self.started):
            self.stock_verified = True
            return equal
        left = None if cancelled is None else cancelled | self.stock_left_unfulfilled
        check = to_check(equal, self.stock_memory, self.stock_held_now, left)
        self.report.counters["stock_values_trusted"] += len(equal) - len(check)
        return check

    def _cancelled_since(self) -> set[str] | None:
        """SKUs (casefolded) of the orders cancelled or deleted since the last run: those in states 6/8 created in
        the last `cancel_check_days` (by order date, whatever LastModifiedAt does) that the last run had not
        seen. None when that is not known (no record of the last run's, a read failure, a bundle line)."""
        days = int(self.config.get("cancel_check_days", 30) or 30)
        since = (self.started - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S")
        try:
            orders = list(self.client.iter_orders(state_ids=sorted(CANCELLED_STATES), created_after=since))
        except ApiError as exc:
            self.logger.warning("Billbee's cancelled orders could not be read (%s): every value is compared", exc)
            return None
        self.stock_cancelled_now = {int(o["BillBeeOrderId"]) for o in orders if o.get("BillBeeOrderId")}
        seen = self.stock_memory.cancelled_seen
        if seen is None:
            return None
        fresh = [o for o in orders if o.get("BillBeeOrderId") and int(o["BillBeeOrderId"]) not in seen]
        skus, bundles = held_quantities(fresh)
        return None if bundles else set(skus)

    def announce_stock_write(self, skus: list[str]) -> None:
        """Before the stock write: a STATE listing its SKUs as unsettled, which Meltano stores at once. A run
        killed after the write and before its last STATE leaves them so: the next run does not trust them."""
        if self.dry_run or self.emit_state is None or self.stock_verify_hours <= 0:
            return
        self.stock_in_flight = set(skus)
        self.emit_state()

    def refuse_stock_write(self, reason: str, records: list[dict[str, Any]]) -> None:
        """The circuit breaker tripped: nothing written, the bookmark held back, the run ends non-zero."""
        self.stock_refused = reason
        self.logger.error("Stock NOT written to Billbee: %s. If this is right, confirm once with "
                          "TARGET_BILLBEE_STOCK_BREAKER_CONFIRM=true; otherwise check wemalo's stock.", reason)
        self.report.add("stock_levels", "(whole run)", "rejected", f"circuit breaker: {reason}")
        self.report.counters["stock_values_held_back"] += len(records)
        if self.stock_bookmark_before:
            self.held.hold("stock_levels", "observed_at", self.stock_bookmark_before)
        else:  # first run: the next one reads every article again
            self.held.hold("stock_levels", "observed_at", "2000-01-01T00:00:00+00:00")

    def acknowledge_returns(self, booking_ids: list[str], order_id: str) -> None:
        """Billbee has these return bookings: tap-wemalo-shipments marks them synchronised next run."""
        for booking in booking_ids:
            self.returns_written[str(booking)] = order_id

    # -- state -----------------------------------------------------------------------------------------
    @override
    def read_state(self, state: Mapping[str, Any]) -> None:
        """The tap's first STATE message carries the stock values the last run wrote and the shipping providers
        it knew."""
        if not self._state_seen:
            self._state_seen = True
            shipments = state.get("bookmarks", {}).get("shipments") or {}
            self.known_providers = KnownProviders.from_state(shipments.get(PROVIDERS_KEY))
        if self.stock_known is None:
            stock = state.get("bookmarks", {}).get("stock_levels", {})
            self.stock_bookmark_before = stock.get("replication_key_value")
            same_location = stock.get(STOCK_LOCATION_KEY) == self.storage_location_id
            self.stock_known = dict(stock.get(STOCK_KEY) or {}) if same_location else {}
            self.stock_memory = StockMemory.from_state(stock) if same_location else StockMemory()

    @override
    def add_to_state(self, state: dict[str, Any]) -> dict[str, Any]:
        """The tap's state with the bookmarks of failed records held back and the stock values written. Waits
        for every batch so far first. A dry run adds no stock values: it wrote none."""
        self.wait_for_writes()  # the held bookmarks and stock values of every batch so far
        state = self.held.apply(state)
        if self.stock_pending and self.stock_bookmark_before:
            # A STATE before the run's stock write must not move the stock bookmark past values not written yet
            # (Meltano stores such intermediate states): a crash would lose them.
            hold_back_bookmark(state, "stock_levels", "observed_at", self.stock_bookmark_before)
        if self.stock_written and not self.dry_run:
            stock = state.setdefault("bookmarks", {}).setdefault("stock_levels", {})
            stock[STOCK_KEY] = {**(self.stock_known or {}), **self.stock_written}
            stock[STOCK_LOCATION_KEY] = self.storage_location_id
        if not self.dry_run:
            self._add_stock_memory(state)
        if self.known_providers is not None:  # a read, not a write: kept in a dry run too
            shipments = state.setdefault("bookmarks", {}).setdefault("shipments", {})
            shipments[PROVIDERS_KEY] = self.known_providers.to_state()
        if self.returns_written and not self.dry_run:
            returns = state.setdefault("bookmarks", {}).setdefault("returns", {})
            returns[PENDING_RETURN_ACKS_KEY] = {**(returns.get(PENDING_RETURN_ACKS_KEY) or {}), **self.returns_written}
        return state

    def _add_stock_memory(self, state: dict[str, Any]) -> None:
        """verified_at, held, cancelled_seen and unsettled (verify.py) into the stock bookmark, when this run has
        anything to say about them."""
        memory = self.stock_memory
        unsure = casefolded(self.stock_unsure)
        # The shipped orders' SKUs stay unsettled until a run compares them: wemalo may report them only later
        unsettled = (memory.unsettled | casefolded(self.stock_in_flight) | unsure | self.stock_left_unfulfilled) \
            - (casefolded(self.stock_settled) - unsure)
        news = {"verified_at": self.started.isoformat() if self.stock_verified else None,
                "held": None if self.stock_held_now is None else dict(sorted(self.stock_held_now.items())),
                "cancelled_seen": None if self.stock_cancelled_now is None else sorted(self.stock_cancelled_now),
                "unsettled": sorted(unsettled) if unsettled != memory.unsettled else None}
        news = {key: value for key, value in news.items() if value is not None}
        if not news:
            return
        stock = state.setdefault("bookmarks", {}).setdefault("stock_levels", {})
        stock.update(news)
        stock[STOCK_LOCATION_KEY] = self.storage_location_id

    @override
    def finish(self) -> None:
        """After the last record: every write done, the report, and a non-zero end when the breaker tripped."""
        self.shutdown()
        super().finish()
        if self.stock_refused:
            raise SystemExit(f"target-billbee: stock write refused by the circuit breaker: {self.stock_refused}")
