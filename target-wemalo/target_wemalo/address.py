"""Billbee shipping address -> wemalo `meta.receiver` entry.

Rules (README, "Addresses"):
* Company orders: `name1` = company, `name2` = the person; private orders: `name1` = the person.
* `HouseNumber` empty: the number is split off the street ("Hauptstr. 12a", "12 Main Street").
* Packstation / Postfiliale: DHL wants "Packstation" (or "Postfiliale") as street, the station number as
  house number and the Postnummer as additional line (`addressAddition`).
* `Line2` and `NameAddition` go to `addressAddition`.
* Carriers print 35 characters per line (DHL, DPD); wemalo's apidoc states no limit, so the limit is the setting
  `address_line_limit` (default 35, 0 = none: the warehouse's carriers take longer lines). A name that is
  longer continues in the next free name field (name2, name3) at a word boundary; a street, address addition,
  ZIP code or city that is longer is refused with the reason, never cut silently.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

MAX_LINE = 35

_NUMBER_AT_END = re.compile(r"^(?P<street>.*?[^\d\s,])[\s,]+(?P<number>\d+\s*[a-zA-Z]?(?:\s*[-/]\s*\d+\s*[a-zA-Z]?)?)$")
_NUMBER_AT_START = re.compile(r"^(?P<number>\d+\s*[a-zA-Z]?)[\s,]+(?P<street>\D.*)$")
# "Packstation 123", "Packstation123", "Packstation Nr. 123", "DHL-Packstation 123" (not "Packstationweg 3").
_STATION = re.compile(r"^\s*(?:dhl[\s-]*)?(?P<kind>packstation|postfiliale)"
                      r"(?:[\s.:#-]*(?:nr|no|nummer)\b\.?)?[\s.:#-]*(?P<number>\d+)?\s*$", re.I)
_POSTNUMMER = re.compile(r"\b(\d{6,10})\b")


class AddressError(ValueError):
    """The address cannot be sent as it is; the message says which field and why."""


@dataclass(frozen=True)
class StreetParts:
    street: str
    number: str


def clean(value: Any) -> str:
    """Trimmed text with HTML entities decoded and whitespace folded; '' for None/whitespace."""
    if value is None:
        return ""
    text = html.unescape(str(value))
    text = unicodedata.normalize("NFC", text)
    return " ".join(text.split())


def split_street(street: str, number: str) -> StreetParts:
    street, number = clean(street), clean(number)
    if number and street.endswith(f" {number}"):  # "Hauptstr. 12" + "12": the number was typed twice
        return StreetParts(street[: -len(number)].rstrip(" ,"), number)
    if number or not street:
        return StreetParts(street, number)
    if m := _NUMBER_AT_END.match(street):
        return StreetParts(m["street"].rstrip(" ,"), m["number"].replace(" ", ""))
    if m := _NUMBER_AT_START.match(street):
        return StreetParts(m["street"], m["number"].replace(" ", ""))
    return StreetParts(street, "")


def _wrap_names(parts: list[str], limit: int | None) -> list[str]:
    """Fit name lines into name1..name3 of `limit` characters, continuing long ones at word boundaries."""
    if limit is None:
        return [part for part in parts if part]
    lines: list[str] = []
    for part in parts:
        words = part.split()
        current = ""
        for word in words:
            if len(word) > limit:
                raise AddressError(f"a word of the name has {len(word)} characters; carriers print {limit}")
            candidate = f"{current} {word}".strip()
            if len(candidate) <= limit:
                current = candidate
            else:
                lines.append(current)
                current = word
        if current:
            lines.append(current)
    if len(lines) > 3:
        raise AddressError(f"the name needs {len(lines)} lines of {limit} characters; wemalo has 3")
    return lines


def map_receiver(address: dict[str, Any] | None, line_limit: int = MAX_LINE) -> dict[str, Any]:
    """The wemalo receiver for a Billbee address; raises AddressError naming the field at fault. `line_limit`:
    characters per address line (0: no limit)."""
    limit = line_limit if line_limit > 0 else None

    def too_long(value: str) -> bool:
        return limit is not None and len(value) > limit

    if not address:
        raise AddressError("the order has no shipping address")
    company = clean(address.get("Company"))
    person = " ".join(filter(None, (clean(address.get("FirstName")), clean(address.get("LastName")))))
    if not company and not person:
        raise AddressError("shipping address: no name and no company")
    names = _wrap_names([company, person] if company else [person], limit)

    street_raw, number_raw = clean(address.get("Street")), clean(address.get("HouseNumber"))
    additions = [clean(address.get("Line2")), clean(address.get("NameAddition"))]
    station = _STATION.match(street_raw)
    if station:
        # Packstation/Postfiliale: number from HouseNumber or the street; Postnummer from the extra lines.
        parts = StreetParts(station["kind"].capitalize(), number_raw or (station["number"] or ""))
        if not parts.number:
            raise AddressError(f"{parts.street} address without the station number")
        if not any(_POSTNUMMER.search(a) for a in additions if a):
            raise AddressError(f"{parts.street} address without the Postnummer (customer number) in Line2")
    else:
        parts = split_street(street_raw, number_raw)
    if not parts.street:
        raise AddressError("shipping address: the street is empty")
    street_line = " ".join(filter(None, (parts.street, parts.number)))
    if too_long(street_line):
        # The street itself stays out of the message: reasons reach logs, which carry ids, not addresses.
        raise AddressError(f"the street with house number is {len(street_line)} characters long; "
                           f"carriers accept {limit}")
    addition = " ".join(a for a in dict.fromkeys(additions) if a)
    if too_long(addition):
        raise AddressError(f"address addition (Line2/NameAddition) is {len(addition)} characters; "
                           f"carriers accept {limit}")
    for field, label in (("Zip", "ZIP code"), ("City", "city")):
        value = clean(address.get(field))
        if not value:
            raise AddressError(f"shipping address: the {label} is empty")
        if too_long(value):
            raise AddressError(f"shipping address: the {label} is {len(value)} characters; carriers accept {limit}")
    country = clean(address.get("CountryISO2"))
    if not re.fullmatch(r"[A-Za-z]{2}", country):  # check before upper(): "ß".upper() == "SS"
        raise AddressError(f"shipping address: country {country or '(empty)'!r} is not an ISO 3166 two-letter code")

    country = country.upper()
    receiver: dict[str, Any] = {
        "primary": True,
        "name1": names[0],
        "street": parts.street,
        "streetNumber": parts.number,
        "zip": clean(address.get("Zip")),
        "city": clean(address.get("City")),
        "countryCode2Letter": country,
    }
    for index, extra in enumerate(names[1:], start=2):
        receiver[f"name{index}"] = extra
    if addition:
        receiver["addressAddition"] = addition
    if state := clean(address.get("State")):
        receiver["stateProvinceCountry"] = state
    if email := clean(address.get("Email")):
        receiver["email"] = email
    if phone := clean(address.get("Phone")):
        receiver["phoneNumber"] = phone
    return receiver
