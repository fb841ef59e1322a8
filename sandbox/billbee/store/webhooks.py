"""Webhooks: the registrations of ``/api/v1/webhooks`` (model ``WebHookApiModel``), the echo test on registration,
and the notifications an order write sends to them (through :class:`sandbox.webhook_delivery.Deliverer`).

Billbee documents the routes and the model only. The rest follows the library the spec's model came from
(Microsoft ASP.NET WebHooks; docs/api-contract.md, "Billbee: webhooks"), each reading a setting:

* echo test (``webhook_echo``): ``get`` (the library's: GET the WebHookUri with its query replaced by
  ``echo=<32 hex>``; a 2xx answer whose body is exactly that value passes) | ``post`` (a POST of
  ``{"Echo": "<32 hex>"}``, any 2xx passes) | ``none``. Where ``?noecho`` is read (``webhook_noecho_in``):
  ``webhook_uri`` (the library reads it off the WebHookUri) | ``request`` (the registration call's URL) | ``either``;
* a Secret of 32-64 characters (``webhook_secret_rule`` ``32_64``: the library and Billbee's C# SDK) | ``required``;
* no Filters means every event (``webhook_empty_filters`` ``wildcard``, the library's ``*``) | ``none``;
* the filter names (``webhook_filters``): ``order.created`` is documented (Billbee's SDK tests); the others are
  the simulator's names for the other order events;
* delivery format (``webhook_format``) ``aspnet`` | ``bare`` | ``unsigned``; the notification's payload
  (``webhook_payload``) ``merged`` | ``nested`` | ``id_only``; hex case of the signature (``webhook_signature_hex``);
  retries (``webhook_retry_delays``) and the answer deadline (``webhook_timeout_seconds``).

Fixed choices: a given ``Id`` on POST is replaced by a new one (the library's default id validator; the SDK sends
none); filter names compare case-insensitively; a paused hook gets nothing; each order write notifies once, with
the action of what changed (``order.statechanged``, ``order.tagschanged``, else ``order.updated``).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from sandbox.billbee.store.orders import OrdersMixin
from sandbox.core import SimContext
from sandbox.webhook_delivery import Deliverer, Delivery, Request, is_loopback

WILDCARD = "*"
FILTER_DESCRIPTIONS = {
    WILDCARD: "Wildcard filter: every event.",
    "order.created": "A new order was imported.",
    "order.updated": "An order was changed (shipment, message, merchant edit).",
    "order.statechanged": "The state of an order changed.",
    "order.tagschanged": "The tags of an order changed.",
}
DEFAULT_FILTERS = ["order.created", "order.updated", "order.statechanged", "order.tagschanged"]
HOOK_FIELDS = ("Id", "WebHookUri", "Secret", "Description", "IsPaused", "Filters", "Headers", "Properties")


class WebhookError(Exception):
    """A refused registration: HTTP `status` with an ASP.NET error body (`{"Message": ...}`, or none)."""

    def __init__(self, message: str | None, status: int = 400) -> None:
        super().__init__(message or "")
        self.message = message
        self.status = status


class WebhooksMixin(OrdersMixin):
    def __init__(self, ctx: SimContext) -> None:
        self.hooks: dict[str, dict[str, Any]] = {}  # by Id, in registration order
        self.hook_generation = 0
        self.echoes: list[dict[str, Any]] = []
        self.deliverer = Deliverer("billbee", _Policy(ctx))
        super().__init__(ctx)

    def reset_webhooks(self) -> None:
        with self.ctx.lock:
            self.hooks.clear()
            self.echoes.clear()
        self.deliverer.reset()

    # -- registrations -----------------------------------------------------------------------------------
    def filters(self) -> list[dict[str, str]]:
        names = [WILDCARD, *self._catalogue()]
        return [{"Name": n, "Description": FILTER_DESCRIPTIONS.get(n, "")} for n in names]

    def _catalogue(self) -> list[str]:
        return [str(n) for n in self._setting("webhook_filters", DEFAULT_FILTERS)]

    def list_hooks(self) -> list[dict[str, Any]]:
        with self.ctx.lock:
            return [_out(h) for h in self.hooks.values()]

    def get_hook(self, hook_id: str) -> dict[str, Any] | None:
        with self.ctx.lock:
            hook = self.hooks.get(hook_id)
            return _out(hook) if hook else None

    def create_hook(self, body: Any, noecho_request: bool) -> dict[str, Any]:
        hook = self._checked(body)
        hook["Id"] = uuid.uuid4().hex
        self._echo(hook, noecho_request)  # outside the lock: it calls the receiver
        with self.ctx.lock:
            self.hook_generation += 1
            hook["_generation"] = self.hook_generation
            self.hooks[hook["Id"]] = hook
            return _out(hook)

    def update_hook(self, hook_id: str, body: Any, noecho_request: bool) -> dict[str, Any]:
        if isinstance(body, dict) and body.get("Id") not in (None, hook_id):
            raise WebhookError(f"The Id in the body ({body.get('Id')}) does not match the URI ({hook_id}).")
        with self.ctx.lock:
            if hook_id not in self.hooks:
                raise WebhookError(None, 404)
        hook = self._checked(body)
        hook["Id"] = hook_id
        self._echo(hook, noecho_request)
        with self.ctx.lock:
            if hook_id not in self.hooks:
                raise WebhookError(None, 404)
            self.hook_generation += 1
            hook["_generation"] = self.hook_generation
            self.hooks[hook_id] = hook
        self.deliverer.cancel(hook_id, before_generation=hook["_generation"])
        return _out(hook)

    def delete_hook(self, hook_id: str) -> bool:
        with self.ctx.lock:
            found = self.hooks.pop(hook_id, None) is not None
        if found:
            self.deliverer.cancel(hook_id)
        return found

    def delete_all_hooks(self) -> int:
        with self.ctx.lock:
            ids = list(self.hooks)
            self.hooks.clear()
        for hook_id in ids:
            self.deliverer.cancel(hook_id)
        return len(ids)

    def _checked(self, body: Any) -> dict[str, Any]:
        """The registration `body` as a stored hook, or WebhookError (HTTP 400)."""
        if not isinstance(body, dict):
            raise WebhookError("The request is invalid: a WebHook object is required.")
        uri, secret = body.get("WebHookUri"), body.get("Secret")
        if not isinstance(uri, str) or not uri.strip():
            raise WebhookError("The WebHookUri field is required.")
        parts = urlsplit(uri)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise WebhookError(f"The WebHook URI '{uri}' is not an absolute 'http' or 'https' URI.")
        if not isinstance(secret, str) or not secret:
            raise WebhookError("The Secret field is required.")
        if self._setting("webhook_secret_rule", "32_64") == "32_64" and not 32 <= len(secret) <= 64:
            raise WebhookError("The WebHook secret key parameter must be between 32 and 64 characters long.")
        filters = body.get("Filters") or []
        if not isinstance(filters, list) or not all(isinstance(f, str) for f in filters):
            raise WebhookError("Filters must be a list of strings.")
        known = {n.casefold(): n for n in [WILDCARD, *self._catalogue()]}
        unknown = [f for f in filters if f.casefold() not in known]
        if unknown:
            raise WebhookError(f"The following filters are not valid: '{', '.join(unknown)}'. A list of valid "
                               "filters can be obtained from the path '/api/v1/webhooks/filters'.")
        names = list(dict.fromkeys(known[f.casefold()] for f in filters))
        if not names and self._setting("webhook_empty_filters", "wildcard") == "wildcard":
            names = [WILDCARD]
        for key in ("Headers", "Properties"):
            if body.get(key) is not None and not isinstance(body[key], dict):
                raise WebhookError(f"{key} must be an object.")
        return {"Id": None, "WebHookUri": uri, "Secret": secret, "Description": body.get("Description"),
                "IsPaused": bool(body.get("IsPaused") or False), "Filters": names,
                "Headers": {str(k): str(v) for k, v in (body.get("Headers") or {}).items()},
                "Properties": dict(body.get("Properties") or {})}

    def _echo(self, hook: dict[str, Any], noecho_request: bool) -> None:
        """The echo test before a registration is stored; WebhookError when it fails."""
        mode = self._setting("webhook_echo", "get")
        where = self._setting("webhook_noecho_in", "webhook_uri")
        uri = hook["WebHookUri"]
        in_uri = any(k.split("=")[0].casefold() == "noecho" for k in urlsplit(uri).query.split("&") if k)
        skip = (where in ("webhook_uri", "either") and in_uri) or (where in ("request", "either") and noecho_request)
        record: dict[str, Any] = {"at": time.time(), "uri": uri, "mode": mode, "skipped": bool(skip or mode == "none"),
                                  "ok": True, "status": None, "error": None}
        try:
            if record["skipped"]:
                return
            record["ok"] = False
            if not is_loopback(uri):
                record["error"] = "not a loopback address: the simulator calls no other host"
                raise WebhookError(f"WebHook verification failed: {record['error']}.")
            echo = uuid.uuid4().hex
            headers = dict(hook["Headers"])
            session = requests.Session()
            session.trust_env = False
            timeout = min(float(self._setting("webhook_timeout_seconds", 100.0)), 30.0)
            try:
                if mode == "post":
                    headers["Content-Type"] = "application/json; charset=utf-8"
                    resp = session.post(uri, data=json.dumps({"Echo": echo}), headers=headers, timeout=timeout,
                                        allow_redirects=False)
                else:
                    parts = urlsplit(uri)
                    resp = session.get(urlunsplit(parts._replace(query=f"echo={echo}")), headers=headers,
                                       timeout=timeout, allow_redirects=False)
            except requests.RequestException as exc:
                record["error"] = f"{type(exc).__name__}: {exc}"
                raise WebhookError(f"WebHook verification failed: {record['error']}.") from exc
            finally:
                session.close()
            record["status"] = resp.status_code
            if not 200 <= resp.status_code < 300:
                record["error"] = f"HTTP {resp.status_code}"
                raise WebhookError(f"WebHook verification failed. Response: {resp.status_code}.")
            if mode != "post" and resp.text != echo:
                record["error"] = "the answer's body is not the echo value"
                raise WebhookError("The HTTP request echo query parameter was not returned as plain text in the "
                                   "response. Please return the echo parameter to verify that the WebHook is "
                                   "working as expected.")
            record["ok"] = True
        finally:
            with self.ctx.lock:
                self.echoes.append(record)

    # -- notifications -------------------------------------------------------------------------------------
    def _order_event(self, actions: list[str], order: dict[str, Any]) -> None:
        """Notify the hooks whose filters match `actions` about `order` (called under ctx.lock by the writes)."""
        catalogue = {n.casefold() for n in self._catalogue()}
        actions = [a for a in actions if a.casefold() in catalogue]
        if not actions or not self.hooks:
            return
        fmt = str(self._setting("webhook_format", "aspnet"))
        payload_mode = str(self._setting("webhook_payload", "merged"))
        upper = self._setting("webhook_signature_hex", "lower") == "upper"
        public = self._public_order(order, 0)
        order_id = order["BillBeeOrderId"]
        for hook in self.hooks.values():
            if hook["IsPaused"]:
                continue
            wanted = {f.casefold() for f in hook["Filters"]}
            matched = [a for a in actions if WILDCARD in wanted or a.casefold() in wanted]
            if not matched:
                continue
            notes = [_notification(a, order_id, public, payload_mode) for a in matched]
            groups = [[n] for n in notes] if fmt == "bare" else [notes]
            for group in groups:
                render = _renderer(hook, group, fmt, upper)
                self.deliverer.enqueue(Delivery(hook=hook["Id"], event=",".join(n["Action"] for n in group),
                                                render=render, summary={"OrderId": order_id, "format": fmt},
                                                generation=hook["_generation"]))

    def webhooks_state(self) -> dict[str, Any]:
        with self.ctx.lock:
            out = {"registrations": [_out(h) for h in self.hooks.values()], "echoes": list(self.echoes),
                   "unregistrations": []}
        return {**out, **self.deliverer.view()}


def _out(hook: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy({k: hook[k] for k in HOOK_FIELDS})


def _notification(action: str, order_id: int, order: dict[str, Any], mode: str) -> dict[str, Any]:
    note: dict[str, Any] = {"Action": action, "OrderId": order_id}
    if mode == "merged":  # the library's NotificationDictionary: the data object's properties beside Action
        note.update({k: v for k, v in order.items() if k not in note})
    elif mode == "nested":
        note["Order"] = order
    return note


def _renderer(hook: dict[str, Any], notes: list[dict[str, Any]], fmt: str, upper: bool) -> Callable[[int], Request]:
    from sandbox.billbee.json_format import encode  # not at the top: json_format imports the store

    work_id = uuid.uuid4().hex  # the library's work item id: one per (notification batch, hook), kept by retries
    uri, secret, headers = hook["WebHookUri"], hook["Secret"], dict(hook["Headers"])
    properties = dict(hook["Properties"])

    def render(attempt: int) -> Request:
        if fmt == "bare":
            body: Any = notes[0]
        else:
            body = {"Id": work_id, "Attempt": attempt, "Properties": properties, "Notifications": notes}
        raw = encode(body).encode("utf-8")
        out = {"Content-Type": "application/json; charset=utf-8"}
        if fmt != "unsigned":
            digest = hmac.new(secret.encode("utf-8"), raw, hashlib.sha256).hexdigest()
            out["ms-signature"] = f"sha256={digest.upper() if upper else digest}"
        out.update(headers)
        return Request(url=uri, body=raw, headers=out)

    return render


class _Policy:
    """Billbee's retry policy, unknown: the library's default sender retries after 1 and 4 minutes (setting
    `webhook_retry_delays`); success is any 2xx; the deadline is .NET HttpClient's default 100 s
    (`webhook_timeout_seconds`)."""

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx

    def timeout(self) -> float:
        return float(self.ctx.settings.get("webhook_timeout_seconds", 100.0))

    def succeeded(self, status: int) -> bool:
        return 200 <= status < 300

    def retry_delay(self, delivery: Delivery) -> float | None:
        delays = list(self.ctx.settings.get("webhook_retry_delays", [60.0, 240.0]))
        done = len(delivery.attempts)
        return float(delays[done - 1]) if done - 1 < len(delays) else None

    def attempt_done(self, delivery: Delivery, result: dict[str, Any]) -> None:
        return None
