"""Property tests: addresses never produce over-long lines or unexpected exceptions; positions keep quantities."""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from target_wemalo.address import MAX_LINE, AddressError, clean, map_receiver, split_street
from target_wemalo.orders import OrderError, map_positions

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- strategies ----------------------------------------------------------------------------------------------------

_letters = st.text("abcdefghijklmnopqrstuvwxyzABCXYZäöüÄÖÜßéèçñłøŁ-.',&;🎉東京Жدλ", min_size=1, max_size=14)
_exotic = st.sampled_from(["🎉", "👨‍👩‍👧", "🇩🇪", "東京", "Москва", "Αθήνα", "دبي", "u\u0308", "\u00a0", "&amp;",
                           "&uuml;", "&#228;", "&lt;", "&", ";", "-", ".", "'", ","])
# Mostly plain words; some with an emoji, another script, a decomposed umlaut or an HTML entity inside.
_word = st.one_of(_letters, _letters, st.tuples(_letters, _exotic, st.text("abcäöü", max_size=5)).map("".join))
_words = st.lists(_word, min_size=1, max_size=7).map(" ".join)
_name = st.lists(_word, min_size=1, max_size=3).map(" ".join)
_blank = st.sampled_from([None, "", " ", "\t \n"])
_text = st.one_of(_blank, _words, st.text(max_size=45))

_number = st.one_of(
    st.integers(1, 9999).map(str),
    st.tuples(st.integers(1, 999), st.sampled_from("abAB")).map(lambda t: f"{t[0]}{t[1]}"),
    st.tuples(st.integers(1, 99), st.integers(1, 99), st.sampled_from(["-", "/", " - "])).map(
        lambda t: f"{t[0]}{t[2]}{t[1]}"),
)
_street_name = st.one_of(_name, st.sampled_from(["Hauptstr.", "Straße des 17. Juni", "Am Ring", "Main Street",
                                                   "Platz der 2. Republik", "Rue de la Paix"]))
_street = st.one_of(
    _street_name,
    st.tuples(_street_name, st.sampled_from([" ", ", ", "  "]), _number).map("".join),  # "Hauptstr. 12a"
    st.tuples(_number, st.sampled_from([" ", ", "]), _street_name).map("".join),  # "12 Main Street"
    st.tuples(st.sampled_from(["Packstation", "postfiliale", "DHL Packstation", "Packstation Nr."]),
              st.sampled_from(["", " ", ": "]), st.one_of(st.just(""), st.integers(1, 999).map(str))).map("".join),
    st.text(max_size=45),
)
_postnummer = st.integers(100000, 9999999999).map(str)


_ODD_COUNTRIES = st.sampled_from(["DEU", "D", "ß", "ﬁ", "🇩🇪", "Ä1", "de u"])
_odd = st.one_of(_blank, _words, st.text(max_size=45), _ODD_COUNTRIES)


@st.composite
def addresses(draw: st.DrawFn) -> dict[str, Any] | None:
    """Mostly plausible addresses (so that many are accepted), with up to two fields replaced by odd values."""
    if draw(st.integers(0, 40)) == 0:
        return draw(st.sampled_from([None, {}]))
    address = {
        "BillbeeId": draw(st.one_of(st.none(), st.integers(1, 10**15))),
        "FirstName": draw(st.one_of(_blank, _name, _name)),
        "LastName": draw(st.one_of(_name, _name, _name, _blank)),
        "Company": draw(st.one_of(_blank, _blank, _name)),
        "NameAddition": draw(st.one_of(_blank, _blank, _blank, _name, _postnummer)),
        "Street": draw(_street),
        "HouseNumber": draw(st.one_of(_blank, _blank, _number)),
        "Zip": draw(st.integers(1000, 99999).map(str)),
        "City": draw(_name),
        "CountryISO2": draw(st.sampled_from(["DE", "at", " ch ", "FR", "pl"])),
        "Country": draw(st.one_of(st.none(), _name)),
        "Line2": draw(st.one_of(_blank, _blank, _name, _postnummer)),
        "Email": draw(st.one_of(_blank, _word.map(lambda w: f"{w}@example.com"))),
        "State": draw(st.one_of(_blank, _name)),
        "Phone": draw(st.one_of(_blank, st.integers(10**6, 10**12).map(lambda n: f"+49 {n}"))),
    }
    for field in draw(st.lists(st.sampled_from(sorted(address)), max_size=2)):
        address[field] = draw(_odd)
    return address


# --- receiver ------------------------------------------------------------------------------------------------------


@FAST
@given(addresses())
def test_receiver_lines_fit_or_address_error(address: dict[str, Any] | None) -> None:
    try:
        receiver = map_receiver(address)
    except AddressError as exc:
        reason = str(exc)
        receiver = None
    if receiver is None:
        assert reason  # every refusal says why
        event("refused", reason.split(" ")[0])
        return
    event("accepted", "station" if receiver["street"] in {"Packstation", "Postfiliale"} else "street")
    for key in ("name1", "street", "zip", "city", "countryCode2Letter"):
        assert receiver[key], key
        assert receiver[key] == receiver[key].strip(), key
    assert re.fullmatch(r"[A-Z]{2}", receiver["countryCode2Letter"])
    street_line = " ".join(filter(None, (receiver["street"], receiver["streetNumber"])))
    printed = [street_line, receiver["zip"], receiver["city"]]
    printed += [receiver[k] for k in ("name1", "name2", "name3", "addressAddition") if k in receiver]
    assert all(len(line) <= MAX_LINE for line in printed), printed
    assert all(receiver[k] for k in ("name2", "name3", "addressAddition", "email", "phoneNumber",
                                     "stateProvinceCountry") if k in receiver)  # no empty optional keys
    if receiver["street"] in {"Packstation", "Postfiliale"}:
        assert receiver["streetNumber"]
        assert re.search(r"\b\d{6,10}\b", receiver["addressAddition"])


@FAST
@given(st.one_of(_blank, _words), _text, _text)
def test_names_are_kept_word_for_word(company: Any, first: Any, last: Any) -> None:
    address = {"Company": company, "FirstName": first, "LastName": last, "Street": "Hauptstr. 1", "Zip": "10115",
               "City": "Berlin", "CountryISO2": "DE"}
    try:
        receiver = map_receiver(address)
    except AddressError:
        return
    lines = [receiver[k] for k in ("name1", "name2", "name3") if k in receiver]
    expected = " ".join(filter(None, (clean(company), clean(first), clean(last))))
    assert " ".join(lines).split() == expected.split()  # wrapped at word boundaries, nothing lost or cut


# --- street split --------------------------------------------------------------------------------------------------


def _nonspace(text: str) -> str:
    return "".join(text.split())


@FAST
@given(_street)
def test_split_street_keeps_every_character(street: str) -> None:
    parts = split_street(street, "")
    source = clean(street)
    if not parts.number:
        assert parts.street == source
        return
    assert re.fullmatch(r"\d+[a-zA-Z]?(?:[-/]\d+[a-zA-Z]?)?", parts.number), parts
    assert parts.street
    # Only whitespace and the separating comma ("Hauptstr., 12") may disappear; nothing is added.
    lost = Counter(_nonspace(source))
    lost.subtract(Counter(_nonspace(parts.street + parts.number)))
    assert all(count >= 0 for count in lost.values()), lost
    assert set(+lost) <= {","}, lost
    strip = re.compile(r"[\s,]")
    assert strip.sub("", source) in {strip.sub("", parts.street + parts.number),
                                     strip.sub("", parts.number + parts.street)}


@FAST
@given(_street_name, st.sampled_from([" ", ", ", "  "]), _number)
def test_split_street_finds_the_trailing_number(name: str, separator: str, number: str) -> None:
    parts = split_street(f"{name}{separator}{number}", "")
    if re.search(r"\d", clean(name).split(" ")[-1]) or not re.search(r"[^\d\s,]$", clean(name)):
        return  # "Weg 5 12", "Weg 5- 12", "Weg,": ambiguous, the property does not apply
    assert parts.number == number.replace(" ", "")
    assert parts.street == clean(name).rstrip(" ,")


@FAST
@given(_street, st.one_of(_number, _words))
def test_given_house_number_is_never_changed(street: str, number: str) -> None:
    parts = split_street(street, number)
    assert parts.number == clean(number)
    # The street is kept, except a copy of the house number typed at its end ("Hauptstr. 12" + "12").
    if clean(number) and clean(street).endswith(f" {clean(number)}"):
        assert parts.street == clean(street)[: -len(clean(number))].rstrip(" ,")
    else:
        assert parts.street == clean(street)


# --- positions -----------------------------------------------------------------------------------------------------

_SKUS = ["A", "B", "C", "D", "a"]


@st.composite
def order_lines(draw: st.DrawFn) -> list[dict[str, Any]]:
    items = []
    for _ in range(draw(st.integers(0, 15))):
        kind = draw(st.sampled_from(["normal", "normal", "normal", "bundle", "bundle", "coupon", "discount",
                                     "digital", "zero", "empty_bundle"]))
        quantity = draw(st.integers(1, 50))
        item: dict[str, Any] = {
            "BillbeeId": draw(st.one_of(st.none(), st.integers(1, 10**12))),
            "Quantity": draw(st.sampled_from([quantity, float(quantity), str(quantity)])),
            "TotalPrice": draw(st.one_of(st.none(), st.integers(0, 100000).map(lambda c: c / 100))),
            "TaxAmount": None,
            "Product": {"SKU": draw(st.sampled_from(_SKUS)), "Type": 1},
            "_kind": kind,
        }
        if kind == "bundle":
            item["Product"]["Type"] = draw(st.sampled_from([2, None]))
            item["BundleComponents"] = [
                {"SKU": draw(st.sampled_from(_SKUS)), "Quantity": draw(st.integers(0, 10)) * quantity}
                for _ in range(draw(st.integers(1, 4)))
            ]
        elif kind == "empty_bundle":
            item["Product"]["Type"] = 2
            item["BundleComponents"] = draw(st.sampled_from([[], None]))
        elif kind == "coupon":
            item["IsCoupon"] = True
            item["Quantity"] = draw(st.sampled_from([1, -1, 0.5]))
        elif kind == "discount":
            item["IsDiscount"] = True
            item["Product"]["SKU"] = None
        elif kind == "digital":
            item["Product"]["IsDigital"] = True
        elif kind == "zero":
            item["Quantity"] = draw(st.sampled_from([0, 0.0, None, -2]))
            item["Product"]["Type"] = draw(st.sampled_from([1, 2]))
        items.append(item)
    return items


@FAST
@given(order_lines())
def test_position_quantities_equal_lines_plus_bundle_components(items: list[dict[str, Any]]) -> None:
    expected: Counter[str] = Counter()
    fails = False
    for item in items:
        kind = item.pop("_kind")
        if kind == "normal":
            expected[item["Product"]["SKU"].casefold()] += int(Decimal(str(item["Quantity"])))
        elif kind == "bundle":
            for part in item["BundleComponents"]:
                expected[part["SKU"].casefold()] += part["Quantity"]
        elif kind == "empty_bundle":
            fails = True
    order = {"OrderItems": items}
    if fails:
        with pytest.raises(OrderError, match="bundle without components"):
            map_positions(order)
        return
    positions = map_positions(order)
    got = {p["externalId"].casefold(): p["quantity"] for p in positions}  # wemalo matches SKUs case-insensitively
    assert got == {sku: qty for sku, qty in expected.items() if qty > 0}
    assert sum(got.values()) == sum(expected.values())
    assert len({p["externalId"].casefold() for p in positions}) == len(positions)  # one position per SKU
    assert all(isinstance(p["quantity"], int) and p["quantity"] > 0 for p in positions)
    assert all(isinstance(p.get("total", 0), int) for p in positions)
