"""tap-wemalo-shipments: parcels handed to the carrier (with tracking numbers) and available stock from wemalo."""

from __future__ import annotations

from functools import cached_property
from zoneinfo import ZoneInfo

from singer_sdk import Stream, Tap
from singer_sdk import typing as th

from billbee_wemalo.http import API_URL_PATTERN, RetryPolicy
from billbee_wemalo.wemalo import DEFAULT_API_URL, WemaloClient
from tap_wemalo_shipments import streams


class TapWemaloShipments(Tap):
    """Read-only: the tap never writes to wemalo (see the README for why the time window was chosen)."""

    name = "tap-wemalo-shipments"
    package_name = "tap-wemalo-shipments"

    config_jsonschema = th.PropertiesList(
        th.Property("api_url", th.StringType(pattern=API_URL_PATTERN), default=DEFAULT_API_URL, title="API URL",
                    description="wemalo-connect base URL. https only, except on loopback (the sandbox)."),
        th.Property("token", th.StringType, required=True, secret=True, title="API token",
                    description="The wemalo-connect token (sent as `Authorization: JWT <token>`)."),
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
        th.Property("request_timeout", th.NumberType, default=60, title="Request timeout (s)"),
        th.Property("max_attempts", th.IntegerType, default=8, title="Attempts per request"),
    ).to_dict()

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
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.config.get("wemalo_timezone") or "Europe/Berlin")

    def discover_streams(self) -> list[Stream]:
        return [streams.ShipmentsStream(self), streams.StockLevelsStream(self)]


if __name__ == "__main__":
    TapWemaloShipments.cli()
