"""What one target-wemalo run shares between its sinks, built once by the target (sinks: `run_of`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Any

from typing_extensions import override

from billbee_wemalo.billbee import ConnectorTags, has_tag
from billbee_wemalo.protocol import (
    ACK_OUTCOMES,
    ANNOUNCED_KEY,
    PENDING_ACKS_KEY,
    PENDING_ANNOUNCE_ACKS_KEY,
    RETURN_REQUESTS_STREAM,
    WAREHOUSE_FLAGS_KEY,
    AnnounceOutcome,
)
from billbee_wemalo.sdk.run import TargetRun
from billbee_wemalo.sdk.settings import wemalo_client
from billbee_wemalo.wemalo import WemaloClient
from target_wemalo.announce import AnnouncementLedger
from target_wemalo.products import ProductPlanner
from target_wemalo.warehouse import WATCH_CHECKED_KEY, WATCH_KEY, CheckResult, WarehouseWatch, watch_list

# bookmarks.orders.sent_positions: Billbee order id -> [fingerprint of the positions sent to wemalo, date sent].
# wemalo has no call that reads an order's positions, so a re-send compares against what this target sent.
POSITIONS_KEY = "sent_positions"
POSITIONS_KEPT_DAYS = 120


class WemaloRun(TargetRun):
    """The wemalo client, wemalo's catalogue and profiles (read once, when first needed), and the state this
    run adds for the next: acknowledgements for tap-billbee, the positions sent."""

    def __init__(self, plugin: str, config: Mapping[str, Any], logger: logging.Logger,
                 flush_products: Callable[[], None], checkpoint: Callable[[], None] = lambda: None) -> None:
        super().__init__(plugin, config, logger)
        self.flush_products = flush_products  # send the products collected so far, before an order needs them
        self._checkpoint = checkpoint  # drain every sink and emit the state now (Meltano stores it at once)
        self.announcements = AnnouncementLedger()  # return announcements (announce.py), from the first STATE
        self.announce_acks: dict[str, dict[str, Any]] = {}
        self.tags = ConnectorTags((config.get("orders_tag") or "wemalo").strip())
        self.acks: dict[str, dict[str, Any]] = {}
        self.positions_known: dict[str, list[str]] | None = None  # from the incoming state (first STATE message)
        self.positions_sent: dict[str, list[str]] = {}  # written in this run
        self.watched_known: dict[str, Any] | None = None  # the watch list of earlier runs (warehouse.py)
        self.watch_new: set[str] = set()  # orders wemalo took in this run
        self.warehouse: CheckResult | None = None  # the end-of-run check (setting stuck_check)
        self.watch_next: dict[str, dict[str, Any]] | None = None  # the watch list for the next run
        self.checked_at: datetime | None = None  # the last check (state key WATCH_CHECKED_KEY)

    @cached_property
    def client(self) -> WemaloClient:
        return wemalo_client(self.config, self.logger, self.planned)

    @cached_property
    def catalogue(self) -> ProductPlanner:
        """wemalo's products, read once per run; the products sink plans against it, orders check SKUs in it."""
        planner = ProductPlanner(default_group=self.config.get("product_group") or "default",
                                 update_dimensions=bool(self.config.get("update_dimensions")))
        # Each product is indexed while the answer is parsed, in the list's order: wemalo's list never exists
        # as a whole. What is left in it is what the planner skips anyway (malformed entries that are no object).
        self.client.list_products(compact=planner.take, restart=planner.restart)
        return planner

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

    def has_error_tag(self, order: Mapping[str, Any]) -> bool:
        return has_tag([str(t) for t in order.get("Tags") or []], self.tags.error)

    def acknowledge(self, order_id: str, outcome: str, reason: str, *, had_error_tag: bool,
                    modified_at: str | datetime | None = None) -> None:
        """One entry of the protocol (protocol.py); `modified_at` is the LastModifiedAt of the version handled."""
        if outcome in ACK_OUTCOMES:
            entry: dict[str, Any] = {"outcome": str(outcome), "reason": reason, "had_error_tag": had_error_tag}
            if modified_at:  # the SDK hands date-time fields over parsed
                entry["modified_at"] = modified_at.isoformat() if isinstance(modified_at, datetime) else modified_at
            self.acks[order_id] = entry

    def acknowledge_announce(self, order_id: str, outcome: AnnounceOutcome, reason: str, external_id: str) -> None:
        """One return request's entry for tap-billbee (protocol.PENDING_ANNOUNCE_ACKS_KEY)."""
        self.announce_acks[order_id] = {"outcome": str(outcome), "reason": reason, "externalId": external_id}
        self.announcements.pending.add(order_id)

    def checkpoint(self) -> None:
        """Have Meltano store the state now (after a write wemalo cannot be asked about: an announcement), so
        that a run killed later does not send it again. Nothing in a dry run."""
        if not self.dry_run:
            self._checkpoint()

    def watch(self, order_id: str) -> None:
        """Watch an order wemalo has until it ships: stuck orders are flagged (warehouse.py)."""
        self.watch_new.add(order_id)

    @override
    def before_last_state(self) -> None:
        """Ask wemalo about every watched order (setting `stuck_check`), at most every `stuck_check_minutes`
        (runs triggered by webhooks come in between and only add the orders they sent); the verdicts that
        changed go to tap-billbee in the state."""
        if not self.config.get("stuck_check", True):
            return
        watched = watch_list(self.watched_known, self.positions_known or {}, date.today())
        for order_id in self.watch_new:
            watched.setdefault(order_id, {"partial_since": None, "flag": None})
        self.watch_next = watched
        now = datetime.now(UTC)
        minutes = float(self.config.get("stuck_check_minutes", 50) or 0)
        if not watched or (self.checked_at and now - self.checked_at < timedelta(minutes=minutes)):
            return
        checker = WarehouseWatch(self.client, self.logger,
                                 partial_hours=float(self.config.get("stuck_partial_hours", 24)))
        self.warehouse = checker.check(watched, now)
        self.watch_next, self.checked_at = self.warehouse.watched, now
        for order_id, flag in self.warehouse.flags.items():
            if "stuck" in flag:
                self.report.add("warehouse", order_id, "flagged" if flag["stuck"] else "cleared", flag["reason"])
            if "stage" in flag:
                self.report.counters[f"warehouse_stage_{flag['stage']}"] += 1
        self.logger.info("wemalo asked about %d held orders (%d not answered): %d stuck, %d changed",
                         self.warehouse.asked, self.warehouse.failed,
                         sum(1 for w in self.warehouse.watched.values() if w.get("flag")), len(self.warehouse.flags))

    def record_sent(self, order_id: str, fingerprint: str) -> None:
        self.positions_sent[order_id] = [fingerprint, date.today().isoformat()]

    def sent_positions(self, order_id: str) -> str | None:
        """The fingerprint of the positions this target sent to wemalo for the order (None: not known)."""
        entry = self.positions_sent.get(order_id) or (self.positions_known or {}).get(order_id)
        return entry[0] if entry else None

    @override
    def read_state(self, state: Mapping[str, Any]) -> None:
        """The tap's state: the positions earlier runs sent (its first STATE message carries them)."""
        if self.positions_known is None:
            orders = state.get("bookmarks", {}).get("orders", {})
            self.positions_known = dict(orders.get(POSITIONS_KEY) or {})
            known = orders.get(WATCH_KEY)
            self.watched_known = dict(known) if isinstance(known, dict) else None
            checked = orders.get(WATCH_CHECKED_KEY)
            self.checked_at = datetime.fromisoformat(checked) if isinstance(checked, str) else None
            returns = state.get("bookmarks", {}).get(RETURN_REQUESTS_STREAM, {})
            self.announcements.known = {**(returns.get(ANNOUNCED_KEY) or {}), **self.announcements.known}
            self.announcements.pending |= set(returns.get(PENDING_ANNOUNCE_ACKS_KEY) or {})

    @override
    def add_to_state(self, state: dict[str, Any]) -> dict[str, Any]:
        """The tap's state plus this run's acknowledgements under bookmarks.orders.pending_acks and the positions
        sent, with the bookmarks of failed records held back. A dry run adds nothing: it wrote nothing.

        Meltano stores this state only after the target finished, and tap-billbee writes the tags from it
        next run: a tag never precedes wemalo's acceptance. The tap drops entries once written, so whatever
        is in the incoming state is still pending and is kept.
        """
        if not self.dry_run and self.acks:
            orders = state.setdefault("bookmarks", {}).setdefault("orders", {})
            orders[PENDING_ACKS_KEY] = {**(orders.get(PENDING_ACKS_KEY) or {}), **self.acks}
        if not self.dry_run and self.positions_sent:
            orders = state.setdefault("bookmarks", {}).setdefault("orders", {})
            oldest = (date.today() - timedelta(days=POSITIONS_KEPT_DAYS)).isoformat()
            merged = {**(orders.get(POSITIONS_KEY) or {}), **self.positions_sent}
            orders[POSITIONS_KEY] = {k: v for k, v in merged.items() if v[1] >= oldest}
        if not self.dry_run and self.watch_next is not None:
            orders = state.setdefault("bookmarks", {}).setdefault("orders", {})
            orders[WATCH_KEY] = self.watch_next
        if not self.dry_run and self.warehouse is not None and self.checked_at is not None:
            orders = state.setdefault("bookmarks", {}).setdefault("orders", {})
            orders[WATCH_CHECKED_KEY] = self.checked_at.isoformat()
            if self.warehouse.flags:
                orders[WAREHOUSE_FLAGS_KEY] = {**(orders.get(WAREHOUSE_FLAGS_KEY) or {}), **self.warehouse.flags}
        if not self.dry_run and (self.announce_acks or self.announcements.new):
            returns = state.setdefault("bookmarks", {}).setdefault(RETURN_REQUESTS_STREAM, {})
            if self.announce_acks:
                returns[PENDING_ANNOUNCE_ACKS_KEY] = {**(returns.get(PENDING_ANNOUNCE_ACKS_KEY) or {}),
                                                      **self.announce_acks}
            if self.announcements.new:
                returns[ANNOUNCED_KEY] = self.announcements.merged(returns.get(ANNOUNCED_KEY), date.today())
        return self.held.apply(state)
