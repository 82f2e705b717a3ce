"""What the servicing API takes and returns: the terms a lender offers, and the records of an
origination, a repayment, a payoff quote, a claim, a restructuring or payment holiday
proposal and a token permission (amounts in the token's smallest unit)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from eth_typing import ChecksumAddress

from loanservicing.amounts import iso_date
from loanservicing.ledger import calendar as cal
from loanservicing.ledger.calendar import DayCount
from loanservicing.ledger.schedule import DAY, ScheduleKind
from loanservicing.servicing.errors import InvalidTerms

__all__ = [
    "Claim",
    "HolidayProposal",
    "LoanTerms",
    "Origination",
    "Payoff",
    "Repayment",
    "RestructureProposal",
    "TokenPermission",
]


@dataclass(frozen=True)
class LoanTerms:
    """What a lender offers; amounts in smallest units, rates in basis points, times in s."""

    borrower: ChecksumAddress
    principal: int
    apr_bps: int
    installments: int
    period_seconds: int
    kind: ScheduleKind = ScheduleKind.ANNUITY
    grace_seconds: int = 5 * DAY
    late_fee_bps: int = 500
    penalty_apr_bps: int = 600
    default_after_days: int = 90
    first_due_timestamp: int | None = None
    """Any time on the first due date, in the loan's offset. None: one period after
    origination (for signed terms: after signing)."""
    months: int = 0
    """Calendar months per period; ``period_seconds`` is then 0."""
    day_count: DayCount = DayCount.ACTUAL_365
    utc_offset_minutes: int = 0
    interest_only: int = 0
    rounding_exp: int = 0
    """Installments are whole multiples of ``10 ** rounding_exp`` units (4: cents at 6
    decimals)."""

    def require_sensible(self) -> None:
        """Refuse terms the ledger would take but no lender means (InvalidTerms): a grace
        period longer than the shortest period, a default threshold inside the grace period."""
        require_grace_within_period(self.grace_seconds, self.period_seconds, self.months)
        if self.default_after_days * DAY < self.grace_seconds:
            raise InvalidTerms(
                f"A default threshold of {self.default_after_days} days is shorter than the "
                f"grace period ({_days(self.grace_seconds)}): a loan could not be declared in "
                "default before it is late."
            )

    def default_first_due(self, now: int) -> int:
        """One period after ``now``: the same time ``period_seconds`` later, or the same day of
        the month ``months`` later (the month's last day when it has fewer days)."""
        if not self.months:
            return now + self.period_seconds
        offset = self.utc_offset_minutes * 60
        today = cal.local_day(now, offset)
        _, _, day = cal.civil_from_days(today)
        due = cal.day_in_month(cal.month_of(today) + self.months, day)
        return cal.day_end(due, offset)


def require_grace_within_period(grace_seconds: int, period_seconds: int, months: int) -> None:
    """Refuse (InvalidTerms) a grace period longer than the shortest period of a schedule
    due every ``months`` calendar months or every ``period_seconds``."""
    shortest = months * 28 * DAY if months else period_seconds
    if grace_seconds > shortest:
        raise InvalidTerms(
            f"A grace period of {_days(grace_seconds)} is longer than the period "
            f"({_days(shortest)}{' at the shortest' if months else ''}): the next "
            "installment would fall due before the last one is late."
        )


def _days(seconds: int) -> str:
    days = (Decimal(seconds) / DAY).normalize()
    return f"{days:f} day{'' if days == 1 else 's'}"


@dataclass(frozen=True)
class Origination:
    loan_id: int
    tx_hash: str
    gas_used: int
    borrower: str = ""
    nonce: int = 0
    """The borrower's signature nonce the origination used."""


@dataclass(frozen=True)
class Repayment:
    loan_id: int
    tx_hash: str
    gas_used: int
    decimals: int
    fees: int
    penalty: int
    interest: int
    principal: int
    principal_outstanding: int
    installments_paid: int
    status: str
    held: int = 0
    """What the ledger held for the lender because the transfer to it failed (RepaymentHeld)."""
    lender_claimable: int = 0
    """The lender's claimable balance in the loan's token after this repayment."""

    @property
    def total(self) -> int:
        return self.fees + self.penalty + self.interest + self.principal


@dataclass(frozen=True)
class Payoff:
    """What closes a loan at ``as_of_timestamp``, split as the repayment would be allocated:
    ``amount = fees + penalty + interest + principal (past due) + accrued_interest +
    current_principal + remaining_principal - interest_rebate`` (the running period's
    interest to the day; interest paid ahead of that is credited back)."""

    loan_id: int
    amount: int
    decimals: int
    fees: int
    penalty: int
    interest: int
    principal: int
    current_interest: int
    current_principal: int
    remaining_principal: int
    as_of_timestamp: int
    accrued_interest: int = 0
    interest_rebate: int = 0

    @classmethod
    def from_due(cls, loan_id: int, decimals: int, due: dict[str, int]) -> Payoff:
        """From an ``amountDue`` result (with ``asOf``) as :meth:`Servicer.amount_due` gives."""
        return cls(
            loan_id=loan_id,
            amount=due["payoff"],
            decimals=decimals,
            fees=due["fees"],
            penalty=due["penalty"],
            interest=due["interest"],
            principal=due["principal"],
            current_interest=due["currentInterest"],
            current_principal=due["currentPrincipal"],
            remaining_principal=due["remainingPrincipal"],
            as_of_timestamp=due["asOf"],
            accrued_interest=due["accruedInterest"],
            interest_rebate=due["interestRebate"],
        )


@dataclass(frozen=True)
class Claim:
    """Held repayments a lender claimed."""

    lender: str
    token: str
    to: str
    amount: int
    decimals: int
    tx_hash: str
    gas_used: int


@dataclass(frozen=True)
class RestructureProposal:
    """New terms the servicer proposed for a loan (its latest RestructureProposed event)."""

    loan_id: int
    apr_bps: int
    installments: int
    period_seconds: int
    deadline: int
    servicer: str
    block: int

    def to_json(self) -> dict[str, Any]:
        return {
            "loan_id": self.loan_id,
            "apr_bps": self.apr_bps,
            "installments": self.installments,
            "period_seconds": self.period_seconds,
            "deadline_date": iso_date(self.deadline),
            "deadline_timestamp": self.deadline,
            "servicer": self.servicer,
            "block": self.block,
        }


@dataclass(frozen=True)
class HolidayProposal:
    """A payment holiday the servicer proposed for a loan (the ledger's ``holidayProposal``):
    installments ``from_installment .. from_installment + count - 1`` skipped."""

    loan_id: int
    from_installment: int
    count: int
    deadline: int

    def to_json(self) -> dict[str, Any]:
        return {
            "loan_id": self.loan_id,
            "from_installment": self.from_installment,
            "count": self.count,
            "deadline_date": iso_date(self.deadline),
            "deadline_timestamp": self.deadline,
        }


@dataclass(frozen=True)
class HolidayGrant:
    """A payment holiday the borrower accepted (its HolidayGranted event): installments
    ``from_installment .. from_installment + count - 1`` skipped, their interest capitalised."""

    loan_id: int
    from_installment: int
    count: int
    capitalised_interest: int
    principal_outstanding: int
    block: int
    tx_hash: str

    @property
    def through_installment(self) -> int:
        return self.from_installment + self.count - 1

    def to_json(self) -> dict[str, Any]:
        return {
            "from_installment": self.from_installment,
            "through_installment": self.through_installment,
            "count": self.count,
            "capitalised_interest": self.capitalised_interest,
            "principal_outstanding": self.principal_outstanding,
            "block": self.block,
            "tx_hash": self.tx_hash,
        }


@dataclass(frozen=True)
class TokenPermission:
    """The admin allowed (or disallowed) new loans in a token (its TokenAllowed event)."""

    token: str
    token_id: int
    decimals: int
    allowed: bool
    tx_hash: str
