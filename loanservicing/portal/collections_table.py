"""The collections queue as a table (:func:`loanservicing.monitoring.collections.
collections_queue`): past-due loans, the most urgent first, with the notices raised, the last
payment and the next step."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from loanservicing.amounts import money
from loanservicing.monitoring.collections import CollectionItem
from loanservicing.portal.loan_tables import day
from loanservicing.portal.tables import Table

__all__ = ["NEXT_STEP_WORDS", "collections_table"]

NEXT_STEP_WORDS = {
    "reminder": "reminder",
    "call": "call",
    "assess": "assess",
    "default_eligible": "default eligible",
}


def _notices(item: CollectionItem) -> str:
    counts = Counter(n.kind for n in item.notices)
    return ", ".join(f"{kind} ({n})" if n > 1 else kind for kind, n in counts.items())


def _last_payment(item: CollectionItem, symbol: str) -> str:
    paid = item.last_payment
    if paid is None:
        return "none"
    return f"{money(paid.amount, item.loan.decimals, symbol)} on {day(paid.timestamp)}"


def collections_table(queue: Sequence[CollectionItem], symbol_of: Callable[[str], str]) -> Table:
    """The queue, amounts with each loan's token symbol (the queue may mix tokens)."""

    def m(item: CollectionItem, units: int) -> str:
        return money(units, item.loan.decimals, symbol_of(item.loan.token))

    return Table(
        "collections",
        "Collections queue",
        [
            "loan",
            "borrower",
            "days past due",
            "past due",
            "outstanding",
            "notices",
            "last payment",
            "next step",
        ],
        [
            [
                str(item.loan.loan_id),
                item.loan.borrower,
                str(item.loan.days_past_due),
                m(item, item.loan.past_due),
                m(item, item.loan.principal_outstanding),
                _notices(item),
                _last_payment(item, symbol_of(item.loan.token)),
                NEXT_STEP_WORDS[item.next_step],
            ]
            for item in queue
        ],
        numeric=frozenset({0, 2, 3, 4}),
        links=[f"/loans/{item.loan.loan_id}" for item in queue],
    )
