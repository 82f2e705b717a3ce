"""One monitoring tick as ``loanservicing monitor run`` does it: sync the event index, evaluate
the loans at the chain time of the newest indexed block (incrementally: those with new events
or past their next deadline, see :mod:`loanservicing.monitoring.monitor`), deliver the new
notices to the channels and (optionally) send ``assess`` for the loans whose on-chain
delinquency is behind (those the evaluations found behind: the monitor keeps the list, see
:meth:`~loanservicing.monitoring.monitor.Monitor.behind_loans`, so the keeper reads no loan).

:class:`MonitorService` puts the collaborators together: an
:class:`~loanservicing.indexing.sync.Indexer`, a
:class:`~loanservicing.monitoring.monitor.Monitor`, a
:class:`~loanservicing.monitoring.channels.Dispatcher` and a
:class:`~loanservicing.monitoring.keeper.Keeper` (the only part of monitoring that sends
transactions). :class:`DayMonitor` is the same tick over an in-memory index, driven by a
simulation.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from loanservicing.indexing.database import IndexDB
from loanservicing.indexing.sync import Indexer, IndexerConfig
from loanservicing.monitoring.channels import Dispatcher
from loanservicing.monitoring.keeper import Keeper
from loanservicing.monitoring.monitor import (
    DEFAULT_REMINDER_DAYS,
    Monitor,
    MonitorConfig,
    TickReport,
)
from loanservicing.monitoring.notices import Notice

__all__ = ["DayMonitor", "MonitorService", "ServiceTick"]


@dataclass
class ServiceTick:
    """What one full tick did: sync, evaluation, delivery, keeper."""

    sync: dict[str, Any]
    tick: TickReport
    delivery: dict[str, Any] | None = None
    keeper: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "sync": self.sync,
            **self.tick.as_dict(),
            "notices": [n.to_json() for n in self.tick.raised],
            "delivery": self.delivery,
            "keeper": self.keeper,
        }


class MonitorService:
    """Sync the index, evaluate, deliver, and (optionally) keep the ledger's delinquency
    current: what ``loanservicing monitor run`` does each interval."""

    def __init__(
        self,
        indexer: Indexer,
        monitor: Monitor,
        dispatcher: Dispatcher | None = None,
        keeper: Keeper | None = None,
    ) -> None:
        self.indexer = indexer
        self.monitor = monitor
        self.dispatcher = dispatcher
        self.keeper = keeper

    def chain_clock(self) -> tuple[int, int]:
        """(timestamp, number) of the newest indexed block: the time the index is valid at."""
        number = int(self.indexer.checkpoint()[0])
        header = self.indexer.rpc.call("eth_getBlockByNumber", [hex(number), False])
        return int(header["timestamp"], 16), number

    def tick(self, drain: bool = False, full: bool = False) -> ServiceTick:
        """Sync, evaluate (``full``: every loan, see :meth:`Monitor.evaluate`), deliver
        (``drain``: until nothing is left to send) and keep."""
        sync = self.indexer.sync()
        now, block = self.chain_clock()
        names = self.dispatcher.names if self.dispatcher is not None else ()
        report = self.monitor.tick(now, block, names, full=full)
        result = ServiceTick(sync.as_dict(), report)
        if self.dispatcher is not None:
            delivery = self.dispatcher.drain() if drain else self.dispatcher.deliver()
            result.delivery = delivery.as_dict()
        if self.keeper is not None:
            behind = self.monitor.behind_loans(now)
            kept = self.keeper.assess(behind)
            result.keeper = {"behind": behind, **kept.as_dict()}
            if behind:
                self.indexer.sync()
        return result


# ---------------------------------------------------------------------- in-process monitor


class DayMonitor:
    """A monitor over its own in-memory index, ticked from a simulation (the demo's
    ``on_day`` hook): each call syncs the index and raises the day's notices."""

    def __init__(
        self,
        rpc_url: str,
        ledger: str,
        registry: str,
        from_block: int,
        abis: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
        reminder_days: int = DEFAULT_REMINDER_DAYS,
        db_path: str = ":memory:",
    ) -> None:
        self.db = IndexDB(db_path)
        config = IndexerConfig(
            rpc_url=rpc_url,
            ledger=ledger,
            registry=registry,
            from_block=from_block,
            reorg_window=8,
        )
        self.indexer = Indexer(config, self.db, abis=abis)
        self.monitor = Monitor(self.db, MonitorConfig(reminder_days=reminder_days))
        self.service = MonitorService(self.indexer, self.monitor)
        self.raised: list[Notice] = []
        self.seconds = 0.0

    def __call__(self, day: object = None) -> list[Notice]:
        started = time.perf_counter()
        raised = self.service.tick().tick.raised
        self.raised += raised
        self.seconds += time.perf_counter() - started
        return raised

    def counts(self) -> dict[str, int]:
        return self.monitor.store.counts()

    def close(self) -> None:
        self.db.close()
