"""What one tap-wemalo-shipments run shares between its streams, built once by the tap."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from billbee_wemalo.sdk.settings import wemalo_client
from billbee_wemalo.wemalo import WemaloClient


class ShipmentsRun:
    """The wemalo client and wemalo's time zone (its timestamps are naive)."""

    def __init__(self, config: Mapping[str, Any], logger: logging.Logger) -> None:
        self.config = config
        self.logger = logger
        self.zone = ZoneInfo(config.get("wemalo_timezone") or "Europe/Berlin")
        # A run restricted to these goods orders (setting order_ids): their parcels only, no stock, bookmarks held.
        self.order_ids: tuple[str, ...] = tuple(dict.fromkeys(str(i) for i in config.get("order_ids") or []))

    @cached_property
    def client(self) -> WemaloClient:
        return wemalo_client(self.config, self.logger)  # made when a stream first calls wemalo
