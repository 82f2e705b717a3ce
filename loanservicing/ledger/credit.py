"""A borrower's credit record as ``CreditRegistry.sol`` keeps it, and its events folded in.

The index rebuilds records from the registry's events (:func:`apply_registry_event`, with the
registry's saturating counters); the servicing API reads them from the ``creditRecord`` view
(:meth:`CreditRecord.from_view`). Both give the same record, printed by
:meth:`CreditRecord.to_json`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["CREDIT_DECIMALS", "CreditRecord", "apply_registry_event"]

CREDIT_DECIMALS = 18
"""The registry records amounts repaid in 18-decimal units, whatever the loans' tokens."""
UINT96_MAX = 2**96 - 1
UINT24_MAX = 2**24 - 1
UINT16_MAX = 2**16 - 1


@dataclass
class CreditRecord:
    """A borrower's record as the registry's ``creditRecord(borrower)`` returns it."""

    borrower: str
    paid_on_time: int = 0
    paid_late: int = 0
    missed: int = 0
    current_days_past_due: int = 0
    max_days_past_due: int = 0
    defaults: int = 0
    loans_opened: int = 0
    loans_closed: int = 0
    total_repaid: int = 0
    """In 18-decimal units (:data:`CREDIT_DECIMALS`), whatever the loans' tokens."""

    def as_view(self) -> dict[str, int]:
        """By the registry struct's field names."""
        return {
            "paidOnTime": self.paid_on_time,
            "paidLate": self.paid_late,
            "missed": self.missed,
            "currentDaysPastDue": self.current_days_past_due,
            "maxDaysPastDue": self.max_days_past_due,
            "defaults": self.defaults,
            "loansOpened": self.loans_opened,
            "loansClosed": self.loans_closed,
            "totalRepaid": self.total_repaid,
        }

    @classmethod
    def from_view(cls, borrower: str, view: Mapping[str, Any]) -> CreditRecord:
        """From a ``creditRecord(borrower)`` result keyed by the struct's field names."""
        return cls(
            borrower=borrower,
            paid_on_time=int(view["paidOnTime"]),
            paid_late=int(view["paidLate"]),
            missed=int(view["missed"]),
            current_days_past_due=int(view["currentDaysPastDue"]),
            max_days_past_due=int(view["maxDaysPastDue"]),
            defaults=int(view["defaults"]),
            loans_opened=int(view["loansOpened"]),
            loans_closed=int(view["loansClosed"]),
            total_repaid=int(view["totalRepaid"]),
        )

    def to_json(self) -> dict[str, Any]:
        """The record as the CLI prints it (`credit show --json`)."""
        return {
            "borrower": self.borrower,
            "paid_on_time": self.paid_on_time,
            "paid_late": self.paid_late,
            "missed": self.missed,
            "days_past_due": self.current_days_past_due,
            "max_days_past_due": self.max_days_past_due,
            "defaults": self.defaults,
            "loans_opened": self.loans_opened,
            "loans_closed": self.loans_closed,
            "total_repaid": self.total_repaid,
            "decimals": CREDIT_DECIMALS,
        }

    def _set_days_past_due(self, days: int) -> None:
        dpd = min(days, UINT16_MAX)
        self.current_days_past_due = dpd
        self.max_days_past_due = max(self.max_days_past_due, dpd)


def apply_registry_event(record: CreditRecord, name: str, args: Mapping[str, Any]) -> None:
    """Fold one credit-registry event into ``record`` as the registry does (saturating)."""
    if name == "LoanOpenedReported":
        record.loans_opened = min(record.loans_opened + 1, UINT16_MAX)
    elif name == "RepaymentReported":
        record.paid_on_time = min(record.paid_on_time + int(args["paidOnTime"]), UINT24_MAX)
        record.paid_late = min(record.paid_late + int(args["paidLate"]), UINT24_MAX)
        record._set_days_past_due(int(args["daysPastDue"]))
        record.total_repaid = min(record.total_repaid + int(args["amount"]), UINT96_MAX)
    elif name == "LoanClosedReported":
        record.loans_closed = min(record.loans_closed + 1, UINT16_MAX)
    elif name == "DelinquencyReported":
        record.missed = min(record.missed + int(args["missed"]), UINT24_MAX)
        record._set_days_past_due(int(args["daysPastDue"]))
    elif name == "DefaultReported":
        record.defaults = min(record.defaults + 1, UINT16_MAX)
        record._set_days_past_due(int(args["daysPastDue"]))
