"""The monitor's notices at their exact boundaries, against a real Anvil and a real index."""

from __future__ import annotations

from pathlib import Path

import pytest
from web3.logs import DISCARD

from loanservicing.chain.node import mine
from loanservicing.monitoring.monitor import Monitor, MonitorConfig
from loanservicing.monitoring.notices import NoticeStore
from tests.support.ledger_driver import DAY, UNIT, LedgerDriver
from tests.support.monitoring import Watch


@pytest.fixture
def watch(system: LedgerDriver, tmp_path: Path) -> Watch:
    return Watch(system, tmp_path / "index.db")


def test_reminder_exactly_n_days_before_each_due_date(system: LedgerDriver, watch: Watch) -> None:
    s = system
    borrower = s.accounts[1]
    loan_id = s.originate(borrower)
    due1 = s.due_date(loan_id, 1)
    assert watch.kinds() == []
    assert watch.kinds(due1 - 3 * DAY - 1) == []
    notice = watch.raised(due1 - 3 * DAY)["reminder"]
    assert notice.id == f"reminder:{loan_id}:1:{due1}"
    assert notice.loan_id == loan_id and notice.borrower == borrower
    assert notice.due_timestamp == due1 and notice.decimals == 6
    assert notice.amount == s.installment_total(loan_id, 1)
    assert notice.chain_timestamp == due1 - 3 * DAY
    assert notice.days_past_due == 0
    # Raised once: later ticks, up to the due date itself, raise nothing new.
    assert watch.kinds(due1 - DAY) == []
    assert watch.kinds(due1) == []
    # Installment 1 paid on its due date: the next reminder comes 3 days before due 2.
    s.repay(loan_id, s.installment_total(loan_id, 1), borrower)
    assert watch.kinds() == ["payment_received"]
    due2 = s.due_date(loan_id, 2)
    assert watch.kinds(due2 - 3 * DAY - 1) == []
    assert watch.raised(due2 - 3 * DAY)["reminder"].id == f"reminder:{loan_id}:2:{due2}"


def test_reminder_days_are_configurable_and_paid_ahead_installments_get_none(
    system: LedgerDriver, tmp_path: Path
) -> None:
    s = system
    borrower = s.accounts[1]
    loan_id = s.originate(borrower)
    due1 = s.due_date(loan_id, 1)
    watch = Watch(s, tmp_path / "index.db", reminder_days=7)
    assert watch.kinds(due1 - 7 * DAY - 1) == []
    assert watch.kinds(due1 - 7 * DAY) == ["reminder"]
    # Installment 2 paid ten days ahead: no reminder for it.
    due2 = s.due_date(loan_id, 2)
    mine(s.w3, due1 + DAY)
    s.repay(loan_id, s.installment_total(loan_id, 1), borrower)
    watch.tick(due2 - 10 * DAY)
    s.repay(loan_id, s.installment_total(loan_id, 2), borrower)
    assert watch.kinds() == ["payment_received"]
    assert watch.kinds(due2 - 7 * DAY) == []
    assert watch.kinds(due2) == []


def test_overdue_one_second_after_due_plus_grace(system: LedgerDriver, watch: Watch) -> None:
    s = system
    loan_id = s.originate(s.accounts[2], grace=5 * DAY)
    due1 = s.due_date(loan_id, 1)
    watch.tick(due1 - 3 * DAY)
    assert watch.kinds(due1 + 1) == ["bucket_changed"]  # late, but within the grace period
    assert watch.kinds(due1 + 5 * DAY) == []
    notice = watch.raised(due1 + 5 * DAY + 1)["overdue"]
    assert notice.id == f"overdue:{loan_id}:1:{due1}"
    assert notice.amount == s.installment_total(loan_id, 1)
    assert notice.due_timestamp == due1
    assert notice.days_past_due == 6 == s.view("daysPastDue", loan_id)
    assert watch.kinds() == []
    # Installment 2 also unpaid after its grace: its own notice, installment 1's not again.
    due2 = s.due_date(loan_id, 2)
    assert watch.kinds(due2 + 5 * DAY) == ["bucket_changed"]  # 35 days: 31-60
    raised = watch.tick(due2 + 5 * DAY + 1).raised
    assert [n.id for n in raised if n.kind == "overdue"] == [f"overdue:{loan_id}:2:{due2}"]


def test_bucket_changes_and_default_eligible_at_the_threshold(
    system: LedgerDriver, watch: Watch
) -> None:
    s = system
    loan_id = s.originate(s.accounts[3], default_after_days=40, grace=0)
    due1 = s.due_date(loan_id, 1)
    assert watch.kinds(due1) == ["reminder"]  # the due date itself is not late
    first = watch.tick(due1 + 1).raised  # one second late = one day past due
    assert [n.kind for n in first] == ["overdue", "bucket_changed"]
    bucket = first[1]
    assert bucket.id == f"bucket_changed:{loan_id}:1:{due1}"
    assert bucket.details["from_bucket"] == "current" and bucket.details["to_bucket"] == "1-30"
    assert bucket.days_past_due == 1 and bucket.due_timestamp == due1
    assert "bucket_changed" not in watch.kinds(due1 + 30 * DAY)  # 30 days: still 1-30
    second = watch.raised(due1 + 30 * DAY + 1)["bucket_changed"]  # 31 days: 31-60
    assert second.details == {
        "from_bucket": "1-30",
        "to_bucket": "31-60",
        "recorded_bucket": "current",
    }
    assert s.view("daysPastDue", loan_id) == 31
    assert "default_eligible" not in watch.kinds(due1 + 39 * DAY)  # 39 days
    eligible = watch.raised(due1 + 39 * DAY + 1)["default_eligible"]  # 40 days
    assert eligible.id == f"default_eligible:{loan_id}:{due1}"
    assert eligible.days_past_due == 40 == s.view("daysPastDue", loan_id)
    assert eligible.details["default_after_days"] == 40
    assert {"bucket_changed", "default_eligible"}.isdisjoint(watch.kinds(due1 + 45 * DAY))
    # Declared in default: one `defaulted` notice, then nothing time-driven any more.
    s.send(s.ledger.functions.declareDefault(loan_id))
    assert watch.kinds() == ["defaulted"]
    assert watch.kinds(due1 + 200 * DAY) == []


def test_payment_restructure_and_closing_notices(system: LedgerDriver, watch: Watch) -> None:
    s = system
    borrower = s.accounts[4]
    loan_id = s.originate(borrower, principal=3_000 * UNIT, installments=3)
    due1 = s.due_date(loan_id, 1)
    watch.tick()
    mine(s.w3, due1 + 10 * DAY)
    receipt = s.repay(loan_id, 500 * UNIT, borrower)["receipt"]
    raised = watch.tick().raised
    payment = next(n for n in raised if n.kind == "payment_received")
    event = s.ledger.events.RepaymentApplied().process_receipt(receipt, errors=DISCARD)[0]["args"]
    assert payment.amount == 500 * UNIT
    assert payment.id == f"payment_received:{loan_id}:{receipt['transactionHash'].to_0x_hex()}:0"
    for key in ("fees", "penalty", "interest", "principal"):
        assert payment.details[key] == event[key]
    assert payment.details["fees"] > 0  # paid after the grace period: a late fee came first
    assert payment.block == receipt["blockNumber"]
    # Restructure, then pay everything off.
    deadline = s.now() + 5 * DAY
    s.send(s.ledger.functions.proposeRestructure(loan_id, 600, 6, 30 * DAY, deadline))
    s.send(s.ledger.functions.acceptRestructure(loan_id, 600, 6, 30 * DAY, deadline), borrower)
    kinds = watch.kinds()
    assert kinds == ["restructured"]
    payoff = int(s.view("payoffAmount", loan_id))
    s.repay(loan_id, payoff + UNIT, borrower)
    raised = watch.tick().raised
    assert [n.kind for n in raised] == ["payment_received", "closed"]
    closed = raised[1]
    assert closed.id == f"closed:{loan_id}" and closed.details["after_default"] is False
    assert watch.kinds(s.now() + 400 * DAY) == []


def test_repeated_ticks_and_a_restarted_monitor_raise_nothing_twice(
    system: LedgerDriver, watch: Watch, tmp_path: Path
) -> None:
    s = system
    loans = [s.originate(s.accounts[5 + i % 3]) for i in range(3)]
    s.repay(loans[0], 100 * UNIT, s.accounts[5])
    due1 = s.due_date(loans[0], 1)
    first = watch.tick(due1 + 40 * DAY).raised
    assert len(first) == len({n.id for n in first})
    assert {n.kind for n in first} == {"payment_received", "overdue", "bucket_changed"}
    for _ in range(3):
        assert watch.tick().raised == []
    # A new process on the same file: nothing new either.
    again = Monitor(watch.indexer.db, MonitorConfig())
    block = s.w3.eth.get_block("latest")
    assert again.tick(int(block["timestamp"]), int(block["number"])).raised == []
    store = NoticeStore(watch.indexer.db)
    stored = store.notices()
    assert [n.id for n in stored] == [n.id for n in first]
    assert store.counts()["overdue"] == 3 * 2  # installments 1 and 2 of each loan


def test_a_payment_notice_carries_the_days_past_due_when_it_was_made(
    system: LedgerDriver, watch: Watch
) -> None:
    """A bug fixed: the notice carried the days past due at the tick that raised it."""
    s = system
    borrower = s.accounts[3]
    loan_id = s.originate(borrower)
    due1 = s.due_date(loan_id, 1)
    watch.tick()
    mine(s.w3, due1 + 10 * DAY - 100)
    s.repay(loan_id, 100 * UNIT, borrower)  # a part: installment 1 stays past due
    raised = watch.tick(due1 + 25 * DAY).raised
    payment = next(n for n in raised if n.kind == "payment_received")
    assert payment.days_past_due == 10
    overdue = next(n for n in raised if n.kind == "overdue")
    assert overdue.days_past_due == 25
    stored = watch.indexer.db.conn.execute(
        "SELECT days_past_due FROM payments WHERE loan_id = ?", (loan_id,)
    ).fetchall()
    assert [r[0] for r in stored] == [10]
