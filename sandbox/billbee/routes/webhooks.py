"""The Billbee API's webhook routes (``/api/v1/webhooks``): registrations, answered raw (no ApiResult envelope),
as the spec types them. Refusals answer like ASP.NET Web API: 400 ``{"Message": ...}``; an unknown id 404 without
a body. DELETE answers 200 without a body (the spec says "object", the library returns a bare Ok)."""

from __future__ import annotations

from flask import Flask, Response, request

from sandbox.billbee.request_args import body_json
from sandbox.billbee.responses import empty_ok, raw_json
from sandbox.billbee.settings import setting
from sandbox.billbee.store import BillbeeStore
from sandbox.billbee.store.webhooks import WebhookError


def _refused(exc: WebhookError) -> Response:
    if exc.message is None:
        return Response(b"", status=exc.status)
    return raw_json({"Message": exc.message}, exc.status)


def _noecho() -> bool:
    return "noecho" in request.args


def register(app: Flask, store: BillbeeStore) -> None:
    """The webhook routes, added to `app`."""

    @app.get("/api/v1/webhooks")
    def webhooks_list() -> Response:
        return raw_json(store.list_hooks())

    @app.post("/api/v1/webhooks")
    def webhooks_create() -> Response:
        try:
            hook = store.create_hook(body_json(), _noecho())
        except WebhookError as exc:
            return _refused(exc)
        return raw_json(hook, int(setting("webhook_create_status")))

    @app.delete("/api/v1/webhooks")
    def webhooks_delete_all() -> Response:
        store.delete_all_hooks()
        return empty_ok()

    @app.get("/api/v1/webhooks/filters")
    def webhooks_filters() -> Response:
        filters = store.filters()
        if setting("webhook_filters_shape") == "list":
            return raw_json(filters)
        return raw_json({f["Name"]: f for f in filters})

    @app.get("/api/v1/webhooks/<id>")
    def webhooks_get(id: str) -> Response:
        hook = store.get_hook(id)
        return raw_json(hook) if hook else Response(b"", status=404)

    @app.put("/api/v1/webhooks/<id>")
    def webhooks_put(id: str) -> Response:
        try:
            return raw_json(store.update_hook(id, body_json(), _noecho()))
        except WebhookError as exc:
            return _refused(exc)

    @app.delete("/api/v1/webhooks/<id>")
    def webhooks_delete(id: str) -> Response:
        return empty_ok() if store.delete_hook(id) else Response(b"", status=404)
