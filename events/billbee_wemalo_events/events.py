"""An accepted delivery as the queue keeps it: which direction of the sync it concerns and for which order."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

Direction = Literal["billbee_to_wemalo", "wemalo_to_billbee"]
BILLBEE_TO_WEMALO: Direction = "billbee_to_wemalo"
WEMALO_TO_BILLBEE: Direction = "wemalo_to_billbee"


@dataclass(frozen=True)
class Event:
    """One unit of work. `order_id` is the Billbee order id (= wemalo's externalId); None means the delivery
    named no order the connector could find, so the whole direction is synced (never dropped)."""

    source: Literal["billbee", "wemalo"]
    kind: str
    direction: Direction
    order_id: str | None
    delivery_id: str | None = None
    # ids, and a Billbee order's state and tags (`hint`): no names, addresses or secrets
    detail: dict[str, Any] = field(default_factory=dict)

    def dedup_key(self, merchant: str, content: Any) -> str:
        """Equal for a repeated delivery (same delivery id, or the same content without one); the queue keeps one
        pending event per key, so duplicates cost nothing."""
        basis = json.dumps([merchant, self.source, self.kind, self.order_id, self.delivery_id, content],
                           sort_keys=True, default=str, separators=(",", ":"))
        return hashlib.sha256(basis.encode()).hexdigest()
