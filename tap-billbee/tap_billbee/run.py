"""What one tap-billbee run shares between its streams, built once by the tap and handed to each stream."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from billbee_wemalo.billbee import BillbeeClient, ConnectorTags, OrderState
from billbee_wemalo.report import RunReport
from billbee_wemalo.sdk.settings import billbee_client
from tap_billbee.acks import StatusMirror
from tap_billbee.bundles import BundleIndex


class TapRun:
    """The Billbee client, Billbee's time zone, the connector's tags (None: plain ELT), the bundle index the
    products stream fills for the orders stream, and the counts of the run report."""

    def __init__(self, plugin: str, config: Mapping[str, Any], logger: logging.Logger) -> None:
        self.plugin = plugin
        self.config = config
        self.logger = logger
        self.zone = ZoneInfo(config.get("billbee_timezone") or "UTC")
        tag = (config.get("orders_tag") or "").strip()
        self.tags = ConnectorTags(tag) if tag else None
        self.bundles = BundleIndex()
        self.ack_counts: Counter[str] = Counter()  # what AckWriter wrote to Billbee in this run
        self.records_emitted: Counter[str] = Counter()
        # A run restricted to these orders (setting order_ids): no products, no queries, bookmarks held.
        self.order_ids: tuple[int, ...] = tuple(dict.fromkeys(int(i) for i in config.get("order_ids") or []))
        self.hint_skips = 0  # orders of order_ids not read: their webhooks showed nothing to do (tap_billbee.hints)

    @cached_property
    def mirror(self) -> StatusMirror:
        """The status mirror (settings accepted_state_id, packed_state_id), moving orders on from the states the
        tap reads (order_state_ids; paid where that is every state)."""
        def state(name: str) -> int | None:
            value = self.config.get(name)
            return None if value is None or value == "" else int(value)
        read = frozenset(int(s) for s in self.config.get("order_state_ids") or [OrderState.PAID])
        return StatusMirror(accepted=state("accepted_state_id"), packed=state("packed_state_id"), order_states=read)

    def order_states(self) -> list[int]:
        """The states the orders queries ask for: order_state_ids and those the status mirror moves orders to,
        so that a moved order is still seen (re-send, address fix); empty = every state."""
        states = {int(s) for s in self.config.get("order_state_ids") or []}
        return sorted(states | self.mirror.states) if states else []

    @cached_property
    def client(self) -> BillbeeClient:
        return billbee_client(self.config, self.logger)  # made when a stream first calls Billbee

    def finish(self) -> None:
        """The acknowledgements of the previous run's orders are this run's writes to Billbee: the merchant reads
        them in the same summary format as the targets' (log lines and a JSON file per run)."""
        report = RunReport(self.plugin, self.logger)
        report.counters.update({f"acknowledgements_{k}": v for k, v in self.ack_counts.items()})
        report.counters.update({f"{k}_extracted": v for k, v in self.records_emitted.items()})
        if self.hint_skips:
            report.counters["orders_not_read_by_hint"] = self.hint_skips
        report.finish(self.config.get("report_dir"))
