"""target-billbee: wemalo parcels (tracking numbers, "Versendet") and stock levels into Billbee."""

from __future__ import annotations

from functools import cached_property

from singer_sdk import typing as th
from singer_sdk.sinks import Sink
from typing_extensions import override

from billbee_wemalo.sdk.run import RunTarget
from billbee_wemalo.sdk.settings import billbee_account, dry_run_setting, http_settings, report_setting
from billbee_wemalo.sdk.sinks import IgnoredStreamSink
from target_billbee.returns import ReturnsSink
from target_billbee.run import BillbeeRun
from target_billbee.sinks import ShipmentsSink, StockLevelsSink

SINKS: dict[str, type[Sink]] = {"shipments": ShipmentsSink, "stock_levels": StockLevelsSink, "returns": ReturnsSink}


class TargetBillbee(RunTarget):
    name = "target-billbee"
    package_name = "target-billbee"

    config_jsonschema = th.PropertiesList(
        *billbee_account(),
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
        th.Property("shipping_providers_cache_hours", th.IntegerType, default=24,
                    title="Shipping providers kept (h)",
                    description="Billbee's shipping providers are kept in the state and read again after this many "
                                "hours; sooner for a wemalo profile no known name matches (after an hour) and "
                                "after a shipment Billbee refused. 0 = read in every run with parcels."),
        th.Property("held_order_state_ids", th.ArrayType(th.IntegerType), default=[3],
                    title="States of orders wemalo holds",
                    description="Billbee states in which orders with the received tag wait for shipping. Their "
                                "quantities are added to wemalo's available stock before Billbee subtracts its "
                                "unfulfilled amount (stock_semantics available; see the README)."),
        th.Property("stock_verify_hours", th.NumberType, default=24, title="Full stock comparison interval (h)",
                    description="How often every stock value equal to the last written is compared with Billbee's "
                                "articles (reading the catalogue); in between only those an order cancelled or "
                                "leaving wemalo's hold, or an unconfirmed write, may have moved. 0 = every run."),
        th.Property("cancel_check_days", th.IntegerType, default=30, title="Cancelled orders window (days)",
                    description="Cancelled or deleted Billbee orders created in this many days are read once per "
                                "run with stock (stock_verify_hours > 0): their SKUs' values are compared."),
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
        th.Property("returns_tag", th.StringType, default="", title="Returns tag",
                    description="Tag set on an order when wemalo booked a return of it; empty = "
                                "`<orders_tag>_returned` (wemalo_returned)."),
        th.Property("returns_state_id", th.IntegerType, title="State after a return",
                    description="Billbee order state set when wemalo booked a return (e.g. 17 if your Billbee "
                                "has \"Retoure\"); unset = the state is left alone (the default)."),
        dry_run_setting("Billbee"),
        report_setting(),
        *http_settings(),
    ).to_dict()

    @override
    @cached_property
    def run(self) -> BillbeeRun:
        """This run's context, handed to the sinks (target_billbee.run)."""
        run = BillbeeRun(self.name, self.config, self.logger)
        run.emit_state = self.emit_state
        return run

    @override
    def get_sink_class(self, stream_name: str) -> type[Sink]:
        return SINKS.get(stream_name, IgnoredStreamSink)


if __name__ == "__main__":
    TargetBillbee.cli()
