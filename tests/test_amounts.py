from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loanservicing.amounts import (
    InvalidInput,
    format_amount,
    format_money,
    iso_date,
    parse_amount,
    parse_date,
    parse_duration,
    parse_percent_bps,
)


@pytest.mark.parametrize(
    ("text", "decimals", "units"),
    [
        ("1250.50", 6, 1_250_500_000),
        ("1", 6, 1_000_000),
        ("0.000001", 6, 1),
        ("1.100000", 6, 1_100_000),  # trailing zeros are not extra precision
        (".5", 18, 5 * 10**17),
        ("10000", 18, 10_000 * 10**18),
        (" 7 ", 0, 7),
    ],
)
def test_parse_amount_is_exact(text: str, decimals: int, units: int) -> None:
    assert parse_amount(text, decimals) == units


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("-5", "negative"),
        ("0", "greater than zero"),
        ("0.000", "greater than zero"),
        ("1.0000001", "more than 6 decimal places"),
        ("NaN", "not a plain decimal"),
        ("inf", "not a plain decimal"),
        ("1e3", "not a plain decimal"),
        ("1,000", "not a plain decimal"),
        ("", "not a plain decimal"),
        ("12.", "not a plain decimal"),
        ("0x10", "not a plain decimal"),
    ],
)
def test_parse_amount_rejects(text: str, fragment: str) -> None:
    with pytest.raises(InvalidInput, match=fragment):
        parse_amount(text, 6)


@pytest.mark.parametrize("decimals", [6, 18])
@given(units=st.integers(min_value=1, max_value=2**128))
def test_amount_round_trip(decimals: int, units: int) -> None:
    assert parse_amount(format_amount(units, decimals), decimals) == units


def test_format_amount() -> None:
    assert format_amount(1_250_500_000, 6) == "1250.5"
    assert format_amount(0, 6) == "0"
    assert format_amount(-1, 6) == "-0.000001"
    assert format_amount(12, 0) == "12"


def test_percent_and_duration_and_dates() -> None:
    assert parse_percent_bps("12") == 1200
    assert parse_percent_bps("7.25") == 725
    assert parse_percent_bps("0") == 0
    with pytest.raises(InvalidInput):
        parse_percent_bps("7.255")
    with pytest.raises(InvalidInput):
        parse_percent_bps("-1")
    assert parse_duration("30d") == 30 * 86_400
    assert parse_duration("12h") == 43_200
    assert parse_duration("90min") == 5_400
    with pytest.raises(InvalidInput, match="ambiguous: write minutes as 1min; months are a"):
        parse_duration("1M")  # a bug fixed: read as one minute
    with pytest.raises(InvalidInput, match="ambiguous"):
        parse_duration("90m")
    assert parse_duration("45s") == 45
    assert parse_duration("3600") == 3_600
    with pytest.raises(InvalidInput):
        parse_duration("3 weeks")
    assert parse_date("2026-01-31") == 1_769_817_600
    assert parse_date("2026-01-31T12:00:00Z") == 1_769_860_800
    assert parse_date("1769817600") == 1_769_817_600
    assert iso_date(1_769_860_800) == "2026-01-31T12:00:00Z"
    with pytest.raises(InvalidInput):
        parse_date("tomorrow")


def test_money_for_people_has_two_decimals_rounded_half_up() -> None:
    assert format_money(305_568_388, 6) == "305.57"
    assert format_money(548_054_934_999, 6) == "548,054.93"
    assert format_money(1_580_170_000, 6) == "1,580.17"
    assert format_money(5, 6) == "0.00" and format_money(5_000, 6) == "0.01"
    assert format_money(-1_234_567, 6) == "-1.23"
    assert format_money(7, 0) == "7" and format_money(15, 1) == "1.5"
    assert format_money(10**18 + 5 * 10**15, 18) == "1.01"
