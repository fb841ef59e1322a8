"""target-billbee: wemalo parcels (tracking numbers, "Versendet") and stock levels into Billbee."""

from __future__ import annotations

import copy
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cached_property
from typing import Any

from singer_sdk import Target
from singer_sdk import typing as th
from singer_sdk.sinks import Sink

from billbee_wemalo.billbee import DEFAULT_API_URL, BillbeeClient, ConnectorTags
from billbee_wemalo.http import API_URL_PATTERN, RetryPolicy
from billbee_wemalo.report import RunReport
from billbee_wemalo.state import HeldBookmarks, hold_back_bookmark
from target_billbee.carriers import CarrierMatcher
from target_billbee.sinks import IgnoredStreamSink, ShipmentsSink, StockLevelsSink
from target_billbee.stock import BreakerLimits, held_quantities

SINKS: dict[str, type[Sink]] = {"shipments": ShipmentsSink, "stock_levels": StockLevelsSink}
STOCK_KEY = "written"  # bookmarks.stock_levels.written: SKU -> the quantity last written to Billbee
STOCK_LOCATION_KEY = "written_stock_id"  # ... into this Billbee stock id


class TargetBillbee(Target):
    name = "target-billbee"
    package_name = "target-billbee"

    config_jsonschema = th.PropertiesList(
        th.Property("api_url", th.StringType(pattern=API_URL_PATTERN), default=DEFAULT_API_URL, title="API URL",
                    description="Billbee API base URL. https only, except on loopback (the sandbox)."),
        th.Property("username", th.StringType, required=True, title="Billbee user name"),
        th.Property("password", th.StringType, required=True, secret=True, title="API password",
                    description="The Billbee API password (Einstellungen > Billbee API), not the login password."),
        th.Property("api_key", th.StringType, required=True, secret=True, title="API key",
                    description="The X-Billbee-Api-Key of this integration."),
        th.Property("storage_location_id", th.IntegerType, default=0, title="Storage location",
                    description="Billbee stock id (GET /products/stocks) for stock writes; 0 = standard storage."),
        th.Property("orders_tag", th.StringType, default="wemalo", title="Orders tag",
                    description="The Billbee orders tag of this connector (used in messages and reports)."),
        th.Property("shipping_provider_map", th.ObjectType(additional_properties=th.ObjectType(
                        th.Property("provider_id", th.IntegerType), th.Property("product_id", th.IntegerType),
                        th.Property("carrier_id", th.IntegerType))),
                    title="Shipping provider mapping",
                    description="wemalo profile name -> Billbee provider_id/product_id/carrier_id (carrier_id "
                                "overrides the product's carrier). Without an entry, the Billbee shipping provider "
                                "product named like the profile is used."),
        th.Property("held_order_state_ids", th.ArrayType(th.IntegerType), default=[3],
                    title="States of orders wemalo holds",
                    description="Billbee states in which orders with the received tag wait for shipping. Their "
                                "quantities are added to wemalo's available stock before Billbee subtracts its "
                                "unfulfilled amount (stock_semantics available; see the README)."),
        th.Property("stock_breaker_zero_percent", th.IntegerType, default=20, title="Breaker: % set to 0",
                    description="A run that would set more than this percentage of the SKUs to 0 writes no stock."),
        th.Property("stock_breaker_drop_percent", th.IntegerType, default=50, title="Breaker: % stock drop",
                    description="A run that would lower the total stock of the written SKUs by more than this "
                                "percentage writes no stock."),
        th.Property("stock_breaker_min_skus", th.IntegerType, default=5, title="Breaker: minimum SKUs",
                    description="Fewer SKUs than this set to 0 never trip the breaker."),
        th.Property("stock_breaker_confirm", th.BooleanType, default=False, title="Confirm a tripped breaker",
                    description="Write the stock although the breaker tripped (for one run: "
                                "TARGET_BILLBEE_STOCK_BREAKER_CONFIRM=true meltano run ...)."),
        th.Property("dry_run", th.BooleanType, default=False, title="Dry run",
                    description="Compute and report everything, write nothing to Billbee."),
        th.Property("report_dir", th.StringType, title="Report folder",
                    description="Write a JSON summary of each run into this folder."),
        th.Property("request_timeout", th.NumberType, default=60, title="Request timeout (s)"),
        th.Property("max_attempts", th.IntegerType, default=8, title="Attempts per request"),
    ).to_dict()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.report = RunReport(self.name, self.logger)
        self.held = HeldBookmarks()
        self._unmatched_profiles: set[str] = set()
        # Stock values Billbee has from earlier runs (carried in the state), and those written in this run.
        self.stock_known: dict[str, int] | None = None
        self.stock_written: dict[str, int] = {}
        self.stock_bookmark_before: str | None = None  # stock_levels' bookmark as this run started
        self.stock_refused = ""  # why the circuit breaker kept this run's stock write back
        self.stock_pending = 0  # stock records collected and not yet written (they are written at the end)
        self._workers: dict[str, ThreadPoolExecutor] = {}
        self._pending: list[Future[None]] = []

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

    @cached_property
    def client(self) -> BillbeeClient:
        return BillbeeClient(
            api_url=self.config["api_url"],
            username=self.config["username"],
            password=self.config["password"],
            api_key=self.config["api_key"],
            timeout=float(self.config.get("request_timeout", 60)),
            retry=RetryPolicy(max_attempts=int(self.config.get("max_attempts", 8))),
            logger=self.logger,
        )

    @property
    def dry_run(self) -> bool:
        return bool(self.config.get("dry_run"))

    @cached_property
    def carriers(self) -> CarrierMatcher:
        """Billbee's shipping providers, read once per run (only when parcels come)."""
        return CarrierMatcher(self.client.shipping_providers(), self.config.get("shipping_provider_map"))

    def note_unmatched_profile(self, profile: str | None) -> None:
        name = profile or "(no profile)"
        if name not in self._unmatched_profiles:
            self._unmatched_profiles.add(name)
            self.logger.warning("wemalo profile %r matches no Billbee shipping provider product: tracking numbers "
                                "are written without provider (name one alike, or set shipping_provider_map)",
                                name)
            self.report.counters[f"unmatched_profile:{name}"] += 1

    @property
    def breaker_limits(self) -> BreakerLimits:
        return BreakerLimits(zero_share=int(self.config.get("stock_breaker_zero_percent", 20)) / 100,
                             drop_share=int(self.config.get("stock_breaker_drop_percent", 50)) / 100,
                             min_skus=int(self.config.get("stock_breaker_min_skus", 5)))

    @cached_property
    def standard_stock_id(self) -> int | None:
        """The id of Billbee's standard storage (`IsDefault` in `GET /products/stocks`), where a write without
        StockId goes; read once per run, when needed."""
        default = next((s for s in self.client.stocks() if s.get("IsDefault")), None)
        return None if default is None else default.get("Id")

    def held_in_warehouse(self) -> dict[str, int]:
        """SKU (casefolded) -> quantity of the orders wemalo holds and has not shipped (one orders query)."""
        tags = ConnectorTags((self.config.get("orders_tag") or "wemalo").strip())
        orders = self.client.iter_orders(state_ids=list(self.config.get("held_order_state_ids") or [3]),
                                         tags=[tags.received])
        held, bundles = held_quantities(orders)
        if bundles:
            self.report.counters["held_bundle_lines_not_counted"] += bundles
        return dict(held)

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

    def get_sink_class(self, stream_name: str) -> type[Sink]:
        return SINKS.get(stream_name, IgnoredStreamSink)

    def _process_state_message(self, message_dict: dict) -> None:
        super()._process_state_message(message_dict)
        if self.stock_known is None:  # the tap's first STATE message carries what the last run wrote
            stock = (message_dict.get("value") or {}).get("bookmarks", {}).get("stock_levels", {})
            self.stock_bookmark_before = stock.get("replication_key_value")
            same_location = stock.get(STOCK_LOCATION_KEY) == int(self.config.get("storage_location_id") or 0)
            self.stock_known = dict(stock.get(STOCK_KEY) or {}) if same_location else {}

    def _write_state_message(self, state: dict) -> None:
        self.wait_for_writes()  # the held bookmarks and stock values of every batch so far
        state = self.held.apply(copy.deepcopy(state))
        if self.stock_pending and self.stock_bookmark_before:
            # A STATE before the run's stock write must not move the stock bookmark past values not written yet
            # (Meltano stores such intermediate states): a crash would lose them.
            hold_back_bookmark(state, "stock_levels", "observed_at", self.stock_bookmark_before)
        if self.stock_written:
            stock = state.setdefault("bookmarks", {}).setdefault("stock_levels", {})
            stock[STOCK_KEY] = {**(self.stock_known or {}), **self.stock_written}
            stock[STOCK_LOCATION_KEY] = int(self.config.get("storage_location_id") or 0)
        super()._write_state_message(state)

    def process_endofpipe(self) -> None:
        super().process_endofpipe()
        self.wait_for_writes()
        for worker in self._workers.values():
            worker.shutdown()
        self.report.log_summary()
        path = self.report.write(self.config.get("report_dir"))
        if path:
            self.logger.info("Run report written to %s", path)
        if self.stock_refused:
            raise SystemExit(f"target-billbee: stock write refused by the circuit breaker: {self.stock_refused}")


if __name__ == "__main__":
    TargetBillbee.cli()
