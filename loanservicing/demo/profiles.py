"""The demo's borrowers and loans: how each borrower pays (its behaviour profile), the loans
the story needs once each (an early payoff, a restructuring, a payment holiday, a
forbearance), and the terms drawn for every loan."""

from __future__ import annotations

import random
from dataclasses import dataclass

from loanservicing.chain.accounts import Signer, TransactionSender
from loanservicing.ledger.calendar import DayCount
from loanservicing.ledger.schedule import DAY, ScheduleKind
from loanservicing.servicing.servicer import LoanTerms

__all__ = [
    "CENTS_EXP",
    "DEFAULT_AFTER_DAYS",
    "FORBEAR",
    "HOLIDAY",
    "LATE",
    "LATE_IN_GRACE",
    "ON_TIME",
    "PARTIAL",
    "PAYOFF",
    "RESTRUCTURE",
    "STOPPER",
    "UNIT",
    "Borrower",
    "DemoLoan",
    "draw_profiles",
    "draw_terms",
]

NOON = DAY // 2
UNIT = 10**6  # the demo token has 6 decimals
CENTS_EXP = 4
"""Installments in whole cents of the 6-decimal token (10**4 units)."""
DEFAULT_AFTER_DAYS = 60

# Behaviour profiles: how a borrower pays each installment.
ON_TIME, LATE_IN_GRACE, LATE, PARTIAL, STOPPER = (
    "on-time",
    "late-in-grace",
    "late",
    "partial",
    "stopper",
)
RESTRUCTURE, PAYOFF = "restructure", "payoff"
HOLIDAY = "holiday"
"""Pays on time and asks for a payment holiday of two installments, granted once."""
FORBEAR = "forbear"
"""Stops paying after its first installment, is granted 30 days of forbearance when first
past due, and catches up once the window is over."""
FORBEARANCE_DAYS = 30
HOLIDAY_INSTALLMENTS = 2


@dataclass
class Borrower:
    index: int
    signer: Signer
    sender: TransactionSender


@dataclass
class DemoLoan:
    loan_id: int
    borrower: Borrower
    profile: str
    lender: str = ""
    stop_after: int = 0
    next_day: int | None = None
    payments: int = 0
    restructured: bool = False
    relieved: bool = False
    """A holiday or a forbearance was granted."""
    resume_day: int = 0
    """The first day a borrower in forbearance pays again."""
    status: str = "active"


def draw_profiles(n: int, rng: random.Random) -> list[str]:
    """The profiles of ``n`` loans, shuffled: the story's one-off loans (with room for them),
    about 8 % that stop paying, 10 % partial, 10 % late after grace, 12 % late inside it, the
    rest on time."""
    fixed = [PAYOFF, RESTRUCTURE] if n >= 4 else []
    if n >= 8:
        fixed += [HOLIDAY, FORBEAR]
    stoppers = max(1, n * 8 // 100) if n >= 3 else 0
    counts = {
        STOPPER: stoppers,
        PARTIAL: n * 10 // 100,
        LATE: n * 10 // 100,
        LATE_IN_GRACE: n * 12 // 100,
    }
    profiles = fixed + [p for p, c in counts.items() for _ in range(c)]
    profiles += [ON_TIME] * max(0, n - len(profiles))
    profiles = profiles[:n]
    rng.shuffle(profiles)
    return profiles


def draw_terms(index: int, borrower: Borrower, rng: random.Random, start: int) -> LoanTerms:
    """Four loans in five due monthly (calendar months, 30/360), the others weekly
    (actual/365); installments in whole cents; an odd first period of 20 to 29 days for a
    monthly loan, 4 to 6 days for a weekly one."""
    kind = list(ScheduleKind)[index % 3]
    weekly = rng.random() < 0.2
    if kind is ScheduleKind.BULLET:
        installments = rng.choice([12, 16, 26] if weekly else [3, 4, 6, 12])
    else:
        installments = rng.choice([16, 26, 52] if weekly else [6, 9, 12, 18, 24])
    first_due_day = rng.randint(4, 6) if weekly else rng.randint(20, 29)
    return LoanTerms(
        borrower=borrower.signer.address,
        principal=rng.randrange(20, 501) * 50 * UNIT,
        apr_bps=rng.choice([600, 900, 1200, 1500, 1800, 2400]),
        installments=installments,
        period_seconds=7 * DAY if weekly else 0,
        kind=kind,
        grace_seconds=5 * DAY if not weekly else 2 * DAY,
        late_fee_bps=500,
        penalty_apr_bps=600,
        default_after_days=DEFAULT_AFTER_DAYS,
        first_due_timestamp=start + first_due_day * DAY + NOON,
        months=0 if weekly else 1,
        day_count=DayCount.ACTUAL_365 if weekly else DayCount.THIRTY_360,
        rounding_exp=CENTS_EXP,
    )
