"""The simulated Billbee account, one module per resource: ``locations`` (stock locations, shipping providers),
``articles``, ``stock`` (stock writes, the stock orders hold), ``reservations`` (unfulfilled amounts), ``orders``
and ``order_writes`` (tags, state, shipments, messages), on ``base`` (containers, clock, ids, settings), with the
``model`` (ids, states, fields, scales) and the ``values`` helpers; ``account`` combines them into
:class:`BillbeeStore`.

Values are kept the way the real service serialises them (docs/api-contract.md):

* timestamps are naive ``datetime`` objects in the account's frame (setting ``timezone``); the JSON provider
  prints them with 0-3 fractional digits. Times made by the simulator are rounded to SQL Server ``datetime``
  ticks (1/300 s), which is why real values end in .xx0/.xx3/.xx7;
* money and quantities are ``Decimal`` with at least the scale the real service shows (``Quantity`` 3,
  ``TotalPrice`` 7, ...). Scales of article fields are not documented anywhere; they are guesses (4);
* ids are large int64 values from the ranges seen in real payloads.

Keys starting with ``_`` are simulator-internal (e.g. ``_CreatedAt`` of an article, which Billbee filters on but
never returns, or ``_Taken`` of an order, the stock it holds) and are stripped from API answers. How stock moves:
the docstring of ``sandbox.billbee.store.stock``.

Every public method takes ``ctx.lock`` and returns deep copies, so callers may serialise outside the lock (the
lists return :class:`Rows`, which copies a row when it is read: a page of 250 costs 250 copies, not the catalogue).
"""

from sandbox.billbee.store.account import BillbeeStore
from sandbox.billbee.store.model import (
    ARTICLE_ID_BASE,
    INTERNAL_ERROR,
    INVALID_DATA,
    ORDER_ID_BASE,
    ORDER_NOT_FOUND,
    ORDER_STATES,
    UNFULFILLED_STATES,
    error_description,
)
from sandbox.billbee.store.orders import OrderFilter
from sandbox.billbee.store.values import Rows, ScenarioError, format_time, parse_time

__all__ = [
    "ARTICLE_ID_BASE", "INTERNAL_ERROR", "INVALID_DATA", "ORDER_ID_BASE", "ORDER_NOT_FOUND", "ORDER_STATES",
    "UNFULFILLED_STATES", "BillbeeStore", "OrderFilter", "Rows", "ScenarioError", "error_description",
    "format_time", "parse_time",
]
