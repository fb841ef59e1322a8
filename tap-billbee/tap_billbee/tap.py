"""tap-billbee: Billbee products, orders, stock locations and shipping providers as Singer streams."""

from __future__ import annotations

from collections import Counter
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

import click
from singer_sdk import Stream, Tap
from singer_sdk import typing as th

from billbee_wemalo.billbee import DEFAULT_API_URL, BillbeeClient, ConnectorTags
from billbee_wemalo.http import API_URL_PATTERN, AuthError, ConfigError, RetryPolicy
from billbee_wemalo.report import RunReport
from tap_billbee import streams
from tap_billbee.bundles import BundleIndex


class TapBillbee(Tap):
    """Extracts from the Billbee API v1. By default plain ELT (every order, nothing written to Billbee); with
    `orders_tag` set it is the fulfilment tap of this project (see the README)."""

    name = "tap-billbee"
    package_name = "tap-billbee"

    config_jsonschema = th.PropertiesList(
        th.Property("api_url", th.StringType(pattern=API_URL_PATTERN), default=DEFAULT_API_URL, title="API URL",
                    description="Billbee API base URL. https only, except on loopback (the sandbox)."),
        th.Property("username", th.StringType, required=True, title="Billbee user name",
                    description="The Billbee login (usually the e-mail address)."),
        th.Property("password", th.StringType, required=True, secret=True, title="API password",
                    description="The Billbee API password (Einstellungen > Billbee API), not the login password."),
        th.Property("api_key", th.StringType, required=True, secret=True, title="API key",
                    description="The X-Billbee-Api-Key of this integration."),
        th.Property("order_state_ids", th.ArrayType(th.IntegerType), default=[], title="Order states",
                    description="Billbee order states to extract (3 = paid / bezahlt). Empty (default): every "
                                "state."),
        th.Property("orders_tag", th.StringType, default="", title="Orders tag",
                    description="Fulfilment mode: extract only orders with this tag (e.g. wemalo), and write the "
                                "order_received_by_<tag> / <tag>_error tags back from the target's "
                                "acknowledgements. Empty (default): plain ELT of every order since start_date, "
                                "nothing written to Billbee. This project's meltano.yml sets wemalo."),
        th.Property("cancel_check_days", th.IntegerType, default=30, title="Cancellation check window (days)",
                    description="Each run also reads the cancelled/deleted orders created in this many days that "
                                "wemalo received, so a cancellation reaches wemalo even if Billbee did not move "
                                "its LastModifiedAt. 0 = off."),
        th.Property("cancel_check_hours", th.NumberType, default=0, title="Cancellation check interval (h)",
                    description="How often (hours) that cancellation query runs; 0 = every run (one query)."),
        th.Property("start_date", th.DateTimeType, title="Start date",
                    description="Earliest LastModifiedAt to extract on the first run."),
        th.Property("billbee_timezone", th.StringType, default="UTC", title="Billbee time zone",
                    description="Time zone of Billbee's naive timestamps (undocumented by Billbee)."),
        th.Property("modified_overlap_minutes", th.IntegerType, default=10, title="Overlap window",
                    description="Re-read orders modified this many minutes before the bookmark, so that nothing "
                                "at the boundary is missed; replays are harmless (writes are idempotent)."),
        th.Property("full_check_hours", th.NumberType, default=0, title="Eligibility check interval (h)",
                    description="How often (hours) all paid, tagged orders are checked regardless of "
                                "LastModifiedAt, which catches tags set without a modification timestamp "
                                "(undocumented at Billbee). 0 = every run: one more orders query per run."),
        th.Property("products_full_scan_hours", th.NumberType, default=0, title="Full product scan interval (h)",
                    description="How often (hours) the whole catalogue is read. In between, only articles created "
                                "since (higher Id) are read: changes to existing articles reach wemalo with the "
                                "next full scan. 0 = every run."),
        th.Property("bumped_full_check_hours", th.NumberType, default=24,
                    title="Eligibility check interval once tag writes bump (h)",
                    description="The eligibility check interval once the tap has seen Billbee move LastModifiedAt "
                                "when it wrote tags (then tag changes reach the incremental query and the check "
                                "is a safety net). 0 = every run."),
        th.Property("report_dir", th.StringType, title="Report folder",
                    description="Write a JSON summary of each run (acknowledgements written to Billbee: tags, "
                                "messages; records extracted) into this folder."),
        th.Property("request_timeout", th.NumberType, default=60, title="Request timeout (s)"),
        th.Property("max_attempts", th.IntegerType, default=8, title="Attempts per request",
                    description="Tries per request on throttling, 5xx and network errors."),
    ).to_dict()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ack_counts: Counter[str] = Counter()  # what AckWriter wrote to Billbee in this run
        self.records_emitted: Counter[str] = Counter()

    def sync_all(self) -> None:
        orders = self.streams.get("orders")
        if isinstance(orders, streams.OrdersStream) and orders.selected:
            orders.start_acknowledgements()  # written while the products are read (another Billbee endpoint)
        super().sync_all()
        # The acknowledgements of the previous run's orders are this run's writes to Billbee: the merchant
        # reads them in the same summary format as the targets' (log lines and a JSON file per run).
        report = RunReport(self.name, self.logger)
        report.counters.update({f"acknowledgements_{k}": v for k, v in self.ack_counts.items()})
        report.counters.update({f"{k}_extracted": v for k, v in self.records_emitted.items()})
        report.log_summary()
        path = report.write(self.config.get("report_dir"))
        if path:
            self.logger.info("Run report written to %s", path)

    @classmethod
    def invoke(cls, **kwargs: Any) -> None:  # type: ignore[override]
        """Refused credentials or a bad setting end the run with one line naming the settings (e.g. in
        `meltano config test tap-billbee`, which shows the tap's last line), not with a traceback."""
        try:
            super().invoke(**kwargs)
        except (AuthError, ConfigError) as exc:
            raise click.ClickException(str(exc)) from None

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

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.config.get("billbee_timezone") or "UTC")

    @property
    def connector_tags(self) -> ConnectorTags | None:
        tag = (self.config.get("orders_tag") or "").strip()
        return ConnectorTags(tag) if tag else None

    @cached_property
    def bundle_index(self) -> BundleIndex:
        return BundleIndex()

    def load_streams(self) -> list[Stream]:
        """Discovery order, not the SDK's alphabetical one: products first, so that the orders stream
        finds the bundle BOMs already indexed and the catalogue is read once per run."""
        return self.discover_streams()

    def discover_streams(self) -> list[Stream]:
        return [
            streams.ProductsStream(self),
            streams.OrdersStream(self),
            streams.StocksStream(self),
            streams.ShippingProvidersStream(self),
        ]


if __name__ == "__main__":
    TapBillbee.cli()
