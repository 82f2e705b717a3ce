"""Tokens: 6 and 18 decimals, tokens that return no bool, and a token that re-enters."""

from __future__ import annotations

from web3.contract import Contract

from loanservicing.ledger.schedule import Curve, ScheduleKind
from tests.support.ledger_driver import DAY, LedgerDriver

PERIOD = 30 * DAY


def test_eighteen_decimal_loan_full_cycle_and_normalised_credit_record(
    system: LedgerDriver,
) -> None:
    borrower = system.accounts[2]
    principal = 5_000 * 10**18
    start = system.now() + 10
    loan_id = system.originate(
        borrower, principal=principal, installments=3, token=system.token18, at=start
    )
    curve = Curve.of_period(ScheduleKind.ANNUITY, principal, 3, 1200, PERIOD)
    assert system.loan(loan_id)["decimals"] == 18
    total = 0
    for k in (1, 2, 3):
        amount = sum(curve.part(k))
        total += amount
        event = system.repay(loan_id, amount, borrower, at=start + k * PERIOD, token=system.token18)
    assert event["status"] == 2
    # A 6-decimal loan of the same size counts the same in the 18-decimal record.
    record = system.record(borrower)
    assert record["totalRepaid"] == total
    small = system.originate(borrower, principal=5_000 * 10**6, installments=1)
    payoff = system.due(small, system.now() + 1)["payoff"]
    system.repay(small, payoff, borrower, at=system.now() + 1)
    assert system.record(borrower)["totalRepaid"] == total + payoff * 10**12


def _loan_in(system: LedgerDriver, token_name: str, principal: int) -> tuple[Contract, int]:
    """A two-installment loan to accounts[3] in a freshly deployed test token."""
    token = system.deploy_contract(token_name)
    system.send(system.ledger.functions.setTokenAllowed(token.address, True))
    loan_id = system.originate(
        system.accounts[3],
        principal=principal,
        installments=2,
        grace=DAY,
        late_fee_bps=0,
        penalty_apr_bps=0,
        default_after_days=30,
        token=token,
    )
    return token, loan_id


def test_token_without_return_values(system: LedgerDriver) -> None:
    borrower = system.accounts[3]
    token, loan_id = _loan_in(system, "NoReturnToken", 1_000 * 10**6)
    assert token.functions.balanceOf(borrower).call() == 1_000 * 10**6
    at = system.now() + DAY
    payoff = system.due(loan_id, at)["payoff"]
    system.repay(loan_id, payoff, borrower, at=at, token=token)
    assert system.loan(loan_id)["status"] == 2
    # A failing transferFrom of such a token (the borrower never approved this second token)
    # reverts the repayment and changes nothing.
    _, second = _loan_in(system, "NoReturnToken", 10**6)
    before = system.loan(second)
    system.reverts("InsufficientAllowance", system.ledger.functions.repay(second, 1), borrower)
    assert system.loan(second) == before


def test_reentrant_token_cannot_reenter(system: LedgerDriver) -> None:
    borrower = system.accounts[3]
    token, loan_id = _loan_in(system, "ReentrantToken", 1_000 * 10**18)
    system.fund(borrower, 10**24, token)
    # During the repayment's transferFrom the token calls repay again.
    reenter = system.ledger.encode_abi("repay", args=[loan_id, 10**18])
    system.send(token.functions.arm(system.ledger.address, reenter))
    before = system.loan(loan_id)
    system.reverts(
        "ReentrancyGuardReentrantCall", system.ledger.functions.repay(loan_id, 10**18), borrower
    )
    assert system.loan(loan_id) == before
    # Re-entering during an origination's disbursement fails the same way.
    system.send(
        token.functions.arm(
            system.ledger.address, system.ledger.encode_abi("assess", args=[loan_id])
        )
    )
    terms = system.terms(
        system.accounts[4],
        10**18,
        1200,
        2,
        PERIOD,
        system.now() + PERIOD,
        ScheduleKind.ANNUITY,
        DAY,
        0,
        0,
        30,
        token,
    )
    system.reverts("ReentrancyGuardReentrantCall", system.originate_call(terms))
