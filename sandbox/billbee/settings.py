"""The Billbee simulator's settings: where Billbee's real behaviour is unknown, each reading is a setting
(``DEFAULT_SETTINGS``, changeable per test through ``POST /_admin/settings``); ``PROFILES`` name groups
of readings."""

from __future__ import annotations

from typing import Any

from flask import current_app

from sandbox.billbee.store import UNFULFILLED_STATES

DEFAULT_SETTINGS: dict[str, Any] = {
    "api_key": "sandbox-api-key",
    "username": "merchant@example.com",
    "password": "Sandbox-Api-Passw0rd",
    "auth_failure_status": 401,  # not documented: 401 | 403
    "throttle": True,  # False switches off every throttle below
    "endpoint_rate": 2,  # requests/s per endpoint (route rule + method) per (api key, user)
    "user_rate": 10,  # requests/s per (api key, user)
    "key_rate": 50,  # requests/s per api key
    "order_get_per_minute": 6,  # GET /orders/{id}: calls per order per minute
    "retry_after": "alternate",  # "always" | "never" | "alternate" (every other 429 carries Retry-After)
    "oversize_page": "clamp",  # pageSize > 250 ("max value is 250"): "clamp" to 250 | "error" = 400
    "tag_filter": "all",  # several `tag` values ("a list of tags the order must have attached"): "all" | "any"
    # The `tag` filter's case rule is not documented; Billbee's tag writes merge case-insensitively (one collation),
    # so the default compares case-insensitively and the lenient profile strictly (the connector runs under both).
    "tag_case_insensitive": True,
    "missing_order": "404",  # unknown order: "404" | "200_error" (HTTP 200, ErrorCode 2 OrderNotFound)
    "writes_bump_modified": True,  # a tag write is "the last update, the order got" | False: tags leave it alone
    "bom_stock_write": "error",  # stock write for a bundle SKU: "error" ApiResult | "ignore" (success, no change)
    "timezone": "UTC",  # frame of the naive timestamps; query values with an offset are converted into it
    "error_description": "number",  # ApiResult.ErrorDescription: the spec's int32 enum | "name" ("NoError")
    "extref_matches": "order_number",  # findbyextref ("by its external order number"): OrderNumber | "number_or_id"
    "total_cost_includes_shipping": False,  # computed TotalCost: "excluding shipping cost" | True: items + shipping
    "order_web_url": True,  # the Order model's WebUrl is in every order | False: left out
    # Stock (see the store's docstring). Documented: an order's import adjusts stock ("If true, the import of this
    # order won't adjust the stock level", OrderItem.DontAdjustStock); the rest is not.
    "deduct_stock_on_import": True,  # an imported order lowers its articles' stock | False: stock never moves
    "unfulfilled_from_orders": True,  # UnfulfilledAmount computed from the orders | False: as the scenario gave it
    "unfulfilled_states": list(UNFULFILLED_STATES),  # states counted as "not fulfilled" (store.UNFULFILLED_STATES)
    "dont_adjust_stock_reserves": True,  # a DontAdjustStock item still counts as unfulfilled | False: it does not
    "autosubtract_below_zero": True,  # AutosubtractReservedAmount may store a negative figure | False: floor at 0
    # An order moving to 6/8 gives its stock back: not documented. The documents name one stock effect, the import's;
    # a cancellation as a document of its own is an order (IsCancelationFor) whose negative lines add stock. | True
    "restock_on_cancel": False,
    # POST /orders/{id}/message "Adds a message to the order"; Order.Comments is "All messages / comments of the
    # order" (CommentApiModel {Id, FromCustomer, Text, Name, Created}). Read literally, a message added through the
    # API is listed there: Name = its SenderName, FromCustomer false, Created when it was written (the order's
    # timestamp format), a new Id; internal ones too ("All"). | False: API messages are not listed in Comments
    "messages_in_comments": True,
    # A shipment naming a ShippingProviderId / ShippingProviderProductId the account does not have (a product the
    # merchant removed): not documented. "refuse" = 400 InvalidData | "accept": stored as sent
    "unknown_shipping_product": "refuse",
    # Webhooks (sandbox.billbee.store.webhooks; docs/api-contract.md "Billbee: webhooks"). Billbee documents the
    # routes and the WebHookApiModel only; the defaults follow Microsoft ASP.NET WebHooks, the library whose model
    # the spec named (Microsoft.AspNet.WebHooks.WebHook) and whose `?noecho` convention it quotes.
    "webhook_filters": ["order.created", "order.updated", "order.statechanged", "order.tagschanged"],  # | only
    # the documented ["order.created"]; `*` is always known
    "webhook_filters_shape": "dict",  # GET /webhooks/filters ("type: object"): {name: {Name, Description}} | "list"
    "webhook_secret_rule": "32_64",  # Secret length 32..64 (SDK and library) | "required": any non-empty
    "webhook_create_status": 200,  # POST /webhooks: the spec's 200 | 201 (the library's CreatedAtRoute)
    "webhook_echo": "get",  # echo test: "get" ?echo=<v>, body must be v | "post" {"Echo": v}, any 2xx | "none"
    "webhook_noecho_in": "webhook_uri",  # where ?noecho is read: "webhook_uri" | "request" | "either"
    "webhook_empty_filters": "wildcard",  # no Filters: every event (the library's "*") | "none": no event
    "webhook_format": "aspnet",  # {"Id","Attempt","Properties","Notifications"} + ms-signature | "bare" | "unsigned"
    "webhook_payload": "merged",  # notification: Action, OrderId + the order's fields | "nested" (Order) | "id_only"
    "webhook_signature_hex": "lower",  # ms-signature hex digits: "lower" | "upper"
    "webhook_retry_delays": [60.0, 240.0],  # seconds before the 2nd, 3rd attempt (the library's default sender)
    "webhook_timeout_seconds": 100.0,  # wait for the receiver's answer (.NET HttpClient's default)
}

# Named groups of readings (`POST /_admin/profile`): "literal" is DEFAULT_SETTINGS, the vendor document read
# literally; "lenient" takes the other plausible reading of each setting it names.
PROFILES: dict[str, dict[str, Any]] = {
    "literal": {},
    "lenient": {"auth_failure_status": 403, "oversize_page": "error", "tag_case_insensitive": False,
                "tag_filter": "any", "missing_order": "200_error", "writes_bump_modified": False,
                "bom_stock_write": "ignore", "error_description": "name", "extref_matches": "number_or_id",
                "total_cost_includes_shipping": True, "order_web_url": False,
                "unfulfilled_states": [1, 2, 3, 13, 16], "dont_adjust_stock_reserves": False,
                "autosubtract_below_zero": False, "restock_on_cancel": True,
                "messages_in_comments": False, "unknown_shipping_product": "accept",
                "webhook_filters": ["order.created"], "webhook_filters_shape": "list",
                "webhook_secret_rule": "required", "webhook_create_status": 201, "webhook_echo": "post",
                "webhook_noecho_in": "request", "webhook_empty_filters": "none", "webhook_format": "bare",
                "webhook_payload": "id_only", "webhook_signature_hex": "upper"},
}
# Not in "lenient": the throttle settings (the project keeps throttling as it is); `timezone` (a property of the
# account the connector is configured with, not a reading); `deduct_stock_on_import` and `unfulfilled_from_orders`
# (switches back to the old simulator: that an import adjusts stock is documented, so "never" is no reading);
# `webhook_retry_delays`, `webhook_timeout_seconds` (timings, set per test) and the "unsigned" format (set per test).


def setting(name: str) -> Any:
    """The running app's value of setting `name` (inside a request)."""
    return current_app.extensions["billbee_ctx"].settings.get(name, DEFAULT_SETTINGS[name])
