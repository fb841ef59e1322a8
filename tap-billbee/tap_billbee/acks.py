"""Write the outcomes that target-wemalo reported back into Billbee, as tags and order messages.

The protocol (README, "Acknowledgement after commit"): target-wemalo puts one entry per order it handled into
the Singer state it emits, under ``bookmarks.orders.pending_acks``. Meltano stores that state only after the
target finished, so an acknowledgement exists only for what wemalo really has. At the start of the next run
the tap receives the state, writes the tags here and drops the entries it wrote. An entry whose write failed
transiently stays in the state and is tried again next run. Every write is idempotent (tags are added with
POST, which ignores tags already there), so an acknowledgement applied twice after a crash changes nothing.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from billbee_wemalo.billbee import BillbeeClient, ConnectorTags, has_tag, without_tag
from billbee_wemalo.http import ClientError, NotFoundError, TransientError
from billbee_wemalo.protocol import PENDING_ACKS_KEY, RECEIVED_OUTCOMES, WAREHOUSE_FLAGS_KEY, AckOutcome
from tap_billbee.timefmt import to_aware

REASONS_KEY = "rejection_reasons"  # order id -> hash of the last reason written as a message
ERROR_SEEN_KEY = "rejected_modified_at"  # order id -> LastModifiedAt right after the error tag was written

STUCK_REASONS_KEY = "stuck_reasons"  # order id -> hash of the last warehouse reason written as a message
# order id -> LastModifiedAt right after the stuck flag was written, for flags whose fix is the merchant's change
# (an address): a later change sends the order to wemalo again (OrdersStream._eligible).
STUCK_SEEN_KEY = "stuck_modified_at"

# the part of the orders state AckWriter changes
ACK_STATE_KEYS = (PENDING_ACKS_KEY, REASONS_KEY, ERROR_SEEN_KEY, WAREHOUSE_FLAGS_KEY, STUCK_REASONS_KEY,
                  STUCK_SEEN_KEY)


def reason_hash(reason: str) -> str:
    return hashlib.sha256(reason.encode()).hexdigest()[:16]


class AckWriter:
    def __init__(self, client: BillbeeClient, tags: ConnectorTags, logger: logging.Logger,
                 zone: ZoneInfo | None = None, stuck_tag: str = "", mirror: StatusMirror | None = None) -> None:
        self.client = client
        self.tags = tags
        self.stuck_tag = stuck_tag or tags.stuck
        self.mirror = mirror or StatusMirror()
        self.log = logger
        self.zone = zone or ZoneInfo("UTC")
        self.counts: Counter[str] = Counter()
        self.error_seen: dict[str, str | None] = {}
        # Orders that got a tag write and no other write: the evidence whether Billbee moves LastModifiedAt on
        # tag changes (a message moves it in any case). See OrdersStream._observe_tag_bump.
        self.tagged: set[int] = set()
        self.other_writes: set[int] = set()

    @property
    def tag_only(self) -> set[int]:
        return self.tagged - self.other_writes

    def apply_all(self, stream_state: dict[str, Any]) -> Counter[str]:
        pending: dict[str, dict[str, Any]] = stream_state.get(PENDING_ACKS_KEY) or {}
        reasons: dict[str, str] = stream_state.setdefault(REASONS_KEY, {})
        self.error_seen = stream_state.setdefault(ERROR_SEEN_KEY, {})
        for order_id in list(pending):
            ack = pending[order_id]
            try:
                self._apply(int(order_id), ack, reasons)
            except TransientError as exc:
                self.counts["kept_for_next_run"] += 1
                self.log.warning("Billbee order %s: acknowledgement %r kept for the next run: %s",
                                 order_id, ack.get("outcome"), exc, extra=_fields(order_id, ack, "kept"))
                continue
            except NotFoundError:
                self.counts["order_gone"] += 1
                self.log.warning("Billbee order %s: no longer exists in Billbee; acknowledgement %r dropped",
                                 order_id, ack.get("outcome"), extra=_fields(order_id, ack, "order_gone"))
            except ClientError as exc:
                self.counts["refused"] += 1
                self.log.error("Billbee order %s: acknowledgement %r refused by Billbee: %s",
                               order_id, ack.get("outcome"), exc, extra=_fields(order_id, ack, "refused"))
            del pending[order_id]
        if not pending:
            stream_state.pop(PENDING_ACKS_KEY, None)
        self._apply_flags(stream_state)
        return self.counts

    def _apply_flags(self, stream_state: dict[str, Any]) -> None:
        """The warehouse's verdicts (protocol.WAREHOUSE_FLAGS_KEY), after the acknowledgements: an order flagged
        in the run that sent it has its received tag first."""
        flags: dict[str, dict[str, Any]] = stream_state.get(WAREHOUSE_FLAGS_KEY) or {}
        reasons: dict[str, str] = stream_state.setdefault(STUCK_REASONS_KEY, {})
        seen: dict[str, str | None] = stream_state.setdefault(STUCK_SEEN_KEY, {})
        for order_id in list(flags):
            flag = flags[order_id]
            try:
                if "stuck" in flag:
                    self._flag(int(order_id), flag, reasons, seen)
                    flag = {k: v for k, v in flag.items() if k == "stage"}
                    flags[order_id] = flag  # written: a transient failure below keeps only the stage
                if "stage" in flag:
                    self._mirror(int(order_id), str(flag["stage"]))
            except TransientError as exc:
                self.counts["kept_for_next_run"] += 1
                self.log.warning("Billbee order %s: warehouse flag kept for the next run: %s", order_id, exc)
                continue
            except NotFoundError:
                self.counts["order_gone"] += 1
                self.log.warning("Billbee order %s: no longer exists in Billbee; warehouse flag dropped", order_id)
            except ClientError as exc:
                self.counts["refused"] += 1
                self.log.error("Billbee order %s: warehouse flag refused by Billbee: %s", order_id, exc)
            del flags[order_id]
        if not flags:
            stream_state.pop(WAREHOUSE_FLAGS_KEY, None)

    def _mirror(self, order_id: int, stage: str) -> None:
        """The status mirror: the Billbee state of the stage, only forward and only from a state the connector
        set or reads orders in (never over one the merchant chose by hand, never back from packed)."""
        wanted = self.mirror.state_for(stage)
        if wanted is None:
            return  # the mirror is off for this stage: nothing asked, nothing written
        current = self.client.get_order(order_id).get("State")
        if current == wanted or current not in self.mirror.moves_from(stage):
            self.counts["state_left_alone"] += 1
            return
        self.other_writes.add(order_id)
        self.client.set_order_state(order_id, wanted)
        self.counts[f"state_set_{stage}"] += 1

    def _flag(self, order_id: int, flag: dict[str, Any], reasons: dict[str, str],
              seen: dict[str, str | None]) -> None:
        """Stuck: one message per distinct reason, then the stuck tag. Moved on: the stuck tag goes (Billbee has
        no DELETE for one tag: the order's tags are written back without it)."""
        key = str(order_id)
        self.other_writes.add(order_id)  # not evidence of how tag writes move LastModifiedAt
        current = self.client.get_order(order_id)
        if flag.get("stuck"):
            text = f"Lager: {flag.get('reason') or 'wemalo hält den Auftrag zurück'}"
            digest = reason_hash(text)
            # A replay of a flag whose run was not committed finds its message among the order's Comments (where
            # Billbee lists API messages; docs/api-contract.md, "Billbee: order messages") and writes none.
            if reasons.get(key) != digest and not has_message(current, text):
                self.client.add_message(order_id, text)
                reasons[key] = digest
                self.counts["messages"] += 1
            if not has_tag(current.get("Tags"), self.stuck_tag):
                self.client.add_tags(order_id, [self.stuck_tag])
                current = self.client.get_order(order_id)
            self.counts["flagged_stuck"] += 1
            if flag.get("resend_on_change"):
                seen[key] = to_aware(current.get("LastModifiedAt"), self.zone)
            else:
                seen.pop(key, None)
            return
        if has_tag(current.get("Tags"), self.stuck_tag):
            self.client.replace_tags(order_id, without_tag(current.get("Tags"), self.stuck_tag))
            self.counts["flag_cleared"] += 1
        reasons.pop(key, None)
        seen.pop(key, None)

    def _apply(self, order_id: int, ack: dict[str, Any], reasons: dict[str, str]) -> None:
        outcome = ack.get("outcome")
        reason = ack.get("reason") or ""
        key = str(order_id)
        if outcome in RECEIVED_OUTCOMES:
            order = None
            if outcome == AckOutcome.CHANGE_REFUSED:
                order = self.client.get_order(order_id)
                self._change_refused_message(order_id, order, reason, reasons)
            else:
                reasons.pop(key, None)
            if ack.get("had_error_tag"):
                # No DELETE for tags: read the current tags and write them back without the error tag.
                current = (order or self.client.get_order(order_id)).get("Tags") or []
                wanted = without_tag(current, self.tags.error)
                if not has_tag(wanted, self.tags.received):
                    wanted.append(self.tags.received)
                self.client.replace_tags(order_id, wanted)
            else:
                self.client.add_tags(order_id, [self.tags.received])
            self.tagged.add(order_id)
            self.counts["tagged_received"] += 1
            self.error_seen.pop(key, None)
        elif outcome == AckOutcome.REJECTED:
            self._reject(order_id, ack, reasons)
        elif outcome == AckOutcome.CANCELLED:
            if ack.get("had_error_tag"):  # an earlier refusal of this cancellation: its error tag goes
                current = self.client.get_order(order_id).get("Tags") or []
                self.client.replace_tags(order_id, [*without_tag(current, self.tags.error), self.tags.cancelled])
            else:
                self.client.add_tags(order_id, [self.tags.cancelled])
            self.tagged.add(order_id)
            self.counts["tagged_cancelled"] += 1
            reasons.pop(key, None)
            self.error_seen.pop(key, None)
        elif outcome == AckOutcome.CANCEL_REFUSED:
            # Recorded once: the error tag and one message; asked again only after the merchant changes it.
            self._reject(order_id, ack, reasons, f"Stornierung nicht an wemalo übertragen: {reason}")
        else:
            self.log.warning("Billbee order %s: unknown acknowledgement outcome %r ignored", order_id, outcome)

    def _reject(self, order_id: int, ack: dict[str, Any], reasons: dict[str, str], text: str = "") -> None:
        """Message first, then the error tag, then remember the order's LastModifiedAt after these writes.

        The order is read first: if it carries the error tag although it had none when extracted, this
        acknowledgement was applied before a crash and its message is not written twice; its reason is
        remembered as written, so that the same reason after the merchant's next change is not written again.

        If the order changed since the version wemalo refused (the entry's `modified_at`, protocol.py), the
        change may be the merchant's fix, made before this acknowledgement was written (a run that wrote it was
        not committed, or the merchant did not wait for the tag): the refused version's LastModifiedAt is
        remembered instead, so the order is tried once more rather than waiting for a second change. When the
        change was only this acknowledgement's own earlier writes, that is one more refusal, no second message.
        """
        current = self.client.get_order(order_id)
        applied_before = has_tag(current.get("Tags"), self.tags.error) and not ack.get("had_error_tag")
        changed_since = self._changed_since_refused_version(current, ack)
        text = text or f"wemalo hat den Auftrag nicht angenommen: {ack.get('reason') or ''}"
        if applied_before:
            reasons[str(order_id)] = reason_hash(text)
        else:
            self._message_once(order_id, text, reasons)
            if not has_tag(current.get("Tags"), self.tags.error):
                self.client.add_tags(order_id, [self.tags.error])
                self.tagged.add(order_id)
                self.counts["tagged_error"] += 1
            current = self.client.get_order(order_id)
        if changed_since:
            self.counts["retried_after_change"] += 1
            self.error_seen[str(order_id)] = to_aware(ack["modified_at"], self.zone)
        else:
            self.error_seen[str(order_id)] = to_aware(current.get("LastModifiedAt"), self.zone)

    def _changed_since_refused_version(self, current: dict[str, Any], ack: dict[str, Any]) -> bool:
        """Is the order, before this acknowledgement's writes, newer than the version wemalo refused?"""
        refused = to_aware(ack.get("modified_at"), self.zone)
        now = to_aware(current.get("LastModifiedAt"), self.zone)
        if not refused or not now:  # an entry of a target before modified_at, or no timestamp: as before
            return False
        return datetime.fromisoformat(now) > datetime.fromisoformat(refused)

    def _change_refused_message(self, order_id: int, order: dict[str, Any], reason: str,
                                reasons: dict[str, str]) -> None:
        """The reason of a refused re-send, written before the received tag comes back.

        A re-send reaches wemalo only without the received tag, so an order that carries it again had this
        acknowledgement applied by a run that was not committed (killed, crashed): its message is not written
        twice. Message first, then the tag: a crash between the two repeats the message once rather than
        losing it.
        """
        text = f"Änderung nicht an wemalo übertragen: {reason}"
        if has_tag(order.get("Tags"), self.tags.received):
            self.counts["already_applied"] += 1
            reasons[str(order_id)] = reason_hash(text)  # written by that run: the same reason is not repeated
            return
        self._message_once(order_id, text, reasons)

    def _message_once(self, order_id: int, text: str, reasons: dict[str, str]) -> None:
        """One internal order message per distinct reason, so a rejected order is not spammed every hour."""
        digest = reason_hash(text)
        if reasons.get(str(order_id)) == digest:
            return
        self.other_writes.add(order_id)  # before the call: an ambiguous failure may have written it
        self.client.add_message(order_id, text)
        reasons[str(order_id)] = digest
        self.counts["messages"] += 1


@dataclass(frozen=True)
class StatusMirror:
    """Billbee states for wemalo's stages of fulfilment (settings accepted_state_id, packed_state_id; None =
    off), and the states the connector reads orders in (order_state_ids), from which it may move them."""

    accepted: int | None = None
    packed: int | None = None
    order_states: frozenset[int] = frozenset()

    def state_for(self, stage: str) -> int | None:
        return self.packed if stage == "packed" else self.accepted

    def moves_from(self, stage: str) -> frozenset[int]:
        if stage == "packed" and self.accepted is not None:
            return self.order_states | {self.accepted}
        return self.order_states

    @property
    def states(self) -> frozenset[int]:
        """The states the mirror puts orders in: the tap must go on reading orders in them."""
        return frozenset(s for s in (self.accepted, self.packed) if s is not None)


class AckPhase:
    """The acknowledgements written in a thread while the tap reads the products: Billbee limits each endpoint
    on its own (2/s), so tag writes and product pages need not wait for each other. The writer works on a copy
    of its part of the orders state; `join` (before the orders are read) waits and puts the result back."""

    def __init__(self, writer: AckWriter, stream_state: dict[str, Any]) -> None:
        self.writer = writer
        self.work = copy.deepcopy({key: stream_state[key] for key in ACK_STATE_KEYS if key in stream_state})
        self.started = datetime.now(UTC)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="billbee-acknowledgements", daemon=True)

    def start(self) -> AckPhase:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self.writer.apply_all(self.work)
        except BaseException as exc:  # re-raised in the stream's thread by join()
            self._error = exc

    def join(self, stream_state: dict[str, Any]) -> Counter[str]:
        if self._thread.ident is None:  # never started: write now
            self.started = datetime.now(UTC)
            self._run()
        self._thread.join()
        if self._error is not None:
            raise self._error
        for key in ACK_STATE_KEYS:
            if key in self.work:
                stream_state[key] = self.work[key]
            else:
                stream_state.pop(key, None)
        return self.writer.counts


def has_message(order: dict[str, Any], text: str) -> bool:
    return any(isinstance(c, dict) and str(c.get("Text") or "").strip() == text.strip()
               for c in order.get("Comments") or [])


def _fields(order_id: str, ack: dict[str, Any], result: str) -> dict[str, Any]:
    """Structured-logging fields of an acknowledgement line (ids and outcomes only)."""
    return {"stream_name": "orders", "record_id": order_id, "outcome": ack.get("outcome"), "ack_result": result}
