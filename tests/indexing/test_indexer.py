"""The indexer against a real Anvil: sync, idempotence, state rebuilt from events, verify."""

from __future__ import annotations

from pathlib import Path

import pytest

from loanservicing.indexing.verify import verify_index
from loanservicing.ledger import calendar as cal
from loanservicing.ledger.accounting import amount_due
from loanservicing.ledger.schedule import ScheduleKind
from loanservicing.ledger.state import LoanStatus
from tests.support.indexing import make_indexer, open_index
from tests.support.ledger_driver import DAY, UNIT, LedgerDriver


def _history(s: LedgerDriver) -> list[int]:
    """A little of everything: on-time, late, partial, prepayment, default, restructure."""
    borrower, other = s.accounts[1], s.accounts[2]
    t0 = s.now() + 10
    a = s.originate(borrower, at=t0)
    b = s.originate(other, kind=ScheduleKind.EQUAL_PRINCIPAL, principal=5_000 * UNIT, at=t0 + 5)
    c = s.originate(borrower, kind=ScheduleKind.BULLET, installments=6, at=t0 + 10)
    d = s.originate(other, installments=4, default_after_days=30, at=t0 + 15)
    s.repay(a, 1_066 * UNIT, borrower, at=t0 + 29 * DAY)  # on time, ~one installment
    s.repay(b, 100 * UNIT, other, at=t0 + 40 * DAY)  # partial and late
    s.repay(c, 3_000 * UNIT, borrower, at=t0 + 41 * DAY)  # late, with a prepayment
    s.send(s.ledger.functions.assess(d), at=t0 + 50 * DAY)
    s.send(s.ledger.functions.assess(b), at=t0 + 70 * DAY)
    # A proposal for d, dropped by its default; one for b, withdrawn.
    s.send(
        s.ledger.functions.proposeRestructure(d, 500, 6, 30 * DAY, t0 + 99 * DAY), at=t0 + 75 * DAY
    )
    s.send(s.ledger.functions.declareDefault(d), at=t0 + 80 * DAY)
    s.send(
        s.ledger.functions.proposeRestructure(b, 500, 6, 30 * DAY, t0 + 99 * DAY),
        at=t0 + 80 * DAY + 1,
    )
    s.send(s.ledger.functions.withdrawRestructure(b), at=t0 + 80 * DAY + 2)
    s.repay(d, 500 * UNIT, other, at=t0 + 81 * DAY)  # a recovery
    terms = (900, 18, 30 * DAY, t0 + 120 * DAY)
    s.send(s.ledger.functions.proposeRestructure(a, *terms), at=t0 + 90 * DAY)
    s.send(s.ledger.functions.acceptRestructure(a, *terms), borrower, at=t0 + 95 * DAY)
    s.repay(a, 2_000 * UNIT, borrower, at=t0 + 100 * DAY)
    s.repay(c, 10**12 * UNIT, borrower, at=t0 + 101 * DAY)  # pays off
    return [a, b, c, d]


def test_sync_rebuilds_every_loan_and_credit_record(
    system: LedgerDriver, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    loans = _history(system)
    indexer = make_indexer(system, tmp_path / "index.db")
    report = indexer.sync()
    assert not [r for r in caplog.records if r.levelname == "ERROR"]  # every replay matched
    assert report.end_block == system.w3.eth.block_number
    assert report.logs > 30
    result = verify_index(indexer.db, system.rpc_url, system.abis())
    assert result.differences == []
    assert result.loans == len(loans)
    assert result.borrowers == 2
    states = indexer.db.loans()
    assert states[loans[2]].status is LoanStatus.CLOSED
    assert states[loans[3]].status is LoanStatus.DEFAULTED
    assert states[loans[0]].base_index > 0  # restructured
    assert states[loans[1]].proposal_deadline == states[loans[3]].proposal_deadline == 0
    # The Python amount due equals the ledger's, now and later.
    now = system.now()
    for loan_id in loans:
        for t in (now, now + 3 * DAY, now + 45 * DAY, now + 400 * DAY):
            chain = system.ledger.functions.amountDue(loan_id, t).call()
            assert amount_due(states[loan_id], t).as_tuple() == tuple(chain), (loan_id, t)


def test_calendar_loans_replay_and_verify(system: LedgerDriver, tmp_path: Path) -> None:
    """Loans due in calendar months (30/360, cents, an odd first period, interest-only
    installments, an offset) and weekly (act/360) through on-time and late payments, a
    prepayment and a restructuring: the index rebuilds each, `index verify` finds nothing, and
    the twin's amounts due equal the ledger's, by the second and across month ends."""
    s = system
    borrower = s.accounts[4]
    t0 = s.day_end() + 3600  # 01:00 UTC
    offset = 8 * 3600
    today = cal.local_day(t0, offset)
    month = cal.month_of(today)
    first = cal.day_in_month(month + 1, 31)  # the end of next month: a long first period
    monthly = s.originate(borrower, period=0, first_due=cal.day_end(first, offset), months=1,
                          day_count=2, utc_offset=480, interest_only=2, rounding_exp=4,
                          at=t0)  # fmt: skip
    weekly = s.originate(borrower, kind=ScheduleKind.EQUAL_PRINCIPAL, period=7 * DAY,
                         first_due=t0 + 10 * DAY, day_count=1, rounding_exp=4,
                         installments=20, at=t0 + 1)  # fmt: skip
    for n in (1, 2, 3):
        s.repay(weekly, s.installment_total(weekly, n), borrower, at=s.due_date(weekly, n))
    due1 = s.due_date(monthly, 1)
    s.repay(monthly, s.installment_total(monthly, 1), borrower, at=due1)  # on time
    late = s.due_date(monthly, 2) + 7 * DAY  # past grace: charges, a miss
    s.repay(monthly, s.due(monthly, late)["pastDue"] + 3_000 * UNIT, borrower, at=late)
    terms = (700, 24, 0, late + 10 * DAY)
    s.send(s.ledger.functions.proposeRestructure(monthly, *terms), at=late + DAY)
    s.send(s.ledger.functions.acceptRestructure(monthly, *terms), borrower, at=late + 2 * DAY)
    indexer = make_indexer(s, tmp_path / "calendar.db")
    indexer.sync()
    assert verify_index(indexer.db, s.rpc_url, s.abis()).differences == []
    states = indexer.db.loans()
    assert states[monthly].months == 1 and states[monthly].anchor_day == cal.anchor_of(
        cal.local_day(late + 2 * DAY, offset)
    )
    now = s.now()
    for loan_id in (monthly, weekly):
        for t in (now, now + DAY, now + 31 * DAY, now + 65 * DAY, now + 400 * DAY):
            chain = s.ledger.functions.amountDue(loan_id, t).call()
            assert amount_due(states[loan_id], t).as_tuple() == tuple(chain), (loan_id, t)


def test_resync_is_idempotent_and_incremental(system: LedgerDriver, tmp_path: Path) -> None:
    borrower = system.accounts[3]
    loan_id = system.originate(borrower)
    path = tmp_path / "index.db"
    first = make_indexer(system, path)
    first.sync()
    before = first.db.dump()
    assert first.sync().logs == 0
    assert first.db.dump() == before
    first.db.close()
    system.repay(loan_id, 500 * UNIT, borrower)
    second = make_indexer(system, path)  # a new process would do the same
    report = second.sync()
    assert report.logs == 2  # RepaymentApplied + RepaymentReported
    payments = second.db.conn.execute("SELECT COUNT(*) FROM payments").fetchone()[0]
    assert payments == 1
    assert verify_index(second.db, system.rpc_url, system.abis()).differences == []


def test_small_ranges_give_the_same_database(system: LedgerDriver, tmp_path: Path) -> None:
    _history(system)
    big = make_indexer(system, tmp_path / "big.db")
    big.sync()
    small = make_indexer(system, tmp_path / "small.db", initial_range=1, max_range=3)
    report = small.sync()
    assert report.ranges > 10
    assert small.db.dump() == big.db.dump()


def test_a_forked_replay_gives_the_same_database(system: LedgerDriver, tmp_path: Path) -> None:
    _history(system)
    here = make_indexer(system, tmp_path / "here.db")
    here.projections.parallel = False
    here.sync()
    forked = make_indexer(system, tmp_path / "forked.db")
    forked.projections.fork_logs = 1  # every range's replay in a forked child
    forked.sync()
    assert forked.projections.forked_folds >= 1
    assert forked.db.dump() == here.db.dump()
    # The states cached from the child's results go on from where the child left them.
    system.repay(1, 50 * UNIT, system.accounts[1], at=system.now() + DAY)
    here.sync()
    forked.sync()
    assert forked.db.dump() == here.db.dump()


def test_a_forked_replay_that_fails_is_replayed_here(
    system: LedgerDriver,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _history(system)
    here = make_indexer(system, tmp_path / "here.db")
    here.projections.parallel = False
    here.sync()
    forked = make_indexer(system, tmp_path / "forked.db")
    forked.projections.fork_logs = 1

    def broken(fed: object) -> None:
        raise RuntimeError("the replay broke in the child")

    monkeypatch.setattr(forked.projections, "_fold_fed", broken)
    forked.sync()
    assert forked.projections.forked_folds == 0
    assert "RuntimeError: the replay broke in the child" in caplog.text
    assert forked.db.dump() == here.db.dump()


def test_verify_reports_a_difference(system: LedgerDriver, tmp_path: Path) -> None:
    borrower = system.accounts[4]
    loan_id = system.originate(borrower)
    indexer = make_indexer(system, tmp_path / "index.db")
    indexer.sync()
    indexer.db.conn.execute("UPDATE loans SET paid_count = 3 WHERE loan_id = ?", (loan_id,))
    result = verify_index(open_index(tmp_path / "index.db"), system.rpc_url, system.abis())
    assert [(d.key, d.field, d.index_value, d.chain_value) for d in result.differences] == [
        (str(loan_id), "installmentsPaid", 3, 0)
    ]


def test_a_database_of_another_deployment_is_refused(system: LedgerDriver, tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    make_indexer(system, path).sync()
    other = make_indexer(system, path, from_block=system.block + 1)
    with pytest.raises(Exception, match="was built with from_block"):
        other.sync()


def test_closing_repayments_through_either_ledger_path(
    system: LedgerDriver, tmp_path: Path
) -> None:
    """A current loan's last installment paid with exactly the payoff (the ledger's fast path)
    or with more (the general path) emits the same events and leaves the same state, so the
    events alone rebuild both. (Bug fixed: the general path used to bring the lateness
    bookkeeping current although nothing unpaid was late, which the events could not show.)"""
    s = system
    borrower = s.accounts[8]
    t0 = s.now() + 10
    exact = s.originate(borrower, installments=2, grace=0, at=t0)
    over = s.originate(borrower, installments=2, grace=0, at=t0 + 1)
    for loan_id, offset in ((exact, 2), (over, 3)):
        first = s.ledger.functions.installment(loan_id, 1).call()
        s.repay(loan_id, first[1] + first[2], borrower, at=t0 + 20 * DAY + offset)
    t1 = t0 + 40 * DAY
    payoff_exact = s.ledger.functions.amountDue(exact, t1).call()[8]
    s.repay(exact, payoff_exact, borrower, at=t1)
    payoff_over = s.ledger.functions.amountDue(over, t1 + 1).call()[8]
    s.repay(over, payoff_over + 5 * UNIT, borrower, at=t1 + 1)
    views = {loan_id: s.loan(loan_id) for loan_id in (exact, over)}
    # (lastAccrual is each loan's origination time, a second apart.)
    for field in ("installmentsAssessedLate", "installmentsPaid", "status"):
        assert views[exact][field] == views[over][field], field
    indexer = make_indexer(s, tmp_path / "index.db")
    indexer.sync()
    assert verify_index(indexer.db, s.rpc_url, s.abis()).differences == []


def test_an_assess_without_events_is_explained_not_a_difference(
    system: LedgerDriver, tmp_path: Path
) -> None:
    """An interest-free bullet's first installments schedule nothing: an ``assess`` after the
    first due date that would only settle one stores nothing (bug fixed: it used to store that
    without an event, which the events alone could not show)."""
    s = system
    borrower = s.accounts[6]
    t0 = s.now() + 10
    loan_id = s.originate(borrower, kind=ScheduleKind.BULLET, apr_bps=0, installments=3, at=t0)
    receipt = s.send(s.ledger.functions.assess(loan_id), at=t0 + 31 * DAY)
    assert receipt["logs"] == []
    assert s.loan(loan_id)["installmentsPaid"] == 0
    indexer = make_indexer(s, tmp_path / "index.db")
    indexer.sync()
    assert [d.sentence() for d in verify_index(indexer.db, s.rpc_url, s.abis()).differences] == []
    # The next call settles installment 1 (nothing due) and, as a prepayment, the running
    # installment 2 too; the replay follows.
    s.repay(loan_id, 1_000 * UNIT, borrower, at=t0 + 32 * DAY)
    indexer.sync()
    assert indexer.db.loans()[loan_id].paid_count == s.loan(loan_id)["installmentsPaid"] == 2
    assert verify_index(indexer.db, s.rpc_url, s.abis()).differences == []


def test_holidays_and_forbearance_replay_and_verify(system: LedgerDriver, tmp_path: Path) -> None:
    """A monthly 30/360 loan in cents given a holiday from its first installment (the odd first
    period's interest capitalised), later a second holiday and a payoff during it, and a plain
    loan in forbearance, extended, ended early, with a late payment after it: the index
    rebuilds each (proposals withdrawn and replaced included), `index verify` finds nothing,
    and the twin's amounts due equal the ledger's by the second, inside and after the
    windows."""
    s = system
    fn = s.ledger.functions
    borrower = s.accounts[5]
    t0 = s.day_end() + 3600
    first = cal.day_in_month(cal.month_of(cal.local_day(t0, 0)) + 2, 1)
    monthly = s.originate(borrower, period=0, first_due=cal.day_end(first, 0), months=1,
                          day_count=2, rounding_exp=4, interest_only=2, at=t0)  # fmt: skip
    plain = s.originate(borrower, at=t0 + 1)
    s.send(fn.proposeHoliday(monthly, 1, 1, t0 + 5 * DAY), at=t0 + 2)
    s.send(fn.withdrawHoliday(monthly), at=t0 + 3)
    s.send(fn.proposeHoliday(monthly, 1, 2, t0 + 5 * DAY), at=t0 + 4)
    s.send(fn.acceptHoliday(monthly, 1, 2, t0 + 5 * DAY), borrower, at=t0 + DAY)
    # The plain loan misses installment 1, then a 40-day forbearance, extended, ended early.
    due1 = s.due_date(plain, 1)
    at = due1 + 3 * DAY
    today = cal.local_day(at, 0)
    s.send(fn.forbear(plain, today, today + 39), at=at)
    s.send(fn.forbear(plain, today, today + 59), at=at + DAY)
    s.send(fn.assess(plain), s.accounts[6], at=at + 20 * DAY)
    s.send(fn.forbear(plain, today, today + 29), at=at + 30 * DAY)
    s.repay(plain, s.due(plain, at + 31 * DAY)["pastDue"], borrower, at=at + 31 * DAY)
    # The monthly loan pays its first installment after the holiday, then pays off.
    after = s.due_date(monthly, 3)
    s.repay(monthly, s.installment_total(monthly, 3), borrower, at=after)
    indexer = make_indexer(s, tmp_path / "relief.db")
    indexer.sync()
    assert verify_index(indexer.db, s.rpc_url, s.abis()).differences == []
    states = indexer.db.loans()
    assert states[monthly].installments == 14 and states[plain].pause_to == today + 29
    assert indexer.db.credit_records()[borrower].forbearances == 1
    now = s.now()
    for loan_id in (monthly, plain):
        for t in (now, now + DAY, now + 31 * DAY, now + 65 * DAY, now + 400 * DAY):
            chain = s.ledger.functions.amountDue(loan_id, t).call()
            assert amount_due(states[loan_id], t).as_tuple() == tuple(chain), (loan_id, t)
    # A second holiday on the monthly loan, and a payoff during it: the index follows.
    t1 = s.now() + DAY
    nxt = s.due(monthly, t1)["nextInstallment"]
    s.send(fn.proposeHoliday(monthly, nxt, 3, t1 + DAY), at=t1)
    s.send(fn.acceptHoliday(monthly, nxt, 3, t1 + DAY), borrower, at=t1 + 1)
    payoff = s.due(monthly, t1 + 20 * DAY)["payoff"]
    s.repay(monthly, payoff, borrower, at=t1 + 20 * DAY)
    indexer.sync()
    assert verify_index(indexer.db, s.rpc_url, s.abis()).differences == []
    assert indexer.db.loans()[monthly].status.label == "closed"
