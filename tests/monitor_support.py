"""Helpers for the monitor tests: a deployed system, a driver at exact timestamps, and a
monitor over a fresh index (copied from the indexer's test helpers, so they can change)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract import Contract
from web3.types import RPCEndpoint, TxReceipt

from loanservicing.chain import chain_time, mine, set_next_timestamp
from loanservicing.compile import ContractArtifact
from loanservicing.deploy import deploy_contracts, revert_decoder
from loanservicing.index_db import IndexDB
from loanservicing.indexer import Indexer, IndexerConfig
from loanservicing.monitor import Monitor, MonitorConfig, TickReport
from loanservicing.notices import Notice
from loanservicing.reverts import RevertDecoder
from loanservicing.schedule import ScheduleKind
from loanservicing.transactions import send

DAY = 86_400
UNIT = 10**6


@dataclass
class Deployed:
    w3: Web3
    rpc_url: str
    ledger: Contract
    registry: Contract
    token: Contract
    decoder: RevertDecoder
    admin: ChecksumAddress
    accounts: list[ChecksumAddress]
    block: int

    def abis(self) -> dict[str, Any]:
        return {"ledger": self.ledger.abi, "credit_registry": self.registry.abi}

    def now(self) -> int:
        return chain_time(self.w3)

    def send(
        self, fn: Any, sender: ChecksumAddress | None = None, at: int | None = None
    ) -> TxReceipt:
        if at is not None:
            set_next_timestamp(self.w3, at)
        gas = None if at is None else 3_000_000
        return send(self.w3, fn, sender or self.admin, self.decoder, gas=gas)

    def fund(self, account: ChecksumAddress, amount: int) -> None:
        self.send(self.token.functions.mint(account, amount))
        self.send(self.token.functions.approve(self.ledger.address, 2**256 - 1), account)

    def originate(
        self,
        borrower: ChecksumAddress,
        principal: int = 12_000 * UNIT,
        installments: int = 12,
        period: int = 30 * DAY,
        kind: ScheduleKind = ScheduleKind.ANNUITY,
        grace: int = 5 * DAY,
        default_after_days: int = 90,
        at: int | None = None,
    ) -> int:
        self.fund(self.admin, principal)
        start = at if at is not None else self.now() + 1
        terms = (
            borrower,
            self.token.address,
            principal,
            1200,
            installments,
            period,
            start + period,
            int(kind),
            grace,
            500,
            600,
            default_after_days,
        )
        self.send(self.ledger.functions.originate(terms), at=start)
        return int(self.ledger.functions.loanCount().call())

    def repay(
        self, loan_id: int, amount: int, payer: ChecksumAddress, at: int | None = None
    ) -> TxReceipt:
        self.fund(payer, amount)
        return self.send(self.ledger.functions.repay(loan_id, amount), payer, at=at)

    def view(self, fn: str, *args: Any) -> Any:
        return getattr(self.ledger.functions, fn)(*args).call()

    def installment_total(self, loan_id: int, number: int) -> int:
        _, principal, interest = self.view("installment", loan_id, number)
        return int(principal) + int(interest)

    def due_date(self, loan_id: int, number: int) -> int:
        return int(self.view("installment", loan_id, number)[0])

    def rpc(self, method: str, params: list[Any]) -> Any:
        return self.w3.manager.request_blocking(RPCEndpoint(method), params)


def deploy_system(w3: Web3, rpc_url: str, artifacts: dict[str, ContractArtifact]) -> Deployed:
    accounts = list(w3.eth.accounts)
    deployed = deploy_contracts(w3, artifacts, accounts[0], with_token=True, token_decimals=6)
    assert deployed.token is not None
    return Deployed(
        w3,
        rpc_url,
        deployed.ledger,
        deployed.credit_registry,
        deployed.token,
        revert_decoder(artifacts),
        accounts[0],
        accounts,
        deployed.block,
    )


def make_indexer(system: Deployed, db_path: Path | str, **options: Any) -> Indexer:
    options.setdefault("from_block", system.block)
    config = IndexerConfig(
        rpc_url=system.rpc_url,
        ledger=system.ledger.address,
        registry=system.registry.address,
        **options,
    )
    return Indexer(config, IndexDB(db_path), abis=system.abis())


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
