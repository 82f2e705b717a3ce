"""The collections queue (:mod:`loanservicing.monitoring.collections`) over an index of the
session chain: one loan walked through every next step, each checked against what the ledger
itself then does (``assess`` records a miss, ``declareDefault`` is accepted), and the order
of the queue."""

from __future__ import annotations

from pathlib import Path

from loanservicing.ledger.schedule import DAY
from loanservicing.monitoring.collections import (
    ASSESS,
    CALL,
    DEFAULT_ELIGIBLE,
    REMINDER,
    CollectionItem,
    collections_queue,
)
from loanservicing.portal.chain_clock import index_clock
from tests.portal.conftest import make_indexer
from tests.support.ledger_driver import UNIT, LedgerDriver


def _queue(system: LedgerDriver, db_path: Path) -> list[CollectionItem]:
    indexer = make_indexer(system, db_path)
    indexer.sync()
    now, _ = index_clock(indexer.db)
    assert now == system.now()
    queue = collections_queue(indexer.db, now)
    indexer.db.close()
    return queue


def test_next_steps_follow_the_ledger(system: LedgerDriver, tmp_path: Path) -> None:
    borrower = system.accounts[1]
    t0 = system.now() + 10
    loan = system.originate(borrower, principal=3_000 * UNIT, at=t0, default_after_days=20)
    due = t0 + 30 * DAY
    db = tmp_path / "index.db"
    system.mine_at(due - 1)
    assert _queue(system, db) == []  # nothing past due yet
    system.mine_at(due + 2 * DAY)  # inside the 5-day grace period
    (item,) = _queue(system, db)
    assert item.next_step == REMINDER and item.loan.days_past_due == 2
    assert item.last_payment is None
    # A partial payment inside grace: still a reminder, with the payment as the last one.
    paid = system.repay(loan, 100 * UNIT, borrower, at=due + 2 * DAY + 60)
    (item,) = _queue(system, db)
    assert item.next_step == REMINDER
    assert item.last_payment is not None and item.last_payment.amount == 100 * UNIT
    assert item.last_payment.tx_hash == paid["receipt"]["transactionHash"].to_0x_hex()
    system.mine_at(due + 6 * DAY)  # past grace, the miss not recorded: assess
    (item,) = _queue(system, db)
    assert item.next_step == ASSESS
    receipt = system.send(system.ledger.functions.assess(loan), at=due + 6 * DAY + 1)
    assert system.events(receipt, "ChargesAccrued")[0]["missed"] == 1
    (item,) = _queue(system, db)
    assert item.next_step == CALL
    system.reverts("DefaultThresholdNotReached", system.ledger.functions.declareDefault(loan))
    system.mine_at(due + 20 * DAY)
    (item,) = _queue(system, db)
    assert item.next_step == DEFAULT_ELIGIBLE and item.loan.days_past_due == 20
    system.send(system.ledger.functions.declareDefault(loan), at=due + 20 * DAY + 1)
    assert _queue(system, db) == []  # defaulted: out of the collections queue


def test_the_queue_is_ordered_by_days_then_amount_then_id(
    system: LedgerDriver, tmp_path: Path
) -> None:
    a = system.accounts
    t0 = system.now() + 10
    small = system.originate(a[1], principal=1_000 * UNIT, at=t0)
    large = system.originate(a[2], principal=9_000 * UNIT, at=t0)
    twin = system.originate(a[3], principal=1_000 * UNIT, at=t0)
    newer = system.originate(a[4], principal=50_000 * UNIT, at=t0 + 3 * DAY)
    system.mine_at(t0 + 40 * DAY)
    queue = _queue(system, tmp_path / "index.db")
    assert [i.loan.loan_id for i in queue] == [large, small, twin, newer]
    assert [i.loan.days_past_due for i in queue] == [10, 10, 10, 7]
    for item in queue:
        assert item.loan.past_due == system.due(item.loan.loan_id, t0 + 40 * DAY)["pastDue"]
