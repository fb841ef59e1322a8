"""Stock of the Billbee account: writes through ``updatestock``/``updatestockmultiple`` (every call recorded), and the
stock orders hold. It follows what the vendor's documents say (docs/api-contract.md, "Billbee: stock"):

* an imported order lowers the stock of each item's article in the default stock location ("If true, the import of
  this order won't adjust the stock level" says ``OrderItem.DontAdjustStock``), by ``Quantity`` times the article's
  ``StockReduceItemsPerSale``; a bundle (``Type`` 2) keeps no stock of its own, its components are lowered by
  ``Amount`` x ``Quantity``. The article is the one the item is linked to (``Product.BillbeeId``, "The Billbee
  internal id of the linked product"), else the one with the item's SKU; ``Product.Id`` is the shop's own id;
* an order in state 14 (offered) holds no stock (Billbee's help on order states: an offer does not reduce stock);
  it takes its stock when it moves on. With setting ``restock_on_cancel`` an order moving to 6/8 gives back exactly
  what it took (``_Taken``), and takes it again if it moves back;
* the unfulfilled ("reserved") amount of an article is computed from the orders (sandbox.billbee.store.reservations);
* orders of a scenario are the account's existing data: its ``StockCurrent`` figures already reflect them, so they
  move no stock unless the scenario says ``"import_orders": true``. Editing an order's items (admin PATCH) moves no
  stock either; an order leaving through the admin DELETE keeps what it took."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from sandbox.billbee.store.base import AccountBase
from sandbox.billbee.store.model import CANCELLED_STATES, INVALID_DATA, OFFERED_STATE, STOCK_SCALE
from sandbox.billbee.store.values import ScenarioError, stock_figure, to_decimal


class StockMixin(AccountBase):
    def update_stock(self, model: Any, endpoint: str, bom_mode: str = "error") -> dict[str, Any]:
        """One UpdateStockApiModel -> one ApiResult<UpdateStockResponseData>. Every call is recorded."""
        with self.ctx.lock:
            model = model if isinstance(model, dict) else {}
            sku, billbee_id = model.get("Sku"), model.get("BillbeeId")
            record: dict[str, Any] = {"Time": self.now(), "Endpoint": endpoint, "Sku": sku, "BillbeeId": billbee_id,
                                      "StockId": model.get("StockId"), "NewQuantity": model.get("NewQuantity"),
                                      "Reason": model.get("Reason"),
                                      "AutosubtractReservedAmount": model.get("AutosubtractReservedAmount"),
                                      "Result": "ok"}
            self.stock_writes.append(record)

            def fail(result: str, message: str) -> dict[str, Any]:
                record["Result"] = result
                return {"ErrorMessage": message, "ErrorCode": INVALID_DATA,
                        "ErrorDescription": self._describe(INVALID_DATA), "Data": None}

            article = None
            if sku:
                article = self._by_sku(sku)
            elif isinstance(billbee_id, int):
                article = self.products.get(billbee_id)
            if article is None:
                return fail("unknown_sku", f"Article not found: SKU '{sku}'" if sku
                            else f"Article not found: BillbeeId {billbee_id}")
            try:
                new_qty = to_decimal(model.get("NewQuantity"), STOCK_SCALE)
            except ScenarioError:
                new_qty = None
            if new_qty is None:
                return fail("invalid", f"SKU '{article.get('SKU')}': NewQuantity missing or not a number")
            if article["Type"] == 2:
                if bom_mode == "ignore":
                    record["Result"] = "bom_ignored"
                    return self._stock_result(article.get("SKU"), None, None, None, "Stock of a bundle not changed")
                return fail("bom", f"SKU '{article.get('SKU')}' is a bill of materials; it keeps no stock of its "
                                   "own, write the stock of its components")
            stock_id = model.get("StockId")
            if stock_id in (None, 0):
                stock_id = self.default_stock_id()
            entry = next((s for s in article["Stocks"] if s["StockId"] == stock_id), None)
            if entry is None:
                return fail("unknown_stock", f"SKU '{article.get('SKU')}': unknown StockId {model.get('StockId')}")
            zero = Decimal(0).quantize(Decimal(1).scaleb(-STOCK_SCALE))
            old = entry["StockCurrent"] if entry["StockCurrent"] is not None else zero
            unfulfilled = self._unfulfilled(article, entry)
            if unfulfilled is None:
                unfulfilled = zero
            if model.get("AutosubtractReservedAmount") is True:
                # "Automatically reduce the NewQuantity by the currently not fulfilled amount"; whether the result
                # may be negative is not documented (setting `autosubtract_below_zero`)
                new_qty = to_decimal(new_qty - unfulfilled, STOCK_SCALE)
                if new_qty is not None and new_qty < 0 and not self._setting("autosubtract_below_zero", True):
                    new_qty = zero
            entry["StockCurrent"] = new_qty
            self._sync_article_stock(article)
            record["OldStock"], record["CurrentStock"], record["UnfulfilledAmount"] = old, new_qty, unfulfilled
            # wording of the vendor's PHP SDK fixture: "The qty was successfully updated from 0 to 123"
            return self._stock_result(article.get("SKU"), old, new_qty, unfulfilled,
                                      f"The qty was successfully updated from {old.normalize():f} to "
                                      f"{new_qty.normalize():f}")

    def _stock_result(self, sku: Any, old: Any, new: Any, unfulfilled: Any, message: str) -> dict[str, Any]:
        return {"ErrorMessage": None, "ErrorCode": 0, "ErrorDescription": self._describe(0),
                "Data": {"SKU": sku, "OldStock": old, "CurrentStock": new, "UnfulfilledAmount": unfulfilled,
                         "Message": message}}

    def _linked_article(self, product: dict[str, Any]) -> dict[str, Any] | None:
        """The article an order item is linked to: Product.BillbeeId, else the article with the item's SKU."""
        article = None
        if product.get("BillbeeId") is not None:
            try:
                article = self.products.get(int(product["BillbeeId"]))
            except (TypeError, ValueError):
                article = None
        if article is None and product.get("SKU"):
            article = self._by_sku(product["SKU"])
        return article

    def _item_units(self, item: dict[str, Any], *, bundle_itself: bool = False,
                    ) -> Iterator[tuple[dict[str, Any], Decimal]]:
        """(article, stock units) of one order item: Quantity x StockReduceItemsPerSale of a normal article, Amount x
        Quantity of each component of a bundle (and, with `bundle_itself`, the bundle's own Quantity)."""
        article = self._linked_article(item.get("Product") or {})
        quantity = item.get("Quantity")
        if article is None or not isinstance(quantity, Decimal):
            return
        if article.get("Type") == 2:
            if bundle_itself:
                yield article, quantity
            for line in article.get("BillOfMaterial") or []:
                component = self.products.get(line.get("ArticleId")) or (
                    self._by_sku(line["SKU"]) if line.get("SKU") else None)
                if component is not None:
                    yield component, quantity * Decimal(str(line.get("Amount") or 1))
        else:
            per_sale = article.get("StockReduceItemsPerSale")
            yield article, quantity * (per_sale if isinstance(per_sale, Decimal) else Decimal(1))

    def _holds_stock(self, state: Any) -> bool:
        """Whether an order in `state` has its stock taken: not an offer (14), nor 6/8 with `restock_on_cancel`."""
        if state == OFFERED_STATE:
            return False
        return not (state in CANCELLED_STATES and self._setting("restock_on_cancel", False))

    def _sync_stock(self, order: dict[str, Any], *, move: bool = True) -> None:
        """Take or give back the order's stock so that it matches its state. `_Taken` records what was taken, so a
        give-back returns exactly that. With `move` False (a scenario's own orders) or `deduct_stock_on_import`
        False only the record follows: the figures do not move."""
        want = self._holds_stock(order.get("State"))
        taken = order.get("_Taken")
        if want == (taken is not None):
            return
        move = move and bool(self._setting("deduct_stock_on_import", True))
        if want:
            units: dict[int, Decimal] = {}
            for item in order.get("OrderItems") or []:
                if item.get("DontAdjustStock"):  # "the import of this order won't adjust the stock level"
                    continue
                for article, quantity in self._item_units(item):
                    units[article["Id"]] = units.get(article["Id"], Decimal(0)) + quantity
            order["_Taken"] = [[article_id, quantity] for article_id, quantity in units.items()]
            sign = Decimal(-1)
        else:
            order["_Taken"] = None
            sign = Decimal(1)
        if move:
            for article_id, quantity in taken if taken is not None else order["_Taken"]:
                self._default_entry_add(article_id, sign * quantity)

    def _default_entry(self, article: dict[str, Any]) -> dict[str, Any] | None:
        default_id = self.default_stock_id()
        return next((e for e in article["Stocks"] if e["StockId"] == default_id), None) or (
            article["Stocks"][0] if article["Stocks"] else None)

    def _default_entry_add(self, article_id: int, delta: Decimal) -> None:
        article = self.products.get(article_id)
        entry = self._default_entry(article) if article is not None else None
        if article is not None and entry is not None:
            entry["StockCurrent"] = stock_figure((entry["StockCurrent"] or Decimal(0)) + delta)
            self._sync_article_stock(article)
