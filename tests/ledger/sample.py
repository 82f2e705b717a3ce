"""A sample loan for the ledger tests: its terms and its LoanOriginated event."""

from __future__ import annotations

from loanservicing.ledger.schedule import DAY
from loanservicing.ledger.state import LedgerEvent

TERMS = {
    "borrower": "0xB",
    "token": "0xT",
    "principal": 1_200 * 10**6,
    "aprBps": 1200,
    "installments": 12,
    "periodSeconds": 30 * DAY,
    "firstDueDate": 1_001 * DAY - 1,  # the last second of day 1,000 (UTC): its due date
    "kind": 0,
    "gracePeriodSeconds": 5 * DAY,
    "lateFeeBps": 500,
    "penaltyAprBps": 600,
    "defaultAfterDays": 90,
    "periodMonths": 0,
    "dayCount": 0,
    "utcOffsetMinutes": 0,
    "interestOnly": 0,
    "roundingExp": 0,
}


def originated() -> LedgerEvent:
    args = {"loanId": 1, "borrower": "0xB", "lender": "0xL", "terms": TERMS}
    return LedgerEvent("LoanOriginated", args, 970 * DAY)
