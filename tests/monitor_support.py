"""Helpers for the monitor tests: the indexer tests' deployed system and driver
(``test_indexer_support``), and a monitor over a fresh index."""

from __future__ import annotations

from pathlib import Path

from test_indexer_support import DAY, UNIT, Deployed, deploy_system, make_indexer

from loanservicing.chain import mine
from loanservicing.monitor import Monitor, MonitorConfig, TickReport
from loanservicing.notices import Notice

__all__ = ["DAY", "UNIT", "Deployed", "Watch", "deploy_system", "make_indexer"]


class Watch:
    """An indexer and a monitor over one index file, ticked at exact chain times."""

    def __init__(self, system: Deployed, db_path: Path, reminder_days: int = 3) -> None:
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
