"""The monitor around payment holidays and forbearance: their events raise notices, nothing is
reminded or overdue for skipped installments, and an installment due during a forbearance is
overdue only once its grace period has passed after the forbearance."""

from __future__ import annotations

from pathlib import Path

import pytest

from loanservicing.chain.node import mine
from loanservicing.ledger import calendar as cal
from loanservicing.monitoring.notices import NoticeStore
from tests.support.ledger_driver import DAY, LedgerDriver
from tests.support.monitoring import Watch

PERIOD = 30 * DAY


@pytest.fixture
def watch(system: LedgerDriver, tmp_path: Path) -> Watch:
    return Watch(system, tmp_path / "index.db")


def test_a_holiday_raises_its_notice_and_skips_reminders(
    system: LedgerDriver, watch: Watch
) -> None:
    s = system
    borrower = s.accounts[1]
    loan_id = s.originate(borrower)
    due1 = s.due_date(loan_id, 1)
    watch.tick()
    mine(s.w3, due1 - DAY)
    s.repay(loan_id, s.installment_total(loan_id, 1), borrower)
    # A day into installment 2's period the borrower accepts a holiday of installments 2-3.
    mine(s.w3, due1 + DAY)
    deadline = s.now() + 5 * DAY
    s.send(s.ledger.functions.proposeHoliday(loan_id, 2, 2, deadline))
    s.send(s.ledger.functions.acceptHoliday(loan_id, 2, 2, deadline), borrower)
    notice = watch.raised()["holiday_granted"]
    assert notice.details["from_installment"] == 2 and notice.details["through_installment"] == 3
    assert notice.amount > 0  # the interest capitalised
    # A bug fixed: the store's counts (the demo's table, `monitor notices`) left it out.
    assert NoticeStore(watch.indexer.db).counts()["holiday_granted"] == 1
    # No reminder or overdue notice for the skipped installments' old dates.
    old_due2, old_due3 = due1 + PERIOD, due1 + 2 * PERIOD
    for t in (old_due2 - 3 * DAY, old_due2 + 6 * DAY, old_due3 + 6 * DAY):
        assert [k for k in watch.kinds(t) if k in ("reminder", "overdue")] == []
    due4 = s.due_date(loan_id, 4)
    assert due4 == due1 + 3 * PERIOD
    assert watch.raised(due4 - 3 * DAY)["reminder"].details["installment"] == 4


def test_forbearance_pauses_overdue_notices(system: LedgerDriver, watch: Watch) -> None:
    s = system
    borrower = s.accounts[2]
    loan_id = s.originate(borrower, grace=5 * DAY)
    due1 = s.due_date(loan_id, 1)
    watch.tick()
    # Installment 1 unpaid; 2 days after its due date the servicer pauses for 50 days.
    at = due1 + 2 * DAY - 3600
    mine(s.w3, at)
    today = cal.local_day(at + 1, 0)
    s.send(s.ledger.functions.forbear(loan_id, today, today + 49))
    raised = watch.raised()
    assert raised["forbearance_granted"].details["from_date"] == cal.date_of_day(today).isoformat()
    # Inside the pause: installment 1's grace never ends, installment 2 is never overdue.
    due2 = s.due_date(loan_id, 2)
    assert "overdue" not in watch.kinds(due1 + 6 * DAY)
    assert "overdue" not in watch.kinds(due2 + 6 * DAY)
    # After it: each is overdue once its grace has passed in unpaused time: installment 1
    # (due before the pause) 55 days after its due date, installment 2 (due during it) 5 days
    # after the pause's end.
    pause_end = cal.day_end(today + 49, 0)
    assert pause_end == due1 + 51 * DAY
    assert "overdue" not in watch.kinds(pause_end + 4 * DAY)
    (first,) = [n for n in watch.tick(pause_end + 4 * DAY + 1).raised if n.kind == "overdue"]
    assert first.details["installment"] == 1
    assert first.days_past_due == s.view("daysPastDue", loan_id) == 55 - 50 + 1
    assert "overdue" not in watch.kinds(pause_end + 5 * DAY)
    (second,) = [n for n in watch.tick(pause_end + 5 * DAY + 1).raised if n.kind == "overdue"]
    assert second.details["installment"] == 2
