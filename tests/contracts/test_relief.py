"""Payment holidays and forbearance on chain: a holiday extends the term and keeps principal
exact; forbearance days are not counted and accrue nothing."""

from __future__ import annotations

from loanservicing.ledger import calendar as cal
from loanservicing.ledger.schedule import Curve, ScheduleKind
from loanservicing.servicing.revert_messages import explained
from tests.support.ledger_driver import DAY, UNIT, LedgerDriver

PRINCIPAL = 12_000 * UNIT
PERIOD = 30 * DAY
CURVE = Curve.of_period(ScheduleKind.ANNUITY, PRINCIPAL, 12, 1200, PERIOD)


def _pay_rest(system: LedgerDriver, loan_id: int, borrower: str) -> list[dict[str, int]]:
    """Pays every remaining installment on its due date; returns the repayments."""
    paid = []
    view = system.loan(loan_id)
    for number in range(view["installmentsPaid"] + 1, view["installments"] + 1):
        due, principal, interest = system.installment(loan_id, number)
        paid.append(system.repay(loan_id, principal + interest, borrower, at=due))
    return paid


def test_holiday_extends_the_term_and_keeps_principal_exact(system: LedgerDriver) -> None:
    borrower, servicer = system.accounts[1], system.admin
    start = system.day_end()
    loan_id = system.originate(borrower, at=start)
    system.repay(loan_id, sum(CURVE.part(1)), borrower, at=start + PERIOD)
    # Ten days into installment 2's period the servicer offers two installments off.
    at = start + PERIOD + 10 * DAY
    deadline = at + 5 * DAY
    propose = system.ledger.functions.proposeHoliday(loan_id, 2, 2, deadline)
    (proposed,) = system.events(system.send(propose, servicer, at=at), "HolidayProposed")
    assert (proposed["fromInstallment"], proposed["count"]) == (2, 2)
    assert system.view("holidayProposal", loan_id) == [2, 2, deadline]
    accept = system.ledger.functions.acceptHoliday(loan_id, 2, 2, deadline)
    system.reverts("NotBorrower", accept, system.accounts[4])
    wrong = system.ledger.functions.acceptHoliday(loan_id, 2, 3, deadline)
    mismatch = explained(system.reverts("HolidayTermsMismatch", wrong, borrower), "Accepting")
    assert str(mismatch) == (
        f"Accepting was refused: the holiday named is not loan {loan_id}'s pending payment "
        f"holiday proposal, so review it with `loan holiday show {loan_id}` "
        "(HolidayTermsMismatch)."
    )
    receipt = system.send(accept, borrower, at=at + DAY)
    outstanding = PRINCIPAL - CURVE.part(1)[0]
    # Two 30-day periods of simple interest on the outstanding principal, actual/365.
    capitalised = outstanding * 1200 * 60 // (10_000 * 365)
    assert (outstanding, capitalised) == (11_053_093282, 218_033620)  # the README's example
    (granted,) = system.events(receipt, "HolidayGranted")
    assert (granted["capitalisedInterest"], granted["principalOutstanding"]) == (
        capitalised,
        outstanding + capitalised,
    )
    (reset,) = system.events(receipt, "ScheduleReset")
    assert (reset["baseIndex"], reset["installments"], reset["segmentStart"]) == (
        3,
        14,
        start + 3 * PERIOD,
    )
    assert system.view("holidayProposal", loan_id) == [0, 0, 0]
    view = system.loan(loan_id)
    assert (view["holidayPeriods"], view["advancePending"]) == (2, True)
    # Nothing falls due during the holiday: installment 4 is next, one period after it ends.
    quote = system.due(loan_id, start + 3 * PERIOD - DAY)
    assert quote["pastDue"] == 0 and quote["nextInstallment"] == 4
    assert quote["nextDueDate"] == start + 4 * PERIOD
    assert system.ledger.functions.daysPastDue(loan_id).call() == 0
    # A payoff during the holiday pays its interest to the day only (here 31 of 60 days).
    mid = start + PERIOD + 31 * DAY
    assert system.due(loan_id, mid)["payoff"] == outstanding + capitalised * 31 // 60
    # The remaining 11 installments amortise the new principal over installments 4..14.
    new_curve = Curve.of_period(ScheduleKind.ANNUITY, outstanding + capitalised, 11, 1200, PERIOD)
    assert system.installment(loan_id, 4) == (start + 4 * PERIOD, *new_curve.part(1))
    assert sum(new_curve.part(1)) == 1_086_276287
    assert system.due_date(loan_id, 14) == start + 14 * PERIOD
    paid = _pay_rest(system, loan_id, borrower)
    assert len(paid) == 11 and paid[-1]["status"] == 2  # closed by its last installment
    principal_paid = sum(p["principal"] for p in paid) + CURVE.part(1)[0]
    assert principal_paid == PRINCIPAL + capitalised
    record = system.record(borrower)
    assert (record["paidOnTime"], record["paidLate"], record["missed"]) == (12, 0, 0)


def test_holiday_refusals(system: LedgerDriver) -> None:
    borrower, servicer = system.accounts[1], system.admin
    start = system.day_end()
    loan_id = system.originate(borrower, at=start)
    at = start + PERIOD + DAY  # installment 1 due and unpaid
    fn = system.ledger.functions
    error = system.reverts("HolidayOutOfRange", fn.proposeHoliday(loan_id, 1, 1, at + DAY), at=at)
    assert error.revert is not None
    assert error.revert.args == {"loanId": loan_id, "fromInstallment": 1, "first": 2, "last": 12}
    system.reverts("InvalidHolidayLength", fn.proposeHoliday(loan_id, 2, 0, at + DAY), at=at + 1)
    system.reverts("InvalidHolidayLength", fn.proposeHoliday(loan_id, 2, 256, at + DAY), at=at + 2)
    system.reverts("NoHolidayProposal", fn.acceptHoliday(loan_id, 2, 1, at + DAY), borrower, at + 3)
    at += 10
    system.send(fn.proposeHoliday(loan_id, 2, 1, at + 10 * DAY), servicer, at=at)
    # Behind on installment 1: bring it current first.
    error = system.reverts(
        "HolidayNotCurrent", fn.acceptHoliday(loan_id, 2, 1, at + 10 * DAY), borrower, at + 1
    )
    assert error.revert is not None and error.revert.args["pastDue"] == sum(CURVE.part(1))
    system.send(fn.withdrawHoliday(loan_id), servicer, at=at + 2)
    system.reverts("NoHolidayProposal", fn.withdrawHoliday(loan_id), servicer, at + 3)


def test_forbearance_days_are_not_counted_and_accrue_nothing(system: LedgerDriver) -> None:
    borrower, servicer = system.accounts[1], system.admin
    start = system.day_end()
    paused_loan = system.originate(borrower, at=start)
    plain_loan = system.originate(borrower, at=start)
    fn = system.ledger.functions
    # Installment 1 is missed; 10 days after its due date the servicer pauses the clock for
    # 40 days (today included).
    at = start + PERIOD + 10 * DAY - 3600
    today = cal.local_day(at, 0)
    receipt = system.send(fn.forbear(paused_loan, today, today + 39), servicer, at=at)
    (granted,) = system.events(receipt, "ForbearanceGranted")
    assert (granted["fromDay"], granted["toDay"]) == (today, today + 39)
    (reported,) = system.events(receipt, "ForbearanceReported", system.registry)
    assert (reported["loanId"], reported["fromDay"]) == (paused_loan, today)
    assert system.record(borrower)["forbearances"] == 1
    charges = system.loan(paused_loan)
    # Inside the pause: days past due stay at the 9 days before it, nothing accrues, and
    # installment 2 (due during it) is not late.
    inside = start + 2 * PERIOD + 12 * DAY
    q_paused, q_plain = system.due(paused_loan, inside), system.due(plain_loan, inside)
    assert q_paused["daysPastDue"] == 9
    assert q_plain["daysPastDue"] == 30 + 12
    assert (q_paused["fees"], q_paused["penalty"]) == (charges["feesOwed"], _penalty(charges, at))
    assert q_plain["fees"] > q_paused["fees"] and q_plain["penalty"] > q_paused["penalty"]
    system.send(fn.assess(paused_loan), system.accounts[5], at=inside)
    assert system.loan(paused_loan)["installmentsAssessedLate"] == 1
    # After the pause: days past due are net of its 40 days; installment 2, due during it, is
    # late only once its grace period has passed after the pause's end.
    pause_end = cal.day_end(today + 39, 0)
    after = pause_end + 3 * DAY
    q_after = system.due(paused_loan, after)
    assert q_after["daysPastDue"] == 9 + 3  # 9 days before the pause, 3 after it
    assert system.loan(paused_loan)["installmentsAssessedLate"] == 1
    system.send(fn.assess(paused_loan), system.accounts[5], at=after)
    assert system.loan(paused_loan)["installmentsAssessedLate"] == 1  # grace still running
    system.send(fn.assess(paused_loan), system.accounts[5], at=pause_end + 5 * DAY + 1)
    assert system.loan(paused_loan)["installmentsAssessedLate"] == 2


def test_default_inside_grace_names_the_grace_end_net_of_paused_time(
    system: LedgerDriver,
) -> None:
    """A bug fixed: under forbearance DefaultInsideGrace named the due date plus grace, a
    second the servicer could not yet default at."""
    borrower, servicer = system.accounts[1], system.admin
    start = system.day_end()
    fn = system.ledger.functions
    due = start + PERIOD
    after, before = (
        system.originate(borrower, default_after_days=1, grace=5 * DAY, at=start) for _ in range(2)
    )
    # Paused and over before the due date: the grace ends as without a forbearance.
    early = cal.local_day(start + DAY, 0)
    system.send(fn.forbear(before, early, early + 2), servicer, at=start + DAY)
    # Paused for three dates starting two after the due date: the grace ends 3 days later.
    at = due + DAY - 3600
    today = cal.local_day(at, 0)
    system.send(fn.forbear(after, today + 1, today + 3), servicer, at=at)
    for loan_id, grace_end in ((before, due + 5 * DAY), (after, due + 8 * DAY)):
        failure = system.reverts("DefaultInsideGrace", fn.declareDefault(loan_id), at=grace_end)
        assert failure.revert is not None and failure.revert.args["graceEnds"] == grace_end
        system.send(fn.declareDefault(loan_id), servicer, at=grace_end + 1)
        assert system.loan(loan_id)["status"] == 1


def _penalty(view: dict[str, int], at: int) -> int:
    """Penalty owed as of the forbearance's checkpoint at ``at`` (accrued then, nothing
    since)."""
    assert view["lastAccrual"] == at
    return int(view["penaltyOwed"])


def test_forbearance_extend_end_and_refusals(system: LedgerDriver) -> None:
    borrower, servicer = system.accounts[1], system.admin
    start = system.day_end()
    loan_id = system.originate(borrower, at=start)
    fn = system.ledger.functions
    at = start + 5 * DAY - 12 * 3600
    today = cal.local_day(at, 0)
    error = system.reverts("InvalidForbearance", fn.forbear(loan_id, today - 1, today + 5), at=at)
    assert error.revert is not None
    assert error.revert.args == {"fromDay": today - 1, "toDay": today + 5, "today": today}
    system.reverts("InvalidForbearance", fn.forbear(loan_id, today + 3, today + 2), at=at + 1)
    at += 2
    system.send(fn.forbear(loan_id, today, today + 9), servicer, at=at)
    # Extended by naming its first date again: not a new forbearance for the registry.
    receipt = system.send(fn.forbear(loan_id, today, today + 19), servicer, at=at + DAY)
    assert system.events(receipt, "ForbearanceReported", system.registry) == []
    assert system.loan(loan_id)["forbearanceTo"] == today + 19
    # Another window while this one runs is refused; ending it early leaves yesterday last.
    system.reverts(
        "ForbearanceInEffect", fn.forbear(loan_id, today + 30, today + 40), at=at + 2 * DAY
    )
    receipt = system.send(fn.forbear(loan_id, today, today + 2), servicer, at=at + 3 * DAY)
    (ended,) = system.events(receipt, "ForbearanceEnded")
    assert ended["lastDay"] == today + 2
    view = system.loan(loan_id)
    assert (view["forbearanceFrom"], view["forbearanceTo"]) == (today, today + 2)
    assert system.record(borrower)["forbearances"] == 1
    # Nothing was due before it ended: a new one may be granted.
    system.send(fn.forbear(loan_id, today + 10, today + 12), servicer, at=at + 4 * DAY)
    assert system.record(borrower)["forbearances"] == 2
    system.reverts(
        "AccessControlUnauthorizedAccount", fn.forbear(loan_id, today + 10, today + 14), borrower
    )


def test_holiday_periods_mean_nothing_once_the_holiday_is_over(system: LedgerDriver) -> None:
    """The bug: a restructuring during a holiday left ``holidayPeriods`` behind, so paying
    ``a`` then ``b`` and paying ``a + b`` left different loan views (the invariant suite's
    split payments)."""
    borrower, servicer = system.accounts[1], system.admin
    start = system.day_end()
    loan_id = system.originate(borrower, at=start)
    fn = system.ledger.functions
    at = start + 10 * DAY
    system.send(fn.proposeHoliday(loan_id, 1, 3, at + DAY), servicer, at=at)
    system.send(fn.acceptHoliday(loan_id, 1, 3, at + DAY), borrower, at=at + 1)
    assert system.loan(loan_id)["holidayPeriods"] == 3
    system.send(fn.proposeRestructure(loan_id, 900, 12, PERIOD, at + 5 * DAY), servicer, at=at + 2)
    system.send(fn.acceptRestructure(loan_id, 900, 12, PERIOD, at + 5 * DAY), borrower, at=at + 3)
    view = system.loan(loan_id)
    assert (view["holidayPeriods"], view["advancePending"]) == (0, False)


def test_a_prepayment_right_after_a_holiday_pays_ahead_one_period(system: LedgerDriver) -> None:
    """The bug (found by the twin's property test): a prepayment in the call that ended a
    two-installment holiday's paid-ahead periods started a one-period advance but left
    ``holidayPeriods`` at 2, so its interest would have been earned over two periods."""
    borrower, servicer = system.accounts[1], system.admin
    start = system.day_end()
    loan_id = system.originate(borrower, at=start)
    fn = system.ledger.functions
    at = start + 10 * DAY
    system.send(fn.proposeHoliday(loan_id, 1, 2, at + DAY), servicer, at=at)
    system.send(fn.acceptHoliday(loan_id, 1, 2, at + DAY), borrower, at=at + 1)
    # A day after the holiday ends: installment 3's period runs; pay it and 1,000 more.
    t = start + 2 * PERIOD + DAY
    q = system.due(loan_id, t)
    system.repay(
        loan_id, q["currentInterest"] + q["currentPrincipal"] + 1_000 * UNIT, borrower, at=t
    )
    view = system.loan(loan_id)
    assert (view["advancePending"], view["holidayPeriods"]) == (True, 0)
