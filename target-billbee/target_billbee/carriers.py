"""wemalo dispatcher profile -> Billbee shipping provider/product and carrier (setup text, "versandt").

wemalo's rule for its own connector: the carrier reaches Billbee when the Billbee shipping profile is named
exactly like the wemalo profile. Here: an explicit `shipping_provider_map` entry wins; else a Billbee
shipping provider product whose display name (or product name) equals the wemalo profile name, ignoring
case. A CarrierId "will override the carrier from the shipment product" (Billbee's AddShipment model), so it
is sent only where no shipping product is matched (guessed from wemalo's carrier name, billbee_wemalo.billbee.enums) or
where `shipping_provider_map` names one: a guess never overrides the merchant's product.

Billbee's shipping providers change rarely, and reading them is a Billbee call of every run with parcels (with
webhooks, every parcel's run). The run keeps what it read in the state (`KnownProviders`, under
`bookmarks.shipments.shipping_providers`: ids and names only) and reads again after
`shipping_providers_cache_hours` (24), sooner for a profile no known name matches (`RECHECK_UNMATCHED`: a provider
product the merchant has just named like a wemalo profile is found within the hour), and after a shipment Billbee
refused while the route came from the state (BillbeeRun.route, reread_providers).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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


PROVIDERS_KEY = "shipping_providers"  # bookmarks.shipments.shipping_providers
RECHECK_UNMATCHED = timedelta(hours=1)


@dataclass(frozen=True)
class KnownProviders:
    """Billbee's shipping providers as last read: when, and the ids and names the matcher uses."""

    read_at: datetime
    providers: list[dict[str, Any]]

    @classmethod
    def read(cls, providers: list[dict[str, Any]], now: datetime) -> KnownProviders:
        kept = [{"id": provider.get("id"),
                 "products": [{key: product.get(key) for key in ("id", "displayName", "productName")}
                              for product in provider.get("products") or [] if isinstance(product, dict)]}
                for provider in providers if isinstance(provider, dict)]
        return cls(now, kept)

    @classmethod
    def from_state(cls, value: Any) -> KnownProviders | None:
        """The state's entry, or None where it is missing or not as written (then the run reads them)."""
        if not isinstance(value, dict) or not isinstance(value.get("providers"), list):
            return None
        try:
            read_at = datetime.fromisoformat(str(value.get("read_at")))
        except ValueError:
            return None
        if read_at.tzinfo is None:
            return None
        return cls(read_at, [p for p in value["providers"] if isinstance(p, dict)])

    def to_state(self) -> dict[str, Any]:
        return {"read_at": self.read_at.astimezone(UTC).isoformat(), "providers": self.providers}

    def age(self, now: datetime) -> timedelta:
        return now - self.read_at


class CarrierMatcher:
    def __init__(self, providers: list[dict[str, Any]], explicit: dict[str, dict[str, Any]] | None = None) -> None:
        self._by_name: dict[str, tuple[int, int]] = {}
        for provider in providers:
            for product in provider.get("products") or []:
                for name in (product.get("displayName"), product.get("productName")):
                    if name:
                        self._by_name.setdefault(str(name).strip().casefold(), (provider["id"], product["id"]))
        self._explicit = {k.strip().casefold(): v for k, v in (explicit or {}).items()}

    def knows(self, profile_name: str | None) -> bool:
        """Whether the profile has an explicit entry or a shipping provider product named alike."""
        key = (profile_name or "").strip().casefold()
        return key in self._explicit or key in self._by_name

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
