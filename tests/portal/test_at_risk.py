"""PAR-N (:mod:`loanservicing.ledger.at_risk`) against the aging table's PAR30 and PAR90, and
its properties over random portfolios (hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from loanservicing.ledger.at_risk import (
    PAR_THRESHOLDS,
    gross_outstanding,
    portfolio_at_risk,
    principal_at_risk,
)
from loanservicing.ledger.delinquency import bucket_of
from loanservicing.ledger.portfolio import aging
from loanservicing.ledger.schedule import ScheduleKind
from loanservicing.ledger.state import LoanSnapshot

_BASE = LoanSnapshot(
    loan_id=1, borrower="0xB", lender="0xL", token="0xT", decimals=6, status="active",
    kind=ScheduleKind.ANNUITY, principal=0, principal_outstanding=0, apr_bps=1200,
    penalty_apr_bps=0, late_fee_bps=0, period_seconds=30 * 86_400, grace_seconds=0,
    default_after_days=90, installments_total=12, installments_paid=0, days_past_due=0,
    delinquency_bucket=0, recorded_bucket=0, past_due=0, next_due_timestamp=None,
    next_due_amount=0, next_installment=None, payoff=0, fees_owed=0, penalty_owed=0,
    paid_principal=0, paid_interest=0, base_index=0, base_principal=0, segment_start=0,
    as_of_timestamp=0,
)  # fmt: skip


@st.composite
def loans(draw: st.DrawFn) -> LoanSnapshot:
    status = draw(st.sampled_from(["active", "active", "defaulted", "closed"]))
    dpd = draw(st.integers(0, 400))
    outstanding = draw(st.integers(0, 10**12))
    return replace(
        _BASE,
        status=status,
        days_past_due=dpd,
        delinquency_bucket=bucket_of(dpd),
        principal=outstanding,
        principal_outstanding=0 if status == "closed" else outstanding,
    )


portfolios = st.lists(loans(), max_size=40)


@given(portfolios)
def test_par30_and_par90_are_the_aging_tables(snapshots: list[LoanSnapshot]) -> None:
    table = aging(snapshots)
    assert principal_at_risk(snapshots, 30) == table.at_risk_30
    assert principal_at_risk(snapshots, 90) == table.at_risk_90
    assert gross_outstanding(snapshots) == table.principal_outstanding
    assert portfolio_at_risk(snapshots, 30) == table.par30
    assert portfolio_at_risk(snapshots, 90) == table.par90


@given(portfolios, st.integers(0, 365), st.integers(0, 365))
def test_par_falls_as_the_threshold_rises(snapshots: list[LoanSnapshot], a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert principal_at_risk(snapshots, low) >= principal_at_risk(snapshots, high)
    assert Decimal(0) <= portfolio_at_risk(snapshots, high) <= portfolio_at_risk(snapshots, low)
    assert portfolio_at_risk(snapshots, low) <= 1


@given(portfolios)
def test_par60_counts_loans_more_than_60_days_past_due_and_defaulted(
    snapshots: list[LoanSnapshot],
) -> None:
    expected = sum(
        s.principal_outstanding
        for s in snapshots
        if s.status == "defaulted" or (s.status == "active" and s.days_past_due >= 61)
    )
    assert principal_at_risk(snapshots, 60) == expected
    assert PAR_THRESHOLDS == (30, 60, 90)


def test_nothing_outstanding_is_no_risk() -> None:
    closed = replace(_BASE, status="closed", days_past_due=0)
    assert portfolio_at_risk([], 30) == 0 == portfolio_at_risk([closed], 60)
    # A loan exactly 30 days past due is not in PAR30, one day more is.
    at_30 = replace(_BASE, days_past_due=30, principal_outstanding=100)
    at_31 = replace(at_30, days_past_due=31)
    assert principal_at_risk([at_30], 30) == 0 and principal_at_risk([at_31], 30) == 100
