"""The keeper's loans from the monitor's evaluations: a monitor that tracks them names exactly
the loans a read of every loan's state finds behind (``behind_loans``), on random books
serviced by the ledger's twin with random clock jumps, the keeper assessing what it names."""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loanservicing.ledger.delinquency import behind_loans
from loanservicing.ledger.schedule import DAY
from loanservicing.monitoring.monitor import Monitor, MonitorConfig
from tests.support.indexing import open_index
from tests.support.monitoring import TwinBook

JUMPS = (1, 3_600, 12 * 3_600, DAY - 1, DAY, DAY + 1, 3 * DAY, 7 * DAY, 29 * DAY, 95 * DAY)

_examples = iter(range(10**9))


def _history(tmp_path: Path, seed: int, steps: int, reminder_days: int) -> tuple[int, int]:
    """Random servicing, a tick after each step and the keeper acting on what the monitor
    names; returns the loans named behind over every tick and the incremental ticks."""
    rng = random.Random(seed)
    db = open_index(tmp_path / f"behind{next(_examples)}.db")
    try:
        book = TwinBook([db], rng)
        monitor = Monitor(db, MonitorConfig(reminder_days=reminder_days), track_behind=True)
        book.originate(rng.randrange(2, 7))
        named = incremental = 0
        for _ in range(steps):
            if rng.random() < 0.2:
                book.originate(rng.randrange(1, 3))
            active = list(book.states)
            if rng.random() < 0.5:
                book.act(rng.sample(active, k=min(len(active), rng.randrange(1, 3))))
            book.advance(rng.choice(JUMPS))
            report = monitor.tick(book.now, book.block)
            incremental += report.incremental
            behind = monitor.behind_loans(book.now)
            assert behind == behind_loans(db.loans(), book.now)
            named += len(behind)
            if rng.random() < 0.7:  # the keeper does not always run
                book.assess(behind)
        return named, incremental
    finally:
        db.close()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(0, 2**32 - 1), steps=st.integers(5, 30), reminder=st.sampled_from([0, 3]))
def test_the_loans_behind_are_those_a_read_of_every_loan_finds(
    tmp_path: Path, seed: int, steps: int, reminder: int
) -> None:
    _, incremental = _history(tmp_path, seed, steps, reminder)
    assert incremental == steps - 1  # only the first tick read every loan


def test_a_long_history_names_loans_behind_without_reading_the_book(tmp_path: Path) -> None:
    named, incremental = _history(tmp_path, 3, 150, 3)
    assert named > 20 and incremental == 149


def test_a_monitor_that_does_not_track_reads_every_loan(tmp_path: Path) -> None:
    db = open_index(tmp_path / "untracked.db")
    book = TwinBook([db], random.Random(5))
    book.originate(4)
    tracking = Monitor(db, track_behind=True)
    tracking.tick(book.now, book.block)
    book.advance(60 * DAY)
    plain = Monitor(db)
    plain.tick(book.now, book.block)  # evaluates without the list: it is dropped
    expected = behind_loans(db.loans(), book.now)
    assert expected and plain.behind_loans(book.now) == expected
    assert tracking.behind_loans(book.now) == expected  # no list at now: read from the book
    assert not tracking.tick(book.now, book.block).incremental  # rebuilds the list
    assert tracking.store.behind() == expected
