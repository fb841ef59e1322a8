"""target-wemalo: Billbee products and orders into wemalo-connect."""

from __future__ import annotations

from functools import cached_property, partial

from singer_sdk import typing as th
from singer_sdk.sinks import Sink
from typing_extensions import override

from billbee_wemalo.protocol import RETURN_REQUESTS_STREAM
from billbee_wemalo.sdk.run import RunTarget
from billbee_wemalo.sdk.settings import dry_run_setting, http_settings, report_setting, wemalo_account
from billbee_wemalo.sdk.sinks import IgnoredStreamSink
from target_wemalo.address import MAX_LINE
from target_wemalo.run import WemaloRun
from target_wemalo.sinks import OrdersSink, ProductsSink, ReturnRequestsSink

SINKS: dict[str, type[Sink]] = {"products": ProductsSink, "orders": OrdersSink,
                                RETURN_REQUESTS_STREAM: ReturnRequestsSink}


class TargetWemalo(RunTarget):
    name = "target-wemalo"
    package_name = "target-wemalo"

    config_jsonschema = th.PropertiesList(
        *wemalo_account(),
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
        th.Property("address_line_limit", th.IntegerType, default=MAX_LINE, title="Address line limit",
                    description=f"Characters per address line (name, street, addition, ZIP, city): carriers print "
                                f"{MAX_LINE} (DHL, DPD); wemalo states no limit. Longer names continue in "
                                "name2/name3, other fields are refused with the reason. 0 = no limit."),
        th.Property("stuck_check", th.BooleanType, default=True, title="Flag stuck orders",
                    description="At the end of each run ask wemalo about every order it holds until it ships; "
                                "orders held for their address or blocked after packing at once, and PARTIAL for "
                                "another reason after stuck_partial_hours, get the stuck tag and one message "
                                "(tap-billbee writes them); both go when the order moves on."),
        th.Property("stuck_check_minutes", th.IntegerType, default=50, title="Minutes between stuck checks",
                    description="Ask wemalo about the held orders at most this often (one getStatus per order): "
                                "the hourly run checks, runs triggered by webhooks in between do not. 0 = every "
                                "run."),
        th.Property("stuck_partial_hours", th.NumberType, default=24, title="Hours until a partial order is stuck",
                    description="How long an order may stay PARTIAL (not fully reserved) for a reason other "
                                "than its address before it is flagged."),
        th.Property("return_reason_id", th.IntegerType, title="Return reason id",
                    description="Return announcements (tap-billbee's return_announce_tag): wemalo's return reason id "
                                "sent with each announced article (items.returnReason). Empty (default): none."),
        dry_run_setting("wemalo"),
        report_setting(),
        *http_settings(),
    ).to_dict()

    @override
    @cached_property
    def run(self) -> WemaloRun:
        """This run's context, handed to the sinks (target_wemalo.run)."""
        return WemaloRun(self.name, self.config, self.logger, flush_products=self._flush_products,
                         checkpoint=partial(self.emit_state, drain=True))

    @override
    def get_sink_class(self, stream_name: str) -> type[Sink]:
        return SINKS.get(stream_name, IgnoredStreamSink)

    def _flush_products(self) -> None:
        sink = self.active_sink("products")
        if sink is not None and sink.current_size:
            self.drain_one(sink)


if __name__ == "__main__":
    TargetWemalo.cli()
