"""The schedule maths (Python mirror of LoanSchedule.sol) against numpy-financial."""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal, localcontext
from fractions import Fraction

import numpy_financial as npf
from hypothesis import given, settings
from hypothesis import strategies as st

from loanservicing.ledger.schedule import (
    DAY,
    RATE_DEN,
    Curve,
    ScheduleKind,
    pow_scaled,
)

kinds = st.sampled_from(list(ScheduleKind))
principals = st.one_of(
    st.integers(1, 10**9),  # up to 1,000 tokens of 6 decimals
    st.integers(10**6, 10**12 * 10**6),  # up to 1e12 tokens of 6 decimals
    st.integers(10**18, 10**9 * 10**18),  # up to 1e9 tokens of 18 decimals
)
counts = st.integers(1, 480)
aprs = st.integers(0, 10_000)
periods = st.sampled_from([DAY, 7 * DAY, 14 * DAY, 30 * DAY, 91 * DAY, 365 * DAY])


@settings(max_examples=300, deadline=None)
@given(kinds, principals, counts, aprs, periods)
def test_principal_parts_sum_exactly_and_balances_fall(
    kind: ScheduleKind, principal: int, count: int, apr: int, period: int
) -> None:
    curve = Curve.of_period(kind, principal, count, apr, period)
    parts = [curve.part(j) for j in range(1, count + 1)]
    assert sum(p for p, _ in parts) == principal
    balance = principal
    cumulative_interest = 0
    for j, (p, i) in enumerate(parts, start=1):
        assert p >= 0 and i >= 0
        balance -= p
        cumulative_interest += i
        assert balance >= 0
        assert curve.cumulative(j) == (principal - balance, cumulative_interest)
    assert balance == 0


def _exact_rate(apr: int, period: int) -> Decimal:
    return Decimal(apr * period) / Decimal(RATE_DEN)


def _exact_annuity(
    principal: int, count: int, apr: int, period: int
) -> Callable[[int], tuple[Decimal, Decimal]]:
    """Exact cumulative (principal, interest) through installment j of an annuity."""
    with localcontext() as ctx:
        ctx.prec = 60
        rate = _exact_rate(apr, period)
        v = 1 / (1 + rate)
        vm = v**count
        payment = principal * rate / (1 - vm)

    def cumulative(j: int) -> tuple[Decimal, Decimal]:
        with localcontext() as ctx:
            ctx.prec = 60
            cp = principal * (v ** (count - j) - vm) / (1 - vm)
            return cp, j * payment - cp

    return cumulative


@settings(max_examples=300, deadline=None)
@given(st.integers(10**6, 10**15), st.integers(1, 360), st.integers(1, 10_000), periods)
def test_annuity_matches_numpy_financial_within_one_unit(
    principal: int, count: int, apr: int, period: int
) -> None:
    curve = Curve.of_period(ScheduleKind.ANNUITY, principal, count, apr, period)
    rate = float(_exact_rate(apr, period))
    pmt = -float(npf.pmt(rate, count, principal))
    numbers = list(range(1, count + 1))
    ipmts = [-float(x) for x in npf.ipmt(rate, numbers, count, principal)]
    ppmts = [-float(x) for x in npf.ppmt(rate, numbers, count, principal)]
    exact = _exact_annuity(principal, count, apr, period)
    # numpy-financial works in float64; its error grows with (1 + r)^n (the last installments
    # of a long, high-rate loan) and with 1 / (1 - (1 + r)^-n) (cancellation at tiny rates):
    # allow that on top of the one unit. The exact comparison below has no such slack.
    growth = (1 + rate) ** count
    slack = 1 + principal * 1e-14 * (growth + 1 / (1 - 1 / growth))
    for j in numbers:
        p, i = curve.part(j)
        assert abs(p - ppmts[j - 1]) <= slack
        assert abs(i - ipmts[j - 1]) <= slack
        assert abs(p + i - pmt) <= 2 * slack
        # Against the exact schedule (60-digit decimals): each part within one unit, and the
        # cumulative amounts never above the exact ones (rounding never overcharges).
        cp, ci = curve.cumulative(j)
        exact_cp, exact_ci = exact(j)
        previous_cp, previous_ci = exact(j - 1)
        assert abs(p - (exact_cp - previous_cp)) <= 1
        assert abs(i - (exact_ci - previous_ci)) <= 1
        assert exact_cp - 1 <= cp <= exact_cp + Decimal("1e-6")
        assert exact_ci - 1 <= ci <= exact_ci + Decimal("1e-6")


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 10**15), st.integers(1, 480), aprs, periods)
def test_equal_principal_and_bullet_interest_is_exact_rational(
    principal: int, count: int, apr: int, period: int
) -> None:
    rate = Fraction(apr * period, RATE_DEN)
    ep = Curve.of_period(ScheduleKind.EQUAL_PRINCIPAL, principal, count, apr, period)
    bullet = Curve.of_period(ScheduleKind.BULLET, principal, count, apr, period)
    for j in (1, count // 2 + 1, count):
        # Exact cumulative interest of equal principal through j, rounded down.
        exact_cum = sum(
            (Fraction(principal * (count - k + 1), count) * rate for k in range(1, j + 1)),
            Fraction(0),
        )
        assert ep.cumulative(j) == (principal * j // count, math.floor(exact_cum))
        assert bullet.cumulative(j)[1] == math.floor(principal * rate * j)
        assert bullet.cumulative(j)[0] == (principal if j == count else 0)


def test_textbook_annuity() -> None:
    """12,000 at 12% a year in 12 monthly (30-day) installments: the standard formula."""
    curve = Curve.of_period(ScheduleKind.ANNUITY, 12_000 * 10**6, 12, 1200, 30 * DAY)
    rate = 0.12 * 30 / 365
    pmt = -npf.pmt(rate, 12, 12_000 * 10**6)
    first = curve.part(1)
    assert first[1] == int(12_000 * 10**6 * rate)  # interest of the first period, rounded down
    assert abs(sum(first) - pmt) <= 1
    assert sum(p for p, _ in (curve.part(j) for j in range(1, 13))) == 12_000 * 10**6


def test_zero_rate_splits_principal_evenly() -> None:
    curve = Curve.of_period(ScheduleKind.ANNUITY, 1000, 3, 0, 30 * DAY)
    assert [curve.part(j) for j in (1, 2, 3)] == [(333, 0), (333, 0), (334, 0)]


def test_pow_scaled_rounds_down() -> None:
    half = 5 * 10**35
    assert pow_scaled(half, 0) == 10**36
    assert pow_scaled(half, 3) == 125 * 10**33
