"""When a replay disagrees with the chain, the events' own values win: a holiday's events
alone give the state the holiday's replay gives (interest-only installments moved too)."""

from __future__ import annotations

import copy

from loanservicing.ledger import relief
from loanservicing.ledger.replay import _apply_from_event, originate
from loanservicing.ledger.schedule import DAY
from loanservicing.ledger.state import LedgerEvent
from tests.ledger.sample import TERMS, originated


def test_a_holiday_from_its_events_alone_moves_the_interest_only_installments() -> None:
    event = originated()
    event.args["terms"] = {**TERMS, "interestOnly": 6}
    loan = originate(event)
    t = int(TERMS["firstDueDate"]) + 10 * DAY  # installment 1 (interest only) paid
    loan.paid_count = 1
    loan.paid_interest, loan.paid_principal = loan.curve().cumulative(1)[1], 0
    loan.last_accrual = t - DAY
    replayed = copy.deepcopy(loan)
    relief.propose_holiday(replayed, t - DAY, 2, 2, t + DAY)
    fallback = copy.deepcopy(replayed)
    effects = relief.accept_holiday(replayed, t, 2, 2, t + DAY)
    assert replayed.interest_only == 8
    for name, args in effects.events:
        _apply_from_event(fallback, LedgerEvent(name, args, t))
    assert fallback.interest_only == replayed.interest_only == 8
    assert fallback.base_index == replayed.base_index
