"""The demo's records: its configuration, what a day hook is given, the report of a run and
where a run reports its progress (no click or rich: the CLI renders them)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from loanservicing.amounts import iso_date
from loanservicing.ledger.portfolio import PortfolioSummary
from loanservicing.servicing.servicer import Servicer

__all__ = [
    "EVENT_KEYS",
    "DayHook",
    "DemoConfig",
    "DemoDay",
    "DemoReport",
    "Reporter",
    "SilentReporter",
]

EVENT_KEYS = (
    "originated",
    "borrower_signed",
    "repayments",
    "held_repayments",
    "late_payments",
    "partial_payments",
    "assessments",
    "defaults",
    "restructurings",
    "holidays",
    "forbearances",
    "payoffs",
    "closed",
)


@dataclass(frozen=True)
class DemoConfig:
    seed: int = 7
    loans: int = 60
    months: int = 6
    borrowers: int = 12
    data_sharing: bool = True
    """After the months: attesters vouch for borrowers, borrowers consent, the lender and a
    regulator read the vault, one borrower is erased (see loanservicing.demo.data_sharing)."""

    @property
    def days(self) -> int:
        return round(self.months * 365 / 12)


@dataclass(frozen=True)
class DemoDay:
    """What an ``on_day`` hook is given after each simulated day."""

    day: int
    chain_time: int
    servicer: Servicer


DayHook = Callable[[DemoDay], object]


@dataclass
class DemoReport:
    config: DemoConfig
    chain_id: int
    ledger: str
    start_timestamp: int
    end_timestamp: int
    elapsed_seconds: float
    transactions: int
    counts: Counter[str]
    summary: PortfolioSummary
    credit_records: list[dict[str, Any]]
    profiles: Counter[str] = field(default_factory=Counter)
    notices: dict[str, int] = field(default_factory=dict)
    """Notices the monitor raised while the months passed, by kind."""
    notice_examples: list[str] = field(default_factory=list)
    shared: list[str] = field(default_factory=list)
    """What was shared with whom: one sentence per consent, vault read and erasure."""
    data_contracts: dict[str, str] = field(default_factory=dict)
    held: dict[str, Any] = field(default_factory=dict)
    """The fund's repayments the ledger held while the token's issuer blocked the fund, and
    its claim of them (amounts in the token's smallest units)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "seed": self.config.seed,
            "loans": self.config.loans,
            "borrowers": self.config.borrowers,
            "months": self.config.months,
            "days_simulated": self.config.days,
            "chain_id": self.chain_id,
            "ledger": self.ledger,
            "start_date": iso_date(self.start_timestamp),
            "start_timestamp": self.start_timestamp,
            "end_date": iso_date(self.end_timestamp),
            "end_timestamp": self.end_timestamp,
            "elapsed_seconds": round(self.elapsed_seconds, 2),
            "transactions": self.transactions,
            "profiles": dict(sorted(self.profiles.items())),
            "events": {key: self.counts[key] for key in sorted({*EVENT_KEYS, *self.counts})},
            "summary": self.summary.to_json(),
            "credit_records": self.credit_records,
            "notices": self.notices,
            "held_repayments": self.held,
            "data_sharing": {"contracts": self.data_contracts, "shared": self.shared},
        }


class Reporter(Protocol):
    """Where a run reports its progress: phases, notable events and the end of each day.

    ``tone`` says how an event reads for the lender: ``"good"`` (a loan paid off early),
    ``"warning"`` (a restructuring), ``"bad"`` (a default) or ``""``."""

    def phase(self, text: str) -> None: ...
    def event(self, text: str, tone: str = "") -> None: ...
    def day(self, day: int, total: int, now: int, counts: Counter[str]) -> None: ...
    def close(self) -> None: ...


class SilentReporter:
    """Reports nothing."""

    def phase(self, text: str) -> None:
        pass

    def event(self, text: str, tone: str = "") -> None:
        pass

    def day(self, day: int, total: int, now: int, counts: Counter[str]) -> None:
        pass

    def close(self) -> None:
        pass
