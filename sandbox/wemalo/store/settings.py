"""The wemalo simulator's settings (the readings of what the apidoc leaves open) and their named profiles."""

from __future__ import annotations

from typing import Any

DEFAULT_SETTINGS: dict[str, Any] = {
    "token": "sandbox-wemalo-token",
    "http_status": "mirror",  # "mirror": HTTP status = body status; "always_200": HTTP 200 whatever the body says
    "add_multiple_mode": "all_or_nothing",  # or "partial": the good products are saved, `errors` lists the bad
    "duplicate_order": "reject",  # goodsOrder/add on a known externalId: "reject" (409) or "return_existing"
    "reserve_stock": True,  # False: every new order is OPEN whatever the stock
    "sent_page_size": 50,  # rows per page of sentPackages and packages/sent
    "sku_case_insensitive": True,  # SKU uniqueness and position matching ignore case
    # The apidoc's examples, literally (docs/api-contract.md); PROFILES["lenient"] takes the other reading.
    "success_envelope": "example",  # success bodies carry `Success`/`status` only where the route's example does
    "products_include_external_id": False,  # getAll's and get's example rows have no externalId
    "product_rows_carry_status": True,  # ... and carry "status": 200, "Success": true inside each row
    "product_fields": "example",  # product rows: the example's fields only | "all": every field product/add takes
    "page_base": 0,  # the paged feeds' examples answer a request without `page` with "page": 0
    "page_param_ignored": False,  # pathological reading: `page` ignored, always the first page
    "booking_product_id": "number",  # sent bookings' productId: the example's 4711 | "string" (the field list)
    "stock_quantity": "available",  # availableStock attributes[].quantity: "available" (net of open orders) | "on_hand"
    "parcel_quantity_field": "quantitySum",  # packages' item count: the example's name | "quantity" | "both"
    "status_fields": "example",  # getStatus: the example's fields | "field_list": every field the list names
    "late_cancel": "refuse",  # a cancel after picking started: "refuse" (Success false) | "ignore" (Success, no effect)
    "missing_order": "400",  # getStatus of an unknown order: "400" (a message) | "404" | "empty" (200, Success false)
    "missing_product": "400",  # product/get and product/update of an unknown externalId: "400" | "404"
    # Returns (docs/api-contract.md, "wemalo: returns"). The booking rows of returns/booked and getBookings:
    "returns_fields": "example",  # the example's eight fields | "field_list": the sixteen fields the list names
    # ... the example spells the external product id `externaProductlId` (the list `externalProductId`); only
    # with returns_fields "example" (the field list has its own spelling)
    "returns_external_product_key": "externaProductlId",
    "returns_ids": "number",  # productId and id: numbers as the example (4711, 8219212) | "string" (the list)
    "returns_page_size": 50,  # rows per page of returns/booked and getBookings (page base: page_base)
    "returns_date_filter": "booking_date",  # dateFrom/dateTo filter by bookingDate | "ignored" (pathological)
    "returns_unknown_booking": "400",  # PUT returns/booked/:id of an unknown id: "400" | "404" | "ok" (no effect)
    "returns_repeat_sync": "ok",  # a second PUT on a synchronised booking: "ok" (first date kept) | "refuse" (400)
    # a returned unit books into stock: "by_attribute" (ready for shipment: the default attribute's stock or, for
    # another attribute, B-stock; not ready: nowhere) | "default_attribute" (every unit) | "none"
    "returns_stock": "by_attribute",
    "announce_required": "field_list",  # returns/announce: the list's required fields and spellings | "example"
    "duplicate_announce": "create",  # returns/announce with a known externalId: "create" another | "reject" (409)
    # a PARTIAL order with reasonPartiallyReserved ADDRESS whose receiver updateMeta changes: "on_update" (re-checked
    # at once: OPEN when stock covers it, else PARTIAL/STOCK) | "operator" (stays until /_admin/advance)
    "address_recheck": "on_update",
    "default_profile": "DHL Paket",  # profile name of parcels when neither advance nor the order names one
    "call_limit": None,  # int: calls per `call_limit_window` seconds, x-wemalo-limit-* headers, 419 when over
    "call_limit_window": 60.0,
    "now": None,  # ISO datetime (naive = Europe/Berlin) to freeze the clock; None = wall clock
    # Webhooks (sandbox.wemalo.store.webhooks; docs/api-contract.md "wemalo: webhooks").
    "webhook_register_answer": "example",  # POST webhook/:event: the example's echo {mode, event, payload, token,
    # mail} | "success": {"Success": true} (the field list)
    "webhook_replace": "replace",  # POST on a registered event: replaces it, answer mode "update" | "replace_create"
    # (replaces, mode "create") | "refuse" (400)
    "webhook_require_email": True,  # `email` (or the example's `mail`) required as the field list says | False
    "webhook_body": "wp",  # {"token", "eventData": {...}} as wemalo's WP plugin reads it | "flat": fields at the top
    "webhook_event_fields": "documented",  # the apidoc's field names only | "extended": + statusName, blockReason,
    # reasonPartiallyReserved (status_update), goodsOrderExternalId (trackingnumber_added), products (stock_change)
    "webhook_token_in": "body",  # the token "part of calls": body field `token` | "header" (`token`) | "query"
    "webhook_encoding": "json",  # "json" | "form" (application/x-www-form-urlencoded, eventData[orderId]=...)
    "webhook_success": "2xx",  # a "successful feedback": any 2xx | "200" only
    "webhook_status_on_create": False,  # status_update "informs about updated" status: not for a new order | True
    "webhook_failure_count": "per_delivery",  # "after 10 failed attempts": of one event's delivery | "consecutive"
    "webhook_retry_seconds": 180.0,  # "retries ... few minutes later"
    "webhook_timeout_seconds": 10.0,  # documented: "waits up to 10 seconds"
    "webhook_max_failures": 10,  # documented: "After 10 failed attempts"
}

# Named groups of readings (`POST /_admin/profile`): "literal" is DEFAULT_SETTINGS, the vendor document read
# literally; "lenient" takes the other plausible reading of each setting it names.
# (stock_quantity is not in "lenient": its reading needs the matching connector setting, stock_semantics, and
# is tested in pairs, tests/e2e/test_sync.py::test_stock_without_oversell_or_double_subtraction.)
# (page_param_ignored stays False in both: it is a pathological reading, switched on by a test that wants it;
# so does returns_date_filter "ignored". returns_stock changes stock figures and is switched on by a test, like
# stock_quantity. returns_external_product_key matters only with returns_fields "example", so not in "lenient".)
# (webhook_retry_seconds, webhook_timeout_seconds, webhook_max_failures: timings and documented figures, not readings;
# webhook_replace "refuse" and webhook_token_in "query" are switched on by the tests that want them.)
PROFILES: dict[str, dict[str, Any]] = {
    "literal": {},
    "lenient": {"success_envelope": "uniform", "products_include_external_id": True,
                "product_rows_carry_status": False, "product_fields": "all", "page_base": 1,
                "booking_product_id": "string", "parcel_quantity_field": "both", "status_fields": "field_list",
                "late_cancel": "ignore", "missing_order": "404", "missing_product": "404",
                "http_status": "always_200", "returns_fields": "field_list", "returns_ids": "string",
                "returns_unknown_booking": "404", "returns_repeat_sync": "refuse", "announce_required": "example",
                "duplicate_announce": "reject", "address_recheck": "operator",
                "webhook_register_answer": "success",
                "webhook_replace": "replace_create", "webhook_require_email": False, "webhook_body": "flat",
                "webhook_event_fields": "extended", "webhook_token_in": "header", "webhook_encoding": "form",
                "webhook_success": "200", "webhook_status_on_create": True, "webhook_failure_count": "consecutive"},
}
