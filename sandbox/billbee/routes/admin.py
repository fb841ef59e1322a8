"""The Billbee simulator's own admin routes (besides core's): orders arriving and edited by the merchant,
articles, the clock."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from sandbox.billbee.store import BillbeeStore


def register(bp: Blueprint, store: BillbeeStore) -> None:
    """The Billbee simulator's admin routes, added to core's admin blueprint `bp`."""

    @bp.post("/orders")
    def admin_add_orders() -> Response:
        body = request.get_json(force=True) or {}
        return jsonify({"orders": store.add_orders(body.get("orders") or [])})

    @bp.patch("/orders/<order_id>")
    def admin_patch_order(order_id: str) -> Response:
        order = store.patch_order(order_id, request.get_json(force=True) or {})
        if order is None:
            return jsonify({"error": f"no order {order_id}"}), 404  # type: ignore[return-value]
        return jsonify(order)

    @bp.delete("/orders/<order_id>")
    def admin_delete_order(order_id: str) -> Response:
        if not store.delete_order(order_id):
            return jsonify({"error": f"no order {order_id}"}), 404  # type: ignore[return-value]
        return jsonify({"ok": True})

    @bp.post("/products")
    def admin_put_products() -> Response:
        body = request.get_json(force=True) or {}
        return jsonify({"products": store.put_products(body.get("products") or [])})

    @bp.route("/clock", methods=["GET", "POST"])
    def admin_clock() -> Response:
        body = request.get_json(force=True) if request.method == "POST" else {}
        return jsonify(store.set_clock(body or {}))
