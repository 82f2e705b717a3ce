"""Payoff to the day, and repayments whose outcome does not depend on how they are split.

An independent review found that any prepayment, even one unit paid by anyone, made the payoff
include a whole future period's interest (109.02 USDC more on a 12,000 USDC loan). Now the
payoff charges the running period's interest by whole days elapsed, credits back interest paid
ahead, and paying ``a + b`` leaves the same loan as paying ``a`` then ``b`` in the same second.
"""

from __future__ import annotations

from typing import Any

import pytest
from web3.types import TxReceipt

from loanservicing.chain.node import revert, snapshot
from loanservicing.ledger.schedule import Curve, ScheduleKind
from tests.support.ledger_driver import DAY, TIMED_GAS, UNIT, LedgerDriver

PRINCIPAL = 12_000 * UNIT
PERIOD = 30 * DAY
CURVE = Curve.of_period(ScheduleKind.ANNUITY, PRINCIPAL, 12, 1200, PERIOD)
P1, I1 = CURVE.part(1)
INSTALLMENT = P1 + I1


def _in_one_block(system: LedgerDriver, at: int, calls: list[tuple[Any, str]]) -> list[TxReceipt]:
    """Send ``calls`` (function, sender) so that all are mined in one block at ``at``."""
    system.rpc("evm_setAutomine", [False])
    try:
        hashes = [fn.transact({"from": sender, "gas": TIMED_GAS}) for fn, sender in calls]
        system.rpc("evm_mine", [at])
    finally:
        system.rpc("evm_setAutomine", [True])
    receipts = [system.w3.eth.get_transaction_receipt(h) for h in hashes]
    assert all(r["status"] == 1 for r in receipts), receipts
    return receipts


def _state_after(system: LedgerDriver, loan_id: int, at: int, amounts: list[int]) -> Any:
    """The loan and its quote after paying ``amounts`` (in order) in one block at ``at``."""
    borrower = system.accounts[1]
    paid_before = system.balance(borrower)
    calls = [(system.ledger.functions.repay(loan_id, a), borrower) for a in amounts]
    _in_one_block(system, at, calls)
    return system.loan(loan_id), system.due(loan_id, at), paid_before - system.balance(borrower)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (INSTALLMENT + 1, 5_000 * UNIT),  # the reviewer's case: the installment and one unit
        (1, INSTALLMENT),
        (INSTALLMENT, 1),
        (I1 // 2, INSTALLMENT),
        (INSTALLMENT + 2_000 * UNIT, 3_000 * UNIT),
        (INSTALLMENT + 1, 20_000 * UNIT),  # the second reaches the payoff
    ],
)
def test_paying_a_then_b_equals_paying_a_plus_b(system: LedgerDriver, a: int, b: int) -> None:
    start = system.now() + 10
    loan_id = system.originate(system.accounts[1], at=start)
    system.fund(system.accounts[1], 40_000 * UNIT)
    at = start + 10 * DAY + 3_600
    before = snapshot(system.w3)
    combined = _state_after(system, loan_id, at, [a + b])
    revert(system.w3, before)
    split = _state_after(system, loan_id, at, [a, b])
    assert split == combined


def test_the_installment_plus_one_unit_does_not_make_the_payoff_dearer(
    system: LedgerDriver,
) -> None:
    borrower = system.accounts[1]
    start = system.now() + 10
    loan_id = system.originate(borrower, at=start)
    system.fund(borrower, 40_000 * UNIT)
    at = start + 10 * DAY
    costs = []
    for first in (INSTALLMENT, INSTALLMENT + 1):
        before = snapshot(system.w3)
        balance = system.balance(borrower)
        system.repay(loan_id, first, borrower, at=at, fund=False)
        payoff = system.due(loan_id, at)["payoff"]
        system.repay(loan_id, payoff, borrower, at=at, fund=False)
        assert system.loan(loan_id)["status"] == 2
        costs.append(balance - system.balance(borrower))
        revert(system.w3, before)
    # Both cost the principal and ten days of interest: the payoff credits back the interest
    # paid ahead for the days of the period that had not run.
    assert costs[0] == costs[1] == PRINCIPAL + I1 * 10 * DAY // PERIOD


def test_a_payoff_credits_interest_paid_ahead_back_to_the_day(system: LedgerDriver) -> None:
    borrower = system.accounts[1]
    start = system.now() + 10
    loan_id = system.originate(borrower, at=start)
    system.repay(loan_id, INSTALLMENT, borrower, at=start + 4 * DAY)
    at = start + 6 * DAY
    quote = system.due(loan_id, at)
    earned = I1 * 6 * DAY // PERIOD
    assert quote["interestRebate"] == I1 - earned and quote["accruedInterest"] == 0
    assert quote["payoff"] == PRINCIPAL - P1 - (I1 - earned)
    event = system.repay(loan_id, quote["payoff"], borrower, at=at)
    (rebate,) = system.events(event["receipt"], "InterestRebated")
    assert rebate == {"loanId": loan_id, "amount": I1 - earned}
    assert event["principal"] + rebate["amount"] == PRINCIPAL - P1
    assert event["status"] == 2


def test_a_payoff_on_the_day_of_origination_charges_no_interest(system: LedgerDriver) -> None:
    borrower = system.accounts[1]
    start = system.day_end() + 1  # midnight (UTC), the loan's offset
    loan_id = system.originate(borrower, kind=ScheduleKind.BULLET, at=start)
    assert system.due(loan_id, start)["payoff"] == PRINCIPAL
    # Interest runs by dates: to the last second of the origination date, none; on the next
    # date, one day's worth.
    assert system.due(loan_id, start + DAY - 1)["payoff"] == PRINCIPAL
    bullet = Curve.of_period(ScheduleKind.BULLET, PRINCIPAL, 12, 1200, PERIOD)
    assert system.due(loan_id, start + DAY)["accruedInterest"] == bullet.part(1)[1] * DAY // PERIOD


def test_no_interest_for_days_before_the_loan_existed(system: LedgerDriver) -> None:
    # A first due date one day away: the first period began 29 days before origination.
    borrower = system.accounts[1]
    start = system.now() + 10
    loan_id = system.originate(borrower, first_due=start + DAY, at=start)
    assert system.due(loan_id, start)["payoff"] == PRINCIPAL
    assert system.loan(loan_id)["lastAccrual"] == start


def test_recoveries_after_default_do_not_depend_on_the_split(system: LedgerDriver) -> None:
    start = system.now() + 10
    loan_id = system.originate(
        system.accounts[1],
        principal=2,
        apr_bps=0,
        installments=2,
        period=DAY,
        grace=0,
        default_after_days=1,
        at=start,
    )
    system.send(system.ledger.functions.declareDefault(loan_id), at=start + 3 * DAY)
    system.fund(system.accounts[1], 10)
    at = start + 4 * DAY
    before = snapshot(system.w3)
    combined = _state_after(system, loan_id, at, [2])
    revert(system.w3, before)
    split = _state_after(system, loan_id, at, [1, 1])
    assert split == combined
    assert combined[0]["status"] == 2
