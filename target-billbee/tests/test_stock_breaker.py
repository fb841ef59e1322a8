"""The stock circuit breaker's verdict and the value written per SKU (the whole run: test_fixtures.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from target_billbee.stock import BreakerLimits, breaker_verdict, held_quantities, new_quantity

LIMITS = BreakerLimits(zero_share=0.2, drop_share=0.5, min_skus=5)


def test_a_few_articles_selling_out_pass() -> None:
    known = {f"S{i}": 10 for i in range(100)}
    planned = {f"S{i}": 0 for i in range(4)}
    assert breaker_verdict(planned, known, LIMITS) == ""


def test_a_quarter_of_the_catalogue_at_zero_trips() -> None:
    known = {f"S{i}": 10 for i in range(100)}
    planned = {f"S{i}": 0 for i in range(25)}
    assert "25 of 100 SKUs would be set to 0" in breaker_verdict(planned, known, LIMITS)


def test_the_first_write_of_a_sku_is_not_judged() -> None:
    assert breaker_verdict({f"S{i}": 0 for i in range(30)}, {}, LIMITS) == ""


def test_a_halved_total_trips() -> None:
    known = {f"S{i}": 100 for i in range(10)}
    planned = {f"S{i}": 40 for i in range(10)}
    assert "would fall from 1000 to 400" in breaker_verdict(planned, known, LIMITS)


def test_skus_already_at_zero_do_not_count() -> None:
    known = {f"S{i}": 0 for i in range(50)}
    assert breaker_verdict({f"S{i}": 0 for i in range(50)}, known, LIMITS) == ""


@given(st.dictionaries(st.text("ABC", min_size=1, max_size=3), st.integers(0, 50), max_size=30))
def test_unchanged_values_never_trip(known: dict[str, int]) -> None:
    assert breaker_verdict({k: v for k, v in known.items() if v}, known, LIMITS) == ""


def test_new_quantity_adds_held_only_for_available() -> None:
    held = {"sku-1": 3}
    assert new_quantity(5, "available", held, "SKU-1") == 8
    assert new_quantity(5, "on_hand", held, "SKU-1") == 5
    assert new_quantity(-7, "available", held, "SKU-1") == 0


def test_held_quantities_sum_lines_and_leave_bundles_out() -> None:
    orders = [{"OrderItems": [{"Product": {"SKU": "A"}, "Quantity": "2.000"},
                              {"Product": {"SKU": "BUNDLE", "Type": 2}, "Quantity": "1.000"}]},
              {"OrderItems": [{"Product": {"SKU": "a"}, "Quantity": 1}]}]
    held, bundles = held_quantities(orders)
    assert (dict(held), bundles) == ({"a": 3}, 1)


def test_held_quantities_leave_credit_lines_out() -> None:
    """A cancellation order's negative lines ship nothing (Billbee does not count them as unfulfilled)."""
    orders = [{"OrderItems": [{"Product": {"SKU": "A"}, "Quantity": 2}]},
              {"IsCancelationFor": 1, "OrderItems": [{"Product": {"SKU": "A"}, "Quantity": "-2.000"}]}]
    assert dict(held_quantities(orders)[0]) == {"a": 2}
