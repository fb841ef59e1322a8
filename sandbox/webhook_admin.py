"""The admin routes of webhook delivery, shared by both simulators (under ``/_admin``):

* ``GET /_admin/webhooks`` -> ``{"registrations": [...], "echoes": [...], "unregistrations": [...],
  "deliveries": [{"id", "hook", "event", "state", "attempts": [{"number", "at", "ok", "status", "error",
  "faults", "duration_ms"}], "faults", "error", "payload"}], "pending": n, "failed_attempts": n,
  "refused": [...], "faults": {...}}``;
* ``POST /_admin/webhooks/faults`` ``{"seed", "delay", "delay_seconds", "duplicate", "reorder", "hold_seconds",
  "drop", "timeout"}`` (probabilities 0..1; omitted ones are 0) -> the faults in force; 400 on unknown keys;
* ``POST /_admin/webhooks/flush`` ``{"wait": 30}`` -> ``{"flushed": n, "pending": n}``: every unfinished delivery
  is due now (held ones last, newest first); returns when each has had its attempt.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify, request

from sandbox.webhook_delivery import Deliverer


def register(bp: Blueprint, deliverer: Deliverer, state: Callable[[], dict[str, Any]]) -> None:
    @bp.get("/webhooks")
    def webhooks_state() -> Response:
        return jsonify(state())

    @bp.post("/webhooks/faults")
    def webhooks_faults() -> tuple[Response, int]:
        try:
            faults = deliverer.configure_faults(request.get_json(force=True, silent=True) or {})
        except (TypeError, ValueError) as exc:
            return jsonify({"error": str(exc)}), 400
        return jsonify(faults.view()), 200

    @bp.post("/webhooks/flush")
    def webhooks_flush() -> Response:
        body = request.get_json(force=True, silent=True) or {}
        return jsonify(deliverer.flush(float(body.get("wait", 30.0))))
