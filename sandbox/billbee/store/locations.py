"""Stock locations and shipping providers of the Billbee account (given by the scenario, read-only in the API)."""

from __future__ import annotations

import copy
from typing import Any

from sandbox.billbee.store.base import AccountBase
from sandbox.billbee.store.values import ScenarioError, public, to_int


class LocationsMixin(AccountBase):
    def _normalise_location(self, raw: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(raw, dict) or to_int(raw.get("Id"), "stock Id") is None:
            raise ScenarioError(f"stock location needs an Id: {raw!r}")
        return {"Id": int(raw["Id"]), "Name": raw.get("Name"), "Description": raw.get("Description"),
                "IsDefault": bool(raw.get("IsDefault", False))}

    def _normalise_provider(self, raw: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(raw, dict) or to_int(raw.get("id"), "provider id") is None:
            raise ScenarioError(f"shipping provider needs an id: {raw!r}")
        products = []
        for prod in raw.get("products") or []:
            if to_int(prod.get("id"), "provider product id") is None:
                raise ScenarioError(f"shipping provider product needs an id: {prod!r}")
            products.append({"id": int(prod["id"]), "displayName": prod.get("displayName"),
                             "productName": prod.get("productName"),
                             "_carrierId": to_int(prod.get("_carrierId"), "_carrierId")})
        return {"id": int(raw["id"]), "name": raw.get("name"), "products": products}

    def list_stocks(self) -> list[dict[str, Any]]:
        with self.ctx.lock:
            return copy.deepcopy(self.stocks)

    def list_providers(self) -> list[dict[str, Any]]:
        with self.ctx.lock:
            return public(self.providers)

    def default_stock_id(self) -> int | None:
        return next((s["Id"] for s in self.stocks if s["IsDefault"]), None)

    def provider_problem(self, body: dict[str, Any]) -> str | None:
        """Why a shipment's provider/product ids do not exist in the account, or None."""
        with self.ctx.lock:
            pid, ppid = body.get("ShippingProviderId"), body.get("ShippingProviderProductId")
            provider = next((p for p in self.providers if p["id"] == pid), None) if pid is not None else None
            if pid is not None and provider is None:
                return f"unknown ShippingProviderId {pid}"
            if ppid is not None:
                pool = provider["products"] if provider else [x for p in self.providers for x in p["products"]]
                if not any(x["id"] == ppid for x in pool):
                    return f"unknown ShippingProviderProductId {ppid}"
            return None
