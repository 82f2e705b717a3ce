"""The end of an installment's grace period under forbearance (``graceEnd``) agrees, to the
second, with the clock of lateness the accounting counts installments past grace by."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from loanservicing.ledger import accounting
from loanservicing.ledger.replay import originate
from loanservicing.ledger.schedule import DAY
from tests.ledger.sample import originated

DUE_DAY = 1_000  # installment 1 falls due at the end of this date (UTC)


@settings(max_examples=300, deadline=None)
@given(
    number=st.integers(1, 3),
    start=st.integers(DUE_DAY - 40, DUE_DAY + 70),
    length=st.integers(0, 45),
    grace_days=st.integers(0, 10),
)
def test_grace_end_is_the_last_second_not_past_grace(
    number: int, start: int, length: int, grace_days: int
) -> None:
    w = originate(originated())
    w.grace = grace_days * DAY
    w.pause_from, w.pause_to = start, start + length
    end = accounting.grace_end(w, number)
    past = accounting._past_grace_count
    assert past(w, end) < number <= past(w, end + 1)
    assert end >= w.due_date(number) + w.grace  # forbearance never shortens the grace


def test_grace_end_without_forbearance_is_due_date_plus_grace() -> None:
    w = originate(originated())
    assert accounting.grace_end(w, 1) == DUE_DAY * DAY + DAY - 1 + 5 * DAY
