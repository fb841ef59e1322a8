"""In-memory wemalo account, one module per resource: ``products`` (with its ``product_index``), ``stock``,
``orders`` (goods orders), ``warehouse`` (advancing orders, packing and shipping parcels, dispatcher profiles),
``parcels`` and ``bookings`` (the sent feeds), ``returns`` (announcements, returned parcels booked in, the returns
feeds), on ``base`` (containers, counters, clock), with the ``model``
(statuses, fields, :class:`WemaloError`), the ``settings`` and ``carriers``; ``account`` combines them into
:class:`WemaloStore`.

All methods take `ctx.lock`. Business errors raise :class:`WemaloError`, which app.py renders as wemalo's body
(`Success: false`, `status`, `message`, ...).

Modelling choices where wemalo's real behaviour is unknown (docs/api-contract.md) are marked *(choice)*:

* Status ids *(choice, except PARTIAL 100 and 500 = completely sent)*: see STATUS_IDS.
* Stock: `physical` per product (the default attribute) and, for products given one, a B-stock attribute. An
  order reserves its open quantities of the default attribute while OPEN..PACKED. availableStock answers as the
  apidoc's example: the figures in `attributes[]`, `virtualQuantity` 0 (every simulated article is a non-set
  article). The default attribute's figure is physical minus the open quantities of every unshipped,
  uncancelled order, PARTIAL ones included, so it goes negative when orders exceed stock (as wemalo's help
  pages describe); `stock_quantity: on_hand` gives the physical stock instead *(choice)*. B-stock is on-hand.
* A new order is OPEN (reserved) when the unreserved stock covers all positions, else PARTIAL with
  reasonPartiallyReserved "STOCK" *(choice of string)*; PARTIAL orders are re-checked, oldest first, whenever
  stock is set or reservations are released. Other reasons (ADDRESS, ... set through `/_admin/advance`) wait for
  their own cause: a changed receiver (setting `address_recheck`) or the operator.
* Product upserts (`addMultiple`) merge the sent fields into the stored product; `updatedAt` moves only
  when something changed *(choice)*. SKUs compare case-insensitively (setting `sku_case_insensitive`).
"""

from sandbox.wemalo.store.account import WemaloStore
from sandbox.wemalo.store.model import (
    DATETIME_FORMAT,
    EAN_FIELDS,
    HOUR_FORMAT,
    PRODUCT_DEFAULTS,
    WemaloError,
    missing,
    parse_local,
)
from sandbox.wemalo.store.settings import DEFAULT_SETTINGS, PROFILES

__all__ = [
    "DATETIME_FORMAT", "DEFAULT_SETTINGS", "EAN_FIELDS", "HOUR_FORMAT", "PRODUCT_DEFAULTS", "PROFILES",
    "WemaloError", "WemaloStore", "missing", "parse_local",
]
