"""Parcels as the API shows them: goodsOrder packages, a parcel's tracking number."""

from __future__ import annotations

from typing import Any

from sandbox.wemalo.store.base import AccountBase
from sandbox.wemalo.store.model import WemaloError, fmt, missing


class ParcelsMixin(AccountBase):
    def _parcel_quantity(self, quantity: int) -> dict[str, int]:
        # The field list names it `quantity`, the example `quantitySum` (setting parcel_quantity_field).
        name = self.ctx.settings.get("parcel_quantity_field")
        if name == "both":
            return {"quantity": quantity, "quantitySum": quantity}
        return {"quantity" if name == "quantity" else "quantitySum": quantity}

    def parcel_out(self, parcel: dict[str, Any]) -> dict[str, Any]:
        quantity = sum(i["quantity"] for i in parcel["items"])
        return {"profileName": parcel["profileName"], "errorMessage": "", "weightTotal": parcel["weightTotal"],
                **self._parcel_quantity(quantity),
                "isHandedOver": parcel["isHandedOver"], "storageCell": "", "id": parcel["id"],
                "barcode": parcel["barcode"], "trackingNumber": parcel["trackingNumber"],
                "items": [{"serialNumber": i["serialNumber"], "quantity": i["quantity"], "name": i["name"],
                           "sku": i["sku"]} for i in parcel["items"]],
                "units": []}

    def _parcel_state(self, parcel: dict[str, Any]) -> dict[str, Any]:
        quantity = sum(i["quantity"] for i in parcel["items"])
        return {**self.parcel_out(parcel), "quantity": quantity, "quantitySum": quantity, "carrier": parcel["carrier"],
                "handoverDate": fmt(parcel["handoverDate"])}

    def packages(self, order_id: str | None, external_order_id: str | None) -> dict[str, Any]:
        with self.ctx.lock:
            if external_order_id:
                order = self._order(external_order_id)
            elif order_id:
                order = next((o for o in self.orders.values() if str(o["id"]) == str(order_id)), None)
                if order is None:
                    raise WemaloError(404, f"no goods order with id '{order_id}'", field="orderId")
            else:
                raise missing("orderId")
            return {"packages": [self.parcel_out(self.parcels[p]) for p in order["parcels"]], "Success": True,
                    "status": 200}

    def tracking(self, parcel_id: str) -> dict[str, Any]:
        with self.ctx.lock:
            parcel = self.parcels.get(int(parcel_id)) if parcel_id.isdigit() else None
            if parcel is None:
                raise WemaloError(404, f"no parcel with id '{parcel_id}'", field="parcelId")
            return {"trackingNumber": parcel["trackingNumber"], "profileName": parcel["profileName"],
                    "carrier": parcel["carrier"], "Success": True, "status": 200}
