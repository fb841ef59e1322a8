"""Webhooks: ``POST webhook/:event``, ``GET webhook``, ``DELETE webhook/:event`` and the events the store sends to
them (through :class:`sandbox.webhook_delivery.Deliverer`).

Documented (apidoc ``registerWebHook``): the events ``status_update`` (``orderId, externalId, orderNumber``),
``stock_change`` (``type`` INCOMING_STOCK | RETURNSHIPMENT, ``orderId, externalId``), ``refurbishment_action``
(``refurbishmentId``), ``trackingnumber_added`` (``goodsOrderId, goodsOrderParcelId``); an HTTP POST to
``payload``; up to 10 s for a successful answer; retried "few minutes later"; after 10 failed attempts the hook
is unregistered and an e-mail is sent (the admin view keeps it under ``unregistrations``).

Readings (settings, store.settings): the registration's answer (``webhook_register_answer``), a repeated POST
(``webhook_replace``), whether ``email``/``mail`` is required (``webhook_require_email``), the body
(``webhook_body``: ``wp`` = ``{"token", "eventData": {...}}`` as wemalo's WooCommerce plugin reads it | ``flat``),
its fields (``webhook_event_fields``), where the token goes (``webhook_token_in``), the encoding
(``webhook_encoding``), what counts as success (``webhook_success``), a status_update for a new order
(``webhook_status_on_create``), how the 10 failures are counted (``webhook_failure_count``), the retry interval.

Where the store fires: ``status_update`` on each status change of an order (``_set_status``);
``trackingnumber_added`` for each parcel packed with its tracking number; ``stock_change`` (INCOMING_STOCK, the
stock booking of ``POST /_admin/stock`` that raises a product's stock; it belongs to no goods receipt, so
``orderId``/``externalId`` are null). ``refurbishment_action`` is never fired by the store (no refurbishments);
``POST /_admin/webhooks/trigger`` fires any event by hand. Loading a scenario fires nothing.
"""

from __future__ import annotations

import contextlib
import copy
import json
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from sandbox.core import SimContext
from sandbox.webhook_delivery import Deliverer, Delivery, Request
from sandbox.wemalo.store.base import AccountBase
from sandbox.wemalo.store.model import WemaloError, missing

EVENTS = ("status_update", "stock_change", "refurbishment_action", "trackingnumber_added")
# The fields the apidoc names per event; "extended" (setting webhook_event_fields) adds what wemalo's WP plugin reads.
DOCUMENTED = {"status_update": ("orderId", "externalId", "orderNumber"),
              "stock_change": ("type", "orderId", "externalId"),
              "refurbishment_action": ("refurbishmentId",),
              "trackingnumber_added": ("goodsOrderId", "goodsOrderParcelId")}


class WebhooksMixin(AccountBase):
    def __init__(self, ctx: SimContext) -> None:
        self.hooks: dict[str, dict[str, Any]] = {}  # by event
        self.hook_generation = 0
        self.dead_generations: set[int] = set()  # unregistered or replaced (read by the deliverer without lock)
        self.unregistrations: list[dict[str, Any]] = []
        self.consecutive_failures: dict[str, int] = {}
        self.quiet = False  # True while a scenario loads
        self.deliverer = Deliverer("wemalo", _Policy(ctx, self))
        super().__init__(ctx)

    def reset_webhooks(self) -> None:
        with self.ctx.lock:
            self.dead_generations |= {h["generation"] for h in self.hooks.values()}
            self.hooks.clear()
            self.unregistrations.clear()
            self.consecutive_failures.clear()
        self.deliverer.reset()

    @contextlib.contextmanager
    def quiet_webhooks(self) -> Iterator[None]:
        with self.ctx.lock:
            self.quiet = True
            try:
                yield
            finally:
                self.quiet = False

    # -- registrations -----------------------------------------------------------------------------------
    def register_hook(self, event: str, body: Any) -> dict[str, Any]:
        if event not in EVENTS:
            raise WemaloError(400, f"unknown webhook event: {event}", events=list(EVENTS))
        body = body if isinstance(body, dict) else {}
        for key in ("payload", "token"):
            if not isinstance(body.get(key), str) or not body[key].strip():
                raise missing(key)
        mail = body.get("email") if body.get("email") is not None else body.get("mail")
        if mail is None and self.ctx.settings.get("webhook_require_email", True):
            raise missing("email")
        replace = str(self.ctx.settings.get("webhook_replace", "replace"))
        with self.ctx.lock:
            old = self.hooks.get(event)
            if old is not None and replace == "refuse":
                raise WemaloError(400, f"webhook for event {event} already registered", event=event)
            self.hook_generation += 1
            if old is not None:
                self.dead_generations.add(old["generation"])
            self.hooks[event] = {"event": event, "payload": body["payload"], "token": body["token"],
                                 "email": mail, "generation": self.hook_generation, "registeredAt": time.time()}
            self.consecutive_failures.pop(event, None)
        if old is not None:
            self.deliverer.cancel(event, before_generation=self.hook_generation)
        if self.ctx.settings.get("webhook_register_answer", "example") == "success":
            return {"Success": True, "status": 200}
        mode = "update" if old is not None and replace == "replace" else "create"
        return {"mode": mode, "event": event, "payload": body["payload"], "token": body["token"], "mail": mail}

    def list_hooks(self) -> dict[str, Any]:
        with self.ctx.lock:
            return {"hooks": [{"payload": h["payload"], "token": h["token"], "event": h["event"]}
                              for h in self.hooks.values()]}

    def delete_hook(self, event: str) -> dict[str, Any]:
        with self.ctx.lock:
            hook = self.hooks.pop(event, None)
            if hook is None:
                raise WemaloError(404, f"no webhook registered for event {event}", event=event)
            self.dead_generations.add(hook["generation"])
        self.deliverer.cancel(event)
        return {"Success": True, "status": 200}

    def _unregister(self, event: str, generation: int, last_error: str | None) -> None:
        """The 10th failure: the hook is removed and the e-mail the apidoc shows is kept in the admin view."""
        with self.ctx.lock:
            hook = self.hooks.get(event)
            if hook is None or hook["generation"] != generation:
                return
            del self.hooks[event]
            self.dead_generations.add(generation)
            mail = (f"webhook event '{event}' deactivated !\n\npayload: {hook['payload']}\nlast error: "
                    f"{last_error}\nid: sandbox-{generation}\n\nThis email was sent automatically. Please don't "
                    "respond.")
            self.unregistrations.append({"event": event, "payload": hook["payload"], "email": hook["email"],
                                         "last_error": last_error, "at": time.time(), "mail_text": mail})
        self.deliverer.cancel(event)

    # -- events ----------------------------------------------------------------------------------------------
    def _webhook_event(self, event: str, data: dict[str, Any]) -> None:
        """Send `event` with `data` (the documented fields plus the extended ones) to its hook, if any."""
        hook = self.hooks.get(event)
        if hook is None or self.quiet:
            return
        settings = self.ctx.settings
        if settings.get("webhook_event_fields", "documented") == "documented":
            data = {k: data.get(k) for k in DOCUMENTED[event]}
        token_in = str(settings.get("webhook_token_in", "body"))
        shape = str(settings.get("webhook_body", "wp"))
        body: dict[str, Any] = {"eventData": data} if shape == "wp" else dict(data)
        if token_in == "body":
            body = {"token": hook["token"], **body}
        encoding = str(settings.get("webhook_encoding", "json"))
        url = hook["payload"]
        if token_in == "query":
            parts = urlsplit(url)
            query = "&".join(q for q in (parts.query, urlencode({"token": hook["token"]})) if q)
            url = urlunsplit(parts._replace(query=query))
        headers = {"token": hook["token"]} if token_in == "header" else {}
        if encoding == "form":
            raw = urlencode(_form_pairs(body)).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            raw = json.dumps(body, default=str).encode()
            headers["Content-Type"] = "application/json"
        request = Request(url=url, body=raw, headers=headers)
        render: Callable[[int], Request] = lambda _attempt: request  # noqa: E731 - the same request each attempt
        self.deliverer.enqueue(Delivery(hook=event, event=event, render=render, summary=copy.deepcopy(body),
                                        generation=hook["generation"]))

    def trigger(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        """Admin: fire `event` with `data` as the store would."""
        if event not in EVENTS:
            raise WemaloError(400, f"unknown webhook event: {event}", events=list(EVENTS))
        with self.ctx.lock:
            registered = event in self.hooks
            self._webhook_event(event, dict(data))
        return {"ok": True, "registered": registered}

    def webhooks_state(self) -> dict[str, Any]:
        with self.ctx.lock:
            out = {"registrations": [{k: h[k] for k in ("event", "payload", "token", "email")}
                                     for h in self.hooks.values()],
                   "unregistrations": copy.deepcopy(self.unregistrations), "echoes": []}
        return {**out, **self.deliverer.view()}


def _form_pairs(body: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """PHP-style form fields: {"eventData": {"orderId": 1}} -> [("eventData[orderId]", "1")]; null -> ""."""
    out: list[tuple[str, str]] = []
    for key, value in body.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, dict):
            out += _form_pairs(value, name)
        else:
            out.append((name, "" if value is None else str(value)))
    return out


class _Policy:
    """wemalo's documented policy: 10 s to answer, a retry "few minutes later" (setting webhook_retry_seconds),
    unregistered after 10 failed attempts (webhook_failure_count: of one event's delivery, or in a row)."""

    def __init__(self, ctx: SimContext, store: WebhooksMixin) -> None:
        self.ctx = ctx
        self.store = store

    def timeout(self) -> float:
        return float(self.ctx.settings.get("webhook_timeout_seconds", 10.0))

    def succeeded(self, status: int) -> bool:
        if self.ctx.settings.get("webhook_success", "2xx") == "200":
            return status == 200
        return 200 <= status < 300

    def retry_delay(self, delivery: Delivery) -> float | None:
        if delivery.generation in self.store.dead_generations:
            return None
        return float(self.ctx.settings.get("webhook_retry_seconds", 180.0))

    def attempt_done(self, delivery: Delivery, result: dict[str, Any]) -> None:
        limit = int(self.ctx.settings.get("webhook_max_failures", 10))
        event = delivery.hook
        with self.ctx.lock:
            if result["ok"]:
                self.store.consecutive_failures.pop(event, None)
                return
            failures = self.store.consecutive_failures.get(event, 0) + 1
            self.store.consecutive_failures[event] = failures
        if self.ctx.settings.get("webhook_failure_count", "per_delivery") == "consecutive":
            reached = failures >= limit
        else:
            reached = len(delivery.attempts) + 1 >= limit
        if reached:
            self.store._unregister(event, delivery.generation, result.get("error") or "no successful answer")
