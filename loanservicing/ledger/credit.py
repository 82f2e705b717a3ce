"""A borrower's credit history as ``CreditRegistry.sol`` keeps it, and its events folded in.

The registry keeps, per borrower, each reporter's figures apart (``reporterRecord``), the
reporters in order of their first report (``reportersOf``), and the days past due last
reported for each loan currently past due (``loanDaysPastDue``); ``creditRecord(borrower)`` sums
the figures over those reporters, takes the worst days past due ever reported, and the worst
open loan's current days past due. :class:`CreditHistory` is that state for one borrower,
rebuilt from the registry's events by :func:`apply_registry_event` (with the registry's
saturating counters); :class:`CreditRecord` is the ``CreditRecord`` struct the views return,
which the servicing API also reads from the chain (:meth:`CreditRecord.from_view`). Both print
through :meth:`CreditRecord.to_json`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CREDIT_DECIMALS",
    "REPORT_EVENTS",
    "CreditHistory",
    "CreditRecord",
    "apply_registry_event",
]

CREDIT_DECIMALS = 18
"""The registry records amounts repaid in 18-decimal units, whatever the loans' tokens."""
REPORT_EVENTS = frozenset(
    {
        "LoanOpenedReported",
        "RepaymentReported",
        "DelinquencyReported",
        "DefaultReported",
        "LoanClosedReported",
        "ForbearanceReported",
    }
)
"""The registry's events, one per report (each names the borrower, reporter and loan)."""
UINT96_MAX = 2**96 - 1
UINT24_MAX = 2**24 - 1
UINT16_MAX = 2**16 - 1

_COUNTERS = {
    "paid_on_time": UINT24_MAX,
    "paid_late": UINT24_MAX,
    "missed": UINT24_MAX,
    "defaults": UINT16_MAX,
    "loans_opened": UINT16_MAX,
    "loans_closed": UINT16_MAX,
    "forbearances": 2**8 - 1,
    "total_repaid": UINT96_MAX,
}
"""The summed fields of a record and where the registry saturates them."""


@dataclass
class CreditRecord:
    """A record as the registry's ``creditRecord(borrower)`` (or ``reporterRecord``) returns
    it."""

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
    forbearances: int = 0
    """Forbearances granted on the borrower's loans."""

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
            "forbearances": self.forbearances,
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
            forbearances=int(view["forbearances"]),
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
            "forbearances": self.forbearances,
            "decimals": CREDIT_DECIMALS,
        }

    def _add(self, name: str, amount: int) -> None:
        setattr(self, name, min(getattr(self, name) + amount, _COUNTERS[name]))

    def _set_max(self, days: int) -> None:
        self.max_days_past_due = max(self.max_days_past_due, min(days, UINT16_MAX))


@dataclass
class CreditHistory:
    """What the registry keeps about one borrower."""

    borrower: str
    reporters: list[str] = field(default_factory=list)
    """``reportersOf``: the reporters that reported about the borrower, in order of their
    first report."""
    figures: dict[str, CreditRecord] = field(default_factory=dict)
    """Each reporter's stored figures (``current_days_past_due`` unused: see
    :meth:`reporter_record`)."""
    standing: dict[tuple[str, int], int] = field(default_factory=dict)
    """The loans currently reported past due, (reporter, loan id) -> days past due."""

    def record(self) -> CreditRecord:
        """``creditRecord(borrower)``: the figures summed over :attr:`reporters` (saturating),
        the worst ``max_days_past_due``, and the worst open loan's days past due."""
        total = CreditRecord(self.borrower)
        for reporter in self.reporters:
            figures = self.figures.get(reporter, CreditRecord(self.borrower))
            for name in _COUNTERS:
                total._add(name, getattr(figures, name))
            total._set_max(figures.max_days_past_due)
        total.current_days_past_due = max(self.standing.values(), default=0)
        return total

    def reporter_record(self, reporter: str) -> CreditRecord:
        """``reporterRecord(borrower, reporter)``: one reporter's figures and its worst open
        loan's days past due."""
        record = CreditRecord(self.borrower, **_figures_of(self.figures.get(reporter)))
        record.current_days_past_due = max(
            (dpd for (r, _), dpd in self.standing.items() if r == reporter), default=0
        )
        return record

    def loan_days_past_due(self, reporter: str, loan_id: int) -> int:
        """``loanDaysPastDue(reporter, loanId)`` (0: current or closed)."""
        return self.standing.get((reporter, loan_id), 0)

    def _figures(self, reporter: str) -> CreditRecord:
        figures = self.figures.get(reporter)
        if figures is None:
            figures = self.figures[reporter] = CreditRecord(self.borrower)
        return figures

    def _set_standing(self, reporter: str, loan_id: int, days: int) -> None:
        dpd = min(days, UINT16_MAX)
        if dpd != 0:
            self.standing[(reporter, loan_id)] = dpd
        else:
            self.standing.pop((reporter, loan_id), None)


def _figures_of(record: CreditRecord | None) -> dict[str, int]:
    if record is None:
        return {}
    return {name: getattr(record, name) for name in (*_COUNTERS, "max_days_past_due")}


def apply_registry_event(history: CreditHistory, name: str, args: Mapping[str, Any]) -> None:
    """Fold one credit-registry event of ``history``'s borrower into it, as the registry's
    report that emitted it changed its storage (saturating). Other events change nothing."""
    if name not in REPORT_EVENTS:
        return
    reporter = str(args["reporter"])
    loan_id = int(args["loanId"])
    # A reporter's first report about the borrower, whatever it is, lists it.
    if reporter not in history.figures:
        history.reporters.append(reporter)
    figures = history._figures(reporter)
    if name == "LoanOpenedReported":
        figures._add("loans_opened", 1)
    elif name == "RepaymentReported":
        figures._add("paid_on_time", int(args["paidOnTime"]))
        figures._add("paid_late", int(args["paidLate"]))
        figures._add("total_repaid", int(args["amount"]))
    elif name == "LoanClosedReported":
        figures._add("loans_closed", 1)
        history._set_standing(reporter, loan_id, 0)
    elif name == "DelinquencyReported":
        figures._add("missed", int(args["missed"]))
        figures._set_max(int(args["daysPastDue"]))
        history._set_standing(reporter, loan_id, int(args["daysPastDue"]))
    elif name == "ForbearanceReported":
        figures._add("forbearances", 1)
    elif name == "DefaultReported":
        figures._add("defaults", 1)
        figures._set_max(int(args["daysPastDue"]))
        history._set_standing(reporter, loan_id, int(args["daysPastDue"]))
