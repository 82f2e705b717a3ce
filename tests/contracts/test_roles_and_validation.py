"""Roles (AccessControl), pausing, and invalid terms: each reverts with its named error and
changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from loanservicing.chain.abi import role
from loanservicing.ledger.schedule import ScheduleKind
from tests.support.ledger_driver import DAY, UNIT, LedgerDriver

PERIOD = 30 * DAY


def _terms(system: LedgerDriver, **changes: Any) -> tuple[Any, ...]:
    now = system.now()
    values: dict[str, Any] = {
        "borrower": system.accounts[1],
        "principal": 1_000 * UNIT,
        "apr_bps": 1200,
        "installments": 12,
        "period": PERIOD,
        "first_due": now + PERIOD,
        "kind": ScheduleKind.ANNUITY,
        "grace": 5 * DAY,
        "late_fee_bps": 500,
        "penalty_apr_bps": 600,
        "default_after_days": 90,
    }
    values.update(changes)
    token = values.pop("token", None)
    return system.terms(**values, token=token)


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"principal": 0}, "InvalidPrincipal"),
        ({"principal": 2**96}, "InvalidPrincipal"),
        # principal plus the most interest it can accrue must fit the ledger's 96-bit amounts
        (
            {"principal": 2**90, "apr_bps": 10_000, "installments": 480, "period": 366 * DAY},
            "InvalidPrincipal",
        ),
        ({"installments": 0}, "InvalidInstallments"),
        ({"installments": 481}, "InvalidInstallments"),
        ({"period": DAY - 1}, "InvalidPeriod"),
        ({"period": 367 * DAY}, "InvalidPeriod"),
        ({"apr_bps": 10_001}, "InvalidRate"),
        ({"penalty_apr_bps": 10_001}, "InvalidRate"),
        ({"late_fee_bps": 2_501}, "InvalidLateFee"),
        ({"grace": 91 * DAY}, "InvalidGracePeriod"),
        ({"default_after_days": 0}, "InvalidDefaultThreshold"),
        ({"first_due": 0}, "InvalidFirstDueDate"),
        ({"first_due": 10**10}, "InvalidFirstDueDate"),
        ({"borrower": "0x0000000000000000000000000000000000000000"}, "ZeroAddress"),
    ],
)
def test_invalid_terms_revert_with_named_errors(
    system: LedgerDriver, changes: dict[str, Any], error: str
) -> None:
    system.fund(system.admin, 10**12)
    count = system.ledger.functions.loanCount().call()
    system.reverts(error, system.originate_call(_terms(system, **changes)))
    assert system.ledger.functions.loanCount().call() == count


def test_first_due_date_in_the_past_names_the_window(system: LedgerDriver) -> None:
    at = system.now() + 10
    failure = system.reverts(
        "InvalidFirstDueDate",
        system.originate_call(_terms(system, first_due=at)),
        at=at,
    )
    assert failure.revert is not None
    # Due dates are dates: the first is due from tomorrow (UTC) to the end of the date two
    # periods from today.
    today_end = (at // DAY + 1) * DAY - 1
    assert failure.revert.args == {
        "firstDueDate": at,
        "earliest": today_end + 1,
        "latest": today_end + 2 * PERIOD,
    }


def test_lender_cannot_lend_to_itself_and_token_must_be_a_contract(system: LedgerDriver) -> None:
    system.reverts("BorrowerIsLender", system.originate_call(_terms(system, borrower=system.admin)))
    eoa_token = system.w3.eth.contract(address=system.accounts[7], abi=system.token.abi)
    system.reverts("TokenNotAllowed", system.originate_call(_terms(system, token=eoa_token)))
    system.reverts(
        "UnsupportedToken", system.ledger.functions.setTokenAllowed(eoa_token.address, True)
    )


def test_originate_needs_the_originator_role(system: LedgerDriver) -> None:
    outsider = system.accounts[6]
    system.fund(outsider, 10**12)
    failure = system.reverts(
        "AccessControlUnauthorizedAccount",
        system.originate_call(_terms(system)),
        outsider,
    )
    assert failure.revert is not None
    assert failure.revert.args["neededRole"] == role("ORIGINATOR_ROLE")
    system.send(system.ledger.functions.grantRole(role("ORIGINATOR_ROLE"), outsider))
    system.send(system.originate_call(_terms(system), outsider), outsider)
    assert system.loan(1)["lender"] == outsider


def test_servicer_and_admin_roles(system: LedgerDriver) -> None:
    borrower, outsider = system.accounts[1], system.accounts[6]
    loan_id = system.originate(borrower, default_after_days=1)
    system.mine_at(system.now() + PERIOD + 2 * DAY)
    for fn in (
        system.ledger.functions.declareDefault(loan_id),
        system.ledger.functions.proposeRestructure(loan_id, 100, 3, PERIOD, system.now() + DAY),
        system.ledger.functions.pause(),
        system.ledger.functions.unpause(),
        system.ledger.functions.setOriginationPolicy(outsider),
        system.ledger.functions.grantRole(role("SERVICER_ROLE"), outsider),
    ):
        system.reverts("AccessControlUnauthorizedAccount", fn, outsider)
    for fn in (
        system.registry.functions.reportLoanOpened(borrower, loan_id),
        system.registry.functions.reportRepayment(borrower, loan_id, 1, 0, 1, False),
        system.registry.functions.reportDelinquency(borrower, loan_id, 1, 1),
        system.registry.functions.reportDefault(borrower, loan_id, 1),
    ):
        system.reverts("AccessControlUnauthorizedAccount", fn, outsider)
    assert system.record(borrower)["loansOpened"] == 1
    assert system.loan(loan_id)["status"] == 0


def test_pause_stops_origination_but_never_repayment(system: LedgerDriver) -> None:
    borrower = system.accounts[1]
    start = system.now() + 10
    loan_id = system.originate(borrower, at=start)
    system.send(system.ledger.functions.pause())
    system.reverts("EnforcedPause", system.originate_call(_terms(system)))
    event = system.repay(loan_id, 100 * UNIT, borrower)
    assert event["interest"] + event["principal"] == 100 * UNIT
    system.send(system.ledger.functions.assess(loan_id), system.accounts[5])
    system.send(system.ledger.functions.unpause())
    system.originate(borrower)


def test_bad_repayments(system: LedgerDriver) -> None:
    borrower = system.accounts[1]
    loan_id = system.originate(borrower)
    system.reverts("ZeroAmount", system.ledger.functions.repay(loan_id, 0), borrower)
    system.reverts("LoanNotFound", system.ledger.functions.repay(999, 1), borrower)
    # No allowance: the token's own error, and nothing changes.
    payer = system.accounts[8]
    system.send(system.token.functions.mint(payer, 10 * UNIT))
    before = system.loan(loan_id)
    system.reverts(
        "ERC20InsufficientAllowance", system.ledger.functions.repay(loan_id, UNIT), payer
    )
    assert system.loan(loan_id) == before
