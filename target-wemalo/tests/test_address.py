"""Billbee shipping address -> wemalo receiver (target_wemalo.address)."""

from __future__ import annotations

from typing import Any

import pytest

from target_wemalo.address import MAX_LINE, AddressError, StreetParts, clean, map_receiver, split_street

OPTIONAL_FIELDS = ("BillbeeId", "Company", "NameAddition", "HouseNumber", "Country", "Line2", "Email", "State",
                   "Phone")


def address(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "BillbeeId": 1,
        "FirstName": "Max",
        "LastName": "Mustermann",
        "Company": None,
        "NameAddition": None,
        "Street": "Hauptstr.",
        "HouseNumber": "12",
        "Zip": "10115",
        "City": "Berlin",
        "CountryISO2": "DE",
        "Country": "Deutschland",
        "Line2": None,
        "Email": None,
        "State": None,
        "Phone": None,
    }
    base.update(overrides)
    return base


def error_of(**overrides: Any) -> str:
    with pytest.raises(AddressError) as caught:
        map_receiver(address(**overrides))
    return str(caught.value)


# --- clean -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    (None, ""),
    ("", ""),
    ("   \t\n ", ""),
    ("  a   b  ", "a b"),
    ("M&amp;M", "M&M"),
    ("M&uuml;ller &lt;GmbH&gt;", "Müller <GmbH>"),
    ("&#228;&#x00f6;", "äö"),
    ("Mu\u0308ller", "Müller"),  # decomposed umlaut -> NFC
    ("a\u00a0b", "a b"),  # non-breaking space folded
    (12345, "12345"),
])
def test_clean(raw: Any, expected: str) -> None:
    assert clean(raw) == expected


# --- names -------------------------------------------------------------------------------------------------------


def test_private_person_is_name1() -> None:
    receiver = map_receiver(address())
    assert receiver["name1"] == "Max Mustermann"
    assert "name2" not in receiver
    assert "name3" not in receiver
    assert receiver["primary"] is True


def test_company_is_name1_and_person_name2() -> None:
    receiver = map_receiver(address(Company="ACME GmbH"))
    assert receiver["name1"] == "ACME GmbH"
    assert receiver["name2"] == "Max Mustermann"
    assert "name3" not in receiver


def test_company_without_person() -> None:
    receiver = map_receiver(address(Company="ACME GmbH", FirstName=None, LastName="  "))
    assert receiver["name1"] == "ACME GmbH"
    assert "name2" not in receiver


@pytest.mark.parametrize(("first", "last", "expected"), [
    ("Max", None, "Max"),
    (None, "Mustermann", "Mustermann"),
    ("  Max  ", "  Mustermann ", "Max Mustermann"),
    ("Anna Maria", "von   der Heide", "Anna Maria von der Heide"),
])
def test_person_name_parts(first: str | None, last: str | None, expected: str) -> None:
    assert map_receiver(address(FirstName=first, LastName=last))["name1"] == expected


@pytest.mark.parametrize("blank", [None, "", "   ", "\t\n"])
def test_no_name_and_no_company(blank: str | None) -> None:
    assert "no name and no company" in error_of(FirstName=blank, LastName=blank, Company=blank)


def test_long_person_name_wraps_at_word_boundary() -> None:
    first, last = "Maximilian Alexander Friedrich", "von Hohenzollern-Sigmaringen"
    receiver = map_receiver(address(FirstName=first, LastName=last))
    assert receiver["name1"] == "Maximilian Alexander Friedrich von"
    assert receiver["name2"] == "Hohenzollern-Sigmaringen"
    assert " ".join([receiver["name1"], receiver["name2"]]) == f"{first} {last}"
    assert all(len(receiver[k]) <= MAX_LINE for k in ("name1", "name2"))


def test_long_company_continues_in_name2_and_person_moves_to_name3() -> None:
    company = "Internationale Handelsgesellschaft für Bürobedarf und Zubehör mbH"
    receiver = map_receiver(address(Company=company))
    assert receiver["name1"] == "Internationale Handelsgesellschaft"
    assert receiver["name2"] == "für Bürobedarf und Zubehör mbH"
    assert receiver["name3"] == "Max Mustermann"
    assert f"{receiver['name1']} {receiver['name2']}" == company


def test_name_of_exactly_35_characters_fits_one_line() -> None:
    name = "A" * 17 + " " + "B" * 17
    assert len(name) == MAX_LINE
    receiver = map_receiver(address(FirstName=name, LastName=None))
    assert receiver["name1"] == name
    assert "name2" not in receiver


def test_name_needing_four_lines_is_refused() -> None:
    company = " ".join(["Wort" * 8] * 3)  # three lines of 32 characters
    message = error_of(Company=company)
    assert "name needs 4 lines" in message
    assert "wemalo has 3" in message


def test_single_word_longer_than_a_line_is_refused() -> None:
    message = error_of(LastName="X" * 36)
    assert "36 characters" in message
    assert "name" in message


def test_html_entities_in_names_are_decoded() -> None:
    receiver = map_receiver(address(Company="M&amp;M Handel &amp; Co. KG", FirstName="J&ouml;rg",
                                    LastName="O&#39;Neil"))
    assert receiver["name1"] == "M&M Handel & Co. KG"
    assert receiver["name2"] == "Jörg O'Neil"


def test_html_entities_decoded_only_once() -> None:
    # "&amp;lt;" is an escaped "&lt;": the name is the four characters "&lt;", not "<".
    receiver = map_receiver(address(FirstName="A&amp;lt;B", LastName="C&amp;amp;D", Company="X&amp;amp;Y"))
    assert receiver["name1"] == "X&amp;Y"
    assert receiver["name2"] == "A&lt;B C&amp;D"


@pytest.mark.parametrize(("first", "last", "city"), [
    ("Jürgen", "Größmann-Äßler", "Münster"),
    ("Łukasz", "Żółkiewski", "Łódź"),
    ("Ιωάννης", "Παπαδόπουλος", "Αθήνα"),
    ("Иван", "Петров", "Москва"),
    ("太郎", "山田", "東京"),
    ("محمد", "العلي", "دبي"),
    ("Anna 🌸", "Schmidt 🎉", "Köln"),
])
def test_non_latin_scripts_and_emoji_pass_unchanged(first: str, last: str, city: str) -> None:
    receiver = map_receiver(address(FirstName=first, LastName=last, City=city))
    assert receiver["name1"] == f"{first} {last}"
    assert receiver["city"] == city


def test_decomposed_umlauts_are_composed() -> None:
    receiver = map_receiver(address(LastName="Mu\u0308ller", Street="Schlo\u00dfallee", City="Ko\u0308ln"))
    assert receiver["name1"] == "Max M\u00fcller"
    assert receiver["city"] == "K\u00f6ln"


# --- street and house number ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("street", "expected"), [
    ("Hauptstr. 12a", ("Hauptstr.", "12a")),
    ("Hauptstr. 12 a", ("Hauptstr.", "12a")),
    ("Hauptstraße 12A", ("Hauptstraße", "12A")),
    ("Am Ring 3-5", ("Am Ring", "3-5")),
    ("Am Ring 3 - 5", ("Am Ring", "3-5")),
    ("Am Ring 3a-5b", ("Am Ring", "3a-5b")),
    ("Wiesenweg 7/2", ("Wiesenweg", "7/2")),
    ("Straße des 17. Juni 135", ("Straße des 17. Juni", "135")),
    ("Platz der 2. Republik 1", ("Platz der 2. Republik", "1")),
    ("Hauptstr., 12", ("Hauptstr.", "12")),
    ("Hauptstr.   12", ("Hauptstr.", "12")),
    ("12 Main Street", ("Main Street", "12")),
    ("12a Main Street", ("Main Street", "12a")),
    ("221B Baker Street", ("Baker Street", "221B")),
    ("12, Rue de la Paix", ("Rue de la Paix", "12")),
    ("Straße des 17. Juni", ("Straße des 17. Juni", "")),
    ("Marktplatz", ("Marktplatz", "")),
    ("5th Avenue", ("5th Avenue", "")),
    ("", ("", "")),
])
def test_split_street(street: str, expected: tuple[str, str]) -> None:
    assert split_street(street, "") == StreetParts(*expected)


@pytest.mark.parametrize("number", ["12", " 12 ", "12a"])
def test_given_house_number_is_kept_and_street_not_split(number: str) -> None:
    assert split_street("Straße des 17. Juni", number) == StreetParts("Straße des 17. Juni", number.strip())


def test_receiver_street_from_split() -> None:
    receiver = map_receiver(address(Street="Am Ring 3-5", HouseNumber=None))
    assert (receiver["street"], receiver["streetNumber"]) == ("Am Ring", "3-5")


def test_receiver_street_with_house_number_field() -> None:
    receiver = map_receiver(address(Street="Hauptstr.", HouseNumber="12a"))
    assert (receiver["street"], receiver["streetNumber"]) == ("Hauptstr.", "12a")


def test_receiver_street_without_number() -> None:
    receiver = map_receiver(address(Street="Marktplatz", HouseNumber="  "))
    assert (receiver["street"], receiver["streetNumber"]) == ("Marktplatz", "")


def test_house_number_as_number_type() -> None:
    receiver = map_receiver(address(Street="Hauptstr.", HouseNumber=12, Zip=10115))
    assert receiver["streetNumber"] == "12"
    assert receiver["zip"] == "10115"


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_empty_street_is_refused(blank: str | None) -> None:
    assert "street is empty" in error_of(Street=blank, HouseNumber="12")


def test_street_line_of_35_characters_with_number_fits() -> None:
    street = "S" * (MAX_LINE - 3)
    receiver = map_receiver(address(Street=street, HouseNumber="12"))  # "SSS… 12" = 35
    assert receiver["street"] == street


def test_street_of_35_characters_without_number_fits() -> None:
    street = "Lange Straße am " + "x" * (MAX_LINE - 16)
    assert len(street) == MAX_LINE
    receiver = map_receiver(address(Street=street, HouseNumber=None))
    assert (receiver["street"], receiver["streetNumber"]) == (street, "")


def test_too_long_street_is_refused_naming_the_field() -> None:
    street = "S" * (MAX_LINE - 2)
    message = error_of(Street=street, HouseNumber="12")  # 33 + 1 + 2 = 36
    assert message == f"the street with house number is 36 characters long; carriers accept {MAX_LINE}"
    assert street not in message  # reasons reach logs: ids, never addresses


def test_too_long_street_is_never_cut() -> None:
    street = "Sehr lange Straße mit vielen Wörtern im Namen 12"
    with pytest.raises(AddressError, match="street"):
        map_receiver(address(Street=street, HouseNumber=None))


# --- address addition ----------------------------------------------------------------------------------------------


def test_line2_goes_to_address_addition() -> None:
    assert map_receiver(address(Line2="Hinterhaus, 3. OG"))["addressAddition"] == "Hinterhaus, 3. OG"


def test_name_addition_goes_to_address_addition() -> None:
    assert map_receiver(address(NameAddition="c/o Müller"))["addressAddition"] == "c/o Müller"


def test_line2_and_name_addition_joined() -> None:
    receiver = map_receiver(address(Line2="Hinterhaus", NameAddition="c/o Müller"))
    assert receiver["addressAddition"] == "Hinterhaus c/o Müller"


def test_equal_line2_and_name_addition_not_repeated() -> None:
    assert map_receiver(address(Line2=" Hinterhaus", NameAddition="Hinterhaus "))["addressAddition"] == "Hinterhaus"


@pytest.mark.parametrize("blank", [None, "", "  "])
def test_no_address_addition_key_when_empty(blank: str | None) -> None:
    assert "addressAddition" not in map_receiver(address(Line2=blank, NameAddition=blank))


def test_address_addition_of_35_characters_fits() -> None:
    line2 = "L" * MAX_LINE
    assert map_receiver(address(Line2=line2))["addressAddition"] == line2


def test_too_long_address_addition_is_refused_naming_the_field() -> None:
    message = error_of(Line2="Hinterhaus links, dritter Stock", NameAddition="bei Familie Müller")
    assert "address addition" in message
    assert "Line2/NameAddition" in message
    assert str(MAX_LINE) in message


def test_address_addition_html_entities_decoded() -> None:
    assert map_receiver(address(Line2="Tür &amp; Tor"))["addressAddition"] == "Tür & Tor"


# --- Packstation / Postfiliale -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("street", "house_number", "expected_number"), [
    ("Packstation", "123", "123"),
    ("Packstation 123", None, "123"),
    ("Packstation 123", "", "123"),
    ("packstation 123", None, "123"),
    ("PACKSTATION: 123", None, "123"),
    ("Packstation #123", None, "123"),
    ("Packstation-123", None, "123"),
    ("Packstation123", None, "123"),
    ("Packstation Nr. 123", None, "123"),
    ("Packstation-Nr.: 123", None, "123"),
    ("DHL Packstation 123", None, "123"),
    ("DHL-Packstation", "123", "123"),
    ("  Packstation   123 ", None, "123"),
    ("Packstation 999", "123", "123"),  # the HouseNumber field wins
])
def test_packstation(street: str, house_number: str | None, expected_number: str) -> None:
    receiver = map_receiver(address(Street=street, HouseNumber=house_number, Line2="12345678"))
    assert receiver["street"] == "Packstation"
    assert receiver["streetNumber"] == expected_number
    assert receiver["addressAddition"] == "12345678"


@pytest.mark.parametrize(("street", "house_number"), [
    ("Postfiliale", "502"),
    ("Postfiliale 502", None),
    ("postfiliale 502", ""),
    ("Postfiliale Nr. 502", None),
])
def test_postfiliale(street: str, house_number: str | None) -> None:
    receiver = map_receiver(address(Street=street, HouseNumber=house_number, NameAddition="Postnummer 987654321"))
    assert (receiver["street"], receiver["streetNumber"]) == ("Postfiliale", "502")
    assert receiver["addressAddition"] == "Postnummer 987654321"


def test_packstation_postnummer_in_name_addition() -> None:
    receiver = map_receiver(address(Street="Packstation 105", NameAddition="123456"))
    assert receiver["addressAddition"] == "123456"


def test_packstation_postnummer_with_text_in_line2() -> None:
    receiver = map_receiver(address(Street="Packstation 105", Line2="PostNr: 1234567890"))
    assert receiver["addressAddition"] == "PostNr: 1234567890"


@pytest.mark.parametrize("kind", ["Packstation", "Postfiliale"])
@pytest.mark.parametrize(("line2", "name_addition"), [
    (None, None),
    ("", "   "),
    ("Hinterhaus", None),
    ("12345", None),  # a 5-digit number is not a Postnummer (6-10 digits)
    ("12345678901", None),  # 11 digits neither
])
def test_station_without_postnummer_is_refused(kind: str, line2: str | None, name_addition: str | None) -> None:
    message = error_of(Street=f"{kind} 105", HouseNumber=None, Line2=line2, NameAddition=name_addition)
    assert kind in message
    assert "Postnummer" in message
    assert "Line2" in message


@pytest.mark.parametrize("kind", ["Packstation", "Postfiliale"])
@pytest.mark.parametrize("number", [None, "", "  "])
def test_station_without_station_number_is_refused(kind: str, number: str | None) -> None:
    message = error_of(Street=kind, HouseNumber=number, Line2="12345678")
    assert message == f"{kind} address without the station number"


@pytest.mark.parametrize("street", ["Packstationweg 3", "Postfiliale Süd Straße 4", "Am Packstationplatz 1"])
def test_streets_that_only_contain_the_word_are_not_stations(street: str) -> None:
    receiver = map_receiver(address(Street=street, HouseNumber=None))
    assert receiver["street"] != "Packstation"
    assert receiver["street"] != "Postfiliale"


def test_station_addition_longer_than_a_line_is_refused() -> None:
    with pytest.raises(AddressError, match="address addition"):
        map_receiver(address(Street="Packstation 105", Line2="12345678",
                             NameAddition="bitte nicht beim Nachbarn abgeben"))


# --- zip, city, country ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "label"), [("Zip", "ZIP code"), ("City", "city")])
@pytest.mark.parametrize("blank", [None, "", "   "])
def test_empty_zip_or_city(field: str, label: str, blank: str | None) -> None:
    assert error_of(**{field: blank}) == f"shipping address: the {label} is empty"


@pytest.mark.parametrize(("field", "label"), [("Zip", "ZIP code"), ("City", "city")])
def test_too_long_zip_or_city_is_refused(field: str, label: str) -> None:
    message = error_of(**{field: "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch"})
    assert label in message
    assert str(MAX_LINE) in message


def test_city_of_35_characters_fits() -> None:
    city = "C" * MAX_LINE
    assert map_receiver(address(City=city))["city"] == city


def test_zip_and_city_trimmed_and_decoded() -> None:
    receiver = map_receiver(address(Zip=" 10115 ", City="Frankfurt  am   Main", CountryISO2="de"))
    assert (receiver["zip"], receiver["city"], receiver["countryCode2Letter"]) == ("10115", "Frankfurt am Main", "DE")


@pytest.mark.parametrize(("raw", "expected"), [("DE", "DE"), ("de", "DE"), (" at ", "AT"), ("Ch", "CH")])
def test_country_code_accepted(raw: str, expected: str) -> None:
    assert map_receiver(address(CountryISO2=raw))["countryCode2Letter"] == expected


@pytest.mark.parametrize("raw", ["DEU", "D", "Deutschland", "D1", "1D", "Ä", "ÄÖ", "ß", "ﬁ", "D E", "🇩🇪"])
def test_country_code_refused(raw: str) -> None:
    message = error_of(CountryISO2=raw)
    assert "country" in message
    assert "ISO 3166 two-letter code" in message


@pytest.mark.parametrize("blank", [None, "", "  "])
def test_missing_country_code(blank: str | None) -> None:
    assert "country '(empty)'" in error_of(CountryISO2=blank)


def test_country_name_is_not_used_as_code() -> None:
    with pytest.raises(AddressError, match="country"):
        map_receiver(address(CountryISO2=None, Country="DE"))


# --- optional fields -------------------------------------------------------------------------------------------------


def test_email_phone_state_passthrough() -> None:
    receiver = map_receiver(address(Email=" max@example.com ", Phone="+49 30  1234567", State="Berlin"))
    assert receiver["email"] == "max@example.com"
    assert receiver["phoneNumber"] == "+49 30 1234567"
    assert receiver["stateProvinceCountry"] == "Berlin"


def test_long_email_is_not_a_printed_line() -> None:
    email = "a.very.long.local.part.of.an.address@subdomain.example.com"
    assert map_receiver(address(Email=email))["email"] == email


def test_all_optional_fields_null() -> None:
    receiver = map_receiver(address(**dict.fromkeys(OPTIONAL_FIELDS)))
    assert receiver == {
        "primary": True,
        "name1": "Max Mustermann",
        "street": "Hauptstr.",
        "streetNumber": "",
        "zip": "10115",
        "city": "Berlin",
        "countryCode2Letter": "DE",
    }


def test_optional_fields_missing_entirely() -> None:
    minimal = {"LastName": "Mustermann", "Street": "Hauptstr. 1", "Zip": "10115", "City": "Berlin",
               "CountryISO2": "DE"}
    receiver = map_receiver(minimal)
    assert receiver["name1"] == "Mustermann"
    assert (receiver["street"], receiver["streetNumber"]) == ("Hauptstr.", "1")
    assert set(receiver) == {"primary", "name1", "street", "streetNumber", "zip", "city", "countryCode2Letter"}


@pytest.mark.parametrize("field", OPTIONAL_FIELDS)
def test_each_optional_field_null(field: str) -> None:
    receiver = map_receiver(address(**{field: None}))
    assert receiver["name1"] == "Max Mustermann"
    assert receiver["street"] == "Hauptstr."


@pytest.mark.parametrize("empty", [None, {}])
def test_no_address(empty: dict[str, Any] | None) -> None:
    with pytest.raises(AddressError, match="no shipping address"):
        map_receiver(empty)


def test_address_error_is_a_value_error() -> None:
    assert issubclass(AddressError, ValueError)


# --- address_line_limit (wemalo states no limit; 35 is the carriers') -----------------------------------------------


def test_without_a_line_limit_long_fields_are_sent_whole() -> None:
    street, company = "S" * 40, "Internationale Handelsgesellschaft für Bürobedarf und Zubehör mbH"
    receiver = map_receiver(address(Street=street, HouseNumber="12", Company=company, City="C" * 50), line_limit=0)
    assert (receiver["street"], receiver["name1"], receiver["name2"]) == (street, company, "Max Mustermann")
    assert receiver["city"] == "C" * 50


def test_a_wider_line_limit_is_honoured_and_named() -> None:
    assert map_receiver(address(Street="S" * 37, HouseNumber="12"), line_limit=40)["street"] == "S" * 37
    with pytest.raises(AddressError, match=r"carriers accept 40$"):
        map_receiver(address(Street="S" * 38, HouseNumber="12"), line_limit=40)
