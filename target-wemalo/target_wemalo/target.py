"""target-wemalo: Billbee products and orders into wemalo-connect."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from functools import cached_property
from typing import Any

from singer_sdk import Target
from singer_sdk import typing as th
from singer_sdk.sinks import Sink

from billbee_wemalo.billbee import ConnectorTags, has_tag
from billbee_wemalo.http import API_URL_PATTERN, RetryPolicy
from billbee_wemalo.protocol import ACK_OUTCOMES, PENDING_ACKS_KEY
from billbee_wemalo.report import RunReport
from billbee_wemalo.state import HeldBookmarks
from billbee_wemalo.wemalo import DEFAULT_API_URL, WemaloClient
from target_wemalo.products import ProductPlanner, pack
from target_wemalo.sinks import IgnoredStreamSink, OrdersSink, ProductsSink

SINKS: dict[str, type[Sink]] = {"products": ProductsSink, "orders": OrdersSink}
# bookmarks.orders.sent_positions: Billbee order id -> [fingerprint of the positions sent to wemalo, date sent].
# wemalo has no call that reads an order's positions, so a re-send compares against what this target sent.
POSITIONS_KEY = "sent_positions"
POSITIONS_KEPT_DAYS = 120


class TargetWemalo(Target):
    name = "target-wemalo"
    package_name = "target-wemalo"

    config_jsonschema = th.PropertiesList(
        th.Property("api_url", th.StringType(pattern=API_URL_PATTERN), default=DEFAULT_API_URL, title="API URL",
                    description="wemalo-connect base URL. https only, except on loopback (the sandbox)."),
        th.Property("token", th.StringType, required=True, secret=True, title="API token",
                    description="The wemalo-connect token (sent as `Authorization: JWT <token>`)."),
        th.Property("orders_tag", th.StringType, default="wemalo", title="Orders tag",
                    description="The Billbee orders tag; orders carrying <tag>_error are reported as retries."),
        th.Property("product_group", th.StringType, default="default", title="Product group",
                    description="wemalo productGroup for articles without a Billbee category."),
        th.Property("update_dimensions", th.BooleanType, default=False, title="Update dimensions",
                    description="Also change dimensions and weights of products that already exist in wemalo "
                                "(off: as wemalo's own connector, dimensions are set once)."),
        th.Property("dispatcher_profile_map", th.ObjectType(additional_properties=th.StringType),
                    title="Dispatcher profile mapping",
                    description="Billbee shipping profile name -> wemalo dispatcherProfile (matchId). Without an "
                                "entry, a wemalo profile with the same name is used."),
        th.Property("address_line_limit", th.IntegerType, default=35, title="Address line limit",
                    description="Characters per address line (name, street, addition, ZIP, city): carriers print "
                                "35 (DHL, DPD); wemalo states no limit. Longer names continue in name2/name3, "
                                "other fields are refused with the reason. 0 = no limit."),
        th.Property("dry_run", th.BooleanType, default=False, title="Dry run",
                    description="Compute and report everything, write nothing to wemalo."),
        th.Property("report_dir", th.StringType, title="Report folder",
                    description="Write a JSON summary of each run into this folder."),
        th.Property("request_timeout", th.NumberType, default=60, title="Request timeout (s)"),
        th.Property("max_attempts", th.IntegerType, default=8, title="Attempts per request"),
    ).to_dict()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.report = RunReport(self.name, self.logger)
        self.acks: dict[str, dict[str, Any]] = {}
        self.held = HeldBookmarks()
        self.positions_known: dict[str, list[str]] | None = None  # from the incoming state (first STATE message)
        self.positions_sent: dict[str, list[str]] = {}  # written in this run

    @cached_property
    def client(self) -> WemaloClient:
        return WemaloClient(
            api_url=self.config["api_url"],
            token=self.config["token"],
            timeout=float(self.config.get("request_timeout", 60)),
            retry=RetryPolicy(max_attempts=int(self.config.get("max_attempts", 8))),
            logger=self.logger,
        )

    @cached_property
    def catalogue(self) -> ProductPlanner:
        """wemalo's products, read once per run; the products sink plans against it, orders check SKUs in it."""
        return ProductPlanner(
            self.client.list_products(compact=pack),  # each product shrunk while the answer is parsed
            default_group=self.config.get("product_group") or "default",
            update_dimensions=bool(self.config.get("update_dimensions")),
        )

    @property
    def dry_run(self) -> bool:
        return bool(self.config.get("dry_run"))

    @cached_property
    def profile_match_ids(self) -> dict[str, str]:
        """wemalo dispatcher profiles by lower-case name -> matchId (read once per run, only if orders come)."""
        out: dict[str, str] = {}
        for dispatcher in self.client.profiles():
            for profile in dispatcher.get("profiles") or []:
                match_id = profile.get("matchId")
                if not match_id:
                    continue  # profiles without matchId cannot be selected (docs/api-contract.md, "wemalo: profiles")
                for name in (profile.get("name"), profile.get("product"), profile.get("matchId")):
                    if name:
                        out.setdefault(str(name).casefold(), match_id)
        return out

    def get_sink_class(self, stream_name: str) -> type[Sink]:
        return SINKS.get(stream_name, IgnoredStreamSink)

    def has_error_tag(self, order: dict[str, Any]) -> bool:
        tags = ConnectorTags((self.config.get("orders_tag") or "wemalo").strip())
        return has_tag([str(t) for t in order.get("Tags") or []], tags.error)

    def flush_products(self) -> None:
        """Send the products collected so far before an order needs them."""
        sink = self._sinks_active.get("products")
        if sink is not None and sink.current_size:
            self.drain_one(sink)

    def acknowledge(self, order_id: str, outcome: str, reason: str, *, had_error_tag: bool) -> None:
        if outcome in ACK_OUTCOMES and not self.dry_run:
            self.acks[order_id] = {"outcome": outcome, "reason": reason, "had_error_tag": had_error_tag}

    def sent_positions(self, order_id: str) -> str | None:
        """The fingerprint of the positions this target sent to wemalo for the order (None: not known)."""
        entry = self.positions_sent.get(order_id) or (self.positions_known or {}).get(order_id)
        return entry[0] if entry else None

    def _process_state_message(self, message_dict: dict) -> None:
        super()._process_state_message(message_dict)
        if self.positions_known is None:
            orders = (message_dict.get("value") or {}).get("bookmarks", {}).get("orders", {})
            self.positions_known = dict(orders.get(POSITIONS_KEY) or {})

    def _write_state_message(self, state: dict) -> None:
        """Emit the tap's state plus this run's acknowledgements under bookmarks.orders.pending_acks.

        Meltano stores this state only after the target finished, and tap-billbee writes the tags from it
        next run: a tag never precedes wemalo's acceptance. The tap drops entries once written, so whatever
        is in the incoming state is still pending and is kept.
        """
        state = copy.deepcopy(state)
        if self.acks:
            orders = state.setdefault("bookmarks", {}).setdefault("orders", {})
            orders[PENDING_ACKS_KEY] = {**(orders.get(PENDING_ACKS_KEY) or {}), **self.acks}
        if self.positions_sent:
            orders = state.setdefault("bookmarks", {}).setdefault("orders", {})
            oldest = (date.today() - timedelta(days=POSITIONS_KEPT_DAYS)).isoformat()
            merged = {**(orders.get(POSITIONS_KEY) or {}), **self.positions_sent}
            orders[POSITIONS_KEY] = {k: v for k, v in merged.items() if v[1] >= oldest}
        super()._write_state_message(self.held.apply(state))

    def process_endofpipe(self) -> None:
        super().process_endofpipe()
        self.report.log_summary()
        path = self.report.write(self.config.get("report_dir"))
        if path:
            self.logger.info("Run report written to %s", path)


if __name__ == "__main__":
    TargetWemalo.cli()
