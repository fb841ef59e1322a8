"""JSON Schemas of the streams, following Billbee's API models (docs/api-contract.md)."""

from __future__ import annotations

from typing import Any

from singer_sdk import typing as th

Str = th.StringType
Int = th.IntegerType
Num = th.NumberType
Bool = th.BooleanType
When = th.DateTimeType


def _p(name: str, kind: th.JSONTypeHelper[Any] | type[th.JSONTypeHelper[Any]], *, required: bool = False,
       description: str | None = None) -> th.Property[Any]:
    """A property: `kind` is a type (Str, Int, ...) or a nested schema; only these two options are used."""
    return th.Property(name, kind, required=required, description=description)


MULTI_LANGUAGE = th.ArrayType(th.ObjectType(_p("Text", Str), _p("LanguageCode", Str)))
CATEGORY = th.ObjectType(_p("Name", Str), _p("Id", Int))

PRODUCT = th.PropertiesList(
    _p("Id", Int, required=True, description="Billbee article id"),
    _p("SKU", Str),
    _p("EAN", Str),
    _p("Type", Int, description="1 = normal article, 2 = bundle (bill of materials)"),
    _p("Title", MULTI_LANGUAGE),
    _p("Description", MULTI_LANGUAGE),
    _p("ShortDescription", MULTI_LANGUAGE),
    _p("BasicAttributes", MULTI_LANGUAGE),
    _p("InvoiceText", MULTI_LANGUAGE),
    _p("Materials", MULTI_LANGUAGE),
    _p("Tags", MULTI_LANGUAGE),
    _p("ExportDescription", Str),
    _p("ExportDescriptionMultiLanguage", MULTI_LANGUAGE),
    _p("Manufacturer", Str),
    _p("Weight", Int, description="gross weight, grams"),
    _p("WeightNet", Int, description="net weight, grams"),
    _p("LengthCm", Num),
    _p("WidthCm", Num),
    _p("HeightCm", Num),
    _p("Unit", Int),
    _p("UnitsPerItem", Num),
    _p("Price", Num),
    _p("CostPrice", Num),
    _p("VatIndex", Int),
    _p("Vat1Rate", Num),
    _p("Vat2Rate", Num),
    _p("StockCurrent", Num),
    _p("StockDesired", Num),
    _p("StockWarning", Num),
    _p("StockCode", Str),
    _p("StockReduceItemsPerSale", Num),
    _p("LowStock", Bool),
    _p("Stocks", th.ArrayType(th.ObjectType(
        _p("Name", Str), _p("StockId", Int), _p("StockCurrent", Num), _p("StockCurrentIsCalculated", Bool),
        _p("StockWarning", Num), _p("StockCode", Str), _p("UnfulfilledAmount", Num), _p("StockDesired", Num),
    ))),
    _p("BillOfMaterial", th.ArrayType(th.ObjectType(_p("Amount", Num), _p("ArticleId", Int), _p("SKU", Str))),
       description="components of a bundle (Type 2)"),
    _p("Images", th.ArrayType(th.ObjectType(
        _p("Url", Str), _p("Id", Int), _p("ThumbPathExt", Str), _p("ThumbUrl", Str), _p("Position", Int),
        _p("IsDefault", Bool), _p("ArticleId", Int),
    ))),
    _p("IsDeactivated", Bool),
    _p("IsDigital", Bool),
    _p("IsCustomizable", Bool),
    _p("Category1", CATEGORY),
    _p("Category2", CATEGORY),
    _p("Category3", CATEGORY),
    _p("ShippingProductId", Int),
    _p("DeliveryTime", Int),
    _p("Recipient", Int),
    _p("Occasion", Int),
    _p("CountryOfOrigin", Str),
    _p("TaricNumber", Str),
    _p("Condition", Int),
    _p("Sources", th.ArrayType(th.ObjectType(additional_properties=True))),
    _p("CustomFields", th.ArrayType(th.ObjectType(additional_properties=True))),
    _p("SoldAmount", Num),
    _p("SoldSumGross", Num),
    _p("SoldSumNet", Num),
    _p("SoldSumNetLast30Days", Num),
    _p("SoldSumGrossLast30Days", Num),
    _p("SoldAmountLast30Days", Num),
)

ADDRESS = th.ObjectType(
    _p("BillbeeId", Int), _p("FirstName", Str), _p("LastName", Str), _p("Company", Str), _p("NameAddition", Str),
    _p("Street", Str), _p("HouseNumber", Str), _p("Zip", Str), _p("City", Str), _p("CountryISO2", Str),
    _p("Country", Str), _p("Line2", Str), _p("Email", Str), _p("State", Str), _p("Phone", Str),
)

SOLD_PRODUCT = th.ObjectType(
    _p("OldId", Str), _p("Id", Str), _p("Title", Str), _p("Weight", Int), _p("SKU", Str), _p("SkuOrId", Str),
    _p("IsDigital", Bool), _p("EAN", Str), _p("PlatformData", Str), _p("TARICCode", Str),
    _p("CountryOfOrigin", Str), _p("BillbeeId", Int), _p("Type", Int),
    _p("Images", th.ArrayType(th.ObjectType(additional_properties=True))),
)

BUNDLE_COMPONENT = th.ObjectType(
    _p("ArticleId", Int), _p("SKU", Str), _p("EAN", Str), _p("Quantity", Num),
)

ORDER_ITEM = th.ObjectType(
    _p("BillbeeId", Int), _p("TransactionId", Str), _p("Product", SOLD_PRODUCT), _p("Quantity", Num),
    _p("TotalPrice", Num), _p("TaxAmount", Num), _p("TaxIndex", Int), _p("Discount", Num),
    _p("Attributes", th.ArrayType(th.ObjectType(_p("Id", Str), _p("Name", Str), _p("Value", Str), _p("Price", Num)))),
    _p("GetPriceFromArticleIfAny", Bool), _p("IsCoupon", Bool), _p("ShippingProfileId", Str),
    _p("DontAdjustStock", Bool), _p("UnrebatedTotalPrice", Num), _p("SerialNumber", Str), _p("InvoiceSKU", Str),
    _p("IsDiscount", Bool),
    _p("BundleComponents", th.ArrayType(BUNDLE_COMPONENT),
       description="Added by the tap: the components of a bundle line (quantity = line quantity x BOM amount)"),
)

SHIPMENT = th.ObjectType(
    _p("BillbeeId", Int), _p("ShippingId", Str), _p("Shipper", Str), _p("Created", When), _p("TrackingUrl", Str),
    _p("ShippingProviderId", Int), _p("ShippingProviderProductId", Int), _p("ShippingCarrier", Int),
    _p("ShipmentType", Int),
)

ORDER_USER = th.ObjectType(
    _p("Platform", Str), _p("BillbeeShopName", Str), _p("BillbeeShopId", Int), _p("Id", Str), _p("Nick", Str),
    _p("FirstName", Str), _p("LastName", Str), _p("FullName", Str), _p("Email", Str),
)

ORDER = th.PropertiesList(
    _p("BillBeeOrderId", Int, required=True),
    _p("Id", Str),
    _p("OrderNumber", Str),
    _p("BillBeeParentOrderId", Int),
    _p("State", Int),
    _p("Tags", th.ArrayType(Str)),
    _p("CreatedAt", When),
    _p("ShippedAt", When),
    _p("ConfirmedAt", When),
    _p("PayedAt", When),
    _p("InvoiceDate", When),
    _p("UpdatedAt", When),
    _p("LastModifiedAt", When, required=True),
    _p("ArchivedAt", When),
    _p("RestoredAt", When),
    _p("ShippingAddress", ADDRESS),
    _p("InvoiceAddress", ADDRESS),
    _p("ShippingProviderId", Int),
    _p("ShippingProviderProductId", Int),
    _p("ShippingProviderName", Str),
    _p("ShippingProviderProductName", Str),
    _p("ShippingProfileId", Str),
    _p("ShippingProfileName", Str),
    _p("ShipWeightKg", Num),
    _p("ShippingCost", Num),
    _p("ShippingIds", th.ArrayType(SHIPMENT)),
    _p("OrderItems", th.ArrayType(ORDER_ITEM)),
    _p("TotalCost", Num),
    _p("PaidAmount", Num),
    _p("Currency", Str),
    _p("PaymentMethod", Int),
    _p("VatMode", Int),
    _p("TaxRate1", Num),
    _p("TaxRate2", Num),
    _p("AdjustmentCost", Num),
    _p("AdjustmentReason", Str),
    _p("InvoiceNumber", Int),
    _p("InvoiceNumberPrefix", Str),
    _p("InvoiceNumberPostfix", Str),
    _p("SellerComment", Str),
    _p("CustomerNumber", Str),
    _p("Seller", ORDER_USER),
    _p("Buyer", ORDER_USER),
    _p("Customer", th.ObjectType(additional_properties=True)),
    _p("Comments", th.ArrayType(th.ObjectType(additional_properties=True))),
    _p("History", th.ArrayType(th.ObjectType(additional_properties=True))),
    _p("Payments", th.ArrayType(th.ObjectType(additional_properties=True))),
    _p("ShippingServices", th.ArrayType(th.ObjectType(additional_properties=True))),
    _p("ApiAccountId", Int),
    _p("ApiAccountName", Str),
    _p("LanguageCode", Str),
    _p("VatId", Str),
    _p("IsCancelationFor", Str, description="set on Billbee's cancellation credit orders: the (external) id of "
                                            "the cancelled order; a string in the OpenAPI spec"),
    _p("IsFromBillbeeApi", Bool),
    _p("DistributionCenter", Str),
    _p("DeliverySourceCountryCode", Str),
    _p("CustomInvoiceNote", Str),
    _p("RebateDifference", Num),
    _p("AcceptLossOfReturnRight", Bool),
    _p("PaymentInstruction", Str),
    _p("PaymentTransactionId", Str),
    _p("PaymentReference", Str),
    _p("MerchantVatId", Str),
    _p("CustomerVatId", Str),
)

STOCK_LOCATION = th.PropertiesList(
    _p("Id", Int, required=True), _p("Name", Str), _p("Description", Str), _p("IsDefault", Bool),
)

SHIPPING_PROVIDER = th.PropertiesList(
    _p("id", Int, required=True),
    _p("name", Str),
    _p("products", th.ArrayType(th.ObjectType(_p("id", Int), _p("displayName", Str), _p("productName", Str)))),
)
