"""No unchecked narrowing: every amount stored in 96 bits goes through SafeCast.

The review found that carried interest wrapped around after two restructurings of a loan near
the 96-bit limit (so the borrower's debt silently shrank); now the second restructuring is
refused with SafeCast's error and nothing changes."""

from __future__ import annotations

from loanservicing.ledger.schedule import ScheduleKind
from tests.support.ledger_driver import DAY, LedgerDriver

YEAR_AND_A_DAY = 366 * DAY
RATE_DEN = 10_000 * 365 * DAY


def test_carried_interest_never_wraps(system: LedgerDriver) -> None:
    borrower = system.accounts[1]
    # The largest principal of a one-installment bullet at 100 % over 366 days (the ledger
    # allows for one more period of interest: an odd first period).
    principal = (2**96 - 1) * RATE_DEN // (RATE_DEN + 10_000 * YEAR_AND_A_DAY * 2)
    start = system.now() + 10
    loan_id = system.originate(
        borrower,
        principal=principal,
        apr_bps=10_000,
        installments=1,
        period=YEAR_AND_A_DAY,
        kind=ScheduleKind.BULLET,
        late_fee_bps=0,
        penalty_apr_bps=0,
        default_after_days=3650,
        at=start,
    )

    def restructure(at: int) -> object:
        deadline = at + DAY
        system.send(
            system.ledger.functions.proposeRestructure(
                loan_id, 10_000, 1, YEAR_AND_A_DAY, deadline
            ),
            at=at,
        )
        return system.ledger.functions.acceptRestructure(
            loan_id, 10_000, 1, YEAR_AND_A_DAY, deadline
        )

    # Each restructuring a year on carries a year's interest more (about the principal): the
    # carried interest reaches 2^96 on the third, which is refused, never wrapped.
    at = start
    for _ in range(2):
        at += YEAR_AND_A_DAY + DAY
        system.send(restructure(at), borrower, at=at + 1)
    carried = system.loan(loan_id)["carriedInterest"]
    assert 2**95 < carried < 2**96
    at += YEAR_AND_A_DAY + DAY
    accept = restructure(at)
    before = system.loan(loan_id)
    failure = system.reverts("SafeCastOverflowedUintDowncast", accept, borrower, at=at + 1)
    assert failure.revert is not None and failure.revert.args["bits"] == 96
    assert system.loan(loan_id) == before
