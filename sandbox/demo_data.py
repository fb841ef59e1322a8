"""Deterministic demo data: a small German shop in Billbee plus wemalo's dispatcher profiles.

``generate(seed)`` returns ``{"billbee": <scenario for POST /_admin/scenario>, "wemalo": {"profiles": [...]}}``.
Everything is plain JSON (numbers as int/float, timestamps as Billbee-style naive strings); the Billbee
simulator turns money and quantities into Decimals with the real service's trailing zeros.

Cases it always contains (tests rely on them):

* products: umlauts and long names, weights and dimensions, three without EAN (two null, one empty), one
  duplicate EAN pair, one without SKU, one deactivated, three bundles (Type 2, BillOfMaterial of 2-3
  components), stock in two warehouses (one default);
* shipping providers whose product display names partly match wemalo's profile names;
* orders: company and private addresses, Packstation (Postnummer in NameAddition, a second one in Line2), a
  street with the house number inside and empty HouseNumber, Austria and Switzerland, differing invoice
  address, several lines, bundle lines, a coupon line without article, states mostly 3 (some 1, 4, 8), tags
  "wemalo" on most, some untagged, one already "order_received_by_wemalo", one "Wemalo" in other case, and a
  cancellation credit order (IsCancelationFor set, negative quantities).

``CASES`` names the index of each special order so tests need not search.
"""

from __future__ import annotations

import copy
import random
from datetime import datetime, timedelta
from typing import Any

from sandbox.billbee.store import ARTICLE_ID_BASE, ORDER_ID_BASE, format_time

ORDERS_TAG = "wemalo"
RECEIVED_TAG = f"order_received_by_{ORDERS_TAG}"
SHOP_ID = 100000000004711
AMAZON_SHOP_ID = 100000000004712
DEFAULT_STOCK_ID = 100000000000741
SECOND_STOCK_ID = 100000000000742
MIN_PRODUCTS = 19
MIN_ORDERS = 16

CASES = {
    "company": 0, "private": 1, "packstation": 2, "street_with_number": 3, "bundle_line": 4, "already_received": 5,
    "untagged_paid": 6, "ordered_unpaid": 7, "shipped": 8, "cancelled": 9, "cancellation_credit": 10,
    "austria_coupon": 11, "switzerland_other_case_tag": 12, "invoice_differs": 13, "packstation_line2": 14,
    "amazon": 15,
}
# Indexes into the normal (Type 1) products.
NO_EAN = (4, 10, 15)
DUPLICATE_EAN = (6, 7)
NO_SKU = 11
DEACTIVATED = 13

_BASE_TIME = datetime(2026, 11, 2, 8, 0, 0)

# (title, category, SKU prefix, weight g, (length, width, height) cm, price EUR, manufacturer)
_CATALOGUE: tuple[tuple[str, str, str, int, tuple[float, float, float], float, str], ...] = (
    ("Edelstahl-Trinkflasche „Bergquelle“ 750 ml, doppelwandig isoliert, auslaufsicher", "Küche & Haushalt", "KH",
     420, (29.0, 8.5, 8.5), 24.90, "Nordwerk Haushaltswaren"),
    ("Gusseiserne Bratpfanne Ø 28 cm mit abnehmbarem Holzgriff", "Küche & Haushalt", "KH", 3150,
     (52.0, 30.0, 8.0), 59.00, "Eisenhütte Sauerland"),
    ("Bio-Baumwoll-Geschirrtücher im 4er-Set, 50 x 70 cm, Grün/Weiß kariert", "Küche & Haushalt", "KH", 380,
     (25.0, 18.0, 4.0), 19.95, "Leinenweberei Oberlausitz"),
    ("Schneidebrett aus geöltem Olivenholz, 40 x 25 cm", "Küche & Haushalt", "KH", 1450, (40.0, 25.0, 2.5),
     39.90, "Holzmanufaktur Süd"),
    ("Digitale Küchenwaage bis 5 kg mit Tara-Funktion und Glasplattform", "Küche & Haushalt", "KH", 690,
     (23.0, 18.0, 3.0), 17.49, "Nordwerk Haushaltswaren"),
    ("Gewürzmühle aus Buchenholz mit Keramikmahlwerk, höhenverstellbar", "Küche & Haushalt", "KH", 310,
     (20.0, 6.0, 6.0), 22.50, "Holzmanufaktur Süd"),
    ("Frühstücksbrettchen Eiche, 4-teilig", "Küche & Haushalt", "KH", 980, (24.0, 16.0, 4.0), 29.00,
     "Holzmanufaktur Süd"),
    ("Vorratsdose aus Glas mit Bambusdeckel, 1,2 l", "Küche & Haushalt", "KH", 720, (12.0, 12.0, 18.0), 12.90,
     "Glashütte Lausitz"),
    ("Gartenschere mit Amboss-Klinge und ergonomischem Softgriff", "Garten", "GA", 260, (22.0, 7.0, 2.5), 27.95,
     "Grünzeug Gartengeräte"),
    ("Rankgitter aus verzinktem Stahl für Kletterpflanzen, 180 x 60 cm", "Garten", "GA", 4200,
     (182.0, 62.0, 3.0), 49.00, "Grünzeug Gartengeräte"),
    ("Gießkanne Zink 10 l „Großmutters Garten“", "Garten", "GA", 1900, (55.0, 20.0, 40.0), 34.90,
     "Blechwaren Thüringen"),
    ("Pflanzkübel Fiberglas, frostfest, Ø 45 cm, Anthrazit", "Garten", "GA", 5600, (47.0, 47.0, 45.0), 89.00,
     "Grünzeug Gartengeräte"),
    ("Insektenhotel „Summende Wiese“ aus unbehandeltem Kiefernholz", "Garten", "GA", 1250, (32.0, 10.0, 45.0),
     29.90, "Holzmanufaktur Süd"),
    ("Akku-Bohrschrauber 18 V inkl. 2 Akkus, Schnellladegerät und Transportkoffer", "Werkzeug", "WZ", 2850,
     (38.0, 33.0, 11.0), 129.00, "Kraftwerk Werkzeuge"),
    ("Bit-Satz 32-teilig mit Magnethalter", "Werkzeug", "WZ", 240, (12.0, 8.0, 3.0), 14.99, "Kraftwerk Werkzeuge"),
    ("Zollstock Buche 2 m, gelb", "Werkzeug", "WZ", 180, (23.0, 4.0, 2.0), 8.50, "Maßwerk Franken"),
    ("Wasserwaage Aluminium 60 cm mit 3 Libellen", "Werkzeug", "WZ", 540, (61.0, 6.0, 2.5), 19.90,
     "Maßwerk Franken"),
    ("Frottee-Handtuchset 500 g/m², 2 Duschtücher + 2 Handtücher, Salbeigrün", "Bad", "BD", 1650,
     (35.0, 30.0, 12.0), 44.90, "Leinenweberei Oberlausitz"),
    ("Badematte rutschfest aus Baumwolle, 60 x 90 cm", "Bad", "BD", 830, (30.0, 25.0, 5.0), 24.95,
     "Leinenweberei Oberlausitz"),
    ("Zahnputzbecher aus Steingut, weiß glasiert", "Bad", "BD", 290, (10.0, 10.0, 11.0), 9.90,
     "Keramik Westerwald"),
    ("Notizbuch A5 punktiert, 192 Seiten, Leineneinband", "Büro", "BU", 420, (21.0, 15.0, 2.0), 16.90,
     "Papeterie Rösrath"),
    ("Füllfederhalter aus Messing mit Konverter, Federbreite M", "Büro", "BU", 95, (17.0, 5.0, 3.0), 64.00,
     "Schreibkultur Schwabach"),
    ("Schreibtischunterlage Filz 80 x 40 cm, Grau meliert", "Büro", "BU", 760, (42.0, 10.0, 10.0), 32.00,
     "Filzerei Allgäu"),
    ("Holzeisenbahn Grundpackung 45-teilig, für Kinder ab 3 Jahren", "Spielzeug", "SP", 2300, (45.0, 30.0, 10.0),
     54.90, "Spielwerk Erzgebirge"),
    ("Plüschbär „Bruno“ 35 cm, waschbar bei 30 °C", "Spielzeug", "SP", 350, (35.0, 22.0, 15.0), 21.90,
     "Spielwerk Erzgebirge"),
    ("Würfelbecher aus Leder mit fünf Holzwürfeln", "Spielzeug", "SP", 160, (10.0, 10.0, 10.0), 11.50,
     "Spielwerk Erzgebirge"),
    ("Kokos-Fußmatte „Grüß Gott“ 40 x 60 cm", "Haus & Hof", "HH", 1700, (61.0, 41.0, 3.0), 27.50,
     "Nordwerk Haushaltswaren"),
    ("Außenthermometer Edelstahl, Ø 20 cm, wetterfest", "Haus & Hof", "HH", 450, (21.0, 21.0, 4.0), 18.90,
     "Maßwerk Franken"),
)
_VARIANTS = (("Anthrazit", "ANT"), ("Salbeigrün", "SGR"), ("Größe L", "L"), ("Naturweiß", "NWS"),
             ("Doppelpack", "2ER"), ("Rosé", "ROS"), ("Sonderedition Weihnachten", "XMS"), ("Größe XL", "XL"),
             ("Eisblau", "EBL"))
_CATEGORY_IDS = {"Küche & Haushalt": 1001, "Garten": 1002, "Werkzeug": 1003, "Bad": 1004, "Büro": 1005,
                 "Spielzeug": 1006, "Haus & Hof": 1007}
# (title, SKU, component indexes into the normal products, amounts)
_BUNDLES = (
    ("Grillset „Sommerabend“: Bratpfanne, Schneidebrett und Gewürzmühle", "SET-GRILL-01", (1, 3, 5), (1, 1, 1)),
    ("Einsteiger-Werkzeugset: Akku-Bohrschrauber mit Bit-Satz", "SET-WZ-01", (13, 14), (1, 2)),
    ("Bad-Geschenkset „Wohlfühlen“: 2 x Handtuchset und Badematte", "SET-BAD-01", (17, 18), (2, 1)),
)

_FIRST = ("Anna", "Jürgen", "Sophie", "Lukas", "Marie", "Björn", "Özlem", "Felix", "Käthe", "Maximilian", "Lea",
          "Hans-Peter", "Zoë", "Günter", "Emilia", "Sören")
_LAST = ("Müller", "Schmidt", "Schröder", "Weiß", "Becker", "Hoffmann", "Krüger", "Y\u0131lmaz", "Groß", "Köhler",
         "Wagner", "Bäcker", "Lehmann", "Fuchs", "Meißner", "Schäfer")
_STREETS = ("Hauptstraße", "Bahnhofstraße", "Schillerstraße", "Gartenweg", "Am Mühlbach", "Lindenallee",
            "Goethestraße", "Königsbrücker Straße", "Rosenstraße", "Ringstraße", "Marktplatz", "Kirchgasse")
_CITIES = (("04109", "Leipzig"), ("01067", "Dresden"), ("10115", "Berlin"), ("80331", "München"),
           ("50667", "Köln"), ("20095", "Hamburg"), ("70173", "Stuttgart"), ("90402", "Nürnberg"),
           ("99084", "Erfurt"), ("06108", "Halle (Saale)"), ("79098", "Freiburg im Breisgau"), ("24103", "Kiel"))
_COMPANIES = ("Holzwerkstatt Krüger GmbH", "Gärtnerei Sonnenblick e. K.", "Büroservice Müller & Söhne OHG",
              "Praxis für Physiotherapie Dr. Weiß", "Café Kränzchen UG (haftungsbeschränkt)")
_PROFILES = (  # (shop shipping profile name, provider product id or None)
    ("DHL Paket", 100000000288647), ("DHL Warenpost", 100000000288648), ("DPD Classic", 100000000288649),
    ("Hermes Päckchen", 100000000288650), ("Standardversand", None),
)


def _ean13(rng: random.Random) -> str:
    body = "40" + "".join(str(rng.randint(0, 9)) for _ in range(10))
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _ts(dt: datetime, rng: random.Random, fraction: bool = True) -> str:
    """A Billbee-style naive timestamp; SQL datetime ticks give 0-3 fractional digits."""
    if fraction:
        dt = dt.replace(microsecond=0) + timedelta(milliseconds=round(rng.randint(0, 299) * 10 / 3))
    return format_time(dt)


def _products(rng: random.Random, n_products: int) -> list[dict[str, Any]]:
    n_normal = n_products - len(_BUNDLES)
    normal: list[dict[str, Any]] = []
    article_id = ARTICLE_ID_BASE
    created = _BASE_TIME - timedelta(days=400)
    for i in range(n_normal):
        title, category, prefix, weight, dims, price, maker = _CATALOGUE[i % len(_CATALOGUE)]
        sku = f"{prefix}-{1000 + i}"
        if i >= len(_CATALOGUE):
            variant, code = _VARIANTS[(i - len(_CATALOGUE)) % len(_VARIANTS)]
            title, sku = f"{title}, {variant}", f"{prefix}-{1000 + i % len(_CATALOGUE)}-{code}"
        article_id += rng.randint(1, 40)
        created += timedelta(days=rng.randint(1, 9), seconds=rng.randint(0, 86399))
        default_qty = rng.choice((0, 3, 12, 25, 40, 80, 150)) if i % 9 else 0
        normal.append({
            "Id": article_id,
            "SKU": sku,
            "EAN": _ean13(rng),
            "Type": 1,
            "Title": [{"Text": title, "LanguageCode": "DE"}],
            "Description": [{"Text": f"{title}. Hochwertige Verarbeitung, geprüfte Qualität aus Deutschland.",
                             "LanguageCode": "DE"}],
            "InvoiceText": [{"Text": title.split(",")[0], "LanguageCode": "DE"}],
            "Manufacturer": maker,
            "Weight": weight,
            "WeightNet": int(weight * 0.9),
            "LengthCm": dims[0], "WidthCm": dims[1], "HeightCm": dims[2],
            "Price": price,
            "CostPrice": round(price * 0.45, 2),
            "VatIndex": 1, "Vat1Rate": 19, "Vat2Rate": 7,
            "IsDigital": False, "IsCustomizable": False, "IsDeactivated": False,
            "Category1": {"Name": category, "Id": _CATEGORY_IDS[category]},
            "CountryOfOrigin": "DE",
            "TaricNumber": None,
            "Stocks": [
                {"StockId": DEFAULT_STOCK_ID, "StockCurrent": default_qty, "StockWarning": 5,
                 "StockCode": f"{prefix}-{rng.randint(1, 12):02d}-{rng.randint(1, 6)}",
                 "UnfulfilledAmount": rng.choice((0, 0, 0, 1, 2)), "StockDesired": 50},
                {"StockId": SECOND_STOCK_ID, "StockCurrent": rng.choice((0, 0, 4, 10)), "StockWarning": 0,
                 "StockCode": None, "UnfulfilledAmount": 0, "StockDesired": 0},
            ],
            "_CreatedAt": _ts(created, rng),
        })
    normal[NO_EAN[0]]["EAN"] = None
    normal[NO_EAN[1]]["EAN"] = None
    normal[NO_EAN[2]]["EAN"] = ""
    normal[DUPLICATE_EAN[1]]["EAN"] = normal[DUPLICATE_EAN[0]]["EAN"]
    normal[NO_SKU]["SKU"] = None
    normal[DEACTIVATED]["IsDeactivated"] = True
    bundles = []
    for title, sku, parts, amounts in _BUNDLES:
        article_id += rng.randint(1, 40)
        comps = [normal[p] for p in parts]
        created += timedelta(days=rng.randint(1, 9))
        bundles.append({
            "Id": article_id, "SKU": sku, "EAN": _ean13(rng), "Type": 2,
            "Title": [{"Text": title, "LanguageCode": "DE"}],
            "Manufacturer": None,
            "Weight": sum(c["Weight"] * a for c, a in zip(comps, amounts, strict=True)),
            "Price": round(sum(c["Price"] * a for c, a in zip(comps, amounts, strict=True)) * 0.9, 2),
            "VatIndex": 1, "Vat1Rate": 19, "Vat2Rate": 7,
            "IsDigital": False, "IsCustomizable": False, "IsDeactivated": False,
            "BillOfMaterial": [{"Amount": a, "ArticleId": c["Id"], "SKU": c["SKU"]}
                               for c, a in zip(comps, amounts, strict=True)],
            "_CreatedAt": _ts(created, rng),
        })
    return normal + bundles


def _address(rng: random.Random, *, company: bool = False, country: str = "DE") -> dict[str, Any]:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    zip_code, city = rng.choice(_CITIES)
    if country == "AT":
        zip_code, city = "1070", "Wien"
    elif country == "CH":
        zip_code, city = "8004", "Zürich"
    email = f"{first.lower()}.{last.lower()}@example.org".replace("ü", "ue").replace("ö", "oe").replace("ä", "ae")
    return {
        "FirstName": first, "LastName": last, "Company": rng.choice(_COMPANIES) if company else "",
        "NameAddition": None, "Street": rng.choice(_STREETS), "HouseNumber": str(rng.randint(1, 120)),
        "Zip": zip_code, "City": city, "CountryISO2": country, "Country": country, "Line2": "",
        "Email": email.replace("ß", "ss").replace("\u0131", "i").replace("ë", "e").replace(" ", ""),
        "State": "", "Phone": rng.choice((None, "+49 341 2290417", "0171 5550123", "")),
    }


def _line(rng: random.Random, product: dict[str, Any], qty: int) -> dict[str, Any]:
    total = round(product["Price"] * qty, 2)
    return {
        "TransactionId": None,
        "Product": {"Id": str(rng.randint(10**9, 10**10)), "Title": product["Title"][0]["Text"],
                    "Weight": product.get("Weight"), "SKU": product["SKU"], "EAN": product.get("EAN"),
                    "BillbeeId": product["Id"], "Type": product["Type"], "IsDigital": False},
        "Quantity": qty,
        "TotalPrice": total,  # TaxAmount is left to the simulator: a .NET decimal division, 28 digits
        "TaxIndex": 1,
        "InvoiceSKU": product["SKU"],
    }


def _orders(rng: random.Random, n_orders: int, products: list[dict[str, Any]]) -> list[dict[str, Any]]:
    normal = [p for p in products if p["Type"] == 1 and p["SKU"] and not p["IsDeactivated"]]
    bundles = [p for p in products if p["Type"] == 2]
    orders: list[dict[str, Any]] = []
    order_id = ORDER_ID_BASE
    created = _BASE_TIME
    case_of = {v: k for k, v in CASES.items()}
    for i in range(n_orders):
        case = case_of.get(i, "")
        order_id += rng.randint(3, 900)
        created += timedelta(minutes=rng.randint(20, 600), seconds=rng.randint(0, 59))
        state = 3
        tags = [ORDERS_TAG]
        if not case:
            state = rng.choice((3, 3, 3, 3, 3, 1, 4, 8))
            tags = [] if rng.random() < 0.15 else [ORDERS_TAG]
            if state in (4, 8):
                tags.append(RECEIVED_TAG)
        company = case in ("company", "invoice_differs") or (not case and rng.random() < 0.25)
        country = {"austria_coupon": "AT", "switzerland_other_case_tag": "CH"}.get(case, "DE")
        address = _address(rng, company=company, country=country)
        n_lines = {"company": 2, "invoice_differs": 4}.get(case) or rng.choice((1, 1, 2, 3, 4))
        lines = [_line(rng, rng.choice(normal), rng.choice((1, 1, 1, 2, 3))) for _ in range(n_lines)]
        if case == "bundle_line" or (not case and rng.random() < 0.2):
            lines.append(_line(rng, rng.choice(bundles), rng.choice((1, 2))))
        invoice = None
        if case == "packstation":
            address.update({"Company": "", "Street": "Packstation", "HouseNumber": "123",
                            "NameAddition": str(rng.randint(10**7, 10**9)), "Line2": ""})
        elif case == "packstation_line2":
            address.update({"Company": "", "Street": "Packstation", "HouseNumber": "123",
                            "Line2": f"Postnummer {rng.randint(10**7, 10**9)}"})
        elif case == "street_with_number":
            address.update({"Street": f"{rng.choice(_STREETS)} {rng.randint(1, 99)}a", "HouseNumber": ""})
        elif case == "invoice_differs":
            invoice = dict(address)
            address = _address(rng)
        elif case == "already_received":
            tags = [ORDERS_TAG, RECEIVED_TAG]
        elif case == "untagged_paid":
            tags = []
        elif case == "ordered_unpaid":
            state = 1
        elif case in ("shipped", "cancelled"):
            state = 4 if case == "shipped" else 8
            tags = [ORDERS_TAG, RECEIVED_TAG]
        elif case == "switzerland_other_case_tag":
            tags = ["Wemalo", "Stammkunde"]
        elif case == "austria_coupon":
            lines.append({"Product": {"Title": "Gutschein WILLKOMMEN10", "SKU": None, "BillbeeId": None,
                                      "Type": None},
                          "Quantity": 1, "TotalPrice": -5.0, "IsCoupon": True})
        elif case == "cancellation_credit":
            original = orders[CASES["cancelled"]]
            lines = [{**copy.deepcopy(line), "Quantity": -line["Quantity"], "TotalPrice": -line["TotalPrice"]}
                     for line in original["OrderItems"]]
            address = dict(original["ShippingAddress"])
        profile_name, product_id = rng.choice(_PROFILES)
        if case == "cancellation_credit":
            profile_name, product_id = orders[CASES["cancelled"]]["ShippingProfileName"], None
        shop = (AMAZON_SHOP_ID, "Amazon", "Amazon DE") if case == "amazon" or (not case and rng.random() < 0.15) \
            else (SHOP_ID, "Shopify", "Mein Lädchen")
        shipping_cost = 0.0 if sum(li["TotalPrice"] for li in lines) > 50 else 4.90
        ext_no = (f"#{5000 + i}" if shop[1] == "Shopify"
                  else f"302-{rng.randint(10**6, 10**7 - 1)}-{rng.randint(10**6, 10**7 - 1)}")
        payed = created + timedelta(minutes=rng.randint(1, 90))
        modified = (payed if state != 1 else created) + timedelta(minutes=rng.randint(1, 300))
        order: dict[str, Any] = {
            "BillBeeOrderId": order_id,
            "Id": ext_no.lstrip("#"),
            "OrderNumber": ext_no,
            "State": state,
            "Tags": tags,
            "CreatedAt": _ts(created, rng, fraction=False),
            "PayedAt": _ts(payed, rng, fraction=False) if state != 1 else None,
            "LastModifiedAt": _ts(modified, rng),
            "ShippedAt": _ts(modified, rng) if state == 4 else None,
            "ShippingAddress": address,
            "InvoiceAddress": invoice or dict(address),
            "OrderItems": lines,
            "ShippingCost": shipping_cost,
            "TotalCost": round(sum(li["TotalPrice"] for li in lines) + shipping_cost, 2),
            "PaidAmount": round(sum(li["TotalPrice"] for li in lines) + shipping_cost, 2) if state != 1 else 0.0,
            "Currency": "EUR" if country != "CH" else "CHF",
            "ShippingProfileId": str(rng.randint(1000, 9999)),
            "ShippingProfileName": profile_name,
            "ShippingProviderName": None,
            "ShippingProviderProductName": None,
            "Seller": {"Platform": shop[1], "BillbeeShopName": shop[2], "BillbeeShopId": shop[0],
                       "Id": None, "Nick": None, "FirstName": None, "LastName": None, "FullName": "",
                       "Email": "shop@mein-laedchen.example"},
            "Buyer": {"Platform": shop[1], "BillbeeShopName": shop[2], "BillbeeShopId": shop[0], "Id": None,
                      "Nick": None, "FirstName": address["FirstName"], "LastName": address["LastName"],
                      "FullName": f"{address['FirstName']} {address['LastName']}", "Email": address["Email"]},
            "Customer": {"Id": None, "Name": f"{address['FirstName']} {address['LastName']}",
                         "Email": address["Email"], "Tel1": address["Phone"] or None, "Tel2": None,
                         "Number": 23000 + i, "PriceGroupId": None, "LanguageId": 3,
                         "DefaultMailAddress": None, "DefaultCommercialMailAddress": None,
                         "DefaultStatusUpdatesMailAddress": None, "DefaultPhone1": None, "DefaultPhone2": None,
                         "DefaultFax": None, "VatId": None, "Type": 1 if company else 0, "MetaData": [],
                         "ArchivedAt": None, "RestoredAt": None},
            "CustomerNumber": str(23000 + i),
            "PaymentMethod": 22 if shop[1] == "Shopify" else 61,
            "LanguageCode": "de",
            "History": [{"Created": _ts(created + timedelta(minutes=3), rng), "EventTypeName": "Bestellung importiert",
                         "Text": "Import aus dem Shop", "EmployeeName": None, "TypeId": 0}],
        }
        if case == "cancellation_credit":
            order["IsCancelationFor"] = str(orders[CASES["cancelled"]]["BillBeeOrderId"])
        if state == 4:
            prov_product = product_id or 100000000288647
            order.update({"ShippingProviderId": 100000000022240, "ShippingProviderProductId": prov_product,
                          "ShippingProviderName": "wemalo Fulfillment",
                          "ShippingProviderProductName": profile_name if product_id else "DHL Paket"})
            order["ShippingIds"] = [{
                "ShippingId": f"00340434{rng.randint(10**11, 10**12)}", "Shipper": "wemalo Fulfillment",
                "Created": _ts(modified, rng), "TrackingUrl": "-", "ShippingProviderId": 100000000022240,
                "ShippingProviderProductId": prov_product, "ShippingCarrier": 2, "ShipmentType": 0}]
        orders.append(order)
    return orders


def _shipping_providers() -> list[dict[str, Any]]:
    return [
        {"id": 100000000022240, "name": "wemalo Fulfillment", "products": [
            {"id": 100000000288647, "displayName": "DHL Paket", "productName": "V01PAK", "_carrierId": 2},
            {"id": 100000000288648, "displayName": "DHL Warenpost", "productName": "V62WP", "_carrierId": 2},
            {"id": 100000000288649, "displayName": "DPD Classic", "productName": "Classic", "_carrierId": 4},
            {"id": 100000000288650, "displayName": "Hermes Päckchen", "productName": "HPK", "_carrierId": 3},
        ]},
        {"id": 100000000022251, "name": "DHL Geschäftskunden", "products": [
            {"id": 100000000288701, "displayName": "DHL Paket International", "productName": "V53WPAK",
             "_carrierId": 2},
            {"id": 100000000288702, "displayName": "DHL Kleinpaket", "productName": "V62KP", "_carrierId": 2},
        ]},
    ]


def _wemalo_profiles() -> list[dict[str, Any]]:
    return [
        {"name": "DHL Geschäftsversand", "profiles": [
            {"matchId": "dhl_paket", "product": "V01PAK", "name": "DHL Paket"},
            {"matchId": "dhl_warenpost", "product": "V62WP", "name": "DHL Warenpost"},
        ]},
        {"name": "DPD Cloud", "profiles": [
            {"matchId": "dpd_classic", "product": "Classic", "name": "DPD Classic"},
            {"matchId": "dpd_express", "product": "Express", "name": "DPD Express 12"},
        ]},
    ]


def generate(seed: int = 7, n_products: int = 40, n_orders: int = 25) -> dict[str, Any]:
    """The demo data set for `seed`; equal seeds give equal data."""
    if n_products < MIN_PRODUCTS or n_orders < MIN_ORDERS:
        raise ValueError(f"need at least {MIN_PRODUCTS} products and {MIN_ORDERS} orders for the demo cases")
    rng = random.Random(seed)
    products = _products(rng, n_products)
    orders = _orders(rng, n_orders, products)
    stocks = [
        {"Id": DEFAULT_STOCK_ID, "Name": "Hauptlager wemalo Leipzig", "Description": "Standardlager",
         "IsDefault": True},
        {"Id": SECOND_STOCK_ID, "Name": "Außenlager Halle", "Description": "Sperrgut und Saisonware",
         "IsDefault": False},
    ]
    return {
        "billbee": {"products": products, "orders": orders, "stocks": stocks,
                    "shipping_providers": _shipping_providers()},
        "wemalo": {"profiles": _wemalo_profiles()},
    }
