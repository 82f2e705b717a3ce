"""Helpers for the monitor tests: a monitor over a fresh index of the deployed system."""

from __future__ import annotations

from pathlib import Path

from loanservicing.chain.node import mine
from loanservicing.monitoring.monitor import Monitor, MonitorConfig, TickReport
from loanservicing.monitoring.notices import Notice
from tests.support.indexing import make_indexer
from tests.support.ledger_driver import LedgerDriver

__all__ = ["Watch", "make_notice"]


class Watch:
    """An indexer and a monitor over one index file, ticked at exact chain times."""

    def __init__(self, system: LedgerDriver, db_path: Path, reminder_days: int = 3) -> None:
        self.system = system
        self.indexer = make_indexer(system, db_path)
        self.monitor = Monitor(self.indexer.db, MonitorConfig(reminder_days=reminder_days))

    def tick(self, at: int | None = None, channels: tuple[str, ...] = ()) -> TickReport:
        """Mine a block at ``at`` (if given), sync the index, evaluate at the latest block."""
        w3 = self.system.w3
        if at is not None:
            mine(w3, at)
        self.indexer.sync()
        block = w3.eth.get_block("latest")
        return self.monitor.tick(int(block["timestamp"]), int(block["number"]), channels)

    def kinds(self, at: int | None = None) -> list[str]:
        return [n.kind for n in self.tick(at).raised]

    def raised(self, at: int | None = None) -> dict[str, Notice]:
        return {n.kind: n for n in self.tick(at).raised}


def make_notice(loan_id: int, installment: int, kind: str = "overdue") -> Notice:
    """A notice with made-up but valid fields, for the store and channel tests."""
    return Notice(
        id=f"{kind}:{loan_id}:{installment}:{1_800_000_000 + installment}",
        kind=kind,
        loan_id=loan_id,
        borrower="0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        days_past_due=6,
        amount=1_066_185_000 + installment,
        decimals=6,
        due_timestamp=1_800_000_000 + installment,
        chain_timestamp=1_800_600_000 + installment,
        block=42,
        details={"installment": installment},
    )
