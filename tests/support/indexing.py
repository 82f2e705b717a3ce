"""Helpers for the indexer and monitor tests: an indexer over the deployed system."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loanservicing.indexing.database import IndexDB
from loanservicing.indexing.sync import Indexer, IndexerConfig
from tests.support.ledger_driver import LedgerDriver


def make_indexer(system: LedgerDriver, db_path: Path | str, **options: Any) -> Indexer:
    """An indexer of ``system``'s ledger and registry from its deployment block."""
    options.setdefault("from_block", system.block)
    config = IndexerConfig(
        rpc_url=system.rpc_url,
        ledger=system.ledger.address,
        registry=system.registry.address,
        **options,
    )
    return Indexer(config, IndexDB(db_path), abis=system.abis())
