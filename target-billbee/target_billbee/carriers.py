"""wemalo dispatcher profile -> Billbee shipping provider/product and carrier (setup text, "versandt").

wemalo's rule for its own connector: the carrier reaches Billbee when the Billbee shipping profile is named
exactly like the wemalo profile. Here: an explicit `shipping_provider_map` entry wins; else a Billbee
shipping provider product whose display name (or product name) equals the wemalo profile name, ignoring
case. A CarrierId "will override the carrier from the shipment product" (Billbee's AddShipment model), so it
is sent only where no shipping product is matched (guessed from wemalo's carrier name, billbee_wemalo.billbee.enums) or
where `shipping_provider_map` names one: a guess never overrides the merchant's product.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from billbee_wemalo.billbee import carrier_id_for


@dataclass(frozen=True)
class ShipmentRoute:
    provider_id: int | None = None
    product_id: int | None = None
    carrier_id: int | None = None

    @property
    def matched(self) -> bool:
        return self.provider_id is not None


class CarrierMatcher:
    def __init__(self, providers: list[dict[str, Any]], explicit: dict[str, dict[str, Any]] | None = None) -> None:
        self._by_name: dict[str, tuple[int, int]] = {}
        for provider in providers:
            for product in provider.get("products") or []:
                for name in (product.get("displayName"), product.get("productName")):
                    if name:
                        self._by_name.setdefault(str(name).strip().casefold(), (provider["id"], product["id"]))
        self._explicit = {k.strip().casefold(): v for k, v in (explicit or {}).items()}

    def route(self, profile_name: str | None, carrier: str | None) -> ShipmentRoute:
        key = (profile_name or "").strip().casefold()
        carrier_id = carrier_id_for(carrier) if carrier else None
        if carrier_id is None:
            carrier_id = carrier_id_for(profile_name)
        if key in self._explicit:
            entry = self._explicit[key]
            product_id = _int(entry.get("product_id"))
            named = _int(entry.get("carrier_id"))
            return ShipmentRoute(_int(entry.get("provider_id")), product_id,
                                 named if named is not None or product_id is not None else carrier_id)
        if key in self._by_name:
            provider_id, product_id = self._by_name[key]
            return ShipmentRoute(provider_id, product_id)
        return ShipmentRoute(carrier_id=carrier_id)


def _int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)
