"""Billbee's data model as the simulator keeps it: id ranges, order states, ApiResult error codes, and the
fields and decimal scales of orders, items, shipments, articles and stock entries."""

from __future__ import annotations

from typing import Any

ORDER_ID_BASE = 300000180937794
ORDER_ITEM_ID_BASE = 300000305566341
ADDRESS_ID_BASE = 300000171849497
SHIPMENT_ID_BASE = 300000002945813
CUSTOMER_ID_BASE = 300000147804918
COMMENT_ID_BASE = 300000064127731  # CommentApiModel.Id (int64): no real value seen; the range is a guess
ARTICLE_ID_BASE = 100000317105650
DEFAULT_SHOP_ID = 100000000004711

ERROR_NAMES = (
    "NoError", "ApiNotActivated", "OrderNotFound", "InvoiceNotCreated", "CantCreateInvoice", "OrderCanceled",
    "OrderDeleted", "OrderNotPaid", "InternalError", "OrderExists", "WrongShopId", "InvalidData",
    "CreateUser_DuplicateEmail", "CreateUser_InvalidEmail", "CreateUser_UserRejected", "CreateUser_TermsNotAccepted",
    "NoPaidAccount", "APIServiceNotBooked", "CantCreateDeliveryNote",
)
# Order states whose quantities count as "not fulfilled" (the unfulfilled / reserved amount), default of the setting
# `unfulfilled_states`. Not documented; from the state list of PUT /orders/{id}/orderstate: every state whose name
# says neither that the goods have left (4 shipped, 5 reclamation, 17 return) nor that the order has ended (6 deleted,
# 7 closed, 8 canceled, 9 archived; 10 is "not used"): 1 ordered, 2 confirmed, 3 paid, 11/12 demand notes, 13 packed,
# 15 payment reminder, 16 fulfilling. 14 offered is out: an offer reduces no stock (Billbee's help on order states,
# which counts ordered and confirmed orders as open). The other reading (lenient profile) leaves out the dunning
# states 11, 12, 15, which on a purchase on account follow the invoice and often the shipment.
UNFULFILLED_STATES = (1, 2, 3, 11, 12, 13, 15, 16)
CANCELLED_STATES = frozenset({6, 8})  # deleted, canceled: the states setting `restock_on_cancel` gives stock back in
OFFERED_STATE = 14  # "Angeboten": holds no stock
ORDER_NOT_FOUND = 2
INTERNAL_ERROR = 8
INVALID_DATA = 11


def error_description(code: int, mode: Any) -> int | str:
    """`ErrorDescription` of an ApiResult: the vendor spec types it as a read-only int32 enum (setting
    `error_description` "number", the literal default); "name" gives the enum's name ("NoError")."""
    return ERROR_NAMES[code] if mode == "name" else code


ORDER_STATES = (
    (1, "Bestellt"), (2, "Bestaetigt"), (3, "Zahlung_erhalten"), (4, "Versendet"), (5, "Reklamation"),
    (6, "Geloescht"), (7, "Abgeschlossen"), (8, "Storniert"), (9, "Archiviert"), (10, "Rated"), (11, "Mahnung"),
    (12, "Mahnung2"), (13, "Gepackt"), (14, "Angeboten"), (15, "Zahlungserinnerung"), (16, "Im_Fulfillment"),
    (17, "Retoure"),
)

ORDER_FIELDS = (
    "RebateDifference", "ShippingIds", "AcceptLossOfReturnRight", "Id", "OrderNumber", "State", "VatMode",
    "CreatedAt", "ShippedAt", "ConfirmedAt", "PayedAt", "SellerComment", "Comments", "InvoiceNumberPrefix",
    "InvoiceNumberPostfix", "InvoiceNumber", "InvoiceDate", "InvoiceAddress", "ShippingAddress", "PaymentMethod",
    "ShippingCost", "TotalCost", "AdjustmentCost", "AdjustmentReason", "OrderItems", "Currency", "Seller", "Buyer",
    "UpdatedAt", "TaxRate1", "TaxRate2", "BillBeeOrderId", "BillBeeParentOrderId", "VatId", "Tags", "ShipWeightKg",
    "LanguageCode", "PaidAmount", "ShippingProfileId", "ShippingProviderId", "ShippingProviderProductId",
    "ShippingProviderName", "ShippingProviderProductName", "ShippingProfileName", "PaymentInstruction",
    "IsCancelationFor", "PaymentTransactionId", "DistributionCenter", "DeliverySourceCountryCode",
    "CustomInvoiceNote", "CustomerNumber", "PaymentReference", "ShippingServices", "Customer", "History", "Payments",
    "LastModifiedAt", "ArchivedAt", "RestoredAt", "ApiAccountId", "ApiAccountName", "MerchantVatId",
    "CustomerVatId", "IsFromBillbeeApi", "WebUrl",
)
WEB_URL = "https://app.billbee.io/app_v2/order/{}"  # the sandbox's own invention: the spec gives no format
ORDER_TIME_FIELDS = ("CreatedAt", "ShippedAt", "ConfirmedAt", "PayedAt", "InvoiceDate", "UpdatedAt",
                     "LastModifiedAt", "ArchivedAt", "RestoredAt")
ORDER_DECIMALS = {"RebateDifference": 1, "ShippingCost": 1, "TotalCost": 1, "AdjustmentCost": 1, "PaidAmount": 1,
                  "TaxRate1": 2, "TaxRate2": 2}
ADDRESS_FIELDS = ("BillbeeId", "FirstName", "LastName", "Company", "NameAddition", "Street", "HouseNumber", "Zip",
                  "City", "CountryISO2", "Country", "Line2", "Email", "State", "Phone")
ITEM_FIELDS = ("BillbeeId", "TransactionId", "Product", "Quantity", "TotalPrice", "TaxAmount", "TaxIndex", "Discount",
               "Attributes", "GetPriceFromArticleIfAny", "IsCoupon", "ShippingProfileId", "DontAdjustStock",
               "UnrebatedTotalPrice", "SerialNumber", "InvoiceSKU")
ITEM_DECIMALS = {"Quantity": 3, "TotalPrice": 7, "TaxAmount": 7, "UnrebatedTotalPrice": 7, "Discount": 1}
SOLD_PRODUCT_FIELDS = ("OldId", "Id", "Title", "Weight", "SKU", "SkuOrId", "IsDigital", "Images", "EAN",
                       "PlatformData", "TARICCode", "CountryOfOrigin", "BillbeeId", "Type")
SHIPMENT_FIELDS = ("BillbeeId", "ShippingId", "Shipper", "Created", "TrackingUrl", "ShippingProviderId",
                   "ShippingProviderProductId", "ShippingCarrier", "ShipmentType")
# CommentApiModel, the items of Order.Comments ("All messages / comments of the order")
COMMENT_FIELDS = ("Id", "FromCustomer", "Text", "Name", "Created")
SELLER_FIELDS = ("Platform", "BillbeeShopName", "BillbeeShopId", "Id", "Nick", "FirstName", "LastName", "FullName",
                 "Email")

ARTICLE_FIELDS = (
    "InvoiceText", "Manufacturer", "Id", "Title", "Description", "ShortDescription", "BasicAttributes", "Images",
    "VatIndex", "Price", "CostPrice", "Vat1Rate", "Vat2Rate", "StockDesired", "StockCurrent", "StockWarning", "SKU",
    "EAN", "Materials", "Tags", "Sources", "Weight", "WeightNet", "LowStock", "StockCode", "StockReduceItemsPerSale",
    "Stocks", "Category1", "Category2", "Category3", "Type", "Unit", "UnitsPerItem", "SoldAmount", "SoldSumGross",
    "SoldSumNet", "SoldSumNetLast30Days", "SoldSumGrossLast30Days", "SoldAmountLast30Days", "ShippingProductId",
    "IsDigital", "IsCustomizable", "DeliveryTime", "Recipient", "Occasion", "CountryOfOrigin", "ExportDescription",
    "ExportDescriptionMultiLanguage", "TaricNumber", "Condition", "WidthCm", "LengthCm", "HeightCm",
    "BillOfMaterial", "CustomFields", "IsDeactivated",
)
ARTICLE_DECIMALS = {"Price": 4, "CostPrice": 4, "Vat1Rate": 2, "Vat2Rate": 2, "StockDesired": 4, "StockCurrent": 4,
                    "StockWarning": 4, "StockReduceItemsPerSale": 4, "UnitsPerItem": 4}
STOCK_ENTRY_FIELDS = ("Name", "StockId", "StockCurrent", "StockCurrentIsCalculated", "StockWarning", "StockCode",
                      "UnfulfilledAmount", "StockDesired")
STOCK_DECIMALS = {"StockCurrent": 4, "StockWarning": 4, "UnfulfilledAmount": 4, "StockDesired": 4}
STOCK_SCALE = 4
