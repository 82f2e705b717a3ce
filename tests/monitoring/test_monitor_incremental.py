"""The incremental tick raises exactly what a full evaluation raises: random books serviced by
the ledger's Python twin (repayments, assessments, forbearance, payment holidays,
restructurings, defaults), random clock jumps, on both stores; and it falls back to a full
evaluation when the index rolls back."""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loanservicing.ledger.schedule import DAY
from loanservicing.monitoring.monitor import Monitor, MonitorConfig
from tests.support.indexing import open_index
from tests.support.monitoring import MonitorTwins, TwinBook

JUMPS = (
    1,
    3_600,
    6 * 3_600,
    12 * 3_600,
    DAY - 1,
    DAY,
    DAY,
    DAY + 1,
    3 * DAY,
    7 * DAY,
    29 * DAY,
    95 * DAY,
)

_examples = iter(range(10**9))


def _twins(tmp_path: Path, reminder_days: int = 3) -> tuple[TwinBook, MonitorTwins, int]:
    n = next(_examples)
    fast, slow = open_index(tmp_path / f"fast{n}.db"), open_index(tmp_path / f"slow{n}.db")
    return TwinBook([fast, slow], random.Random(n)), MonitorTwins(fast, slow, reminder_days), n


def _history(book: TwinBook, twins: MonitorTwins, rng: random.Random, steps: int) -> int:
    """Random days of servicing, each ending in a tick of both monitors; returns the notices."""
    raised = 0
    for _ in range(steps):
        if rng.random() < 0.25:
            book.originate(rng.randrange(1, 4))
        active = list(book.states)
        if active and rng.random() < 0.6:
            book.act(rng.sample(active, k=min(len(active), rng.randrange(1, 4))))
        book.advance(rng.choice(JUMPS))
        raised += len(twins.tick(book.now, book.block)[0])
    return raised


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 2**32 - 1), steps=st.integers(5, 30), reminder=st.sampled_from([1, 3, 10])
)
def test_incremental_ticks_raise_what_full_evaluations_raise(
    tmp_path: Path, seed: int, steps: int, reminder: int
) -> None:
    book, twins, _ = _twins(tmp_path, reminder)
    try:
        book.originate(random.Random(seed).randrange(1, 6))
        _history(book, twins, random.Random(seed), steps)
        assert twins.incremental_ticks == steps - 1  # only the first tick was a full one
    finally:  # one example's connections closed before the next opens its own
        for db in book.dbs:
            db.close()


def test_a_long_history_raises_every_kind_and_the_same_notices(tmp_path: Path) -> None:
    book, twins, _ = _twins(tmp_path)
    rng = random.Random(7)
    book.originate(12)
    raised = _history(book, twins, rng, 120)
    kinds = {n.kind for n in twins.full.store.notices()}
    assert {
        "reminder",
        "overdue",
        "bucket_changed",
        "default_eligible",
        "payment_received",
    } <= kinds
    assert raised == len(twins.full.store.notices()) > 50
    # The incremental monitor evaluated far fewer loans than the full one did.
    assert twins.evaluated["incremental"] * 2 < twins.evaluated["full"]


def test_a_quiet_tick_evaluates_no_loan(tmp_path: Path) -> None:
    book, twins, _ = _twins(tmp_path)
    book.originate(5)
    twins.tick(book.now, book.block)  # the first: full, builds the deadline index
    book.advance(60)
    _, report = twins.tick(book.now, book.block)
    assert report.incremental and report.evaluated == 0 and report.loans == 5
    soonest = min(twins.incremental.store.deadlines().values())
    book.advance(soonest - book.now)
    _, report = twins.tick(book.now, book.block)
    assert report.incremental and report.evaluated >= 1


def test_a_rolled_back_index_falls_back_to_a_full_evaluation(tmp_path: Path) -> None:
    book, twins, _ = _twins(tmp_path)
    rng = random.Random(11)
    book.originate(6)
    _history(book, twins, rng, 10)
    kept = book.block
    saved = {i: s for i, s in book.states.items()}
    # Later blocks: payments and days, which the index then rolls back.
    _history(book, twins, rng, 5)
    for db in (twins.incremental.db, twins.full.db):
        with db.transaction():
            db.rollback_above(kept)
            db.save_loans(saved.values(), kept)
    book.states = saved
    book.block = kept + 100  # the new chain's blocks
    book.act(list(saved))
    book.advance(DAY)
    _, report = twins.tick(book.now, book.block)
    assert not report.incremental  # the evaluation saw the rollback
    _, report = twins.tick(book.now + DAY, book.block)
    assert report.incremental


def test_changing_the_reminder_window_rebuilds_the_deadline_index(tmp_path: Path) -> None:
    book, twins, _ = _twins(tmp_path)
    book.originate(4)
    twins.tick(book.now, book.block)
    db = twins.incremental.db
    wider = Monitor(db, MonitorConfig(reminder_days=10))
    book.advance(DAY)
    assert not wider.tick(book.now, book.block).incremental
    assert wider.tick(book.now + 60, book.block).incremental


def test_a_full_tick_invalidates_the_deadline_index(tmp_path: Path) -> None:
    book, twins, _ = _twins(tmp_path)
    book.originate(4)
    twins.tick(book.now, book.block)
    db = twins.incremental.db
    Monitor(db, incremental=False).tick(book.now + DAY, book.block)
    assert not twins.incremental.tick(book.now + 2 * DAY, book.block).incremental


def test_a_dry_run_keeps_nothing(tmp_path: Path) -> None:
    book, twins, _ = _twins(tmp_path)
    book.originate(4)
    book.advance(60 * DAY)
    monitor = twins.incremental
    dry = monitor.tick(book.now, book.block, dry_run=True)
    assert dry.raised and monitor.store.notices() == [] and monitor.store.deadlines() == {}
    real = monitor.tick(book.now, book.block)
    assert [n.id for n in real.raised] == [n.id for n in dry.raised]
