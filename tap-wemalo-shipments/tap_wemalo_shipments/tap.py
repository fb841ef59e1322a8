"""tap-wemalo-shipments: parcels handed to the carrier (with tracking numbers) and available stock from wemalo."""

from __future__ import annotations

from functools import cached_property

from singer_sdk import Stream, Tap
from singer_sdk import typing as th
from typing_extensions import override

from billbee_wemalo.sdk.settings import http_settings, wemalo_account
from tap_wemalo_shipments import streams
from tap_wemalo_shipments.returns import ReturnsStream
from tap_wemalo_shipments.run import ShipmentsRun


class TapWemaloShipments(Tap):
    """Reads wemalo; its one write (with `sync_returns`) marks the return bookings Billbee has as synchronised."""

    name = "tap-wemalo-shipments"
    package_name = "tap-wemalo-shipments"

    config_jsonschema = th.PropertiesList(
        *wemalo_account(),
        th.Property("start_date", th.DateTimeType, title="Start date",
                    description="Earliest handover time to extract on the first run (default: 7 days ago)."),
        th.Property("wemalo_timezone", th.StringType, default="Europe/Berlin", title="wemalo time zone",
                    description="Time zone of wemalo's dd.MM.yyyy HH:mm:ss timestamps."),
        th.Property("overlap_minutes", th.IntegerType, default=60, title="Overlap window",
                    description="Re-read parcels handed over this long before the bookmark; target-billbee "
                                "skips tracking numbers already on the order, so replays change nothing."),
        th.Property("stock_semantics", th.StringType(allowed_values=["available", "on_hand"]), default="available",
                    title="Meaning of wemalo's stock figure",
                    description="available: availableStock is net of wemalo's open orders (default; the route's "
                                "name); on_hand: it is the physical stock, reserved quantities included. "
                                "target-billbee writes each correctly (see its README)."),
        th.Property("sellable_attributes", th.ArrayType(th.StringType), default=[], title="Sellable attributes",
                    description="wemalo stock attributes (external code or id) whose quantities count as sellable, "
                                "e.g. [\"1\"]. Empty: the default attribute (1. Wahl) only, so B-stock is not sold."),
        th.Property("sync_returns", th.BooleanType, default=False, title="Returns",
                    description="Stream the returns booked in wemalo (`returns`) and mark those target-billbee "
                                "wrote to Billbee as synchronised. Off by default: another target marks nothing, "
                                "and the stream reads the whole queue every run."),
        th.Property("order_ids", th.ArrayType(th.StringType), default=[], title="Only these orders",
                    description="Read only these goods orders' parcels (wemalo externalId = Billbee order id; "
                                "their handovers of the last 30 days), skip the stock, and leave every bookmark "
                                "where it is: a run triggered by webhooks (billbee-wemalo-events). Empty "
                                "(default): the normal run."),
        *http_settings(),
    ).to_dict()

    @cached_property
    def run(self) -> ShipmentsRun:
        """This run's context, handed to the streams (tap_wemalo_shipments.run)."""
        return ShipmentsRun(self.config, self.logger)

    @override
    def discover_streams(self) -> list[Stream]:
        found: list[Stream] = [streams.ShipmentsStream(self, self.run), streams.StockLevelsStream(self, self.run)]
        if self.config.get("sync_returns"):
            found.append(ReturnsStream(self, self.run))
        return found


if __name__ == "__main__":
    TapWemaloShipments.cli()
