"""Carriers of the simulated parcels: the carrier a dispatcher profile names, and realistic-looking,
deterministic tracking numbers per carrier."""

from __future__ import annotations


def _s10_check(digits: str) -> int:
    total = sum(int(d) * w for d, w in zip(digits, (8, 6, 4, 2, 3, 5, 9, 7), strict=True))
    check = 11 - total % 11
    return {10: 0, 11: 5}.get(check, check)


def tracking_number(carrier: str, n: int) -> str:
    """A realistic-looking, deterministic tracking number for the carrier's n-th parcel."""
    key = carrier.lower()
    if key == "dhl":
        return f"00340434{161094000000 + n:012d}"  # 20 digits, DHL Paket
    if key == "dpd":
        return f"0150{5300000000 + n:010d}"  # 14 digits
    if key == "gls":
        return f"{60000000000 + n:011d}"
    if key == "ups":
        return f"1Z999AA1{n:010d}"
    if key == "hermes":
        return f"H{1000000000000 + n:013d}"
    if key == "deutsche post":
        digits = f"{n % 100000000:08d}"
        return f"RX{digits}{_s10_check(digits)}DE"  # UPU S10 with a valid check digit
    return f"SIM{n:010d}"


def carrier_for(*names: str | None) -> str:
    text = " ".join(n for n in names if n).lower()
    for needle, carrier in (("internetmarke", "Deutsche Post"), ("deutsche post", "Deutsche Post"),
                            ("dhl", "DHL"), ("v01pak", "DHL"), ("v53wpak", "DHL"), ("v62wp", "DHL"),
                            ("dpd", "DPD"), ("gls", "GLS"), ("ups", "UPS"), ("hermes", "Hermes")):
        if needle in text:
            return carrier
    return next((n for n in names if n), "SIM")
