"""Sinks: products (batched, compared against wemalo before any write), orders (one at a time, exactly once) and
return requests (each announced once: announce.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date
from typing import Any

from singer_sdk import Target
from singer_sdk.sinks import BatchSink, RecordSink, Sink
from typing_extensions import override

from billbee_wemalo.billbee import CANCELLED_STATES
from billbee_wemalo.http import AmbiguousWriteError, ApiError, ClientError, NotFoundError, TransientError
from billbee_wemalo.protocol import RECEIVED_OUTCOMES, AckOutcome, AnnounceOutcome, return_external_id
from billbee_wemalo.sdk.run import run_of
from billbee_wemalo.sdk.sinks import RuleCheckedSink
from billbee_wemalo.wemalo import CANCELLABLE_STATUSES, CHANGEABLE_STATUSES
from target_wemalo.address import MAX_LINE
from target_wemalo.announce import AnnounceError, map_announcement, order_label
from target_wemalo.orders import OrderError, map_goods_order
from target_wemalo.products import ARTICLE_FIELDS, ProductPlanner
from target_wemalo.run import WemaloRun

ADD_MULTIPLE_CHUNK = 100


class CouldNotAskWemalo(RuntimeError):
    """A read wemalo did not answer usefully: the run ends, no order is marked refused."""


class WemaloSink(RuleCheckedSink, Sink):
    """A sink of this target: business rules instead of schema validation, and the run context in `self.run`."""

    def __init__(self, target: Target, stream_name: str, schema: dict[str, Any],
                 key_properties: Sequence[str] | None) -> None:
        super().__init__(target, stream_name, schema, key_properties)
        self.run = run_of(target, WemaloRun)


class ProductsSink(WemaloSink, BatchSink):
    """Collects articles, then decides locally and sends only creates and real changes via addMultiple."""

    max_size = 2000

    @property
    def planner(self) -> ProductPlanner:
        return self.run.catalogue

    @override
    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        """Batched as the SDK does, but only the fields the planner reads (products.ARTICLE_FIELDS)."""
        super().process_record({key: record[key] for key in ARTICLE_FIELDS if key in record}, context)

    @override
    def process_batch(self, context: dict[str, Any]) -> None:
        report = self.run.report
        to_send: list[tuple[str, dict[str, Any]]] = []
        for article in context.get("records", []):
            record_id = article.get("SKU") or article.get("Id")
            decision = self.planner.decide(article)
            if decision.action in {"create", "update"}:
                to_send.append((decision.action, decision.payload or {}))
            elif decision.action == "unchanged":
                # the same text; the planner's string object, so that the report keeps no second copy per article
                same = decision.kept_sku if decision.kept_sku == record_id else record_id
                report.add_unchanged("products", same)  # its id only, not an Outcome (100,000 on everyday runs)
            else:
                report.add("products", f"{record_id} (Billbee id {article.get('Id')})",
                           "skipped" if decision.action == "skip" else "rejected", decision.reason)
        for start in range(0, len(to_send), ADD_MULTIPLE_CHUNK):
            self._send(to_send[start:start + ADD_MULTIPLE_CHUNK])

    def _complete(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """An update carries the product's other wemalo fields as wemalo has them: whether addMultiple merges
        or replaces is undocumented, so nothing the connector does not manage may be lost."""
        if action != "update":
            return payload
        current = self.run.client.get_product(payload["externalId"]) or {}
        kept = {k: v for k, v in current.items() if k not in {"Success", "status", "id"}}
        return {**kept, **payload}

    def _send(self, chunk: list[tuple[str, dict[str, Any]]]) -> None:
        report = self.run.report
        try:
            answer = self.run.client.add_products([self._complete(action, p) for action, p in chunk])
        except ClientError as exc:  # a refusal, whatever its body says (a 4xx body need not carry Success: false)
            body = exc.body if isinstance(exc.body, dict) else {}
            answer = {**body, "Success": False, "message": body.get("message") or _wemalo_reason(exc)}
        except TransientError as exc:
            for _, payload in chunk:
                report.add("products", payload["sku"], "failed", f"wemalo unreachable: {exc}")
                self.planner.mark_unsent(payload["sku"], str(exc))  # orders needing it wait for the next run
            return
        errors = {str(e.get("externalId") or e.get("extId")): e.get("message") or "refused"
                  for e in answer.get("errors") or [] if isinstance(e, dict)}
        saved_all = answer.get("Success") is not False
        retry = []
        for action, payload in chunk:
            ext = payload["externalId"]
            if ext in errors:
                report.add("products", payload["sku"], "rejected", f"wemalo: {errors[ext]}")
                self.planner.refuse(action, payload, f"wemalo: {errors[ext]}")
            elif saved_all:
                report.add("products", payload["sku"], "created" if action == "create" else "updated")
            else:
                retry.append((action, payload))
        if retry and errors:  # all-or-nothing batch refused for some items: send the good ones again
            self._send(retry)
        elif retry:
            for action, payload in retry:
                reason = f"wemalo: {answer.get('message') or 'refused'}"
                report.add("products", payload["sku"], "rejected", reason)
                self.planner.refuse(action, payload, reason)


class OrdersSink(WemaloSink, RecordSink):
    """One goods order per Billbee order, never two: wemalo is asked by externalId before anything is created."""

    @override
    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        self.run.flush_products()  # orders may use articles created in this run
        order_id = str(record.get("BillBeeOrderId"))
        had_error_tag = self.run.has_error_tag(record)
        try:
            outcome, reason = self._handle(order_id, record)
        except TransientError as exc:
            # Not acknowledged, and the bookmark is held back to it: the next run reads it again.
            self.run.report.add("orders", order_id, "failed", f"will retry next run: {exc}")
            if record.get("LastModifiedAt"):
                self.run.held.hold("orders", "LastModifiedAt", record["LastModifiedAt"])
            return
        except ApiError as exc:
            # A refusal of this order's write is an outcome (caught in _handle); anything else here is a read
            # that failed (getStatus, profiles, credentials): wemalo could not be asked, so nothing is tagged
            # and the run fails with the reason, instead of every order of the run getting the error tag.
            self.run.report.add("orders", order_id, "failed", f"could not ask wemalo: {exc}")
            raise CouldNotAskWemalo(f"target-wemalo: could not ask wemalo about Billbee order {order_id}: {exc}. "
                                    "Nothing was tagged; the run can be repeated.") from exc
        self.run.report.add("orders", order_id, _REPORTED.get(outcome, outcome), reason)
        if outcome in RECEIVED_OUTCOMES:
            self.run.watch(order_id)
        self.run.acknowledge(order_id, outcome, reason, had_error_tag=had_error_tag,
                             modified_at=record.get("LastModifiedAt"))

    def _handle(self, order_id: str, record: dict[str, Any]) -> tuple[str, str]:
        client = self.run.client
        if record.get("IsCancelationFor"):
            return "skipped", "Billbee cancellation credit order: never a goods order"
        if record.get("State") in CANCELLED_STATES:
            return self._cancel(order_id)
        try:
            goods_order = map_goods_order(record, dispatcher_map=self.config.get("dispatcher_profile_map") or {},
                                          profiles=self.run.profile_match_ids,
                                          line_limit=int(self.config.get("address_line_limit", MAX_LINE)))
        except OrderError as exc:
            return self._refused(str(exc), client.order_status(order_id))
        catalogue = self.run.catalogue
        missing = [p["externalId"] for p in goods_order["positions"] if not catalogue.knows_sku(p["externalId"])]
        status = client.order_status(order_id)
        unsent = [p["externalId"] for p in goods_order["positions"] if catalogue.unsent_reason(p["externalId"])]
        if status is None and unsent:
            # Not the order's fault: the article's write failed transiently. Held back, sent with the next run.
            raise TransientError(f"article {unsent[0]} could not be sent to wemalo in this run: "
                                 f"{catalogue.unsent_reason(unsent[0])}", system="wemalo")
        if missing and (status is None or status.get("statusName") in CHANGEABLE_STATUSES):
            return self._refused("; ".join(catalogue.why_missing(sku) for sku in missing), status)
        fingerprint = positions_fingerprint(goods_order["positions"])
        if status is None:
            try:
                client.add_order(goods_order)
            except AmbiguousWriteError:
                if client.order_status(order_id) is None:  # it did not arrive: the next run sends it again
                    raise
            except ClientError as exc:
                if client.order_status(order_id) is not None:  # "already exists" after a lost answer
                    return AckOutcome.UNCHANGED, ""
                return AckOutcome.REJECTED, _wemalo_reason(exc)
            self.run.record_sent(order_id, fingerprint)
            return AckOutcome.ACCEPTED, ""
        name = status.get("statusName") or "UNKNOWN"
        sent = self.run.sent_positions(order_id)
        if name in CHANGEABLE_STATUSES and sent is not None and sent != fingerprint:
            # updateMeta changes meta only, and wemalo has no call to read positions back: the wrong goods would
            # ship. The merchant cancels the order and creates a new one.
            return AckOutcome.CHANGE_REFUSED, ("the order's articles or quantities changed; wemalo cannot change an "
                                               "order's positions: cancel this order in Billbee and create a new one")
        if name in CHANGEABLE_STATUSES:
            try:
                client.update_order_meta(order_id, goods_order["meta"])
            except ClientError as exc:  # e.g. the warehouse started picking since getStatus
                return AckOutcome.CHANGE_REFUSED, _wemalo_reason(exc)
            return AckOutcome.UPDATED, ""
        if name == "CANCELLED":
            return AckOutcome.REJECTED, "the order is cancelled in wemalo"
        return AckOutcome.CHANGE_REFUSED, f"wemalo is already processing the order (status {name})"

    @staticmethod
    def _refused(reason: str, status: dict[str, Any] | None) -> tuple[str, str]:
        """An order wemalo already has is not refused, only its change (a re-send): wemalo keeps the order as it
        was, so it keeps the received tag (and can still be cancelled); the reason goes to the order."""
        if status is None or status.get("statusName") == "CANCELLED":
            return AckOutcome.REJECTED, reason
        return AckOutcome.CHANGE_REFUSED, reason

    def _cancel(self, order_id: str) -> tuple[str, str]:
        client = self.run.client
        status = client.order_status(order_id)
        if status is None:
            return "skipped", "cancelled in Billbee and never sent to wemalo"
        name = status.get("statusName") or "UNKNOWN"
        if name == "CANCELLED":
            return AckOutcome.CANCELLED, ""
        if name not in CANCELLABLE_STATUSES:
            return AckOutcome.CANCEL_REFUSED, f"too late to cancel in wemalo (status {name})"
        try:
            client.cancel_order(order_id, "cancelled in Billbee")
        except ClientError as exc:
            return AckOutcome.CANCEL_REFUSED, _wemalo_reason(exc)
        # The answer to a cancel that came too late is not documented: only the status shows what happened.
        after = (client.order_status(order_id) or {}).get("statusName") or "UNKNOWN"
        if after != "CANCELLED":
            return AckOutcome.CANCEL_REFUSED, (f"wemalo kept the order (status {after}): the warehouse has already "
                                               "picked it")
        return AckOutcome.CANCELLED, ""


class ReturnRequestsSink(WemaloSink, RecordSink):
    """A Billbee order the merchant tagged for a return (tap-billbee's return_requests) -> one return announcement
    in wemalo (`returns/announce`), never two: see announce.AnnouncementLedger and docs/api-contract.md, "wemalo:
    returns/announce". Each order gets one acknowledgement for tap-billbee: the confirmation tag, or the error tag
    and the reason as a message."""

    @override
    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        order_id = str(record.get("BillBeeOrderId"))
        ledger = self.run.announcements
        if ledger.is_replay(order_id):
            self.run.report.add(self.stream_name, order_id, "unchanged",
                                "handled in an earlier run; its tag is written by tap-billbee's next run")
            return
        n = ledger.number(order_id)
        external_id = return_external_id(order_id, n)
        try:
            outcome, reason = self._announce(order_id, record, n)
        except TransientError as exc:  # nothing reached wemalo: the tap emits the order again next run
            self.run.report.add(self.stream_name, order_id, "failed", f"will retry next run: {exc}")
            return
        except ApiError as exc:  # a read (wemalo's catalogue) or the credentials: nothing is tagged
            self.run.report.add(self.stream_name, order_id, "failed", f"could not ask wemalo: {exc}")
            raise CouldNotAskWemalo(f"target-wemalo: could not announce the return of Billbee order {order_id}: "
                                    f"{exc}. Nothing was tagged; the run can be repeated.") from exc
        self.run.report.add(self.stream_name, order_id, "created" if outcome == AnnounceOutcome.ANNOUNCED
                            else "rejected", reason or external_id)
        self.run.acknowledge_announce(order_id, outcome, reason, external_id)
        if outcome == AnnounceOutcome.ANNOUNCED:
            self.run.checkpoint()

    def _announce(self, order_id: str, record: dict[str, Any], n: int) -> tuple[AnnounceOutcome, str]:
        reason = self.config.get("return_reason_id")
        reason_id = None if reason is None or reason == "" else int(reason)
        try:
            body = map_announcement(record, n=n, line_limit=int(self.config.get("address_line_limit", MAX_LINE)),
                                    return_reason_id=reason_id)
        except AnnounceError as exc:
            return AnnounceOutcome.REFUSED, str(exc)
        label = order_label(record)
        self.run.flush_products()  # articles created in this run
        catalogue = self.run.catalogue
        skus = [str(item["externalId"]) for item in body["items"]]
        unsent = [sku for sku in skus if catalogue.unsent_reason(sku)]
        if unsent:
            raise TransientError(f"article {unsent[0]} could not be sent to wemalo in this run", system="wemalo")
        missing = [sku for sku in skus if not catalogue.knows_sku(sku)]
        if missing:
            return AnnounceOutcome.REFUSED, f"{label}: " + "; ".join(catalogue.why_missing(sku) for sku in missing)
        try:
            answer = self.run.client.announce_return(body)
        except AmbiguousWriteError as exc:
            # wemalo cannot be asked whether it arrived, and a repeat may announce the parcel twice: the merchant
            # looks in wemalo and removes the error tag to send it again (the same externalId).
            return AnnounceOutcome.REFUSED, (
                f"{label}: wemalo did not confirm the return announcement {body['externalId']} ({exc}); it may "
                "have arrived: look for it in wemalo before removing the error tag, which sends it again")
        except (ClientError, NotFoundError) as exc:  # NOT_FOUND: an article wemalo does not know after all
            known = _already_announced(exc, body["externalId"])
            if known is None:
                return AnnounceOutcome.REFUSED, f"{label}: wemalo refused the return announcement: " + \
                    _wemalo_reason(exc)
            answer = known  # announced by a run whose state Meltano never stored: wemalo has it
        self.run.announcements.record(order_id, n, body["externalId"], answer.get("id"), date.today())
        return AnnounceOutcome.ANNOUNCED, ""


def _already_announced(exc: ApiError, external_id: str) -> dict[str, Any] | None:
    """wemalo refusing an announcement because its externalId is known (409, or a refusal naming the field
    externalId; undocumented: docs/api-contract.md, "wemalo: returns/announce") means an earlier attempt arrived."""
    body = exc.body if isinstance(exc.body, dict) else {}
    if exc.status == 409 or str(body.get("field") or "") == "externalId":
        return {"id": body.get("id"), "externalId": external_id}
    return None


def positions_fingerprint(positions: list[dict[str, Any]]) -> str:
    """Positions as wemalo gets them (article, quantity), order-independent."""
    lines = sorted(f"{p.get('externalId')}\x00{p.get('quantity')}" for p in positions)
    return hashlib.sha256("\x01".join(lines).encode()).hexdigest()[:16]


# How the run report names an acknowledged outcome (the report's outcomes are the same for every target).
_REPORTED: dict[str, str] = {AckOutcome.ACCEPTED: "created", AckOutcome.CHANGE_REFUSED: "rejected",
             AckOutcome.CANCEL_REFUSED: "rejected"}


def _wemalo_reason(exc: ApiError) -> str:
    return str(exc).split(": ", 1)[-1]
