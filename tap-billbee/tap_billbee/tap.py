"""tap-billbee: Billbee products, orders, stock locations and shipping providers as Singer streams."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import click
from singer_sdk import Stream
from singer_sdk import typing as th
from typing_extensions import override

from billbee_wemalo.http import AuthError, ConfigError
from billbee_wemalo.protocol import RETURN_REQUESTS_STREAM
from billbee_wemalo.sdk.hooks import OrderedTap
from billbee_wemalo.sdk.settings import billbee_account, http_settings, report_setting
from tap_billbee import return_requests, streams
from tap_billbee.run import TapRun


class TapBillbee(OrderedTap):
    """Extracts from the Billbee API v1. By default plain ELT (every order, nothing written to Billbee); with
    `orders_tag` set it is the fulfilment tap of this project (see the README)."""

    name = "tap-billbee"
    package_name = "tap-billbee"
    # Products first, so that the orders stream finds the bundle BOMs already indexed and the catalogue is read
    # once per run (the SDK's own order is alphabetical).
    stream_order = ("products", "orders", RETURN_REQUESTS_STREAM, "stocks", "shipping_providers")

    config_jsonschema = th.PropertiesList(
        *billbee_account(),
        th.Property("order_state_ids", th.ArrayType(th.IntegerType), default=[], title="Order states",
                    description="Billbee order states to extract (3 = paid / bezahlt). Empty (default): every "
                                "state."),
        th.Property("orders_tag", th.StringType, default="", title="Orders tag",
                    description="Fulfilment mode: extract only orders with this tag (e.g. wemalo), and write the "
                                "order_received_by_<tag> / <tag>_error tags back from the target's "
                                "acknowledgements. Empty (default): plain ELT of every order since start_date, "
                                "nothing written to Billbee. This project's meltano.yml sets wemalo."),
        th.Property("stuck_tag", th.StringType, default="", title="Stuck tag",
                    description="The tag of an order wemalo holds (its address, blocked after packing, partly "
                                "reserved for long; target-wemalo's stuck_check), with the reason as a message; "
                                "removed when the order moves on. Empty (default): <orders_tag>_stuck."),
        th.Property("accepted_state_id", th.IntegerType, title="State once wemalo has the order",
                    description="Status mirror (off when empty): the Billbee state an order gets once wemalo has "
                                "it, e.g. 16 (Im Fulfillment). Only from a state in order_state_ids, never over a "
                                "state set by hand; the tap goes on reading orders in it."),
        th.Property("packed_state_id", th.IntegerType, title="State once wemalo packed the order",
                    description="Status mirror (off when empty): the Billbee state once wemalo packed the order, "
                                "e.g. 13 (Gepackt). Only forward, from order_state_ids or accepted_state_id."),
        th.Property("return_announce_tag", th.StringType, default="", title="Return announcement tag",
                    description="Return announcements: an order the merchant tags with this (e.g. "
                                "wemalo_return_announce), in any state, is announced to wemalo once as a return "
                                "(stream return_requests, target-wemalo), then gets return_announced_tag; a refusal "
                                "gets <orders_tag>_error and the reason as a message. Needs orders_tag. Empty "
                                "(default): off."),
        th.Property("return_announced_tag", th.StringType, default=return_requests.DEFAULT_RETURN_ANNOUNCED_TAG,
                    title="Return announced tag",
                    description="The tag of an order whose return wemalo has been told about. Removing it while "
                                "the return tag stays announces another return of the order."),
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
        th.Property("order_ids", th.ArrayType(th.IntegerType), default=[], title="Only these orders",
                    description="Read only these Billbee orders (GET /orders/{id}, one call each, within Billbee's "
                                "throttle), skip the products, and leave every bookmark where it is: a run "
                                "triggered by webhooks (billbee-wemalo-events). The last run's acknowledgements "
                                "are written as in every run. Empty (default): the normal incremental run."),
        # Any JSON object: a hint that is not a list of {State, Tags} objects only makes the order read.
        th.Property("order_hints", th.ObjectType(additional_properties=True), default={},
                    title="Webhook hints of these orders",
                    description="Per order id of order_ids, the State and Tags each webhook delivery showed (set by "
                                "billbee-wemalo-events): an order is not read when every hint shows nothing to do "
                                "(wemalo has it, or outside the selection). Empty (default): every order is read."),
        report_setting(" (acknowledgements written to Billbee: tags, messages; records extracted)"),
        *http_settings(),
    ).to_dict()

    @cached_property
    def run(self) -> TapRun:
        """This run's context, handed to the streams (tap_billbee.run)."""
        return TapRun(self.name, self.config, self.logger)

    @override
    def before_sync(self) -> None:
        orders = self.streams.get("orders")
        if isinstance(orders, streams.OrdersStream) and orders.selected:
            orders.start_acknowledgements()  # written while the products are read (another Billbee endpoint)

    @override
    def after_sync(self) -> None:
        self.run.finish()

    @classmethod
    @override
    def invoke(cls, **kwargs: Any) -> None:
        """Refused credentials or a bad setting end the run with one line naming the settings (e.g. in
        `meltano config test tap-billbee`, which shows the tap's last line), not with a traceback."""
        try:
            super().invoke(**kwargs)
        except (AuthError, ConfigError) as exc:
            raise click.ClickException(str(exc)) from None

    @override
    def discover_streams(self) -> list[Stream]:
        return [stream(self, self.run) for stream in (streams.ProductsStream, streams.OrdersStream,
                                                       return_requests.ReturnRequestsStream, streams.StocksStream,
                                                       streams.ShippingProvidersStream)]


if __name__ == "__main__":
    TapBillbee.cli()
